//! The native-messaging protocol, end to end against the real binary started as Thunderbird
//! starts it: framing edges, envelope errors, chunked replies and uploads, pipelining, EOF,
//! the caller check, and a seeded random-frame run.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(10);
/// The largest reply body the host sends in one frame (1 MiB including the 4-byte header).
const MAX_BODY: usize = TB_MAX_READ - 4;

#[test]
fn answers_hello_and_ping_as_started_by_thunderbird() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let hello = host.ok("hello", json!({}));
    assert_eq!(hello["product"], "S/MIME Companion");
    assert_eq!(hello["protocol"], 1);
    assert_eq!(hello["addon_id"], addon_id());
    assert_eq!(hello["caller"], addon_id());
    assert_eq!(hello["limits"]["max_request_bytes"], 64 * 1024 * 1024);
    assert_eq!(hello["limits"]["max_transfer_bytes"], 512 * 1024 * 1024);
    let ops: Vec<&str> = hello["ops"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    for op in ["hello", "ping", "transfer_begin", "transfer_chunk", "transfer_end", "transfer_discard"] {
        assert!(ops.contains(&op), "hello lists {op}");
    }
    assert!(hello["ops"][0]["help"].as_str().unwrap().len() > 10);
    assert_eq!(host.ok("ping", json!({})), json!({"pong": true}));
    assert_eq!(host.ok("ping", json!({"echo": {"a": [1, "ü"]}})), json!({"pong": true, "echo": {"a": [1, "ü"]}}));
    let (status, rest) = host.finish(LIMIT);
    assert!(status.success(), "exit 0 on EOF, got {status}");
    assert!(rest.is_empty());
}

#[test]
fn a_timed_session_says_so_in_hello_and_adds_its_times_to_every_reply() {
    let home = temp_home();
    let mut cmd = thunderbird_command(home.path(), &addon_id());
    cmd.env("SMIME_COMPANION_TIMING", "1");
    let mut host = Host::spawn(cmd);
    let hello = host.call(json!(1), "hello", json!({}));
    assert_eq!(hello["result"]["timing"], true);
    for reply in [hello, host.call(json!(2), "frobnicate", json!({}))] {
        let timing = &reply["timing"];
        assert!(timing["read_ms"].as_f64().unwrap() >= 0.0 && timing["handle_ms"].as_f64().unwrap() >= 0.0, "{reply}");
        // The wall clock, in ms since 1970: after 2020 and not in the future.
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() * 1e3;
        let received = timing["received_at_ms"].as_f64().unwrap();
        assert!(received > 1.5e12 && received <= now_ms, "{reply}");
        assert_eq!(timing.as_object().unwrap().len(), 3, "{reply}");
    }
    assert!(host.finish(LIMIT).0.success());
    // Untimed, as usual: nothing added.
    let mut host = Host::start(home.path());
    let hello = host.call(json!(1), "hello", json!({}));
    assert_eq!(hello["result"]["timing"], false);
    assert!(hello.get("timing").is_none(), "{hello}");
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn unknown_op_and_malformed_json_do_not_end_the_session() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let reply = host.call(json!(1), "frobnicate", json!({}));
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"]["code"], "unknown_op");
    assert!(reply["error"]["message"].as_str().unwrap().contains("frobnicate"));
    host.send_frame(b"{\"id\": 2, \"op\": \"ping\"");
    let reply = host.recv();
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (Value::Null, json!("invalid_json")));
    assert_eq!(host.call(json!(3), "ping", json!({}))["ok"], true);
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn envelope_errors_get_stable_codes_and_the_session_goes_on() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let cases: &[(&[u8], &str)] = &[
        (b"", "invalid_json"),
        (b"\xff\xfe{}", "invalid_utf8"),
        (b"[1,2,3]", "invalid_request"),
        (b"\"just a string\"", "invalid_request"),
        (br#"{"op":"ping"}"#, "missing_id"),
        (br#"{"id":true,"op":"ping"}"#, "invalid_request"),
        (br#"{"id":5}"#, "invalid_request"),
        (br#"{"id":5,"op":"ping","params":"x"}"#, "invalid_params"),
        (br#"{"id":5,"op":"ping","params":{"bogus":1}}"#, "invalid_params"),
        (br#"{"id":5,"op":"transfer_begin","params":{"total_bytes":-1}}"#, "invalid_params"),
    ];
    for (body, code) in cases {
        host.send_frame(body);
        let reply = host.recv();
        assert_eq!(reply["ok"], false, "{}", String::from_utf8_lossy(body));
        assert_eq!(reply["error"]["code"], *code, "{}", String::from_utf8_lossy(body));
        assert!(reply["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(reply["error"]["details"].is_object());
    }
    assert_eq!(host.ok("ping", json!({"echo": 1}))["echo"], 1);
    assert!(host.finish(LIMIT).0.success());
}

/// The id's JSON text comes back byte for byte, in one-frame and chunked replies, successes and
/// errors. serde_json read a number beyond u64 as f64 (and wrote `1e3` as `1000.0`), so a reply
/// could carry another id than its request.
#[test]
fn the_reply_echoes_the_id_exactly_as_sent_even_beyond_two_to_the_53() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let big_echo = "e".repeat(TB_MAX_READ + 10);
    for id in ["9007199254740993", "18446744073709551616", "123456789012345678901234567890", "-12345678901234567890123", "1.0", "1e3", "-0", r#""caf\u00e9""#] {
        host.send_frame(format!(r#"{{"id":{id},"op":"ping"}}"#).as_bytes());
        let reply = String::from_utf8(host.recv_frame().unwrap()).unwrap();
        assert_eq!(reply, format!(r#"{{"id":{id},"ok":true,"result":{{"pong":true}}}}"#));
        host.send_frame(format!(r#"{{"id":{id},"op":"frobnicate"}}"#).as_bytes());
        let reply = String::from_utf8(host.recv_frame().unwrap()).unwrap();
        assert!(reply.starts_with(&format!(r#"{{"id":{id},"ok":false,"error":{{"code":"unknown_op""#)), "{reply}");
        // A reply too large for one frame: every chunk frame carries the id as sent.
        host.send_frame(format!(r#"{{"id":{id},"op":"ping","params":{{"echo":"{big_echo}"}}}}"#).as_bytes());
        let first = String::from_utf8(host.recv_frame().unwrap()).unwrap();
        assert!(first.starts_with(&format!(r#"{{"id":{id},"chunk":"#)), "{}", &first[..80]);
        let count = serde_json::from_str::<Value>(&first).unwrap()["chunk"]["count"].as_u64().unwrap();
        for _ in 1..count {
            let next = String::from_utf8(host.recv_frame().unwrap()).unwrap();
            assert!(next.starts_with(&format!(r#"{{"id":{id},"chunk":"#)), "{}", &next[..80]);
        }
    }
    assert!(host.finish(LIMIT).0.success());
}

/// `{"id":1,"id":2}` or a params object with a key twice has no one meaning (parsers disagree on
/// which value wins): refused at every level with `duplicate_key` and where it is, and the
/// session goes on. Before, the last value silently won wherever params are read as JSON values.
#[test]
fn a_key_given_twice_at_any_level_is_refused_and_the_session_goes_on() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let cases: &[(&str, Value, &str, &str)] = &[
        (r#"{"id":1,"id":2,"op":"ping"}"#, Value::Null, "$", "id"),
        (r#"{"id":7,"op":"ping","op":"hello"}"#, json!(7), "$", "op"),
        (r#"{"id":8,"op":"ping","params":{},"params":{"echo":1}}"#, json!(8), "$", "params"),
        (r#"{"id":9,"op":"ping","params":{"echo":1,"echo":2}}"#, json!(9), "$.params", "echo"),
        (r#"{"id":"n","op":"ping","params":{"echo":[0,{"a":{"b":1,"\u0062":2}}]}}"#, json!("n"), "$.params.echo[1].a", "b"),
        (r#"{"id":10,"op":"recipients_check","params":{"addresses":["a@example.org"],"addresses":["b@example.org"]}}"#, json!(10), "$.params", "addresses"),
    ];
    for (body, id, path, key) in cases {
        host.send_frame(body.as_bytes());
        let reply = host.recv();
        assert_eq!(reply["id"], *id, "{body}");
        assert_eq!(reply["ok"], false, "{body}");
        assert_eq!(reply["error"]["code"], "duplicate_key", "{body}: {reply}");
        assert_eq!(reply["error"]["details"], json!({"path": path, "key": key}), "{body}");
    }
    // The same key in different objects is no duplicate.
    assert_eq!(host.ok("ping", json!({"echo": {"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}}))["echo"]["b"][1]["a"], 2);
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn truncated_header_gets_an_error_reply_and_a_nonzero_exit() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    host.send_raw(&[7, 0]);
    let (status, replies) = host.finish(LIMIT);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["error"]["code"], "truncated_frame");
    assert!(!status.success());
}

#[test]
fn truncated_body_gets_an_error_reply_and_a_nonzero_exit() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    host.send_raw(&100u32.to_ne_bytes());
    host.send_raw(b"{\"id\":1,");
    let (status, replies) = host.finish(LIMIT);
    assert_eq!(replies[0]["error"]["code"], "truncated_frame");
    assert_eq!(replies[0]["error"]["details"], json!({"expected_bytes": 100, "received_bytes": 8}));
    assert!(!status.success());
}

#[test]
fn absurd_length_header_ends_the_session_cleanly_without_waiting_for_the_body() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    host.send(&json!({"id": 1, "op": "ping"}));
    assert_eq!(host.recv()["ok"], true);
    let started = Instant::now();
    host.send_raw(&u32::MAX.to_ne_bytes());
    // stdin stays open: the host must not wait for 4 GiB that will never come.
    let reply: Value = serde_json::from_slice(&host.recv_frame().expect("error reply")).unwrap();
    assert_eq!(reply["error"]["code"], "request_too_large");
    assert_eq!(reply["error"]["details"]["announced_bytes"], u32::MAX);
    let status = wait_with_timeout(&mut host.child, LIMIT);
    assert_eq!(status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn one_byte_over_the_request_cap_is_refused_and_the_cap_itself_is_read() {
    let home = temp_home();
    let cap = 64 * 1024 * 1024usize;
    // Exactly the cap: a valid ping whose echo pads it to 64 MiB.
    let skeleton = serde_json::to_vec(&json!({"id": 1, "op": "ping", "params": {"echo": ""}})).unwrap();
    let pad = "x".repeat(cap - skeleton.len());
    let body = serde_json::to_vec(&json!({"id": 1, "op": "ping", "params": {"echo": pad}})).unwrap();
    assert_eq!(body.len(), cap);
    let mut host = Host::start(home.path());
    host.send_frame(&body);
    let reply = host.recv();
    assert_eq!(reply["result"]["echo"].as_str().unwrap().len(), pad.len());
    host.send_raw(&((cap + 1) as u32).to_ne_bytes());
    let reply: Value = serde_json::from_slice(&host.recv_frame().unwrap()).unwrap();
    assert_eq!(reply["error"]["code"], "request_too_large");
    assert!(!host.finish(LIMIT).0.success());
}

/// Length of the ping reply whose echo is `n` ASCII letters.
fn ping_reply_len(id: &Value, n: usize) -> usize {
    serde_json::to_vec(&json!({"id": id, "ok": true, "result": {"echo": "a".repeat(n), "pong": true}})).unwrap().len()
}

#[test]
fn replies_around_one_mebibyte_arrive_whole_in_frames_thunderbird_accepts() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let id = json!("big");
    let base = ping_reply_len(&id, 0);
    for target in [MAX_BODY - 1, MAX_BODY, MAX_BODY + 1, TB_MAX_READ - 1, TB_MAX_READ, TB_MAX_READ + 1, 3 * TB_MAX_READ] {
        let echo = "a".repeat(target - base);
        assert_eq!(ping_reply_len(&id, echo.len()), target);
        host.send(&json!({"id": id, "op": "ping", "params": {"echo": echo}}));
        let first = host.recv_frame().unwrap();
        let first: Value = serde_json::from_slice(&first).unwrap();
        let reply = if target <= MAX_BODY {
            assert!(first.get("chunk").is_none(), "{target} bytes fit one frame");
            first
        } else {
            let count = first["chunk"]["count"].as_u64().unwrap();
            assert!(count >= 2, "{target} bytes need chunks");
            assert_eq!(first["chunk"]["total_bytes"], target);
            let mut text = first["chunk"]["text"].as_str().unwrap().to_string();
            for i in 1..count {
                let next: Value = serde_json::from_slice(&host.recv_frame().unwrap()).unwrap();
                assert_eq!(next["chunk"]["index"], i);
                text.push_str(next["chunk"]["text"].as_str().unwrap());
            }
            assert_eq!(sha256_hex(text.as_bytes()), first["chunk"]["sha256"].as_str().unwrap());
            serde_json::from_str(&text).unwrap()
        };
        assert_eq!(reply["id"], id);
        assert_eq!(reply["result"]["echo"].as_str().unwrap(), echo, "{target}");
    }
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn chunked_upload_round_trip_and_its_errors() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let data: Vec<u8> = (0..3_000_001u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    let begun = host.ok("transfer_begin", json!({"total_bytes": data.len(), "sha256": sha256_hex(&data)}));
    let id = begun["transfer_id"].as_str().unwrap().to_string();
    let chunks: Vec<&[u8]> = data.chunks(1 << 20).collect();
    let out_of_order = host.call(json!(1), "transfer_chunk", json!({"transfer_id": id, "index": 1, "data_b64": b64(chunks[1])}));
    assert_eq!(out_of_order["error"]["code"], "transfer_chunk_out_of_order");
    assert_eq!(out_of_order["error"]["details"]["expected_index"], 0);
    for (i, c) in chunks.iter().enumerate() {
        let r = host.ok("transfer_chunk", json!({"transfer_id": id, "index": i, "data_b64": b64(c)}));
        assert_eq!(r["received_bytes"], (i * (1 << 20) + c.len()) as u64);
    }
    let ended = host.ok("transfer_end", json!({"transfer_id": id}));
    assert_eq!(ended, json!({"transfer_id": id, "total_bytes": data.len(), "sha256": sha256_hex(&data)}));
    assert_eq!(host.ok("transfer_discard", json!({"transfer_id": id})), json!({"discarded": true}));
    let gone = host.call(json!(2), "transfer_end", json!({"transfer_id": id}));
    assert_eq!(gone["error"]["code"], "unknown_transfer");

    let bad = host.ok("transfer_begin", json!({"total_bytes": 3, "sha256": "00".repeat(32)}));
    let bad_id = bad["transfer_id"].as_str().unwrap();
    let r = host.call(json!(3), "transfer_chunk", json!({"transfer_id": bad_id, "index": 0, "data_b64": "not base64!"}));
    assert_eq!(r["error"]["code"], "invalid_base64");
    host.ok("transfer_chunk", json!({"transfer_id": bad_id, "index": 0, "data_b64": b64(b"abc")}));
    let r = host.call(json!(4), "transfer_end", json!({"transfer_id": bad_id}));
    assert_eq!(r["error"]["code"], "transfer_digest_mismatch");
    let r = host.call(json!(5), "transfer_begin", json!({"total_bytes": 512u64 * 1024 * 1024 + 1}));
    assert_eq!(r["error"]["code"], "transfer_too_large");
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn a_thousand_pipelined_requests_are_answered_in_order() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    let mut batch = Vec::new();
    for i in 0..1000 {
        let body = serde_json::to_vec(&json!({"id": i, "op": "ping", "params": {"echo": i}})).unwrap();
        batch.extend_from_slice(&(body.len() as u32).to_ne_bytes());
        batch.extend_from_slice(&body);
    }
    host.send_raw(&batch);
    for i in 0..1000 {
        let r = host.recv();
        assert_eq!((r["id"].clone(), r["result"]["echo"].clone()), (json!(i), json!(i)));
    }
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn eof_between_frames_exits_zero_promptly() {
    let home = temp_home();
    let host = Host::start(home.path());
    let started = Instant::now();
    let (status, replies) = host.finish(LIMIT);
    assert_eq!(status.code(), Some(0));
    assert!(replies.is_empty());
    // Thunderbird kills the host 3 s after closing stdin.
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn another_addon_is_refused_with_one_reply_and_an_exit() {
    let home = temp_home();
    let mut host = Host::spawn(thunderbird_command(home.path(), "evil@example.com"));
    let first: Value = serde_json::from_slice(&host.recv_frame().expect("one reply")).unwrap();
    assert_eq!(first["ok"], false);
    assert_eq!(first["error"]["code"], "caller_not_allowed");
    assert_eq!(first["error"]["details"]["caller"], "evil@example.com");
    // It exits without waiting for stdin to close.
    let status = wait_with_timeout(&mut host.child, LIMIT);
    assert_eq!(status.code(), Some(3));
    assert!(host.recv_frame().is_none());
}

#[test]
fn unlisted_chromium_origin_is_refused_and_listed_one_served() {
    let home = temp_home();
    let origin = format!("chrome-extension://{}/", "k".repeat(32));
    let mut cmd = Command::new(BIN);
    cmd.arg(&origin).arg("--parent-window=0").env("SMIME_COMPANION_HOME", home.path()).env(
        "SMIME_COMPANION_SYSTEM_CONFIG",
        home.path().join("none.json"),
    );
    let mut host = Host::spawn(cmd);
    let first: Value = serde_json::from_slice(&host.recv_frame().unwrap()).unwrap();
    assert_eq!(first["error"]["code"], "caller_not_allowed");
    wait_with_timeout(&mut host.child, LIMIT);

    // IT allows the origin in the system-wide file.
    let system = home.path().join("system.json");
    std::fs::write(&system, serde_json::to_vec(&json!({"allowed_origins": [origin]})).unwrap()).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg(&origin).env("SMIME_COMPANION_HOME", home.path()).env("SMIME_COMPANION_SYSTEM_CONFIG", &system);
    let mut host = Host::spawn(cmd);
    assert_eq!(host.ok("hello", json!({}))["caller"], origin);
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn user_config_can_allow_another_addon() {
    let home = temp_home();
    std::fs::write(home.path().join("config.json"), r#"{"allowed_extensions": ["helper@example.org"]}"#).unwrap();
    let mut host = Host::spawn(thunderbird_command(home.path(), "helper@example.org"));
    assert_eq!(host.ok("ping", json!({})), json!({"pong": true}));
    assert!(host.finish(LIMIT).0.success());
}

#[test]
fn log_has_one_line_per_request_without_params_and_is_private() {
    let home = temp_home();
    let mut host = Host::start(home.path());
    host.ok("ping", json!({"echo": "SECRET-PAYLOAD-7f3a"}));
    host.call(json!("x"), "nope", json!({"password": "hunter2-SECRET"}));
    assert!(host.finish(LIMIT).0.success());
    let log_path = home.path().join("logs/smime-companion.log");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("SECRET"), "params leaked into the log:\n{log}");
    let requests: Vec<&str> = log.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(requests.len(), 2, "{log}");
    assert!(requests[0].contains("op=ping") && requests[0].contains("outcome=ok") && requests[0].contains("ms="));
    assert!(requests[1].contains("op=nope") && requests[1].contains("outcome=unknown_op"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&log_path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(home.path().join("logs")).unwrap().permissions().mode() & 0o777, 0o700);
    }
}

/// A tiny deterministic generator, so a failing run can be replayed from its seed.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_body(rng: &mut XorShift) -> Vec<u8> {
    const OPS: &[&str] = &["hello", "ping", "transfer_begin", "transfer_chunk", "transfer_end", "transfer_discard", "x"];
    let op = OPS[rng.below(OPS.len() as u64) as usize];
    let valid = serde_json::to_vec(&json!({
        "id": rng.below(1000),
        "op": op,
        "params": {"echo": rng.next(), "transfer_id": format!("t{}", rng.below(4)), "index": rng.below(3),
                    "total_bytes": rng.below(100), "data_b64": "YWJj"},
    }))
    .unwrap();
    match rng.below(4) {
        0 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        1 => valid,
        _ => {
            let mut body = valid;
            for _ in 0..=rng.below(4) {
                let at = rng.below(body.len() as u64 + 1) as usize;
                match rng.below(3) {
                    0 if at < body.len() => body[at] = rng.next() as u8,
                    1 if at < body.len() => {
                        body.remove(at);
                    }
                    _ => body.insert(at, rng.next() as u8),
                }
            }
            body
        }
    }
}

#[test]
fn hundred_thousand_random_frames_get_one_reply_each_without_panic_or_hang() {
    const FRAMES: usize = 100_000;
    let seed = 0x5eed_2026_1127u64;
    let home = temp_home();
    let mut cmd = thunderbird_command(home.path(), &addon_id());
    cmd.env("SMIME_COMPANION_LOG", "warn");
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut rng = XorShift(seed);
        let mut buf = Vec::with_capacity(1 << 20);
        for _ in 0..FRAMES {
            let body = random_body(&mut rng);
            buf.extend_from_slice(&(body.len() as u32).to_ne_bytes());
            buf.extend_from_slice(&body);
            if buf.len() > 1 << 19 {
                stdin.write_all(&buf).unwrap();
                buf.clear();
            }
        }
        stdin.write_all(&buf).unwrap();
    });
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut replies = 0;
    let mut errors = 0;
    let started = Instant::now();
    while replies < FRAMES {
        let mut header = [0u8; 4];
        std::io::Read::read_exact(&mut stdout, &mut header).expect("a reply for every frame");
        let mut body = vec![0u8; u32::from_ne_bytes(header) as usize];
        std::io::Read::read_exact(&mut stdout, &mut body).unwrap();
        let v: Value = serde_json::from_slice(&body).expect("every reply is JSON");
        assert!(v["ok"].is_boolean(), "{v}");
        if v["ok"] == false {
            assert_ne!(v["error"]["code"], "internal_error", "seed {seed:#x}: {v}");
            errors += 1;
        }
        replies += 1;
        assert!(started.elapsed() < Duration::from_secs(120), "hang after {replies} replies");
    }
    writer.join().unwrap();
    let status = wait_with_timeout(&mut child, LIMIT);
    assert!(status.success(), "seed {seed:#x}: exit {status}");
    assert!(errors > FRAMES / 4, "the run exercised error paths ({errors} errors)");
}

#[test]
fn no_arguments_prints_usage_instead_of_waiting_on_stdin() {
    let mut child = Command::new(BIN).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let status = wait_with_timeout(&mut child, LIMIT);
    assert_eq!(status.code(), Some(2));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("usage: smime-companion"), "{err}");
    assert!(err.contains("Thunderbird starts this program"), "{err}");
}

#[test]
fn help_and_version_work() {
    let home = temp_home();
    let (code, out, _) = cli(home.path(), &["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("smime-companion "));
    let (code, out, _) = cli(home.path(), &["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("commands:") && out.contains("ops"));
    let (code, _, err) = cli(home.path(), &["no-such-command"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown command"));
    let (code, out, _) = cli(home.path(), &["ops"]);
    assert_eq!(code, 0);
    assert!(out.contains("transfer_begin"));
}
