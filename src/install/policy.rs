//! Thunderbird's enterprise policy file (`policies.json`): adding and removing our
//! `ExtensionSettings` entry that force-installs the add-on, without disturbing anything else.
//!
//! ```json
//! {"policies": {"ExtensionSettings": {"smime-companion@smime-companion.org": {
//!     "installation_mode": "force_installed",
//!     "install_url": "file:///usr/share/smime-companion/smime-companion.xpi"}}}}
//! ```
//!
//! A file that is not JSON, or whose `policies` or `ExtensionSettings` is not an object, is left
//! untouched and reported (`bad_policy_file`): Thunderbird ignores a broken file as a whole, and
//! guessing at its intent could lose IT's settings. Our entry is the add-on's entry whose
//! `install_url` is ours; an entry for the add-on that IT wrote (another `install_url`, none, or
//! `installation_mode: "blocked"`) is never changed or removed, only reported. Other keys of our
//! own entry (e.g. `updates_disabled`) are kept. Keys are written in sorted order.

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// `file://` URL of an absolute path, Unix (`/usr/share/x.xpi`) or Windows (`C:\x\y.xpi`,
/// `\\server\share\y.xpi`), percent-encoded as Thunderbird expects.
pub fn file_url(path: &str) -> String {
    let (prefix, rest) = if let Some(unc) = path.strip_prefix(r"\\") {
        ("file://", unc.replace('\\', "/"))
    } else if path.starts_with('/') {
        ("file://", path.to_string())
    } else {
        ("file:///", path.replace('\\', "/"))
    };
    let mut out = String::from(prefix);
    for b in rest.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Our entry in `ExtensionSettings`.
pub fn entry(install_url: &str) -> Value {
    json!({ "installation_mode": "force_installed", "install_url": install_url })
}

/// The whole policy document with only our entry: what a fresh `policies.json` holds.
pub fn document(id: &str, install_url: &str) -> Value {
    json!({ "policies": { "ExtensionSettings": { id: entry(install_url) } } })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// There was no file; it now holds only our entry.
    Created,
    /// Our entry was added or changed; everything else is kept.
    Updated,
    /// Our entry was already there as wanted; the file was not rewritten.
    Unchanged,
    /// The file has an entry for the add-on that installs it from another place (given; "(none)"
    /// when it names none): IT's own, left alone.
    NotOurs(String),
    /// The file's entry for the add-on blocks it (`installation_mode: "blocked"`): left alone.
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// Our entry was removed; other policies remain.
    Removed,
    /// Our entry was the only policy; the file was deleted.
    RemovedFile,
    /// The file has no entry for the add-on.
    NotPresent,
    /// There is no file.
    NoFile,
    /// The entry installs the add-on from another place (given); it was left alone.
    NotOurs(String),
}

/// What a policy file says about the add-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    NoFile,
    Broken(String),
    NoEntry,
    Entry { installation_mode: Option<String>, install_url: Option<String> },
}

fn broken(path: &Path, reason: impl Into<String>) -> Error {
    Error::BadPolicyFile { path: path.display().to_string(), reason: reason.into() }
}

/// Reads the file: None if missing; an empty file counts as an empty document.
fn read(path: &Path) -> Result<Option<Value>> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    if text.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Some(json!({})));
    }
    let v: Value = serde_json::from_slice(&text).map_err(|e| broken(path, format!("not JSON: {e}")))?;
    check_shape(&v).map_err(|r| broken(path, r))?;
    Ok(Some(v))
}

fn check_shape(v: &Value) -> std::result::Result<(), String> {
    let Some(top) = v.as_object() else { return Err("the file must hold a JSON object".into()) };
    let Some(policies) = top.get("policies") else { return Ok(()) };
    let Some(policies) = policies.as_object() else { return Err("\"policies\" is not an object".into()) };
    let Some(settings) = policies.get("ExtensionSettings") else { return Ok(()) };
    let Some(settings) = settings.as_object() else { return Err("\"ExtensionSettings\" is not an object".into()) };
    match settings.values().find(|e| !e.is_object()) {
        Some(_) => Err("an \"ExtensionSettings\" entry is not an object".into()),
        None => Ok(()),
    }
}

fn write(path: &Path, v: &Value) -> Result<()> {
    let mode = existing_mode(path).unwrap_or(super::PUBLIC_FILE_MODE);
    super::write_atomically_mode(path, super::pretty_json(v).as_bytes(), mode)
}

/// The file to change for `path`: where it points when it exists, so a `policies.json` that is
/// a symbolic link to IT's real file stays a link and the real file is changed.
fn resolve(path: &Path) -> Result<PathBuf> {
    match path.symlink_metadata() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(path.to_path_buf()),
        Err(e) => Err(Error::io(path, e)),
        // A link to nothing fails here: it is left as it is.
        Ok(_) => path.canonicalize().map_err(|e| Error::io(path, e)),
    }
}

fn is_link(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink())
}

fn existing_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).ok().map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether the add-on's existing entry is ours (installs it from `install_url`); if not, the
/// place it installs the add-on from ("(none)" when it names none).
fn other_source(entry: &Value, install_url: &str) -> Option<String> {
    match entry["install_url"].as_str() {
        Some(url) if url == install_url => None,
        other => Some(other.unwrap_or("(none)").to_string()),
    }
}

/// Adds (or updates) our entry in the policy file at `path`, creating the file and its folder
/// when missing. An entry for the add-on that is not ours is left alone and reported.
pub fn merge(path: &Path, id: &str, install_url: &str) -> Result<Merged> {
    let path = &resolve(path)?;
    let Some(mut doc) = read(path)? else {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        write(path, &document(id, install_url))?;
        return Ok(Merged::Created);
    };
    let top = doc.as_object_mut().expect("shape checked");
    let policies = top.entry("policies").or_insert_with(|| Value::Object(Map::new()));
    let settings = policies.as_object_mut().expect("shape checked").entry("ExtensionSettings").or_insert_with(|| Value::Object(Map::new()));
    let settings = settings.as_object_mut().expect("shape checked");
    if let Some(existing) = settings.get(id) {
        if existing["installation_mode"] == "blocked" {
            return Ok(Merged::Blocked);
        }
        if let Some(other) = other_source(existing, install_url) {
            return Ok(Merged::NotOurs(other));
        }
    }
    let ours = settings.entry(id).or_insert_with(|| Value::Object(Map::new()));
    let wanted = entry(install_url);
    let fields = ours.as_object_mut().expect("shape checked");
    if wanted.as_object().expect("an object").iter().all(|(k, v)| fields.get(k) == Some(v)) {
        return Ok(Merged::Unchanged);
    }
    for (k, v) in wanted.as_object().expect("an object") {
        fields.insert(k.clone(), v.clone());
    }
    write(path, &doc)?;
    Ok(Merged::Updated)
}

/// Removes our entry from the policy file at `path` if it installs the add-on from
/// `install_url` (so an entry IT made for another source survives). Empty `ExtensionSettings`
/// and `policies` objects left behind are removed, and a file left with nothing is deleted (a
/// symbolic link is kept, and the file it points to is left holding `{}`).
pub fn remove(path: &Path, id: &str, install_url: &str) -> Result<Removed> {
    let link = is_link(path);
    let path = &resolve(path)?;
    let Some(mut doc) = read(path)? else { return Ok(Removed::NoFile) };
    let top = doc.as_object_mut().expect("shape checked");
    let Some(policies) = top.get_mut("policies").and_then(Value::as_object_mut) else { return Ok(Removed::NotPresent) };
    let Some(settings) = policies.get_mut("ExtensionSettings").and_then(Value::as_object_mut) else {
        return Ok(Removed::NotPresent);
    };
    let Some(ours) = settings.get(id) else { return Ok(Removed::NotPresent) };
    if let Some(other) = other_source(ours, install_url) {
        return Ok(Removed::NotOurs(other));
    }
    settings.remove(id);
    if settings.is_empty() {
        policies.remove("ExtensionSettings");
    }
    if policies.is_empty() {
        top.remove("policies");
    }
    if top.is_empty() && !link {
        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        return Ok(Removed::RemovedFile);
    }
    write(path, &doc)?;
    Ok(Removed::Removed)
}

/// What the file at `path` says about add-on `id` (for `doctor`).
pub fn state(path: &Path, id: &str) -> State {
    match read(path) {
        Ok(None) => State::NoFile,
        Err(e) => State::Broken(e.to_string()),
        Ok(Some(doc)) => match doc.pointer("/policies/ExtensionSettings").and_then(|s| s.get(id)) {
            None => State::NoEntry,
            Some(e) => State::Entry {
                installation_mode: e["installation_mode"].as_str().map(str::to_string),
                install_url: e["install_url"].as_str().map(str::to_string),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_for_every_os() {
        assert_eq!(file_url("/usr/share/smime-companion/smime-companion.xpi"), "file:///usr/share/smime-companion/smime-companion.xpi");
        assert_eq!(
            file_url("/Library/Application Support/smime-companion/smime-companion.xpi"),
            "file:///Library/Application%20Support/smime-companion/smime-companion.xpi"
        );
        assert_eq!(file_url(r"C:\Program Files\smime-companion\x.xpi"), "file:///C:/Program%20Files/smime-companion/x.xpi");
        assert_eq!(file_url(r"\\srv\share\x.xpi"), "file://srv/share/x.xpi");
        assert_eq!(file_url("/tmp/ä#.xpi"), "file:///tmp/%C3%A4%23.xpi");
    }

    #[test]
    fn merge_keeps_everything_else_and_remove_restores_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policies.json");
        let before = json!({"policies": {"DisableAppUpdate": true, "ExtensionSettings": {"*": {"installation_mode": "blocked"}}}, "x": 1});
        std::fs::write(&path, before.to_string()).unwrap();
        assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap(), Merged::Updated);
        assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap(), Merged::Unchanged);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["policies"]["ExtensionSettings"]["a@b"], entry("file:///a.xpi"));
        assert_eq!(v["policies"]["DisableAppUpdate"], true);
        assert_eq!(remove(&path, "a@b", "file:///other.xpi").unwrap(), Removed::NotOurs("file:///a.xpi".into()));
        assert_eq!(remove(&path, "a@b", "file:///a.xpi").unwrap(), Removed::Removed);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v, before);
    }

    #[test]
    fn merge_leaves_an_entry_it_did_not_write_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policies.json");
        let cases = [
            (json!({"installation_mode": "force_installed", "install_url": "https://intranet/a.xpi"}), Merged::NotOurs("https://intranet/a.xpi".into())),
            (json!({"installation_mode": "allowed"}), Merged::NotOurs("(none)".into())),
            (json!({"installation_mode": "blocked"}), Merged::Blocked),
            (json!({"installation_mode": "blocked", "install_url": "file:///a.xpi"}), Merged::Blocked),
        ];
        for (it, outcome) in cases {
            let text = json!({"policies": {"ExtensionSettings": {"a@b": it}}}).to_string();
            std::fs::write(&path, &text).unwrap();
            assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap(), outcome, "{text}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "merge left the file alone");
            if let Merged::NotOurs(other) = outcome {
                assert_eq!(remove(&path, "a@b", "file:///a.xpi").unwrap(), Removed::NotOurs(other));
                assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "remove left the file alone");
            }
        }
        // Our own entry, with a key IT added, is still ours: brought up to date, the key kept.
        std::fs::write(&path, json!({"policies": {"ExtensionSettings": {"a@b": {"install_url": "file:///a.xpi", "updates_disabled": true}}}}).to_string()).unwrap();
        assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap(), Merged::Updated);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["policies"]["ExtensionSettings"]["a@b"], json!({"installation_mode": "force_installed", "install_url": "file:///a.xpi", "updates_disabled": true}));
    }

    #[test]
    fn a_file_we_created_is_deleted_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p/policies.json");
        assert_eq!(remove(&path, "a@b", "file:///a.xpi").unwrap(), Removed::NoFile);
        assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap(), Merged::Created);
        assert_eq!(state(&path, "a@b"), State::Entry { installation_mode: Some("force_installed".into()), install_url: Some("file:///a.xpi".into()) });
        assert_eq!(remove(&path, "a@b", "file:///a.xpi").unwrap(), Removed::RemovedFile);
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_policy_file_that_is_a_link_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("managed/policies.json");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        let path = dir.path().join("policies.json");
        std::os::unix::fs::symlink(&real, &path).unwrap();
        let linked = |p: &Path| std::fs::symlink_metadata(p).unwrap().file_type().is_symlink();
        for before in [json!({"policies": {"DisableAppUpdate": true}}), json!({})] {
            std::fs::write(&real, before.to_string()).unwrap();
            assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap(), Merged::Updated);
            assert!(linked(&path), "merge keeps the link");
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
            assert_eq!(v["policies"]["ExtensionSettings"]["a@b"], entry("file:///a.xpi"), "the file it points to is changed");
            assert_eq!(remove(&path, "a@b", "file:///a.xpi").unwrap(), Removed::Removed);
            assert!(linked(&path), "remove keeps the link");
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
            assert_eq!(v, before, "and the file it points to");
        }
        // A link to nothing is not replaced by a file.
        std::fs::remove_file(&real).unwrap();
        assert_eq!(merge(&path, "a@b", "file:///a.xpi").unwrap_err().code(), "io_error");
        assert!(linked(&path) && !real.exists());
    }

    #[test]
    fn broken_files_are_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policies.json");
        for text in ["{\"policies\": {", "[1]", "{\"policies\": []}", "{\"policies\": {\"ExtensionSettings\": 3}}"] {
            std::fs::write(&path, text).unwrap();
            let e = merge(&path, "a@b", "file:///a.xpi").unwrap_err();
            assert_eq!(e.code(), "bad_policy_file", "{text}");
            assert!(remove(&path, "a@b", "file:///a.xpi").is_err());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
            assert!(matches!(state(&path, "a@b"), State::Broken(_)));
        }
    }
}
