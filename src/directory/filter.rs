//! Search filters (RFC 4515) with the looked-up address in them.
//!
//! A directory's filter is a template such as `(|(mail=%s)(proxyAddresses=smtp:%s))`. It is
//! parsed once, as the configuration is read; `%s` may stand only inside an assertion value.
//! The address then goes into the parsed filter as a value, never as filter text: whatever it
//! holds (`*`, `(`, `)`, `\`, NUL) can only ever be compared, so it cannot widen, end or add
//! to the filter. [`FilterTemplate::render`] writes the same filter as text with the address
//! escaped per RFC 4515 (for people and for the tests, which check that both forms agree).

use super::ber;

/// The placeholder for the address in a template.
pub const PLACEHOLDER: &str = "%s";

/// The default template: the `mail` attribute, or Exchange/Active Directory's `proxyAddresses`
/// (`smtp:` marks a secondary address; `SMTP:` the primary one, matched alike because the
/// attribute compares without case).
pub const DEFAULT_FILTER: &str = "(|(mail=%s)(proxyAddresses=smtp:%s))";

/// The longest template accepted, and how deeply it may nest.
const MAX_TEMPLATE_LEN: usize = 4096;
const MAX_DEPTH: usize = 16;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterTemplate {
    root: Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// equalityMatch (tag 0xa3), greaterOrEqual (0xa5), lessOrEqual (0xa6), approxMatch (0xa8).
    Compare { tag: u8, attr: String, value: Value },
    Present { attr: String },
    Substrings { attr: String, initial: Option<Value>, any: Vec<Value>, last: Option<Value> },
    Extensible { rule: Option<String>, attr: Option<String>, dn: bool, value: Value },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Value(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Bytes(Vec<u8>),
    Address,
}

impl Value {
    fn bytes(&self, address: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.0 {
            match part {
                Part::Bytes(b) => out.extend_from_slice(b),
                Part::Address => out.extend_from_slice(address.as_bytes()),
            }
        }
        out
    }

    fn has_address(&self) -> bool {
        self.0.contains(&Part::Address)
    }
}

impl FilterTemplate {
    /// Parses a template; the error says what is wrong, for the configuration's problems.
    pub fn parse(text: &str) -> Result<FilterTemplate, String> {
        let template = FilterTemplate::parse_filter(text)?;
        if !template.root.has_address() {
            return Err(format!("the filter does not contain {PLACEHOLDER} (where the address goes)"));
        }
        Ok(template)
    }

    /// Parses a filter, with or without the placeholder.
    fn parse_filter(text: &str) -> Result<FilterTemplate, String> {
        if text.len() > MAX_TEMPLATE_LEN {
            return Err(format!("the filter is longer than {MAX_TEMPLATE_LEN} characters"));
        }
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        let root = p.filter(0)?;
        if p.i != p.s.len() {
            return Err(format!("unexpected text after the filter at character {}", p.i + 1));
        }
        Ok(FilterTemplate { root })
    }

    /// The filter for `address`, BER-encoded for a SearchRequest.
    pub fn encode(&self, address: &str) -> Vec<u8> {
        self.root.encode(address)
    }

    /// One filter that matches any of `addresses` (an `or` of the template for each).
    pub fn encode_any(&self, addresses: &[&str]) -> Vec<u8> {
        match addresses {
            [one] => self.encode(one),
            many => ber::tlv(0xa1, &many.iter().flat_map(|a| self.encode(a)).collect::<Vec<u8>>()),
        }
    }

    /// The filter for `address` as text, the address escaped per RFC 4515.
    pub fn render(&self, address: &str) -> String {
        let mut out = String::new();
        self.root.render(address, &mut out);
        out
    }
}

impl Node {
    fn has_address(&self) -> bool {
        match self {
            Node::And(list) | Node::Or(list) => list.iter().any(Node::has_address),
            Node::Not(inner) => inner.has_address(),
            Node::Compare { value, .. } | Node::Extensible { value, .. } => value.has_address(),
            Node::Present { .. } => false,
            Node::Substrings { initial, any, last, .. } => {
                initial.iter().chain(any).chain(last).any(Value::has_address)
            }
        }
    }

    fn encode(&self, address: &str) -> Vec<u8> {
        let octets = |tag: u8, b: &[u8]| ber::octets(tag, b);
        match self {
            Node::And(list) => ber::tlv(0xa0, &list.iter().flat_map(|n| n.encode(address)).collect::<Vec<u8>>()),
            Node::Or(list) => ber::tlv(0xa1, &list.iter().flat_map(|n| n.encode(address)).collect::<Vec<u8>>()),
            Node::Not(inner) => ber::tlv(0xa2, &inner.encode(address)),
            Node::Compare { tag, attr, value } => {
                ber::tlv(*tag, &[octets(ber::OCTET_STRING, attr.as_bytes()), octets(ber::OCTET_STRING, &value.bytes(address))].concat())
            }
            Node::Present { attr } => octets(0x87, attr.as_bytes()),
            Node::Substrings { attr, initial, any, last } => {
                let mut subs = Vec::new();
                if let Some(v) = initial {
                    subs.extend(octets(0x80, &v.bytes(address)));
                }
                for v in any {
                    subs.extend(octets(0x81, &v.bytes(address)));
                }
                if let Some(v) = last {
                    subs.extend(octets(0x82, &v.bytes(address)));
                }
                ber::tlv(0xa4, &[octets(ber::OCTET_STRING, attr.as_bytes()), ber::tlv(ber::SEQUENCE, &subs)].concat())
            }
            Node::Extensible { rule, attr, dn, value } => {
                let mut c = Vec::new();
                if let Some(r) = rule {
                    c.extend(octets(0x81, r.as_bytes()));
                }
                if let Some(a) = attr {
                    c.extend(octets(0x82, a.as_bytes()));
                }
                c.extend(octets(0x83, &value.bytes(address)));
                if *dn {
                    c.extend(ber::tlv(0x84, &[0xff]));
                }
                ber::tlv(0xa9, &c)
            }
        }
    }

    fn render(&self, address: &str, out: &mut String) {
        out.push('(');
        match self {
            Node::And(list) | Node::Or(list) => {
                out.push(if matches!(self, Node::And(_)) { '&' } else { '|' });
                for n in list {
                    n.render(address, out);
                }
            }
            Node::Not(inner) => {
                out.push('!');
                inner.render(address, out);
            }
            Node::Compare { tag, attr, value } => {
                out.push_str(attr);
                out.push_str(match tag {
                    0xa5 => ">=",
                    0xa6 => "<=",
                    0xa8 => "~=",
                    _ => "=",
                });
                out.push_str(&escape_value(&value.bytes(address)));
            }
            Node::Present { attr } => {
                out.push_str(attr);
                out.push_str("=*");
            }
            Node::Substrings { attr, initial, any, last } => {
                out.push_str(attr);
                out.push('=');
                if let Some(v) = initial {
                    out.push_str(&escape_value(&v.bytes(address)));
                }
                out.push('*');
                for v in any {
                    out.push_str(&escape_value(&v.bytes(address)));
                    out.push('*');
                }
                if let Some(v) = last {
                    out.push_str(&escape_value(&v.bytes(address)));
                }
            }
            Node::Extensible { rule, attr, dn, value } => {
                if let Some(a) = attr {
                    out.push_str(a);
                }
                if *dn {
                    out.push_str(":dn");
                }
                if let Some(r) = rule {
                    out.push(':');
                    out.push_str(r);
                }
                out.push_str(":=");
                out.push_str(&escape_value(&value.bytes(address)));
            }
        }
        out.push(')');
    }
}

/// An assertion value written for a filter string (RFC 4515 section 3): `*`, `(`, `)`, `\` and
/// NUL as `\2a`, `\28`, `\29`, `\5c`, `\00`; bytes that are not UTF-8, and other control
/// characters, as `\XX` too.
pub fn escape_value(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for chunk in value.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '*' | '(' | ')' | '\\' | '\0' => out.push_str(&format!("\\{:02x}", c as u32)),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\{b:02x}"));
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Result<(), String> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at character {}", b as char, self.i + 1))
        }
    }

    fn filter(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the filter nests more than {MAX_DEPTH} levels"));
        }
        // Whitespace around the outermost filter is tolerated (a common typing habit).
        if depth == 0 {
            while self.peek() == Some(b' ') {
                self.i += 1;
            }
        }
        self.eat(b'(')?;
        let node = match self.peek() {
            Some(b'&') | Some(b'|') => {
                let and = self.peek() == Some(b'&');
                self.i += 1;
                let mut list = Vec::new();
                while self.peek() == Some(b'(') {
                    list.push(self.filter(depth + 1)?);
                }
                if and {
                    Node::And(list)
                } else {
                    Node::Or(list)
                }
            }
            Some(b'!') => {
                self.i += 1;
                Node::Not(Box::new(self.filter(depth + 1)?))
            }
            _ => self.item()?,
        };
        self.eat(b')')?;
        if depth == 0 {
            while self.peek() == Some(b' ') {
                self.i += 1;
            }
        }
        Ok(node)
    }

    /// An attribute description (`mail`, `userCertificate;binary`, `2.5.4.3`) or a matching
    /// rule, up to the next character that cannot belong to one.
    fn word(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b';') {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn item(&mut self) -> Result<Node, String> {
        let at = self.i + 1;
        let attr = self.word();
        if self.peek() == Some(b':') {
            return self.extensible(attr);
        }
        check_attribute(&attr).map_err(|e| format!("{e} at character {at}"))?;
        let tag = match (self.peek(), self.s.get(self.i + 1).copied()) {
            (Some(b'='), _) => {
                self.i += 1;
                None
            }
            (Some(b'>'), Some(b'=')) => Some(0xa5),
            (Some(b'<'), Some(b'=')) => Some(0xa6),
            (Some(b'~'), Some(b'=')) => Some(0xa8),
            _ => return Err(format!("expected =, >=, <= or ~= at character {}", self.i + 1)),
        };
        if let Some(tag) = tag {
            self.i += 2;
            let value = self.value(false)?.pop().unwrap_or_default();
            return Ok(Node::Compare { tag, attr, value });
        }
        let mut pieces = self.value(true)?;
        match pieces.len() {
            1 => Ok(Node::Compare { tag: 0xa3, attr, value: pieces.pop().unwrap_or_default() }),
            2 if pieces.iter().all(|p| p.0.is_empty()) => Ok(Node::Present { attr }),
            _ => {
                let last = pieces.pop().filter(|v| !v.0.is_empty());
                let first = pieces.remove(0);
                let initial = (!first.0.is_empty()).then_some(first);
                let any: Vec<Value> = pieces.into_iter().filter(|v| !v.0.is_empty()).collect();
                Ok(Node::Substrings { attr, initial, any, last })
            }
        }
    }

    /// `attr[:dn][:rule]:=value` or `[:dn]:rule:=value` (RFC 4515's extensible match).
    fn extensible(&mut self, attr: String) -> Result<Node, String> {
        let attr = if attr.is_empty() {
            None
        } else {
            check_attribute(&attr)?;
            Some(attr)
        };
        let mut dn = false;
        let mut rule = None;
        loop {
            self.eat(b':')?;
            if self.peek() == Some(b'=') {
                self.i += 1;
                break;
            }
            let word = self.word();
            if word.eq_ignore_ascii_case("dn") && !dn && rule.is_none() {
                dn = true;
            } else if rule.is_none() && !word.is_empty() {
                check_attribute(&word)?;
                rule = Some(word);
            } else {
                return Err(format!("malformed extensible match at character {}", self.i + 1));
            }
        }
        if attr.is_none() && rule.is_none() {
            return Err("an extensible match needs an attribute or a matching rule".into());
        }
        let value = self.value(false)?.pop().unwrap_or_default();
        Ok(Node::Extensible { rule, attr, dn, value })
    }

    /// An assertion value up to the closing parenthesis; with `split`, cut at each unescaped
    /// `*` (substrings). `\XX` escapes and `%s` placeholders are resolved into parts.
    fn value(&mut self, split: bool) -> Result<Vec<Value>, String> {
        let mut pieces = vec![Value::default()];
        let mut bytes: Vec<u8> = Vec::new();
        let flush = |bytes: &mut Vec<u8>, pieces: &mut Vec<Value>| {
            if !bytes.is_empty() {
                pieces.last_mut().expect("never empty").0.push(Part::Bytes(std::mem::take(bytes)));
            }
        };
        loop {
            match self.peek() {
                None => return Err("the filter ends inside a value".into()),
                Some(b')') => break,
                Some(b'(') => return Err(format!("unescaped ( in a value at character {}", self.i + 1)),
                Some(0) => return Err("NUL in the filter".into()),
                Some(b'*') if split => {
                    flush(&mut bytes, &mut pieces);
                    pieces.push(Value::default());
                    self.i += 1;
                }
                Some(b'*') => return Err(format!("unescaped * in a value at character {}", self.i + 1)),
                Some(b'\\') => {
                    let hex = self.s.get(self.i + 1..self.i + 3).and_then(|h| std::str::from_utf8(h).ok());
                    let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                    let Some(byte) = byte else {
                        return Err(format!("\\ must be followed by two hex digits at character {}", self.i + 1));
                    };
                    bytes.push(byte);
                    self.i += 3;
                }
                Some(b'%') if self.s.get(self.i + 1) == Some(&b's') => {
                    flush(&mut bytes, &mut pieces);
                    pieces.last_mut().expect("never empty").0.push(Part::Address);
                    self.i += 2;
                }
                Some(b) => {
                    bytes.push(b);
                    self.i += 1;
                }
            }
        }
        flush(&mut bytes, &mut pieces);
        Ok(pieces)
    }
}

/// An attribute description or OID: letters, digits, `-`, `.`, options after `;`.
fn check_attribute(attr: &str) -> Result<(), String> {
    let base = attr.split(';').next().unwrap_or("");
    let descr = base.starts_with(|c: char| c.is_ascii_alphabetic()) && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let oid = !base.is_empty() && base.split('.').all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    let options_ok = attr.split(';').skip(1).all(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if (descr || oid) && options_ok {
        Ok(())
    } else {
        Err(format!("{attr:?} is not an attribute name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> FilterTemplate {
        FilterTemplate::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_default_filter_encodes_as_ldap_expects() {
        let f = t(DEFAULT_FILTER).encode("bob@example.org");
        let eq = |attr: &str, value: &str| ber::tlv(0xa3, &[ber::octets(4, attr.as_bytes()), ber::octets(4, value.as_bytes())].concat());
        let expected = ber::tlv(0xa1, &[eq("mail", "bob@example.org"), eq("proxyAddresses", "smtp:bob@example.org")].concat());
        assert_eq!(f, expected);
    }

    #[test]
    fn an_address_with_filter_syntax_in_it_stays_a_value() {
        let template = t("(&(objectClass=person)(mail=%s))");
        for hostile in ["*", "a*)(mail=*", "x)(|(objectClass=*", "a\\2a@b", "a\0b@x.org", "(", ")", "\\", "*)(uid=*))(|(uid=*"] {
            // The structure (an `and` of two equality matches) never changes; the address is
            // the second match's value, byte for byte.
            let ber = template.encode(hostile);
            let mut outer = ber::Reader::new(&ber);
            let and = outer.expect(0xa0).unwrap();
            assert!(outer.is_empty());
            let mut items = and.children();
            items.expect(0xa3).unwrap();
            let mail = items.expect(0xa3).unwrap();
            assert!(items.is_empty(), "{hostile:?}");
            let mut ava = mail.children();
            assert_eq!(ava.expect(4).unwrap().content, b"mail");
            assert_eq!(ava.expect(4).unwrap().content, hostile.as_bytes());
            // The text form escapes it, and parses back to the very same filter.
            let text = template.render(hostile);
            assert_eq!(FilterTemplate::parse_filter(&text).unwrap().encode("unused"), ber, "{hostile:?} rendered as {text}");
        }
    }

    #[test]
    fn escaping_follows_rfc_4515() {
        assert_eq!(escape_value(b"a*b(c)d\\e\0f"), "a\\2ab\\28c\\29d\\5ce\\00f");
        assert_eq!(escape_value("müller@example.org".as_bytes()), "müller@example.org");
        assert_eq!(escape_value(b"\xff\n"), "\\ff\\0a");
        assert_eq!(t("(mail=%s)").render("*)(uid=*"), "(mail=\\2a\\29\\28uid=\\2a)");
    }

    #[test]
    fn substrings_present_comparisons_and_extensible_matches_parse() {
        let f = t("(&(mail=*%s*)(cn=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2))(sn>=a)(x:dn:caseExactMatch:=%s))");
        assert_eq!(f.render("b"), "(&(mail=*b*)(cn=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2))(sn>=a)(x:dn:caseExactMatch:=b))");
        let ber = t("(mail=pre%smid*end)").encode("A");
        let mut r = ber::Reader::new(&ber);
        let subs = r.expect(0xa4).unwrap();
        let mut c = subs.children();
        assert_eq!(c.expect(4).unwrap().content, b"mail");
        let mut parts = c.expect(0x30).unwrap().children();
        assert_eq!(parts.expect(0x80).unwrap().content, b"preAmid");
        assert_eq!(parts.expect(0x82).unwrap().content, b"end");
        assert_eq!(t("(mail=a\\2a%s)").encode("x"), ber::tlv(0xa3, &[ber::octets(4, b"mail"), ber::octets(4, b"a*x")].concat()));
    }

    #[test]
    fn broken_templates_are_refused_with_a_reason() {
        for bad in [
            "",
            "mail=%s",
            "(mail=%s",
            "(mail=%s))",
            "(mail=bob)",
            "(&(mail=%s)(cn=(x)))",
            "(mail=\\zz%s)",
            "(ma il=%s)",
            "(=%s)",
            "(mail~%s)",
            "(:=%s)",
            "(mail=%s)(cn=%s)",
        ] {
            assert!(FilterTemplate::parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{}(mail=%s){}", "(!".repeat(40), ")".repeat(40));
        assert!(FilterTemplate::parse(&deep).unwrap_err().contains("nests"));
        assert!(FilterTemplate::parse(&"(mail=%s)".repeat(1000)).is_err());
    }

    #[test]
    fn several_addresses_go_into_one_or() {
        let f = t("(mail=%s)");
        let any = f.encode_any(&["a@x.org", "b@x.org"]);
        let mut r = ber::Reader::new(&any);
        let mut or = r.expect(0xa1).unwrap().children();
        assert_eq!(or.read().unwrap().content, &f.encode("a@x.org")[2..]);
        assert_eq!(or.read().unwrap().content, &f.encode("b@x.org")[2..]);
        assert_eq!(f.encode_any(&["a@x.org"]), f.encode("a@x.org"));
    }
}
