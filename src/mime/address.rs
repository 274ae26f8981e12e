//! Mailbox lists (`From`, `Sender`) per RFC 5322: display names, angle addresses, groups,
//! quoted strings and comments; plus the comparison form of such an address (`normalize`).
//!
//! Linear in the text: one pass makes tokens, one pass over the tokens makes mailboxes.

use super::header::decode_encoded_words;
use serde::Serialize;

/// One mailbox: the display name (decoded, for showing only) and the addr-spec exactly as
/// written (comments and white space between its tokens removed, quoted parts kept quoted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
    /// The name of the group the mailbox was listed in (`team: a@x.org, b@x.org;`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Everything a mail program might show for this mailbox besides its address: the display
    /// name, comments (shown as the name when there is none), text after the angle address.
    #[serde(skip)]
    pub shown_text: String,
}

/// An address list: its mailboxes (those of groups included) and the names of its groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressList {
    pub mailboxes: Vec<Mailbox>,
    /// The groups' display names, in order (an empty name for `: a@x.org;`).
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// An atom or dot-atom piece: (start, end) in the text.
    Word(usize, usize),
    /// A quoted string's content, unescaped, and where the string starts and ends (quotes in).
    Quoted(String, usize, usize),
    /// A comment's text (nested comments flattened).
    Comment(String),
    Special(char, usize),
}

impl Token {
    fn start(&self) -> Option<usize> {
        match self {
            Token::Word(s, _) | Token::Quoted(_, s, _) | Token::Special(_, s) => Some(*s),
            Token::Comment(_) => None,
        }
    }
}

fn is_special(c: char) -> bool {
    "()<>@,;:.[]\"".contains(c)
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                let mut depth = 0usize;
                let mut comment = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                comment.push(escaped);
                            }
                            continue;
                        }
                        '(' => {
                            depth += 1;
                            if depth > 1 {
                                comment.push(c);
                            }
                        }
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            comment.push(c);
                        }
                        _ => comment.push(c),
                    }
                }
                tokens.push(Token::Comment(comment));
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                let mut end = text.len();
                while let Some((j, c)) = chars.next() {
                    match c {
                        '"' => {
                            end = j + 1;
                            break;
                        }
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                s.push(escaped);
                            }
                        }
                        _ => s.push(c),
                    }
                }
                tokens.push(Token::Quoted(s, i, end));
            }
            c if is_special(c) => {
                tokens.push(Token::Special(c, i));
                chars.next();
            }
            _ => {
                let mut end = i;
                while let Some(&(j, c)) = chars.peek() {
                    if c.is_whitespace() || is_special(c) {
                        break;
                    }
                    end = j + c.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Word(i, end));
            }
        }
    }
    tokens
}

/// Parses an address list into mailboxes (groups are flattened).
pub fn parse_mailbox_list(value: &str) -> Vec<Mailbox> {
    parse_address_list(value).mailboxes
}

/// Parses an address list, keeping track of groups. A `:` outside angle brackets starts a
/// group (its name is what stands before it), a `;` ends it.
pub fn parse_address_list(value: &str) -> AddressList {
    let tokens = tokenize(value);
    let mut list = AddressList::default();
    let mut group: Option<String> = None;
    let mut start = 0;
    let mut in_angle = false;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Special('<', _) => in_angle = true,
            Token::Special('>', _) => in_angle = false,
            Token::Special(':', _) if !in_angle => {
                let name = phrase(value, &tokens[start..i]).0;
                list.groups.push(name.clone());
                group = Some(name);
                start = i + 1;
            }
            Token::Special(c @ (',' | ';'), _) if !in_angle => {
                if let Some(mut m) = mailbox(value, &tokens[start..i]) {
                    m.group = group.clone();
                    list.mailboxes.push(m);
                }
                if *c == ';' {
                    group = None;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if let Some(mut m) = mailbox(value, &tokens[start..]) {
        m.group = group;
        list.mailboxes.push(m);
    }
    list
}

fn mailbox(text: &str, tokens: &[Token]) -> Option<Mailbox> {
    if tokens.iter().all(|t| matches!(t, Token::Comment(_))) {
        return None;
    }
    let comments = || tokens.iter().filter_map(|t| match t {
        Token::Comment(c) => Some(decode_encoded_words(c)),
        _ => None,
    });
    if let Some(open) = tokens.iter().position(|t| matches!(t, Token::Special('<', _))) {
        let close = tokens.iter().rposition(|t| matches!(t, Token::Special('>', _))).filter(|&c| c > open).unwrap_or(tokens.len());
        let mut inner = &tokens[open + 1..close];
        // Obsolete source route "@a,@b:addr".
        if let Some(colon) = inner.iter().position(|t| matches!(t, Token::Special(':', _))) {
            inner = &inner[colon + 1..];
        }
        let (name, _) = phrase(text, &tokens[..open]);
        let (after, _) = phrase(text, tokens.get(close + 1..).unwrap_or(&[]));
        let name = (!name.is_empty()).then_some(name);
        let comment_name = comments().find(|c| !c.trim().is_empty());
        let shown: Vec<String> = name.iter().cloned().chain([after]).chain(comments()).filter(|t| !t.is_empty()).collect();
        return Some(Mailbox { name: name.or(comment_name), address: join(text, inner), group: None, shown_text: shown.join(" ") });
    }
    // A bare addr-spec: a comment stands for the display name (as Thunderbird shows it).
    let shown: Vec<String> = comments().filter(|c| !c.trim().is_empty()).collect();
    let name = shown.first().map(|c| c.trim().to_string());
    Some(Mailbox { name, address: join(text, tokens), group: None, shown_text: shown.join(" ") })
}

/// A display name or group name: the text the tokens span, comments left out, quoted strings
/// unquoted, runs of white space made one space, encoded words decoded. Also whether it was
/// empty of everything but comments.
fn phrase(text: &str, tokens: &[Token]) -> (String, bool) {
    let mut out = String::new();
    let mut last_end: Option<usize> = None;
    for t in tokens {
        let Some(start) = t.start() else { continue };
        if last_end.is_some_and(|e| e < start) && !out.is_empty() {
            out.push(' ');
        }
        match t {
            Token::Word(s, e) => {
                out.push_str(&text[*s..*e]);
                last_end = Some(*e);
            }
            Token::Quoted(q, _, e) => {
                out.push_str(q);
                last_end = Some(*e);
            }
            Token::Special(c, s) => {
                out.push(*c);
                last_end = Some(s + c.len_utf8());
            }
            Token::Comment(_) => {}
        }
    }
    let decoded = decode_encoded_words(&out);
    let empty = decoded.trim().is_empty();
    (decoded.trim().to_string(), empty)
}

/// An addr-spec from its tokens: comments and white space left out, quoted strings kept quoted.
fn join(text: &str, tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        match t {
            Token::Word(s, e) => out.push_str(&text[*s..*e]),
            Token::Quoted(q, _, _) => {
                out.push('"');
                out.push_str(q);
                out.push('"');
            }
            Token::Special(c, _) => out.push(*c),
            Token::Comment(_) => {}
        }
    }
    out
}

/// Addresses (`local@domain`) written into display text, as a reader would take them: around
/// each `@` (or its full-width look-alikes `＠` and `﹫`), with white space next to it skipped,
/// up to the next space, bracket, quote, comma, colon or semicolon. In the order found, `@`
/// made ASCII.
pub fn addresses_in_text(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let is_at = |c: char| matches!(c, '@' | '\u{ff20}' | '\u{fe6b}');
    let stops = |c: char| c.is_whitespace() || "<>()[]\"',;:".contains(c) || is_at(c);
    let mut found = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if !is_at(c) {
            continue;
        }
        // The local part: back over white space, then to the previous stop (never past an
        // earlier `@`, so each character is looked at a bounded number of times).
        let mut l = i;
        while l > 0 && chars[l - 1].is_whitespace() && !is_at(chars[l - 1]) {
            l -= 1;
        }
        let local_end = l;
        while l > 0 && !stops(chars[l - 1]) {
            l -= 1;
        }
        let mut r = i + 1;
        while r < chars.len() && chars[r].is_whitespace() {
            r += 1;
        }
        let domain_start = r;
        while r < chars.len() && !stops(chars[r]) {
            r += 1;
        }
        if l < local_end && domain_start < r {
            let local: String = chars[l..local_end].iter().collect();
            let domain: String = chars[domain_start..r].iter().collect();
            found.push(format!("{local}@{domain}"));
        }
    }
    found
}

/// The form a message's or a user's address is compared in: the local part as written (RFC 5321:
/// local parts are case-sensitive), the domain in A-labels and lower case, converted only when it
/// needs no UTS 46 mapping (`certs::address::mailbox_key`). None when it is not an address.
/// Certificate addresses have their own, stricter reading: `certs::address::cert_address_key`.
pub fn normalize(address: &str) -> Option<String> {
    crate::certs::address::mailbox_key(address)
}

/// `normalize` with the local part in lower case as well: only for finding the user's own
/// identities by address (their keys were always stored so; which of your own certificates signs
/// carries no name-constraint question). Never for a contact's certificate.
pub fn normalize_caseless(address: &str) -> Option<String> {
    let key = normalize(address)?;
    let (local, domain) = key.rsplit_once('@')?;
    Some(format!("{}@{domain}", local.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing found the old tokenizer looping for ever (and eating memory) on a `)` outside a
    /// comment: it made an empty word of it without moving on.
    #[test]
    fn a_close_paren_outside_a_comment_is_a_token_of_its_own() {
        assert_eq!(parse_mailbox_list("a)").len(), 1);
        assert_eq!(parse_mailbox_list("a@examp)e.org").len(), 1);
        assert_eq!(parse_mailbox_list(")))").len(), 1);
        assert!(parse_mailbox_list("(a))b <c@d.org>").iter().any(|m| m.address == "c@d.org"));
    }

    fn addrs(v: &str) -> Vec<String> {
        parse_mailbox_list(v).into_iter().map(|m| m.address).collect()
    }

    #[test]
    fn parses_the_usual_and_the_tricky_forms() {
        assert_eq!(addrs("alice@example.org"), vec!["alice@example.org"]);
        assert_eq!(addrs("Alice <alice@example.org>"), vec!["alice@example.org"]);
        assert_eq!(addrs("\"alice@example.org\" <eve@example.net>"), vec!["eve@example.net"]);
        assert_eq!(addrs("\"Doe, J.\" <j@x.org>, b@y.org"), vec!["j@x.org", "b@y.org"]);
        assert_eq!(addrs("team: a@x.org, b@x.org;"), vec!["a@x.org", "b@x.org"]);
        assert_eq!(addrs("a@x.org (Alice (the real one))"), vec!["a@x.org"]);
        assert_eq!(addrs("<@route.example:a@x.org>"), vec!["a@x.org"]);
        assert!(addrs("").is_empty());
        assert_eq!(parse_mailbox_list("=?utf-8?Q?J=C3=BCrgen?= <j@x.de>")[0].name.as_deref(), Some("Jürgen"));
    }

    #[test]
    fn display_names_keep_their_text_and_comments_name_bare_addresses() {
        let one = |v: &str| parse_mailbox_list(v).remove(0);
        assert_eq!(one("boss@corp.example <eve@evil.example>").name.as_deref(), Some("boss@corp.example"));
        assert_eq!(one("\"Doe, J.\" <j@x.org>").name.as_deref(), Some("Doe, J."));
        assert_eq!(one("Jane   Q.  Doe <j@x.org>").name.as_deref(), Some("Jane Q. Doe"));
        assert_eq!(one("=?utf-8?Q?a?= =?utf-8?Q?b?= <j@x.org>").name.as_deref(), Some("ab"));
        let m = one("eve@evil.example (boss@corp.example)");
        assert_eq!((m.name.as_deref(), m.address.as_str()), (Some("boss@corp.example"), "eve@evil.example"));
        let m = one("<eve@evil.example> boss@corp.example");
        assert_eq!((m.address.as_str(), m.shown_text.as_str()), ("eve@evil.example", "boss@corp.example"));
        assert_eq!(one("\"a b\"@x.org").address, "\"a b\"@x.org");
    }

    #[test]
    fn groups_are_reported_with_their_names() {
        let list = parse_address_list("boss@corp.example: eve@evil.example;");
        assert_eq!(list.groups, vec!["boss@corp.example"]);
        assert_eq!(list.mailboxes[0].address, "eve@evil.example");
        assert_eq!(list.mailboxes[0].group.as_deref(), Some("boss@corp.example"));
        let list = parse_address_list("a@x.org, team: b@x.org, c@x.org; d@x.org");
        let groups: Vec<Option<&str>> = list.mailboxes.iter().map(|m| m.group.as_deref()).collect();
        assert_eq!(groups, vec![None, Some("team"), Some("team"), None]);
        assert_eq!(parse_address_list("undisclosed-recipients:;").groups, vec!["undisclosed-recipients"]);
        assert!(parse_address_list("undisclosed-recipients:;").mailboxes.is_empty());
        assert!(parse_address_list("<@route.example:a@x.org>").groups.is_empty());
    }

    #[test]
    fn addresses_are_found_in_display_text() {
        assert_eq!(addresses_in_text("boss@corp.example"), vec!["boss@corp.example"]);
        assert_eq!(addresses_in_text("Boss (boss @ corp.example)"), vec!["boss@corp.example"]);
        assert_eq!(addresses_in_text("boss\u{ff20}corp.example"), vec!["boss@corp.example"]);
        assert_eq!(addresses_in_text("a@b@c"), vec!["a@b", "b@c"]);
        assert!(addresses_in_text("Alice Example").is_empty());
        assert!(addresses_in_text("@ lone").is_empty());
    }

    /// Lists of up to 200,000 mailboxes, the same in one group, and text full of `@`: parsed
    /// in linear time.
    #[test]
    fn long_lists_parse_in_linear_time() {
        use crate::growth::assert_linear;
        let list = |n: usize| (n, (0..n).map(|i| format!("u{i}@x.org, ")).collect::<String>());
        assert_linear("a list of mailboxes", 50_000, list, |(n, list)| assert_eq!(parse_mailbox_list(list).len(), *n));
        let group = |n: usize| (n, format!("g: {}", (0..n).map(|i| format!("\"n\" (c) <u{i}@x.org>,")).collect::<String>()));
        assert_linear("a group of mailboxes", 50_000, group, |(n, group)| assert_eq!(parse_address_list(group).mailboxes.len(), *n));
        let ats = |n: usize| "@".repeat(10 * n) + &"a ".repeat(n);
        assert_linear("text full of @", 25_000, ats, |text| assert!(addresses_in_text(text).is_empty()));
    }

    #[test]
    fn normalisation_keeps_the_local_part_and_folds_only_the_ascii_domain() {
        assert_eq!(normalize("Alice@Example.ORG").as_deref(), Some("Alice@example.org"));
        assert_eq!(normalize("info@bücher.de").as_deref(), Some("info@xn--bcher-kva.de"));
        assert_eq!(normalize("alice@example\u{FF0E}org"), None);
        assert_eq!(normalize("not an address"), None);
        assert_eq!(normalize("a@"), None);
    }
}
