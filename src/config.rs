//! Configuration files (documented in docs/CONFIG.md): a system-wide one that IT manages and a
//! per-user one. Both have the same format; lists are merged, and for `unlock_minutes` the
//! shorter time wins; for the revocation settings IT's file wins. A missing file is normal; a
//! broken one is reported and skipped, so a typo by IT cannot take the host down for everyone.

use crate::certs::revocation::http::ProxySetting;
use crate::certs::revocation::{self, Mode as RevocationMode};
use crate::error::{Error, Result};
use crate::home::{system_config_file, Home};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The merged configuration of one run.
#[derive(Debug, Default)]
pub struct Config {
    /// Extra Mozilla add-on IDs allowed to use the host, besides the bundled add-on.
    pub allowed_extensions: Vec<String>,
    /// Chromium origins (`chrome-extension://ID/`) allowed to use the host.
    pub allowed_origins: Vec<String>,
    /// How long an unlocked private key stays in memory, in minutes (`unlock_minutes`).
    pub unlock_minutes: Option<u64>,
    /// Problems found while reading the files, for `doctor` and the log.
    pub problems: Vec<Error>,
    // --- revocation (docs/CONFIG.md, "Revocation"): IT's file wins over the user's.
    /// `revocation`: `off`, `on` or `required`, and whether IT set it.
    pub revocation: Option<(RevocationMode, Origin)>,
    /// `revocation_proxy`: an `http://host:port` proxy or `direct`, and whether IT set it.
    pub revocation_proxy: Option<(ProxySetting, Origin)>,
    // --- directories (docs/DIRECTORY.md) ---
    /// LDAP directories to look certificates up in (`directories`), system file first.
    pub directories: Vec<crate::directory::settings::DirectorySettings>,
    /// Directory entries left out, and why (`directories list`, the options page): a mistake in
    /// one directory is not a broken file.
    pub directory_problems: Vec<String>,
}

/// Which file a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    It,
    User,
}

/// Keys this version understands; others are reported as problems, not fatal.
const KNOWN_KEYS: &[&str] = &["allowed_extensions", "allowed_origins", "unlock_minutes", "revocation", "revocation_proxy", DIRECTORY_KEY];

/// The directories' list (docs/DIRECTORY.md).
pub const DIRECTORY_KEY: &str = "directories";

/// The longest `unlock_minutes` accepted: one working day.
pub const MAX_UNLOCK_MINUTES: u64 = 12 * 60;

impl Config {
    /// Loads the system-wide file, then the per-user one.
    pub fn load(home: &Home) -> Config {
        let mut config = Config::default();
        config.merge_file(&system_config_file(), Origin::It);
        config.merge_file(&home.user_config_file(), Origin::User);
        config
    }

    /// Loads only the given files, in order: the system-wide file alone for a machine-wide
    /// install, one file at a time for `doctor`.
    pub fn load_files(paths: &[PathBuf]) -> Config {
        let mut config = Config::default();
        for path in paths {
            config.merge_file(path, Origin::It);
        }
        config
    }

    fn merge_file(&mut self, path: &Path, origin: Origin) {
        match read_file(path) {
            Ok(None) => {}
            Ok(Some(value)) => {
                if let Err(e) = self.merge_value(path, &value, origin) {
                    self.problems.push(e);
                }
            }
            Err(e) => self.problems.push(e),
        }
    }

    fn merge_value(&mut self, path: &Path, value: &Value, origin: Origin) -> Result<()> {
        let bad = |reason: String| Error::BadConfig { path: path.display().to_string(), reason };
        let Value::Object(fields) = value else {
            return Err(bad("the file must hold a JSON object".into()));
        };
        for (key, _) in fields.iter().filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str())) {
            self.problems.push(bad(format!("unknown setting {key:?} ignored")));
        }
        let unlock_minutes = match fields.get("unlock_minutes") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(m @ 1..=MAX_UNLOCK_MINUTES) => Some(m),
                _ => return Err(bad(format!("unlock_minutes must be a whole number from 1 to {MAX_UNLOCK_MINUTES}, got {v}"))),
            },
        };
        let extensions = string_list(fields.get("allowed_extensions")).map_err(|r| bad(r))?;
        let origins = string_list(fields.get("allowed_origins")).map_err(|r| bad(r))?;
        if let Some(origin) = origins.iter().find(|o| !is_chromium_origin(o)) {
            return Err(bad(format!("{origin:?} is not of the form chrome-extension://ID/")));
        }
        let revocation = match fields.get("revocation") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_str().and_then(RevocationMode::parse) {
                Some(mode) => Some(mode),
                None => return Err(bad(format!("revocation must be \"off\", \"on\" or \"required\", got {v}"))),
            },
        };
        let revocation_proxy = match fields.get("revocation_proxy") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_str() {
                Some("direct") => Some(ProxySetting::Direct),
                Some(url) if is_http_proxy_url(url) => Some(ProxySetting::Url(url.to_string())),
                _ => return Err(bad(format!("revocation_proxy must be \"direct\" or an http://host:port address, got {v}"))),
            },
        };
        // Directories: an entry with a mistake is reported and left out; the others apply.
        let directory_origin = match origin {
            Origin::It => crate::directory::settings::Origin::System,
            Origin::User => crate::directory::settings::Origin::User,
        };
        let (directories, directory_problems) =
            crate::directory::settings::read_list(fields.get(DIRECTORY_KEY).unwrap_or(&Value::Null), directory_origin);
        // Every setting checked: only now does the file change anything (a broken file is
        // skipped as a whole, never half applied).
        self.allowed_extensions.extend(extensions);
        self.allowed_origins.extend(origins);
        let file = path.display();
        self.directory_problems.extend(directory_problems.into_iter().map(|p| format!("{file}: {p}")));
        for (_, d) in directories {
            if self.directories.iter().any(|known| known.key() == d.key()) {
                self.directory_problems.push(format!("{file}: directory id {:?} is used twice; the second is left out", d.id));
            } else if self.directories.len() >= crate::directory::settings::MAX_DIRECTORIES {
                self.directory_problems.push(format!("{file}: more than {} directories; {:?} is left out", crate::directory::settings::MAX_DIRECTORIES, d.id));
            } else {
                self.directories.push(d);
            }
        }
        // The shorter time wins: a user may lock sooner than IT asks, never later.
        self.unlock_minutes = match (self.unlock_minutes, unlock_minutes) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // IT's choice stands: a user may not switch off a check IT requires, nor route around
        // IT's proxy.
        if let Some(mode) = revocation {
            if self.revocation.map_or(true, |(_, o)| o == Origin::User) || origin == Origin::It {
                self.revocation = Some((mode, origin));
            }
        }
        if let Some(proxy) = revocation_proxy {
            if self.revocation_proxy.as_ref().map_or(true, |(_, o)| *o == Origin::User) || origin == Origin::It {
                self.revocation_proxy = Some((proxy, origin));
            }
        }
        Ok(())
    }

    /// The revocation settings of this run: IT's file, else `SMIME_COMPANION_REVOCATION`, else
    /// the user's file, else `on`; the proxy from IT's file, else the user's, else the
    /// environment (`http_proxy`, `no_proxy`).
    pub fn revocation_settings(&self) -> revocation::Settings {
        let env = std::env::var(revocation::MODE_ENV).ok().and_then(|v| RevocationMode::parse(v.trim()));
        let mode = match (self.revocation, env) {
            (Some((mode, Origin::It)), _) => mode,
            (_, Some(mode)) => mode,
            (Some((mode, Origin::User)), None) => mode,
            (None, None) => RevocationMode::default(),
        };
        let proxy = self.revocation_proxy.as_ref().map_or(ProxySetting::FromEnvironment, |(p, _)| p.clone());
        revocation::Settings { mode, proxy }
    }

    /// How long unlocked keys stay in memory.
    pub fn unlock_duration(&self) -> std::time::Duration {
        self.unlock_minutes
            .map_or(crate::identities::session::DEFAULT_UNLOCK, |m| std::time::Duration::from_secs(m * 60))
    }
}

fn read_file(path: &Path) -> Result<Option<Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::BadConfig { path: path.display().to_string(), reason: e.to_string() })
}

fn string_list(value: Option<&Value>) -> std::result::Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| format!("list item {v} is not a string")))
            .collect(),
        Some(other) => Err(format!("expected a list of strings, got {other}")),
    }
}

/// `http://host[:port][/]`: a proxy the revocation checks can use (plain HTTP only).
fn is_http_proxy_url(url: &str) -> bool {
    revocation::http::usable_url(url).is_some() && !url[7..].trim_end_matches('/').contains(['/', '?', '#', '@'])
}

/// `chrome-extension://<32 letters a-p>/`, the only form Chromium passes.
pub fn is_chromium_origin(origin: &str) -> bool {
    origin
        .strip_prefix("chrome-extension://")
        .and_then(|rest| rest.strip_suffix('/'))
        .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_lists_and_reports_unknown_keys() {
        let mut c = Config::default();
        c.merge_value(
            Path::new("x"),
            &json!({"allowed_extensions": ["a@b"], "allowed_origins": [format!("chrome-extension://{}/", "a".repeat(32))], "colour": 1}),
            Origin::User,
        )
        .unwrap();
        assert_eq!(c.allowed_extensions, vec!["a@b"]);
        assert_eq!(c.allowed_origins.len(), 1);
        assert_eq!(c.problems.len(), 1);
    }

    #[test]
    fn unlock_minutes_the_shorter_wins_and_nonsense_is_refused() {
        let mut c = Config::default();
        assert_eq!(c.unlock_duration(), crate::identities::session::DEFAULT_UNLOCK);
        c.merge_value(Path::new("system"), &json!({"unlock_minutes": 30}), Origin::It).unwrap();
        c.merge_value(Path::new("user"), &json!({"unlock_minutes": 240}), Origin::User).unwrap();
        assert_eq!(c.unlock_duration().as_secs(), 30 * 60, "a user cannot keep keys open longer than IT allows");
        c.merge_value(Path::new("user"), &json!({"unlock_minutes": 5}), Origin::User).unwrap();
        assert_eq!(c.unlock_duration().as_secs(), 5 * 60);
        for bad in [json!(0), json!(-3), json!(2.5), json!("10"), json!(MAX_UNLOCK_MINUTES + 1)] {
            assert!(Config::default().merge_value(Path::new("x"), &json!({"unlock_minutes": bad}), Origin::User).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_malformed_origins_and_non_lists() {
        let mut c = Config::default();
        assert!(c.merge_value(Path::new("x"), &json!({"allowed_origins": ["https://evil/"]}), Origin::User).is_err());
        assert!(c.merge_value(Path::new("x"), &json!({"allowed_extensions": "a@b"}), Origin::User).is_err());
        assert!(c.merge_value(Path::new("x"), &json!([1]), Origin::User).is_err());
    }

    #[test]
    fn revocation_it_wins_over_the_user_and_nonsense_is_refused() {
        let mut c = Config::default();
        assert_eq!(c.revocation_settings().mode, RevocationMode::On, "on by default");
        c.merge_value(Path::new("system"), &json!({"revocation": "required", "revocation_proxy": "http://proxy.corp:3128"}), Origin::It).unwrap();
        c.merge_value(Path::new("user"), &json!({"revocation": "off", "revocation_proxy": "direct"}), Origin::User).unwrap();
        assert_eq!(c.revocation, Some((RevocationMode::Required, Origin::It)), "a user cannot switch off what IT requires");
        assert_eq!(c.revocation_settings().proxy, ProxySetting::Url("http://proxy.corp:3128".into()));
        let mut user_only = Config::default();
        user_only.merge_value(Path::new("user"), &json!({"revocation": "off", "revocation_proxy": "direct"}), Origin::User).unwrap();
        assert_eq!(user_only.revocation, Some((RevocationMode::Off, Origin::User)));
        assert_eq!(user_only.revocation_settings().proxy, ProxySetting::Direct);
        for bad in [json!({"revocation": "maybe"}), json!({"revocation": true}), json!({"revocation_proxy": "https://p:1"}), json!({"revocation_proxy": "socks5://p:1"}), json!({"revocation_proxy": 3128})] {
            assert!(Config::default().merge_value(Path::new("x"), &bad, Origin::User).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_broken_file_changes_nothing() {
        let mut c = Config::default();
        let broken = json!({"unlock_minutes": 5, "allowed_extensions": ["x@y"], "allowed_origins": ["chrome-extension://bad/"]});
        assert!(c.merge_value(Path::new("x"), &broken, Origin::User).is_err());
        assert!(c.allowed_extensions.is_empty() && c.allowed_origins.is_empty() && c.unlock_minutes.is_none());
    }

    #[test]
    fn a_directory_with_a_mistake_is_left_out_alone_and_a_broken_file_brings_none() {
        let mut c = Config::default();
        c.merge_value(
            Path::new("system"),
            &json!({"allowed_extensions": ["a@b"], "directories": [
                {"id": "corp", "url": "ldaps://ldap.example.org", "base_dn": "dc=example,dc=org"},
                {"url": "ldaps://x.example.org", "base_dn": "dc=x", "bind_password": "s3cret"},
                {"id": "corp", "url": "ldap://other.example.org", "base_dn": "dc=o"}
            ]}),
            Origin::It,
        )
        .unwrap();
        assert_eq!(c.allowed_extensions, vec!["a@b"], "the file's other settings apply");
        assert_eq!(c.directories.len(), 1);
        assert_eq!(c.directories[0].origin, crate::directory::settings::Origin::System);
        assert_eq!(c.directory_problems.len(), 2, "{:?}", c.directory_problems);
        assert!(!c.directory_problems.iter().any(|p| p.contains("s3cret")));
        assert!(c.problems.is_empty(), "not a broken file");
        let broken = json!({"unlock_minutes": 0, "directories": [{"url": "ldaps://y.example.org", "base_dn": "dc=y"}]});
        assert!(c.merge_value(Path::new("user"), &broken, Origin::User).is_err());
        assert_eq!(c.directories.len(), 1, "a broken file is skipped as a whole, directories too");
        c.merge_value(Path::new("user"), &json!({"directories": [{"url": "ldaps://y.example.org", "base_dn": "dc=y"}]}), Origin::User).unwrap();
        assert_eq!(c.directories[1].origin, crate::directory::settings::Origin::User);
    }
}
