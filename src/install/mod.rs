//! Registering the host with browsers: where each client looks for native-messaging host
//! manifests (and PKCS#11 module manifests), per OS and scope; writing our manifests there, or
//! the Windows registry values that point at them; and removing exactly that again.
//!
//! The jobs, one module each:
//! - [`clients`]: the words (OS, scope, client, manifest kind, role of an installed file);
//! - [`layout`]: every folder and registry key per OS and scope, a pure function of a
//!   [`Layout`] (home folder, system root, OS), so the rules of every OS are tested on any OS
//!   and the package generators ([`package`]) use the same rules;
//! - [`manifest`]: the manifests, rendered from the templates in `manifests/` (compiled in);
//! - [`plan`]: what `install` would write, decided without touching anything;
//! - [`apply`]: writing a plan (files through [`crate::atomic`]), recording it in the
//!   [`receipt`], and `uninstall`.
//!
//! Only files named `smime_companion.json` whose `name` is ours are ever removed, and `install`
//! records what it wrote in a receipt so `uninstall` removes exactly that, so other products'
//! files in the same folders are safe. Only applying registry values is Windows code
//! ([`registry`]).

pub mod apply;
pub mod clients;
pub mod doctor;
pub mod layout;
pub mod manifest;
pub mod package;
pub mod plan;
pub mod policy;
pub mod profiles;
pub mod receipt;
pub mod registry;

pub use apply::{apply, install, uninstall, Report};
pub use clients::{Client, Kind, Os, Role, Scope, Style};
pub use layout::Layout;
pub use manifest::{is_ours, manifest_file_name, pretty_json, render};
pub use plan::{check_addon_scope, is_executable, plan_install, runnable, FileAction, Pkcs11, Plan, RegistryAction, Request};

/// The mode of every manifest and policy file we write: browsers running as any user must read
/// the machine-wide ones.
pub const PUBLIC_FILE_MODE: u32 = 0o644;

/// Writes a manifest-like file atomically, readable by everyone ([`PUBLIC_FILE_MODE`]).
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> crate::error::Result<()> {
    crate::atomic::write(path, bytes, PUBLIC_FILE_MODE)
}

/// [`write_atomically`] with a given Unix mode (ignored elsewhere).
pub fn write_atomically_mode(path: &std::path::Path, bytes: &[u8], mode: u32) -> crate::error::Result<()> {
    crate::atomic::write(path, bytes, mode)
}
