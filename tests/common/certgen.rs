//! Certificates made on the fly for tests whose validity must be relative to now (continuity,
//! selection) or that need many certificates (bulk import, benchmarks), or that no CA would
//! issue today (weak algorithms, CA certificates as signers, CAs restricted to TLS). EC P-256
//! keys keep it fast.
#![allow(dead_code)]

use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, SubjectKeyIdentifier};
use openssl::x509::{CrlNumber, X509Crl, X509CrlBuilder, X509Extension, X509NameBuilder, X509RevokedBuilder, X509};

pub fn ec_key() -> PKey<Private> {
    ec_key_on(Nid::X9_62_PRIME256V1)
}

pub fn ec_key_on(curve: Nid) -> PKey<Private> {
    PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(curve).unwrap()).unwrap()).unwrap()
}

pub fn rsa_key(bits: u32) -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub struct Ca {
    pub cert: X509,
    pub key: PKey<Private>,
}

/// What a CA certificate should look like (`Ca::build`).
pub struct CaSpec<'a> {
    pub name: &'a str,
    /// The CA's key (a fresh P-256 key when None).
    pub key: Option<PKey<Private>>,
    /// Signed by this CA (self-signed when None).
    pub issuer: Option<&'a Ca>,
    /// The digest of the signature on the certificate.
    pub digest: MessageDigest,
    /// Extended key usages, by OpenSSL's short names (`serverAuth`, `emailProtection`); none
    /// when empty.
    pub eku: Vec<&'a str>,
    /// nameConstraints, in OpenSSL's configuration syntax (`permitted;email:.example.org`).
    pub name_constraints: Option<&'a str>,
    /// Where to ask about this CA certificate's revocation: authorityInfoAccess OCSP, and a
    /// CRL distribution point (a sub-CA's; a root's own are never asked).
    pub revocation: Revocation<'a>,
}

impl<'a> CaSpec<'a> {
    pub fn named(name: &'a str) -> CaSpec<'a> {
        CaSpec {
            name,
            key: None,
            issuer: None,
            digest: MessageDigest::sha256(),
            eku: Vec::new(),
            name_constraints: None,
            revocation: Revocation::default(),
        }
    }
}

/// The revocation sources a certificate names (none by default: tests stay offline).
#[derive(Clone, Copy, Default)]
pub struct Revocation<'a> {
    /// authorityInfoAccess OCSP responder URL.
    pub ocsp: Option<&'a str>,
    /// cRLDistributionPoints URI.
    pub crl: Option<&'a str>,
}

impl Revocation<'_> {
    fn append(&self, b: &mut openssl::x509::X509Builder) {
        #[allow(deprecated)]
        let ext = |nid, value: String| X509Extension::new_nid(None, None, nid, &value).unwrap();
        if let Some(url) = self.ocsp {
            b.append_extension(ext(Nid::INFO_ACCESS, format!("OCSP;URI:{url}"))).unwrap();
        }
        if let Some(url) = self.crl {
            b.append_extension(ext(Nid::CRL_DISTRIBUTION_POINTS, format!("URI:{url}"))).unwrap();
        }
    }
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        Ca::build(CaSpec::named(name))
    }

    /// An intermediate CA under this one.
    pub fn sub(&self, name: &str) -> Ca {
        Ca::build(CaSpec { issuer: Some(self), ..CaSpec::named(name) })
    }

    pub fn build(spec: CaSpec<'_>) -> Ca {
        let key = spec.key.unwrap_or_else(ec_key);
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        let n = name_of(spec.name);
        b.set_subject_name(&n).unwrap();
        b.set_issuer_name(spec.issuer.map_or(&*n, |i| i.cert.subject_name())).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(now() - 86400).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(3650).unwrap()).unwrap();
        b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build().unwrap()).unwrap();
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(spec.issuer.map(|i| &*i.cert), None)).unwrap();
        b.append_extension(ski).unwrap();
        if !spec.eku.is_empty() {
            let mut eku = ExtendedKeyUsage::new();
            for e in &spec.eku {
                eku.other(e);
            }
            b.append_extension(eku.build().unwrap()).unwrap();
        }
        spec.revocation.append(&mut b);
        if let Some(nc) = spec.name_constraints {
            #[allow(deprecated)]
            let ext = X509Extension::new_nid(None, Some(&b.x509v3_context(None, None)), Nid::NAME_CONSTRAINTS, &format!("critical,{nc}")).unwrap();
            b.append_extension(ext).unwrap();
        }
        let signer = spec.issuer.map_or(&key, |i| &i.key);
        b.sign(signer, spec.digest).unwrap();
        Ca { cert: b.build(), key }
    }

    pub fn pem(&self) -> Vec<u8> {
        self.cert.to_pem().unwrap()
    }

    /// authorityKeyIdentifier for this CA's CRLs: SEQUENCE { [0] keyIdentifier }.
    pub fn crl_authority_key_id(&self) -> X509Extension {
        let keyid = self.cert.subject_key_id().unwrap().as_slice().to_vec();
        let mut aki = vec![0x30, keyid.len() as u8 + 2, 0x80, keyid.len() as u8];
        aki.extend_from_slice(&keyid);
        X509Extension::new_from_der(&Asn1Object::from_str("2.5.29.35").unwrap(), false, &Asn1OctetString::new_from_bytes(&aki).unwrap()).unwrap()
    }

    /// A CRL of this CA: `number` (cRLNumber), thisUpdate `this_update_days` from now (negative:
    /// in the past), nextUpdate 30 days after it, listing `revoked`.
    pub fn crl(&self, revoked: &[&X509], number: u32, this_update_days: i64) -> X509Crl {
        let mut b = X509CrlBuilder::new().unwrap();
        b.set_issuer_name(self.cert.subject_name()).unwrap();
        let this_update = now() + this_update_days * 86400;
        b.set_last_update(&Asn1Time::from_unix(this_update).unwrap()).unwrap();
        b.set_next_update(&Asn1Time::from_unix(this_update + 30 * 86400).unwrap()).unwrap();
        b.append_extension(self.crl_authority_key_id()).unwrap();
        b.append_extension(CrlNumber::new(BigNum::from_u32(number).unwrap()).unwrap().build().unwrap()).unwrap();
        for cert in revoked {
            let mut r = X509RevokedBuilder::new().unwrap();
            r.set_serial_number(cert.serial_number()).unwrap();
            r.set_revocation_date(&Asn1Time::from_unix(this_update - 3600).unwrap()).unwrap();
            b.add_revoked(r.build()).unwrap();
        }
        b.sort().unwrap();
        b.sign(&self.key, MessageDigest::sha256()).unwrap();
        b.build().unwrap()
    }
}

impl Ca {
    /// An OCSP responder certificate this CA issues: with `id-kp-OCSPSigning` when `authorised`
    /// (a delegated responder, RFC 6960 §4.2.2.2), with emailProtection instead when not.
    pub fn responder(&self, name: &str, authorised: bool) -> (X509, PKey<Private>) {
        let key = ec_key();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_serial_number(&serial()).unwrap();
        b.set_subject_name(&name_of(name)).unwrap();
        b.set_issuer_name(self.cert.subject_name()).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(now() - 86400).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(365).unwrap()).unwrap();
        b.append_extension(KeyUsage::new().critical().digital_signature().build().unwrap()).unwrap();
        let mut eku = ExtendedKeyUsage::new();
        if authorised {
            eku.other("OCSPSigning");
        } else {
            eku.email_protection();
        }
        b.append_extension(eku.build().unwrap()).unwrap();
        b.sign(&self.key, MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }
}

/// The same CRL with one bit of its signature flipped: it parses, and its signature fails.
pub fn broken_signature(crl: &X509Crl) -> X509Crl {
    let mut der = crl.to_der().unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    X509Crl::from_der(&der).unwrap()
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
    /// The key usage allows encryption: keyAgreement for EC keys, keyEncipherment for RSA keys
    /// (see `encrypt_bit`).
    pub encrypt: bool,
    /// With `encrypt`: the key usage bit to set instead of the one that fits the key
    /// (`key_agreement`, `key_encipherment`).
    pub encrypt_bit: Option<&'a str>,
    pub email_eku: bool,
    /// The subject's emailAddress attribute (besides the subjectAltName).
    pub subject_email: Option<&'a str>,
    /// basicConstraints cA = TRUE (a CA certificate used as if it were a person's).
    pub ca: bool,
    /// The digest of the CA's signature on the certificate.
    pub digest: MessageDigest,
    /// Key usage digitalSignature (false: a certificate not for signing).
    pub sign: bool,
    /// rfc822Names written byte for byte (instead of `emails`) when not empty.
    pub raw_emails: Vec<&'a [u8]>,
    /// Where to ask about its revocation (nowhere by default).
    pub revocation: Revocation<'a>,
}

impl<'a> Leaf<'a> {
    pub fn for_address(address: &'a str) -> Leaf<'a> {
        Leaf {
            cn: address,
            emails: vec![address],
            not_before_days: -1,
            not_after_days: 365,
            encrypt: true,
            encrypt_bit: None,
            email_eku: true,
            subject_email: None,
            ca: false,
            digest: MessageDigest::sha256(),
            sign: true,
            raw_emails: Vec::new(),
            revocation: Revocation::default(),
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
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_nid(Nid::COMMONNAME, self.cn).unwrap();
        if let Some(email) = self.subject_email {
            name.append_entry_by_nid(Nid::PKCS9_EMAILADDRESS, email).unwrap();
        }
        b.set_subject_name(&name.build()).unwrap();
        b.set_issuer_name(ca.cert.subject_name()).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::from_unix(now() + self.not_before_days * 86400).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::from_unix(now() + self.not_after_days * 86400).unwrap()).unwrap();
        if self.ca {
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap()).unwrap();
        }
        let mut ku = KeyUsage::new();
        ku.critical();
        if self.sign {
            ku.digital_signature();
        }
        if self.ca {
            ku.key_cert_sign();
        }
        if self.encrypt {
            let bit = self.encrypt_bit.unwrap_or(if key.id() == Id::RSA { "key_encipherment" } else { "key_agreement" });
            match bit {
                "key_encipherment" => ku.key_encipherment(),
                _ => ku.key_agreement(),
            };
        }
        b.append_extension(ku.build().unwrap()).unwrap();
        let mut eku = ExtendedKeyUsage::new();
        if self.email_eku {
            eku.email_protection();
        } else {
            eku.server_auth();
        }
        b.append_extension(eku.build().unwrap()).unwrap();
        self.revocation.append(&mut b);
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
        b.sign(&ca.key, self.digest).unwrap();
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
