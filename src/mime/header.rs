//! Header fields: the header block of an entity, unfolding, `Content-Type` with its parameters
//! (RFC 2045, RFC 2231), and encoded words in display text (RFC 2047).

/// One header field as it appears: name, and the raw value (folds included).
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub name: &'a [u8],
    pub raw_value: &'a [u8],
}

impl Field<'_> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value unfolded (line breaks before whitespace removed) and trimmed. Non-UTF-8 bytes
    /// are read as Latin-1, which is what 8-bit headers usually are.
    pub fn value(&self) -> String {
        let mut out = String::with_capacity(self.raw_value.len());
        let text = latin1_or_utf8(self.raw_value);
        for c in text.chars() {
            if c != '\r' && c != '\n' {
                out.push(c);
            }
        }
        out.trim().to_string()
    }
}

fn latin1_or_utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// Splits an entity into its header fields and the offset where the body starts. The header
/// block ends at the first empty line; a line that is neither a field nor a continuation also
/// ends it (and starts the body), as lenient mail readers do.
pub fn parse_block(data: &[u8]) -> (Vec<Field<'_>>, usize) {
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut pos = 0;
    let mut current: Option<(usize, usize, usize)> = None; // name start, name end, value start
    loop {
        let line_end = memchr::memchr(b'\n', &data[pos..]).map(|i| pos + i + 1).unwrap_or(data.len());
        let line = &data[pos..line_end];
        let content = trim_eol(line);
        let is_continuation = matches!(content.first(), Some(b' ' | b'\t')) && current.is_some();
        if !is_continuation {
            if let Some((ns, ne, vs)) = current.take() {
                fields.push(Field { name: &data[ns..ne], raw_value: &data[vs..trim_eol_end(data, pos)] });
            }
        }
        if content.is_empty() {
            // The empty line belongs to the header block.
            return (fields, line_end);
        }
        if !is_continuation {
            match content.iter().position(|&b| b == b':') {
                Some(colon) if colon > 0 && content[..colon].iter().all(|&b| b > 32 && b < 127) => {
                    current = Some((pos, pos + colon, pos + colon + 1));
                }
                _ => return (fields, pos),
            }
        }
        if line_end >= data.len() {
            if let Some((ns, ne, vs)) = current.take() {
                fields.push(Field { name: &data[ns..ne], raw_value: &data[vs..trim_eol_end(data, data.len())] });
            }
            return (fields, data.len());
        }
        pos = line_end;
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// End of the previous line's content (before its CRLF/LF) when the next line starts at `pos`.
fn trim_eol_end(data: &[u8], pos: usize) -> usize {
    let mut end = pos;
    if end > 0 && data[end - 1] == b'\n' {
        end -= 1;
        if end > 0 && data[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

/// A parsed `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lower-case.
    pub mime_type: String,
    /// Parameters with lower-case names, RFC 2231 continuations joined and decoded.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    pub fn text_plain() -> ContentType {
        ContentType { mime_type: "text/plain".into(), params: Vec::new() }
    }

    pub fn message_rfc822() -> ContentType {
        ContentType { mime_type: "message/rfc822".into(), params: Vec::new() }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn is(&self, mime_type: &str) -> bool {
        self.mime_type == mime_type
    }

    pub fn is_multipart(&self) -> bool {
        self.mime_type.starts_with("multipart/")
    }

    /// Parses a header value; None when there is no `type/subtype`.
    pub fn parse(value: &str) -> Option<ContentType> {
        let (mime_type, rest) = match value.find(';') {
            Some(i) => (&value[..i], &value[i + 1..]),
            None => (value, ""),
        };
        let mime_type = strip_comments(mime_type).trim().to_ascii_lowercase();
        let (t, s) = mime_type.split_once('/')?;
        if t.is_empty() || s.is_empty() || mime_type.contains(char::is_whitespace) {
            return None;
        }
        Some(ContentType { mime_type, params: parse_params(rest) })
    }
}

/// Parameters `; a=b; c="d e"` including RFC 2231 `name*0=`, `name*=charset''%xx`.
pub fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut raw: Vec<(String, String)> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i] == b';' || bytes[i].is_ascii_whitespace()) {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b';' {
            i += 1;
        }
        let name = text[name_start..i].trim().to_ascii_lowercase();
        if i >= bytes.len() || bytes[i] == b';' {
            continue;
        }
        i += 1; // '='
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = if bytes.get(i) == Some(&b'"') {
            i += 1;
            let mut v = String::new();
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                v.push(ch);
                i += ch.len_utf8();
            }
            i += 1;
            v
        } else {
            let start = i;
            while i < bytes.len() && bytes[i] != b';' {
                i += 1;
            }
            strip_comments(&text[start..i]).trim().to_string()
        };
        if !name.is_empty() {
            raw.push((name, value));
        }
    }
    join_rfc2231(raw)
}

fn join_rfc2231(raw: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut sections: Vec<(String, u32, bool, String)> = Vec::new();
    for (name, value) in raw {
        let extended = name.ends_with('*');
        let base = name.trim_end_matches('*');
        match base.rsplit_once('*') {
            Some((root, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                sections.push((root.to_string(), n.parse().unwrap_or(0), extended, value));
            }
            _ if extended => out.push((base.to_string(), decode_rfc2231_value(&value, true))),
            _ => out.push((name, value)),
        }
    }
    // The names given whole, looked up once per joined root (a list search per root would be
    // quadratic in the number of parameters, and those come from the message).
    let whole: std::collections::HashSet<String> = out.iter().map(|(n, _)| n.clone()).collect();
    sections.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut i = 0;
    while i < sections.len() {
        let root = sections[i].0.clone();
        let mut joined = String::new();
        while i < sections.len() && sections[i].0 == root {
            let (_, n, extended, value) = &sections[i];
            joined.push_str(&if *extended { decode_rfc2231_value(value, *n == 0) } else { value.clone() });
            i += 1;
        }
        // Each root is joined once (the sections are sorted by root), so only the names given
        // whole can already be in `out`.
        if !whole.contains(&root) {
            out.push((root, joined));
        }
    }
    out
}

/// `utf-8'lang'%E2%82%AC` (charset part only in the first section).
fn decode_rfc2231_value(value: &str, first: bool) -> String {
    let (charset, encoded) = if first {
        match value.splitn(3, '\'').collect::<Vec<_>>().as_slice() {
            [cs, _lang, rest] => (cs.to_ascii_lowercase(), *rest),
            _ => (String::new(), value),
        }
    } else {
        (String::new(), value)
    };
    let mut bytes = Vec::new();
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                bytes.push(v);
                i += 3;
                continue;
            }
        }
        bytes.push(b[i]);
        i += 1;
    }
    decode_charset(&charset, &bytes)
}

/// Text in a charset, for display. UTF-8 and Latin-1 families are decoded; others are read as
/// UTF-8 lossily (display only, never compared).
fn decode_charset(charset: &str, bytes: &[u8]) -> String {
    match charset {
        "iso-8859-1" | "latin1" | "windows-1252" | "iso-8859-15" => bytes.iter().map(|&b| b as char).collect(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Removes `(comments)` (nested) outside quoted strings.
pub fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0u32;
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?Q?Gr=C3=BC=C3=9Fe?=`) in display text.
///
/// Linear in the text: a word that fails to decode must not cost a search to the end of the
/// text, since the next attempt starts just after its `=?` (the text comes from the message).
pub fn decode_encoded_words(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut last_was_word = false;
    // Where the last `?=` starts: a payload that begins after it has no end.
    let last_end = text.rfind("?=");
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        let after = &rest[start + 2..];
        let decoded = after.split_once('?').and_then(|(cs, r)| {
            let (enc, r) = r.split_once('?')?;
            let kind = enc.to_ascii_lowercase();
            if kind != "b" && kind != "q" {
                return None;
            }
            // `r` is a suffix of `text`: it holds a `?=` exactly when the last one starts in it.
            match last_end {
                Some(e) if text.len() - r.len() <= e => {}
                _ => return None,
            }
            if kind == "b" {
                // When the payload holds a `?` (one not starting its `?=`), base64 decodes it
                // exactly as it decodes the text up to and including that `?`: the `?` fails the
                // decoding unless it follows a padded line, after which nothing is read. So a
                // word that cannot decode is refused without reading up to its far-away end.
                if let Some(q) = r.find('?') {
                    if !r[q + 1..].starts_with('=') && crate::mime::encoding::decode_base64(r[..q + 1].as_bytes()).is_err() {
                        return None;
                    }
                }
            }
            let end = r.find("?=")?;
            let payload = &r[..end];
            let bytes = match kind.as_str() {
                "b" => crate::mime::encoding::decode_base64(payload.as_bytes()).ok()?,
                "q" => crate::mime::encoding::decode_quoted_printable(payload.replace('_', " ").as_bytes()),
                _ => return None,
            };
            let charset = cs.split('*').next().unwrap_or("").to_ascii_lowercase();
            let consumed = cs.len() + 1 + enc.len() + 1 + end + 2;
            Some((decode_charset(&charset, &bytes), consumed))
        });
        match decoded {
            Some((word, consumed)) => {
                // Whitespace between two encoded words is not shown.
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&word);
                rest = &after[consumed..];
                last_was_word = true;
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = after;
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_unfolds_and_finds_the_body() {
        let data = b"From: a@b\r\nSubject: one\r\n two\r\n\r\nbody";
        let (fields, body) = parse_block(data);
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].value(), "one two");
        assert_eq!(&data[body..], b"body");
        let (fields, body) = parse_block(b"\nonly body");
        assert!(fields.is_empty());
        assert_eq!(body, 1);
    }

    #[test]
    fn content_type_with_quoted_and_continued_params() {
        let ct = ContentType::parse(
            "Multipart/Signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b;1\" (c)",
        )
        .unwrap();
        assert_eq!(ct.mime_type, "multipart/signed");
        assert_eq!(ct.param("boundary"), Some("b;1"));
        assert_eq!(ct.param("micalg"), Some("sha-256"));
        let ct = ContentType::parse("application/pkcs7-mime; name*0=\"smime\"; name*1=\".p7m\"").unwrap();
        assert_eq!(ct.param("name"), Some("smime.p7m"));
        let ct = ContentType::parse("text/plain; title*=utf-8''%E2%82%AC%20rate").unwrap();
        assert_eq!(ct.param("title"), Some("€ rate"));
        assert!(ContentType::parse("garbage").is_none());
    }

    #[test]
    fn encoded_words_are_decoded_for_display() {
        assert_eq!(decode_encoded_words("=?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?B?IQ==?= you"), "Grüße! you");
        assert_eq!(decode_encoded_words("plain =?bogus"), "plain =?bogus");
    }

    #[test]
    fn rfc2231_sections_join_unless_the_name_is_given_whole() {
        let ct = ContentType::parse("text/plain; name=whole; name*0=a; name*1=b; x*1=2; x*0=1").unwrap();
        assert_eq!(ct.params, vec![("name".to_string(), "whole".to_string()), ("x".to_string(), "12".to_string())]);
        let ct = ContentType::parse("text/plain; b*0=1; a*0*=utf-8''%E2%82%AC; a*1=x; c=3").unwrap();
        assert_eq!(
            ct.params,
            vec![("c".to_string(), "3".to_string()), ("a".to_string(), "€x".to_string()), ("b".to_string(), "1".to_string())]
        );
    }

    /// Used to take seconds: every section root was looked up in a list of all parameters.
    #[test]
    fn many_rfc2231_sections_are_joined_in_linear_time() {
        let n = 100_000;
        let mut value = String::from("text/plain");
        for i in 0..n {
            value.push_str(&format!(";p{i}*0=x"));
        }
        value.push_str("; p7=whole");
        let ct = ContentType::parse(&value).unwrap();
        assert_eq!(ct.params.len(), n);
        assert_eq!(ct.param("p7"), Some("whole"));
        assert_eq!(ct.param("p99999"), Some("x"));
    }

    /// Texts where every `=?` but perhaps the last fails to decode: (repeated unit, end, what
    /// the last unit and the end decode to).
    const HOSTILE_WORDS: [(&str, &str, &str); 6] = [
        ("=?x", " <a@x.org>", "=?x <a@x.org>"),
        ("=?x", "?=", "=?x?="),
        ("=?a?x?y", "?=", "=?a?x?y?="),
        ("=?a?b?!", "?=", "=?a?b?!?="),
        ("=?a?b?!\n", "?=", "=?a?b?!\n?="),
        ("=?a?B?QQ=", "?=", "A"),
    ];

    /// Used to take over a minute: each `=?` that failed to decode searched to the end of the
    /// text for `?=`, and a failing base64 payload was decoded up to there.
    #[test]
    fn failed_encoded_words_cost_linear_time() {
        for (i, (unit, end, last)) in HOSTILE_WORDS.iter().enumerate() {
            let n = 600_000 / unit.len();
            let text = format!("{}{end}", unit.repeat(n));
            let expected = format!("{}{last}", unit.repeat(n - 1));
            assert!(decode_encoded_words(&text) == expected, "pattern {i}");
        }
        // Words that decode still do, however long.
        let n = 200_000;
        let long = format!("=?utf-8?B?{}?= =?utf-8?q?{}?=", "QUFB".repeat(n), "_".repeat(n));
        assert!(decode_encoded_words(&long) == format!("{}{}", "AAA".repeat(n), " ".repeat(n)));
    }

    /// The decoder as it was before it was made linear: the reference for its output.
    fn decode_encoded_words_before(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        let mut last_was_word = false;
        while let Some(start) = rest.find("=?") {
            let before = &rest[..start];
            let after = &rest[start + 2..];
            let decoded = after.split_once('?').and_then(|(cs, r)| {
                let (enc, r) = r.split_once('?')?;
                let end = r.find("?=")?;
                let payload = &r[..end];
                let bytes = match enc.to_ascii_lowercase().as_str() {
                    "b" => crate::mime::encoding::decode_base64(payload.as_bytes()).ok()?,
                    "q" => crate::mime::encoding::decode_quoted_printable(payload.replace('_', " ").as_bytes()),
                    _ => return None,
                };
                let charset = cs.split('*').next().unwrap_or("").to_ascii_lowercase();
                let consumed = cs.len() + 1 + enc.len() + 1 + end + 2;
                Some((decode_charset(&charset, &bytes), consumed))
            });
            match decoded {
                Some((word, consumed)) => {
                    if !(last_was_word && before.trim().is_empty()) {
                        out.push_str(before);
                    }
                    out.push_str(&word);
                    rest = &after[consumed..];
                    last_was_word = true;
                }
                None => {
                    out.push_str(&rest[..start + 2]);
                    rest = after;
                    last_was_word = false;
                }
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn encoded_words_decode_exactly_as_before() {
        let cases = [
            "",
            "=?",
            "?=",
            "=?=",
            "=?utf-8?B?QQ==?=",
            "=?utf-8?B?QQ==\n?x?=",
            "=?utf-8?B?QQ=?=",
            "=?utf-8?B?Q Q==\n?x?=",
            "=?utf-8?B?QQ==\r\n\r\n?x?=",
            "=?utf-8?B?QQ?x=?utf-8?B?QQ==?=",
            "=?iso-8859-1?q?caf=E9?= =?utf-8*de?Q?x?=",
            "a =?utf-8?Q?b?=  =?utf-8?Q?c?= d =?bad",
            "=?x?q?=?x?b?QQ==?=?=",
            "=?a?b?!=?a?b?QQ==?=",
            "=?a??=?b?q??=",
        ];
        for case in cases {
            assert_eq!(decode_encoded_words(case), decode_encoded_words_before(case), "{case:?}");
        }
        for (unit, end, _) in HOSTILE_WORDS {
            let text = format!("{}{end}", unit.repeat(300));
            assert_eq!(decode_encoded_words(&text), decode_encoded_words_before(&text), "{text:?}");
        }
        // And on many texts made of the pieces that matter.
        let pieces = ["=?", "?=", "?", "=", "b", "B", "q", "Q", "utf-8", "QQ==", "QUFB", "=41", "_", " ", "\n", "\r", "!", "x", "é", "*"];
        let mut seed: u64 = 0x2047;
        for _ in 0..50_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (seed >> 59) as usize;
            let mut text = String::new();
            for _ in 0..len {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            assert_eq!(decode_encoded_words(&text), decode_encoded_words_before(&text), "{text:?}");
        }
    }
}
