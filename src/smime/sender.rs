//! The From rule (docs/INSPECT.md, "Sender rule"): which mailbox a signature must name, read
//! from every From and Sender field that some mail program could take as one, and the warning
//! about a display name that shows another address than the mailbox.
//!
//! Mail programs disagree about header blocks (a bare CR ends a line for Thunderbird, a line
//! that is not a field ends the block for some readers and not for others, `From :` is a From
//! field for Thunderbird), so every From a reader could see counts: two of them, in any
//! readings, are `multiple_from_headers`, never the one we happened to read first.

use super::verdict::{Problem, SignatureState, Warning};
use crate::certs::address::cert_matches;
use crate::mime::address::{addresses_in_text, normalize, parse_address_list, parse_mailbox_list, Mailbox};
use crate::mime::header::fields_in_any_reading;
use crate::mime::Entity;
use crate::time::parse_rfc5322_date;

/// A verdict lists at most this many mailboxes of a From field (the count says how many there
/// are), so a From of 80,000 mailboxes stays a short answer.
pub const MAX_LISTED_MAILBOXES: usize = 10;
/// Display names and addresses in a verdict are cut to this many characters (`…` marks the cut).
pub const MAX_SHOWN_CHARS: usize = 256;

/// The header fields the identity and time rules look at.
#[derive(Debug, Clone, Default)]
pub struct HeaderContext {
    /// The value of every From field that some reader could take as one (normally exactly one).
    pub from: Vec<String>,
    /// The value of every Sender field, read the same way.
    pub sender: Vec<String>,
    pub date: Option<i64>,
    /// A From field holds a control character (a NUL, a bare CR, ...).
    pub from_has_control: bool,
    /// A Sender field holds a control character.
    pub sender_has_control: bool,
}

impl HeaderContext {
    /// Reads From and Sender in every reading of the entity's header block, and its Date.
    pub fn read(entity: &Entity<'_>) -> HeaderContext {
        let mut headers = HeaderContext { date: entity.header("date").and_then(|d| parse_rfc5322_date(&d)), ..Default::default() };
        for field in fields_in_any_reading(entity.raw) {
            if field.is("from") {
                headers.from.push(field.value());
                headers.from_has_control |= field.has_control_character();
            } else if field.is("sender") {
                headers.sender.push(field.value());
                headers.sender_has_control |= field.has_control_character();
            }
        }
        headers
    }

    /// Every mailbox of every From field, in order.
    pub fn from_mailboxes(&self) -> Vec<Mailbox> {
        self.from.iter().flat_map(|f| parse_mailbox_list(f)).collect()
    }

    /// The first mailbox of the first Sender field.
    pub fn sender_mailbox(&self) -> Option<Mailbox> {
        self.sender.first().and_then(|s| parse_mailbox_list(s).into_iter().next())
    }

    /// The fields the rule reads: From, or Sender when there is no From field at all.
    fn deciding(&self) -> (&[String], bool, &'static str) {
        if self.from.is_empty() && !self.sender.is_empty() {
            (&self.sender, self.sender_has_control, "sender")
        } else {
            (&self.from, self.from_has_control, "from")
        }
    }
}

/// The From rule: exactly one From field in every reading, free of control characters, holding
/// exactly one mailbox and no group, which the certificate names; Sender is used the same way
/// only when there is no From field at all. `cert_emails` are the certificate's addresses as
/// written (`Cert::emails`), compared by `certs::address::cert_matches`.
pub fn sender_problem(headers: &HeaderContext, cert_emails: &[String]) -> Option<Problem> {
    let (fields, has_control, header) = headers.deciding();
    let addresses: Vec<String> = fields.iter().flat_map(|f| parse_mailbox_list(f)).map(|m| m.address).collect();
    let mismatch = |reason: &'static str| {
        let mut p = Problem::because(SignatureState::SenderMismatch, reason).with("from", listed_addresses(&addresses));
        if addresses.len() > MAX_LISTED_MAILBOXES {
            p = p.with("from_count", addresses.len());
        }
        Some(p)
    };
    if has_control {
        return mismatch("control_character").map(|p| p.with("header", header));
    }
    match fields {
        [] => return mismatch("no_from"),
        [_] => {}
        _ if header == "from" => return mismatch("multiple_from_headers"),
        _ => return mismatch("multiple_sender_headers"),
    }
    let list = parse_address_list(&fields[0]);
    if !list.groups.is_empty() {
        return mismatch("group_syntax");
    }
    match list.mailboxes.as_slice() {
        [] => mismatch("no_from"),
        [one] if cert_emails.iter().any(|c| cert_matches(c, &one.address)) => None,
        [_] => mismatch("different_address"),
        _ => mismatch("multiple_from"),
    }
}

/// Warnings about what a mail program may show instead of the mailbox the rule compared:
/// `display_name_is_other_address` when the display name (or a comment, or text after the
/// angle address) holds an address other than the mailbox (`boss@corp.example
/// <eve@evil.example>`): Thunderbird shows the name, so the reader sees boss while eve signed.
pub fn sender_warnings(headers: &HeaderContext) -> Vec<Warning> {
    let (fields, has_control, _) = headers.deciding();
    let [field] = fields else { return Vec::new() };
    if has_control {
        return Vec::new();
    }
    let list = parse_address_list(field);
    let [mailbox] = list.mailboxes.as_slice() else { return Vec::new() };
    let other = addresses_in_text(&mailbox.shown_text).into_iter().find(|a| !same_address(a, &mailbox.address));
    match other {
        Some(other) => vec![Warning::new("display_name_is_other_address")
            .with("name_address", shorten(&other))
            .with("address", shorten(&mailbox.address))],
        None => Vec::new(),
    }
}

fn same_address(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase() || normalize(a).is_some_and(|n| Some(n) == normalize(b))
}

/// The first `MAX_LISTED_MAILBOXES` mailboxes, their texts cut to `MAX_SHOWN_CHARS`.
pub fn listed_mailboxes(mailboxes: &[Mailbox]) -> Vec<Mailbox> {
    mailboxes.iter().take(MAX_LISTED_MAILBOXES).map(shortened).collect()
}

/// A mailbox with its texts cut to `MAX_SHOWN_CHARS`.
pub fn shortened(m: &Mailbox) -> Mailbox {
    Mailbox {
        name: m.name.as_deref().map(shorten),
        address: shorten(&m.address),
        group: m.group.as_deref().map(shorten),
        shown_text: String::new(),
    }
}

fn listed_addresses(addresses: &[String]) -> Vec<String> {
    addresses.iter().take(MAX_LISTED_MAILBOXES).map(|a| shorten(a)).collect()
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(from: &[&str], sender: &[&str]) -> HeaderContext {
        HeaderContext {
            from: from.iter().map(|s| s.to_string()).collect(),
            sender: sender.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn reason(h: &HeaderContext) -> Option<&'static str> {
        sender_problem(h, &["alice@example.org".to_string()]).map(|p| p.reason.unwrap())
    }

    fn read(message: &[u8]) -> HeaderContext {
        HeaderContext::read(&Entity::parse(message))
    }

    #[test]
    fn from_rules() {
        assert_eq!(reason(&headers(&["Alice <alice@EXAMPLE.org>"], &[])), None);
        // Local parts are compared byte for byte, as the CA's name constraints were.
        assert_eq!(reason(&headers(&["Alice <ALICE@example.org>"], &[])), Some("different_address"));
        assert_eq!(reason(&headers(&["\"alice@example.org\" <eve@example.net>"], &[])), Some("different_address"));
        assert_eq!(reason(&headers(&["alice@example.org, bob@example.org"], &[])), Some("multiple_from"));
        assert_eq!(reason(&headers(&["alice@example.org", "alice@example.org"], &[])), Some("multiple_from_headers"));
        assert_eq!(reason(&headers(&[""], &["alice@example.org"])), Some("no_from"));
        assert_eq!(reason(&headers(&[], &["alice@example.org"])), None);
        assert_eq!(reason(&headers(&[], &["alice@example.org", "alice@example.org"])), Some("multiple_sender_headers"));
        assert_eq!(reason(&headers(&[], &[])), Some("no_from"));
    }

    #[test]
    fn a_group_in_from_is_never_the_signer() {
        assert_eq!(reason(&headers(&["alice@example.org: alice@example.org;"], &[])), Some("group_syntax"));
        assert_eq!(reason(&headers(&["Team: alice@example.org;"], &[])), Some("group_syntax"));
        assert_eq!(reason(&headers(&["undisclosed-recipients:;"], &[])), Some("group_syntax"));
    }

    #[test]
    fn every_from_field_any_reader_sees_counts() {
        let cases: [&[u8]; 6] = [
            b"From: alice@example.org\rFrom: eve@example.net\r\n\r\nbody",
            b"From: alice@example.org\r\nFrom : eve@example.net\r\n\r\nbody",
            b"From: alice@example.org\r\nnot a field\r\nFrom: eve@example.net\r\n\r\nbody",
            b"From: alice@example.org\r\nFROM\r\n : eve@example.net\r\n\r\nbody",
            b"From: alice@example.org\nfrom:eve@example.net\n\nbody",
            b"From : alice@example.org\r\nX: y\r\n\tz\r\nfrom\t: eve@example.net\r\n\r\nbody",
        ];
        for case in cases {
            let h = read(case);
            assert_eq!(h.from.len(), 2, "{}", String::from_utf8_lossy(case));
            let reason = reason(&h);
            assert!(matches!(reason, Some("multiple_from_headers" | "control_character")), "{reason:?}");
        }
        // After the empty line it is the body.
        assert_eq!(read(b"From: alice@example.org\r\n\r\nFrom: eve@example.net\r\n").from.len(), 1);
        assert_eq!(reason(&read(b"From: alice@example.org\r\n\r\nFrom: eve@example.net\r\n")), None);
    }

    #[test]
    fn control_characters_in_from_are_a_mismatch() {
        for case in [&b"From: alice@example.org\0\r\n\r\n"[..], b"From: alice@example.org\r\r\n\r\n", b"From: ali\x1bce@example.org\r\n\r\n", b"From: alice@example.org\r eve\r\n\r\n"] {
            assert_eq!(reason(&read(case)), Some("control_character"), "{case:?}");
        }
        // Folding with CRLF or LF is no control character.
        assert_eq!(reason(&read(b"From: Alice\r\n <alice@example.org>\r\n\r\n")), None);
        assert_eq!(reason(&read(b"From: Alice\n\t<alice@example.org>\n\n")), None);
        // A control character in Sender matters only when Sender is read.
        assert_eq!(reason(&read(b"From: alice@example.org\r\nSender: x\0\r\n\r\n")), None);
        assert_eq!(reason(&read(b"Sender: alice@example.org\0\r\n\r\n")), Some("control_character"));
    }

    #[test]
    fn a_display_name_holding_another_address_is_a_warning() {
        let warn = |from: &str| sender_warnings(&headers(&[from], &[])).first().map(|w| w.details["name_address"].clone());
        assert_eq!(warn("boss@corp.example <eve@evil.example>"), Some("boss@corp.example".into()));
        assert_eq!(warn("\"boss@corp.example\" <eve@evil.example>"), Some("boss@corp.example".into()));
        assert_eq!(warn("=?utf-8?Q?boss=40corp.example?= <eve@evil.example>"), Some("boss@corp.example".into()));
        assert_eq!(warn("=?utf-8?B?Ym9zc0Bjb3JwLmV4YW1wbGU=?= <eve@evil.example>"), Some("boss@corp.example".into()));
        assert_eq!(warn("eve@evil.example (boss@corp.example)"), Some("boss@corp.example".into()));
        assert_eq!(warn("Boss \u{ff20} corp.example <eve@evil.example>"), Some("Boss@corp.example".into()));
        assert_eq!(warn("Eve Example <eve@evil.example>"), None);
        assert_eq!(warn("\"EVE@evil.example\" <eve@evil.example>"), None);
    }

    #[test]
    fn long_lists_are_cut_for_the_verdict() {
        let many: String = (0..80_000).map(|i| format!("u{i}@example.org, ")).collect();
        let p = sender_problem(&headers(&[&many], &[]), &["alice@example.org".to_string()]).unwrap();
        assert_eq!(p.reason, Some("multiple_from"));
        assert_eq!(p.details["from"].as_array().unwrap().len(), MAX_LISTED_MAILBOXES);
        assert_eq!(p.details["from_count"], 80_000);
        let long = Mailbox { name: Some("n".repeat(10_000)), address: "a".repeat(10_000), group: None, shown_text: String::new() };
        let cut = shortened(&long);
        assert_eq!(cut.name.unwrap().chars().count(), MAX_SHOWN_CHARS + 1);
    }
}
