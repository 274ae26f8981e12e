//! Certificate trust decisions, with certificates our own test CA makes here (certgen): which
//! certificate may be encrypted to (the chain for S/MIME encryption, every CA's extended key
//! usage, the leaf's own usage, CRLs, the algorithm policy), which CRL counts (the newest whose
//! signature verifies, wherever it came from), the algorithm policy on every certificate of a
//! signer's chain, and CA certificates as signers. Verdicts through the real CLI where a user
//! would meet them, and `certs::policy` directly for the many certificate shapes.

mod common;

use common::certgen::{broken_signature, ec_key_on, rsa_key, Ca, CaSpec, Leaf};
use common::*;
use foreign_types::ForeignTypeRef;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Crl, X509};
use serde_json::Value;
use smime_companion::certs::policy::{encryption_verdict, Refusal};
use smime_companion::certs::summary::Cert;
use smime_companion::certs::trust::{Anchor, AnchorSource, StoredCrl, TrustAnchors};
use std::path::{Path, PathBuf};

fn now() -> i64 {
    smime_companion::time::now()
}

/// Anchors with `roots` and `crls` only (no system store).
fn anchors(roots: &[&Ca], crls: &[&X509Crl]) -> TrustAnchors {
    let mut t = TrustAnchors::default();
    for root in roots {
        t.anchors.push(Anchor { cert: Cert::from_x509(&root.cert).unwrap(), source: AnchorSource::Call, path: None });
    }
    for crl in crls {
        t.crls.push(StoredCrl { crl: X509Crl::from_der(&crl.to_der().unwrap()).unwrap(), source: AnchorSource::User, path: None });
    }
    t
}

fn verdict(t: &TrustAnchors, leaf: &X509, intermediates: &[&Ca]) -> Result<(), Refusal> {
    let inter: Vec<X509> = intermediates.iter().map(|c| c.cert.clone()).collect();
    encryption_verdict(t, &Cert::from_x509(leaf).unwrap(), &inter, now())
}

extern "C" {
    // libcrypto; the openssl crate has no binding for adding a CRL to a SignedData.
    fn CMS_add1_crl(cms: *mut std::ffi::c_void, crl: *mut openssl_sys::X509_CRL) -> std::ffi::c_int;
}

/// A multipart/signed message from `from`, signed by `cert` with `key`, carrying `chain` and
/// `crls` in its SignedData.
fn signed_mail(from: &str, cert: &X509, key: &PKey<Private>, chain: &[&X509], crls: &[&X509Crl]) -> Vec<u8> {
    let content = b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n";
    let mut stack = openssl::stack::Stack::new().unwrap();
    for c in chain {
        stack.push((*c).clone()).unwrap();
    }
    let cms = CmsContentInfo::sign(Some(cert), Some(key), Some(&stack), Some(content), CMSOptions::DETACHED | CMSOptions::BINARY).unwrap();
    for crl in crls {
        assert_eq!(unsafe { CMS_add1_crl(cms.as_ptr() as *mut _, crl.as_ptr()) }, 1);
    }
    let der = cms.to_der().unwrap();
    let b64 = b64(&der);
    let lines: Vec<&str> = b64.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let mut m = format!(
        "From: {from}\r\nTo: bob@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; \
         protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"XX\"\r\n\r\n--XX\r\n"
    )
    .into_bytes();
    m.extend_from_slice(content);
    m.extend_from_slice(b"\r\n--XX\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    m.extend_from_slice(lines.join("\r\n").as_bytes());
    m.extend_from_slice(b"\r\n--XX--\r\n");
    m
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `inspect --json` of `mail` with `root` as the call's anchor; the first signer's report.
fn inspect(home: &Path, mail: &[u8], root: &Ca) -> Value {
    let eml = write(home, "mail.eml", mail);
    let ca = write(home, "root.pem", &root.pem());
    let (code, out, err) = cli(home, &["inspect", eml.to_str().unwrap(), "--json", "--no-harvest", "--ca", ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["signature"]["layers"][0]["signers"][0].clone()
}

fn problem<'v>(signer: &'v Value, code: &str, reason: &str) -> Option<&'v Value> {
    signer["problems"].as_array().unwrap().iter().find(|p| p["code"] == code && p["reason"] == reason)
}

fn trust_add_crl(home: &Path, crl: &X509Crl) {
    let path = write(home, "stored.crl.pem", &crl.to_pem().unwrap());
    let (code, _, err) = cli(home, &["trust", "add", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

// --- which CRL counts -----------------------------------------------------------------------

#[test]
fn an_older_crl_in_the_message_does_not_hide_a_stored_revocation() {
    let root = Ca::new("Rollback Root");
    let key = common::certgen::ec_key();
    let leaf = Leaf::for_address("rita@example.org").issue(&root, Some(&key));
    let older = root.crl(&[], 1, -2);
    let stored = root.crl(&[&leaf], 2, -1);
    // The message's CRL alone: still current, it lists nothing.
    let home = temp_home();
    let mail = signed_mail("rita@example.org", &leaf, &key, &[], &[&older]);
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!((signer["state"].as_str(), signer["revocation"]["status"].as_str()), (Some("valid"), Some("good")));
    // With the newer stored CRL that revokes, the message's older one changes nothing.
    trust_add_crl(home.path(), &stored);
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!((signer["state"].as_str(), signer["revocation"]["status"].as_str()), (Some("revoked"), Some("revoked")), "{signer}");
}

#[test]
fn a_newer_crl_in_the_message_adds_a_revocation() {
    let root = Ca::new("Newer CRL Root");
    let key = common::certgen::ec_key();
    let leaf = Leaf::for_address("nina@example.org").issue(&root, Some(&key));
    let home = temp_home();
    trust_add_crl(home.path(), &root.crl(&[], 1, -2));
    let mail = signed_mail("nina@example.org", &leaf, &key, &[], &[&root.crl(&[&leaf], 2, -1)]);
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!(signer["state"], "revoked", "{signer}");
}

#[test]
fn a_crl_whose_signature_does_not_verify_takes_no_part() {
    let root = Ca::new("Broken CRL Root");
    let key = common::certgen::ec_key();
    let leaf = Leaf::for_address("bert@example.org").issue(&root, Some(&key));
    // A "newer" CRL with a broken signature does not hide the stored revocation…
    let home = temp_home();
    trust_add_crl(home.path(), &root.crl(&[&leaf], 1, -2));
    let forged = broken_signature(&root.crl(&[], 9, -1));
    let signer = inspect(home.path(), &signed_mail("bert@example.org", &leaf, &key, &[], &[&forged]), &root);
    assert_eq!(signer["state"], "revoked", "{signer}");
    // …nor does a newer CRL signed by a look-alike CA (same name, other key) that the message
    // carries along with it…
    let look_alike = Ca::new("Broken CRL Root");
    let fake = look_alike.crl(&[], 10, -1);
    let mail = signed_mail("bert@example.org", &leaf, &key, &[&look_alike.cert], &[&fake]);
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!(signer["state"], "revoked", "{signer}");
    // …and a forged CRL revokes nothing.
    let home = temp_home();
    let forged = broken_signature(&root.crl(&[&leaf], 3, -1));
    let signer = inspect(home.path(), &signed_mail("bert@example.org", &leaf, &key, &[], &[&forged]), &root);
    assert_eq!((signer["state"].as_str(), signer["revocation"]["status"].as_str()), (Some("valid"), Some("unknown")), "{signer}");
}

#[test]
fn among_stored_crls_the_newest_wins_by_number_then_this_update() {
    let root = Ca::new("Numbered Root");
    let leaf = Leaf::for_address("nick@example.org").issue(&root, None);
    let revoking = root.crl(&[&leaf], 5, -3);
    // A higher number wins even against a later thisUpdate.
    let t = anchors(&[&root], &[&root.crl(&[], 4, -1), &revoking]);
    assert!(matches!(verdict(&t, &leaf, &[]), Err(Refusal::Revoked { depth: 0, .. })));
    let t = anchors(&[&root], &[&revoking, &root.crl(&[], 6, -4)]);
    assert_eq!(verdict(&t, &leaf, &[]), Ok(()), "number 6 lists nothing");
    // The same number: the later thisUpdate wins.
    let t = anchors(&[&root], &[&root.crl(&[], 7, -3), &root.crl(&[&leaf], 7, -1)]);
    assert!(matches!(verdict(&t, &leaf, &[]), Err(Refusal::Revoked { depth: 0, .. })));
    let t = anchors(&[&root], &[&root.crl(&[], 7, -1), &root.crl(&[&leaf], 7, -3)]);
    assert_eq!(verdict(&t, &leaf, &[]), Ok(()));
}

// --- CA certificates as signers, the algorithm policy on a signer's chain --------------------

#[test]
fn a_ca_certificate_as_signer_is_wrong_usage() {
    let root = Ca::new("Signer CA Root");
    let key = common::certgen::ec_key();
    let ca_leaf = Leaf { ca: true, ..Leaf::for_address("carl@example.org") }.issue(&root, Some(&key));
    let signer = inspect(temp_home().path(), &signed_mail("carl@example.org", &ca_leaf, &key, &[], &[]), &root);
    assert_eq!(signer["state"], "wrong_usage", "{signer}");
    assert!(problem(&signer, "wrong_usage", "ca_certificate").is_some(), "{signer}");
    // The same certificate without cA signs validly.
    let leaf = Leaf::for_address("carl@example.org").issue(&root, Some(&key));
    assert_eq!(inspect(temp_home().path(), &signed_mail("carl@example.org", &leaf, &key, &[], &[]), &root)["state"], "valid");
}

#[test]
fn weak_algorithms_anywhere_in_the_signers_chain_are_named_with_depth_and_subject() {
    let home = temp_home();
    let key = common::certgen::ec_key();
    let sign = |root: &Ca, leaf: &X509, chain: &[&X509]| inspect(home.path(), &signed_mail("wes@example.org", leaf, &key, chain, &[]), root);
    // The leaf signed with SHA-1.
    let root = Ca::new("Weak Root");
    let leaf = Leaf { digest: MessageDigest::sha1(), ..Leaf::for_address("wes@example.org") }.issue(&root, Some(&key));
    let s = sign(&root, &leaf, &[]);
    assert_eq!(s["state"], "weak_algorithm", "{s}");
    let p = problem(&s, "weak_algorithm", "weak_certificate_signature").unwrap();
    assert_eq!((p["depth"].as_u64(), p["algorithm"].as_str()), (Some(0), Some("sha1")), "{p}");
    // The leaf signed with MD5 (by an RSA CA: ECDSA has no MD5).
    let rsa_root = Ca::build(CaSpec { key: Some(rsa_key(2048)), ..CaSpec::named("Weak RSA Root") });
    let leaf = Leaf { digest: MessageDigest::md5(), ..Leaf::for_address("wes@example.org") }.issue(&rsa_root, Some(&key));
    let s = sign(&rsa_root, &leaf, &[]);
    assert_eq!(problem(&s, "weak_algorithm", "weak_certificate_signature").unwrap()["algorithm"], "md5", "{s}");
    // An intermediate signed with SHA-1.
    let inter = Ca::build(CaSpec { issuer: Some(&root), digest: MessageDigest::sha1(), ..CaSpec::named("SHA-1 Intermediate") });
    let leaf = Leaf::for_address("wes@example.org").issue(&inter, Some(&key));
    let s = sign(&root, &leaf, &[&inter.cert]);
    assert_eq!(s["state"], "weak_algorithm", "{s}");
    let p = problem(&s, "weak_algorithm", "weak_certificate_signature").unwrap();
    assert_eq!((p["depth"].as_u64(), p["subject"].as_str()), (Some(1), Some("CN=SHA-1 Intermediate")), "{p}");
    // Intermediates with 512- and 1024-bit RSA keys.
    for bits in [512, 1024] {
        let inter = Ca::build(CaSpec { issuer: Some(&root), key: Some(rsa_key(bits)), ..CaSpec::named("Small Key Intermediate") });
        let leaf = Leaf::for_address("wes@example.org").issue(&inter, Some(&key));
        let s = sign(&root, &leaf, &[&inter.cert]);
        let p = problem(&s, "weak_algorithm", "small_rsa_key").unwrap_or_else(|| panic!("{bits}: {s}"));
        assert_eq!((p["depth"].as_u64(), p["bits"].as_u64()), (Some(1), Some(bits as u64)), "{p}");
    }
    // A P-192 signer key.
    let p192 = ec_key_on(Nid::X9_62_PRIME192V1);
    let leaf = Leaf::for_address("wes@example.org").issue(&root, Some(&p192));
    let s = inspect(home.path(), &signed_mail("wes@example.org", &leaf, &p192, &[], &[]), &root);
    let p = problem(&s, "weak_algorithm", "small_ec_key").unwrap_or_else(|| panic!("{s}"));
    assert_eq!((p["depth"].as_u64(), p["bits"].as_u64(), p["curve"].as_str()), (Some(0), Some(192), Some("prime192v1")), "{p}");
    // A root's SHA-1 signature on itself vouches for nothing: not weak.
    let sha1_root = Ca::build(CaSpec { digest: MessageDigest::sha1(), ..CaSpec::named("SHA-1 Self-Signed Root") });
    let leaf = Leaf::for_address("wes@example.org").issue(&sha1_root, Some(&key));
    assert_eq!(sign(&sha1_root, &leaf, &[])["state"], "valid");
}

// --- which certificate may be encrypted to --------------------------------------------------

#[test]
fn a_certificate_under_a_tls_only_sub_ca_is_never_chosen_for_encryption() {
    let root = Ca::new("TLS Root");
    let tls = Ca::build(CaSpec { issuer: Some(&root), eku: vec!["serverAuth"], ..CaSpec::named("TLS Only Sub-CA") });
    let key = common::certgen::ec_key();
    let leaf = Leaf::for_address("tess@example.org").issue(&tls, Some(&key));
    // Signing already says wrong_usage…
    let s = inspect(temp_home().path(), &signed_mail("tess@example.org", &leaf, &key, &[&tls.cert], &[]), &root);
    assert_eq!(s["state"], "wrong_usage", "{s}");
    assert_eq!(problem(&s, "wrong_usage", "extended_key_usage").unwrap()["depth"], 1);
    // …and encryption agrees.
    let t = anchors(&[&root], &[]);
    assert_eq!(verdict(&t, &leaf, &[&tls]), Err(Refusal::CaNotForEmail { depth: 1, subject: "CN=TLS Only Sub-CA".into() }));
    // Through the CLI: imported, its CA trusted, and still refused.
    let home = temp_home();
    let root_pem = write(home.path(), "root.pem", &root.pem());
    assert_eq!(cli(home.path(), &["trust", "add", root_pem.to_str().unwrap()]).0, 0);
    let bundle: Vec<u8> = [leaf.to_pem().unwrap(), tls.pem()].concat();
    let bundle = write(home.path(), "tess.pem", &bundle);
    assert_eq!(cli(home.path(), &["contacts", "import", bundle.to_str().unwrap()]).0, 0);
    let (code, out, _) = cli(home.path(), &["contacts", "check", "tess@example.org", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, v["recipients"][0]["reason"].as_str()), (1, Some("ca_not_for_email")), "{v}");
    // A sub-CA for e-mail is fine, with an EC key (keyAgreement) as with RSA (keyEncipherment).
    let mail_ca = Ca::build(CaSpec { issuer: Some(&root), eku: vec!["emailProtection"], ..CaSpec::named("Mail Sub-CA") });
    assert_eq!(verdict(&t, &Leaf::for_address("tess@example.org").issue(&mail_ca, None), &[&mail_ca]), Ok(()));
    assert_eq!(verdict(&t, &Leaf::for_address("tess@example.org").issue(&mail_ca, Some(&rsa_key(2048))), &[&mail_ca]), Ok(()));
}

#[test]
fn the_certificates_own_usage_must_allow_encryption_for_its_key_type() {
    let root = Ca::new("Usage Root");
    let t = anchors(&[&root], &[]);
    let usage = |leaf: Leaf<'_>, key: Option<&PKey<Private>>| verdict(&t, &leaf.issue(&root, key), &[]);
    let rsa = rsa_key(2048);
    let refused = |reason| Err(Refusal::NoEncryptionUsage { reason });
    assert_eq!(usage(Leaf { encrypt_bit: Some("key_agreement"), ..Leaf::for_address("u@example.org") }, Some(&rsa)), refused("key_usage"));
    assert_eq!(usage(Leaf { encrypt_bit: Some("key_encipherment"), ..Leaf::for_address("u@example.org") }, None), refused("key_usage"));
    assert_eq!(usage(Leaf { encrypt: false, ..Leaf::for_address("u@example.org") }, None), refused("key_usage"));
    assert_eq!(usage(Leaf { email_eku: false, ..Leaf::for_address("u@example.org") }, None), refused("extended_key_usage"));
    assert_eq!(usage(Leaf { ca: true, ..Leaf::for_address("u@example.org") }, None), refused("ca_certificate"));
    assert_eq!(usage(Leaf::for_address("u@example.org"), None), Ok(()));
    assert_eq!(usage(Leaf::for_address("u@example.org"), Some(&rsa)), Ok(()));
}

#[test]
fn encryption_refuses_weak_revoked_expired_and_untrusted_chains() {
    let root = Ca::new("Policy Root");
    let t = anchors(&[&root], &[]);
    let weak = |v: Result<(), Refusal>| match v {
        Err(Refusal::WeakAlgorithm { reason, depth, .. }) => Some((reason, depth)),
        _ => None,
    };
    let leaf = Leaf { digest: MessageDigest::sha1(), ..Leaf::for_address("w@example.org") }.issue(&root, None);
    assert_eq!(weak(verdict(&t, &leaf, &[])), Some(("weak_certificate_signature", 0)));
    let small = Ca::build(CaSpec { issuer: Some(&root), key: Some(rsa_key(1024)), ..CaSpec::named("Small Intermediate") });
    assert_eq!(weak(verdict(&t, &Leaf::for_address("w@example.org").issue(&small, None), &[&small])), Some(("small_rsa_key", 1)));
    let sha1 = Ca::build(CaSpec { issuer: Some(&root), digest: MessageDigest::sha1(), ..CaSpec::named("SHA-1 Intermediate") });
    assert_eq!(weak(verdict(&t, &Leaf::for_address("w@example.org").issue(&sha1, None), &[&sha1])), Some(("weak_certificate_signature", 1)));
    let p192 = ec_key_on(Nid::X9_62_PRIME192V1);
    assert_eq!(weak(verdict(&t, &Leaf::for_address("w@example.org").issue(&root, Some(&p192)), &[])), Some(("small_ec_key", 0)));
    assert_eq!(weak(verdict(&t, &Leaf::for_address("w@example.org").issue(&root, Some(&rsa_key(1024))), &[])), Some(("small_rsa_key", 0)));
    // Revoked by a stored CRL, at any depth.
    let inter = root.sub("Revoked Intermediate");
    let leaf = Leaf::for_address("w@example.org").issue(&inter, None);
    assert!(matches!(verdict(&anchors(&[&root], &[&root.crl(&[&inter.cert], 1, -1)]), &leaf, &[&inter]), Err(Refusal::Revoked { depth: 1, .. })));
    assert!(matches!(verdict(&anchors(&[&root], &[&inter.crl(&[&leaf], 1, -1)]), &leaf, &[&inter]), Err(Refusal::Revoked { depth: 0, .. })));
    // Expired, not yet valid, untrusted.
    let expired = Leaf { not_before_days: -30, not_after_days: -1, ..Leaf::for_address("w@example.org") }.issue(&root, None);
    assert!(matches!(verdict(&t, &expired, &[]), Err(Refusal::Expired { depth: 0, .. })));
    let later = Leaf { not_before_days: 2, ..Leaf::for_address("w@example.org") }.issue(&root, None);
    assert!(matches!(verdict(&t, &later, &[]), Err(Refusal::NotYetValid { depth: 0, .. })));
    let stranger = Ca::new("Stranger Root");
    assert_eq!(verdict(&t, &Leaf::for_address("w@example.org").issue(&stranger, None), &[]), Err(Refusal::Untrusted { reason: "unknown_ca", depth: 0 }));
}
