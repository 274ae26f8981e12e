//! Registering the host with browsers: where each client looks for native-messaging host
//! manifests, per OS and scope, and writing or removing our manifest there.
//!
//! The manifests come from the templates in `manifests/` (compiled in). Only files named
//! `smime_companion.json` whose `name` is ours are ever written or removed, so other products'
//! files in the same folders are safe.

use crate::caller::AllowList;
use crate::error::{Error, Result};
use crate::product::HOST_NAME;
use serde_json::Value;
use std::path::{Path, PathBuf};

const MOZILLA_TEMPLATE: &str = include_str!("../../manifests/mozilla-host.json");
const CHROMIUM_TEMPLATE: &str = include_str!("../../manifests/chromium-host.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    Thunderbird,
    Firefox,
    Chrome,
    Edge,
    Chromium,
}

/// Which manifest flavour a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `allowed_extensions`: Thunderbird and Firefox.
    Mozilla,
    /// `allowed_origins`: Chrome, Edge, Chromium.
    Chromium,
}

impl Client {
    pub const ALL: [Client; 5] = [Client::Thunderbird, Client::Firefox, Client::Chrome, Client::Edge, Client::Chromium];

    pub fn parse(name: &str) -> Option<Vec<Client>> {
        Some(match name {
            "thunderbird" => vec![Client::Thunderbird],
            "firefox" => vec![Client::Firefox],
            "chrome" => vec![Client::Chrome],
            "edge" => vec![Client::Edge],
            "chromium" => vec![Client::Chromium],
            "all" => Client::ALL.to_vec(),
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Client::Thunderbird => "thunderbird",
            Client::Firefox => "firefox",
            Client::Chrome => "chrome",
            Client::Edge => "edge",
            Client::Chromium => "chromium",
        }
    }

    pub fn style(self) -> Style {
        match self {
            Client::Thunderbird | Client::Firefox => Style::Mozilla,
            Client::Chrome | Client::Edge | Client::Chromium => Style::Chromium,
        }
    }
}

/// The file-system roots installation works against: the user's home folder and the system root
/// (`/` normally; a staging folder for packaging and tests).
#[derive(Debug, Clone)]
pub struct Layout {
    pub home: PathBuf,
    pub root: PathBuf,
}

impl Layout {
    /// The real layout of this machine.
    pub fn current() -> Result<Layout> {
        let home = directories::BaseDirs::new()
            .map(|d| d.home_dir().to_path_buf())
            .ok_or_else(|| Error::Io { path: "$HOME".into(), reason: "no home folder".into() })?;
        Ok(Layout { home, root: PathBuf::from("/") })
    }

    fn sys(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// The folders where `client` looks for host manifests in `scope` on this OS.
    pub fn manifest_dirs(&self, client: Client, scope: Scope) -> Vec<PathBuf> {
        let home = &self.home;
        if cfg!(target_os = "macos") {
            match (client, scope) {
                // Thunderbird's per-user folder differs from Firefox's (MOZ_THUNDERBIRD in nsXREDirProvider).
                (Client::Thunderbird, Scope::User) => vec![home.join("Library/Mozilla/NativeMessagingHosts")],
                (Client::Firefox, Scope::User) => {
                    vec![home.join("Library/Application Support/Mozilla/NativeMessagingHosts")]
                }
                (Client::Thunderbird | Client::Firefox, Scope::System) => {
                    vec![self.sys("/Library/Application Support/Mozilla/NativeMessagingHosts")]
                }
                (Client::Chrome, Scope::User) => {
                    vec![home.join("Library/Application Support/Google/Chrome/NativeMessagingHosts")]
                }
                (Client::Chrome, Scope::System) => vec![self.sys("/Library/Google/Chrome/NativeMessagingHosts")],
                (Client::Edge, Scope::User) => {
                    vec![home.join("Library/Application Support/Microsoft Edge/NativeMessagingHosts")]
                }
                (Client::Edge, Scope::System) => vec![self.sys("/Library/Microsoft/Edge/NativeMessagingHosts")],
                (Client::Chromium, Scope::User) => {
                    vec![home.join("Library/Application Support/Chromium/NativeMessagingHosts")]
                }
                (Client::Chromium, Scope::System) => {
                    vec![self.sys("/Library/Application Support/Chromium/NativeMessagingHosts")]
                }
            }
        } else {
            match (client, scope) {
                // Thunderbird and Firefox share the legacy ~/.mozilla folder on Linux.
                (Client::Thunderbird | Client::Firefox, Scope::User) => {
                    vec![home.join(".mozilla/native-messaging-hosts")]
                }
                (Client::Thunderbird | Client::Firefox, Scope::System) => {
                    let mut dirs = vec![self.sys("/usr/lib/mozilla/native-messaging-hosts")];
                    // Builds with HAVE_USR_LIB64_DIR (some distributions' RPMs) look here instead.
                    if self.sys("/usr/lib64").is_dir() {
                        dirs.push(self.sys("/usr/lib64/mozilla/native-messaging-hosts"));
                    }
                    dirs
                }
                (Client::Chrome, Scope::User) => vec![home.join(".config/google-chrome/NativeMessagingHosts")],
                (Client::Chrome, Scope::System) => vec![self.sys("/etc/opt/chrome/native-messaging-hosts")],
                (Client::Edge, Scope::User) => vec![home.join(".config/microsoft-edge/NativeMessagingHosts")],
                (Client::Edge, Scope::System) => vec![self.sys("/etc/opt/edge/native-messaging-hosts")],
                (Client::Chromium, Scope::User) => vec![home.join(".config/chromium/NativeMessagingHosts")],
                (Client::Chromium, Scope::System) => vec![self.sys("/etc/chromium/native-messaging-hosts")],
            }
        }
    }
}

/// The manifest file name every client expects.
pub fn manifest_file_name() -> String {
    format!("{HOST_NAME}.json")
}

/// Renders the manifest for `style` from its template.
pub fn render_manifest(style: Style, host_path: &Path, allow: &AllowList) -> Result<String> {
    let template = match style {
        Style::Mozilla => MOZILLA_TEMPLATE,
        Style::Chromium => CHROMIUM_TEMPLATE,
    };
    let mut manifest: Value = serde_json::from_str(template)
        .map_err(|e| Error::Internal { reason: format!("manifest template: {e}") })?;
    let host_path = host_path.to_str().ok_or_else(|| Error::Io {
        path: host_path.display().to_string(),
        reason: "the program's path is not valid UTF-8".into(),
    })?;
    fill(&mut manifest, host_path, allow);
    let mut text = serde_json::to_string_pretty(&manifest).expect("a Value always serialises");
    text.push('\n');
    Ok(text)
}

fn fill(value: &mut Value, host_path: &str, allow: &AllowList) {
    match value {
        Value::String(s) if s == "@HOST_PATH@" => *s = host_path.to_string(),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items.drain(..) {
                match item.as_str() {
                    Some("@ADDON_IDS@") => out.extend(allow.extensions().iter().cloned().map(Value::String)),
                    Some("@ORIGINS@") => out.extend(allow.origins().iter().cloned().map(Value::String)),
                    _ => {
                        let mut item = item;
                        fill(&mut item, host_path, allow);
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        Value::Object(fields) => fields.values_mut().for_each(|v| fill(v, host_path, allow)),
        _ => {}
    }
}

/// One file `install` wrote or `uninstall` removed.
#[derive(Debug, Clone)]
pub struct Written {
    pub client: Client,
    pub path: PathBuf,
}

/// Writes our manifest into every folder `clients` read in `scope`. Clients of Chromium style are
/// skipped (and reported) when no origin is configured, since such a manifest would allow nobody.
pub fn install(
    layout: &Layout,
    scope: Scope,
    clients: &[Client],
    host_path: &Path,
    allow: &AllowList,
) -> Result<(Vec<Written>, Vec<String>)> {
    let mut written = Vec::new();
    let mut notes = Vec::new();
    for &client in clients {
        if client.style() == Style::Chromium && allow.origins().is_empty() {
            notes.push(format!(
                "{}: skipped; no allowed_origins configured (see docs/CONFIG.md)",
                client.name()
            ));
            continue;
        }
        let text = render_manifest(client.style(), host_path, allow)?;
        for dir in layout.manifest_dirs(client, scope) {
            let path = dir.join(manifest_file_name());
            if written.iter().any(|w: &Written| w.path == path) {
                continue; // Thunderbird and Firefox share a folder on Linux.
            }
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            write_atomically(&path, text.as_bytes())?;
            written.push(Written { client, path });
        }
    }
    Ok((written, notes))
}

/// Removes our manifest from every folder `clients` read in `scope`. Files that are not ours
/// (another `name`) are left alone.
pub fn uninstall(layout: &Layout, scope: Scope, clients: &[Client]) -> Result<Vec<Written>> {
    let mut removed = Vec::new();
    for &client in clients {
        for dir in layout.manifest_dirs(client, scope) {
            let path = dir.join(manifest_file_name());
            if removed.iter().any(|w: &Written| w.path == path) || !is_ours(&path) {
                continue;
            }
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            removed.push(Written { client, path });
        }
    }
    Ok(removed)
}

fn is_ours(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|v| v["name"] == HOST_NAME)
}

/// Writes a file so a reader never sees half of it: a temporary file, then a rename. Mode 0644:
/// browsers running as the user must read system-wide manifests.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::product::ADDON_ID;

    #[test]
    fn mozilla_manifest_has_the_fields_thunderbird_checks() {
        let allow = AllowList::from_config(&Config::default());
        let text = render_manifest(Style::Mozilla, Path::new("/opt/x/smime-companion"), &allow).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(v["type"], "stdio");
        assert_eq!(v["path"], "/opt/x/smime-companion");
        assert_eq!(v["allowed_extensions"], serde_json::json!([ADDON_ID]));
        assert!(v.get("allowed_origins").is_none());
    }

    #[test]
    fn templates_use_the_host_name_compiled_into_the_binary() {
        for t in [MOZILLA_TEMPLATE, CHROMIUM_TEMPLATE] {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(v["name"], HOST_NAME);
        }
    }
}
