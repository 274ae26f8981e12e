//! The per-contact certificate cache: every certificate a contact's verified signature carried
//! (or that was imported), keyed by each e-mail address it holds, with its history. An embedded
//! SQLite database (WAL) that the host, the CLI and the PKCS#11 module use at the same time, and
//! that survives a kill at any instant.
//!
//! Untrusted but intact signatures are harvested too, marked `trusted = 0`: the certificate is
//! then known (the user can compare its fingerprint, or trust its CA later), but it is never
//! chosen for encryption while its chain does not verify.

pub mod schema;
pub mod select;
pub mod service;

use crate::certs::oid;
use crate::certs::summary::{Cert, CertSummary};
use crate::error::{Error, Result};
use crate::home::Home;
use crate::mime::address::normalize;
use crate::protocol::chunking::hex;
use crate::smime::cms_der::CertId;
use crate::time::to_rfc3339;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A certificate this close to expiry (or past it) is being renewed, not replaced.
pub const RENEWAL_WINDOW_SECS: i64 = 60 * 86400;

/// Where a certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    SignedMail,
    Import,
    Directory,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::SignedMail => "signed_mail",
            Source::Import => "import",
            Source::Directory => "directory",
        }
    }

    fn parse(s: &str) -> Source {
        match s {
            "import" => Source::Import,
            "directory" => Source::Directory,
            _ => Source::SignedMail,
        }
    }
}

/// What a verified signature contributes to the cache.
#[derive(Debug, Clone)]
pub struct HarvestItem {
    pub cert: Cert,
    pub chain: Vec<Cert>,
    pub trusted: bool,
    pub revoked: bool,
    pub capabilities: Vec<String>,
    pub key_preference: Option<CertId>,
    pub signing_time: Option<i64>,
    pub message_date: Option<i64>,
    /// The From display name, kept only to label the contact.
    pub display_name: Option<String>,
}

/// A change of certificate noticed for an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Continuity {
    /// `key_changed`, `renewed`.
    pub event: &'static str,
    pub address: String,
    pub fingerprint: String,
    pub previous_fingerprint: String,
}

/// A certificate as the cache holds it.
#[derive(Debug, Clone)]
pub struct StoredCert {
    pub cert: Cert,
    pub source: Source,
    pub trusted: bool,
    pub revoked: bool,
    pub can_encrypt: bool,
    pub capabilities: Vec<String>,
    pub first_seen: i64,
    pub last_seen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredCertInfo {
    #[serde(flatten)]
    pub summary: CertSummary,
    pub source: Source,
    pub trusted_when_seen: bool,
    pub revoked: bool,
    pub can_encrypt: bool,
    pub capabilities: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
}

impl StoredCert {
    pub fn info(&self) -> StoredCertInfo {
        StoredCertInfo {
            summary: self.cert.summary(),
            source: self.source,
            trusted_when_seen: self.trusted,
            revoked: self.revoked,
            can_encrypt: self.can_encrypt,
            capabilities: self.capabilities.clone(),
            first_seen: to_rfc3339(self.first_seen),
            last_seen: to_rfc3339(self.last_seen),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub event: String,
    pub fingerprint: Option<String>,
    pub previous_fingerprint: Option<String>,
    pub source: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub imported: usize,
    pub already_known: usize,
    pub intermediates: usize,
    /// Certificates that hold no e-mail address (and are not CAs): not stored.
    pub without_address: Vec<String>,
    pub addresses: Vec<String>,
    pub continuity: Vec<Continuity>,
}

pub struct ContactCache {
    conn: Connection,
    path: PathBuf,
}

/// The database file inside the data folder.
pub fn db_path(home: &Home) -> PathBuf {
    home.data_dir().join("contacts.sqlite")
}

use crate::store::db_error;

/// The SHA-256 of a certificate's public key (SubjectPublicKeyInfo DER).
pub fn key_fingerprint(cert: &Cert) -> String {
    cert.x509.public_key().and_then(|k| k.public_key_to_der()).map(|der| hex(&openssl::sha::sha256(&der))).unwrap_or_default()
}

/// Whether a certificate may be used to encrypt to its holder (its own usage, read by OpenSSL:
/// `certs::policy::encryption_usage`; whether its chain allows it now is `select::TrustJudge`'s).
pub fn can_encrypt(cert: &Cert) -> bool {
    crate::certs::policy::encryption_usage(cert).is_ok()
}

/// Normalised addresses of a certificate: the addresses it is cached under.
pub fn cert_addresses(cert: &Cert) -> Vec<String> {
    let mut out: Vec<String> = cert.emails().iter().filter_map(|e| normalize(e)).collect();
    out.sort();
    out.dedup();
    out
}

/// Validates and normalises an address given by a user or the add-on.
pub fn parse_address(text: &str) -> Result<String> {
    normalize(text).ok_or_else(|| Error::InvalidAddress { address: crate::logging::sanitize(text, 200) })
}

impl ContactCache {
    /// Opens (creating if needed) the cache in the data folder.
    pub fn open(home: &Home) -> Result<ContactCache> {
        home.ensure_private_dir(home.data_dir())?;
        ContactCache::open_at(&db_path(home))
    }

    pub fn open_at(path: &Path) -> Result<ContactCache> {
        let conn = crate::store::open(path, &schema::SCHEMA)?;
        Ok(ContactCache { conn, path: path.to_path_buf() })
    }

    /// Opens an existing cache read-only, for a long-lived reader in another process (the
    /// PKCS#11 module inside Thunderbird): nothing is created, migrated or written, and a
    /// statement waits at most `busy_timeout` for another process's lock (see
    /// `store::open_reader`).
    pub fn open_reader(path: &Path, busy_timeout: std::time::Duration) -> Result<ContactCache> {
        let conn = crate::store::open_reader(path, &schema::SCHEMA, busy_timeout)?;
        Ok(ContactCache { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_error(&self.path, e)
    }

    /// Stores a verified signer's certificate and chain; returns the continuity changes seen.
    pub fn harvest(&mut self, item: &HarvestItem, now: i64) -> Result<Vec<Continuity>> {
        self.harvest_all(std::slice::from_ref(item), Source::SignedMail, now)
    }

    /// Stores certificates found for contacts the way a verified signer's certificate is stored
    /// (`harvest`), each marked with `source`, all in one transaction: the directory lookup
    /// (`crate::directory`) stores what it found with `Source::Directory`.
    pub fn harvest_all(&mut self, items: &[HarvestItem], source: Source, now: i64) -> Result<Vec<Continuity>> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| db_error(&path, e))?;
        let mut changes = Vec::new();
        for item in items {
            changes.extend(harvest_one(&tx, item, source, now).map_err(|e| db_error(&path, e))?);
        }
        tx.commit().map_err(|e| db_error(&path, e))?;
        Ok(changes)
    }

    /// Imports certificates (from a file or an attachment). CA certificates are kept as
    /// intermediates; end-entity certificates without any address are reported, not stored.
    pub fn import(&mut self, certs: &[Cert], source: Source, now: i64) -> Result<ImportOutcome> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| db_error(&path, e))?;
        let mut out = ImportOutcome::default();
        for cert in certs {
            let addresses = cert_addresses(cert);
            if cert.fields.is_ca {
                let (_, new) = upsert_certificate(&tx, cert, &[], source, false, false, None, None, None, now).map_err(|e| db_error(&path, e))?;
                if new {
                    out.intermediates += 1;
                } else {
                    out.already_known += 1;
                }
                continue;
            }
            if addresses.is_empty() {
                out.without_address.push(cert.fingerprint_sha256());
                continue;
            }
            let (_, new) = upsert_certificate(&tx, cert, &addresses, source, false, false, None, None, None, now).map_err(|e| db_error(&path, e))?;
            for address in &addresses {
                touch_contact(&tx, address, None, now).map_err(|e| db_error(&path, e))?;
                if new {
                    out.continuity.extend(record_new_certificate(&tx, address, cert, source, now).map_err(|e| db_error(&path, e))?);
                }
                if !out.addresses.contains(address) {
                    out.addresses.push(address.clone());
                }
            }
            if new {
                out.imported += 1;
            } else {
                out.already_known += 1;
            }
        }
        tx.commit().map_err(|e| db_error(&path, e))?;
        Ok(out)
    }

    /// All certificates held for an address, newest first.
    pub fn certificates_for(&self, address: &str) -> Result<Vec<StoredCert>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.der, c.source, c.trusted, c.revoked, c.can_encrypt, c.capabilities, c.first_seen, c.last_seen
                 FROM addresses a JOIN certificates c ON c.id = a.certificate_id
                 WHERE a.address = ?1 ORDER BY c.not_before DESC, c.id DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([address], row_to_stored).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(c) = row.map_err(|e| self.err(e))? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// The intermediate CA certificates the cache knows (for chain building).
    pub fn intermediates(&self) -> Result<Vec<openssl::x509::X509>> {
        Ok(self.intermediate_ders()?.iter().filter_map(|der| openssl::x509::X509::from_der(der).ok()).collect())
    }

    /// The CA certificates, as stored (unparsed).
    pub fn intermediate_ders(&self) -> Result<Vec<Vec<u8>>> {
        self.ders("SELECT der FROM certificates WHERE is_ca = 1")
    }

    /// The end-entity certificates usable for encryption (not revoked), as stored. For readers
    /// that need only a few fields of many certificates (the PKCS#11 module): OpenSSL 3 takes
    /// about 0.1 ms to parse each one.
    pub fn encryption_certificate_ders(&self) -> Result<Vec<Vec<u8>>> {
        self.ders("SELECT der FROM certificates WHERE is_ca = 0 AND can_encrypt = 1 AND revoked = 0")
    }

    fn ders(&self, sql: &str) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(|e| self.err(e))?;
        rows.map(|r| r.map_err(|e| self.err(e))).collect()
    }

    /// A certificate named by a CMS identifier (signer or recipient).
    pub fn find(&self, id: &CertId) -> Result<Option<Cert>> {
        let der: Option<Vec<u8>> = match id {
            CertId::IssuerSerial { issuer, serial } => self
                .conn
                .query_row("SELECT der FROM certificates WHERE issuer = ?1 AND serial = ?2 LIMIT 1", params![issuer, serial], |r| r.get(0))
                .optional(),
            CertId::SubjectKeyId { subject_key_id } => self
                .conn
                .query_row("SELECT der FROM certificates WHERE subject_key_id = ?1 LIMIT 1", [subject_key_id], |r| r.get(0))
                .optional(),
        }
        .map_err(|e| self.err(e))?;
        Ok(der.and_then(|d| Cert::from_der(&d).ok()))
    }

    /// Contacts, filtered and paged.
    pub fn list(&self, query: &ListQuery) -> Result<ListPage> {
        let pattern = format!("%{}%", query.search.as_deref().unwrap_or("").to_lowercase().replace('%', "\\%").replace('_', "\\_"));
        // Names of the page's columns, valid both inside the page query and around it.
        let order = match query.sort {
            Sort::Address => "address ASC",
            Sort::LastSeen => "last_seen DESC, address ASC",
            Sort::Expiry => "latest_expiry ASC, address ASC",
        };
        let total: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM contacts c WHERE (c.address LIKE ?1 ESCAPE '\\' OR lower(coalesce(c.name,'')) LIKE ?1 ESCAPE '\\')
                   AND EXISTS (SELECT 1 FROM addresses a WHERE a.address = c.address)",
                [&pattern],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        // The page first, then each of its contacts' warnings (continuity events worth showing
        // next to a contact: key changes and renewals, each once, in the order they first
        // happened), in one query: SQLite computes them for the page's rows only.
        let sql = format!(
            "SELECT p.address, p.name, p.first_seen, p.last_seen, p.certs, p.latest_expiry,
                    (SELECT group_concat(w.event, ',' ORDER BY w.first_at, w.first_id)
                       FROM (SELECT h.event AS event, min(h.at) AS first_at, min(h.id) AS first_id FROM history h
                              WHERE h.address = p.address AND h.event IN ('key_changed', 'renewed') GROUP BY h.event) AS w) AS warnings
             FROM (SELECT c.address AS address, c.name AS name, c.first_seen AS first_seen, c.last_seen AS last_seen,
                          (SELECT count(*) FROM addresses a WHERE a.address = c.address) AS certs,
                          (SELECT max(x.not_after) FROM addresses a JOIN certificates x ON x.id = a.certificate_id WHERE a.address = c.address) AS latest_expiry
                     FROM contacts c
                    WHERE (c.address LIKE ?1 ESCAPE '\\' OR lower(coalesce(c.name,'')) LIKE ?1 ESCAPE '\\')
                      AND EXISTS (SELECT 1 FROM addresses a WHERE a.address = c.address)
                    ORDER BY {order} LIMIT ?2 OFFSET ?3) AS p
             ORDER BY {order}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![pattern, query.limit as i64, query.offset as i64], |r| {
                Ok(ContactRow {
                    address: r.get(0)?,
                    name: r.get(1)?,
                    first_seen: to_rfc3339(r.get(2)?),
                    last_seen: to_rfc3339(r.get(3)?),
                    certificates: r.get::<_, i64>(4)? as usize,
                    latest_expiry: r.get::<_, Option<i64>>(5)?.map(to_rfc3339),
                    warnings: r.get::<_, Option<String>>(6)?.map_or_else(Vec::new, |w| w.split(',').map(str::to_string).collect()),
                })
            })
            .map_err(|e| self.err(e))?;
        let items: Vec<ContactRow> = rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))?;
        Ok(ListPage { total: total as usize, offset: query.offset, items })
    }

    pub fn history(&self, address: &str) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at, event, fingerprint, previous_fingerprint, source FROM history WHERE address = ?1 ORDER BY at, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([address], |r| {
                Ok(HistoryEntry { at: to_rfc3339(r.get(0)?), event: r.get(1)?, fingerprint: r.get(2)?, previous_fingerprint: r.get(3)?, source: r.get(4)? })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    pub fn contact_name(&self, address: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT name FROM contacts WHERE address = ?1", [address], |r| r.get::<_, Option<String>>(0))
            .optional()
            .map_err(|e| self.err(e))?
            .flatten())
    }

    /// Deletes a contact and all its certificates as one action; the history keeps a record.
    pub fn delete_contact(&mut self, address: &str, now: i64) -> Result<Vec<String>> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| db_error(&path, e))?;
        let fingerprints: Vec<(i64, String)> = {
            let mut stmt = tx
                .prepare("SELECT c.id, c.fingerprint FROM addresses a JOIN certificates c ON c.id = a.certificate_id WHERE a.address = ?1")
                .map_err(|e| db_error(&path, e))?;
            let rows = stmt.query_map([address], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| db_error(&path, e))?;
            rows.collect::<rusqlite::Result<_>>().map_err(|e| db_error(&path, e))?
        };
        let existed = tx.execute("DELETE FROM contacts WHERE address = ?1", [address]).map_err(|e| db_error(&path, e))? > 0;
        if !existed && fingerprints.is_empty() {
            return Err(Error::NotFound { what: "contact".into(), key: address.into() });
        }
        for (id, fp) in &fingerprints {
            // The same certificate may name other addresses: they lose it too, and say so.
            let others: Vec<String> = {
                let mut stmt = tx.prepare("SELECT address FROM addresses WHERE certificate_id = ?1 AND address != ?2").map_err(|e| db_error(&path, e))?;
                let rows = stmt.query_map(params![id, address], |r| r.get(0)).map_err(|e| db_error(&path, e))?;
                rows.collect::<rusqlite::Result<_>>().map_err(|e| db_error(&path, e))?
            };
            tx.execute("DELETE FROM certificates WHERE id = ?1", [id]).map_err(|e| db_error(&path, e))?;
            for other in others {
                add_history(&tx, &other, now, "certificate_deleted", Some(fp), None, None).map_err(|e| db_error(&path, e))?;
            }
        }
        add_history(&tx, address, now, "contact_deleted", None, None, None).map_err(|e| db_error(&path, e))?;
        tx.commit().map_err(|e| db_error(&path, e))?;
        Ok(fingerprints.into_iter().map(|(_, fp)| fp).collect())
    }

    /// Deletes one certificate by SHA-256 fingerprint (or a unique prefix of at least 8 digits).
    pub fn delete_certificate(&mut self, fingerprint: &str, now: i64) -> Result<String> {
        let wanted = fingerprint.to_ascii_lowercase().replace(':', "");
        if wanted.len() < 8 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::NotFound { what: "certificate".into(), key: fingerprint.into() });
        }
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| db_error(&path, e))?;
        let matches: Vec<(i64, String)> = {
            let mut stmt = tx.prepare("SELECT id, fingerprint FROM certificates WHERE fingerprint LIKE ?1 || '%'").map_err(|e| db_error(&path, e))?;
            let rows = stmt.query_map([&wanted], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| db_error(&path, e))?;
            rows.collect::<rusqlite::Result<_>>().map_err(|e| db_error(&path, e))?
        };
        let (id, fp) = match matches.as_slice() {
            [] => return Err(Error::NotFound { what: "certificate".into(), key: fingerprint.into() }),
            [one] => one.clone(),
            _ => return Err(Error::Ambiguous { what: "certificate".into(), key: fingerprint.into() }),
        };
        let addresses: Vec<String> = {
            let mut stmt = tx.prepare("SELECT address FROM addresses WHERE certificate_id = ?1").map_err(|e| db_error(&path, e))?;
            let rows = stmt.query_map([id], |r| r.get(0)).map_err(|e| db_error(&path, e))?;
            rows.collect::<rusqlite::Result<_>>().map_err(|e| db_error(&path, e))?
        };
        tx.execute("DELETE FROM certificates WHERE id = ?1", [id]).map_err(|e| db_error(&path, e))?;
        for address in addresses {
            add_history(&tx, &address, now, "certificate_deleted", Some(&fp), None, None).map_err(|e| db_error(&path, e))?;
        }
        tx.commit().map_err(|e| db_error(&path, e))?;
        Ok(fp)
    }

    pub fn stats(&self, now: i64) -> Result<Stats> {
        let q = |sql: &str| -> Result<usize> {
            self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(|e| self.err(e))
        };
        let soon = now + 30 * 86400;
        Ok(Stats {
            contacts: q("SELECT count(DISTINCT address) FROM addresses")?,
            certificates: q("SELECT count(*) FROM certificates WHERE is_ca = 0")?,
            intermediates: q("SELECT count(*) FROM certificates WHERE is_ca = 1")?,
            untrusted: q("SELECT count(*) FROM certificates WHERE is_ca = 0 AND trusted = 0")?,
            expired: self
                .conn
                .query_row("SELECT count(*) FROM certificates WHERE is_ca = 0 AND not_after < ?1", [now], |r| r.get::<_, i64>(0))
                .map_err(|e| self.err(e))? as usize,
            expiring_within_30_days: self
                .conn
                .query_row("SELECT count(*) FROM certificates WHERE is_ca = 0 AND not_after BETWEEN ?1 AND ?2", [now, soon], |r| r.get::<_, i64>(0))
                .map_err(|e| self.err(e))? as usize,
            database_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
        })
    }

    /// Runs SQLite's own consistency check.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// A counter that changes whenever another connection commits (for caches in long-lived
    /// readers such as the PKCS#11 module).
    pub fn data_version(&self) -> Result<i64> {
        self.conn.query_row("PRAGMA data_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// Changes whenever the content may have changed, through this connection or another
    /// process's: the key for caches of what was read.
    pub fn generation(&self) -> Result<(i64, u64)> {
        Ok((self.data_version()?, self.conn.total_changes()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Address,
    LastSeen,
    Expiry,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub search: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub sort: Sort,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactRow {
    pub address: String,
    pub name: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub certificates: usize,
    pub latest_expiry: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<ContactRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub contacts: usize,
    pub certificates: usize,
    pub intermediates: usize,
    pub untrusted: usize,
    pub expired: usize,
    pub expiring_within_30_days: usize,
    pub database_bytes: u64,
}

/// A row of (der, source, trusted, revoked, can_encrypt, capabilities, first_seen, last_seen).
fn row_to_stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<StoredCert>> {
    let der: Vec<u8> = r.get(0)?;
    let Ok(cert) = Cert::from_der(&der) else { return Ok(None) };
    let source: String = r.get(1)?;
    let caps: Option<String> = r.get(5)?;
    Ok(Some(StoredCert {
        cert,
        source: Source::parse(&source),
        trusted: r.get(2)?,
        revoked: r.get(3)?,
        can_encrypt: r.get(4)?,
        capabilities: caps.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
        first_seen: r.get(6)?,
        last_seen: r.get(7)?,
    }))
}

/// Inserts a certificate or refreshes what is known about it. Returns (id, newly inserted).
#[allow(clippy::too_many_arguments)]
fn upsert_certificate(
    tx: &rusqlite::Transaction<'_>,
    cert: &Cert,
    addresses: &[String],
    source: Source,
    trusted: bool,
    revoked: bool,
    capabilities: Option<&str>,
    key_preference: Option<&str>,
    times: Option<(Option<i64>, Option<i64>)>,
    now: i64,
) -> rusqlite::Result<(i64, bool)> {
    let fp = cert.fingerprint_sha256();
    let existing: Option<i64> = tx.query_row("SELECT id FROM certificates WHERE fingerprint = ?1", [&fp], |r| r.get(0)).optional()?;
    let (signing_time, message_date) = times.unwrap_or((None, None));
    let id = match existing {
        Some(id) => {
            // A later verification may know better: trust and revocation follow the latest;
            // capabilities follow the latest signature that carried them.
            tx.execute(
                "UPDATE certificates SET last_seen = max(last_seen, ?2),
                        trusted = CASE WHEN ?3 THEN ?4 ELSE trusted END,
                        revoked = max(revoked, ?5),
                        capabilities = coalesce(?6, capabilities),
                        key_preference = coalesce(?7, key_preference),
                        signing_time = coalesce(?8, signing_time),
                        message_date = coalesce(?9, message_date)
                 WHERE id = ?1",
                params![id, now, times.is_some(), trusted, revoked, capabilities, key_preference, signing_time, message_date],
            )?;
            id
        }
        None => {
            let f = &cert.fields;
            tx.execute(
                "INSERT INTO certificates (fingerprint, der, subject, issuer, serial, subject_key_id, key_sha256, not_before, not_after,
                     is_ca, can_encrypt, trusted, revoked, source, capabilities, key_preference, signing_time, message_date, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19)",
                params![
                    fp,
                    cert.der,
                    f.subject.to_rfc4514(),
                    f.issuer.to_rfc4514(),
                    crate::asn1::integer_hex(&f.serial),
                    f.subject_key_id.as_ref().map(|k| hex(k)),
                    key_fingerprint(cert),
                    f.not_before,
                    f.not_after,
                    f.is_ca,
                    can_encrypt(cert),
                    trusted,
                    revoked,
                    source.as_str(),
                    capabilities,
                    key_preference,
                    signing_time,
                    message_date,
                    now,
                ],
            )?;
            tx.last_insert_rowid()
        }
    };
    for address in addresses {
        tx.execute("INSERT OR IGNORE INTO addresses (address, certificate_id) VALUES (?1, ?2)", params![address, id])?;
    }
    Ok((id, existing.is_none()))
}

/// `ContactCache::harvest_all` for one item, inside its transaction.
fn harvest_one(tx: &rusqlite::Transaction<'_>, item: &HarvestItem, source: Source, now: i64) -> rusqlite::Result<Vec<Continuity>> {
    let mut changes = Vec::new();
    // Roots come from trust stores, not from mail: only intermediates are kept for chains.
    for ca in item.chain.iter().filter(|c| !c.is_self_signed()) {
        upsert_certificate(tx, ca, &[], source, false, false, None, None, None, now)?;
    }
    let addresses = cert_addresses(&item.cert);
    // A signature states its capabilities (none is a statement too); other sources know none, and
    // must not wipe what a signature said.
    let capabilities = (source == Source::SignedMail || !item.capabilities.is_empty())
        .then(|| serde_json::to_string(&item.capabilities).unwrap_or_default());
    let preference = item.key_preference.as_ref().and_then(|p| serde_json::to_string(p).ok());
    let (_, is_new) = upsert_certificate(
        tx,
        &item.cert,
        &addresses,
        source,
        item.trusted,
        item.revoked,
        capabilities.as_deref(),
        preference.as_deref(),
        Some((item.signing_time, item.message_date)),
        now,
    )?;
    for address in &addresses {
        touch_contact(tx, address, item.display_name.as_deref(), now)?;
        if is_new {
            changes.extend(record_new_certificate(tx, address, &item.cert, source, now)?);
        }
    }
    Ok(changes)
}

fn touch_contact(tx: &rusqlite::Transaction<'_>, address: &str, name: Option<&str>, now: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO contacts (address, name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT(address) DO UPDATE SET last_seen = max(last_seen, ?3), name = coalesce(?2, name)",
        params![address, name, now],
    )?;
    Ok(())
}

fn add_history(
    tx: &rusqlite::Transaction<'_>,
    address: &str,
    at: i64,
    event: &str,
    fingerprint: Option<&str>,
    previous: Option<&str>,
    source: Option<&str>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO history (address, at, event, fingerprint, previous_fingerprint, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![address, at, event, fingerprint, previous, source],
    )?;
    Ok(())
}

/// Records a certificate newly seen for an address and classifies the change against the
/// certificates already known for it: a new key while the previous one is still good is a
/// `key_changed`; the same subject with the previous one near or past expiry is `renewed`.
fn record_new_certificate(tx: &rusqlite::Transaction<'_>, address: &str, cert: &Cert, source: Source, now: i64) -> rusqlite::Result<Vec<Continuity>> {
    let fp = cert.fingerprint_sha256();
    let key = key_fingerprint(cert);
    let previous: Vec<(String, String, i64, Option<String>)> = {
        let mut stmt = tx.prepare(
            "SELECT c.fingerprint, c.subject, c.not_after, c.key_sha256 FROM addresses a JOIN certificates c ON c.id = a.certificate_id
             WHERE a.address = ?1 AND c.fingerprint != ?2 ORDER BY c.not_before DESC",
        )?;
        let rows = stmt.query_map(params![address, fp], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut changes = Vec::new();
    if previous.is_empty() {
        add_history(tx, address, now, "first_certificate", Some(&fp), None, Some(source.as_str()))?;
        return Ok(changes);
    }
    add_history(tx, address, now, "new_certificate", Some(&fp), None, Some(source.as_str()))?;
    let subject = cert.fields.subject.to_rfc4514();
    // Compare with the newest other certificate that is not merely the same key re-issued.
    if let Some((prev_fp, prev_subject, prev_not_after, _)) = previous.iter().find(|(_, _, _, k)| k.as_deref() != Some(key.as_str())) {
        let near_or_past_expiry = *prev_not_after - now <= RENEWAL_WINDOW_SECS;
        let event = if near_or_past_expiry && *prev_subject == subject {
            Some("renewed")
        } else if !near_or_past_expiry && *prev_not_after > now {
            Some("key_changed")
        } else {
            None
        };
        if let Some(event) = event {
            add_history(tx, address, now, event, Some(&fp), Some(prev_fp), Some(source.as_str()))?;
            changes.push(Continuity { event, address: address.to_string(), fingerprint: fp.clone(), previous_fingerprint: prev_fp.clone() });
        }
    }
    Ok(changes)
}

/// Fills columns added by a migration from the stored certificates.
pub(crate) fn backfill(tx: &rusqlite::Transaction<'_>, version: i64) -> rusqlite::Result<()> {
    if version == 2 {
        let rows: Vec<(i64, Vec<u8>)> = {
            let mut stmt = tx.prepare("SELECT id, der FROM certificates")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, der) in rows {
            if let Ok(cert) = Cert::from_der(&der) {
                tx.execute("UPDATE certificates SET key_sha256 = ?2 WHERE id = ?1", params![id, key_fingerprint(&cert)])?;
            }
        }
    }
    Ok(())
}

/// Parses export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Pem,
    Der,
    P7c,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text.to_ascii_lowercase().as_str() {
            "pem" => Some(ExportFormat::Pem),
            "der" | "cer" | "crt" => Some(ExportFormat::Der),
            "p7c" | "p7b" | "pkcs7" => Some(ExportFormat::P7c),
            _ => None,
        }
    }
}

/// Encodes certificates for export: PEM (all), DER (the first only: DER holds one), PKCS#7.
pub fn export(certs: &[Cert], format: ExportFormat) -> Result<Vec<u8>> {
    let internal = |e: openssl::error::ErrorStack| Error::Internal { reason: e.to_string() };
    match format {
        ExportFormat::Pem => {
            let mut out = Vec::new();
            for c in certs {
                out.extend(c.x509.to_pem().map_err(internal)?);
            }
            Ok(out)
        }
        ExportFormat::Der => Ok(certs.first().map(|c| c.der.clone()).unwrap_or_default()),
        ExportFormat::P7c => Ok(certs_only_p7(certs)),
    }
}

/// A degenerate SignedData holding only certificates (RFC 5652 5.1; what `.p7c` files are).
pub fn certs_only_p7(certs: &[Cert]) -> Vec<u8> {
    use crate::asn1::{der_tlv, oid_from_string};
    let oid = |dotted: &str| der_tlv(0x06, &oid_from_string(dotted).unwrap_or_default());
    let all: Vec<u8> = certs.iter().flat_map(|c| c.der.iter().copied()).collect();
    let signed_data = der_tlv(
        0x30,
        &[der_tlv(0x02, &[1]), der_tlv(0x31, &[]), der_tlv(0x30, &oid(oid::DATA)), der_tlv(0xa0, &all), der_tlv(0x31, &[])].concat(),
    );
    der_tlv(0x30, &[oid(oid::SIGNED_DATA), der_tlv(0xa0, &signed_data)].concat())
}

/// The e-mail addresses the cache knows for a recipient identifier.
pub fn email_for(cache: &ContactCache, id: &CertId) -> Option<String> {
    cache.find(id).ok().flatten().and_then(|c| c.emails().into_iter().next())
}
