//! The daemon's state database: one SQLite file (`<data_root>/rocker.db`, WAL mode) shared by
//! the engine's tables and the image store's.
//!
//! Engine schema (version in the `schema_versions` table under the name `engine`):
//!
//! * v1 `containers(id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, image_id TEXT NOT NULL,
//!   created TEXT NOT NULL, record TEXT NOT NULL)` — `record` is the container's JSON document
//!   ([`crate::container::Record`]): Docker's Config and HostConfig as given, plus the state.
//!   Columns outside the JSON are the ones looked up by.
//!
//! Migrations run in one transaction at start-up; a newer schema than this binary knows is
//! refused rather than guessed at.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::{Error, Result};

/// Shared handle to the state database.
pub type Db = Arc<Mutex<Connection>>;

const ENGINE_MIGRATIONS: &[&str] = &["CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        image_id TEXT NOT NULL,
        created TEXT NOT NULL,
        record TEXT NOT NULL
    )"];

/// Opens (creating) the database and brings every schema up to date.
pub fn open(path: &Path) -> Result<Db> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    migrate(&tx, "engine", ENGINE_MIGRATIONS)?;
    migrate(&tx, "networks", crate::network::MIGRATIONS)?;
    migrate(&tx, "volumes", crate::volumes::MIGRATIONS)?; // volumes (N3)
    rocker_image::ImageStore::migrate(&tx)
        .map_err(|e| Error::internal(format!("migrating image store: {e}")))?;
    tx.commit()?;
    Ok(Arc::new(Mutex::new(conn)))
}

/// Applies the steps of `component` that are newer than its recorded version.
pub fn migrate(tx: &Transaction<'_>, component: &str, steps: &[&str]) -> Result<()> {
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        [],
    )?;
    let current: i64 = tx
        .query_row(
            "SELECT version FROM schema_versions WHERE component = ?1",
            params![component],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let known = steps.len() as i64;
    if current > known {
        return Err(Error::internal(format!(
            "state database schema for {component} is version {current}, newer than this rockerd knows ({known})"
        )));
    }
    for step in &steps[current as usize..] {
        tx.execute_batch(step)?;
    }
    tx.execute(
        "INSERT INTO schema_versions (component, version) VALUES (?1, ?2)
         ON CONFLICT(component) DO UPDATE SET version = excluded.version",
        params![component, known],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_idempotent_and_refuse_newer_schemas() {
        let mut conn = Connection::open_in_memory().unwrap();
        for _ in 0..2 {
            let tx = conn.transaction().unwrap();
            migrate(&tx, "engine", ENGINE_MIGRATIONS).unwrap();
            tx.commit().unwrap();
        }
        conn.execute(
            "UPDATE schema_versions SET version = 99 WHERE component = 'engine'",
            [],
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        assert!(migrate(&tx, "engine", ENGINE_MIGRATIONS).is_err());
    }
}
