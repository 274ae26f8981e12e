//! Revocation checked online, against real servers on 127.0.0.1 that the tests start: `openssl
//! ocsp` as the CA's OCSP responder (good, revoked, unknown, a responder the CA did not
//! authorise), a small HTTP server for CRLs and pre-made answers (out of date, or for a message to
//! carry), one that never answers (slow), and a port nobody listens on (down). The verdicts come
//! from the real CLI (`inspect --json`, `contacts check`), with certificates made here whose
//! authorityInfoAccess and CRL distribution points name those servers.

mod common;

use common::certgen::{Ca, CaSpec, Leaf, Revocation};
use common::cmsgen::{self, Signer};
use smime_companion::asn1::der_tlv;
use common::responders::{closed_port, crl_revoking, free_port, made_response, Entry, HttpServer, Made, OcspResponder};
use common::*;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn now() -> i64 {
    smime_companion::time::now()
}

/// A leaf for `address` issued by `ca`, naming `revocation`'s sources, with its key.
fn leaf(ca: &Ca, address: &str, revocation: Revocation<'_>) -> (X509, PKey<Private>) {
    let key = common::certgen::ec_key();
    let cert = Leaf { revocation, ..Leaf::for_address(address) }.issue(ca, Some(&key));
    (cert, key)
}

/// A detached signature by `cert` over `cmsgen::SIGNED_PART` with signing time `signed_at`,
/// carrying `chain` and, as RFC 5940 `otherRevInfo`, the OCSP responses `ocsp`.
fn signed_mail(from: &str, cert: &X509, key: &PKey<Private>, chain: &[&X509], signed_at: i64, ocsp: &[Vec<u8>]) -> Vec<u8> {
    let signer = Signer { cert: cert.clone(), key: key.clone() };
    let content = cmsgen::SIGNED_PART.as_bytes();
    let info = signer.signer_info(content, Some(&signer.usual_attributes(content, signed_at)));
    let mut certs: Vec<&X509> = vec![cert];
    certs.extend_from_slice(chain);
    let mut parts = vec![
        der_tlv(0x02, &[1]),
        der_tlv(0x31, &cmsgen::seq(&[cmsgen::oid(cmsgen::SHA256)])),
        cmsgen::seq(&[cmsgen::oid(cmsgen::DATA)]),
        der_tlv(0xa0, &certs.iter().map(|c| c.to_der().unwrap()).collect::<Vec<_>>().concat()),
    ];
    if !ocsp.is_empty() {
        // [1] RevocationInfoChoices: other [1] { id-ri-ocsp-response, OCSPResponse }.
        let others: Vec<Vec<u8>> = ocsp.iter().map(|r| der_tlv(0xa1, &[cmsgen::oid("1.3.6.1.5.5.7.16.2"), r.clone()].concat())).collect();
        parts.push(der_tlv(0xa1, &others.concat()));
    }
    parts.push(der_tlv(0x31, &info));
    let der = cmsgen::seq(&[cmsgen::oid(cmsgen::SIGNED_DATA), der_tlv(0xa0, &cmsgen::seq(&parts))]);
    cmsgen::detached_message(from, signed_at, &der)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The CLI in a private home, with nothing from the caller's environment that changes
/// revocation (mode, proxies); `env` adds variables.
fn run(home: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("SMIME_COMPANION_HOME", home)
        .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("it-config.json"))
        .env("SMIME_COMPANION_SYSTEM_ANCHORS", home.join("no-it-anchors"));
    for name in ["SMIME_COMPANION_REVOCATION", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "SMIME_COMPANION_LOG"] {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `inspect --json` of `mail` with `root` as the call's anchor: the first signer's report.
fn inspect_with(home: &Path, mail: &[u8], root: &Ca, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let eml = write(home, "mail.eml", mail);
    let ca = write(home, "root.pem", &root.pem());
    let mut args = vec!["inspect", eml.to_str().unwrap(), "--json", "--no-harvest", "--ca", ca.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, out, err) = run(home, &args, env);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["signature"]["layers"][0]["signers"][0].clone()
}

fn inspect(home: &Path, mail: &[u8], root: &Ca) -> Value {
    inspect_with(home, mail, root, &[], &[])
}

fn problem<'v>(signer: &'v Value, code: &str) -> Option<&'v Value> {
    signer["problems"].as_array().unwrap().iter().find(|p| p["code"] == code)
}

/// (state, revocation.status, revocation.reason, certificates[0].method, certificates[0].source)
fn summary(signer: &Value) -> (String, String, String, String, String) {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let r = &signer["revocation"];
    (s(&signer["state"]), s(&r["status"]), s(&r["reason"]), s(&r["certificates"][0]["method"]), s(&r["certificates"][0]["source"]))
}

fn strs(items: [&str; 5]) -> (String, String, String, String, String) {
    (items[0].into(), items[1].into(), items[2].into(), items[3].into(), items[4].into())
}

// --- OCSP -----------------------------------------------------------------------------------

#[test]
fn a_good_answer_from_the_responder_makes_revocation_good_and_says_how_and_when() {
    let root = Ca::new("OCSP Good Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "gina@example.org", Revocation { ocsp: Some(&url), crl: None });
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::good(&cert)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("gina@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["valid", "good", "", "ocsp", "online"]), "{signer}");
    let c = &signer["revocation"]["certificates"][0];
    assert_eq!(c["url"], url.as_str());
    assert_eq!(c["depth"], 0);
    assert!(c["checked_at"].is_string() && c["this_update"].is_string() && c["next_update"].is_string(), "{c}");
    assert_eq!(signer["revocation"]["retry"], false);
}

#[test]
fn a_certificate_the_responder_revokes_makes_the_signature_revoked_with_the_time_and_reason() {
    let root = Ca::new("OCSP Revoking Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "rick@example.org", Revocation { ocsp: Some(&url), crl: None });
    let revoked_at = now() - 7200;
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::revoked(&cert, revoked_at, Some("keyCompromise"))]);
    let home = temp_home();
    // Signed after the revocation: whoever holds the stolen key may still sign.
    let signer = inspect(home.path(), &signed_mail("rick@example.org", &cert, &key, &[], now() - 60, &[]), &root);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "ocsp", "online"]), "{signer}");
    let p = problem(&signer, "revoked").expect("a revoked problem");
    assert_eq!(p["reason"], "revoked_before_signing_time");
    assert_eq!(p["revocation_reason"], "key_compromise");
    assert_eq!(p["revoked_at"], smime_companion::time::to_rfc3339(revoked_at).as_str());
    assert_eq!((p["depth"].as_u64(), p["method"].as_str()), (Some(0), Some("ocsp")));
    assert_eq!(signer["revocation"]["certificates"][0]["revocation_reason"], "key_compromise");
}

#[test]
fn a_certificate_revoked_after_the_claimed_signing_time_still_makes_the_signature_revoked() {
    let root = Ca::new("OCSP Later Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "lara@example.org", Revocation { ocsp: Some(&url), crl: None });
    let revoked_at = now() - 600;
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::revoked(&cert, revoked_at, Some("superseded"))]);
    let home = temp_home();
    // The signing time is the signer's own claim; nothing proves the signature is older.
    let signer = inspect(home.path(), &signed_mail("lara@example.org", &cert, &key, &[], now() - 3000, &[]), &root);
    assert_eq!(signer["state"], "revoked", "{signer}");
    let p = problem(&signer, "revoked").unwrap();
    assert_eq!((p["reason"].as_str(), p["revocation_reason"].as_str()), (Some("revoked_after_signing_time"), Some("superseded")));
}

#[test]
fn a_certificate_the_responder_does_not_know_stays_unknown() {
    let root = Ca::new("OCSP Unknown Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "uma@example.org", Revocation { ocsp: Some(&url), crl: None });
    let (other, _) = leaf(&root, "other@example.org", Revocation::default());
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::good(&other)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("uma@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer).0, "valid", "unknown is shown, not held against the signer: {signer}");
    assert_eq!((signer["revocation"]["status"].as_str(), signer["revocation"]["reason"].as_str()), (Some("unknown"), Some("unknown_to_responder")));
    assert_eq!(signer["revocation"]["retry"], false);
}

#[test]
fn an_answer_from_a_responder_the_ca_did_not_authorise_does_not_count() {
    let root = Ca::new("OCSP Wrong Signer Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "will@example.org", Revocation { ocsp: Some(&url), crl: None });
    // Issued by the CA, but without id-kp-OCSPSigning: it may not speak for the CA. The answer
    // says "good" of a revoked certificate.
    let (unauthorised, unauthorised_key) = root.responder("Not A Responder", false);
    let _responder = OcspResponder::start(port, &root.cert, (&unauthorised, &unauthorised_key), &[Entry::good(&cert)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("will@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!((signer["revocation"]["status"].as_str(), signer["revocation"]["reason"].as_str()), (Some("unknown"), Some("invalid_response")), "{signer}");
    // Another CA's responder, authorised by that CA, does not speak for this one either.
    let stranger = Ca::new("Stranger CA");
    let (theirs, theirs_key) = stranger.responder("Stranger Responder", true);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "wanda@example.org", Revocation { ocsp: Some(&url), crl: None });
    let _responder = OcspResponder::start(port, &root.cert, (&theirs, &theirs_key), &[Entry::good(&cert)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("wanda@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(signer["revocation"]["reason"], "invalid_response", "{signer}");
}

#[test]
fn an_answer_from_a_delegated_responder_the_ca_authorised_counts() {
    let root = Ca::new("OCSP Delegating Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "dora@example.org", Revocation { ocsp: Some(&url), crl: None });
    let (responder, responder_key) = root.responder("Delegated Responder", true);
    let _responder = OcspResponder::start(port, &root.cert, (&responder, &responder_key), &[Entry::revoked(&cert, now() - 100, None)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("dora@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "ocsp", "online"]), "{signer}");
}

#[test]
fn an_out_of_date_answer_does_not_count() {
    let root = Ca::new("OCSP Stale Root");
    let path = "/stale";
    let server_port = free_port();
    let url = format!("http://127.0.0.1:{server_port}{path}");
    let (cert, key) = leaf(&root, "sam@example.org", Revocation { ocsp: Some(&url), crl: None });
    // A "good" the CA signed two days ago, valid until yesterday.
    let stale = made_response(&cert, &root.cert, (&root.cert, &root.key), Made::Good, now() - 2 * 86400, now() - 86400);
    let server = HttpServer::serve_on(server_port, vec![(path.into(), stale)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("sam@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!((signer["revocation"]["status"].as_str(), signer["revocation"]["reason"].as_str()), (Some("unknown"), Some("stale_response")), "{signer}");
    assert_eq!(signer["revocation"]["retry"], true);
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_responder_that_is_down_leaves_revocation_unknown_offline_and_offers_to_check_again() {
    let root = Ca::new("OCSP Down Root");
    let url = closed_port();
    let (cert, key) = leaf(&root, "dan@example.org", Revocation { ocsp: Some(&url), crl: None });
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("dan@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["valid", "unknown", "offline", "", ""]), "{signer}");
    assert_eq!(signer["revocation"]["retry"], true);
}

#[test]
fn a_responder_that_never_answers_gives_unknown_within_the_time_budget() {
    let root = Ca::new("OCSP Slow Root");
    let slow = HttpServer::silent();
    let sub_slow = HttpServer::silent();
    let sub = Ca::build(CaSpec { issuer: Some(&root), revocation: Revocation { ocsp: Some(&sub_slow.url("/")), crl: None }, ..CaSpec::named("Slow Sub CA") });
    let (cert, key) = leaf(&sub, "sly@example.org", Revocation { ocsp: Some(&slow.url("/")), crl: Some(&slow.url("/crl")) });
    let home = temp_home();
    let started = Instant::now();
    let signer = inspect(home.path(), &signed_mail("sly@example.org", &cert, &key, &[&sub.cert], now(), &[]), &root);
    let took = started.elapsed();
    assert_eq!((signer["revocation"]["status"].as_str(), signer["revocation"]["reason"].as_str()), (Some("unknown"), Some("timeout")), "{signer}");
    assert_eq!(signer["revocation"]["certificates"][1]["reason"], "timeout", "the CA certificate was asked too");
    // Three requests of up to 3 s each, one after the other, would be 9 s; the budget is 4 s.
    assert!(took < Duration::from_secs(30), "a slow responder blew up the verdict: {took:?}");
}

// --- CRL distribution points and the cache ---------------------------------------------------

#[test]
fn the_crl_distribution_point_answers_when_the_responder_cannot_and_the_crl_is_kept() {
    let root = Ca::new("CRL DP Root");
    let crl_port = free_port();
    let crl_url = format!("http://127.0.0.1:{crl_port}/root.crl");
    let down = closed_port();
    let (cert, key) = leaf(&root, "cora@example.org", Revocation { ocsp: Some(&down), crl: Some(&crl_url) });
    let revoked_at = now() - 3600;
    let crl = crl_revoking(&root, &[(&cert, revoked_at)], 7, Some(1));
    let server = HttpServer::serve_on(crl_port, vec![("/root.crl".into(), crl.to_der().unwrap())]);
    let home = temp_home();
    let mail = signed_mail("cora@example.org", &cert, &key, &[], now(), &[]);
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "crl", "online"]), "{signer}");
    let p = problem(&signer, "revoked").unwrap();
    assert_eq!((p["revocation_reason"].as_str(), p["method"].as_str()), (Some("key_compromise"), Some("crl")));
    assert_eq!(p["revoked_at"], smime_companion::time::to_rfc3339(revoked_at).as_str());
    assert_eq!(server.hits(), 1);
    // The CRL was kept: with its server gone, the next check needs no network.
    drop(server);
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "crl", "cache"]), "{signer}");
}

#[test]
fn a_fetched_crl_older_than_a_stored_one_does_not_hide_its_revocation() {
    let root = Ca::new("CRL Rollback Root");
    let crl_port = free_port();
    let crl_url = format!("http://127.0.0.1:{crl_port}/old.crl");
    let (cert, key) = leaf(&root, "olga@example.org", Revocation { ocsp: None, crl: Some(&crl_url) });
    let stored = crl_revoking(&root, &[(&cert, now() - 600)], 9, None);
    let older = crl_revoking(&root, &[], 3, None);
    let _server = HttpServer::serve_on(crl_port, vec![("/old.crl".into(), older.to_der().unwrap())]);
    let home = temp_home();
    let path = write(home.path(), "stored.crl", &stored.to_pem().unwrap());
    let (code, _, err) = run(home.path(), &["trust", "add", path.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let signer = inspect(home.path(), &signed_mail("olga@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "crl", "stored"]), "{signer}");
}

#[test]
fn a_cached_answer_costs_no_network() {
    let root = Ca::new("OCSP Cache Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "cass@example.org", Revocation { ocsp: Some(&url), crl: None });
    let home = temp_home();
    let mail = signed_mail("cass@example.org", &cert, &key, &[], now(), &[]);
    {
        let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::good(&cert)]);
        assert_eq!(summary(&inspect(home.path(), &mail, &root)), strs(["valid", "good", "", "ocsp", "online"]));
    }
    // The responder is gone; the answer is still fresh.
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!(summary(&signer), strs(["valid", "good", "", "ocsp", "cache"]), "{signer}");
    assert_eq!(signer["revocation"]["certificates"][0]["url"], url.as_str());
}

#[test]
fn a_failed_check_is_remembered_and_checking_again_asks_again() {
    let root = Ca::new("OCSP Retry Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, key) = leaf(&root, "rita@example.org", Revocation { ocsp: Some(&url), crl: None });
    let home = temp_home();
    let mail = signed_mail("rita@example.org", &cert, &key, &[], now(), &[]);
    assert_eq!(summary(&inspect(home.path(), &mail, &root)), strs(["valid", "unknown", "offline", "", ""]));
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::revoked(&cert, now() - 60, None)]);
    // Remembered: the next message does not wait for a responder that was down a minute ago.
    let signer = inspect(home.path(), &mail, &root);
    assert_eq!((signer["revocation"]["reason"].as_str(), signer["revocation"]["certificates"][0]["source"].as_str()), (Some("offline"), Some("cache")));
    // "Check again" asks.
    let signer = inspect_with(home.path(), &mail, &root, &["--recheck-revocation"], &[]);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "ocsp", "online"]), "{signer}");
}

#[test]
fn a_revoked_intermediate_ca_makes_the_signature_revoked() {
    let root = Ca::new("Intermediate Revoking Root");
    let (root_port, sub_port) = (free_port(), free_port());
    let (root_url, sub_url) = (format!("http://127.0.0.1:{root_port}/"), format!("http://127.0.0.1:{sub_port}/"));
    let sub = Ca::build(CaSpec { issuer: Some(&root), revocation: Revocation { ocsp: Some(&root_url), crl: None }, ..CaSpec::named("Revoked Sub CA") });
    let (cert, key) = leaf(&sub, "ivy@example.org", Revocation { ocsp: Some(&sub_url), crl: None });
    let _root_responder = OcspResponder::start(root_port, &root.cert, (&root.cert, &root.key), &[Entry::revoked(&sub.cert, now() - 86400, Some("cACompromise"))]);
    let _sub_responder = OcspResponder::start(sub_port, &sub.cert, (&sub.cert, &sub.key), &[Entry::good(&cert)]);
    let home = temp_home();
    let signer = inspect(home.path(), &signed_mail("ivy@example.org", &cert, &key, &[&sub.cert], now(), &[]), &root);
    assert_eq!(signer["state"], "revoked", "{signer}");
    let certs = &signer["revocation"]["certificates"];
    assert_eq!((certs[0]["status"].as_str(), certs[1]["status"].as_str()), (Some("good"), Some("revoked")));
    assert_eq!((certs[1]["depth"].as_u64(), certs[1]["revocation_reason"].as_str()), (Some(1), Some("ca_compromise")));
    assert_eq!(certs.as_array().unwrap().len(), 2, "the trust anchor itself is not asked");
    assert_eq!(problem(&signer, "revoked").unwrap()["depth"], 1);
}

// --- what a message carries -------------------------------------------------------------------

#[test]
fn an_ocsp_answer_the_message_carries_counts_when_it_verifies_and_is_fresh() {
    let root = Ca::new("Embedded OCSP Root");
    let (cert, key) = leaf(&root, "emma@example.org", Revocation { ocsp: Some("http://ocsp.invalid/"), crl: None });
    // Revocation checking off: nobody is asked; only what the message carries can answer.
    let off = [("SMIME_COMPANION_REVOCATION", "off")];
    let good = made_response(&cert, &root.cert, (&root.cert, &root.key), Made::Good, now() - 60, now() + 86400);
    let home = temp_home();
    let signer = inspect_with(home.path(), &signed_mail("emma@example.org", &cert, &key, &[], now(), &[good]), &root, &[], &off);
    assert_eq!(summary(&signer), strs(["valid", "good", "", "ocsp", "message"]), "{signer}");
    let revoked = made_response(&cert, &root.cert, (&root.cert, &root.key), Made::Revoked(now() - 3600, 1), now() - 60, now() + 86400);
    let signer = inspect_with(home.path(), &signed_mail("emma@example.org", &cert, &key, &[], now(), &[revoked]), &root, &[], &off);
    assert_eq!(summary(&signer), strs(["revoked", "revoked", "", "ocsp", "message"]), "{signer}");
    // Out of date, or signed by someone the CA did not authorise: it does not count.
    let stale = made_response(&cert, &root.cert, (&root.cert, &root.key), Made::Good, now() - 3 * 86400, now() - 2 * 86400);
    let (rogue, rogue_key) = root.responder("Rogue", false);
    let forged = made_response(&cert, &root.cert, (&rogue, &rogue_key), Made::Good, now() - 60, now() + 86400);
    let signer = inspect_with(home.path(), &signed_mail("emma@example.org", &cert, &key, &[], now(), &[stale, forged]), &root, &[], &off);
    assert_eq!(summary(&signer), strs(["valid", "unknown", "off", "", ""]), "{signer}");
}

// --- settings ------------------------------------------------------------------------------

#[test]
fn with_revocation_off_nobody_is_asked() {
    let root = Ca::new("Off Root");
    let server_port = free_port();
    let url = format!("http://127.0.0.1:{server_port}/ocsp");
    let (cert, key) = leaf(&root, "otto@example.org", Revocation { ocsp: Some(&url), crl: Some(&url) });
    let answer = made_response(&cert, &root.cert, (&root.cert, &root.key), Made::Good, now() - 60, now() + 86400);
    let server = HttpServer::serve_on(server_port, vec![("/ocsp".into(), answer)]);
    let home = temp_home();
    write(home.path(), "config.json", br#"{"revocation": "off"}"#);
    let signer = inspect(home.path(), &signed_mail("otto@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["valid", "unknown", "off", "", ""]), "{signer}");
    assert_eq!(signer["revocation"]["retry"], false);
    assert_eq!(server.hits(), 0, "the responder learnt nothing");
    // IT's setting wins over the user's: IT says on.
    write(home.path(), "it-config.json", br#"{"revocation": "on"}"#);
    let signer = inspect(home.path(), &signed_mail("otto@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["valid", "good", "", "ocsp", "online"]), "{signer}");
    assert_eq!(server.hits(), 1);
}

#[test]
fn with_revocation_required_an_unknown_status_is_a_problem() {
    let root = Ca::new("Required Root");
    let url = closed_port();
    let (cert, key) = leaf(&root, "reqa@example.org", Revocation { ocsp: Some(&url), crl: None });
    let home = temp_home();
    write(home.path(), "it-config.json", br#"{"revocation": "required"}"#);
    // The user cannot switch off what IT requires.
    write(home.path(), "config.json", br#"{"revocation": "off"}"#);
    let signer = inspect(home.path(), &signed_mail("reqa@example.org", &cert, &key, &[], now(), &[]), &root);
    assert_eq!(summary(&signer), strs(["untrusted", "unknown", "offline", "", ""]), "{signer}");
    let p = problem(&signer, "untrusted").unwrap();
    assert_eq!((p["reason"].as_str(), p["depth"].as_u64()), (Some("revocation_unknown"), Some(0)));
}

#[test]
fn requests_go_through_the_proxy_from_the_environment() {
    let root = Ca::new("Proxy Root");
    // A host that resolves nowhere: only the proxy can reach it.
    let url = "http://ocsp.revocation-test.invalid/status";
    let (cert, key) = leaf(&root, "pia@example.org", Revocation { ocsp: Some(url), crl: None });
    let answer = made_response(&cert, &root.cert, (&root.cert, &root.key), Made::Good, now() - 60, now() + 86400);
    let proxy = HttpServer::serve(vec![("/status".into(), answer)]);
    let home = temp_home();
    let proxy_url = proxy.url("");
    let signer = inspect_with(home.path(), &signed_mail("pia@example.org", &cert, &key, &[], now(), &[]), &root, &[], &[("http_proxy", &proxy_url)]);
    assert_eq!(summary(&signer), strs(["valid", "good", "", "ocsp", "online"]), "{signer}");
    assert_eq!(proxy.requests(), vec![format!("POST {url} HTTP/1.1")], "the proxy got the absolute-form request");
    // no_proxy names the host: straight to it, which resolves nowhere.
    let home = temp_home();
    let env = [("http_proxy", proxy_url.as_str()), ("no_proxy", ".revocation-test.invalid")];
    let signer = inspect_with(home.path(), &signed_mail("pia@example.org", &cert, &key, &[], now(), &[]), &root, &[], &env);
    assert_eq!(signer["revocation"]["status"], "unknown", "{signer}");
    assert_eq!(proxy.requests().len(), 1);
}

// --- encryption -------------------------------------------------------------------------------

#[test]
fn a_recipients_revoked_certificate_is_never_chosen_for_encryption() {
    let root = Ca::new("Recipient Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, _) = leaf(&root, "rex@example.org", Revocation { ocsp: Some(&url), crl: None });
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::revoked(&cert, now() - 60, Some("keyCompromise"))]);
    let home = temp_home();
    let anchor = write(home.path(), "root.pem", &root.pem());
    let contact = write(home.path(), "rex.pem", &cert.to_pem().unwrap());
    for args in [["trust", "add", anchor.to_str().unwrap()], ["contacts", "import", contact.to_str().unwrap()]] {
        let (code, out, err) = run(home.path(), &args, &[]);
        assert_eq!(code, 0, "{args:?}: {out} {err}");
    }
    let (code, out, err) = run(home.path(), &["contacts", "check", "rex@example.org", "--json"], &[]);
    assert_eq!(code, 1, "exit status 1: an address cannot receive encrypted mail; {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let check = &v["recipients"][0];
    assert_eq!((check["can_encrypt"].as_bool(), check["reason"].as_str()), (Some(false), Some("revoked")), "{check}");
}

#[test]
fn the_cache_only_checker_of_the_pkcs11_module_refuses_what_the_host_found_revoked() {
    use smime_companion::certs::policy::{encryption_verdict, Refusal};
    use smime_companion::certs::revocation::{Checker, Settings};
    use smime_companion::certs::summary::Cert;
    use smime_companion::certs::trust::{Anchor, AnchorSource, TrustAnchors};
    use smime_companion::home::Home;
    use std::sync::Arc;
    let root = Ca::new("Module Root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (cert, _) = leaf(&root, "mona@example.org", Revocation { ocsp: Some(&url), crl: None });
    let dir = temp_home();
    let home = Home::at(dir.path());
    let anchors = |checker: Checker| {
        let mut t = TrustAnchors::default();
        t.anchors.push(Anchor { cert: Cert::from_x509(&root.cert).unwrap(), source: AnchorSource::Call, path: None });
        t.revocation = Some(Arc::new(checker));
        t
    };
    let contact = Cert::from_x509(&cert).unwrap();
    // Nothing recorded yet: the module asks nobody, and an unknown status does not refuse.
    let module = anchors(Checker::cache_only(&home, Settings::default()));
    assert_eq!(encryption_verdict(&module, &contact, &[], now()), Ok(()));
    let stamp = TrustAnchors::stamp(&home);
    // The host asks the responder and records the revocation.
    let _responder = OcspResponder::start(port, &root.cert, (&root.cert, &root.key), &[Entry::revoked(&cert, now() - 60, Some("keyCompromise"))]);
    let host = anchors(Checker::new(&home, Settings::default()));
    let refusal = encryption_verdict(&host, &contact, &[], now()).unwrap_err();
    assert!(matches!(&refusal, Refusal::Revoked { depth: 0, revocation_reason: Some("key_compromise"), revoked_at: Some(_) }), "{refusal:?}");
    assert_ne!(TrustAnchors::stamp(&home), stamp, "readers learn that a status changed");
    // The module reads it, still without asking anybody.
    drop(_responder);
    let module = anchors(Checker::cache_only(&home, Settings::default()));
    assert!(matches!(encryption_verdict(&module, &contact, &[], now()), Err(Refusal::Revoked { .. })));
}
