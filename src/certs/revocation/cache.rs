//! The on-disk revocation cache (`revocation.sqlite` in the data folder, 0600 like the other
//! stores): OCSP answers per certificate (issuer + serial), failed checks for a short while,
//! and fetched CRLs per issuer and scope, each until its nextUpdate. Bounded in entries and
//! bytes, the oldest evicted first.
//!
//! Only verified answers are written (`super::Checker` verifies before it records), so what is
//! read back is used as it is: a cached status costs one indexed lookup and no network. The host
//! and the CLI write; the PKCS#11 module inside Thunderbird only reads ([`RevocationCache::open_reader`]).
//!
//! A change that can change a verdict (a status that differs from the one recorded before, a new
//! CRL) also rewrites a small marker file ([`marker_path`]) whose stamp `TrustAnchors::stamp`
//! includes, so long-lived readers (the PKCS#11 module's verdicts) notice it.

use crate::error::{Error, Result};
use crate::home::Home;
use crate::store::{db_error, Schema};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// Status rows kept (answers and failures); past this the oldest go.
pub const MAX_STATUS_ROWS: i64 = 20_000;
/// CRLs kept, and their total size.
pub const MAX_CRLS: i64 = 64;
pub const MAX_CRL_TOTAL_BYTES: i64 = 64 * 1024 * 1024;

static SCHEMA: Schema = Schema {
    migrations: &[
        "CREATE TABLE status (
            issuer TEXT NOT NULL,
            serial TEXT NOT NULL,
            status TEXT NOT NULL,
            method TEXT,
            reason TEXT,
            revoked_at INTEGER,
            this_update INTEGER,
            next_update INTEGER,
            url TEXT,
            checked_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (issuer, serial)
        );
        CREATE INDEX status_checked ON status (checked_at);
        CREATE TABLE crl (
            issuer TEXT NOT NULL,
            scope BLOB NOT NULL,
            der BLOB NOT NULL,
            url TEXT,
            this_update INTEGER NOT NULL,
            next_update INTEGER NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (issuer, scope)
        );",
    ],
    backfill: |_, _| Ok(()),
};

/// A recorded status of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRow {
    /// `good`, `revoked`, or `unknown` (a failed check, remembered for a short while).
    pub status: String,
    /// `ocsp` (a verified answer) or None (a failure).
    pub method: Option<String>,
    /// revoked: the CRLReason's name; unknown: why.
    pub reason: Option<String>,
    pub revoked_at: Option<i64>,
    pub this_update: Option<i64>,
    pub next_update: Option<i64>,
    pub url: Option<String>,
    pub checked_at: i64,
    pub expires_at: i64,
}

/// A fetched CRL.
#[derive(Debug, Clone)]
pub struct CrlRow {
    pub der: Vec<u8>,
    pub url: Option<String>,
    pub fetched_at: i64,
    pub next_update: i64,
}

pub struct RevocationCache {
    conn: Connection,
    path: PathBuf,
    marker: PathBuf,
    /// Status rows kept ([`MAX_STATUS_ROWS`]; smaller in tests).
    max_status_rows: i64,
}

pub fn db_path(home: &Home) -> PathBuf {
    home.data_dir().join("revocation.sqlite")
}

/// The file rewritten whenever a recorded status or CRL changes.
pub fn marker_path(home: &Home) -> PathBuf {
    home.data_dir().join("revocation.changed")
}

impl RevocationCache {
    /// Opens (creating when missing) the cache for reading and writing.
    pub fn open(home: &Home) -> Result<RevocationCache> {
        home.ensure_private_dir(home.data_dir())?;
        let path = db_path(home);
        let conn = crate::store::open(&path, &SCHEMA)?;
        Ok(RevocationCache { conn, path, marker: marker_path(home), max_status_rows: MAX_STATUS_ROWS })
    }

    /// Opens an existing cache read-only (the PKCS#11 module): nothing is created or written.
    pub fn open_reader(home: &Home) -> Result<RevocationCache> {
        let path = db_path(home);
        if !path.exists() {
            return Err(Error::NotFound { what: "revocation cache".into(), key: path.display().to_string() });
        }
        let conn = crate::store::open_reader(&path, &SCHEMA, std::time::Duration::from_millis(200))?;
        Ok(RevocationCache { conn, path, marker: marker_path(home), max_status_rows: MAX_STATUS_ROWS })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_error(&self.path, e)
    }

    /// The recorded status of a certificate, unless it expired by `now`.
    pub fn status(&self, issuer: &str, serial: &str, now: i64) -> Result<Option<StatusRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT status, method, reason, revoked_at, this_update, next_update, url, checked_at, expires_at
                 FROM status WHERE issuer = ?1 AND serial = ?2 AND expires_at > ?3",
            )
            .map_err(|e| self.err(e))?;
        stmt.query_row(
                params![issuer, serial, now],
                |r| {
                    Ok(StatusRow {
                        status: r.get(0)?,
                        method: r.get(1)?,
                        reason: r.get(2)?,
                        revoked_at: r.get(3)?,
                        this_update: r.get(4)?,
                        next_update: r.get(5)?,
                        url: r.get(6)?,
                        checked_at: r.get(7)?,
                        expires_at: r.get(8)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records a status (replacing the one before), then keeps the table within its bounds.
    pub fn put_status(&mut self, issuer: &str, serial: &str, row: &StatusRow, now: i64) -> Result<()> {
        let tx = self.conn.transaction().map_err(|e| db_error(&self.path, e))?;
        let before: Option<String> = tx
            .query_row("SELECT status FROM status WHERE issuer = ?1 AND serial = ?2 AND expires_at > ?3", params![issuer, serial, now], |r| r.get(0))
            .optional()
            .map_err(|e| db_error(&self.path, e))?;
        tx.execute(
            "INSERT OR REPLACE INTO status (issuer, serial, status, method, reason, revoked_at, this_update, next_update, url, checked_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                issuer,
                serial,
                row.status,
                row.method,
                row.reason,
                row.revoked_at,
                row.this_update,
                row.next_update,
                row.url,
                row.checked_at,
                row.expires_at
            ],
        )
        .map_err(|e| db_error(&self.path, e))?;
        tx.execute("DELETE FROM status WHERE expires_at <= ?1", params![now]).map_err(|e| db_error(&self.path, e))?;
        tx.execute(
            "DELETE FROM status WHERE rowid IN (SELECT rowid FROM status ORDER BY checked_at DESC LIMIT -1 OFFSET ?1)",
            params![self.max_status_rows],
        )
        .map_err(|e| db_error(&self.path, e))?;
        tx.commit().map_err(|e| db_error(&self.path, e))?;
        if before.as_deref().unwrap_or("unknown") != row.status {
            self.touch_marker();
        }
        Ok(())
    }

    /// The CRLs of an issuer that are current at `now`.
    pub fn crls(&self, issuer: &str, now: i64) -> Result<Vec<CrlRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT der, url, fetched_at, next_update FROM crl WHERE issuer = ?1 AND next_update > ?2")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![issuer, now], |r| Ok(CrlRow { der: r.get(0)?, url: r.get(1)?, fetched_at: r.get(2)?, next_update: r.get(3)? }))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(|e| self.err(e))
    }

    /// Records a CRL for an issuer and scope unless one at least as new is there, then keeps the
    /// table within its bounds. `this_update`, `next_update`: Unix seconds.
    #[allow(clippy::too_many_arguments)]
    pub fn put_crl(&mut self, issuer: &str, scope: &[u8], der: &[u8], url: &str, this_update: i64, next_update: i64, now: i64) -> Result<()> {
        let tx = self.conn.transaction().map_err(|e| db_error(&self.path, e))?;
        let known: Option<i64> = tx
            .query_row("SELECT this_update FROM crl WHERE issuer = ?1 AND scope = ?2", params![issuer, scope], |r| r.get(0))
            .optional()
            .map_err(|e| db_error(&self.path, e))?;
        if known.is_some_and(|t| t >= this_update) {
            return Ok(());
        }
        tx.execute(
            "INSERT OR REPLACE INTO crl (issuer, scope, der, url, this_update, next_update, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![issuer, scope, der, url, this_update, next_update, now],
        )
        .map_err(|e| db_error(&self.path, e))?;
        tx.execute("DELETE FROM crl WHERE next_update <= ?1", params![now]).map_err(|e| db_error(&self.path, e))?;
        tx.execute("DELETE FROM crl WHERE rowid IN (SELECT rowid FROM crl ORDER BY fetched_at DESC LIMIT -1 OFFSET ?1)", params![MAX_CRLS])
            .map_err(|e| db_error(&self.path, e))?;
        // The newest CRLs up to the byte bound stay; older ones go.
        tx.execute(
            "DELETE FROM crl WHERE rowid IN (
               SELECT rowid FROM (SELECT rowid, SUM(LENGTH(der)) OVER (ORDER BY fetched_at DESC, rowid DESC) AS running FROM crl)
               WHERE running > ?1)",
            params![MAX_CRL_TOTAL_BYTES],
        )
        .map_err(|e| db_error(&self.path, e))?;
        tx.commit().map_err(|e| db_error(&self.path, e))?;
        self.touch_marker();
        Ok(())
    }

    /// Forgets every recorded failure, so the next check asks again.
    pub fn forget_failures(&mut self) -> Result<usize> {
        self.conn.execute("DELETE FROM status WHERE status = 'unknown'", []).map_err(|e| self.err(e))
    }

    /// (status rows, CRLs, bytes of CRLs).
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        let statuses: i64 = self.conn.query_row("SELECT COUNT(*) FROM status", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        let (crls, bytes): (i64, i64) =
            self.conn.query_row("SELECT COUNT(*), COALESCE(SUM(LENGTH(der)), 0) FROM crl", [], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        Ok((statuses, crls, bytes))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn touch_marker(&self) {
        // The content changes with every write, so the stamp (time and length) always moves. It
        // says nothing worth a sync: a lost marker only delays a reader's fresh look.
        let stamp = format!("{:?}\n", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        if let Err(e) = options.open(&self.marker).and_then(|mut f| std::io::Write::write_all(&mut f, stamp.as_bytes())) {
            log::warn!("revocation: the change marker could not be written: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, checked_at: i64, expires_at: i64) -> StatusRow {
        StatusRow {
            status: status.into(),
            method: Some("ocsp".into()),
            reason: None,
            revoked_at: None,
            this_update: Some(checked_at),
            next_update: Some(expires_at),
            url: Some("http://ocsp.example/".into()),
            checked_at,
            expires_at,
        }
    }

    #[test]
    fn statuses_last_until_they_expire_and_a_change_moves_the_marker() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        let mut cache = RevocationCache::open(&home).unwrap();
        cache.put_status("issuer", "01", &row("good", 100, 200), 100).unwrap();
        assert_eq!(cache.status("issuer", "01", 150).unwrap().unwrap().status, "good");
        assert!(cache.status("issuer", "01", 200).unwrap().is_none(), "gone at expires_at");
        assert!(cache.status("issuer", "02", 150).unwrap().is_none());
        let marker = std::fs::read(marker_path(&home)).unwrap();
        cache.put_status("issuer", "01", &row("good", 120, 220), 120).unwrap();
        assert_eq!(std::fs::read(marker_path(&home)).unwrap(), marker, "the same status again changes nothing");
        cache.put_status("issuer", "01", &row("revoked", 130, 230), 130).unwrap();
        assert_ne!(std::fs::read(marker_path(&home)).unwrap(), marker);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(db_path(&home)).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let reader = RevocationCache::open_reader(&home).unwrap();
        assert_eq!(reader.status("issuer", "01", 150).unwrap().unwrap().status, "revoked");
    }

    #[test]
    fn the_oldest_statuses_go_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = RevocationCache::open(&Home::at(dir.path())).unwrap();
        cache.max_status_rows = 50;
        for i in 0..55 {
            cache.put_status("issuer", &format!("{i:x}"), &row("good", 1000 + i, 1_000_000), 1000 + i).unwrap();
        }
        assert_eq!(cache.counts().unwrap().0, 50);
        assert!(cache.status("issuer", "0", 2000).unwrap().is_none(), "the oldest went");
        assert!(cache.status("issuer", &format!("{:x}", 54), 2000).unwrap().is_some());
    }

    #[test]
    fn crls_keep_the_newest_per_scope_within_the_byte_bound() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = RevocationCache::open(&Home::at(dir.path())).unwrap();
        cache.put_crl("issuer", b"", b"new", "http://x/", 200, 1000, 200).unwrap();
        cache.put_crl("issuer", b"", b"old", "http://x/", 100, 1000, 210).unwrap();
        let crls = cache.crls("issuer", 300).unwrap();
        assert_eq!(crls.len(), 1);
        assert_eq!(crls[0].der, b"new", "an older CRL does not replace a newer one");
        assert!(cache.crls("issuer", 1000).unwrap().is_empty(), "not after nextUpdate");
        let big = vec![0u8; (MAX_CRL_TOTAL_BYTES / 2 + 1) as usize];
        cache.put_crl("a", b"", &big, "http://a/", 1, 10_000, 300).unwrap();
        cache.put_crl("b", b"", &big, "http://b/", 1, 10_000, 400).unwrap();
        assert!(cache.crls("a", 500).unwrap().is_empty(), "the older big CRL went");
        assert_eq!(cache.crls("b", 500).unwrap().len(), 1);
        assert!(cache.counts().unwrap().2 <= MAX_CRL_TOTAL_BYTES);
    }
}
