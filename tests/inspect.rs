//! `inspect_message` through the native-messaging path and `inspect` through the CLI: payload
//! forms (inline, transfer), returned content, trust anchors added with `trust`, and the exit
//! status rules.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const AT: &str = "2027-01-01T00:00:00Z";

fn data() -> (PathBuf, PathBuf) {
    let (pki, vectors) = (repo_path("target/test-data/pki"), repo_path("target/test-data/vectors"));
    let status = Command::new(repo_path("tests/vectors/make-vectors.sh")).arg(&pki).arg(&vectors).status().unwrap();
    assert!(status.success());
    (pki, vectors)
}

fn trust_root(home: &Path, pki: &Path) {
    let (code, out, err) = cli(home, &["trust", "add", pki.join("root.pem").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("trusted "), "{out}");
}

fn inspect_op(host: &mut Host, params: Value) -> Value {
    host.ok("inspect_message", params)
}

#[test]
fn inline_and_transfer_give_the_same_verdict_and_content_comes_back() {
    let (pki, vectors) = data();
    let home = temp_home();
    trust_root(home.path(), &pki);
    let message = std::fs::read(vectors.join("openssl-detached-sha256.eml")).unwrap();
    let mut host = Host::start(home.path());
    let inline = inspect_op(&mut host, json!({"message_b64": b64(&message), "at": AT, "return_content": true}));
    assert_eq!(inline["signature"]["state"], "valid");
    assert_eq!(inline["signature"]["signer"]["emails"], json!(["alice@example.org"]));
    assert_eq!(inline["signature"]["layers"][0]["signers"][0]["anchor"], "user");
    let content = base64_decode(inline["content"]["mime_b64"].as_str().unwrap());
    assert!(String::from_utf8_lossy(&content).contains("openssl-detached-sha256"));
    let id = host.upload(&message, 1000);
    let via_transfer = inspect_op(&mut host, json!({"transfer": id, "at": AT}));
    assert_eq!(via_transfer["signature"], inline["signature"]);
    assert!(via_transfer["content"].get("mime_b64").is_none());
    // A transfer is consumed by the op that uses it.
    let again = host.call(json!(9), "inspect_message", json!({"transfer": id}));
    assert_eq!(again["error"]["code"], "unknown_transfer");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// Bytes as a binary string, one character per byte: how Thunderbird hands an add-on a raw
/// message (`getRaw` with `data_format: "BinaryString"`), and how the add-on sends it.
fn binary_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[test]
fn a_binary_string_gets_the_verdict_its_bytes_get_in_base64_inline_and_in_chunks() {
    let (pki, vectors) = data();
    let home = temp_home();
    trust_root(home.path(), &pki);
    let mut host = Host::start(home.path());
    for name in ["openssl-detached-sha256.eml", "openssl-detached-8bit-utf8.eml", "enc-aes256-cbc.eml"] {
        // Control characters and bytes from 0x80 in an unsigned header: JSON escapes the one and
        // spells the other in two bytes of UTF-8; each must come back as the byte it was.
        let mut message = b"X-Bytes: \x00\x01\x08\x0c\x1b\x7f\x80\xc3\xa9\xff\"\\/\t\r\n".to_vec();
        message.extend(std::fs::read(vectors.join(name)).unwrap());
        let by_b64 = inspect_op(&mut host, json!({"message_b64": b64(&message), "at": AT, "return_content": true}));
        let by_latin1 = inspect_op(&mut host, json!({"message_latin1": binary_string(&message), "at": AT, "return_content": true}));
        assert_eq!(by_latin1, by_b64, "{name}");
        assert_eq!(by_latin1["message"]["size_bytes"], message.len());
        // In chunks, as the add-on uploads a large message; one upload may mix the two forms.
        let begun = host.ok("transfer_begin", json!({"total_bytes": message.len(), "sha256": sha256_hex(&message)}));
        let id = begun["transfer_id"].as_str().unwrap().to_string();
        for (index, chunk) in message.chunks(700).enumerate() {
            let data = if index % 2 == 0 { json!({"data_latin1": binary_string(chunk)}) } else { json!({"data_b64": b64(chunk)}) };
            let mut params = json!({"transfer_id": id, "index": index});
            params.as_object_mut().unwrap().extend(data.as_object().unwrap().clone());
            host.ok("transfer_chunk", params);
        }
        host.ok("transfer_end", json!({"transfer_id": id}));
        let by_chunks = inspect_op(&mut host, json!({"transfer": id, "at": AT, "return_content": true}));
        assert_eq!(by_chunks, by_b64, "{name} in chunks");
    }
    // Params the quick scanner leaves to serde_json (an escaped key) read the same way.
    let message = std::fs::read(vectors.join("openssl-detached-sha256.eml")).unwrap();
    let frame = format!(r#"{{"id":1,"op":"inspect_message","params":{{"h\u0061rvest":false,"at":"{AT}","message_latin1":{}}}}}"#, serde_json::to_string(&binary_string(&message)).unwrap());
    host.send_frame(frame.as_bytes());
    let slow = host.recv();
    assert_eq!(slow["result"]["signature"]["state"], "valid", "{slow}");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn a_named_transfer_can_be_sent_whole_with_its_op_before_any_answer() {
    let (pki, vectors) = data();
    let home = temp_home();
    trust_root(home.path(), &pki);
    let message = std::fs::read(vectors.join("openssl-detached-sha256.eml")).unwrap();
    let mut host = Host::start(home.path());
    // Everything at once, as the add-on sends a large message; the answers come in order.
    let mut requests = vec![json!({"id": 1, "op": "transfer_begin", "params": {"total_bytes": message.len(), "transfer_id": "a1"}})];
    for (index, chunk) in message.chunks(500).enumerate() {
        requests.push(json!({"id": 2 + index, "op": "transfer_chunk", "params": {"transfer_id": "a1", "index": index, "data_latin1": binary_string(chunk)}}));
    }
    requests.push(json!({"id": "end", "op": "transfer_end", "params": {"transfer_id": "a1"}}));
    requests.push(json!({"id": "op", "op": "inspect_message", "params": {"transfer": "a1", "at": AT}}));
    for r in &requests {
        host.send(r);
    }
    let replies: Vec<Value> = requests.iter().map(|_| host.recv()).collect();
    assert_eq!(replies[0]["result"]["transfer_id"], "a1", "{}", replies[0]);
    assert!(replies.iter().all(|r| r["ok"] == true), "{replies:?}");
    assert_eq!(replies.last().unwrap()["result"]["signature"]["state"], "valid");
    // A name in use is refused; a failed begin makes what follows it fail, and the session goes on.
    host.ok("transfer_begin", json!({"total_bytes": 1, "transfer_id": "b1"}));
    let again = host.call(json!(3), "transfer_begin", json!({"total_bytes": 1, "transfer_id": "b1"}));
    assert_eq!(again["error"]["code"], "invalid_params", "{again}");
    let failing = [
        json!({"id": 4, "op": "transfer_begin", "params": {"total_bytes": 1u64 << 40, "transfer_id": "c1"}}),
        json!({"id": 5, "op": "transfer_chunk", "params": {"transfer_id": "c1", "index": 0, "data_latin1": "x"}}),
        json!({"id": 6, "op": "transfer_end", "params": {"transfer_id": "c1"}}),
        json!({"id": 7, "op": "inspect_message", "params": {"transfer": "c1"}}),
    ];
    for r in &failing {
        host.send(r);
    }
    let codes: Vec<Value> = failing.iter().map(|_| host.recv()["error"]["code"].clone()).collect();
    assert_eq!(codes, [json!("transfer_too_large"), json!("unknown_transfer"), json!("unknown_transfer"), json!("unknown_transfer")]);
    assert_eq!(host.ok("ping", json!({}))["pong"], true);
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn a_binary_string_with_a_character_above_a_byte_or_two_payloads_are_invalid_params() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    for params in [
        json!({"message_latin1": "Subject: 5 \u{20ac}\r\n\r\n"}),
        json!({"message_latin1": "x", "message_b64": "eA=="}),
        json!({"message_latin1": "x", "transfer": "t1"}),
        json!({}),
    ] {
        let r = host.call(json!(1), "inspect_message", params.clone());
        assert_eq!(r["error"]["code"], "invalid_params", "{params}: {r}");
    }
    let begun = host.ok("transfer_begin", json!({"total_bytes": 3}));
    let id = begun["transfer_id"].as_str().unwrap();
    for params in [json!({"transfer_id": id, "index": 0, "data_latin1": "\u{100}"}), json!({"transfer_id": id, "index": 0})] {
        let r = host.call(json!(2), "transfer_chunk", params.clone());
        assert_eq!(r["error"]["code"], "invalid_params", "{params}: {r}");
    }
    // An escaped slash, which some encoders write, still reads as base64.
    host.send_frame(format!(r#"{{"id":3,"op":"transfer_chunk","params":{{"transfer_id":"{id}","index":0,"data_b64":"YW\/h"}}}}"#).as_bytes());
    assert_eq!(host.recv()["result"]["received_bytes"], 3);
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn large_decrypted_content_returns_through_chunk_frames() {
    let (pki, _) = data();
    let home = temp_home();
    // 3 MiB of text encrypted to alice: the CLI decrypts it with a key for this call only and
    // writes the content out; over the wire, the same size comes back in chunk frames.
    let body: String = (0..60_000).map(|i| format!("line {i:06} of a large encrypted message\r\n")).collect();
    let plain = format!("Content-Type: text/plain\r\n\r\n{body}");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, &plain).unwrap();
    let out = dir.path().join("enc.eml");
    let status = Command::new("openssl")
        .args(["cms", "-encrypt", "-aes256", "-in"])
        .arg(&input)
        .arg("-out")
        .arg(&out)
        .arg(pki.join("users/alice.pem"))
        .status()
        .unwrap();
    assert!(status.success());
    let content = dir.path().join("content.out");
    let (code, stdout, err) = cli(
        home.path(),
        &[
            "inspect", out.to_str().unwrap(), "--json", "--p12", pki.join("users/alice.p12").to_str().unwrap(),
            "--password-file", pki.join("password.txt").to_str().unwrap(), "--content", content.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["encryption"]["state"], "decrypted");
    assert_eq!(std::fs::read(&content).unwrap(), plain.as_bytes());

    // Over the wire: a 3 MiB plain message with return_content comes back chunked and whole.
    let mut host = Host::start(home.path());
    let result = inspect_op(&mut host, json!({"message_b64": b64(plain.as_bytes()), "return_content": true}));
    assert_eq!(base64_decode(result["content"]["mime_b64"].as_str().unwrap()), plain.as_bytes());
    assert_eq!(result["signature"]["state"], "none");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn a_signed_part_is_judged_the_same_whatever_line_endings_the_message_has_elsewhere() {
    // A message without bare LF needs no second look for one in its parts; one with a bare LF
    // anywhere gets it. Each form must give the verdict of the canonical message.
    let (pki, vectors) = data();
    let home = temp_home();
    trust_root(home.path(), &pki);
    let crlf = std::fs::read(vectors.join("openssl-detached-sha256.eml")).unwrap();
    let text = String::from_utf8(crlf.clone()).unwrap();
    let lf = text.replace("\r\n", "\n");
    let in_headers = text.replacen("\r\n", "\n", 1);
    let in_signed_part = text.replacen("Hello Bob,\r\n", "Hello Bob,\n", 1);
    assert_ne!(in_signed_part, text);
    // As openssl writes the signature part's base64: after the signed part, as long as it lasts.
    let (before, after) = text.split_at(text.rfind("Content-Type: application/").unwrap());
    let in_signature_part = format!("{before}{}", after.replace("\r\n", "\n"));
    let mut host = Host::start(home.path());
    let judge = |host: &mut Host, message: &[u8]| inspect_op(host, json!({"message_latin1": binary_string(message), "at": AT, "return_content": true}));
    let canonical = judge(&mut host, &crlf);
    assert_eq!(canonical["signature"]["state"], "valid", "{canonical}");
    assert_eq!(canonical["message"]["line_endings"], "crlf");
    let forms = [("lf", lf, "lf"), ("in_headers", in_headers, "mixed"), ("in_signed_part", in_signed_part, "mixed"), ("in_signature_part", in_signature_part, "mixed")];
    for (name, form, endings) in forms {
        let got = judge(&mut host, form.as_bytes());
        assert_eq!(got["message"]["line_endings"], endings, "{name}");
        assert_eq!(got["signature"], canonical["signature"], "{name}");
        assert_eq!(got["content"], canonical["content"], "{name}: the canonical content, and its size");
    }
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn bad_inputs_get_clear_codes_and_garbage_is_simply_not_signed() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let r = host.call(json!(1), "inspect_message", json!({}));
    assert_eq!(r["error"]["code"], "invalid_params");
    let r = host.call(json!(2), "inspect_message", json!({"message_b64": "!!"}));
    assert_eq!(r["error"]["code"], "invalid_base64");
    let r = host.call(json!(3), "inspect_message", json!({"message_b64": "", "at": "yesterday"}));
    assert_eq!(r["error"]["code"], "bad_time");
    let garbage = host.ok("inspect_message", json!({"message_b64": b64(b"\x00\xff garbage \r\n\r\n--")}));
    assert_eq!((garbage["signature"]["state"].clone(), garbage["encryption"]["state"].clone()), (json!("none"), json!("none")));
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

#[test]
fn cli_exit_status_is_zero_for_any_verdict_and_nonzero_for_io_and_usage() {
    let (_, vectors) = data();
    let home = temp_home();
    let altered = vectors.join("altered-detached-text.eml");
    let (code, out, _) = cli(home.path(), &["inspect", altered.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("content_altered"), "{out}");
    let (code, _, err) = cli(home.path(), &["inspect", "/nonexistent/mail.eml"]);
    assert_eq!(code, 3);
    assert!(err.contains("io_error"), "{err}");
    let (code, _, _) = cli(home.path(), &["inspect"]);
    assert_eq!(code, 2);
    let (code, _, _) = cli(home.path(), &["inspect", altered.to_str().unwrap(), "--at", "soon"]);
    assert_eq!(code, 2);
}

/// A 256 MiB multipart/signed message (the largest the read path promises): verified whole
/// through the CLI and through the native path (uploaded in chunk frames), and one changed byte
/// in its middle is found.
#[test]
fn messages_of_256_mib_are_verified_whole() {
    let (pki, _) = data();
    let home = temp_home();
    trust_root(home.path(), &pki);
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content.txt");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&content).unwrap());
        f.write_all(b"Content-Type: text/plain; charset=us-ascii\r\n\r\n").unwrap();
        let line = [b"x".repeat(74), b"\r\n".to_vec()].concat();
        for _ in 0..(256 << 20) / line.len() {
            f.write_all(&line).unwrap();
        }
    }
    let part = dir.path().join("signed.part");
    let p = |name: &str| pki.join(name).to_str().unwrap().to_string();
    let status = Command::new("openssl")
        .args(["cms", "-sign", "-binary", "-in", content.to_str().unwrap(), "-signer", &p("users/alice.pem"), "-inkey", &p("users/alice.key")])
        .args(["-certfile", &p("intermediate.pem"), "-out", part.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut message = b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: large\r\n".to_vec();
    message.extend_from_slice(&std::fs::read(&part).unwrap());
    drop(std::fs::remove_file(&content));
    assert!(message.len() >= 256 << 20, "{} bytes", message.len());
    let eml = dir.path().join("large.eml");
    std::fs::write(&eml, &message).unwrap();

    let verdict = |home: &Path, eml: &Path| {
        let (code, out, err) = cli(home, &["inspect", eml.to_str().unwrap(), "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()["signature"]["state"].clone()
    };
    assert_eq!(verdict(home.path(), &eml), "valid");

    let mut host = Host::start(home.path());
    let id = host.upload(&message, 32 << 20);
    let v = inspect_op(&mut host, json!({"transfer": id}));
    assert_eq!(v["signature"]["state"], "valid");
    assert!(host.finish(Duration::from_secs(30)).0.success());

    let middle = message.len() / 2;
    message[middle] = b'y';
    std::fs::write(&eml, &message).unwrap();
    assert_eq!(verdict(home.path(), &eml), "content_altered");
}

#[test]
fn trust_anchors_added_listed_and_removed_change_the_verdict() {
    let (pki, vectors) = data();
    let home = temp_home();
    let msg = vectors.join("openssl-detached-sha256.eml");
    let state = |home: &Path| {
        let (_, out, _) = cli(home, &["inspect", msg.to_str().unwrap(), "--json", "--at", AT]);
        serde_json::from_str::<Value>(&out).unwrap()["signature"]["state"].clone()
    };
    assert_eq!(state(home.path()), "untrusted");
    trust_root(home.path(), &pki);
    assert_eq!(state(home.path()), "valid");
    let (_, out, _) = cli(home.path(), &["trust", "list", "--json"]);
    let listing: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listing["anchors"][0]["source"], "user");
    let fp = listing["anchors"][0]["certificate"]["fingerprint_sha256"].as_str().unwrap().to_string();
    let (code, out, _) = cli(home.path(), &["trust", "remove", &fp[..16]]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(state(home.path()), "untrusted");
    let (code, _, err) = cli(home.path(), &["trust", "add", vectors.join("expected.json").to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(err.contains("bad_certificate"), "{err}");

    // The same through the native ops, and a CRL stored locally revokes without a network.
    // The session keeps its trust store between messages, yet sees every change at once.
    let mut host = Host::start(home.path());
    let message = std::fs::read(&msg).unwrap();
    let session_state = |host: &mut Host| host.ok("inspect_message", json!({"message_b64": b64(&message), "at": AT}))["signature"]["state"].clone();
    assert_eq!(session_state(&mut host), "untrusted");
    let root = std::fs::read(pki.join("root.pem")).unwrap();
    host.ok("trust_add", json!({"data_b64": b64(&root)}));
    assert_eq!(session_state(&mut host), "valid", "an anchor added in this session");
    let fp = host.ok("trust_list", json!({}))["anchors"][0]["certificate"]["fingerprint_sha256"].as_str().unwrap().to_string();
    assert_eq!(cli(home.path(), &["trust", "remove", &fp[..16]]).0, 0);
    assert_eq!(session_state(&mut host), "untrusted", "an anchor removed by another process");
    trust_root(home.path(), &pki);
    assert_eq!(session_state(&mut host), "valid", "an anchor added by another process");
    let crl = std::fs::read(pki.join("crl/intermediate.crl.pem")).unwrap();
    assert_eq!(host.ok("trust_add", json!({"data_b64": b64(&crl)}))["crls"], 1);
    assert_eq!(host.ok("trust_list", json!({}))["crls"], 1);
    let revoked = std::fs::read(vectors.join("revoked-rupert-crl-passed.eml")).unwrap();
    let v = host.ok("inspect_message", json!({"message_b64": b64(&revoked), "at": AT}));
    assert_eq!(v["signature"]["state"], "revoked");
    let r = host.call(json!(1), "trust_remove", json!({"fingerprint": "00000000"}));
    assert_eq!(r["error"]["code"], "not_found");
    assert!(host.finish(Duration::from_secs(10)).0.success());
}

/// The IT folder of anchors is honoured.
#[test]
fn system_anchor_folder_is_trusted_as_it() {
    let (pki, vectors) = data();
    let home = temp_home();
    let it = home.path().join("it-anchors");
    std::fs::create_dir_all(&it).unwrap();
    std::fs::copy(pki.join("root.pem"), it.join("company-root.pem")).unwrap();
    let out = Command::new(BIN)
        .args(["inspect", vectors.join("openssl-detached-sha256.eml").to_str().unwrap(), "--json", "--at", AT])
        .env("SMIME_COMPANION_HOME", home.path())
        .env("SMIME_COMPANION_SYSTEM_ANCHORS", &it)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature"]["state"], "valid");
    assert_eq!(v["signature"]["layers"][0]["signers"][0]["anchor"], "it");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap()
}
