//! The user's own certificates and private keys ("identities"): imported from PKCS#12 with every
//! check a user needs, kept encrypted at rest, kept after renewal or expiry (old mail stays
//! readable), backed up, and unlocked for a limited time.
//!
//! Stored in `identities.sqlite` in the data folder (mode 0600): certificates and chains in the
//! clear, private keys only sealed (see `seal`).

pub mod backup;
pub mod checks;
pub mod seal;
pub mod service;
pub mod session;

use crate::certs::summary::{Cert, CertSummary, KeyInfo};
use crate::contacts::{can_encrypt, key_fingerprint};
use crate::error::{Error, Result};
use crate::home::Home;
use crate::mime::address::normalize_caseless as normalize;
use crate::store::{db_error, Schema};
use crate::time::to_rfc3339;
use openssl::pkey::{PKey, Private};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use seal::{Passphrase, SealedKey};
use serde::Serialize;
use std::path::{Path, PathBuf};

const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        cert_der BLOB NOT NULL,
        chain_der BLOB NOT NULL,
        subject TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial TEXT NOT NULL,
        subject_key_id TEXT,
        key_sha256 TEXT NOT NULL,
        not_before INTEGER NOT NULL,
        not_after INTEGER NOT NULL,
        sealed_key TEXT NOT NULL,
        imported_at INTEGER NOT NULL,
        backed_up_at INTEGER,
        replaced_by TEXT
    );
    CREATE TABLE identity_addresses (
        address TEXT NOT NULL,
        identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
        PRIMARY KEY (address, identity_id)
    ) WITHOUT ROWID;
    CREATE TABLE identity_events (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        at INTEGER NOT NULL,
        event TEXT NOT NULL
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    INSERT INTO settings VALUES ('lock_epoch', '0');
"#];

fn no_backfill(_: &rusqlite::Transaction<'_>, _: i64) -> rusqlite::Result<()> {
    Ok(())
}

pub const SCHEMA: Schema = Schema { migrations: MIGRATIONS, backfill: no_backfill };

/// The columns `IdentityStore::select` reads, of `identities` as `i`.
const IDENTITY_COLUMNS: &str = "i.id, i.cert_der, i.chain_der, i.sealed_key, i.imported_at, i.backed_up_at, i.replaced_by";

pub fn db_path(home: &Home) -> PathBuf {
    home.data_dir().join("identities.sqlite")
}

/// One identity as stored.
#[derive(Clone)]
pub struct Identity {
    pub id: i64,
    pub cert: Cert,
    pub chain: Vec<Cert>,
    pub sealed: SealedKey,
    pub imported_at: i64,
    pub backed_up_at: Option<i64>,
    pub replaced_by: Option<String>,
}

impl Identity {
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint_sha256()
    }

    /// Opens the private key with the passphrase.
    pub fn unlock(&self, passphrase: &Passphrase) -> Result<PKey<Private>> {
        seal::open(&self.sealed, passphrase, &self.fingerprint()).map_err(|e| match e {
            seal::OpenError::WrongPassphrase => Error::WrongPassword { source: format!("identity {}", self.fingerprint()), cause: None },
            seal::OpenError::Damaged => Error::Store { path: "identities.sqlite".into(), reason: "a sealed key is damaged".into(), cause: None },
        })
    }

    /// A current identity without a backup: the add-on and `backup-status` keep reminding.
    pub fn needs_backup(&self) -> bool {
        self.backed_up_at.is_none() && self.replaced_by.is_none()
    }

    pub fn can_sign(&self) -> bool {
        self.cert.allows_signing_key_usage() && self.cert.allows_email_protection()
    }

    pub fn info(&self, now: i64, unlocked: bool) -> IdentityInfo {
        let f = &self.cert.fields;
        IdentityInfo {
            fingerprint: self.fingerprint(),
            emails: self.cert.emails(),
            subject: f.subject.to_rfc4514(),
            issuer: f.issuer.to_rfc4514(),
            not_before: to_rfc3339(f.not_before),
            not_after: to_rfc3339(f.not_after),
            expired: now > f.not_after,
            expires_in_days: (f.not_after - now).div_euclid(86400),
            replaced_by: self.replaced_by.clone(),
            imported_at: to_rfc3339(self.imported_at),
            backed_up_at: self.backed_up_at.map(to_rfc3339),
            key: self.cert.key_info(),
            can_sign: self.can_sign(),
            can_encrypt: can_encrypt(&self.cert),
            unlocked,
            certificate: self.cert.summary(),
            chain: self.chain.iter().map(Cert::summary).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityInfo {
    pub fingerprint: String,
    pub emails: Vec<String>,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub expired: bool,
    pub expires_in_days: i64,
    /// The fingerprint of the identity that renewed this one.
    pub replaced_by: Option<String>,
    pub imported_at: String,
    pub backed_up_at: Option<String>,
    pub key: KeyInfo,
    pub can_sign: bool,
    pub can_encrypt: bool,
    pub unlocked: bool,
    pub certificate: CertSummary,
    pub chain: Vec<CertSummary>,
}

pub struct IdentityStore {
    conn: Connection,
    path: PathBuf,
}

impl IdentityStore {
    pub fn open(home: &Home) -> Result<IdentityStore> {
        home.ensure_private_dir(home.data_dir())?;
        IdentityStore::open_at(&db_path(home))
    }

    pub fn open_at(path: &Path) -> Result<IdentityStore> {
        Ok(IdentityStore { conn: crate::store::open(path, &SCHEMA)?, path: path.to_path_buf() })
    }

    /// Opens an existing store read-only, for a long-lived reader in another process (the
    /// PKCS#11 module inside Thunderbird): nothing is created, migrated or written, and a
    /// statement waits at most `busy_timeout` for another process's lock (see
    /// `store::open_reader`).
    pub fn open_reader(path: &Path, busy_timeout: std::time::Duration) -> Result<IdentityStore> {
        Ok(IdentityStore { conn: crate::store::open_reader(path, &SCHEMA, busy_timeout)?, path: path.to_path_buf() })
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_error(&self.path, e)
    }

    /// Stores a checked identity; older identities for the same addresses become "replaced".
    pub fn add(&mut self, cert: &Cert, chain: &[Cert], sealed: &SealedKey, now: i64) -> Result<Vec<String>> {
        let path = self.path.clone();
        let e = |x| db_error(&path, x);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        let fp = cert.fingerprint_sha256();
        let chain_der: Vec<u8> = chain.iter().flat_map(|c| c.der.iter().copied()).collect();
        let sealed_json = serde_json::to_string(sealed).map_err(|x| Error::Internal { reason: x.to_string() })?;
        let f = &cert.fields;
        let existing: Option<i64> = tx.query_row("SELECT id FROM identities WHERE fingerprint = ?1", [&fp], |r| r.get(0)).optional().map_err(e)?;
        let id = match existing {
            // Importing the same certificate again replaces its sealed key (e.g. a new passphrase).
            Some(id) => {
                tx.execute("UPDATE identities SET sealed_key = ?2, chain_der = ?3 WHERE id = ?1", params![id, sealed_json, chain_der]).map_err(e)?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO identities (fingerprint, cert_der, chain_der, subject, issuer, serial, subject_key_id, key_sha256,
                         not_before, not_after, sealed_key, imported_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    params![
                        fp,
                        cert.der,
                        chain_der,
                        f.subject.to_rfc4514(),
                        f.issuer.to_rfc4514(),
                        crate::asn1::integer_hex(&f.serial),
                        f.subject_key_id.as_ref().map(|k| crate::hex::encode(k)),
                        key_fingerprint(cert),
                        f.not_before,
                        f.not_after,
                        sealed_json,
                        now
                    ],
                )
                .map_err(e)?;
                tx.last_insert_rowid()
            }
        };
        let mut replaced = Vec::new();
        for address in cert.emails().iter().filter_map(|a| normalize(a)) {
            tx.execute("INSERT OR IGNORE INTO identity_addresses VALUES (?1, ?2)", params![address, id]).map_err(e)?;
            let older: Vec<String> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT i.fingerprint FROM identity_addresses a JOIN identities i ON i.id = a.identity_id
                         WHERE a.address = ?1 AND i.id != ?2 AND i.not_before < ?3 AND i.replaced_by IS NULL",
                    )
                    .map_err(e)?;
                let rows = stmt.query_map(params![address, id, f.not_before], |r| r.get(0)).map_err(e)?;
                rows.collect::<rusqlite::Result<_>>().map_err(e)?
            };
            for old in older {
                tx.execute("UPDATE identities SET replaced_by = ?2 WHERE fingerprint = ?1", params![old, fp]).map_err(e)?;
                tx.execute("INSERT INTO identity_events (fingerprint, at, event) VALUES (?1, ?2, 'replaced')", params![old, now]).map_err(e)?;
                replaced.push(old);
            }
        }
        tx.execute("INSERT INTO identity_events (fingerprint, at, event) VALUES (?1, ?2, 'imported')", params![fp, now]).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(replaced)
    }

    /// All identities, newest first.
    pub fn all(&self) -> Result<Vec<Identity>> {
        self.select(&format!("SELECT {IDENTITY_COLUMNS} FROM identities i ORDER BY i.not_before DESC, i.id DESC"), [])
    }

    /// The identities matching a fingerprint (or unique prefix) or an address, newest first.
    /// Only those are read (their certificates, chains and sealed keys parsed).
    pub fn find(&self, key: &str) -> Result<Vec<Identity>> {
        if let Some(address) = key.contains('@').then(|| normalize(key)).flatten() {
            // identity_addresses holds each certificate's addresses, normalised the same way.
            return self.select(
                &format!(
                    "SELECT {IDENTITY_COLUMNS} FROM identity_addresses a JOIN identities i ON i.id = a.identity_id
                     WHERE a.address = ?1 ORDER BY i.not_before DESC, i.id DESC"
                ),
                [address],
            );
        }
        let wanted = key.to_ascii_lowercase().replace(':', "");
        if wanted.len() < 8 {
            return Ok(Vec::new());
        }
        // A plain prefix comparison: the key is not a LIKE pattern ('%' and '_' match themselves).
        self.select(
            &format!("SELECT {IDENTITY_COLUMNS} FROM identities i WHERE substr(i.fingerprint, 1, length(?1)) = ?1 ORDER BY i.not_before DESC, i.id DESC"),
            [wanted],
        )
    }

    /// The identity with exactly this certificate fingerprint.
    pub fn get(&self, fingerprint: &str) -> Result<Option<Identity>> {
        Ok(self.select(&format!("SELECT {IDENTITY_COLUMNS} FROM identities i WHERE i.fingerprint = ?1"), [fingerprint])?.pop())
    }

    /// The identities a query over [`IDENTITY_COLUMNS`] returns, in its order; rows that cannot be
    /// read are skipped (and logged).
    fn select(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Identity>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, cert_der, chain_der, sealed, imported_at, backed_up_at, replaced_by) = row.map_err(|e| self.err(e))?;
            let (Ok(cert), Ok(sealed)) = (Cert::from_der(&cert_der), serde_json::from_str::<SealedKey>(&sealed)) else {
                log::warn!("identity {id} is unreadable and skipped");
                continue;
            };
            out.push(Identity { id, cert, chain: split_der_certs(&chain_der), sealed, imported_at, backed_up_at, replaced_by });
        }
        Ok(out)
    }

    /// Exactly one identity for a key; an address picks the current one (not replaced, newest).
    pub fn one(&self, key: &str) -> Result<Identity> {
        let found = self.find(key)?;
        let current: Vec<&Identity> = found.iter().filter(|i| i.replaced_by.is_none()).collect();
        match (found.len(), current.len()) {
            (0, _) => Err(Error::NotFound { what: "identity".into(), key: key.into() }),
            (1, _) => Ok(found[0].clone()),
            (_, 1) if key.contains('@') => Ok(current[0].clone()),
            _ if key.contains('@') => Ok(found[0].clone()),
            _ => Err(Error::Ambiguous { what: "identity".into(), key: key.into() }),
        }
    }

    /// Deletes an identity and records it in the history, in one transaction.
    pub fn delete(&mut self, fingerprint: &str, now: i64) -> Result<()> {
        let path = self.path.clone();
        let e = |x| db_error(&path, x);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        let n = tx.execute("DELETE FROM identities WHERE fingerprint = ?1", [fingerprint]).map_err(e)?;
        if n == 0 {
            return Err(Error::NotFound { what: "identity".into(), key: fingerprint.into() });
        }
        tx.execute("INSERT INTO identity_events (fingerprint, at, event) VALUES (?1, ?2, 'deleted')", params![fingerprint, now]).map_err(e)?;
        tx.commit().map_err(e)
    }

    /// Records a backup of an identity (its time, and the history event), in one transaction.
    pub fn mark_backed_up(&mut self, fingerprint: &str, now: i64) -> Result<()> {
        let path = self.path.clone();
        let e = |x| db_error(&path, x);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(e)?;
        tx.execute("UPDATE identities SET backed_up_at = ?2 WHERE fingerprint = ?1", params![fingerprint, now]).map_err(e)?;
        tx.execute("INSERT INTO identity_events (fingerprint, at, event) VALUES (?1, ?2, 'backed_up')", params![fingerprint, now]).map_err(e)?;
        tx.commit().map_err(e)
    }

    /// A counter every `lock` raises: unlocked keys taken before a change are dropped, in this
    /// process and in every other (the host, the PKCS#11 module).
    pub fn lock_epoch(&self) -> Result<i64> {
        let v: String = self.conn.query_row("SELECT value FROM settings WHERE key = 'lock_epoch'", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        Ok(v.parse().unwrap_or(0))
    }

    /// A counter that changes whenever another connection commits (PRAGMA data_version), so a
    /// long-lived reader (the PKCS#11 module) re-reads only after a change.
    pub fn data_version(&self) -> Result<i64> {
        self.conn.query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// Changes whenever the content may have changed, through this connection or another
    /// process's: the key for caches of what was read.
    pub fn generation(&self) -> Result<(i64, u64)> {
        Ok((self.data_version()?, self.conn.total_changes()))
    }

    pub fn raise_lock_epoch(&mut self) -> Result<i64> {
        self.conn
            .execute("UPDATE settings SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'lock_epoch'", [])
            .map_err(|e| self.err(e))?;
        self.lock_epoch()
    }
}

/// Splits concatenated DER certificates.
fn split_der_certs(mut der: &[u8]) -> Vec<Cert> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let Ok(tlv) = crate::asn1::Reader::new(der).read() else { break };
        let len = tlv.raw.len();
        if let Ok(c) = Cert::from_der(&der[..len]) {
            out.push(c);
        }
        der = &der[len..];
    }
    out
}
