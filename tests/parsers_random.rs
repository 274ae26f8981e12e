//! Seeded random inputs for every parser that reads attacker input: the same functions as the
//! fuzz targets (tests/fuzz/targets.rs, docs/FUZZING.md), fed here with mutations of seed
//! inputs from a fixed-seed generator, so `cargo test` keeps exercising them on the stable
//! toolchain in a few seconds.
//!
//! Seeds: the hand-made ones (tests/fuzz/seeds/), every input a fuzzing campaign found
//! (tests/fuzz/regressions/), and certificates and CMS structures made here with OpenSSL.
//! Mutations: bit flips, interesting bytes, truncations, splices of two seeds, a slice of the
//! input repeated many times (what turns a quadratic loop into a hang), dictionary tokens, and
//! large counts (DER lengths, numbers).
//!
//! Each input must return without a panic and within `BLOW_UP_LIMIT` of CPU time (of the thread
//! that parses it: a busy machine does not stretch it). That bound is no performance test: every
//! parser handles 64 KiB in milliseconds even in a debug build, and it is there to catch a
//! blow-up (quadratic time, a loop that does not end) instead of letting such a test pass
//! slowly. A failing input is written to target/parsers-random/ and named in
//! the failure message; to keep it, copy it to tests/fuzz/regressions/TARGET/.
//!
//! `PARSERS_RANDOM_SEED=N` and `PARSERS_RANDOM_ROUNDS=N` change the seed and the number of inputs
//! per target (default 300).

mod common;

#[path = "fuzz/targets.rs"]
mod targets;

use common::certgen::{Ca, Leaf};
use common::growth::thread_cpu_time;
use common::repo_path;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::PKey;
use openssl::stack::Stack;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest input: what the fuzz campaigns use (`-max_len=65536`).
const MAX_LEN: usize = 64 * 1024;

/// A blow-up catcher, not a performance bound (see the module comment); CPU time.
const BLOW_UP_LIMIT: Duration = Duration::from_secs(1);

/// An input still running after this is a hang: the test process is ended (see `check`).
const HANG_LIMIT: Duration = Duration::from_secs(20);

/// A small, fixed-seed generator (SplitMix64): the same inputs on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const INTERESTING_BYTES: &[u8] = b"\x00\x01\x7f\x80\x81\xff\r\n \t=?;:\"\\@<>(),%*'-.\x30\x31\x04\x06\xa0\x1f";

const LARGE_COUNTS: &[&[u8]] = &[b"\x84\x7f\xff\xff\xff", b"\x88\xff\xff\xff\xff\xff\xff\xff\xff", b"\x83\x01\x00\x00", b"4294967296", b"18446744073709551616"];

const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\r\n ",
    b"\n--",
    b"--",
    b"=?",
    b"?=",
    b"=?utf-8?q?",
    b"=?UTF-8?B?",
    b"*0*=utf-8''",
    b";p*0=x",
    b"boundary=",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"(",
    b")",
    b"\"",
    b"\\",
    b"<a@b>,",
    b"group:",
    b"=\r\n",
    b"%E4",
    b"\x30\x80",
    b"\x24\x80",
    b"\x00\x00",
    b"\x84\xff\xff\xff\xff",
    b"\x1f\xff\xff\xff\xff\x7f",
    b"\x06\x03\x55\x04\x03",
    b"\x31\x0c\x30\x0a\x06\x03\x55\x04\x03\x0c\x03abc",
    b"{\"id\":1,\"op\":\"hello\",\"params\":{}}",
    b"99999999999999999999",
    b"-9223372036854775808",
];

/// One mutation of `input`, using `others` for splices.
fn mutate(rng: &mut Rng, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(8) {
            // Flip a few bits.
            0 if !out.is_empty() => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(out.len());
                    out[i] ^= 1 << rng.below(8);
                }
            }
            // Set a byte to an interesting value.
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = *rng.pick(INTERESTING_BYTES);
            }
            // Truncate.
            2 if !out.is_empty() => out.truncate(rng.below(out.len())),
            // Splice in a slice of another seed.
            3 => {
                let other = rng.pick(others);
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = a + rng.below(other.len() - a + 1);
                    let at = rng.below(out.len() + 1);
                    let end = at + rng.below(out.len() - at + 1);
                    out.splice(at..end, other[a..b].iter().copied());
                }
            }
            // Repeat a slice of the input many times, in place.
            4 if !out.is_empty() => {
                let a = rng.below(out.len());
                let b = (a + 1 + rng.below(16)).min(out.len());
                let slice = out[a..b].to_vec();
                let times = 1 + rng.below(MAX_LEN / slice.len());
                let repeated = slice.repeat(times);
                out.splice(a..a, repeated);
            }
            // Insert a token, possibly many times.
            5 => {
                let token = *rng.pick(TOKENS);
                let times = if rng.below(2) == 0 { 1 } else { 1 + rng.below(MAX_LEN / token.len()) };
                let at = rng.below(out.len() + 1);
                out.splice(at..at, token.repeat(times));
            }
            // A large count: a long-form DER length or a long number.
            6 => {
                let at = rng.below(out.len() + 1);
                let big: &[u8] = *rng.pick(LARGE_COUNTS);
                let end = (at + rng.below(6)).min(out.len());
                out.splice(at..end, big.iter().copied());
            }
            // Duplicate the whole input (nesting and repetition at the top level).
            _ => {
                let copy = out.clone();
                out.extend_from_slice(&copy);
            }
        }
        out.truncate(MAX_LEN);
    }
    out
}

fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    files.sort();
    files
}

/// Certificates and CMS structures made with OpenSSL from a throw-away CA: the real shapes the
/// DER readers see, without the vector generators' tools.
fn made_seeds() -> Vec<Vec<u8>> {
    let ca = Ca::new("Fuzz Seed CA");
    let key = common::certgen::ec_key();
    let cert = Leaf::for_address("alice@example.org").issue(&ca, Some(&key));
    let rsa = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let rsa_cert = Leaf::for_address("bob@example.org").issue(&ca, Some(&rsa));
    let content = b"Content-Type: text/plain\r\n\r\nhello\r\n";
    let mut chain = Stack::new().unwrap();
    chain.push(ca.cert.clone()).unwrap();
    let opaque = CmsContentInfo::sign(Some(&cert), Some(&key), Some(&chain), Some(content), CMSOptions::BINARY).unwrap();
    let detached =
        CmsContentInfo::sign(Some(&cert), Some(&key), None, Some(content), CMSOptions::BINARY | CMSOptions::DETACHED).unwrap();
    let mut recipients = Stack::new().unwrap();
    recipients.push(rsa_cert.clone()).unwrap();
    let enveloped =
        CmsContentInfo::encrypt(&recipients, content, openssl::symm::Cipher::aes_256_cbc(), CMSOptions::BINARY).unwrap();
    let detached_der = detached.to_der().unwrap();
    let opaque_der = opaque.to_der().unwrap();
    let b64 = |d: &[u8]| {
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d);
        text.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n")
    };
    let multipart_signed = format!(
        "From: Alice <alice@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"sig\"\r\n\r\n\
         --sig\r\n{}\r\n--sig\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--sig--\r\n",
        String::from_utf8_lossy(content).trim_end(),
        b64(&detached_der)
    );
    let opaque_message = format!(
        "From: alice@example.org\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(&opaque_der)
    );
    vec![
        cert.to_der().unwrap(),
        rsa_cert.to_der().unwrap(),
        ca.cert.to_der().unwrap(),
        cert.subject_name().to_der().unwrap(),
        opaque_der,
        detached_der,
        enveloped.to_der().unwrap(),
        multipart_signed.into_bytes(),
        opaque_message.into_bytes(),
    ]
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Saves a failing input under target/parsers-random/ and returns its path.
fn save(name: &str, input: &[u8]) -> PathBuf {
    let dir = repo_path("target/parsers-random");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}-{}", common::sha256_hex(input).get(..16).unwrap_or("x")));
    std::fs::write(&file, input).unwrap();
    file
}

/// Runs `target` on `input`: no panic, and within the blow-up limit. A failing input is saved.
/// An input still running after `HANG_LIMIT` (a hang, or memory growing without bound) ends
/// the whole test process, after saving the input and saying so: a thread cannot be stopped.
fn check(name: &str, target: fn(&[u8]), input: &[u8], what: &str) {
    let started = thread_cpu_time();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let outcome = std::thread::scope(|scope| {
        scope.spawn(move || {
            if finished.recv_timeout(HANG_LIMIT).is_err() {
                let file = save(name, input);
                // Straight to stderr: the test harness's capture would be lost with the process.
                let _ = writeln!(
                    std::io::stderr(),
                    "{name}: {what} still running after {HANG_LIMIT:?}; input of {} bytes saved to {}",
                    input.len(),
                    file.display()
                );
                std::process::abort();
            }
        });
        let outcome = catch_unwind(AssertUnwindSafe(|| target(input)));
        let _ = done.send(());
        outcome
    });
    let elapsed = thread_cpu_time() - started;
    if outcome.is_ok() && elapsed <= BLOW_UP_LIMIT {
        return;
    }
    let file = save(name, input);
    match outcome {
        Err(_) => panic!("{name}: {what} panicked (input of {} bytes saved to {})", input.len(), file.display()),
        Ok(()) => panic!(
            "{name}: {what} took {elapsed:?} of CPU time, over the blow-up limit of {BLOW_UP_LIMIT:?} (input of {} bytes saved to {})",
            input.len(),
            file.display()
        ),
    }
}

/// Every seed and regression input of `name`, then `rounds` mutations of them.
fn run(name: &str) {
    let target = targets::TARGETS.iter().find(|(n, _)| *n == name).unwrap().1;
    let fuzz = repo_path("tests/fuzz");
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for dir in ["seeds", "regressions"] {
        for (path, data) in files_in(&fuzz.join(dir).join(name)) {
            check(name, target, &data, &format!("{}", path.display()));
            seeds.push(data);
        }
    }
    // The made seeds serve every target: DER readers get messages too, and the reverse.
    for data in made_seeds_cached() {
        check(name, target, data, "a made seed");
        seeds.push(data.clone());
    }
    // Another target's seeds for splicing (headers into messages, names into certificates).
    let others: Vec<Vec<u8>> = targets::TARGETS
        .iter()
        .flat_map(|(n, _)| files_in(&fuzz.join("seeds").join(n)))
        .map(|(_, d)| d)
        .chain(seeds.iter().cloned())
        .collect();
    let seed = env_number("PARSERS_RANDOM_SEED", 0x5eed) ^ name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let rounds = env_number("PARSERS_RANDOM_ROUNDS", 300);
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let input = {
            let base = rng.pick(&seeds).clone();
            mutate(&mut rng, &base, &others)
        };
        check(name, target, &input, &format!("round {round} (seed {seed:#x})"));
    }
}

fn made_seeds_cached() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(made_seeds)
}

#[test]
fn the_ber_reader_survives_random_input() {
    run("asn1");
}

#[test]
fn the_cms_readers_survive_random_input() {
    run("cms_der");
}

#[test]
fn the_certificate_readers_survive_random_input() {
    run("x509");
}

#[test]
fn the_mime_parser_survives_random_input() {
    run("mime");
}

#[test]
fn the_header_parsers_survive_random_input() {
    run("header");
}

#[test]
fn the_address_parsers_survive_random_input() {
    run("address");
}

#[test]
fn the_date_parsers_survive_random_input() {
    run("time");
}

#[test]
fn the_protocol_readers_survive_random_input() {
    run("envelope");
}

#[test]
fn inspect_survives_random_input() {
    run("inspect");
}

/// The generator itself: the same seed gives the same inputs, and mutations stay within the
/// size the campaigns use.
#[test]
fn the_mutations_are_reproducible_and_bounded() {
    let seeds = vec![b"Content-Type: text/plain\r\n\r\nx".to_vec(), vec![0x30, 0x03, 0x02, 0x01, 0x05]];
    let run = |seed| {
        let mut rng = Rng(seed);
        (0..200).map(|i| mutate(&mut rng, &seeds[i % 2], &seeds)).collect::<Vec<_>>()
    };
    let first = run(7);
    assert_eq!(first, run(7));
    assert_ne!(first, run(8));
    assert!(first.iter().all(|m| m.len() <= MAX_LEN));
    assert!(first.iter().any(|m| m.len() > 10_000), "some mutations repeat a slice many times");
}

/// The fuzz crate, the shared target functions and docs/FUZZING.md name the same targets: one
/// binary per function, each calling it, each documented.
#[test]
fn every_parser_function_is_a_fuzz_target_and_documented() {
    let manifest = std::fs::read_to_string(repo_path("tests/fuzz/Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| section.lines().find_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"')))
        .collect();
    bins.sort();
    let mut names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    names.sort();
    assert_eq!(bins, names, "tests/fuzz/Cargo.toml [[bin]] vs tests/fuzz/targets.rs TARGETS");
    let doc = std::fs::read_to_string(repo_path("docs/FUZZING.md")).unwrap();
    for name in names {
        let source = std::fs::read_to_string(repo_path(&format!("tests/fuzz/fuzz_targets/{name}.rs"))).unwrap();
        assert!(source.contains(&format!("targets::{name}(data)")), "fuzz_targets/{name}.rs calls targets::{name}");
        assert!(doc.contains(&format!("| `{name}` |")), "docs/FUZZING.md has a row for `{name}`");
    }
}
