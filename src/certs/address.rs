//! E-mail addresses in certificates: which of them count, and how one is compared with a
//! message's or a user's address (docs/INSPECT.md, "Addresses in certificates").
//!
//! A certificate's rfc822Name is an IA5String: ASCII, exactly as the CA wrote it, and that exact
//! text is what the CA's name constraints were checked against (OpenSSL compares it byte for
//! byte, the domain ASCII-case-insensitively). Every comparison here is as strict as that check,
//! never more lenient:
//!
//! - an address counts only when it is plain printable ASCII `local@domain` (no space, no
//!   control character, a dot-atom local part, a letters-digits-hyphens domain with a dot);
//!   anything else is shown to the user, escaped, and never matched, cached or encrypted to;
//! - the local part is compared byte for byte (RFC 5321: local parts are case-sensitive; so is
//!   OpenSSL's name-constraint check), the domain ASCII-case-insensitively;
//! - the other side's domain (a From header, an address the user typed) may be an IDN: it is
//!   converted to A-labels only when it needs no UTS 46 mapping (no full-width or ideographic
//!   full stops, soft hyphens, letter-like symbols, upper-case non-ASCII letters ...), so a
//!   spelling that folds into another domain never reaches it;
//! - which addresses a certificate holds follows RFC 8550: with a subjectAltName extension its
//!   rfc822Names, and only without one the subject's emailAddress. SmtpUTF8Mailbox names are
//!   shown, never used.
//!
//! [`usable_addresses`] is the rule; it takes the SAN's and the subject's values as inputs, so
//! any reading of the certificate (ours, or OpenSSL's) can be fed to it.

use serde::Serialize;

/// The form an address is compared and cached in: the local part as written, `@`, the domain
/// in ASCII (A-labels) and lower case. None when the certificate's address does not count.
pub fn cert_address_key(cert_address: impl AsRef<[u8]>) -> Option<String> {
    let bytes = cert_address.as_ref();
    if bytes.is_empty() || !bytes.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let (local, domain) = text.rsplit_once('@')?;
    if !dot_atom(local) || !ascii_domain(domain) {
        return None;
    }
    Some(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// The comparison form of a mailbox from a message (From, Sender, To) or one the user typed:
/// the local part as written, the domain converted to A-labels without UTS 46 mapping and
/// lower-cased. None when it is not an address.
pub fn mailbox_key(mailbox: &str) -> Option<String> {
    let mailbox = mailbox.trim();
    let (local, domain) = mailbox.rsplit_once('@')?;
    if local.is_empty() || local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some(format!("{local}@{}", domain_a_labels(domain)?))
}

/// Whether an address written in a certificate names this mailbox (see the module's rules).
/// The one comparison every certificate-versus-address decision uses: the From rule, the
/// contact cache's keys, recipients and encryption.
pub fn cert_matches(cert_address: impl AsRef<[u8]>, mailbox: &str) -> bool {
    match (cert_address_key(cert_address), mailbox_key(mailbox)) {
        (Some(cert), Some(mailbox)) => cert == mailbox,
        _ => false,
    }
}

/// RFC 8550's rule for which addresses a certificate holds, applied to the values as read:
/// `san_rfc822` is None when the certificate has no subjectAltName extension (then the
/// subject's emailAddress values count), else the SAN's rfc822Names (and only they count).
/// Returns the addresses that qualify, exactly as written, each once (by comparison key).
pub fn usable_addresses<S: AsRef<[u8]>>(san_rfc822: Option<&[S]>, subject_emails: &[S]) -> Vec<String> {
    let source: &[S] = san_rfc822.unwrap_or(subject_emails);
    let mut keys: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for value in source {
        if let Some(key) = cert_address_key(value) {
            if !keys.contains(&key) {
                keys.push(key);
                // Qualifying addresses are ASCII, so this is the text as written.
                out.push(String::from_utf8_lossy(value.as_ref()).into_owned());
            }
        }
    }
    out
}

/// The comparison keys of the addresses a certificate holds (`usable_addresses`), sorted.
pub fn address_keys(usable: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = usable.iter().filter_map(cert_address_key).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Where an address in a certificate was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    /// subjectAltName rfc822Name.
    San,
    /// subjectAltName otherName SmtpUTF8Mailbox (RFC 9598).
    SanSmtputf8,
    /// The subject's emailAddress attribute.
    Subject,
}

/// Why an address written in a certificate is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoredBecause {
    /// Not plain printable ASCII `local@domain` (non-ASCII, space, control character, no `@`,
    /// an empty or malformed part).
    NotAnAddress,
    /// A subject emailAddress in a certificate that has a subjectAltName (RFC 8550).
    SubjectWithSan,
    /// An SmtpUTF8Mailbox: shown, never compared (internationalised local parts).
    Smtputf8,
    /// The same address (by comparison key) was already listed.
    Duplicate,
}

/// An address in a certificate that does not count, shown as written with everything but
/// printable ASCII escaped (`\u{FF0E}`, `\x{FF}` for a byte that is not UTF-8, `\\`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredAddress {
    pub shown: String,
    pub source: AddressSource,
    pub reason: IgnoredBecause,
}

/// Every address a certificate holds that `usable_addresses` does not return, and why.
pub fn ignored_addresses<S: AsRef<[u8]>>(san_rfc822: Option<&[S]>, san_smtputf8: &[String], subject_emails: &[S]) -> Vec<IgnoredAddress> {
    let mut out = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut judge = |value: &[u8], source: AddressSource, counts: bool| {
        let reason = match (counts, cert_address_key(value)) {
            (false, _) => Some(IgnoredBecause::SubjectWithSan),
            (true, None) => Some(IgnoredBecause::NotAnAddress),
            (true, Some(key)) if keys.contains(&key) => Some(IgnoredBecause::Duplicate),
            (true, Some(key)) => {
                keys.push(key);
                None
            }
        };
        if let Some(reason) = reason {
            out.push(IgnoredAddress { shown: shown(value), source, reason });
        }
    };
    for value in san_rfc822.unwrap_or(&[]) {
        judge(value.as_ref(), AddressSource::San, true);
    }
    for value in subject_emails {
        judge(value.as_ref(), AddressSource::Subject, san_rfc822.is_none());
    }
    for value in san_smtputf8 {
        out.push(IgnoredAddress { shown: shown(value.as_bytes()), source: AddressSource::SanSmtputf8, reason: IgnoredBecause::Smtputf8 });
    }
    out
}

/// An address as written, for people: printable ASCII as is, everything else escaped so that no
/// character can pass for another (`example\u{FF0E}org`, `a\u{AD}b`, `\x{FF}`), `\` as `\\`.
pub fn shown(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for chunk in value.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                ' '..='~' => out.push(c),
                other => out.push_str(&format!("\\u{{{:X}}}", other as u32)),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{{{b:02X}}}"));
        }
    }
    out
}

/// RFC 5322 dot-atom text (atext and dots): no quoted local parts, no specials.
fn dot_atom(local: &str) -> bool {
    !local.is_empty() && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
}

/// A domain of letters, digits and hyphens in non-empty labels, with at least one dot (or
/// `localhost`).
fn ascii_domain(domain: &str) -> bool {
    let labels_ok = domain.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    labels_ok && domain.len() <= 253 && (domain.contains('.') || domain.eq_ignore_ascii_case("localhost"))
}

/// A domain in A-labels, lower case; IDNs converted only when they need no mapping (the
/// conversion read back gives the domain as written, apart from ASCII case).
fn domain_a_labels(domain: &str) -> Option<String> {
    let ascii = if domain.is_ascii() {
        domain.to_ascii_lowercase()
    } else {
        let ascii = idna::domain_to_ascii_strict(domain).ok()?;
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        result.ok()?;
        if unicode != domain.to_ascii_lowercase() {
            return None;
        }
        ascii.to_ascii_lowercase()
    };
    ascii_domain(&ascii).then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_addresses_count_only_as_plain_ascii() {
        assert_eq!(cert_address_key("Alice@Example.ORG").as_deref(), Some("Alice@example.org"));
        assert_eq!(cert_address_key("o'brien+tag@xn--bcher-kva.de").as_deref(), Some("o'brien+tag@xn--bcher-kva.de"));
        for bad in [
            "alice@example\u{FF0E}org",
            "alice@example\u{3002}org",
            "alice@exam\u{AD}ple.org",
            "alice@example.or\u{210A}",
            "alice@bücher.de",
            "älice@example.org",
            "alice @example.org",
            " alice@example.org",
            "alice@example.org\n",
            "alice@exa\u{0}mple.org",
            "alice",
            "@example.org",
            "alice@",
            "alice@example..org",
            "alice@.example.org",
            "alice@example",
            "\"a b\"@example.org",
            "alice@[192.0.2.1]",
            "",
        ] {
            assert_eq!(cert_address_key(bad), None, "{bad:?}");
        }
        assert_eq!(cert_address_key(b"alice@example.org\xff"), None);
    }

    #[test]
    fn mailboxes_convert_idns_only_without_mapping() {
        assert_eq!(mailbox_key("Alice@Example.ORG").as_deref(), Some("Alice@example.org"));
        assert_eq!(mailbox_key("info@bücher.de").as_deref(), Some("info@xn--bcher-kva.de"));
        assert_eq!(mailbox_key("info@Bücher.DE").as_deref(), Some("info@xn--bcher-kva.de"));
        for folded in ["a@example\u{FF0E}org", "a@example\u{3002}org", "a@exam\u{AD}ple.org", "a@example.or\u{210A}", "a@BÜCHER.de", "a@ｅxample.org"] {
            assert_eq!(mailbox_key(folded), None, "{folded:?}");
        }
        assert_eq!(mailbox_key("not an address"), None);
        assert_eq!(mailbox_key("a@"), None);
        assert_eq!(mailbox_key("a b@example.org"), None);
    }

    #[test]
    fn the_local_part_is_compared_byte_for_byte_and_the_domain_without_case() {
        assert!(cert_matches("Alice@example.org", "Alice@EXAMPLE.org"));
        assert!(!cert_matches("alice@example.org", "Alice@example.org"));
        assert!(!cert_matches("Alice@example.org", "alice@example.org"));
        assert!(cert_matches("info@xn--bcher-kva.de", "info@bücher.de"));
        assert!(cert_matches("info@XN--BCHER-KVA.de", "info@bücher.de"));
        // The lookalike spellings never meet the domain they fold into, from either side.
        assert!(!cert_matches("alice@example\u{FF0E}org", "alice@example.org"));
        assert!(!cert_matches("alice@example.org", "alice@example\u{FF0E}org"));
        assert!(!cert_matches("alice@exam\u{AD}ple.org", "alice@example.org"));
        assert!(!cert_matches("alice@example.or\u{210A}", "alice@example.org"));
    }

    #[test]
    fn a_subject_address_counts_only_without_a_subject_alt_name() {
        let subject = ["subject@example.org".to_string()];
        assert_eq!(usable_addresses(None, &subject), ["subject@example.org"]);
        let san = ["san@example.org".to_string(), "SAN@Example.org".to_string(), "san@EXAMPLE.org".to_string()];
        assert_eq!(usable_addresses(Some(&san[..]), &subject), ["san@example.org", "SAN@Example.org"]);
        // A SAN with no address at all still hides the subject's.
        assert!(usable_addresses(Some(&[] as &[String]), &subject).is_empty());
        let ignored = ignored_addresses(Some(&san[..]), &["ä@example.org".to_string()], &subject);
        assert_eq!(
            ignored.iter().map(|i| (i.shown.as_str(), i.source, i.reason)).collect::<Vec<_>>(),
            [
                ("san@EXAMPLE.org", AddressSource::San, IgnoredBecause::Duplicate),
                ("subject@example.org", AddressSource::Subject, IgnoredBecause::SubjectWithSan),
                ("\\u{E4}@example.org", AddressSource::SanSmtputf8, IgnoredBecause::Smtputf8),
            ]
        );
    }

    #[test]
    fn addresses_are_shown_as_written_with_anything_else_escaped() {
        assert_eq!(shown("alice@example\u{FF0E}org".as_bytes()), "alice@example\\u{FF0E}org");
        assert_eq!(shown("a\u{AD}b@x.org".as_bytes()), "a\\u{AD}b@x.org");
        assert_eq!(shown(b"a\\b@x.org\xff\n"), "a\\\\b@x.org\\x{FF}\\u{A}");
        let ignored = ignored_addresses(Some(&["alice@example\u{FF0E}org".to_string()][..]), &[], &[]);
        assert_eq!(ignored[0].reason, IgnoredBecause::NotAnAddress);
        assert_eq!(ignored[0].shown, "alice@example\\u{FF0E}org");
    }
}
