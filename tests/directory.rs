//! Directory lookups against a real OpenLDAP slapd on 127.0.0.1 (started per test: LDAP with
//! StartTLS and LDAPS, a server certificate from a CA made here), and against small fake
//! directories that stall or answer with hostile data. Through the real CLI and the real host.
//!
//! The test directory: alice with several certificates (an older and a newer one, an expired
//! one; the newer in a PKCS#7 bundle with the issuing CA), carol with only an expired one, dave
//! whose entry holds a certificate for another address, erin with one from a CA nobody trusts,
//! and bob, found as robert@ through Active Directory's proxyAddresses.

mod common;

use common::certgen::{Ca, Leaf};
use common::slapd::{person, server_tls, Slapd, ADMIN_DN, ADMIN_PASSWORD, BASE_DN};
use common::*;
use openssl::x509::X509;
use serde_json::{json, Value};
use smime_companion::certs::summary::Cert;
use smime_companion::directory::ber;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

struct World {
    root: Ca,
    issuing: Ca,
    tls_ca: Ca,
    slapd: Slapd,
    home: tempfile::TempDir,
    alice_new: X509,
    robert: X509,
}

fn p7(certs: &[&X509]) -> Vec<u8> {
    let certs: Vec<Cert> = certs.iter().map(|c| Cert::from_x509(c).unwrap()).collect();
    smime_companion::contacts::certs_only_p7(&certs)
}

fn fp(cert: &X509) -> String {
    sha256_hex(&cert.to_der().unwrap())
}

impl World {
    fn new() -> World {
        let root = Ca::new("Directory Test Root");
        let issuing = root.sub("Directory Test Issuing CA");
        let stranger = Ca::new("A CA Nobody Trusts");
        let tls_ca = Ca::new("Directory TLS CA");
        let alice_old = Leaf { not_before_days: -20, ..Leaf::for_address("alice@example.org") }.issue(&issuing, None);
        let alice_new = Leaf::for_address("alice@example.org").issue(&issuing, None);
        let alice_expired = Leaf { not_before_days: -400, not_after_days: -30, ..Leaf::for_address("alice@example.org") }.issue(&issuing, None);
        let carol_expired = Leaf { not_before_days: -400, not_after_days: -10, ..Leaf::for_address("carol@example.org") }.issue(&issuing, None);
        let mallory = Leaf::for_address("mallory@example.org").issue(&issuing, None);
        let erin = Leaf::for_address("erin@example.org").issue(&stranger, None);
        let robert = Leaf::for_address("robert@example.org").issue(&issuing, None);
        let people = [
            person("alice", "alice@example.org", &[], &[&alice_old, &alice_expired], &[&p7(&[&alice_new, &issuing.cert])]),
            person("carol", "carol@example.org", &[], &[&carol_expired], &[b"not a certificate at all"]),
            person("dave", "dave@example.org", &[], &[&mallory], &[]),
            person("erin", "erin@example.org", &[], &[&erin], &[]),
            person("bob", "bob@example.org", &["SMTP:bob@example.org", "smtp:robert@example.org"], &[], &[&p7(&[&robert, &issuing.cert])]),
        ]
        .concat();
        let slapd = Slapd::start(&people, &server_tls(&tls_ca, "127.0.0.1"));
        let home = temp_home();
        std::fs::write(home.path().join("root.pem"), root.pem()).unwrap();
        std::fs::write(home.path().join("tls-ca.pem"), tls_ca.pem()).unwrap();
        let (code, _, err) = cli(home.path(), &["trust", "add", home.path().join("root.pem").to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        World { root, issuing, tls_ca, slapd, home, alice_new, robert }
    }

    fn path(&self) -> &Path {
        self.home.path()
    }

    fn tls_ca_file(&self) -> String {
        self.path().join("tls-ca.pem").display().to_string()
    }

    /// The LDAPS directory, trusting the test's TLS CA.
    fn ldaps(&self) -> Value {
        json!({"id": "test", "url": self.slapd.ldaps_url(), "base_dn": BASE_DN, "ca_file": self.tls_ca_file()})
    }

    fn configure(&self, directories: Value) {
        std::fs::write(self.path().join("config.json"), serde_json::to_vec(&json!({ "directories": directories })).unwrap()).unwrap();
    }

    fn lookup(&self, addresses: &[&str]) -> (i32, Value) {
        let mut args = vec!["contacts", "lookup"];
        args.extend_from_slice(addresses);
        args.push("--json");
        let (code, out, err) = cli(self.path(), &args);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
        (code, v)
    }
}

fn recipient<'a>(result: &'a Value, address: &str) -> &'a Value {
    result["recipients"].as_array().unwrap().iter().find(|r| r["address"] == address).unwrap_or_else(|| panic!("{address} in {result}"))
}

fn found<'a>(result: &'a Value, address: &str) -> &'a Value {
    result["addresses"].as_array().unwrap().iter().find(|r| r["address"] == address).unwrap_or_else(|| panic!("{address} in {result}"))
}

#[test]
fn a_lookup_stores_what_the_directory_holds_judged_like_a_signers_certificate() {
    let w = World::new();
    w.configure(json!([w.ldaps()]));
    let (code, r) = w.lookup(&["alice@example.org", "carol@example.org", "dave@example.org", "erin@example.org", "robert@example.org"]);
    assert_eq!(code, 1, "not everyone can receive encrypted mail: {r}");
    let d = &r["directories"][0];
    assert_eq!(d["state"], "ok", "{r}");
    assert_eq!(d["origin"], "user");
    assert_eq!(d["entries"], 5, "alice, carol, dave, erin, bob (through proxyAddresses)");
    assert_eq!(d["other_address"], 1, "mallory's certificate in dave's entry is discarded");
    assert_eq!(d["unreadable"], 1, "carol's value that is no certificate");

    // alice: three certificates; the newest is valid (its chain through the CA that came in the
    // same PKCS#7 bundle) and chosen; the older ones, with other keys, are superseded.
    assert_eq!(found(&r, "alice@example.org")["found"], 3);
    assert_eq!(found(&r, "alice@example.org")["new"], 1);
    assert_eq!(found(&r, "alice@example.org")["superseded"], 2);
    let alice = recipient(&r, "alice@example.org");
    assert_eq!(alice["can_encrypt"], true, "{alice}");
    assert_eq!(alice["certificate"]["fingerprint_sha256"], fp(&w.alice_new));
    assert_eq!(alice["certificate"]["source"], "directory");
    // robert: found through bob's proxyAddresses, the certificate names robert@.
    assert_eq!(recipient(&r, "robert@example.org")["certificate"]["fingerprint_sha256"], fp(&w.robert));
    // carol: only an expired one; erin: a CA nobody trusts; dave: nothing for his address.
    assert_eq!(recipient(&r, "carol@example.org")["reason"], "only_expired");
    assert_eq!(found(&r, "carol@example.org")["found"], 1);
    assert_eq!(recipient(&r, "erin@example.org")["reason"], "untrusted");
    assert_eq!(recipient(&r, "dave@example.org")["reason"], "never_seen");
    assert_eq!(found(&r, "dave@example.org")["found"], 0);
    let (_, shown) = json_cli(w.path(), &["contacts", "show", "mallory@example.org", "--json"]);
    assert_eq!(shown, Value::Null, "a certificate for another address is not stored at all");

    // The contact cache has it with source `directory`; a second lookup finds nothing new.
    let (code, show) = json_cli(w.path(), &["contacts", "show", "alice@example.org", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(show["certificates"].as_array().unwrap().len(), 1);
    assert!(show["certificates"].as_array().unwrap().iter().all(|c| c["source"] == "directory"));
    let (_, again) = w.lookup(&["alice@example.org"]);
    assert_eq!(found(&again, "alice@example.org")["new"], 0);
    // `contacts check` agrees without asking the directory.
    let (code, _, _) = cli(w.path(), &["contacts", "check", "alice@example.org", "robert@example.org"]);
    assert_eq!(code, 0);
}

fn json_cli(home: &Path, args: &[&str]) -> (i32, Value) {
    let (code, out, _) = cli(home, args);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null))
}

#[test]
fn an_address_with_filter_syntax_cannot_widen_the_search() {
    let w = World::new();
    w.configure(json!([w.ldaps()]));
    // As filter text, `(mail=*@example.org)` would match everyone at example.org and
    // `(mail=x)(mail=*)` everyone at all; as values they match no one.
    for hostile in ["*@example.org", "x)(mail=*@example.org", "*)(|(mail=*@example.org", "al*@example.org", "\\2a@example.org"] {
        let (code, r) = w.lookup(&[hostile]);
        assert_eq!(code, 1, "{hostile}: {r}");
        assert_eq!(r["directories"][0]["state"], "ok", "{hostile}: {r}");
        assert_eq!(r["directories"][0]["entries"], 0, "{hostile}: {r}");
    }
    // NUL cannot pass a command line; through the host it is no address.
    let mut host = Host::start(w.path());
    let reply = host.call(json!(1), "contacts_lookup", json!({"addresses": ["a\u{0}b@example.org"]}));
    assert_eq!(reply["error"]["code"], "invalid_address", "{reply}");
    host.finish(Duration::from_secs(10));
}

#[test]
fn starttls_with_a_simple_bind_and_every_way_the_bind_can_fail() {
    let w = World::new();
    let starttls = json!({"id": "test", "url": w.slapd.ldap_url(), "starttls": true, "base_dn": BASE_DN, "ca_file": w.tls_ca_file(), "bind_dn": ADMIN_DN});
    w.configure(json!([starttls]));
    let (_, r) = w.lookup(&["alice@example.org"]);
    assert_eq!(r["directories"][0]["state"], "directory_password_missing", "{r}");

    std::fs::write(w.path().join("pw"), "wrong\n").unwrap();
    let (code, _, err) = cli(w.path(), &["directories", "password", "test", "--password-file", w.path().join("pw").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, r) = w.lookup(&["alice@example.org"]);
    assert_eq!(r["directories"][0]["state"], "directory_bind_refused", "{r}");

    std::fs::write(w.path().join("pw"), format!("{ADMIN_PASSWORD}\n")).unwrap();
    cli(w.path(), &["directories", "password", "test", "--password-file", w.path().join("pw").to_str().unwrap()]);
    let (code, r) = w.lookup(&["alice@example.org"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["directories"][0]["state"], "ok");
    let (_, listing) = json_cli(w.path(), &["directories", "list", "--json"]);
    assert_eq!(listing["directories"][0]["password"], "stored");
    let everything = format!("{listing}{}", std::fs::read_to_string(w.path().join("logs/smime-companion.log")).unwrap_or_default());
    assert!(!everything.contains(ADMIN_PASSWORD), "the password is never listed or logged");

    // IT's password file works the same way.
    let it = json!({"id": "test", "url": w.slapd.ldap_url(), "starttls": true, "base_dn": BASE_DN, "ca_file": w.tls_ca_file(), "bind_dn": ADMIN_DN, "bind_password_file": w.path().join("pw")});
    cli(w.path(), &["directories", "password", "test", "--remove"]);
    w.configure(json!([it]));
    let (code, r) = w.lookup(&["alice@example.org"]);
    assert_eq!((code, &r["directories"][0]["state"]), (0, &json!("ok")), "{r}");
}

#[test]
fn a_directory_whose_certificate_does_not_verify_is_refused() {
    let w = World::new();
    // Without the CA file, the TLS CA is trusted by nobody; under the name `localhost` (which
    // reaches the same server), the certificate, made for 127.0.0.1 only, does not name it.
    let no_ca = json!({"id": "no-ca", "url": w.slapd.ldaps_url(), "base_dn": BASE_DN});
    let starttls_no_ca = json!({"id": "starttls-no-ca", "url": w.slapd.ldap_url(), "starttls": true, "base_dn": BASE_DN});
    let wrong_name = json!({"id": "wrong-name", "url": format!("ldaps://localhost:{}", w.slapd.ldaps_port), "base_dn": BASE_DN, "ca_file": w.tls_ca_file()});
    w.configure(json!([no_ca, starttls_no_ca, wrong_name]));
    let (code, r) = w.lookup(&["alice@example.org"]);
    assert_eq!(code, 1);
    for d in r["directories"].as_array().unwrap() {
        assert_eq!(d["state"], "directory_certificate_untrusted", "{d}");
    }
    assert_eq!(recipient(&r, "alice@example.org")["reason"], "never_seen");
    // Trusting the TLS CA as a companion anchor is enough too.
    cli(w.path(), &["trust", "add", &w.tls_ca_file()]);
    w.configure(json!([{"id": "no-ca", "url": w.slapd.ldaps_url(), "base_dn": BASE_DN}]));
    let (code, r) = w.lookup(&["alice@example.org"]);
    assert_eq!(code, 0, "{r}");
    let _ = (&w.root, &w.issuing, &w.tls_ca);
}

/// A fake directory: for each connection, reads requests and answers each with `respond`
/// (given the request's message ID); `None` answers nothing (a directory that hangs).
fn fake_directory(respond: impl Fn(i64) -> Option<Vec<u8>> + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let respond = std::sync::Arc::new(respond);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let respond = respond.clone();
            std::thread::spawn(move || loop {
                let Some(id) = read_request(&mut stream) else { return };
                if let Some(answer) = respond(id) {
                    if stream.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Reads one LDAP request; its message ID, None at EOF.
fn read_request(stream: &mut TcpStream) -> Option<i64> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if let Ok(Some(h)) = ber::header(&buf) {
            if buf.len() >= h.header_len + h.content_len {
                let mut r = ber::Reader::new(&buf);
                let mut m = r.read().ok()?.children();
                return m.read().ok()?.integer().ok();
            }
        }
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
}

fn message(id: i64, op: Vec<u8>) -> Vec<u8> {
    ber::tlv(0x30, &[ber::integer(2, id), op].concat())
}

fn entry(values: &[Vec<u8>]) -> Vec<u8> {
    let vals: Vec<u8> = values.iter().flat_map(|v| ber::octets(4, v)).collect();
    let attr = ber::tlv(0x30, &[ber::octets(4, b"userCertificate;binary"), ber::tlv(0x31, &vals)].concat());
    ber::tlv(0x64, &[ber::octets(4, b"uid=x,dc=example,dc=org"), ber::tlv(0x30, &attr)].concat())
}

fn done(code: i64) -> Vec<u8> {
    ber::tlv(0x65, &[ber::integer(0x0a, code), ber::octets(4, b""), ber::octets(4, b"")].concat())
}

fn fake(id: &str, port: u16, extra: Value) -> Value {
    let mut d = json!({"id": id, "url": format!("ldap://127.0.0.1:{port}"), "base_dn": BASE_DN, "timeout_seconds": 1});
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

#[test]
fn a_directory_that_is_down_or_silent_is_a_clear_state_within_its_timeout() {
    let w = World::new();
    let silent = fake_directory(|_| None);
    let down = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(); // closed again
    w.configure(json!([fake("silent", silent, json!({})), fake("down", down, json!({})), w.ldaps()]));
    let start = Instant::now();
    let (code, r) = w.lookup(&["alice@example.org"]);
    let took = start.elapsed();
    assert_eq!(code, 0, "the working directory still answered: {r}");
    let state = |id: &str| r["directories"].as_array().unwrap().iter().find(|d| d["id"] == id).unwrap()["state"].clone();
    assert_eq!(state("silent"), "directory_timeout");
    assert_eq!(state("down"), "directory_unreachable");
    assert_eq!(state("test"), "ok");
    assert!(took < Duration::from_secs(15), "a 1 s timeout, directories asked at once: {took:?}");
}

#[test]
fn hostile_answers_end_in_a_state_and_never_store_more_than_the_bounds() {
    let w = World::new();
    // 1. An entry nested 150,000 levels deep (a recursive BER parser overflows its stack).
    let nested = fake_directory(|id| {
        let core = ber::octets(4, b"x");
        let levels = 150_000usize;
        let mut nested = Vec::with_capacity(levels * 6 + core.len());
        for k in (0..levels).rev() {
            nested.extend_from_slice(&[0x30, 0x84]);
            nested.extend_from_slice(&((core.len() + 6 * k) as u32).to_be_bytes());
        }
        nested.extend_from_slice(&core);
        Some(message(id, ber::tlv(0x64, &[ber::octets(4, b"uid=x"), nested].concat())))
    });
    // 2. A message that announces 2 GiB.
    let huge = fake_directory(|id| Some([&[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff][..], &ber::integer(2, id)].concat()));
    // 3. Far more entries than asked for, each with distinct certificates for the address, and
    //    far more values per entry than are read.
    let many: Vec<Vec<u8>> = (0..40).map(|_| Leaf::for_address("flood@example.org").issue(&w.root, None).to_der().unwrap()).collect();
    let flood = fake_directory(move |id| {
        let mut out = Vec::new();
        for i in 0..300 {
            let values: Vec<Vec<u8>> = (0..40).map(|j| many[(i + j) % many.len()].clone()).collect();
            out.extend(message(id, entry(&values)));
        }
        out.extend(message(id, done(0)));
        Some(out)
    });
    // 4. Garbage.
    let garbage = fake_directory(|_| Some(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()));
    w.configure(json!([
        fake("nested", nested, json!({"timeout_seconds": 10})),
        fake("huge", huge, json!({})),
        fake("flood", flood, json!({"size_limit": 100, "timeout_seconds": 10})),
        fake("garbage", garbage, json!({})),
    ]));
    let (code, r) = w.lookup(&["flood@example.org"]);
    assert_eq!(code, 0, "the flood's certificates are valid: {r}");
    let d = |id: &str| r["directories"].as_array().unwrap().iter().find(|d| d["id"] == id).unwrap().clone();
    assert_eq!(d("nested")["state"], "directory_bad_response", "{r}");
    assert_eq!(d("huge")["state"], "directory_bad_response", "{r}");
    assert_eq!(d("garbage")["state"], "directory_bad_response", "{r}");
    let f = d("flood");
    assert_eq!(f["state"], "ok", "{r}");
    assert_eq!(f["truncated"], true);
    assert_eq!(f["entries"], 100, "no more entries than asked for are read");
    assert!(f["unreadable"].as_u64().unwrap() > 0, "values past the bound per entry are skipped");
    assert_eq!(found(&r, "flood@example.org")["found"], smime_companion::directory::MAX_CERTS_PER_ADDRESS as u64);
    let (_, show) = json_cli(w.path(), &["contacts", "show", "flood@example.org", "--json"]);
    assert_eq!(show["certificates"].as_array().unwrap().len(), smime_companion::directory::MAX_CERTS_PER_ADDRESS);
}

#[test]
fn the_compose_check_looks_up_recipients_without_a_certificate_once() {
    let w = World::new();
    let mut host = Host::start(w.path());
    // No directory configured: the check is what it always was.
    let plain = host.ok("recipients_check", json!({"addresses": ["alice@example.org", "dave@example.org"], "lookup": true}));
    assert_eq!(plain["recipients"][0]["reason"], "never_seen");
    assert_eq!(plain["lookup"], Value::Null);
    // IT's directory through the add-on's managed settings.
    let managed = json!([w.ldaps()]);
    let checked = host.ok("recipients_check", json!({"addresses": ["alice@example.org", "dave@example.org"], "lookup": true, "managed_directories": managed}));
    assert_eq!(checked["recipients"][0]["can_encrypt"], true, "{checked}");
    assert_eq!(checked["recipients"][0]["certificate"]["source"], "directory");
    assert_eq!(checked["recipients"][1]["reason"], "never_seen");
    assert_eq!(checked["lookup"]["directories"][0]["origin"], "managed");
    assert_eq!(checked["lookup"]["directories"][0]["recent"], false);
    // dave was answered a moment ago: not asked again; alice needs no lookup any more.
    let again = host.ok("recipients_check", json!({"addresses": ["alice@example.org", "dave@example.org"], "lookup": true, "managed_directories": managed}));
    assert_eq!(again["lookup"]["directories"][0]["recent"], true, "{again}");
    // Without `lookup`, nothing is asked.
    let quiet = host.ok("recipients_check", json!({"addresses": ["dave@example.org"]}));
    assert_eq!(quiet["lookup"], Value::Null);
    // The explicit search always asks.
    let searched = host.ok("contacts_lookup", json!({"addresses": ["dave@example.org"], "managed_directories": managed}));
    assert_eq!(searched["directories"][0]["recent"], false);
    assert_eq!(searched["directories"][0]["state"], "ok");
    host.finish(Duration::from_secs(10));
}

#[test]
fn the_options_page_saves_lists_and_removes_directories_and_never_gets_a_password_back() {
    let w = World::new();
    let mut host = Host::start(w.path());
    let none = host.call(json!(1), "contacts_lookup", json!({"addresses": ["alice@example.org"]}));
    assert_eq!(none["error"]["code"], "no_directory");
    let mut d = w.ldaps();
    d["bind_dn"] = json!(ADMIN_DN);
    let saved = host.ok("directories_save", json!({"directory": d, "password": ADMIN_PASSWORD}));
    assert_eq!(saved["password"], "stored");
    assert_eq!(saved["editable"], true);
    let listing = host.ok("directories_list", json!({"managed_directories": [{"id": "it", "url": "ldaps://ldap.example.net", "base_dn": "o=it"}, {"url": "nonsense"}]}));
    let ids: Vec<&str> = listing["directories"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["it", "test"]);
    assert_eq!(listing["directories"][0]["editable"], false);
    assert!(listing["problems"][0].as_str().unwrap().contains("managed"), "{listing}");
    assert!(!listing.to_string().contains(ADMIN_PASSWORD));
    let found = host.ok("contacts_lookup", json!({"addresses": ["alice@example.org"]}));
    assert_eq!(found["recipients"][0]["can_encrypt"], true, "{found}");
    let refused = host.call(json!(2), "directories_save", json!({"directory": {"url": "ldap://x.org", "base_dn": "dc=x", "bind_password": ADMIN_PASSWORD}}));
    assert_eq!(refused["error"]["code"], "invalid_params");
    assert!(!refused.to_string().contains(ADMIN_PASSWORD));
    host.ok("directories_remove", json!({"id": "test"}));
    assert_eq!(host.ok("directories_list", json!({}))["directories"], json!([]));
    assert!(!smime_companion::directory::secrets::has_stored(&smime_companion::home::Home::at(w.path()), "test"), "its password went with it");
    host.finish(Duration::from_secs(10));
    let log = std::fs::read_to_string(w.path().join("logs/smime-companion.log")).unwrap_or_default();
    assert!(!log.contains(ADMIN_PASSWORD) && !log.contains("alice@example.org"), "no password, no address in the log");
}

#[test]
fn a_directory_lookup_keeps_what_a_signature_said_about_a_certificate() {
    // The same certificate harvested from a signed mail (with its SMIMECapabilities) and then
    // found in a directory (which knows none): the capabilities stay.
    use smime_companion::contacts::select::Unjudged;
    use smime_companion::contacts::{ContactCache, HarvestItem, Source};
    let dir = temp_home();
    let ca = Ca::new("Capabilities CA");
    let cert = Cert::from_x509(&Leaf::for_address("cap@example.org").issue(&ca, None)).unwrap();
    let item = |capabilities: Vec<String>| HarvestItem {
        cert: cert.clone(),
        chain: Vec::new(),
        anchored: false,
        trusted: false,
        revoked: false,
        capabilities,
        key_preference: None,
        signing_time: None,
        message_date: None,
        named: None,
    };
    let mut cache = ContactCache::open_at(&dir.path().join("contacts.sqlite")).unwrap();
    cache.harvest(&item(vec!["2.16.840.1.101.3.4.1.42".into()]), &Unjudged { now: 1_000 }).unwrap();
    cache.harvest_all(&[item(Vec::new())], Source::Directory, &Unjudged { now: 2_000 }).unwrap();
    let stored = cache.certificates_for("cap@example.org").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].capabilities, vec!["2.16.840.1.101.3.4.1.42".to_string()]);
    assert_eq!(stored[0].source, Source::SignedMail, "where it first came from");
}

#[test]
fn of_several_certificates_the_newest_usable_is_kept_and_the_superseded_are_not() {
    let w = World::new();
    w.configure(json!([w.ldaps()]));
    // robert's bundle brings the issuing CA: alice's certificates outside a bundle chain too now,
    // so her older certificate is usable as well; kept, it would wait as a key change.
    let (code, _) = w.lookup(&["robert@example.org"]);
    assert_eq!(code, 0);
    let (code, r) = w.lookup(&["alice@example.org"]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(recipient(&r, "alice@example.org")["certificate"]["fingerprint_sha256"], fp(&w.alice_new));
    assert_eq!(found(&r, "alice@example.org")["superseded"], 2);
    let (_, show) = json_cli(w.path(), &["contacts", "show", "alice@example.org", "--json"]);
    let certs = show["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "{show}");
    assert_eq!(certs[0]["used_for_encryption"], true);
    let events: Vec<&str> = show["history"].as_array().unwrap().iter().filter_map(|h| h["event"].as_str()).collect();
    assert_eq!(events, ["first_certificate"], "no key change, nothing pending");
}
