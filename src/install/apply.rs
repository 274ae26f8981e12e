//! Carrying out a [`Plan`] and undoing it: files and registry values written and recorded in the
//! receipt, and `uninstall` removing exactly what the receipt lists (or, without one, our
//! manifests found by name), never a file that is not ours any more.

use super::receipt::{self, Entry, Receipt, Target};
use super::{is_ours, manifest_file_name, plan_install, registry, write_atomically, Client, Kind, Layout, Plan, Request, Role, Scope};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// What `install` or `uninstall` did.
#[derive(Debug, Default)]
pub struct Report {
    /// Files and registry values written (or removed), with their role and client.
    pub changed: Vec<Entry>,
    /// Already as wanted (install) or not there any more (uninstall).
    pub unchanged: Vec<Entry>,
    /// Left in place, with the reason (uninstall).
    pub kept: Vec<(Entry, String)>,
    pub notes: Vec<String>,
    /// Problems found on the way that did not stop it (shown even with `--quiet`).
    pub warnings: Vec<String>,
}

/// Carries out a plan and records it in the receipt at `receipt_path`. Files already holding the
/// wanted bytes are not rewritten, so running `install` again changes nothing.
pub fn apply(plan: Plan, scope: Scope, receipt_path: &Path) -> Result<Report> {
    let (mut receipt, warning) = Receipt::open(receipt_path, scope)?;
    let mut report = Report { notes: plan.notes, warnings: warning.into_iter().collect(), ..Report::default() };
    for file in plan.files {
        let entry = Entry::file(file.client, file.role, &file.path, &file.contents);
        if std::fs::read(&file.path).is_ok_and(|old| old == file.contents) {
            report.unchanged.push(entry.clone());
        } else {
            let dir = file.path.parent().unwrap_or(Path::new("."));
            // Folders we create are recorded (outermost first) so uninstall can remove them again.
            let created: Vec<PathBuf> = dir.ancestors().take_while(|d| !d.as_os_str().is_empty() && !d.exists()).map(Path::to_path_buf).collect();
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            for d in created.into_iter().rev() {
                receipt.record(Entry::dir(file.client, file.role, &d));
            }
            write_atomically(&file.path, &file.contents)?;
            report.changed.push(entry.clone());
        }
        receipt.record(entry);
    }
    for value in plan.registry {
        let entry = Entry::registry(value.client, value.role, &value.key, &value.value);
        if registry::read_default(&value.key)?.as_deref() == Some(value.value.as_str()) {
            report.unchanged.push(entry.clone());
        } else {
            registry::set_default(&value.key, &value.value)?;
            report.changed.push(entry.clone());
        }
        receipt.record(entry);
    }
    receipt.save(receipt_path)?;
    Ok(report)
}

/// Writes our manifests (and add-on copies) for `req` and records them in the receipt.
pub fn install(layout: &Layout, req: &Request, receipt_path: &Path) -> Result<Report> {
    apply(plan_install(layout, req)?, req.scope, receipt_path)
}

/// Removes what `install` wrote in `scope` for `clients` (all when None). With a receipt it
/// removes exactly the entries listed there: manifests only while still ours (`name` is ours),
/// add-on copies only while unchanged. Without one it removes our manifests (by `name`) from every
/// place the clients read, and our registry keys.
pub fn uninstall(layout: &Layout, scope: Scope, clients: Option<&[Client]>, receipt_path: &Path) -> Result<Report> {
    let wanted = |c: Client| clients.map_or(true, |list| list.contains(&c));
    let mut report = Report::default();
    let mut receipt = Receipt::read(receipt_path)?;
    let entries: Vec<Entry> = match &mut receipt {
        Some(receipt) => std::mem::take(&mut receipt.entries),
        None => fallback_entries(layout, scope),
    };
    let mut remaining = Vec::new();
    let mut dirs = Vec::new();
    for entry in entries {
        if !wanted(entry.client) {
            remaining.push(entry);
            continue;
        }
        match &entry.target {
            Target::Dir { .. } => dirs.push(entry),
            Target::File { path, sha256 } => {
                if !path.exists() {
                    report.unchanged.push(entry.clone());
                    continue;
                }
                let keep = match entry.role {
                    Role::HostManifest | Role::Pkcs11Manifest if !is_ours(path) => {
                        Some("changed since install: not our manifest any more")
                    }
                    Role::Addon if receipt::sha256_file(path).as_deref() != Some(sha256.as_str()) => {
                        Some("changed since install (updated or reinstalled in Thunderbird)")
                    }
                    _ => None,
                };
                match keep {
                    Some(reason) => report.kept.push((entry.clone(), reason.into())),
                    None => {
                        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
                        report.changed.push(entry.clone());
                    }
                }
            }
            Target::Registry { key, .. } => {
                if registry::delete(key)? {
                    report.changed.push(entry.clone());
                } else {
                    report.unchanged.push(entry.clone());
                }
            }
        }
    }
    // Folders last, innermost first, and only while empty (another product may use them now).
    dirs.sort_by_key(|e| std::cmp::Reverse(e.path().map_or(0, |p| p.components().count())));
    for entry in dirs {
        let path = entry.path().expect("a folder entry").to_path_buf();
        if !path.exists() {
            continue;
        }
        let empty = std::fs::read_dir(&path).map(|mut d| d.next().is_none()).unwrap_or(false);
        // A folder that is no longer empty is shared now: it is not ours to remove later either.
        if empty {
            std::fs::remove_dir(&path).map_err(|e| Error::io(&path, e))?;
            report.changed.push(entry);
        }
    }
    // Only a receipt that was there is updated: without one, what was not removed was found by
    // name, not recorded by install, and inventing a receipt for it would make it look installed.
    if let Some(mut receipt) = receipt {
        receipt.entries = remaining;
        receipt.save(receipt_path)?;
    }
    Ok(report)
}

/// What `install` may have written, when no receipt says: our manifests in every place and our
/// registry keys. Add-on copies are not included: without a receipt they cannot be told apart
/// from an add-on the user installed in Thunderbird.
fn fallback_entries(layout: &Layout, scope: Scope) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for client in Client::ALL {
        for kind in [Kind::Host, Kind::Pkcs11] {
            for dir in layout.manifest_dirs(client, scope, kind) {
                let path = dir.join(manifest_file_name());
                if is_ours(&path) && !out.iter().any(|e| e.path() == Some(path.as_path())) {
                    out.push(Entry::file(client, kind.role(), &path, b""));
                }
            }
            for key in layout.registry_keys(client, scope, kind) {
                if !out.iter().any(|e| e.key() == Some(&key)) {
                    out.push(Entry::registry(client, kind.role(), &key, ""));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::AllowList;
    use crate::config::Config;
    use crate::install::Pkcs11;
    use crate::product::HOST_NAME;

    /// A user's home in a temporary folder and an executable host program.
    fn machine() -> (tempfile::TempDir, Layout, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { home: dir.path().join("home"), root: PathBuf::from("/"), os: crate::install::Os::Linux };
        std::fs::create_dir_all(&layout.home).unwrap();
        let exe = dir.path().join("bin/smime-companion");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        std::fs::write(&exe, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        (dir, layout, exe)
    }

    fn paths(entries: &[Entry]) -> Vec<PathBuf> {
        entries.iter().filter_map(|e| e.path().map(Path::to_path_buf)).collect()
    }

    #[test]
    fn uninstall_removes_what_install_wrote_and_keeps_what_changed_since() {
        let (dir, layout, exe) = machine();
        let allow = AllowList::from_config(&Config::default());
        let receipt_path = dir.path().join("receipt.json");
        let clients = [Client::Thunderbird, Client::Chrome];
        let req = Request { scope: Scope::User, clients: &clients, host_path: &exe, pkcs11: Pkcs11::Auto, addon: None, allow: &allow };
        let first = install(&layout, &req, &receipt_path).unwrap();
        let tb = layout.home.join(".mozilla/native-messaging-hosts").join(manifest_file_name());
        let chrome = layout.home.join(".config/google-chrome/NativeMessagingHosts").join(manifest_file_name());
        assert_eq!(paths(&first.changed), vec![tb.clone(), chrome.clone()]);
        assert!(first.unchanged.is_empty());
        // Again: nothing to write.
        let again = install(&layout, &req, &receipt_path).unwrap();
        assert!(again.changed.is_empty() && again.unchanged.len() == 2, "{again:?}");
        // Another product took over Chrome's manifest; someone else's file sits beside ours.
        std::fs::write(&chrome, r#"{"name": "another_host"}"#).unwrap();
        let neighbour = tb.with_file_name("other.json");
        std::fs::write(&neighbour, b"{}").unwrap();
        let report = uninstall(&layout, Scope::User, None, &receipt_path).unwrap();
        assert!(!tb.exists() && neighbour.exists() && chrome.exists());
        assert_eq!(report.kept.iter().map(|(e, _)| e.path().unwrap().to_path_buf()).collect::<Vec<_>>(), vec![chrome.clone()]);
        // Folders install made go while empty: ~/.mozilla/native-messaging-hosts holds the
        // neighbour, Chrome's the kept manifest; the empty ~/.config/google-chrome… chain stays
        // too, since its innermost folder is not empty.
        assert!(tb.parent().unwrap().is_dir() && chrome.parent().unwrap().is_dir());
        let removed = paths(&report.changed);
        assert_eq!(removed, vec![tb.clone()], "only our manifest: {removed:?}");
        // Nothing of the clients uninstalled is left to record: the receipt is gone.
        assert!(Receipt::read(&receipt_path).unwrap().is_none());
        assert!(!receipt_path.exists());
    }

    #[test]
    fn folders_install_created_are_removed_innermost_first_once_empty() {
        let (dir, layout, exe) = machine();
        let allow = AllowList::from_config(&Config::default());
        let receipt_path = dir.path().join("receipt.json");
        let req = Request { scope: Scope::User, clients: &[Client::Chrome], host_path: &exe, pkcs11: Pkcs11::Auto, addon: None, allow: &allow };
        install(&layout, &req, &receipt_path).unwrap();
        std::fs::create_dir_all(layout.home.join(".config/other")).unwrap();
        uninstall(&layout, Scope::User, Some(&[Client::Chrome]), &receipt_path).unwrap();
        assert!(!layout.home.join(".config/google-chrome").exists(), "every folder install made is gone");
        assert!(layout.home.join(".config/other").is_dir(), "a folder that is shared now stays");
    }

    #[test]
    fn without_a_receipt_only_our_manifests_are_candidates_never_addon_copies() {
        let (_dir, layout, _exe) = machine();
        let ours = layout.home.join(".mozilla/native-messaging-hosts").join(manifest_file_name());
        let theirs = layout.home.join(".config/chromium/NativeMessagingHosts").join(manifest_file_name());
        for (path, name) in [(&ours, HOST_NAME), (&theirs, "another_host")] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, format!("{{\"name\": \"{name}\"}}")).unwrap();
        }
        let entries = fallback_entries(&layout, Scope::User);
        assert_eq!(paths(&entries), vec![ours]);
        assert!(entries.iter().all(|e| e.role != Role::Addon));
    }
}
