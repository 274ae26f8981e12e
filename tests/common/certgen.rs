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
}

impl<'a> Leaf<'a> {
    pub fn for_address(address: &'a str) -> Leaf<'a> {
        Leaf { cn: address, emails: vec![address], not_before_days: -1, not_after_days: 365, encrypt: true, email_eku: true }
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
        b.set_subject_name(&name_of(self.cn)).unwrap();
        b.set_issuer_name(ca.cert.subject_name()).unwrap();
        b.set_pubkey(key).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        b.set_not_before(&Asn1Time::from_unix(now + self.not_before_days * 86400).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::from_unix(now + self.not_after_days * 86400).unwrap()).unwrap();
        let mut ku = KeyUsage::new();
        ku.critical().digital_signature();
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
        if !self.emails.is_empty() {
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
