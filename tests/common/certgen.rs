//! Certificates made on the fly for tests whose validity must be relative to now (continuity,
//! selection) or that need many certificates (bulk import, benchmarks). EC P-256 keys keep it fast.
#![allow(dead_code)]

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509NameBuilder, X509};

pub fn ec_key() -> PKey<Private> {
    PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap()
}

pub struct Ca {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = ec_key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        let n = name_of(name);
        b.set_subject_name(&n).unwrap();
        b.set_issuer_name(&n).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(3650).unwrap()).unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap()).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        Ca { cert: b.build(), key }
    }

    pub fn pem(&self) -> Vec<u8> {
        self.cert.to_pem().unwrap()
    }

    /// An intermediate CA issued by `parent`, with extra extensions as (OID, critical, DER value),
    /// e.g. `name_constraints_excluding_email`.
    pub fn intermediate(parent: &Ca, name: &str, extra: &[(&str, bool, Vec<u8>)]) -> Ca {
        let key = ec_key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name_of(name)).unwrap();
        b.set_issuer_name(parent.cert.subject_name()).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(3650).unwrap()).unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap()).unwrap();
        for (oid, critical, der) in extra {
            b.append_extension(raw_extension(oid, *critical, der)).unwrap();
        }
        b.sign(&parent.key, MessageDigest::sha256()).unwrap();
        Ca { cert: b.build(), key }
    }
}

/// An extension from its DER value.
pub fn raw_extension(oid: &str, critical: bool, der: &[u8]) -> openssl::x509::X509Extension {
    let oid = openssl::asn1::Asn1Object::from_str(oid).unwrap();
    let value = openssl::asn1::Asn1OctetString::new_from_bytes(der).unwrap();
    openssl::x509::X509Extension::new_from_der(&oid, critical, &value).unwrap()
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// The NameConstraints extension (2.5.29.30) excluding the e-mail domain `domain` (RFC 5280:
/// `example.org` matches every mailbox at exactly that host), for `Ca::intermediate`.
pub fn name_constraints_excluding_email(domain: &str) -> (&'static str, bool, Vec<u8>) {
    let subtree = tlv(0x30, &tlv(0x81, domain.as_bytes()));
    ("2.5.29.30", true, tlv(0x30, &tlv(0xa1, &subtree)))
}

/// A subjectAltName (2.5.29.17) value of rfc822Names written byte for byte as given (an
/// IA5String the CA filled with whatever it was handed).
pub fn san_rfc822_der(addresses: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &addresses.iter().flat_map(|a| tlv(0x81, a)).collect::<Vec<u8>>())
}

/// What a leaf certificate should look like.
#[derive(Clone)]
pub struct Leaf<'a> {
    pub cn: &'a str,
    pub emails: Vec<&'a str>,
    /// Days from now (negative: in the past).
    pub not_before_days: i64,
    pub not_after_days: i64,
    pub encrypt: bool,
    pub email_eku: bool,
    /// Key usage digitalSignature (false: a certificate not for signing).
    pub sign: bool,
    /// The subject's emailAddress attribute, if any.
    pub subject_email: Option<&'a str>,
    /// rfc822Names written byte for byte (instead of `emails`) when not empty.
    pub raw_emails: Vec<&'a [u8]>,
}

impl<'a> Leaf<'a> {
    pub fn for_address(address: &'a str) -> Leaf<'a> {
        Leaf {
            cn: address,
            emails: vec![address],
            not_before_days: -1,
            not_after_days: 365,
            encrypt: true,
            email_eku: true,
            sign: true,
            subject_email: None,
            raw_emails: Vec::new(),
        }
    }

    /// Issues the certificate with `key` (a fresh key when None).
    pub fn issue(&self, ca: &Ca, key: Option<&PKey<Private>>) -> X509 {
        let fresh;
        let key = match key {
            Some(k) => k,
            None => {
                fresh = ec_key();
                &fresh
            }
        };
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        let mut subject = X509NameBuilder::new().unwrap();
        subject.append_entry_by_nid(Nid::COMMONNAME, self.cn).unwrap();
        if let Some(email) = self.subject_email {
            subject.append_entry_by_nid(Nid::PKCS9_EMAILADDRESS, email).unwrap();
        }
        b.set_subject_name(&subject.build()).unwrap();
        b.set_issuer_name(ca.cert.subject_name()).unwrap();
        b.set_pubkey(key).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        b.set_not_before(&Asn1Time::from_unix(now + self.not_before_days * 86400).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::from_unix(now + self.not_after_days * 86400).unwrap()).unwrap();
        let mut ku = KeyUsage::new();
        ku.critical();
        if self.sign {
            ku.digital_signature();
        }
        if self.encrypt {
            ku.key_agreement();
        }
        b.append_extension(ku.build().unwrap()).unwrap();
        let mut eku = ExtendedKeyUsage::new();
        if self.email_eku {
            eku.email_protection();
        } else {
            eku.server_auth();
        }
        b.append_extension(eku.build().unwrap()).unwrap();
        if !self.raw_emails.is_empty() {
            b.append_extension(raw_extension("2.5.29.17", false, &san_rfc822_der(&self.raw_emails))).unwrap();
        } else if !self.emails.is_empty() {
            let mut san = SubjectAlternativeName::new();
            for e in &self.emails {
                san.email(e);
            }
            let ext = san.build(&b.x509v3_context(Some(&ca.cert), None)).unwrap();
            b.append_extension(ext).unwrap();
        }
        b.sign(&ca.key, MessageDigest::sha256()).unwrap();
        b.build()
    }
}

/// Random 64-bit serials, so certificates from different test processes never collide.
fn serial() -> Asn1Integer {
    let mut bn = BigNum::new().unwrap();
    bn.rand(63, openssl::bn::MsbOption::MAYBE_ZERO, false).unwrap();
    bn.to_asn1_integer().unwrap()
}

fn name_of(cn: &str) -> openssl::x509::X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    n.append_entry_by_nid(Nid::COMMONNAME, cn).unwrap();
    n.build()
}

/// A signed message as mail programs send it: multipart/signed with a detached SHA-256
/// signature by `cert` (and `key`), carrying `chain`, from `from` (a From header value).
pub fn signed_mail(from: &str, cert: &X509, key: &PKey<Private>, chain: &[&X509], body: &str) -> Vec<u8> {
    use openssl::cms::{CMSOptions, CmsContentInfo};
    let content = format!("Content-Type: text/plain; charset=us-ascii\r\n\r\n{body}\r\n");
    let mut stack = openssl::stack::Stack::new().unwrap();
    for c in chain {
        stack.push((*c).clone()).unwrap();
    }
    let cms = CmsContentInfo::sign(Some(cert), Some(key), Some(&stack), Some(content.as_bytes()), CMSOptions::DETACHED | CMSOptions::BINARY).unwrap();
    let b64 = openssl::base64::encode_block(&cms.to_der().unwrap());
    let wrapped: Vec<String> = b64.as_bytes().chunks(76).map(|l| String::from_utf8(l.to_vec()).unwrap()).collect();
    format!(
        "From: {from}\r\nTo: me@example.net\r\nSubject: signed\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"SIGNED\"\r\n\r\n\
         --SIGNED\r\n{content}\r\n--SIGNED\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--SIGNED--\r\n",
        wrapped.join("\r\n")
    )
    .into_bytes()
}
