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
