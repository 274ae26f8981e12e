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
//! A missing receipt, or a file there that is not a receipt, is not an error: `uninstall` then
//! falls back to removing our manifests by name, and `install` moves such a file aside
//! (`install-receipt.json.broken-<unix time>`, with a warning) before it starts a new receipt, so
//! what it recorded is never overwritten. A receipt that cannot be read at all (permissions, I/O)
//! is an error for both.

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

    /// The file's path, or the registry key with its value when one was recorded, for people.
    pub fn describe(&self) -> String {
        match &self.target {
            Target::File { path, .. } | Target::Dir { path } => path.display().to_string(),
            Target::Registry { key, value } if !value.is_empty() => format!("{} = {value}", key.display()),
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

/// What is at a receipt's place.
enum Found {
    Missing,
    /// A file that is not a receipt (of this format), and why.
    Broken(&'static str),
    Receipt(Receipt),
}

impl Receipt {
    /// Reads `path`; errors only when the file cannot be read.
    fn find(path: &Path) -> Result<Found> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
            Err(e) => return Err(Error::io(path, e)),
        };
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else { return Ok(Found::Broken("is not JSON")) };
        if v["format"].as_u64() != Some(FORMAT) {
            return Ok(Found::Broken("has an unknown format"));
        }
        let scope = v["scope"].as_str().and_then(Scope::parse).unwrap_or(Scope::User);
        let entries = v["entries"].as_array().map(|a| a.iter().filter_map(Entry::from_json).collect()).unwrap_or_default();
        Ok(Found::Receipt(Receipt { scope, entries }))
    }

    /// The receipt at `path`; None if there is none or the file there is not a receipt (then
    /// `uninstall` falls back to removing by name, and leaves the file as it is).
    pub fn read(path: &Path) -> Result<Option<Receipt>> {
        Ok(match Receipt::find(path)? {
            Found::Receipt(r) => Some(r),
            Found::Missing => None,
            Found::Broken(why) => {
                log::warn!("install receipt {} {why}; ignored", path.display());
                None
            }
        })
    }

    /// The receipt `install` adds to: the one at `path`, or a new one. A file there that is not a
    /// receipt is moved aside first (to `<name>.broken-<unix time>`), and the warning returned
    /// says where; one that cannot be read is an error, so it is never overwritten.
    pub fn open(path: &Path, scope: Scope) -> Result<(Receipt, Option<String>)> {
        let why = match Receipt::find(path)? {
            Found::Receipt(r) => return Ok((r, None)),
            Found::Missing => return Ok((Receipt { scope, entries: Vec::new() }, None)),
            Found::Broken(why) => why,
        };
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let name = path.file_name().map_or_else(|| "install-receipt.json".into(), |n| n.to_string_lossy().into_owned());
        let aside = (0..)
            .map(|n| path.with_file_name(if n == 0 { format!("{name}.broken-{secs}") } else { format!("{name}.broken-{secs}-{n}") }))
            .find(|p| p.symlink_metadata().is_err())
            .expect("an unused name");
        std::fs::rename(path, &aside).map_err(|e| Error::io(path, e))?;
        let warning = format!(
            "the install receipt {} {why}; moved it aside to {} and started a new one (what only the old one lists is not removed by uninstall)",
            path.display(),
            aside.display()
        );
        log::warn!("{warning}");
        Ok((Receipt { scope, entries: Vec::new() }, Some(warning)))
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
        super::write_atomically(path, super::pretty_json(&v).as_bytes())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::hex::encode(&openssl::sha::sha256(bytes))
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
        let (mut r, warning) = Receipt::open(&path, Scope::System).unwrap();
        assert!(warning.is_none());
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
    fn entries_describe_themselves() {
        let key = RegKey { hive: Hive::LocalMachine, view: View::Bits32, path: r"Software\Mozilla\X".into() };
        assert_eq!(Entry::registry(Client::Thunderbird, Role::HostManifest, &key, r"C:\m.json").describe(), format!(r"{} = C:\m.json", key.display()));
        assert_eq!(Entry::registry(Client::Thunderbird, Role::HostManifest, &key, "").describe(), key.display());
        assert_eq!(Entry::dir(Client::Firefox, Role::HostManifest, Path::new("/a/b")).describe(), "/a/b");
    }

    #[test]
    fn broken_receipts_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("install-receipt.json");
        std::fs::write(&path, "{nope").unwrap();
        assert!(Receipt::read(&path).unwrap().is_none());
        assert_eq!(std::fs::read(&path).unwrap(), b"{nope", "reading leaves it as it is");
    }

    #[test]
    fn open_moves_a_broken_receipt_aside_and_refuses_an_unreadable_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("install-receipt.json");
        for (n, bytes) in [&b"{nope"[..], b"{\"format\": 99}", b"\xff\xfe"].into_iter().enumerate() {
            std::fs::write(&path, bytes).unwrap();
            let (r, warning) = Receipt::open(&path, Scope::User).unwrap();
            assert!(r.entries.is_empty());
            let warning = warning.expect("a warning");
            assert!(!path.exists());
            let aside: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
            assert_eq!(aside.len(), n + 1, "every broken file is kept: {aside:?}");
            assert!(aside.iter().any(|p| std::fs::read(p).unwrap() == bytes && warning.contains(&p.display().to_string())), "{warning}");
        }
        // Not readable at all (here: a folder in its place): an error, and nothing is moved.
        std::fs::create_dir(&path).unwrap();
        assert_eq!(Receipt::open(&path, Scope::User).unwrap_err().code(), "io_error");
        assert!(path.is_dir());
    }
}
