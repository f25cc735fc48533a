//! The image store's SQLite schema and its migrations.
//!
//! The engine owns the database (`<data_root>/rocker.db`) and calls [`migrate`] inside its
//! migration transaction; every table here is prefixed `image` so it cannot clash with the
//! engine's. The schema version lives in `image_schema_version` (one row) and each step in
//! [`MIGRATIONS`] runs once, in order.
//!
//! Version 1:
//!
//! * `image_snapshots` — one unpacked layer chain, shared by every image that has it.
//!   `n` (also the directory name `snapshots/<n>`) is an AUTOINCREMENT key so numbers are never
//!   reused, `chain_id` is the OCI chain id (unique), `parent_chain_id` the chain below it,
//!   `diff_id` the uncompressed layer digest, `size` the sum of its regular files, `state`
//!   `unpacking` (row written before the unpack; such rows and their dirs are garbage after a
//!   crash) or `ready`. Reference counting is `SELECT count(*) FROM image_layers WHERE
//!   snapshot = n`.
//! * `images` — `id` is `sha256:<hex>` of the config, `config` the byte-exact config JSON
//!   (also in the content store), `created` unix secs from the config, `size` the sum of layer
//!   sizes, `added` when it was stored here.
//! * `image_layers` — `(image_id, idx)` bottom-first → snapshot `n`, plus the blob it was
//!   unpacked from (`blob_digest`, `media_type`) for save/push.
//! * `image_tags` — fully qualified `domain/path:tag` → image id (a tag names one image).
//! * `image_digests` — fully qualified `domain/path@sha256:…` repo digests → image id.

use rusqlite::{Transaction, TransactionBehavior};

/// Ordered schema steps; index + 1 is the version each one produces.
pub const MIGRATIONS: &[&str] = &[
    // v1
    "CREATE TABLE image_snapshots (
        n               INTEGER PRIMARY KEY AUTOINCREMENT,
        chain_id        TEXT NOT NULL UNIQUE,
        parent_chain_id TEXT,
        diff_id         TEXT NOT NULL,
        size            INTEGER NOT NULL DEFAULT 0,
        state           TEXT NOT NULL CHECK (state IN ('unpacking', 'ready')),
        created         INTEGER NOT NULL
    );
    CREATE TABLE images (
        id      TEXT PRIMARY KEY,
        config  BLOB NOT NULL,
        created INTEGER NOT NULL,
        size    INTEGER NOT NULL,
        added   INTEGER NOT NULL
    );
    CREATE TABLE image_layers (
        image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        idx         INTEGER NOT NULL,
        snapshot    INTEGER NOT NULL REFERENCES image_snapshots(n),
        blob_digest TEXT NOT NULL,
        media_type  TEXT NOT NULL,
        PRIMARY KEY (image_id, idx)
    );
    CREATE INDEX image_layers_by_snapshot ON image_layers(snapshot);
    CREATE TABLE image_tags (
        name     TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        created  INTEGER NOT NULL
    );
    CREATE INDEX image_tags_by_image ON image_tags(image_id);
    CREATE TABLE image_digests (
        name     TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
    );
    CREATE INDEX image_digests_by_image ON image_digests(image_id);",
];

/// Brings the image tables to the latest version inside the engine's transaction.
pub fn migrate(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch("CREATE TABLE IF NOT EXISTS image_schema_version (version INTEGER NOT NULL)")?;
    let current: Option<i64> = tx
        .query_row("SELECT version FROM image_schema_version", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if current.is_none() {
        tx.execute("INSERT INTO image_schema_version (version) VALUES (0)", [])?;
    }
    let current = usize::try_from(current.unwrap_or(0)).unwrap_or(0);
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(step)?;
        tx.execute(
            "UPDATE image_schema_version SET version = ?1",
            [i as i64 + 1],
        )?;
    }
    Ok(())
}

/// Convenience for tests and tools that own their connection: migrate in a fresh transaction.
pub fn migrate_connection(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    migrate(&tx)?;
    tx.commit()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn migrate_is_idempotent() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        migrate_connection(&mut conn).unwrap();
        migrate_connection(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("SELECT version FROM image_schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
