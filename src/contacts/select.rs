//! Choosing the certificate to encrypt to for an address, or saying exactly why there is none;
//! and, per certificate, why it is not the one used.
//!
//! Two things decide: the certificate's own checks, asked of a [`Judge`] (the seam: `TrustJudge`
//! says whether a certificate is usable for encryption now), and the user's choice recorded for
//! the address (`refused`, `pending` confirmation; see `CertStatus`).

use super::{CertStatus, ContactCache, StoredCert};
use crate::certs::policy::{encryption_verdict, Refusal};
use crate::certs::summary::Cert;
use crate::certs::trust::{verify_chain, ChainOutcome, Purpose, TrustAnchors};
use crate::error::Result;
use openssl::x509::X509;
use serde::Serialize;

/// Why an address cannot receive encrypted mail, or (per certificate) why one certificate is not
/// the one used. The order is how far a candidate got: the contact-level reason is the one of
/// the candidate that came closest. Reasons a `Judge` gives (`certs::policy::Refusal`) sit
/// between `refused` and `pending_confirmation`; a new check adds its codes there, with texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No signed mail received from this address yet: the key exchange has not happened.
    NeverSeen,
    /// The user refused this certificate for this address.
    Refused,
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
    /// Usable, but a new key that waits for the user's confirmation (contacts page).
    PendingConfirmation,
    /// Per certificate only: usable, but another certificate is the one used.
    Superseded,
}

impl Reason {
    pub fn code(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
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
    /// How many of them are new keys that wait for the user's decision (status `pending`) and
    /// would be usable once confirmed: the compose check says that encryption uses the previous
    /// certificate meanwhile. A pending certificate that fails a check of its own (an untrusted
    /// lookalike, an expired one) is not counted: confirming it would change nothing.
    pub pending_certificates: usize,
}

/// What the cache asks about certificates: whether one can be used for encryption now, and
/// whether a chain reaches a trust anchor (for what it stores about trust).
pub trait Judge {
    /// The time judged at.
    fn now(&self) -> i64;
    /// Why `cert` cannot be used to encrypt to its holder now; None when it can. Only the
    /// certificate's own checks: the user's choice (refused, pending) is not the judge's.
    fn refusal(&self, cert: &StoredCert) -> Option<Reason>;
    /// OpenSSL's verification of a chain now (chain only: usage is checked by `refusal`), with
    /// `extra` CA certificates as candidate intermediates besides the known ones.
    fn verify(&self, cert: &Cert, extra: &[X509]) -> ChainOutcome;
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

    /// Whether a stored certificate is usable for encryption now; the reason when not: what the
    /// cache knows (its usage, a revocation seen in a verdict, its validity), then `verdict`.
    pub fn refusal(&self, c: &StoredCert) -> Option<Reason> {
        let (not_before, not_after) = c.cert.validity();
        if !c.can_encrypt {
            Some(Reason::NoEncryptionUsage)
        } else if c.revoked {
            Some(Reason::Revoked)
        } else if not_after < self.now {
            Some(Reason::OnlyExpired)
        } else if not_before > self.now {
            Some(Reason::NotYetValid)
        } else {
            self.verdict(&c.cert).err().map(|r| Reason::from(&r))
        }
    }

    pub fn verify(&self, cert: &Cert, extra: &[X509]) -> ChainOutcome {
        let mut untrusted = self.intermediates.clone();
        untrusted.extend(extra.iter().cloned());
        verify_chain(self.anchors, &cert.x509, &untrusted, &[], self.now, Purpose::ChainOnly)
    }
}

impl Judge for TrustJudge<'_> {
    fn now(&self) -> i64 {
        self.now
    }

    fn refusal(&self, cert: &StoredCert) -> Option<Reason> {
        TrustJudge::refusal(self, cert)
    }

    fn verify(&self, cert: &Cert, extra: &[X509]) -> ChainOutcome {
        TrustJudge::verify(self, cert, extra)
    }
}

/// A judge that trusts nothing: certificates stored through it are untrusted and no certificate
/// counts as usable (imports by tests and benchmarks that have no anchors).
pub struct Unjudged {
    pub now: i64,
}

impl Judge for Unjudged {
    fn now(&self) -> i64 {
        self.now
    }

    fn refusal(&self, _: &StoredCert) -> Option<Reason> {
        Some(Reason::Untrusted)
    }

    fn verify(&self, cert: &Cert, _: &[X509]) -> ChainOutcome {
        ChainOutcome {
            errors: vec![crate::certs::trust::ChainError { code: crate::certs::trust::V_ERR_CERT_UNTRUSTED, depth: 0 }],
            chain: vec![cert.clone()],
            anchor: None,
            revocation: crate::certs::revocation::RevocationReport::not_checked(),
        }
    }
}

/// Why one certificate is not usable for this address now (None: usable): the user's refusal
/// first, then the judge's checks, then a pending confirmation.
pub fn reason_for(c: &StoredCert, judge: &dyn Judge) -> Option<Reason> {
    if c.status == CertStatus::Refused {
        return Some(Reason::Refused);
    }
    if let Some(reason) = judge.refusal(c) {
        return Some(reason);
    }
    (c.status == CertStatus::Pending).then_some(Reason::PendingConfirmation)
}

/// Picks the first usable certificate in the cache's order (the most recently accepted, then
/// the newest); otherwise the reason of the candidate that came closest.
pub fn choose<'c>(candidates: &'c [StoredCert], judge: &dyn Judge) -> std::result::Result<&'c StoredCert, Reason> {
    let mut best = Reason::NeverSeen;
    for c in candidates {
        match reason_for(c, judge) {
            None => return Ok(c),
            Some(reason) => best = best.max(reason),
        }
    }
    Err(best)
}

/// Per certificate, in the candidates' order: None for the one encryption uses, else why not
/// (`superseded` for a usable one after it).
pub fn reasons(candidates: &[StoredCert], judge: &dyn Judge) -> Vec<Option<Reason>> {
    let mut chosen = false;
    candidates
        .iter()
        .map(|c| match reason_for(c, judge) {
            None if !chosen => {
                chosen = true;
                None
            }
            None => Some(Reason::Superseded),
            Some(reason) => Some(reason),
        })
        .collect()
}

/// `recipients_check` for one address.
pub fn check(cache: &ContactCache, address: &str, judge: &dyn Judge) -> Result<RecipientCheck> {
    Ok(verdict(address, &cache.certificates_for(address)?, judge))
}

/// The check for an address whose certificates are at hand.
pub fn verdict(address: &str, candidates: &[StoredCert], judge: &dyn Judge) -> RecipientCheck {
    let outcome = choose(candidates, judge);
    RecipientCheck {
        address: address.to_string(),
        can_encrypt: outcome.is_ok(),
        certificate: outcome.as_ref().ok().map(|c| c.info()),
        reason: outcome.err(),
        known_certificates: candidates.len(),
        pending_certificates: candidates.iter().filter(|c| c.status == CertStatus::Pending && judge.refusal(c).is_none()).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{CertStatus, Source, StoredCert};

    /// A judge that refuses what it is told to, by certificate (the seam a full check plugs into).
    struct Refusing(Vec<(String, Reason)>);

    impl Judge for Refusing {
        fn now(&self) -> i64 {
            0
        }
        fn refusal(&self, cert: &StoredCert) -> Option<Reason> {
            self.0.iter().find(|(fp, _)| *fp == cert.cert.fingerprint_sha256()).map(|(_, r)| *r)
        }
        fn verify(&self, cert: &Cert, _: &[X509]) -> ChainOutcome {
            Unjudged { now: 0 }.verify(cert, &[])
        }
    }

    fn stored(status: CertStatus) -> StoredCert {
        let key = openssl::pkey::PKey::from_ec_key(
            openssl::ec::EcKey::generate(&openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
        )
        .unwrap();
        let mut b = X509::builder().unwrap();
        let serial = openssl::bn::BigNum::from_u32(rand_u32()).unwrap().to_asn1_integer().unwrap();
        b.set_serial_number(&serial).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::from_unix(0).unwrap()).unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::from_unix(1).unwrap()).unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
        let cert = Cert::from_x509(&b.build()).unwrap();
        StoredCert { cert, source: Source::Import, trusted: true, revoked: false, can_encrypt: true, capabilities: vec![], first_seen: 0, last_seen: 0, status }
    }

    fn rand_u32() -> u32 {
        let mut bytes = [0u8; 4];
        openssl::rand::rand_bytes(&mut bytes).unwrap();
        u32::from_le_bytes(bytes)
    }

    #[test]
    fn each_certificate_gets_its_reason_and_the_contact_the_closest_one() {
        let (refused, untrusted, pending, working, later) =
            (stored(CertStatus::Refused), stored(CertStatus::Accepted), stored(CertStatus::Pending), stored(CertStatus::Confirmed), stored(CertStatus::Accepted));
        let judge = Refusing(vec![(untrusted.cert.fingerprint_sha256(), Reason::Untrusted)]);
        let all = [refused.clone(), untrusted.clone(), pending.clone(), working.clone(), later.clone()];
        assert_eq!(
            reasons(&all, &judge),
            [Some(Reason::Refused), Some(Reason::Untrusted), Some(Reason::PendingConfirmation), None, Some(Reason::Superseded)]
        );
        assert_eq!(choose(&all, &judge).unwrap().cert.fingerprint_sha256(), working.cert.fingerprint_sha256());
        // Without a usable one, the reason of the candidate that came closest: a pending key.
        assert_eq!(choose(&[refused.clone(), untrusted.clone(), pending.clone()], &judge).err(), Some(Reason::PendingConfirmation));
        assert_eq!(choose(&[refused.clone(), untrusted], &judge).err(), Some(Reason::Untrusted));
        assert_eq!(choose(&[refused], &judge).err(), Some(Reason::Refused));
        assert_eq!(choose(&[], &judge).err(), Some(Reason::NeverSeen));
        // A refused certificate is refused whatever the judge says; the judge speaks before "pending".
        let judge = Refusing(vec![(pending.cert.fingerprint_sha256(), Reason::Revoked)]);
        assert_eq!(reasons(&[pending], &judge), [Some(Reason::Revoked)]);
    }
}
