//! `doctor` for Chrome, Edge and Chromium, where the Outlook-on-the-web extension runs: which of
//! them is installed (and whether a Snap or Flatpak sandbox keeps it from starting the host), the
//! host manifest each reads, with Chromium's own rules (`allowed_origins`, a non-empty
//! `description`; the registry on Windows), the browser's enterprise policy (a block on native
//! hosts or on the extension, user-level hosts switched off, the force-install entry, the
//! extension's preset settings), and whether the extension is installed in each of the user's
//! browser profiles.
//!
//! A browser is checked strictly (a missing or broken registration fails) when it was asked for
//! with `--client`, or when it has a registration of ours somewhere; a browser that is installed
//! but has no registration only warns, since using Chrome without Outlook on the web is fine.

use super::{install_fix, is_windows_absolute, Doctor, Status};
use crate::caller::AllowList;
use crate::config::{is_chromium_origin, Config};
use crate::install::registry::{self, RegKey};
use crate::install::{manifest_file_name, runnable, Client, Kind, Layout, Os, Scope};
use crate::product::{chromium_origin, BINARY_NAME, HOST_NAME};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The Chromium-family clients, in the order doctor reports them.
pub const BROWSERS: [Client; 3] = [Client::Chrome, Client::Edge, Client::Chromium];

/// The settings IT may preset for the extension (managed storage), from its schema.
const MANAGED_SCHEMA: &str = include_str!("../../extension/outlook-web/managed-schema.json");

pub(super) fn browser_name(client: Client) -> &'static str {
    match client {
        Client::Chrome => "Chrome",
        Client::Edge => "Edge",
        _ => "Chromium",
    }
}

/// Checks every browser in `clients` (Chromium-family ones only); `requested` when the user named
/// them with `--client`.
pub(super) fn run(d: &mut Doctor, clients: &[Client], requested: bool) {
    let origins = allowed_origins(d);
    for &client in clients.iter().filter(|c| BROWSERS.contains(c)) {
        let installed = check_browser(d, client);
        let policies = read_policies(d.layout(), client);
        let registered = check_manifests(d, client, installed, requested, &policies, &origins);
        if registered || installed || requested {
            let forced = check_policy(d, client, &policies);
            check_extension(d, client, forced, &origins);
        }
    }
}

/// The origins the host serves: the bundled extension's and those the configuration files add.
fn allowed_origins(d: &Doctor) -> Vec<String> {
    AllowList::from_config(&Config::load_files(&d.inputs.config_files)).origins().to_vec()
}

fn extension_id(origin: &str) -> &str {
    origin.trim_start_matches("chrome-extension://").trim_end_matches('/')
}

// --- the browser itself -----------------------------------------------------------------------

fn programs(l: &Layout, client: Client) -> Vec<PathBuf> {
    let home = |p: &str| l.home.join(p);
    match (l.os, client) {
        (Os::Linux, Client::Chrome) => vec![l.sys("/opt/google/chrome/chrome"), l.sys("/usr/bin/google-chrome"), l.sys("/usr/bin/google-chrome-stable")],
        (Os::Linux, Client::Edge) => vec![l.sys("/opt/microsoft/msedge/msedge"), l.sys("/usr/bin/microsoft-edge"), l.sys("/usr/bin/microsoft-edge-stable")],
        (Os::Linux, _) => vec![l.sys("/usr/lib/chromium/chromium"), l.sys("/usr/bin/chromium"), l.sys("/usr/lib64/chromium-browser/chromium-browser")],
        (Os::MacOs, Client::Chrome) => vec![l.sys("/Applications/Google Chrome.app"), home("Applications/Google Chrome.app")],
        (Os::MacOs, Client::Edge) => vec![l.sys("/Applications/Microsoft Edge.app"), home("Applications/Microsoft Edge.app")],
        (Os::MacOs, _) => vec![l.sys("/Applications/Chromium.app"), home("Applications/Chromium.app")],
        (Os::Windows, Client::Chrome) => vec![
            l.sys("Program Files/Google/Chrome/Application/chrome.exe"),
            l.sys("Program Files (x86)/Google/Chrome/Application/chrome.exe"),
            home("AppData/Local/Google/Chrome/Application/chrome.exe"),
        ],
        (Os::Windows, Client::Edge) => vec![
            l.sys("Program Files (x86)/Microsoft/Edge/Application/msedge.exe"),
            l.sys("Program Files/Microsoft/Edge/Application/msedge.exe"),
        ],
        (Os::Windows, _) => vec![home("AppData/Local/Chromium/Application/chrome.exe"), l.sys("Program Files/Chromium/Application/chrome.exe")],
    }
}

/// Sandboxed packages (Linux) that cannot start a native host: (path, kind).
fn sandboxed(l: &Layout, client: Client) -> Vec<(PathBuf, &'static str)> {
    if l.os != Os::Linux {
        return vec![];
    }
    let apps: &[&str] = match client {
        Client::Chrome => &["com.google.Chrome"],
        Client::Edge => &["com.microsoft.Edge"],
        _ => &["org.chromium.Chromium"],
    };
    let mut out = Vec::new();
    if client == Client::Chromium {
        out.push((l.sys("/snap/chromium"), "snap"));
    }
    for app in apps {
        out.push((l.sys(&format!("/var/lib/flatpak/app/{app}")), "flatpak"));
        out.push((l.home.join(".local/share/flatpak/app").join(app), "flatpak"));
    }
    out
}

/// The browser's user data folder (profiles, `Local State`).
pub(super) fn user_data_dir(l: &Layout, client: Client) -> PathBuf {
    let rel = match (l.os, client) {
        (Os::Linux, Client::Chrome) => ".config/google-chrome",
        (Os::Linux, Client::Edge) => ".config/microsoft-edge",
        (Os::Linux, _) => ".config/chromium",
        (Os::MacOs, Client::Chrome) => "Library/Application Support/Google/Chrome",
        (Os::MacOs, Client::Edge) => "Library/Application Support/Microsoft Edge",
        (Os::MacOs, _) => "Library/Application Support/Chromium",
        (Os::Windows, Client::Chrome) => "AppData/Local/Google/Chrome/User Data",
        (Os::Windows, Client::Edge) => "AppData/Local/Microsoft/Edge/User Data",
        (Os::Windows, _) => "AppData/Local/Chromium/User Data",
    };
    let mut dir = l.home.clone();
    dir.extend(rel.split('/'));
    dir
}

/// Linux: the folder of managed policy files the browser reads.
pub fn policy_dir(l: &Layout, client: Client) -> Option<PathBuf> {
    (l.os == Os::Linux).then(|| match client {
        Client::Chrome => l.sys("/etc/opt/chrome/policies/managed"),
        Client::Edge => l.sys("/etc/opt/edge/policies/managed"),
        _ => l.sys("/etc/chromium/policies/managed"),
    })
}

/// Reports the browser's installation; true when a usable (not sandboxed-only) copy is there.
fn check_browser(d: &mut Doctor, client: Client) -> bool {
    let l = d.layout().clone();
    let name = browser_name(client);
    let native = programs(&l, client).into_iter().find(|p| p.exists());
    let boxed: Vec<(PathBuf, &str)> = sandboxed(&l, client).into_iter().filter(|(p, _)| p.exists()).collect();
    for (path, kind) in &boxed {
        let status = if native.is_some() { Status::Warn } else { Status::Fail };
        let message = match *kind {
            "snap" => format!("{name} is a Snap: its confinement does not let it start programs such as the host"),
            _ => format!("{name} is a Flatpak: its sandbox cannot start the host (no native-messaging portal for Flatpak)"),
        };
        let also = if native.is_some() { " (it is installed too: use that one)" } else { "" };
        let fix = format!("use {name} (or Chrome, or Edge) from its Debian package or its vendor{also}");
        d.add("chromium_browser", status, path.display().to_string(), message, Some(fix));
    }
    match &native {
        Some(path) => d.add("chromium_browser", Status::Ok, path.display().to_string(), format!("{name} is installed"), None),
        None if boxed.is_empty() => d.add("chromium_browser", Status::Skip, name, format!("{name} is not installed"), None),
        None => {}
    }
    native.is_some()
}

// --- host manifests ---------------------------------------------------------------------------------

/// One place a browser looks for the host manifest.
struct Location {
    scope: Scope,
    subject: String,
    file: Option<PathBuf>,
    /// Windows: the key names a manifest that is not there.
    dangling: Option<String>,
}

/// The registry keys a Chromium browser reads, in its order (the first value found wins): the
/// user's key (unless policy switched user-level hosts off), then HKLM in the 32-bit view, then in
/// the 64-bit view (native_process_launcher_win.cc).
pub fn registry_lookup(client: Client) -> Vec<(Scope, RegKey)> {
    let path = registry::key_path(client, Kind::Host).expect("every Chromium browser has a host key");
    let key = |hive, view| RegKey { hive, view, path: path.clone() };
    use registry::{Hive, View};
    vec![
        (Scope::User, key(Hive::CurrentUser, View::Bits64)),
        (Scope::System, key(Hive::LocalMachine, View::Bits32)),
        (Scope::System, key(Hive::LocalMachine, View::Bits64)),
    ]
}

fn locations(d: &mut Doctor, client: Client) -> Vec<Location> {
    let l = d.layout().clone();
    let scopes = d.scopes();
    let mut out = Vec::new();
    if l.os == Os::Windows {
        for (scope, key) in registry_lookup(client) {
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
                    let fix = "run doctor as a user who may read the registry".to_string();
                    d.add("chromium_registry", Status::Fail, key.display(), format!("cannot read the key: {e}"), Some(fix));
                    (None, None)
                }
            };
            out.push(Location { scope, subject: key.display(), file, dangling });
        }
        return out;
    }
    for scope in scopes {
        for dir in l.manifest_dirs(client, scope, Kind::Host) {
            let path = dir.join(manifest_file_name());
            let file = path.exists().then(|| path.clone());
            out.push(Location { scope, subject: path.display().to_string(), file, dangling: None });
        }
    }
    out
}

struct Evaluation {
    problems: Vec<(&'static str, String, String)>,
    passed: Vec<(&'static str, String)>,
    accepted: bool,
}

/// Reads one manifest the way Chromium does (NativeMessagingHostManifest::Parse, plus the path
/// rules of the launcher) and checks that it allows our extension.
fn evaluate(layout: &Layout, file: &Path, scope: Scope, client: Client, origins: &[String]) -> Evaluation {
    let mut ev = Evaluation { problems: Vec::new(), passed: Vec::new(), accepted: false };
    let reinstall = chromium_fix(layout.os, scope, client);
    let name = browser_name(client);
    let v: Value = match std::fs::read(file).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())) {
        Ok(v) => v,
        Err(e) => {
            ev.problems.push(("chromium_manifest_json", format!("not valid JSON ({e}); {name} ignores it"), reinstall));
            return ev;
        }
    };
    ev.passed.push(("chromium_manifest_json", "valid JSON".into()));
    let mut accepted = true;
    let field_problem = match v.as_object() {
        None => Some("not a JSON object".to_string()),
        Some(obj) => {
            let missing = ["name", "description", "path", "type", "allowed_origins"].into_iter().find(|k| !obj.contains_key(*k));
            let not_string = ["name", "description", "path", "type"].into_iter().find(|k| obj.get(*k).is_some_and(|v| !v.is_string()));
            let list = obj.get("allowed_origins").and_then(Value::as_array);
            if let (Some("allowed_origins"), true) = (missing, obj.contains_key("allowed_extensions")) {
                Some("it has allowed_extensions instead of allowed_origins: a Thunderbird/Firefox manifest, which Chromium browsers refuse".into())
            } else if let Some(k) = missing {
                Some(format!("field {k:?} is missing"))
            } else if let Some(k) = not_string {
                Some(format!("field {k:?} is not a string"))
            } else if obj["description"].as_str().is_some_and(str::is_empty) {
                Some("description is empty (Chromium refuses the manifest)".into())
            } else if !list.is_some_and(|a| a.iter().all(Value::is_string)) {
                Some("allowed_origins is not a list of origins".into())
            } else {
                let bad = list.into_iter().flatten().filter_map(Value::as_str).find(|o| !is_chromium_origin(o));
                bad.map(|bad| format!("allowed_origins holds {bad:?}, not of the form chrome-extension://ID/ (Chromium refuses wildcards)"))
            }
        }
    };
    match field_problem {
        Some(p) => {
            ev.problems.push(("chromium_manifest_fields", p, reinstall.clone()));
            accepted = false;
        }
        None => ev.passed.push(("chromium_manifest_fields", format!("fields as {name} requires"))),
    }
    let host = v["name"].as_str().unwrap_or("");
    let file_name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if host != HOST_NAME {
        ev.problems.push(("chromium_manifest_name", format!("name is {host:?}, not {HOST_NAME:?}"), reinstall.clone()));
        accepted = false;
    } else if layout.os != Os::Windows && file_name != manifest_file_name() {
        ev.problems.push(("chromium_manifest_name", format!("file is named {file_name:?}, not {:?}", manifest_file_name()), reinstall.clone()));
        accepted = false;
    } else {
        ev.passed.push(("chromium_manifest_name", format!("name {HOST_NAME:?}")));
    }
    let ty = v["type"].as_str().unwrap_or("");
    if ty == "stdio" {
        ev.passed.push(("chromium_manifest_type", "type \"stdio\"".into()));
    } else {
        ev.problems.push(("chromium_manifest_type", format!("type is {ty:?}, not \"stdio\""), reinstall.clone()));
        accepted = false;
    }
    let listed: Vec<&str> = v["allowed_origins"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    match origins.iter().find(|o| listed.contains(&o.as_str())) {
        Some(o) => ev.passed.push(("chromium_manifest_allowed", format!("allows {o}"))),
        None => {
            let message = format!("allowed_origins does not contain {}; {name} refuses the extension", chromium_origin());
            ev.problems.push(("chromium_manifest_allowed", message, reinstall.clone()));
            accepted = false;
        }
    }
    let path = v["path"].as_str().unwrap_or("");
    let absolute = Path::new(path).is_absolute() || (layout.os == Os::Windows && is_windows_absolute(path));
    if !absolute && layout.os.requires_absolute_host_path() {
        ev.problems.push(("chromium_manifest_path", format!("path {path:?} is not absolute; {name} refuses it"), reinstall.clone()));
        accepted = false;
    } else {
        let on_disk = if absolute && scope == Scope::System {
            layout.target_str(path)
        } else if absolute {
            PathBuf::from(path)
        } else {
            file.parent().unwrap_or(Path::new(".")).join(path)
        };
        if path.is_empty() || !on_disk.is_file() {
            ev.problems.push(("chromium_manifest_path", format!("the host program {path:?} does not exist"), reinstall.clone()));
        } else if !runnable(layout.os, &on_disk) {
            ev.problems.push(("chromium_manifest_path", format!("the host program {path:?} is not executable"), format!("make it executable (`chmod 755 {path}`), or {reinstall}")));
        } else {
            ev.passed.push(("chromium_manifest_path", format!("the host program {path}")));
        }
    }
    ev.accepted = accepted;
    ev
}

/// The command that writes the registration of `client` for `scope`.
fn chromium_fix(os: Os, scope: Scope, client: Client) -> String {
    match scope {
        Scope::User => format!("run `{BINARY_NAME} install --user --client {}` (installer/install-user.sh does it for every browser it finds)", client.name()),
        Scope::System => format!("{} (it registers Chrome, Edge and Chromium too)", install_fix(os, Scope::System)),
    }
}

/// Checks the manifests one browser reads; true when a registration of ours exists somewhere.
fn check_manifests(d: &mut Doctor, client: Client, installed: bool, requested: bool, policies: &Policies, origins: &[String]) -> bool {
    let os = d.layout().os;
    let name = browser_name(client);
    let explicit = d.inputs.scope.is_some();
    let locations = locations(d, client);
    let registered = locations.iter().any(|l| l.file.is_some() || l.dangling.is_some());
    if !registered && !installed && !requested {
        return false;
    }
    let strict = requested || registered;
    // With NativeMessagingUserLevelHosts off the browser reads only the machine-wide places.
    let user_level_off = policies.user_level_hosts == Some(false);
    let read = |loc: &Location| !(user_level_off && loc.scope == Scope::User);
    let evaluations: Vec<Option<Evaluation>> =
        locations.iter().map(|loc| loc.file.as_ref().map(|f| evaluate(d.layout(), f, loc.scope, client, origins))).collect();
    let used = if os == Os::Windows {
        locations.iter().position(|l| read(l) && (l.file.is_some() || l.dangling.is_some()))
    } else {
        evaluations.iter().zip(&locations).position(|(e, l)| read(l) && e.as_ref().is_some_and(|e| e.accepted))
    };
    let any_usable = used.is_some_and(|i| evaluations[i].as_ref().is_some_and(|e| e.accepted));
    for (i, (loc, ev)) in locations.iter().zip(&evaluations).enumerate() {
        let fix = chromium_fix(os, loc.scope, client);
        if !read(loc) && (loc.file.is_some() || loc.dangling.is_some()) {
            let status = if any_usable { Status::Warn } else { Status::Fail };
            let message = format!("{name}'s policy NativeMessagingUserLevelHosts is false: it ignores this per-user registration");
            let fix = format!("{}; or ask IT to allow user-level hosts", chromium_fix(os, Scope::System, client));
            d.add("chromium_manifest_present", status, loc.subject.clone(), message, Some(fix));
            continue;
        }
        if let Some(value) = &loc.dangling {
            let status = if explicit || used == Some(i) { Status::Fail } else { Status::Warn };
            d.add("chromium_registry", status, loc.subject.clone(), format!("names {value}, which does not exist"), Some(fix));
            continue;
        }
        let Some(ev) = ev else {
            let status = if explicit && strict { Status::Fail } else { Status::Skip };
            let what = if os == Os::Windows { "no registry value" } else { "no manifest here" };
            d.add("chromium_manifest_present", status, loc.subject.clone(), what, Some(fix.clone()));
            if os == Os::Windows && explicit && strict {
                d.add("chromium_registry", Status::Fail, loc.subject.clone(), format!("the key is missing; {name} looks for the host there"), Some(fix));
            }
            continue;
        };
        if os == Os::Windows && !explicit && used.is_some_and(|u| u < i) {
            let first = &locations[used.unwrap_or(0)].subject;
            d.add("chromium_registry", Status::Skip, loc.subject.clone(), format!("not read: {name} uses {first} first"), None);
            continue;
        }
        d.add("chromium_manifest_present", Status::Ok, loc.subject.clone(), "manifest found", None);
        let matters = explicit || used == Some(i) || !any_usable;
        for (id, message) in &ev.passed {
            d.add(id, Status::Ok, loc.subject.clone(), message.clone(), None);
        }
        for (id, message, fix) in &ev.problems {
            let status = if matters { Status::Fail } else { Status::Warn };
            let message = if matters { message.clone() } else { format!("{message} ({name} skips this file and uses a later one)") };
            d.add(id, status, loc.subject.clone(), message, Some(fix.clone()));
        }
    }
    if !explicit && used.is_none() && locations.iter().all(|l| l.file.is_none() && l.dangling.is_none()) {
        let status = if strict { Status::Fail } else { Status::Warn };
        d.add(
            "chromium_manifest_present",
            status,
            name,
            format!("no host manifest in any place {name} looks: Outlook on the web in {name} cannot use the companion (\"host not found\")"),
            Some(format!("{}; or, for all users, {}", chromium_fix(os, Scope::User, client), chromium_fix(os, Scope::System, client))),
        );
    }
    registered
}

// --- enterprise policy ----------------------------------------------------------------------------

/// What the browser's managed policy files say about the host and the extension (Linux).
#[derive(Default)]
struct Policies {
    /// The policy files read, and any that could not be.
    files: Vec<PathBuf>,
    broken: Vec<(PathBuf, String)>,
    merged: serde_json::Map<String, Value>,
    user_level_hosts: Option<bool>,
}

fn read_policies(l: &Layout, client: Client) -> Policies {
    let mut p = Policies::default();
    let Some(dir) = policy_dir(l, client) else { return p };
    let Ok(entries) = std::fs::read_dir(&dir) else { return p };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    for file in files {
        match std::fs::read(&file).map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string())) {
            Ok(Value::Object(map)) => {
                p.merged.extend(map);
                p.files.push(file);
            }
            Ok(_) => p.broken.push((file, "not a JSON object".into())),
            Err(e) => p.broken.push((file, e)),
        }
    }
    p.user_level_hosts = p.merged.get("NativeMessagingUserLevelHosts").and_then(Value::as_bool);
    p
}

fn list_has(map: &serde_json::Map<String, Value>, key: &str, wanted: impl Fn(&str) -> bool) -> bool {
    map.get(key).and_then(Value::as_array).is_some_and(|a| a.iter().filter_map(Value::as_str).any(wanted))
}

/// Reports the policy; true when it force-installs one of the allowed extensions.
fn check_policy(d: &mut Doctor, client: Client, p: &Policies) -> bool {
    if d.inputs.scope == Some(Scope::User) {
        return false;
    }
    let l = d.layout().clone();
    let name = browser_name(client);
    let Some(dir) = policy_dir(&l, client) else {
        let channel = if l.os == Os::Windows { "Group Policy" } else { "configuration profiles" };
        d.add("chromium_policy", Status::Skip, name, format!("{name}'s policies come from {channel}; chrome://policy (edge://policy) shows them"), None);
        return false;
    };
    let subject = dir.display().to_string();
    for (file, reason) in &p.broken {
        d.add("chromium_policy", Status::Fail, file.display().to_string(), format!("{reason}; {name} ignores every policy in it"), Some("correct the JSON (or move the file aside), then run doctor again".into()));
    }
    if p.files.is_empty() {
        if p.broken.is_empty() {
            d.add("chromium_policy", Status::Skip, subject, "no policy files: nothing managed", None);
        }
        return false;
    }
    let m = &p.merged;
    let ours = |s: &str| s == HOST_NAME || s == "*";
    if list_has(m, "NativeMessagingBlocklist", ours) && !list_has(m, "NativeMessagingAllowlist", |s| s == HOST_NAME) {
        d.add(
            "chromium_policy",
            Status::Fail,
            subject.clone(),
            format!("NativeMessagingBlocklist blocks the host {HOST_NAME}: {name} will not start it"),
            Some(format!("add \"{HOST_NAME}\" to NativeMessagingAllowlist in {subject}")),
        );
    }
    if p.user_level_hosts == Some(false) {
        d.add("chromium_policy", Status::Ok, subject.clone(), "NativeMessagingUserLevelHosts is false: only the machine-wide registration counts", None);
    }
    let origins = allowed_origins(d);
    let ids: Vec<&str> = origins.iter().map(|o| extension_id(o)).collect();
    let forced_by_list = list_has(m, "ExtensionInstallForcelist", |s| ids.iter().any(|id| s.split(';').next() == Some(*id)));
    let settings = m.get("ExtensionSettings").and_then(Value::as_object);
    let mode = |id: &str| settings.and_then(|s| s.get(id)).and_then(|e| e.get("installation_mode")).and_then(Value::as_str).map(str::to_string);
    let modes: Vec<String> = ids.iter().filter_map(|id| mode(id)).collect();
    let blocked_by_mode = modes.iter().any(|m| m == "blocked" || m == "removed");
    let forced = forced_by_list || modes.iter().any(|m| m == "force_installed" || m == "normal_installed");
    let listed_allowed = list_has(m, "ExtensionInstallAllowlist", |s| ids.contains(&s));
    let blocked_by_list = list_has(m, "ExtensionInstallBlocklist", |s| s == "*" || ids.contains(&s)) && !listed_allowed && !forced;
    if blocked_by_mode || blocked_by_list {
        d.add(
            "chromium_policy",
            Status::Fail,
            subject.clone(),
            format!("the policy blocks the S/MIME Companion extension in {name}"),
            Some(format!("allow {} in ExtensionInstallAllowlist, or force-install it (ExtensionInstallForcelist; docs/OUTLOOK-WEB.md)", ids[0])),
        );
    } else if forced {
        d.add("chromium_policy", Status::Ok, subject.clone(), format!("the policy installs the S/MIME Companion extension in {name}"), None);
    } else {
        d.add("chromium_policy", Status::Ok, subject.clone(), "the policy does not install the extension; users add it themselves", None);
    }
    check_managed_settings(d, m, &ids, &subject);
    forced
}

/// The extension's settings IT presets (`3rdparty.extensions.<id>`): keys the schema does not
/// know, or values of the wrong type, are ignored by the browser.
fn check_managed_settings(d: &mut Doctor, m: &serde_json::Map<String, Value>, ids: &[&str], subject: &str) {
    let schema: Value = serde_json::from_str(MANAGED_SCHEMA).expect("the managed schema is JSON (a test checks it)");
    let properties = schema["properties"].as_object().cloned().unwrap_or_default();
    for id in ids {
        let Some(settings) = m.get("3rdparty").and_then(|t| t.get("extensions")).and_then(|e| e.get(*id)) else { continue };
        let Some(settings) = settings.as_object() else {
            d.add("chromium_policy", Status::Fail, subject, format!("3rdparty.extensions.{id} is not an object; the browser ignores it"), Some("see docs/OUTLOOK-WEB.md for the settings".into()));
            continue;
        };
        let wrong: Vec<String> = settings
            .iter()
            .filter(|(k, v)| properties.get(*k).map_or(true, |p| !json_type_matches(&p["type"], v)))
            .map(|(k, _)| k.clone())
            .collect();
        if wrong.is_empty() {
            let keys: Vec<&str> = settings.keys().map(String::as_str).collect();
            d.add("chromium_policy", Status::Ok, subject, format!("IT presets the extension's settings: {}", keys.join(", ")), None);
        } else {
            d.add(
                "chromium_policy",
                Status::Warn,
                subject,
                format!("3rdparty.extensions.{id}: unknown settings or values of the wrong type, which the browser drops: {}", wrong.join(", ")),
                Some("compare with the extension's managed-schema.json (docs/OUTLOOK-WEB.md)".into()),
            );
        }
    }
}

fn json_type_matches(ty: &Value, v: &Value) -> bool {
    match ty.as_str() {
        Some("string") => v.is_string(),
        Some("boolean") => v.is_boolean(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        _ => true,
    }
}

// --- the extension in the browser's profiles ---------------------------------------------------------

fn check_extension(d: &mut Doctor, client: Client, forced: bool, origins: &[String]) {
    if d.inputs.scope == Some(Scope::System) {
        return;
    }
    let l = d.layout().clone();
    let name = browser_name(client);
    let data = user_data_dir(&l, client);
    if !data.is_dir() {
        d.add("chromium_extension", Status::Skip, data.display().to_string(), format!("{name} has not been started by this user yet"), None);
        return;
    }
    let ids: Vec<&str> = origins.iter().map(|o| extension_id(o)).collect();
    let found = profiles(&data);
    if found.is_empty() {
        d.add("chromium_extension", Status::Skip, data.display().to_string(), format!("no {name} profile yet: {name} has not been started by this user"), None);
    }
    for (profile, dir) in found {
        let subject = format!("{name} profile {profile:?} ({})", dir.display());
        let found = ["Secure Preferences", "Preferences"].iter().find_map(|file| {
            let v: Value = serde_json::from_slice(&std::fs::read(dir.join(file)).ok()?).ok()?;
            ids.iter().find_map(|id| v.pointer(&format!("/extensions/settings/{id}")).cloned())
        });
        let add_it = format!(
            "add the extension: open {} (chrome://extensions), switch on Developer mode, \"Load unpacked\" and pick the folder installer/package-outlook-web.sh made; in a company, IT force-installs it (docs/OUTLOOK-WEB.md)",
            if client == Client::Edge { "edge://extensions" } else { "chrome://extensions" }
        );
        let (status, message, fix) = match found {
            Some(entry) if disabled(&entry) => (Status::Fail, "the extension is installed but switched off".to_string(), Some(format!("switch S/MIME Companion on in {name}'s extensions page"))),
            Some(_) => (Status::Ok, "the extension is installed".to_string(), None),
            None if forced => (Status::Ok, "not installed yet; the policy installs it at the browser's next start".to_string(), None),
            None => (Status::Warn, "the extension is not installed in this profile".to_string(), Some(add_it)),
        };
        d.add("chromium_extension", status, subject, message, fix);
    }
}

/// Whether a profile's extension entry says it is off (`disable_reasons`, or the older `state`).
fn disabled(entry: &Value) -> bool {
    match entry.get("disable_reasons") {
        Some(Value::Array(a)) if !a.is_empty() => return true,
        Some(Value::Number(n)) if n.as_u64() != Some(0) => return true,
        _ => {}
    }
    entry.get("state").and_then(Value::as_u64) == Some(0)
}

/// The profiles in a user data folder: those `Local State` lists, else `Default` when present.
fn profiles(data: &Path) -> Vec<(String, PathBuf)> {
    let listed: Vec<(String, PathBuf)> = std::fs::read(data.join("Local State"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.pointer("/profile/info_cache").and_then(Value::as_object).cloned())
        .map(|cache| {
            cache
                .iter()
                .map(|(dir, info)| (info["name"].as_str().unwrap_or(dir).to_string(), data.join(dir)))
                .filter(|(_, dir)| dir.is_dir())
                .collect()
        })
        .unwrap_or_default();
    if !listed.is_empty() {
        return listed;
    }
    let default = data.join("Default");
    if default.is_dir() {
        vec![("Default".into(), default)]
    } else {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_managed_schema_is_json_with_properties() {
        let schema: Value = serde_json::from_str(MANAGED_SCHEMA).unwrap();
        assert_eq!(schema["type"], "object");
        assert!(schema["properties"].as_object().is_some_and(|p| !p.is_empty()));
    }

    #[test]
    fn a_disabled_extension_is_told_apart() {
        assert!(disabled(&serde_json::json!({"disable_reasons": [1]})));
        assert!(disabled(&serde_json::json!({"disable_reasons": 1})));
        assert!(disabled(&serde_json::json!({"state": 0})));
        assert!(!disabled(&serde_json::json!({"state": 1, "disable_reasons": []})));
        assert!(!disabled(&serde_json::json!({"path": "x"})));
    }
}
