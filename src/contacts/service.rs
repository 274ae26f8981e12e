//! Contact-cache operations with the same semantics for the native ops and the CLI.

use super::select::{check as check_one, reasons, verdict, Reason, RecipientCheck, TrustJudge};
use super::{export, parse_address, Decision, DecisionOutcome, ExportFormat, HistoryEntry, ImportOutcome, Source, StoredCertInfo};
use crate::certs::trust::{parse_certificates, TrustAnchors};
use crate::context::Context;
use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ContactDetails {
    pub address: String,
    pub name: Option<String>,
    /// In the order encryption considers them.
    pub certificates: Vec<ContactCertificate>,
    /// Which certificate encryption would use, or why none.
    pub encryption: RecipientCheck,
    pub history: Vec<HistoryEntry>,
}

/// One of a contact's certificates and whether encryption uses it.
#[derive(Debug, Clone, Serialize)]
pub struct ContactCertificate {
    #[serde(flatten)]
    pub info: StoredCertInfo,
    pub used_for_encryption: bool,
    /// Why it is not the one used (None for the one used): a `select::Reason` code.
    pub not_used_because: Option<Reason>,
}

/// Judges trust against `anchors` and every intermediate known (`Context::known_intermediates`).
pub(crate) fn judge<'a>(ctx: &mut Context, anchors: &'a TrustAnchors) -> Result<TrustJudge<'a>> {
    Ok(TrustJudge { anchors, intermediates: ctx.known_intermediates()?, now: crate::time::now() })
}

/// One contact with all its certificates, the encryption choice and the history.
pub fn show(ctx: &mut Context, address: &str) -> Result<ContactDetails> {
    let address = parse_address(address)?;
    let anchors = ctx.trust();
    let judge = judge(ctx, &anchors)?;
    let cache = ctx.contacts()?;
    let certificates = cache.certificates_for(&address)?;
    let history = cache.history(&address)?;
    if certificates.is_empty() && history.is_empty() {
        return Err(Error::NotFound { what: "contact".into(), key: address });
    }
    let why = reasons(&certificates, &judge);
    Ok(ContactDetails {
        name: cache.contact_name(&address)?,
        certificates: certificates
            .iter()
            .zip(why)
            .map(|(c, why)| ContactCertificate { info: c.info(), used_for_encryption: why.is_none(), not_used_because: why })
            .collect(),
        encryption: verdict(&address, &certificates, &judge),
        history,
        address,
    })
}

/// `recipients_check`: for each address, the certificate encryption would use or why none.
/// An entry that is not an address gets reason `invalid_address`; the others are still checked.
pub fn check(ctx: &mut Context, addresses: &[String]) -> Result<Vec<RecipientCheckOrInvalid>> {
    let anchors = ctx.trust();
    let judge = judge(ctx, &anchors)?;
    let cache = ctx.contacts()?;
    addresses
        .iter()
        .map(|raw| match parse_address(raw) {
            Ok(address) => check_one(cache, &address, &judge).map(RecipientCheckOrInvalid::Checked),
            Err(_) => Ok(RecipientCheckOrInvalid::Invalid {
                address: crate::logging::sanitize(raw, 200),
                can_encrypt: false,
                reason: "invalid_address",
            }),
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RecipientCheckOrInvalid {
    Checked(RecipientCheck),
    Invalid { address: String, can_encrypt: bool, reason: &'static str },
}

impl RecipientCheckOrInvalid {
    pub fn reason_code(&self) -> Option<String> {
        match self {
            RecipientCheckOrInvalid::Checked(c) => c.reason.map(reason_code),
            RecipientCheckOrInvalid::Invalid { reason, .. } => Some(reason.to_string()),
        }
    }
}

pub fn reason_code(r: Reason) -> String {
    r.code()
}

/// The checks of several addresses, without a directory lookup (`contacts check`).
#[derive(Debug, Clone, Serialize)]
pub struct RecipientChecks {
    pub recipients: Vec<RecipientCheckOrInvalid>,
}

/// What `contacts_delete` did.
#[derive(Debug, Clone, Serialize)]
pub struct ContactDeleted {
    pub address: String,
    /// The fingerprints of the certificates deleted with the contact.
    pub deleted_certificates: Vec<String>,
}

/// Deletes a contact and its certificates in one transaction (the history keeps a record).
pub fn delete(ctx: &mut Context, address: &str) -> Result<ContactDeleted> {
    let address = parse_address(address)?;
    let deleted_certificates = ctx.contacts()?.delete_contact(&address, crate::time::now())?;
    Ok(ContactDeleted { address, deleted_certificates })
}

/// What `contacts_delete_certificate` did.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateDeleted {
    /// The deleted certificate's fingerprint.
    pub deleted: String,
}

/// Deletes one certificate by SHA-256 fingerprint (or a unique prefix).
pub fn delete_certificate(ctx: &mut Context, fingerprint: &str) -> Result<CertificateDeleted> {
    Ok(CertificateDeleted { deleted: ctx.contacts()?.delete_certificate(fingerprint, crate::time::now())? })
}

/// Imports certificates from file bytes (PEM, DER, .p7c/.p7b bundles, .cer/.crt), judged
/// against the current anchors.
pub fn import_bytes(ctx: &mut Context, bytes: &[u8], source_name: &str) -> Result<ImportOutcome> {
    let certs = parse_certificates(bytes).map_err(|e| Error::BadCertificate { path: source_name.into(), reason: e.0 })?;
    let anchors = ctx.trust();
    let judge = judge(ctx, &anchors)?;
    let outcome = ctx.contacts()?.import_judged(&certs, Source::Import, &judge)?;
    if outcome.imported == 0 && outcome.already_known == 0 && outcome.intermediates == 0 {
        return Err(Error::BadCertificate {
            path: source_name.into(),
            reason: "the certificate holds no e-mail address, so it cannot belong to a contact".into(),
        });
    }
    Ok(outcome)
}

/// A contact's certificates in one file (`contacts_export`).
#[derive(Debug, Clone, Serialize)]
pub struct ContactExport {
    /// The format as it was asked for.
    pub format: String,
    pub certificates: usize,
    #[serde(rename = "data_b64", serialize_with = "crate::b64::serialize")]
    pub data: Vec<u8>,
}

/// Exports a contact's certificates in `format`, which the caller asked for as `format_name`.
pub fn export_contact(ctx: &mut Context, address: &str, format: ExportFormat, format_name: &str) -> Result<ContactExport> {
    let address = parse_address(address)?;
    let certs: Vec<_> = ctx.contacts()?.certificates_for(&address)?.into_iter().map(|c| c.cert).collect();
    if certs.is_empty() {
        return Err(Error::NotFound { what: "contact".into(), key: address });
    }
    Ok(ContactExport { format: format_name.to_string(), certificates: certs.len(), data: export(&certs, format)? })
}

/// Confirms (uses) or refuses a certificate for a contact (`contacts_confirm_certificate`,
/// `contacts_refuse_certificate`), with an optional note on how it was checked.
pub fn decide(ctx: &mut Context, address: &str, fingerprint: &str, decision: Decision, note: Option<&str>) -> Result<DecisionOutcome> {
    let address = parse_address(address)?;
    ctx.contacts()?.decide(&address, fingerprint, decision, note, crate::time::now())
}
