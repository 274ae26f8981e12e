//! The host's layers, checked on its source: the two front ends (`src/cli/`, the command line;
//! `src/ops/`, the native-messaging op handlers) each call the domain modules and never each
//! other, and the domain modules call neither (README, "How the pieces fit"). Only `native.rs`
//! (which serves the op table), `main.rs` and `lib.rs` stand above both.

use std::path::{Path, PathBuf};

/// Whether Rust source `text`, of a module `depth` levels below the crate root, names the crate's
/// top-level module `module`: `crate::ops::X`, `crate::{ops, …}`, `smime_companion::ops`, or
/// `super::ops` climbing up to the root. Comments are ignored.
fn names_module(text: &str, module: &str, depth: usize) -> bool {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let climb = "super::".repeat(depth);
    ["crate::", "smime_companion::", climb.as_str()].iter().filter(|root| !root.is_empty()).any(|root| {
        code.match_indices(root).any(|(at, _)| {
            let rest = &code[at + root.len()..];
            let named = |list: &str| list.split(',').any(|item| item == module || item.starts_with(&format!("{module}::")));
            match rest.strip_prefix('{') {
                Some(group) => named(&group[..group.find('}').unwrap_or(group.len())]),
                None => rest.starts_with(&format!("{module}::")) || rest.starts_with(&format!("{module};")) || rest.starts_with(&format!("{module}}}")),
            }
        })
    })
}

/// How many modules deep a file under `src/` is: `cli/mod.rs` 1, `cli/contacts.rs` 2.
fn depth(rel: &str) -> usize {
    let parts = rel.split('/').count();
    if rel.ends_with("/mod.rs") || !rel.contains('/') { parts - 1 } else { parts }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The files under `src/` (relative, `/`-separated) that name `module`.
fn files_naming(module: &str, only: impl Fn(&str) -> bool) -> Vec<String> {
    rust_files(&src())
        .into_iter()
        .map(|p| (p.strip_prefix(src()).unwrap().to_string_lossy().replace('\\', "/"), p))
        .filter(|(rel, _)| only(rel))
        .filter(|(rel, p)| names_module(&std::fs::read_to_string(p).unwrap(), module, depth(rel)))
        .map(|(rel, _)| rel)
        .collect()
}

#[test]
fn the_cli_never_imports_the_op_handlers() {
    assert_eq!(files_naming("ops", |f| f.starts_with("cli/")), Vec::<String>::new(), "src/cli calls the domain modules, not crate::ops");
}

#[test]
fn the_op_handlers_never_import_the_cli() {
    assert_eq!(files_naming("cli", |f| f.starts_with("ops/")), Vec::<String>::new(), "src/ops calls the domain modules, not crate::cli");
}

#[test]
fn the_domain_modules_import_neither_front_end() {
    let domain = |f: &str| !f.starts_with("cli/") && !f.starts_with("ops/") && !["main.rs", "lib.rs", "native.rs"].contains(&f);
    for front_end in ["cli", "ops", "native"] {
        assert_eq!(files_naming(front_end, domain), Vec::<String>::new(), "domain modules that import crate::{front_end}");
    }
}

#[test]
fn the_scan_sees_every_way_of_naming_a_module() {
    for text in [
        "use crate::ops::OPS;",
        "let x = crate::ops::unlock(ctx);",
        "use crate::{context::Context, ops};",
        "use crate::{ops::OPS, error::Error};",
        "use crate::ops;",
        "use smime_companion::ops::OPS;",
        "use super::super::ops::x;",
        "crate ::\n    ops::x",
    ] {
        assert!(names_module(text, "ops", 2), "{text}");
    }
    for text in ["use crate::options::X;", "use crate::opsx;", "// crate::ops::X in a comment", "use crate::protocol::ops_markdown;", "std::ops::Range", "use super::ops::x;"] {
        assert!(!names_module(text, "ops", 2), "{text}");
    }
    // From `cli/mod.rs` one `super::` is the crate root.
    assert!(names_module("use super::ops::OPS;", "ops", 1));
    assert_eq!((depth("lib.rs"), depth("cli/mod.rs"), depth("cli/contacts.rs"), depth("certs/revocation/http.rs")), (0, 1, 2, 3));
}
