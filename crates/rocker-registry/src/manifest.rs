//! Manifest formats the client reads and writes: Docker schema2 and OCI image manifests,
//! Docker manifest lists and OCI indexes, and the choice of one platform's manifest from an
//! index (the host's `linux/<arch>`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// The `Accept` header of a manifest request: every type we can read.
pub const ACCEPT: &str = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// An index entry's platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An image manifest (schema2 or OCI; the same shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// A manifest list / OCI index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default)]
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
}

/// A fetched manifest, decoded by its media type.
#[derive(Debug, Clone)]
pub enum Manifest {
    Image(ImageManifest),
    Index(Index),
}

/// Decodes a manifest body. The media type comes from `Content-Type`, else from the body's
/// `mediaType`, else from its shape (`manifests` means an index).
pub fn parse(content_type: &str, body: &[u8]) -> Result<Manifest> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::InvalidManifest(format!("parse manifest: {e}")))?;
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let mt = match ct {
        DOCKER_MANIFEST | DOCKER_LIST | OCI_MANIFEST | OCI_INDEX => ct.to_string(),
        _ => v
            .get("mediaType")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| {
                if v.get("manifests").is_some() {
                    OCI_INDEX.to_string()
                } else {
                    OCI_MANIFEST.to_string()
                }
            }),
    };
    match mt.as_str() {
        DOCKER_LIST | OCI_INDEX => serde_json::from_value(v)
            .map(Manifest::Index)
            .map_err(|e| Error::InvalidManifest(format!("parse manifest list: {e}"))),
        DOCKER_MANIFEST | OCI_MANIFEST => {
            if v.get("schemaVersion").and_then(|s| s.as_u64()) != Some(2) {
                return Err(Error::InvalidManifest(
                    "unsupported manifest schema version".to_string(),
                ));
            }
            serde_json::from_value(v)
                .map(Manifest::Image)
                .map_err(|e| Error::InvalidManifest(format!("parse manifest: {e}")))
        }
        other => Err(Error::InvalidManifest(format!(
            "unsupported manifest media type {other}"
        ))),
    }
}

/// The host's platform as `(os, architecture, variant)`.
pub fn host_platform() -> (&'static str, &'static str, Option<&'static str>) {
    let arch = rocker_image::config::host_arch();
    let variant = match arch {
        "arm64" => Some("v8"),
        _ => None,
    };
    ("linux", arch, variant)
}

/// Picks the entry of `index` for `os/arch[/variant]`: an exact variant match wins, then any
/// entry of that os/arch (attestation manifests have os `unknown` and never match).
pub fn select_platform<'a>(
    index: &'a Index,
    os: &str,
    arch: &str,
    variant: Option<&str>,
) -> Result<&'a Descriptor> {
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == os && p.architecture == arch)
        })
        .collect();
    let exact = candidates.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.variant.as_deref() == variant)
    });
    exact
        .or_else(|| candidates.first())
        .copied()
        .ok_or_else(|| Error::NoMatchingPlatform {
            platform: match variant {
                Some(v) => format!("{os}/{arch}/{v}"),
                None => format!("{os}/{arch}"),
            },
        })
}

/// The Docker layer media type for a stored layer type (OCI types are translated).
pub fn docker_layer_type(stored: &str) -> &'static str {
    match stored {
        OCI_LAYER_TAR | DOCKER_LAYER_TAR => DOCKER_LAYER_TAR,
        _ => DOCKER_LAYER_GZIP,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LIST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
      "manifests":[
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:aa","size":1,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:bb","size":1,"platform":{"architecture":"amd64","os":"linux"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:cc","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:dd","size":1,"platform":{"architecture":"unknown","os":"unknown"}}
      ]}"#;

    #[test]
    fn picks_host_platform_from_list() {
        let Manifest::Index(idx) = parse(DOCKER_LIST, LIST.as_bytes()).unwrap() else {
            panic!("not an index")
        };
        assert_eq!(
            select_platform(&idx, "linux", "amd64", None)
                .unwrap()
                .digest,
            "sha256:bb"
        );
        assert_eq!(
            select_platform(&idx, "linux", "arm64", Some("v8"))
                .unwrap()
                .digest,
            "sha256:cc"
        );
        assert_eq!(
            select_platform(&idx, "linux", "arm", Some("v6"))
                .unwrap()
                .digest,
            "sha256:aa"
        );
        let e = select_platform(&idx, "linux", "s390x", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no matching manifest for linux/s390x in the manifest list entries"
        );
        let (os, arch, _) = host_platform();
        assert_eq!(os, "linux");
        assert!(!arch.is_empty());
    }

    #[test]
    fn parses_image_manifests_by_type_or_shape() {
        let body = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:c","size":2},
          "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:l","size":3}]}"#;
        let Manifest::Image(m) = parse("application/octet-stream", body.as_bytes()).unwrap() else {
            panic!("not an image manifest")
        };
        assert_eq!(m.layers[0].digest, "sha256:l");
        assert_eq!(m.config.size, 2);
        let idx = r#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            parse("", idx.as_bytes()).unwrap(),
            Manifest::Index(_)
        ));
        let v1 = r#"{"schemaVersion":1,"config":{"digest":"sha256:c"},"layers":[]}"#;
        assert!(parse(DOCKER_MANIFEST, v1.as_bytes()).is_err());
        assert!(parse("application/weird", b"{\"mediaType\":\"x/y\"}").is_err());
    }

    #[test]
    fn layer_types() {
        assert_eq!(docker_layer_type(OCI_LAYER_TAR), DOCKER_LAYER_TAR);
        assert_eq!(docker_layer_type(DOCKER_LAYER_TAR), DOCKER_LAYER_TAR);
        assert_eq!(docker_layer_type(OCI_LAYER_GZIP), DOCKER_LAYER_GZIP);
    }
}
