//! Revocation benchmark (not a test): `cargo bench --bench revocation`.
//!
//! `inspect_message` through one native-messaging host session (the way the add-on asks), for a
//! signed message whose signer's certificate names a local OCSP responder (`openssl ocsp`,
//! started here):
//! - baseline: the same message shape, the certificate naming no responder: the verdict as it was
//!   before revocation was checked online (nothing to ask);
//! - warm: the signer's status already in the revocation cache (checked once before);
//! - cold: an empty cache each time (a fresh data folder and host session), the responder asked.
//!
//! Prints medians, and warm against baseline (goal: within 5 %). With `BENCH_BASELINE_BIN` naming
//! a host built from before online revocation checking, the same two messages are also timed
//! with it, in its own session and the same loop, for the comparison with "today's" verdict.
//! Asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;

use common::certgen::{ec_key, Ca, Leaf, Revocation};
use common::cmsgen::{self, Signer};
use common::responders::{free_port, Entry, OcspResponder};
use common::*;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn now() -> i64 {
    smime_companion::time::now()
}

/// A signed message from `address`, by a new certificate of `ca` naming `revocation`.
fn message(ca: &Ca, address: &str, revocation: Revocation<'_>) -> (Vec<u8>, openssl::x509::X509) {
    let key = ec_key();
    let cert = Leaf { revocation, ..Leaf::for_address(address) }.issue(ca, Some(&key));
    let signer = Signer { cert: cert.clone(), key };
    let content = cmsgen::SIGNED_PART.as_bytes();
    let info = signer.signer_info(content, Some(&signer.usual_attributes(content, now())));
    let der = cmsgen::signed_data(cmsgen::DATA, None, &[&cert], &[info]);
    (cmsgen::detached_message(address, now(), &der), cert)
}

/// A host session in `home`, trusting `ca`, with nothing from this machine's environment that
/// changes revocation.
fn session(home: &Path, ca: &Ca) -> Host {
    session_of(BIN, home, ca)
}

fn session_of(bin: &str, home: &Path, ca: &Ca) -> Host {
    let root = home.join("root.pem");
    std::fs::write(&root, ca.pem()).unwrap();
    let (code, _, err) = cli(home, &["trust", "add", root.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let mut cmd = thunderbird_command(home, &addon_id());
    if bin != BIN {
        let args: Vec<std::ffi::OsString> = cmd.get_args().map(|a| a.to_owned()).collect();
        let envs: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)> = cmd.get_envs().map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned()))).collect();
        cmd = std::process::Command::new(bin);
        cmd.args(args);
        for (k, v) in envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
    }
    for name in ["SMIME_COMPANION_REVOCATION", "http_proxy", "HTTP_PROXY"] {
        cmd.env_remove(name);
    }
    let mut host = Host::spawn(cmd);
    host.ok("hello", json!({}));
    host
}

fn inspect(host: &mut Host, message: &[u8], want: &str) -> Duration {
    let params = json!({"message_b64": b64(message)});
    let start = Instant::now();
    let verdict = host.ok("inspect_message", params);
    let took = start.elapsed();
    let revocation = &verdict["signature"]["layers"][0]["signers"][0]["revocation"];
    // An older host says only the status.
    let status = revocation.get("status").unwrap_or(revocation);
    assert_eq!(status, want, "{verdict}");
    assert_eq!(verdict["signature"]["state"], "valid");
    took
}

fn main() {
    let ca = Ca::new("Bench Revocation CA");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (plain, _) = message(&ca, "base@example.org", Revocation::default());
    let (checked, cert) = message(&ca, "ocsp@example.org", Revocation { ocsp: Some(&url), crl: None });
    let _responder = OcspResponder::start(port, &ca.cert, (&ca.cert, &ca.key), &[Entry::good(&cert)]);
    // For profiling the host on its own: the messages and the CA.
    if let Some(dir) = std::env::var_os("BENCH_WRITE_MESSAGES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plain.eml"), &plain).unwrap();
        std::fs::write(dir.join("checked.eml"), &checked).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    }
    let reps = 200;

    let home = temp_home();
    let mut host = session(home.path(), &ca);
    // The host from before, in a session of its own, timed in the same loop (no drift between them).
    let before_home = temp_home();
    let mut before = std::env::var("BENCH_BASELINE_BIN").ok().map(|bin| session_of(&bin, before_home.path(), &ca));
    inspect(&mut host, &checked, "good"); // fills the cache
    for _ in 0..10 {
        inspect(&mut host, &plain, "unknown");
        inspect(&mut host, &checked, "good");
        if let Some(old) = before.as_mut() {
            inspect(old, &plain, "unknown");
            inspect(old, &checked, "unknown");
        }
    }
    let (mut baseline, mut warm, mut old_plain, mut old_checked) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..reps {
        // The same two messages to the host from before (which checks nothing); who goes first
        // alternates, since the first of two processes asked in turn tends to be faster.
        let old_first = i % 2 == 1;
        if let (true, Some(old)) = (old_first, before.as_mut()) {
            old_plain.push(inspect(old, &plain, "unknown"));
            old_checked.push(inspect(old, &checked, "unknown"));
        }
        baseline.push(inspect(&mut host, &plain, "unknown"));
        warm.push(inspect(&mut host, &checked, "good"));
        if let (false, Some(old)) = (old_first, before.as_mut()) {
            old_plain.push(inspect(old, &plain, "unknown"));
            old_checked.push(inspect(old, &checked, "unknown"));
        }
    }
    let (b, w) = (median(baseline), median(warm));
    let before = (!old_plain.is_empty()).then(|| (median(old_plain), median(old_checked)));

    let cold_reps = 30;
    let mut cold = Vec::new();
    for _ in 0..cold_reps {
        let home = temp_home();
        let mut host = session(home.path(), &ca);
        cold.push(inspect(&mut host, &checked, "good"));
    }
    let c = median(cold);

    println!("inspect_message, a signed 1 KiB message, one host session (medians):");
    println!("  baseline: nothing to check         {:8.3} ms   ({reps} runs)", ms(b));
    println!("  warm: the status in the cache      {:8.3} ms   ({reps} runs)   {:+.1} % against baseline (goal: within 5 %)", ms(w), (ms(w) / ms(b) - 1.0) * 100.0);
    println!("  cold: asking the local responder   {:8.3} ms   ({cold_reps} runs, each with an empty cache)", ms(c));
    if let Some((old_plain, old_checked)) = before {
        println!("  the host from before online checking (BENCH_BASELINE_BIN), the same messages:");
        println!("    baseline message                 {:8.3} ms   now {:+.1} %", ms(old_plain), (ms(b) / ms(old_plain) - 1.0) * 100.0);
        println!("    the message naming a responder   {:8.3} ms   now (warm) {:+.1} % (goal: within 5 %)", ms(old_checked), (ms(w) / ms(old_checked) - 1.0) * 100.0);
    }
}
