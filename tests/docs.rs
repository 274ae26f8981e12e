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

fn read(doc_path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc_path)).unwrap()
}

/// A size in MiB, as texts write it.
fn mib(bytes: u64) -> u64 {
    assert_eq!(bytes % (1 << 20), 0, "{bytes} is no whole number of MiB");
    bytes >> 20
}

fn assert_says(text: &str, phrase: &str, what: &str) {
    assert!(text.contains(phrase), "{what} should say {phrase:?}:\n{text}");
}

fn op_help(name: &str) -> &'static str {
    OPS.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("no op {name}")).help
}

fn cli_action(command: &str, action: &str) -> &'static smime_companion::cli::Action {
    let c = smime_companion::cli::COMMANDS.iter().find(|c| c.name == command).unwrap();
    let smime_companion::cli::Form::Actions { actions, .. } = &c.form else { panic!("{command} has no actions") };
    actions.iter().find(|a| a.name == action).unwrap()
}

/// The request and upload limits in the op help, the error texts, docs/PROTOCOL.md and the
/// add-on's message for `transfer_too_large` are the constants the host applies.
#[test]
fn protocol_texts_state_the_frame_and_upload_limits() {
    use smime_companion::protocol::transfer::MIN_TRANSFER_CHARGE;
    use smime_companion::protocol::{MAX_REQUEST_BYTES, MAX_TRANSFER_BYTES};
    let (request, transfer) = (mib(MAX_REQUEST_BYTES), mib(MAX_TRANSFER_BYTES));
    assert_says(op_help("transfer_begin"), &format!("at most {transfer} MiB"), "the transfer_begin help");
    let errors = error_codes_markdown();
    let row = |code: &str| errors.lines().find(|l| l.starts_with(&format!("| `{code}` |"))).unwrap_or_else(|| panic!("no {code}")).to_string();
    assert_says(&row("request_too_large"), &format!("more than {request} MiB"), "request_too_large");
    assert_says(&row("transfer_too_large"), &format!("exceed {transfer} MiB"), "transfer_too_large");
    let protocol = read("docs/PROTOCOL.md");
    assert_says(&protocol, &format!("| {request} MiB (`MAX_REQUEST_BYTES`) |"), "PROTOCOL.md's limits");
    assert_says(&protocol, &format!("| {transfer} MiB (`MAX_TRANSFER_BYTES`);"), "PROTOCOL.md's limits");
    assert_eq!(MIN_TRANSFER_CHARGE % 1024, 0);
    assert_says(&protocol, &format!("at least {} KiB (`MIN_TRANSFER_CHARGE`)", MIN_TRANSFER_CHARGE / 1024), "PROTOCOL.md's limits");
    assert_says(&protocol, &format!("| a length over {request} MiB |"), "PROTOCOL.md's bad input");
    assert_says(&protocol, &format!("A request frame may be up to {request} MiB."), "PROTOCOL.md's uploads");
    for (locale, over) in [("en", "over"), ("de", "über")] {
        let messages: serde_json::Value = serde_json::from_str(&read(&format!("extension/_locales/{locale}/messages.json"))).unwrap();
        let text = messages["error_transfer_too_large"]["message"].as_str().unwrap();
        assert_says(text, &format!("{over} {transfer} MiB"), &format!("the {locale} text of transfer_too_large"));
    }
}

/// The download limits of `transfer_fetch` in its help and docs/PROTOCOL.md are the ones it applies.
#[test]
fn fetch_texts_state_the_download_limits() {
    use smime_companion::fetch::{DEFAULT_FETCH_TIMEOUT_MS, MAX_FETCH_BYTES, MAX_FETCH_TIMEOUT_MS};
    let fetch = mib(MAX_FETCH_BYTES);
    assert_says(op_help("transfer_fetch"), &format!("at most {fetch} MiB"), "the transfer_fetch help");
    let protocol = read("docs/PROTOCOL.md");
    assert_says(&protocol, &format!("At most {fetch} MiB (`MAX_FETCH_BYTES`"), "PROTOCOL.md's transfer_fetch");
    let thousands = |n: u64| format!("{},{:03}", n / 1000, n % 1000);
    assert_says(&protocol, &format!("{} by default, at most {}.", thousands(DEFAULT_FETCH_TIMEOUT_MS), thousands(MAX_FETCH_TIMEOUT_MS)), "PROTOCOL.md's transfer_fetch");
}

/// The contacts page size and orders in the CLI help are the ones `ListQuery` applies.
#[test]
fn contacts_list_help_states_the_page_size_and_orders() {
    use smime_companion::contacts::{Sort, DEFAULT_PAGE, MAX_PAGE};
    let list = cli_action("contacts", "list");
    assert_says(list.help, &format!("default {DEFAULT_PAGE}, at most {MAX_PAGE}"), "contacts list --help");
    let orders: Vec<&str> = Sort::ALL.iter().map(|(name, _)| *name).collect();
    assert_says(list.options, &format!("[--sort {}]", orders.join("|")), "contacts list --help");
    assert_says(op_help("contacts_list"), &format!("sort by {} or {}", orders[..orders.len() - 1].join(", "), orders[orders.len() - 1]), "the contacts_list help");
}

/// The expiry radar's default in the CLI help, the op help and docs/IDENTITIES.md.
#[test]
fn radar_texts_state_its_default() {
    use smime_companion::identities::service::DEFAULT_RADAR_DAYS;
    assert_says(cli_action("identities", "radar").help, &format!("(default {DEFAULT_RADAR_DAYS})"), "identities radar --help");
    assert_says(op_help("expiry_radar"), &format!("(default {DEFAULT_RADAR_DAYS})"), "the expiry_radar help");
    assert_says(&read("docs/IDENTITIES.md"), &format!("N days (default {DEFAULT_RADAR_DAYS})"), "IDENTITIES.md");
}

/// The limits docs/CONTACTS.md states: the note's length and the unanchored CA certificates kept.
#[test]
fn contacts_doc_states_the_note_and_unanchored_limits() {
    use smime_companion::contacts::{MAX_NOTE_CHARS, MAX_UNANCHORED_CAS};
    let doc = read("docs/CONTACTS.md");
    assert_says(&doc, &format!("a note of at most {MAX_NOTE_CHARS} characters"), "CONTACTS.md");
    assert_says(&doc, &format!("a small set of at most {MAX_UNANCHORED_CAS},"), "CONTACTS.md");
    assert_says(&doc, &format!("at most {MAX_UNANCHORED_CAS} of them are loaded"), "CONTACTS.md");
    assert_says(&read("docs/PKCS11.md"), &format!("at most {MAX_UNANCHORED_CAS} others"), "PKCS11.md");
}
