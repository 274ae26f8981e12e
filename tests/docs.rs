//! The documentation is checked against the code it describes: the op table and the error codes
//! in docs/PROTOCOL.md and the list of commands in the README are generated from the host's
//! tables, and the limits texts state are the constants the code applies. Run with
//! `UPDATE_DOCS=1` (one test thread) to rewrite the generated sections after changing the tables.

use smime_companion::error::error_codes_markdown;
use smime_companion::ops::OPS;
use smime_companion::protocol::ops_markdown;
use std::path::Path;

fn check_section(doc_path: &str, marker: &str, expected: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(doc_path);
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = (format!("<!-- {marker}:begin -->\n"), format!("<!-- {marker}:end -->"));
    let start = doc.find(&begin).unwrap_or_else(|| panic!("{doc_path} lacks {begin}")) + begin.len();
    let stop = doc[start..].find(&end).unwrap_or_else(|| panic!("{doc_path} lacks {end}")) + start;
    if &doc[start..stop] == expected {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{}{}{}", &doc[..start], expected, &doc[stop..])).unwrap();
        return;
    }
    panic!("{doc_path} section {marker} is out of date; run `UPDATE_DOCS=1 cargo test --test docs`.\nexpected:\n{expected}");
}

#[test]
fn protocol_doc_lists_exactly_the_op_table() {
    check_section("docs/PROTOCOL.md", "ops", &ops_markdown(OPS));
}

#[test]
fn readme_lists_exactly_the_cli_commands() {
    check_section("README.md", "cli", &smime_companion::cli::commands_markdown());
}

#[test]
fn protocol_doc_lists_exactly_the_error_codes() {
    check_section("docs/PROTOCOL.md", "errors", &error_codes_markdown());
}
