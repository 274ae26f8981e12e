//! What the companion demands of a certificate and its chain before it relies on them, on top
//! of OpenSSL's verification, and the two verdicts built on it:
//!
//! - [`signer_chain`]: the chain of a mail's signer, as problems of the signature verdict
//!   (docs/INSPECT.md, "Chain, revocation and algorithms");
//! - [`encryption_verdict`]: may a contact's certificate be encrypted to now, and if not why
//!   (docs/CONTACTS.md, "Usable for encryption"). The contact cache, `recipients_check`,
//!   `encrypt` and the PKCS#11 module all ask this one function.
//!
//! The algorithm policy ([`weaknesses`]) applies to every certificate of a chain: MD5 and SHA-1
//! signatures (except a root's signature on itself, which nobody relies on), RSA keys under
//! 2048 bits, DSA keys, EC keys on curves under 256 bits. Every field a rule reads comes from
//! OpenSSL's reading of the certificate (`reading.rs`).

use super::reading::KeyAlgorithm;
use super::summary::Cert;
use super::trust::{self, verify_chain, verify_chain_with, ChainOutcome, Evidence, Purpose, TrustAnchors};
use crate::smime::verdict::{Problem, SignatureState};
use crate::time::to_rfc3339;
use openssl::nid::Nid;
use openssl::x509::{X509KeyUsage, X509};
use serde::Serialize;

/// Why a certificate may not be used for encryption now. Variants are in the order the checks
/// rank: when several apply, the first is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Refusal {
    /// The certificate itself is not for encrypting e-mail. `reason`: `key_usage` (RSA without
    /// keyEncipherment, EC without keyAgreement), `extended_key_usage` (no emailProtection),
    /// `key_type` (neither RSA nor EC), `ca_certificate` (a CA certificate).
    NoEncryptionUsage { reason: &'static str },
    /// The certificate (`depth` 0) or a CA of its chain is revoked: by a CRL we hold or fetched,
    /// or by its CA's OCSP responder. `revoked_at` and `revocation_reason` when the CA said.
    Revoked {
        depth: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        revoked_at: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        revocation_reason: Option<&'static str>,
    },
    /// The certificate or a CA of its chain has expired.
    Expired { depth: u32, not_after: String },
    NotYetValid { depth: u32, not_before: String },
    /// The chain does not reach a trusted anchor. `reason`: `unknown_ca`, `self_signed`,
    /// `bad_certificate_signature`, `untrusted_ca`; or revocation is required and the
    /// certificate's status could not be learnt: `revocation_unknown`.
    Untrusted { reason: &'static str, depth: u32 },
    /// A CA of the chain may not issue e-mail certificates: its extended key usage lacks
    /// emailProtection (a CA restricted to TLS, for example).
    CaNotForEmail { depth: u32, subject: String },
    /// A certificate of the chain fails the algorithm policy. `reason`: `small_rsa_key`,
    /// `dsa_key`, `small_ec_key`, `weak_certificate_signature`.
    WeakAlgorithm { reason: &'static str, depth: u32, subject: String },
}

impl Refusal {
    /// The stable code (the serialised `code`).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoEncryptionUsage { .. } => "no_encryption_usage",
            Refusal::Revoked { .. } => "revoked",
            Refusal::Expired { .. } => "expired",
            Refusal::NotYetValid { .. } => "not_yet_valid",
            Refusal::Untrusted { .. } => "untrusted",
            Refusal::CaNotForEmail { .. } => "ca_not_for_email",
            Refusal::WeakAlgorithm { .. } => "weak_algorithm",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Refusal::NoEncryptionUsage { .. } => 0,
            Refusal::Revoked { .. } => 1,
            Refusal::Expired { .. } => 2,
            Refusal::NotYetValid { .. } => 3,
            Refusal::Untrusted { .. } => 4,
            Refusal::CaNotForEmail { .. } => 5,
            Refusal::WeakAlgorithm { .. } => 6,
        }
    }
}

/// Whether the certificate itself allows encrypting e-mail to its holder, read by OpenSSL: not
/// a CA, an RSA or EC key, an extended key usage with emailProtection (or none), and a key usage
/// (if any) with keyEncipherment for RSA, keyAgreement for EC. Err: the reason (see
/// [`Refusal::NoEncryptionUsage`]).
pub fn encryption_usage(cert: &Cert) -> Result<(), &'static str> {
    if cert.is_ca() {
        return Err("ca_certificate");
    }
    let needed = match cert.x509.public_key().map(|k| k.id()) {
        Ok(openssl::pkey::Id::RSA) => X509KeyUsage::KEY_ENCIPHERMENT,
        Ok(openssl::pkey::Id::EC) => X509KeyUsage::KEY_AGREEMENT,
        _ => return Err("key_type"),
    };
    if !cert.allows_email_protection() {
        return Err("extended_key_usage");
    }
    if cert.key_usage().is_some_and(|ku| !ku.contains(needed)) {
        return Err("key_usage");
    }
    Ok(())
}

/// May `cert` be used to encrypt to its holder at `now`: its own usage ([`encryption_usage`]),
/// its chain verified for S/MIME encryption against the current anchors with `intermediates`
/// (every CA's extended key usage, validity, revocation: the CRLs we hold, and what the anchors'
/// revocation checker learns or has cached), and the algorithm policy on every certificate of
/// that chain. Nothing from any message takes part.
pub fn encryption_verdict(anchors: &TrustAnchors, cert: &Cert, intermediates: &[X509], now: i64) -> Result<(), Refusal> {
    let mut refusals = Vec::new();
    if let Err(reason) = encryption_usage(cert) {
        refusals.push(Refusal::NoEncryptionUsage { reason });
    }
    let outcome = verify_chain(anchors, &cert.x509, intermediates, &[], now, Purpose::SmimeEncrypt);
    let chain = chain_or_leaf(&outcome, cert);
    let subject = |depth: u32| chain.get(depth as usize).map_or_else(String::new, |c| c.fields.subject.to_rfc4514());
    for e in &outcome.errors {
        let at = chain.get(e.depth as usize).unwrap_or(cert);
        refusals.push(match e.code {
            // The certificate's own usage was judged above (OpenSSL's purpose wants
            // keyEncipherment even of EC keys).
            trust::V_ERR_INVALID_PURPOSE if e.depth == 0 => continue,
            trust::V_ERR_INVALID_PURPOSE => Refusal::CaNotForEmail { depth: e.depth, subject: subject(e.depth) },
            trust::V_ERR_CERT_REVOKED => {
                let known = outcome.revocation.certificates.iter().find(|c| c.depth == e.depth);
                Refusal::Revoked {
                    depth: e.depth,
                    revoked_at: known.and_then(|c| c.revoked_at.clone()),
                    revocation_reason: known.and_then(|c| c.revocation_reason),
                }
            }
            trust::V_ERR_CERT_HAS_EXPIRED => Refusal::Expired { depth: e.depth, not_after: to_rfc3339(at.validity().1) },
            trust::V_ERR_CERT_NOT_YET_VALID => Refusal::NotYetValid { depth: e.depth, not_before: to_rfc3339(at.validity().0) },
            trust::V_ERR_EE_KEY_TOO_SMALL | trust::V_ERR_CA_KEY_TOO_SMALL => {
                Refusal::WeakAlgorithm { reason: "small_rsa_key", depth: e.depth, subject: subject(e.depth) }
            }
            trust::V_ERR_CA_MD_TOO_WEAK => {
                Refusal::WeakAlgorithm { reason: "weak_certificate_signature", depth: e.depth, subject: subject(e.depth) }
            }
            code if is_crl_trouble(code) => continue,
            code => Refusal::Untrusted { reason: untrusted_reason(code), depth: e.depth },
        });
    }
    if outcome.revocation.unknown_but_required() {
        refusals.push(Refusal::Untrusted { reason: "revocation_unknown", depth: 0 });
    }
    for w in weaknesses(chain) {
        refusals.push(Refusal::WeakAlgorithm { reason: w.reason, depth: w.depth, subject: w.subject });
    }
    match refusals.into_iter().min_by_key(Refusal::rank) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// One certificate of a chain that fails the algorithm policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weakness {
    /// 0 the certificate itself, 1 its issuer, …
    pub depth: u32,
    pub subject: String,
    /// `small_rsa_key`, `dsa_key`, `small_ec_key`, `weak_certificate_signature`.
    pub reason: &'static str,
    /// The key size, for the key reasons.
    pub bits: Option<u32>,
    /// The curve (`prime192v1`), for `small_ec_key`.
    pub curve: Option<String>,
    /// The digest (`md5`, `sha1`), for `weak_certificate_signature`.
    pub algorithm: Option<String>,
}

/// Signatures weaker than this (OpenSSL's security bits) are refused: SHA-1 has 63, MD5 39.
const MIN_SIGNATURE_BITS: u32 = 112;

/// The algorithm policy, on every certificate of `chain` (the certificate first, as OpenSSL
/// built it): its key (RSA ≥ 2048 bits, EC on a curve of ≥ 256 bits, no DSA) and the signature on
/// it (no MD5, SHA-1 or anything OpenSSL rates under 112 bits), except the signature of the last
/// certificate on itself: a root's self-signature vouches for nothing.
pub fn weaknesses(chain: &[Cert]) -> Vec<Weakness> {
    let mut out = Vec::new();
    for (depth, cert) in chain.iter().enumerate() {
        let base = Weakness {
            depth: depth as u32,
            subject: cert.fields.subject.to_rfc4514(),
            reason: "",
            bits: None,
            curve: None,
            algorithm: None,
        };
        match cert.key_algorithm() {
            KeyAlgorithm::Rsa { bits } if bits < 2048 => out.push(Weakness { reason: "small_rsa_key", bits: Some(bits), ..base.clone() }),
            KeyAlgorithm::Dsa { bits } => out.push(Weakness { reason: "dsa_key", bits: Some(bits), ..base.clone() }),
            KeyAlgorithm::Ec { bits, curve } if bits < 256 => out.push(Weakness {
                reason: "small_ec_key",
                bits: Some(bits),
                curve: curve.and_then(|n| n.short_name().ok()).map(str::to_string),
                ..base.clone()
            }),
            _ => {}
        }
        let self_signature = depth + 1 == chain.len() && cert.fields.issuer_der == cert.fields.subject_der;
        if !self_signature {
            let info = cert.signature_info();
            let weak_digest = matches!(info.digest, Some(Nid::MD5 | Nid::SHA1 | Nid::MD4 | Nid::MD2 | Nid::MDC2));
            if weak_digest || info.security_bits.is_some_and(|b| b < MIN_SIGNATURE_BITS) {
                let algorithm = info.digest.and_then(|n| n.short_name().ok()).map(str::to_ascii_lowercase);
                out.push(Weakness { reason: "weak_certificate_signature", algorithm, ..base });
            }
        }
    }
    out
}

/// The signer's chain for a mail: OpenSSL's verification for S/MIME signing at `at` (with the
/// message's CRLs as candidates besides the stored ones, its OCSP responses as evidence), its
/// revocation, and the problems it and the rules on top of it find ([`chain_problems`]).
pub fn signer_chain(anchors: &TrustAnchors, cert: &Cert, untrusted: &[X509], evidence: Evidence<'_>, at: i64) -> (ChainOutcome, Vec<Problem>) {
    let outcome = verify_chain_with(anchors, &cert.x509, untrusted, evidence, at, Purpose::SmimeSign);
    let problems = chain_problems(&outcome, cert, at);
    (outcome, problems)
}

/// Turns OpenSSL's chain errors into problems, and adds the rules on top: the signer's validity
/// period (reported even when the chain could not be built; OpenSSL's reading of the dates), its key usage (RFC 8550), that a
/// CA certificate never signs mail, and the algorithm policy on every certificate of the chain.
pub fn chain_problems(outcome: &ChainOutcome, cert: &Cert, at: i64) -> Vec<Problem> {
    let mut problems = Vec::new();
    let chain = chain_or_leaf(outcome, cert);
    let cert_at = |depth: u32| chain.get(depth as usize).unwrap_or(cert);
    for e in &outcome.errors {
        let p = match e.code {
            trust::V_ERR_CERT_REVOKED => revoked_problem(outcome, e.depth),
            trust::V_ERR_CERT_HAS_EXPIRED => Problem::new(SignatureState::Expired).with("not_after", to_rfc3339(cert_at(e.depth).validity().1)),
            trust::V_ERR_CERT_NOT_YET_VALID => {
                Problem::new(SignatureState::NotYetValid).with("not_before", to_rfc3339(cert_at(e.depth).validity().0))
            }
            trust::V_ERR_INVALID_PURPOSE => {
                let p = Problem::because(SignatureState::WrongUsage, usage_reason(cert_at(e.depth)));
                if e.depth > 0 {
                    p.with("subject", cert_at(e.depth).fields.subject.to_rfc4514())
                } else {
                    p
                }
            }
            trust::V_ERR_EE_KEY_TOO_SMALL | trust::V_ERR_CA_KEY_TOO_SMALL => {
                Problem::because(SignatureState::WeakAlgorithm, "small_rsa_key")
            }
            trust::V_ERR_CA_MD_TOO_WEAK => Problem::because(SignatureState::WeakAlgorithm, "weak_certificate_signature"),
            // A stale or unusable CRL leaves revocation unknown; it does not condemn the signature.
            code if is_crl_trouble(code) => continue,
            code => {
                let p = Problem::because(SignatureState::Untrusted, untrusted_reason(code));
                if untrusted_reason(code) == "untrusted_ca" {
                    p.with("openssl_error", code)
                } else {
                    p
                }
            }
        };
        problems.push(p.with("depth", e.depth));
    }
    let (not_before, not_after) = cert.validity();
    if at > not_after && !problems.iter().any(|p| p.code == SignatureState::Expired) {
        problems.push(Problem::new(SignatureState::Expired).with("not_after", to_rfc3339(not_after)).with("depth", 0));
    }
    if at < not_before && !problems.iter().any(|p| p.code == SignatureState::NotYetValid) {
        problems.push(Problem::new(SignatureState::NotYetValid).with("not_before", to_rfc3339(not_before)).with("depth", 0));
    }
    // Revocation required, and the signer's status unknown.
    if outcome.revocation.unknown_but_required() {
        problems.push(Problem::because(SignatureState::Untrusted, "revocation_unknown").with("depth", 0));
    }
    // RFC 8550: key usage without digitalSignature or nonRepudiation forbids signing.
    if !cert.allows_signing_key_usage() && !problems.iter().any(|p| p.code == SignatureState::WrongUsage) {
        problems.push(Problem::because(SignatureState::WrongUsage, "key_usage").with("depth", 0));
    }
    // A CA certificate issues certificates; it does not sign mail.
    if cert.is_ca() {
        problems.push(Problem::because(SignatureState::WrongUsage, "ca_certificate").with("depth", 0));
    }
    for w in weaknesses(chain) {
        let mut p = Problem::because(SignatureState::WeakAlgorithm, w.reason).with("depth", w.depth).with("subject", w.subject);
        if let Some(bits) = w.bits {
            p = p.with("bits", bits);
        }
        if let Some(curve) = w.curve {
            p = p.with("curve", curve);
        }
        if let Some(algorithm) = w.algorithm {
            p = p.with("algorithm", algorithm);
        }
        problems.push(p);
    }
    for p in problems.iter_mut().filter(|p| matches!(p.code, SignatureState::Expired | SignatureState::NotYetValid)) {
        p.details.insert("at".into(), to_rfc3339(at).into());
    }
    problems
}

/// A revoked certificate at `depth`, with what the CA said: when (`revoked_at`), why
/// (`revocation_reason`), and how we know (`method`, `source`).
fn revoked_problem(outcome: &ChainOutcome, depth: u32) -> Problem {
    let mut p = Problem::new(SignatureState::Revoked);
    if let Some(c) = outcome.revocation.certificates.iter().find(|c| c.depth == depth) {
        if let Some(at) = &c.revoked_at {
            p = p.with("revoked_at", at.clone());
        }
        if let Some(reason) = c.revocation_reason {
            p = p.with("revocation_reason", reason);
        }
        if let Some(method) = c.method {
            p = p.with("method", serde_json::to_value(method).unwrap_or_default());
        }
        if let Some(source) = c.source {
            p = p.with("source", serde_json::to_value(source).unwrap_or_default());
        }
    }
    p
}

/// The chain OpenSSL built, or the certificate alone when it built none.
fn chain_or_leaf<'a>(outcome: &'a ChainOutcome, cert: &'a Cert) -> &'a [Cert] {
    if outcome.chain.is_empty() {
        std::slice::from_ref(cert)
    } else {
        &outcome.chain
    }
}

fn usage_reason(cert: &Cert) -> &'static str {
    if cert.allows_email_protection() { "key_usage" } else { "extended_key_usage" }
}

/// CRL errors: they leave revocation unknown, they condemn nothing.
fn is_crl_trouble(code: i32) -> bool {
    matches!(
        code,
        trust::V_ERR_CRL_HAS_EXPIRED
            | trust::V_ERR_CRL_NOT_YET_VALID
            | trust::V_ERR_CRL_SIGNATURE_FAILURE
            | trust::V_ERR_UNABLE_TO_GET_CRL_ISSUER
            | trust::V_ERR_KEYUSAGE_NO_CRL_SIGN
    )
}

/// The `untrusted` reason of an OpenSSL error that is not about usage, time, revocation or CRLs.
fn untrusted_reason(code: i32) -> &'static str {
    match code {
        trust::V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT | trust::V_ERR_SELF_SIGNED_CERT_IN_CHAIN => "self_signed",
        trust::V_ERR_UNABLE_TO_GET_ISSUER_CERT
        | trust::V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        | trust::V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE => "unknown_ca",
        trust::V_ERR_CERT_SIGNATURE_FAILURE => "bad_certificate_signature",
        _ => "untrusted_ca",
    }
}
