//! Where the packages put things on each OS, and the package sources made from that: the Debian
//! maintainer scripts, the WiX source of the Windows MSI with its manifests and policy files, and
//! the macOS pkg scripts and configuration-profile payload. The Debian and macOS packages ship no
//! host manifest: their setup scripts write it with `install --system`, which records it in the
//! receipt, so removal deletes exactly what setup wrote and never a file the package manager owns.
//!
//! Everything here comes from one source of truth: the templates in `manifests/`, the names in
//! [`crate::product`] (host name, binary name, add-on ID from `extension/manifest.json`) and the
//! path rules of [`super::Layout`]. `smime-companion generate debian|windows|macos --out DIR`
//! writes these files; `installer/linux/build-deb.sh` uses the Debian ones at build time (the
//! maintainer scripts, and `package-layout.sh` for where the package's files go), and the
//! Windows and macOS ones are kept in `installer/windows/` and `installer/macos/`, where a test
//! checks they are exactly what this code generates.

use super::policy::{document, file_url};
use super::registry::{self, Hive, View};
use super::{pretty_json, render, Client, Kind, Layout, Os, Scope, Style};
use crate::caller::AllowList;
use crate::config::Config;
use crate::error::Result;
use crate::product::{ADDON_ID, BINARY_NAME, PRODUCT_NAME, XPI_FILE_NAME};
use std::path::PathBuf;

/// The MSI's upgrade code: fixed for the life of the product, so new versions replace old ones.
pub const MSI_UPGRADE_CODE: &str = "AEF84965-E874-4FAE-89CF-01D19F903AFC";
/// The macOS package identifier (`pkgutil --pkgs`).
pub const MACOS_PKG_ID: &str = "org.smime-companion.pkg";
/// The preference domain Thunderbird reads policies from on macOS.
pub const MACOS_POLICY_DOMAIN: &str = "org.mozilla.thunderbird";

/// Where a system package installs the product on one OS.
#[derive(Debug, Clone)]
pub struct PackageLayout {
    /// The host binary.
    pub binary: String,
    /// The add-on, which the enterprise policy installs from here.
    pub xpi: String,
    /// Where the PKCS#11 module library goes when it is shipped (beside the binary, or on Linux
    /// in the library folder `install` also looks in).
    pub pkcs11_library: String,
    /// The Thunderbird `policies.json` the package merges its entry into.
    pub policy_file: String,
}

impl PackageLayout {
    pub fn for_os(os: Os) -> PackageLayout {
        match os {
            Os::Linux => PackageLayout {
                binary: format!("/usr/bin/{BINARY_NAME}"),
                xpi: format!("/usr/share/{BINARY_NAME}/{XPI_FILE_NAME}"),
                pkcs11_library: format!("/usr/lib/{BINARY_NAME}/{}", os.pkcs11_library()),
                policy_file: "/etc/thunderbird/policies/policies.json".into(),
            },
            Os::MacOs => {
                let dir = format!("/Library/Application Support/{BINARY_NAME}");
                PackageLayout {
                    binary: format!("{dir}/{BINARY_NAME}"),
                    xpi: format!("{dir}/{XPI_FILE_NAME}"),
                    pkcs11_library: format!("{dir}/{}", os.pkcs11_library()),
                    policy_file: "/Applications/Thunderbird.app/Contents/Resources/distribution/policies.json".into(),
                }
            }
            Os::Windows => {
                let dir = format!(r"C:\Program Files\{BINARY_NAME}");
                PackageLayout {
                    binary: format!(r"{dir}\{BINARY_NAME}.exe"),
                    xpi: format!(r"{dir}\{XPI_FILE_NAME}"),
                    pkcs11_library: format!(r"{dir}\{}", os.pkcs11_library()),
                    policy_file: r"C:\Program Files\Mozilla Thunderbird\distribution\policies.json".into(),
                }
            }
        }
    }

    /// The `install_url` of the policy entry.
    pub fn install_url(&self) -> String {
        file_url(&self.xpi)
    }
}

/// One generated file: its path below the output folder (with `/`), contents and Unix mode.
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: String,
    pub contents: String,
    pub mode: u32,
}

fn file(path: &str, contents: String) -> Generated {
    Generated { path: path.into(), contents, mode: 0o644 }
}

fn script(path: &str, contents: String) -> Generated {
    Generated { path: path.into(), contents, mode: 0o755 }
}

/// The package targets `generate` knows.
pub const TARGETS: &[&str] = &["debian", "windows", "macos"];

/// The files of one package target.
pub fn generate(target: &str) -> Option<Result<Vec<Generated>>> {
    Some(match target {
        "debian" => debian(),
        "windows" => windows(),
        "macos" => macos(),
        _ => return None,
    })
}

/// Only the bundled add-on: packages are built before any site configuration exists. Sites that
/// allow more add-ons run `install --system` after configuring them (the Debian package does so
/// in its postinst).
fn bundled_allow_list() -> AllowList {
    AllowList::from_config(&Config::default())
}

const GENERATED_SH: &str = "# Generated by `smime-companion generate @TARGET@` from manifests/ and src/install/package.rs;\n# do not edit: change the generator and regenerate.\n";

fn fill(template: &str, layout: &PackageLayout, target: &str) -> String {
    template
        .replace("@GENERATED@", &GENERATED_SH.replace("@TARGET@", target))
        .replace("@BIN@", &layout.binary)
        .replace("@XPI@", &layout.xpi)
        .replace("@POLICY@", &layout.policy_file)
        .replace("@PKCS11_PATH@", &layout.pkcs11_library)
        .replace("@ADDON_ID@", ADDON_ID)
        .replace("@PRODUCT@", PRODUCT_NAME)
        .replace("@NAME@", BINARY_NAME)
        .replace("@PKG_ID@", MACOS_PKG_ID)
        .replace("@DOMAIN@", MACOS_POLICY_DOMAIN)
}

// --- Debian -----------------------------------------------------------------------------------

const DEBIAN_POSTINST: &str = r#"#!/bin/sh
@GENERATED@set -e
BIN="@BIN@"
XPI="@XPI@"
POLICY="@POLICY@"
case "$1" in
  configure)
    # Host manifests in every system folder Thunderbird and Firefox read (also /usr/lib64/mozilla
    # where that exists) and Chrome, Edge and Chromium read (Outlook on the web), with the
    # allow-lists of /etc/@NAME@/config.json; the PKCS#11 module's manifest when the module is
    # installed. Recorded in @RECEIPT@.
    "$BIN" install --system --client all --path "$BIN" --quiet
    # Thunderbird's enterprise policy force-installs the add-on, merged into an existing file.
    if ! "$BIN" policy merge --file "$POLICY" --xpi "$XPI" --quiet; then
      echo "@NAME@: $POLICY was left unchanged, so Thunderbird will not install the add-on by itself." >&2
      echo "@NAME@: fix that file, then run: $BIN policy merge --file $POLICY --xpi $XPI" >&2
    fi
    ;;
esac
exit 0
"#;

const DEBIAN_PRERM: &str = r#"#!/bin/sh
@GENERATED@set -e
BIN="@BIN@"
XPI="@XPI@"
POLICY="@POLICY@"
case "$1" in
  remove|deconfigure)
    # Exactly what postinst wrote (the receipt), then our entry in the policy file.
    "$BIN" uninstall --system --quiet || echo "@NAME@: could not remove all host manifests (see above)" >&2
    "$BIN" policy remove --file "$POLICY" --xpi "$XPI" --quiet || echo "@NAME@: our entry in $POLICY was left in place (see above)" >&2
    ;;
esac
exit 0
"#;

const DEBIAN_POSTRM: &str = r#"#!/bin/sh
@GENERATED@set -e
case "$1" in
  purge)
    rm -f "@RECEIPT@"
    rmdir "@RECEIPT_DIR@" 2>/dev/null || true
    ;;
esac
exit 0
"#;

/// Not part of the package: where it puts its files, for installer/linux/build-deb.sh.
pub const DEBIAN_LAYOUT_FILE: &str = "package-layout.sh";

const DEBIAN_LAYOUT: &str = r#"@GENERATED@# Where the Debian package puts its files (PackageLayout); sourced by installer/linux/build-deb.sh.
PKG_BIN="@BIN@"
PKG_XPI="@XPI@"
PKG_PKCS11_LIBRARY="@PKCS11_PATH@"
PKG_POLICY_FILE="@POLICY@"
"#;

fn debian() -> Result<Vec<Generated>> {
    let layout = PackageLayout::for_os(Os::Linux);
    // Where `install --system` keeps its receipt on the installed system.
    let receipt = Layout { home: PathBuf::new(), root: PathBuf::from("/"), os: Os::Linux }.system_receipt();
    let receipt_dir = receipt.parent().expect("the receipt is in a folder");
    let fill = |template: &str| {
        fill(template, &layout, "debian")
            .replace("@RECEIPT@", &receipt.display().to_string())
            .replace("@RECEIPT_DIR@", &receipt_dir.display().to_string())
    };
    Ok(vec![
        script("DEBIAN/postinst", fill(DEBIAN_POSTINST)),
        script("DEBIAN/prerm", fill(DEBIAN_PRERM)),
        script("DEBIAN/postrm", fill(DEBIAN_POSTRM)),
        file(DEBIAN_LAYOUT_FILE, fill(DEBIAN_LAYOUT)),
    ])
}

// --- Windows ----------------------------------------------------------------------------------

/// Names of the files the MSI installs into its folder.
pub const MSI_HOST_MANIFEST: &str = "smime_companion.json";
pub const MSI_PKCS11_MANIFEST: &str = "smime_companion_pkcs11.json";
/// The Chromium-style manifest (`allowed_origins`) that Chrome, Edge and Chromium read.
pub const MSI_CHROMIUM_MANIFEST: &str = "smime_companion_chromium.json";
/// The Chromium-family browsers the MSI registers the host for (Outlook on the web).
const MSI_CHROMIUM_CLIENTS: [(Client, &str); 3] = [(Client::Chrome, "Chrome"), (Client::Edge, "Edge"), (Client::Chromium, "Chromium")];

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The WiX component id suffix and `Bitness` of a registry view.
fn wxs_view(view: View) -> (&'static str, &'static str) {
    match view {
        View::Bits64 => ("64", "always64"),
        View::Bits32 => ("32", "always32"),
    }
}

fn wxs_registry_refs(client: Client, kind: Kind, id_prefix: &str) -> String {
    registry::keys(client, Scope::System, kind)
        .iter()
        .map(|key| format!("      <ComponentRef Id=\"{id_prefix}{}\" />\n", wxs_view(key.view).0))
        .collect()
}

fn wxs_registry_components(client: Client, kind: Kind, file_id: &str, id_prefix: &str) -> String {
    let mut out = String::new();
    for key in registry::keys(client, Scope::System, kind) {
        assert_eq!(key.hive, Hive::LocalMachine);
        let (suffix, bitness) = wxs_view(key.view);
        out.push_str(&format!(
            "        <Component Id=\"{id_prefix}{suffix}\" Bitness=\"{bitness}\">\n          \
             <RegistryValue Root=\"HKLM\" Key=\"{}\" Type=\"string\" Value=\"[#{file_id}]\" KeyPath=\"yes\" />\n        \
             </Component>\n",
            xml_escape(&key.path)
        ));
    }
    out
}

const WXS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<!--
  @GENERATED_XML@
  The per-machine MSI of @PRODUCT@ (WiX Toolset v4 or later; installer/windows/build-msi.ps1):
  the host, its native-messaging manifests registered for Thunderbird and Firefox and for Chrome,
  Edge and Chromium (Outlook on the web) in both HKLM registry views, the Thunderbird add-on, and
  Thunderbird's enterprise policy that force-installs it
  (merged into <Thunderbird>\distribution\policies.json by the host's own `policy merge`).
  Silent install: msiexec /i smime-companion.msi /qn    Silent removal: msiexec /x smime-companion.msi /qn
  THUNDERBIRDDIR=... on the command line names Thunderbird's folder when it is not found in the registry.
-->
<Wix xmlns="http://wixtoolset.org/schemas/v4/wxs">
  <Package Name="@PRODUCT_XML@" Manufacturer="@PRODUCT_XML@" Version="$(var.Version)"
           UpgradeCode="@UPGRADE_CODE@" Scope="perMachine" Language="1033">
    <MajorUpgrade DowngradeErrorMessage="A newer version of @PRODUCT_XML@ is already installed." />
    <MediaTemplate EmbedCab="yes" />

    <!-- Thunderbird's folder, from the App Paths key its installer writes (64-bit view wins). -->
    <Property Id="THUNDERBIRDDIR" Secure="yes">
      <RegistrySearch Id="ThunderbirdDir32" Root="HKLM" Key="SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\thunderbird.exe" Name="Path" Type="raw" Bitness="always32" />
      <RegistrySearch Id="ThunderbirdDir64" Root="HKLM" Key="SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\thunderbird.exe" Name="Path" Type="raw" Bitness="always64" />
    </Property>

    <StandardDirectory Id="ProgramFiles64Folder">
      <Directory Id="INSTALLDIR" Name="@NAME@">
        <Component Id="Host" Bitness="always64">
          <File Id="HostExe" Source="$(var.SourceDir)\@NAME@.exe" KeyPath="yes" />
        </Component>
        <Component Id="HostManifest" Bitness="always64">
          <File Id="HostManifest" Name="@HOST_MANIFEST@" Source="$(sys.SOURCEFILEDIR)@HOST_MANIFEST@" KeyPath="yes" />
        </Component>
        <Component Id="Addon" Bitness="always64">
          <File Id="AddonXpi" Name="@XPI_NAME@" Source="$(var.SourceDir)\@XPI_NAME@" KeyPath="yes" />
        </Component>
@HOST_REGISTRY@        <Component Id="ChromiumManifest" Bitness="always64">
          <File Id="ChromiumManifest" Name="@CHROMIUM_MANIFEST@" Source="$(sys.SOURCEFILEDIR)@CHROMIUM_MANIFEST@" KeyPath="yes" />
        </Component>
@CHROMIUM_REGISTRY@<?ifdef Pkcs11 ?>
        <Component Id="Pkcs11Module" Bitness="always64">
          <File Id="Pkcs11Dll" Source="$(var.SourceDir)\@PKCS11_DLL@" KeyPath="yes" />
        </Component>
        <Component Id="Pkcs11Manifest" Bitness="always64">
          <File Id="Pkcs11Manifest" Name="@PKCS11_MANIFEST@" Source="$(sys.SOURCEFILEDIR)@PKCS11_MANIFEST@" KeyPath="yes" />
        </Component>
@PKCS11_REGISTRY@<?endif ?>
      </Directory>
    </StandardDirectory>

    <Feature Id="Main" Title="@PRODUCT_XML@" Level="1">
      <ComponentRef Id="Host" />
      <ComponentRef Id="HostManifest" />
      <ComponentRef Id="Addon" />
@HOST_REFS@      <ComponentRef Id="ChromiumManifest" />
@CHROMIUM_REFS@<?ifdef Pkcs11 ?>
      <ComponentRef Id="Pkcs11Module" />
      <ComponentRef Id="Pkcs11Manifest" />
@PKCS11_REFS@<?endif ?>
    </Feature>

    <CustomAction Id="MergeThunderbirdPolicy" FileRef="HostExe" Execute="deferred" Impersonate="no" Return="ignore"
                  ExeCommand="policy merge --quiet --file &quot;[THUNDERBIRDDIR]\distribution\policies.json&quot; --xpi &quot;[#AddonXpi]&quot;" />
    <CustomAction Id="RemoveThunderbirdPolicy" FileRef="HostExe" Execute="deferred" Impersonate="no" Return="ignore"
                  ExeCommand="policy remove --quiet --file &quot;[THUNDERBIRDDIR]\distribution\policies.json&quot; --xpi &quot;[#AddonXpi]&quot;" />
    <InstallExecuteSequence>
      <Custom Action="MergeThunderbirdPolicy" After="InstallFiles" Condition="THUNDERBIRDDIR AND NOT REMOVE" />
      <Custom Action="RemoveThunderbirdPolicy" Before="RemoveFiles" Condition="THUNDERBIRDDIR AND REMOVE=&quot;ALL&quot; AND NOT UPGRADINGPRODUCTCODE" />
    </InstallExecuteSequence>
  </Package>
</Wix>
"#;

const BUILD_MSI: &str = r#"# Generated by `smime-companion generate windows` from src/install/package.rs; do not edit.
# Builds dist\@NAME@-<version>.msi on Windows with the WiX Toolset (v4 or later:
# `dotnet tool install --global wix`) and Rust. The add-on must be packed first, on any machine
# with bash and Python: installer/package-xpi.sh dist/@XPI_NAME@
# Usage: powershell -File installer\windows\build-msi.ps1 [-OutDir dist] [-Xpi dist\@XPI_NAME@]
param([string]$OutDir = "dist", [string]$Xpi = "dist\@XPI_NAME@")
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
if (-not (Test-Path $Xpi)) { throw "$Xpi is missing: run installer/package-xpi.sh first" }
cargo build --release --locked
if ($LASTEXITCODE -ne 0) { throw "cargo build failed" }
$version = ((& "target\release\@NAME@.exe" --version) -split " ")[1] -replace "-.*", ""
$stage = Join-Path ([System.IO.Path]::GetTempPath()) ("@NAME@-msi-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $stage | Out-Null
Copy-Item "target\release\@NAME@.exe" $stage
Copy-Item $Xpi (Join-Path $stage "@XPI_NAME@")
$defines = @("-d", "Version=$version", "-d", "SourceDir=$stage")
if (Test-Path "target\release\@PKCS11_DLL@") {
  Copy-Item "target\release\@PKCS11_DLL@" $stage
  $defines += @("-d", "Pkcs11=yes")
}
New-Item -ItemType Directory -Force -Path $OutDir | Out-Null
$msi = Join-Path $OutDir "@NAME@-$version.msi"
wix build installer\windows\smime-companion.wxs -arch x64 @defines -o $msi
if ($LASTEXITCODE -ne 0) { throw "wix build failed" }
Remove-Item -Recurse -Force $stage
Write-Output $msi
"#;

fn windows() -> Result<Vec<Generated>> {
    let layout = PackageLayout::for_os(Os::Windows);
    let allow = bundled_allow_list();
    // Relative paths: Thunderbird resolves them against the manifest's folder on Windows, so the
    // MSI works in whatever folder it is installed to.
    let host_manifest = render(Kind::Host, Style::Mozilla, &format!("{BINARY_NAME}.exe"), &allow)?;
    let pkcs11_manifest = render(Kind::Pkcs11, Style::Mozilla, Os::Windows.pkcs11_library(), &allow)?;
    let chromium_manifest = render(Kind::Host, Style::Chromium, &format!("{BINARY_NAME}.exe"), &allow)?;
    let chromium_registry: String = MSI_CHROMIUM_CLIENTS
        .iter()
        .map(|(client, name)| wxs_registry_components(*client, Kind::Host, "ChromiumManifest", &format!("{name}Registry")))
        .collect();
    let chromium_refs: String =
        MSI_CHROMIUM_CLIENTS.iter().map(|(client, name)| wxs_registry_refs(*client, Kind::Host, &format!("{name}Registry"))).collect();
    let wxs = WXS
        .replace("@GENERATED_XML@", "Generated by `smime-companion generate windows` from manifests/ and src/install/package.rs; do not edit.")
        .replace("@PRODUCT_XML@", &xml_escape(PRODUCT_NAME))
        .replace("@PRODUCT@", &xml_escape(PRODUCT_NAME))
        .replace("@UPGRADE_CODE@", MSI_UPGRADE_CODE)
        .replace("@NAME@", BINARY_NAME)
        .replace("@HOST_MANIFEST@", MSI_HOST_MANIFEST)
        .replace("@PKCS11_MANIFEST@", MSI_PKCS11_MANIFEST)
        .replace("@XPI_NAME@", XPI_FILE_NAME)
        .replace("@PKCS11_DLL@", Os::Windows.pkcs11_library())
        .replace("@CHROMIUM_MANIFEST@", MSI_CHROMIUM_MANIFEST)
        .replace("@HOST_REGISTRY@", &wxs_registry_components(Client::Thunderbird, Kind::Host, "HostManifest", "HostRegistry"))
        .replace("@CHROMIUM_REGISTRY@", &chromium_registry)
        .replace("@PKCS11_REGISTRY@", &wxs_registry_components(Client::Thunderbird, Kind::Pkcs11, "Pkcs11Manifest", "Pkcs11Registry"))
        .replace("@HOST_REFS@", &wxs_registry_refs(Client::Thunderbird, Kind::Host, "HostRegistry"))
        .replace("@CHROMIUM_REFS@", &chromium_refs)
        .replace("@PKCS11_REFS@", &wxs_registry_refs(Client::Thunderbird, Kind::Pkcs11, "Pkcs11Registry"));
    let build = BUILD_MSI
        .replace("@NAME@", BINARY_NAME)
        .replace("@XPI_NAME@", XPI_FILE_NAME)
        .replace("@PKCS11_DLL@", Os::Windows.pkcs11_library());
    let url = layout.install_url();
    let policies = pretty_json(&document(ADDON_ID, &url));
    let gpo = pretty_json(&document(ADDON_ID, &url)["policies"]["ExtensionSettings"]);
    Ok(vec![
        file("smime-companion.wxs", wxs),
        file("build-msi.ps1", build),
        file(MSI_HOST_MANIFEST, host_manifest),
        file(MSI_PKCS11_MANIFEST, pkcs11_manifest),
        file(MSI_CHROMIUM_MANIFEST, chromium_manifest),
        file("policies.json", policies),
        file("ExtensionSettings.json", gpo),
    ])
}

// --- macOS ------------------------------------------------------------------------------------

const MACOS_POSTINSTALL: &str = r#"#!/bin/sh
@GENERATED@# Runs as root after the pkg put the host and the add-on into their folder.
set -e
BIN="@BIN@"
XPI="@XPI@"
chmod 0755 "$BIN"
# Host manifest in /Library/Application Support/Mozilla/NativeMessagingHosts (Thunderbird and
# Firefox), the PKCS#11 module's manifest when the module is there, and the Chromium-style
# manifests for Chrome, Edge and Chromium (Outlook on the web), with the origins
# /Library/Application Support/@NAME@/config.json adds. Recorded in a receipt.
"$BIN" install --system --client all --path "$BIN" --quiet
# Thunderbird's policy: merged into the app's distribution/policies.json. A configuration profile
# for the @DOMAIN@ domain (org.mozilla.thunderbird.plist) does the same and survives
# Thunderbird updates, which replace the app.
if [ -d "/Applications/Thunderbird.app/Contents/Resources" ]; then
  "$BIN" policy merge --file "@POLICY@" --xpi "$XPI" --quiet \
    || echo "@NAME@: @POLICY@ was left unchanged; deploy the policy with a configuration profile instead" >&2
fi
exit 0
"#;

const MACOS_UNINSTALL: &str = r#"#!/bin/sh
@GENERATED@# Removes @PRODUCT@ installed by the pkg. Run as root: sudo "@BIN@-uninstall.sh"
# (the pkg installs this script beside the host). The system configuration
# (/Library/Application Support/@NAME@/config.json) is kept.
set -e
BIN="@BIN@"
XPI="@XPI@"
if [ -x "$BIN" ]; then
  "$BIN" uninstall --system --quiet || echo "@NAME@: could not remove all host manifests" >&2
  if [ -f "@POLICY@" ]; then
    "$BIN" policy remove --file "@POLICY@" --xpi "$XPI" --quiet || echo "@NAME@: our entry in @POLICY@ was left in place" >&2
  fi
fi
DIR=$(dirname "$BIN")
rm -f "$BIN" "$XPI" "$DIR/@PKCS11_LIB@" "$0"
rmdir "$DIR" 2>/dev/null || true
pkgutil --forget "@PKG_ID@" >/dev/null 2>&1 || true
exit 0
"#;

const BUILD_PKG: &str = r#"#!/bin/sh
@GENERATED@# Builds dist/@NAME@-<version>.pkg on a Mac (Xcode command line tools and Rust needed):
# the host, the add-on and the uninstall script in @DIR@, and
# scripts/postinstall, which registers the host and merges Thunderbird's policy.
# Silent install: sudo installer -pkg @NAME@-<version>.pkg -target /
# Sign it for distribution: productsign --sign "Developer ID Installer: ..." in.pkg out.pkg
# Usage: installer/macos/build-pkg.sh [OUT_DIR]
set -eu
cd "$(dirname "$0")/../.."
out=${1:-dist}
mkdir -p "$out"
cargo build --release --locked
version=$(target/release/@NAME@ --version | awk '{print $2}')
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir="$stage/payload@DIR@"
mkdir -p "$dir"
install -m 0755 target/release/@NAME@ "$dir/@NAME@"
installer/package-xpi.sh "$dir/@XPI_NAME@" >/dev/null
chmod 0644 "$dir/@XPI_NAME@"
install -m 0755 installer/macos/uninstall.sh "$dir/@NAME@-uninstall.sh"
if [ -f "target/release/@PKCS11_LIB@" ]; then
  install -m 0755 "target/release/@PKCS11_LIB@" "$dir/@PKCS11_LIB@"
fi
pkgbuild --root "$stage/payload" --scripts installer/macos/scripts --identifier "@PKG_ID@" \
  --version "$version" --install-location / "$out/@NAME@-$version.pkg"
echo "$out/@NAME@-$version.pkg"
"#;

fn macos() -> Result<Vec<Generated>> {
    let layout = PackageLayout::for_os(Os::MacOs);
    let uninstall = fill(MACOS_UNINSTALL, &layout, "macos").replace("@PKCS11_LIB@", Os::MacOs.pkcs11_library());
    let plist = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <!-- Generated by `smime-companion generate macos`; the payload of a configuration profile for\n     \
         the {domain} preference domain: Thunderbird force-installs the add-on. -->\n\
         <plist version=\"1.0\">\n<dict>\n\
         \t<key>EnterprisePoliciesEnabled</key>\n\t<true/>\n\
         \t<key>ExtensionSettings</key>\n\t<dict>\n\
         \t\t<key>{id}</key>\n\t\t<dict>\n\
         \t\t\t<key>installation_mode</key>\n\t\t\t<string>force_installed</string>\n\
         \t\t\t<key>install_url</key>\n\t\t\t<string>{url}</string>\n\
         \t\t</dict>\n\t</dict>\n</dict>\n</plist>\n",
        domain = MACOS_POLICY_DOMAIN,
        id = xml_escape(ADDON_ID),
        url = xml_escape(&layout.install_url()),
    );
    Ok(vec![
        script("scripts/postinstall", fill(MACOS_POSTINSTALL, &layout, "macos")),
        script("uninstall.sh", uninstall),
        script(
            "build-pkg.sh",
            fill(BUILD_PKG, &layout, "macos")
                .replace("@DIR@", layout.binary.rsplit_once('/').map_or("", |(dir, _)| dir))
                .replace("@XPI_NAME@", XPI_FILE_NAME)
                .replace("@PKCS11_LIB@", Os::MacOs.pkcs11_library()),
        ),
        file("org.mozilla.thunderbird.plist", plist),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_generates() {
        for t in TARGETS {
            let files = generate(t).unwrap().unwrap();
            assert!(!files.is_empty());
            for f in files {
                let parts: Vec<&str> = f.contents.split('@').collect();
                let inner = &parts[1..parts.len().saturating_sub(1).max(1)];
                let left = inner.iter().find(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'));
                assert!(left.is_none(), "{t}/{}: placeholder @{}@ left", f.path, left.unwrap_or(&""));
            }
        }
        assert!(generate("beos").is_none());
    }

    #[test]
    fn package_paths_are_safe_in_double_quoted_shell_strings() {
        for os in [Os::Linux, Os::MacOs, Os::Windows] {
            let l = PackageLayout::for_os(os);
            for p in [&l.binary, &l.xpi, &l.policy_file, &l.pkcs11_library] {
                assert!(!p.contains(['"', '$', '`', '\\']) || os == Os::Windows, "{p}");
            }
        }
    }
}
