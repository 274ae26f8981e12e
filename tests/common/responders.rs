//! Real servers on 127.0.0.1 for the revocation tests, each stopped when dropped:
//! - [`OcspResponder`]: `openssl ocsp` answering from an index of good and revoked certificates,
//!   signed by the CA or by a responder certificate of our choosing;
//! - [`HttpServer::serve`]: a small HTTP server handing out fixed bodies (CRLs, pre-made OCSP
//!   answers) and counting requests; it also serves as an HTTP proxy (absolute-form requests);
//! - [`HttpServer::silent`]: accepts connections and never answers (a slow responder);
//! - [`closed_port`]: a port nobody listens on (a responder that is down).
//!
//! [`made_response`] signs an OCSP answer with libcrypto directly, for answers no responder
//! gives on request (out of date, for a message to carry).
#![allow(dead_code)]

use foreign_types::ForeignType;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspBasicResponse, OcspCertId, OcspResponse, OcspResponseStatus};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A port that was free a moment ago (the kernel picks it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A URL on a port nobody listens on.
pub fn closed_port() -> String {
    format!("http://127.0.0.1:{}/", free_port())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// `YYMMDDHHMMSSZ`, as `openssl ca` writes dates in its index.
fn index_time(t: i64) -> String {
    let text = smime_companion::time::to_rfc3339(t); // 2026-11-27T10:00:00Z
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    format!("{}Z", &digits[2..14])
}

/// One line of the responder's index: a certificate, and when (and why) it was revoked.
pub struct Entry<'a> {
    pub cert: &'a X509,
    /// Unix seconds, and the reason as `openssl ca` names it (`keyCompromise`, `superseded`, …).
    pub revoked: Option<(i64, Option<&'a str>)>,
}

impl<'a> Entry<'a> {
    pub fn good(cert: &'a X509) -> Entry<'a> {
        Entry { cert, revoked: None }
    }

    pub fn revoked(cert: &'a X509, at: i64, reason: Option<&'a str>) -> Entry<'a> {
        Entry { cert, revoked: Some((at, reason)) }
    }
}

/// `openssl ocsp` as a responder for one CA on 127.0.0.1:`port`.
pub struct OcspResponder {
    child: Child,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl OcspResponder {
    /// Starts the responder for `ca` (its certificate), answering from `entries`, signing with
    /// `signer` (the CA itself or a responder certificate), nextUpdate a day ahead. Waits (at
    /// most 20 s) until it listens.
    pub fn start(port: u16, ca: &X509, signer: (&X509, &PKey<Private>), entries: &[Entry<'_>]) -> OcspResponder {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let mut index = String::new();
        for e in entries {
            let serial = e.cert.serial_number().to_bn().unwrap().to_hex_str().unwrap().to_string();
            let serial = if serial.len() % 2 == 1 { format!("0{serial}") } else { serial };
            let expires = index_time(unix_now() + 365 * 86400);
            let (flag, revoked) = match e.revoked {
                None => ("V", String::new()),
                Some((at, None)) => ("R", index_time(at)),
                Some((at, Some(reason))) => ("R", format!("{},{reason}", index_time(at))),
            };
            index.push_str(&format!("{flag}\t{expires}\t{revoked}\t{serial}\tunknown\t/CN=test\n"));
        }
        let index = write("index.txt", index.as_bytes());
        let ca_pem = write("ca.pem", &ca.to_pem().unwrap());
        let signer_pem = write("signer.pem", &signer.0.to_pem().unwrap());
        let signer_key = write("signer.key", &signer.1.private_key_to_pem_pkcs8().unwrap());
        let log = dir.path().join("responder.log");
        let child = Command::new("openssl")
            .args(["ocsp", "-index"])
            .arg(&index)
            .args(["-port", &port.to_string(), "-rsigner"])
            .arg(&signer_pem)
            .arg("-rkey")
            .arg(&signer_key)
            .arg("-CA")
            .arg(&ca_pem)
            .args(["-ndays", "1"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("responder.out")).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("openssl ocsp starts (package openssl)");
        let responder = OcspResponder { child, _dir: dir, port };
        wait_for(&log, "waiting for OCSP client connections");
        responder
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `log` holds `text` (the server says it listens), at most 20 s.
fn wait_for(log: &Path, text: &str) {
    let start = Instant::now();
    loop {
        if std::fs::read_to_string(log).is_ok_and(|t| t.contains(text)) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "server did not start: {}", std::fs::read_to_string(log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A tiny HTTP/1.0 server on 127.0.0.1 (see the module doc).
pub struct HttpServer {
    pub port: u16,
    hits: Arc<AtomicUsize>,
    /// The request lines received, in order.
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Answers any request whose target ends with one of `routes`' paths with that body (200),
    /// anything else with 404.
    pub fn serve(routes: Vec<(String, Vec<u8>)>) -> HttpServer {
        HttpServer::start(0, Some(routes))
    }

    /// [`HttpServer::serve`] on a given port (one the certificates already name).
    pub fn serve_on(port: u16, routes: Vec<(String, Vec<u8>)>) -> HttpServer {
        HttpServer::start(port, Some(routes))
    }

    /// Accepts connections and never answers.
    pub fn silent() -> HttpServer {
        HttpServer::start(0, None)
    }

    fn start(port: u16, routes: Option<Vec<(String, Vec<u8>)>>) -> HttpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, r, s) = (hits.clone(), requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                match &routes {
                    None => held.push(stream),
                    Some(routes) => {
                        h.fetch_add(1, Ordering::SeqCst);
                        let _ = answer(stream, routes, &r);
                    }
                }
            }
        });
        HttpServer { port, hits, requests, stop, thread: Some(thread) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests were answered.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn answer(stream: TcpStream, routes: &[(String, Vec<u8>)], log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    log.lock().unwrap().push(line.trim().to_string());
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let mut stream = stream;
    match routes.iter().find(|(path, _)| target.ends_with(path.as_str())) {
        Some((_, bytes)) => {
            write!(stream, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", bytes.len())?;
            stream.write_all(bytes)?;
        }
        None => write!(stream, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?,
    }
    stream.flush()
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

extern "C" {
    // libcrypto (<openssl/ocsp.h>); the openssl crate does not make OCSP responses.
    fn OCSP_basic_add1_status(
        rsp: *mut openssl_sys::OCSP_BASICRESP,
        cid: *mut openssl_sys::OCSP_CERTID,
        status: libc::c_int,
        reason: libc::c_int,
        revtime: *mut openssl_sys::ASN1_TIME,
        thisupd: *mut openssl_sys::ASN1_TIME,
        nextupd: *mut openssl_sys::ASN1_TIME,
    ) -> *mut libc::c_void;
    fn OCSP_basic_sign(
        brsp: *mut openssl_sys::OCSP_BASICRESP,
        signer: *mut openssl_sys::X509,
        key: *mut openssl_sys::EVP_PKEY,
        dgst: *const openssl_sys::EVP_MD,
        certs: *mut openssl_sys::stack_st_X509,
        flags: libc::c_ulong,
    ) -> libc::c_int;
}

/// What a made answer says.
#[derive(Clone, Copy)]
pub enum Made {
    Good,
    /// Revoked at (Unix seconds), with a CRLReason code.
    Revoked(i64, i32),
}

/// A DER OCSP response for `cert` (issued by `issuer`), signed by `signer` (who is included in
/// the response), thisUpdate and nextUpdate as given (Unix seconds).
pub fn made_response(cert: &X509, issuer: &X509, signer: (&X509, &PKey<Private>), status: Made, this_update: i64, next_update: i64) -> Vec<u8> {
    let id = OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer).unwrap();
    let this_update = Asn1Time::from_unix(this_update).unwrap();
    let next_update = Asn1Time::from_unix(next_update).unwrap();
    // SAFETY: every pointer is live for the calls; OpenSSL copies what it keeps (the CertID is
    // duplicated by OCSP_basic_add1_status; the signer certificate is up-referenced).
    unsafe {
        let basic = OcspBasicResponse::from_ptr(openssl_sys::OCSP_BASICRESP_new());
        let (code, reason, revoked_at) = match status {
            Made::Good => (0, -1, None),
            Made::Revoked(at, reason) => (1, reason, Some(Asn1Time::from_unix(at).unwrap())),
        };
        let single = OCSP_basic_add1_status(
            basic.as_ptr(),
            id.as_ptr(),
            code,
            reason,
            revoked_at.as_ref().map_or(std::ptr::null_mut(), |t| t.as_ptr()),
            this_update.as_ptr(),
            next_update.as_ptr(),
        );
        assert!(!single.is_null());
        let signed = OCSP_basic_sign(basic.as_ptr(), signer.0.as_ptr(), signer.1.as_ptr(), MessageDigest::sha256().as_ptr(), std::ptr::null_mut(), 0);
        assert_eq!(signed, 1);
        OcspResponse::create(OcspResponseStatus::SUCCESSFUL, Some(&basic)).unwrap().to_der().unwrap()
    }
}

/// A CRL of `ca` listing `revoked` with their revocation dates (Unix seconds) and, when given, a
/// reasonCode (RFC 5280 §5.3.1 code); thisUpdate a minute ago, nextUpdate in a week.
pub fn crl_revoking(ca: &super::certgen::Ca, revoked: &[(&X509, i64)], number: u32, reason: Option<i32>) -> openssl::x509::X509Crl {
    use openssl::asn1::{Asn1Object, Asn1OctetString};
    use openssl::x509::{CrlNumber, X509CrlBuilder, X509Extension, X509RevokedBuilder};
    let mut b = X509CrlBuilder::new().unwrap();
    b.set_issuer_name(ca.cert.subject_name()).unwrap();
    let this_update = unix_now() - 60;
    b.set_last_update(&Asn1Time::from_unix(this_update).unwrap()).unwrap();
    b.set_next_update(&Asn1Time::from_unix(this_update + 7 * 86400).unwrap()).unwrap();
    b.append_extension(ca.crl_authority_key_id()).unwrap();
    b.append_extension(CrlNumber::new(openssl::bn::BigNum::from_u32(number).unwrap()).unwrap().build().unwrap()).unwrap();
    for (cert, at) in revoked {
        let mut r = X509RevokedBuilder::new().unwrap();
        r.set_serial_number(cert.serial_number()).unwrap();
        r.set_revocation_date(&Asn1Time::from_unix(*at).unwrap()).unwrap();
        let entry = r.build();
        if let Some(code) = reason {
            // reasonCode: ENUMERATED.
            let value = Asn1OctetString::new_from_bytes(&[0x0a, 0x01, code as u8]).unwrap();
            let ext = X509Extension::new_from_der(&Asn1Object::from_str("2.5.29.21").unwrap(), false, &value).unwrap();
            // SAFETY: both are live; OpenSSL copies the extension into the entry.
            assert_eq!(unsafe { openssl_sys::X509_REVOKED_add_ext(entry.as_ptr(), ext.as_ptr(), -1) }, 1);
        }
        b.add_revoked(entry).unwrap();
    }
    b.sort().unwrap();
    b.sign(&ca.key, MessageDigest::sha256()).unwrap();
    b.build().unwrap()
}
