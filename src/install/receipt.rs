//! The install receipt: a small JSON file listing every file and registry value `install` wrote,
//! so `uninstall` removes exactly that. One per scope: the user's in the per-user data folder
//! (`install-receipt.json`), the machine's in [`super::Layout::system_receipt`].
//!
//! ```json
//! {"format": 1, "version": "0.1.0", "scope": "user", "entries": [
//!   {"role": "host_manifest", "client": "thunderbird", "path": "/home/u/.mozilla/native-messaging-hosts/smime_companion.json", "sha256": "…"},
//!   {"role": "host_manifest", "client": "thunderbird", "dir": "/home/u/.mozilla/native-messaging-hosts"},
//!   {"role": "host_manifest", "client": "thunderbird", "hive": "HKLM", "view": "32", "key": "Software\\Mozilla\\…", "value": "C:\\…"}
//! ]}
//! ```
//!
//! A missing or unreadable receipt is not an error: `uninstall` then falls back to removing our
//! manifests by name.

use super::registry::{Hive, RegKey, View};
use super::{Client, Role, Scope};
use crate::error::{Error, Result};
use crate::product::VERSION;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FORMAT: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File { path: PathBuf, sha256: String },
    /// A folder `install` created; removed again while empty.
    Dir { path: PathBuf },
    Registry { key: RegKey, value: String },
}

/// One thing `install` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub client: Client,
    pub role: Role,
    pub target: Target,
}

impl Entry {
    pub fn file(client: Client, role: Role, path: &Path, contents: &[u8]) -> Entry {
        Entry { client, role, target: Target::File { path: path.to_path_buf(), sha256: sha256_hex(contents) } }
    }

    pub fn dir(client: Client, role: Role, path: &Path) -> Entry {
        Entry { client, role, target: Target::Dir { path: path.to_path_buf() } }
    }

    pub fn registry(client: Client, role: Role, key: &RegKey, value: &str) -> Entry {
        Entry { client, role, target: Target::Registry { key: key.clone(), value: value.to_string() } }
    }

    pub fn path(&self) -> Option<&Path> {
        match &self.target {
            Target::File { path, .. } | Target::Dir { path } => Some(path),
            Target::Registry { .. } => None,
        }
    }

    pub fn key(&self) -> Option<&RegKey> {
        match &self.target {
            Target::Registry { key, .. } => Some(key),
            Target::File { .. } | Target::Dir { .. } => None,
        }
    }

    /// The file's path or the registry key, for people.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::File { path, .. } | Target::Dir { path } => path.display().to_string(),
            Target::Registry { key, .. } => key.display(),
        }
    }

    fn same_target(&self, other: &Entry) -> bool {
        match (&self.target, &other.target) {
            (Target::File { path: a, .. }, Target::File { path: b, .. }) => a == b,
            (Target::Dir { path: a }, Target::Dir { path: b }) => a == b,
            (Target::Registry { key: a, .. }, Target::Registry { key: b, .. }) => a == b,
            _ => false,
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({ "role": self.role.name(), "client": self.client.name() });
        match &self.target {
            Target::File { path, sha256 } => {
                v["path"] = json!(path.to_string_lossy());
                v["sha256"] = json!(sha256);
            }
            Target::Dir { path } => v["dir"] = json!(path.to_string_lossy()),
            Target::Registry { key, value } => {
                v["hive"] = json!(key.hive.name());
                v["view"] = json!(key.view.name());
                v["key"] = json!(key.path);
                v["value"] = json!(value);
            }
        }
        v
    }

    fn from_json(v: &Value) -> Option<Entry> {
        let role = Role::parse(v["role"].as_str()?)?;
        let client = Client::parse(v["client"].as_str()?)?.into_iter().next()?;
        let target = if let Some(path) = v["dir"].as_str() {
            Target::Dir { path: PathBuf::from(path) }
        } else if let Some(path) = v["path"].as_str() {
            Target::File { path: PathBuf::from(path), sha256: v["sha256"].as_str()?.to_string() }
        } else {
            let key = RegKey {
                hive: Hive::parse(v["hive"].as_str()?)?,
                view: View::parse(v["view"].as_str()?)?,
                path: v["key"].as_str()?.to_string(),
            };
            Target::Registry { key, value: v["value"].as_str()?.to_string() }
        };
        Some(Entry { client, role, target })
    }
}

#[derive(Debug)]
pub struct Receipt {
    pub scope: Scope,
    pub entries: Vec<Entry>,
}

impl Receipt {
    /// The receipt at `path`; None if there is none or it cannot be read (then `uninstall`
    /// falls back to removing by name).
    pub fn read(path: &Path) -> Result<Option<Receipt>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            log::warn!("install receipt {} is not JSON; ignored", path.display());
            return Ok(None);
        };
        if v["format"].as_u64() != Some(FORMAT) {
            log::warn!("install receipt {} has an unknown format; ignored", path.display());
            return Ok(None);
        }
        let scope = v["scope"].as_str().and_then(Scope::parse).unwrap_or(Scope::User);
        let entries = v["entries"].as_array().map(|a| a.iter().filter_map(Entry::from_json).collect()).unwrap_or_default();
        Ok(Some(Receipt { scope, entries }))
    }

    /// The receipt at `path`, or an empty one.
    pub fn load(path: &Path, scope: Scope) -> Receipt {
        Receipt::read(path).ok().flatten().unwrap_or(Receipt { scope, entries: Vec::new() })
    }

    /// Adds an entry, replacing an older one for the same file or key.
    pub fn record(&mut self, entry: Entry) {
        self.entries.retain(|e| !e.same_target(&entry));
        self.entries.push(entry);
    }

    /// Writes the receipt; removes the file when nothing is left to record.
    pub fn save(&self, path: &Path) -> Result<()> {
        if self.entries.is_empty() {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
                _ => Ok(()),
            };
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        match self.scope {
            Scope::User => crate::home::create_private_dir(dir)?,
            Scope::System => std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?,
        }
        let v = json!({
            "format": FORMAT,
            "version": VERSION,
            "scope": self.scope.name(),
            "entries": self.entries.iter().map(Entry::to_json).collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&v).expect("a Value always serialises");
        text.push('\n');
        super::write_atomically(path, text.as_bytes())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    openssl::sha::sha256(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file's contents; None if it cannot be read.
pub fn sha256_file(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| sha256_hex(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_files_and_registry_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r/install-receipt.json");
        let mut r = Receipt::load(&path, Scope::System);
        let key = RegKey { hive: Hive::LocalMachine, view: View::Bits32, path: r"Software\Mozilla\X".into() };
        r.record(Entry::file(Client::Thunderbird, Role::HostManifest, Path::new("/a/smime_companion.json"), b"x"));
        r.record(Entry::registry(Client::Thunderbird, Role::HostManifest, &key, r"C:\m.json"));
        r.record(Entry::file(Client::Thunderbird, Role::HostManifest, Path::new("/a/smime_companion.json"), b"y"));
        r.save(&path).unwrap();
        let back = Receipt::read(&path).unwrap().unwrap();
        assert_eq!(back.scope, Scope::System);
        assert_eq!(back.entries.len(), 2, "the second write of the same file replaces the first");
        assert_eq!(back.entries[1], Entry::file(Client::Thunderbird, Role::HostManifest, Path::new("/a/smime_companion.json"), b"y"));
        assert_eq!(back.entries[0].key(), Some(&key));
        Receipt { scope: Scope::System, entries: vec![] }.save(&path).unwrap();
        assert!(!path.exists(), "an empty receipt is removed");
    }

    #[test]
    fn broken_receipts_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("install-receipt.json");
        std::fs::write(&path, "{nope").unwrap();
        assert!(Receipt::read(&path).unwrap().is_none());
    }
}
