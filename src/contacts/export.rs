//! Contacts' certificates as files: PEM (any number), DER (one) and PKCS#7 `.p7c` bundles
//! (`contacts_export`, `contacts export`; the directory tests build `.p7c` answers with it).

use crate::certs::oid;
use crate::certs::summary::Cert;
use crate::error::{Error, Result};

/// The file formats a contact's certificates can be exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Pem,
    Der,
    P7c,
}

impl ExportFormat {
    pub fn parse(text: &str) -> Option<ExportFormat> {
        match text.to_ascii_lowercase().as_str() {
            "pem" => Some(ExportFormat::Pem),
            "der" | "cer" | "crt" => Some(ExportFormat::Der),
            "p7c" | "p7b" | "pkcs7" => Some(ExportFormat::P7c),
            _ => None,
        }
    }
}

/// Encodes certificates for export: PEM (all), DER (the first only: DER holds one), PKCS#7.
pub fn export(certs: &[Cert], format: ExportFormat) -> Result<Vec<u8>> {
    let internal = |e: openssl::error::ErrorStack| Error::Internal { reason: e.to_string() };
    match format {
        ExportFormat::Pem => {
            let mut out = Vec::new();
            for c in certs {
                out.extend(c.x509.to_pem().map_err(internal)?);
            }
            Ok(out)
        }
        ExportFormat::Der => Ok(certs.first().map(|c| c.der.clone()).unwrap_or_default()),
        ExportFormat::P7c => Ok(certs_only_p7(certs)),
    }
}

/// A degenerate SignedData holding only certificates (RFC 5652 5.1; what `.p7c` files are).
pub fn certs_only_p7(certs: &[Cert]) -> Vec<u8> {
    use crate::asn1::{der_tlv, oid_from_string};
    let oid = |dotted: &str| der_tlv(0x06, &oid_from_string(dotted).unwrap_or_default());
    let all: Vec<u8> = certs.iter().flat_map(|c| c.der.iter().copied()).collect();
    let signed_data = der_tlv(
        0x30,
        &[der_tlv(0x02, &[1]), der_tlv(0x31, &[]), der_tlv(0x30, &oid(oid::DATA)), der_tlv(0xa0, &all), der_tlv(0x31, &[])].concat(),
    );
    der_tlv(0x30, &[oid(oid::SIGNED_DATA), der_tlv(0xa0, &signed_data)].concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::testing::{key, Ca, DAY};

    #[test]
    fn formats_are_named_as_users_name_files() {
        assert_eq!(ExportFormat::parse("PEM"), Some(ExportFormat::Pem));
        assert_eq!(["der", "cer", "crt"].map(ExportFormat::parse), [Some(ExportFormat::Der); 3]);
        assert_eq!(["p7c", "p7b", "pkcs7"].map(ExportFormat::parse), [Some(ExportFormat::P7c); 3]);
        assert_eq!(ExportFormat::parse("zip"), None);
    }

    #[test]
    fn pem_and_p7c_hold_every_certificate_der_the_first() {
        let ca = Ca::new("Export CA");
        let certs = [ca.issue("one", &key(), 0, DAY, true), ca.issue("two", &key(), 0, DAY, true)];
        let fingerprints = |found: Vec<Cert>| found.iter().map(Cert::fingerprint_sha256).collect::<Vec<_>>();
        let all = fingerprints(certs.to_vec());
        for format in [ExportFormat::Pem, ExportFormat::P7c] {
            let bytes = export(&certs, format).unwrap();
            assert_eq!(fingerprints(crate::certs::trust::parse_certificates(&bytes).unwrap()), all, "{format:?}");
        }
        assert_eq!(export(&certs, ExportFormat::Der).unwrap(), certs[0].der);
        assert_eq!(export(&[], ExportFormat::Der).unwrap(), b"");
    }
}
