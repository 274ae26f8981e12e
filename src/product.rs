//! Names and numbers that several parts of the product must agree on, defined once.

/// Product name as shown to people.
pub const PRODUCT_NAME: &str = "S/MIME Companion";

/// Name of the executable and of the data folders.
pub const BINARY_NAME: &str = "smime-companion";

/// Version of this build (from Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Native-messaging host name, as registered in the host manifests (`^\w+(\.\w+)*$`).
pub const HOST_NAME: &str = "smime_companion";

/// The bundled add-on's ID, read at build time from `extension/manifest.json`.
pub const ADDON_ID: &str = env!("SMIME_COMPANION_ADDON_ID");

/// The Outlook-on-the-web extension's ID (Chromium, Chrome, Edge), derived at build time from the
/// public key in `extension/outlook-web/manifest.json` the way Chromium derives it.
pub const CHROMIUM_EXTENSION_ID: &str = env!("SMIME_COMPANION_CHROMIUM_ID");

/// The origin Chromium browsers pass to the host when that extension starts it.
pub fn chromium_origin() -> String {
    format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")
}

/// File name of the packaged add-on (`installer/package-xpi.sh`), as installers place it.
pub const XPI_FILE_NAME: &str = "smime-companion.xpi";

/// File names of the PKCS#11 module library, installed beside the host binary (Linux, macOS,
/// Windows). Installers register it only when the file is there.
pub const PKCS11_LIBRARY_LINUX: &str = "libsmime_companion_pkcs11.so";
pub const PKCS11_LIBRARY_MACOS: &str = "libsmime_companion_pkcs11.dylib";
pub const PKCS11_LIBRARY_WINDOWS: &str = "smime_companion_pkcs11.dll";

/// Version of the wire protocol described in `docs/PROTOCOL.md`. Bumped on incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    /// The build script computes the ID with its own SHA-256; OpenSSL must agree.
    #[test]
    fn chromium_extension_id_is_derived_from_the_manifest_key_as_chromium_does() {
        use base64::Engine;
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/extension/outlook-web/manifest.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        let der = base64::engine::general_purpose::STANDARD.decode(manifest["key"].as_str().unwrap()).unwrap();
        let digest = openssl::sha::sha256(&der);
        let id: String = digest[..16].iter().flat_map(|b| [b >> 4, b & 0xf]).map(|n| char::from(b'a' + n)).collect();
        assert_eq!(CHROMIUM_EXTENSION_ID, id);
        assert_eq!(CHROMIUM_EXTENSION_ID, "lhedfoapbnhfnodandjcbapohnbjbddg");
        assert!(crate::config::is_chromium_origin(&chromium_origin()));
    }
}
