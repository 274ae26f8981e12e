//! Choosing the certificate to encrypt to for an address, or saying exactly why there is none.

use super::{ContactCache, StoredCert};
use crate::certs::summary::Cert;
use crate::certs::trust::{verify_chain, Purpose, TrustAnchors};
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
    pub fn trusted(&self, cert: &Cert) -> bool {
        verify_chain(self.anchors, &cert.x509, &self.intermediates, &[], self.now, Purpose::ChainOnly).errors.is_empty()
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
        } else if !judge.trusted(&c.cert) {
            Some(Reason::Untrusted)
        } else {
            None
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
