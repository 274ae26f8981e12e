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

/// File name of the packaged add-on (`installer/package-xpi.sh`), as installers place it.
pub const XPI_FILE_NAME: &str = "smime-companion.xpi";

/// File names of the PKCS#11 module library, installed beside the host binary (Linux, macOS,
/// Windows). Installers register it only when the file is there.
pub const PKCS11_LIBRARY_LINUX: &str = "libsmime_companion_pkcs11.so";
pub const PKCS11_LIBRARY_MACOS: &str = "libsmime_companion_pkcs11.dylib";
pub const PKCS11_LIBRARY_WINDOWS: &str = "smime_companion_pkcs11.dll";

/// Version of the wire protocol described in `docs/PROTOCOL.md`. Bumped on incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;
