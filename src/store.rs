//! Opening the companion's SQLite stores (contact cache, identities) the same careful way:
//! the file created 0600 before SQLite touches it, the version read before anything is written
//! (a newer or damaged file is refused and left as it is), WAL for concurrent processes, and
//! forward migrations, each in the transaction that bumps `PRAGMA user_version`.
//!
//! Readers in other processes that must never write nor wait long (the PKCS#11 module inside
//! Thunderbird) use [`open_reader`] instead: read-only, no migration, their own busy timeout.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another process's transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A store's schema: migration `i` takes the database from version `i` to `i + 1`; `backfill`
/// fills new columns from existing rows after a migration.
pub struct Schema {
    pub migrations: &'static [&'static str],
    pub backfill: fn(&Transaction<'_>, i64) -> rusqlite::Result<()>,
}

impl Schema {
    pub fn current_version(&self) -> i64 {
        self.migrations.len() as i64
    }
}

/// Maps SQLite errors to the companion's codes.
pub fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    let (path, reason) = (path.display().to_string(), e.to_string());
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::StoreCorrupt { path, reason, cause: Some(e) },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::StoreBusy { path, cause: Some(e) },
        _ => Error::Store { path, reason, cause: Some(e) },
    }
}

/// The schema version a store holds, refused when it is negative (`PRAGMA user_version` is a
/// signed 32-bit number; no version of the companion writes one below 0) or newer than `schema`.
fn checked_version(conn: &Connection, path: &Path, schema: &Schema) -> Result<i64> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| db_error(path, e))?;
    if version < 0 {
        return Err(Error::StoreCorrupt { path: path.display().to_string(), reason: format!("schema version {version}"), cause: None });
    }
    if version > schema.current_version() {
        return Err(Error::StoreTooNew { path: path.display().to_string(), version, supported: schema.current_version() });
    }
    Ok(version)
}

/// Opens (creating when missing) and migrates a store.
pub fn open(path: &Path, schema: &Schema) -> Result<Connection> {
    create_private_file(path)?;
    let err = |e| db_error(path, e);
    let mut conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    checked_version(&conn, path, schema)?;
    // WAL lets readers and one writer work at once across processes; NORMAL sync is durable
    // across process crashes (kill -9), losing at most the last commits on power loss.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Store { path: path.display().to_string(), reason: format!("journal mode {mode}"), cause: None });
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;").map_err(err)?;
    migrate(&mut conn, schema).map_err(err)?;
    Ok(conn)
}

/// Opens an existing store read-only, for a reader that must neither write nor wait long: the
/// file is never created, migrated, nor switched to WAL (the host does that); statements wait
/// at most `busy_timeout` for another process's lock (set before the first statement runs). A
/// store at an older schema version is refused until the host has migrated it; a newer or
/// damaged one as [`open`] refuses it.
///
/// A WAL database is readable this way when its `-wal` and `-shm` files exist or its folder is
/// writable (SQLite then creates them, empty, as any reader of a WAL database does).
pub fn open_reader(path: &Path, schema: &Schema, busy_timeout: Duration) -> Result<Connection> {
    let err = |e| db_error(path, e);
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(err)?;
    conn.busy_timeout(busy_timeout).map_err(err)?;
    let version = checked_version(&conn, path, schema)?;
    if version < schema.current_version() {
        return Err(Error::Store {
            path: path.display().to_string(),
            reason: format!("schema version {version} is not yet migrated to {} (the companion migrates it when it next opens it)", schema.current_version()),
            cause: None,
        });
    }
    Ok(conn)
}

/// Brings a database up to the schema's current version.
pub fn migrate(conn: &mut Connection, schema: &Schema) -> rusqlite::Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found < 0 {
        // Never index the migrations with a negative version (see `checked_version`).
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(format!("schema version {found}")),
        ));
    }
    for version in found..schema.current_version() {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > version {
            tx.commit()?;
            continue;
        }
        tx.execute_batch(schema.migrations[version as usize])?;
        (schema.backfill)(&tx, version + 1)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// The schema as it stood at `version`, for migration tests.
pub fn create_at_version(conn: &mut Connection, schema: &Schema, version: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for sql in &schema.migrations[..version as usize] {
        tx.execute_batch(sql)?;
    }
    tx.execute_batch(&format!("PRAGMA user_version = {version}"))?;
    tx.commit()
}

/// Creates the database file with mode 0600 before SQLite opens it (its -wal and -shm files
/// take the same mode).
fn create_private_file(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    const SCHEMA: Schema = Schema { migrations: &["CREATE TABLE t (x)"], backfill: |_, _| Ok(()) };

    #[test]
    fn a_damaged_store_keeps_sqlites_error_behind_the_same_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.sqlite");
        std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
        let e = open(&path, &SCHEMA).unwrap_err();
        assert_eq!(e.code(), "store_corrupt");
        let sqlite = e.source().and_then(|c| c.downcast_ref::<rusqlite::Error>()).expect("SQLite's error is kept");
        assert_eq!(sqlite.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase));
        assert_eq!(
            e.to_string(),
            format!("database {} is damaged ({sqlite}); it was left untouched: move it aside to start afresh", path.display())
        );
        // What SQLite adds beneath its message (its result code) is in the chain.
        assert!(crate::error::causes(&e).iter().all(|c| !e.to_string().contains(c.as_str())));
    }

    #[test]
    fn refusals_of_our_own_have_no_cause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.sqlite");
        drop(open(&path, &SCHEMA).unwrap());
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 7").unwrap();
        let e = open(&path, &SCHEMA).unwrap_err();
        assert_eq!(e.code(), "store_too_new");
        assert!(e.source().is_none());
    }
}
