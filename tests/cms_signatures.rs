//! The CMS signature layer through the real CLI (`inspect FILE --json`), with SignedData built
//! by hand (tests/common/cmsgen.rs) or by `openssl cms`, signed by a CA made for the test: how
//! many signers and certificates one message can make us check, signatures without signed
//! attributes, the contentType and messageDigest attributes, the signing time against the
//! certificate's validity, and a detached signature that embeds content of its own.

mod common;

use common::certgen::{Ca, Leaf};
use common::cmsgen::*;
use common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const ALICE: &str = "alice@example.org";

struct Pki {
    alice: Signer,
    home: tempfile::TempDir,
    ca_file: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let ca = Ca::new("Test Root CA");
        let key = certgen::ec_key();
        let cert = Leaf::for_address(ALICE).issue(&ca, Some(&key));
        let home = temp_home();
        let ca_file = home.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        Pki { alice: Signer { cert, key }, home, ca_file }
    }

    /// The verdict of the CLI, the test CA trusted for the call.
    fn inspect(&self, message: &[u8]) -> Value {
        self.inspect_raw(message).0
    }

    /// The verdict, the length of its JSON text and the CPU time the program took.
    fn inspect_raw(&self, message: &[u8]) -> (Value, usize, Duration) {
        let file = self.home.path().join("message.eml");
        std::fs::write(&file, message).unwrap();
        let (out_file, err_file) = (self.home.path().join("verdict.json"), self.home.path().join("stderr.txt"));
        let (status, cpu) = common::growth::run_timed(
            Command::new(BIN)
                .args(["inspect", file.to_str().unwrap(), "--json", "--ca", self.ca_file.to_str().unwrap()])
                .env("SMIME_COMPANION_HOME", self.home.path())
                .env("SMIME_COMPANION_SYSTEM_CONFIG", self.home.path().join("no-system-config.json"))
                .stdin(std::process::Stdio::null())
                .stdout(std::fs::File::create(&out_file).unwrap())
                .stderr(std::fs::File::create(&err_file).unwrap()),
        );
        let (out, err) = (std::fs::read_to_string(&out_file).unwrap(), std::fs::read_to_string(&err_file).unwrap());
        assert_eq!(status.code(), Some(0), "{err}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {}", &out[..out.len().min(500)]));
        (v, out.len(), cpu)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

fn now() -> i64 {
    smime_companion::time::now()
}

fn reasons(v: &Value) -> Vec<String> {
    v["signature"]["problems"].as_array().unwrap().iter().filter_map(|p| p["reason"].as_str().map(str::to_string)).collect()
}

fn codes(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_hand_built_signature_with_the_usual_attributes_is_valid() {
    let pki = Pki::new();
    let t = now();
    let si = pki.alice.signer_info(SIGNED_PART.as_bytes(), Some(&pki.alice.usual_attributes(SIGNED_PART.as_bytes(), t)));
    let der = signed_data(DATA, None, &[&pki.alice.cert], std::slice::from_ref(&si));
    let v = pki.inspect(&detached_message(ALICE, t, &der));
    assert_eq!(v["signature"]["state"], "valid", "{v}");
    let der = signed_data(DATA, Some(SIGNED_PART.as_bytes()), &[&pki.alice.cert], &[si]);
    let v = pki.inspect(&opaque_message(ALICE, t, &der));
    assert_eq!(v["signature"]["state"], "valid", "{v}");
}


/// The verdict's JSON stays readable: a few signers, each with a bounded chain and problem list.
const SMALL_VERDICT: usize = 256 * 1024;
/// Generous CPU time (of the program, which a busy machine does not stretch): each case takes
/// well under a second; only a blow-up reaches this.
const GENEROUS: Duration = Duration::from_secs(20);

#[test]
fn ten_thousand_signer_infos_are_not_all_checked_and_the_verdict_stays_small() {
    let pki = Pki::new();
    let t = now();
    let si = pki.alice.signer_info(SIGNED_PART.as_bytes(), Some(&pki.alice.usual_attributes(SIGNED_PART.as_bytes(), t)));
    // Four times as many signers cost no more than four times as much: each is read, only 16
    // are checked.
    let mut verdicts = std::collections::HashMap::new();
    common::growth::assert_linear("signer infos", 2_500, |n| {
        let (v, len, cpu) = pki.inspect_raw(&detached_message(ALICE, t, &signed_data(DATA, None, &[&pki.alice.cert], &vec![si.clone(); n])));
        assert_eq!(v["signature"]["layers"][0]["signer_count"], n);
        assert!(len < SMALL_VERDICT, "verdict of {len} bytes");
        verdicts.insert(n, v);
        cpu
    });
    let v = &verdicts[&10_000];
    let layer = &v["signature"]["layers"][0];
    assert_eq!(layer["signer_count"], 10_000);
    assert_eq!(layer["signers"].as_array().unwrap().len(), 16);
    // Every signer checked is good, but the 9,984 nobody checked cannot vouch for anything.
    assert_eq!(v["signature"]["state"], "malformed", "{}", v["signature"]);
    assert_eq!(reasons(&v)[0], "too_many_signers");
    let problem = &layer["problems"][0];
    assert_eq!((problem["count"].clone(), problem["checked"].clone()), (Value::from(10_000), Value::from(16)));
    assert_eq!(v["signature"]["signer"]["emails"][0], ALICE);
    assert!(v["contacts"]["stored"].as_array().unwrap().is_empty(), "a malformed signature stores nothing");
}

#[test]
fn sixteen_signers_are_all_checked() {
    let pki = Pki::new();
    let t = now();
    let si = pki.alice.signer_info(SIGNED_PART.as_bytes(), Some(&pki.alice.usual_attributes(SIGNED_PART.as_bytes(), t)));
    let der = signed_data(DATA, None, &[&pki.alice.cert], &vec![si; 16]);
    let v = pki.inspect(&detached_message(ALICE, t, &der));
    assert_eq!(v["signature"]["state"], "valid", "{}", v["signature"]);
    assert_eq!(v["signature"]["layers"][0]["signer_count"], 16);
}

#[test]
fn five_hundred_certificates_make_neither_a_long_chain_nor_a_large_verdict() {
    let pki = Pki::new();
    let t = now();
    // A 90-deep chain under a root nobody trusts, and 409 unrelated CA certificates; the
    // signer's own certificate comes last.
    let mut cas = vec![Ca::new("Untrusted Root")];
    for i in 0..90 {
        let next = sub_ca(cas.last().unwrap(), &format!("Intermediate {i}"));
        cas.push(next);
    }
    let key = certgen::ec_key();
    let signer = Signer { cert: Leaf::for_address(ALICE).issue(cas.last().unwrap(), Some(&key)), key };
    let fillers: Vec<Ca> = (0..409).map(|i| Ca::new(&format!("Filler {i}"))).collect();
    let mut certs: Vec<&openssl::x509::X509> = cas.iter().rev().map(|c| &c.cert).collect();
    certs.extend(fillers.iter().map(|c| &c.cert));
    certs.push(&signer.cert);
    assert_eq!(certs.len(), 501);
    let si = signer.signer_info(SIGNED_PART.as_bytes(), Some(&signer.usual_attributes(SIGNED_PART.as_bytes(), t)));
    let der = signed_data(DATA, None, &certs, &[si]);
    let (v, len, cpu) = pki.inspect_raw(&detached_message(ALICE, t, &der));
    assert!(cpu < GENEROUS, "{cpu:?} of CPU time");
    assert!(len < SMALL_VERDICT, "verdict of {len} bytes");
    // The signer's certificate is found wherever it is; chains are built from the first
    // certificates only, so this one ends early, and at most a few issuers are reported.
    assert_eq!(v["signature"]["state"], "untrusted", "{}", v["signature"]);
    assert_eq!(v["signature"]["signer"]["emails"][0], ALICE);
    let signer = &v["signature"]["layers"][0]["signers"][0];
    let shown = signer["chain"].as_array().unwrap().len();
    assert!(shown <= 10, "{shown} chain certificates reported");
    assert!(shown + signer["chain_omitted"].as_u64().unwrap_or(0) as usize <= 32);
}

#[test]
fn ten_thousand_digest_algorithms_are_refused_before_anything_is_digested() {
    let pki = Pki::new();
    let t = now();
    let content: String = format!("Content-Type: text/plain\r\n\r\n{}", "A line of a long text.\r\n".repeat(10_000));
    let si = pki.alice.signer_info(content.as_bytes(), Some(&pki.alice.usual_attributes(content.as_bytes(), t)));
    let der = signed_data_with_digests(&vec![SHA256; 10_000], DATA, Some(content.as_bytes()), &[&pki.alice.cert], &[si]);
    let (v, _, cpu) = pki.inspect_raw(&opaque_message(ALICE, t, &der));
    assert!(cpu < GENEROUS, "{cpu:?} of CPU time");
    assert_eq!(v["signature"]["state"], "malformed", "{}", v["signature"]);
    assert_eq!(reasons(&v), ["too_many_digest_algorithms"]);
}

/// Johnny C1: a multipart/signed whose SignedData carries eContent too. Never valid, but the
/// signer is named, and the shown part alone is what the signature is checked against.
#[test]
fn a_detached_signature_with_embedded_content_names_its_signer() {
    let pki = Pki::new();
    let t = now();
    let other = "Content-Type: text/plain\r\n\r\nPlease transfer 900 EUR to account 66666.\r\n";
    for (embedded, altered) in [(SIGNED_PART, false), (other, true)] {
        let si = pki.alice.signer_info(embedded.as_bytes(), Some(&pki.alice.usual_attributes(embedded.as_bytes(), t)));
        let der = signed_data(DATA, Some(embedded.as_bytes()), &[&pki.alice.cert], &[si]);
        let v = pki.inspect(&detached_message(ALICE, t, &der));
        let sig = &v["signature"];
        assert_eq!(sig["state"], "malformed", "{sig}");
        assert_eq!(reasons(&v)[0], "embedded_content_in_detached_signature");
        assert_eq!(sig["signer"]["emails"][0], ALICE, "{sig}");
        let signer = &sig["layers"][0]["signers"][0];
        assert_eq!(signer["certificate"]["emails"][0], ALICE);
        assert_eq!(signer["anchor"], "call", "the chain was checked");
        let problems = codes(&signer["problems"]);
        assert_eq!(problems.contains(&"content_altered".to_string()), altered, "{problems:?}");
        assert!(v["contacts"]["stored"].as_array().unwrap().is_empty());
    }
    // Without any signer it is still no certificate bundle: the shown part comes with a copy.
    let der = signed_data(DATA, Some(other.as_bytes()), &[&pki.alice.cert], &[]);
    let v = pki.inspect(&detached_message(ALICE, t, &der));
    assert_eq!((v["signature"]["state"].as_str(), reasons(&v)), (Some("malformed"), vec!["embedded_content_in_detached_signature".to_string()]));
}

fn write_signer_files(pki: &Pki) -> (PathBuf, PathBuf) {
    let (cert, key) = (pki.path("alice.pem"), pki.path("alice.key"));
    std::fs::write(&cert, pki.alice.cert.to_pem().unwrap()).unwrap();
    std::fs::write(&key, pki.alice.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (cert, key)
}

fn openssl_sign(pki: &Pki, content: &[u8], extra: &[&str]) -> Vec<u8> {
    let (cert, key) = write_signer_files(pki);
    let input = pki.path("content.txt");
    std::fs::write(&input, content).unwrap();
    let out = Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-outform", "DER"])
        .args(extra)
        .arg("-in")
        .arg(&input)
        .arg("-signer")
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack.windows(from.len()).position(|w| w == from).expect("text present");
    [&haystack[..at], to, &haystack[at + from.len()..]].concat()
}

/// RFC 5652 §5.4: without signed attributes the signature covers the content itself.
/// `openssl cms -sign -noattr` makes such signatures, and `openssl cms -verify` accepts them.
#[test]
fn openssl_signatures_without_signed_attributes_verify_and_an_altered_byte_does_not() {
    let pki = Pki::new();
    let t = now();
    let detached = openssl_sign(&pki, SIGNED_PART.as_bytes(), &["-noattr"]);
    let opaque = openssl_sign(&pki, SIGNED_PART.as_bytes(), &["-noattr", "-nodetach"]);
    let cases = [("detached", detached_message(ALICE, t, &detached)), ("opaque", opaque_message(ALICE, t, &opaque))];
    for (name, message) in &cases {
        let v = pki.inspect(message);
        assert_eq!(v["signature"]["state"], "valid", "{name}: {}", v["signature"]);
        assert!(codes(&v["signature"]["warnings"]).contains(&"no_signed_attributes".to_string()), "{name}");
        assert_eq!(v["signature"]["signing_time"], Value::Null);
    }
    // Opaque: the eContent travels base64-encoded, so alter it in the DER before encoding.
    let altered = [
        ("detached", replace(&cases[0].1, b"100 EUR", b"900 EUR")),
        ("opaque", opaque_message(ALICE, t, &replace(&opaque, b"100 EUR", b"900 EUR"))),
    ];
    for (name, message) in &altered {
        let v = pki.inspect(message);
        assert_eq!(v["signature"]["state"], "content_altered", "{name}: {}", v["signature"]);
    }
}

#[test]
fn hand_built_signatures_without_signed_attributes_verify() {
    let pki = Pki::new();
    let t = now();
    let si = pki.alice.signer_info(SIGNED_PART.as_bytes(), None);
    let v = pki.inspect(&detached_message(ALICE, t, &signed_data(DATA, None, &[&pki.alice.cert], std::slice::from_ref(&si))));
    assert_eq!(v["signature"]["state"], "valid", "{}", v["signature"]);
    let v = pki.inspect(&opaque_message(ALICE, t, &signed_data(DATA, Some(SIGNED_PART.as_bytes()), &[&pki.alice.cert], &[si])));
    assert_eq!(v["signature"]["state"], "valid", "{}", v["signature"]);
}

/// RFC 5652 §5.3 and §11.1: with signed attributes, contentType (equal to eContentType) and
/// messageDigest must be there, once each.
#[test]
fn the_content_type_and_message_digest_attributes_are_required_and_must_match() {
    let pki = Pki::new();
    let t = now();
    let c = SIGNED_PART.as_bytes();
    let usual = pki.alice.usual_attributes(c, t);
    let (content_type, digest, time) = (usual[0].clone(), usual[1].clone(), usual[2].clone());
    let other_type = attribute(ATTR_CONTENT_TYPE, oid(ENVELOPED_DATA));
    let cases: Vec<(&str, Vec<Vec<u8>>, &str, &str)> = vec![
        ("contentType says enveloped data", vec![other_type.clone(), digest.clone(), time.clone()], "content_altered", "content_type_mismatch"),
        ("no contentType", vec![digest.clone(), time.clone()], "malformed", "missing_content_type_attribute"),
        ("no messageDigest", vec![content_type.clone(), time.clone()], "malformed", "missing_message_digest_attribute"),
        ("contentType twice", vec![content_type.clone(), other_type.clone(), digest.clone(), time.clone()], "malformed", "duplicate_signed_attribute"),
        ("empty signed attributes", vec![], "malformed", "missing_content_type_attribute"),
    ];
    for (name, attrs, state, reason) in &cases {
        let si = pki.alice.signer_info(c, Some(attrs));
        for (form, message) in [
            ("detached", detached_message(ALICE, t, &signed_data(DATA, None, &[&pki.alice.cert], std::slice::from_ref(&si)))),
            ("opaque", opaque_message(ALICE, t, &signed_data(DATA, Some(c), &[&pki.alice.cert], std::slice::from_ref(&si)))),
        ] {
            let v = pki.inspect(&message);
            assert_eq!(v["signature"]["state"], *state, "{name}, {form}: {}", v["signature"]);
            assert_eq!(reasons(&v)[0], *reason, "{name}, {form}: {}", v["signature"]);
            assert_eq!(v["signature"]["signer"]["emails"][0], ALICE, "{name}, {form}");
        }
    }
    // The eContentType is not signed; the contentType attribute is what protects it.
    let si = pki.alice.signer_info(c, Some(&usual));
    let v = pki.inspect(&opaque_message(ALICE, t, &signed_data("1.2.840.113549.1.9.16.1.4", Some(c), &[&pki.alice.cert], &[si])));
    assert_eq!(v["signature"]["state"], "content_altered", "{}", v["signature"]);
    assert_eq!(reasons(&v), ["content_type_mismatch"]);
    let problem = &v["signature"]["problems"][0];
    assert_eq!((problem["content_type"].as_str(), problem["signed_content_type"].as_str()), (Some("1.2.840.113549.1.9.16.1.4"), Some(DATA)));
}

#[test]
fn a_signing_time_outside_the_certificate_validity_is_a_warning() {
    let pki = Pki::new();
    // Alice's certificate is valid from a day ago; the signature claims eleven days ago, and
    // the Date header agrees, so only the certificate's validity tells.
    let t = now() - 11 * 86400;
    let si = pki.alice.signer_info(SIGNED_PART.as_bytes(), Some(&pki.alice.usual_attributes(SIGNED_PART.as_bytes(), t)));
    let v = pki.inspect(&detached_message(ALICE, t, &signed_data(DATA, None, &[&pki.alice.cert], &[si])));
    assert_eq!(v["signature"]["state"], "valid", "{}", v["signature"]);
    let warning = v["signature"]["warnings"].as_array().unwrap().iter().find(|w| w["code"] == "signing_time_outside_validity").cloned();
    let warning = warning.unwrap_or_else(|| panic!("{}", v["signature"]["warnings"]));
    assert_eq!(warning["signing_time"], smime_companion::time::to_rfc3339(t));
    assert!(warning["not_before"].is_string() && warning["not_after"].is_string(), "{warning}");
    // Inside the validity: no warning.
    let t = now();
    let si = pki.alice.signer_info(SIGNED_PART.as_bytes(), Some(&pki.alice.usual_attributes(SIGNED_PART.as_bytes(), t)));
    let v = pki.inspect(&detached_message(ALICE, t, &signed_data(DATA, None, &[&pki.alice.cert], &[si])));
    assert!(!codes(&v["signature"]["warnings"]).contains(&"signing_time_outside_validity".to_string()));
}

/// docs/INSPECT.md "Limits" states the numbers the code applies.
#[test]
fn the_documented_limits_are_the_ones_applied() {
    use smime_companion::smime::signature::*;
    use smime_companion::smime::verdict::{MAX_REPORTED_CHAIN, MAX_REPORTED_PROBLEMS};
    let doc = std::fs::read_to_string(repo_path("docs/INSPECT.md")).unwrap();
    let limits = doc.split("### Limits").nth(1).unwrap().split("\n#").next().unwrap();
    let row = |start: &str| -> String {
        let line = limits.lines().find(|l| l.starts_with(&format!("| {start}"))).unwrap_or_else(|| panic!("no row {start}"));
        line.split('|').nth(2).unwrap().trim().to_string()
    };
    assert_eq!(row("signers checked"), MAX_SIGNERS_PER_LAYER.to_string());
    assert_eq!(row("digest algorithms"), MAX_DIGEST_ALGORITHMS.to_string());
    assert!(row("certificates of a message").contains(&format!("first {MAX_MESSAGE_CERTIFICATES} others")));
    assert_eq!(row("CRLs"), format!("the first {MAX_MESSAGE_CRLS}"));
    assert_eq!(row("issuers listed"), MAX_REPORTED_CHAIN.to_string());
    assert_eq!(row("problems listed"), MAX_REPORTED_PROBLEMS.to_string());
}
