//! The Windows and macOS package sources in installer/ are generated from the same single source
//! of truth as the Linux files (manifests/, src/product.rs, extension/manifest.json, the path rules
//! in src/install/): the committed files must be exactly what `smime-companion generate` writes,
//! and what each package installs must pass `doctor` under that OS's rules (same host name, same
//! add-on ID, same path rules). Run with `UPDATE_INSTALLER=1` to regenerate after changing them.

mod common;

use serde_json::Value;
use smime_companion::caller::AllowList;
use smime_companion::config::Config;
use smime_companion::error::Result;
use smime_companion::install::doctor::{self, Inputs, Status};
use smime_companion::install::package::{self, PackageLayout, MSI_HOST_MANIFEST};
use smime_companion::install::policy::{self, file_url};
use smime_companion::install::registry::{self, RegKey, RegistryRead};
use smime_companion::install::{self as inst, Client, Kind, Layout, Os, Pkcs11, Request, Scope};
use smime_companion::product::{ADDON_ID, BINARY_NAME, HOST_NAME, XPI_FILE_NAME};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_installer_sources_are_generated() {
    let update = std::env::var_os("UPDATE_INSTALLER").is_some();
    for (target, dir) in [("windows", "installer/windows"), ("macos", "installer/macos")] {
        for f in package::generate(target).unwrap().unwrap() {
            let path = repo().join(dir).join(&f.path);
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if committed == f.contents {
                continue;
            }
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                inst::write_atomically_mode(&path, f.contents.as_bytes(), f.mode).unwrap();
                continue;
            }
            panic!("{} is not what `smime-companion generate {target}` writes; run `UPDATE_INSTALLER=1 cargo test --test installer_sources`", path.display());
        }
    }
}

#[test]
fn the_addon_id_is_the_one_in_the_extension_manifest() {
    assert_eq!(ADDON_ID, common::addon_id());
}

fn generated(target: &str, name: &str) -> String {
    package::generate(target).unwrap().unwrap().into_iter().find(|f| f.path == name).unwrap_or_else(|| panic!("{target}/{name}")).contents
}

fn assert_healthy(report: &doctor::Report) {
    assert!(report.healthy(), "{}", report.to_text());
    for id in ["manifest_present", "manifest_name", "manifest_type", "manifest_path", "manifest_allowed", "policy"] {
        assert!(report.findings.iter().any(|f| f.id == id && f.status == Status::Ok), "{id} not ok:\n{}", report.to_text());
    }
}

struct Registry(HashMap<String, String>);

impl RegistryRead for Registry {
    fn read_default(&self, key: &RegKey) -> Result<Option<String>> {
        Ok(self.0.get(&key.display()).cloned())
    }
}

/// Attribute values of every `<Element ... attr="...">` in a WiX source.
fn attrs(xml: &str, element: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in xml.split(&format!("<{element} ")).skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap()];
        if let Some(start) = tag.find(&format!(" {attr}=\"")).map(|i| i + attr.len() + 3).or_else(|| tag.starts_with(&format!("{attr}=\"")).then_some(attr.len() + 2)) {
            out.push(tag[start..start + tag[start..].find('"').unwrap()].to_string());
        }
    }
    out
}

#[test]
fn the_msi_installs_what_thunderbird_on_windows_accepts() {
    let wxs = generated("windows", "smime-companion.wxs");
    let layout_w = PackageLayout::for_os(Os::Windows);
    // The MSI's folder and file names are the package layout's.
    assert!(layout_w.binary.ends_with(&format!(r"\{BINARY_NAME}\{BINARY_NAME}.exe")));
    assert_eq!(attrs(&wxs, "Directory", "Name"), [BINARY_NAME]);
    assert!(attrs(&wxs, "File", "Source").contains(&format!(r"$(var.SourceDir)\{BINARY_NAME}.exe")));
    assert!(attrs(&wxs, "File", "Name").contains(&XPI_FILE_NAME.to_string()));
    // Registry: the keys install --system writes, in both HKLM views, naming the manifest.
    let keys = registry::keys(Client::Thunderbird, Scope::System, Kind::Host);
    let host_keys: Vec<String> = attrs(&wxs, "RegistryValue", "Key").into_iter().filter(|k| k.contains("Mozilla\\NativeMessagingHosts")).collect();
    assert_eq!(host_keys, keys.iter().map(|k| k.path.clone()).collect::<Vec<_>>());
    // Chrome, Edge and Chromium (Outlook on the web): their keys, in both views, name the
    // Chromium-style manifest.
    let chromium_keys: Vec<registry::RegKey> =
        [Client::Chrome, Client::Edge, Client::Chromium].iter().flat_map(|c| registry::keys(*c, Scope::System, Kind::Host)).collect();
    let written: Vec<String> = attrs(&wxs, "RegistryValue", "Key").into_iter().filter(|k| !k.contains("Mozilla")).collect();
    assert_eq!(written, chromium_keys.iter().map(|k| k.path.clone()).collect::<Vec<_>>());
    assert!(attrs(&wxs, "RegistryValue", "Value").iter().any(|v| v == "[#ChromiumManifest]"));
    let chromium: Value = serde_json::from_str(&generated("windows", package::MSI_CHROMIUM_MANIFEST)).unwrap();
    assert_eq!(chromium["allowed_origins"], serde_json::json!([common::outlook_origin()]));
    assert_eq!(chromium["path"], format!("{BINARY_NAME}.exe"));
    assert!(attrs(&wxs, "RegistryValue", "Root").iter().all(|r| r == "HKLM"));
    assert!(wxs.contains("Bitness=\"always32\"") && wxs.contains("Bitness=\"always64\""));
    assert!(attrs(&wxs, "RegistryValue", "Value").iter().any(|v| v == "[#HostManifest]"));

    // Staged as the MSI installs it, with the registry values it writes, doctor is happy.
    let dir = common::temp_home();
    let root = dir.path().join("c");
    let program = root.join("Program Files").join(BINARY_NAME);
    std::fs::create_dir_all(&program).unwrap();
    std::fs::write(program.join(format!("{BINARY_NAME}.exe")), b"MZ").unwrap();
    std::fs::write(program.join(XPI_FILE_NAME), b"PK").unwrap();
    std::fs::write(program.join(MSI_HOST_MANIFEST), generated("windows", MSI_HOST_MANIFEST)).unwrap();
    std::fs::write(program.join(package::MSI_CHROMIUM_MANIFEST), generated("windows", package::MSI_CHROMIUM_MANIFEST)).unwrap();
    let manifest_path = format!(r"C:\Program Files\{BINARY_NAME}\{MSI_HOST_MANIFEST}");
    let chromium_path = format!(r"C:\Program Files\{BINARY_NAME}\{}", package::MSI_CHROMIUM_MANIFEST);
    let mut values: HashMap<String, String> = keys.iter().map(|k| (k.display(), manifest_path.clone())).collect();
    values.extend(chromium_keys.iter().map(|k| (k.display(), chromium_path.clone())));
    let reg = Registry(values);
    let layout = Layout { home: dir.path().join("home"), root: root.clone(), os: Os::Windows };
    // The custom action's `policy merge`, into Thunderbird's distribution folder.
    let policy_file = layout.target_str(&layout_w.policy_file);
    policy::merge(&policy_file, ADDON_ID, &layout_w.install_url()).unwrap();
    let report = doctor::run(&Inputs { layout: layout.clone(), scope: Some(Scope::System), registry: &reg, config_files: vec![], clients: None });
    assert_healthy(&report);
    // The policy files for GPO and hand deployment say the same.
    let policies: Value = serde_json::from_str(&generated("windows", "policies.json")).unwrap();
    assert_eq!(policies, serde_json::from_str::<Value>(&std::fs::read_to_string(&policy_file).unwrap()).unwrap());
    let gpo: Value = serde_json::from_str(&generated("windows", "ExtensionSettings.json")).unwrap();
    assert_eq!(gpo[ADDON_ID]["install_url"], file_url(&layout_w.xpi));
    assert_eq!(gpo[ADDON_ID]["installation_mode"], "force_installed");
}

#[test]
fn the_macos_pkg_installs_what_thunderbird_on_macos_accepts() {
    let mac = PackageLayout::for_os(Os::MacOs);
    let postinstall = generated("macos", "scripts/postinstall");
    assert!(postinstall.contains(&format!("BIN=\"{}\"", mac.binary)));
    assert!(postinstall.contains("install --system"));
    assert!(postinstall.contains(&mac.policy_file));
    let build = generated("macos", "build-pkg.sh");
    assert!(build.contains(&format!("dir=\"$stage/payload{}\"", Path::new(&mac.binary).parent().unwrap().display())));
    let plist = generated("macos", "org.mozilla.thunderbird.plist");
    assert!(plist.contains(&format!("<key>{ADDON_ID}</key>")));
    assert!(plist.contains(&format!("<string>{}</string>", file_url(&mac.xpi))));

    // What postinstall does, below a temporary root with macOS rules: doctor is happy.
    let dir = common::temp_home();
    let layout = Layout { home: dir.path().join("home"), root: dir.path().join("root"), os: Os::MacOs };
    let bin = layout.target_str(&mac.binary);
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(&bin, b"\xcf\xfa\xed\xfe").unwrap();
    set_exec(&bin);
    std::fs::write(layout.target_str(&mac.xpi), b"PK").unwrap();
    let allow = AllowList::from_config(&Config::default());
    let req = Request { scope: Scope::System, clients: &Client::ALL, host_path: Path::new(&mac.binary), pkcs11: Pkcs11::Auto, addon: None, allow: &allow };
    inst::install(&layout, &req, &layout.system_receipt()).unwrap();
    let written = layout.sys("/Library/Application Support/Mozilla/NativeMessagingHosts").join(format!("{HOST_NAME}.json"));
    assert!(written.is_file());
    std::fs::create_dir_all(layout.sys("/Applications/Thunderbird.app/Contents/Resources")).unwrap();
    policy::merge(&layout.target_str(&mac.policy_file), ADDON_ID, &mac.install_url()).unwrap();
    let report = doctor::run(&Inputs { layout, scope: Some(Scope::System), registry: &Registry(HashMap::new()), config_files: vec![], clients: None });
    assert_healthy(&report);
}

/// The Debian package as dpkg unpacks it (the binary and the add-on) below a temporary root.
fn staged_debian() -> (tempfile::TempDir, Layout) {
    let deb = PackageLayout::for_os(Os::Linux);
    let dir = common::temp_home();
    let layout = Layout { home: dir.path().join("home"), root: dir.path().join("root"), os: Os::Linux };
    let bin = layout.target_str(&deb.binary);
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::write(&bin, b"\x7fELF").unwrap();
    set_exec(&bin);
    let xpi = layout.target_str(&deb.xpi);
    std::fs::create_dir_all(xpi.parent().unwrap()).unwrap();
    std::fs::write(&xpi, b"PK").unwrap();
    (dir, layout)
}

/// What the Debian postinst's `install --system --client all --path BIN` does.
fn debian_postinst_install(layout: &Layout) -> inst::Report {
    let deb = PackageLayout::for_os(Os::Linux);
    let allow = AllowList::from_config(&Config::default());
    let req = Request { scope: Scope::System, clients: &Client::ALL, host_path: Path::new(&deb.binary), pkcs11: Pkcs11::Auto, addon: None, allow: &allow };
    inst::install(layout, &req, &layout.system_receipt()).unwrap()
}

#[test]
fn the_debian_package_installs_what_thunderbird_on_linux_accepts() {
    let deb = PackageLayout::for_os(Os::Linux);
    let postinst = generated("debian", "DEBIAN/postinst");
    assert!(postinst.contains(&format!("BIN=\"{}\"", deb.binary)) && postinst.contains(&format!("POLICY=\"{}\"", deb.policy_file)));
    assert!(postinst.contains("\"$BIN\" install --system --client all --path \"$BIN\""));
    // postrm forgets the receipt where install --system keeps it.
    let receipt = Layout { home: PathBuf::new(), root: PathBuf::from("/"), os: Os::Linux }.system_receipt();
    let postrm = generated("debian", "DEBIAN/postrm");
    assert!(postrm.contains(&format!("rm -f \"{}\"", receipt.display())), "{postrm}");
    assert!(postrm.contains(&format!("rmdir \"{}\"", receipt.parent().unwrap().display())), "{postrm}");
    assert!(postinst.contains(&format!("Recorded in {}.", receipt.display())), "{postinst}");
    // The package itself ships no host manifest: postinst writes it and records it in the receipt,
    // so prerm's `uninstall --system` removes what postinst wrote, never a file dpkg owns.
    let files = package::generate("debian").unwrap().unwrap();
    assert!(files.iter().all(|f| !f.path.ends_with(".json")), "{:?}", files.iter().map(|f| &f.path).collect::<Vec<_>>());

    // What postinst does, below a temporary root with Linux rules: doctor is happy.
    let (_dir, layout) = staged_debian();
    let report = debian_postinst_install(&layout);
    let written = layout.sys("/usr/lib/mozilla/native-messaging-hosts").join(format!("{HOST_NAME}.json"));
    assert!(written.is_file());
    assert!(report.changed.iter().any(|e| e.path() == Some(written.as_path())));
    // ... and for Chrome, Edge and Chromium, allowing the Outlook-on-the-web extension.
    for dir in ["/etc/opt/chrome/native-messaging-hosts", "/etc/opt/edge/native-messaging-hosts", "/etc/chromium/native-messaging-hosts"] {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(layout.sys(dir).join(format!("{HOST_NAME}.json"))).unwrap()).unwrap();
        assert_eq!(v["allowed_origins"], serde_json::json!([common::outlook_origin()]), "{dir}");
    }
    policy::merge(&layout.target_str(&deb.policy_file), ADDON_ID, &deb.install_url()).unwrap();
    assert_eq!(deb.install_url(), "file:///usr/share/smime-companion/smime-companion.xpi");
    let report = doctor::run(&Inputs { layout: layout.clone(), scope: Some(Scope::System), registry: &Registry(HashMap::new()), config_files: vec![], clients: None });
    assert_healthy(&report);
    // And prerm's `uninstall --system` takes it away again, with the folders it made.
    inst::uninstall(&layout, Scope::System, None, &layout.system_receipt()).unwrap();
    assert!(!layout.sys("/usr/lib/mozilla").exists() && !layout.system_receipt().exists());
    assert!(layout.target_str(&deb.binary).is_file(), "the package's own files stay for dpkg to remove");
}

#[test]
fn the_debian_build_takes_the_package_paths_from_the_generator() {
    let deb = PackageLayout::for_os(Os::Linux);
    let dir = common::temp_home();
    let file = dir.path().join(package::DEBIAN_LAYOUT_FILE);
    std::fs::write(&file, generated("debian", package::DEBIAN_LAYOUT_FILE)).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"set -eu; . "$1"; printf '%s\n' "$PKG_BIN" "$PKG_XPI" "$PKG_PKCS11_LIBRARY" "$PKG_POLICY_FILE""#)
        .arg("sh")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sourced: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    assert_eq!(sourced, [deb.binary.clone(), deb.xpi.clone(), deb.pkcs11_library.clone(), deb.policy_file.clone()]);
    // build-deb.sh uses them instead of spelling the paths itself (its comments may name them).
    let script = std::fs::read_to_string(repo().join("installer/linux/build-deb.sh")).unwrap();
    let code: Vec<&str> = script.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    assert!(code.iter().any(|l| l.contains(package::DEBIAN_LAYOUT_FILE)));
    let policy_dir = Path::new(&deb.policy_file).parent().unwrap().to_str().unwrap();
    for path in [deb.binary.as_str(), deb.xpi.as_str(), deb.pkcs11_library.as_str(), policy_dir] {
        assert!(!code.iter().any(|l| l.contains(path)), "build-deb.sh spells {path} itself");
    }
}

#[test]
fn host_paths_follow_each_os_rule() {
    // Linux and macOS manifests name an absolute program; the MSI's is relative to its folder.
    let (_dir, layout) = staged_debian();
    debian_postinst_install(&layout);
    let deb: Value = serde_json::from_str(&std::fs::read_to_string(layout.sys("/usr/lib/mozilla/native-messaging-hosts").join(format!("{HOST_NAME}.json"))).unwrap()).unwrap();
    assert_eq!(deb["path"], PackageLayout::for_os(Os::Linux).binary);
    let msi: Value = serde_json::from_str(&generated("windows", MSI_HOST_MANIFEST)).unwrap();
    assert!(Path::new(deb["path"].as_str().unwrap()).is_absolute() && Os::Linux.requires_absolute_host_path());
    assert_eq!(msi["path"], format!("{BINARY_NAME}.exe"));
    assert!(!Os::Windows.requires_absolute_host_path());
    for m in [&deb, &msi] {
        assert_eq!(m["name"], HOST_NAME);
        assert_eq!(m["type"], "stdio");
        assert_eq!(m["allowed_extensions"], serde_json::json!([ADDON_ID]));
    }
    let pkcs11: Value = serde_json::from_str(&generated("windows", package::MSI_PKCS11_MANIFEST)).unwrap();
    assert_eq!((pkcs11["type"].as_str(), pkcs11["path"].as_str()), (Some("pkcs11"), Some(Os::Windows.pkcs11_library())));
}

fn set_exec(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}
