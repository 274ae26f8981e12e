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

/// Version of the wire protocol described in `docs/PROTOCOL.md`. Bumped on incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;
