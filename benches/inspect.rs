//! Read-path benchmark (not a test): `cargo bench --bench inspect`.
//!
//! For messages with 1 KiB, 1 MiB and 25 MiB of text, signed (multipart/signed, SHA-256) and encrypted
//! (AES-256-CBC, RSA), all made by `openssl cms` from the test PKI: `inspect_message` through
//! the native-messaging path (one host session; the message sent as base64 in one request, and
//! as the add-on sends it: a binary string, in chunks when large), against `openssl cms -verify`
//! / `-decrypt` on the same .eml and NSS `cmsutil` on the pre-split DER. Each run measures the
//! four in turn, so load from elsewhere falls on all of them alike. Prints medians with their
//! spread and the ratios of the medians, and the host's peak memory for one 25 MiB message of
//! each kind. Asserts nothing about time.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use serde_json::{json, Value};
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

/// Runs a command once and returns how long it took.
fn time_once(mut command: Command) -> Duration {
    let t = Instant::now();
    let status = command.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
    let d = t.elapsed();
    assert!(status.success());
    d
}

/// Median and spread of a set of times, in ms: "12.34 (11.90–13.01)".
fn spread(v: &[Duration]) -> String {
    let mut ms: Vec<f64> = v.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    format!("{:.2} ({:.2}–{:.2})", ms[ms.len() / 2], ms[0], ms[ms.len() - 1])
}

/// A binary string: one character per byte, as the add-on sends a raw message.
fn binary_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The frames the add-on sends for a message (native-port.mjs): inline as `message_latin1` up
/// to 4 MiB, else a transfer it names itself (`id`): `transfer_begin`, 4 MiB `data_latin1`
/// chunks, `transfer_end` and `inspect_message` naming it, all sent before any answer is read.
fn addon_frames(message: &[u8], id: &str) -> Vec<Vec<u8>> {
    const INLINE: usize = 4 << 20;
    const CHUNK: usize = 4 << 20;
    if message.len() <= INLINE {
        return vec![serde_json::to_vec(&json!({"id": 1, "op": "inspect_message", "params": {"message_latin1": binary_string(message), "harvest": false}})).unwrap()];
    }
    let mut frames = vec![serde_json::to_vec(&json!({"id": 4, "op": "transfer_begin", "params": {"total_bytes": message.len(), "transfer_id": id}})).unwrap()];
    frames.extend(
        message
            .chunks(CHUNK)
            .enumerate()
            .map(|(index, chunk)| serde_json::to_vec(&json!({"id": 2, "op": "transfer_chunk", "params": {"transfer_id": id, "index": index, "data_latin1": binary_string(chunk)}})).unwrap()),
    );
    frames.push(serde_json::to_vec(&json!({"id": 3, "op": "transfer_end", "params": {"transfer_id": id}})).unwrap());
    frames.push(serde_json::to_vec(&json!({"id": 1, "op": "inspect_message", "params": {"transfer": id, "harvest": false}})).unwrap());
    frames
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
        make_sample(dir.path(), &pki, "1KiB", 1024, 31),
        make_sample(dir.path(), &pki, "1MiB", 1 << 20, 21),
        make_sample(dir.path(), &pki, "25MiB", 25 << 20, 11),
    ];
    let p12 = std::fs::read(pki.join("users/alice.p12")).unwrap();
    let mut host = Host::start(home.path());
    host.ok("identities_import", json!({"p12_b64": b64(&p12), "password": "test"}));

    println!("median (min–max) ms of each, measured in turn, {} to {} runs per size", samples[2].reps, samples[0].reps);
    println!(
        "{:<6} {:>8} | {:>24} {:>24} {:>24} {:>24} | {:>9} {:>9} {:>9}",
        "size", "kind", "native, base64 frame", "native, as the add-on", "openssl .eml", "cmsutil DER", "vs openssl", "b64/cms", "add-on/cms"
    );
    for sm in &samples {
        for (kind, eml) in [("verify", &sm.signed), ("decrypt", &sm.encrypted)] {
            // The request as the add-on sent it before binary strings (base64 in one frame), built
            // once: the time is the host's (reading, decoding, verifying or decrypting, answering)
            // plus the pipe. Then as the add-on sends it now (addon_frames).
            let message = std::fs::read(eml).unwrap();
            let frame = serde_json::to_vec(&json!({"id": 1, "op": "inspect_message",
                "params": {"message_b64": b64(&message), "harvest": false}})).unwrap();
            let expect = if kind == "verify" { ("signature", "state", "valid") } else { ("encryption", "state", "decrypted") };
            let (mut native, mut addon, mut openssl_t, mut cmsutil_t) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for rep in 0..sm.reps {
                let t = Instant::now();
                host.send_frame(&frame);
                let v = host.recv();
                native.push(t.elapsed());
                assert_eq!(v["result"][expect.0][expect.1], expect.2, "{} {kind}: {v}", sm.label);

                let frames = addon_frames(&message, &format!("a{rep}"));
                let t = Instant::now();
                for f in &frames {
                    host.send_frame(f);
                }
                let replies: Vec<Value> = frames.iter().map(|_| host.recv()).collect();
                addon.push(t.elapsed());
                let v = replies.last().unwrap();
                assert_eq!(v["result"][expect.0][expect.1], expect.2, "{} {kind} as the add-on: {v}", sm.label);

                openssl_t.push(time_once(if kind == "verify" {
                    let mut c = Command::new("openssl");
                    c.args(["cms", "-verify", "-in", s(eml), "-CAfile", s(&pki.join("root.pem")), "-purpose", "smimesign", "-out", "/dev/null"]);
                    c
                } else {
                    let mut c = Command::new("openssl");
                    c.args(["cms", "-decrypt", "-in", s(eml), "-recip", s(&pki.join("users/alice.pem")), "-inkey", s(&pki.join("users/alice.key")), "-out", "/dev/null"]);
                    c
                }));
                cmsutil_t.push(time_once(if kind == "verify" {
                    let mut c = Command::new("cmsutil");
                    c.args(["-D", "-i", s(&sm.sig_der), "-c", s(&sm.content), "-d", &db_arg, "-n"]);
                    c
                } else {
                    let mut c = Command::new("cmsutil");
                    c.args(["-D", "-i", s(&sm.env_der), "-d", &db_arg, "-p", "", "-o", "/dev/null"]);
                    c
                }));
            }
            let (n, a, o, c) = (median(native.clone()), median(addon.clone()), median(openssl_t.clone()), median(cmsutil_t.clone()));
            println!(
                "{:<6} {:>8} | {:>24} {:>24} {:>24} {:>24} | {:>8.2}x {:>8.2}x {:>8.2}x",
                sm.label,
                kind,
                spread(&native),
                spread(&addon),
                spread(&openssl_t),
                spread(&cmsutil_t),
                o.as_secs_f64() / n.as_secs_f64(),
                n.as_secs_f64() / c.as_secs_f64(),
                a.as_secs_f64() / c.as_secs_f64()
            );
        }
    }
    host.finish(Duration::from_secs(30));
    println!("(vs openssl: how many times faster the base64 frame is than `openssl cms` on the .eml; b64/cms and add-on/cms: our median / cmsutil's on pre-split DER)");

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
