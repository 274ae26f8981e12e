//! Reads the add-on's ID from `extension/manifest.json`, the one place it is defined, so the host's
//! allow-list, the manifests and the installer can never disagree with the add-on itself.

use std::fs;

fn main() {
    let manifest_path = "extension/manifest.json";
    println!("cargo:rerun-if-changed={manifest_path}");
    let text = fs::read_to_string(manifest_path)
        .unwrap_or_else(|e| panic!("cannot read {manifest_path}: {e}"));
    let manifest: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{manifest_path} is not JSON: {e}"));
    let id = manifest
        .pointer("/browser_specific_settings/gecko/id")
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{manifest_path} lacks browser_specific_settings.gecko.id"));
    let version = manifest.get("version").and_then(|v| v.as_str()).unwrap_or("");
    println!("cargo:rustc-env=SMIME_COMPANION_ADDON_ID={id}");
    println!("cargo:rustc-env=SMIME_COMPANION_ADDON_VERSION={version}");
}
