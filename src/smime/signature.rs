//! One signature layer: OpenSSL checks each signer's signature and content digest and the
//! certificate chain; on top come the rules Thunderbird applies and we make stricter: weak
//! algorithms, the signer's address against the From mailbox, and signing time against Date.

use super::cms::Cms;
use super::cms_der::{self, SignerDesc};
use super::verdict::*;
use crate::certs::oid;
use crate::certs::summary::Cert;
pub use crate::certs::policy::chain_problems;
use crate::certs::trust::{ChainOutcome, TrustAnchors};
use crate::mime::address::{normalize, parse_mailbox_list};
use crate::time::to_rfc3339;
use openssl::x509::{X509Crl, X509};

/// Signing time and Date may differ by this much (Thunderbird's rule).
pub const MAX_TIME_SKEW_SECS: i64 = 3600;

/// What verification needs besides the message.
pub struct VerifyEnv<'a> {
    pub trust: &'a TrustAnchors,
    /// The time certificates are judged at.
    pub at: i64,
    /// Certificates known from elsewhere (the contact cache's intermediates).
    pub known_certs: &'a [X509],
    /// Finds a signer's certificate the message left out (in the contact cache).
    pub lookup: &'a dyn Fn(&cms_der::CertId) -> Option<X509>,
}

/// The header fields the identity and time rules look at.
#[derive(Debug, Clone, Default)]
pub struct HeaderContext {
    /// The value of every From field (normally exactly one).
    pub from: Vec<String>,
    pub sender: Option<String>,
    pub date: Option<i64>,
}

/// A signer's certificate and chain, for the contact cache.
#[derive(Debug, Clone)]
pub struct VerifiedSigner {
    pub cert: Cert,
    pub chain: Vec<Cert>,
    pub desc: SignerDesc,
    pub state: SignatureState,
    pub trusted: bool,
}

/// The outcome of one layer.
pub struct VerifiedLayer {
    pub layer: SignatureLayer,
    /// The embedded content of an opaque signature, as OpenSSL read it.
    pub content: Option<Vec<u8>>,
    pub signers: Vec<VerifiedSigner>,
    pub warnings: Vec<Warning>,
}

fn malformed(part: &str, form: SignedForm, reason: &'static str) -> VerifiedLayer {
    VerifiedLayer {
        layer: SignatureLayer::malformed(part, form, Position::Root, reason),
        content: None,
        signers: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Verifies a SignedData: detached (`detached` is the canonical first part of a
/// multipart/signed) or opaque (content embedded).
pub fn verify_signed(
    form: SignedForm,
    der: &[u8],
    detached: Option<&[u8]>,
    part: &str,
    headers: &HeaderContext,
    env: &VerifyEnv<'_>,
) -> VerifiedLayer {
    let Ok(info) = cms_der::content_info(der) else {
        return malformed(part, form, "bad_signature_encoding");
    };
    if info.content_type != oid::SIGNED_DATA {
        return malformed(part, form, "not_signed_data");
    }
    let Some(desc) = info.content.as_ref().and_then(|c| cms_der::signed_data(c).ok()) else {
        return malformed(part, form, "bad_signature_encoding");
    };
    let Some(mut cms) = Cms::from_der(der) else {
        return malformed(part, form, "bad_signature_encoding");
    };
    // A detached signature that also embeds content invites verifying one text and showing
    // another (eContent confusion, CVE-2018-18509): never "signed".
    if detached.is_some() && desc.has_econtent {
        return malformed(part, form, "embedded_content_in_detached_signature");
    }
    // Zero signers is a certificate bundle, not a signature; content is only missing if signed.
    if detached.is_none() && !desc.has_econtent && !desc.signers.is_empty() {
        return malformed(part, form, "missing_content");
    }
    let message_x509 = cms.certificates();
    let message_certs: Vec<Cert> = message_x509.iter().filter_map(|c| Cert::from_x509(c).ok()).collect();
    let message_crls: Vec<X509Crl> = cms.crls();
    let mut candidates = message_x509.clone();
    candidates.extend(env.known_certs.iter().cloned());
    for signer in &desc.signers {
        if !message_certs.iter().any(|c| signer.id.matches(c)) {
            candidates.extend((env.lookup)(&signer.id));
        }
    }

    let outcome = cms.verify_signers(detached, &candidates);
    let mut result = VerifiedLayer {
        layer: SignatureLayer {
            part: part.to_string(),
            form,
            position: Position::Root,
            state: SignatureState::None,
            problems: Vec::new(),
            signers: Vec::new(),
        },
        content: if detached.is_none() { Some(outcome.content) } else { None },
        signers: Vec::new(),
        warnings: Vec::new(),
    };
    if desc.signers.is_empty() {
        result.warnings.push(Warning::new("no_signers"));
        return result;
    }
    if desc.signers.len() != outcome.signers.len() {
        return malformed(part, form, "bad_signature_encoding");
    }
    if desc.signers.len() > 1 {
        result.warnings.push(Warning::new("multiple_signers").with("count", desc.signers.len()));
    }
    if headers.date.is_none() && desc.signers.iter().any(|s| s.signing_time.is_some()) {
        result.warnings.push(Warning::new("no_date_header"));
    }
    // Chains are built from the message's certificates and every intermediate known (the
    // candidates before the looked-up signer certificates).
    let untrusted = &candidates[..message_x509.len() + env.known_certs.len()];
    for (sd, check) in desc.signers.iter().zip(&outcome.signers) {
        let mut problems = Vec::new();
        let cert = check.cert_index.and_then(|i| Cert::from_x509(&candidates[i]).ok());
        if let Some(e) = &outcome.digest_setup_error {
            log::debug!("content digest could not be set up: {e}");
            problems.push(if digest_known(&sd.digest_oid) {
                Problem::because(SignatureState::Malformed, "bad_signature_encoding")
            } else {
                Problem::new(SignatureState::UnsupportedAlgorithm).with("algorithm", oid::digest_name(&sd.digest_oid))
            });
        }
        weak_digest(sd, &mut problems);
        let mut chain: Option<ChainOutcome> = None;
        match &cert {
            None => problems.push(Problem::new(SignatureState::SignerCertificateMissing).with("signer", serde_json::to_value(&sd.id).unwrap_or_default())),
            Some(cert) => {
                if outcome.digest_setup_error.is_none() && (!check.signature_ok || check.content_ok == Some(false)) {
                    log::debug!("signer check failed: {}", check.errors.join("; "));
                    problems.push(if check.errors.iter().any(|e| looks_unsupported(e)) {
                        Problem::new(SignatureState::UnsupportedAlgorithm).with("algorithm", oid::signature_name(&sd.signature_oid))
                    } else {
                        Problem::new(SignatureState::ContentAltered)
                    });
                }
                let (outcome, found) = crate::certs::policy::signer_chain(env.trust, cert, untrusted, &message_crls, env.at);
                problems.extend(found);
                chain = Some(outcome);
                identity_problems(cert, sd, headers, &mut problems);
            }
        }
        problems.sort_by_key(|p| p.code);
        problems.dedup_by(|a, b| a.code == b.code && a.reason == b.reason && a.details == b.details);
        let state = state_of(&problems);
        let revocation = match (&chain, state) {
            (_, SignatureState::Revoked) => Revocation::Revoked,
            (Some(c), _) if c.crl_checked => Revocation::Good,
            _ => Revocation::Unknown,
        };
        let chain_certs: Vec<Cert> = chain.as_ref().map(|c| c.chain.iter().skip(1).cloned().collect()).unwrap_or_default();
        result.layer.signers.push(SignerReport {
            state,
            problems,
            certificate: cert.as_ref().map(Cert::summary),
            chain: chain_certs.iter().map(Cert::summary).collect(),
            anchor: chain.as_ref().and_then(|c| c.anchor),
            signing_time: sd.signing_time.map(to_rfc3339),
            digest_algorithm: oid::digest_name(&sd.digest_oid),
            signature_algorithm: oid::signature_name(&sd.signature_oid),
            capabilities: sd.capabilities.clone(),
            encryption_key_preference: sd.encryption_key_preference.clone(),
            revocation,
        });
        if let Some(cert) = cert {
            let trusted = chain.as_ref().is_some_and(|c| c.anchor.is_some());
            result.signers.push(VerifiedSigner { cert, chain: chain_certs, desc: sd.clone(), state, trusted });
        }
    }
    result.layer.state = result.layer.signers.iter().map(|s| s.state).min().unwrap_or(SignatureState::None);
    result
}

fn digest_known(oid_text: &str) -> bool {
    let name = oid::digest_name(oid_text);
    name != oid_text && openssl::hash::MessageDigest::from_name(&name).is_some()
}

fn looks_unsupported(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("unknown") || r.contains("unsupported") || r.contains("not supported")
}

fn weak_digest(sd: &SignerDesc, problems: &mut Vec<Problem>) {
    let digest = oid::digest_name(&sd.digest_oid);
    let weak_signature = matches!(
        sd.signature_oid.as_str(),
        "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3"
    );
    match digest.as_str() {
        "md5" => problems.push(Problem::because(SignatureState::WeakAlgorithm, "md5")),
        "sha1" => problems.push(Problem::because(SignatureState::WeakAlgorithm, "sha1")),
        _ if weak_signature => problems.push(Problem::because(SignatureState::WeakAlgorithm, "sha1")),
        _ => {}
    }
}

/// The identity rules: the certificate must name an address, it must be the single From
/// mailbox, and the signing time must be near the Date header.
fn identity_problems(cert: &Cert, sd: &SignerDesc, headers: &HeaderContext, problems: &mut Vec<Problem>) {
    let cert_emails: Vec<String> = cert.emails().iter().filter_map(|e| normalize(e)).collect();
    if cert_emails.is_empty() {
        problems.push(Problem::new(SignatureState::NoSenderAddress));
    } else if let Some(p) = sender_problem(headers, &cert_emails) {
        problems.push(p.with("certificate_emails", cert.emails()));
    }
    if let (Some(signed), Some(date)) = (sd.signing_time, headers.date) {
        if (signed - date).abs() > MAX_TIME_SKEW_SECS {
            problems.push(
                Problem::new(SignatureState::TimeMismatch)
                    .with("signing_time", to_rfc3339(signed))
                    .with("date", to_rfc3339(date)),
            );
        }
    }
}

/// The From rule (docs/INSPECT.md): exactly one From field with exactly one mailbox, which the
/// certificate names; Sender is used only when there is no From field at all.
pub fn sender_problem(headers: &HeaderContext, cert_emails: &[String]) -> Option<Problem> {
    let mismatch = |reason: &'static str, from: Vec<String>| {
        Some(Problem::because(SignatureState::SenderMismatch, reason).with("from", from))
    };
    let check_single = |value: &str| {
        let boxes = parse_mailbox_list(value);
        let addresses: Vec<String> = boxes.iter().map(|m| m.address.clone()).collect();
        match boxes.as_slice() {
            [] => mismatch("no_from", addresses),
            [one] => match normalize(&one.address) {
                Some(a) if cert_emails.contains(&a) => None,
                _ => mismatch("different_address", addresses),
            },
            _ => mismatch("multiple_from", addresses),
        }
    };
    match headers.from.as_slice() {
        [] => match &headers.sender {
            Some(sender) => check_single(sender),
            None => mismatch("no_from", Vec::new()),
        },
        [one] => check_single(one),
        many => mismatch("multiple_from_headers", many.iter().flat_map(|f| parse_mailbox_list(f)).map(|m| m.address).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(from: &[&str], sender: Option<&str>) -> HeaderContext {
        HeaderContext { from: from.iter().map(|s| s.to_string()).collect(), sender: sender.map(str::to_string), date: None }
    }

    fn reason(h: &HeaderContext) -> Option<&'static str> {
        sender_problem(h, &["alice@example.org".to_string()]).map(|p| p.reason.unwrap())
    }

    #[test]
    fn from_rules() {
        assert_eq!(reason(&headers(&["Alice <ALICE@example.org>"], None)), None);
        assert_eq!(reason(&headers(&["\"alice@example.org\" <eve@example.net>"], None)), Some("different_address"));
        assert_eq!(reason(&headers(&["alice@example.org, bob@example.org"], None)), Some("multiple_from"));
        assert_eq!(reason(&headers(&["alice@example.org", "alice@example.org"], None)), Some("multiple_from_headers"));
        assert_eq!(reason(&headers(&[""], Some("alice@example.org"))), Some("no_from"));
        assert_eq!(reason(&headers(&[], Some("alice@example.org"))), None);
        assert_eq!(reason(&headers(&[], None)), Some("no_from"));
    }
}
