//! The contact cache through the real CLI and ops: harvesting, the CLI forms, selection reasons,
//! continuity, bad input, concurrency (8 processes), crash safety (kill -9 in a loop) and
//! migrations from every earlier schema version.

mod common;

use common::certgen::{Ca, Leaf};
use common::*;
use serde_json::{json, Value};
use smime_companion::contacts::{schema, ContactCache};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn data() -> (PathBuf, PathBuf) {
    let (pki, vectors) = (repo_path("target/test-data/pki"), repo_path("target/test-data/vectors"));
    assert!(Command::new(repo_path("tests/vectors/make-vectors.sh")).arg(&pki).arg(&vectors).status().unwrap().success());
    (pki, vectors)
}

fn json_cli(home: &Path, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = cli(home, args);
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{args:?}: not JSON: {out}\n{err}"));
    (code, v)
}

fn write_pem(dir: &Path, name: &str, certs: &[&openssl::x509::X509]) -> PathBuf {
    let path = dir.join(name);
    let pem: Vec<u8> = certs.iter().flat_map(|c| c.to_pem().unwrap()).collect();
    std::fs::write(&path, pem).unwrap();
    path
}

#[test]
fn a_verified_message_harvests_its_signer_and_show_lists_it_by_fingerprint() {
    let (pki, vectors) = data();
    let home = temp_home();
    cli(home.path(), &["trust", "add", pki.join("root.pem").to_str().unwrap()]);
    let (_, verdict) = json_cli(home.path(), &["inspect", vectors.join("openssl-detached-sha256.eml").to_str().unwrap(), "--json"]);
    assert_eq!(verdict["signature"]["state"], "valid");
    let fp = verdict["signature"]["signer"]["fingerprint_sha256"].as_str().unwrap().to_string();
    assert_eq!(verdict["contacts"]["stored"], json!([fp]));
    let (code, shown) = json_cli(home.path(), &["contacts", "show", "alice@Example.ORG", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(shown["certificates"][0]["fingerprint_sha256"], fp);
    assert_eq!(shown["certificates"][0]["source"], "signed_mail");
    assert!(shown["certificates"][0]["capabilities"].as_array().unwrap().len() > 3, "SMIMECapabilities kept");
    assert_eq!(shown["encryption"]["can_encrypt"], true);
    assert_eq!(shown["history"][0]["event"], "first_certificate");
    let (code, listing) = json_cli(home.path(), &["contacts", "list", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(listing["items"][0]["address"], "alice@example.org");
    // Local parts are compared as written (RFC 5321), domains without case.
    let (code, _, err) = cli(home.path(), &["contacts", "show", "Alice@example.org"]);
    assert_eq!(code, 3);
    assert!(err.contains("not_found"), "{err}");
    // Harvesting can be turned off per call.
    let home2 = temp_home();
    let (_, v) = json_cli(home2.path(), &["inspect", vectors.join("openssl-detached-sha256.eml").to_str().unwrap(), "--json", "--no-harvest"]);
    assert_eq!(v["contacts"]["stored"], json!([]));
    let (code, _, err) = cli(home2.path(), &["contacts", "show", "alice@example.org"]);
    assert_eq!(code, 3);
    assert!(err.contains("not_found"), "{err}");
}

#[test]
fn a_signature_that_does_not_verify_harvests_nothing() {
    let (_, vectors) = data();
    let home = temp_home();
    let (_, v) = json_cli(home.path(), &["inspect", vectors.join("altered-detached-text.eml").to_str().unwrap(), "--json"]);
    assert_eq!(v["signature"]["state"], "content_altered");
    assert_eq!(v["contacts"]["stored"], json!([]));
    // An untrusted but intact signature is kept, but never chosen for encryption.
    let (_, v) = json_cli(home.path(), &["inspect", vectors.join("untrusted-self-signed-eve.eml").to_str().unwrap(), "--json"]);
    assert_eq!(v["signature"]["state"], "untrusted");
    assert_eq!(v["contacts"]["stored"].as_array().unwrap().len(), 1);
    let (code, checked) = json_cli(home.path(), &["contacts", "check", "eve@example.net", "--json"]);
    assert_eq!(code, 1);
    assert_eq!(checked["recipients"][0]["reason"], "untrusted");
}

#[test]
fn check_says_never_seen_and_every_other_reason() {
    let home = temp_home();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Reasons CA");
    std::fs::create_dir_all(home.path().join("anchors")).unwrap();
    std::fs::write(home.path().join("anchors/ca.pem"), ca.pem()).unwrap();
    let expired = Leaf { not_before_days: -400, not_after_days: -10, ..Leaf::for_address("old@example.org") }.issue(&ca, None);
    let future = Leaf { not_before_days: 10, ..Leaf::for_address("soon@example.org") }.issue(&ca, None);
    let sign_only = Leaf { encrypt: false, ..Leaf::for_address("signonly@example.org") }.issue(&ca, None);
    let server = Leaf { email_eku: false, ..Leaf::for_address("server@example.org") }.issue(&ca, None);
    let good = Leaf::for_address("good@example.org").issue(&ca, None);
    let stranger = Leaf::for_address("stranger@example.org").issue(&Ca::new("Unknown CA"), None);
    let bundle = write_pem(dir.path(), "all.pem", &[&expired, &future, &sign_only, &server, &good, &stranger]);
    let (code, imported) = json_cli(home.path(), &["contacts", "import", bundle.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(imported["imported"], 6);
    let (code, v) = json_cli(
        home.path(),
        &["contacts", "check", "nobody@example.org", "old@example.org", "soon@example.org", "signonly@example.org",
          "server@example.org", "good@EXAMPLE.org", "stranger@example.org", "no address", "GOOD@example.org", "--json"],
    );
    assert_eq!(code, 1);
    let reasons: Vec<Value> = v["recipients"].as_array().unwrap().iter().map(|r| r["reason"].clone()).collect();
    assert_eq!(
        reasons,
        vec![json!("never_seen"), json!("only_expired"), json!("not_yet_valid"), json!("no_encryption_usage"),
             json!("no_encryption_usage"), Value::Null, json!("untrusted"), json!("invalid_address"), json!("never_seen")]
    );
    assert_eq!(v["recipients"][5]["can_encrypt"], true);
    let (code, _, _) = cli(home.path(), &["contacts", "check", "good@example.org"]);
    assert_eq!(code, 0, "exit 0 when everyone can receive encrypted mail");
}

#[test]
fn newest_usable_certificate_wins_and_continuity_is_recorded() {
    let home = temp_home();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Continuity CA");
    std::fs::create_dir_all(home.path().join("anchors")).unwrap();
    std::fs::write(home.path().join("anchors/ca.pem"), ca.pem()).unwrap();
    let import = |name: &str, cert: &openssl::x509::X509| {
        let path = write_pem(dir.path(), name, &[cert]);
        json_cli(home.path(), &["contacts", "import", path.to_str().unwrap(), "--json"]).1
    };
    // Key change: a new key while the old certificate is valid for a long time yet.
    let first = Leaf::for_address("kim@example.org").issue(&ca, None);
    import("kim1.pem", &first);
    let changed = import("kim2.pem", &Leaf { not_before_days: 0, ..Leaf::for_address("kim@example.org") }.issue(&ca, None));
    assert_eq!(changed["continuity"][0]["event"], "key_changed");
    // Renewal: same subject, the old one expires within the renewal window.
    let old = Leaf { not_after_days: 20, ..Leaf::for_address("ren@example.org") }.issue(&ca, None);
    import("ren1.pem", &old);
    let renewed = import("ren2.pem", &Leaf { not_before_days: 0, not_after_days: 400, ..Leaf::for_address("ren@example.org") }.issue(&ca, None));
    assert_eq!(renewed["continuity"][0]["event"], "renewed");
    // The same key re-issued is neither.
    let key = common::certgen::ec_key();
    import("same1.pem", &Leaf::for_address("same@example.org").issue(&ca, Some(&key)));
    let reissued = import("same2.pem", &Leaf { not_before_days: 0, ..Leaf::for_address("same@example.org") }.issue(&ca, Some(&key)));
    assert_eq!(reissued["continuity"], json!([]));
    // Importing the same certificate twice is idempotent.
    let again = import("kim1b.pem", &first);
    assert_eq!((again["imported"].clone(), again["already_known"].clone()), (json!(0), json!(1)));
    let (_, shown) = json_cli(home.path(), &["contacts", "show", "ren@example.org", "--json"]);
    let events: Vec<&str> = shown["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["first_certificate", "new_certificate", "renewed"]);
    assert_eq!(shown["encryption"]["certificate"]["not_after"], shown["certificates"][0]["not_after"], "newest chosen");
    let (_, listing) = json_cli(home.path(), &["contacts", "list", "--json", "--sort", "address"]);
    let kim = listing["items"].as_array().unwrap().iter().find(|c| c["address"] == "kim@example.org").unwrap().clone();
    assert_eq!(kim["warnings"], json!(["key_changed"]));
}

#[test]
fn the_list_shows_each_contacts_warnings_on_every_page_and_sort() {
    use smime_companion::certs::summary::Cert;
    use smime_companion::contacts::{ListQuery, Sort, Source};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.sqlite");
    let ca = Ca::new("List CA");
    let mut cache = ContactCache::open_at(&path).unwrap();
    let addresses = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"];
    for (i, address) in addresses.iter().enumerate() {
        cache.import(&[Cert::from_x509(&Leaf::for_address(address).issue(&ca, None)).unwrap()], Source::Import, 100 + i as i64).unwrap();
    }
    // Continuity history as harvests would leave it (a@: a key change, later a renewal and
    // another key change; b@: a renewal; c@ and d@: none).
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "INSERT INTO history (address, at, event) VALUES
           ('a@example.org', 200, 'key_changed'), ('b@example.org', 210, 'renewed'),
           ('a@example.org', 300, 'renewed'), ('a@example.org', 400, 'key_changed'), ('c@example.org', 500, 'new_certificate');",
    )
    .unwrap();
    let want = |address: &str| -> Vec<String> {
        match address {
            "a@example.org" => vec!["key_changed".into(), "renewed".into()],
            "b@example.org" => vec!["renewed".into()],
            _ => vec![],
        }
    };
    for sort in [Sort::Address, Sort::LastSeen, Sort::Expiry] {
        let mut seen = Vec::new();
        for offset in [0, 2] {
            let page = cache.list(&ListQuery { search: None, offset, limit: 2, sort }).unwrap();
            assert_eq!((page.total, page.items.len()), (4, 2));
            for item in page.items {
                assert_eq!(item.warnings, want(&item.address), "{sort:?} {}", item.address);
                seen.push(item.address);
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, addresses, "{sort:?}: every contact once");
        if sort == Sort::Address {
            assert_eq!(seen, addresses);
        }
        if sort == Sort::LastSeen {
            assert_eq!(seen, ["d@example.org", "c@example.org", "b@example.org", "a@example.org"]);
        }
    }
    let found = cache.list(&ListQuery { search: Some("A@EXAMPLE".into()), offset: 0, limit: 10, sort: Sort::Address }).unwrap();
    assert_eq!((found.total, found.items[0].warnings.clone()), (1, want("a@example.org")));
}

#[test]
fn delete_export_and_bad_input() {
    let home = temp_home();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Delete CA");
    let a = Leaf::for_address("del@example.org").issue(&ca, None);
    let b = Leaf::for_address("del@example.org").issue(&ca, None);
    let path = write_pem(dir.path(), "two.pem", &[&a, &b, &ca.cert]);
    let (_, imported) = json_cli(home.path(), &["contacts", "import", path.to_str().unwrap(), "--json"]);
    assert_eq!((imported["imported"].clone(), imported["intermediates"].clone()), (json!(2), json!(1)));
    // Export as PEM, DER and .p7c; each re-imports.
    for format in ["pem", "der", "p7c"] {
        let out = dir.path().join(format!("out.{format}"));
        let (code, _, err) = cli(home.path(), &["contacts", "export", "del@example.org", "--format", format, "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let other = temp_home();
        let (code, v) = json_cli(other.path(), &["contacts", "import", out.to_str().unwrap(), "--json"]);
        assert_eq!(code, 0);
        assert_eq!(v["imported"], if format == "der" { 1 } else { 2 });
    }
    // Delete one certificate, then the contact with the rest, as one action.
    let fp = hex::sha256_der(&a);
    let (code, v) = json_cli(home.path(), &["contacts", "delete-cert", &fp[..12], "--json"]);
    assert_eq!((code, v["deleted"].clone()), (0, json!(fp)));
    let (code, v) = json_cli(home.path(), &["contacts", "delete", "del@example.org", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(v["deleted_certificates"].as_array().unwrap().len(), 1);
    let (_, checked) = json_cli(home.path(), &["contacts", "check", "del@example.org", "--json"]);
    assert_eq!(checked["recipients"][0]["reason"], "never_seen");
    let (code, _, err) = cli(home.path(), &["contacts", "delete", "del@example.org"]);
    assert_eq!(code, 3);
    assert!(err.contains("not_found"));

    // Garbage, truncated and address-less certificates are refused with a code, and nothing changes.
    let stats_before = json_cli(home.path(), &["contacts", "stats", "--json"]).1;
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"\x30\x82\x05\x00 not a certificate at all").unwrap();
    let truncated = dir.path().join("truncated.der");
    std::fs::write(&truncated, &a.to_der().unwrap()[..200]).unwrap();
    let noaddr = write_pem(dir.path(), "noaddr.pem", &[&Leaf { emails: vec![], ..Leaf::for_address("nobody") }.issue(&ca, None)]);
    for (file, code) in [(&garbage, "bad_certificate"), (&truncated, "bad_certificate"), (&noaddr, "bad_certificate")] {
        let (status, _, err) = cli(home.path(), &["contacts", "import", file.to_str().unwrap()]);
        assert_eq!(status, 3, "{err}");
        assert!(err.contains(code), "{err}");
    }
    let (code, _, err) = cli(home.path(), &["contacts", "show", "not-an-address"]);
    assert_eq!(code, 3);
    assert!(err.contains("invalid_address"), "{err}");
    assert_eq!(json_cli(home.path(), &["contacts", "stats", "--json"]).1, stats_before);
}

mod hex {
    pub fn sha256_der(c: &openssl::x509::X509) -> String {
        openssl::sha::sha256(&c.to_der().unwrap()).iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[test]
fn a_bundle_of_ten_thousand_certificates_imports_in_one_transaction() {
    let home = temp_home();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Bulk CA");
    let key = common::certgen::ec_key();
    let addresses: Vec<String> = (0..10_000).map(|i| format!("user{i}@bulk.example")).collect();
    let certs: Vec<openssl::x509::X509> = addresses.iter().map(|a| Leaf::for_address(a).issue(&ca, Some(&key))).collect();
    let refs: Vec<&openssl::x509::X509> = certs.iter().collect();
    let path = write_pem(dir.path(), "bulk.pem", &refs);
    let started = std::time::Instant::now();
    let (code, v) = json_cli(home.path(), &["contacts", "import", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(v["imported"], 10_000);
    eprintln!("imported 10,000 certificates in {:?}", started.elapsed());
    let (_, stats) = json_cli(home.path(), &["contacts", "stats", "--json"]);
    assert_eq!(stats["certificates"], 10_000);
}

#[test]
fn eight_processes_harvest_import_and_delete_at_once_and_the_end_state_is_exact() {
    let (pki, vectors) = data();
    let home = temp_home();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Parallel CA");
    // Each importer adds its own 50 contacts; deleters remove contacts seeded before.
    let seeded: Vec<String> = (0..40).map(|i| format!("gone{i}@par.example")).collect();
    let seed: Vec<openssl::x509::X509> = seeded.iter().map(|a| Leaf::for_address(a).issue(&ca, None)).collect();
    let seed_path = write_pem(dir.path(), "seed.pem", &seed.iter().collect::<Vec<_>>());
    assert_eq!(cli(home.path(), &["contacts", "import", seed_path.to_str().unwrap()]).0, 0);
    let mut children = Vec::new();
    for p in 0..4 {
        let certs: Vec<openssl::x509::X509> = (0..50).map(|i| Leaf::for_address(&format!("p{p}u{i}@par.example")).issue(&ca, None)).collect();
        let file = write_pem(dir.path(), &format!("batch{p}.pem"), &certs.iter().collect::<Vec<_>>());
        children.push(spawn_cli(home.path(), &["contacts", "import", file.to_str().unwrap()]));
    }
    for d in 0..2 {
        let script: Vec<String> = seeded[d * 20..(d + 1) * 20].to_vec();
        children.push(spawn_loop(home.path(), "delete", script));
    }
    for _ in 0..2 {
        let (msg, root) = (vectors.join("openssl-detached-sha256.eml"), pki.join("root.pem"));
        let args = ["inspect", msg.to_str().unwrap(), "--ca", root.to_str().unwrap(), "--json"];
        children.push(spawn_cli(home.path(), &args));
    }
    for mut c in children {
        let status = wait_with_timeout(&mut c, Duration::from_secs(120));
        assert!(status.success(), "a parallel writer failed");
    }
    let cache = ContactCache::open_at(&home.path().join("contacts.sqlite")).unwrap();
    assert_eq!(cache.integrity_check().unwrap(), "ok");
    let stats = cache.stats(smime_companion::time::now()).unwrap();
    assert_eq!(stats.contacts, 4 * 50 + 1, "200 imported + alice harvested, all 40 seeded deleted");
}

fn spawn_cli(home: &Path, args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .env("SMIME_COMPANION_HOME", home)
        .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("none.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// A child that runs `contacts delete ADDRESS` for each address in turn.
fn spawn_loop(home: &Path, action: &str, addresses: Vec<String>) -> std::process::Child {
    let script = addresses.iter().map(|a| format!("'{BIN}' contacts {action} '{a}' >/dev/null || exit 1")).collect::<Vec<_>>().join("\n");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("SMIME_COMPANION_HOME", home)
        .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("none.json"))
        .spawn()
        .unwrap()
}

#[test]
fn kill_9_during_writes_never_loses_an_acknowledged_write_or_corrupts_the_database() {
    let home = temp_home();
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Crash CA");
    let bundle = |round: usize| {
        let certs: Vec<openssl::x509::X509> = (0..200).map(|i| Leaf::for_address(&format!("r{round}c{i}@crash.example")).issue(&ca, None)).collect();
        write_pem(dir.path(), &format!("round{round}.pem"), &certs.iter().collect::<Vec<_>>())
    };
    // Calibrate: how long one uninterrupted import takes here.
    let started = std::time::Instant::now();
    assert_eq!(cli(home.path(), &["contacts", "import", bundle(999).to_str().unwrap()]).0, 0);
    let full = started.elapsed();
    let (mut acknowledged, mut killed) = (Vec::new(), 0);
    let mut rng = 0x9e3779b97f4a7c15u64;
    for round in 0..40 {
        // Each round imports a 200-certificate bundle and is killed at a random moment between
        // its start and 1.5 times its usual duration.
        let file = bundle(round);
        let mut child = spawn_cli(home.path(), &["contacts", "import", file.to_str().unwrap()]);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(full.mul_f64((rng % 1000) as f64 / 1000.0 * 1.5));
        let _ = child.kill();
        if child.wait().unwrap().success() {
            acknowledged.push(format!("r{round}c199@crash.example"));
        } else {
            killed += 1;
        }
    }
    assert!(!acknowledged.is_empty() && killed > 0, "the loop exercised both outcomes ({} acknowledged, {killed} killed)", acknowledged.len());
    let cache = ContactCache::open_at(&home.path().join("contacts.sqlite")).unwrap();
    assert_eq!(cache.integrity_check().unwrap(), "ok");
    for address in &acknowledged {
        assert!(!cache.certificates_for(address).unwrap().is_empty(), "acknowledged import of {address} lost");
    }
    // Every round is all or nothing: a bundle is one transaction.
    let stats = cache.stats(smime_companion::time::now()).unwrap();
    assert_eq!(stats.certificates % 200, 0, "a half-written bundle: {}", stats.certificates);
    eprintln!("{} of 40 rounds acknowledged, {killed} killed; {} certificates present (import takes {full:?})", acknowledged.len(), stats.certificates);
}

#[test]
fn migrates_from_every_earlier_schema_version_and_refuses_newer_or_corrupt_databases() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Migration CA");
    let cert = Leaf::for_address("mig@example.org").issue(&ca, None);
    let parsed = smime_companion::certs::summary::Cert::from_x509(&cert).unwrap();
    for version in 0..schema::CURRENT_VERSION {
        let path = dir.path().join(format!("v{version}.sqlite"));
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        schema::create_at_version(&mut conn, version).unwrap();
        if version >= 1 {
            conn.execute(
                "INSERT INTO certificates (fingerprint, der, subject, issuer, serial, not_before, not_after, source, first_seen, last_seen)
                 VALUES (?1, ?2, 'CN=mig', 'CN=Migration CA', '01', 0, 4102444800, 'import', 0, 0)",
                rusqlite::params![parsed.fingerprint_sha256(), parsed.der],
            )
            .unwrap();
            conn.execute("INSERT INTO addresses VALUES ('mig@example.org', 1)", []).unwrap();
        }
        drop(conn);
        let cache = ContactCache::open_at(&path).unwrap();
        let version_now: i64 = rusqlite::Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version_now, schema::CURRENT_VERSION);
        if version >= 1 {
            assert_eq!(cache.certificates_for("mig@example.org").unwrap().len(), 1, "data kept from v{version}");
            if version < 2 {
                let key: Option<String> = rusqlite::Connection::open(&path).unwrap().query_row("SELECT key_sha256 FROM certificates", [], |r| r.get(0)).unwrap();
                assert!(key.is_some_and(|k| k.len() == 64), "key fingerprints backfilled");
            }
        }
    }
    // A newer schema is refused and left alone.
    let newer = dir.path().join("newer.sqlite");
    rusqlite::Connection::open(&newer).unwrap().execute_batch("PRAGMA user_version = 99; CREATE TABLE x(y);").unwrap();
    let before = std::fs::read(&newer).unwrap();
    let err = ContactCache::open_at(&newer).err().unwrap();
    assert_eq!(err.code(), "store_too_new");
    assert!(std::fs::read(&newer).unwrap() == before, "a newer database was modified");
    // A file that is not a database is refused and never overwritten.
    let corrupt = dir.path().join("corrupt.sqlite");
    std::fs::write(&corrupt, vec![0x42u8; 8192]).unwrap();
    let err = ContactCache::open_at(&corrupt).err().unwrap();
    assert_eq!(err.code(), "store_corrupt");
    assert!(std::fs::read(&corrupt).unwrap() == vec![0x42u8; 8192], "a corrupt database was modified");
    // The host still answers inspect_message, saying the cache could not be used.
    let home = temp_home();
    std::fs::write(home.path().join("contacts.sqlite"), vec![0x42u8; 8192]).unwrap();
    let mut host = Host::start(home.path());
    let v = host.ok("inspect_message", json!({"message_b64": b64(b"From: a@b.example\r\n\r\nhi")}));
    assert_eq!(v["contacts"]["error"], "store_corrupt");
    let r = host.call(json!(1), "contacts_list", json!({}));
    assert_eq!(r["error"]["code"], "store_corrupt");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn a_negative_schema_version_is_refused_as_corrupt_and_left_alone() {
    // PRAGMA user_version is signed: -1 once passed the "too new" check and then indexed the
    // migrations with it (a panic, exit status 101).
    let dir = tempfile::tempdir().unwrap();
    for version in [-1i64, i32::MIN as i64] {
        let path = dir.path().join(format!("negative{version}.sqlite"));
        rusqlite::Connection::open(&path).unwrap().execute_batch(&format!("PRAGMA user_version = {version}; CREATE TABLE x(y);")).unwrap();
        let before = std::fs::read(&path).unwrap();
        let err = ContactCache::open_at(&path).err().unwrap();
        assert_eq!(err.code(), "store_corrupt", "{version}");
        let err = smime_companion::identities::IdentityStore::open_at(&path).err().unwrap();
        assert_eq!(err.code(), "store_corrupt", "{version}");
        assert!(std::fs::read(&path).unwrap() == before, "a database with version {version} was modified");
    }
    // The CLI reports it like any damaged database.
    let home = temp_home();
    rusqlite::Connection::open(home.path().join("contacts.sqlite")).unwrap().execute_batch("PRAGMA user_version = -1; CREATE TABLE x(y);").unwrap();
    let (code, _, err) = cli(home.path(), &["contacts", "stats"]);
    assert_ne!(code, 101, "panicked: {err}");
    assert_ne!(code, 0);
    assert!(err.contains("store_corrupt"), "{err}");
}

#[test]
fn readers_never_create_migrate_or_write_and_wait_only_as_long_as_told() {
    use smime_companion::certs::summary::Cert;
    use smime_companion::contacts::Source;
    use smime_companion::identities::IdentityStore;
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(100);
    // A missing database is not created.
    let missing = dir.path().join("missing.sqlite");
    assert!(ContactCache::open_reader(&missing, timeout).is_err());
    assert!(IdentityStore::open_reader(&missing, timeout).is_err());
    assert!(!missing.exists());
    // An older schema is refused until the companion itself migrates it, and left as it is.
    let older = dir.path().join("older.sqlite");
    schema::create_at_version(&mut rusqlite::Connection::open(&older).unwrap(), 1).unwrap();
    let before = std::fs::read(&older).unwrap();
    assert_eq!(ContactCache::open_reader(&older, timeout).err().unwrap().code(), "store_error");
    assert!(std::fs::read(&older).unwrap() == before, "an older database was modified by a reader");
    let journal: String = rusqlite::Connection::open(&older).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "delete", "a reader switched the database to WAL");
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(IdentityStore::open_reader(&empty, timeout).err().unwrap().code(), "store_error");
    assert_eq!(std::fs::read(&empty).unwrap().len(), 0, "an empty database was initialised by a reader");
    // Newer, negative and damaged ones are refused as by the host.
    for (sql, code) in [("PRAGMA user_version = 99;", "store_too_new"), ("PRAGMA user_version = -1;", "store_corrupt")] {
        let path = dir.path().join(format!("{code}.sqlite"));
        rusqlite::Connection::open(&path).unwrap().execute_batch(&format!("{sql} CREATE TABLE x(y);")).unwrap();
        assert_eq!(ContactCache::open_reader(&path, timeout).err().unwrap().code(), code);
    }
    let corrupt = dir.path().join("corrupt.sqlite");
    std::fs::write(&corrupt, vec![0x42u8; 8192]).unwrap();
    assert_eq!(ContactCache::open_reader(&corrupt, timeout).err().unwrap().code(), "store_corrupt");
    // A current WAL database whose -wal and -shm files are gone (the host closed it) is read,
    // and nothing can be written through the reader.
    let ca = Ca::new("Reader CA");
    let cert = |address: &str| Cert::from_x509(&Leaf::for_address(address).issue(&ca, None)).unwrap();
    let current = dir.path().join("current.sqlite");
    ContactCache::open_at(&current).unwrap().import(&[cert("reader@example.org")], Source::Import, 0).unwrap();
    assert!(!dir.path().join("current.sqlite-wal").exists());
    let before = std::fs::read(&current).unwrap();
    let mut reader = ContactCache::open_reader(&current, timeout).unwrap();
    assert_eq!(reader.certificates_for("reader@example.org").unwrap().len(), 1);
    assert!(reader.import(&[cert("other@example.org")], Source::Import, 0).is_err());
    assert!(std::fs::read(&current).unwrap() == before, "a reader modified the database");
    // While the host has it open (and writes), the reader sees its commits.
    let mut writer = ContactCache::open_at(&current).unwrap();
    writer.import(&[cert("later@example.org")], Source::Import, 0).unwrap();
    assert_eq!(reader.certificates_for("later@example.org").unwrap().len(), 1);
    drop(writer);
    drop(reader);
    let after = ContactCache::open_at(&current).unwrap();
    assert!(after.certificates_for("other@example.org").unwrap().is_empty());
    drop(after);
    // Another process holds a lock readers must wait for (a rollback-journal database in the
    // middle of a write): a reader gives up after its own timeout, not the host's 10 s.
    let locked = dir.path().join("locked.sqlite");
    schema::create_at_version(&mut rusqlite::Connection::open(&locked).unwrap(), schema::CURRENT_VERSION).unwrap();
    let holder = rusqlite::Connection::open(&locked).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE;").unwrap();
    let start = std::time::Instant::now();
    assert_eq!(ContactCache::open_reader(&locked, timeout).err().unwrap().code(), "store_busy");
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    holder.execute_batch("COMMIT;").unwrap();
    assert!(ContactCache::open_reader(&locked, timeout).is_ok());
}

#[test]
fn database_files_are_private() {
    let home = temp_home();
    cli(home.path(), &["contacts", "stats"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("contacts.sqlite")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn contacts_ops_over_native_messaging() {
    let (pki, vectors) = data();
    let home = temp_home();
    cli(home.path(), &["trust", "add", pki.join("root.pem").to_str().unwrap()]);
    let mut host = Host::start(home.path());
    let msg = std::fs::read(vectors.join("openssl-detached-sha256.eml")).unwrap();
    host.ok("inspect_message", json!({"message_b64": b64(&msg)}));
    let page = host.ok("contacts_list", json!({"search": "ALICE", "limit": 10}));
    assert_eq!(page["total"], 1);
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    assert_eq!(shown["certificates"].as_array().unwrap().len(), 1);
    let checked = host.ok("recipients_check", json!({"addresses": ["alice@example.org", "x@y.example"]}));
    assert_eq!(checked["recipients"][0]["can_encrypt"], true);
    assert_eq!(checked["recipients"][1]["reason"], "never_seen");
    let exported = host.ok("contacts_export", json!({"address": "alice@example.org", "format": "pem"}));
    assert_eq!(exported["certificates"], 1);
    let bob = std::fs::read(pki.join("users/bob.pem")).unwrap();
    let imported = host.ok("contacts_import", json!({"data_b64": b64(&bob)}));
    assert_eq!(imported["addresses"], json!(["bob@example.org"]));
    assert_eq!(host.ok("contacts_stats", json!({}))["contacts"], 2);
    let r = host.call(json!(1), "contacts_list", json!({"sort": "colour"}));
    assert_eq!(r["error"]["code"], "invalid_params");
    let r = host.call(json!(2), "contacts_import", json!({"data_b64": b64(b"junk")}));
    assert_eq!(r["error"]["code"], "bad_certificate");
    host.ok("contacts_delete", json!({"address": "alice@example.org"}));
    assert_eq!(host.ok("contacts_stats", json!({}))["contacts"], 1);
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// A running host sees intermediates that arrive while it runs: from its own imports and from
/// another process (the CLI), so the choice of certificate is never judged on a stale cache.
#[test]
fn a_running_session_sees_new_intermediates_at_once() {
    let (pki, _) = data();
    let home = temp_home();
    let p = |name: &str| pki.join(name).to_str().unwrap().to_string();
    assert_eq!(cli(home.path(), &["trust", "add", &p("root.pem")]).0, 0);
    let mut host = Host::start(home.path());
    let import = |host: &mut Host, file: &str| host.ok("contacts_import", json!({"data_b64": b64(&std::fs::read(p(file)).unwrap())}));
    import(&mut host, "users/bob.pem");
    let check = |host: &mut Host| host.ok("recipients_check", json!({"addresses": ["bob@example.org"]}))["recipients"][0].clone();
    assert_eq!(check(&mut host)["reason"], "untrusted", "no chain to the root without the intermediate");
    import(&mut host, "intermediate.pem");
    assert_eq!(check(&mut host)["can_encrypt"], true, "this session's own import counts at once");

    // The same through another process: the CLI imports the intermediate.
    let other = temp_home();
    assert_eq!(cli(other.path(), &["trust", "add", &p("root.pem")]).0, 0);
    let mut fresh = Host::start(other.path());
    import(&mut fresh, "users/bob.pem");
    assert_eq!(check(&mut fresh)["reason"], "untrusted");
    assert_eq!(cli(other.path(), &["contacts", "import", &p("intermediate.pem")]).0, 0);
    assert_eq!(check(&mut fresh)["can_encrypt"], true, "another process's import counts at once");
    assert!(host.finish(Duration::from_secs(10)).0.success());
    assert!(fresh.finish(Duration::from_secs(10)).0.success());
}

// ---- What the cache believes (addresses, trust, continuity, pending keys, intermediates) ----

use common::certgen::{ec_key, signed_mail, CaSpec};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

/// A home whose user trusts `root`.
fn trusting(root: &Ca) -> tempfile::TempDir {
    let home = temp_home();
    std::fs::create_dir_all(home.path().join("anchors")).unwrap();
    std::fs::write(home.path().join("anchors/root.pem"), root.pem()).unwrap();
    home
}

/// A certificate issued by `ca` and its key.
fn person(leaf: Leaf<'_>, ca: &Ca) -> (X509, PKey<Private>) {
    let key = ec_key();
    (leaf.issue(ca, Some(&key)), key)
}

fn fp(cert: &X509) -> String {
    hex::sha256_der(cert)
}

/// The verdict on a message, harvested by the running host.
fn inspect(host: &mut Host, mail: &[u8]) -> Value {
    host.ok("inspect_message", json!({"message_b64": b64(mail)}))
}

fn encrypts_with(host: &mut Host, address: &str) -> Value {
    let checked = host.ok("recipients_check", json!({"addresses": [address]}));
    let r = &checked["recipients"][0];
    if r["can_encrypt"] == true { r["certificate"]["fingerprint_sha256"].clone() } else { r["reason"].clone() }
}

fn history_events(shown: &Value) -> Vec<String> {
    shown["history"].as_array().unwrap().iter().map(|h| h["event"].as_str().unwrap().to_string()).collect()
}

/// The signature's warnings (but `no_date_header`: `signed_mail` writes no Date).
fn warning_codes(verdict: &Value) -> Vec<String> {
    let codes = verdict["signature"]["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_string());
    codes.filter(|c| c != "no_date_header").collect()
}

/// Issue 12.1: an intermediate whose name constraints exclude example.org issues rfc822Names
/// that spell example.org with characters IDN mapping folds away. OpenSSL's byte-wise check lets
/// them through; they must never count as alice@example.org.
#[test]
fn a_lookalike_address_the_name_constraints_let_through_is_never_matched_cached_or_chosen() {
    let root = Ca::new("Constraint Root");
    let open = root.sub("Open Issuing CA");
    // RFC 5280: `example.org` excludes every mailbox at exactly that host.
    let constrained = Ca::build(CaSpec { issuer: Some(&root), name_constraints: Some("excluded;email:example.org"), ..CaSpec::named("Constrained CA") });
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (alice, alice_key) = person(Leaf::for_address("alice@example.org"), &open);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &alice, &alice_key, &[&open.cert], "genuine"));
    assert_eq!(v["signature"]["state"], "valid", "{}", v["signature"]);
    // The constraint is in force: the constrained CA cannot vouch for alice@example.org itself.
    let (direct, direct_key) = person(Leaf::for_address("alice@example.org"), &constrained);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &direct, &direct_key, &[&constrained.cert], "direct"));
    assert_eq!(v["signature"]["state"], "untrusted", "{}", v["signature"]);
    let mut lookalikes = Vec::new();
    for lookalike in ["alice@example\u{FF0E}org", "alice@example\u{3002}org", "alice@exam\u{AD}ple.org", "alice@example.or\u{210A}", "alice@EXAMPLE\u{FF0E}ORG"] {
        let leaf = Leaf { cn: "Alice Example", raw_emails: vec![lookalike.as_bytes()], ..Leaf::for_address("alice@example.org") };
        let (cert, key) = person(leaf, &constrained);
        let v = inspect(&mut host, &signed_mail("Alice Example <alice@example.org>", &cert, &key, &[&constrained.cert], lookalike));
        // OpenSSL found nothing wrong with the chain; the address simply is not one.
        let problems: Vec<&Value> = v["signature"]["problems"].as_array().unwrap().iter().collect();
        assert_eq!(v["signature"]["state"], "no_sender_address", "{lookalike:?}: {problems:?}");
        assert_eq!(problems.len(), 1, "{lookalike:?}: {problems:?}");
        let signer = &v["signature"]["signer"];
        assert_eq!(signer["emails"], json!([]), "{lookalike:?}");
        let ignored = &signer["ignored_emails"][0];
        assert_eq!((ignored["source"].as_str(), ignored["reason"].as_str()), (Some("san"), Some("not_an_address")));
        let shown = ignored["shown"].as_str().unwrap();
        assert!(shown.is_ascii() && shown.contains("\\u{"), "shown with the lookalike character visible: {shown}");
        assert_eq!(v["contacts"]["stored"], json!([]), "{lookalike:?} was cached");
        lookalikes.push(fp(&cert));
        if lookalike == "alice@example\u{FF0E}org" {
            // The CLI shows it as written, the lookalike character escaped.
            let dir = tempfile::tempdir().unwrap();
            let eml = dir.path().join("lookalike.eml");
            std::fs::write(&eml, signed_mail("Alice <alice@example.org>", &cert, &key, &[&constrained.cert], "cli")).unwrap();
            let (code, out, err) = cli(home.path(), &["inspect", eml.to_str().unwrap(), "--no-harvest"]);
            assert_eq!(code, 0, "{err}");
            assert!(out.contains("not used   alice@example\\u{FF0E}org (not_an_address)"), "{out}");
        }
    }
    // Encryption still uses the genuine certificate, and no lookalike is known for Alice.
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice));
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    let known: Vec<&str> = shown["certificates"].as_array().unwrap().iter().map(|c| c["fingerprint_sha256"].as_str().unwrap()).collect();
    assert!(known.iter().all(|k| !lookalikes.iter().any(|l| l == k)), "{known:?}");
    // Nor can anybody ask for the lookalike spelling: it is not an address.
    let checked = host.ok("recipients_check", json!({"addresses": ["alice@example\u{FF0E}org"]}));
    assert_eq!(checked["recipients"][0]["reason"], "invalid_address");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// The local part is compared as written (RFC 5321), the domain without case, for lookups too.
#[test]
fn recipients_are_looked_up_with_the_local_part_as_written() {
    let root = Ca::new("Case Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let upper = Leaf::for_address("Alice@example.org").issue(&root, None);
    let lower = Leaf::for_address("bob@example.org").issue(&root, None);
    let pem: Vec<u8> = [upper.to_pem().unwrap(), lower.to_pem().unwrap()].concat();
    let imported = host.ok("contacts_import", json!({"data_b64": b64(&pem)}));
    assert_eq!(imported["addresses"], json!(["Alice@example.org", "bob@example.org"]));
    let checked = host.ok("recipients_check", json!({"addresses": ["Alice@Example.ORG", "alice@example.org", "BOB@example.org", "bob@EXAMPLE.org"]}));
    let results: Vec<(Value, Value)> =
        checked["recipients"].as_array().unwrap().iter().map(|r| (r["address"].clone(), r["can_encrypt"].clone())).collect();
    assert_eq!(
        results,
        [
            (json!("Alice@example.org"), json!(true)),
            (json!("alice@example.org"), json!(false)),
            (json!("BOB@example.org"), json!(false)),
            (json!("bob@example.org"), json!(true)),
        ]
    );
    // Encrypting looks up the same way.
    let message = b"From: me@example.net\r\nTo: alice@example.org\r\nSubject: x\r\n\r\nhello\r\n";
    let r = host.call(json!(1), "encrypt_message", json!({"message_b64": b64(message)}));
    assert_eq!(r["error"]["code"], "recipients_without_certificate", "{r}");
    let r = host.ok("encrypt_message", json!({"message_b64": b64(message), "to": ["Alice@EXAMPLE.org"]}));
    assert_eq!(r["recipients"][0]["fingerprint"], fp(&upper));
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 12.2: RFC 8550 — with a subjectAltName only its rfc822Names count.
#[test]
fn the_subject_email_address_counts_only_when_there_is_no_subject_alt_name() {
    let root = Ca::new("SAN Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (both, both_key) = person(Leaf { subject_email: Some("boss@example.org"), ..Leaf::for_address("alice@example.org") }, &root);
    let v = inspect(&mut host, &signed_mail("The Boss <boss@example.org>", &both, &both_key, &[], "as the boss"));
    assert_eq!(v["signature"]["state"], "sender_mismatch", "{}", v["signature"]);
    assert_eq!(v["signature"]["problems"][0]["certificate_emails"], json!(["alice@example.org"]));
    let ignored = &v["signature"]["signer"]["ignored_emails"];
    assert_eq!(ignored, &json!([{"shown": "boss@example.org", "source": "subject", "reason": "subject_with_san"}]));
    assert_eq!(encrypts_with(&mut host, "boss@example.org"), "never_seen", "not cached under the subject's address");
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&both));
    // Without any subjectAltName the subject's emailAddress is the address.
    let (legacy, legacy_key) = person(Leaf { emails: vec![], subject_email: Some("carol@example.org"), ..Leaf::for_address("carol@example.org") }, &root);
    let v = inspect(&mut host, &signed_mail("Carol <carol@example.org>", &legacy, &legacy_key, &[], "legacy"));
    assert_eq!(v["signature"]["state"], "valid", "{}", v["signature"]);
    assert_eq!(encrypts_with(&mut host, "carol@example.org"), fp(&legacy));
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 12.5: the From display name labels a contact only when a trusted signer's certificate
/// address is the single From mailbox, and then only that address.
#[test]
fn only_a_trusted_signer_matching_the_single_from_mailbox_names_the_contact() {
    let root = Ca::new("Naming Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (alice, key) = person(Leaf { emails: vec!["alice@example.org", "a.example@example.net"], ..Leaf::for_address("alice@example.org") }, &root);
    let name = |host: &mut Host, address: &str| host.ok("contacts_show", json!({"address": address}))["name"].clone();
    let v = inspect(&mut host, &signed_mail("Alice Example <alice@example.org>", &alice, &key, &[], "hello"));
    assert_eq!(v["signature"]["state"], "valid");
    assert_eq!(name(&mut host, "alice@example.org"), "Alice Example");
    assert_eq!(name(&mut host, "a.example@example.net"), Value::Null, "only the address that was the From mailbox");
    // Alice's genuine signed mail re-sent under another From: the signature verifies, the name stays.
    let v = inspect(&mut host, &signed_mail("Alice Example (new address) <mallory@evil.example>", &alice, &key, &[], "hello"));
    assert_eq!(v["signature"]["state"], "sender_mismatch");
    assert_eq!(name(&mut host, "alice@example.org"), "Alice Example");
    // Two From mailboxes name nobody.
    let v = inspect(&mut host, &signed_mail("Mallory <alice@example.org>, Bob <bob@example.org>", &alice, &key, &[], "hello"));
    assert_eq!(v["signature"]["state"], "sender_mismatch");
    assert_eq!(name(&mut host, "alice@example.org"), "Alice Example");
    // An untrusted certificate for the address names nobody either.
    let (fake, fake_key) = person(Leaf::for_address("alice@example.org"), &Ca::new("Lookalike Root"));
    let v = inspect(&mut host, &signed_mail("Mallory <alice@example.org>", &fake, &fake_key, &[], "hello"));
    assert_eq!(v["signature"]["state"], "untrusted");
    assert_eq!(name(&mut host, "alice@example.org"), "Alice Example");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 12.5: continuity is judged against trusted certificates only, and the history says
/// which certificate was trusted when it came.
#[test]
fn an_untrusted_lookalike_seen_first_does_not_turn_the_genuine_certificate_into_a_key_change() {
    let root = Ca::new("Continuity Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (fake, fake_key) = person(Leaf::for_address("alice@example.org"), &Ca::new("Lookalike Root"));
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &fake, &fake_key, &[], "first"));
    assert_eq!(v["signature"]["state"], "untrusted");
    let (alice, key) = person(Leaf::for_address("alice@example.org"), &root);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &alice, &key, &[], "genuine"));
    assert_eq!(v["signature"]["state"], "valid");
    assert!(warning_codes(&v).is_empty(), "{:?}", warning_codes(&v));
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    assert_eq!(history_events(&shown), ["first_certificate", "new_certificate"]);
    let trusted: Vec<Value> = shown["history"].as_array().unwrap().iter().map(|h| h["trusted"].clone()).collect();
    assert_eq!(trusted, [json!(false), json!(true)]);
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice));
    let listing = host.ok("contacts_list", json!({}));
    assert_eq!(listing["items"][0]["warnings"], json!([]));
    // A second trusted key while the genuine one is good is a key change, against the genuine one.
    let (other, other_key) = person(Leaf { not_before_days: 0, ..Leaf::for_address("alice@example.org") }, &root);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &other, &other_key, &[], "other"));
    let changed = v["signature"]["warnings"].as_array().unwrap().iter().find(|w| w["code"] == "key_changed").cloned();
    assert_eq!(changed.expect("key_changed")["previous_fingerprint"], fp(&alice));
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 12.5: a new key for a contact with a working certificate is not used until the user
/// confirms it; refused certificates are never chosen; renewals by the same CA need nothing.
#[test]
fn a_new_key_waits_for_confirmation_while_the_contact_has_a_working_certificate() {
    let root = Ca::new("Pending Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (alice, alice_key) = person(Leaf::for_address("alice@example.org"), &root);
    inspect(&mut host, &signed_mail("Alice <alice@example.org>", &alice, &alice_key, &[], "first"));
    // A trusted certificate for Alice and Carol with a new key: Carol's first, Alice's pending.
    let (both, both_key) = person(Leaf { not_before_days: 0, emails: vec!["alice@example.org", "carol@example.org"], ..Leaf::for_address("alice@example.org") }, &root);
    let mail = signed_mail("Alice <alice@example.org>", &both, &both_key, &[], "new key");
    let v = inspect(&mut host, &mail);
    assert_eq!(v["signature"]["state"], "valid");
    let pending = v["signature"]["warnings"].as_array().unwrap().iter().find(|w| w["code"] == "certificate_pending").cloned();
    assert_eq!(pending.expect("certificate_pending")["working_fingerprint"], fp(&alice));
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice), "encryption keeps the working certificate");
    assert_eq!(encrypts_with(&mut host, "carol@example.org"), fp(&both));
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    let standing: Vec<(Value, Value, Value)> = shown["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["fingerprint_sha256"].clone(), c["status"].clone(), c["not_used_because"].clone()))
        .collect();
    assert_eq!(standing, [(json!(fp(&alice)), json!("accepted"), Value::Null), (json!(fp(&both)), json!("pending"), json!("pending_confirmation"))]);
    assert!(history_events(&shown).contains(&"certificate_pending".to_string()));
    let listing = host.ok("contacts_list", json!({"search": "alice"}));
    assert_eq!(listing["items"][0]["pending"], 1);
    // The PKCS#11 module never offers a certificate only pending: Carol accepted it, so it is offered.
    let cache = ContactCache::open_at(&home.path().join("contacts.sqlite")).unwrap();
    assert_eq!(cache.encryption_certificate_ders().unwrap().len(), 2);

    // Confirmed, with a note: now it is the one used, and the warning is gone.
    let confirmed = host.ok("contacts_confirm_certificate", json!({"address": "alice@example.org", "fingerprint": fp(&both), "note": "fingerprint compared by phone"}));
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&both));
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    let last = shown["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["event"].clone(), last["note"].clone()), (json!("certificate_confirmed"), json!("fingerprint compared by phone")));
    assert_eq!(shown["certificates"][1]["not_used_because"], "superseded");
    assert_eq!(host.ok("contacts_list", json!({"search": "alice"}))["items"][0]["pending"], 0);
    assert!(!warning_codes(&inspect(&mut host, &mail)).contains(&"certificate_pending".to_string()));
    // Refused: never chosen, however new; the working one is used again.
    host.ok("contacts_refuse_certificate", json!({"address": "alice@example.org", "fingerprint": &fp(&both)[..16]}));
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice));
    assert_eq!(encrypts_with(&mut host, "carol@example.org"), fp(&both), "refused for Alice only");
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    assert_eq!(shown["certificates"][1]["not_used_because"], "refused");
    // Only refusals left: the reason says so.
    host.ok("contacts_refuse_certificate", json!({"address": "alice@example.org", "fingerprint": fp(&alice)}));
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), "refused");

    // Bad input gets clear codes.
    for (params, code) in [
        (json!({"address": "alice@example.org", "fingerprint": "00000000"}), "not_found"),
        (json!({"address": "bob@example.org", "fingerprint": fp(&alice)}), "not_found"),
        (json!({"address": "alice@example.org", "fingerprint": &fp(&alice)[..6]}), "not_found"),
        (json!({"address": "no address", "fingerprint": fp(&alice)}), "invalid_address"),
        (json!({"address": "alice@example.org"}), "invalid_params"),
        (json!({"address": "alice@example.org", "fingerprint": fp(&alice), "extra": 1}), "invalid_params"),
    ] {
        let r = host.call(json!(1), "contacts_confirm_certificate", params.clone());
        assert_eq!(r["error"]["code"], code, "{params}");
    }
    // The CLI does the same.
    let (code, v) = json_cli(home.path(), &["contacts", "confirm", "alice@example.org", &fp(&alice)[..12], "--note", "met in person", "--json"]);
    assert_eq!((code, v["status"].clone()), (0, json!("confirmed")));
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice));
    let (code, v) = json_cli(home.path(), &["contacts", "refuse", "alice@example.org", &fp(&alice), "--json"]);
    assert_eq!((code, v["status"].clone()), (0, json!("refused")));

    // A renewal by the same CA for the same subject, the old one about to expire: taken at once.
    let (old, old_key) = person(Leaf { not_after_days: 20, ..Leaf::for_address("ren@example.org") }, &root);
    inspect(&mut host, &signed_mail("Ren <ren@example.org>", &old, &old_key, &[], "old"));
    let (new, new_key) = person(Leaf { not_before_days: 0, not_after_days: 400, ..Leaf::for_address("ren@example.org") }, &root);
    let v = inspect(&mut host, &signed_mail("Ren <ren@example.org>", &new, &new_key, &[], "renewed"));
    assert_eq!(warning_codes(&v), ["renewed"]);
    assert_eq!(encrypts_with(&mut host, "ren@example.org"), fp(&new));
    // The same by another CA (under the same root) waits for confirmation.
    let other_ca = root.sub("Another Issuing CA");
    let (old, old_key) = person(Leaf { not_after_days: 20, ..Leaf::for_address("moved@example.org") }, &root);
    inspect(&mut host, &signed_mail("Moved <moved@example.org>", &old, &old_key, &[], "old"));
    let (new, new_key) = person(Leaf { not_before_days: 0, not_after_days: 400, ..Leaf::for_address("moved@example.org") }, &other_ca);
    let v = inspect(&mut host, &signed_mail("Moved <moved@example.org>", &new, &new_key, &[&other_ca.cert], "new CA"));
    assert_eq!(v["signature"]["state"], "valid");
    assert!(warning_codes(&v).contains(&"certificate_pending".to_string()), "{:?}", warning_codes(&v));
    assert_eq!(encrypts_with(&mut host, "moved@example.org"), fp(&old));
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 14.3: the compose check learns that a recipient's new key waits for a decision, so it
/// can say that encryption uses the previous certificate meanwhile.
#[test]
fn recipients_check_counts_the_new_keys_that_wait_for_a_decision() {
    let root = Ca::new("Pending Count Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (alice, alice_key) = person(Leaf::for_address("alice@example.org"), &root);
    inspect(&mut host, &signed_mail("Alice <alice@example.org>", &alice, &alice_key, &[], "first"));
    let pending_count = |host: &mut Host| {
        let checked = host.ok("recipients_check", json!({"addresses": ["alice@example.org", "nobody@example.net"]}));
        let r = &checked["recipients"];
        (r[0]["can_encrypt"].clone(), r[0]["pending_certificates"].clone(), r[1]["pending_certificates"].clone())
    };
    assert_eq!(pending_count(&mut host), (json!(true), json!(0), json!(0)));
    // A lookalike from an authority nobody trusts is held back too, but confirming it would change
    // nothing (it is not usable): it is not counted as a decision that waits.
    let rogue = Ca::new("Rogue Root");
    let (fake, fake_key) = person(Leaf::for_address("alice@example.org"), &rogue);
    inspect(&mut host, &signed_mail("Alice <alice@example.org>", &fake, &fake_key, &[], "lookalike"));
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    let held: Vec<Value> = shown["certificates"].as_array().unwrap().iter().filter(|c| c["fingerprint_sha256"] == json!(fp(&fake))).map(|c| c["status"].clone()).collect();
    assert_eq!(held, [json!("pending")], "the lookalike is held back");
    assert_eq!(pending_count(&mut host), (json!(true), json!(0), json!(0)), "an untrusted lookalike is no decision");
    let (new, new_key) = person(Leaf { not_before_days: 0, ..Leaf::for_address("alice@example.org") }, &root);
    inspect(&mut host, &signed_mail("Alice <alice@example.org>", &new, &new_key, &[], "new key"));
    assert_eq!(pending_count(&mut host), (json!(true), json!(1), json!(0)), "the working certificate is used, one new key waits");
    host.ok("contacts_refuse_certificate", json!({"address": "alice@example.org", "fingerprint": fp(&new), "note": "not hers"}));
    assert_eq!(pending_count(&mut host), (json!(true), json!(0), json!(0)), "decided: nothing waits");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 11.1: what the cache stores about trust is never more than the verdict said, and a
/// signer with a certificate problem never displaces a contact's working certificate.
#[test]
fn a_signer_whose_verdict_has_a_certificate_problem_is_stored_untrusted_and_displaces_nothing() {
    let root = Ca::new("Problem Root");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (alice, alice_key) = person(Leaf::for_address("alice@example.org"), &root);
    inspect(&mut host, &signed_mail("Alice <alice@example.org>", &alice, &alice_key, &[], "first"));
    // Key usage without digitalSignature: not for signing (it could encrypt, and chains fine).
    let (wrong, wrong_key) = person(Leaf { sign: false, not_before_days: 0, ..Leaf::for_address("alice@example.org") }, &root);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &wrong, &wrong_key, &[], "wrong usage"));
    assert_eq!(v["signature"]["state"], "wrong_usage");
    assert!(!warning_codes(&v).contains(&"key_changed".to_string()), "continuity judged against an untrusted signer");
    // Expired at signing.
    let (expired, expired_key) = person(Leaf { not_before_days: -400, not_after_days: -1, ..Leaf::for_address("alice@example.org") }, &root);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &expired, &expired_key, &[], "expired"));
    assert_eq!(v["signature"]["state"], "expired");
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice));
    let shown = host.ok("contacts_show", json!({"address": "alice@example.org"}));
    let by_fp = |cert: &X509| shown["certificates"].as_array().unwrap().iter().find(|c| c["fingerprint_sha256"] == fp(cert)).unwrap().clone();
    assert_eq!(by_fp(&alice)["trusted_when_seen"], true);
    assert_eq!(by_fp(&alice)["used_for_encryption"], true);
    assert_eq!((by_fp(&wrong)["trusted_when_seen"].clone(), by_fp(&wrong)["status"].clone()), (json!(false), json!("pending")));
    assert_eq!(by_fp(&expired)["trusted_when_seen"], false);
    assert_eq!(by_fp(&expired)["not_used_because"], "only_expired");
    assert!(!history_events(&shown).contains(&"key_changed".to_string()));
    let cache = ContactCache::open_at(&home.path().join("contacts.sqlite")).unwrap();
    assert_eq!(cache.stats(smime_companion::time::now()).unwrap().untrusted, 2);
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Issue 11.5: mail from strangers with long untrusted chains must not fill the intermediates
/// every verification loads; chains that reach a trust anchor keep theirs.
#[test]
fn thirty_strangers_with_ninety_certificate_chains_leave_the_intermediates_bounded() {
    use smime_companion::contacts::{MAX_CHAIN_CAS, MAX_UNANCHORED_CAS};
    let root = Ca::new("Bound Root");
    let issuing = root.sub("Bound Issuing CA");
    let home = trusting(&root);
    let mut host = Host::start(home.path());
    let (alice, alice_key) = person(Leaf::for_address("alice@example.org"), &issuing);
    let v = inspect(&mut host, &signed_mail("Alice <alice@example.org>", &alice, &alice_key, &[&issuing.cert], "genuine"));
    assert_eq!(v["signature"]["state"], "valid");
    for stranger in 0..30 {
        let mut chain = vec![Ca::new(&format!("Stranger {stranger} Root"))];
        for depth in 1..90 {
            let ca = chain.last().unwrap().sub(&format!("Stranger {stranger} CA {depth}"));
            chain.push(ca);
        }
        let address = format!("s{stranger}@strangers.example");
        let (leaf, key) = person(Leaf::for_address(&address), chain.last().unwrap());
        let certs: Vec<&X509> = chain.iter().rev().map(|c| &c.cert).collect();
        let v = inspect(&mut host, &signed_mail(&address, &leaf, &key, &certs, "hello"));
        assert_eq!(v["signature"]["state"], "untrusted", "{}", v["signature"]);
        assert_eq!(v["contacts"]["stored"].as_array().unwrap().len(), 1);
    }
    let stats = host.ok("contacts_stats", json!({}));
    let count = stats["intermediates"].as_u64().unwrap() as usize;
    assert!(count <= 1 + MAX_UNANCHORED_CAS, "{count} intermediates kept (at most {MAX_CHAIN_CAS} per chain)");
    // What every later verification loads stays as small, and the anchored one is still there.
    let mut ctx = smime_companion::context::Context::new(smime_companion::home::Home::at(home.path()), None);
    let known = ctx.known_intermediates().unwrap();
    assert!(known.len() <= 1 + MAX_UNANCHORED_CAS, "{}", known.len());
    let issuing_der = issuing.cert.to_der().unwrap();
    assert!(known.iter().any(|c| c.to_der().unwrap() == issuing_der), "the anchored chain's CA was evicted");
    assert_eq!(encrypts_with(&mut host, "alice@example.org"), fp(&alice));
    assert!(host.finish(Duration::from_secs(30)).0.success());
}

/// Schema 3 keys addresses exactly: existing rows are computed again from the stored
/// certificates, contacts and history follow, and what no longer counts leaves the lookups.
#[test]
fn migrating_to_exact_address_keys_recomputes_them_from_the_stored_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite");
    let ca = Ca::new("Rekey CA");
    let mixed = smime_companion::certs::summary::Cert::from_x509(&Leaf::for_address("Mig.Rant@Example.org").issue(&ca, None)).unwrap();
    let lookalike = Leaf { cn: "x", raw_emails: vec!["eve@example\u{FF0E}org".as_bytes()], ..Leaf::for_address("eve@example.org") };
    let lookalike = smime_companion::certs::summary::Cert::from_x509(&lookalike.issue(&ca, None)).unwrap();
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        schema::create_at_version(&mut conn, 2).unwrap();
        for (id, cert) in [(1, &mixed), (2, &lookalike)] {
            conn.execute(
                "INSERT INTO certificates (id, fingerprint, der, subject, issuer, serial, not_before, not_after, source, first_seen, last_seen, can_encrypt, trusted)
                 VALUES (?1, ?2, ?3, 'CN=x', 'CN=Rekey CA', '01', 0, 4102444800, 'signed_mail', 5, 5, 1, 1)",
                rusqlite::params![id, cert.fingerprint_sha256(), cert.der],
            )
            .unwrap();
        }
        // As the old normalisation keyed them: lower case, and the lookalike folded.
        conn.execute_batch(
            "INSERT INTO addresses VALUES ('mig.rant@example.org', 1), ('eve@example.org', 2);
             INSERT INTO contacts VALUES ('mig.rant@example.org', 'Mig', 5, 5), ('eve@example.org', 'Eve', 5, 5);
             INSERT INTO history (address, at, event, fingerprint) VALUES ('mig.rant@example.org', 5, 'first_certificate', 'aa'),
                                                                          ('eve@example.org', 5, 'first_certificate', 'bb');",
        )
        .unwrap();
    }
    let cache = ContactCache::open_at(&path).unwrap();
    assert_eq!(cache.certificates_for("Mig.Rant@example.org").unwrap().len(), 1);
    assert!(cache.certificates_for("mig.rant@example.org").unwrap().is_empty());
    assert!(cache.certificates_for("eve@example.org").unwrap().is_empty(), "the lookalike left the lookups");
    assert_eq!(cache.contact_name("Mig.Rant@example.org").unwrap().as_deref(), Some("Mig"));
    assert_eq!(cache.history("Mig.Rant@example.org").unwrap().len(), 1);
    let page = cache.list(&smime_companion::contacts::ListQuery { search: None, offset: 0, limit: 10, sort: smime_companion::contacts::Sort::Address }).unwrap();
    assert_eq!(page.items.iter().map(|c| c.address.as_str()).collect::<Vec<_>>(), ["Mig.Rant@example.org"]);
    assert_eq!(cache.certificates_for("Mig.Rant@example.org").unwrap()[0].status, smime_companion::contacts::CertStatus::Accepted);
}
