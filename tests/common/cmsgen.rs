//! SignedData built by hand, DER element by element, for tests that need a signature no agent
//! writes: signed attributes chosen freely (a wrong or missing contentType, no messageDigest, a
//! signing time outside the certificate's validity), no signed attributes at all, thousands of
//! SignerInfos, hundreds of certificates. Every signature is real: made with the signer's key
//! over exactly the bytes RFC 5652 §5.4 says (the DER of the signed attributes, or the content
//! when there are none), so OpenSSL checks it as it would any other.
#![allow(dead_code)]

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use smime_companion::asn1::{der_tlv, oid_from_string};

pub const DATA: &str = "1.2.840.113549.1.7.1";
pub const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub const ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
pub const SHA256: &str = "2.16.840.1.101.3.4.2.1";
pub const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub const ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
pub const ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
pub const ATTR_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";

pub fn oid(dotted: &str) -> Vec<u8> {
    der_tlv(0x06, &oid_from_string(dotted).unwrap())
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der_tlv(0x30, &parts.concat())
}

/// A DER SET OF: elements sorted by their encodings (X.690 11.6), as OpenSSL re-encodes them
/// when it checks a signature over signed attributes.
pub fn set_of(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut sorted = parts.to_vec();
    sorted.sort();
    der_tlv(0x31, &sorted.concat())
}

pub fn octets(bytes: &[u8]) -> Vec<u8> {
    der_tlv(0x04, bytes)
}

fn small_int(n: u8) -> Vec<u8> {
    der_tlv(0x02, &[n])
}

/// One attribute with one value.
pub fn attribute(kind: &str, value: Vec<u8>) -> Vec<u8> {
    seq(&[oid(kind), set_of(&[value])])
}

/// UTCTime of Unix seconds (years 1950–2049).
pub fn utc_time(t: i64) -> Vec<u8> {
    let text = smime_companion::time::to_rfc3339(t); // 2026-11-27T10:00:00Z
    let digits: String = text.chars().filter(char::is_ascii_digit).collect(); // 20261127100000
    der_tlv(0x17, format!("{}Z", &digits[2..14]).as_bytes())
}

/// An intermediate CA certified by `issuer` (P-256, valid for ten years from now).
pub fn sub_ca(issuer: &super::certgen::Ca, name: &str) -> super::certgen::Ca {
    use openssl::asn1::Asn1Time;
    use openssl::x509::extension::{BasicConstraints, KeyUsage};
    let key = super::certgen::ec_key();
    let mut serial = openssl::bn::BigNum::new().unwrap();
    serial.rand(63, openssl::bn::MsbOption::MAYBE_ZERO, false).unwrap();
    let mut subject = openssl::x509::X509NameBuilder::new().unwrap();
    subject.append_entry_by_nid(openssl::nid::Nid::COMMONNAME, name).unwrap();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&serial.to_asn1_integer().unwrap()).unwrap();
    b.set_subject_name(&subject.build()).unwrap();
    b.set_issuer_name(issuer.cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(3650).unwrap()).unwrap();
    b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
    b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap()).unwrap();
    b.sign(&issuer.key, MessageDigest::sha256()).unwrap();
    super::certgen::Ca { cert: b.build(), key }
}

/// A signer: a certificate and its key.
pub struct Signer {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl Signer {
    /// The IssuerAndSerialNumber naming this signer's certificate.
    pub fn sid(&self) -> Vec<u8> {
        let mut serial = self.cert.serial_number().to_bn().unwrap().to_vec();
        if serial.first().map_or(true, |b| b & 0x80 != 0) {
            serial.insert(0, 0);
        }
        seq(&[self.cert.issuer_name().to_der().unwrap(), der_tlv(0x02, &serial)])
    }

    /// contentType id-data, messageDigest of `content`, signingTime `at`: what every agent signs.
    pub fn usual_attributes(&self, content: &[u8], at: i64) -> Vec<Vec<u8>> {
        vec![
            attribute(ATTR_CONTENT_TYPE, oid(DATA)),
            attribute(ATTR_MESSAGE_DIGEST, octets(&openssl::sha::sha256(content))),
            attribute(ATTR_SIGNING_TIME, utc_time(at)),
        ]
    }

    /// A SignerInfo (ECDSA with SHA-256). With `attributes`, the signature covers their DER
    /// (as a SET OF); without, it covers the content itself.
    pub fn signer_info(&self, content: &[u8], attributes: Option<&[Vec<u8>]>) -> Vec<u8> {
        let signed_set = attributes.map(set_of);
        let to_sign = signed_set.as_deref().unwrap_or(content);
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &self.key).unwrap();
        let signature = signer.sign_oneshot_to_vec(to_sign).unwrap();
        let mut parts = vec![small_int(1), self.sid(), seq(&[oid(SHA256)])];
        if let Some(set) = &signed_set {
            // [0] IMPLICIT: the same content under a context tag.
            let mut implicit = set.clone();
            implicit[0] = 0xa0;
            parts.push(implicit);
        }
        parts.push(seq(&[oid(ECDSA_SHA256)]));
        parts.push(octets(&signature));
        seq(&parts)
    }
}

/// A ContentInfo with a SignedData: `econtent` embedded (opaque) or not (detached), the
/// certificates listed, and the SignerInfos given.
pub fn signed_data(econtent_type: &str, econtent: Option<&[u8]>, certs: &[&X509], signer_infos: &[Vec<u8>]) -> Vec<u8> {
    signed_data_with_digests(&[SHA256], econtent_type, econtent, certs, signer_infos)
}

/// Like `signed_data`, with the digestAlgorithms set given.
pub fn signed_data_with_digests(digests: &[&str], econtent_type: &str, econtent: Option<&[u8]>, certs: &[&X509], signer_infos: &[Vec<u8>]) -> Vec<u8> {
    let mut encap = vec![oid(econtent_type)];
    if let Some(c) = econtent {
        encap.push(der_tlv(0xa0, &octets(c)));
    }
    let digest_algorithms: Vec<Vec<u8>> = digests.iter().map(|d| seq(&[oid(d)])).collect();
    let mut parts = vec![small_int(1), der_tlv(0x31, &digest_algorithms.concat()), seq(&encap)];
    if !certs.is_empty() {
        let ders: Vec<Vec<u8>> = certs.iter().map(|c| c.to_der().unwrap()).collect();
        parts.push(der_tlv(0xa0, &ders.concat()));
    }
    parts.push(der_tlv(0x31, &signer_infos.concat()));
    seq(&[oid(SIGNED_DATA), der_tlv(0xa0, &seq(&parts))])
}

/// RFC 5322 date of Unix seconds.
pub fn rfc5322_date(t: i64) -> String {
    let text = smime_companion::time::to_rfc3339(t);
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][text[5..7].parse::<usize>().unwrap() - 1];
    format!("{} {month} {} {} +0000", &text[8..10], &text[0..4], &text[11..19])
}

fn base64_lines(der: &[u8]) -> String {
    let b64 = super::b64(der);
    b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n")
}

fn headers(from: &str, date: i64) -> String {
    format!("From: {from}\r\nTo: bob@example.org\r\nSubject: test\r\nDate: {}\r\nMIME-Version: 1.0\r\n", rfc5322_date(date))
}

/// The first part of `detached_message`: what a detached signature covers.
pub const SIGNED_PART: &str = "Content-Type: text/plain; charset=utf-8\r\n\r\nPlease transfer 100 EUR to account 12345.\r\n";

/// A multipart/signed whose first part is `SIGNED_PART` and whose signature is `der`.
pub fn detached_message(from: &str, date: i64, der: &[u8]) -> Vec<u8> {
    format!(
        "{}Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"\r\n\r\n\
         --b1\r\n{SIGNED_PART}\r\n--b1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        headers(from, date),
        base64_lines(der)
    )
    .into_bytes()
}

/// An application/pkcs7-mime signed-data message carrying `der`.
pub fn opaque_message(from: &str, date: i64, der: &[u8]) -> Vec<u8> {
    format!(
        "{}Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        headers(from, date),
        base64_lines(der)
    )
    .into_bytes()
}
