//! The minimum Rust version the workspace declares (`rust-version` in Cargo.toml, inherited by
//! the PKCS#11 module) is never below what a locked dependency declares for itself. `cargo
//! metadata` reads both from Cargo.lock and the dependencies' own manifests, offline; every
//! locked package counts (all platforms, build and dev dependencies too), since each must build
//! with the declared toolchain somewhere.

use serde_json::Value;
use std::process::Command;

/// `1.89`, `1.89.0` or `1.89.0-beta` as (1, 89, 0).
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split(['.', '-']).map(|p| p.parse::<u64>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// `cargo metadata` for the workspace: offline first (a build has fetched what this platform
/// needs), else with the network for the other platforms' packages.
fn metadata() -> Value {
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO"))
            .args(["metadata", "--locked", "--format-version", "1"])
            .args(extra)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs")
    };
    let mut out = run(&["--offline"]);
    if !out.status.success() {
        out = run(&[]);
    }
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_declared_rust_version_is_at_least_every_locked_dependencys() {
    let meta = metadata();
    let members: Vec<&str> = meta["workspace_members"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let packages = meta["packages"].as_array().unwrap();
    let (ours, theirs): (Vec<&Value>, Vec<&Value>) = packages.iter().partition(|p| members.contains(&p["id"].as_str().unwrap()));
    assert_eq!(ours.len(), 2, "the host and the PKCS#11 module");
    let declared: Vec<&str> = ours.iter().map(|p| p["rust_version"].as_str().expect("every member declares rust-version")).collect();
    assert!(declared.iter().all(|d| *d == declared[0]), "the members declare different versions: {declared:?}");
    let declared = declared[0];
    assert!(theirs.len() > 50, "the locked dependencies were read ({})", theirs.len());
    let newer: Vec<String> = theirs
        .iter()
        .filter_map(|p| Some((p["name"].as_str()?, p["version"].as_str()?, p["rust_version"].as_str()?)))
        .filter(|(_, _, needs)| version(needs) > version(declared))
        .map(|(name, v, needs)| format!("{name} {v} needs Rust {needs}"))
        .collect();
    assert!(newer.is_empty(), "rust-version = {declared:?} in Cargo.toml is too old:\n{}", newer.join("\n"));
}

#[test]
fn versions_compare_by_their_numbers() {
    assert!(version("1.89") > version("1.80.1"));
    assert_eq!(version("1.89"), version("1.89.0"));
    assert!(version("1.100.0") > version("1.89.0"));
    assert_eq!(version("1.89.0-beta"), (1, 89, 0));
}
