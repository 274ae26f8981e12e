//! Object identifiers the companion names, and their wire names.

// Certificate extensions.
pub const KEY_USAGE: &str = "2.5.29.15";
pub const SUBJECT_ALT_NAME: &str = "2.5.29.17";
pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub const CERTIFICATE_POLICIES: &str = "2.5.29.32";
pub const EXT_KEY_USAGE: &str = "2.5.29.37";
pub const SUBJECT_KEY_ID: &str = "2.5.29.14";
/// SmtpUTF8Mailbox in a subjectAltName otherName (RFC 9598).
pub const SMTP_UTF8_MAILBOX: &str = "1.3.6.1.5.5.7.8.9";

// Name attributes.
pub const CN: &str = "2.5.4.3";
pub const SURNAME: &str = "2.5.4.4";
pub const SERIAL_NUMBER: &str = "2.5.4.5";
pub const COUNTRY: &str = "2.5.4.6";
pub const LOCALITY: &str = "2.5.4.7";
pub const STATE: &str = "2.5.4.8";
pub const STREET: &str = "2.5.4.9";
pub const ORGANIZATION: &str = "2.5.4.10";
pub const ORG_UNIT: &str = "2.5.4.11";
pub const TITLE: &str = "2.5.4.12";
pub const GIVEN_NAME: &str = "2.5.4.42";
pub const PSEUDONYM: &str = "2.5.4.65";
pub const ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
pub const EMAIL_ADDRESS: &str = "1.2.840.113549.1.9.1";
pub const DOMAIN_COMPONENT: &str = "0.9.2342.19200300.100.1.25";

// CMS content types and attributes.
pub const DATA: &str = "1.2.840.113549.1.7.1";
pub const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub const ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
pub const AUTH_ENVELOPED_DATA: &str = "1.2.840.113549.1.9.16.1.23";
pub const COMPRESSED_DATA: &str = "1.2.840.113549.1.9.16.1.9";
pub const ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
pub const ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
pub const ATTR_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
pub const ATTR_SMIME_CAPABILITIES: &str = "1.2.840.113549.1.9.15";
pub const ATTR_ENCRYPTION_KEY_PREFERENCE: &str = "1.2.840.113549.1.9.16.2.11";
/// Microsoft's encryption-key preference (issuerAndSerialNumber).
pub const ATTR_MS_ENC_KEY_PREF: &str = "1.3.6.1.4.1.311.16.4";

/// CA/Browser Forum S/MIME Baseline Requirements arc: 2.23.140.1.5.{type}.{generation}.
pub const CABF_SMIME_ARC: &str = "2.23.140.1.5.";
/// GlobalSign's pre-BR PersonalSign client-certificate policy arc.
pub const GLOBALSIGN_PERSONALSIGN_ARC: &str = "1.3.6.1.4.1.4146.1.40";

/// Wire name of an extended key usage.
pub fn eku_name(oid: &str) -> String {
    match oid {
        "1.3.6.1.5.5.7.3.1" => "server_auth",
        "1.3.6.1.5.5.7.3.2" => "client_auth",
        "1.3.6.1.5.5.7.3.3" => "code_signing",
        "1.3.6.1.5.5.7.3.4" => "email_protection",
        "1.3.6.1.5.5.7.3.8" => "time_stamping",
        "1.3.6.1.5.5.7.3.9" => "ocsp_signing",
        "2.5.29.37.0" => "any",
        "1.3.6.1.4.1.311.10.3.12" => "document_signing",
        _ => return oid.to_string(),
    }
    .to_string()
}

/// Wire name of a digest algorithm.
pub fn digest_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.2.5" => "md5",
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.4" => "sha224",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        "2.16.840.1.101.3.4.2.8" => "sha3-256",
        "2.16.840.1.101.3.4.2.9" => "sha3-384",
        "2.16.840.1.101.3.4.2.10" => "sha3-512",
        _ => return oid.to_string(),
    }
    .to_string()
}

/// Wire name of a signature algorithm (as used in SignerInfo.signatureAlgorithm).
pub fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.5" | "1.2.840.113549.1.1.11"
        | "1.2.840.113549.1.1.12" | "1.2.840.113549.1.1.13" | "1.2.840.113549.1.1.14" => "rsa_pkcs1v15",
        "1.2.840.113549.1.1.10" => "rsa_pss",
        "1.2.840.10045.2.1" | "1.2.840.10045.4.1" | "1.2.840.10045.4.3.1" | "1.2.840.10045.4.3.2"
        | "1.2.840.10045.4.3.3" | "1.2.840.10045.4.3.4" => "ecdsa",
        "1.3.101.112" => "ed25519",
        "1.3.101.113" => "ed448",
        "1.2.840.10040.4.1" | "1.2.840.10040.4.3" => "dsa",
        _ => return oid.to_string(),
    }
    .to_string()
}

/// Wire name of a content-encryption or capability algorithm.
pub fn cipher_name(oid: &str) -> String {
    match oid {
        "2.16.840.1.101.3.4.1.2" => "aes-128-cbc",
        "2.16.840.1.101.3.4.1.22" => "aes-192-cbc",
        "2.16.840.1.101.3.4.1.42" => "aes-256-cbc",
        "2.16.840.1.101.3.4.1.6" => "aes-128-gcm",
        "2.16.840.1.101.3.4.1.26" => "aes-192-gcm",
        "2.16.840.1.101.3.4.1.46" => "aes-256-gcm",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.2.840.113549.3.2" => "rc2-cbc",
        "1.3.14.3.2.7" => "des-cbc",
        "1.2.840.113549.1.9.16.3.18" => "chacha20-poly1305",
        _ => return oid.to_string(),
    }
    .to_string()
}

/// Wire name of any algorithm in an SMIMECapabilities list (ciphers, digests, signatures, ...).
pub fn capability_name(oid: &str) -> String {
    let cipher = cipher_name(oid);
    if cipher != oid {
        return cipher;
    }
    let digest = digest_name(oid);
    if digest != oid {
        return digest;
    }
    match oid {
        "1.2.840.113549.1.1.7" => "rsa_oaep".into(),
        "1.2.840.113549.1.1.1" => "rsa".into(),
        "1.2.840.113549.1.1.10" => "rsa_pss".into(),
        "1.2.840.113549.1.1.11" => "sha256_with_rsa".into(),
        "1.2.840.113549.1.1.12" => "sha384_with_rsa".into(),
        "1.2.840.113549.1.1.13" => "sha512_with_rsa".into(),
        "1.3.132.1.11.1" => "ecdh_sha256_kdf".into(),
        "1.3.132.1.11.2" => "ecdh_sha384_kdf".into(),
        "1.3.132.1.11.3" => "ecdh_sha512_kdf".into(),
        "1.3.133.16.840.63.0.2" => "ecdh_sha1_kdf".into(),
        _ => oid.to_string(),
    }
}

/// Wire name of a key-encryption (key transport or agreement) algorithm.
pub fn key_transport_name(oid: &str) -> &'static str {
    match oid {
        "1.2.840.113549.1.1.1" => "rsa_pkcs1v15",
        "1.2.840.113549.1.1.7" => "rsa_oaep",
        o if o.starts_with("1.3.132.1.11.") || o.starts_with("1.3.133.16.840.63.0.") || o.starts_with("1.3.132.1.14.") => "ecdh",
        _ => "other",
    }
}

/// Curve name for an EC named-curve OID.
pub fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.132.0.33" => "P-224",
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        _ => return None,
    })
}
