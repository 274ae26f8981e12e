//! Text someone else chose (a certificate's names, a From display name) reaches a person only
//! neutralised: every text printer of the CLI (inspect, contacts, identities, trust), its error
//! lines and the log show bidirectional, invisible and control characters as `⟨U+XXXX⟩`.
//! `--json` stays the exact data.

mod common;

use common::certgen::{ec_key, Ca, Leaf};
use common::*;
use serde_json::Value;
use std::path::Path;

/// A name that reads differently than it is stored, hides text and fakes a terminal colour and
/// a second line.
const HOSTILE_CN: &str = "Mallory \u{202e}gpj.exe\u{200b}\u{2066} \u{1b}[31mRED\u{feff}\u{e0041}\nFAKE LINE";
const HOSTILE_CA: &str = "Evil \u{202e}AC\u{2028}CA";
const ADDRESS: &str = "mallory@example.org";

/// The characters of the hostile texts above, none of which may reach a reader as itself.
const HIDDEN: &[char] = &['\u{202e}', '\u{200b}', '\u{2066}', '\u{1b}', '\u{feff}', '\u{e0041}', '\u{2028}'];

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts `text` (one command's output) holds none of the hidden characters, and no line that
/// a name smuggled in.
fn assert_neutral(what: &str, text: &str) {
    for c in HIDDEN {
        assert!(!text.contains(*c), "{what}: U+{:04X} reaches the reader:\n{text}", *c as u32);
    }
    assert!(!text.lines().any(|l| l.starts_with("FAKE LINE")), "{what}: a name added a line:\n{text}");
}

fn text_of(home: &Path, args: &[&str]) -> String {
    let (code, out, err) = cli(home, args);
    assert!(code == 0 || code == 1, "{args:?}: {code} {err}");
    assert_neutral(&format!("{args:?} stderr"), &err);
    out
}

#[test]
fn certificate_names_and_display_names_are_neutralised_in_every_text_output_and_the_log() {
    let home = temp_home();
    let dir = home.path();
    let ca = Ca::new(HOSTILE_CA);
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    let key = ec_key();
    let cert = Leaf { cn: HOSTILE_CN, ..Leaf::for_address(ADDRESS) }.issue(&ca, Some(&key));
    let p12 = openssl::pkcs12::Pkcs12::builder().name("m").pkey(&key).cert(&cert).build2("pw").unwrap().to_der().unwrap();
    std::fs::write(dir.join("m.p12"), p12).unwrap();
    std::fs::write(dir.join("pw.txt"), "pw").unwrap();
    std::fs::write(dir.join("m.pem"), cert.to_pem().unwrap()).unwrap();

    // trust: add and list name the CA.
    let added = text_of(dir, &["trust", "add", s(&dir.join("ca.pem"))]);
    assert_neutral("trust add", &added);
    assert!(added.contains("Evil ⟨U+202E⟩AC⟨U+2028⟩CA"), "{added}");
    assert_neutral("trust list", &text_of(dir, &["trust", "list"]));

    // identities: import, list, show, radar, backup-status.
    let imported = text_of(dir, &["identities", "import", s(&dir.join("m.p12")), "--password-file", s(&dir.join("pw.txt"))]);
    assert_neutral("identities import", &imported);
    // (The subject is an RFC 4514 string, which already writes C0 controls as \1B, \0A.)
    assert!(imported.contains("Mallory ⟨U+202E⟩gpj.exe⟨U+200B⟩⟨U+2066⟩ "), "{imported}");
    for args in [&["identities", "list"][..], &["identities", "show", ADDRESS], &["identities", "radar", "--days", "36500"], &["identities", "backup-status"]] {
        assert_neutral(&format!("{args:?}"), &text_of(dir, args));
    }
    let shown = text_of(dir, &["identities", "show", ADDRESS]);
    assert!(shown.contains("⟨U+202E⟩") && shown.contains("Evil ⟨U+202E⟩AC"), "{shown}");

    // A signed message from that identity, with a From display name of the same kind.
    let msg = dir.join("plain.eml");
    std::fs::write(&msg, format!("From: \"Bob \u{202e}evil\u{200b}\" <{ADDRESS}>\r\nTo: x@example.org\r\nSubject: hi\r\n\r\nhello\r\n")).unwrap();
    let (code, signed, err) = cli_bytes(dir, &["sign", s(&msg), "--passphrase-file", s(&dir.join("pw.txt"))]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("signed.eml"), signed).unwrap();
    let verdict = text_of(dir, &["inspect", s(&dir.join("signed.eml"))]);
    assert_neutral("inspect", &verdict);
    assert!(verdict.contains("signed by  Mallory ⟨U+202E⟩gpj.exe"), "{verdict}");
    // --json is the exact data: the same characters, escaped only where JSON must.
    let json: Value = serde_json::from_str(&text_of(dir, &["inspect", s(&dir.join("signed.eml")), "--json"])).unwrap();
    assert_eq!(json["signature"]["signer"]["subject_fields"]["common_name"], HOSTILE_CN);

    // contacts: the harvested signer (and an imported copy), listed, shown and checked.
    assert_neutral("contacts import", &text_of(dir, &["contacts", "import", s(&dir.join("m.pem"))]));
    for args in [&["contacts", "list"][..], &["contacts", "show", ADDRESS], &["contacts", "check", ADDRESS]] {
        assert_neutral(&format!("{args:?}"), &text_of(dir, args));
    }
    let contact = text_of(dir, &["contacts", "show", ADDRESS]);
    assert!(contact.contains("Mallory ⟨U+202E⟩"), "{contact}");

    // An error that names the certificate it was given.
    let nokey = openssl::pkcs12::Pkcs12::builder().name("m").cert(&cert).build2("pw").unwrap().to_der().unwrap();
    std::fs::write(dir.join("nokey.p12"), nokey).unwrap();
    let (code, _, err) = cli(dir, &["identities", "import", s(&dir.join("nokey.p12")), "--password-file", s(&dir.join("pw.txt"))]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("pkcs12_without_key") && err.contains("Mallory ⟨U+202E⟩gpj.exe"), "{err}");
    assert_neutral("error line", &err);

    // The log.
    let log = std::fs::read_to_string(dir.join("logs/smime-companion.log")).unwrap_or_default();
    assert_neutral("log", &log);
}

fn cli_bytes(home: &Path, args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = std::process::Command::new(BIN)
        .args(args)
        .env("SMIME_COMPANION_HOME", home)
        .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("no-system-config.json"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}
