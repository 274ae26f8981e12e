//! Fetching OCSP responses and CRLs over plain HTTP (RFC 6960 appendix A, RFC 5280 §4.2.1.13):
//! the URLs come from the certificates, the answers are verified by the caller. Only `http://` is
//! spoken; `https://` and `ldap://` addresses are skipped where the URLs are picked
//! ([`usable_url`]), so a revocation check never needs TLS (whose own checks would need
//! revocation).
//!
//! Every request has a connect timeout and a total timeout, and a cap on the answer's size; an
//! HTTP proxy comes from the settings or the usual environment variables (`http_proxy`,
//! `HTTP_PROXY`, `no_proxy`, `NO_PROXY`). Loopback addresses are never proxied. Nothing but the
//! OCSP request (the certificate's issuer hashes and serial number, and a nonce) is sent; the
//! User-Agent names only the product.

use std::io::Read;
use std::time::Duration;

/// The largest OCSP response accepted. Real ones are a few KiB (one status, the responder's
/// certificate).
pub const MAX_OCSP_RESPONSE_BYTES: u64 = 256 * 1024;

/// The largest CRL accepted. Big CAs publish CRLs of a few MiB; past this one is not read.
pub const MAX_CRL_BYTES: u64 = 16 * 1024 * 1024;

/// Redirects followed for a CRL (some CAs move their files). OCSP answers come from the URL asked.
const MAX_REDIRECTS: u32 = 3;

/// Where requests go: straight to the server, or through an HTTP proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// `http_proxy` / `HTTP_PROXY` when set, with `no_proxy` / `NO_PROXY`.
    FromEnvironment,
    /// Never a proxy, whatever the environment says (`revocation_proxy: "direct"`).
    Direct,
    /// This proxy (`revocation_proxy: "http://proxy.example:3128"`), except for `no_proxy` hosts.
    Url(String),
}

/// Why a fetch gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchError {
    /// The server (or the proxy) could not be reached: no network, no such host, nobody listening.
    Offline,
    /// No complete answer within the time allowed.
    Timeout,
    /// An answer, but an error status or more than the size cap.
    ResponderError,
}

/// `url` when it is an address this module can fetch (`http://host…`).
pub fn usable_url(url: &str) -> Option<&str> {
    let rest = url.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("http://")).map(|_| &url[7..])?;
    let host = host_of(rest);
    (!host.is_empty() && url.bytes().all(|b| b.is_ascii_graphic())).then_some(url)
}

/// POSTs an OCSP request (RFC 6960 A.1) and returns the answer's body.
pub fn post_ocsp(url: &str, request_der: &[u8], timeout: Duration, proxy: &ProxySetting) -> Result<Vec<u8>, FetchError> {
    let agent = agent(url, timeout, proxy, 0)?;
    let response = agent
        .post(url)
        .set("Content-Type", "application/ocsp-request")
        .set("Accept", "application/ocsp-response")
        .send_bytes(request_der);
    body(response, MAX_OCSP_RESPONSE_BYTES)
}

/// GETs a CRL and returns its bytes (DER or PEM; the caller parses them).
pub fn get_crl(url: &str, timeout: Duration, proxy: &ProxySetting) -> Result<Vec<u8>, FetchError> {
    let agent = agent(url, timeout, proxy, MAX_REDIRECTS)?;
    body(agent.get(url).call(), MAX_CRL_BYTES)
}

fn agent(url: &str, timeout: Duration, proxy: &ProxySetting, redirects: u32) -> Result<ureq::Agent, FetchError> {
    let mut builder = ureq::AgentBuilder::new()
        .timeout_connect(timeout)
        .timeout(timeout)
        .redirects(redirects)
        .max_idle_connections(0)
        .user_agent(concat!("smime-companion/", env!("CARGO_PKG_VERSION")));
    if let Some(proxy_url) = proxy_for(url, proxy, &|name| std::env::var(name).ok()) {
        // A proxy setting that is not a URL is reported once by the configuration; here it
        // leaves the request without a route.
        let proxy = ureq::Proxy::new(&proxy_url).map_err(|e| {
            log::warn!("revocation: the HTTP proxy setting is not usable: {}", e.kind());
            FetchError::Offline
        })?;
        builder = builder.proxy(proxy);
    }
    Ok(builder.build())
}

fn body(response: Result<ureq::Response, ureq::Error>, cap: u64) -> Result<Vec<u8>, FetchError> {
    let response = response.map_err(|e| classify(&e))?;
    if response.status() != 200 {
        return Err(FetchError::ResponderError);
    }
    if response.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok()).is_some_and(|n| n > cap) {
        return Err(FetchError::ResponderError);
    }
    let mut out = Vec::new();
    match response.into_reader().take(cap + 1).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > cap => Err(FetchError::ResponderError),
        Ok(_) => Ok(out),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => Err(FetchError::Timeout),
        Err(_) => Err(FetchError::ResponderError),
    }
}

/// Sorts a failed request: a timeout anywhere in the error's causes is a timeout; a failure to
/// connect or resolve is offline; everything else is the server's.
fn classify(e: &ureq::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
                return FetchError::Timeout;
            }
        }
        source = s.source();
    }
    match e.kind() {
        ureq::ErrorKind::Dns | ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::ProxyConnect => FetchError::Offline,
        _ => FetchError::ResponderError,
    }
}

/// The proxy for `url`, if any. `env` reads an environment variable (a parameter so tests can
/// give their own). Lowercase names win over uppercase ones, as in curl.
pub fn proxy_for(url: &str, setting: &ProxySetting, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let host = host_of(url.get(7..).unwrap_or(""));
    if is_loopback(&host) {
        return None;
    }
    let var = |lower: &str, upper: &str| env(lower).or_else(|| env(upper)).filter(|v| !v.trim().is_empty());
    let proxy = match setting {
        ProxySetting::Direct => return None,
        ProxySetting::Url(url) => url.clone(),
        ProxySetting::FromEnvironment => var("http_proxy", "HTTP_PROXY")?,
    };
    if let Some(list) = var("no_proxy", "NO_PROXY") {
        if no_proxy_matches(&list, &host) {
            return None;
        }
    }
    Some(proxy)
}

/// Whether `host` is exempt by a `no_proxy` list: `*`, the host itself, or a domain it is in
/// (`example.org` and `.example.org` both cover `ocsp.example.org`). Ports in entries are ignored.
pub(crate) fn no_proxy_matches(list: &str, host: &str) -> bool {
    list.split(',').map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches('.');
        let entry = match entry.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.contains(':') => name,
            _ => entry,
        };
        let entry = entry.trim_matches(|c| c == '[' || c == ']').to_ascii_lowercase();
        host == entry || host.ends_with(&format!(".{entry}"))
    })
}

/// The host of `host[:port][/path]` (after the scheme), lowercase, without brackets.
pub(crate) fn host_of(rest: &str) -> String {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(inner) = authority.strip_prefix('[') {
        inner.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn only_plain_http_urls_are_fetched() {
        assert!(usable_url("http://ocsp.example.org").is_some());
        assert!(usable_url("HTTP://ocsp.example.org/path").is_some());
        for url in ["https://ocsp.example.org/", "ldap://ldap.example.org/cn=CA?certificateRevocationList", "http://", "http:///x", "http://a b/", "ocsp.example.org"] {
            assert!(usable_url(url).is_none(), "{url}");
        }
    }

    #[test]
    fn the_proxy_comes_from_settings_or_environment_and_spares_no_proxy_hosts_and_loopback() {
        let env = env_of(&[("http_proxy", "http://proxy.corp:3128"), ("NO_PROXY", "internal.example, .ca.example:80")]);
        let from_env = ProxySetting::FromEnvironment;
        assert_eq!(proxy_for("http://ocsp.example.org/", &from_env, &env).as_deref(), Some("http://proxy.corp:3128"));
        assert_eq!(proxy_for("http://internal.example/", &from_env, &env), None);
        assert_eq!(proxy_for("http://ocsp.ca.example/", &from_env, &env), None);
        assert_eq!(proxy_for("http://notca.example/", &from_env, &env).as_deref(), Some("http://proxy.corp:3128"));
        assert_eq!(proxy_for("http://127.0.0.1:8080/", &from_env, &env), None, "loopback is never proxied");
        assert_eq!(proxy_for("http://[::1]:8080/", &from_env, &env), None);
        assert_eq!(proxy_for("http://localhost/", &from_env, &env), None);
        assert_eq!(proxy_for("http://ocsp.example.org/", &ProxySetting::Direct, &env), None);
        let set = ProxySetting::Url("http://it-proxy:8080".into());
        assert_eq!(proxy_for("http://ocsp.example.org/", &set, &env).as_deref(), Some("http://it-proxy:8080"));
        assert_eq!(proxy_for("http://internal.example/", &set, &env), None, "no_proxy applies to a configured proxy too");
        let none = env_of(&[]);
        assert_eq!(proxy_for("http://ocsp.example.org/", &from_env, &none), None);
        let all = env_of(&[("HTTP_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(proxy_for("http://ocsp.example.org/", &from_env, &all), None);
    }

    #[test]
    fn hosts_are_read_from_urls_with_ports_credentials_and_ipv6() {
        assert_eq!(host_of("Example.ORG:80/x"), "example.org");
        assert_eq!(host_of("user:pw@host.example/x"), "host.example");
        assert_eq!(host_of("[2001:db8::1]:8080/x"), "2001:db8::1");
        assert_eq!(host_of(""), "");
    }
}
