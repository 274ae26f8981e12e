//! What a certificate newly seen for an address means for it (docs/CONTACTS.md, "Key changes
//! and renewals"): whether it may be used at once or waits for the user (a new key never
//! silently replaces the working certificate), whether it is an ordinary renewal, and which
//! continuity event it records. Pure decisions over what the cache holds for the address and
//! a `Judge`; `store` applies them inside its transactions. Which certificate encryption then
//! uses, or why none, is `select`'s.

use super::select::{self, Judge};
use super::{can_encrypt, key_fingerprint, CertStatus, StoredCert};
use crate::certs::summary::Cert;
use openssl::x509::X509;

/// A certificate this close to expiry (or past it) is being renewed, not replaced.
pub const RENEWAL_WINDOW_SECS: i64 = 60 * 86400;

/// How a certificate newly seen for an address stands.
#[derive(Debug, Clone, Copy)]
pub enum Standing<'c> {
    /// Usable at once (encryption still checks it like any other).
    Accepted,
    /// Held back until the user confirms it: encryption keeps using `working`.
    Pending { working: &'c StoredCert },
}

impl Standing<'_> {
    pub fn status(&self) -> CertStatus {
        match self {
            Standing::Accepted => CertStatus::Accepted,
            Standing::Pending { .. } => CertStatus::Pending,
        }
    }
}

/// The standing of `cert`, newly seen for an address whose certificates are `others` (in the
/// cache's order; `extra`: CA certificates that came with it). Pending when the address has a
/// working certificate (one encryption would use now) and `cert` is a different key that can
/// encrypt and does not renew it (`renews`); accepted otherwise: the address's first
/// certificate, one for the same key, a renewal, one that cannot encrypt anyway, or one for an
/// address with nothing usable to keep.
pub fn standing<'c>(cert: &Cert, others: &'c [StoredCert], judge: &dyn Judge, extra: &[X509]) -> Standing<'c> {
    match select::choose(others, judge) {
        Ok(working) if can_encrypt(cert) && key_fingerprint(&working.cert) != key_fingerprint(cert) && !renews(cert, &working.cert, judge, extra) => {
            Standing::Pending { working }
        }
        _ => Standing::Accepted,
    }
}

/// Whether `new` is an ordinary renewal of the working certificate `old`: issued by the same CA
/// (the same issuing CA key verifies both now) for the same subject, no older, while `old` is
/// within `RENEWAL_WINDOW_SECS` of its expiry.
pub fn renews(new: &Cert, old: &Cert, judge: &dyn Judge, extra: &[X509]) -> bool {
    let (n, o) = (&new.fields, &old.fields);
    let ((new_from, _), (old_from, old_until)) = (new.validity(), old.validity());
    // Names compared as the bytes the CA wrote; validity as OpenSSL reads it.
    if n.subject_der != o.subject_der || n.issuer_der != o.issuer_der || new_from < old_from || old_until - judge.now() > RENEWAL_WINDOW_SECS {
        return false;
    }
    let issuer_key = |outcome: crate::certs::trust::ChainOutcome| (outcome.errors.is_empty()).then(|| outcome.chain.get(1).map(key_fingerprint)).flatten();
    match (issuer_key(judge.verify(new, extra)), issuer_key(judge.verify(old, &[]))) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A change of certificate a newly seen one makes for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new key while the previous certificate is still valid and not near its expiry.
    KeyChanged,
    /// A new key for the same subject while the previous one is near or past its expiry.
    Renewed,
}

impl Change {
    /// The history's and the reply's name for it.
    pub fn event(self) -> &'static str {
        match self {
            Change::KeyChanged => "key_changed",
            Change::Renewed => "renewed",
        }
    }
}

/// The continuity event `cert` (newly seen for an address, `trusted` when its verdict had no
/// certificate-level problem) makes, and the certificate it follows. Judged only for a trusted
/// certificate, and only against the newest of the address's trusted, accepted or confirmed
/// certificates with another key: an untrusted lookalike seen first never turns the genuine
/// certificate into a key change.
pub fn continuity<'c>(cert: &Cert, trusted: bool, others: &'c [StoredCert], now: i64) -> Option<(Change, &'c StoredCert)> {
    if !trusted {
        return None;
    }
    let key = key_fingerprint(cert);
    let previous = others
        .iter()
        .filter(|o| o.trusted && matches!(o.status, CertStatus::Accepted | CertStatus::Confirmed) && key_fingerprint(&o.cert) != key)
        .max_by_key(|o| o.cert.validity().0)?;
    let prev_not_after = previous.cert.validity().1;
    let near_or_past_expiry = prev_not_after - now <= RENEWAL_WINDOW_SECS;
    if near_or_past_expiry && previous.cert.fields.subject_der == cert.fields.subject_der {
        Some((Change::Renewed, previous))
    } else if !near_or_past_expiry && prev_not_after > now {
        Some((Change::KeyChanged, previous))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::revocation::RevocationReport;
    use crate::certs::trust::{ChainError, ChainOutcome, V_ERR_CERT_UNTRUSTED};
    use crate::contacts::select::Reason;
    use crate::contacts::testing::{key, stored, Ca, DAY};

    const NOW: i64 = 1_800_000_000;

    /// A judge for whom a certificate chains to whichever of `cas` signed it, and is usable for
    /// encryption unless `refused`.
    struct Judged<'a> {
        cas: Vec<&'a Ca>,
        refused: Vec<String>,
    }

    impl Judge for Judged<'_> {
        fn now(&self) -> i64 {
            NOW
        }
        fn refusal(&self, c: &StoredCert) -> Option<Reason> {
            self.refused.contains(&c.cert.fingerprint_sha256()).then_some(Reason::Untrusted)
        }
        fn verify(&self, cert: &Cert, _: &[X509]) -> ChainOutcome {
            let issuer = self.cas.iter().find(|ca| cert.x509.verify(&ca.key).unwrap_or(false));
            ChainOutcome {
                errors: if issuer.is_some() { vec![] } else { vec![ChainError { code: V_ERR_CERT_UNTRUSTED, depth: 0 }] },
                chain: std::iter::once(cert.clone()).chain(issuer.map(|ca| ca.cert.clone())).collect(),
                anchor: None,
                revocation: RevocationReport::not_checked(),
            }
        }
    }

    fn judge<'a>(cas: &[&'a Ca]) -> Judged<'a> {
        Judged { cas: cas.to_vec(), refused: vec![] }
    }

    fn is_pending_behind(standing: Standing<'_>, working: &StoredCert) -> bool {
        matches!(standing, Standing::Pending { working: w } if w.cert.fingerprint_sha256() == working.cert.fingerprint_sha256())
    }

    #[test]
    fn an_address_s_first_certificate_is_accepted() {
        let ca = Ca::new("Test CA");
        let cert = ca.issue("Alice", &key(), NOW - DAY, NOW + 365 * DAY, true);
        assert!(matches!(standing(&cert, &[], &judge(&[&ca]), &[]), Standing::Accepted));
    }

    #[test]
    fn a_new_key_beside_a_working_certificate_waits_for_the_user() {
        let ca = Ca::new("Test CA");
        let working = stored(&ca.issue("Alice", &key(), NOW - 10 * DAY, NOW + 365 * DAY, true), CertStatus::Accepted);
        let new = ca.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, true);
        let others = [working.clone()];
        assert!(is_pending_behind(standing(&new, &others, &judge(&[&ca]), &[]), &working));
        assert_eq!(standing(&new, &others, &judge(&[&ca]), &[]).status(), CertStatus::Pending);
    }

    #[test]
    fn the_same_key_re_issued_is_accepted() {
        let ca = Ca::new("Test CA");
        let alice = key();
        let others = [stored(&ca.issue("Alice", &alice, NOW - 10 * DAY, NOW + 365 * DAY, true), CertStatus::Accepted)];
        let again = ca.issue("Alice", &alice, NOW - DAY, NOW + 700 * DAY, true);
        assert!(matches!(standing(&again, &others, &judge(&[&ca]), &[]), Standing::Accepted));
    }

    #[test]
    fn an_ordinary_renewal_near_expiry_is_accepted() {
        let ca = Ca::new("Test CA");
        let old = ca.issue("Alice", &key(), NOW - 300 * DAY, NOW + 30 * DAY, true);
        let new = ca.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, true);
        let others = [stored(&old, CertStatus::Accepted)];
        assert!(renews(&new, &old, &judge(&[&ca]), &[]));
        assert!(matches!(standing(&new, &others, &judge(&[&ca]), &[]), Standing::Accepted));
    }

    #[test]
    fn what_looks_like_a_renewal_but_is_not_waits() {
        let (ca, impostor) = (Ca::new("Test CA"), Ca::new("Test CA"));
        let old = ca.issue("Alice", &key(), NOW - 300 * DAY, NOW + 30 * DAY, true);
        let others = [stored(&old, CertStatus::Accepted)];
        let judge = judge(&[&ca, &impostor]);
        let cases = [
            ("another CA key under the same name", impostor.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, true)),
            ("another subject", ca.issue("Mallory", &key(), NOW - DAY, NOW + 700 * DAY, true)),
            ("older than the working one", ca.issue("Alice", &key(), NOW - 400 * DAY, NOW + 700 * DAY, true)),
        ];
        for (what, new) in &cases {
            assert!(!renews(new, &old, &judge, &[]), "{what}");
            assert!(is_pending_behind(standing(new, &others, &judge, &[]), &others[0]), "{what}");
        }
        // Far from the working one's expiry, the same CA's new certificate is a new key, not a renewal.
        let far = ca.issue("Alice", &key(), NOW - 300 * DAY, NOW + 300 * DAY, true);
        let new = ca.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, true);
        assert!(!renews(&new, &far, &judge, &[]));
    }

    #[test]
    fn a_certificate_that_cannot_encrypt_never_waits() {
        let ca = Ca::new("Test CA");
        let others = [stored(&ca.issue("Alice", &key(), NOW - 10 * DAY, NOW + 365 * DAY, true), CertStatus::Accepted)];
        let tls_only = ca.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, false);
        assert!(matches!(standing(&tls_only, &others, &judge(&[&ca]), &[]), Standing::Accepted));
    }

    #[test]
    fn without_a_working_certificate_a_new_key_is_accepted() {
        let ca = Ca::new("Test CA");
        let unusable = stored(&ca.issue("Alice", &key(), NOW - 10 * DAY, NOW + 365 * DAY, true), CertStatus::Accepted);
        let refused = stored(&ca.issue("Alice", &key(), NOW - 10 * DAY, NOW + 365 * DAY, true), CertStatus::Refused);
        let new = ca.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, true);
        let judge = Judged { cas: vec![&ca], refused: vec![unusable.cert.fingerprint_sha256()] };
        assert!(matches!(standing(&new, &[unusable, refused], &judge, &[]), Standing::Accepted));
    }

    #[test]
    fn a_trusted_new_key_is_a_key_change_or_a_renewal_by_the_previous_certificate_s_expiry() {
        let ca = Ca::new("Test CA");
        let new = ca.issue("Alice", &key(), NOW - DAY, NOW + 700 * DAY, true);
        let event = |previous: &Cert| continuity(&new, true, &[stored(previous, CertStatus::Accepted)], NOW).map(|(c, _)| c);
        assert_eq!(event(&ca.issue("Alice", &key(), NOW - 100 * DAY, NOW + 300 * DAY, true)), Some(Change::KeyChanged));
        assert_eq!(event(&ca.issue("Alice", &key(), NOW - 300 * DAY, NOW + 30 * DAY, true)), Some(Change::Renewed));
        assert_eq!(event(&ca.issue("Alice", &key(), NOW - 400 * DAY, NOW - 30 * DAY, true)), Some(Change::Renewed), "past expiry");
        assert_eq!(event(&ca.issue("Alice (old name)", &key(), NOW - 300 * DAY, NOW + 30 * DAY, true)), None, "another subject near expiry");
        assert_eq!(event(&ca.issue("Alice (old name)", &key(), NOW - 400 * DAY, NOW - 30 * DAY, true)), None);
        assert_eq!((Change::KeyChanged.event(), Change::Renewed.event()), ("key_changed", "renewed"));
    }

    #[test]
    fn continuity_is_judged_only_for_trusted_certificates_against_trusted_working_ones() {
        let ca = Ca::new("Test CA");
        let alice = key();
        let new = ca.issue("Alice", &alice, NOW - DAY, NOW + 700 * DAY, true);
        let previous = ca.issue("Alice", &key(), NOW - 100 * DAY, NOW + 300 * DAY, true);
        assert_eq!(continuity(&new, false, &[stored(&previous, CertStatus::Accepted)], NOW).map(|(c, _)| c), None, "an untrusted lookalike");
        let mut untrusted = stored(&previous, CertStatus::Accepted);
        untrusted.trusted = false;
        for (what, other) in [
            ("untrusted", untrusted),
            ("pending", stored(&previous, CertStatus::Pending)),
            ("refused", stored(&previous, CertStatus::Refused)),
            ("the same key", stored(&ca.issue("Alice", &alice, NOW - 100 * DAY, NOW + 300 * DAY, true), CertStatus::Accepted)),
        ] {
            assert_eq!(continuity(&new, true, &[other], NOW).map(|(c, _)| c), None, "{what}");
        }
        // Against the newest of the trusted working ones.
        let older = stored(&ca.issue("Alice", &key(), NOW - 500 * DAY, NOW + 30 * DAY, true), CertStatus::Confirmed);
        let newest = stored(&previous, CertStatus::Accepted);
        let others = [older, newest.clone()];
        let (change, against) = continuity(&new, true, &others, NOW).unwrap();
        assert_eq!((change, against.cert.fingerprint_sha256()), (Change::KeyChanged, newest.cert.fingerprint_sha256()));
    }
}
