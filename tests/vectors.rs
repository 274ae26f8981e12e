//! Every S/MIME test vector (tests/vectors/, made with openssl, NSS cmsutil and gpgsm from the
//! test PKI in tests/pki/) inspected with the real CLI, each asserting its exact verdict from
//! expected.json. All mismatches are collected and reported together.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds (or reuses) the PKI and vectors under target/, shared by the tests of this file.
pub fn vectors_dir() -> (PathBuf, PathBuf) {
    let target = repo_path("target/test-data");
    let (pki, vectors) = (target.join("pki"), target.join("vectors"));
    let status = Command::new(repo_path("tests/vectors/make-vectors.sh")).arg(&pki).arg(&vectors).status().expect("make-vectors.sh runs");
    assert!(status.success(), "make-vectors.sh failed");
    (pki, vectors)
}

fn inspect_json(home: &Path, pki: &Path, vectors: &Path, entry: &Value) -> Value {
    let mut cmd = Command::new(BIN);
    cmd.arg("inspect").arg(vectors.join(entry["file"].as_str().unwrap())).arg("--json");
    cmd.env("SMIME_COMPANION_HOME", home).env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("none.json"));
    cmd.env("SMIME_COMPANION_SYSTEM_ANCHORS", home.join("no-anchors"));
    if let Some(at) = entry["at"].as_str() {
        cmd.arg("--at").arg(at);
    }
    for ca in entry["ca"].as_array().into_iter().flatten() {
        cmd.arg("--ca").arg(pki.join(ca.as_str().unwrap()));
    }
    for crl in entry["crl"].as_array().into_iter().flatten() {
        cmd.arg("--crl").arg(pki.join(crl.as_str().unwrap()));
    }
    let p12s: Vec<&str> = entry["p12"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for name in &p12s {
        cmd.arg("--p12").arg(pki.join(format!("users/{name}.p12")));
    }
    if !p12s.is_empty() {
        cmd.arg("--password-file").arg(pki.join("password.txt"));
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}: {}", entry["file"], String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: not JSON: {e}", entry["file"]))
}

/// Compares one verdict with its expectation; returns the differences.
fn differences(expect: &Value, got: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let sig = &got["signature"];
    let enc = &got["encryption"];
    fn check(diffs: &mut Vec<String>, what: &str, want: &Value, have: &Value) {
        if want != have {
            diffs.push(format!("{what}: expected {want}, got {have}"));
        }
    }
    if let Some(want) = expect.get("signature_state") {
        check(&mut diffs, "signature.state", want, &sig["state"]);
    }
    if let Some(want) = expect.get("encryption_state") {
        check(&mut diffs, "encryption.state", want, &enc["state"]);
    }
    if let Some(want) = expect.get("covered_part") {
        check(&mut diffs, "signature.covered_part", want, &sig["covered_part"]);
    }
    for key in ["failure", "authenticated", "content_cipher"] {
        if let Some(want) = expect.get(key) {
            check(&mut diffs, &format!("encryption.{key}"), want, &enc[key]);
        }
    }
    if let Some(want) = expect.get("reason").filter(|r| !r.is_null()) {
        let reasons: Vec<&Value> = sig["problems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["code"] == sig["state"])
            .map(|p| &p["reason"])
            .collect();
        if !reasons.contains(&want) {
            diffs.push(format!("reason: expected {want} among {reasons:?}"));
        }
    }
    let codes = |list: &Value| -> Vec<String> {
        list.as_array().into_iter().flatten().filter_map(|w| w["code"].as_str().map(str::to_string)).collect()
    };
    // Warnings are compared exactly (in any order): one nobody expected is as wrong as one
    // missing, since each is shown to the user.
    for (field, list) in [("warnings", &sig["warnings"]), ("encryption_warnings", &enc["warnings"])] {
        let Some(want) = expect.get(field) else { continue };
        let mut want: Vec<String> = want.as_array().into_iter().flatten().filter_map(|w| w.as_str().map(str::to_string)).collect();
        let mut have = codes(list);
        want.sort();
        have.sort();
        if want != have {
            diffs.push(format!("{field}: expected {want:?}, got {have:?}"));
        }
    }
    if let Some(want) = expect.get("signer_email") {
        let emails: Vec<&str> = sig["signer"]["emails"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        match want.as_str() {
            Some(w) if !emails.iter().any(|e| e.eq_ignore_ascii_case(w)) => {
                diffs.push(format!("signer email {w} not in {emails:?}"))
            }
            None if !emails.is_empty() => diffs.push(format!("expected no signer address, got {emails:?}")),
            _ => {}
        }
    }
    if let Some(want) = expect.get("signer_validation").and_then(Value::as_object) {
        for (k, v) in want {
            check(&mut diffs, &format!("signer.validation.{k}"), v, &sig["signer"]["validation"][k]);
        }
    }
    diffs
}

#[test]
fn every_vector_gets_its_exact_verdict() {
    let (pki, vectors) = vectors_dir();
    let expected: Vec<Value> = serde_json::from_slice(&std::fs::read(vectors.join("expected.json")).unwrap()).unwrap();
    assert!(expected.len() >= 80, "the vector set is complete");
    let mut failures = Vec::new();
    for entry in &expected {
        let home = temp_home();
        let got = inspect_json(home.path(), &pki, &vectors, entry);
        let diffs = differences(&entry["expect"], &got);
        if !diffs.is_empty() {
            failures.push(format!("{} ({}):\n    {}", entry["file"].as_str().unwrap(), entry["description"].as_str().unwrap_or(""), diffs.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} vectors differ:\n{}", failures.len(), expected.len(), failures.join("\n"));
}
