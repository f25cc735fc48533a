//! `GET /system/df`: disk usage as Docker reports it — images (with how many containers use
//! each), containers (with the size of their writable layer), volumes (with `UsageData`),
//! and an always-empty build cache. `type=` narrows it to some of the sections.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::StatusCode;
use rocker_api::models::{ContainerSummary, DiskUsage, ImageSummary, VolumeUsageData};
use rocker_engine::Engine;

use crate::http::{from_engine, json, Query, Res};

const TYPES: &[&str] = &["container", "image", "volume", "build-cache"];

pub fn df(engine: &Arc<Engine>, q: &Query) -> Res {
    let types: Vec<&str> = q.get("type").into_iter().collect();
    if let Some(bad) = types.iter().find(|t| !TYPES.contains(t)) {
        return from_engine(&rocker_engine::Error::invalid(format!(
            "unknown object type: {bad}"
        )));
    }
    let want = |t: &str| types.is_empty() || types.contains(&t);
    let records = engine.list();
    let mut usage = DiskUsage::default();
    if want("image") {
        let mut users: HashMap<&str, i64> = HashMap::new();
        for r in &records {
            *users.entry(r.image_id.as_str()).or_default() += 1;
        }
        let images = match engine.images.list() {
            Ok(i) => i,
            Err(e) => return from_engine(&rocker_engine::Error::internal(e.to_string())),
        };
        for img in images {
            usage.layers_size += img.size;
            usage.images.push(ImageSummary {
                containers: users.get(img.id.as_str()).copied().unwrap_or(0),
                shared_size: 0,
                virtual_size: Some(img.size),
                id: img.id,
                parent_id: img.parent_id,
                repo_tags: img.repo_tags,
                repo_digests: img.repo_digests,
                created: img.created,
                size: img.size,
                labels: img.labels,
            });
        }
    }
    if want("container") {
        let now = chrono::Utc::now();
        for rec in &records {
            let state = crate::containers::state_model(rec);
            let mut command = rec.path.clone();
            for a in &rec.args {
                command.push(' ');
                command.push_str(a);
            }
            usage.containers.push(ContainerSummary {
                id: rec.id.clone(),
                names: vec![format!("/{}", rec.name)],
                image: crate::containers::image_name(rec),
                image_id: rec.image_id.clone(),
                command,
                created: rocker_api::gotime::parse(&rec.created)
                    .map(|t| t.timestamp())
                    .unwrap_or(0),
                ports: crate::netview::summary_ports(rec),
                size_rw: Some(engine.container_size_rw(&rec.id) as i64),
                size_root_fs: Some(engine.container_size_root_fs(rec) as i64),
                labels: rec.config.labels.clone().unwrap_or_default(),
                status: rocker_api::human::container_status(&state, now),
                state: state.status,
                mounts: rec.mounts.clone(),
                ..Default::default()
            });
        }
    }
    if want("volume") {
        let volumes = match engine.volume_list(&[]) {
            Ok(v) => v,
            Err(e) => return from_engine(&e),
        };
        for mut v in volumes {
            let dir = engine.volume_data_dir(&v.name);
            v.usage_data = Some(VolumeUsageData {
                size: rocker_engine::prune::dir_size(&dir) as i64,
                ref_count: engine.volume_users(&v.name).len() as i64,
            });
            usage.volumes.push(v);
        }
    }
    json(StatusCode::OK, &usage)
}
