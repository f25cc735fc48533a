//! `docker import`: a root filesystem tar (plain or gzip) becomes a one-layer image whose
//! config is built from `--change` lines, with the message as the history comment.

use std::io::Read;

use crate::changes::apply_changes;
use crate::config::{ContainerConfig, History, ImageConfig, RootFs};
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::{ImageStore, LayerBlob, Loaded, Undo};
use crate::unpack::{decompress, Compression};

/// Imports `tar` as a new image; see the module docs.
pub(crate) fn import(
    store: &ImageStore,
    tar: impl Read,
    reference: Option<&str>,
    changes: &[String],
    message: &str,
) -> Result<Loaded> {
    // Validate everything cheap before reading the (possibly large) stream.
    let tag = match reference.filter(|r| !r.is_empty()) {
        Some(r) => {
            let parsed = Reference::parse(r)?;
            if parsed.digest().is_some() {
                return Err(Error::InvalidConfig {
                    id: r.to_string(),
                    reason: "cannot import to a digest reference".to_string(),
                });
            }
            Some(parsed.with_default_tag())
        }
        None => None,
    };
    let mut container = ContainerConfig::default();
    apply_changes(&mut container, changes)?;

    // The layer is stored uncompressed, so its blob digest is its diff id.
    let written = store.content().write(decompress(tar)?, None)?;
    let mut undo = Undo::default();
    if written.created {
        undo.blobs.push(written.digest.clone());
    }
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let config = ImageConfig {
        architecture: crate::config::host_arch().to_string(),
        os: "linux".to_string(),
        created: Some(created.clone()),
        config: Some(container),
        rootfs: RootFs {
            kind: "layers".to_string(),
            diff_ids: vec![written.digest.to_string()],
        },
        history: vec![History {
            created: Some(created),
            comment: Some(if message.is_empty() {
                "Imported from -".to_string()
            } else {
                message.to_string()
            }),
            ..History::default()
        }],
        ..ImageConfig::default()
    };
    let config_json = serde_json::to_vec(&config).map_err(Error::SerializeConfig)?;
    let layers = [LayerBlob {
        digest: written.digest.clone(),
        media_type: Some(Compression::None.docker_media_type().to_string()),
    }];
    let tags: Vec<Reference> = tag.into_iter().collect();
    let result = store
        .prepare(&config_json, &layers, None, &mut undo)
        .and_then(|p| store.commit(&[(p, tags, Vec::new())]));
    match result {
        Ok(mut loaded) => Ok(loaded.remove(0)),
        Err(e) => {
            store.rollback(undo);
            Err(e)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::test_support::*;
    use crate::ErrorKind;

    #[test]
    fn imports_plain_rootfs_with_changes() {
        require_root();
        let (_dir, store, db) = scratch_store();
        let rootfs = TarBuilder::new()
            .dir("bin/")
            .file_with("bin/app", b"app", 0o755, 0, 0)
            .finish();
        let changes = vec![
            r#"CMD ["/bin/app", "--serve"]"#.to_string(),
            "ENV A=1 B=2".to_string(),
            "WORKDIR /srv".to_string(),
            "EXPOSE 8080".to_string(),
            "LABEL k=v".to_string(),
        ];
        let loaded = store
            .import(&rootfs[..], Some("example/app:1"), &changes, "first import")
            .unwrap();
        assert_eq!(loaded.tags, vec!["example/app:1"]);
        let img = store.resolve("docker.io/example/app:1").unwrap();
        assert_eq!(img.id, loaded.id);
        let c = img.config.config.clone().unwrap();
        assert_eq!(c.cmd.unwrap(), vec!["/bin/app", "--serve"]);
        assert_eq!(c.env.unwrap(), vec!["A=1", "B=2"]);
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        assert!(c.exposed_ports.unwrap().contains_key("8080/tcp"));
        assert_eq!(
            img.config.history[0].comment.as_deref(),
            Some("first import")
        );
        assert_eq!(
            img.config.rootfs.diff_ids,
            vec![crate::Digest::of_bytes(&rootfs).to_string()]
        );
        assert_eq!(img.config.os, "linux");
        assert!(img.created > 0);
        let lower = store.lowerdirs(&img).unwrap();
        assert!(lower[0].join("bin/app").is_file());
        assert_eq!(
            crate::Digest::of_bytes(img.config_json()).to_string(),
            img.id
        );

        // gzip input, untagged.
        let gz = gzip(&rootfs);
        let loaded2 = store.import(&gz[..], None, &[], "").unwrap();
        assert!(loaded2.tags.is_empty());
        assert_eq!(
            count(&db, "image_snapshots"),
            1,
            "same rootfs, same snapshot"
        );
    }

    #[test]
    fn rejects_bad_import_input() {
        require_root();
        let (dir, store, db) = scratch_store();
        let rootfs = TarBuilder::new().file("x", b"x").finish();
        let err = store
            .import(&rootfs[..], Some("Bad:Ref"), &[], "")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = store
            .import(&rootfs[..], None, &["RUN rm -rf /".to_string()], "")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let err = store
            .import(
                &b"this is not a tar at all, but it is long enough to be read"[..],
                Some("x"),
                &[],
                "",
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        let evil = TarBuilder::new()
            .hardlink("x", "../../../etc/shadow")
            .finish();
        assert_eq!(
            store
                .import(&evil[..], Some("x"), &[], "")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(count(&db, "images"), 0);
        assert_eq!(entries(&dir.path().join("content/sha256")), 0);
        assert_eq!(entries(&dir.path().join("snapshots")), 0);
    }
}
