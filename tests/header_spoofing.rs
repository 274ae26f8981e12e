//! Messages that make a mail program show another sender, or other text, than the one a
//! signature vouches for: the From-header and MIME-structure attacks of "Johnny, you are
//! fired!" (Müller et al., USENIX Security 2019, "GUI spoofing" and "From header"), and the
//! parameter forms readers take differently. Each message carries a real signature by a
//! certificate of a CA made for the test; none may be a plain `valid` unless the single From
//! mailbox every reader sees is the signer's.

mod common;

use common::certgen::{Ca, Leaf};
use common::*;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::Value;
use std::path::Path;

const SIGNER: &str = "eve@evil.example";

struct Signer {
    ca: Ca,
    cert: X509,
    key: PKey<Private>,
}

impl Signer {
    fn new() -> Signer {
        let ca = Ca::new("Spoofing Test CA");
        let key = common::certgen::ec_key();
        let cert = Leaf::for_address(SIGNER).issue(&ca, Some(&key));
        Signer { ca, cert, key }
    }

    /// A detached signature over `content` (already canonical), base64 in lines.
    fn sign(&self, content: &[u8]) -> String {
        let flags = CMSOptions::DETACHED | CMSOptions::BINARY;
        let cms = CmsContentInfo::sign(Some(&self.cert), Some(&self.key), None, Some(content), flags).unwrap();
        let text = b64(&cms.to_der().unwrap());
        text.as_bytes().chunks(76).map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap())).collect()
    }

    /// An opaque signature (`application/pkcs7-mime; smime-type=signed-data` body), base64 in lines.
    fn sign_opaque(&self, content: &[u8]) -> String {
        let cms = CmsContentInfo::sign(Some(&self.cert), Some(&self.key), None, Some(content), CMSOptions::BINARY).unwrap();
        let text = b64(&cms.to_der().unwrap());
        text.as_bytes().chunks(76).map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap())).collect()
    }

    /// A multipart/signed entity (header fields and body) with the given Content-Type
    /// parameters after `multipart/signed`, signed correctly over its first part.
    fn multipart_signed(&self, params: &str, boundary: &str) -> String {
        let content = "Content-Type: text/plain; charset=us-ascii\r\n\r\nPlease pay invoice 4711 today.\r\n";
        let signature = self.sign(content.as_bytes());
        format!(
            "Content-Type: multipart/signed;{params}\r\n\r\n--{boundary}\r\n{content}\r\n--{boundary}\r\n\
             Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {signature}\r\n--{boundary}--\r\n"
        )
    }

    fn ordinary(&self) -> String {
        self.multipart_signed(" protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"", "b1")
    }
}

/// A Date header for now, so the signing time matches it.
fn date_now() -> String {
    let now = smime_companion::time::to_rfc3339(smime_companion::time::now());
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months[now[5..7].parse::<usize>().unwrap() - 1];
    format!("{} {month} {} {} +0000", &now[8..10], &now[0..4], &now[11..19])
}

/// Inspects `message` with the test CA trusted for this call.
fn inspect(home: &Path, signer: &Signer, message: &[u8]) -> Value {
    let ca = home.join("ca.pem");
    std::fs::write(&ca, signer.ca.pem()).unwrap();
    let file = home.join("message.eml");
    std::fs::write(&file, message).unwrap();
    let (code, out, err) = cli(home, &["inspect", file.to_str().unwrap(), "--json", "--no-harvest", "--ca", ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn message(headers: &str, entity: &str) -> Vec<u8> {
    format!("{headers}Date: {}\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n{entity}", date_now()).into_bytes()
}

fn warnings(v: &Value) -> Vec<String> {
    v["signature"]["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_string()).collect()
}

/// The verdict is a plain `valid`: valid and no warning.
fn plain_valid(v: &Value) -> bool {
    v["signature"]["state"] == "valid" && warnings(v).is_empty()
}

#[test]
fn the_signer_as_the_single_from_mailbox_is_plainly_valid() {
    let home = temp_home();
    let signer = Signer::new();
    for from in ["From: eve@evil.example\r\n", "From: Eve Example <eve@evil.example>\r\n", "From: \"EVE@evil.example\" <eve@evil.example>\r\n"] {
        let v = inspect(home.path(), &signer, &message(from, &signer.ordinary()));
        assert!(plain_valid(&v), "{from}: {}", v["signature"]);
        assert_eq!(v["message"]["from"][0]["address"], SIGNER);
        assert_eq!(v["message"]["from_count"], 1);
    }
}

/// Header blocks where some mail program reads a From other than the signer's, or the
/// signer's among others: none is valid.
#[test]
fn a_second_from_in_any_reading_is_never_valid() {
    let home = temp_home();
    let signer = Signer::new();
    let cases = [
        // A bare CR ends a line for Thunderbird: two From fields.
        ("bare CR", "From: eve@evil.example\rFrom: boss@corp.example\r\n", "control_character"),
        ("bare CR first", "From: boss@corp.example\rFrom: eve@evil.example\r\n", "control_character"),
        // Obsolete syntax: white space before the colon.
        ("From :", "From: eve@evil.example\r\nFrom : boss@corp.example\r\n", "multiple_from_headers"),
        ("from\\t:", "From\t: boss@corp.example\r\nFrom: eve@evil.example\r\n", "multiple_from_headers"),
        // A line that is not a field ends the header for some readers, not for Thunderbird.
        ("after junk", "From: eve@evil.example\r\nthis line is no field\r\nFrom: boss@corp.example\r\n", "multiple_from_headers"),
        ("folded name", "From: eve@evil.example\r\nFrom\r\n : boss@corp.example\r\n", "multiple_from_headers"),
        ("plain twice", "From: boss@corp.example\r\nFrom: eve@evil.example\r\n", "multiple_from_headers"),
        // Groups: the group's name is what a reader may see.
        ("group named like an address", "From: boss@corp.example: eve@evil.example;\r\n", "group_syntax"),
        ("group", "From: Your Boss: eve@evil.example;\r\n", "group_syntax"),
        // Control characters: readers cut the field there, or not.
        ("NUL", "From: boss@corp.example\0 <eve@evil.example>\r\n", "control_character"),
        ("escape", "From: eve@evil.example\x1b[2K boss@corp.example\r\n", "control_character"),
        ("several mailboxes", "From: boss@corp.example, eve@evil.example\r\n", "multiple_from"),
    ];
    for (name, from, reason) in cases {
        // The From lines last in the header, after Content-Type: the rule decides alone.
        let entity = signer.ordinary().replacen("\r\n\r\n", &format!("\r\n{from}\r\n"), 1);
        let v = inspect(home.path(), &signer, &message("", &entity));
        assert_eq!(v["signature"]["state"], "sender_mismatch", "{name}: {}", v["signature"]);
        assert_eq!(v["signature"]["problems"][0]["reason"], reason, "{name}: {}", v["signature"]["problems"]);
        // First in the header: a line that is no field may also hide the Content-Type from
        // one reader (then the structure is ambiguous); never valid either way.
        let v = inspect(home.path(), &signer, &message(from, &signer.ordinary()));
        assert!(matches!(v["signature"]["state"].as_str(), Some("sender_mismatch" | "malformed")), "{name}: {}", v["signature"]);
    }
    // A Content-Type after a line that is no field: Thunderbird reads it, we would not.
    let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\nno field here\r\n", &signer.ordinary()));
    assert_eq!((v["signature"]["state"].as_str(), v["signature"]["problems"][0]["header"].as_str()), (Some("malformed"), Some("content-type")));
    assert_eq!(v["signature"]["layers"][0]["form"], "multipart_signed");
}

/// Display names that are themselves another address: Thunderbird shows the name, so the
/// verdict warns, and the add-on shows the warning instead of a plain green seal.
#[test]
fn a_display_name_holding_another_address_is_never_plainly_valid() {
    let home = temp_home();
    let signer = Signer::new();
    for from in [
        "From: boss@corp.example <eve@evil.example>\r\n",
        "From: \"boss@corp.example\" <eve@evil.example>\r\n",
        "From: =?utf-8?B?Ym9zc0Bjb3JwLmV4YW1wbGU=?= <eve@evil.example>\r\n",
        "From: =?iso-8859-1?Q?boss=40corp.example?= <eve@evil.example>\r\n",
        "From: \"Boss (boss\u{ff20}corp.example)\" <eve@evil.example>\r\n",
        "From: eve@evil.example (boss@corp.example)\r\n",
        "From: <eve@evil.example> boss@corp.example\r\n",
    ] {
        let v = inspect(home.path(), &signer, &message(from, &signer.ordinary()));
        assert!(!plain_valid(&v), "{from}: {}", v["signature"]);
        let w = &v["signature"]["warnings"][0];
        assert_eq!(w["code"], "display_name_is_other_address", "{from}: {}", v["signature"]);
        assert_eq!((w["name_address"].as_str(), w["address"].as_str()), (Some("boss@corp.example"), Some(SIGNER)), "{from}");
    }
}

/// Content-Type parameters given twice in any form, and Content-Type or transfer encoding
/// given twice: readers may verify or show different text, so the layer is malformed.
#[test]
fn an_ambiguous_signed_structure_is_malformed() {
    let home = temp_home();
    let signer = Signer::new();
    let p = " protocol=\"application/pkcs7-signature\"; micalg=sha-256";
    let cases = [
        (format!("{p}; boundary=\"b1\"; boundary*=us-ascii''b2"), "boundary"),
        (format!("{p}; boundary*0=b; boundary*1=1; boundary=\"b1\""), "boundary"),
        (format!("{p}; boundary=b1; BOUNDARY=b2"), "boundary"),
        (format!("{p}; boundary=b1; boundary*0=b; boundary*0=x"), "boundary"),
        (" protocol=\"application/pkcs7-signature\"; protocol*=''application%2Fx-other; micalg=sha-256; boundary=b1".to_string(), "protocol"),
        (" protocol=\"text/plain\"; protocol*=''application%2Fpkcs7-signature; micalg=sha-256; boundary=b1".to_string(), "protocol"),
        (format!("{p}; micalg*0=sha-; micalg*2=256; boundary=b1"), "micalg"),
        (format!("{p}; boundary=b1; name=a.txt; name*=''b.txt"), "name"),
    ];
    for (params, parameter) in cases {
        let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &signer.multipart_signed(&params, "b1")));
        assert_eq!(v["signature"]["state"], "malformed", "{params}: {}", v["signature"]);
        let problem = &v["signature"]["problems"][0];
        assert_eq!((problem["reason"].as_str(), problem["parameter"].as_str()), (Some("ambiguous_parameter"), Some(parameter)), "{params}");
    }
    // The same structure given once is valid: the test can tell the difference.
    let once = signer.multipart_signed(&format!("{p}; boundary=\"b1\""), "b1");
    assert!(plain_valid(&inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &once))));

    // Content-Type twice on the root, and a transfer encoding twice on the signature part.
    let twice = once.replacen("Content-Type: multipart/signed;", "Content-Type: text/plain\r\nContent-Type: multipart/signed;", 1);
    let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &twice));
    assert_eq!((v["signature"]["state"].as_str(), v["signature"]["problems"][0]["header"].as_str()), (Some("malformed"), Some("content-type")));
    let twice = once.replacen("Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: quoted-printable\r\n", 1);
    let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &twice));
    assert_eq!((v["signature"]["state"].as_str(), v["signature"]["problems"][0]["header"].as_str()), (Some("malformed"), Some("content-transfer-encoding")));
    // A Content-Type that a bare CR cuts short for Thunderbird (no boundary there).
    let cut = once.replacen("; boundary=\"b1\"", ";\rboundary=\"b1\"", 1);
    let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &cut));
    assert_eq!(v["signature"]["state"], "malformed", "{}", v["signature"]);

    // An opaque signature whose smime-type is given twice.
    let opaque = signer.sign_opaque(b"Content-Type: text/plain\r\n\r\nPay now.\r\n");
    for ct in [
        "application/pkcs7-mime; smime-type=signed-data; smime-type*=''enveloped-data; name=smime.p7m",
        "application/pkcs7-mime; smime-type=signed-data; name=smime.p7m; NAME=x.p7m",
    ] {
        let entity = format!("Content-Type: {ct}\r\nContent-Transfer-Encoding: base64\r\n\r\n{opaque}");
        let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &entity));
        assert_eq!(v["signature"]["state"], "malformed", "{ct}: {}", v["signature"]);
        assert_eq!(v["signature"]["problems"][0]["reason"], "ambiguous_parameter");
    }
    let entity = format!("Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n{opaque}");
    assert!(plain_valid(&inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &entity))));
}

/// A signed part below a multipart whose boundary readers take differently: they may find
/// other parts, so the partial signature is malformed rather than naming a part.
#[test]
fn a_signed_part_below_an_ambiguous_boundary_is_malformed() {
    let home = temp_home();
    let signer = Signer::new();
    let mixed = |params: &str| {
        format!(
            "Content-Type: multipart/mixed;{params}\r\n\r\n--m1\r\nContent-Type: text/plain\r\n\r\nintro\r\n--m1\r\n{}\r\n--m1--\r\n",
            signer.ordinary()
        )
    };
    let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &mixed(" boundary=m1")));
    assert_eq!((v["signature"]["state"].as_str(), v["signature"]["covered_part"].as_str()), (Some("partially_signed"), Some("2")));
    assert_eq!(v["signature"]["layers"][0]["state"], "valid");
    let v = inspect(home.path(), &signer, &message("From: eve@evil.example\r\n", &mixed(" boundary=m1; boundary*=''m2")));
    assert_eq!(v["signature"]["layers"][0]["state"], "malformed", "{}", v["signature"]);
    assert_eq!(v["signature"]["layers"][0]["problems"][0]["parameter"], "boundary");
}

/// A partial signature inside a message/rfc822 root is named by its IMAP part number, never
/// "" (which is the root).
#[test]
fn a_signed_message_inside_a_message_rfc822_root_is_part_1() {
    let home = temp_home();
    let signer = Signer::new();
    let inner = String::from_utf8(message("From: eve@evil.example\r\n", &signer.ordinary())).unwrap();
    let outer = format!("From: eve@evil.example\r\nContent-Type: message/rfc822\r\n\r\n{inner}");
    let v = inspect(home.path(), &signer, outer.as_bytes());
    assert_eq!((v["signature"]["state"].as_str(), v["signature"]["covered_part"].as_str()), (Some("partially_signed"), Some("1")), "{}", v["signature"]);
    assert_eq!(v["signature"]["layers"][0]["part"], "1");
}

/// An 80,000-mailbox From line: the verdict says multiple_from and stays small.
#[test]
fn a_huge_from_list_gives_a_small_verdict() {
    let home = temp_home();
    let signer = Signer::new();
    let list: String = (0..80_000).map(|i| format!("u{i}@corp.example, ")).collect();
    let from = format!("From: {list}eve@evil.example\r\n");
    let file = home.path().join("big.eml");
    let ca = home.path().join("ca.pem");
    std::fs::write(&ca, signer.ca.pem()).unwrap();
    std::fs::write(&file, message(&from, &signer.ordinary())).unwrap();
    let (code, out, err) = cli(home.path(), &["inspect", file.to_str().unwrap(), "--json", "--no-harvest", "--ca", ca.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.len() < 64 * 1024, "{} bytes of JSON", out.len());
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["signature"]["problems"][0]["reason"], "multiple_from");
    assert_eq!(v["signature"]["problems"][0]["from_count"], 80_001);
    assert_eq!(v["message"]["from_count"], 80_001);
    assert_eq!(v["message"]["from"].as_array().unwrap().len(), 10);
}
