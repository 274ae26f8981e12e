//! Our own X.509 reader (certs/x509.rs, which describes certificates for people) and OpenSSL's
//! reading (certs/reading.rs, which every decision uses) must agree on every field both read:
//! the e-mail addresses (subjectAltName rfc822Name, subject emailAddress), key usage, extended key
//! usage, basicConstraints cA and the validity period. Compared on every certificate of the test PKI and vectors, and
//! on certificates made here the way Thunderbird's and other mail programs' test certificates
//! look (subject emailAddress beside the SAN, several addresses, Netscape types, unknown EKUs,
//! SmtpUTF8Mailbox, explicit cA FALSE, no extensions at all). Any difference fails.

mod common;

use common::*;
use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Extension, X509NameBuilder, X509};
use smime_companion::certs::oid;
use smime_companion::certs::reading::{extended_key_usage_of, key_usage_names};
use smime_companion::certs::summary::Cert;
use smime_companion::certs::trust::parse_certificates;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the two readings of one certificate differ.
fn differences(cert: &Cert) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, ours: String, openssl: String| {
        if ours != openssl {
            out.push(format!("{what}: ours {ours}, OpenSSL's {openssl}"));
        }
    };
    let f = &cert.fields;
    let emails = cert.openssl_emails();
    check("SAN rfc822Name", format!("{:?}", f.san_emails), format!("{:?}", emails.san));
    let subject: Vec<&str> = f.subject.all(oid::EMAIL_ADDRESS).collect();
    check("subject emailAddress", format!("{subject:?}"), format!("{:?}", emails.subject));
    check("subjectAltName present", f.has_san.to_string(), cert.has_subject_alt_name().to_string());
    check("addresses that count", format!("{:?}", f.emails()), format!("{:?}", cert.emails()));
    check("key usage", format!("{:?}", f.key_usage), format!("{:?}", cert.key_usage().map(key_usage_names)));
    check(
        "extended key usage",
        format!("{:?}", f.ext_key_usage.as_ref().map(|l| extended_key_usage_of(l))),
        format!("{:?}", cert.extended_key_usage()),
    );
    check("basicConstraints cA", f.is_ca.to_string(), cert.has_ca_constraint().to_string());
    check("validity", format!("{:?}", (f.not_before, f.not_after)), format!("{:?}", cert.validity()));
    out
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every certificate in a file: PEM, DER, PKCS#7, or the base64 parts of a message.
fn certificates_in(path: &Path) -> Vec<Cert> {
    let bytes = std::fs::read(path).unwrap();
    if let Ok(certs) = parse_certificates(&bytes) {
        return certs;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    // Each base64 body of a message (certificates travel in its SignedData).
    for part in text.split("\n\n").chain(text.split("\r\n\r\n")) {
        let b64: String = part.lines().take_while(|l| !l.starts_with("--")).flat_map(|l| l.trim().chars()).collect();
        if b64.len() < 200 || !b64.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)) {
            continue;
        }
        use base64::Engine;
        if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
            out.extend(parse_certificates(&der).unwrap_or_default());
        }
    }
    out
}

#[test]
fn both_readings_agree_on_every_certificate_of_the_test_pki_and_vectors() {
    let (pki, vectors) = (repo_path("target/test-data/pki"), repo_path("target/test-data/vectors"));
    assert!(Command::new(repo_path("tests/vectors/make-vectors.sh")).arg(&pki).arg(&vectors).status().unwrap().success());
    let mut paths = Vec::new();
    files(&pki, &mut paths);
    files(&vectors, &mut paths);
    let mut seen = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for path in &paths {
        for cert in certificates_in(path) {
            if !seen.insert(cert.fingerprint_sha256()) {
                continue;
            }
            for d in differences(&cert) {
                failures.push(format!("{} ({}): {d}", path.display(), cert.fields.subject.to_rfc4514()));
            }
        }
    }
    assert!(seen.len() >= 20, "only {} certificates found under {}", seen.len(), pki.display());
    assert!(failures.is_empty(), "the readings differ:\n{}", failures.join("\n"));
}

fn build(configure: impl FnOnce(&mut openssl::x509::X509Builder)) -> X509 {
    let key = common::certgen::ec_key();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&Asn1Integer::from_bn(&BigNum::from_u32(7).unwrap()).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_nid(Nid::COMMONNAME, "Reading Test").unwrap();
    let name = name.build();
    b.set_issuer_name(&name).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(30).unwrap()).unwrap();
    configure(&mut b);
    b.sign(&key, MessageDigest::sha256()).unwrap();
    b.build()
}

fn raw_extension(oid: &str, critical: bool, der: &[u8]) -> X509Extension {
    X509Extension::new_from_der(&Asn1Object::from_str(oid).unwrap(), critical, &Asn1OctetString::new_from_bytes(der).unwrap()).unwrap()
}

fn subject(entries: &[(Nid, &str)]) -> openssl::x509::X509Name {
    let mut n = X509NameBuilder::new().unwrap();
    for (nid, v) in entries {
        n.append_entry_by_nid(*nid, v).unwrap();
    }
    n.build()
}

#[test]
fn both_readings_agree_on_certificates_shaped_like_mail_programs_make_them() {
    #[allow(deprecated)]
    let shapes: Vec<(&str, X509)> = vec![
        // Thunderbird's test certificates (NSS): subject E= beside the SAN, nonRepudiation, cA FALSE.
        ("thunderbird style", build(|b| {
            b.set_subject_name(&subject(&[(Nid::COMMONNAME, "Alice"), (Nid::PKCS9_EMAILADDRESS, "Alice@example.com")])).unwrap();
            b.append_extension(BasicConstraints::new().build().unwrap()).unwrap();
            b.append_extension(KeyUsage::new().digital_signature().non_repudiation().key_encipherment().build().unwrap()).unwrap();
            b.append_extension(ExtendedKeyUsage::new().email_protection().build().unwrap()).unwrap();
            let san = SubjectAlternativeName::new().email("Alice@example.com").build(&b.x509v3_context(None, None)).unwrap();
            b.append_extension(san).unwrap();
        })),
        // Subject e-mail only, two of them; no SAN.
        ("subject addresses only", build(|b| {
            b.set_subject_name(&subject(&[(Nid::PKCS9_EMAILADDRESS, "one@example.org"), (Nid::COMMONNAME, "Two"), (Nid::PKCS9_EMAILADDRESS, "two@example.org")])).unwrap();
        })),
        // Several SAN entries, addresses among DNS names and URIs.
        ("mixed SAN", build(|b| {
            let san = SubjectAlternativeName::new()
                .dns("mail.example.org")
                .email("first@example.org")
                .uri("https://example.org/")
                .email("second@example.org")
                .build(&b.x509v3_context(None, None))
                .unwrap();
            b.append_extension(san).unwrap();
        })),
        // SmtpUTF8Mailbox (RFC 9598) beside an rfc822Name: OpenSSL reads only the latter.
        ("SmtpUTF8Mailbox", build(|b| {
            let mailbox = "jörg@example.org".as_bytes();
            let mut other = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x09, 0xa0, mailbox.len() as u8 + 2, 0x0c, mailbox.len() as u8];
            other.extend_from_slice(mailbox);
            let mut names = vec![0xa0, other.len() as u8];
            names.extend(other);
            names.extend([0x81, 15]);
            names.extend(b"ascii@example.o");
            let mut san = vec![0x30, names.len() as u8];
            san.extend(names);
            b.append_extension(raw_extension("2.5.29.17", false, &san)).unwrap();
        })),
        // Every key usage bit, decipherOnly (the second byte) included.
        ("every key usage", build(|b| {
            let ku = KeyUsage::new()
                .digital_signature()
                .non_repudiation()
                .key_encipherment()
                .data_encipherment()
                .key_agreement()
                .key_cert_sign()
                .crl_sign()
                .encipher_only()
                .decipher_only()
                .build()
                .unwrap();
            b.append_extension(ku).unwrap();
        })),
        // EKUs OpenSSL knows, one it does not (documentSigning), anyExtendedKeyUsage.
        ("many EKUs", build(|b| {
            let eku = ExtendedKeyUsage::new()
                .server_auth()
                .client_auth()
                .code_signing()
                .email_protection()
                .time_stamping()
                .other("OCSPSigning")
                .other("1.3.6.1.4.1.311.10.3.12")
                .other("anyExtendedKeyUsage")
                .build()
                .unwrap();
            b.append_extension(eku).unwrap();
        })),
        ("unknown EKU only", build(|b| b.append_extension(ExtendedKeyUsage::new().other("1.2.3.4").build().unwrap()).unwrap())),
        ("CA with path length", build(|b| b.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build().unwrap()).unwrap())),
        ("explicit cA FALSE", build(|b| b.append_extension(raw_extension("2.5.29.19", false, &[0x30, 0x03, 0x01, 0x01, 0x00])).unwrap())),
        ("Netscape type", build(|b| {
            b.append_extension(X509Extension::new_nid(None, None, Nid::NETSCAPE_CERT_TYPE, "client, email").unwrap()).unwrap();
            let san = SubjectAlternativeName::new().email("ns@example.org").build(&b.x509v3_context(None, None)).unwrap();
            b.append_extension(san).unwrap();
        })),
        ("no extensions", build(|_| {})),
    ];
    let mut failures = Vec::new();
    for (shape, x509) in &shapes {
        let cert = Cert::from_x509(x509).unwrap();
        failures.extend(differences(&cert).into_iter().map(|d| format!("{shape}: {d}")));
    }
    assert!(failures.is_empty(), "the readings differ:\n{}", failures.join("\n"));
    // The comparison sees what it should: the SmtpUTF8Mailbox is ours alone, by design.
    let utf8 = Cert::from_x509(&shapes.iter().find(|(s, _)| *s == "SmtpUTF8Mailbox").unwrap().1).unwrap();
    assert_eq!(utf8.fields.san_utf8_mailboxes, vec!["jörg@example.org"]);
    assert_eq!(utf8.openssl_emails().san, vec!["ascii@example.o"]);
}

/// Where the readings must differ: a certificate whose extensions OpenSSL cannot process (a key
/// usage with no bit set, an extended key usage that is no list of OIDs). Our reader skips what
/// it cannot read, which would mean "no restriction"; OpenSSL's reading allows nothing, and
/// every decision follows OpenSSL's.
#[test]
fn a_certificate_whose_extensions_openssl_rejects_allows_nothing() {
    let broken = [
        ("empty key usage", raw_extension("2.5.29.15", true, &[0x03, 0x01, 0x00])),
        ("extended key usage of integers", raw_extension("2.5.29.37", false, &[0x30, 0x03, 0x02, 0x01, 0x05])),
    ];
    for (what, ext) in broken {
        let x509 = build(|b| {
            b.append_extension2(&ext).unwrap();
            let san = SubjectAlternativeName::new().email("odd@example.org").build(&b.x509v3_context(None, None)).unwrap();
            b.append_extension(san).unwrap();
        });
        let cert = Cert::from_x509(&x509).unwrap();
        assert!(cert.extension_flags() & openssl_sys::EXFLAG_INVALID != 0, "{what}: OpenSSL finds it invalid");
        assert_eq!(cert.extended_key_usage(), Some(openssl::x509::X509ExtendedKeyUsage::empty()), "{what}");
        assert_eq!(cert.key_usage(), Some(openssl::x509::X509KeyUsage::empty()), "{what}");
        assert!(!cert.allows_email_protection() && !cert.allows_signing_key_usage(), "{what}");
        assert!(smime_companion::certs::policy::encryption_usage(&cert).is_err(), "{what}");
    }
}
