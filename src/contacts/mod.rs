//! The per-contact certificate cache: every certificate a contact's verified signature carried
//! (or that was imported), keyed by each e-mail address it holds, with its history and, per
//! address, its standing for encryption. An embedded SQLite database (WAL) that the host, the
//! CLI and the PKCS#11 module use at the same time, and that survives a kill at any instant.
//!
//! What the cache stores about trust is never more than the verdict said (docs/CONTACTS.md):
//! a harvested certificate is `trusted` only when its signature's verdict had no
//! certificate-level problem; continuity (`key_changed`, `renewed`) is judged against trusted
//! certificates only; and a new key never silently replaces a contact's working certificate:
//! it waits as `pending` until the user confirms it.
//!
//! Here: the cache's vocabulary (sources, standings, what is stored and reported). `store`: the
//! SQLite store and its queries (`schema`: its tables and migrations). `policy`: what a newly
//! seen certificate means for an address (accepted or pending, renewal, key change). `select`:
//! which certificate encryption uses for an address, or why none. `service`: the operations the native
//! ops and the CLI both call. `export`: certificates as PEM, DER or `.p7c` files.

pub mod export;
pub mod policy;
pub mod schema;
pub mod select;
pub mod service;
pub mod store;
#[cfg(test)]
mod testing;

pub use export::{certs_only_p7, export, ExportFormat};
pub use policy::RENEWAL_WINDOW_SECS;
pub use store::{
    db_path, email_for, ContactCache, ContactRow, ListPage, ListQuery, Sort, Stats, DEFAULT_PAGE, EXPIRING_SOON_DAYS, MAX_CHAIN_CAS, MAX_NOTE_CHARS,
    MAX_PAGE, MAX_UNANCHORED_CAS,
};

use crate::certs::address::address_keys;
use crate::certs::summary::{Cert, CertSummary};
use crate::error::{Error, Result};
use crate::mime::address::normalize;
use crate::hex::encode as hex;
use crate::smime::cms_der::CertId;
use crate::time::to_rfc3339;
use serde::Serialize;

/// Where a certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    SignedMail,
    Import,
    Directory,
}

impl Source {
    pub fn as_str(self) -> &'static str {
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

/// A certificate's standing for one address: whether encryption may choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertStatus {
    /// Taken automatically: the address's first certificate, a renewal, the same key, or no
    /// working certificate to keep.
    Accepted,
    /// A new key while the address has a working certificate: not used until confirmed.
    Pending,
    /// Confirmed by the user (`contacts_confirm_certificate`).
    Confirmed,
    /// Refused by the user (`contacts_refuse_certificate`): never chosen.
    Refused,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CertStatus::Accepted => "accepted",
            CertStatus::Pending => "pending",
            CertStatus::Confirmed => "confirmed",
            CertStatus::Refused => "refused",
        }
    }

    fn parse(s: &str) -> CertStatus {
        match s {
            "pending" => CertStatus::Pending,
            "confirmed" => CertStatus::Confirmed,
            "refused" => CertStatus::Refused,
            _ => CertStatus::Accepted,
        }
    }
}

/// What a verified signature contributes to the cache.
#[derive(Debug, Clone)]
pub struct HarvestItem {
    pub cert: Cert,
    /// The chain as OpenSSL built it (CA certificates, nearest first).
    pub chain: Vec<Cert>,
    /// The chain reached a trust anchor: only then are its CA certificates kept as intermediates
    /// (otherwise they go to the small evicting set of `MAX_UNANCHORED_CAS`).
    pub anchored: bool,
    /// The verdict had no certificate-level problem (untrusted, revoked, expired, not yet valid,
    /// wrong usage, weak algorithm).
    pub trusted: bool,
    pub revoked: bool,
    pub capabilities: Vec<String>,
    pub key_preference: Option<CertId>,
    pub signing_time: Option<i64>,
    pub message_date: Option<i64>,
    /// (address key, From display name): set only when the signature passed the From rule with a
    /// trusted certificate; names that one contact.
    pub named: Option<(String, String)>,
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

/// A new certificate held back for an address because it already has a working one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingCertificate {
    pub address: String,
    pub fingerprint: String,
    /// The certificate encryption keeps using meanwhile.
    pub working_fingerprint: String,
}

/// What a harvest did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HarvestOutcome {
    /// The signer's certificate was stored (it holds at least one address that counts).
    pub stored: bool,
    pub continuity: Vec<Continuity>,
    pub pending: Vec<PendingCertificate>,
}

/// A certificate as the cache holds it for one address.
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
    /// Its standing for the address it was looked up by.
    pub status: CertStatus,
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
    pub status: CertStatus,
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
            status: self.status,
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
    /// For events about a newly seen certificate: whether it was trusted then (continuity is
    /// judged against trusted certificates only).
    pub trusted: Option<bool>,
    /// The user's note on a confirmation or refusal.
    pub note: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportOutcome {
    pub imported: usize,
    pub already_known: usize,
    pub intermediates: usize,
    /// Certificates that hold no e-mail address that counts (and are not CAs): not stored.
    pub without_address: Vec<String>,
    pub addresses: Vec<String>,
    pub continuity: Vec<Continuity>,
    pub pending: Vec<PendingCertificate>,
}

/// The user's decision on a certificate for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Refuse,
}

/// What a confirmation or refusal did.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionOutcome {
    pub address: String,
    pub fingerprint: String,
    pub status: CertStatus,
}

/// The SHA-256 of a certificate's public key (SubjectPublicKeyInfo DER).
pub fn key_fingerprint(cert: &Cert) -> String {
    cert.x509.public_key().and_then(|k| k.public_key_to_der()).map(|der| hex(&openssl::sha::sha256(&der))).unwrap_or_default()
}

/// Whether a certificate may be used to encrypt to its holder (its own usage, read by OpenSSL:
/// `certs::policy::encryption_usage`; whether its chain allows it now is `select::TrustJudge`'s).
pub fn can_encrypt(cert: &Cert) -> bool {
    crate::certs::policy::encryption_usage(cert).is_ok()
}

/// The addresses a certificate is cached under: its addresses that count (`Cert::emails`), in
/// their comparison form (`certs::address::cert_address_key`).
pub fn cert_addresses(cert: &Cert) -> Vec<String> {
    address_keys(&cert.emails())
}

/// Validates and normalises an address given by a user or the add-on.
pub fn parse_address(text: &str) -> Result<String> {
    normalize(text).ok_or_else(|| Error::InvalidAddress { address: crate::logging::sanitize(text, 200) })
}
