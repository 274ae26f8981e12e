//! `transfer_fetch` against a real HTTPS server on 127.0.0.1 (a name of its own through
//! `SMIME_COMPANION_CONNECT_TO`, its certificate from a test CA that `SSL_CERT_FILE` makes the
//! host trust): the message arrives as a transfer `inspect_message` then judges; the token goes
//! to the server and nowhere else; every failure is `fetch_failed` with its problem and status.

mod common;

use common::certgen::{ec_key, signed_mail, Ca, Leaf};
use common::{addon_id, temp_home, thunderbird_command, Host};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TOKEN: &str = "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fetch-test-token";

/// A server certificate for `mail.test`, issued by `ca`.
fn server_cert(ca: &Ca) -> (X509, PKey<Private>) {
    let key = ec_key();
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "mail.test").unwrap();
    b.set_subject_name(&name.build()).unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap()).unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap()).unwrap();
    b.append_extension(ExtendedKeyUsage::new().server_auth().build().unwrap()).unwrap();
    let san = SubjectAlternativeName::new().dns("mail.test").build(&b.x509v3_context(Some(&ca.cert), None)).unwrap();
    b.append_extension(san).unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    (b.build(), key)
}

/// An HTTPS server answering by path: `/msg` the message (with the token only), `/missing` 404,
/// `/redirect` 302, `/short` a body that breaks off, `/huge` a body announced larger than any
/// message. Keeps every request's head.
struct Server {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(ca: &Ca, message: Vec<u8>) -> Server {
        let (cert, key) = server_cert(ca);
        let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
        acceptor.set_private_key(&key).unwrap();
        acceptor.set_certificate(&cert).unwrap();
        let acceptor = acceptor.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let kept = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Ok(mut tls) = acceptor.accept(stream) else { continue };
                let mut head = String::new();
                {
                    let mut reader = BufReader::new(&mut tls);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                }
                kept.lock().unwrap().push(head.clone());
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let authorized = head.lines().any(|l| l.eq_ignore_ascii_case(&format!("authorization: {TOKEN}")));
                let answer = |status: &str, body: &[u8], length: usize| {
                    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n").into_bytes();
                    out.extend_from_slice(body);
                    out
                };
                let out = match path.as_str() {
                    "/msg" if authorized => answer("200 OK", &message, message.len()),
                    "/msg" => answer("401 Unauthorized", b"{}", 2),
                    "/redirect" => b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.test/\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    "/short" => answer("200 OK", b"From: a@b\r\n", 5000),
                    "/huge" => answer("200 OK", b"", 300 << 20),
                    _ => answer("404 Not Found", b"", 0),
                };
                let _ = tls.write_all(&out);
                let _ = tls.shutdown();
            }
        });
        Server { port, heads }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

/// The host as the browser starts it, trusting `ca_file` for TLS and sending `mail.test:443`
/// to the server's port.
fn host(home: &Path, ca_file: Option<&str>, port: u16) -> Host {
    let mut cmd = thunderbird_command(home, &addon_id());
    cmd.env("SMIME_COMPANION_CONNECT_TO", format!("mail.test:443:127.0.0.1:{port}"))
        .env("SMIME_COMPANION_SYSTEM_ANCHORS", home.join("no-it-anchors"))
        .env("SMIME_COMPANION_LOG", "debug");
    for name in ["https_proxy", "HTTPS_PROXY", "SSL_CERT_DIR"] {
        cmd.env_remove(name);
    }
    match ca_file {
        Some(file) => cmd.env("SSL_CERT_FILE", file),
        // A trust store without the test CA.
        None => cmd.env("SSL_CERT_FILE", home.join("empty-trust-store.pem")),
    };
    Host::spawn(cmd)
}

fn fetch_error(host: &mut Host, params: Value) -> Value {
    let reply = host.call(json!("f"), "transfer_fetch", params);
    assert!(reply["error"].is_object(), "{reply}");
    reply["error"].clone()
}

#[test]
fn a_fetched_message_is_judged_like_one_handed_over_and_the_token_reaches_only_the_server() {
    let ca = Ca::new("Fetch Test CA");
    let (signer, signer_key) = {
        let key = ec_key();
        (Leaf::for_address("fay@example.org").issue(&ca, Some(&key)), key)
    };
    let message = signed_mail("Fay <fay@example.org>", &signer, &signer_key, &[], "fetched by the host");
    let server = Server::start(&ca, message.clone());
    let home = temp_home();
    std::fs::create_dir_all(home.path().join("anchors")).unwrap();
    std::fs::write(home.path().join("anchors/ca.pem"), ca.pem()).unwrap();
    let ca_file = write(home.path(), "tls-ca.pem", &ca.pem());
    let mut host = host(home.path(), Some(&ca_file), server.port);

    let fetched = host.ok("transfer_fetch", json!({"url": "https://mail.test/msg", "authorization": TOKEN, "transfer_id": "m1"}));
    assert_eq!(fetched, json!({"transfer_id": "m1", "total_bytes": message.len()}));
    let verdict = host.ok("inspect_message", json!({"transfer": "m1"}));
    assert_eq!(verdict["signature"]["state"], "valid", "{verdict}");
    assert_eq!(verdict["signature"]["layers"][0]["signers"][0]["certificate"]["emails"][0], "fay@example.org");
    let head = server.heads.lock().unwrap()[0].clone();
    assert!(head.starts_with("GET /msg HTTP/1.1\r\n") && head.to_ascii_lowercase().contains("host: mail.test"), "{head}");

    // Without the token the server says 401, and the caller learns the status.
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/msg"}));
    assert_eq!((e["code"].as_str(), e["details"]["problem"].as_str(), e["details"]["status"].as_u64()), (Some("fetch_failed"), Some("status"), Some(401)));
    assert_eq!(e["details"]["host"], "mail.test");
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/missing", "authorization": TOKEN}));
    assert_eq!(e["details"]["status"], 404);
    // A redirect is not followed: the token would go with it.
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/redirect", "authorization": TOKEN}));
    assert_eq!((e["details"]["problem"].as_str(), e["details"]["status"].as_u64()), (Some("status"), Some(302)));
    assert_eq!(server.heads.lock().unwrap().len(), 4, "nothing was asked of elsewhere.test");
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/short"}));
    assert_eq!(e["details"]["problem"], "broken");
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/huge"}));
    assert_eq!(e["details"]["problem"], "too_large", "refused by its announced size");
    // The transfer id is checked before anything is fetched.
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/msg", "authorization": TOKEN, "transfer_id": "not an id"}));
    assert_eq!(e["code"], "invalid_params");
    let asked = server.heads.lock().unwrap().len();
    assert_eq!(asked, 6);

    let (status, _) = host.finish(Duration::from_secs(20));
    assert!(status.success());
    let log = std::fs::read_to_string(home.path().join("logs/smime-companion.log")).unwrap_or_default();
    assert!(!log.is_empty(), "the debug log was written");
    assert!(!log.contains("fetch-test-token"), "the token is never logged");
}

#[test]
fn a_server_this_computer_does_not_trust_or_cannot_reach_is_a_failure_of_its_own_kind() {
    let ca = Ca::new("Untrusted Fetch CA");
    let server = Server::start(&ca, b"From: a@b\r\n\r\nx".to_vec());
    let home = temp_home();
    std::fs::write(home.path().join("empty-trust-store.pem"), b"").unwrap();
    let mut host = host(home.path(), None, server.port);
    let e = fetch_error(&mut host, json!({"url": "https://mail.test/msg", "authorization": TOKEN}));
    assert_eq!((e["code"].as_str(), e["details"]["problem"].as_str()), (Some("fetch_failed"), Some("tls")), "{e}");
    assert!(e["details"]["status"].is_null());
    assert!(server.heads.lock().unwrap().is_empty(), "no request went over the untrusted connection");

    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = fetch_error(&mut host, json!({"url": format!("http://127.0.0.1:{closed}/msg")}));
    assert_eq!(e["details"]["problem"], "offline", "{e}");
    // Plain http is for this computer only; a password in the address is refused.
    for url in ["http://graph.microsoft.com/v1.0/me/messages/x/$value", "https://user:pw@mail.test/msg", "file:///etc/passwd"] {
        assert_eq!(fetch_error(&mut host, json!({"url": url}))["code"], "invalid_params", "{url}");
    }
    assert_eq!(fetch_error(&mut host, json!({"url": "https://mail.test/msg", "timeout_ms": 0}))["code"], "invalid_params");
    assert!(host.finish(Duration::from_secs(20)).0.success());
}
