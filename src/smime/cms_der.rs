//! Describing CMS structures from their BER/DER: content type, signer infos (identifiers,
//! algorithms, signed attributes), recipient infos and the content-encryption algorithm.
//! Descriptive only: OpenSSL verifies and decrypts (see `cms.rs`).

use crate::asn1::{integer_hex, tag, Asn1Error, Asn1Result, Reader, Tlv};
use crate::certs::oid;
use crate::certs::x509::Name;
use crate::hex;
use serde::Serialize;

/// How a signer or recipient names its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CertId {
    IssuerSerial { issuer: String, serial: String },
    SubjectKeyId { subject_key_id: String },
}

impl CertId {
    /// A SignerIdentifier or RecipientIdentifier: [0] SubjectKeyIdentifier or IssuerAndSerialNumber.
    fn read(tlv: &Tlv<'_>) -> Asn1Result<CertId> {
        if tlv.is_context(0) {
            Ok(CertId::ski(&tlv.octets()?))
        } else {
            CertId::issuer_serial(tlv)
        }
    }

    /// Whether `id` (absent for RecipientInfos of kinds not described) names `cert`.
    pub fn names(id: &Option<CertId>, cert: &crate::certs::summary::Cert) -> bool {
        id.as_ref().is_some_and(|id| id.matches(cert))
    }

    fn issuer_serial(tlv: &Tlv<'_>) -> Asn1Result<CertId> {
        let mut r = tlv.children()?;
        let issuer = Name::parse(&r.expect(tag::SEQUENCE)?)?;
        let serial = r.expect(tag::INTEGER)?;
        Ok(CertId::IssuerSerial { issuer: issuer.to_rfc4514(), serial: integer_hex(serial.content) })
    }

    fn ski(bytes: &[u8]) -> CertId {
        CertId::SubjectKeyId { subject_key_id: hex::encode(bytes) }
    }

    /// Whether this identifier names `cert`.
    pub fn matches(&self, cert: &crate::certs::summary::Cert) -> bool {
        match self {
            CertId::IssuerSerial { issuer, serial } => {
                *issuer == cert.fields.issuer.to_rfc4514() && *serial == integer_hex(&cert.fields.serial)
            }
            CertId::SubjectKeyId { subject_key_id } => {
                cert.fields.subject_key_id.as_ref().is_some_and(|k| hex::encode(k) == *subject_key_id)
            }
        }
    }
}

/// The outer ContentInfo: its type and the content's element.
pub struct ContentInfo<'a> {
    pub content_type: String,
    pub content: Option<Tlv<'a>>,
}

/// Reads the outer ContentInfo. An error for input that is not one; never a panic.
pub fn content_info(der: &[u8]) -> Asn1Result<ContentInfo<'_>> {
    let top = Reader::new(der).expect(tag::SEQUENCE)?;
    let mut r = top.children()?;
    let content_type = r.read()?.oid()?;
    let content = match r.read_optional_context(0)? {
        Some(explicit) => Some(explicit.children()?.read()?),
        None => None,
    };
    Ok(ContentInfo { content_type, content })
}

/// RFC 5940 `id-ri-ocsp-response`: an `otherRevInfo` that is an OCSPResponse.
const OCSP_RESPONSE_REV_INFO: &str = "1.3.6.1.5.5.7.16.2";

/// The OCSP responses a SignedData's `crls` field carries as `other` revocation information
/// (RFC 5940 §2.2), at most `max`, each the DER of one OCSPResponse. Anything else there (CRLs,
/// other formats) and anything unreadable is skipped: these are candidates, verified later.
pub fn ocsp_responses(content_info_der: &[u8], max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Ok(info) = content_info(content_info_der) else { return out };
    let Some(Ok(mut r)) = info.content.as_ref().map(|c| c.children()) else { return out };
    while !r.is_empty() && out.len() < max {
        let Ok(item) = r.read() else { break };
        // [1] IMPLICIT RevocationInfoChoices (a SET OF RevocationInfoChoice).
        if !item.is_context(1) {
            continue;
        }
        let Ok(mut choices) = item.children() else { break };
        while !choices.is_empty() && out.len() < max {
            let Ok(choice) = choices.read() else { break };
            // other [1] IMPLICIT OtherRevocationInfoFormat { otherRevInfoFormat, otherRevInfo }
            if !choice.is_context(1) {
                continue;
            }
            let Ok(mut fields) = choice.children() else { continue };
            let (Ok(format), Ok(value)) = (fields.read(), fields.read()) else { continue };
            if format.oid().is_ok_and(|oid| oid == OCSP_RESPONSE_REV_INFO) && value.is_universal(tag::SEQUENCE) {
                out.push(value.raw.to_vec());
            }
        }
    }
    out
}

/// One SignerInfo, described.
#[derive(Debug, Clone)]
pub struct SignerDesc {
    pub id: CertId,
    pub digest_oid: String,
    pub signature_oid: String,
    pub signing_time: Option<i64>,
    pub capabilities: Vec<String>,
    pub encryption_key_preference: Option<CertId>,
    /// None when the SignerInfo has no signed attributes (the signature is over the content).
    pub signed_attributes: Option<SignedAttributes>,
}

/// The signed attributes RFC 5652 rules on (§5.3, §11): with signed attributes present,
/// contentType and messageDigest must each be there exactly once, contentType equal to the
/// eContentType; signingTime at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedAttributes {
    /// The value of every contentType attribute, dotted (`"unreadable"` for a value that is no
    /// OID). Normally exactly one.
    pub content_types: Vec<String>,
    /// How many messageDigest values there are. Normally exactly one.
    pub message_digests: usize,
    /// How many signingTime values there are. At most one.
    pub signing_times: usize,
}

/// A SignedData, described.
#[derive(Debug, Clone)]
pub struct SignedDataDesc {
    /// How many entries the digestAlgorithms set has (OpenSSL digests the content once per entry).
    pub digest_algorithm_count: usize,
    pub econtent_type: String,
    pub has_econtent: bool,
    /// Every SignerInfo, in order.
    pub signers: Vec<SignerDesc>,
}

/// Describes a SignedData (the content of its ContentInfo). An error for input that is not one;
/// never a panic, whatever the input.
pub fn signed_data(content: &Tlv<'_>) -> Asn1Result<SignedDataDesc> {
    let mut r = content.children()?;
    r.expect(tag::INTEGER)?;
    let mut digests = r.expect(tag::SET)?.children()?;
    let mut digest_algorithm_count = 0;
    while !digests.is_empty() {
        digests.read()?;
        digest_algorithm_count += 1;
    }
    let mut encap = r.expect(tag::SEQUENCE)?.children()?;
    let econtent_type = encap.read()?.oid()?;
    let has_econtent = encap.read_optional_context(0)?.is_some();
    let mut signers = Vec::new();
    while !r.is_empty() {
        let item = r.read()?;
        if item.is_universal(tag::SET) {
            let mut infos = item.children()?;
            while !infos.is_empty() {
                signers.push(signer_info(&infos.read()?)?);
            }
        }
    }
    Ok(SignedDataDesc { digest_algorithm_count, econtent_type, has_econtent, signers })
}

fn signer_info(tlv: &Tlv<'_>) -> Asn1Result<SignerDesc> {
    let mut r = tlv.children()?;
    r.expect(tag::INTEGER)?;
    let id = CertId::read(&r.read()?)?;
    let digest_oid = algorithm_oid(&r.read()?)?;
    let mut desc = SignerDesc {
        id,
        digest_oid,
        signature_oid: String::new(),
        signing_time: None,
        capabilities: Vec::new(),
        encryption_key_preference: None,
        signed_attributes: None,
    };
    let mut next = r.read()?;
    if next.is_context(0) {
        let mut attrs = next.children()?;
        let mut counts = SignedAttributes::default();
        while !attrs.is_empty() {
            let attr = attrs.read()?;
            count_attribute(&attr, &mut counts);
            // A malformed attribute is skipped; OpenSSL's signature check covers the bytes.
            let _ = read_attribute(&attr, &mut desc);
        }
        desc.signed_attributes = Some(counts);
        next = r.read()?;
    }
    desc.signature_oid = algorithm_oid(&next)?;
    Ok(desc)
}

/// Counts the values of the attributes RFC 5652 rules on. An attribute too broken to name its
/// type is not counted: OpenSSL refuses the SignerInfo.
fn count_attribute(attr: &Tlv<'_>, counts: &mut SignedAttributes) {
    let Ok(mut r) = attr.children() else { return };
    let Ok(kind) = r.read().and_then(|k| k.oid()) else { return };
    let mut values = Vec::new();
    if let Ok(mut set) = r.expect(tag::SET).and_then(|s| s.children()) {
        while !set.is_empty() {
            let Ok(value) = set.read() else { break };
            values.push(value);
        }
    }
    match kind.as_str() {
        oid::ATTR_CONTENT_TYPE => {
            counts.content_types.extend(values.iter().map(|v| v.oid().unwrap_or_else(|_| "unreadable".into())));
        }
        oid::ATTR_MESSAGE_DIGEST => counts.message_digests += values.len(),
        oid::ATTR_SIGNING_TIME => counts.signing_times += values.len(),
        _ => {}
    }
}

fn read_attribute(attr: &Tlv<'_>, desc: &mut SignerDesc) -> Asn1Result<()> {
    let mut r = attr.children()?;
    let kind = r.read()?.oid()?;
    let value = r.expect(tag::SET)?.children()?.read()?;
    match kind.as_str() {
        oid::ATTR_SIGNING_TIME => desc.signing_time = Some(value.time()?),
        oid::ATTR_SMIME_CAPABILITIES => {
            let mut caps = value.children()?;
            while !caps.is_empty() {
                let cap = caps.read()?;
                desc.capabilities.push(oid::capability_name(&cap.children()?.read()?.oid()?));
            }
        }
        oid::ATTR_ENCRYPTION_KEY_PREFERENCE => {
            desc.encryption_key_preference = Some(if value.is_context(0) {
                CertId::issuer_serial(&value)?
            } else if value.is_context(1) {
                CertId::ski(&value.children()?.read()?.octets()?)
            } else if value.is_context(2) {
                CertId::ski(&value.octets()?)
            } else {
                return Err(Asn1Error("unknown key preference"));
            });
        }
        oid::ATTR_MS_ENC_KEY_PREF if desc.encryption_key_preference.is_none() => {
            desc.encryption_key_preference = Some(CertId::issuer_serial(&value)?);
        }
        _ => {}
    }
    Ok(())
}

fn algorithm_oid(tlv: &Tlv<'_>) -> Asn1Result<String> {
    tlv.children()?.read()?.oid()
}

/// One RecipientInfo, described.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientDesc {
    pub key_transport: &'static str,
    #[serde(flatten)]
    pub id: Option<CertId>,
}

/// An EnvelopedData or AuthEnvelopedData, described.
#[derive(Debug, Clone)]
pub struct EnvelopedDesc {
    pub authenticated: bool,
    pub content_cipher_oid: String,
    pub recipients: Vec<RecipientDesc>,
}

/// Describes an EnvelopedData or AuthEnvelopedData (the content of its ContentInfo). An error for
/// input that is not one; never a panic.
pub fn enveloped_data(content: &Tlv<'_>, authenticated: bool) -> Asn1Result<EnvelopedDesc> {
    let mut r = content.children()?;
    r.expect(tag::INTEGER)?;
    r.read_optional_context(0)?; // originatorInfo
    let mut infos = r.expect(tag::SET)?.children()?;
    let mut recipients = Vec::new();
    while !infos.is_empty() {
        recipients.extend(recipient_infos(&infos.read()?)?);
    }
    let mut eci = r.expect(tag::SEQUENCE)?.children()?;
    eci.read()?; // content type
    let content_cipher_oid = algorithm_oid(&eci.read()?)?;
    Ok(EnvelopedDesc { authenticated, content_cipher_oid, recipients })
}

fn recipient_infos(ri: &Tlv<'_>) -> Asn1Result<Vec<RecipientDesc>> {
    if ri.is_universal(tag::SEQUENCE) {
        // KeyTransRecipientInfo
        let mut r = ri.children()?;
        r.expect(tag::INTEGER)?;
        let id = CertId::read(&r.read()?)?;
        let alg = algorithm_oid(&r.read()?)?;
        return Ok(vec![RecipientDesc { key_transport: oid::key_transport_name(&alg), id: Some(id) }]);
    }
    if ri.is_context(1) {
        // KeyAgreeRecipientInfo: one entry per RecipientEncryptedKey.
        let mut r = ri.children()?;
        r.expect(tag::INTEGER)?;
        r.read()?; // originator [0]
        let mut next = r.read()?;
        if next.is_context(1) {
            next = r.read()?; // ukm
        }
        let alg = algorithm_oid(&next)?;
        let transport = oid::key_transport_name(&alg);
        let transport = if transport == "other" { "ecdh" } else { transport };
        let mut keys = r.expect(tag::SEQUENCE)?.children()?;
        let mut out = Vec::new();
        while !keys.is_empty() {
            let rek = keys.read()?;
            let rid = rek.children()?.read()?;
            let id = if rid.is_context(0) {
                CertId::ski(&rid.children()?.read()?.octets()?)
            } else {
                CertId::issuer_serial(&rid)?
            };
            out.push(RecipientDesc { key_transport: transport, id: Some(id) });
        }
        return Ok(out);
    }
    // KEK, password or other recipient types: listed without an identifier.
    Ok(vec![RecipientDesc { key_transport: "other", id: None }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::cms::{CMSOptions, CmsContentInfo};
    use openssl::pkey::{PKey, Private};
    use openssl::x509::X509;

    fn self_signed() -> (X509, PKey<Private>) {
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "cms_der test").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap()).unwrap();
        b.sign(&key, openssl::hash::MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn signed(flags: CMSOptions) -> Vec<u8> {
        let (cert, key) = self_signed();
        CmsContentInfo::sign(Some(&cert), Some(&key), None, Some(b"hello"), flags | CMSOptions::BINARY).unwrap().to_der().unwrap()
    }

    fn describe(der: &[u8]) -> SignedDataDesc {
        let info = content_info(der).unwrap();
        assert_eq!(info.content_type, oid::SIGNED_DATA);
        signed_data(&info.content.unwrap()).unwrap()
    }

    #[test]
    fn signed_attributes_are_counted_and_their_absence_noticed() {
        let desc = describe(&signed(CMSOptions::empty()));
        assert_eq!((desc.digest_algorithm_count, desc.econtent_type.as_str(), desc.has_econtent), (1, oid::DATA, true));
        let attrs = desc.signers[0].signed_attributes.clone().unwrap();
        assert_eq!(attrs, SignedAttributes { content_types: vec![oid::DATA.to_string()], message_digests: 1, signing_times: 1 });
        assert!(desc.signers[0].signing_time.is_some());
        let desc = describe(&signed(CMSOptions::NOATTR | CMSOptions::DETACHED));
        assert!(!desc.has_econtent);
        assert!(desc.signers[0].signed_attributes.is_none());
        assert!(desc.signers[0].signing_time.is_none());
    }

    /// The readers are entry points for untrusted bytes: every truncation and every byte
    /// changed must give an answer (a description or an error), never a panic.
    #[test]
    fn truncated_or_altered_structures_are_answers_not_panics() {
        let (cert, _) = self_signed();
        let mut stack = openssl::stack::Stack::new().unwrap();
        stack.push(cert).unwrap();
        let enveloped = CmsContentInfo::encrypt(&stack, b"hello", openssl::symm::Cipher::aes_128_cbc(), CMSOptions::BINARY).unwrap().to_der().unwrap();
        let read = |der: &[u8]| {
            let _ = ocsp_responses(der, 8);
            if let Ok(info) = content_info(der) {
                if let Some(content) = info.content {
                    let _ = signed_data(&content);
                    let _ = enveloped_data(&content, false);
                    let _ = enveloped_data(&content, true);
                }
            }
        };
        for der in [signed(CMSOptions::empty()), signed(CMSOptions::NOATTR), enveloped] {
            for end in 0..der.len() {
                read(&der[..end]);
            }
            for i in 0..der.len() {
                for flip in [0x7f, 0x80, 0xff, 0x01] {
                    let mut changed = der.clone();
                    changed[i] ^= flip;
                    read(&changed);
                }
            }
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(content_info(b"").is_err());
        assert!(content_info(&[0x30, 0x03, 0x06, 0x01, 0x2a]).map(|c| c.content.is_none()).unwrap_or(false));
    }
}
