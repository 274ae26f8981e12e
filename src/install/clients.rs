//! The words of installation: the operating system whose rules apply, the scope (one user or
//! the machine), the clients (browsers) and the manifest style each reads, the kinds of
//! manifest we register, and the role of each file or registry value `install` writes.

use crate::product::{PKCS11_LIBRARY_LINUX, PKCS11_LIBRARY_MACOS, PKCS11_LIBRARY_WINDOWS};

/// The operating system whose rules apply. Normally the one we run on; tests and the package
/// generators pick another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    /// The OS this program was built for (other Unixes follow the Linux rules).
    pub const fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Linux
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Os::Linux => "linux",
            Os::MacOs => "macos",
            Os::Windows => "windows",
        }
    }

    pub fn parse(name: &str) -> Option<Os> {
        [Os::Linux, Os::MacOs, Os::Windows].into_iter().find(|os| os.name() == name)
    }

    /// File name of the PKCS#11 module library on this OS.
    pub fn pkcs11_library(self) -> &'static str {
        match self {
            Os::Linux => PKCS11_LIBRARY_LINUX,
            Os::MacOs => PKCS11_LIBRARY_MACOS,
            Os::Windows => PKCS11_LIBRARY_WINDOWS,
        }
    }

    /// Whether a manifest's `path` must be absolute. Mozilla resolves a relative `path` against
    /// the manifest's folder on Windows only (NativeMessaging.sys.mjs); Chromium does the same.
    pub fn requires_absolute_host_path(self) -> bool {
        self != Os::Windows
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    System,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::System => "system",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        [Scope::User, Scope::System].into_iter().find(|s| s.name() == name)
    }
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
        if name == "all" {
            return Some(Client::ALL.to_vec());
        }
        Client::ALL.into_iter().find(|c| c.name() == name).map(|c| vec![c])
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

/// The two kinds of native manifest we register (the manifest's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `type: "stdio"`: the native-messaging host.
    Host,
    /// `type: "pkcs11"`: the PKCS#11 module the add-on can load through `browser.pkcs11`
    /// (Mozilla clients only).
    Pkcs11,
}

impl Kind {
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Host => "stdio",
            Kind::Pkcs11 => "pkcs11",
        }
    }

    /// The folder (Linux, macOS) or registry key (Windows) below Mozilla's manifest folder,
    /// as in `TYPES` of NativeManifests.sys.mjs.
    pub fn mozilla_folder(self, os: Os) -> &'static str {
        match (self, os) {
            (Kind::Host, Os::Linux) => "native-messaging-hosts",
            (Kind::Host, _) => "NativeMessagingHosts",
            (Kind::Pkcs11, Os::Linux) => "pkcs11-modules",
            (Kind::Pkcs11, _) => "PKCS11Modules",
        }
    }

    pub fn role(self) -> Role {
        match self {
            Kind::Host => Role::HostManifest,
            Kind::Pkcs11 => Role::Pkcs11Manifest,
        }
    }
}

/// What an installed file or registry value is for (recorded in the receipt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    HostManifest,
    Pkcs11Manifest,
    /// A copy of the add-on in a Thunderbird profile.
    Addon,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::HostManifest => "host_manifest",
            Role::Pkcs11Manifest => "pkcs11_manifest",
            Role::Addon => "addon",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        [Role::HostManifest, Role::Pkcs11Manifest, Role::Addon].into_iter().find(|r| r.name() == name)
    }
}
