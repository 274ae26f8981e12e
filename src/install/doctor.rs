//! `doctor`: finds every reason Thunderbird may say "No such native application" (and the other
//! ways a rollout goes wrong) and says how to fix each.
//!
//! Each check has a stable id ([`CHECKS`]); it yields one result per thing it looked at (a
//! manifest location, a profile, a file), with a status and, when it failed, the fix in plain
//! words. All inputs come from a [`Layout`] (home folder, system root, OS), a registry reader and
//! the configuration file paths, so every check is tested with a temporary HOME and root, and the
//! macOS and Windows rules on any OS.
//!
//! Scope: `--user` checks the per-user registration (and the user's profiles), `--system` the
//! machine-wide one (and the enterprise policy); without either, doctor checks what Thunderbird
//! actually sees for this user: the first manifest it accepts in its search order.

#[path = "doctor_chromium.rs"]
pub mod chromium;

use super::package::PackageLayout;
use super::policy::{self, file_url};
use super::profiles::{self, AddonState};
use super::registry::{self, RegistryRead};
use super::{manifest_file_name, runnable, Client, Kind, Layout, Os, Scope};
use crate::config::Config;
use crate::product::{ADDON_ID, BINARY_NAME, HOST_NAME};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Every check: id and what it verifies. docs/INSTALL.md lists them (checked by a test).
pub const CHECKS: &[(&str, &str)] = &[
    ("thunderbird", "Which Thunderbird is installed: a Snap needs the WebExtensions portal; a Flatpak cannot start the host."),
    ("manifest_present", "A host manifest is in every place this OS's Thunderbird looks (for the scope checked)."),
    ("manifest_json", "The manifest is valid JSON."),
    ("manifest_fields", "The manifest has exactly the fields Thunderbird's schema allows (name, description, path, type, allowed_extensions), of the right types."),
    ("manifest_name", "Its `name` is `smime_companion`, as is its file name."),
    ("manifest_type", "Its `type` is `stdio`."),
    ("manifest_path", "Its `path` is absolute (Linux, macOS), exists and is executable."),
    ("manifest_allowed", "Its `allowed_extensions` contains the add-on's ID."),
    ("registry", "Windows: the registry keys Thunderbird reads (HKCU, HKLM 32- and 64-bit views) name an existing manifest; a broken per-user key hides the machine-wide one."),
    ("macos_firefox_folder", "macOS: the per-user manifest is in Thunderbird's folder (~/Library/Mozilla), not only in Firefox's."),
    ("pkcs11_manifest", "When the PKCS#11 module is installed beside the host, its manifest (type pkcs11) is registered."),
    ("pkcs11_loaded", "When the PKCS#11 module is installed, each Thunderbird profile loads it (pkcs11.txt), from a library that exists."),
    ("policy", "Where the system package is installed, Thunderbird's enterprise policy force-installs the add-on from it; no policy file is broken."),
    ("addon", "The add-on is installed and enabled in each Thunderbird profile listed in profiles.ini."),
    ("config", "The companion's configuration files can be read."),
    ("chromium_browser", "Which of Chrome, Edge and Chromium is installed (for Outlook on the web); a Snap or Flatpak cannot start the host."),
    ("chromium_manifest_present", "For each of them that is installed, asked for, or registered: a host manifest is where the browser looks (the per-user one only when policy allows user-level hosts)."),
    ("chromium_manifest_json", "That manifest is valid JSON."),
    ("chromium_manifest_fields", "It has the fields Chromium requires (name, a non-empty description, path, type, allowed_origins of the form chrome-extension://ID/), of the right types."),
    ("chromium_manifest_name", "Its `name` is `smime_companion`, as is its file name."),
    ("chromium_manifest_type", "Its `type` is `stdio`."),
    ("chromium_manifest_path", "Its `path` is absolute (Linux, macOS), exists and is executable."),
    ("chromium_manifest_allowed", "Its `allowed_origins` contains the Outlook-on-the-web extension's origin (or one the configuration adds)."),
    ("chromium_registry", "Windows: the keys the browser reads (HKCU, HKLM 32- and 64-bit views) name an existing manifest."),
    ("chromium_policy", "Linux: the browser's managed policy files are valid JSON, do not block the host or the extension, and whether they force-install it; its preset settings (3rdparty) match the extension's schema."),
    ("chromium_extension", "The extension is installed and switched on in each of the browser's profiles of this user."),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Worth knowing, but Thunderbird can work.
    Warn,
    /// Thunderbird cannot use the host (or the rollout is broken).
    Fail,
    /// Not applicable here.
    Skip,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One result of one check.
#[derive(Debug, Clone)]
pub struct Finding {
    pub id: &'static str,
    pub status: Status,
    /// What was looked at: a path, a registry key, a profile.
    pub subject: String,
    pub message: String,
    /// What to do, in plain words, when the status is not ok.
    pub fix: Option<String>,
}

/// What `doctor` looks at.
pub struct Inputs<'a> {
    pub layout: Layout,
    /// None: what Thunderbird sees for this user (user and system).
    pub scope: Option<Scope>,
    pub registry: &'a dyn RegistryRead,
    /// The configuration files, system-wide first.
    pub config_files: Vec<PathBuf>,
    /// The clients to check (`--client`); None: Thunderbird and every Chromium browser found.
    pub clients: Option<Vec<Client>>,
}

#[derive(Debug)]
pub struct Report {
    pub os: Os,
    pub scope: Option<Scope>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn healthy(&self) -> bool {
        !self.findings.iter().any(|f| f.status == Status::Fail)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "healthy": self.healthy(),
            "os": self.os.name(),
            "scope": self.scope.map_or("all", Scope::name),
            "checks": self.findings.iter().map(|f| json!({
                "id": f.id, "status": f.status.name(), "subject": f.subject, "message": f.message, "fix": f.fix,
            })).collect::<Vec<_>>(),
        })
    }

    /// The report for people: one line per finding, the fix below each failure or warning.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "S/MIME Companion doctor ({}, {})\n",
            self.os.name(),
            match self.scope {
                None => "what the mail clients see for this user".to_string(),
                Some(s) => format!("{} installation", s.name()),
            }
        );
        for f in &self.findings {
            let label = match f.status {
                Status::Ok => "ok  ",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
                Status::Skip => "--  ",
            };
            out.push_str(&format!("{label}  {:<25} {}: {}\n", f.id, f.subject, f.message));
            if let (Some(fix), Status::Fail | Status::Warn) = (&f.fix, f.status) {
                out.push_str(&format!("      {:<25} fix: {fix}\n", ""));
            }
        }
        let failed = self.findings.iter().filter(|f| f.status == Status::Fail).count();
        if failed == 0 {
            out.push_str("healthy: every client checked can find and start the host.\n");
        } else {
            out.push_str(&format!("{failed} problem(s) found; fix them as shown above, then run doctor again.\n"));
        }
        out
    }
}

struct Doctor<'a> {
    inputs: &'a Inputs<'a>,
    findings: Vec<Finding>,
}

impl Doctor<'_> {
    fn add(&mut self, id: &'static str, status: Status, subject: impl Into<String>, message: impl Into<String>, fix: Option<String>) {
        self.findings.push(Finding { id, status, subject: subject.into(), message: message.into(), fix });
    }

    fn layout(&self) -> &Layout {
        &self.inputs.layout
    }

    fn scopes(&self) -> Vec<Scope> {
        match self.inputs.scope {
            Some(s) => vec![s],
            None => vec![Scope::User, Scope::System],
        }
    }
}

/// Runs every check.
pub fn run(inputs: &Inputs) -> Report {
    let mut d = Doctor { inputs, findings: Vec::new() };
    // The user's Thunderbird profiles, read once for every check that looks at them (none does
    // for the machine-wide installation).
    let found = match inputs.scope {
        Some(Scope::System) => profiles::Found::default(),
        _ => profiles::find(&inputs.layout),
    };
    let clients = inputs.clients.clone().unwrap_or_else(|| Client::ALL.to_vec());
    if clients.iter().any(|c| matches!(c, Client::Thunderbird | Client::Firefox)) {
        check_thunderbird(&mut d);
        let effective = check_manifests(&mut d);
        check_macos_firefox_folder(&mut d, effective.is_some());
        let module = check_pkcs11(&mut d, effective.as_deref());
        check_pkcs11_loaded(&mut d, module.as_deref(), &found);
        let forced = check_policy(&mut d);
        check_addon(&mut d, forced, &found);
    }
    chromium::run(&mut d, &clients, inputs.clients.is_some());
    check_config(&mut d);
    Report { os: inputs.layout.os, scope: inputs.scope, findings: d.findings }
}

/// The command that writes the registration for `scope`.
fn install_fix(os: Os, scope: Scope) -> String {
    match (scope, os) {
        (Scope::User, _) => format!("run `{BINARY_NAME} install --user` (installer/install-user.sh does it for you)"),
        (Scope::System, Os::Linux) => {
            format!("reinstall the package (`sudo apt-get install --reinstall {BINARY_NAME}`) or run `sudo {BINARY_NAME} install --system`")
        }
        (Scope::System, Os::MacOs) => format!("reinstall the {BINARY_NAME} pkg or run `sudo \"{}\" install --system`", PackageLayout::for_os(os).binary),
        (Scope::System, Os::Windows) => format!("repair the {BINARY_NAME} MSI (`msiexec /fa smime-companion.msi`) or run `{BINARY_NAME} install --system` as administrator"),
    }
}

// --- Thunderbird itself ---------------------------------------------------------------------------

fn check_thunderbird(d: &mut Doctor) {
    let l = d.layout().clone();
    let first = |paths: &[PathBuf]| paths.iter().find(|p| p.exists()).cloned();
    let native: Vec<PathBuf> = match l.os {
        Os::Linux => ["/usr/lib/thunderbird/thunderbird", "/usr/lib64/thunderbird/thunderbird", "/opt/thunderbird/thunderbird", "/usr/local/lib/thunderbird/thunderbird"]
            .iter()
            .map(|p| l.sys(p))
            .collect(),
        Os::MacOs => vec![l.sys("/Applications/Thunderbird.app"), l.home.join("Applications/Thunderbird.app")],
        Os::Windows => vec![
            l.sys("Program Files/Mozilla Thunderbird/thunderbird.exe"),
            l.sys("Program Files (x86)/Mozilla Thunderbird/thunderbird.exe"),
        ],
    };
    let native = first(&native);
    let (snap, flatpak) = if l.os == Os::Linux {
        let snap = first(&[l.sys("/snap/thunderbird"), l.sys("/snap/bin/thunderbird"), l.sys("/var/lib/snapd/desktop/applications/thunderbird_thunderbird.desktop")]);
        let mut flatpak_dirs = Vec::new();
        for app in ["org.mozilla.Thunderbird", "net.thunderbird.Thunderbird"] {
            flatpak_dirs.push(l.sys(&format!("/var/lib/flatpak/app/{app}")));
            flatpak_dirs.push(l.home.join(".local/share/flatpak/app").join(app));
        }
        (snap, first(&flatpak_dirs))
    } else {
        (None, None)
    };
    let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    if let Some(path) = &snap {
        let portal = first(&[l.sys("/usr/libexec/xdg-desktop-portal"), l.sys("/usr/lib/xdg-desktop-portal/xdg-desktop-portal")]);
        let (status, fix) = match portal {
            Some(_) => (
                Status::Warn,
                "nothing to do at first; when Thunderbird asks whether S/MIME Companion may start a program, allow it. \
                 If you refused once: `rm ~/.local/share/flatpak/db/webextensions`, log out and in again. \
                 Thunderbird from the Debian package or from thunderbird.net needs no portal",
            ),
            None => (
                Status::Fail,
                "install the desktop portal (`sudo apt-get install xdg-desktop-portal`), log out and in again; \
                 or use Thunderbird from the Debian package or from thunderbird.net instead of the Snap",
            ),
        };
        let message = "Thunderbird is a Snap: it can start the host only through the WebExtensions portal (xdg-desktop-portal), which asks you once";
        d.add("thunderbird", status, path.display().to_string(), message, Some(fix.into()));
    }
    if let Some(path) = &flatpak {
        let status = if native.is_some() || snap.is_some() { Status::Warn } else { Status::Fail };
        d.add(
            "thunderbird",
            status,
            path.display().to_string(),
            "Thunderbird is a Flatpak: its sandbox cannot start the host (no native-messaging portal for Flatpak)",
            Some(format!(
                "use Thunderbird from the Debian package or from thunderbird.net{}",
                if status == Status::Warn { " (it is installed too: start that one)" } else { "" }
            )),
        );
    }
    match (&native, snap.is_none() && flatpak.is_none()) {
        (Some(_), _) => d.add("thunderbird", Status::Ok, show(&native), "Thunderbird is installed", None),
        (None, true) => d.add(
            "thunderbird",
            Status::Warn,
            "Thunderbird",
            "no Thunderbird found in the usual places",
            Some("install Thunderbird 140 or newer; if it is installed elsewhere, ignore this".into()),
        ),
        (None, false) => {}
    }
}

// --- host manifests -------------------------------------------------------------------------------

/// One place Thunderbird looks for the host manifest.
struct Location {
    scope: Scope,
    /// The folder file or the registry key, for people.
    subject: String,
    /// The manifest file, if there is one there.
    file: Option<PathBuf>,
    /// Windows: the key exists but names a manifest that is not there.
    dangling: Option<String>,
}

fn locations(d: &mut Doctor, kind: Kind) -> Vec<Location> {
    let l = d.layout().clone();
    let scopes = d.scopes();
    let mut out = Vec::new();
    if l.os == Os::Windows {
        for (scope, key) in registry::thunderbird_lookup(kind) {
            if !scopes.contains(&scope) {
                continue;
            }
            let (file, dangling) = match d.inputs.registry.read_default(&key) {
                Ok(None) => (None, None),
                Ok(Some(value)) => {
                    let on_disk = l.target_str(&value.replace('/', "\\"));
                    if on_disk.is_file() {
                        (Some(on_disk), None)
                    } else {
                        (None, Some(value))
                    }
                }
                Err(e) => {
                    d.add("registry", Status::Fail, key.display(), format!("cannot read the key: {e}"), Some("run doctor as a user who may read the registry".into()));
                    (None, None)
                }
            };
            out.push(Location { scope, subject: key.display(), file, dangling });
        }
        return out;
    }
    for scope in scopes {
        for dir in l.manifest_dirs(Client::Thunderbird, scope, kind) {
            let path = dir.join(manifest_file_name());
            let file = path.exists().then(|| path.clone());
            out.push(Location { scope, subject: path.display().to_string(), file, dangling: None });
        }
    }
    out
}

/// The outcome of reading one manifest.
struct Evaluation {
    /// Failed checks: (id, message, fix).
    problems: Vec<(&'static str, String, String)>,
    /// Passed checks: (id, message).
    passed: Vec<(&'static str, String)>,
    /// Thunderbird accepts it (parse, schema, name, type, absolute path, ID allowed).
    accepted: bool,
    /// The program it names, as found on this machine.
    program: Option<PathBuf>,
}

fn evaluate(layout: &Layout, file: &Path, kind: Kind, scope: Scope) -> Evaluation {
    let mut ev = Evaluation { problems: Vec::new(), passed: Vec::new(), accepted: false, program: None };
    let reinstall = install_fix(layout.os, scope);
    let v: Value = match std::fs::read(file).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())) {
        Ok(v) => v,
        Err(e) => {
            ev.problems.push(("manifest_json", format!("not valid JSON ({e}); Thunderbird ignores it"), reinstall));
            return ev;
        }
    };
    ev.passed.push(("manifest_json", "valid JSON".into()));
    let mut accepted = true;
    // The schema (native_manifest.json): these fields, all required, nothing else.
    let allowed_fields = ["name", "description", "path", "type", "allowed_extensions"];
    let field_problem = match v.as_object() {
        None => Some("not a JSON object".to_string()),
        Some(obj) => {
            let unknown: Vec<&String> = obj.keys().filter(|k| !allowed_fields.contains(&k.as_str())).collect();
            let missing: Vec<&&str> = allowed_fields.iter().filter(|k| !obj.contains_key(**k)).collect();
            let wrong_type = ["name", "description", "path", "type"].iter().find(|k| obj.get(**k).is_some_and(|v| !v.is_string()));
            let ids = obj.get("allowed_extensions").and_then(Value::as_array);
            if !unknown.is_empty() {
                Some(format!("unexpected field {:?} (Thunderbird rejects the whole manifest)", unknown[0]))
            } else if !missing.is_empty() {
                Some(format!("field {:?} is missing", missing[0]))
            } else if let Some(k) = wrong_type {
                Some(format!("field {k:?} is not a string"))
            } else if !ids.is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)) {
                Some("allowed_extensions is not a non-empty list of add-on IDs".into())
            } else {
                None
            }
        }
    };
    match field_problem {
        Some(p) => {
            ev.problems.push(("manifest_fields", p, reinstall.clone()));
            accepted = false;
        }
        None => ev.passed.push(("manifest_fields", "fields as Thunderbird's schema requires".into())),
    }
    let name = v["name"].as_str().unwrap_or("");
    let file_name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name != HOST_NAME {
        ev.problems.push(("manifest_name", format!("name is {name:?}, not {HOST_NAME:?}"), reinstall.clone()));
        accepted = false;
    } else if layout.os != Os::Windows && file_name != manifest_file_name() {
        ev.problems.push(("manifest_name", format!("file is named {file_name:?}, not {:?}", manifest_file_name()), reinstall.clone()));
        accepted = false;
    } else {
        ev.passed.push(("manifest_name", format!("name {HOST_NAME:?}")));
    }
    let ty = v["type"].as_str().unwrap_or("");
    if ty != kind.type_name() {
        ev.problems.push(("manifest_type", format!("type is {ty:?}, not {:?}", kind.type_name()), reinstall.clone()));
        accepted = false;
    } else {
        ev.passed.push(("manifest_type", format!("type {ty:?}")));
    }
    let ids: Vec<&str> = v["allowed_extensions"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if ids.contains(&ADDON_ID) {
        ev.passed.push(("manifest_allowed", format!("allows {ADDON_ID}")));
    } else {
        ev.problems.push(("manifest_allowed", format!("allowed_extensions does not contain {ADDON_ID}; Thunderbird refuses the add-on"), reinstall.clone()));
        accepted = false;
    }
    let path = v["path"].as_str().unwrap_or("");
    let program = Path::new(path);
    let absolute = program.is_absolute() || (layout.os == Os::Windows && is_windows_absolute(path));
    if !absolute && (kind == Kind::Host && layout.os.requires_absolute_host_path()) {
        ev.problems.push(("manifest_path", format!("path {path:?} is not absolute; Thunderbird rejects it"), reinstall.clone()));
        accepted = false;
    } else {
        // A machine-wide manifest names a program of the system below the root; a user's
        // manifest one of this machine.
        let on_disk = if absolute && scope == Scope::System {
            layout.target_str(path)
        } else if absolute {
            PathBuf::from(path)
        } else {
            file.parent().unwrap_or(Path::new(".")).join(path)
        };
        ev.program = Some(on_disk.clone());
        let what = if kind == Kind::Host { "the host program" } else { "the module library" };
        if path.is_empty() || !on_disk.is_file() {
            ev.problems.push(("manifest_path", format!("{what} {path:?} does not exist"), reinstall.clone()));
        } else if kind == Kind::Host && !runnable(layout.os, &on_disk) {
            ev.problems.push(("manifest_path", format!("{what} {path:?} is not executable"), format!("make it executable (`chmod 755 {path}`), or {reinstall}")));
        } else {
            ev.passed.push(("manifest_path", format!("{what} {path}")));
        }
    }
    ev.accepted = accepted;
    ev
}

fn is_windows_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with(r"\\") || (b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/'))
}

/// Checks the host manifests; returns the program of the manifest Thunderbird uses, if any.
fn check_manifests(d: &mut Doctor) -> Option<PathBuf> {
    let os = d.layout().os;
    let explicit = d.inputs.scope.is_some();
    let locations = locations(d, Kind::Host);
    let evaluations: Vec<Option<Evaluation>> =
        locations.iter().map(|loc| loc.file.as_ref().map(|f| evaluate(d.layout(), f, Kind::Host, loc.scope))).collect();
    // The manifest Thunderbird uses: on Windows the first key that has a value, whatever it
    // holds; elsewhere the first file it accepts.
    let used = if os == Os::Windows {
        locations.iter().position(|l| l.file.is_some() || l.dangling.is_some())
    } else {
        evaluations.iter().position(|e| e.as_ref().is_some_and(|e| e.accepted))
    };
    let any_usable = used.is_some_and(|i| evaluations[i].as_ref().is_some_and(|e| e.accepted));
    for (i, (loc, ev)) in locations.iter().zip(&evaluations).enumerate() {
        let fix = install_fix(os, loc.scope);
        let missing_status = if explicit { Status::Fail } else { Status::Skip };
        if let Some(value) = &loc.dangling {
            let status = if explicit || used == Some(i) { Status::Fail } else { Status::Warn };
            d.add("registry", status, loc.subject.clone(), format!("names {value}, which does not exist"), Some(fix));
            continue;
        }
        let Some(ev) = ev else {
            let what = if os == Os::Windows { "no registry value" } else { "no manifest here" };
            d.add("manifest_present", missing_status, loc.subject.clone(), what, Some(fix));
            if os == Os::Windows && explicit {
                d.add("registry", Status::Fail, loc.subject.clone(), "the key is missing; both HKLM views are needed for 32- and 64-bit Thunderbird", Some(install_fix(os, loc.scope)));
            }
            continue;
        };
        if os == Os::Windows && !explicit && used.is_some_and(|u| u < i) {
            let first = &locations[used.unwrap_or(0)].subject;
            d.add("registry", Status::Skip, loc.subject.clone(), format!("not read: Thunderbird uses {first} first"), None);
            continue;
        }
        d.add("manifest_present", Status::Ok, loc.subject.clone(), "manifest found", None);
        // A problem matters where Thunderbird uses this manifest (or nothing usable exists, or
        // the scope was asked for); a manifest Thunderbird skips for a later good one only warns.
        let matters = explicit || used == Some(i) || !any_usable;
        for (id, message) in &ev.passed {
            d.add(id, Status::Ok, loc.subject.clone(), message.clone(), None);
        }
        for (id, message, fix) in &ev.problems {
            let status = if matters { Status::Fail } else { Status::Warn };
            let message = if matters { message.clone() } else { format!("{message} (Thunderbird skips this file and uses a later one)") };
            d.add(id, status, loc.subject.clone(), message, Some(fix.clone()));
        }
    }
    if !explicit && used.is_none() {
        let present = locations.iter().any(|l| l.file.is_some() || l.dangling.is_some());
        if !present {
            d.add(
                "manifest_present",
                Status::Fail,
                "Thunderbird",
                "no host manifest in any place Thunderbird looks: the add-on gets \"No such native application\"",
                Some(format!("{}; or, for all users, {}", install_fix(os, Scope::User), install_fix(os, Scope::System))),
            );
        }
    }
    let program = used.and_then(|i| evaluations[i].as_ref()).filter(|e| e.accepted).and_then(|e| e.program.clone());
    program.filter(|p| runnable(os, p))
}

fn check_macos_firefox_folder(d: &mut Doctor, usable: bool) {
    let l = d.layout().clone();
    if l.os != Os::MacOs || d.inputs.scope == Some(Scope::System) {
        return;
    }
    let name = manifest_file_name();
    let firefox = l.manifest_dirs(Client::Firefox, Scope::User, Kind::Host)[0].join(&name);
    let thunderbird = l.manifest_dirs(Client::Thunderbird, Scope::User, Kind::Host)[0].join(&name);
    if firefox.exists() && !thunderbird.exists() {
        let status = if usable { Status::Warn } else { Status::Fail };
        d.add(
            "macos_firefox_folder",
            status,
            firefox.display().to_string(),
            format!("the manifest is only in Firefox's folder; Thunderbird reads {}", thunderbird.display()),
            Some(install_fix(l.os, Scope::User)),
        );
    } else {
        d.add("macos_firefox_folder", Status::Ok, thunderbird.display().to_string(), "the per-user manifest is in Thunderbird's folder (or there is none)", None);
    }
}

/// Checks the PKCS#11 manifest; returns the module library installed beside the host, if any.
fn check_pkcs11(d: &mut Doctor, program: Option<&Path>) -> Option<PathBuf> {
    let l = d.layout().clone();
    // `program` is the host as found on disk (below the root); the library is looked for beside it.
    let program = program?;
    let module = l.pkcs11_candidates(program).into_iter().find(|c| c.is_file());
    let Some(module) = module else {
        d.add("pkcs11_manifest", Status::Skip, program.display().to_string(), "no PKCS#11 module installed beside the host", None);
        return None;
    };
    let locations = locations(d, Kind::Pkcs11);
    let mut found = false;
    for loc in &locations {
        let Some(file) = &loc.file else { continue };
        found = true;
        let ev = evaluate(&l, file, Kind::Pkcs11, loc.scope);
        match ev.problems.first() {
            None => d.add("pkcs11_manifest", Status::Ok, loc.subject.clone(), format!("registers {}", module.display()), None),
            Some((_, message, fix)) => d.add("pkcs11_manifest", Status::Fail, loc.subject.clone(), message.clone(), Some(fix.clone())),
        }
        break;
    }
    if !found {
        let scope = d.inputs.scope.unwrap_or(Scope::User);
        d.add(
            "pkcs11_manifest",
            Status::Fail,
            module.display().to_string(),
            "the PKCS#11 module is installed but not registered: the add-on cannot load it into Thunderbird",
            Some(install_fix(l.os, scope)),
        );
    }
    Some(module)
}

/// Whether each profile loads the module: Thunderbird records loaded modules in the profile's
/// `pkcs11.txt` (`library=<path>`), whichever way they were loaded (the add-on, Security Devices,
/// the SecurityDevices policy, modutil).
fn check_pkcs11_loaded(d: &mut Doctor, module: Option<&Path>, found: &profiles::Found) {
    if d.inputs.scope == Some(Scope::System) {
        return;
    }
    let l = d.layout().clone();
    let Some(module) = module else { return };
    let file_name = l.os.pkcs11_library();
    let load = format!(
        "in Thunderbird, open S/MIME Companion's \"My certificates\" page and choose to use the companion's certificates \
         (or Settings > Privacy & Security > Security Devices > Load, file {}); IT can use the SecurityDevices policy (docs/PKCS11.md)",
        module.display()
    );
    for profile in &found.profiles {
        let subject = format!("profile {:?} ({})", profile.name, profile.dir.display());
        let text = std::fs::read_to_string(profile.dir.join("pkcs11.txt")).unwrap_or_default();
        let ours: Vec<String> = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix("library="))
            .filter(|lib| Path::new(lib).file_name().is_some_and(|n| n == file_name))
            .map(str::to_string)
            .collect();
        match ours.first() {
            None => d.add(
                "pkcs11_loaded",
                Status::Warn,
                subject,
                "Thunderbird does not load the companion's PKCS#11 module: its own S/MIME does not see the contact cache or your companion keys",
                Some(load.clone()),
            ),
            // A profile names libraries of this machine (as a user manifest does).
            Some(lib) if !Path::new(lib).is_file() => d.add(
                "pkcs11_loaded",
                Status::Fail,
                subject,
                format!("Thunderbird loads the PKCS#11 module from {lib}, which does not exist (moved or uninstalled)"),
                Some(format!("in Thunderbird, Settings > Privacy & Security > Security Devices: unload it; then {load}")),
            ),
            Some(lib) => d.add("pkcs11_loaded", Status::Ok, subject, format!("Thunderbird loads the module {lib}"), None),
        }
    }
}

// --- enterprise policy ------------------------------------------------------------------------------

/// Checks the policy; true when it force-installs the add-on.
fn check_policy(d: &mut Doctor) -> bool {
    let l = d.layout().clone();
    if d.inputs.scope == Some(Scope::User) {
        return false;
    }
    let package = PackageLayout::for_os(l.os);
    let xpi = l.target_str(&package.xpi);
    let file = l.target_str(&package.policy_file);
    let expected = xpi.is_file();
    let subject = file.display().to_string();
    let merge = format!("{} policy merge --file \"{}\" --xpi \"{}\"", BINARY_NAME, package.policy_file, package.xpi);
    let other_channel = match l.os {
        Os::Linux => "",
        Os::MacOs => " (if you deploy the policy with a configuration profile instead, ignore this)",
        Os::Windows => " (if you deploy the policy by GPO instead, ignore this)",
    };
    match policy::state(&file, ADDON_ID) {
        policy::State::Broken(reason) => {
            d.add("policy", Status::Fail, subject, format!("{reason}; Thunderbird ignores every policy in it"), Some("correct the JSON (or move the file aside), then run doctor again".into()));
            false
        }
        policy::State::NoFile | policy::State::NoEntry if !expected => {
            d.add("policy", Status::Skip, subject, "no system package installed; no policy expected", None);
            false
        }
        policy::State::NoFile | policy::State::NoEntry => {
            let status = if l.os == Os::Linux { Status::Fail } else { Status::Warn };
            d.add(
                "policy",
                status,
                subject,
                format!("the package is installed, but no policy installs the add-on{other_channel}"),
                Some(format!("run `{merge}` as administrator (the package does this when it installs)")),
            );
            false
        }
        policy::State::Entry { installation_mode, install_url } => {
            let mode = installation_mode.unwrap_or_default();
            let url = install_url.unwrap_or_default();
            let source_missing = url.starts_with("file://") && !url_file_exists(&l, &url);
            if mode == "blocked" {
                d.add("policy", Status::Fail, subject, "the policy blocks the add-on (installation_mode \"blocked\")", Some("remove that entry from ExtensionSettings, or set it to force_installed".into()));
                false
            } else if source_missing {
                d.add("policy", Status::Fail, subject, format!("the policy installs the add-on from {url}, which does not exist"), Some(format!("reinstall the package, or run `{merge}`")));
                false
            } else if mode == "force_installed" || mode == "normal_installed" {
                let note = if url == file_url(&package.xpi) { String::new() } else { format!(" from {url}") };
                d.add("policy", Status::Ok, subject, format!("{mode}{note}"), None);
                true
            } else {
                d.add("policy", Status::Warn, subject, format!("an entry for the add-on with installation_mode {mode:?} does not install it"), Some(format!("run `{merge}`")));
                false
            }
        }
    }
}

/// Whether the file a `file://` URL names exists (below the root).
fn url_file_exists(l: &Layout, url: &str) -> bool {
    let raw = url.trim_start_matches("file://").as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if raw[i] == b'%' && i + 2 < raw.len() {
            if let (Some(h), Some(lo)) = (hex(raw[i + 1]), hex(raw[i + 2])) {
                bytes.push((h * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        bytes.push(raw[i]);
        i += 1;
    }
    let decoded = String::from_utf8_lossy(&bytes).into_owned();
    // file:///C:/x names C:/x on Windows.
    let decoded = match decoded.strip_prefix('/') {
        Some(rest) if l.os == Os::Windows && is_windows_absolute(rest) => rest.to_string(),
        _ => decoded,
    };
    l.target_str(&decoded).is_file()
}

// --- profiles ---------------------------------------------------------------------------------------

fn check_addon(d: &mut Doctor, forced: bool, found: &profiles::Found) {
    if d.inputs.scope == Some(Scope::System) {
        return;
    }
    for (ini, problem) in &found.problems {
        d.add("addon", Status::Warn, ini.display().to_string(), format!("cannot read profiles.ini: {problem}"), Some("start Thunderbird once; it rewrites profiles.ini".into()));
    }
    if found.inis.is_empty() {
        let roots: Vec<String> = d.layout().thunderbird_profile_roots().iter().map(|r| r.display().to_string()).collect();
        d.add("addon", Status::Skip, roots.join(", "), "no profiles.ini: Thunderbird has not been started by this user yet", None);
        return;
    }
    let install = "install the add-on: run installer/install-user.sh, or in Thunderbird open Add-ons and Themes, \
                   the gear menu, \"Install Add-on From File\", and pick smime-companion.xpi; in a company, ask IT";
    for profile in &found.profiles {
        let subject = format!("profile {:?} ({})", profile.name, profile.dir.display());
        let (status, message, fix): (Status, String, Option<String>) = match profiles::addon_state(&profile.dir, ADDON_ID) {
            AddonState::Active => (Status::Ok, "the add-on is installed and enabled".into(), None),
            AddonState::UserDisabled => (
                Status::Fail,
                "the add-on is installed but disabled".into(),
                Some("in Thunderbird open Add-ons and Themes and switch S/MIME Companion on (a copied add-on waits for you to confirm it there)".into()),
            ),
            AddonState::AppDisabled => (
                Status::Fail,
                "Thunderbird disabled the add-on as incompatible or blocked".into(),
                Some("update Thunderbird to 140 or newer; if it is current, check the ExtensionSettings policy for a block".into()),
            ),
            AddonState::Inactive => (Status::Warn, "the add-on is installed but not running".into(), Some("restart Thunderbird".into())),
            AddonState::Pending => (
                Status::Warn,
                "the add-on was copied into the profile; Thunderbird takes it up at its next start".into(),
                Some("restart Thunderbird and confirm enabling S/MIME Companion".into()),
            ),
            AddonState::Missing if forced => (Status::Ok, "not installed yet; the enterprise policy installs it at Thunderbird's next start".into(), None),
            AddonState::Missing => (Status::Fail, "the add-on is not installed in this profile".into(), Some(install.into())),
            AddonState::Unreadable(reason) => (
                Status::Warn,
                format!("cannot read extensions.json ({reason})"),
                Some("start Thunderbird once; it rewrites extensions.json".into()),
            ),
        };
        d.add("addon", status, subject, message, fix);
    }
}

// --- configuration ----------------------------------------------------------------------------------

fn check_config(d: &mut Doctor) {
    for file in d.inputs.config_files.clone() {
        let subject = file.display().to_string();
        if !file.exists() {
            d.add("config", Status::Ok, subject, "not present (optional)", None);
            continue;
        }
        let config = Config::load_files(std::slice::from_ref(&file));
        match config.problems.first() {
            None => d.add("config", Status::Ok, subject, "readable", None),
            Some(problem) => d.add(
                "config",
                Status::Fail,
                subject,
                format!("{problem}; the file is skipped (see docs/CONFIG.md)"),
                Some("correct the file; then run install again so the manifests carry its allow-lists".into()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_id_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (id, _) in CHECKS {
            assert!(seen.insert(id), "{id}");
        }
    }

    #[test]
    fn windows_drive_paths_are_absolute() {
        assert!(is_windows_absolute(r"C:\x\y.exe"));
        assert!(is_windows_absolute("c:/x"));
        assert!(is_windows_absolute(r"\\srv\share\x"));
        assert!(!is_windows_absolute("smime-companion.exe"));
    }
}
