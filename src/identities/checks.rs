//! Importing a PKCS#12 file as an identity, with the checks that catch what users most often get
//! wrong: a certificate without its private key (a .p12 exported without it, or a certificate file
//! such as a .cer given instead), a key that belongs to another certificate,
//! several keys in one file, a missing intermediate, a certificate not meant for e-mail, an
//! expired one. The first three refuse the import; the others are reported with the identity
//! (an expired identity is still worth keeping: it decrypts old mail).

use super::seal::{seal, Passphrase};
use super::{IdentityInfo, IdentityStore};
use crate::certs::summary::Cert;
use crate::certs::trust::{self, verify_chain, Purpose, TrustAnchors};
use crate::contacts::can_encrypt;
use crate::context::Context;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub ok: bool,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

fn check(name: &'static str, ok: bool) -> Check {
    Check { check: name, ok, details: Map::new() }
}

impl Check {
    fn with(mut self, key: &str, value: impl Into<Value>) -> Check {
        self.details.insert(key.into(), value.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub identity: IdentityInfo,
    pub checks: Vec<Check>,
    /// Older identities this one replaces (renewal).
    pub replaced: Vec<String>,
}

/// Imports a PKCS#12 file. The key is sealed under `new_passphrase`, or under the file's own
/// password when none is given.
pub fn import(ctx: &mut Context, bytes: &[u8], password: &Passphrase, new_passphrase: Option<&Passphrase>, source: &str) -> Result<ImportReport> {
    let contents = crate::pkcs12::open(bytes, password.as_str(), source).map_err(|e| certificate_file(e, bytes, source))?;
    let Some(key) = contents.key else {
        // Without a key, OpenSSL lists every certificate as "other": name the user's one.
        let own = contents.cert.as_ref().or_else(|| contents.others.iter().find(|c| !c.fields.is_ca));
        return match own {
            Some(cert) => Err(Error::Pkcs12WithoutKey { source: source.into(), subject: cert.fields.subject.to_rfc4514() }),
            None => Err(Error::BadPkcs12 { source: source.into(), reason: "it holds neither a certificate nor a key".into(), cause: None }),
        };
    };
    let Some(cert) = contents.cert else {
        return Err(Error::BadPkcs12 { source: source.into(), reason: "it holds a key but no certificate for it".into(), cause: None });
    };
    if contents.key_count > 1 {
        return Err(Error::Pkcs12SeveralKeys { source: source.into(), count: contents.key_count });
    }
    let public = cert.x509.public_key().map_err(|e| Error::Internal { reason: e.to_string() })?;
    if !public.public_eq(&key) {
        return Err(Error::KeyMismatch { source: source.into(), subject: cert.fields.subject.to_rfc4514() });
    }
    let passphrase = new_passphrase.unwrap_or(password);
    if passphrase.is_empty() {
        return Err(Error::PassphraseRequired);
    }
    let now = crate::time::now();
    let anchors = TrustAnchors::load(&ctx.home);
    let mut untrusted: Vec<openssl::x509::X509> = contents.others.iter().map(|c| c.x509.clone()).collect();
    if let Ok(cache) = ctx.contacts() {
        untrusted.extend(cache.intermediates().unwrap_or_default());
    }
    let outcome = verify_chain(&anchors, &cert.x509, &untrusted, &[], now, Purpose::ChainOnly);
    let chain: Vec<Cert> = contents.others.iter().filter(|c| c.fields.is_ca && !c.is_self_signed()).cloned().collect();

    let mut checks = vec![check("key_present", true), check("single_key", true), check("key_matches_certificate", true)];
    checks.push(chain_check(&cert, &outcome));
    checks.push(usage_check(&cert));
    let emails = cert.emails();
    checks.push(check("has_email_address", !emails.is_empty()).with("emails", emails));
    checks.push(
        check("not_expired", now <= cert.fields.not_after && now >= cert.fields.not_before)
            .with("not_before", crate::time::to_rfc3339(cert.fields.not_before))
            .with("not_after", crate::time::to_rfc3339(cert.fields.not_after)),
    );

    let sealed = seal(&key, passphrase, &cert.fingerprint_sha256()).map_err(|e| Error::Internal { reason: e.to_string() })?;
    let store = ctx.identities()?;
    let replaced = store.add(&cert, &chain, &sealed, now)?;
    let fingerprint = cert.fingerprint_sha256();
    let identity = store.get(&fingerprint)?.ok_or(Error::NotFound { what: "identity".into(), key: fingerprint })?;
    // A successful import also unlocks the key for this session: the user just typed it.
    let epoch = store.lock_epoch()?;
    ctx.unlocked.insert(&identity, key, epoch);
    log::info!("identity imported: {} ({} checks failed)", identity.fingerprint(), checks.iter().filter(|c| !c.ok).count());
    Ok(ImportReport { identity: identity.info(now, true), checks, replaced })
}

/// A file that is no PKCS#12 but a certificate file (PEM, DER .cer/.crt, a .p7c/.p7b bundle: what a
/// CA hands out, or a "without private key" export) is named as what it is: it can never hold the
/// key. Other errors pass unchanged.
fn certificate_file(error: Error, bytes: &[u8], source: &str) -> Error {
    // A PEM file with a private key in it is no certificate-only file, whatever else it holds.
    if !matches!(error, Error::BadPkcs12 { .. }) || bytes.windows(12).any(|w| w == b"PRIVATE KEY-") {
        return error;
    }
    let Ok(certs) = trust::parse_certificates(bytes) else { return error };
    // The holder's certificate, not the chain's CAs that may come with it.
    match certs.iter().find(|c| !c.fields.is_ca).or(certs.first()) {
        Some(cert) => Error::CertificateWithoutKey { source: source.into(), subject: cert.fields.subject.to_rfc4514() },
        None => error,
    }
}

/// Whether the chain reaches a trusted root, and which intermediate is missing when it does not.
fn chain_check(cert: &Cert, outcome: &trust::ChainOutcome) -> Check {
    let missing_issuer = outcome.errors.iter().any(|e| {
        matches!(e.code, trust::V_ERR_UNABLE_TO_GET_ISSUER_CERT | trust::V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY | trust::V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
    });
    let top = outcome.chain.last().unwrap_or(cert);
    if missing_issuer {
        return check("chain_complete", false).with("missing", top.fields.issuer.to_rfc4514());
    }
    let untrusted_root = outcome.errors.iter().any(|e| trust::is_trust_error(e.code));
    check("chain_complete", !untrusted_root)
        .with("chain", outcome.chain.iter().skip(1).map(|c| c.fields.subject.to_rfc4514()).collect::<Vec<_>>())
        .with("root_trusted", !untrusted_root)
}

/// emailProtection, and digitalSignature plus keyEncipherment (RSA) or keyAgreement (EC).
fn usage_check(cert: &Cert) -> Check {
    let mut missing = Vec::new();
    if !cert.allows_email_protection() {
        missing.push("email_protection");
    }
    if !cert.allows_signing_key_usage() {
        missing.push("digital_signature");
    }
    if !can_encrypt(cert) && !missing.contains(&"email_protection") {
        missing.push(if cert.key_info().kind == "ec" { "key_agreement" } else { "key_encipherment" });
    }
    check("email_usage", missing.is_empty()).with("missing", missing)
}

/// The identities whose certificate expires within `days` (and that nothing replaced yet).
pub fn expiring(store: &IdentityStore, days: i64, now: i64) -> Result<Vec<IdentityInfo>> {
    Ok(store
        .all()?
        .into_iter()
        .filter(|i| i.replaced_by.is_none() && i.cert.fields.not_after - now <= days * 86400)
        .map(|i| i.info(now, false))
        .collect())
}
