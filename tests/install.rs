//! `install`, `uninstall`, `policy` and `generate`, run as the real binary against a temporary
//! HOME and system root: every client and scope, idempotence, other products' files, the receipt,
//! add-on copies, the PKCS#11 module manifest, and policy merging.

mod common;
mod setup;

use common::{addon_id, outlook_origin};
use serde_json::json;
use setup::{read_json, set_mode, text, write_exe, Machine};
use std::path::{Path, PathBuf};
use std::process::Command;

const ORIGIN: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/";

#[test]
fn user_install_writes_what_thunderbird_accepts_and_uninstall_removes_it() {
    let m = Machine::new();
    let out = m.install_user();
    assert!(out.contains("wrote"), "{out}");
    let v = read_json(&m.user_manifest());
    assert_eq!(v["name"], "smime_companion");
    assert_eq!(v["type"], "stdio");
    assert_eq!(v["path"], m.host_str());
    assert!(Path::new(v["path"].as_str().unwrap()).is_absolute());
    assert_eq!(v["allowed_extensions"], json!([addon_id()]));
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "only the fields Thunderbird's schema allows: {keys:?}");
    let doctor = m.cmd(&["doctor", "--user", "--root", m.root_str()]);
    assert_eq!(doctor.status.code(), Some(0), "{}", text(&doctor.stdout));
    assert!(text(&doctor.stdout).contains("healthy"));

    let out = m.ok(&["uninstall", "--user", "--root", m.root_str()]);
    assert!(out.contains("removed"), "{out}");
    assert!(!m.user_manifest().exists());
    assert!(!m.home.join(".mozilla").exists(), "folders install created are removed again");
    assert!(!m.data.join("install-receipt.json").exists());
    let doctor = m.cmd(&["doctor", "--user", "--root", m.root_str()]);
    assert_eq!(doctor.status.code(), Some(1), "{}", text(&doctor.stdout));
    assert!(m.ok(&["uninstall", "--user"]).contains("nothing to remove"));
}

#[test]
fn install_is_idempotent() {
    let m = Machine::new();
    m.install_user();
    let before = std::fs::metadata(m.user_manifest()).unwrap().modified().unwrap();
    let bytes = std::fs::read(m.user_manifest()).unwrap();
    let out = m.install_user();
    assert!(out.contains("unchanged"), "{out}");
    assert!(!out.contains("wrote"), "{out}");
    assert_eq!(std::fs::read(m.user_manifest()).unwrap(), bytes);
    assert_eq!(std::fs::metadata(m.user_manifest()).unwrap().modified().unwrap(), before);
}

#[test]
fn every_client_in_user_scope() {
    let m = Machine::new();
    let chromium_dirs = [".config/google-chrome/NativeMessagingHosts", ".config/microsoft-edge/NativeMessagingHosts", ".config/chromium/NativeMessagingHosts"];
    // Without configuration the Chromium browsers get the bundled Outlook extension's origin.
    let out = m.ok(&["install", "--user", "--client", "all", "--path", m.host_str()]);
    assert!(!out.contains("skipped"), "{out}");
    for dir in chromium_dirs {
        let v = read_json(&m.home.join(dir).join("smime_companion.json"));
        assert_eq!(v["allowed_origins"], json!([outlook_origin()]), "{dir}");
    }
    // An origin IT adds (the store's copy of the extension, say) comes after it.
    std::fs::write(m.data.join("config.json"), json!({ "allowed_origins": [ORIGIN] }).to_string()).unwrap();
    m.ok(&["install", "--user", "--client", "all", "--path", m.host_str()]);
    for dir in chromium_dirs {
        let v = read_json(&m.home.join(dir).join("smime_companion.json"));
        assert_eq!(v["allowed_origins"], json!([outlook_origin(), ORIGIN]), "{dir}");
        assert_eq!(v["path"], m.host_str());
        assert!(v.get("allowed_extensions").is_none());
    }
    assert_eq!(read_json(&m.user_manifest())["allowed_extensions"], json!([addon_id()]));
    // Uninstall without --client removes everything the receipt lists.
    m.ok(&["uninstall", "--user"]);
    for dir in chromium_dirs {
        assert!(!m.home.join(dir).join("smime_companion.json").exists(), "{dir}");
    }
    assert!(!m.user_manifest().exists());
    assert!(!m.home.join(".config").exists());
}

#[test]
fn one_client_at_a_time() {
    let m = Machine::new();
    std::fs::write(m.data.join("config.json"), json!({ "allowed_origins": [ORIGIN] }).to_string()).unwrap();
    for client in ["thunderbird", "firefox", "chrome", "edge", "chromium"] {
        m.ok(&["install", "--user", "--client", client, "--path", m.host_str()]);
    }
    m.ok(&["uninstall", "--user", "--client", "edge"]);
    assert!(!m.home.join(".config/microsoft-edge/NativeMessagingHosts/smime_companion.json").exists());
    assert!(m.home.join(".config/google-chrome/NativeMessagingHosts/smime_companion.json").exists());
    assert!(m.user_manifest().exists());
    m.ok(&["uninstall", "--user", "--client", "all"]);
    assert!(!m.home.join(".config").exists() && !m.home.join(".mozilla").exists());
}

#[test]
fn system_install_into_a_root_covers_lib64_and_is_removed_exactly() {
    let m = Machine::new();
    std::fs::create_dir_all(m.root.join("usr/lib64")).unwrap();
    let host = "/usr/bin/smime-companion";
    write_exe(&m.root.join("usr/bin/smime-companion"));
    std::fs::write(m.data.join("system-config.json"), json!({ "allowed_origins": [ORIGIN] }).to_string()).unwrap();
    let out = m.ok(&["install", "--system", "--client", "all", "--path", host, "--root", m.root_str()]);
    let expect = [
        "usr/lib/mozilla/native-messaging-hosts",
        "usr/lib64/mozilla/native-messaging-hosts",
        "etc/opt/chrome/native-messaging-hosts",
        "etc/opt/edge/native-messaging-hosts",
        "etc/chromium/native-messaging-hosts",
    ];
    for dir in expect {
        let v = read_json(&m.root.join(dir).join("smime_companion.json"));
        assert_eq!(v["path"], host, "{dir}");
        assert_eq!(v["name"], "smime_companion");
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(m.root.join(dir).join("smime_companion.json")).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o644, "browsers running as users must read it");
    }
    assert!(out.contains("usr/lib64/mozilla"), "{out}");
    assert!(m.root.join("var/lib/smime-companion/install-receipt.json").is_file());
    assert!(!m.home.join(".mozilla").exists(), "a system install writes nothing into HOME");
    let doctor = m.cmd(&["doctor", "--system", "--root", m.root_str()]);
    assert_eq!(doctor.status.code(), Some(0), "{}", text(&doctor.stdout));

    m.ok(&["uninstall", "--system", "--root", m.root_str()]);
    for dir in expect {
        assert!(!m.root.join(dir).exists(), "{dir} created by install, removed by uninstall");
    }
    assert!(m.root.join("usr/lib64").is_dir(), "folders that existed before stay");
    assert!(m.root.join("usr/bin/smime-companion").is_file());
    assert!(!m.root.join("var/lib/smime-companion/install-receipt.json").exists());
}

#[test]
fn other_products_files_are_left_alone() {
    let m = Machine::new();
    let dir = m.home.join(".mozilla/native-messaging-hosts");
    std::fs::create_dir_all(&dir).unwrap();
    let other = dir.join("other_host.json");
    std::fs::write(&other, r#"{"name": "other_host"}"#).unwrap();
    m.install_user();
    m.ok(&["uninstall", "--user"]);
    assert!(other.is_file());
    assert!(dir.is_dir(), "a folder that was there before stays");

    // A file at our place that another program rewrote with another name is not ours any more.
    m.install_user();
    std::fs::write(m.user_manifest(), r#"{"name": "someone_else"}"#).unwrap();
    let out = m.ok(&["uninstall", "--user"]);
    assert!(out.contains("kept"), "{out}");
    assert!(m.user_manifest().is_file());
}

#[test]
fn uninstall_without_a_receipt_removes_our_manifests_by_name() {
    let m = Machine::new();
    m.install_user();
    std::fs::remove_file(m.data.join("install-receipt.json")).unwrap();
    let other = m.home.join(".mozilla/native-messaging-hosts/other.json");
    std::fs::write(&other, "{}").unwrap();
    let out = m.ok(&["uninstall", "--user"]);
    assert!(out.contains("removed"), "{out}");
    assert!(!m.user_manifest().exists());
    assert!(other.exists());
}

#[test]
fn uninstall_without_a_receipt_does_not_write_one() {
    let m = Machine::new();
    m.install_user();
    let receipt = m.data.join("install-receipt.json");
    std::fs::remove_file(&receipt).unwrap();
    // Found by name, the shared manifest counts as Thunderbird's, so it stays; and no receipt
    // may be written for what install never recorded.
    m.ok(&["uninstall", "--user", "--client", "firefox"]);
    assert!(!receipt.exists(), "{}", std::fs::read_to_string(&receipt).unwrap_or_default());
    assert!(m.user_manifest().exists());
    assert!(m.ok(&["uninstall", "--user"]).contains("removed"));
    assert!(!m.user_manifest().exists());
    assert!(!receipt.exists());
}

fn write_profiles(m: &Machine, names: &[&str]) -> Vec<PathBuf> {
    let root = m.home.join(".thunderbird");
    let mut ini = String::new();
    let mut dirs = Vec::new();
    for (i, name) in names.iter().enumerate() {
        ini.push_str(&format!("[Profile{i}]\nName={name}\nIsRelative=1\nPath=Profiles/{name}\n\n"));
        let dir = root.join("Profiles").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dirs.push(dir);
    }
    ini.push_str("[General]\nStartWithLastProfile=1\nVersion=2\n");
    std::fs::write(root.join("profiles.ini"), ini).unwrap();
    dirs
}

#[test]
fn addon_is_copied_into_every_profile_and_removed_again_unless_changed() {
    let m = Machine::new();
    let profiles = write_profiles(&m, &["default", "work"]);
    let xpi = m.data.join("smime-companion.xpi");
    std::fs::write(&xpi, b"PK\x03\x04 test add-on").unwrap();
    let out = m.ok(&["install", "--user", "--path", m.host_str(), "--addon", xpi.to_str().unwrap()]);
    let copies: Vec<PathBuf> = profiles.iter().map(|p| p.join("extensions").join(format!("{}.xpi", addon_id()))).collect();
    for c in &copies {
        assert_eq!(std::fs::read(c).unwrap(), std::fs::read(&xpi).unwrap());
        assert!(out.contains(&c.display().to_string()), "{out}");
    }
    assert!(m.install_user().contains("unchanged"));
    // The user updated the add-on in one profile: that copy is not ours to remove any more.
    std::fs::write(&copies[1], b"PK newer version").unwrap();
    let out = m.ok(&["uninstall", "--user"]);
    assert!(!copies[0].exists());
    assert!(!profiles[0].join("extensions").exists());
    assert!(copies[1].exists());
    assert!(out.contains("kept"), "{out}");
}

#[test]
fn a_broken_receipt_is_moved_aside_not_overwritten() {
    let m = Machine::new();
    let receipt = m.data.join("install-receipt.json");
    let broken = b"{\"format\": 1, \"entries\": [ truncated";
    std::fs::write(&receipt, broken).unwrap();
    let out = m.cmd(&["install", "--user", "--path", m.host_str(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning: the install receipt") && text(&out.stderr).contains("moved it aside"), "{}", text(&out.stderr));
    let aside: Vec<PathBuf> = std::fs::read_dir(&m.data).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().contains("install-receipt.json.broken-")).collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), broken, "the old record is kept as it was");
    assert_eq!(read_json(&receipt)["format"], 1, "a new receipt");
    // A receipt that cannot be read at all stops install before it writes anything.
    m.ok(&["uninstall", "--user"]);
    std::fs::create_dir(&receipt).unwrap();
    let out = m.cmd(&["install", "--user", "--path", m.host_str()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("[io_error]"), "{}", text(&out.stderr));
    assert!(!m.user_manifest().exists() && receipt.is_dir());
}

#[test]
fn addon_without_profiles_is_a_note_and_system_scope_refuses_it() {
    let m = Machine::new();
    let xpi = m.data.join("a.xpi");
    std::fs::write(&xpi, b"PK").unwrap();
    let out = m.ok(&["install", "--user", "--path", m.host_str(), "--addon", xpi.to_str().unwrap()]);
    assert!(out.contains("no Thunderbird profile found"), "{out}");
    let out = m.cmd(&["install", "--system", "--root", m.root_str(), "--path", m.host_str(), "--addon", xpi.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pkcs11_manifest_only_when_the_module_is_there() {
    let m = Machine::new();
    let out = m.install_user();
    assert!(out.contains("no PKCS#11 module"), "{out}");
    assert!(!m.home.join(".mozilla/pkcs11-modules").exists());
    let lib = m.host.parent().unwrap().join("libsmime_companion_pkcs11.so");
    std::fs::write(&lib, b"\x7fELF").unwrap();
    let out = m.install_user();
    assert!(out.contains("PKCS#11 module manifest"), "{out}");
    let v = read_json(&m.home.join(".mozilla/pkcs11-modules/smime_companion.json"));
    assert_eq!(v["type"], "pkcs11");
    assert_eq!(v["path"], lib.to_str().unwrap());
    assert_eq!(v["allowed_extensions"], json!([addon_id()]));
    m.ok(&["uninstall", "--user"]);
    assert!(!m.home.join(".mozilla").exists());

    // --pkcs11 names a library elsewhere; a missing one is an error and nothing is written.
    let other = m.data.join("libother.so");
    let out = m.cmd(&["install", "--user", "--path", m.host_str(), "--pkcs11", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("[io_error]"), "{}", text(&out.stderr));
    assert!(!m.user_manifest().exists());
    std::fs::write(&other, b"\x7fELF").unwrap();
    m.ok(&["install", "--user", "--path", m.host_str(), "--pkcs11", other.to_str().unwrap()]);
    assert_eq!(read_json(&m.home.join(".mozilla/pkcs11-modules/smime_companion.json"))["path"], other.to_str().unwrap());
}

#[test]
fn install_refuses_a_program_that_cannot_run() {
    let m = Machine::new();
    for (path, setup) in [("missing", false), ("not-executable", true)] {
        let p = m.data.join(path);
        if setup {
            std::fs::write(&p, "x").unwrap();
            set_mode(&p, 0o644);
        }
        let out = m.cmd(&["install", "--user", "--path", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{path}");
        assert!(text(&out.stderr).contains("[host_not_executable]"), "{}", text(&out.stderr));
        assert!(!m.user_manifest().exists());
    }
    assert_eq!(m.cmd(&["install", "--user", "--path", "relative/x"]).status.code(), Some(2));
}

#[test]
fn quiet_prints_nothing() {
    let m = Machine::new();
    let out = m.cmd(&["install", "--user", "--path", m.host_str(), "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = m.cmd(&["uninstall", "--user", "--quiet"]);
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

// --- policy ----------------------------------------------------------------------------------

fn xpi(m: &Machine) -> PathBuf {
    let p = m.root.join("usr/share/smime-companion/smime-companion.xpi");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, b"PK").unwrap();
    p
}

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn policy_merge_creates_a_missing_file_and_remove_deletes_it() {
    let m = Machine::new();
    let xpi = xpi(&m);
    let file = m.root.join("etc/thunderbird/policies/policies.json");
    let (f, x) = (file.to_str().unwrap(), xpi.to_str().unwrap());
    assert!(m.ok(&["policy", "merge", "--file", f, "--xpi", x]).contains("created"));
    let v = read_json(&file);
    assert_eq!(v["policies"]["ExtensionSettings"][addon_id()], json!({"installation_mode": "force_installed", "install_url": url(&xpi)}));
    assert!(m.ok(&["policy", "merge", "--file", f, "--xpi", x]).contains("already"));
    assert!(m.ok(&["policy", "remove", "--file", f, "--xpi", x]).contains("removed"));
    assert!(!file.exists());
    assert!(m.ok(&["policy", "remove", "--file", f, "--xpi", x]).contains("does not exist"));
}

#[test]
fn policy_merge_keeps_other_settings() {
    let m = Machine::new();
    let xpi = xpi(&m);
    let file = m.root.join("policies.json");
    let before = json!({"policies": {
        "DisableTelemetry": true,
        "ExtensionSettings": {"*": {"installation_mode": "blocked"}, "other@example.org": {"installation_mode": "allowed"}},
        "Certificates": {"ImportEnterpriseRoots": true}
    }});
    std::fs::write(&file, serde_json::to_string_pretty(&before).unwrap()).unwrap();
    set_mode(&file, 0o640);
    let (f, x) = (file.to_str().unwrap(), xpi.to_str().unwrap());
    assert!(m.ok(&["policy", "merge", "--file", f, "--xpi", x]).contains("updated"));
    let v = read_json(&file);
    assert_eq!(v["policies"]["DisableTelemetry"], true);
    assert_eq!(v["policies"]["Certificates"], before["policies"]["Certificates"]);
    assert_eq!(v["policies"]["ExtensionSettings"]["*"], before["policies"]["ExtensionSettings"]["*"]);
    assert_eq!(v["policies"]["ExtensionSettings"][addon_id()]["installation_mode"], "force_installed");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o640, "the file keeps its mode");
    m.ok(&["policy", "remove", "--file", f, "--xpi", x]);
    assert_eq!(read_json(&file), before);
}

#[test]
fn policy_leaves_a_broken_file_untouched() {
    let m = Machine::new();
    let xpi = xpi(&m);
    let file = m.root.join("policies.json");
    std::fs::write(&file, "{ \"policies\": { \"DisableTelemetry\": true, }").unwrap();
    for action in ["merge", "remove"] {
        let out = m.cmd(&["policy", action, "--file", file.to_str().unwrap(), "--xpi", xpi.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{action}");
        assert!(text(&out.stderr).contains("[bad_policy_file]"), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("left untouched"));
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ \"policies\": { \"DisableTelemetry\": true, }");
}

#[test]
fn policy_remove_leaves_an_entry_for_another_source() {
    let m = Machine::new();
    let xpi = xpi(&m);
    let file = m.root.join("policies.json");
    let mine = json!({"policies": {"ExtensionSettings": {addon_id(): {"installation_mode": "force_installed", "install_url": "https://intranet/smime.xpi"}}}});
    std::fs::write(&file, mine.to_string()).unwrap();
    let out = m.ok(&["policy", "remove", "--file", file.to_str().unwrap(), "--xpi", xpi.to_str().unwrap()]);
    assert!(out.contains("left as it is"), "{out}");
    assert_eq!(read_json(&file), mine);
    let out = m.cmd(&["policy", "merge", "--file", file.to_str().unwrap(), "--xpi", "relative.xpi"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn policy_merge_leaves_an_entry_it_did_not_write() {
    let m = Machine::new();
    let xpi = xpi(&m);
    let file = m.root.join("policies.json");
    let (f, x) = (file.to_str().unwrap(), xpi.to_str().unwrap());
    for (entry, note) in [
        (json!({"installation_mode": "force_installed", "install_url": "https://intranet/smime.xpi"}), "installs it from https://intranet/smime.xpi"),
        (json!({"installation_mode": "blocked"}), "blocks the add-on"),
    ] {
        let before = serde_json::to_string_pretty(&json!({"policies": {"ExtensionSettings": {addon_id(): entry}}})).unwrap();
        std::fs::write(&file, &before).unwrap();
        // What the packages run: quiet, yet the note is shown.
        let out = m.cmd(&["policy", "merge", "--quiet", "--file", f, "--xpi", x]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(note) && text(&out.stderr).contains("left as it is"), "{}", text(&out.stderr));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), before, "IT's entry is not replaced");
        m.ok(&["policy", "remove", "--file", f, "--xpi", x]);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), before, "nor removed");
    }
}

/// A rewritten policies.json is on disk before it replaces the old one (a crash must not leave an
/// empty file, which Thunderbird and `policy` read as no policies): the temporary file is flushed
/// before the rename, the folder after it. Seen through strace; skipped where it cannot trace.
#[test]
fn files_are_flushed_before_they_replace_the_old_ones() {
    let m = Machine::new();
    let traced = |args: &[&str]| Command::new("strace").args(args).env("HOME", &m.home).env("SMIME_COMPANION_HOME", &m.data).output();
    if !traced(&["-o", "/dev/null", "true"]).is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: strace cannot trace here");
        return;
    }
    let xpi = xpi(&m);
    let file = m.root.join("policies.json");
    std::fs::write(&file, "{}").unwrap();
    let log = m.data.join("strace.log");
    let out = traced(&[
        "-f", "-y", "-o", log.to_str().unwrap(), "-e", "trace=fsync,fdatasync,rename,renameat,renameat2",
        common::BIN, "policy", "merge", "--file", file.to_str().unwrap(), "--xpi", xpi.to_str().unwrap(),
    ])
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(read_json(&file)["policies"]["ExtensionSettings"][addon_id()].is_object());
    let calls = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    let at = |what: &dyn Fn(&str) -> bool| lines.iter().position(|l| what(l)).unwrap_or_else(|| panic!("not in the trace:\n{calls}"));
    let flushed = at(&|l| l.contains("fsync(") && l.contains(".policies.json.") && l.contains(".tmp>"));
    let renamed = at(&|l| l.contains("rename") && l.contains(".policies.json.") && l.contains("/policies.json\""));
    let root = m.root.canonicalize().unwrap();
    let dir_flushed = at(&|l| l.contains("fsync(") && l.contains(&format!("<{}>", root.display())));
    assert!(flushed < renamed && renamed < dir_flushed, "{calls}");
}

// --- generate --------------------------------------------------------------------------------

#[test]
fn generate_writes_the_debian_files_with_the_package_paths() {
    let m = Machine::new();
    let out = m.data.join("deb");
    m.ok(&["generate", "debian", "--out", out.to_str().unwrap()]);
    // No host manifest in the package: postinst's `install --system` writes (and records) it.
    assert!(!out.join("usr").exists());
    let layout = std::fs::read_to_string(out.join("package-layout.sh")).unwrap();
    assert!(layout.contains("PKG_BIN=\"/usr/bin/smime-companion\""), "{layout}");
    assert!(Command::new("sh").arg("-n").arg(out.join("package-layout.sh")).status().unwrap().success());
    for script in ["postinst", "prerm", "postrm"] {
        let p = out.join("DEBIAN").join(script);
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&p).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o755, "{script}");
        let status = Command::new("sh").arg("-n").arg(&p).status().unwrap();
        assert!(status.success(), "{script} is not valid sh");
    }
    let postinst = std::fs::read_to_string(out.join("DEBIAN/postinst")).unwrap();
    assert!(postinst.contains("XPI=\"/usr/share/smime-companion/smime-companion.xpi\""));
    assert!(postinst.contains("POLICY=\"/etc/thunderbird/policies/policies.json\""));
    assert!(postinst.contains("\"$BIN\" install --system --client all --path \"$BIN\""));
    // The manifest it writes for the package's binary.
    write_exe(&m.root.join("usr/bin/smime-companion"));
    m.ok(&["install", "--system", "--client", "all", "--path", "/usr/bin/smime-companion", "--root", m.root_str()]);
    let manifest = read_json(&m.root.join("usr/lib/mozilla/native-messaging-hosts/smime_companion.json"));
    assert_eq!(manifest["path"], "/usr/bin/smime-companion");
    assert_eq!(manifest["allowed_extensions"], json!([addon_id()]));
    assert_eq!(m.cmd(&["generate", "beos", "--out", "x"]).status.code(), Some(2));
}
