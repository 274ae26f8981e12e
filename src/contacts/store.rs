//! The cache's SQLite store: opening it (WAL, migrations in `schema`), storing what a harvest or
//! an import brings, the user's decisions, the queries (an address's certificates in the order
//! encryption considers them, the list of contacts, the history, the statistics), deleting, and
//! migrating older databases. Several processes use it at once; every change is one immediate
//! transaction.

use super::policy::{self, Standing};
use super::select::{Judge, Unjudged};
use super::{
    can_encrypt, cert_addresses, key_fingerprint, schema, CertStatus, Continuity, Decision, DecisionOutcome, HarvestItem, HarvestOutcome,
    HistoryEntry, ImportOutcome, PendingCertificate, Source, StoredCert,
};
use crate::certs::summary::Cert;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::hex::encode as hex;
use crate::smime::cms_der::CertId;
use crate::store::db_error;
use crate::time::to_rfc3339;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// At most this many CA certificates of one chain are kept (the nearest to the signer).
pub const MAX_CHAIN_CAS: usize = 8;

/// CA certificates from chains that reach no trust anchor: at most this many are kept (the most
/// recently seen); they help only once the user trusts their root.
pub const MAX_UNANCHORED_CAS: usize = 32;

/// The longest note a confirmation or refusal keeps, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// Certificates expiring within this many days count as expiring soon (`Stats`).
pub const EXPIRING_SOON_DAYS: i64 = 30;

pub struct ContactCache {
    conn: Connection,
    path: PathBuf,
}

/// The database file inside the data folder.
pub fn db_path(home: &Home) -> PathBuf {
    home.data_dir().join("contacts.sqlite")
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

    /// Stores a verified signer's certificate and chain; returns what changed for its
    /// addresses. The chain's CA certificates are kept only when it reached a trust anchor (a
    /// few in a small evicting set otherwise). A certificate with no address that counts is not
    /// stored.
    pub fn harvest(&mut self, item: &HarvestItem, judge: &dyn Judge) -> Result<HarvestOutcome> {
        self.harvest_all(std::slice::from_ref(item), Source::SignedMail, judge)
    }

    /// Stores certificates found for contacts the way a verified signer's certificate is stored
    /// (`harvest`), each marked with `source`, all in one transaction: the directory lookup
    /// (`crate::directory`) stores what it found with `Source::Directory`.
    pub fn harvest_all(&mut self, items: &[HarvestItem], source: Source, judge: &dyn Judge) -> Result<HarvestOutcome> {
        let path = self.path.clone();
        let err = |e| db_error(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let mut outcome = HarvestOutcome::default();
        for item in items {
            harvest_one(&tx, item, source, judge, &mut outcome).map_err(err)?;
        }
        prune_unanchored(&tx, judge).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(outcome)
    }

    /// Imports certificates (from a file or an attachment) judged by nobody: nothing is trusted
    /// (tests and benchmarks; the ops judge with `import_judged`).
    pub fn import(&mut self, certs: &[Cert], source: Source, now: i64) -> Result<ImportOutcome> {
        self.import_judged(certs, source, &Unjudged { now })
    }

    /// Imports certificates (from a file or an attachment). Each is judged now: an end-entity
    /// certificate is stored as trusted when its chain verifies (the bundle's CA certificates
    /// helping), a CA certificate is kept as an intermediate when it reaches a trust anchor (in
    /// the small evicting set otherwise). End-entity certificates without an address that counts
    /// are reported, not stored.
    pub fn import_judged(&mut self, certs: &[Cert], source: Source, judge: &dyn Judge) -> Result<ImportOutcome> {
        let path = self.path.clone();
        let now = judge.now();
        let err = |e| db_error(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let bundle_cas: Vec<openssl::x509::X509> = certs.iter().filter(|c| c.fields.is_ca).map(|c| c.x509.clone()).collect();
        let mut out = ImportOutcome::default();
        for cert in certs {
            if cert.fields.is_ca {
                let anchored = judge.verify(cert, &bundle_cas).anchor.is_some();
                if upsert_ca(&tx, cert, source, anchored, now).map_err(err)? {
                    out.intermediates += 1;
                } else {
                    out.already_known += 1;
                }
                continue;
            }
            let addresses = cert_addresses(cert);
            if addresses.is_empty() {
                out.without_address.push(cert.fingerprint_sha256());
                continue;
            }
            let trusted = judge.verify(cert, &bundle_cas).errors.is_empty();
            let seen = Seen { source, trusted, revoked: false, capabilities: None, key_preference: None, times: None };
            let (id, new) = upsert_certificate(&tx, cert, &seen, now).map_err(err)?;
            for address in &addresses {
                touch_contact(&tx, address, None, now).map_err(err)?;
                admit(&tx, address, id, cert, trusted, source, judge, &bundle_cas, &mut out.continuity, &mut out.pending).map_err(err)?;
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
        prune_unanchored(&tx, judge).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(out)
    }

    /// Records the user's decision on a certificate for an address: `Confirm` makes it usable
    /// for encryption (and, being the most recently accepted, the one used when it is usable),
    /// `Refuse` means it is never chosen. The fingerprint may be a unique prefix (at least 8 hex
    /// digits) among the address's certificates. The history keeps the decision and the note.
    pub fn decide(&mut self, address: &str, fingerprint: &str, decision: Decision, note: Option<&str>, now: i64) -> Result<DecisionOutcome> {
        let wanted = fingerprint.to_ascii_lowercase().replace(':', "");
        let not_found = || Error::NotFound { what: "certificate".into(), key: format!("{address} {fingerprint}") };
        if wanted.len() < 8 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let note = note.map(|n| crate::logging::sanitize(n.trim(), MAX_NOTE_CHARS)).filter(|n| !n.is_empty());
        let path = self.path.clone();
        let err = |e| db_error(&path, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let matches: Vec<(i64, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT c.id, c.fingerprint FROM addresses a JOIN certificates c ON c.id = a.certificate_id
                     WHERE a.address = ?1 AND substr(c.fingerprint, 1, length(?2)) = ?2",
                )
                .map_err(err)?;
            let rows = stmt.query_map(params![address, wanted], |r| Ok((r.get(0)?, r.get(1)?))).map_err(err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(err)?
        };
        let (id, fp) = match matches.as_slice() {
            [] => return Err(not_found()),
            [one] => one.clone(),
            _ => return Err(Error::Ambiguous { what: "certificate".into(), key: fingerprint.into() }),
        };
        let (status, event) = match decision {
            Decision::Confirm => (CertStatus::Confirmed, "certificate_confirmed"),
            Decision::Refuse => (CertStatus::Refused, "certificate_refused"),
        };
        tx.execute(
            &format!("UPDATE addresses SET status = ?3, accepted_at = CASE WHEN ?3 = 'confirmed' THEN {NEXT_ACCEPTED} ELSE accepted_at END
                      WHERE address = ?1 AND certificate_id = ?2"),
            params![address, id, status.as_str(), now],
        )
        .map_err(err)?;
        add_history(&tx, address, now, event, Some(&fp), None, None, None, note.as_deref()).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(DecisionOutcome { address: address.to_string(), fingerprint: fp, status })
    }

    /// All certificates held for an address, in the order encryption considers them: the most
    /// recently accepted (or confirmed) first, then the newest (latest notBefore); certificates
    /// pending or refused for the address come after those.
    pub fn certificates_for(&self, address: &str) -> Result<Vec<StoredCert>> {
        let mut stmt = self.conn.prepare_cached(CERTIFICATES_FOR).map_err(|e| self.err(e))?;
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

    /// The CA certificates for chain building, as stored (unparsed): those that reached a trust
    /// anchor, and at most `MAX_UNANCHORED_CAS` others (the most recently seen), whatever an
    /// older database holds.
    pub fn intermediate_ders(&self) -> Result<Vec<Vec<u8>>> {
        self.ders(&format!(
            "SELECT der FROM certificates WHERE is_ca = 1 AND trusted = 1
             UNION ALL
             SELECT der FROM (SELECT der FROM certificates WHERE is_ca = 1 AND trusted = 0 ORDER BY last_seen DESC, id DESC LIMIT {MAX_UNANCHORED_CAS})"
        ))
    }

    /// The end-entity certificates usable for encryption (not revoked, and accepted or
    /// confirmed for at least one of their addresses: never one only pending or refused), as
    /// stored. For readers that need only a few fields of many certificates (the PKCS#11
    /// module): OpenSSL 3 takes about 0.1 ms to parse each one.
    pub fn encryption_certificate_ders(&self) -> Result<Vec<Vec<u8>>> {
        self.ders(
            "SELECT der FROM certificates c WHERE is_ca = 0 AND can_encrypt = 1 AND revoked = 0
               AND EXISTS (SELECT 1 FROM addresses a WHERE a.certificate_id = c.id AND a.status IN ('accepted', 'confirmed'))",
        )
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
                              WHERE h.address = p.address AND h.event IN ('key_changed', 'renewed') GROUP BY h.event) AS w) AS warnings,
                    (SELECT count(*) FROM addresses a WHERE a.address = p.address AND a.status = 'pending') AS pending
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
                    pending: r.get::<_, i64>(7)? as usize,
                })
            })
            .map_err(|e| self.err(e))?;
        let items: Vec<ContactRow> = rows.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))?;
        Ok(ListPage { total: total as usize, offset: query.offset, items })
    }

    pub fn history(&self, address: &str) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT at, event, fingerprint, previous_fingerprint, source, trusted, note FROM history WHERE address = ?1 ORDER BY at, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([address], |r| {
                Ok(HistoryEntry {
                    at: to_rfc3339(r.get(0)?),
                    event: r.get(1)?,
                    fingerprint: r.get(2)?,
                    previous_fingerprint: r.get(3)?,
                    source: r.get(4)?,
                    trusted: r.get(5)?,
                    note: r.get(6)?,
                })
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
                add_history(&tx, &other, now, "certificate_deleted", Some(fp), None, None, None, None).map_err(|e| db_error(&path, e))?;
            }
        }
        add_history(&tx, address, now, "contact_deleted", None, None, None, None, None).map_err(|e| db_error(&path, e))?;
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
            add_history(&tx, &address, now, "certificate_deleted", Some(&fp), None, None, None, None).map_err(|e| db_error(&path, e))?;
        }
        tx.commit().map_err(|e| db_error(&path, e))?;
        Ok(fp)
    }

    pub fn stats(&self, now: i64) -> Result<Stats> {
        let q = |sql: &str| -> Result<usize> {
            self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(|e| self.err(e))
        };
        let soon = now + EXPIRING_SOON_DAYS * 86400;
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

/// Contacts on one page unless the caller asks for another number (`contacts_list`'s `limit`).
pub const DEFAULT_PAGE: usize = 50;

/// Most contacts one page holds: a larger `limit` is cut to this.
pub const MAX_PAGE: usize = 500;

/// The order of a page of contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Address,
    LastSeen,
    Expiry,
}

impl Sort {
    /// Every order, by the name callers give (the first is the default).
    pub const ALL: [(&'static str, Sort); 3] = [("address", Sort::Address), ("last_seen", Sort::LastSeen), ("expiry", Sort::Expiry)];

    pub fn parse(name: &str) -> Option<Sort> {
        Sort::ALL.iter().find(|(n, _)| *n == name).map(|(_, sort)| *sort)
    }
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub search: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub sort: Sort,
}

impl ListQuery {
    /// A page as the add-on or a person asks for it: `limit` kept within 1..=`MAX_PAGE`, `sort`
    /// by name (address when none). Err: why `sort` is no order.
    pub fn new(search: Option<String>, offset: usize, limit: usize, sort: Option<&str>) -> std::result::Result<ListQuery, String> {
        let sort = match sort {
            None => Sort::ALL[0].1,
            Some(name) => Sort::parse(name).ok_or_else(|| {
                let names: Vec<&str> = Sort::ALL.iter().map(|(n, _)| *n).collect();
                let (last, rest) = names.split_last().expect("orders");
                format!("sort {name:?}: use {} or {last}", rest.join(", "))
            })?,
        };
        Ok(ListQuery { search, offset, limit: limit.clamp(1, MAX_PAGE), sort })
    }
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
    /// How many of the contact's certificates wait for the user's confirmation.
    pub pending: usize,
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
    /// Within `EXPIRING_SOON_DAYS`.
    pub expiring_within_30_days: usize,
    pub database_bytes: u64,
}

/// The `accepted_at` of a certificate accepted or confirmed now for address ?1 (now is ?4): the
/// time, but always after every other acceptance for the address, so the latest decision comes
/// first even within one second.
const NEXT_ACCEPTED: &str = "max(?4, coalesce((SELECT max(accepted_at) FROM addresses WHERE address = ?1), 0) + 1)";

/// An address's certificates in the order encryption considers them (see `certificates_for`).
const CERTIFICATES_FOR: &str = "SELECT c.der, c.source, c.trusted, c.revoked, c.can_encrypt, c.capabilities, c.first_seen, c.last_seen, a.status
     FROM addresses a JOIN certificates c ON c.id = a.certificate_id
     WHERE a.address = ?1
     ORDER BY a.status IN ('accepted', 'confirmed') DESC, a.accepted_at DESC, c.not_before DESC, c.id DESC";

/// A row of (der, source, trusted, revoked, can_encrypt, capabilities, first_seen, last_seen, status).
fn row_to_stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<StoredCert>> {
    let der: Vec<u8> = r.get(0)?;
    let Ok(cert) = Cert::from_der(&der) else { return Ok(None) };
    let source: String = r.get(1)?;
    let caps: Option<String> = r.get(5)?;
    let status: String = r.get(8)?;
    Ok(Some(StoredCert {
        cert,
        source: Source::parse(&source),
        trusted: r.get(2)?,
        revoked: r.get(3)?,
        can_encrypt: r.get(4)?,
        capabilities: caps.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
        first_seen: r.get(6)?,
        last_seen: r.get(7)?,
        status: CertStatus::parse(&status),
    }))
}

/// What one sighting of an end-entity certificate says about it.
struct Seen<'a> {
    source: Source,
    /// The verdict (or the import's judgement) found no certificate-level problem.
    trusted: bool,
    revoked: bool,
    capabilities: Option<&'a str>,
    key_preference: Option<&'a str>,
    times: Option<(Option<i64>, Option<i64>)>,
}

/// Inserts a certificate or refreshes what is known about it. Returns (id, newly inserted).
/// Trust follows the latest judgement (never more than it said); revocation is kept once seen;
/// capabilities follow the latest signature that carried them.
fn upsert_certificate(tx: &rusqlite::Transaction<'_>, cert: &Cert, seen: &Seen<'_>, now: i64) -> rusqlite::Result<(i64, bool)> {
    let fp = cert.fingerprint_sha256();
    let existing: Option<i64> = tx.query_row("SELECT id FROM certificates WHERE fingerprint = ?1", [&fp], |r| r.get(0)).optional()?;
    let (signing_time, message_date) = seen.times.unwrap_or((None, None));
    match existing {
        Some(id) => {
            tx.execute(
                "UPDATE certificates SET last_seen = max(last_seen, ?2), trusted = ?3, revoked = max(revoked, ?4),
                        capabilities = coalesce(?5, capabilities), key_preference = coalesce(?6, key_preference),
                        signing_time = coalesce(?7, signing_time), message_date = coalesce(?8, message_date)
                 WHERE id = ?1",
                params![id, now, seen.trusted, seen.revoked, seen.capabilities, seen.key_preference, signing_time, message_date],
            )?;
            Ok((id, false))
        }
        None => Ok((insert_certificate(tx, cert, seen, now)?, true)),
    }
}

/// Keeps a CA certificate for chain building: `anchored` when its chain reached a trust anchor
/// (kept for good, and never demoted), else in the evicting set. Returns whether it was new.
fn upsert_ca(tx: &rusqlite::Transaction<'_>, cert: &Cert, source: Source, anchored: bool, now: i64) -> rusqlite::Result<bool> {
    let fp = cert.fingerprint_sha256();
    let updated = tx.execute(
        "UPDATE certificates SET last_seen = max(last_seen, ?2), trusted = max(trusted, ?3) WHERE fingerprint = ?1",
        params![fp, now, anchored],
    )?;
    if updated > 0 {
        return Ok(false);
    }
    let seen = Seen { source, trusted: anchored, revoked: false, capabilities: None, key_preference: None, times: None };
    insert_certificate(tx, cert, &seen, now)?;
    Ok(true)
}

fn insert_certificate(tx: &rusqlite::Transaction<'_>, cert: &Cert, seen: &Seen<'_>, now: i64) -> rusqlite::Result<i64> {
    let f = &cert.fields;
    let (signing_time, message_date) = seen.times.unwrap_or((None, None));
    tx.execute(
        "INSERT INTO certificates (fingerprint, der, subject, issuer, serial, subject_key_id, key_sha256, not_before, not_after,
             is_ca, can_encrypt, trusted, revoked, source, capabilities, key_preference, signing_time, message_date, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19)",
        params![
            cert.fingerprint_sha256(),
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
            seen.trusted,
            seen.revoked,
            seen.source.as_str(),
            seen.capabilities,
            seen.key_preference,
            signing_time,
            message_date,
            now,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Drops CA certificates that reached no trust anchor beyond the `MAX_UNANCHORED_CAS` most
/// recently seen. Those about to go are judged again first: one that reaches an anchor now (the
/// user trusted its root since) is kept for good.
fn prune_unanchored(tx: &rusqlite::Transaction<'_>, judge: &dyn Judge) -> rusqlite::Result<()> {
    let over: Vec<(i64, Vec<u8>)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT id, der FROM certificates WHERE is_ca = 1 AND trusted = 0 ORDER BY last_seen DESC, id DESC LIMIT -1 OFFSET {MAX_UNANCHORED_CAS}"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, der) in over {
        let anchored = Cert::from_der(&der).is_ok_and(|c| judge.verify(&c, &[]).anchor.is_some());
        if anchored {
            tx.execute("UPDATE certificates SET trusted = 1 WHERE id = ?1", [id])?;
        } else {
            tx.execute("DELETE FROM certificates WHERE id = ?1", [id])?;
        }
    }
    Ok(())
}

/// `ContactCache::harvest_all` for one item, inside its transaction.
fn harvest_one(tx: &rusqlite::Transaction<'_>, item: &HarvestItem, source: Source, judge: &dyn Judge, outcome: &mut HarvestOutcome) -> rusqlite::Result<()> {
    let now = judge.now();
    // Roots come from trust stores, not from mail: only intermediates are kept for chains.
    for ca in item.chain.iter().filter(|c| c.fields.is_ca && !c.is_self_signed()).take(MAX_CHAIN_CAS) {
        upsert_ca(tx, ca, source, item.anchored, now)?;
    }
    let addresses = cert_addresses(&item.cert);
    if addresses.is_empty() {
        return Ok(());
    }
    // A signature states its capabilities (none is a statement too); other sources know none, and
    // must not wipe what a signature said.
    let capabilities = (source == Source::SignedMail || !item.capabilities.is_empty())
        .then(|| serde_json::to_string(&item.capabilities).unwrap_or_default());
    let preference = item.key_preference.as_ref().and_then(|p| serde_json::to_string(p).ok());
    let seen = Seen {
        source,
        trusted: item.trusted,
        revoked: item.revoked,
        capabilities: capabilities.as_deref(),
        key_preference: preference.as_deref(),
        times: Some((item.signing_time, item.message_date)),
    };
    let (id, _) = upsert_certificate(tx, &item.cert, &seen, now)?;
    let chain: Vec<openssl::x509::X509> = item.chain.iter().map(|c| c.x509.clone()).collect();
    for address in &addresses {
        let name = item.named.as_ref().filter(|(named, _)| named == address).map(|(_, name)| name.as_str());
        touch_contact(tx, address, name, now)?;
        admit(tx, address, id, &item.cert, item.trusted, source, judge, &chain, &mut outcome.continuity, &mut outcome.pending)?;
    }
    outcome.stored = true;
    Ok(())
}

fn touch_contact(tx: &rusqlite::Transaction<'_>, address: &str, name: Option<&str>, now: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO contacts (address, name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT(address) DO UPDATE SET last_seen = max(last_seen, ?3), name = coalesce(?2, name)",
        params![address, name, now],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn add_history(
    tx: &rusqlite::Transaction<'_>,
    address: &str,
    at: i64,
    event: &str,
    fingerprint: Option<&str>,
    previous: Option<&str>,
    source: Option<&str>,
    trusted: Option<bool>,
    note: Option<&str>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO history (address, at, event, fingerprint, previous_fingerprint, source, trusted, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![address, at, event, fingerprint, previous, source, trusted, note],
    )?;
    Ok(())
}

/// The first time a certificate is seen for an address: records its standing (`policy::standing`),
/// the history, and the continuity event it makes (`policy::continuity`).
#[allow(clippy::too_many_arguments)]
fn admit(
    tx: &rusqlite::Transaction<'_>,
    address: &str,
    id: i64,
    cert: &Cert,
    trusted: bool,
    source: Source,
    judge: &dyn Judge,
    extra: &[openssl::x509::X509],
    continuity: &mut Vec<Continuity>,
    pending: &mut Vec<PendingCertificate>,
) -> rusqlite::Result<()> {
    let known: bool = tx.query_row("SELECT 1 FROM addresses WHERE address = ?1 AND certificate_id = ?2", params![address, id], |_| Ok(())).optional()?.is_some();
    if known {
        return Ok(());
    }
    let now = judge.now();
    let fp = cert.fingerprint_sha256();
    let others: Vec<StoredCert> = {
        let mut stmt = tx.prepare_cached(CERTIFICATES_FOR)?;
        let rows = stmt.query_map([address], row_to_stored)?;
        rows.filter_map(|r| r.transpose()).collect::<rusqlite::Result<_>>()?
    };
    let standing = policy::standing(cert, &others, judge, extra);
    tx.execute(
        &format!("INSERT INTO addresses (address, certificate_id, status, accepted_at) VALUES (?1, ?2, ?3, {NEXT_ACCEPTED})"),
        params![address, id, standing.status().as_str(), now],
    )?;
    let event = if others.is_empty() { "first_certificate" } else { "new_certificate" };
    add_history(tx, address, now, event, Some(&fp), None, Some(source.as_str()), Some(trusted), None)?;
    if let Some((change, previous)) = policy::continuity(cert, trusted, &others, now) {
        let (event, prev_fp) = (change.event(), previous.cert.fingerprint_sha256());
        add_history(tx, address, now, event, Some(&fp), Some(&prev_fp), Some(source.as_str()), Some(trusted), None)?;
        continuity.push(Continuity { event, address: address.to_string(), fingerprint: fp.clone(), previous_fingerprint: prev_fp });
    }
    if let Standing::Pending { working } = standing {
        let working_fp = working.cert.fingerprint_sha256();
        add_history(tx, address, now, "certificate_pending", Some(&fp), Some(&working_fp), Some(source.as_str()), Some(trusted), None)?;
        pending.push(PendingCertificate { address: address.to_string(), fingerprint: fp, working_fingerprint: working_fp });
    }
    Ok(())
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
    if version == 3 {
        rekey_addresses(tx)?;
    }
    Ok(())
}

/// Version 3 keys addresses exactly (`certs::address`): every address row is computed again
/// from the stored certificate, so an address that no longer counts (non-ASCII, a subject
/// emailAddress beside a subjectAltName, ...) is dropped from lookups, and one whose local part
/// has upper-case letters is keyed as written. Contacts and their history move to the new key
/// where it is unambiguous (the old key was the new one in lower case); a contact whose
/// addresses all went stays in the history only.
fn rekey_addresses(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let certs: Vec<(i64, Vec<u8>)> = {
        let mut stmt = tx.prepare("SELECT id, der FROM certificates WHERE is_ca = 0")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    tx.execute("DELETE FROM addresses", [])?;
    // Old key (lower-cased) -> the new keys it stood for.
    let mut renamed: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (id, der) in certs {
        let Ok(cert) = Cert::from_der(&der) else { continue };
        for address in cert_addresses(&cert) {
            // Accepted at 0: among themselves they keep the order they had (newest notBefore
            // first); anything accepted from now on comes before them.
            tx.execute(
                "INSERT OR IGNORE INTO addresses (address, certificate_id, status, accepted_at) VALUES (?1, ?2, 'accepted', 0)",
                params![address, id],
            )?;
            renamed.entry(address.to_ascii_lowercase()).or_default().insert(address);
        }
    }
    for (old, new) in renamed {
        if new.contains(&old) {
            for address in new.iter().filter(|a| **a != old) {
                copy_contact(tx, &old, address)?;
            }
        } else if new.len() == 1 {
            let address = new.first().expect("one");
            copy_contact(tx, &old, address)?;
            tx.execute("DELETE FROM contacts WHERE address = ?1", [&old])?;
            tx.execute("UPDATE history SET address = ?2 WHERE address = ?1", params![old, address])?;
        } else {
            for address in &new {
                copy_contact(tx, &old, address)?;
            }
        }
    }
    Ok(())
}

fn copy_contact(tx: &rusqlite::Transaction<'_>, from: &str, to: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO contacts (address, name, first_seen, last_seen) SELECT ?2, name, first_seen, last_seen FROM contacts WHERE address = ?1",
        params![from, to],
    )?;
    Ok(())
}

/// The e-mail addresses the cache knows for a recipient identifier.
pub fn email_for(cache: &ContactCache, id: &CertId) -> Option<String> {
    cache.find(id).ok().flatten().and_then(|c| c.emails().into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stats_field_names_the_window_it_counts() {
        let stats = Stats { contacts: 0, certificates: 0, intermediates: 0, untrusted: 0, expired: 0, expiring_within_30_days: 0, database_bytes: 0 };
        let v = serde_json::to_value(stats).unwrap();
        assert!(v.get(format!("expiring_within_{EXPIRING_SOON_DAYS}_days")).is_some(), "{v}");
    }
}
