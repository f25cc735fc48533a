//! System endpoints of the client: ping, version, info.

use hyper::Method;

use super::error::ClientError;
use super::{Client, Query};
use crate::models::{SystemInfo, SystemVersion};

impl Client {
    /// `GET /_ping`: the body (`OK`) when the daemon answers.
    pub async fn ping(&self) -> Result<String, ClientError> {
        let bytes = self
            .send_bytes(Method::GET, "/_ping", &Query::new(), None)
            .await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `GET /version`.
    pub async fn version(&self) -> Result<SystemVersion, ClientError> {
        self.send_json(Method::GET, "/version", &Query::new(), None)
            .await
    }

    /// `GET /info`.
    pub async fn info(&self) -> Result<SystemInfo, ClientError> {
        self.send_json(Method::GET, "/info", &Query::new(), None)
            .await
    }
}
