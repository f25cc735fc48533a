//! Exec models: `POST /containers/{id}/exec` (ExecConfig), `POST /exec/{id}/start`
//! (ExecStartConfig) and `GET /exec/{id}/json` (ExecInspect), with Docker's field names.

use serde::{Deserialize, Serialize};

use super::de::nullable;

/// Body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    #[serde(deserialize_with = "nullable")]
    pub user: String,
    pub privileged: bool,
    pub tty: bool,
    /// Initial terminal size `[height, width]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u32; 2]>,
    pub attach_stdin: bool,
    pub attach_stderr: bool,
    pub attach_stdout: bool,
    pub detach: bool,
    #[serde(deserialize_with = "nullable")]
    pub detach_keys: String,
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "nullable")]
    pub working_dir: String,
    pub cmd: Option<Vec<String>>,
}

/// Body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStartConfig {
    pub detach: bool,
    pub tty: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u32; 2]>,
}

/// `ProcessConfig` of an exec inspect (lowercase keys, as Docker).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecProcessConfig {
    pub tty: bool,
    #[serde(deserialize_with = "nullable")]
    pub entrypoint: String,
    pub arguments: Vec<String>,
    pub privileged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// Answer of `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecInspect {
    #[serde(rename = "ID", deserialize_with = "nullable")]
    pub id: String,
    pub running: bool,
    /// `null` until the process has exited.
    pub exit_code: Option<i32>,
    pub process_config: ExecProcessConfig,
    pub open_stdin: bool,
    pub open_stderr: bool,
    pub open_stdout: bool,
    pub can_remove: bool,
    #[serde(rename = "ContainerID", deserialize_with = "nullable")]
    pub container_id: String,
    #[serde(deserialize_with = "nullable")]
    pub detach_keys: String,
    pub pid: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_cli_exec_config_parses() {
        let body = r#"{"User":"","Privileged":false,"Tty":true,"ConsoleSize":[24,80],
            "AttachStdin":true,"AttachStderr":true,"AttachStdout":true,"Detach":false,
            "DetachKeys":"","Env":null,"WorkingDir":"","Cmd":["sh","-c","exit 7"]}"#;
        let c: ExecConfig = serde_json::from_str(body).unwrap();
        assert!(c.tty && c.attach_stdin);
        assert_eq!(c.console_size, Some([24, 80]));
        assert_eq!(c.cmd.as_deref().unwrap(), ["sh", "-c", "exit 7"]);
        let s: ExecStartConfig = serde_json::from_str(r#"{"Detach":true}"#).unwrap();
        assert!(s.detach);
    }

    #[test]
    fn inspect_shape() {
        let i = ExecInspect {
            id: "e".into(),
            container_id: "c".into(),
            exit_code: None,
            ..Default::default()
        };
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["ID"], "e");
        assert_eq!(v["ContainerID"], "c");
        assert!(v["ExitCode"].is_null());
        assert!(v["ProcessConfig"]["arguments"].is_array());
    }
}
