//! OpenSSL's reading of the fields that decisions rest on: e-mail addresses, key usage, extended
//! key usage, whether a certificate is a CA, its validity period, the strength of its key and of
//! its signature.
//!
//! OpenSSL's chain verification reads these fields with its own parser; a decision taken on a
//! second reading (our DER reader, `x509.rs`) could be fooled by a certificate that means one
//! thing to one parser and another to the other. So every check uses this module, and
//! `x509.rs` only describes certificates for people. `tests/readings.rs` compares both readings
//! on every test certificate.

use super::summary::Cert;
use crate::ffi;
use foreign_types::ForeignTypeRef;
use openssl::nid::Nid;
use openssl::pkey::Id;
use openssl::x509::{X509ExtendedKeyUsage, X509KeyUsage};

/// The e-mail addresses of a certificate as OpenSSL reads them, kept apart by where they are:
/// the subjectAltName's rfc822Names and the subject's emailAddress attributes, each in
/// certificate order, exactly as written (no trimming, no case folding). An address that is not
/// valid UTF-8 is left out (it can match no mailbox).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertEmails {
    pub san: Vec<String>,
    pub subject: Vec<String>,
}

/// The public key as the algorithm policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Rsa { bits: u32 },
    Dsa { bits: u32 },
    /// `bits`: the size of the curve's order (P-256: 256).
    Ec { bits: u32, curve: Option<Nid> },
    Ed25519,
    Ed448,
    Other,
}

/// The signature on a certificate, as OpenSSL describes it (`X509_get_signature_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureInfo {
    /// The digest (None for algorithms without a separate one, such as Ed25519).
    pub digest: Option<Nid>,
    /// The security level in bits OpenSSL gives the signature (SHA-1: 63, MD5: 39).
    pub security_bits: Option<u32>,
}

// nsCertType bits (x509v3.h): SSL client, S/MIME.
const NS_SSL_CLIENT: u8 = 0x80;
const NS_SMIME: u8 = 0x20;

impl Cert {
    /// The e-mail addresses, as OpenSSL reads them (see [`CertEmails`]).
    pub fn openssl_emails(&self) -> CertEmails {
        let san = self
            .x509
            .subject_alt_names()
            .map(|names| names.iter().filter_map(|n| n.email().map(str::to_string)).collect())
            .unwrap_or_default();
        let subject = self
            .x509
            .subject_name()
            .entries_by_nid(Nid::PKCS9_EMAILADDRESS)
            .filter_map(|e| e.data().to_string().ok())
            .collect();
        CertEmails { san, subject }
    }

    /// Whether the certificate has a subjectAltName extension, readable or not (RFC 8550: then
    /// only its addresses count, never the subject's emailAddress).
    pub fn has_subject_alt_name(&self) -> bool {
        unsafe { openssl_sys::X509_get_ext_by_NID(self.x509.as_ptr(), Nid::SUBJECT_ALT_NAME.as_raw(), -1) >= 0 }
    }

    /// The key usage bits; None when the certificate has no key usage extension. A certificate
    /// whose extensions OpenSSL cannot process has no usage at all.
    pub fn key_usage(&self) -> Option<X509KeyUsage> {
        self.x509.key_usage()
    }

    /// The extended key usages OpenSSL knows; None when the extension is absent.
    pub fn extended_key_usage(&self) -> Option<X509ExtendedKeyUsage> {
        self.x509.extended_key_usage()
    }

    /// basicConstraints cA = TRUE.
    pub fn has_ca_constraint(&self) -> bool {
        self.extension_flags() & openssl_sys::EXFLAG_CA != 0
    }

    /// Whether OpenSSL would accept the certificate as an issuer of others (`X509_check_ca`):
    /// basicConstraints cA = TRUE, or, without basicConstraints, a key usage with keyCertSign,
    /// a Netscape CA type, or a self-signed version 1 certificate.
    pub fn is_ca(&self) -> bool {
        unsafe { ffi::X509_check_ca(self.x509.as_ptr()) != 0 }
    }

    /// The extended key usage (and an old Netscape certificate type) allows S/MIME, as OpenSSL's
    /// S/MIME purposes judge it: the extension is absent or lists emailProtection. OpenSSL does
    /// not take anyExtendedKeyUsage for S/MIME, and neither do we: its verdict decides.
    pub fn allows_email_protection(&self) -> bool {
        let eku_ok = self.extended_key_usage().map_or(true, |x| x.contains(X509ExtendedKeyUsage::SMIME));
        eku_ok && self.netscape_cert_type().map_or(true, |t| t & (NS_SMIME | NS_SSL_CLIENT) != 0)
    }

    /// The key usage allows signatures: digitalSignature or nonRepudiation (RFC 8550); an absent
    /// extension allows any use.
    pub fn allows_signing_key_usage(&self) -> bool {
        self.key_usage().map_or(true, |k| k.intersects(X509KeyUsage::DIGITAL_SIGNATURE | X509KeyUsage::NON_REPUDIATION))
    }

    /// The first byte of the Netscape certificate type extension, when there is one.
    fn netscape_cert_type(&self) -> Option<u8> {
        if self.extension_flags() & openssl_sys::EXFLAG_NSCERT == 0 {
            return None;
        }
        unsafe {
            let mut crit = 0;
            let bits = openssl_sys::X509_get_ext_d2i(
                self.x509.as_ptr(),
                Nid::NETSCAPE_CERT_TYPE.as_raw(),
                &mut crit,
                std::ptr::null_mut(),
            ) as *mut openssl_sys::ASN1_STRING;
            if bits.is_null() {
                // Present but unreadable: OpenSSL then marks the certificate invalid; allow nothing.
                let _ = openssl::error::ErrorStack::get();
                return Some(0);
            }
            let len = openssl_sys::ASN1_STRING_length(bits);
            let first = if len > 0 { *openssl_sys::ASN1_STRING_get0_data(bits) } else { 0 };
            openssl_sys::ASN1_STRING_free(bits);
            Some(first)
        }
    }

    /// OpenSSL's extension flags (`EXFLAG_*`), computed once per certificate by OpenSSL.
    pub fn extension_flags(&self) -> u32 {
        unsafe { openssl_sys::X509_get_extension_flags(self.x509.as_ptr()) }
    }

    /// notBefore and notAfter as Unix seconds, as OpenSSL reads them.
    pub fn validity(&self) -> (i64, i64) {
        let unix = |t: &openssl::asn1::Asn1TimeRef| {
            openssl::asn1::Asn1Time::from_unix(0)
                .and_then(|epoch| epoch.diff(t))
                .map(|d| d.days as i64 * 86400 + d.secs as i64)
                .unwrap_or(0)
        };
        (unix(self.x509.not_before()), unix(self.x509.not_after()))
    }

    /// The public key's algorithm and size.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        let Ok(key) = self.x509.public_key() else { return KeyAlgorithm::Other };
        match key.id() {
            Id::RSA | Id::RSA_PSS => KeyAlgorithm::Rsa { bits: key.bits() },
            Id::DSA => KeyAlgorithm::Dsa { bits: key.bits() },
            Id::EC => KeyAlgorithm::Ec { bits: key.bits(), curve: key.ec_key().ok().and_then(|k| k.group().curve_name()) },
            Id::ED25519 => KeyAlgorithm::Ed25519,
            Id::ED448 => KeyAlgorithm::Ed448,
            _ => KeyAlgorithm::Other,
        }
    }

    /// The signature on the certificate (by its issuer, or by itself).
    pub fn signature_info(&self) -> SignatureInfo {
        let (mut md, mut pk, mut bits, mut flags) = (0, 0, 0, 0u32);
        let valid = unsafe { ffi::X509_get_signature_info(self.x509.as_ptr(), &mut md, &mut pk, &mut bits, &mut flags) } == 1;
        let _ = openssl::error::ErrorStack::get();
        SignatureInfo {
            digest: (md != 0).then(|| Nid::from_raw(md)),
            security_bits: (valid && bits >= 0).then_some(bits as u32),
        }
    }
}

/// The key usage bits, by the names `CertSummary` uses (x509.rs `KEY_USAGE_NAMES`).
pub fn key_usage_names(ku: X509KeyUsage) -> Vec<&'static str> {
    const BITS: [(X509KeyUsage, &str); 9] = [
        (X509KeyUsage::DIGITAL_SIGNATURE, "digital_signature"),
        (X509KeyUsage::NON_REPUDIATION, "non_repudiation"),
        (X509KeyUsage::KEY_ENCIPHERMENT, "key_encipherment"),
        (X509KeyUsage::DATA_ENCIPHERMENT, "data_encipherment"),
        (X509KeyUsage::KEY_AGREEMENT, "key_agreement"),
        (X509KeyUsage::KEY_CERT_SIGN, "key_cert_sign"),
        (X509KeyUsage::CRL_SIGN, "crl_sign"),
        (X509KeyUsage::ENCIPHER_ONLY, "encipher_only"),
        (X509KeyUsage::DECIPHER_ONLY, "decipher_only"),
    ];
    BITS.iter().filter(|(bit, _)| ku.contains(*bit)).map(|(_, name)| *name).collect()
}

/// What OpenSSL makes of a list of extended key usage OIDs: the purposes it knows (others are
/// invisible to it).
pub fn extended_key_usage_of(oids: &[String]) -> X509ExtendedKeyUsage {
    oids.iter()
        .map(|o| match o.as_str() {
            "1.3.6.1.5.5.7.3.1" => X509ExtendedKeyUsage::SSL_SERVER,
            "1.3.6.1.5.5.7.3.2" => X509ExtendedKeyUsage::SSL_CLIENT,
            "1.3.6.1.5.5.7.3.3" => X509ExtendedKeyUsage::CODE_SIGN,
            "1.3.6.1.5.5.7.3.4" => X509ExtendedKeyUsage::SMIME,
            "1.3.6.1.5.5.7.3.8" => X509ExtendedKeyUsage::TIMESTAMP,
            "1.3.6.1.5.5.7.3.9" => X509ExtendedKeyUsage::OCSP_SIGN,
            "1.3.6.1.5.5.7.3.10" => X509ExtendedKeyUsage::DVCS,
            "1.3.6.1.4.1.311.10.3.3" | "2.16.840.1.113730.4.1" => X509ExtendedKeyUsage::SGC,
            "2.5.29.37.0" => X509ExtendedKeyUsage::ANYEKU,
            _ => X509ExtendedKeyUsage::empty(),
        })
        .fold(X509ExtendedKeyUsage::empty(), |a, b| a | b)
}
