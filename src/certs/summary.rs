//! `CertSummary`: everything the add-on shows about a certificate, as structured fields and codes
//! (docs/INSPECT.md, "CertSummary"). Also what the certificate confirms about its holder, read
//! from its policy OIDs (CA/Browser Forum S/MIME Baseline Requirements, GlobalSign PersonalSign).

use super::oid;
use super::x509::{CertFields, Name};
use crate::hex;
use crate::time::to_rfc3339;
use openssl::hash::MessageDigest;
use openssl::pkey::Id;
use openssl::x509::X509Ref;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameFields {
    pub common_name: Option<String>,
    pub email: Option<String>,
    pub organization: Option<String>,
    pub organizational_unit: Option<String>,
    pub organization_identifier: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub pseudonym: Option<String>,
    pub title: Option<String>,
    pub serial_number: Option<String>,
    pub country: Option<String>,
    pub locality: Option<String>,
    pub state: Option<String>,
}

impl NameFields {
    pub fn from_name(name: &Name) -> NameFields {
        let get = |o: &str| name.get(o).map(str::to_string);
        NameFields {
            common_name: get(oid::CN),
            // Shown as written with anything but printable ASCII escaped: it may be an address
            // that does not count (docs/INSPECT.md, "Addresses in certificates").
            email: name.get(oid::EMAIL_ADDRESS).map(|e| super::address::shown(e.as_bytes())),
            organization: get(oid::ORGANIZATION),
            organizational_unit: get(oid::ORG_UNIT),
            organization_identifier: get(oid::ORGANIZATION_IDENTIFIER),
            given_name: get(oid::GIVEN_NAME),
            surname: get(oid::SURNAME),
            pseudonym: get(oid::PSEUDONYM),
            title: get(oid::TITLE),
            serial_number: get(oid::SERIAL_NUMBER),
            country: get(oid::COUNTRY),
            locality: get(oid::LOCALITY),
            state: get(oid::STATE),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyInfo {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub bits: u32,
    pub curve: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValidationType {
    Mailbox,
    Organization,
    Sponsor,
    Individual,
    Unknown,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Generation {
    Legacy,
    Multipurpose,
    Strict,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValidationSource {
    CabfSmimeBr,
    GlobalsignPersonalsign,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Validation {
    #[serde(rename = "type")]
    pub kind: ValidationType,
    pub generation: Option<Generation>,
    pub source: Option<ValidationSource>,
}

/// What the certificate's policies say the CA checked.
pub fn validation(fields: &CertFields) -> Validation {
    for policy in &fields.policies {
        if let Some(rest) = policy.strip_prefix(oid::CABF_SMIME_ARC) {
            let mut arcs = rest.split('.');
            let kind = match arcs.next() {
                Some("1") => ValidationType::Mailbox,
                Some("2") => ValidationType::Organization,
                Some("3") => ValidationType::Sponsor,
                Some("4") => ValidationType::Individual,
                _ => continue,
            };
            let generation = match arcs.next() {
                Some("1") => Some(Generation::Legacy),
                Some("2") => Some(Generation::Multipurpose),
                Some("3") => Some(Generation::Strict),
                _ => None,
            };
            return Validation { kind, generation, source: Some(ValidationSource::CabfSmimeBr) };
        }
    }
    if fields.policies.iter().any(|p| p == oid::GLOBALSIGN_PERSONALSIGN_ARC || p.starts_with("1.3.6.1.4.1.4146.1.40.")) {
        return Validation {
            kind: globalsign_product(fields),
            generation: None,
            source: Some(ValidationSource::GlobalsignPersonalsign),
        };
    }
    Validation { kind: ValidationType::Unknown, generation: None, source: None }
}

/// GlobalSign's pre-BR certificates share one policy arc; the product (and so what was vetted)
/// shows in the issuing CA's name: PersonalSign 1 = e-mail only, 2 = person, 2 Pro = person within
/// an organisation, 2 Department = organisation, 3 = person met face to face.
fn globalsign_product(fields: &CertFields) -> ValidationType {
    let issuer = fields.issuer.get(oid::CN).unwrap_or("").to_ascii_lowercase();
    if issuer.contains("personalsign 1") {
        ValidationType::Mailbox
    } else if issuer.contains("department") {
        ValidationType::Organization
    } else if issuer.contains("pro") {
        ValidationType::Sponsor
    } else if issuer.contains("personalsign 2") || issuer.contains("personalsign 3") {
        ValidationType::Individual
    } else {
        ValidationType::Unknown
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertSummary {
    pub subject: String,
    pub subject_fields: NameFields,
    /// The addresses that count (RFC 8550, plain ASCII as the CA wrote them; docs/INSPECT.md).
    pub emails: Vec<String>,
    /// Every other address written in the certificate, escaped, with why it does not count.
    pub ignored_emails: Vec<super::address::IgnoredAddress>,
    pub issuer: String,
    pub issuer_fields: NameFields,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub fingerprint_sha256: String,
    pub fingerprint_sha1: String,
    pub key: KeyInfo,
    pub key_usage: Option<Vec<&'static str>>,
    pub extended_key_usage: Option<Vec<String>>,
    pub policies: Vec<String>,
    pub validation: Validation,
    pub self_signed: bool,
    pub is_ca: bool,
}

/// A certificate with its parsed fields, kept together so nothing is parsed twice.
#[derive(Clone)]
pub struct Cert {
    pub x509: openssl::x509::X509,
    pub der: Vec<u8>,
    pub fields: CertFields,
}

impl std::fmt::Debug for Cert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cert({})", self.fields.subject.to_rfc4514())
    }
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCertificate(pub String);

impl std::fmt::Display for BadCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Cert {
    pub fn from_x509(x509: &X509Ref) -> Result<Cert, BadCertificate> {
        let der = x509.to_der().map_err(|e| BadCertificate(e.to_string()))?;
        let fields = CertFields::parse(&der).map_err(|e| BadCertificate(e.0.to_string()))?;
        Ok(Cert { x509: x509.to_owned(), der, fields })
    }

    pub fn from_der(der: &[u8]) -> Result<Cert, BadCertificate> {
        let x509 = openssl::x509::X509::from_der(der).map_err(|_| BadCertificate("not a DER certificate".into()))?;
        Cert::from_x509(&x509)
    }

    pub fn fingerprint_sha256(&self) -> String {
        hex::encode(&openssl::sha::sha256(&self.der))
    }

    /// The e-mail addresses that count, exactly as the CA wrote them: RFC 8550's rule
    /// (`certs::address::usable_addresses`) on OpenSSL's reading of the certificate (the
    /// subjectAltName's rfc822Names, or the subject's emailAddress only without a
    /// subjectAltName extension). Every decision (the From rule, the contact cache, encryption)
    /// uses these.
    pub fn emails(&self) -> Vec<String> {
        let read = self.openssl_emails();
        super::address::usable_addresses(self.has_subject_alt_name().then_some(&read.san[..]), &read.subject)
    }

    pub fn is_self_signed(&self) -> bool {
        self.fields.issuer_der == self.fields.subject_der
            && self.x509.public_key().ok().is_some_and(|k| self.x509.verify(&k).unwrap_or(false))
    }

    pub fn key_info(&self) -> KeyInfo {
        let Ok(key) = self.x509.public_key() else {
            return KeyInfo { kind: "other", bits: 0, curve: None };
        };
        let kind = match key.id() {
            Id::RSA | Id::RSA_PSS => "rsa",
            Id::EC => "ec",
            Id::ED25519 => "ed25519",
            Id::ED448 => "ed448",
            Id::DSA => "dsa",
            _ => "other",
        };
        let curve = self.fields.public_key_params_oid.as_deref().and_then(oid::curve_name);
        KeyInfo { kind, bits: key.bits(), curve }
    }

    pub fn summary(&self) -> CertSummary {
        let f = &self.fields;
        let sha1 = self.x509.digest(MessageDigest::sha1()).map(|d| hex::encode(&d)).unwrap_or_default();
        CertSummary {
            subject: f.subject.to_rfc4514(),
            subject_fields: NameFields::from_name(&f.subject),
            emails: self.emails(),
            ignored_emails: f.ignored_emails(),
            issuer: f.issuer.to_rfc4514(),
            issuer_fields: NameFields::from_name(&f.issuer),
            serial: crate::asn1::integer_hex(&f.serial),
            not_before: to_rfc3339(f.not_before),
            not_after: to_rfc3339(f.not_after),
            fingerprint_sha256: self.fingerprint_sha256(),
            fingerprint_sha1: sha1,
            key: self.key_info(),
            key_usage: f.key_usage.clone(),
            extended_key_usage: f.ext_key_usage.as_ref().map(|l| l.iter().map(|o| oid::eku_name(o)).collect()),
            policies: f.policies.clone(),
            validation: validation(f),
            self_signed: self.is_self_signed(),
            is_ca: f.is_ca,
        }
    }
}
