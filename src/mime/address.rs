//! Mailbox lists (`From`, `Sender`) per RFC 5322: display names, angle addresses, groups,
//! quoted strings and comments; plus the comparison form of such an address (`normalize`).

use super::header::decode_encoded_words;
use serde::Serialize;

/// One mailbox: the display name (decoded, for showing only) and the addr-spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Special(char),
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                let mut depth = 0;
                while i < chars.len() {
                    match chars[i] {
                        '\\' => i += 1,
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                i += 1;
                tokens.push(Token::Quoted(s));
            }
            '<' | '>' | '@' | ',' | ';' | ':' | '.' | '[' | ']' => {
                tokens.push(Token::Special(c));
                i += 1;
            }
            _ => {
                let mut s = String::new();
                while i < chars.len() && !chars[i].is_whitespace() && !"()<>@,;:.[]\"".contains(chars[i]) {
                    s.push(chars[i]);
                    i += 1;
                }
                tokens.push(Token::Word(s));
            }
        }
    }
    tokens
}

/// Parses an address list into mailboxes (groups are flattened).
pub fn parse_mailbox_list(value: &str) -> Vec<Mailbox> {
    let tokens = tokenize(value);
    let mut out = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut in_angle = false;
    for token in tokens {
        match token {
            Token::Special('<') => {
                in_angle = true;
                current.push(token);
            }
            Token::Special('>') => {
                in_angle = false;
                current.push(token);
            }
            // A group name ends at ':'; its members follow.
            Token::Special(':') if !in_angle => current.clear(),
            Token::Special(',') | Token::Special(';') if !in_angle => {
                if let Some(m) = mailbox(&current) {
                    out.push(m);
                }
                current.clear();
            }
            _ => current.push(token),
        }
    }
    if let Some(m) = mailbox(&current) {
        out.push(m);
    }
    out
}

fn mailbox(tokens: &[Token]) -> Option<Mailbox> {
    if tokens.is_empty() {
        return None;
    }
    if let Some(open) = tokens.iter().position(|t| *t == Token::Special('<')) {
        let close = tokens.iter().rposition(|t| *t == Token::Special('>')).filter(|&c| c > open).unwrap_or(tokens.len());
        let mut inner = &tokens[open + 1..close];
        // Obsolete source route "@a,@b:addr".
        if let Some(colon) = inner.iter().position(|t| *t == Token::Special(':')) {
            inner = &inner[colon + 1..];
        }
        let name = display_name(&tokens[..open]);
        return Some(Mailbox { name, address: join(inner) });
    }
    Some(Mailbox { name: None, address: join(tokens) })
}

fn display_name(tokens: &[Token]) -> Option<String> {
    let words: Vec<String> = tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) => decode_encoded_words(w),
            Token::Quoted(q) => decode_encoded_words(q),
            Token::Special(c) => c.to_string(),
        })
        .collect();
    let name = words.join(" ");
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_string())
}

fn join(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| match t {
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => format!("\"{q}\""),
            Token::Special(c) => c.to_string(),
        })
        .collect()
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
    fn normalisation_keeps_the_local_part_and_folds_only_the_ascii_domain() {
        assert_eq!(normalize("Alice@Example.ORG").as_deref(), Some("Alice@example.org"));
        assert_eq!(normalize("info@bücher.de").as_deref(), Some("info@xn--bcher-kva.de"));
        assert_eq!(normalize("alice@example\u{FF0E}org"), None);
        assert_eq!(normalize("not an address"), None);
        assert_eq!(normalize("a@"), None);
    }
}
