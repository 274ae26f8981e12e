//! Certificates made on the fly for the unit tests of the contact cache's policies: a CA key,
//! end-entity certificates it issues (subject, key, validity and extended key usage as a test
//! needs them), and the cache's view of one (`StoredCert`).

use super::{CertStatus, Source, StoredCert};
use crate::certs::summary::Cert;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::ExtendedKeyUsage;
use openssl::x509::{X509Name, X509};

pub const DAY: i64 = 86400;

pub fn key() -> PKey<Private> {
    PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut n = X509Name::builder().unwrap();
    n.append_entry_by_text("CN", cn).unwrap();
    n.build()
}

fn serial() -> openssl::asn1::Asn1Integer {
    let mut bytes = [0u8; 8];
    openssl::rand::rand_bytes(&mut bytes).unwrap();
    openssl::bn::BigNum::from_slice(&bytes).unwrap().to_asn1_integer().unwrap()
}

/// A CA: its name and key.
pub struct Ca {
    pub name: String,
    pub key: PKey<Private>,
    pub cert: Cert,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&self::name(name)).unwrap();
        b.set_issuer_name(&self::name(name)).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::from_unix(0).unwrap()).unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::from_unix(4_000_000_000).unwrap()).unwrap();
        b.append_extension(openssl::x509::extension::BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = Cert::from_x509(&b.build()).unwrap();
        Ca { name: name.into(), key, cert }
    }

    /// An end-entity certificate for `subject`'s `key`, valid from `not_before` to `not_after`
    /// (Unix times), for e-mail unless `email` is false (then only for TLS clients).
    pub fn issue(&self, subject: &str, key: &PKey<Private>, not_before: i64, not_after: i64, email: bool) -> Cert {
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name(subject)).unwrap();
        b.set_issuer_name(&name(&self.name)).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::from_unix(not_before).unwrap()).unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::from_unix(not_after).unwrap()).unwrap();
        let eku = if email { ExtendedKeyUsage::new().email_protection().build() } else { ExtendedKeyUsage::new().client_auth().build() };
        b.append_extension(eku.unwrap()).unwrap();
        b.sign(&self.key, MessageDigest::sha256()).unwrap();
        Cert::from_x509(&b.build()).unwrap()
    }
}

/// The cache's view of `cert` for an address: trusted when seen, not revoked, its own usage.
pub fn stored(cert: &Cert, status: CertStatus) -> StoredCert {
    StoredCert {
        cert: cert.clone(),
        source: Source::SignedMail,
        trusted: true,
        revoked: false,
        can_encrypt: super::can_encrypt(cert),
        capabilities: vec![],
        first_seen: 0,
        last_seen: 0,
        status,
    }
}
