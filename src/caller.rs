//! Who started the host, and whether they may use it.
//!
//! Thunderbird and Firefox start a native host with two arguments: the absolute path of the host
//! manifest and the calling add-on's ID. Chromium browsers pass the caller's origin
//! (`chrome-extension://ID/`), on Windows followed by `--parent-window=N`. Anything else is a person
//! or a script using the CLI.

use crate::config::Config;
use crate::product::{chromium_origin, ADDON_ID};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A browser that started the host for native messaging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Thunderbird or Firefox: `argv = [exe, manifest path, add-on id]`.
    Mozilla { manifest: PathBuf, addon_id: String },
    /// Chrome, Edge, Chromium: `argv = [exe, origin, (--parent-window=N)]`.
    Chromium { origin: String },
}

impl Caller {
    /// Recognises a browser start from the arguments after the program name.
    pub fn detect(args: &[OsString]) -> Option<Caller> {
        let first = args.first()?.to_str()?;
        if first.starts_with("chrome-extension://") {
            let rest_ok = args[1..]
                .iter()
                .all(|a| a.to_str().is_some_and(|s| s.starts_with("--parent-window=")));
            return rest_ok.then(|| Caller::Chromium { origin: first.to_string() });
        }
        if args.len() == 2 {
            let manifest = Path::new(first);
            let addon_id = args[1].to_str()?;
            let looks_like_manifest = manifest.is_absolute()
                && manifest.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
            if looks_like_manifest && !addon_id.is_empty() && !addon_id.starts_with('-') {
                return Some(Caller::Mozilla { manifest: manifest.to_path_buf(), addon_id: addon_id.to_string() });
            }
        }
        None
    }

    /// The caller's identity as matched against the allow-list.
    pub fn identity(&self) -> &str {
        match self {
            Caller::Mozilla { addon_id, .. } => addon_id,
            Caller::Chromium { origin } => origin,
        }
    }
}

/// The add-on IDs and origins that may use the host.
#[derive(Debug, Clone)]
pub struct AllowList {
    extensions: Vec<String>,
    origins: Vec<String>,
}

impl AllowList {
    /// The bundled Thunderbird add-on and Outlook-on-the-web extension, plus whatever the
    /// configuration files add (another ID the extension got from a store, say).
    pub fn from_config(config: &Config) -> AllowList {
        let mut extensions = vec![ADDON_ID.to_string()];
        for id in &config.allowed_extensions {
            if !extensions.contains(id) {
                extensions.push(id.clone());
            }
        }
        // Config admits only well-formed origins.
        let mut origins = vec![chromium_origin()];
        for origin in &config.allowed_origins {
            if !origins.contains(origin) {
                origins.push(origin.clone());
            }
        }
        AllowList { extensions, origins }
    }

    pub fn allows(&self, caller: &Caller) -> bool {
        match caller {
            Caller::Mozilla { addon_id, .. } => self.extensions.iter().any(|e| e == addon_id),
            Caller::Chromium { origin } => self.origins.iter().any(|o| o == origin),
        }
    }

    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn recognises_mozilla_and_chromium_starts() {
        assert_eq!(
            Caller::detect(&args(&["/home/u/.mozilla/native-messaging-hosts/smime_companion.json", "a@b"])),
            Some(Caller::Mozilla {
                manifest: "/home/u/.mozilla/native-messaging-hosts/smime_companion.json".into(),
                addon_id: "a@b".into()
            })
        );
        let origin = format!("chrome-extension://{}/", "b".repeat(32));
        assert_eq!(
            Caller::detect(&args(&[&origin, "--parent-window=0"])),
            Some(Caller::Chromium { origin: origin.clone() })
        );
    }

    #[test]
    fn cli_invocations_are_not_browser_starts() {
        assert_eq!(Caller::detect(&args(&[])), None);
        assert_eq!(Caller::detect(&args(&["inspect", "mail.eml"])), None);
        assert_eq!(Caller::detect(&args(&["relative.json", "a@b"])), None);
        assert_eq!(Caller::detect(&args(&["/abs/m.json", "--json"])), None);
        assert_eq!(Caller::detect(&args(&["contacts", "list", "--json"])), None);
    }

    #[test]
    fn only_listed_callers_are_allowed() {
        let list = AllowList::from_config(&Config::default());
        let ours = Caller::Mozilla { manifest: "/m.json".into(), addon_id: ADDON_ID.into() };
        let other = Caller::Mozilla { manifest: "/m.json".into(), addon_id: "evil@example.com".into() };
        assert!(list.allows(&ours));
        assert!(!list.allows(&other));
        assert!(!list.allows(&Caller::Chromium { origin: format!("chrome-extension://{}/", "a".repeat(32)) }));
    }

    #[test]
    fn the_bundled_outlook_extension_is_allowed_and_configured_origins_are_added_once() {
        let ours = Caller::Chromium { origin: chromium_origin() };
        assert!(AllowList::from_config(&Config::default()).allows(&ours));
        let other = format!("chrome-extension://{}/", "c".repeat(32));
        let config = Config { allowed_origins: vec![other.clone(), chromium_origin(), other.clone()], ..Config::default() };
        let list = AllowList::from_config(&config);
        assert_eq!(list.origins(), [chromium_origin(), other.clone()]);
        assert!(list.allows(&Caller::Chromium { origin: other }));
        // Only the exact origin: Chromium always passes it with the trailing slash.
        assert!(!list.allows(&Caller::Chromium { origin: chromium_origin().trim_end_matches('/').to_string() }));
    }
}
