//! `rocker inspect`: low-level JSON of containers and images, as a JSON array like docker,
//! or rendered through a small subset of Go templates (`-f '{{.State.Status}}'`).

use clap::{Args, ValueEnum};
use rocker_api::{Client, ClientError, ErrorKind};

use crate::exit::{describe, StatusError};
use crate::json_indent::indent_array;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ObjectType {
    Container,
    Image,
}

/// Return low-level information on Rocker objects
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format output using a Go template subset: {{.Field.Sub}} and {{json .Field}}
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Only look for this type of object
    #[arg(long = "type")]
    pub object_type: Option<ObjectType>,
    #[arg(required = true, value_name = "NAME|ID")]
    pub names: Vec<String>,
}

async fn fetch(
    client: &Client,
    name: &str,
    t: Option<ObjectType>,
) -> Result<bytes::Bytes, ClientError> {
    if !matches!(t, Some(ObjectType::Image)) {
        match client.container_inspect_raw(name).await {
            Err(e) if e.kind() == ErrorKind::NotFound && t.is_none() => {}
            other => return other,
        }
    }
    client.image_inspect_raw(name).await
}

pub async fn run(client: &Client, args: InspectArgs) -> anyhow::Result<i32> {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for name in &args.names {
        match fetch(client, name, args.object_type).await {
            Ok(b) => docs.push(String::from_utf8_lossy(&b).into_owned()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                errors.push(format!("Error: No such object: {name}"));
            }
            Err(e) => errors.push(describe(&e)),
        }
    }
    print_inspected(&docs, args.format.as_deref(), &errors)
}

/// Prints inspected documents as docker does (one JSON array, or the template rendered once
/// per document), then fails with the errors, if any.
pub fn print_inspected(
    docs: &[String],
    format: Option<&str>,
    errors: &[String],
) -> anyhow::Result<i32> {
    match format {
        None => println!("{}", indent_array(docs)),
        Some(fmt) => {
            for d in docs {
                let v: serde_json::Value = serde_json::from_str(d)?;
                println!(
                    "{}",
                    render_template(fmt, &v).map_err(|e| StatusError::fail(1, e))?
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(StatusError::fail(1, errors.join("\n")))
    }
}

/// Renders `{{.A.B}}`, `{{json .A}}` and `{{.}}` actions; the rest is literal text.
pub fn render_template(fmt: &str, v: &serde_json::Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = fmt;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| format!("template: unclosed action in {fmt:?}"))?;
        let action = rest[start + 2..start + end].trim();
        let (json, path) = match action.strip_prefix("json ") {
            Some(p) => (true, p.trim()),
            None => (false, action),
        };
        let path = path
            .strip_prefix('.')
            .ok_or_else(|| format!("template: unsupported action {{{{{action}}}}}"))?;
        let mut cur = v;
        for key in path.split('.').filter(|k| !k.is_empty()) {
            cur = cur.get(key).unwrap_or(&serde_json::Value::Null);
        }
        if json {
            out.push_str(&serde_json::to_string(cur).map_err(|e| e.to_string())?);
        } else {
            out.push_str(&go_print(cur));
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Go's `fmt.Print` of a decoded JSON value.
fn go_print(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let v = serde_json::json!({"Id": "abc", "State": {"Status": "running", "Pid": 42},
                                   "Config": {"Cmd": ["sh", "-c"], "Labels": {}}});
        assert_eq!(
            render_template("{{.State.Status}}", &v),
            Ok("running".into())
        );
        assert_eq!(
            render_template("pid={{ .State.Pid }}!", &v),
            Ok("pid=42!".into())
        );
        assert_eq!(
            render_template("{{json .Config.Cmd}}", &v),
            Ok(r#"["sh","-c"]"#.into())
        );
        assert_eq!(render_template("{{.Config.Cmd}}", &v), Ok("[sh -c]".into()));
        assert_eq!(
            render_template("{{.Config.Labels}}", &v),
            Ok("map[]".into())
        );
        assert!(render_template("{{if .Id}}", &v).is_err());
    }
}
