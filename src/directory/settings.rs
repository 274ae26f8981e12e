//! A directory's settings as IT or the user wrote them (docs/DIRECTORY.md): read from the
//! configuration files' `directories` lists, from the add-on's managed settings, and from what
//! the options page saves. Every entry is checked as a whole; one with a mistake is reported and
//! left out, never half used.

use super::filter::{FilterTemplate, DEFAULT_FILTER};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// The attributes asked for unless the entry names others: the S/MIME certificate attribute
/// (a PKCS#7 certs-only bundle: RFC 2798; Active Directory and Exchange) and the plain
/// certificate attribute (one DER certificate per value).
pub const DEFAULT_ATTRIBUTES: &[&str] = &["userSMIMECertificate", "userCertificate;binary"];

pub const DEFAULT_TIMEOUT_SECS: u64 = 3;
pub const MAX_TIMEOUT_SECS: u64 = 30;
pub const DEFAULT_SIZE_LIMIT: u32 = 10;
pub const MAX_SIZE_LIMIT: u32 = 100;
/// At most this many directories are asked (each in its own thread).
pub const MAX_DIRECTORIES: usize = 8;
const MAX_ATTRIBUTES: usize = 8;
const MAX_ID_LEN: usize = 64;
const MAX_TEXT_LEN: usize = 1024;

/// Where a directory's settings come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The system-wide configuration file (IT).
    #[default]
    System,
    /// The add-on's managed settings (IT, through Thunderbird's policies).
    Managed,
    /// The user's configuration file (also what the options page saves).
    User,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::System => "system",
            Origin::Managed => "managed",
            Origin::User => "user",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Ldap,
    Ldaps,
}

/// How the companion signs in to the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    Anonymous,
    /// A simple bind as `dn`; the password from `password_file`, else the user's password
    /// store (`secrets`), by the directory's id.
    Simple { dn: String, password_file: Option<PathBuf> },
}

/// One directory, checked.
#[derive(Debug, Clone)]
pub struct DirectorySettings {
    pub id: String,
    pub origin: Origin,
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    pub starttls: bool,
    pub base_dn: String,
    pub filter_text: String,
    pub filter: FilterTemplate,
    pub attributes: Vec<String>,
    pub bind: Bind,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub size_limit: u32,
}

/// An entry as written (the JSON form everywhere: files, managed settings, `directories_save`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub starttls: bool,
    pub base_dn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_password_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl DirectoryEntry {
    /// Reads one entry from JSON; the error names what is wrong (a password written into the
    /// settings is refused with where it belongs instead).
    pub fn from_json(value: &Value) -> Result<DirectoryEntry, String> {
        if let Some(obj) = value.as_object() {
            if obj.contains_key("bind_password") || obj.contains_key("password") {
                return Err("a password does not belong in the settings: use bind_password_file, or store it with \
                            `smime-companion directories password ID` (or the add-on's options page)"
                    .into());
            }
        }
        serde_json::from_value(value.clone()).map_err(|e| e.to_string())
    }

    /// Checks the entry and fills in the defaults.
    pub fn check(&self, origin: Origin) -> Result<DirectorySettings, String> {
        let (scheme, host, port) = parse_url(&self.url)?;
        if self.starttls && scheme == Scheme::Ldaps {
            return Err("starttls is for ldap:// URLs; ldaps:// is TLS from the start".into());
        }
        let id = match &self.id {
            Some(id) => id.clone(),
            None => host.clone(),
        };
        if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err(format!("id {id:?}: use up to {MAX_ID_LEN} letters, digits, '.', '_' or '-'"));
        }
        let base_dn = text("base_dn", &self.base_dn)?;
        let filter_text = self.filter.clone().unwrap_or_else(|| DEFAULT_FILTER.to_string());
        let filter = FilterTemplate::parse(&filter_text).map_err(|e| format!("filter: {e}"))?;
        let attributes: Vec<String> = match &self.attributes {
            None => DEFAULT_ATTRIBUTES.iter().map(|a| a.to_string()).collect(),
            Some(list) if list.is_empty() || list.len() > MAX_ATTRIBUTES => {
                return Err(format!("attributes: give 1 to {MAX_ATTRIBUTES} attribute names"))
            }
            Some(list) => list.clone(),
        };
        for a in &attributes {
            // The same rule as for names inside a filter.
            FilterTemplate::parse(&format!("({a}=%s)")).map_err(|_| format!("attributes: {a:?} is not an attribute name"))?;
        }
        let bind = match (&self.bind_dn, &self.bind_password_file) {
            (None, None) => Bind::Anonymous,
            (None, Some(_)) => return Err("bind_password_file without bind_dn".into()),
            (Some(dn), file) => Bind::Simple { dn: text("bind_dn", dn)?, password_file: file.as_ref().map(PathBuf::from) },
        };
        let timeout = match self.timeout_seconds {
            None => DEFAULT_TIMEOUT_SECS,
            Some(s @ 1..=MAX_TIMEOUT_SECS) => s,
            Some(s) => return Err(format!("timeout_seconds must be from 1 to {MAX_TIMEOUT_SECS}, got {s}")),
        };
        let size_limit = match self.size_limit {
            None => DEFAULT_SIZE_LIMIT,
            Some(n @ 1..=MAX_SIZE_LIMIT) => n,
            Some(n) => return Err(format!("size_limit must be from 1 to {MAX_SIZE_LIMIT}, got {n}")),
        };
        Ok(DirectorySettings {
            id,
            origin,
            scheme,
            host,
            port,
            starttls: self.starttls,
            base_dn,
            filter_text,
            filter,
            attributes,
            bind,
            ca_file: self.ca_file.as_ref().map(PathBuf::from),
            timeout: Duration::from_secs(timeout),
            size_limit,
        })
    }
}

/// Reads a `directories` list: the directories that are fine, and a problem for each entry that
/// is not (with its position).
pub fn read_list(value: &Value, origin: Origin) -> (Vec<(DirectoryEntry, DirectorySettings)>, Vec<String>) {
    let mut good = Vec::new();
    let mut problems = Vec::new();
    let Value::Array(items) = value else {
        if !value.is_null() {
            problems.push("directories must be a list of directory settings".to_string());
        }
        return (good, problems);
    };
    for (i, item) in items.iter().enumerate() {
        match DirectoryEntry::from_json(item).and_then(|e| e.check(origin).map(|s| (e, s))) {
            Ok(pair) => good.push(pair),
            Err(e) => problems.push(format!("directories[{i}]: {e}")),
        }
    }
    (good, problems)
}

fn text(field: &str, value: &str) -> Result<String, String> {
    if value.trim().is_empty() || value.len() > MAX_TEXT_LEN || value.chars().any(char::is_control) {
        return Err(format!("{field} must be non-empty text of at most {MAX_TEXT_LEN} characters without control characters"));
    }
    Ok(value.trim().to_string())
}

/// `ldap://host[:port][/]` or `ldaps://...`; IPv6 literals in brackets. Anything after the
/// host and port (an RFC 4516 DN, attributes, filter) is refused: those have their own settings.
pub fn parse_url(url: &str) -> Result<(Scheme, String, u16), String> {
    let lower = url.trim().to_ascii_lowercase();
    let (scheme, rest) = if let Some(rest) = lower.strip_prefix("ldaps://") {
        (Scheme::Ldaps, rest)
    } else if let Some(rest) = lower.strip_prefix("ldap://") {
        (Scheme::Ldap, rest)
    } else {
        return Err(format!("url {url:?} must start with ldap:// or ldaps://"));
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '@', '#']) {
        return Err(format!("url {url:?}: give only the host and port (the base DN, attributes and filter are settings of their own)"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(|| format!("url {url:?}: unclosed ["))?;
        addr.parse::<std::net::Ipv6Addr>().map_err(|_| format!("url {url:?}: {addr:?} is not an IPv6 address"))?;
        (addr.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && (host.contains(':') || host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    if !host_ok {
        return Err(format!("url {url:?}: {host:?} is not a host name"));
    }
    let port = match port {
        None => if scheme == Scheme::Ldaps { 636 } else { 389 },
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("url {url:?}: {p:?} is not a port"))?,
    };
    Ok((scheme, host, port))
}

impl DirectorySettings {
    /// The URL as the companion uses it (for listings and the log; holds no secret).
    pub fn url(&self) -> String {
        let scheme = if self.scheme == Scheme::Ldaps { "ldaps" } else { "ldap" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// Whether the connection is protected by TLS (ldaps:// or StartTLS).
    pub fn tls(&self) -> bool {
        self.scheme == Scheme::Ldaps || self.starttls
    }

    /// A key that tells directories apart across origins.
    pub fn key(&self) -> String {
        format!("{}:{}", self.origin.as_str(), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_give_scheme_host_and_port() {
        assert_eq!(parse_url("ldap://ldap.example.org").unwrap(), (Scheme::Ldap, "ldap.example.org".into(), 389));
        assert_eq!(parse_url("LDAPS://Ldap.Example.org:3269/").unwrap(), (Scheme::Ldaps, "ldap.example.org".into(), 3269));
        assert_eq!(parse_url("ldap://127.0.0.1:1389").unwrap(), (Scheme::Ldap, "127.0.0.1".into(), 1389));
        assert_eq!(parse_url("ldaps://[::1]:636").unwrap(), (Scheme::Ldaps, "::1".into(), 636));
        for bad in ["http://x.org", "ldap://", "ldap://x.org:0", "ldap://x.org:99999", "ldap://x.org/dc=x", "ldap://u@x.org", "ldap://x y"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entry_gets_defaults_and_mistakes_are_named() {
        let (good, problems) = read_list(
            &json!([
                {"url": "ldaps://ldap.example.org", "base_dn": "dc=example,dc=org"},
                {"id": "corp", "url": "ldap://dc1.corp.example", "starttls": true, "base_dn": "dc=corp", "bind_dn": "cn=reader", "bind_password_file": "/etc/pw", "timeout_seconds": 5, "size_limit": 20, "attributes": ["userCertificate;binary"]},
                {"url": "ldap://x.org", "base_dn": "dc=x", "bind_password": "secret"},
                {"url": "ldaps://x.org", "starttls": true, "base_dn": "dc=x"},
                {"url": "ldap://x.org", "base_dn": "dc=x", "filter": "(mail=bob@example.org)"},
                {"url": "ldap://x.org", "base_dn": "dc=x", "timeout_seconds": 0},
                {"url": "ldap://x.org", "base_dn": "dc=x", "basedn": "typo"},
                {"url": "ldap://x.org", "base_dn": ""}
            ]),
            Origin::System,
        );
        assert_eq!(good.len(), 2, "{problems:?}");
        let (_, d) = &good[0];
        assert_eq!(d.id, "ldap.example.org");
        assert_eq!(d.filter_text, DEFAULT_FILTER);
        assert_eq!(d.attributes, DEFAULT_ATTRIBUTES);
        assert_eq!(d.bind, Bind::Anonymous);
        assert_eq!(d.timeout, Duration::from_secs(3));
        assert!(d.tls());
        let (_, c) = &good[1];
        assert_eq!(c.bind, Bind::Simple { dn: "cn=reader".into(), password_file: Some("/etc/pw".into()) });
        assert!(c.tls() && c.starttls);
        assert_eq!(problems.len(), 6);
        assert!(problems[0].contains("directories[2]") && problems[0].contains("bind_password_file"), "{}", problems[0]);
        assert!(!problems.iter().any(|p| p.contains("secret")), "a password is never repeated");
        assert!(problems[2].contains("%s"));
    }
}
