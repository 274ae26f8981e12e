//! Deciding what `install` writes, without touching anything: a [`Plan`] of manifest files (and
//! on Windows the registry values that point at them) for each client, the PKCS#11 module
//! manifest when the module is there, and add-on copies into the user's Thunderbird profiles.

use super::registry::RegKey;
use super::{manifest_file_name, profiles, render, Client, Kind, Layout, Os, Role, Scope, Style};
use crate::caller::AllowList;
use crate::error::{Error, Result};
use crate::product::ADDON_ID;
use std::path::{Path, PathBuf};

/// Which PKCS#11 module to register.
#[derive(Debug, Clone)]
pub enum Pkcs11 {
    /// The library beside the host binary, if it is there ([`Layout::pkcs11_candidates`]).
    Auto,
    /// This library (`--pkcs11 PATH`); it must exist.
    At(PathBuf),
}

/// What to install.
pub struct Request<'a> {
    pub scope: Scope,
    pub clients: &'a [Client],
    /// The host binary as the target system sees it (absolute).
    pub host_path: &'a Path,
    pub pkcs11: Pkcs11,
    /// Copy this `.xpi` into every Thunderbird profile of the user (user scope only).
    pub addon: Option<&'a Path>,
    pub allow: &'a AllowList,
}

/// One file to write.
#[derive(Debug, Clone)]
pub struct FileAction {
    pub client: Client,
    pub role: Role,
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

/// One registry default value to set (Windows).
#[derive(Debug, Clone)]
pub struct RegistryAction {
    pub client: Client,
    pub role: Role,
    pub key: RegKey,
    /// The manifest's full path.
    pub value: String,
}

/// Everything `install` would do, decided without touching anything.
#[derive(Debug, Default)]
pub struct Plan {
    pub files: Vec<FileAction>,
    pub registry: Vec<RegistryAction>,
    /// What was left out, and why, in plain words.
    pub notes: Vec<String>,
}

/// Add-on copies go into the profiles of the user running `install`; machine-wide, the
/// enterprise policy installs the add-on for everybody (copying it into the administrator's own
/// profiles would be wrong). The reason, in the CLI's words, when `addon` is asked for `scope`.
pub fn check_addon_scope(scope: Scope, addon: Option<&Path>) -> std::result::Result<(), &'static str> {
    match (scope, addon) {
        (Scope::System, Some(_)) => Err("--addon is for --user; machine-wide, the enterprise policy installs the add-on (see docs/INSTALL.md)"),
        _ => Ok(()),
    }
}

/// Decides what `install` writes: manifests for every client in every folder it reads (or
/// registry values plus manifest files on Windows), the PKCS#11 module manifest when the module
/// is there, and the add-on copies (user scope only: [`check_addon_scope`]).
pub fn plan_install(layout: &Layout, req: &Request) -> Result<Plan> {
    check_addon_scope(req.scope, req.addon).map_err(|reason| Error::InvalidParams { op: "install".into(), reason: reason.into() })?;
    let mut plan = Plan::default();
    check_host(layout, req.scope, req.host_path)?;
    let host = path_str(req.host_path)?;
    // Machine-wide files name paths of the system below the root; a user's name this machine's.
    let on_target = |p: &Path| match req.scope {
        Scope::System => layout.target(p),
        Scope::User => p.to_path_buf(),
    };
    let module = match &req.pkcs11 {
        Pkcs11::At(path) => {
            if !path.is_absolute() || !on_target(path).is_file() {
                return Err(Error::io_reason(path, std::io::ErrorKind::NotFound, "no PKCS#11 module library there"));
            }
            Some(path.clone())
        }
        Pkcs11::Auto => layout.pkcs11_candidates(req.host_path).into_iter().find(|c| on_target(c).is_file()),
    };
    let wants_mozilla = req.clients.iter().any(|c| c.style() == Style::Mozilla);
    if module.is_none() && wants_mozilla {
        let expected = layout.pkcs11_candidates(req.host_path);
        let expected = expected.first().map(|p| p.display().to_string()).unwrap_or_default();
        plan.notes.push(format!("no PKCS#11 module at {expected}; its manifest was not written"));
    }
    for &client in req.clients {
        let mut kinds = vec![(Kind::Host, host.to_string())];
        if let (Some(module), Style::Mozilla) = (&module, client.style()) {
            kinds.push((Kind::Pkcs11, path_str(module)?.to_string()));
        }
        for (kind, target) in kinds {
            let text = render(kind, client.style(), &target, req.allow)?;
            for dir in layout.manifest_dirs(client, req.scope, kind) {
                let path = dir.join(manifest_file_name());
                if !plan.files.iter().any(|f| f.path == path) {
                    plan.files.push(FileAction { client, role: kind.role(), path: path.clone(), contents: text.clone().into_bytes() });
                }
                for key in layout.registry_keys(client, req.scope, kind) {
                    if !plan.registry.iter().any(|r| r.key == key) {
                        let value = path_str(&path)?.to_string();
                        plan.registry.push(RegistryAction { client, role: kind.role(), key, value });
                    }
                }
            }
        }
    }
    if let Some(xpi) = req.addon {
        let bytes = std::fs::read(xpi).map_err(|e| Error::io(xpi, e))?;
        let found = profiles::find(layout);
        if found.profiles.is_empty() {
            plan.notes.push("add-on: no Thunderbird profile found; start Thunderbird once, then run this again".into());
        }
        for profile in found.profiles {
            let path = profile.dir.join("extensions").join(format!("{ADDON_ID}.xpi"));
            plan.files.push(FileAction { client: Client::Thunderbird, role: Role::Addon, path, contents: bytes.clone() });
        }
    }
    Ok(plan)
}

/// The host binary must exist and be executable on the target, or every client would fail to
/// start it.
fn check_host(layout: &Layout, scope: Scope, host_path: &Path) -> Result<()> {
    let on_target = match scope {
        Scope::System => layout.target(host_path),
        Scope::User => host_path.to_path_buf(),
    };
    let problem = if !host_path.is_absolute() {
        Some("the path is not absolute")
    } else if !on_target.is_file() {
        Some("no such file")
    } else if !runnable(layout.os, &on_target) {
        Some("the file is not executable")
    } else {
        None
    };
    match problem {
        Some(reason) => Err(Error::HostNotExecutable { path: host_path.display().to_string(), reason: reason.into() }),
        None => Ok(()),
    }
}

/// Whether a program of the target OS may be run: on Windows any file (no execute bits there).
pub fn runnable(os: Os, path: &Path) -> bool {
    if os == Os::Windows {
        return path.is_file();
    }
    is_executable(path)
}

/// Whether a file may be run: any execute bit on Unix; present on Windows.
pub fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| Error::io_reason(path, std::io::ErrorKind::InvalidData, "the path is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn executable(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn windows_keeps_manifests_per_style_and_points_registry_keys_at_them() {
        let l = Layout { home: PathBuf::from("/home/u"), root: PathBuf::from("/"), os: Os::Windows };
        let allow = AllowList::from_config(&Config::default());
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("smime-companion.exe");
        std::fs::write(&exe, b"MZ").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let req = Request {
            scope: Scope::System,
            clients: &[Client::Thunderbird, Client::Firefox],
            host_path: &exe,
            pkcs11: Pkcs11::Auto,
            addon: None,
            allow: &allow,
        };
        let plan = plan_install(&l, &req).unwrap();
        assert_eq!(plan.files.len(), 1, "Thunderbird and Firefox share one Mozilla manifest");
        assert!(plan.files[0].path.ends_with("ProgramData/smime-companion/native-messaging-hosts/mozilla/smime_companion.json"));
        let keys: Vec<String> = plan.registry.iter().map(|r| r.key.display()).collect();
        assert_eq!(
            keys,
            vec![
                r"HKLM\Software\Mozilla\NativeMessagingHosts\smime_companion (64-bit view)".to_string(),
                r"HKLM\Software\Mozilla\NativeMessagingHosts\smime_companion (32-bit view)".to_string(),
            ]
        );
        assert!(plan.registry.iter().all(|r| r.value == plan.files[0].path.to_str().unwrap()));
        assert!(plan.notes.iter().any(|n| n.contains("smime_companion_pkcs11.dll")));
    }

    #[test]
    fn addon_copies_are_refused_for_the_machine() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout { home: dir.path().join("home"), root: dir.path().join("root"), os: Os::Linux };
        // An administrator with a Thunderbird profile of their own.
        let profiles = l.home.join(".thunderbird");
        std::fs::create_dir_all(profiles.join("p")).unwrap();
        std::fs::write(profiles.join("profiles.ini"), "[Profile0]\nName=admin\nIsRelative=1\nPath=p\n").unwrap();
        let exe = l.root.join("usr/bin/smime-companion");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        std::fs::write(&exe, b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let xpi = dir.path().join("a.xpi");
        std::fs::write(&xpi, b"PK").unwrap();
        let allow = AllowList::from_config(&Config::default());
        let req = |scope| Request { scope, clients: &[Client::Thunderbird], host_path: Path::new("/usr/bin/smime-companion"), pkcs11: Pkcs11::Auto, addon: Some(&xpi), allow: &allow };
        let e = plan_install(&l, &req(Scope::System)).unwrap_err();
        assert_eq!(e.code(), "invalid_params");
        assert!(e.to_string().contains("--addon is for --user"), "{e}");
        assert!(check_addon_scope(Scope::System, None).is_ok());
        // For the user it is what --addon is for.
        let l = Layout { root: PathBuf::from("/"), ..l };
        let req = Request { host_path: &exe, ..req(Scope::User) };
        let plan = plan_install(&l, &req).unwrap();
        assert!(plan.files.iter().any(|f| f.role == Role::Addon && f.path.starts_with(profiles.join("p"))));
    }

    #[test]
    fn a_host_that_cannot_run_is_refused_before_anything_is_planned() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout { home: dir.path().join("home"), root: PathBuf::from("/"), os: Os::Linux };
        let allow = AllowList::from_config(&Config::default());
        let plan = |host: &Path| {
            let req = Request { scope: Scope::User, clients: &[Client::Thunderbird], host_path: host, pkcs11: Pkcs11::Auto, addon: None, allow: &allow };
            plan_install(&l, &req)
        };
        let reason = |host: &Path| match plan(host) {
            Err(Error::HostNotExecutable { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(Path::new("relative/smime-companion")), "the path is not absolute");
        assert_eq!(reason(&dir.path().join("missing")), "no such file");
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        #[cfg(unix)]
        assert_eq!(reason(&plain), "the file is not executable");
        let exe = dir.path().join("bin/smime-companion");
        executable(&exe);
        let planned = plan(&exe).unwrap();
        assert_eq!(planned.files.len(), 1, "the host manifest; no PKCS#11 module beside the program");
        assert!(planned.notes.iter().any(|n| n.contains("no PKCS#11 module")), "{:?}", planned.notes);
    }

    #[test]
    fn a_named_pkcs11_module_must_exist_and_is_registered_for_mozilla_clients_only() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout { home: dir.path().join("home"), root: PathBuf::from("/"), os: Os::Linux };
        let allow = AllowList::from_config(&Config::default());
        let exe = dir.path().join("bin/smime-companion");
        executable(&exe);
        let module = dir.path().join("lib/libsmime_companion_pkcs11.so");
        let req = |pkcs11| Request { scope: Scope::User, clients: &[Client::Thunderbird, Client::Chrome], host_path: &exe, pkcs11, addon: None, allow: &allow };
        let e = plan_install(&l, &req(Pkcs11::At(module.clone()))).unwrap_err();
        assert_eq!(e.code(), "io_error");
        executable(&module);
        let planned = plan_install(&l, &req(Pkcs11::At(module.clone()))).unwrap();
        let roles: Vec<(Client, Role)> = planned.files.iter().map(|f| (f.client, f.role)).collect();
        assert_eq!(roles, vec![(Client::Thunderbird, Role::HostManifest), (Client::Thunderbird, Role::Pkcs11Manifest), (Client::Chrome, Role::HostManifest)]);
        assert!(planned.notes.is_empty(), "{:?}", planned.notes);
        assert!(planned.registry.is_empty(), "no registry outside Windows");
    }
}
