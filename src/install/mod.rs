//! Registering the host with browsers: where each client looks for native-messaging host
//! manifests (and PKCS#11 module manifests), per OS and scope; writing our manifests there, or
//! the Windows registry values that point at them; and removing exactly that again.
//!
//! Everything that decides a path or a registry key is a pure function of a [`Layout`] (home
//! folder, system root, OS), so the rules of every OS are tested on any OS and the package
//! generators ([`package`]) use the same rules. Only applying registry values is Windows code.
//!
//! The manifests come from the templates in `manifests/` (compiled in). Only files named
//! `smime_companion.json` whose `name` is ours are ever removed, and `install` records what it
//! wrote in a receipt ([`receipt`]) so `uninstall` removes exactly that, so other products' files
//! in the same folders are safe.

pub mod doctor;
pub mod package;
pub mod policy;
pub mod profiles;
pub mod receipt;
pub mod registry;

use crate::caller::AllowList;
use crate::error::{Error, Result};
use crate::product::{
    ADDON_ID, HOST_NAME, PKCS11_LIBRARY_LINUX, PKCS11_LIBRARY_MACOS, PKCS11_LIBRARY_WINDOWS,
};
use receipt::{Entry, Receipt, Target};
use registry::RegKey;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

const MOZILLA_TEMPLATE: &str = include_str!("../../manifests/mozilla-host.json");
const CHROMIUM_TEMPLATE: &str = include_str!("../../manifests/chromium-host.json");
const PKCS11_TEMPLATE: &str = include_str!("../../manifests/pkcs11-module.json");

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
            .ok_or_else(|| Error::Io { path: "$HOME".into(), reason: "no home folder".into() })?;
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

/// The manifest file name every client expects.
pub fn manifest_file_name() -> String {
    format!("{HOST_NAME}.json")
}

/// Renders a manifest from its template: the host manifest of `style`, or the PKCS#11 module
/// manifest. `path` is written as given (absolute, or relative on Windows).
pub fn render(kind: Kind, style: Style, path: &str, allow: &AllowList) -> Result<String> {
    let template = match (kind, style) {
        (Kind::Pkcs11, _) => PKCS11_TEMPLATE,
        (Kind::Host, Style::Mozilla) => MOZILLA_TEMPLATE,
        (Kind::Host, Style::Chromium) => CHROMIUM_TEMPLATE,
    };
    let mut manifest: Value = serde_json::from_str(template)
        .map_err(|e| Error::Internal { reason: format!("manifest template: {e}") })?;
    fill(&mut manifest, path, allow);
    Ok(pretty_json(&manifest))
}

/// JSON as every file we write holds it: pretty-printed (keys sorted), ending in a newline.
pub fn pretty_json(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).expect("a Value always serialises");
    text.push('\n');
    text
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str().ok_or_else(|| Error::Io { path: path.display().to_string(), reason: "the path is not valid UTF-8".into() })
}

fn fill(value: &mut Value, path: &str, allow: &AllowList) {
    match value {
        Value::String(s) if s == "@HOST_PATH@" || s == "@MODULE_PATH@" => *s = path.to_string(),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items.drain(..) {
                match item.as_str() {
                    Some("@ADDON_IDS@") => out.extend(allow.extensions().iter().cloned().map(Value::String)),
                    Some("@ORIGINS@") => out.extend(allow.origins().iter().cloned().map(Value::String)),
                    _ => {
                        let mut item = item;
                        fill(&mut item, path, allow);
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        Value::Object(fields) => fields.values_mut().for_each(|v| fill(v, path, allow)),
        _ => {}
    }
}

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
                return Err(Error::Io { path: path.display().to_string(), reason: "no PKCS#11 module library there".into() });
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

/// Whether `path` is a manifest of ours: JSON whose `name` is our host name.
pub fn is_ours(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|v| v["name"] == HOST_NAME)
}

/// Writes a file so a reader never sees half of it, even after a crash: a temporary file, flushed
/// to disk, then a rename (and on Unix the folder flushed too, so the rename itself is kept).
/// Mode 0644: browsers running as the user must read system-wide manifests.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_mode(path, bytes, 0o644)
}

/// [`write_atomically`] with a given Unix mode (ignored elsewhere).
pub fn write_atomically_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        // Without this a crash soon after the rename can leave an empty file in its place.
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })?;
    #[cfg(unix)]
    {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // Best effort: the new file is complete either way; this keeps the rename over a crash.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn layout(os: Os) -> Layout {
        Layout { home: PathBuf::from("/home/u"), root: PathBuf::from("/stage"), os }
    }

    #[test]
    fn mozilla_manifest_has_the_fields_thunderbird_checks() {
        let allow = AllowList::from_config(&Config::default());
        let text = render(Kind::Host, Style::Mozilla, "/opt/x/smime-companion", &allow).unwrap();
        assert!(text.ends_with("}\n"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(v["type"], "stdio");
        assert_eq!(v["path"], "/opt/x/smime-companion");
        assert_eq!(v["allowed_extensions"], serde_json::json!([ADDON_ID]));
        assert!(v.get("allowed_origins").is_none());
    }

    #[test]
    fn pkcs11_manifest_is_of_type_pkcs11_for_our_addon() {
        let allow = AllowList::from_config(&Config::default());
        let text = render(Kind::Pkcs11, Style::Mozilla, "/usr/lib/smime-companion/libsmime_companion_pkcs11.so", &allow).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(v["type"], "pkcs11");
        assert_eq!(v["path"], "/usr/lib/smime-companion/libsmime_companion_pkcs11.so");
        assert_eq!(v["allowed_extensions"], serde_json::json!([ADDON_ID]));
    }

    #[test]
    fn templates_use_the_host_name_compiled_into_the_binary() {
        for t in [MOZILLA_TEMPLATE, CHROMIUM_TEMPLATE, PKCS11_TEMPLATE] {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(v["name"], HOST_NAME);
        }
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
    fn windows_keeps_manifests_per_style_and_points_registry_keys_at_them() {
        let l = layout(Os::Windows);
        let allow = AllowList::from_config(&Config::default());
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("smime-companion.exe");
        std::fs::write(&exe, b"MZ").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let l = Layout { root: PathBuf::from("/"), ..l };
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
}
