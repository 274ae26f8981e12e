//! Read-path benchmark (not a test): `cargo bench --bench inspect`.
//!
//! For messages with 1 KiB, 1 MiB and 25 MiB of text, signed (multipart/signed, SHA-256) and encrypted
//! (AES-256-CBC, RSA), all made by `openssl cms` from the test PKI: `inspect_message` through
//! the native-messaging path (one host session, the message sent as base64 in the request),
//! against `openssl cms -verify` / `-decrypt` on the same .eml and NSS `cmsutil` on the
//! pre-split DER, measured in the same run. Prints medians and ratios, and the host's peak
//! memory for one 25 MiB message of each kind. Asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time_command(reps: usize, mut make: impl FnMut() -> Command) -> Duration {
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                let status = make().stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
                let d = t.elapsed();
                assert!(status.success());
                d
            })
            .collect(),
    )
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A text body of about `size` bytes.
fn body(size: usize) -> Vec<u8> {
    let mut b = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n".to_vec();
    let mut i = 0;
    while b.len() < size {
        b.extend_from_slice(format!("line {i:08} of the benchmark message, plain ASCII text to sign and encrypt.\r\n").as_bytes());
        i += 1;
    }
    b
}

struct Sample {
    label: String,
    signed: PathBuf,
    encrypted: PathBuf,
    sig_der: PathBuf,
    content: PathBuf,
    env_der: PathBuf,
    reps: usize,
}

fn make_sample(dir: &Path, pki: &Path, label: &str, size: usize, reps: usize) -> Sample {
    let input = dir.join(format!("{label}.in"));
    std::fs::write(&input, body(size)).unwrap();
    let headers = "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: benchmark\r\n";
    let signed_part = dir.join(format!("{label}.signed.part"));
    openssl(&["cms", "-sign", "-binary", "-in", s(&input), "-signer", s(&pki.join("users/alice.pem")), "-inkey", s(&pki.join("users/alice.key")), "-certfile", s(&pki.join("intermediate.pem")), "-out", s(&signed_part)]);
    let signed = dir.join(format!("{label}.signed.eml"));
    std::fs::write(&signed, [headers.as_bytes(), &std::fs::read(&signed_part).unwrap()].concat()).unwrap();
    let enc_part = dir.join(format!("{label}.enc.part"));
    openssl(&["cms", "-encrypt", "-aes256", "-binary", "-in", s(&input), "-out", s(&enc_part), s(&pki.join("users/alice.pem"))]);
    let encrypted = dir.join(format!("{label}.enc.eml"));
    std::fs::write(&encrypted, [headers.as_bytes(), &std::fs::read(&enc_part).unwrap()].concat()).unwrap();
    let (sig_der, content, env_der) = (dir.join(format!("{label}.sig.der")), dir.join(format!("{label}.content")), dir.join(format!("{label}.env.der")));
    openssl(&["cms", "-verify", "-noverify", "-in", s(&signed), "-out", s(&content)]);
    openssl(&["cms", "-cmsout", "-in", s(&signed), "-outform", "DER", "-out", s(&sig_der)]);
    openssl(&["cms", "-cmsout", "-in", s(&encrypted), "-outform", "DER", "-out", s(&env_der)]);
    Sample { label: label.into(), signed, encrypted, sig_der, content, env_der, reps }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn main() {
    let (pki, vectors) = (repo_path("target/test-data/pki"), repo_path("target/test-data/vectors"));
    assert!(Command::new(repo_path("tests/vectors/make-vectors.sh")).arg(&pki).arg(&vectors).status().unwrap().success());
    let dir = tempfile::tempdir().unwrap();
    let home = temp_home();
    assert_eq!(cli(home.path(), &["trust", "add", s(&pki.join("root.pem"))]).0, 0);
    let db = dir.path().join("nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    assert!(Command::new("certutil").args(["-N", "-d", &db_arg, "--empty-password"]).status().unwrap().success());
    assert!(Command::new("certutil").args(["-A", "-d", &db_arg, "-n", "root", "-t", "C,C,C", "-i", s(&pki.join("root.pem"))]).status().unwrap().success());
    assert!(Command::new("pk12util").args(["-i", s(&pki.join("users/alice.p12")), "-d", &db_arg, "-W", "test", "-K", ""]).stdout(Stdio::null()).status().unwrap().success());

    let samples = [
        make_sample(dir.path(), &pki, "1KiB", 1024, 50),
        make_sample(dir.path(), &pki, "1MiB", 1 << 20, 20),
        make_sample(dir.path(), &pki, "25MiB", 25 << 20, 5),
    ];
    let p12 = std::fs::read(pki.join("users/alice.p12")).unwrap();
    let mut host = Host::start(home.path());
    host.ok("identities_import", json!({"p12_b64": b64(&p12), "password": "test"}));

    println!("{:<6} {:>9} | {:>11} {:>13} {:>12} | {:>9} {:>10}", "size", "kind", "native ms", "openssl .eml", "cmsutil DER", "vs openssl", "vs cmsutil");
    for sm in &samples {
        for (kind, eml) in [("verify", &sm.signed), ("decrypt", &sm.encrypted)] {
            // The request as the add-on sends it (base64 in JSON), built once: the time is the
            // host's (reading, decoding, verifying or decrypting, answering) plus the pipe.
            let frame = serde_json::to_vec(&json!({"id": 1, "op": "inspect_message",
                "params": {"message_b64": b64(&std::fs::read(eml).unwrap()), "harvest": false}})).unwrap();
            let expect = if kind == "verify" { ("signature", "state", "valid") } else { ("encryption", "state", "decrypted") };
            let native = median(
                (0..sm.reps)
                    .map(|_| {
                        let t = Instant::now();
                        host.send_frame(&frame);
                        let v = host.recv();
                        let d = t.elapsed();
                        assert_eq!(v["result"][expect.0][expect.1], expect.2, "{} {kind}: {v}", sm.label);
                        d
                    })
                    .collect(),
            );
            let openssl_t = if kind == "verify" {
                time_command(sm.reps, || {
                    let mut c = Command::new("openssl");
                    c.args(["cms", "-verify", "-in", s(eml), "-CAfile", s(&pki.join("root.pem")), "-purpose", "smimesign", "-out", "/dev/null"]);
                    c
                })
            } else {
                time_command(sm.reps, || {
                    let mut c = Command::new("openssl");
                    c.args(["cms", "-decrypt", "-in", s(eml), "-recip", s(&pki.join("users/alice.pem")), "-inkey", s(&pki.join("users/alice.key")), "-out", "/dev/null"]);
                    c
                })
            };
            let cmsutil_t = if kind == "verify" {
                time_command(sm.reps, || {
                    let mut c = Command::new("cmsutil");
                    c.args(["-D", "-i", s(&sm.sig_der), "-c", s(&sm.content), "-d", &db_arg, "-n"]);
                    c
                })
            } else {
                time_command(sm.reps, || {
                    let mut c = Command::new("cmsutil");
                    c.args(["-D", "-i", s(&sm.env_der), "-d", &db_arg, "-p", "", "-o", "/dev/null"]);
                    c
                })
            };
            println!(
                "{:<6} {:>9} | {:>11.2} {:>13.2} {:>12.2} | {:>8.2}x {:>9.2}x",
                sm.label,
                kind,
                ms(native),
                ms(openssl_t),
                ms(cmsutil_t),
                openssl_t.as_secs_f64() / native.as_secs_f64(),
                native.as_secs_f64() / cmsutil_t.as_secs_f64()
            );
        }
    }
    host.finish(Duration::from_secs(30));
    println!("(vs openssl: how many times faster than `openssl cms` on the .eml; vs cmsutil: our time / cmsutil's on pre-split DER)");

    // Peak memory: a fresh host per kind, one 25 MiB message each.
    let big = &samples[2];
    for (kind, eml) in [("verify", &big.signed), ("decrypt", &big.encrypted)] {
        let mut host = Host::start(home.path());
        host.ok("identities_unlock", json!({"passphrase": "test"}));
        let baseline = peak_rss_kib(host.child.id());
        host.ok("inspect_message", json!({"message_b64": b64(&std::fs::read(eml).unwrap()), "harvest": false}));
        let peak = peak_rss_kib(host.child.id());
        let size = std::fs::metadata(eml).unwrap().len() as f64;
        println!(
            "peak memory, 25 MiB {kind}: {:.1} MiB (start {:.1} MiB) = {:.2}x the message size ({:.1} MiB)",
            peak as f64 / 1024.0,
            baseline as f64 / 1024.0,
            peak as f64 * 1024.0 / size,
            size / 1048576.0
        );
        host.finish(Duration::from_secs(30));
    }
}
