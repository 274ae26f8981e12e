//! Where each client looks, per OS and scope: the folders of native-messaging and PKCS#11
//! manifests, the Windows registry keys, Thunderbird's profile folders, the system receipt and
//! the PKCS#11 library beside the host. Every answer is a pure function of a [`Layout`] (home
//! folder, system root, OS), so the rules of every OS are tested on any OS.

use super::registry::{self, RegKey};
use super::{Client, Kind, Os, Scope, Style};
use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// The file-system roots installation works against: the user's home folder, the system root
/// (`/` or `C:\` normally; a staging folder for packaging and tests) and the OS whose rules apply.
#[derive(Debug, Clone)]
pub struct Layout {
    pub home: PathBuf,
    pub root: PathBuf,
    pub os: Os,
}

impl Layout {
    /// The real layout of this machine.
    pub fn current() -> Result<Layout> {
        let home = directories::BaseDirs::new()
            .map(|d| d.home_dir().to_path_buf())
            .ok_or_else(|| Error::io_reason("$HOME", std::io::ErrorKind::NotFound, "no home folder"))?;
        Ok(Layout { home, root: default_root(), os: Os::current() })
    }

    /// A path of the target system (absolute, as written into manifests) as found below `root`.
    pub fn target(&self, path: &Path) -> PathBuf {
        let relative: PathBuf =
            path.components().filter(|c| !matches!(c, Component::Prefix(_) | Component::RootDir)).collect();
        self.root.join(relative)
    }

    /// [`Layout::target`] for a path in the target OS's spelling (`C:\x\y` on Windows).
    pub fn target_str(&self, path: &str) -> PathBuf {
        if self.os != Os::Windows {
            return self.target(Path::new(path));
        }
        if cfg!(windows) && self.root == default_root() {
            return PathBuf::from(path);
        }
        let unified = path.replace('\\', "/");
        let rest = match unified.as_bytes() {
            [drive, b':', ..] if drive.is_ascii_alphabetic() => &unified[2..],
            _ => unified.as_str(),
        };
        self.sys(rest)
    }

    /// A system path given in the target OS's own spelling (`/usr/lib/...`, `Program Files/...`).
    pub fn sys(&self, path: &str) -> PathBuf {
        let mut out = self.root.clone();
        out.extend(path.split(['/', '\\']).filter(|p| !p.is_empty()));
        out
    }

    fn user(&self, path: &str) -> PathBuf {
        let mut out = self.home.clone();
        out.extend(path.split('/').filter(|p| !p.is_empty()));
        out
    }

    /// Mozilla's parent folders of the type folders, in the order Thunderbird (and Firefox)
    /// search them: `XREUserNativeManifests`, then `XRESysNativeManifests` (nsXREDirProvider).
    /// Not used on Windows, where the registry is searched instead.
    pub fn mozilla_parents(&self, client: Client, scope: Scope) -> Vec<PathBuf> {
        match (self.os, scope) {
            // Thunderbird and Firefox share the legacy ~/.mozilla folder on Linux.
            (Os::Linux, Scope::User) => vec![self.user(".mozilla")],
            (Os::Linux, Scope::System) => {
                let mut dirs = vec![self.sys("/usr/lib/mozilla")];
                // Builds with HAVE_USR_LIB64_DIR (some distributions' RPMs) look here instead.
                if self.sys("/usr/lib64").is_dir() {
                    dirs.push(self.sys("/usr/lib64/mozilla"));
                }
                dirs
            }
            // Thunderbird's per-user folder differs from Firefox's (MOZ_THUNDERBIRD in
            // nsXREDirProvider): ~/Library/Mozilla, not ~/Library/Application Support/Mozilla.
            (Os::MacOs, Scope::User) if client == Client::Thunderbird => vec![self.user("Library/Mozilla")],
            (Os::MacOs, Scope::User) => vec![self.user("Library/Application Support/Mozilla")],
            (Os::MacOs, Scope::System) => vec![self.sys("/Library/Application Support/Mozilla")],
            (Os::Windows, _) => vec![],
        }
    }

    /// The folders where `client` looks for manifests of `kind` in `scope` (Linux, macOS), or
    /// where we keep the manifest files the registry points to (Windows).
    pub fn manifest_dirs(&self, client: Client, scope: Scope, kind: Kind) -> Vec<PathBuf> {
        if kind == Kind::Pkcs11 && client.style() != Style::Mozilla {
            return vec![];
        }
        if self.os == Os::Windows {
            let base = match scope {
                Scope::User => self.user("AppData/Local/smime-companion"),
                Scope::System => self.sys("ProgramData/smime-companion"),
            };
            let sub = match (kind, client.style()) {
                (Kind::Pkcs11, _) => "pkcs11-modules",
                (Kind::Host, Style::Mozilla) => "native-messaging-hosts/mozilla",
                (Kind::Host, Style::Chromium) => "native-messaging-hosts/chromium",
            };
            let mut dir = base;
            dir.extend(sub.split('/'));
            return vec![dir];
        }
        if client.style() == Style::Mozilla {
            return self.mozilla_parents(client, scope).into_iter().map(|p| p.join(kind.mozilla_folder(self.os))).collect();
        }
        let dir = match (self.os, client, scope) {
            (Os::MacOs, Client::Chrome, Scope::User) => self.user("Library/Application Support/Google/Chrome/NativeMessagingHosts"),
            (Os::MacOs, Client::Chrome, Scope::System) => self.sys("/Library/Google/Chrome/NativeMessagingHosts"),
            (Os::MacOs, Client::Edge, Scope::User) => self.user("Library/Application Support/Microsoft Edge/NativeMessagingHosts"),
            (Os::MacOs, Client::Edge, Scope::System) => self.sys("/Library/Microsoft/Edge/NativeMessagingHosts"),
            (Os::MacOs, _, Scope::User) => self.user("Library/Application Support/Chromium/NativeMessagingHosts"),
            (Os::MacOs, _, Scope::System) => self.sys("/Library/Application Support/Chromium/NativeMessagingHosts"),
            (_, Client::Chrome, Scope::User) => self.user(".config/google-chrome/NativeMessagingHosts"),
            (_, Client::Chrome, Scope::System) => self.sys("/etc/opt/chrome/native-messaging-hosts"),
            (_, Client::Edge, Scope::User) => self.user(".config/microsoft-edge/NativeMessagingHosts"),
            (_, Client::Edge, Scope::System) => self.sys("/etc/opt/edge/native-messaging-hosts"),
            (_, _, Scope::User) => self.user(".config/chromium/NativeMessagingHosts"),
            (_, _, Scope::System) => self.sys("/etc/chromium/native-messaging-hosts"),
        };
        vec![dir]
    }

    /// The registry keys (Windows) whose default value must name our manifest, in the order
    /// the client reads them. Empty on other OSes.
    pub fn registry_keys(&self, client: Client, scope: Scope, kind: Kind) -> Vec<RegKey> {
        if self.os != Os::Windows {
            return vec![];
        }
        registry::keys(client, scope, kind)
    }

    /// Where the receipt of a system-wide install is kept.
    pub fn system_receipt(&self) -> PathBuf {
        match self.os {
            Os::Linux => self.sys("/var/lib/smime-companion/install-receipt.json"),
            Os::MacOs => self.sys("/Library/Application Support/smime-companion/install-receipt.json"),
            Os::Windows => self.sys("ProgramData/smime-companion/install-receipt.json"),
        }
    }

    /// The folders holding Thunderbird's `profiles.ini`, in the order they are looked at.
    pub fn thunderbird_profile_roots(&self) -> Vec<PathBuf> {
        match self.os {
            Os::Linux => vec![self.user(".thunderbird"), self.user("snap/thunderbird/common/.thunderbird")],
            Os::MacOs => vec![self.user("Library/Thunderbird")],
            Os::Windows => vec![self.user("AppData/Roaming/Thunderbird")],
        }
    }

    /// Where a PKCS#11 module library for `host_path` may be, most likely first: beside the host
    /// binary, and on Linux also in `<prefix>/lib/smime-companion/` for a binary in `<prefix>/bin`.
    pub fn pkcs11_candidates(&self, host_path: &Path) -> Vec<PathBuf> {
        let lib = self.os.pkcs11_library();
        let mut out = Vec::new();
        if let Some(dir) = host_path.parent() {
            out.push(dir.join(lib));
            if self.os == Os::Linux && dir.file_name().is_some_and(|n| n == "bin") {
                if let Some(prefix) = dir.parent() {
                    out.push(prefix.join("lib/smime-companion").join(lib));
                }
            }
        }
        out
    }
}

fn default_root() -> PathBuf {
    if cfg!(windows) {
        let drive = std::env::var("SystemDrive").unwrap_or_else(|_| "C:".into());
        PathBuf::from(format!("{drive}\\"))
    } else {
        PathBuf::from("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(os: Os) -> Layout {
        Layout { home: PathBuf::from("/home/u"), root: PathBuf::from("/stage"), os }
    }

    #[test]
    fn thunderbird_folders_per_os_and_scope() {
        let l = layout(Os::MacOs);
        assert_eq!(
            l.manifest_dirs(Client::Thunderbird, Scope::User, Kind::Host),
            vec![PathBuf::from("/home/u/Library/Mozilla/NativeMessagingHosts")]
        );
        assert_eq!(
            l.manifest_dirs(Client::Firefox, Scope::User, Kind::Host),
            vec![PathBuf::from("/home/u/Library/Application Support/Mozilla/NativeMessagingHosts")]
        );
        assert_eq!(
            l.manifest_dirs(Client::Thunderbird, Scope::System, Kind::Pkcs11),
            vec![PathBuf::from("/stage/Library/Application Support/Mozilla/PKCS11Modules")]
        );
        let l = layout(Os::Linux);
        assert_eq!(
            l.manifest_dirs(Client::Thunderbird, Scope::User, Kind::Pkcs11),
            vec![PathBuf::from("/home/u/.mozilla/pkcs11-modules")]
        );
        assert_eq!(
            l.manifest_dirs(Client::Thunderbird, Scope::System, Kind::Host)[0],
            PathBuf::from("/stage/usr/lib/mozilla/native-messaging-hosts")
        );
        assert!(l.manifest_dirs(Client::Chrome, Scope::User, Kind::Pkcs11).is_empty());
        assert!(l.registry_keys(Client::Thunderbird, Scope::System, Kind::Host).is_empty());
    }

    #[test]
    fn pkcs11_library_is_looked_for_beside_the_binary() {
        let l = layout(Os::Linux);
        assert_eq!(
            l.pkcs11_candidates(Path::new("/usr/bin/smime-companion")),
            vec![PathBuf::from("/usr/bin/libsmime_companion_pkcs11.so"), PathBuf::from("/usr/lib/smime-companion/libsmime_companion_pkcs11.so")]
        );
        assert_eq!(
            layout(Os::MacOs).pkcs11_candidates(Path::new("/Applications/x/smime-companion")),
            vec![PathBuf::from("/Applications/x/libsmime_companion_pkcs11.dylib")]
        );
    }

    #[test]
    fn target_paths_live_below_the_root() {
        let l = layout(Os::Linux);
        assert_eq!(l.target(Path::new("/usr/bin/x")), PathBuf::from("/stage/usr/bin/x"));
        assert_eq!(l.sys("/etc/thunderbird/policies"), PathBuf::from("/stage/etc/thunderbird/policies"));
    }

    #[test]
    fn chromium_browsers_each_have_their_own_folder_per_os_and_scope() {
        let l = layout(Os::Linux);
        assert_eq!(l.manifest_dirs(Client::Chrome, Scope::User, Kind::Host), vec![PathBuf::from("/home/u/.config/google-chrome/NativeMessagingHosts")]);
        assert_eq!(l.manifest_dirs(Client::Edge, Scope::System, Kind::Host), vec![PathBuf::from("/stage/etc/opt/edge/native-messaging-hosts")]);
        assert_eq!(l.manifest_dirs(Client::Chromium, Scope::System, Kind::Host), vec![PathBuf::from("/stage/etc/chromium/native-messaging-hosts")]);
        let l = layout(Os::MacOs);
        assert_eq!(
            l.manifest_dirs(Client::Chrome, Scope::System, Kind::Host),
            vec![PathBuf::from("/stage/Library/Google/Chrome/NativeMessagingHosts")]
        );
        assert_eq!(
            l.manifest_dirs(Client::Edge, Scope::User, Kind::Host),
            vec![PathBuf::from("/home/u/Library/Application Support/Microsoft Edge/NativeMessagingHosts")]
        );
    }

    #[test]
    fn windows_paths_in_their_own_spelling_land_below_the_root() {
        let l = layout(Os::Windows);
        assert_eq!(l.target_str(r"C:\Program Files\S\smime-companion.exe"), PathBuf::from("/stage/Program Files/S/smime-companion.exe"));
        assert_eq!(l.system_receipt(), PathBuf::from("/stage/ProgramData/smime-companion/install-receipt.json"));
        assert_eq!(l.manifest_dirs(Client::Edge, Scope::User, Kind::Host), vec![PathBuf::from("/home/u/AppData/Local/smime-companion/native-messaging-hosts/chromium")]);
        assert!(l.mozilla_parents(Client::Thunderbird, Scope::User).is_empty(), "Windows reads the registry instead");
        assert_eq!(l.registry_keys(Client::Thunderbird, Scope::User, Kind::Host).len(), 1);
    }
}
