//! Choosing the certificate to encrypt to for an address, or saying exactly why there is none.

use super::{ContactCache, StoredCert};
use crate::certs::policy::{encryption_verdict, Refusal};
use crate::certs::summary::Cert;
use crate::certs::trust::TrustAnchors;
use crate::error::Result;
use openssl::x509::X509;
use serde::Serialize;

/// Why an address cannot receive encrypted mail. The order is how far the best candidate got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No signed mail received from this address yet: the key exchange has not happened.
    NeverSeen,
    /// The certificates known do not allow encryption (key usage or extended key usage).
    NoEncryptionUsage,
    Revoked,
    /// Every usable certificate has expired.
    OnlyExpired,
    NotYetValid,
    /// The certificates do not chain to a trusted CA.
    Untrusted,
    /// A CA of the chain may not issue e-mail certificates (e.g. a CA restricted to TLS).
    CaNotForEmail,
    /// A certificate of the chain uses a weak algorithm (MD5/SHA-1 signature, small key).
    WeakAlgorithm,
}

impl From<&Refusal> for Reason {
    fn from(r: &Refusal) -> Reason {
        match r {
            Refusal::NoEncryptionUsage { .. } => Reason::NoEncryptionUsage,
            Refusal::Revoked { .. } => Reason::Revoked,
            Refusal::Expired { .. } => Reason::OnlyExpired,
            Refusal::NotYetValid { .. } => Reason::NotYetValid,
            Refusal::Untrusted { .. } => Reason::Untrusted,
            Refusal::CaNotForEmail { .. } => Reason::CaNotForEmail,
            Refusal::WeakAlgorithm { .. } => Reason::WeakAlgorithm,
        }
    }
}

/// The verdict for one address.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientCheck {
    pub address: String,
    pub can_encrypt: bool,
    pub certificate: Option<super::StoredCertInfo>,
    pub reason: Option<Reason>,
    /// How many certificates the cache holds for the address.
    pub known_certificates: usize,
}

/// Trust is judged now, against the current anchors, not as it was when the mail came in.
pub struct TrustJudge<'a> {
    pub anchors: &'a TrustAnchors,
    pub intermediates: Vec<X509>,
    pub now: i64,
}

impl TrustJudge<'_> {
    /// May `cert` be used for encryption now, and if not why (`certs::policy::encryption_verdict`:
    /// its usage, its chain for S/MIME encryption with every CA's extended key usage, validity,
    /// the CRLs held, the algorithm policy).
    pub fn verdict(&self, cert: &Cert) -> std::result::Result<(), Refusal> {
        encryption_verdict(self.anchors, cert, &self.intermediates, self.now)
    }
}

/// Picks the newest certificate that is usable for encryption, not revoked, valid now and
/// trusted; otherwise the reason of the candidate that came closest.
pub fn choose<'c>(candidates: &'c [StoredCert], judge: &TrustJudge<'_>) -> std::result::Result<&'c StoredCert, Reason> {
    let mut best = Reason::NeverSeen;
    for c in candidates {
        let f = &c.cert.fields;
        let failed = if !c.can_encrypt {
            Some(Reason::NoEncryptionUsage)
        } else if c.revoked {
            Some(Reason::Revoked)
        } else if f.not_after < judge.now {
            Some(Reason::OnlyExpired)
        } else if f.not_before > judge.now {
            Some(Reason::NotYetValid)
        } else {
            judge.verdict(&c.cert).err().map(|r| Reason::from(&r))
        };
        match failed {
            None => return Ok(c),
            Some(reason) => best = best.max(reason),
        }
    }
    Err(best)
}

/// `recipients_check` for one address.
pub fn check(cache: &ContactCache, address: &str, judge: &TrustJudge<'_>) -> Result<RecipientCheck> {
    Ok(verdict(address, &cache.certificates_for(address)?, judge))
}

/// The check for an address whose certificates are at hand.
pub fn verdict(address: &str, candidates: &[StoredCert], judge: &TrustJudge<'_>) -> RecipientCheck {
    let outcome = choose(candidates, judge);
    RecipientCheck {
        address: address.to_string(),
        can_encrypt: outcome.is_ok(),
        certificate: outcome.as_ref().ok().map(|c| c.info()),
        reason: outcome.err(),
        known_certificates: candidates.len(),
    }
}
