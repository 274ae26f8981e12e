//! One signature layer: OpenSSL checks each signer's signature and content digest and the
//! certificate chain; on top come the rules Thunderbird applies and we make stricter: weak
//! algorithms, the signer's address against the From mailbox, and signing time against Date.

use super::cms::Cms;
use super::cms_der::{self, SignerDesc};
use super::verdict::*;
use crate::certs::oid;
use crate::certs::summary::Cert;
use crate::certs::trust::{self, verify_chain, ChainOutcome, Purpose, TrustAnchors};
use super::sender::{sender_problem, HeaderContext};
use crate::mime::address::normalize;
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
                if cert.key_info().kind == "rsa" && cert.key_info().bits < 2048 {
                    problems.push(Problem::because(SignatureState::WeakAlgorithm, "small_rsa_key").with("bits", cert.key_info().bits));
                }
                let outcome = verify_chain(env.trust, &cert.x509, untrusted, &message_crls, env.at, Purpose::SmimeSign);
                problems.extend(chain_problems(&outcome, cert, env.at));
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

/// Turns OpenSSL's chain errors into problems, plus our own validity-period check of the
/// signer's certificate (reported even when the chain could not be built).
pub fn chain_problems(outcome: &ChainOutcome, cert: &Cert, at: i64) -> Vec<Problem> {
    let mut problems = Vec::new();
    let cert_at = |depth: u32| outcome.chain.get(depth as usize).unwrap_or(cert);
    for e in &outcome.errors {
        let p = match e.code {
            trust::V_ERR_CERT_REVOKED => Problem::new(SignatureState::Revoked),
            trust::V_ERR_CERT_HAS_EXPIRED => {
                Problem::new(SignatureState::Expired).with("not_after", to_rfc3339(cert_at(e.depth).fields.not_after))
            }
            trust::V_ERR_CERT_NOT_YET_VALID => {
                Problem::new(SignatureState::NotYetValid).with("not_before", to_rfc3339(cert_at(e.depth).fields.not_before))
            }
            trust::V_ERR_INVALID_PURPOSE => Problem::because(SignatureState::WrongUsage, usage_reason(cert_at(e.depth))),
            trust::V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT | trust::V_ERR_SELF_SIGNED_CERT_IN_CHAIN => {
                Problem::because(SignatureState::Untrusted, "self_signed")
            }
            trust::V_ERR_UNABLE_TO_GET_ISSUER_CERT
            | trust::V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | trust::V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => Problem::because(SignatureState::Untrusted, "unknown_ca"),
            trust::V_ERR_CERT_SIGNATURE_FAILURE => Problem::because(SignatureState::Untrusted, "bad_certificate_signature"),
            trust::V_ERR_EE_KEY_TOO_SMALL | trust::V_ERR_CA_KEY_TOO_SMALL => {
                Problem::because(SignatureState::WeakAlgorithm, "small_rsa_key")
            }
            trust::V_ERR_CA_MD_TOO_WEAK => Problem::because(SignatureState::WeakAlgorithm, "weak_certificate_signature"),
            // A stale or unusable CRL leaves revocation unknown; it does not condemn the signature.
            trust::V_ERR_CRL_HAS_EXPIRED
            | trust::V_ERR_CRL_NOT_YET_VALID
            | trust::V_ERR_CRL_SIGNATURE_FAILURE
            | trust::V_ERR_UNABLE_TO_GET_CRL_ISSUER
            | trust::V_ERR_KEYUSAGE_NO_CRL_SIGN => continue,
            other => Problem::because(SignatureState::Untrusted, "untrusted_ca").with("openssl_error", other),
        };
        problems.push(p.with("depth", e.depth));
    }
    if at > cert.fields.not_after && !problems.iter().any(|p| p.code == SignatureState::Expired) {
        problems.push(Problem::new(SignatureState::Expired).with("not_after", to_rfc3339(cert.fields.not_after)).with("depth", 0));
    }
    if at < cert.fields.not_before && !problems.iter().any(|p| p.code == SignatureState::NotYetValid) {
        problems.push(Problem::new(SignatureState::NotYetValid).with("not_before", to_rfc3339(cert.fields.not_before)).with("depth", 0));
    }
    // RFC 8550: key usage without digitalSignature or nonRepudiation forbids signing.
    if let Some(ku) = &cert.fields.key_usage {
        if !ku.contains(&"digital_signature") && !ku.contains(&"non_repudiation")
            && !problems.iter().any(|p| p.code == SignatureState::WrongUsage)
        {
            problems.push(Problem::because(SignatureState::WrongUsage, "key_usage").with("depth", 0));
        }
    }
    for p in problems.iter_mut().filter(|p| matches!(p.code, SignatureState::Expired | SignatureState::NotYetValid)) {
        p.details.insert("at".into(), to_rfc3339(at).into());
    }
    problems
}

fn usage_reason(cert: &Cert) -> &'static str {
    if cert.fields.allows_email_protection() { "key_usage" } else { "extended_key_usage" }
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
