//! Pull against an in-process fake registry that demands a bearer token: checks the whole
//! challenge → token (with basic credentials) → retry dance, index platform selection, and
//! streaming layers into a content store with digest verification.

use std::collections::HashMap;
use std::sync::Arc;

use rocker_image::content::ContentStore;
use rocker_image::{Digest, Reference};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::auth::Credentials;
use crate::client::Client;
use crate::manifest;

struct Fake {
    port: u16,
    /// path -> (content type, body)
    routes: HashMap<String, (String, Vec<u8>)>,
}

async fn serve(listener: TcpListener, fake: Arc<Fake>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let fake = fake.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let Ok(n) = sock.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                if buf.is_empty() && chunk[0] == 0x16 {
                    return; // a TLS hello: this server only speaks plain HTTP
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let mut lines = head.lines();
            let first = lines.next().unwrap_or("");
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let auth = lines
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default();
            let (status, headers, body) = respond(&fake, &path, &auth);
            let mut out = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            let _ = sock.write_all(&out).await;
        });
    }
}

fn respond(fake: &Fake, path: &str, auth: &str) -> (&'static str, String, Vec<u8>) {
    if let Some(q) = path.strip_prefix("/token?") {
        let good = Credentials {
            username: "u".into(),
            password: "p".into(),
        }
        .basic_header();
        if auth != good || !q.contains("service=fake") || !q.contains("scope=repository") {
            return ("401 Unauthorized", String::new(), b"{}".to_vec());
        }
        return (
            "200 OK",
            "Content-Type: application/json\r\n".into(),
            br#"{"token":"tok123"}"#.to_vec(),
        );
    }
    if auth != "Bearer tok123" {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{}/token\",service=\"fake\",scope=\"repository:a/b:pull\"\r\n",
            fake.port
        );
        return (
            "401 Unauthorized",
            challenge,
            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.to_vec(),
        );
    }
    match fake.routes.get(path) {
        Some((ct, body)) => ("200 OK", format!("Content-Type: {ct}\r\n"), body.clone()),
        None => (
            "404 Not Found",
            "Content-Type: application/json\r\n".into(),
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.to_vec(),
        ),
    }
}

fn desc(mt: &str, body: &[u8]) -> serde_json::Value {
    serde_json::json!({"mediaType": mt, "digest": Digest::of_bytes(body).to_string(), "size": body.len()})
}

async fn start() -> (u16, Vec<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let layers: Vec<Vec<u8>> = (0..4u8)
        .map(|i| vec![i; 100_000 + usize::from(i)])
        .collect();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let image = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_MANIFEST,
        "config": desc(manifest::OCI_CONFIG, config),
        "layers": layers.iter().map(|l| desc(manifest::OCI_LAYER_GZIP, l)).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes();
    let (os, arch, variant) = manifest::host_platform();
    let mut platform = serde_json::json!({"os": os, "architecture": arch});
    if let Some(v) = variant {
        platform["variant"] = v.into();
    }
    let mut own = desc(manifest::OCI_MANIFEST, &image);
    own["platform"] = platform;
    let mut other = desc(manifest::OCI_MANIFEST, b"nope");
    other["platform"] = serde_json::json!({"os": "linux", "architecture": "s390x"});
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifest::OCI_INDEX,
        "manifests": [other, own],
    })
    .to_string()
    .into_bytes();
    let mut routes = HashMap::new();
    let d = |b: &[u8]| Digest::of_bytes(b).to_string();
    routes.insert(
        "/v2/a/b/manifests/v1".to_string(),
        (manifest::OCI_INDEX.to_string(), index.clone()),
    );
    routes.insert(
        format!("/v2/a/b/manifests/{}", d(&image)),
        (manifest::OCI_MANIFEST.to_string(), image.clone()),
    );
    routes.insert(
        format!("/v2/a/b/blobs/{}", d(config)),
        ("application/octet-stream".into(), config.to_vec()),
    );
    for l in &layers {
        routes.insert(
            format!("/v2/a/b/blobs/{}", d(l)),
            ("application/octet-stream".into(), l.clone()),
        );
    }
    // A corrupt layer: the served bytes do not match the digest the manifest names.
    let bad = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": manifest::DOCKER_MANIFEST,
        "config": desc(manifest::DOCKER_CONFIG, config),
        "layers": [desc(manifest::DOCKER_LAYER_GZIP, b"good")],
    })
    .to_string()
    .into_bytes();
    routes.insert(
        "/v2/a/b/manifests/bad".to_string(),
        (manifest::DOCKER_MANIFEST.to_string(), bad),
    );
    routes.insert(
        format!("/v2/a/b/blobs/{}", d(b"good")),
        ("application/octet-stream".into(), b"evil".to_vec()),
    );
    let fake = Arc::new(Fake { port, routes });
    tokio::spawn(serve(listener, fake));
    (port, layers)
}

#[tokio::test(flavor = "current_thread")]
async fn bearer_pull_into_content_store() {
    let (port, layers) = start().await;
    let client = Arc::new(Client::new(Vec::new()).unwrap());
    let creds = Credentials {
        username: "u".into(),
        password: "p".into(),
    };
    let r = Reference::parse(&format!("127.0.0.1:{port}/a/b:v1")).unwrap();

    let err = client.resolve(&r, None).await.unwrap_err();
    assert!(matches!(err, crate::Error::Auth(_)), "{err}");

    let resolved = client.resolve(&r, Some(&creds)).await.unwrap();
    assert_eq!(resolved.manifest.layers.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path()).unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let got = crate::download(&client, &resolved, Some(&creds), &store, &|p| {
        seen.lock().unwrap().push(p)
    })
    .await
    .unwrap();
    assert_eq!(got.created.len(), 4);
    for l in &layers {
        let d = Digest::of_bytes(l);
        assert_eq!(store.read_blob(&d).unwrap(), *l);
    }
    assert_eq!(seen.lock().unwrap().len(), 8);

    let bad = Reference::parse(&format!("127.0.0.1:{port}/a/b:bad")).unwrap();
    let resolved = client.resolve(&bad, Some(&creds)).await.unwrap();
    let err = crate::download(&client, &resolved, Some(&creds), &store, &|_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    assert!(!store.contains(&Digest::of_bytes(b"good")));
    assert!(!store.contains(&Digest::of_bytes(b"evil")));

    let missing = Reference::parse(&format!("127.0.0.1:{port}/a/b:nope")).unwrap();
    let err = client.resolve(&missing, Some(&creds)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "manifest for 127.0.0.1:{port}/a/b:nope not found: manifest unknown: manifest unknown"
        )
    );
    assert_eq!(err.kind(), rocker_image::ErrorKind::NotFound);
}
