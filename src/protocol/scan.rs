//! A quick reading of a request frame for the common case: a JSON object with nothing unusual in
//! it. A 25 MiB message arrives as 35 MB of base64 inside one JSON string; serde_json reads such a
//! string a few bytes at a time, and the envelope checks read every frame twice before the op's
//! handler reads it again. This scanner checks the whole frame once, skipping through long
//! strings many bytes at a time, and hands back the top-level members.
//!
//! It is an accelerator, never a second opinion: it answers only for text that serde_json reads
//! the same way and that passes every envelope check (valid JSON, no key twice in any object),
//! and gives up (`None`) on anything else: invalid JSON, a duplicate key, a `\u` escape or an
//! escaped key, a number with an exponent or of more than `MAX_NUMBER_CHARS` characters, nesting
//! deeper than `MAX_DEPTH`. The caller then takes serde_json's path, which says exactly what is
//! wrong (envelope.rs).

/// Nesting (objects and arrays) the scanner follows; deeper requests take serde_json's path
/// (whose own limit is 128).
const MAX_DEPTH: usize = 64;

/// Longest number the scanner accepts: serde_json reads any such number without loss of range.
const MAX_NUMBER_CHARS: usize = 20;

/// One member of an object: its key (as written, it has no escapes), the JSON text of its value,
/// and whether that value is a string with escapes in it.
#[derive(Debug, PartialEq, Eq)]
pub struct Member<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub escaped: bool,
}

/// A member's place in the text: key, value, and whether the value is a string with escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberSpan {
    pub key: Span,
    pub value: Span,
    pub escaped: bool,
}

impl MemberSpan {
    /// The member in `text`, the text it was found in (or the same text at another offset).
    pub fn member<'a>(&self, text: &'a str, offset: usize) -> Option<Member<'a>> {
        let at = |(a, z): Span| text.get(a.checked_sub(offset)?..z.checked_sub(offset)?);
        Some(Member { key: at(self.key)?, value: at(self.value)?, escaped: self.escaped })
    }
}

/// The members of the object that `text` is, in order, when the scanner can vouch for all of
/// `text` (see the module comment); None when serde_json must read it.
pub fn plain_object(text: &str) -> Option<Vec<Member<'_>>> {
    let (members, _) = plain_object_spans(text, None)?;
    // Every boundary the scanner stops at is an ASCII byte, so these slices are on characters.
    members.iter().map(|m| m.member(text, 0)).collect()
}

/// `plain_object` as places in `text`; and when the member named `inner` is an object too, the
/// places of its members (read in the same pass: a request's params, which an op splits).
pub fn plain_object_spans(text: &str, inner: Option<&str>) -> Option<(Vec<MemberSpan>, Option<Vec<MemberSpan>>)> {
    let mut s = Scanner { b: text.as_bytes(), i: 0 };
    s.skip_space();
    if s.peek()? != b'{' {
        return None;
    }
    let mut members = Vec::new();
    let mut inner_members = None;
    s.object(0, Some(&mut members), inner.map(|name| (name.as_bytes(), &mut inner_members)))?;
    s.skip_space();
    if s.i != s.b.len() {
        return None;
    }
    Some((members, inner_members))
}

pub type Span = (usize, usize);

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// An object at `self.i` (at its `{`); its members' places go to `out` when given, and those
    /// of the member `inner.0`, when it is an object, to `inner.1`.
    fn object(&mut self, depth: usize, mut out: Option<&mut Vec<MemberSpan>>, mut inner: Option<(&[u8], &mut Option<Vec<MemberSpan>>)>) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.expect(b'{')?;
        self.skip_space();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        let mut keys = Keys::default();
        loop {
            self.skip_space();
            self.expect(b'"')?;
            let start = self.i;
            let (end, escaped) = self.string_end()?;
            if escaped {
                return None; // comparing keys would need them unescaped
            }
            let key = &self.b[start..end - 1];
            if !keys.insert(key) {
                return None;
            }
            self.skip_space();
            self.expect(b':')?;
            self.skip_space();
            let value_start = self.i;
            let escaped = match inner.as_mut() {
                Some((name, found)) if *name == key && self.peek()? == b'{' => {
                    let mut members = Vec::new();
                    self.object(depth + 1, Some(&mut members), None)?;
                    **found = Some(members);
                    false
                }
                _ => self.value(depth + 1)?,
            };
            if let Some(out) = out.as_deref_mut() {
                out.push(MemberSpan { key: (start, end - 1), value: (value_start, self.i), escaped });
            }
            self.skip_space();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.expect(b'[')?;
        self.skip_space();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.skip_space();
            self.value(depth + 1)?;
            self.skip_space();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A value at `self.i`; true when it is a string with escapes.
    fn value(&mut self, depth: usize) -> Option<bool> {
        match self.peek()? {
            b'{' => self.object(depth, None, None).map(|_| false),
            b'[' => self.array(depth).map(|_| false),
            b'"' => {
                self.i += 1;
                self.string_end().map(|(_, escaped)| escaped)
            }
            b't' => self.literal(b"true").map(|_| false),
            b'f' => self.literal(b"false").map(|_| false),
            b'n' => self.literal(b"null").map(|_| false),
            b'-' | b'0'..=b'9' => self.number().map(|_| false),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b[self.i..].starts_with(word).then(|| self.i += word.len())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)?`, at most MAX_NUMBER_CHARS long; no exponent.
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) || self.i - start > MAX_NUMBER_CHARS {
            return None;
        }
        Some(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
    }

    /// Reads a string's content and closing quote (`self.i` is just past the opening one).
    /// Returns the index past the closing quote and whether the string had escapes.
    fn string_end(&mut self) -> Option<(usize, bool)> {
        let mut escaped = false;
        loop {
            self.i += plain_run(&self.b[self.i..]);
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some((self.i, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.b.get(self.i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            // A surrogate (half of a pair, or alone) is serde_json's call.
                            let code = hex4(self.b.get(self.i + 2..self.i + 6)?)?;
                            if (0xD800..=0xDFFF).contains(&code) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }
}

/// The value of four hex digits.
fn hex4(digits: &[u8]) -> Option<u16> {
    digits.iter().try_fold(0u16, |acc, &d| Some(acc << 4 | (d as char).to_digit(16)? as u16))
}

/// The bytes a JSON string literal (quotes included, as `plain_object` hands out member values)
/// spells as a binary string: each character one byte, U+0000 to U+00FF, the way JavaScript
/// holds raw bytes in a string (docs/PROTOCOL.md, `*_latin1` fields). None when the literal
/// is not such a string: a character above U+00FF, or text `plain_object` did not vouch for.
#[cfg(test)]
fn latin1_bytes(literal: &str) -> Option<Vec<u8>> {
    let mut bytes = literal.as_bytes().strip_prefix(b"\"")?.strip_suffix(b"\"")?.to_vec();
    let len = latin1_in_place(&mut bytes)?;
    bytes.truncate(len);
    Some(bytes)
}

/// `latin1_bytes` of a string literal's content (quotes excluded), written over the content
/// itself: each byte comes from one to six bytes of text, so writing never overtakes reading.
/// Returns how many bytes the start of `text` now holds.
pub fn latin1_in_place(text: &mut [u8]) -> Option<usize> {
    let (mut read, mut write) = (0, 0);
    loop {
        let run = ascii_run(&text[read..]);
        text.copy_within(read..read + run, write);
        read += run;
        write += run;
        let Some(&c) = text.get(read) else { return Some(write) };
        let (byte, len) = match c {
            b'\\' => match *text.get(read + 1)? {
                b'"' => (b'"', 2),
                b'\\' => (b'\\', 2),
                b'/' => (b'/', 2),
                b'b' => (0x08, 2),
                b'f' => (0x0c, 2),
                b'n' => (b'\n', 2),
                b'r' => (b'\r', 2),
                b't' => (b'\t', 2),
                b'u' => (u8::try_from(hex4(text.get(read + 2..read + 6)?)?).ok()?, 6),
                _ => return None,
            },
            // U+0080 to U+00FF: two bytes of UTF-8, C2 or C3 and one continuation byte.
            0xC2 | 0xC3 => {
                let next = *text.get(read + 1)?;
                if next & 0xC0 != 0x80 {
                    return None;
                }
                ((c & 0x1F) << 6 | (next & 0x3F), 2)
            }
            _ => return None, // a character above U+00FF (or a raw control character)
        };
        text[write] = byte;
        write += 1;
        read += len;
    }
}

/// How many bytes at the start of `b` are ASCII that a string holds as it is: neither `\`, a
/// control character nor the start of a longer UTF-8 sequence.
fn ascii_run(b: &[u8]) -> usize {
    run_without(b, |c| (c == b'\\') | (c < 0x20) | (c >= 0x80))
}

/// The keys of one object so far: a list while it is short (the usual case), a set once it is
/// long, so a hostile object of 100,000 keys costs no more than linear time.
#[derive(Default)]
struct Keys<'a> {
    few: Vec<&'a [u8]>,
    many: Option<std::collections::HashSet<&'a [u8]>>,
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// False when the key is already there.
    fn insert(&mut self, key: &'a [u8]) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        self.few.push(key);
        if self.few.len() > Self::FEW {
            self.many = Some(self.few.drain(..).collect());
        }
        true
    }
}

/// How many bytes at the start of `b` need no attention inside a string: neither `"`, `\` nor a
/// control character.
fn plain_run(b: &[u8]) -> usize {
    run_without(b, |c| (c == b'"') | (c == b'\\') | (c < 0x20))
}

/// How many bytes at the start of `b` are not `special`. Blocks are checked whole, without an
/// early exit inside one, which the compiler turns into vector compares.
#[inline(always)]
fn run_without(b: &[u8], special: impl Fn(u8) -> bool) -> usize {
    const BLOCK: usize = 64;
    let mut n = 0;
    for block in b.chunks_exact(BLOCK) {
        if block.iter().fold(false, |any, &c| any | special(c)) {
            break;
        }
        n += BLOCK;
    }
    n + b[n..].iter().position(|&c| special(c)).unwrap_or(b.len() - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Option<Vec<(&str, &str)>> {
        plain_object(text).map(|m| m.into_iter().map(|m| (m.key, m.value)).collect())
    }

    #[test]
    fn reads_the_members_of_a_plain_request() {
        let long = "A".repeat(10_000);
        let text = format!(r#" {{"id": 7, "op":"inspect_message" ,"params":{{"message_b64":"{long}","harvest":false,"x":[1,-2.5,null,true,{{}},[]],"y":"a\"b\\c\/\n"}}}} "#);
        let m = keys(&text).unwrap();
        assert_eq!(m[0], ("id", "7"));
        assert_eq!(m[1], ("op", "\"inspect_message\""));
        assert_eq!(m[2].0, "params");
        assert!(m[2].1.starts_with("{\"message_b64\"") && m[2].1.ends_with("\\n\"}"));
        assert_eq!(keys("{}"), Some(vec![]));
    }

    #[test]
    fn gives_up_on_whatever_serde_json_must_judge() {
        for text in [
            "",
            "[]",
            "\"x\"",
            "{",
            "{\"a\":1,}",
            "{\"a\":1}x",
            "{\"a\":1,\"a\":2}",
            "{\"p\":{\"a\":1,\"a\":2}}",
            "{\"p\":[{\"a\":1,\"a\":2}]}",
            "{\"a\\u0062\":1}",
            "{\"a\\n\":1}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":\"\\udfff\"}",
            "{\"a\":\"\\ud83d\\ude00\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\u12g4\"}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":1e3}",
            "{\"a\":01}",
            "{\"a\":-}",
            "{\"a\":1.}",
            "{\"a\":123456789012345678901}",
            "{\"a\":tru}",
            "{\"a\":\"unterminated}",
            "{\"a\" 1}",
            "{'a':1}",
        ] {
            assert_eq!(keys(text), None, "{text:?}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(keys(&deep), None);
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH - 2), "]".repeat(MAX_DEPTH - 2));
        assert!(keys(&ok).is_some());
    }

    #[test]
    fn binary_strings_come_back_as_their_bytes() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).cycle().take(5000).collect();
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        let literal = serde_json::to_string(&text).unwrap();
        let object = format!("{{\"m\":{literal}}}");
        let members = plain_object(&object).expect("JSON.stringify's escapes are all plain");
        assert_eq!(latin1_bytes(members[0].value).unwrap(), bytes);
        assert_eq!(latin1_bytes(r#""a\u00e9\u00FF\/\b\f""#).unwrap(), b"a\xe9\xff/\x08\x0c");
        assert_eq!(latin1_bytes(r#""""#).unwrap(), b"");
        for not_bytes in [r#""\u0100""#, r#""\u20ac""#, "\"\u{20ac}\"", "\"\u{100}\"", "\"a", "a\"", r#""\x""#, r#""\u00e""#] {
            assert_eq!(latin1_bytes(not_bytes), None, "{not_bytes:?}");
        }
    }

    #[test]
    fn duplicate_keys_are_found_in_long_objects_too() {
        let members: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let text = format!("{{{}}}", members.join(","));
        assert_eq!(keys(&text).map(|m| m.len()), Some(40));
        for dup in [0, 16, 17, 39] {
            let text = format!("{{{},\"k{dup}\":0}}", members.join(","));
            assert_eq!(keys(&text), None, "k{dup} twice");
        }
    }

    #[test]
    fn a_hostile_number_of_keys_takes_linear_time() {
        let object = |n: usize| format!("{{\"p\":{{{}}}}}", (0..n).map(|i| format!("\"k{i}\":0")).collect::<Vec<_>>().join(","));
        crate::growth::assert_linear("an object of many keys", 50_000, object, |text| assert!(keys(text).is_some()));
    }

    /// The scanner's promise, checked on many mutated requests: whatever it vouches for,
    /// serde_json reads as the same object (same members, same value texts) without a key twice.
    #[test]
    fn what_the_scanner_vouches_for_serde_json_reads_the_same_way() {
        use std::collections::HashSet;
        const SEEDS: [&str; 4] = [
            r#"{"id":1,"op":"inspect_message","params":{"message_latin1":"a\r\nb\u00e9\"\\\/","harvest":false,"n":[1,-0.5,true,null,{"x":{}}]}}"#,
            r#" { "id" : "x\ty" , "op" : "ping" , "params" : { "echo" : [ [ ] , { } , "" , 0 ] } } "#,
            r#"{"a":{"b":{"c":[1,2,{"d":"e"}]}},"f":"\u0041\u00ff"}"#,
            "{\"k\":\"caf\u{e9} \u{20ac}\",\"l\":12345678901234567890}",
        ];
        const PIECES: [&str; 24] = [
            "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "\u{1}", "\\u", "\\ud800", "\\u00e9", "e5",
            "-", "0", "1.", "true", "nul", "\"a\"", "\"a\":1", "\u{e9}", "\u{20ac}",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut vouched, mut checked) = (0, 0);
        for round in 0..60_000 {
            let mut text = SEEDS[round % SEEDS.len()].to_string();
            for _ in 0..(next() % 4) {
                let mut at = (next() as usize) % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                match next() % 3 {
                    0 => text.insert_str(at, PIECES[(next() as usize) % PIECES.len()]),
                    1 => {
                        let mut end = (at + 1 + (next() as usize) % 3).min(text.len());
                        while !text.is_char_boundary(end) {
                            end += 1;
                        }
                        text.replace_range(at..end, "");
                    }
                    _ => {
                        let copy = text[at..].chars().take(8).collect::<String>();
                        text.insert_str(at, &copy);
                    }
                }
            }
            checked += 1;
            let Some(members) = plain_object(&text) else { continue };
            vouched += 1;
            let parsed: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("vouched for, but serde_json says {e}: {text}"));
            assert_eq!(parsed.len(), members.len(), "{text}");
            for m in &members {
                let value: serde_json::Value = serde_json::from_str(m.value).unwrap();
                assert_eq!(parsed.get(m.key), Some(&value), "{text}");
                if m.value.starts_with('{') {
                    assert_eq!(crate::protocol::envelope::first_duplicate_key(m.value, "$").unwrap(), None, "{text}");
                    // The inner object's members, read in the same pass, are those it has alone.
                    let (_, inner) = plain_object_spans(&text, Some(m.key)).unwrap();
                    let inner: Vec<Member> = inner.unwrap().iter().map(|s| s.member(&text, 0).unwrap()).collect();
                    assert_eq!(Some(inner), plain_object(m.value), "{text}");
                }
                assert_eq!(m.escaped, m.value.starts_with('"') && m.value.contains('\\'), "{text}");
            }
            let keys: HashSet<&str> = members.iter().map(|m| m.key).collect();
            assert_eq!(keys.len(), members.len(), "{text}");
        }
        assert!(vouched > checked / 10 && vouched < checked, "{vouched} of {checked} vouched for: the mutations test too little");
    }

    #[test]
    fn plain_runs_stop_at_every_special_byte_wherever_it_is() {
        for len in [0, 1, 63, 64, 65, 200] {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut b = vec![b'A'; len];
                    b[at] = special;
                    assert_eq!(plain_run(&b), at, "len {len} at {at} byte {special}");
                }
            }
            assert_eq!(plain_run(&vec![0xC3; len]), len);
        }
    }
}
