//! S/MIME Companion: the native-messaging host and CLI behind the Thunderbird add-on.
//!
//! `main.rs` only picks the mode; everything else lives here so tests and benchmarks can call it.

pub mod caller;
pub mod cli;
pub mod config;
pub mod context;
pub mod error;
pub mod home;
pub mod install;
pub mod logging;
pub mod native;
pub mod ops;
pub mod product;
pub mod protocol;
