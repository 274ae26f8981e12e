//! S/MIME Companion: the native-messaging host and CLI behind the Thunderbird add-on.
//!
//! `main.rs` only picks the mode; everything else lives here so tests and benchmarks can call it.

pub mod asn1;
pub mod atomic;
pub mod b64;
pub mod bigbuf;
pub mod caller;
pub mod certs;
pub mod cli;
pub mod config;
pub mod contacts;
pub mod context;
pub mod directory;
pub mod error;
pub mod fetch;
pub mod ffi;
#[cfg(test)]
pub(crate) mod growth;
pub mod hex;
pub mod home;
pub mod identities;
pub mod inspect;
pub mod install;
pub mod logging;
pub mod mime;
pub mod native;
pub mod pkcs12;
pub mod ops;
pub mod outgoing;
pub mod product;
pub mod protocol;
pub mod smime;
pub mod store;
pub mod time;
pub mod untrusted;
