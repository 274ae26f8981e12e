//! Hostile messages and requests: each used to hang the host for seconds to minutes, or to
//! crash it. Through the CLI (`inspect FILE --json`) every one must end with a verdict and
//! exit status 0; through the native path, with an ordinary error reply. Where the harm was
//! time growing faster than the input (the blow-ups took 8 s to 84 s), the message is inspected
//! at two sizes, n and 4n, and the larger may cost at most about four times the CPU time of the
//! smaller (common::growth): a reintroduced quadratic loop costs sixteen times, on any machine,
//! however busy.

mod common;

use common::growth::{assert_linear, run_timed};
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Inspects `message` through the CLI and returns the JSON verdict; the exit status must be 0.
fn inspect(home: &Path, message: &[u8]) -> Value {
    inspect_timed(home, message).0
}

/// `inspect`, with the CPU time the program used.
fn inspect_timed(home: &Path, message: &[u8]) -> (Value, Duration) {
    let file = home.join("hostile.eml");
    std::fs::write(&file, message).unwrap();
    let (out_file, err_file) = (home.join("verdict.json"), home.join("stderr.txt"));
    let (status, cpu) = run_timed(
        Command::new(BIN)
            .args(["inspect", file.to_str().unwrap(), "--json"])
            .env("SMIME_COMPANION_HOME", home)
            .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("no-system-config.json"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_file).unwrap())
            .stderr(std::fs::File::create(&err_file).unwrap()),
    );
    let (out, err) = (std::fs::read_to_string(&out_file).unwrap(), std::fs::read_to_string(&err_file).unwrap());
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    let verdict: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {}", &out[..out.len().min(500)]));
    assert!(verdict["signature"]["state"].is_string(), "{}", &out[..out.len().min(500)]);
    (verdict, cpu)
}

/// Inspects `message(n)` and `message(4 * n)`, each verdict checked by `check(size, verdict)`,
/// and fails unless the CPU time grew linearly.
fn inspect_grows_linearly(what: &str, n: usize, message: impl Fn(usize) -> Vec<u8>, check: impl Fn(usize, &Value)) {
    let home = temp_home();
    assert_linear(what, n, |size| {
        let (verdict, cpu) = inspect_timed(home.path(), &message(size));
        check(size, &verdict);
        cpu
    });
}

fn plain_message(headers: &str) -> Vec<u8> {
    format!("MIME-Version: 1.0\r\n{headers}\r\nSubject: hi\r\n\r\nhello\r\n").into_bytes()
}

fn any_verdict(_: usize, _: &Value) {}

/// A From display name of up to 600 KB of `=?x`: every `=?` failed to decode after a search to
/// the end of the text (84 s).
#[test]
fn a_from_full_of_broken_encoded_words() {
    let words = |n: usize| plain_message(&format!("From: {} <a@x.org>", "=?x".repeat(n)));
    inspect_grows_linearly("=?x", 50_000, words, any_verdict);
    let quoted = |n: usize| plain_message(&format!("From: \"{}?=\" <a@x.org>", "=?a?b?!".repeat(n)));
    inspect_grows_linearly("=?a?b?!", 25_000, quoted, any_verdict);
}

/// A Content-Type of up to 3 MB of `;pN*0=x` parameters: each RFC 2231 section root was looked
/// up in the list of all parameters (7.7 s for 100,000 of them).
#[test]
fn a_content_type_with_three_hundred_thousand_parameter_sections() {
    let params = |n: usize| {
        let params: String = (0..n).map(|i| format!(";p{i}*0=x")).collect();
        plain_message(&format!("From: a@x.org\r\nContent-Type: text/plain{params}"))
    };
    inspect_grows_linearly("parameter sections", 75_000, params, any_verdict);
}

/// Header blocks that every reading of From must get through: up to 400,000 From lines split
/// by bare CRs, a From of 100,000 mailboxes in a group, and one of 200,000 `@`.
#[test]
fn from_headers_of_every_odd_shape() {
    let lines = |n: usize| plain_message(&"From: a@x.org\r".repeat(n));
    inspect_grows_linearly("From lines split by bare CRs", 100_000, lines, |n, v| assert_eq!(v["message"]["from_count"], n));
    let group = |n: usize| plain_message(&format!("From: g: {};", (0..n).map(|i| format!("\"n{i}\" <u{i}@x.org>, ")).collect::<String>()));
    inspect_grows_linearly("a group of mailboxes", 25_000, group, |_, v| assert_eq!(v["message"]["from"].as_array().unwrap().len(), 10));
    let ats = |n: usize| plain_message(&format!("From: {} <a@x.org>", "@".repeat(n)));
    inspect_grows_linearly("@ signs", 200_000, ats, any_verdict);
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

/// A SignerInfo whose issuer has a common name of up to 640 KB: writing it as an RFC 4514
/// string counted its characters once per character (20 s).
#[test]
fn a_signer_info_with_a_huge_issuer_name() {
    let message = |cn_chars: usize| {
        let body = b64(&signed_data_with_issuer_cn(cn_chars));
        let lines: Vec<&str> = body.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!(
            "MIME-Version: 1.0\r\nFrom: a@x.org\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            lines.join("\r\n")
        )
        .into_bytes()
    };
    inspect_grows_linearly("an issuer common name", 256 * 1024, message, any_verdict);
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

/// Thousands of encrypted parts side by side: the warnings list ten part numbers and count them
/// all, so the verdict stays small.
#[test]
fn thousands_of_encrypted_parts_are_counted_not_listed() {
    let home = temp_home();
    let part = "--b\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\r\nAAAA\r\n";
    let message = format!("From: a@x.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n{}--b--\r\n", part.repeat(5_000));
    let verdict = inspect(home.path(), message.as_bytes());
    for w in verdict["encryption"]["warnings"].as_array().unwrap() {
        assert_eq!((w["parts"].as_array().unwrap().len(), w["count"].as_u64()), (10, Some(5_000)), "{w}");
    }
    assert_eq!(verdict["encryption"]["warnings"].as_array().unwrap().len(), 2);
}
