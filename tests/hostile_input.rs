//! Hostile messages and requests: each used to hang the host for seconds to minutes, or to
//! crash it. Through the CLI (`inspect FILE --json`) every one must end with a verdict and
//! exit status 0; through the native path, with an ordinary error reply.
//!
//! The inputs that once took quadratic time must also finish within `BLOW_UP_LIMIT`, measured
//! around the CLI run, so a reintroduced blow-up fails instead of passing slowly. The limit is
//! generous, no performance bound: the inputs are sized so the quadratic code took 20 s to
//! 84 s, while the linear code takes under two seconds (all six tests together) in a debug
//! build on a busy machine.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// A blow-up catcher (see the module comment), not a performance bound.
const BLOW_UP_LIMIT: Duration = Duration::from_secs(10);

/// `inspect`, which must finish within `BLOW_UP_LIMIT`.
fn inspect_within_limit(home: &Path, message: &[u8], what: &str) -> Value {
    let started = Instant::now();
    let verdict = inspect(home, message);
    let took = started.elapsed();
    assert!(took < BLOW_UP_LIMIT, "{what}: inspect took {took:?}, over the blow-up limit of {BLOW_UP_LIMIT:?}");
    verdict
}

/// Inspects `message` through the CLI and returns the JSON verdict; the exit status must be 0.
fn inspect(home: &Path, message: &[u8]) -> Value {
    let file = home.join("hostile.eml");
    std::fs::write(&file, message).unwrap();
    let (code, out, err) = cli(home, &["inspect", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "stderr: {err}");
    let verdict: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {}", &out[..out.len().min(500)]));
    assert!(verdict["signature"]["state"].is_string(), "{}", &out[..out.len().min(500)]);
    verdict
}

fn plain_message(headers: &str) -> Vec<u8> {
    format!("MIME-Version: 1.0\r\n{headers}\r\nSubject: hi\r\n\r\nhello\r\n").into_bytes()
}

/// A From display name of 600 KB of `=?x`: every `=?` failed to decode after a search to the
/// end of the text (84 s).
#[test]
fn a_from_full_of_broken_encoded_words() {
    let home = temp_home();
    inspect_within_limit(home.path(), &plain_message(&format!("From: {} <a@x.org>", "=?x".repeat(200_000))), "=?x");
    inspect_within_limit(home.path(), &plain_message(&format!("From: \"{}?=\" <a@x.org>", "=?a?b?!".repeat(100_000))), "=?a?b?!");
}

/// A Content-Type of `;pN*0=x` parameters: each RFC 2231 section root was looked up in the list
/// of all parameters (7.7 s for 100,000 sections, 0.9 MB; twice as many here, for 30 s).
#[test]
fn a_content_type_with_two_hundred_thousand_parameter_sections() {
    let home = temp_home();
    let params: String = (0..200_000).map(|i| format!(";p{i}*0=x")).collect();
    inspect_within_limit(home.path(), &plain_message(&format!("From: a@x.org\r\nContent-Type: text/plain{params}")), "parameters");
}

/// Dates that crashed the parser: a month of non-ASCII letters (sliced inside a character),
/// a year that overflowed.
#[test]
fn dates_that_crashed_the_parser() {
    let home = temp_home();
    let verdict = inspect(home.path(), &plain_message("From: a@x.org\r\nDate: Fri, 27 Nov 2026 10:00:00 +0100"));
    assert_eq!(verdict["message"]["date"], "2026-11-27T09:00:00Z");
    for date in ["27 ää 2026 10:00:00", "Fri, 27 €uro 2026 10:00:00 +0100", "1 Jan 999999999999 00:00:00", "1 Jan -9223372036854775808 00:00:00"] {
        let verdict = inspect(home.path(), &plain_message(&format!("From: a@x.org\r\nDate: {date}")));
        assert_eq!(verdict["message"]["date"], Value::Null, "{date}");
    }
}

/// An `at` time with a non-ASCII zone offset crashed the RFC 3339 parser: now a usage error
/// (CLI) or `bad_time` (native path).
#[test]
fn an_at_time_with_a_non_ascii_offset() {
    let home = temp_home();
    let file = home.path().join("plain.eml");
    std::fs::write(&file, plain_message("From: a@x.org")).unwrap();
    let (code, _, err) = cli(home.path(), &["inspect", file.to_str().unwrap(), "--json", "--at", "2026-11-27T10:00:00+€00"]);
    assert_eq!(code, 2, "{err}");
    let mut host = Host::start(home.path());
    let r = host.call(json!(1), "inspect_message", json!({"message_b64": b64(b"x"), "at": "2026-11-27T10:00:00+€00"}));
    assert_eq!(r["error"]["code"], "bad_time", "{r}");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

/// Opaque signed data (no certificates) whose one SignerInfo names its signer by an issuer
/// with a common name of `cn_chars` characters.
fn signed_data_with_issuer_cn(cn_chars: usize) -> Vec<u8> {
    let oid = |o: &[u8]| der(0x06, o);
    let int1 = der(0x02, &[1]);
    let sha256 = seq(&[oid(OID_SHA256)]);
    let issuer = seq(&[der(0x31, &seq(&[oid(OID_CN), der(0x0c, "a".repeat(cn_chars).as_bytes())]))]);
    let signer_info = seq(&[
        int1.clone(),
        seq(&[issuer, int1.clone()]),
        sha256.clone(),
        seq(&[oid(OID_RSA), der(0x05, &[])]),
        der(0x04, &[0x5a; 256]),
    ]);
    let encap = seq(&[oid(OID_DATA), der(0xa0, &der(0x04, b"hello"))]);
    let signed_data = seq(&[int1, der(0x31, &sha256), encap, der(0x31, &signer_info)]);
    seq(&[oid(OID_SIGNED_DATA), der(0xa0, &signed_data)])
}

/// A SignerInfo whose issuer has a 640 KB common name: writing it as an RFC 4514 string
/// counted its characters once per character (20 s).
#[test]
fn a_signer_info_with_a_huge_issuer_name() {
    let home = temp_home();
    let body = b64(&signed_data_with_issuer_cn(640 * 1024));
    let lines: Vec<&str> = body.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let message = format!(
        "MIME-Version: 1.0\r\nFrom: a@x.org\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        lines.join("\r\n")
    );
    inspect_within_limit(home.path(), message.as_bytes(), "issuer name");
}

/// An op name of 1 MiB was echoed whole in `invalid_params` replies; it is now refused as an
/// `invalid_request`, answered to the request's id, with a short reply.
#[test]
fn an_over_long_op_name() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let op = "x".repeat(1 << 20);
    host.send(&json!({"id": 7, "op": op, "params": []}));
    let frame = host.recv_frame().unwrap();
    assert!(frame.len() < 1000, "{} bytes", frame.len());
    let r: Value = serde_json::from_slice(&frame).unwrap();
    assert_eq!((r["id"].clone(), r["error"]["code"].clone()), (json!(7), json!("invalid_request")), "{r}");
    let r = host.call(json!(8), "hello", json!({}));
    assert_eq!(r["ok"], true, "{r}");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}
