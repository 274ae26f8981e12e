//! OCSP (RFC 6960): the request for one certificate, and the checks an answer must pass before it
//! counts, all made by OpenSSL:
//!
//! - the response is `successful` and a basic response;
//! - its signature verifies, and the signer is authorised for the certificate's issuer: the
//!   issuer itself, or a responder certificate the issuer signed with `id-kp-OCSPSigning`
//!   (`OCSP_basic_verify`; the signer's chain must reach a trust anchor; trust settings of a root
//!   never stand in for that, `OCSP_NOEXPLICIT`);
//! - the nonce we sent comes back unchanged when the responder echoes one (many CAs pre-sign
//!   their answers and echo none; RFC 5019);
//! - it names the certificate asked about (issuer name and key hashes, serial number);
//! - it is fresh: thisUpdate not in the future, nextUpdate not passed (5 minutes' leeway for
//!   clocks), and without nextUpdate not older than a day.
//!
//! An answer embedded in a message (RFC 5940) passes the same checks, without the nonce.

use crate::ffi;
use foreign_types::ForeignTypeRef;
use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspBasicResponseRef, OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreRef;
use openssl::x509::{X509Ref, X509};

/// Clocks may differ by this much.
pub const MAX_SKEW_SECS: i64 = 300;

/// An answer without nextUpdate ("newer information is always available") counts this long.
pub const MAX_AGE_WITHOUT_NEXT_UPDATE_SECS: i64 = 24 * 3600;

/// What a verified answer says about the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    pub status: AnswerStatus,
    pub this_update: i64,
    pub next_update: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerStatus {
    Good,
    Revoked { at: i64, reason: Option<&'static str> },
    /// The responder does not know the certificate.
    Unknown,
}

/// Why an answer does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not an OCSP response, or not `successful` (`tryLater`, `unauthorized`, …).
    ResponderError,
    /// Its signature, its signer's authority or the nonce fail, or it names other certificates.
    Invalid,
    /// Out of date.
    Stale,
}

/// An OCSP request for one certificate, with a fresh nonce.
pub struct Query {
    request: OcspRequest,
    pub der: Vec<u8>,
}

impl Query {
    pub fn new(cert: &X509Ref, issuer: &X509Ref) -> Option<Query> {
        let build = || -> Result<Query, openssl::error::ErrorStack> {
            let mut request = OcspRequest::new()?;
            // SHA-1 CertIDs are what every responder answers (RFC 5019 §2.1.1); they identify,
            // the response's signature protects.
            request.add_id(OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer)?)?;
            // SAFETY: `request` is a live OCSP_REQUEST; a null value with length -1 asks OpenSSL
            // for 16 random bytes.
            if unsafe { ffi::OCSP_request_add1_nonce(request.as_ptr(), std::ptr::null_mut(), -1) } <= 0 {
                return Err(openssl::error::ErrorStack::get());
            }
            let der = request.to_der()?;
            Ok(Query { request, der })
        };
        let query = build().map_err(|e| log::debug!("OCSP request could not be built: {e}")).ok();
        let _ = openssl::error::ErrorStack::get();
        query
    }
}

/// Checks an answer for `cert` (issued by `issuer`) and reads it. `query`: the request it answers
/// (None for an answer from a message). `untrusted`: certificates that may complete the
/// responder's chain. `store`: the trust anchors. `now`: Unix seconds.
pub fn check(
    der: &[u8],
    cert: &X509Ref,
    issuer: &X509Ref,
    untrusted: &[X509],
    store: &X509StoreRef,
    query: Option<&Query>,
    now: i64,
) -> Result<OcspAnswer, Refused> {
    let result = check_inner(der, cert, issuer, untrusted, store, query, now);
    let _ = openssl::error::ErrorStack::get();
    result
}

fn check_inner(
    der: &[u8],
    cert: &X509Ref,
    issuer: &X509Ref,
    untrusted: &[X509],
    store: &X509StoreRef,
    query: Option<&Query>,
    now: i64,
) -> Result<OcspAnswer, Refused> {
    let response = OcspResponse::from_der(der).map_err(|_| Refused::ResponderError)?;
    if response.status() != OcspResponseStatus::SUCCESSFUL {
        return Err(Refused::ResponderError);
    }
    let basic = response.basic().map_err(|_| Refused::ResponderError)?;
    let mut certs = Stack::new().map_err(|_| Refused::Invalid)?;
    certs.push(issuer.to_owned()).map_err(|_| Refused::Invalid)?;
    for c in untrusted {
        certs.push(c.clone()).map_err(|_| Refused::Invalid)?;
    }
    if let Err(e) = basic.verify(&certs, store, OcspFlag::NO_EXPLICIT) {
        log::debug!("OCSP response refused: {e}");
        return Err(Refused::Invalid);
    }
    if let Some(query) = query {
        // SAFETY: both pointers are live objects owned by `query` and `basic`.
        let nonce = unsafe { ffi::OCSP_check_nonce(query.request.as_ptr(), basic.as_ptr()) };
        // 1: echoed; -1: the responder echoes none (pre-signed answers). 0: a different nonce;
        // 3 (a nonce we never sent) cannot answer our request either.
        if !matches!(nonce, 1 | -1) {
            return Err(Refused::Invalid);
        }
    }
    status_of(&basic, cert, issuer)?.check_fresh(now)
}

/// The status for `cert` in a verified response, under a SHA-1 or SHA-256 CertID.
fn status_of(basic: &OcspBasicResponseRef, cert: &X509Ref, issuer: &X509Ref) -> Result<Found, Refused> {
    for digest in [MessageDigest::sha1(), MessageDigest::sha256()] {
        let Ok(id) = OcspCertId::from_cert(digest, cert, issuer) else { continue };
        if let Some(status) = basic.find_status(&id) {
            let this_update = generalized(status.this_update).ok_or(Refused::Invalid)?;
            let next_update = match status.next_update() {
                Some(t) => Some(generalized(t).ok_or(Refused::Invalid)?),
                None => None,
            };
            let answer = if status.status == OcspCertStatus::GOOD {
                AnswerStatus::Good
            } else if status.status == OcspCertStatus::REVOKED {
                let at = status.revocation_time.and_then(generalized).ok_or(Refused::Invalid)?;
                AnswerStatus::Revoked { at, reason: reason_name(status.reason.as_raw()) }
            } else {
                AnswerStatus::Unknown
            };
            return Ok(Found { answer: OcspAnswer { status: answer, this_update, next_update } });
        }
    }
    Err(Refused::Invalid)
}

struct Found {
    answer: OcspAnswer,
}

impl Found {
    fn check_fresh(self, now: i64) -> Result<OcspAnswer, Refused> {
        let a = &self.answer;
        if a.this_update > now + MAX_SKEW_SECS {
            return Err(Refused::Stale);
        }
        let fresh = match a.next_update {
            Some(next) => next >= now - MAX_SKEW_SECS,
            None => a.this_update >= now - MAX_AGE_WITHOUT_NEXT_UPDATE_SECS,
        };
        if fresh {
            Ok(self.answer)
        } else {
            Err(Refused::Stale)
        }
    }
}

/// A GeneralizedTime as Unix seconds.
fn generalized(t: &openssl::asn1::Asn1GeneralizedTimeRef) -> Option<i64> {
    // SAFETY: an ASN1_GENERALIZEDTIME is an ASN1_STRING; its data is read, not kept.
    let bytes = unsafe {
        let s = t.as_ptr() as *const openssl_sys::ASN1_STRING;
        let len = openssl_sys::ASN1_STRING_length(s).max(0) as usize;
        let data = openssl_sys::ASN1_STRING_get0_data(s);
        if data.is_null() {
            return None;
        }
        std::slice::from_raw_parts(data, len)
    };
    crate::time::parse_asn1_time(bytes, true)
}

/// The CRLReason (RFC 5280 §5.3.1) by its code, as the verdict names it.
pub fn reason_name(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "unspecified",
        1 => "key_compromise",
        2 => "ca_compromise",
        3 => "affiliation_changed",
        4 => "superseded",
        5 => "cessation_of_operation",
        6 => "certificate_hold",
        8 => "remove_from_crl",
        9 => "privilege_withdrawn",
        10 => "aa_compromise",
        _ => return None,
    })
}

/// The OCSP responses a SignedData carries as `otherRevInfo` (RFC 5940 §2.2, format
/// `id-ri-ocsp-response`), at most `max`.
pub fn embedded_responses(signed_data_der: &[u8], max: usize) -> Vec<Vec<u8>> {
    crate::smime::cms_der::ocsp_responses(signed_data_der, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_reasons_have_names_and_unknown_codes_none() {
        assert_eq!(reason_name(1), Some("key_compromise"));
        assert_eq!(reason_name(6), Some("certificate_hold"));
        assert_eq!(reason_name(7), None, "7 is not assigned");
        assert_eq!(reason_name(-1), None);
    }

    #[test]
    fn freshness_allows_skew_and_refuses_old_or_future_answers() {
        let at = |this_update, next_update| Found { answer: OcspAnswer { status: AnswerStatus::Good, this_update, next_update } };
        let now = 1_800_000_000;
        assert!(at(now - 60, Some(now + 3600)).check_fresh(now).is_ok());
        assert!(at(now - 7200, Some(now - 60)).check_fresh(now).is_ok(), "within the leeway");
        assert_eq!(at(now - 7200, Some(now - 3600)).check_fresh(now), Err(Refused::Stale));
        assert_eq!(at(now + 3600, Some(now + 7200)).check_fresh(now), Err(Refused::Stale));
        assert!(at(now - 3600, None).check_fresh(now).is_ok());
        assert_eq!(at(now - 2 * 86400, None).check_fresh(now), Err(Refused::Stale));
    }
}
