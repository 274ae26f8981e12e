//! TLS for [`super::fetch`] through OpenSSL, the library the host already uses for everything
//! else: the server's chain is verified against the system's trust store (OpenSSL's default
//! paths, which `SSL_CERT_FILE` and `SSL_CERT_DIR` can point elsewhere) and its name against
//! the host in the URL; TLS 1.2 at least.

use openssl::ssl::{SslConnector, SslMethod, SslStream, SslVersion};
use std::io::{Read, Write};
use std::net::TcpStream;

/// Why a TLS connection was not made: kept inside the transport error, so the caller can tell
/// it from a network failure.
#[derive(Debug)]
pub struct TlsFailure(pub String);

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS: {}", self.0)
    }
}

impl std::error::Error for TlsFailure {}

pub struct OpensslTls(SslConnector);

impl OpensslTls {
    pub fn new() -> Result<OpensslTls, openssl::error::ErrorStack> {
        // `builder` loads the default trust store and turns peer verification on.
        let mut builder = SslConnector::builder(SslMethod::tls_client())?;
        builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
        Ok(OpensslTls(builder.build()))
    }
}

impl ureq::TlsConnector for OpensslTls {
    fn connect(&self, dns_name: &str, io: Box<dyn ureq::ReadWrite>) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        // `connect` checks the certificate's names against `dns_name` (and sends it as SNI).
        match self.0.connect(dns_name, io) {
            Ok(stream) => Ok(Box::new(TlsStream(stream))),
            Err(e) => {
                let reason = match &e {
                    openssl::ssl::HandshakeError::Failure(mid) => {
                        let verify = mid.ssl().verify_result();
                        if verify == openssl::x509::X509VerifyResult::OK {
                            mid.error().to_string()
                        } else {
                            format!("the server's certificate: {}", verify.error_string())
                        }
                    }
                    other => other.to_string(),
                };
                Err(std::io::Error::other(TlsFailure(reason)).into())
            }
        }
    }
}

#[derive(Debug)]
struct TlsStream(SslStream<Box<dyn ureq::ReadWrite>>);

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl ureq::ReadWrite for TlsStream {
    fn socket(&self) -> Option<&TcpStream> {
        self.0.get_ref().socket()
    }
}
