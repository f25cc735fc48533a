//! Network endpoints of the client: create, list, inspect, remove, prune, connect, disconnect.

use std::collections::BTreeMap;

use hyper::Method;

use super::error::ClientError;
use super::{json_body, segment, Client, Query};
use crate::models::{
    NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkResource, NetworksPruneResponse,
};

/// Docker's filters (`key -> accepted values`) as the `filters` query parameter, in the
/// docker CLI's shape (`{"name":{"web":true}}`).
fn push_filters(
    q: &mut Query,
    path: &str,
    filters: &BTreeMap<String, Vec<String>>,
) -> Result<(), ClientError> {
    if filters.is_empty() {
        return Ok(());
    }
    let shaped: BTreeMap<&str, BTreeMap<&str, bool>> = filters
        .iter()
        .map(|(k, vs)| (k.as_str(), vs.iter().map(|v| (v.as_str(), true)).collect()))
        .collect();
    let f = serde_json::to_string(&shaped).map_err(|source| ClientError::Encode {
        path: path.to_string(),
        source,
    })?;
    q.push("filters", f);
    Ok(())
}

impl Client {
    /// `POST /networks/create`.
    pub async fn network_create(
        &self,
        req: &NetworkCreateRequest,
    ) -> Result<NetworkCreateResponse, ClientError> {
        let path = "/networks/create";
        let body = json_body(path, req)?;
        self.send_json(Method::POST, path, &Query::new(), Some(body))
            .await
    }

    /// `GET /networks[?filters=]`; filter keys: `name`, `id`, `label`, `driver`, `type`,
    /// `scope`, `dangling`.
    pub async fn network_list(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<NetworkResource>, ClientError> {
        let path = "/networks";
        let mut q = Query::new();
        push_filters(&mut q, path, filters)?;
        self.send_json(Method::GET, path, &q, None).await
    }

    /// `GET /networks/{id}`.
    pub async fn network_inspect(&self, id: &str) -> Result<NetworkResource, ClientError> {
        let path = format!("/networks/{}", segment(id));
        self.send_json(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `GET /networks/{id}` as the daemon's JSON bytes, for printing them unchanged.
    pub async fn network_inspect_raw(&self, id: &str) -> Result<bytes::Bytes, ClientError> {
        let path = format!("/networks/{}", segment(id));
        self.send_bytes(Method::GET, &path, &Query::new(), None)
            .await
    }

    /// `DELETE /networks/{id}`.
    pub async fn network_remove(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/networks/{}", segment(id));
        self.send_bytes(Method::DELETE, &path, &Query::new(), None)
            .await
            .map(drop)
    }

    /// `POST /networks/prune[?filters=]`; filter keys: `until`, `label`, `label!`.
    pub async fn network_prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<NetworksPruneResponse, ClientError> {
        let path = "/networks/prune";
        let mut q = Query::new();
        push_filters(&mut q, path, filters)?;
        self.send_json(Method::POST, path, &q, None).await
    }

    /// `POST /networks/{id}/connect`.
    pub async fn network_connect(
        &self,
        id: &str,
        req: &NetworkConnectRequest,
    ) -> Result<(), ClientError> {
        let path = format!("/networks/{}/connect", segment(id));
        let body = json_body(&path, req)?;
        self.send_bytes(Method::POST, &path, &Query::new(), Some(body))
            .await
            .map(drop)
    }

    /// `POST /networks/{id}/disconnect`.
    pub async fn network_disconnect(
        &self,
        id: &str,
        req: &NetworkDisconnectRequest,
    ) -> Result<(), ClientError> {
        let path = format!("/networks/{}/disconnect", segment(id));
        let body = json_body(&path, req)?;
        self.send_bytes(Method::POST, &path, &Query::new(), Some(body))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    use super::*;
    use crate::models::{EndpointIpamConfig, EndpointSettings};

    /// Reads one request (head plus Content-Length body): its request line and body.
    async fn read_request(s: &mut tokio::net::UnixStream) -> (String, String) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let n = s.read(&mut chunk).await.expect("read");
            assert!(n > 0, "eof in head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0);
        let mut body = buf[end..].to_vec();
        while body.len() < len {
            let n = s.read(&mut chunk).await.expect("read");
            body.extend_from_slice(&chunk[..n]);
        }
        let line = head.lines().next().unwrap_or("").to_string();
        (line, String::from_utf8_lossy(&body).to_string())
    }

    fn reply(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn network_calls_hit_docker_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("d.sock");
        let listener = UnixListener::bind(&sock).expect("bind");
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..8 {
                let (mut s, _) = listener.accept().await.expect("accept");
                let (line, body) = read_request(&mut s).await;
                let answer = match line.split(' ').nth(1).unwrap_or("") {
                    "/v1.43/networks/create" => {
                        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                        assert_eq!(v["Name"], "n1");
                        assert_eq!(v["IPAM"]["Config"][0]["Subnet"], "10.9.0.0/24");
                        reply("201 Created", r#"{"Id":"abc123","Warning":""}"#)
                    }
                    "/v1.43/networks?filters=%7B%22name%22%3A%7B%22n1%22%3Atrue%7D%7D" => reply(
                        "200 OK",
                        r#"[{"Name":"n1","Id":"abc123","Driver":"bridge"}]"#,
                    ),
                    "/v1.43/networks/n1" if line.starts_with("GET") => {
                        reply("200 OK", r#"{"Name":"n1","Id":"abc123","Scope":"local"}"#)
                    }
                    "/v1.43/networks/n1" => reply("204 No Content", ""),
                    "/v1.43/networks/nope" => {
                        reply("404 Not Found", r#"{"message":"network nope not found"}"#)
                    }
                    "/v1.43/networks/prune" => reply("200 OK", r#"{"NetworksDeleted":["n1"]}"#),
                    "/v1.43/networks/n1/connect" => {
                        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                        assert_eq!(v["Container"], "c1");
                        assert_eq!(v["EndpointConfig"]["IPAMConfig"]["IPv4Address"], "10.9.0.5");
                        reply("200 OK", "")
                    }
                    "/v1.43/networks/n1/disconnect" => {
                        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
                        assert_eq!(v, serde_json::json!({"Container": "c1", "Force": true}));
                        reply("200 OK", "")
                    }
                    other => panic!("unexpected {other}"),
                };
                seen.push(line);
                s.write_all(answer.as_bytes()).await.expect("write");
            }
            seen
        });
        let c = Client::new(&format!("unix://{}", sock.display())).expect("client");
        let req = NetworkCreateRequest {
            name: "n1".into(),
            driver: "bridge".into(),
            ipam: Some(crate::models::Ipam {
                driver: "default".into(),
                options: None,
                config: Some(vec![crate::models::IpamConfig {
                    subnet: "10.9.0.0/24".into(),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        };
        assert_eq!(c.network_create(&req).await.expect("create").id, "abc123");
        let filters = BTreeMap::from([("name".to_string(), vec!["n1".to_string()])]);
        let list = c.network_list(&filters).await.expect("list");
        assert_eq!(list[0].driver, "bridge");
        assert_eq!(
            c.network_inspect("n1").await.expect("inspect").scope,
            "local"
        );
        c.network_remove("n1").await.expect("remove");
        let err = c.network_remove("nope").await.expect_err("404");
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
        assert_eq!(err.to_string(), "network nope not found");
        let pruned = c.network_prune(&BTreeMap::new()).await.expect("prune");
        assert_eq!(pruned.networks_deleted, Some(vec!["n1".to_string()]));
        let connect = NetworkConnectRequest {
            container: "c1".into(),
            endpoint_config: Some(EndpointSettings {
                ipam_config: Some(EndpointIpamConfig {
                    ipv4_address: Some("10.9.0.5".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        c.network_connect("n1", &connect).await.expect("connect");
        let disconnect = NetworkDisconnectRequest {
            container: "c1".into(),
            force: true,
        };
        c.network_disconnect("n1", &disconnect)
            .await
            .expect("disconnect");
        let seen = server.await.expect("server");
        assert!(
            seen[3].starts_with("DELETE /v1.43/networks/n1 "),
            "{seen:?}"
        );
        assert!(
            seen[5].starts_with("POST /v1.43/networks/prune "),
            "{seen:?}"
        );
    }
}
