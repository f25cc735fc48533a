//! How the CLI fails: Docker's messages on stderr and Docker's exit codes.
//!
//! A verb returns `Ok(code)` or an `anyhow::Error`; [`StatusError`] carries an explicit exit
//! code (125/126/127 from `run`, 1 from verbs acting on several objects), a daemon error
//! prints as `Error response from daemon: <message>`.

use rocker_api::ClientError;

/// An error with the exit code to use; an empty message prints nothing.
#[derive(Debug)]
pub struct StatusError {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for StatusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StatusError {}

impl StatusError {
    /// The error as an `anyhow::Error`, ready to return from a verb.
    pub fn fail(code: i32, message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Self {
            code,
            message: message.into(),
        })
    }
}

/// Docker's one-line rendering of a client error.
pub fn describe(err: &ClientError) -> String {
    match err {
        ClientError::Api { message, .. } => format!("Error response from daemon: {message}"),
        other => other.to_string(),
    }
}

/// Message and exit code for any error a verb returned.
pub fn report(err: &anyhow::Error) -> (String, i32) {
    if let Some(s) = err.downcast_ref::<StatusError>() {
        return (s.message.clone(), s.code);
    }
    if let Some(c) = err.downcast_ref::<ClientError>() {
        return (describe(c), 1);
    }
    (format!("Error: {err:#}"), 1)
}

/// Exit code of `run`/`start` when the daemon could not start the container, as docker:
/// 127 when the command was not found, 126 when it could not be invoked, else 125.
pub fn start_failure_code(message: &str) -> i32 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("system cannot find the file specified")
    {
        127
    } else if message.contains("permission denied") || message.contains("is a directory") {
        126
    } else {
        125
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_failure_codes() {
        assert_eq!(
            start_failure_code("exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_failure_code("exec /etc: permission denied"), 126);
        assert_eq!(start_failure_code("cgroup setup failed"), 125);
    }

    #[test]
    fn reports() {
        let api = anyhow::Error::new(ClientError::Api {
            status: 404,
            message: "No such container: x".into(),
        });
        assert_eq!(
            report(&api),
            (
                "Error response from daemon: No such container: x".to_string(),
                1
            )
        );
        assert_eq!(report(&StatusError::fail(3, "")), (String::new(), 3));
    }
}
