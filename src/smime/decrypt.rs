//! One encryption layer: who it is for, with what, and decryption with a matching key of ours.
//! Only keys whose certificate a RecipientInfo names are tried, each with its certificate (so
//! OpenSSL picks that RecipientInfo); a failed AES-GCM tag yields no output at all.

use super::cms_der::{self, CertId, EnvelopedDesc};
use super::verdict::*;
use crate::certs::oid;
use crate::certs::summary::Cert;
use crate::time::to_rfc3339;
use super::cms::Cms;
use openssl::pkey::{PKey, Private};
use std::borrow::Cow;

/// A private key of the user's, with its certificate.
#[derive(Clone)]
pub struct DecryptionKey {
    pub cert: Cert,
    pub key: PKey<Private>,
    /// A newer identity replaced this one (set by the identity store).
    pub replaced: bool,
}

/// Who the encrypted message may be for, beyond our own keys (the contact cache fills this in).
pub trait RecipientNames {
    fn email_for(&self, id: &CertId) -> Option<String>;
}

impl RecipientNames for () {
    fn email_for(&self, _: &CertId) -> Option<String> {
        None
    }
}

pub struct DecryptedLayer {
    pub report: EncryptionReport,
    pub plaintext: Option<Vec<u8>>,
    pub form: &'static str,
}

/// Decrypts with the first of `keys` that a RecipientInfo names; `locked` are the certificates
/// of the user's identities whose keys are locked (named in the verdict, never tried). The
/// DER is taken so it can be freed once OpenSSL holds its own copy (a large message is
/// otherwise in memory three times while it is decrypted).
pub fn decrypt(der: Cow<'_, [u8]>, keys: &[DecryptionKey], locked: &[Cert], names: &dyn RecipientNames, now: i64) -> DecryptedLayer {
    let mut report = EncryptionReport::none();
    let unsupported = |mut report: EncryptionReport, failure: &'static str| {
        report.state = EncryptionState::Unsupported;
        report.failure = Some(failure);
        DecryptedLayer { report, plaintext: None, form: "unknown" }
    };
    let Ok(info) = cms_der::content_info(&der) else {
        return unsupported(report, "bad_encoding");
    };
    let (authenticated, form) = match info.content_type.as_str() {
        oid::ENVELOPED_DATA => (false, "enveloped_data"),
        oid::AUTH_ENVELOPED_DATA => (true, "auth_enveloped_data"),
        oid::COMPRESSED_DATA => return unsupported(report, "compressed_data"),
        _ => return unsupported(report, "not_enveloped_data"),
    };
    report.form = Some(form);
    let Some(desc) = info.content.as_ref().and_then(|c| cms_der::enveloped_data(c, authenticated).ok()) else {
        return unsupported(report, "bad_encoding");
    };
    describe(&mut report, &desc, keys, names);

    let named = |c: &Cert| desc.recipients.iter().any(|r| CertId::names(&r.id, c));
    let candidates: Vec<&DecryptionKey> = keys.iter().filter(|k| named(&k.cert)).collect();
    if candidates.is_empty() {
        report.locked_identities = locked.iter().filter(|c| named(c)).map(Cert::fingerprint_sha256).collect();
        for r in &mut report.recipients {
            if let Some(c) = locked.iter().find(|c| CertId::names(&r.id, c)) {
                r.mine = true;
                r.email = r.email.clone().or_else(|| c.emails().into_iter().next());
            }
        }
        report.state = if report.locked_identities.is_empty() { EncryptionState::NoKey } else { EncryptionState::Locked };
        return DecryptedLayer { report, plaintext: None, form };
    }
    let Some(mut cms) = Cms::from_der(&der) else {
        return unsupported(report, "bad_encoding");
    };
    let size_hint = der.len();
    drop(der);
    let mut last_error = String::new();
    for key in candidates {
        match cms.decrypt(&key.key, &key.cert.x509, size_hint) {
            Ok(plain) => {
                report.state = EncryptionState::Decrypted;
                report.decrypted_with = Some(DecryptedWith {
                    fingerprint_sha256: key.cert.fingerprint_sha256(),
                    subject: key.cert.fields.subject.to_rfc4514(),
                    emails: key.cert.emails(),
                    not_after: to_rfc3339(key.cert.fields.not_after),
                    expired: now > key.cert.fields.not_after,
                    replaced: key.replaced,
                });
                return DecryptedLayer { report, plaintext: Some(plain), form };
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    log::debug!("decryption failed: {last_error}");
    report.state = EncryptionState::Failed;
    // With AES-GCM every failure after the key unwrap is the tag: the content was altered.
    report.failure = Some(if authenticated && !last_error.contains("decrypt error") {
        "integrity_check_failed"
    } else {
        "decryption_failed"
    });
    DecryptedLayer { report, plaintext: None, form }
}

fn describe(report: &mut EncryptionReport, desc: &EnvelopedDesc, keys: &[DecryptionKey], names: &dyn RecipientNames) {
    report.content_cipher = Some(oid::cipher_name(&desc.content_cipher_oid));
    report.authenticated = Some(desc.authenticated);
    report.recipients = desc
        .recipients
        .iter()
        .map(|r| {
            let mine = keys.iter().find(|k| CertId::names(&r.id, &k.cert));
            let email = mine
                .and_then(|k| k.cert.emails().into_iter().next())
                .or_else(|| r.id.as_ref().and_then(|id| names.email_for(id)));
            RecipientReport { key_transport: r.key_transport, id: r.id.clone(), email, mine: mine.is_some() }
        })
        .collect();
}
