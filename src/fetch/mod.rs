//! Downloading a message from the user's mail server for an add-on (`transfer_fetch`): the
//! Outlook-on-the-web extension names Microsoft Graph's address of the opened message and its
//! access token, and the host reads the message itself instead of having the browser hand it
//! over through native messaging (`tests/outlook-web/run.sh bench`, 25 MiB: the seal 356 ms after
//! navigating with the browser's download and upload, 155 ms with the host's download).
//!
//! Only `https://` is fetched (`http://` on this computer only, for stand-ins), with the server's
//! certificate checked against the system's trust store by OpenSSL ([`tls`]), no redirects (the
//! token must not follow one), a time limit and a size cap. The token is sent to that address
//! alone and never logged. A proxy comes from `https_proxy`/`HTTPS_PROXY` (minus `no_proxy`);
//! when the host cannot reach the server where the browser can (a proxy that needs the browser's
//! sign-in, say), the extension downloads the message itself, as before.

mod tls;

use crate::certs::revocation::http::{host_of, is_loopback, no_proxy_matches};
use crate::error::{Error, FetchProblem, Result};
use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// Connecting (name lookup, TCP, TLS handshake) may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The largest message fetched: what the host takes as one message (docs/PROTOCOL.md).
pub const MAX_FETCH_BYTES: u64 = 256 * 1024 * 1024;

/// The longest a whole download may take unless the caller allows more (`timeout_ms`).
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 120_000;
/// The most a caller may allow.
pub const MAX_FETCH_TIMEOUT_MS: u64 = 600_000;

/// Test and diagnosis aid, like curl's `--connect-to`: `host:port:address:port[,…]` sends
/// connections for `host:port` to `address:port` instead (the TLS name stays `host`).
pub const CONNECT_TO_ENV: &str = "SMIME_COMPANION_CONNECT_TO";

/// What to download.
pub struct FetchRequest<'a> {
    pub url: &'a str,
    /// The `Authorization` header's value (`Bearer …`), if any.
    pub authorization: Option<&'a str>,
    /// What the answer should be (`Accept`).
    pub accept: &'a str,
    pub timeout: Duration,
    /// The most bytes taken; a longer answer fails with `too_large`.
    pub limit: u64,
}

/// The URL checked: `https://`, or `http://` to this computer; no user name or password in it.
/// Returns the host, for errors and the proxy choice.
pub fn check_url(url: &str) -> std::result::Result<String, String> {
    let lower = url.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err("the url must begin with https://".into());
    };
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the url holds spaces or characters outside ASCII".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err("the url may not hold a user name or password".into());
    }
    let host = host_of(rest);
    if host.is_empty() {
        return Err("the url names no server".into());
    }
    if lower.starts_with("http://") && !is_loopback(&host) {
        return Err("only https:// addresses are fetched (http:// for this computer only)".into());
    }
    Ok(host)
}

/// Downloads `request.url`: the answer's body when the server says 200.
pub fn fetch(request: &FetchRequest<'_>) -> Result<Vec<u8>> {
    let host = check_url(request.url).map_err(|reason| Error::InvalidParams { op: "transfer_fetch".into(), reason })?;
    let failed = |problem: FetchProblem, status: Option<u16>| Error::FetchFailed { host: host.clone(), problem, status };
    let agent = agent(&host, request.timeout).map_err(|problem| failed(problem, None))?;
    let mut call = agent.get(request.url).set("Accept", request.accept);
    if let Some(value) = request.authorization {
        call = call.set("Authorization", value);
    }
    let response = match call.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(status, _)) => return Err(failed(FetchProblem::Status, Some(status))),
        Err(ureq::Error::Transport(t)) => return Err(failed(classify(&t), None)),
    };
    if response.status() != 200 {
        // 2xx other than 200, and the 3xx ureq hands back when it follows no redirect.
        return Err(failed(FetchProblem::Status, Some(response.status())));
    }
    let announced = response.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > request.limit) {
        return Err(failed(FetchProblem::TooLarge, None));
    }
    // A buffer of the announced size (the one the last large message left, when it fits).
    let mut body = crate::bigbuf::with_capacity(announced.unwrap_or(0) as usize);
    match response.into_reader().take(request.limit + 1).read_to_end(&mut body) {
        Ok(_) if body.len() as u64 > request.limit => Err(failed(FetchProblem::TooLarge, None)),
        Ok(_) if announced.is_some_and(|n| n != body.len() as u64) => Err(failed(FetchProblem::Broken, None)),
        Ok(_) => Ok(body),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => Err(failed(FetchProblem::Timeout, None)),
        Err(_) => Err(failed(FetchProblem::Broken, None)),
    }
}

fn agent(host: &str, timeout: Duration) -> std::result::Result<ureq::Agent, FetchProblem> {
    let connect_to = connect_to(std::env::var(CONNECT_TO_ENV).ok().as_deref());
    let mut builder = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirects(0)
        .max_idle_connections(0)
        .user_agent(concat!("smime-companion/", env!("CARGO_PKG_VERSION")))
        .tls_connector(Arc::new(tls::OpensslTls::new().map_err(|_| FetchProblem::Tls)?))
        .resolver(move |netloc: &str| match connect_to.get(netloc) {
            Some(address) => Ok(vec![*address]),
            None => netloc.to_socket_addrs().map(Iterator::collect),
        });
    if let Some(proxy) = proxy_for(host, &|name| std::env::var(name).ok()) {
        builder = builder.proxy(ureq::Proxy::new(&proxy).map_err(|_| FetchProblem::Offline)?);
    }
    Ok(builder.build())
}

/// The `https_proxy` to use for `host`, if any (loopback and `no_proxy` hosts go direct).
fn proxy_for(host: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if is_loopback(host) {
        return None;
    }
    let var = |lower: &str, upper: &str| env(lower).or_else(|| env(upper)).filter(|v| !v.trim().is_empty());
    let proxy = var("https_proxy", "HTTPS_PROXY")?;
    match var("no_proxy", "NO_PROXY") {
        Some(list) if no_proxy_matches(&list, host) => None,
        _ => Some(proxy),
    }
}

/// `host:port:address:port` entries of [`CONNECT_TO_ENV`]; malformed ones are ignored.
fn connect_to(setting: Option<&str>) -> HashMap<String, SocketAddr> {
    let mut map = HashMap::new();
    for entry in setting.unwrap_or("").split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let mut parts = entry.splitn(3, ':');
        let (Some(host), Some(port), Some(target)) = (parts.next(), parts.next(), parts.next()) else { continue };
        if let (Ok(port), Ok(target)) = (port.parse::<u16>(), target.parse::<SocketAddr>()) {
            map.insert(format!("{}:{port}", host.to_ascii_lowercase()), target);
        }
    }
    map
}

/// Sorts a failed connection: a timeout anywhere in the causes, a TLS failure, or no route.
fn classify(t: &ureq::Transport) -> FetchProblem {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(s) = source {
        if s.downcast_ref::<tls::TlsFailure>().is_some() {
            return FetchProblem::Tls;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
                return FetchProblem::Timeout;
            }
            if io.get_ref().is_some_and(|inner| inner.is::<tls::TlsFailure>()) {
                return FetchProblem::Tls;
            }
        }
        source = s.source();
    }
    match t.kind() {
        ureq::ErrorKind::Dns | ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::ProxyConnect => FetchProblem::Offline,
        _ => FetchProblem::Broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_are_fetched_and_plain_http_only_on_this_computer() {
        assert_eq!(check_url("https://graph.microsoft.com/v1.0/me/messages/x/$value").unwrap(), "graph.microsoft.com");
        assert_eq!(check_url("HTTPS://Graph.Example:8443/x").unwrap(), "graph.example");
        assert_eq!(check_url("http://127.0.0.1:8080/x").unwrap(), "127.0.0.1");
        assert_eq!(check_url("http://localhost/x").unwrap(), "localhost");
        for url in ["http://graph.microsoft.com/x", "ftp://x/", "https://", "https:///x", "https://user:pw@graph.example/x",
            "https://graph.example/a b", "graph.example/x", "https://gräph.example/"] {
            assert!(check_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn connect_to_sends_one_host_and_port_elsewhere() {
        let map = connect_to(Some("graph.test:443:127.0.0.1:8443, bad, x:y:z, Login.test:443:[::1]:9"));
        assert_eq!(map.len(), 2);
        assert_eq!(map["graph.test:443"], "127.0.0.1:8443".parse().unwrap());
        assert_eq!(map["login.test:443"], "[::1]:9".parse().unwrap());
        assert!(connect_to(None).is_empty());
    }

    #[test]
    fn the_https_proxy_is_used_except_for_loopback_and_no_proxy_hosts() {
        let env = |name: &str| match name {
            "HTTPS_PROXY" => Some("http://proxy.corp:3128".to_string()),
            "no_proxy" => Some(".internal.example".to_string()),
            _ => None,
        };
        assert_eq!(proxy_for("graph.microsoft.com", &env).as_deref(), Some("http://proxy.corp:3128"));
        assert_eq!(proxy_for("mail.internal.example", &env), None);
        assert_eq!(proxy_for("127.0.0.1", &env), None);
        assert_eq!(proxy_for("graph.microsoft.com", &|_| None), None);
    }
}
