//! A small LDAPv3 client (RFC 4511): connect (plain, LDAPS or StartTLS), simple bind, search,
//! unbind; nothing else. Every read and write is bounded by one deadline for the whole session,
//! one message by `MAX_MESSAGE_BYTES` and the session by `MAX_SESSION_BYTES`, so a directory that
//! is slow, stalls or answers without end costs at most its timeout and a few MiB.
//!
//! Why our own and not the `ldap3` crate: its BER parser (`lber`) recurses once per nesting
//! level with no limit, so a few MiB of nested tags from a hostile or impersonated directory
//! (plain `ldap://` has no protection against a network attacker) overflow the stack and kill
//! the host; its response decoder and `SearchEntry::construct` panic on malformed input; and it
//! buffers a message of any announced length. The part of LDAP a certificate lookup needs is
//! small, TLS is OpenSSL (already linked), and the BER reader here never recurses.

use super::ber::{self, BerError, Reader, Tlv};
use openssl::ssl::{HandshakeError, Ssl, SslContext, SslMethod, SslOptions, SslStream, SslVerifyMode, SslVersion};
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::{X509VerifyResult, X509};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The largest LDAP message read (one search entry; its certificates are far smaller).
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// The most read from one directory in one lookup.
pub const MAX_SESSION_BYTES: usize = 8 << 20;

const STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";

/// Why talking to a directory failed. `code()` is the stable state shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirError {
    /// No connection: name not resolved, refused, unreachable network.
    Unreachable(String),
    /// The deadline passed (connect, TLS, bind or search).
    Timeout,
    /// TLS could not be set up (handshake failure, StartTLS refused).
    TlsFailed(String),
    /// The directory's TLS certificate did not verify (untrusted CA, wrong name, expired).
    CertificateUntrusted(String),
    /// The directory refused the bind (LDAP result code).
    BindRefused(i64),
    /// A bind DN is set but no password is available.
    PasswordMissing,
    /// The directory answered the search with an error (LDAP result code, its message).
    SearchFailed(i64, String),
    /// The answer is not LDAP, or breaks our bounds.
    BadResponse(String),
}

impl DirError {
    pub fn code(&self) -> &'static str {
        match self {
            DirError::Unreachable(_) => "directory_unreachable",
            DirError::Timeout => "directory_timeout",
            DirError::TlsFailed(_) => "directory_tls_failed",
            DirError::CertificateUntrusted(_) => "directory_certificate_untrusted",
            DirError::BindRefused(_) => "directory_bind_refused",
            DirError::PasswordMissing => "directory_password_missing",
            DirError::SearchFailed(..) => "directory_search_failed",
            DirError::BadResponse(_) => "directory_bad_response",
        }
    }

    /// For developers and IT (the log, `--json`); never holds a password.
    pub fn message(&self) -> String {
        match self {
            DirError::Unreachable(r) => format!("cannot connect: {r}"),
            DirError::Timeout => "no complete answer within the timeout".into(),
            DirError::TlsFailed(r) => format!("TLS failed: {r}"),
            DirError::CertificateUntrusted(r) => format!("the directory's certificate does not verify: {r}"),
            DirError::BindRefused(code) => format!("bind refused (LDAP result {code}{})", if *code == 49 { ", invalid credentials" } else { "" }),
            DirError::PasswordMissing => "a bind DN is set but no password is stored".into(),
            DirError::SearchFailed(code, msg) => format!("search failed (LDAP result {code}): {}", crate::logging::sanitize(msg, 200)),
            DirError::BadResponse(r) => format!("not a valid LDAP answer: {r}"),
        }
    }
}

impl From<BerError> for DirError {
    fn from(e: BerError) -> DirError {
        DirError::BadResponse(e.0.into())
    }
}

/// How to verify a directory's TLS certificate: the system's store plus these CA certificates
/// (the companion's trust anchors and the directory's `ca_file`).
#[derive(Clone, Default)]
pub struct TlsTrust {
    pub extra_cas: Vec<X509>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

/// An open connection with its deadline.
pub struct Session {
    /// None only while TLS is being set up on it.
    stream: Option<Stream>,
    deadline: Instant,
    next_id: i64,
    buf: Vec<u8>,
    read_total: usize,
}

/// One entry of a search answer: the values of the attributes asked for.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub values: Vec<Vec<u8>>,
    /// Values left out because they exceeded the bounds.
    pub dropped_values: usize,
}

/// How a search ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchEnd {
    pub entries: usize,
    /// The directory or our bounds stopped the answer early (size or time limit).
    pub truncated: bool,
    /// The answer was cut off by us: the connection cannot be used for another request.
    pub spoiled: bool,
}

/// Bounds for one search.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    pub max_entries: usize,
    pub max_values_per_entry: usize,
    pub max_value_bytes: usize,
}

fn remaining(deadline: Instant) -> Result<Duration, DirError> {
    deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or(DirError::Timeout)
}

fn io_error(e: std::io::Error) -> DirError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => DirError::Timeout,
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            DirError::BadResponse(format!("the directory closed the connection ({e})"))
        }
        _ => DirError::Unreachable(e.to_string()),
    }
}

impl Session {
    /// Connects to `host:port`; with `tls`, LDAPS; with `starttls`, plain first, then StartTLS.
    pub fn connect(host: &str, port: u16, ldaps: bool, starttls: bool, trust: &TlsTrust, deadline: Instant) -> Result<Session, DirError> {
        // Name resolution has no timeout of its own; the caller bounds the whole session.
        let addrs: Vec<_> = (host, port).to_socket_addrs().map_err(|e| DirError::Unreachable(format!("{host}: {e}")))?.collect();
        if addrs.is_empty() {
            return Err(DirError::Unreachable(format!("{host}: no address")));
        }
        let mut last = DirError::Unreachable(format!("{host}: no address"));
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = io_error(e),
            }
        }
        let tcp = tcp.ok_or(last)?;
        let _ = tcp.set_nodelay(true);
        let mut session = Session { stream: Some(Stream::Plain(tcp)), deadline, next_id: 1, buf: Vec::new(), read_total: 0 };
        if ldaps {
            session.start_tls(host, trust)?;
        } else if starttls {
            let id = session.send(&ber::tlv(0x77, &ber::octets(0x80, STARTTLS_OID)))?;
            let (tag, content) = session.answer(id)?;
            if tag != 0x78 {
                return Err(DirError::BadResponse("no extended response to StartTLS".into()));
            }
            let code = result_code(&content)?;
            if code != 0 {
                return Err(DirError::TlsFailed(format!("StartTLS refused (LDAP result {code})")));
            }
            if !session.buf.is_empty() {
                return Err(DirError::BadResponse("data after the StartTLS response".into()));
            }
            session.start_tls(host, trust)?;
        }
        Ok(session)
    }

    fn start_tls(&mut self, host: &str, trust: &TlsTrust) -> Result<(), DirError> {
        let tls_error = |e: openssl::error::ErrorStack| DirError::TlsFailed(e.to_string());
        // Not `SslConnector`: it loads the system's whole CA bundle for every connection (tens of
        // milliseconds); the system's CAs are looked up by hash as needed instead, as the S/MIME
        // checks do (`certs::trust::add_system_store`).
        let mut builder = SslContext::builder(SslMethod::tls_client()).map_err(tls_error)?;
        builder.set_options(SslOptions::NO_COMPRESSION);
        builder.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(tls_error)?;
        builder.set_verify(SslVerifyMode::PEER);
        crate::certs::trust::add_system_store(builder.cert_store_mut()).map_err(tls_error)?;
        for ca in &trust.extra_cas {
            // The same CA may be listed twice (IT and user anchors, the ca_file).
            let _ = builder.cert_store_mut().add_cert(ca.clone());
        }
        let _ = openssl::error::ErrorStack::get();
        let context = builder.build();
        let mut ssl = Ssl::new(&context).map_err(tls_error)?;
        // The certificate must name the host of the URL: its IP address, or its DNS name (no
        // partial wildcards); SNI for a name.
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ssl.param_mut().set_ip(ip).map_err(tls_error)?,
            Err(_) => {
                ssl.set_hostname(host).map_err(tls_error)?;
                ssl.param_mut().set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
                ssl.param_mut().set_host(host).map_err(tls_error)?;
            }
        }
        let tcp = match self.stream.take() {
            Some(Stream::Plain(tcp)) => tcp,
            _ => return Err(DirError::TlsFailed("TLS started twice".into())),
        };
        let timeout = remaining(self.deadline)?;
        tcp.set_read_timeout(Some(timeout)).map_err(io_error)?;
        tcp.set_write_timeout(Some(timeout)).map_err(io_error)?;
        match ssl.connect(tcp) {
            Ok(stream) => {
                self.stream = Some(Stream::Tls(Box::new(stream)));
                Ok(())
            }
            Err(HandshakeError::Failure(mid)) => {
                let verify = mid.ssl().verify_result();
                if verify != X509VerifyResult::OK {
                    return Err(DirError::CertificateUntrusted(verify.error_string().to_string()));
                }
                let e = mid.into_error();
                match e.io_error().map(|io| io.kind()) {
                    Some(ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(DirError::Timeout),
                    _ => Err(DirError::TlsFailed(e.to_string())),
                }
            }
            Err(HandshakeError::WouldBlock(_)) => Err(DirError::Timeout),
            Err(HandshakeError::SetupFailure(e)) => Err(tls_error(e)),
        }
    }

    /// Sends a request (its protocolOp, already encoded) and returns its message ID.
    fn send(&mut self, op: &[u8]) -> Result<i64, DirError> {
        let id = self.next_id;
        self.next_id += 1;
        let message = ber::tlv(ber::SEQUENCE, &[ber::integer(ber::INTEGER, id), op.to_vec()].concat());
        let timeout = remaining(self.deadline)?;
        let stream = self.stream.as_mut().ok_or(DirError::TlsFailed("no connection".into()))?;
        stream.tcp().set_write_timeout(Some(timeout)).map_err(io_error)?;
        let written = match stream {
            Stream::Plain(s) => s.write_all(&message).and_then(|_| s.flush()),
            Stream::Tls(s) => s.write_all(&message).and_then(|_| s.flush()),
        };
        written.map_err(io_error)?;
        Ok(id)
    }

    /// Reads the next whole message: (message ID, protocolOp tag, protocolOp content).
    fn receive(&mut self) -> Result<(i64, u8, Vec<u8>), DirError> {
        loop {
            if let Some(h) = ber::header(&self.buf)? {
                let total = h.header_len + h.content_len;
                if h.tag != ber::SEQUENCE || total > MAX_MESSAGE_BYTES {
                    return Err(DirError::BadResponse(if total > MAX_MESSAGE_BYTES {
                        format!("a message of {total} bytes (at most {MAX_MESSAGE_BYTES} are read)")
                    } else {
                        "not an LDAP message".into()
                    }));
                }
                if self.buf.len() >= total {
                    let message: Vec<u8> = self.buf.drain(..total).collect();
                    let mut outer = Reader::new(&message);
                    let seq = outer.expect(ber::SEQUENCE)?;
                    let mut parts = seq.children();
                    let id = parts.expect(ber::INTEGER)?.integer()?;
                    let op = parts.read()?;
                    return Ok((id, op.tag, op.content.to_vec()));
                }
            }
            let timeout = remaining(self.deadline)?;
            let stream = self.stream.as_mut().ok_or(DirError::TlsFailed("no connection".into()))?;
            stream.tcp().set_read_timeout(Some(timeout)).map_err(io_error)?;
            let mut chunk = [0u8; 16 * 1024];
            let n = match stream {
                Stream::Plain(s) => s.read(&mut chunk),
                Stream::Tls(s) => s.read(&mut chunk),
            }
            .map_err(io_error)?;
            if n == 0 {
                return Err(DirError::BadResponse("the directory closed the connection".into()));
            }
            self.read_total += n;
            if self.read_total > MAX_SESSION_BYTES {
                return Err(DirError::BadResponse(format!("more than {MAX_SESSION_BYTES} bytes in one lookup")));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// The next message for request `id` (messages for others are skipped; an unsolicited
    /// notification, ID 0, means the directory is ending the connection).
    fn answer(&mut self, id: i64) -> Result<(u8, Vec<u8>), DirError> {
        loop {
            let (got, tag, content) = self.receive()?;
            if got == 0 {
                return Err(DirError::BadResponse("the directory ended the connection (notice of disconnection)".into()));
            }
            if got == id {
                return Ok((tag, content));
            }
        }
    }

    /// A simple bind (RFC 4513 section 5.1.3).
    pub fn simple_bind(&mut self, dn: &str, password: &str) -> Result<(), DirError> {
        let request = zeroize::Zeroizing::new(ber::tlv(
            0x60,
            &[ber::integer(ber::INTEGER, 3), ber::octets(ber::OCTET_STRING, dn.as_bytes()), ber::octets(0x80, password.as_bytes())].concat(),
        ));
        let id = self.send(&request)?;
        let (tag, content) = self.answer(id)?;
        if tag != 0x61 {
            return Err(DirError::BadResponse("no bind response".into()));
        }
        match result_code(&content)? {
            0 => Ok(()),
            code => Err(DirError::BindRefused(code)),
        }
    }

    /// Searches the subtree under `base` with `filter` (BER), asking for `attributes`; hands
    /// each entry to `on_entry`. Referrals are not followed.
    pub fn search(&mut self, base: &str, filter: &[u8], attributes: &[String], limits: SearchLimits, on_entry: &mut dyn FnMut(Entry)) -> Result<SearchEnd, DirError> {
        let time_limit = remaining(self.deadline)?.as_secs().max(1) as i64;
        let attrs: Vec<u8> = attributes.iter().flat_map(|a| ber::octets(ber::OCTET_STRING, a.as_bytes())).collect();
        let request = ber::tlv(
            0x63,
            &[
                ber::octets(ber::OCTET_STRING, base.as_bytes()),
                ber::integer(ber::ENUMERATED, 2), // wholeSubtree
                ber::integer(ber::ENUMERATED, 0), // neverDerefAliases
                ber::integer(ber::INTEGER, limits.max_entries as i64),
                ber::integer(ber::INTEGER, time_limit),
                ber::boolean(false),
                filter.to_vec(),
                ber::tlv(ber::SEQUENCE, &attrs),
            ]
            .concat(),
        );
        let id = self.send(&request)?;
        let wanted: Vec<String> = attributes.iter().map(|a| base_name(a)).collect();
        let mut end = SearchEnd::default();
        loop {
            let (tag, content) = self.answer(id)?;
            match tag {
                // SearchResultEntry
                0x64 => {
                    if end.entries >= limits.max_entries {
                        // The directory ignores the size limit it was given: stop reading; the
                        // rest of its answer is still on the way, so the connection is done.
                        end.truncated = true;
                        end.spoiled = true;
                        return Ok(end);
                    }
                    end.entries += 1;
                    on_entry(parse_entry(&content, &wanted, limits)?);
                }
                // SearchResultReference, IntermediateResponse: not followed.
                0x73 | 0x79 => {}
                // SearchResultDone
                0x65 => {
                    let code = result_code(&content)?;
                    return match code {
                        0 => Ok(end),
                        // sizeLimitExceeded, timeLimitExceeded: what came is used.
                        3 | 4 => {
                            end.truncated = true;
                            Ok(end)
                        }
                        // referral: the base is held elsewhere; nothing here.
                        10 => Ok(end),
                        _ => Err(DirError::SearchFailed(code, diagnostic(&content))),
                    };
                }
                _ => return Err(DirError::BadResponse(format!("unexpected answer (tag {tag:#04x}) to a search"))),
            }
        }
    }

    /// Says goodbye (best effort) and closes.
    pub fn unbind(mut self) {
        let _ = self.send(&[0x42, 0x00]);
        if let Some(Stream::Tls(s)) = &mut self.stream {
            let _ = s.shutdown();
        }
    }
}

/// An attribute's name without options, in lower case (`userCertificate;binary` →
/// `usercertificate`): directories answer with or without the option.
fn base_name(attr: &str) -> String {
    attr.split(';').next().unwrap_or("").to_ascii_lowercase()
}

/// LDAPResult's resultCode (the first element of a bind, search-done or extended response).
fn result_code(content: &[u8]) -> Result<i64, DirError> {
    let mut r = Reader::new(content);
    Ok(r.expect(ber::ENUMERATED)?.integer()?)
}

/// LDAPResult's diagnosticMessage, if readable.
fn diagnostic(content: &[u8]) -> String {
    let mut r = Reader::new(content);
    let _ = r.read();
    let _ = r.read();
    r.read().ok().map(|t| String::from_utf8_lossy(t.content).into_owned()).unwrap_or_default()
}

/// A SearchResultEntry: objectName, then attributes (SEQUENCE OF { type, SET OF value }).
fn parse_entry(content: &[u8], wanted: &[String], limits: SearchLimits) -> Result<Entry, DirError> {
    let mut r = Reader::new(content);
    r.expect(ber::OCTET_STRING)?;
    let attributes = r.expect(ber::SEQUENCE)?;
    let mut entry = Entry::default();
    let mut list = attributes.children();
    while !list.is_empty() {
        let partial: Tlv<'_> = list.expect(ber::SEQUENCE)?;
        let mut p = partial.children();
        let name = p.expect(ber::OCTET_STRING)?;
        let values = p.expect(ber::SET)?;
        let name = base_name(&String::from_utf8_lossy(name.content));
        if !wanted.contains(&name) {
            continue;
        }
        let mut v = values.children();
        while !v.is_empty() {
            let value = v.expect(ber::OCTET_STRING)?;
            if entry.values.len() >= limits.max_values_per_entry || value.content.len() > limits.max_value_bytes {
                entry.dropped_values += 1;
            } else {
                entry.values.push(value.content.to_vec());
            }
        }
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(attrs: &[(&str, &[&[u8]])]) -> Vec<u8> {
        let list: Vec<u8> = attrs
            .iter()
            .flat_map(|(name, values)| {
                let vals: Vec<u8> = values.iter().flat_map(|v| ber::octets(4, v)).collect();
                ber::tlv(0x30, &[ber::octets(4, name.as_bytes()), ber::tlv(0x31, &vals)].concat())
            })
            .collect();
        [ber::octets(4, b"uid=x"), ber::tlv(0x30, &list)].concat()
    }

    #[test]
    fn entries_keep_only_the_attributes_asked_for_within_bounds() {
        let limits = SearchLimits { max_entries: 10, max_values_per_entry: 3, max_value_bytes: 8 };
        let wanted = vec!["usercertificate".to_string(), "usersmimecertificate".to_string()];
        let content = entry(&[
            ("cn", &[b"Bob"]),
            ("userCertificate;binary", &[b"one", b"two"]),
            ("USERSMIMECERTIFICATE", &[b"three", b"far too long value", b"four"]),
        ]);
        let e = parse_entry(&content, &wanted, limits).unwrap();
        assert_eq!(e.values, vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
        assert_eq!(e.dropped_values, 2);
    }

    #[test]
    fn malformed_entries_are_errors_not_panics() {
        let limits = SearchLimits { max_entries: 10, max_values_per_entry: 3, max_value_bytes: 8 };
        for bad in [&[][..], &[0x04, 0x00], &[0x04, 0x00, 0x30, 0x03, 0x30, 0x01, 0x04], &[0x04, 0x00, 0x30, 0x02, 0x04, 0x00], &[0x04, 0x05]] {
            assert!(parse_entry(bad, &["a".into()], limits).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn directory_md_lists_exactly_the_states_a_lookup_can_end_in() {
        let doc = include_str!("../../docs/DIRECTORY.md");
        let section = doc.split("\n## States\n").nth(1).expect("a States section").split("\n## ").next().unwrap_or("");
        let mut documented: Vec<&str> = section.lines().filter_map(|l| l.strip_prefix("| `")).filter_map(|l| l.split('`').next()).collect();
        let all = [
            DirError::Unreachable(String::new()),
            DirError::Timeout,
            DirError::TlsFailed(String::new()),
            DirError::CertificateUntrusted(String::new()),
            DirError::BindRefused(49),
            DirError::PasswordMissing,
            DirError::SearchFailed(32, String::new()),
            DirError::BadResponse(String::new()),
        ];
        let mut ours: Vec<&str> = all.iter().map(DirError::code).collect();
        documented.sort_unstable();
        ours.sort_unstable();
        assert_eq!(documented, ours);
    }

    #[test]
    fn error_codes_are_the_documented_states() {
        assert_eq!(DirError::Timeout.code(), "directory_timeout");
        assert_eq!(DirError::BindRefused(49).code(), "directory_bind_refused");
        assert!(DirError::BindRefused(49).message().contains("invalid credentials"));
    }
}
