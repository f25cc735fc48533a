//! rocker-image: everything Rocker knows about images on disk.
//!
//! * [`content`] — blobs by digest (`<data_root>/content/sha256/<hex>`), verified on write.
//! * [`unpack`] — secure extraction of one layer tar into an overlay-ready directory.
//! * [`snapshot`] — one unpacked directory per layer chain (`<data_root>/snapshots/<n>`).
//! * [`reference`](mod@reference) — Docker reference parsing and normalisation.
//! * [`config`] / [`changes`] — the image config JSON model and `--change` instructions.
//! * [`archive`] — `docker load` of docker-save and OCI-layout tars; [`import`] — `docker import`.
//! * [`store`] — [`ImageStore`], the facade the engine uses (resolve, list, lowerdirs…), with
//!   its SQLite tables described in [`schema`].
#![forbid(unsafe_code)]

pub mod archive;
pub mod changes;
pub mod config;
pub mod content;
pub mod digest;
mod error;
pub mod import;
pub mod inspect;
pub mod reference;
pub mod schema;
pub mod snapshot;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod unpack;

use std::sync::{Arc, Mutex, MutexGuard};

pub use config::{ContainerConfig, Healthcheck, History, ImageConfig, RootFs};
pub use digest::Digest;
pub use error::{Error, ErrorKind, Result};
pub use inspect::ImageInspect;
pub use reference::Reference;
pub use store::{Image, ImageStore, ImageSummary, LayerBlob, Loaded};

/// The engine's shared SQLite connection.
pub type Db = Arc<Mutex<rusqlite::Connection>>;

/// Locks the connection; a poisoned lock is recovered (SQLite itself stays consistent: a
/// panicking holder's open transaction is rolled back when dropped).
pub(crate) fn lock_db(db: &Db) -> MutexGuard<'_, rusqlite::Connection> {
    db.lock().unwrap_or_else(|e| e.into_inner())
}
