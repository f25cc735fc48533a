//! Error bodies and streamed progress messages of the Engine API.
//!
//! Every non-2xx answer carries `{"message": "..."}` (lowercase key, unlike the rest of the
//! API). Long-running image endpoints (`/images/load`, `/images/create`, `/build`, push)
//! stream newline-delimited `JSONMessage` objects: `{"stream": ...}` for plain text,
//! `{"status": ..., "id": ...}` for per-layer progress and `{"errorDetail": ..., "error": ...}`
//! for a failure that happened after the 200 status line was sent.

use serde::{Deserialize, Serialize};

use super::de::nullable;

/// Body of every error answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorResponse {
    #[serde(deserialize_with = "nullable")]
    pub message: String,
}

impl ErrorResponse {
    /// An error body with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Body holding just an id (exec create, commit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IdResponse {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
}

/// One line of a progress stream (Docker's `jsonmessage.JSONMessage`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "progressDetail", skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<JsonProgress>,
    /// Pre-rendered progress bar, for old clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    #[serde(rename = "timeNano", skip_serializing_if = "Option::is_none")]
    pub time_nano: Option<i64>,
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<JsonError>,
    /// Deprecated copy of `errorDetail.message`; clients still read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Out-of-band result (`{"ID": "sha256:..."}` after a build).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

impl JsonMessage {
    /// `{"stream": text}`.
    pub fn stream(text: impl Into<String>) -> Self {
        Self {
            stream: Some(text.into()),
            ..Default::default()
        }
    }

    /// `{"status": status, "id": id}` (id omitted when `None`).
    pub fn status(status: impl Into<String>, id: Option<String>) -> Self {
        Self {
            status: Some(status.into()),
            id,
            ..Default::default()
        }
    }

    /// `{"errorDetail": {"message": m}, "error": m}`.
    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            error_detail: Some(JsonError {
                code: None,
                message: message.clone(),
            }),
            error: Some(message),
            ..Default::default()
        }
    }

    /// The failure carried by this line, if any.
    pub fn error_message(&self) -> Option<&str> {
        self.error_detail
            .as_ref()
            .map(|e| e.message.as_str())
            .or(self.error.as_deref())
    }
}

/// Byte progress of one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonProgress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
}

/// Error inside a progress stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JsonError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(deserialize_with = "nullable")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_serialize_as_docker() {
        let s = serde_json::to_string(&JsonMessage::stream("Loaded image: a:b\n")).expect("ser");
        assert_eq!(s, r#"{"stream":"Loaded image: a:b\n"}"#);
        let s = serde_json::to_string(&JsonMessage::status("Loading layer", Some("abc".into())))
            .expect("ser");
        assert_eq!(s, r#"{"status":"Loading layer","id":"abc"}"#);
        let s = serde_json::to_string(&JsonMessage::error("bad tar")).expect("ser");
        assert_eq!(
            s,
            r#"{"errorDetail":{"message":"bad tar"},"error":"bad tar"}"#
        );
        let m: JsonMessage = serde_json::from_str(s.as_str()).expect("parse");
        assert_eq!(m.error_message(), Some("bad tar"));
        assert_eq!(
            serde_json::to_string(&ErrorResponse::new("no such container: x")).expect("ser"),
            r#"{"message":"no such container: x"}"#
        );
    }
}
