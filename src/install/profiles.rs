//! Thunderbird profiles of the user: found through `profiles.ini` in each of Thunderbird's
//! profile folders ([`super::Layout::thunderbird_profile_roots`]), and the state of our add-on in
//! each profile as Thunderbird's add-on manager records it in `extensions.json`.

use super::Layout;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// `Name=` in profiles.ini.
    pub name: String,
    pub dir: PathBuf,
}

/// The profiles found, and any profiles.ini that could not be read.
#[derive(Debug, Default)]
pub struct Found {
    pub profiles: Vec<Profile>,
    /// profiles.ini files that exist.
    pub inis: Vec<PathBuf>,
    pub problems: Vec<(PathBuf, String)>,
}

/// Every profile listed in a `profiles.ini` of this user.
pub fn find(layout: &Layout) -> Found {
    let mut found = Found::default();
    for root in layout.thunderbird_profile_roots() {
        let ini = root.join("profiles.ini");
        let text = match std::fs::read(&ini) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                found.problems.push((ini, e.to_string()));
                continue;
            }
        };
        found.inis.push(ini.clone());
        match parse_ini(&text, &root) {
            Ok(list) => found.profiles.extend(list),
            Err(reason) => found.problems.push((ini, reason)),
        }
    }
    found
}

/// The `[ProfileN]` sections of a profiles.ini; relative paths are resolved against `base`.
pub fn parse_ini(text: &str, base: &Path) -> Result<Vec<Profile>, String> {
    let mut profiles = Vec::new();
    let mut section: Option<(String, Vec<(String, String)>)> = None;
    let finish = |section: Option<(String, Vec<(String, String)>)>, out: &mut Vec<Profile>| -> Result<(), String> {
        let Some((name, fields)) = section else { return Ok(()) };
        if !name.starts_with("Profile") {
            return Ok(());
        }
        let get = |k: &str| fields.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let path = get("Path").ok_or_else(|| format!("[{name}] has no Path="))?;
        let dir = if get("IsRelative") == Some("0") { PathBuf::from(path) } else { base.join(path) };
        out.push(Profile { name: get("Name").unwrap_or(&name).to_string(), dir });
        Ok(())
    };
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            finish(section.take(), &mut profiles)?;
            section = Some((name.to_string(), Vec::new()));
        } else if let Some((key, value)) = line.split_once('=') {
            match section.as_mut() {
                Some((_, fields)) => fields.push((key.trim().to_string(), value.trim().to_string())),
                None => return Err(format!("line {}: a setting outside any [section]", number + 1)),
            }
        } else {
            return Err(format!("line {}: neither [section] nor key=value", number + 1));
        }
    }
    finish(section.take(), &mut profiles)?;
    Ok(profiles)
}

/// Our add-on in one profile, as Thunderbird's add-on manager last recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddonState {
    Active,
    /// Turned off by the user (or, for a copied `.xpi`, not yet confirmed by the user).
    UserDisabled,
    /// Thunderbird considers it incompatible (e.g. too old a Thunderbird) or blocked.
    AppDisabled,
    /// Listed but not running, for another reason (e.g. waiting for a restart).
    Inactive,
    /// Not in `extensions.json`, but its `.xpi` is in the profile's `extensions/` folder:
    /// Thunderbird picks it up at its next start.
    Pending,
    /// Not installed in this profile.
    Missing,
    /// `extensions.json` cannot be read.
    Unreadable(String),
}

/// The state of add-on `id` in the profile at `dir`.
pub fn addon_state(dir: &Path, id: &str) -> AddonState {
    let pending = dir.join("extensions").join(format!("{id}.xpi")).is_file() || dir.join("extensions").join(id).is_dir();
    let file = dir.join("extensions.json");
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if pending { AddonState::Pending } else { AddonState::Missing };
        }
        Err(e) => return AddonState::Unreadable(e.to_string()),
    };
    let v: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => return AddonState::Unreadable(e.to_string()),
    };
    let Some(addon) = v["addons"].as_array().and_then(|list| list.iter().find(|a| a["id"] == id)) else {
        return if pending { AddonState::Pending } else { AddonState::Missing };
    };
    let flag = |name: &str| addon[name].as_bool().unwrap_or(false);
    if flag("active") {
        AddonState::Active
    } else if flag("userDisabled") {
        AddonState::UserDisabled
    } else if flag("appDisabled") || flag("softDisabled") || flag("embedderDisabled") {
        AddonState::AppDisabled
    } else {
        AddonState::Inactive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_relative_and_absolute_profiles_and_skips_other_sections() {
        let ini = "[Install4F96D1932A9F858E]\nDefault=Profiles/a.default\nLocked=1\n\n\
                   [Profile1]\nName=work\nIsRelative=0\nPath=/data/tb/work\n\n\
                   [Profile0]\nName=default\nIsRelative=1\nPath=Profiles/a.default\nDefault=1\n\n\
                   [General]\nStartWithLastProfile=1\nVersion=2\n";
        let p = parse_ini(ini, Path::new("/home/u/.thunderbird")).unwrap();
        assert_eq!(
            p,
            vec![
                Profile { name: "work".into(), dir: "/data/tb/work".into() },
                Profile { name: "default".into(), dir: "/home/u/.thunderbird/Profiles/a.default".into() },
            ]
        );
    }

    #[test]
    fn rejects_broken_ini() {
        assert!(parse_ini("Path=x\n", Path::new("/")).is_err());
        assert!(parse_ini("[Profile0]\nName=x\n", Path::new("/")).is_err());
        assert!(parse_ini("[Profile0]\ngarbage\n", Path::new("/")).is_err());
    }

    #[test]
    fn addon_states_from_extensions_json() {
        let dir = tempfile::tempdir().unwrap();
        let id = "a@b";
        assert_eq!(addon_state(dir.path(), id), AddonState::Missing);
        std::fs::create_dir(dir.path().join("extensions")).unwrap();
        std::fs::write(dir.path().join("extensions/a@b.xpi"), b"PK").unwrap();
        assert_eq!(addon_state(dir.path(), id), AddonState::Pending);
        let write = |addon: serde_json::Value| {
            std::fs::write(dir.path().join("extensions.json"), serde_json::json!({"addons": [addon]}).to_string()).unwrap()
        };
        write(serde_json::json!({"id": id, "active": true}));
        assert_eq!(addon_state(dir.path(), id), AddonState::Active);
        write(serde_json::json!({"id": id, "active": false, "userDisabled": true}));
        assert_eq!(addon_state(dir.path(), id), AddonState::UserDisabled);
        write(serde_json::json!({"id": id, "active": false, "appDisabled": true}));
        assert_eq!(addon_state(dir.path(), id), AddonState::AppDisabled);
        std::fs::write(dir.path().join("extensions.json"), "{").unwrap();
        assert!(matches!(addon_state(dir.path(), id), AddonState::Unreadable(_)));
    }
}
