//! `GET /containers/{id}/stats` for the CLI's `stats` verb.

use hyper::Method;

use super::error::ClientError;
use super::{segment, Client, Query};
use crate::models::StatsResponse;

impl Client {
    /// `GET /containers/{id}/stats?stream=false`: one sample whose `precpu_stats` is the
    /// sample a second earlier (zeros with `one_shot`).
    pub async fn container_stats(
        &self,
        id: &str,
        one_shot: bool,
    ) -> Result<StatsResponse, ClientError> {
        let path = format!("/containers/{}/stats", segment(id));
        let mut q = Query::new();
        q.push("stream", "false");
        q.flag("one-shot", one_shot);
        self.send_json(Method::GET, &path, &q, None).await
    }
}
