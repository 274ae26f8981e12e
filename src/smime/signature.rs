//! One signature layer: OpenSSL checks each signer's signature and content digest and the
//! certificate chain; on top come the rules Thunderbird applies and we make stricter: weak
//! algorithms, the signed attributes RFC 5652 requires, the signer's address against the From
//! mailbox, and signing time against Date.
//!
//! What one message can make us do is bounded: at most `MAX_SIGNERS_PER_LAYER` signers are
//! checked, at most `MAX_DIGEST_ALGORITHMS` digests computed, and chains are built from at most
//! `MAX_MESSAGE_CERTIFICATES` of the message's certificates (docs/INSPECT.md, "Limits").

use super::cms::Cms;
use super::cms_der::{self, SignerDesc};
use super::verdict::*;
use crate::certs::oid;
use crate::certs::summary::Cert;
pub use crate::certs::policy::chain_problems;
use crate::certs::trust::{ChainOutcome, Evidence, TrustAnchors};
use super::sender::{sender_problem, HeaderContext};
use crate::time::to_rfc3339;
use openssl::x509::{X509Crl, X509};

/// Signing time and Date may differ by this much (Thunderbird's rule).
pub const MAX_TIME_SKEW_SECS: i64 = 3600;

/// SignerInfos checked per signature layer. Mail programs write one; each signer costs a
/// signature check, a chain and a report. Signers past this are not checked, and the layer is
/// `malformed` (`too_many_signers`): a signer nobody checked cannot vouch for anything.
pub const MAX_SIGNERS_PER_LAYER: usize = 16;

/// Entries of a SignedData's digestAlgorithms set. OpenSSL digests the whole content once per
/// entry; past this the layer is `malformed` (`too_many_digest_algorithms`) and nothing is
/// digested. Mail programs list one.
pub const MAX_DIGEST_ALGORITHMS: usize = 16;

/// Certificates of one message that chains are built from: the checked signers' own
/// certificates, wherever they are in the message, and the first `MAX_MESSAGE_CERTIFICATES`
/// others as intermediates. Mail programs send the signer's certificate and one to three
/// issuers; the rest of a larger set is ignored.
pub const MAX_MESSAGE_CERTIFICATES: usize = 32;

/// CRLs of one message consulted for revocation (the first ones). Mail programs send none.
pub const MAX_MESSAGE_CRLS: usize = 8;

/// OCSP responses of one message (RFC 5940) consulted for revocation (the first ones).
pub const MAX_MESSAGE_OCSP_RESPONSES: usize = 8;

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

/// A layer refused before any signer was checked.
fn rejected(part: &str, form: SignedForm, problem: Problem) -> VerifiedLayer {
    let mut layer = SignatureLayer::malformed(part, form, Position::Root, "bad_signature_encoding");
    layer.problems = vec![problem];
    VerifiedLayer { layer, content: None, signers: Vec::new(), warnings: Vec::new() }
}

fn malformed(part: &str, form: SignedForm, reason: &'static str) -> VerifiedLayer {
    rejected(part, form, Problem::because(SignatureState::Malformed, reason))
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
    if desc.digest_algorithm_count > MAX_DIGEST_ALGORITHMS {
        let problem = Problem::because(SignatureState::Malformed, "too_many_digest_algorithms")
            .with("count", desc.digest_algorithm_count)
            .with("limit", MAX_DIGEST_ALGORITHMS);
        let mut refused = rejected(part, form, problem);
        refused.layer.signer_count = desc.signers.len();
        return refused;
    }
    let Some(mut cms) = Cms::from_der(der) else {
        return malformed(part, form, "bad_signature_encoding");
    };
    // A detached signature that also embeds content invites verifying one text and showing
    // another (eContent confusion, CVE-2018-18509): never valid. Its signers are still checked,
    // against the shown part only (never the embedded copy), so the user learns whose it is.
    let embedded_content = detached.is_some() && desc.has_econtent;
    // Zero signers is a certificate bundle, not a signature; content is only missing if signed.
    if detached.is_none() && !desc.has_econtent && !desc.signers.is_empty() {
        return malformed(part, form, "missing_content");
    }
    let checked = desc.signers.len().min(MAX_SIGNERS_PER_LAYER);
    let signers = &desc.signers[..checked];

    // Chains are built from the checked signers' certificates in the message, its first
    // certificates, and every intermediate known; a signer certificate the message lacks is
    // looked up in the contact cache (a candidate for the signer only).
    let message_x509 = cms.certificates();
    let signer_certs = cms.signer_certificates(&message_x509, checked);
    let mut taken = vec![false; message_x509.len()];
    let mut pool: Vec<X509> = Vec::new();
    for i in signer_certs.iter().flatten().copied().chain(0..message_x509.len().min(MAX_MESSAGE_CERTIFICATES)) {
        if !std::mem::replace(&mut taken[i], true) {
            pool.push(message_x509[i].clone());
        }
    }
    pool.extend(env.known_certs.iter().cloned());
    let untrusted: &[X509] = &pool;
    let mut candidates = pool.clone();
    for (sd, found) in signers.iter().zip(&signer_certs) {
        if found.is_none() {
            candidates.extend((env.lookup)(&sd.id));
        }
    }
    let mut message_crls: Vec<X509Crl> = cms.crls();
    message_crls.truncate(MAX_MESSAGE_CRLS);
    let message_ocsp = cms_der::ocsp_responses(der, MAX_MESSAGE_OCSP_RESPONSES);
    let evidence = Evidence { crls: &message_crls, ocsp: &message_ocsp };

    let outcome = cms.verify_signers(detached, &candidates, checked);
    let mut result = VerifiedLayer {
        layer: SignatureLayer {
            part: part.to_string(),
            form,
            position: Position::Root,
            state: SignatureState::None,
            problems: Vec::new(),
            signer_count: desc.signers.len(),
            signers: Vec::new(),
        },
        content: if detached.is_none() { Some(outcome.content) } else { None },
        signers: Vec::new(),
        warnings: Vec::new(),
    };
    if desc.signers.is_empty() {
        if embedded_content {
            return malformed(part, form, "embedded_content_in_detached_signature");
        }
        result.warnings.push(Warning::new("no_signers"));
        return result;
    }
    if desc.signers.len() != outcome.signer_count || outcome.signers.len() != checked {
        return malformed(part, form, "bad_signature_encoding");
    }
    if desc.signers.len() > 1 {
        result.warnings.push(Warning::new("multiple_signers").with("count", desc.signers.len()));
    }
    if headers.date.is_none() && signers.iter().any(|s| s.signing_time.is_some()) {
        result.warnings.push(Warning::new("no_date_header"));
    }
    // RFC 5652 §5.4 allows signing the content directly; it works, but says nothing about when
    // (no signing time) or what the signer can decrypt (no capabilities).
    if signers.iter().any(|s| s.signed_attributes.is_none()) {
        result.warnings.push(Warning::new("no_signed_attributes"));
    }
    // Certificates to hand to the contact cache, with the index of their report.
    let mut verified = Vec::new();
    for (sd, check) in signers.iter().zip(&outcome.signers) {
        let mut problems = Vec::new();
        let cert = check.cert_index.and_then(|i| Cert::from_x509(&candidates[i]).ok());
        let attributes_malformed = signed_attribute_problems(sd, &desc.econtent_type, &mut problems);
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
                // OpenSSL cannot check a SignerInfo whose signed attributes break the rules
                // (no messageDigest, one twice): that is the malformation, not an alteration.
                let failed = !check.signature_ok || check.content_ok == Some(false);
                if outcome.digest_setup_error.is_none() && failed && !attributes_malformed {
                    log::debug!("signer check failed: {}", check.errors.join("; "));
                    problems.push(if check.errors.iter().any(|e| looks_unsupported(e)) {
                        Problem::new(SignatureState::UnsupportedAlgorithm).with("algorithm", oid::signature_name(&sd.signature_oid))
                    } else {
                        Problem::new(SignatureState::ContentAltered)
                    });
                }
                let (outcome, mut found) = crate::certs::policy::signer_chain(env.trust, cert, untrusted, evidence, env.at);
                revocation_against_signing_time(&outcome, sd, &mut found);
                problems.extend(found);
                chain = Some(outcome);
                identity_problems(cert, sd, headers, &mut problems);
                signing_time_validity(cert, sd, &mut result.warnings);
            }
        }
        let problems_omitted = bound_problems(&mut problems);
        let state = state_of(&problems);
        let revocation = chain.as_ref().map_or_else(RevocationReport::not_checked, |c| c.revocation.clone());
        let chain_certs: Vec<Cert> = chain.as_ref().map(|c| c.chain.iter().skip(1).cloned().collect()).unwrap_or_default();
        result.layer.signers.push(SignerReport {
            state,
            problems,
            problems_omitted,
            certificate: cert.as_ref().map(Cert::summary),
            chain: chain_certs.iter().take(MAX_REPORTED_CHAIN).map(Cert::summary).collect(),
            chain_omitted: chain_certs.len().saturating_sub(MAX_REPORTED_CHAIN),
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
            verified.push((result.layer.signers.len() - 1, cert, chain_certs, sd.clone(), trusted));
        }
    }
    result.layer.state = result.layer.signers.iter().map(|s| s.state).min().unwrap_or(SignatureState::None);
    if checked < desc.signers.len() {
        result.layer.condemn(
            Problem::because(SignatureState::Malformed, "too_many_signers").with("count", desc.signers.len()).with("checked", checked),
        );
    }
    if embedded_content {
        result.layer.condemn(Problem::because(SignatureState::Malformed, "embedded_content_in_detached_signature"));
    }
    result.signers = verified
        .into_iter()
        .map(|(i, cert, chain, desc, trusted)| VerifiedSigner { cert, chain, desc, state: result.layer.signers[i].state, trusted })
        .collect();
    result
}

/// The rules RFC 5652 (§5.3, §11.1) sets for signed attributes that OpenSSL does not apply, or
/// applies only as a failed check: when there are signed attributes, contentType and
/// messageDigest must each be there exactly once (signingTime at most once), and contentType
/// must equal the eContentType. The eContentType itself is not signed: the contentType
/// attribute is what protects it, so a difference means the type was changed after signing
/// (`content_altered`). Returns whether the attributes are malformed.
fn signed_attribute_problems(sd: &SignerDesc, econtent_type: &str, problems: &mut Vec<Problem>) -> bool {
    let Some(attrs) = &sd.signed_attributes else { return false };
    let mut malformed = false;
    let counts = [("content_type", attrs.content_types.len()), ("message_digest", attrs.message_digests), ("signing_time", attrs.signing_times)];
    if let Some((name, _)) = counts.iter().find(|(_, n)| *n > 1) {
        problems.push(Problem::because(SignatureState::Malformed, "duplicate_signed_attribute").with("attribute", *name));
        malformed = true;
    }
    if attrs.content_types.is_empty() {
        problems.push(Problem::because(SignatureState::Malformed, "missing_content_type_attribute"));
        malformed = true;
    }
    if attrs.message_digests == 0 {
        problems.push(Problem::because(SignatureState::Malformed, "missing_message_digest_attribute"));
        malformed = true;
    }
    if let Some(signed) = attrs.content_types.iter().find(|t| *t != econtent_type) {
        problems.push(
            Problem::because(SignatureState::ContentAltered, "content_type_mismatch")
                .with("content_type", econtent_type)
                .with("signed_content_type", signed.as_str()),
        );
    }
    malformed
}

/// Says of each revoked certificate whether the CA revoked it before or after the signing time
/// the signature claims (`reason` `revoked_before_signing_time` / `revoked_after_signing_time`).
/// Either way the signature is `revoked`: the signing time is the signer's own claim, which a
/// holder of a stolen key writes as they please; only a trusted timestamp could prove a signature
/// older than the revocation, and Thunderbird, too, treats a revoked certificate as revoked.
fn revocation_against_signing_time(outcome: &ChainOutcome, sd: &SignerDesc, problems: &mut [Problem]) {
    let Some(signed) = sd.signing_time else { return };
    for p in problems.iter_mut().filter(|p| p.code == SignatureState::Revoked) {
        let depth = p.details.get("depth").and_then(|d| d.as_u64());
        let revoked_at = outcome.revocation.certificates.iter().find(|c| Some(c.depth as u64) == depth).and_then(|c| c.revoked_at_unix);
        if let Some(at) = revoked_at {
            p.reason = Some(if at <= signed { "revoked_before_signing_time" } else { "revoked_after_signing_time" });
        }
    }
}

/// A signing time outside the signer certificate's validity: the signer claims to have signed
/// before the certificate existed, or after it ended. The signing time is the signer's own
/// claim and the certificate is judged at the verification time, so this does not decide the
/// state; the user is told.
fn signing_time_validity(cert: &Cert, sd: &SignerDesc, warnings: &mut Vec<Warning>) {
    let Some(signed) = sd.signing_time else { return };
    if signed < cert.fields.not_before || signed > cert.fields.not_after {
        push_unique(
            warnings,
            Warning::new("signing_time_outside_validity")
                .with("signing_time", to_rfc3339(signed))
                .with("not_before", to_rfc3339(cert.fields.not_before))
                .with("not_after", to_rfc3339(cert.fields.not_after)),
        );
    }
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
    let cert_emails = cert.emails();
    if cert_emails.is_empty() {
        problems.push(Problem::new(SignatureState::NoSenderAddress));
    } else if let Some(p) = sender_problem(headers, &cert_emails) {
        problems.push(p.with("certificate_emails", cert_emails));
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
