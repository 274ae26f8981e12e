//! The token's objects, built from the contact cache and the identity store: one immutable
//! [`Snapshot`] per state of the two databases, indexed so the thousands of searches NSS makes
//! (almost all for trust objects this token does not have) are answered without scanning.
//!
//! What is exposed and why (see docs/PKCS11.md):
//! - one `CKO_PROFILE` object, `CKP_PUBLIC_CERTIFICATES_TOKEN`: NSS then searches certificates
//!   without logging in (no PIN prompt per recipient address);
//! - for each own identity: its certificate (`CKA_ID` = the key's), a `CKO_PUBLIC_KEY` with the
//!   same id (NSS recognises a "user" certificate while logged out only through it) and a
//!   `CKO_PRIVATE_KEY` (private: visible only after login, and only when the PIN opened it);
//! - every certificate of the contact cache that the companion would encrypt to now (its chain
//!   verified for S/MIME encryption against the companion's anchors and CRLs: see [`crate::usable`]);
//! - the intermediate CA certificates of the cache and of the identities' chains (chain building);
//! - no trust objects: trust stays Thunderbird's (its root store and the user's own settings).

use crate::types::*;
use openssl::bn::BigNumContext;
use openssl::ec::PointConversionForm;
use openssl::pkey::Id;
use smime_companion::asn1::{der_tlv, oid_from_string};
use smime_companion::certs::oid;
use smime_companion::certs::summary::Cert;
use smime_companion::certs::x509::CertFields;
use smime_companion::identities::Identity;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use zeroize::Zeroize;

/// The handle of the profile object (never changes).
pub const PROFILE_HANDLE: CK_OBJECT_HANDLE = 1;

/// A private key's kind, with what its operations need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Modulus length in bytes.
    Rsa { modulus_len: usize },
    /// Field size in bytes (signature halves, shared secret).
    Ec { field_len: usize },
}

/// One object: its class and attributes (values as the PKCS#11 caller sees them).
#[derive(Debug, Clone)]
pub struct Object {
    pub handle: CK_OBJECT_HANDLE,
    pub class: CK_OBJECT_CLASS,
    /// `CKA_PRIVATE`: visible only in a logged-in session.
    pub private: bool,
    /// For private keys: the identity (by certificate fingerprint) and the key's kind.
    pub key: Option<(String, KeyKind)>,
    attrs: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
}

/// What reading an attribute gives.
pub enum AttrValue<'a> {
    Value(&'a [u8]),
    /// The attribute exists but is never revealed (private key material).
    Sensitive,
    /// The object has no such attribute.
    Invalid,
}

const SENSITIVE_PRIVATE: &[CK_ATTRIBUTE_TYPE] =
    &[CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT];

impl Object {
    pub fn new(handle: CK_OBJECT_HANDLE, class: CK_OBJECT_CLASS) -> Object {
        let mut o = Object { handle, class, private: false, key: None, attrs: Vec::new() };
        o.set_ulong(CKA_CLASS, class);
        o
    }

    pub fn set(&mut self, ty: CK_ATTRIBUTE_TYPE, value: Vec<u8>) {
        let secret = self.class == CKO_SECRET_KEY;
        match self.attrs.iter_mut().find(|(t, _)| *t == ty) {
            Some(slot) => {
                let mut old = std::mem::replace(&mut slot.1, value);
                if secret {
                    old.zeroize();
                }
            }
            None => self.attrs.push((ty, value)),
        }
    }

    pub fn set_bool(&mut self, ty: CK_ATTRIBUTE_TYPE, v: bool) {
        self.set(ty, vec![v as u8]);
        if ty == CKA_PRIVATE {
            self.private = v;
        }
    }

    pub fn set_ulong(&mut self, ty: CK_ATTRIBUTE_TYPE, v: CK_ULONG) {
        self.set(ty, v.to_ne_bytes().to_vec());
    }

    pub fn get(&self, ty: CK_ATTRIBUTE_TYPE) -> AttrValue<'_> {
        if self.class == CKO_PRIVATE_KEY && SENSITIVE_PRIVATE.contains(&ty) {
            return AttrValue::Sensitive;
        }
        match self.attrs.iter().find(|(t, _)| *t == ty) {
            Some((_, v)) => AttrValue::Value(v),
            None => AttrValue::Invalid,
        }
    }

    pub fn value(&self, ty: CK_ATTRIBUTE_TYPE) -> Option<&[u8]> {
        self.attrs.iter().find(|(t, _)| *t == ty).map(|(_, v)| v.as_slice())
    }

    pub fn flag(&self, ty: CK_ATTRIBUTE_TYPE) -> bool {
        self.value(ty).is_some_and(|v| v.first().is_some_and(|&b| b != 0))
    }

    /// Whether the object has every attribute of a search template with exactly that value.
    pub fn matches(&self, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> bool {
        template.iter().all(|(ty, want)| self.value(*ty).is_some_and(|have| have == want.as_slice()))
    }

    /// Sum of the attribute lengths (C_GetObjectSize).
    pub fn size(&self) -> usize {
        self.attrs.iter().map(|(_, v)| v.len() + 16).sum()
    }
}

impl Object {
    /// Wipes a secret key's attributes (its value: an ECDH-derived key); other objects hold
    /// nothing secret.
    fn wipe_secret(&mut self) {
        if self.class == CKO_SECRET_KEY {
            for (_, value) in &mut self.attrs {
                value.zeroize();
            }
        }
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        self.wipe_secret();
    }
}

/// Handles that stay the same for the same object across snapshots and are never reused for
/// another one (NSS keeps handles of certificates it has seen).
#[derive(Debug)]
pub struct Handles {
    next: CK_OBJECT_HANDLE,
    by_key: HashMap<String, CK_OBJECT_HANDLE>,
}

impl Default for Handles {
    fn default() -> Self {
        Handles { next: PROFILE_HANDLE + 1, by_key: HashMap::new() }
    }
}

impl Handles {
    fn get(&mut self, key: &str) -> CK_OBJECT_HANDLE {
        if let Some(h) = self.by_key.get(key) {
            return *h;
        }
        let h = self.next;
        self.next += 1;
        self.by_key.insert(key.to_string(), h);
        h
    }

    fn retain(&mut self, used: &HashSet<String>) {
        self.by_key.retain(|k, _| used.contains(k));
    }
}

/// What the snapshot is built from: what was last read from each database (kept between
/// snapshots, so a change to one database does not read the other again).
#[derive(Default)]
pub struct Sources {
    /// End-entity certificates of the contact cache that may be encrypted to now
    /// ([`crate::usable::UsableFilter`]).
    pub contacts: Vec<TokenCert>,
    /// Intermediate CA certificates (contact cache).
    pub intermediates: Vec<TokenCert>,
    /// The identities (shared with the snapshots built from them).
    pub identities: Arc<Vec<Identity>>,
    pub lock_epoch: i64,
}

/// A certificate as the token shows it: its DER and the fields its attributes come from, read
/// by the host's own parser (the attributes only describe; whether a contact certificate is shown
/// at all is OpenSSL's verdict, [`crate::usable`]).
#[derive(Clone)]
pub struct TokenCert {
    pub der: Vec<u8>,
    pub fields: CertFields,
}

impl TokenCert {
    /// None for DER that is not a certificate (the cache only stores parsed ones).
    pub fn parse(der: Vec<u8>) -> Option<TokenCert> {
        let fields = CertFields::parse(&der).ok()?;
        Some(TokenCert { der, fields })
    }

    fn of(cert: &Cert) -> TokenCert {
        TokenCert { der: cert.der.clone(), fields: cert.fields.clone() }
    }

    fn fingerprint_sha256(&self) -> String {
        smime_companion::hex::encode(&openssl::sha::sha256(&self.der))
    }
}

/// Attribute types searches are indexed by (the most selective ones NSS uses).
const INDEXED: &[CK_ATTRIBUTE_TYPE] = &[CKA_CLASS, CKA_SUBJECT, CKA_SERIAL_NUMBER, CKA_ID, CKA_VALUE, CKA_LABEL];

/// The token's objects at one moment.
#[derive(Default)]
pub struct Snapshot {
    pub objects: Vec<Object>,
    by_handle: HashMap<CK_OBJECT_HANDLE, usize>,
    /// For each [`INDEXED`] type (every one has an entry), the objects by that attribute's value.
    index: HashMap<CK_ATTRIBUTE_TYPE, HashMap<Vec<u8>, Vec<usize>>>,
    /// The identities, for login (their sealed keys).
    pub identities: Arc<Vec<Identity>>,
    pub lock_epoch: i64,
}

impl Snapshot {
    /// A snapshot with only the profile object (before anything could be read).
    pub fn empty() -> Snapshot {
        Snapshot::build(&Sources::default(), &mut Handles::default())
    }

    pub fn build(sources: &Sources, handles: &mut Handles) -> Snapshot {
        let mut objects = vec![profile_object()];
        let mut used = HashSet::new();
        let mut seen_der: HashSet<Vec<u8>> = HashSet::new();
        let mut handle = |key: String, used: &mut HashSet<String>| {
            let h = handles.get(&key);
            used.insert(key);
            h
        };
        for identity in sources.identities.iter() {
            let fp = identity.fingerprint();
            let Some(public) = PublicKeyAttrs::of(&identity.cert) else { continue };
            if !seen_der.insert(identity.cert.der.clone()) {
                continue;
            }
            let label = label_of(&identity.cert.fields);
            let cert = cert_object(handle(format!("cert:{fp}"), &mut used), &TokenCert::of(&identity.cert), &label, &public.id, CK_CERTIFICATE_CATEGORY_TOKEN_USER);
            objects.push(cert);
            objects.push(public.public_object(handle(format!("pub:{fp}"), &mut used), &identity.cert, &label));
            objects.push(public.private_object(handle(format!("priv:{fp}"), &mut used), &identity.cert, &label, fp.clone()));
        }
        // Only contact certificates the companion would encrypt to now (never a CA certificate).
        for cert in &sources.contacts {
            if !seen_der.insert(cert.der.clone()) {
                continue;
            }
            let fp = cert.fingerprint_sha256();
            objects.push(cert_object(handle(format!("cert:{fp}"), &mut used), cert, &label_of(&cert.fields), &[], CK_CERTIFICATE_CATEGORY_OTHER_ENTITY));
        }
        let chain_certs: Vec<TokenCert> = sources.identities.iter().flat_map(|i| i.chain.iter()).map(TokenCert::of).collect();
        for cert in sources.intermediates.iter().chain(&chain_certs) {
            // Roots come from Thunderbird's own store, never from this token; a self-issued CA
            // certificate is taken for a root without checking its signature.
            let self_issued = cert.fields.issuer_der == cert.fields.subject_der;
            if !cert.fields.is_ca || self_issued || !seen_der.insert(cert.der.clone()) {
                continue;
            }
            let fp = cert.fingerprint_sha256();
            objects.push(cert_object(handle(format!("cert:{fp}"), &mut used), cert, &label_of(&cert.fields), &[], CK_CERTIFICATE_CATEGORY_AUTHORITY));
        }
        handles.retain(&used);
        let mut snap = Snapshot { objects, identities: sources.identities.clone(), lock_epoch: sources.lock_epoch, ..Snapshot::default() };
        snap.index = INDEXED.iter().map(|ty| (*ty, HashMap::new())).collect();
        for (i, o) in snap.objects.iter().enumerate() {
            snap.by_handle.insert(o.handle, i);
            for (ty, by_value) in snap.index.iter_mut() {
                if let Some(v) = o.value(*ty) {
                    by_value.entry(v.to_vec()).or_default().push(i);
                }
            }
        }
        snap
    }

    pub fn object(&self, handle: CK_OBJECT_HANDLE) -> Option<&Object> {
        self.by_handle.get(&handle).map(|&i| &self.objects[i])
    }

    /// The handles of the objects matching a template, in snapshot order. `visible` decides
    /// about private objects.
    pub fn find(&self, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)], visible: impl Fn(&Object) -> bool) -> Vec<CK_OBJECT_HANDLE> {
        // The smallest candidate list among the indexed attributes of the template; a value no
        // object has (a trust class, an unknown issuer and serial) ends the search at once.
        let mut best: Option<&Vec<usize>> = None;
        for (ty, value) in template {
            let Some(by_value) = self.index.get(ty) else { continue };
            match by_value.get(value.as_slice()) {
                None => return Vec::new(),
                Some(list) if best.map_or(true, |b| list.len() < b.len()) => best = Some(list),
                Some(_) => {}
            }
        }
        let candidates: Box<dyn Iterator<Item = &Object>> = match best {
            Some(list) => Box::new(list.iter().map(|&i| &self.objects[i])),
            None => Box::new(self.objects.iter()),
        };
        candidates.filter(|o| visible(o) && o.matches(template)).map(|o| o.handle).collect()
    }
}

fn profile_object() -> Object {
    let mut o = Object::new(PROFILE_HANDLE, CKO_PROFILE);
    o.set_bool(CKA_TOKEN, true);
    o.set_bool(CKA_PRIVATE, false);
    o.set_bool(CKA_MODIFIABLE, false);
    o.set_ulong(CKA_PROFILE_ID, CKP_PUBLIC_CERTIFICATES_TOKEN);
    o
}

/// The label (NSS nickname `S/MIME Companion:<label>`): the subject's common name with the first
/// address, so certificates of one subject share it as NSS expects.
pub fn label_of(fields: &CertFields) -> String {
    let cn = fields.subject.get(oid::CN).map(str::to_string);
    let email = fields.emails().into_iter().next();
    match (cn, email) {
        (Some(cn), Some(email)) if !cn.eq_ignore_ascii_case(&email) => format!("{cn} <{email}>"),
        (_, Some(email)) => email,
        (Some(cn), None) => cn,
        (None, None) => fields.subject.to_rfc4514(),
    }
}

fn cert_object(handle: CK_OBJECT_HANDLE, cert: &TokenCert, label: &str, id: &[u8], category: CK_ULONG) -> Object {
    let mut o = Object::new(handle, CKO_CERTIFICATE);
    o.set_bool(CKA_TOKEN, true);
    o.set_bool(CKA_PRIVATE, false);
    o.set_bool(CKA_MODIFIABLE, false);
    o.set(CKA_LABEL, label.as_bytes().to_vec());
    o.set_ulong(CKA_CERTIFICATE_TYPE, CKC_X_509);
    o.set_bool(CKA_TRUSTED, false);
    o.set_ulong(CKA_CERTIFICATE_CATEGORY, category);
    o.set(CKA_VALUE, cert.der.clone());
    o.set(CKA_SUBJECT, cert.fields.subject_der.clone());
    o.set(CKA_ISSUER, cert.fields.issuer_der.clone());
    // DER INTEGER, tag and length included, as NSS compares it with the certificate's.
    o.set(CKA_SERIAL_NUMBER, der_tlv(0x02, &cert.fields.serial));
    o.set(CKA_ID, id.to_vec());
    o
}

/// The public half of an identity's key, as PKCS#11 attributes.
struct PublicKeyAttrs {
    id: Vec<u8>,
    kind: KeyKind,
    key_type: CK_KEY_TYPE,
    /// (attribute, value) pairs shared by the public and the private key object.
    shared: Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>,
    ec_point: Option<Vec<u8>>,
    spki: Vec<u8>,
}

impl PublicKeyAttrs {
    fn of(cert: &Cert) -> Option<PublicKeyAttrs> {
        let key = cert.x509.public_key().ok()?;
        let spki = key.public_key_to_der().ok()?;
        match key.id() {
            Id::RSA => {
                let rsa = key.rsa().ok()?;
                let n = rsa.n().to_vec();
                let e = rsa.e().to_vec();
                let bits = rsa.n().num_bits() as CK_ULONG;
                Some(PublicKeyAttrs {
                    // NSS's own choice of CKA_ID: SHA-1 of the modulus (PK11_MakeIDFromPubKey).
                    id: openssl::sha::sha1(&n).to_vec(),
                    kind: KeyKind::Rsa { modulus_len: n.len() },
                    key_type: CKK_RSA,
                    shared: vec![(CKA_MODULUS, n), (CKA_PUBLIC_EXPONENT, e), (CKA_MODULUS_BITS, bits.to_ne_bytes().to_vec())],
                    ec_point: None,
                    spki,
                })
            }
            Id::EC => {
                let ec = key.ec_key().ok()?;
                let mut ctx = BigNumContext::new().ok()?;
                let point = ec.public_key().to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx).ok()?;
                let curve_oid = cert.fields.public_key_params_oid.as_deref()?;
                let params = der_tlv(0x06, &oid_from_string(curve_oid)?);
                let field_len = (ec.group().degree() as usize).div_ceil(8);
                Some(PublicKeyAttrs {
                    id: openssl::sha::sha1(&point).to_vec(),
                    kind: KeyKind::Ec { field_len },
                    key_type: CKK_EC,
                    shared: vec![(CKA_EC_PARAMS, params)],
                    ec_point: Some(der_tlv(0x04, &point)),
                    spki,
                })
            }
            _ => None,
        }
    }

    fn common(&self, o: &mut Object, cert: &Cert, label: &str) {
        o.set_bool(CKA_TOKEN, true);
        o.set_bool(CKA_MODIFIABLE, false);
        o.set(CKA_LABEL, label.as_bytes().to_vec());
        o.set(CKA_ID, self.id.clone());
        o.set_ulong(CKA_KEY_TYPE, self.key_type);
        o.set(CKA_SUBJECT, cert.fields.subject_der.clone());
        o.set_bool(CKA_LOCAL, false);
        o.set_bool(CKA_DERIVE, false);
        o.set(CKA_PUBLIC_KEY_INFO, self.spki.clone());
        for (ty, v) in &self.shared {
            o.set(*ty, v.clone());
        }
    }

    fn public_object(&self, handle: CK_OBJECT_HANDLE, cert: &Cert, label: &str) -> Object {
        let mut o = Object::new(handle, CKO_PUBLIC_KEY);
        self.common(&mut o, cert, label);
        o.set_bool(CKA_PRIVATE, false);
        let rsa = self.key_type == CKK_RSA;
        o.set_bool(CKA_ENCRYPT, rsa);
        o.set_bool(CKA_VERIFY, true);
        o.set_bool(CKA_VERIFY_RECOVER, false);
        o.set_bool(CKA_WRAP, false);
        if let Some(point) = &self.ec_point {
            o.set(CKA_EC_POINT, point.clone());
        }
        o
    }

    fn private_object(&self, handle: CK_OBJECT_HANDLE, cert: &Cert, label: &str, fingerprint: String) -> Object {
        let mut o = Object::new(handle, CKO_PRIVATE_KEY);
        self.common(&mut o, cert, label);
        o.set_bool(CKA_PRIVATE, true);
        o.key = Some((fingerprint, self.kind));
        let rsa = self.key_type == CKK_RSA;
        o.set_bool(CKA_SENSITIVE, true);
        o.set_bool(CKA_ALWAYS_SENSITIVE, true);
        o.set_bool(CKA_EXTRACTABLE, false);
        o.set_bool(CKA_NEVER_EXTRACTABLE, true);
        o.set_bool(CKA_SIGN, true);
        o.set_bool(CKA_SIGN_RECOVER, false);
        o.set_bool(CKA_DECRYPT, rsa);
        o.set_bool(CKA_UNWRAP, false);
        o.set_bool(CKA_DERIVE, !rsa);
        o.set_bool(CKA_ALWAYS_AUTHENTICATE, false);
        o
    }
}

/// A secret key made by `C_DeriveKey` (ECDH): a session object whose value NSS may read, to move
/// it to its own token for the AES key unwrap this token does not do. Its copy of the value is
/// wiped when the object is dropped (destroyed, or its session closed).
pub fn secret_key_object(handle: CK_OBJECT_HANDLE, key_type: CK_KEY_TYPE, value: &[u8], flags: &[(CK_ATTRIBUTE_TYPE, bool)]) -> Object {
    let mut o = Object::new(handle, CKO_SECRET_KEY);
    o.set_bool(CKA_TOKEN, false);
    o.set_bool(CKA_PRIVATE, false);
    o.set_bool(CKA_MODIFIABLE, false);
    o.set_ulong(CKA_KEY_TYPE, key_type);
    o.set_ulong(CKA_VALUE_LEN, value.len() as CK_ULONG);
    o.set(CKA_VALUE, value.to_vec());
    o.set_bool(CKA_SENSITIVE, false);
    o.set_bool(CKA_EXTRACTABLE, true);
    o.set_bool(CKA_LOCAL, false);
    for ty in [CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_VERIFY, CKA_DERIVE] {
        o.set_bool(ty, flags.iter().any(|(t, v)| *t == ty && *v));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_wiped_other_objects_are_not() {
        let mut secret = secret_key_object(0x4000_0000, CKK_AES, &[7u8; 32], &[(CKA_DECRYPT, true)]);
        assert_eq!(secret.value(CKA_VALUE), Some(&[7u8; 32][..]));
        secret.wipe_secret();
        assert!(secret.attrs.iter().all(|(_, v)| v.is_empty()), "every attribute of a secret key is wiped");
        let mut profile = profile_object();
        profile.wipe_secret();
        assert_eq!(profile.value(CKA_PROFILE_ID), Some(&CKP_PUBLIC_CERTIFICATES_TOKEN.to_ne_bytes()[..]));
    }
}
