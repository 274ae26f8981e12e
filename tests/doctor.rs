//! `doctor` detects each broken setup it claims to detect: one test per check id (see
//! `doctor::CHECKS`), with a temporary HOME and system root. The Linux checks run the real binary;
//! the Windows registry and macOS folder rules run the same code through the library with a
//! Windows or macOS layout and a registry table.

mod common;
mod setup;

use common::addon_id;
use serde_json::{json, Value};
use setup::{set_mode, write_exe, Machine};
use smime_companion::error::Result;
use smime_companion::install::doctor::{self, Inputs, Status, CHECKS};
use smime_companion::install::registry::{Hive, RegKey, RegistryRead, View};
use smime_companion::install::{Layout, Os, Scope};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Runs `doctor --json` with the given extra arguments; returns (exit code, report).
fn doctor(m: &Machine, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["doctor", "--json", "--root", m.root_str()];
    all.extend_from_slice(args);
    let out = m.cmd(&all);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", setup::text(&out.stdout)));
    assert_eq!(report["healthy"], out.status.code() == Some(0));
    (out.status.code().unwrap(), report)
}

/// The statuses the report gives check `id`.
fn statuses(report: &Value, id: &str) -> Vec<String> {
    report["checks"].as_array().unwrap().iter().filter(|c| c["id"] == id).map(|c| c["status"].as_str().unwrap().to_string()).collect()
}

fn failed(report: &Value, id: &str) -> bool {
    statuses(report, id).iter().any(|s| s == "fail")
}

/// The failing entry of check `id` has a fix.
fn fix(report: &Value, id: &str) -> String {
    let c = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id && c["status"] == "fail").expect("a failure");
    c["fix"].as_str().expect("a fix").to_string()
}

/// A user install, then the manifest edited by `edit`; doctor --user must fail check `id`.
fn broken_manifest(id: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let m = Machine::new();
    m.install_user();
    let mut v = setup::read_json(&m.user_manifest());
    edit(&mut v);
    std::fs::write(m.user_manifest(), v.to_string()).unwrap();
    let (code, report) = doctor(&m, &["--user"]);
    assert_eq!(code, 1, "{report:#}");
    assert!(failed(&report, id), "{id} should fail: {report:#}");
    assert!(!fix(&report, id).is_empty());
    report
}

#[test]
fn healthy_user_install() {
    let m = Machine::new();
    m.install_user();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 0, "{report:#}");
    for id in ["manifest_present", "manifest_json", "manifest_fields", "manifest_name", "manifest_type", "manifest_path", "manifest_allowed"] {
        assert_eq!(statuses(&report, id).first().map(String::as_str), Some("ok"), "{id}: {report:#}");
    }
    let text = setup::text(&m.cmd(&["doctor", "--root", m.root_str()]).stdout);
    assert!(text.contains("healthy"), "{text}");
}

#[test]
fn check_manifest_present() {
    let m = Machine::new();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert!(failed(&report, "manifest_present"));
    assert!(fix(&report, "manifest_present").contains("install --user"));
    let text = setup::text(&m.cmd(&["doctor", "--root", m.root_str()]).stdout);
    assert!(text.contains("No such native application") && text.contains("fix:"), "{text}");
    // --system wants a manifest in every system folder: /usr/lib64/mozilla too where /usr/lib64 exists.
    std::fs::create_dir_all(m.root.join("usr/lib64")).unwrap();
    write_exe(&m.root.join("usr/bin/smime-companion"));
    m.ok(&["install", "--system", "--path", "/usr/bin/smime-companion", "--root", m.root_str()]);
    assert_eq!(doctor(&m, &["--system"]).0, 0);
    std::fs::remove_file(m.root.join("usr/lib64/mozilla/native-messaging-hosts/smime_companion.json")).unwrap();
    let (code, report) = doctor(&m, &["--system"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "manifest_present"), "{report:#}");
}

#[test]
fn check_manifest_json() {
    let m = Machine::new();
    m.install_user();
    std::fs::write(m.user_manifest(), "{ \"name\": \"smime_companion\", ").unwrap();
    let (code, report) = doctor(&m, &["--user"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "manifest_json"), "{report:#}");
}

#[test]
fn check_manifest_fields() {
    broken_manifest("manifest_fields", |v| v["allowed_origins"] = json!(["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]));
    broken_manifest("manifest_fields", |v| {
        v.as_object_mut().unwrap().remove("description");
    });
    broken_manifest("manifest_fields", |v| v["allowed_extensions"] = json!([]));
}

#[test]
fn check_manifest_name() {
    broken_manifest("manifest_name", |v| v["name"] = json!("smime-companion"));
}

#[test]
fn check_manifest_type() {
    broken_manifest("manifest_type", |v| v["type"] = json!("pkcs11"));
}

#[test]
fn check_manifest_path() {
    broken_manifest("manifest_path", |v| v["path"] = json!("bin/smime-companion"));
    broken_manifest("manifest_path", |v| v["path"] = json!("/nonexistent/smime-companion"));
    let m = Machine::new();
    m.install_user();
    set_mode(&m.host, 0o644);
    let (code, report) = doctor(&m, &["--user"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "manifest_path"));
    assert!(fix(&report, "manifest_path").contains("chmod"));
}

#[test]
fn check_manifest_allowed() {
    broken_manifest("manifest_allowed", |v| v["allowed_extensions"] = json!(["someone-else@example.org"]));
}

#[test]
fn a_broken_user_manifest_before_a_good_system_one_only_warns_on_linux() {
    let m = Machine::new();
    write_exe(&m.root.join("usr/bin/smime-companion"));
    m.ok(&["install", "--system", "--path", "/usr/bin/smime-companion", "--root", m.root_str()]);
    m.install_user();
    std::fs::write(m.user_manifest(), "not json").unwrap();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 0, "Thunderbird skips the broken file and uses the system one: {report:#}");
    assert_eq!(statuses(&report, "manifest_json"), ["warn", "ok"]);
    // Asked about the user installation, the broken file is a failure.
    assert_eq!(doctor(&m, &["--user"]).0, 1);
}

#[test]
fn check_thunderbird() {
    let m = Machine::new();
    m.install_user();
    // Nothing found: a warning only.
    let (code, report) = doctor(&m, &[]);
    assert_eq!((code, statuses(&report, "thunderbird")), (0, vec!["warn".to_string()]));
    // A Flatpak Thunderbird alone cannot start the host.
    std::fs::create_dir_all(m.home.join(".local/share/flatpak/app/org.mozilla.Thunderbird")).unwrap();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert!(failed(&report, "thunderbird"));
    assert!(fix(&report, "thunderbird").contains("Debian package"));
    std::fs::remove_dir_all(m.home.join(".local/share/flatpak")).unwrap();
    // A Snap needs the portal.
    std::fs::create_dir_all(m.root.join("snap/thunderbird")).unwrap();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert!(fix(&report, "thunderbird").contains("xdg-desktop-portal"));
    write_exe(&m.root.join("usr/libexec/xdg-desktop-portal"));
    let (code, report) = doctor(&m, &[]);
    assert_eq!((code, statuses(&report, "thunderbird")), (0, vec!["warn".to_string()]));
    // The Debian package's Thunderbird.
    std::fs::remove_dir_all(m.root.join("snap")).unwrap();
    write_exe(&m.root.join("usr/lib/thunderbird/thunderbird"));
    let (_, report) = doctor(&m, &[]);
    assert_eq!(statuses(&report, "thunderbird"), ["ok"]);
}

#[test]
fn check_pkcs11_manifest() {
    let m = Machine::new();
    m.install_user();
    let (_, report) = doctor(&m, &["--user"]);
    assert_eq!(statuses(&report, "pkcs11_manifest"), ["skip"]);
    // The module appears beside the host after install: not registered yet.
    std::fs::write(m.host.parent().unwrap().join("libsmime_companion_pkcs11.so"), b"\x7fELF").unwrap();
    let (code, report) = doctor(&m, &["--user"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "pkcs11_manifest"), "{report:#}");
    m.install_user();
    let (code, report) = doctor(&m, &["--user"]);
    assert_eq!((code, statuses(&report, "pkcs11_manifest")), (0, vec!["ok".to_string()]), "{report:#}");
}

#[test]
fn check_pkcs11_loaded() {
    let m = Machine::new();
    let lib = m.host.parent().unwrap().join("libsmime_companion_pkcs11.so");
    std::fs::write(&lib, b"\x7fELF").unwrap();
    m.install_user();
    let dir = profile(&m, "default");
    let (_, report) = doctor(&m, &["--user"]);
    assert_eq!(statuses(&report, "pkcs11_loaded"), ["warn"], "{report:#}");
    let warn = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "pkcs11_loaded").unwrap().clone();
    assert!(warn["fix"].as_str().unwrap().contains("Security Devices"), "{warn}");
    // Loaded (Thunderbird wrote it into pkcs11.txt).
    let entry = format!("library=\nname=NSS Internal PKCS #11 Module\n\nlibrary={}\nname=S/MIME Companion\n", lib.display());
    std::fs::write(dir.join("pkcs11.txt"), &entry).unwrap();
    let (_, report) = doctor(&m, &["--user"]);
    assert_eq!(statuses(&report, "pkcs11_loaded"), ["ok"], "{report:#}");
    // Loaded from a library that was moved away.
    std::fs::write(dir.join("pkcs11.txt"), "library=/gone/libsmime_companion_pkcs11.so\nname=S/MIME Companion\n").unwrap();
    let (code, report) = doctor(&m, &["--user"]);
    assert_eq!(code, 1);
    assert_eq!(statuses(&report, "pkcs11_loaded"), ["fail"], "{report:#}");
    // No module installed: nothing to check.
    std::fs::remove_file(&lib).unwrap();
    let (_, report) = doctor(&m, &["--user"]);
    assert!(statuses(&report, "pkcs11_loaded").is_empty());
}

/// The PKCS#11 and add-on checks both need the profiles: profiles.ini is read once per run.
/// Seen through strace; skipped where it cannot trace.
#[test]
fn profiles_ini_is_read_once() {
    let m = Machine::new();
    std::fs::write(m.host.parent().unwrap().join("libsmime_companion_pkcs11.so"), b"\x7fELF").unwrap();
    m.install_user();
    profile(&m, "default");
    let strace = |args: &[&str]| {
        std::process::Command::new("strace")
            .args(args)
            .env("HOME", &m.home)
            .env("SMIME_COMPANION_HOME", &m.data)
            .env("SMIME_COMPANION_SYSTEM_CONFIG", m.data.join("system-config.json"))
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .output()
    };
    if !strace(&["-o", "/dev/null", "true"]).is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: strace cannot trace here");
        return;
    }
    let log = m.data.join("strace.log");
    let out = strace(&["-f", "-o", log.to_str().unwrap(), "-e", "trace=open,openat", common::BIN, "doctor", "--user", "--json", "--root", m.root_str()]).unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&report, "pkcs11_loaded"), ["warn"], "{report:#}");
    assert!(!statuses(&report, "addon").is_empty(), "{report:#}");
    let ini = m.home.join(".thunderbird/profiles.ini");
    let calls = std::fs::read_to_string(&log).unwrap();
    let opened = calls.lines().filter(|l| l.contains(&format!("\"{}\"", ini.display())) && !l.contains("= -1")).count();
    assert_eq!(opened, 1, "{calls}");
}

fn package_xpi(m: &Machine) -> PathBuf {
    let xpi = m.root.join("usr/share/smime-companion/smime-companion.xpi");
    std::fs::create_dir_all(xpi.parent().unwrap()).unwrap();
    std::fs::write(&xpi, b"PK").unwrap();
    xpi
}

#[test]
fn check_policy() {
    let m = Machine::new();
    write_exe(&m.root.join("usr/bin/smime-companion"));
    m.ok(&["install", "--system", "--path", "/usr/bin/smime-companion", "--root", m.root_str()]);
    let (_, report) = doctor(&m, &["--system"]);
    assert_eq!(statuses(&report, "policy"), ["skip"], "no package, no policy expected");
    // The package's add-on is there, but no policy installs it.
    let xpi = package_xpi(&m);
    let (code, report) = doctor(&m, &["--system"]);
    assert_eq!(code, 1);
    assert!(fix(&report, "policy").contains("policy merge"));
    // With the policy, as the package writes it (the URL names the file as the target system sees it).
    let file = m.root.join("etc/thunderbird/policies/policies.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let entry = json!({"installation_mode": "force_installed", "install_url": "file:///usr/share/smime-companion/smime-companion.xpi"});
    std::fs::write(&file, json!({"policies": {"ExtensionSettings": {addon_id(): entry}}}).to_string()).unwrap();
    let (code, report) = doctor(&m, &["--system"]);
    assert_eq!((code, statuses(&report, "policy")), (0, vec!["ok".to_string()]), "{report:#}");
    // The add-on file the policy names is gone.
    std::fs::remove_file(&xpi).unwrap();
    let (code, report) = doctor(&m, &["--system"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "policy"));
    // A broken policy file disables every policy.
    std::fs::write(&file, "{\"policies\": ").unwrap();
    let (code, report) = doctor(&m, &["--system"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "policy"));
}

fn profile(m: &Machine, name: &str) -> PathBuf {
    let root = m.home.join(".thunderbird");
    let dir = root.join("Profiles").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(root.join("profiles.ini"), format!("[Profile0]\nName={name}\nIsRelative=1\nPath=Profiles/{name}\nDefault=1\n")).unwrap();
    dir
}

fn extensions_json(dir: &Path, addon: Value) {
    std::fs::write(dir.join("extensions.json"), json!({"schemaVersion": 36, "addons": [addon]}).to_string()).unwrap();
}

#[test]
fn check_addon() {
    let m = Machine::new();
    m.install_user();
    let (_, report) = doctor(&m, &[]);
    assert_eq!(statuses(&report, "addon"), ["skip"], "no profile yet");
    let dir = profile(&m, "default");
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1, "not installed in the profile");
    assert!(fix(&report, "addon").contains("Install Add-on From File"));
    extensions_json(&dir, json!({"id": addon_id(), "active": false, "userDisabled": true}));
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1, "disabled");
    assert!(fix(&report, "addon").contains("switch S/MIME Companion on"));
    extensions_json(&dir, json!({"id": addon_id(), "active": false, "appDisabled": true}));
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1, "incompatible");
    assert!(fix(&report, "addon").contains("140"));
    extensions_json(&dir, json!({"id": addon_id(), "active": true, "userDisabled": false}));
    let (code, report) = doctor(&m, &[]);
    assert_eq!((code, statuses(&report, "addon")), (0, vec!["ok".to_string()]));
    // Not installed, but the enterprise policy installs it at the next start.
    extensions_json(&dir, json!({"id": "other@example.org", "active": true}));
    assert_eq!(doctor(&m, &[]).0, 1);
    package_xpi(&m);
    let file = m.root.join("etc/thunderbird/policies/policies.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let entry = json!({"installation_mode": "force_installed", "install_url": "file:///usr/share/smime-companion/smime-companion.xpi"});
    std::fs::write(&file, json!({"policies": {"ExtensionSettings": {addon_id(): entry}}}).to_string()).unwrap();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(statuses(&report, "addon"), ["ok"]);
}

#[test]
fn check_config() {
    let m = Machine::new();
    m.install_user();
    std::fs::write(m.data.join("system-config.json"), "{\"allowed_extensions\": [").unwrap();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 1);
    assert!(failed(&report, "config"), "{report:#}");
}

// --- Windows and macOS rules, through the library -----------------------------------------------

struct Registry(HashMap<String, String>);

impl RegistryRead for Registry {
    fn read_default(&self, key: &RegKey) -> Result<Option<String>> {
        Ok(self.0.get(&key.display()).cloned())
    }
}

fn key(hive: Hive, view: View) -> String {
    RegKey { hive, view, path: r"Software\Mozilla\NativeMessagingHosts\smime_companion".into() }.display()
}

/// A Windows machine below a temporary root: the host and a good manifest in Program Files.
fn windows_machine() -> (tempfile::TempDir, Layout, String) {
    let dir = common::temp_home();
    let root = dir.path().join("c");
    let program = root.join("Program Files/smime-companion");
    std::fs::create_dir_all(&program).unwrap();
    std::fs::write(program.join("smime-companion.exe"), b"MZ").unwrap();
    let manifest = json!({
        "name": "smime_companion", "description": "x", "path": "smime-companion.exe", "type": "stdio",
        "allowed_extensions": [addon_id()],
    });
    std::fs::write(program.join("smime_companion.json"), manifest.to_string()).unwrap();
    let layout = Layout { home: dir.path().join("home"), root, os: Os::Windows };
    (dir, layout, r"C:\Program Files\smime-companion\smime_companion.json".to_string())
}

fn run(layout: &Layout, scope: Option<Scope>, registry: &Registry) -> doctor::Report {
    doctor::run(&Inputs { layout: layout.clone(), scope, registry, config_files: vec![], clients: None })
}

fn lib_statuses(report: &doctor::Report, id: &str) -> Vec<Status> {
    report.findings.iter().filter(|f| f.id == id).map(|f| f.status).collect()
}

#[test]
fn check_registry() {
    let (_dir, layout, manifest) = windows_machine();
    // The MSI's keys in both HKLM views: healthy, also when asked about the machine.
    let both = Registry(HashMap::from([(key(Hive::LocalMachine, View::Bits64), manifest.clone()), (key(Hive::LocalMachine, View::Bits32), manifest.clone())]));
    let report = run(&layout, None, &both);
    assert!(report.healthy(), "{}", report.to_text());
    assert!(run(&layout, Some(Scope::System), &both).healthy());
    // One view missing: 32- or 64-bit Thunderbird would not find it.
    let one = Registry(HashMap::from([(key(Hive::LocalMachine, View::Bits64), manifest.clone())]));
    let report = run(&layout, Some(Scope::System), &one);
    assert!(!report.healthy());
    assert!(lib_statuses(&report, "registry").contains(&Status::Fail), "{}", report.to_text());
    // A per-user key naming a missing file hides the machine-wide registration.
    let mut shadowed = both.0.clone();
    shadowed.insert(key(Hive::CurrentUser, View::Bits64), r"C:\Users\u\gone.json".into());
    let report = run(&layout, None, &Registry(shadowed));
    assert!(!report.healthy());
    assert_eq!(lib_statuses(&report, "registry")[0], Status::Fail, "{}", report.to_text());
    // Relative paths are fine on Windows (resolved against the manifest's folder).
    assert!(lib_statuses(&run(&layout, None, &both), "manifest_path").iter().all(|s| *s == Status::Ok));
}

#[test]
fn check_registry_broken_user_manifest_is_not_skipped_on_windows() {
    let (_dir, layout, manifest) = windows_machine();
    let user = layout.root.join("Users/u/m.json");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(&user, r#"{"name": "smime_companion"}"#).unwrap();
    let reg = Registry(HashMap::from([
        (key(Hive::CurrentUser, View::Bits64), r"C:\Users\u\m.json".into()),
        (key(Hive::LocalMachine, View::Bits64), manifest.clone()),
        (key(Hive::LocalMachine, View::Bits32), manifest),
    ]));
    let report = run(&layout, None, &reg);
    assert!(!report.healthy(), "Thunderbird on Windows uses the first key found, broken or not: {}", report.to_text());
    assert!(lib_statuses(&report, "manifest_fields").contains(&Status::Fail));
}

#[test]
fn check_macos_firefox_folder() {
    let dir = common::temp_home();
    let home = dir.path().join("home");
    let host = dir.path().join("bin/smime-companion");
    write_exe(&host);
    let manifest = json!({
        "name": "smime_companion", "description": "x", "path": host.to_str().unwrap(), "type": "stdio",
        "allowed_extensions": [addon_id()],
    });
    let firefox = home.join("Library/Application Support/Mozilla/NativeMessagingHosts");
    std::fs::create_dir_all(&firefox).unwrap();
    std::fs::write(firefox.join("smime_companion.json"), manifest.to_string()).unwrap();
    let layout = Layout { home: home.clone(), root: dir.path().join("root"), os: Os::MacOs };
    let none = Registry(HashMap::new());
    let report = run(&layout, None, &none);
    assert!(!report.healthy());
    assert_eq!(lib_statuses(&report, "macos_firefox_folder"), [Status::Fail], "{}", report.to_text());
    let thunderbird = home.join("Library/Mozilla/NativeMessagingHosts");
    std::fs::create_dir_all(&thunderbird).unwrap();
    std::fs::write(thunderbird.join("smime_companion.json"), manifest.to_string()).unwrap();
    let report = run(&layout, None, &none);
    assert!(report.healthy(), "{}", report.to_text());
    assert_eq!(lib_statuses(&report, "macos_firefox_folder"), [Status::Ok]);
}

// --- Chrome, Edge and Chromium (Outlook on the web) ------------------------------------------------

const CHROMIUM_USER_MANIFEST: &str = ".config/chromium/NativeMessagingHosts/smime_companion.json";

/// A user install for Chromium; the manifest edited by `edit`; doctor --user --client chromium
/// must fail check `id`.
fn broken_chromium_manifest(id: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let m = Machine::new();
    m.ok(&["install", "--user", "--client", "chromium", "--path", m.host_str()]);
    let path = m.home.join(CHROMIUM_USER_MANIFEST);
    let mut v = setup::read_json(&path);
    edit(&mut v);
    std::fs::write(&path, v.to_string()).unwrap();
    let (code, report) = doctor(&m, &["--user", "--client", "chromium"]);
    assert_eq!(code, 1, "{report:#}");
    assert!(failed(&report, id), "{id} should fail: {report:#}");
    assert!(fix(&report, id).contains("--client chromium"), "{report:#}");
    report
}

#[test]
fn healthy_chromium_install_and_nothing_asked_of_an_absent_browser() {
    let m = Machine::new();
    m.install_user();
    // No Chromium browser here and no registration: Thunderbird's checks decide alone.
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(statuses(&report, "chromium_browser"), ["skip", "skip", "skip"]);
    assert!(statuses(&report, "chromium_manifest_present").is_empty());
    m.ok(&["install", "--user", "--client", "chromium", "--path", m.host_str()]);
    let (code, report) = doctor(&m, &["--client", "chromium"]);
    assert_eq!(code, 0, "{report:#}");
    for id in ["chromium_manifest_json", "chromium_manifest_fields", "chromium_manifest_name", "chromium_manifest_type", "chromium_manifest_path", "chromium_manifest_allowed"] {
        assert_eq!(statuses(&report, id), ["ok"], "{id}: {report:#}");
    }
    assert!(statuses(&report, "manifest_present").is_empty(), "--client chromium checks only Chromium");
}

#[test]
fn check_chromium_browser() {
    let m = Machine::new();
    write_exe(&m.root.join("usr/lib/chromium/chromium"));
    std::fs::create_dir_all(m.root.join("var/lib/flatpak/app/com.google.Chrome")).unwrap();
    let (_, report) = doctor(&m, &["--client", "all"]);
    let chromium = report["checks"].as_array().unwrap().iter().filter(|c| c["id"] == "chromium_browser").collect::<Vec<_>>();
    assert!(chromium.iter().any(|c| c["status"] == "ok" && c["message"].as_str().unwrap().contains("Chromium is installed")), "{report:#}");
    let flatpak = chromium.iter().find(|c| c["subject"].as_str().unwrap().contains("com.google.Chrome")).expect("the Flatpak is reported");
    assert_eq!(flatpak["status"], "fail", "a Flatpak Chrome alone cannot start the host");
    assert!(flatpak["fix"].as_str().unwrap().contains("Debian package"));
}

#[test]
fn check_chromium_manifest_present() {
    let m = Machine::new();
    write_exe(&m.root.join("usr/bin/google-chrome"));
    // Installed, not registered: a warning (Chrome without Outlook on the web is fine) ...
    m.install_user();
    let (code, report) = doctor(&m, &[]);
    assert_eq!(code, 0, "{report:#}");
    let chrome = report["checks"].as_array().unwrap().iter().find(|c| c["id"] == "chromium_manifest_present" && c["subject"] == "Chrome").cloned().expect("Chrome's registration reported");
    assert_eq!(chrome["status"], "warn", "{report:#}");
    assert!(chrome["fix"].as_str().unwrap().contains("install --user --client chrome"));
    // ... a failure when asked for.
    let (code, report) = doctor(&m, &["--client", "chrome"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "chromium_manifest_present"), "{report:#}");
    // --system wants the machine-wide folder.
    write_exe(&m.root.join("usr/bin/smime-companion"));
    m.ok(&["install", "--system", "--client", "chrome", "--path", "/usr/bin/smime-companion", "--root", m.root_str()]);
    let (code, report) = doctor(&m, &["--system", "--client", "chrome"]);
    assert_eq!(code, 0, "{report:#}");
    // A policy that switches user-level hosts off hides a per-user registration.
    let m = Machine::new();
    m.ok(&["install", "--user", "--client", "chrome", "--path", m.host_str()]);
    assert_eq!(doctor(&m, &["--client", "chrome"]).0, 0);
    let dir = m.root.join("etc/opt/chrome/policies/managed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("it.json"), json!({"NativeMessagingUserLevelHosts": false}).to_string()).unwrap();
    let (code, report) = doctor(&m, &["--client", "chrome"]);
    assert_eq!(code, 1, "{report:#}");
    assert!(fix(&report, "chromium_manifest_present").contains("install --system"), "{report:#}");
}

#[test]
fn check_chromium_manifest_json() {
    let m = Machine::new();
    m.ok(&["install", "--user", "--client", "chromium", "--path", m.host_str()]);
    std::fs::write(m.home.join(CHROMIUM_USER_MANIFEST), "{\"name\": ").unwrap();
    let (code, report) = doctor(&m, &["--user", "--client", "chromium"]);
    assert_eq!(code, 1);
    assert!(failed(&report, "chromium_manifest_json"));
}

#[test]
fn check_chromium_manifest_fields() {
    broken_chromium_manifest("chromium_manifest_fields", |v| v["description"] = json!(""));
    broken_chromium_manifest("chromium_manifest_fields", |v| v["allowed_origins"] = json!(["chrome-extension://*/"]));
    let report = broken_chromium_manifest("chromium_manifest_fields", |v| {
        let origins = v.as_object_mut().unwrap().remove("allowed_origins").unwrap();
        v["allowed_extensions"] = origins;
    });
    assert!(report.to_string().contains("Thunderbird/Firefox manifest"), "{report:#}");
}

#[test]
fn check_chromium_manifest_name() {
    broken_chromium_manifest("chromium_manifest_name", |v| v["name"] = json!("other_host"));
}

#[test]
fn check_chromium_manifest_type() {
    broken_chromium_manifest("chromium_manifest_type", |v| v["type"] = json!("pkcs11"));
}

#[test]
fn check_chromium_manifest_path() {
    broken_chromium_manifest("chromium_manifest_path", |v| v["path"] = json!("smime-companion"));
    broken_chromium_manifest("chromium_manifest_path", |v| v["path"] = json!("/nonexistent/smime-companion"));
}

#[test]
fn check_chromium_manifest_allowed() {
    broken_chromium_manifest("chromium_manifest_allowed", |v| v["allowed_origins"] = json!(["chrome-extension://abcdefghijklmnopabcdefghijklmnop/"]));
    // An origin the configuration adds (a store's copy of the extension) is fine on its own.
    let m = Machine::new();
    let store = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/";
    std::fs::write(m.data.join("system-config.json"), json!({"allowed_origins": [store]}).to_string()).unwrap();
    m.ok(&["install", "--user", "--client", "chromium", "--path", m.host_str()]);
    let path = m.home.join(CHROMIUM_USER_MANIFEST);
    let mut v = setup::read_json(&path);
    v["allowed_origins"] = json!([store]);
    std::fs::write(&path, v.to_string()).unwrap();
    let (code, report) = doctor(&m, &["--user", "--client", "chromium"]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn check_chromium_registry() {
    let (_dir, layout, _) = windows_machine();
    let program = layout.root.join("Program Files/smime-companion");
    let manifest = json!({
        "name": "smime_companion", "description": "x", "path": "smime-companion.exe", "type": "stdio",
        "allowed_origins": [common::outlook_origin()],
    });
    std::fs::write(program.join("chromium.json"), manifest.to_string()).unwrap();
    let edge = |hive, view| RegKey { hive, view, path: r"Software\Microsoft\Edge\NativeMessagingHosts\smime_companion".into() }.display();
    let file = r"C:\Program Files\smime-companion\chromium.json".to_string();
    let reg = Registry(HashMap::from([(edge(Hive::LocalMachine, View::Bits64), file.clone()), (edge(Hive::LocalMachine, View::Bits32), file.clone())]));
    let only_edge = |scope| doctor::run(&Inputs { layout: layout.clone(), scope, registry: &reg, config_files: vec![], clients: Some(vec![smime_companion::install::Client::Edge]) });
    let report = only_edge(None);
    assert!(report.healthy(), "{}", report.to_text());
    assert!(only_edge(Some(Scope::System)).healthy());
    // A per-user key naming a missing file comes first and hides the machine-wide one.
    let mut shadowed = reg.0.clone();
    shadowed.insert(edge(Hive::CurrentUser, View::Bits64), r"C:\Users\u\gone.json".into());
    let shadowed = Registry(shadowed);
    let report = doctor::run(&Inputs { layout: layout.clone(), scope: None, registry: &shadowed, config_files: vec![], clients: Some(vec![smime_companion::install::Client::Edge]) });
    assert!(!report.healthy());
    assert_eq!(lib_statuses(&report, "chromium_registry")[0], Status::Fail, "{}", report.to_text());
}

fn chrome_policy(m: &Machine, policy: Value) {
    let dir = m.root.join("etc/opt/chrome/policies/managed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("smime.json"), policy.to_string()).unwrap();
}

#[test]
fn check_chromium_policy() {
    let m = Machine::new();
    write_exe(&m.root.join("usr/bin/smime-companion"));
    m.ok(&["install", "--system", "--client", "chrome", "--path", "/usr/bin/smime-companion", "--root", m.root_str()]);
    let id = common::outlook_origin().trim_start_matches("chrome-extension://").trim_end_matches('/').to_string();
    let (code, report) = doctor(&m, &["--system", "--client", "chrome"]);
    assert_eq!((code, statuses(&report, "chromium_policy")), (0, vec!["skip".to_string()]), "{report:#}");
    // Force-installed, with preset settings the schema knows.
    chrome_policy(&m, json!({
        "ExtensionInstallForcelist": [format!("{id};https://clients2.google.com/service/update2/crx")],
        "3rdparty": {"extensions": {&id: {"clientId": "11111111-2222-3333-4444-555555555555", "tenantId": "contoso.com"}}},
    }));
    let (code, report) = doctor(&m, &["--system", "--client", "chrome"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(statuses(&report, "chromium_policy").iter().all(|s| s == "ok"), "{report:#}");
    // A setting the extension does not know, or of the wrong type, is dropped: a warning.
    chrome_policy(&m, json!({"3rdparty": {"extensions": {&id: {"clientID": "x", "cloudOrigins": "https://outlook.office.com"}}}}));
    let (_, report) = doctor(&m, &["--system", "--client", "chrome"]);
    assert!(statuses(&report, "chromium_policy").contains(&"warn".to_string()), "{report:#}");
    // Blocking native hosts or the extension fails.
    chrome_policy(&m, json!({"NativeMessagingBlocklist": ["*"]}));
    let (code, report) = doctor(&m, &["--system", "--client", "chrome"]);
    assert_eq!(code, 1);
    assert!(fix(&report, "chromium_policy").contains("NativeMessagingAllowlist"));
    chrome_policy(&m, json!({"NativeMessagingBlocklist": ["*"], "NativeMessagingAllowlist": ["smime_companion"]}));
    assert_eq!(doctor(&m, &["--system", "--client", "chrome"]).0, 0);
    chrome_policy(&m, json!({"ExtensionInstallBlocklist": ["*"]}));
    let (code, report) = doctor(&m, &["--system", "--client", "chrome"]);
    assert_eq!(code, 1);
    assert!(fix(&report, "chromium_policy").contains("ExtensionInstallAllowlist"), "{report:#}");
    // A broken policy file: the browser ignores all of it.
    chrome_policy(&m, json!(null));
    std::fs::write(m.root.join("etc/opt/chrome/policies/managed/smime.json"), "{\"x\": ").unwrap();
    assert_eq!(doctor(&m, &["--system", "--client", "chrome"]).0, 1);
}

#[test]
fn check_chromium_extension() {
    let m = Machine::new();
    m.ok(&["install", "--user", "--client", "chromium", "--path", m.host_str()]);
    let (_, report) = doctor(&m, &["--client", "chromium"]);
    assert_eq!(statuses(&report, "chromium_extension"), ["skip"], "the browser was never started");
    let data = m.home.join(".config/chromium");
    let profile = data.join("Profile 1");
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::write(data.join("Local State"), json!({"profile": {"info_cache": {"Profile 1": {"name": "Work"}}}}).to_string()).unwrap();
    let (code, report) = doctor(&m, &["--client", "chromium"]);
    assert_eq!((code, statuses(&report, "chromium_extension")), (0, vec!["warn".to_string()]), "{report:#}");
    let id = common::outlook_origin().trim_start_matches("chrome-extension://").trim_end_matches('/').to_string();
    let prefs = |entry: Value| std::fs::write(profile.join("Preferences"), json!({"extensions": {"settings": {&id: entry}}}).to_string()).unwrap();
    prefs(json!({"location": 4, "disable_reasons": [1]}));
    let (code, report) = doctor(&m, &["--client", "chromium"]);
    assert_eq!(code, 1);
    assert!(fix(&report, "chromium_extension").contains("switch S/MIME Companion on"));
    prefs(json!({"location": 4}));
    let (code, report) = doctor(&m, &["--client", "chromium"]);
    assert_eq!((code, statuses(&report, "chromium_extension")), (0, vec!["ok".to_string()]));
}

#[test]
fn every_check_has_a_test_and_is_documented() {
    let this = include_str!("doctor.rs");
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/INSTALL.md")).unwrap();
    for (id, _) in CHECKS {
        assert!(this.contains(&format!("fn check_{id}(")), "no test for check {id}");
        assert!(doc.contains(&format!("`{id}`")), "docs/INSTALL.md does not describe check {id}");
    }
}
