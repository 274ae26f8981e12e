//! Windows registry registration: which keys each client reads (pure, tested on every OS), and
//! reading, setting and deleting their default value (Windows only, [`winreg`]).
//!
//! Thunderbird and Firefox read `Software\Mozilla\NativeMessagingHosts\<name>` (and
//! `...\PKCS11Modules\<name>`) in HKCU (64-bit view), then HKLM 32-bit view, then HKLM 64-bit
//! view, and use the first default value found, without falling back when that manifest is broken
//! (NativeManifests.sys.mjs `_winLookup`). So a machine-wide install writes both HKLM views.

use super::{Client, Kind, Scope};
use crate::error::{Error, Result};
use crate::product::HOST_NAME;

#[cfg(windows)]
#[path = "winreg.rs"]
mod winreg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hive {
    CurrentUser,
    LocalMachine,
}

impl Hive {
    pub fn name(self) -> &'static str {
        match self {
            Hive::CurrentUser => "HKCU",
            Hive::LocalMachine => "HKLM",
        }
    }

    pub fn parse(name: &str) -> Option<Hive> {
        [Hive::CurrentUser, Hive::LocalMachine].into_iter().find(|h| h.name() == name)
    }
}

/// The registry view (WOW64 redirection) a key is read or written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Bits64,
    Bits32,
}

impl View {
    pub fn name(self) -> &'static str {
        match self {
            View::Bits64 => "64",
            View::Bits32 => "32",
        }
    }

    pub fn parse(name: &str) -> Option<View> {
        [View::Bits64, View::Bits32].into_iter().find(|v| v.name() == name)
    }
}

/// One registry key in one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegKey {
    pub hive: Hive,
    pub view: View,
    /// Below the hive, e.g. `Software\Mozilla\NativeMessagingHosts\smime_companion`.
    pub path: String,
}

impl RegKey {
    /// `HKLM\Software\...\smime_companion (32-bit view)`.
    pub fn display(&self) -> String {
        format!("{}\\{} ({}-bit view)", self.hive.name(), self.path, self.view.name())
    }
}

/// The key path (below the hive) a client reads for a manifest of `kind`.
pub fn key_path(client: Client, kind: Kind) -> Option<String> {
    let parent = match (client, kind) {
        (Client::Thunderbird | Client::Firefox, Kind::Host) => r"Software\Mozilla\NativeMessagingHosts",
        (Client::Thunderbird | Client::Firefox, Kind::Pkcs11) => r"Software\Mozilla\PKCS11Modules",
        (Client::Chrome, Kind::Host) => r"Software\Google\Chrome\NativeMessagingHosts",
        (Client::Edge, Kind::Host) => r"Software\Microsoft\Edge\NativeMessagingHosts",
        (Client::Chromium, Kind::Host) => r"Software\Chromium\NativeMessagingHosts",
        (_, Kind::Pkcs11) => return None,
    };
    Some(format!("{parent}\\{HOST_NAME}"))
}

/// The keys `install` writes for `client` in `scope`: HKCU for a user; both HKLM views for the
/// machine, so 32- and 64-bit builds of every client find it.
pub fn keys(client: Client, scope: Scope, kind: Kind) -> Vec<RegKey> {
    let Some(path) = key_path(client, kind) else { return vec![] };
    let at = |hive, view| RegKey { hive, view, path: path.clone() };
    match scope {
        Scope::User => vec![at(Hive::CurrentUser, View::Bits64)],
        Scope::System => vec![at(Hive::LocalMachine, View::Bits64), at(Hive::LocalMachine, View::Bits32)],
    }
}

/// The keys Thunderbird reads for a manifest of `kind`, in its order (the first value found wins).
pub fn thunderbird_lookup(kind: Kind) -> Vec<(Scope, RegKey)> {
    let path = key_path(Client::Thunderbird, kind).expect("Thunderbird reads both kinds");
    vec![
        (Scope::User, RegKey { hive: Hive::CurrentUser, view: View::Bits64, path: path.clone() }),
        (Scope::System, RegKey { hive: Hive::LocalMachine, view: View::Bits32, path: path.clone() }),
        (Scope::System, RegKey { hive: Hive::LocalMachine, view: View::Bits64, path }),
    ]
}

/// Reads registry default values; the real registry on Windows, a table in tests.
pub trait RegistryRead {
    fn read_default(&self, key: &RegKey) -> Result<Option<String>>;
}

/// This machine's registry.
pub struct SystemRegistry;

impl RegistryRead for SystemRegistry {
    fn read_default(&self, key: &RegKey) -> Result<Option<String>> {
        read_default(key)
    }
}

#[cfg(windows)]
fn raw(key: &RegKey) -> (isize, u32) {
    let root = match key.hive {
        Hive::CurrentUser => winreg::HKEY_CURRENT_USER,
        Hive::LocalMachine => winreg::HKEY_LOCAL_MACHINE,
    };
    let view = match key.view {
        View::Bits64 => winreg::KEY_WOW64_64KEY,
        View::Bits32 => winreg::KEY_WOW64_32KEY,
    };
    (root, view)
}

fn failed(key: &RegKey, reason: impl ToString) -> Error {
    Error::Registry { key: key.display(), reason: reason.to_string() }
}

/// The key's default value; None when the key or value does not exist.
pub fn read_default(key: &RegKey) -> Result<Option<String>> {
    #[cfg(windows)]
    {
        let (root, view) = raw(key);
        winreg::read_default(root, &key.path, view).map_err(|e| failed(key, e))
    }
    #[cfg(not(windows))]
    {
        Err(failed(key, "the Windows registry exists only on Windows"))
    }
}

/// Creates the key and sets its default value.
pub fn set_default(key: &RegKey, value: &str) -> Result<()> {
    #[cfg(windows)]
    {
        let (root, view) = raw(key);
        winreg::set_default(root, &key.path, view, value).map_err(|e| failed(key, e))
    }
    #[cfg(not(windows))]
    {
        let _ = value;
        Err(failed(key, "the Windows registry exists only on Windows"))
    }
}

/// Deletes the key; false if it was not there.
pub fn delete(key: &RegKey) -> Result<bool> {
    #[cfg(windows)]
    {
        let (root, view) = raw(key);
        winreg::delete_key(root, &key.path, view).map_err(|e| failed(key, e))
    }
    #[cfg(not(windows))]
    {
        Err(failed(key, "the Windows registry exists only on Windows"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_wide_keys_cover_both_views_and_every_client_has_its_own_key() {
        let k = keys(Client::Thunderbird, Scope::System, Kind::Host);
        assert_eq!(k.len(), 2);
        assert!(k.iter().all(|k| k.hive == Hive::LocalMachine && k.path == r"Software\Mozilla\NativeMessagingHosts\smime_companion"));
        assert_ne!(k[0].view, k[1].view);
        assert_eq!(keys(Client::Firefox, Scope::User, Kind::Host)[0].hive, Hive::CurrentUser);
        assert_eq!(keys(Client::Edge, Scope::User, Kind::Host)[0].path, r"Software\Microsoft\Edge\NativeMessagingHosts\smime_companion");
        assert_eq!(keys(Client::Chrome, Scope::User, Kind::Host)[0].path, r"Software\Google\Chrome\NativeMessagingHosts\smime_companion");
        assert_eq!(keys(Client::Chromium, Scope::User, Kind::Host)[0].path, r"Software\Chromium\NativeMessagingHosts\smime_companion");
        assert_eq!(keys(Client::Thunderbird, Scope::User, Kind::Pkcs11)[0].path, r"Software\Mozilla\PKCS11Modules\smime_companion");
        assert!(keys(Client::Chrome, Scope::System, Kind::Pkcs11).is_empty());
    }

    #[test]
    fn thunderbird_reads_hkcu_then_hklm_32_then_hklm_64() {
        let order: Vec<String> = thunderbird_lookup(Kind::Host).iter().map(|(_, k)| k.display()).collect();
        assert_eq!(
            order,
            [
                r"HKCU\Software\Mozilla\NativeMessagingHosts\smime_companion (64-bit view)",
                r"HKLM\Software\Mozilla\NativeMessagingHosts\smime_companion (32-bit view)",
                r"HKLM\Software\Mozilla\NativeMessagingHosts\smime_companion (64-bit view)",
            ]
        );
    }
}
