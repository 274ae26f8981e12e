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

    /// The value unfolded (line breaks before whitespace removed) and trimmed. Bytes that are not
    /// UTF-8 are read as windows-1252, the WHATWG reading of the Latin-1 that 8-bit headers
    /// usually are.
    pub fn value(&self) -> String {
        let text = utf8_or_windows_1252(self.raw_value);
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c != '\r' && c != '\n' {
                out.push(c);
            }
        }
        out.trim().to_string()
    }

    /// Whether the field, name and value, holds a control character other than TAB and the
    /// CRLF or LF line breaks of folding: a NUL, a bare CR (a line end to some readers and not
    /// to others), an escape, DEL, ...
    pub fn has_control_character(&self) -> bool {
        has_control_character(self.name) || has_control_character(self.raw_value)
    }
}

fn has_control_character(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b'\t' | b'\n' => false,
        b'\r' => bytes.get(i + 1) != Some(&b'\n'),
        _ => b < 0x20 || b == 0x7f,
    })
}

fn utf8_or_windows_1252(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
    }
}

/// Splits an entity into its header fields and the offset where the body starts. The header
/// block ends at the first empty line; a line that is neither a field nor a continuation also
/// ends it (and starts the body), as lenient mail readers do. A field name may be followed by
/// spaces before its colon (`From :`, RFC 5322's obsolete syntax, which Thunderbird reads).
/// Lines end at LF or CRLF here; `fields_in_any_reading` also takes a bare CR as a line end.
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
            match field_name(content) {
                Some((name_end, colon)) => current = Some((pos, pos + name_end, pos + colon + 1)),
                None => return (fields, pos),
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

/// A field line's name: (end of the name, position of the colon). The name is printable ASCII
/// without spaces; spaces and tabs may follow it before the colon.
fn field_name(line: &[u8]) -> Option<(usize, usize)> {
    let colon = memchr::memchr(b':', line)?;
    let name_end = line[..colon].iter().rposition(|&b| b != b' ' && b != b'\t').map_or(0, |i| i + 1);
    (name_end > 0 && line[..name_end].iter().all(|&b| b > 32 && b < 127)).then_some((name_end, colon))
}

/// Every header field that some mail reader could take from the header block at the start of
/// `data`, for the fields whose every reading counts (From, Sender, Content-Type, ...). A
/// superset of `parse_block`'s fields:
/// - the block runs up to the first empty line (LF or CRLF); a line that is not a field does
///   not end it (Thunderbird's MIME code reads on to the empty line);
/// - lines end at CRLF, LF or a bare CR (Thunderbird's line reader);
/// - a line starting with a space or tab continues the one before;
/// - a field's name is whatever stands before the first colon of its (unfolded) line, with
///   white space around it removed (`From :`, even `From\r\n :`, reads as From in
///   Thunderbird).
///
/// A field that a bare CR ends keeps that CR in its raw value, so `has_control_character`
/// tells that readers disagree about where it ends.
pub fn fields_in_any_reading(data: &[u8]) -> Vec<Field<'_>> {
    let region = &data[..header_region_end(data)];
    let mut fields = Vec::new();
    // Logical lines: (start, end without the final line break, end with a bare CR kept).
    let mut logical: Option<(usize, usize, usize)> = None;
    let mut pos = 0;
    while pos < region.len() {
        let (content_end, next) = match memchr::memchr2(b'\r', b'\n', &region[pos..]) {
            None => (region.len(), region.len()),
            Some(i) if region[pos + i] == b'\r' && region.get(pos + i + 1) == Some(&b'\n') => (pos + i, pos + i + 2),
            Some(i) => (pos + i, pos + i + 1),
        };
        let bare_cr = region.get(content_end) == Some(&b'\r') && next == content_end + 1;
        let raw_end = if bare_cr { next } else { content_end };
        let continues = matches!(region[pos], b' ' | b'\t') && content_end > pos;
        match (&mut logical, continues) {
            (Some((_, end, raw)), true) => {
                *end = content_end;
                *raw = raw_end;
            }
            _ => {
                push_logical_line(region, logical.take(), &mut fields);
                if content_end > pos {
                    logical = Some((pos, content_end, raw_end));
                }
            }
        }
        pos = next;
    }
    push_logical_line(region, logical.take(), &mut fields);
    fields
}

/// Adds the field of a logical line (start, end, end with a bare CR kept), if it has a colon.
fn push_logical_line<'a>(region: &'a [u8], logical: Option<(usize, usize, usize)>, fields: &mut Vec<Field<'a>>) {
    let Some((start, end, raw_end)) = logical else { return };
    let line = &region[start..end];
    if let Some(colon) = memchr::memchr(b':', line) {
        let name = trim_c_space(&line[..colon]);
        if !name.is_empty() {
            fields.push(Field { name, raw_value: &region[start + colon + 1..raw_end] });
        }
    }
}

/// White space as C's `isspace` knows it (Thunderbird compares field names after it).
fn trim_c_space(bytes: &[u8]) -> &[u8] {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c);
    let start = bytes.iter().position(|b| !space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !space(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Where the header block ends for the most patient reader: at the start of the first line
/// (split at LF) that is empty or a lone CR, or at the end of the data.
fn header_region_end(data: &[u8]) -> usize {
    let mut pos = 0;
    while pos < data.len() {
        let line_end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1);
        if trim_eol(&data[pos..line_end]).is_empty() {
            return pos;
        }
        pos = line_end;
    }
    data.len()
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
    /// Names of the parameters readers may take differently (see `parse_params_checked`),
    /// sorted. `params` holds one reading of them, not necessarily Thunderbird's.
    pub ambiguous: Vec<String>,
}

impl ContentType {
    pub fn text_plain() -> ContentType {
        ContentType { mime_type: "text/plain".into(), params: Vec::new(), ambiguous: Vec::new() }
    }

    pub fn message_rfc822() -> ContentType {
        ContentType { mime_type: "message/rfc822".into(), params: Vec::new(), ambiguous: Vec::new() }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether readers may take the parameter `name` differently.
    pub fn is_ambiguous(&self, name: &str) -> bool {
        self.ambiguous.iter().any(|n| n == name)
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
        let (params, ambiguous) = parse_params_checked(rest);
        Some(ContentType { mime_type, params, ambiguous })
    }
}

/// Parameters `; a=b; c="d e"` including RFC 2231 `name*0=`, `name*=charset''%xx`.
pub fn parse_params(text: &str) -> Vec<(String, String)> {
    parse_params_checked(text).0
}

/// Parameters, and the names of those that readers may take differently, sorted: a name given
/// more than once in whatever form (plain `name=`, extended `name*=`, sections `name*N=` and
/// `name*N*=`; names compare case-insensitively), a section number given twice, or sections that
/// do not run 0, 1, 2, ... without a gap. Thunderbird prefers the RFC 2231 forms where we take
/// the first plain value, so for these the verdict could describe other text than it shows.
pub fn parse_params_checked(text: &str) -> (Vec<(String, String)>, Vec<String>) {
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

/// One parameter as given: its root name and form.
enum Form {
    Whole { extended: bool },
    Section { number: u64, extended: bool },
}

fn form_of(name: &str) -> (&str, Form) {
    let extended = name.ends_with('*');
    let base = name.strip_suffix('*').unwrap_or(name);
    match base.rsplit_once('*') {
        Some((root, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => {
            // A number too large to count is never part of a gapless run.
            (root, Form::Section { number: n.parse().unwrap_or(u64::MAX), extended })
        }
        _ => (base, Form::Whole { extended }),
    }
}

fn join_rfc2231(raw: Vec<(String, String)>) -> (Vec<(String, String)>, Vec<String>) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut sections: Vec<(String, u64, bool, String)> = Vec::new();
    // How often each root name is given whole (plain or extended).
    let mut whole_count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (name, value) in raw {
        match form_of(&name) {
            (root, Form::Section { number, extended }) => sections.push((root.to_string(), number, extended, value)),
            (root, Form::Whole { extended }) => {
                *whole_count.entry(root.to_string()).or_default() += 1;
                let value = if extended { decode_rfc2231_value(&value) } else { value };
                out.push((root.to_string(), value));
            }
        }
    }
    let mut ambiguous: Vec<String> = whole_count.iter().filter(|(_, &n)| n > 1).map(|(r, _)| r.clone()).collect();
    // The sections sorted by root and number, so each root is joined once, in linear time
    // after the sort (a list search per root would be quadratic in the number of parameters,
    // and those come from the message).
    sections.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut i = 0;
    while i < sections.len() {
        let root = sections[i].0.clone();
        let first = i;
        while i < sections.len() && sections[i].0 == root {
            i += 1;
        }
        let run = &sections[first..i];
        let gapless = run.iter().enumerate().all(|(k, s)| s.1 == k as u64);
        if !gapless || whole_count.contains_key(&root) {
            ambiguous.push(root.clone());
        }
        // A name given whole wins over its sections.
        if whole_count.contains_key(&root) {
            continue;
        }
        // RFC 2231: the charset of section 0 (when extended) applies to every encoded section.
        let charset = match &run[0] {
            (_, 0, true, value) => rfc2231_charset(value).map(|(cs, _)| cs.to_string()),
            _ => None,
        };
        let mut bytes = Vec::new();
        for (k, (_, number, extended, value)) in run.iter().enumerate() {
            if *extended {
                let encoded = if k == 0 && *number == 0 { rfc2231_charset(value).map_or(value.as_str(), |(_, rest)| rest) } else { value };
                percent_decode_into(encoded, &mut bytes);
            } else {
                bytes.extend_from_slice(value.as_bytes());
            }
        }
        let joined = match charset {
            Some(cs) => decode_charset(&cs, &bytes),
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        out.push((root, joined));
    }
    ambiguous.sort();
    ambiguous.dedup();
    (out, ambiguous)
}

/// `utf-8'lang'rest`: the charset and the text after the language; None without both quotes.
fn rfc2231_charset(value: &str) -> Option<(&str, &str)> {
    let (charset, rest) = value.split_once('\'')?;
    let (_language, rest) = rest.split_once('\'')?;
    Some((charset, rest))
}

/// A whole extended value, `utf-8'lang'%E2%82%AC` (or one without charset and language).
fn decode_rfc2231_value(value: &str) -> String {
    let (charset, encoded) = rfc2231_charset(value).unwrap_or(("", value));
    let mut bytes = Vec::new();
    percent_decode_into(encoded, &mut bytes);
    if charset.is_empty() {
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        decode_charset(charset, &bytes)
    }
}

fn percent_decode_into(encoded: &str, out: &mut Vec<u8>) {
    let b = encoded.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (b.get(i + 1).and_then(|&c| hex_digit(c)), b.get(i + 2).and_then(|&c| hex_digit(c))) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Text in a charset, for display: any label of the WHATWG Encoding Standard (the one
/// Thunderbird and browsers use: `iso-8859-1` and `us-ascii` read as windows-1252, ISO-8859-15,
/// ISO-2022-JP, Shift_JIS, GB18030, UTF-16, ...), a byte order mark overriding the label. An
/// unknown or missing charset is read as UTF-8 with replacement characters, so the bytes stay
/// visible; it never fails.
pub fn decode_charset(charset: &str, bytes: &[u8]) -> String {
    match encoding_rs::Encoding::for_label(charset.trim().as_bytes()) {
        Some(encoding) => encoding.decode(bytes).0.into_owned(),
        None => String::from_utf8_lossy(bytes).into_owned(),
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

    /// Used to take seconds (7.7 s for 100,000): every section root was looked up in a list of
    /// all parameters.
    #[test]
    fn many_rfc2231_sections_are_joined_in_linear_time() {
        let value = |n: usize| {
            let mut value = String::from("text/plain");
            for i in 0..n {
                value.push_str(&format!(";p{i}*0=x"));
            }
            value.push_str("; p7=whole");
            (n, value)
        };
        crate::growth::assert_linear("RFC 2231 sections", 50_000, value, |(n, value)| {
            let ct = ContentType::parse(value).unwrap();
            assert_eq!(ct.params.len(), *n);
            assert_eq!(ct.param("p7"), Some("whole"));
            assert_eq!(ct.param(&format!("p{}", n - 1)), Some("x"));
            assert_eq!(ct.ambiguous, vec!["p7"]);
        });
    }

    #[test]
    fn a_parameter_given_twice_in_any_form_is_ambiguous() {
        let ambiguous = |params: &str| ContentType::parse(&format!("multipart/signed; {params}")).unwrap().ambiguous;
        assert_eq!(ambiguous("boundary=a; protocol=x; micalg=sha-256"), Vec::<String>::new());
        assert_eq!(ambiguous("boundary*0=a; boundary*1=b"), Vec::<String>::new());
        assert_eq!(ambiguous("boundary*=us-ascii''a"), Vec::<String>::new());
        for params in [
            "boundary=\"A\"; boundary*=us-ascii''B",
            "boundary*0=A; boundary*1=B; boundary=AB",
            "boundary=A; boundary=A",
            "boundary=A; BOUNDARY=B",
            "Boundary*=''A; boundary*=''B",
            "boundary*0=A; boundary*0*=''B",
            "boundary*0=A; boundary*2=B",
            "boundary*1=A",
            "boundary*00=A; boundary*0=B",
        ] {
            assert_eq!(ambiguous(params), vec!["boundary"], "{params}");
        }
        assert_eq!(ambiguous("protocol=a; micalg=x; protocol*=''b; micalg*0=y"), vec!["micalg", "protocol"]);
    }

    #[test]
    fn encoded_words_are_read_in_their_charsets() {
        assert_eq!(decode_encoded_words("=?utf-8?Q?caf=C3=A9?="), "café");
        assert_eq!(decode_encoded_words("=?windows-1252?Q?=80_5?="), "€ 5");
        // Latin-1 labels read as windows-1252, as the WHATWG Encoding Standard says.
        assert_eq!(decode_encoded_words("=?iso-8859-1?Q?caf=E9_=80?="), "café €");
        assert_eq!(decode_encoded_words("=?ISO-8859-15?Q?=A4uro?="), "€uro");
        assert_eq!(decode_encoded_words("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="), "テスト");
        assert_eq!(decode_encoded_words("=?koi8-r?B?8NLJ18XU?="), "Привет");
        assert_eq!(decode_encoded_words("=?utf-16be?B?AEgAaQ==?="), "Hi");
        assert_eq!(decode_encoded_words("=?shift_jis?B?g2WDWINn?="), "テスト");
        // Unknown charsets keep the bytes visible.
        assert_eq!(decode_encoded_words("=?x-unknown?Q?a=FFb?="), "a\u{fffd}b");
        assert_eq!(decode_encoded_words("=?utf-7?Q?a?="), "a");
    }

    #[test]
    fn raw_8bit_headers_and_rfc2231_values_are_read_in_their_charsets() {
        let (fields, _) = parse_block(b"Subject: Caf\xe9 \x80 \x9f\r\nX: Gr\xc3\xbc\xc3\x9fe\r\n\r\n");
        assert_eq!(fields[0].value(), "Café € Ÿ");
        assert_eq!(fields[1].value(), "Grüße");
        let ct = ContentType::parse("text/plain; title*=iso-8859-15''%A4; t*0*=iso-2022-jp''%1B%24B%25F; t*1*=%25%39%25H%1B%28B").unwrap();
        assert_eq!(ct.param("title"), Some("€"));
        assert_eq!(ct.param("t"), Some("テスト"), "a character split across sections");
        let ct = ContentType::parse("text/plain; a*=bogus''%FF; b*=''%E2%82%AC%ZZ").unwrap();
        assert_eq!((ct.param("a"), ct.param("b")), (Some("\u{fffd}"), Some("€%ZZ")));
    }

    #[test]
    fn every_reading_of_a_header_block() {
        let names = |data: &[u8]| -> Vec<String> {
            fields_in_any_reading(data).iter().map(|f| format!("{}={}", String::from_utf8_lossy(f.name), f.value())).collect()
        };
        assert_eq!(names(b"A: 1\rB: 2\r\nC : 3\r\njunk\r\nD\r\n : 4\r\n\tfive\r\n\r\nE: body"), vec!["A=1", "B=2", "C=3", "D=4\tfive"]);
        assert_eq!(names(b"A: 1\n\nB: 2"), vec!["A=1"]);
        assert_eq!(names(b"A: 1\r\rB: 2\n\n"), vec!["A=1", "B=2"], "an empty line by CR alone does not end it");
        let fields = fields_in_any_reading(b"A: 1\rB: 2\r\n\r\n");
        assert!(fields[0].has_control_character() && !fields[1].has_control_character());
        // parse_block reads `C : 3` as a field too, and still stops at the junk line.
        let (fields, body) = parse_block(b"A: 1\r\nC : 3\r\njunk\r\nD: 4\r\n\r\n");
        assert_eq!(fields.iter().map(|f| f.name).collect::<Vec<_>>(), vec![&b"A"[..], b"C"]);
        assert_eq!(body, 13);
    }

    /// Header blocks of up to a million lines, of bare CRs, of folds: read in linear time.
    #[test]
    fn header_blocks_are_read_in_linear_time() {
        use crate::growth::assert_linear;
        let lines = |n: usize| (n, b"X: y\r\n".repeat(n));
        assert_linear("lines", 250_000, lines, |(n, lines)| {
            assert_eq!(parse_block(lines).0.len(), *n);
            assert_eq!(fields_in_any_reading(lines).len(), *n);
        });
        let crs = |n: usize| (n, [b"From: a\r".repeat(n), b"\n\n".to_vec()].concat());
        assert_linear("bare CRs", 250_000, crs, |(n, crs)| assert_eq!(fields_in_any_reading(crs).len(), *n));
        let folds = |n: usize| [b"From: a".to_vec(), b"\r\n b".repeat(n)].concat();
        assert_linear("folds", 250_000, folds, |folds| assert_eq!(fields_in_any_reading(folds).len(), 1));
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
        for (i, &(unit, end, last)) in HOSTILE_WORDS.iter().enumerate() {
            let text = move |n: usize| (format!("{}{end}", unit.repeat(n)), format!("{}{last}", unit.repeat(n - 1)));
            let n = 300_000 / unit.len();
            crate::growth::assert_linear(&format!("pattern {i}"), n, text, |(text, expected)| assert!(decode_encoded_words(text) == *expected));
        }
        // Words that decode still do, however long.
        let n = 200_000;
        let long = format!("=?utf-8?B?{}?= =?utf-8?q?{}?=", "QUFB".repeat(n), "_".repeat(n));
        assert!(decode_encoded_words(&long) == format!("{}{}", "AAA".repeat(n), " ".repeat(n)));
    }

    /// The guard above tells: the decoder as it was (each failed `=?` searched to the end of
    /// the text) fails it, on far smaller inputs.
    #[test]
    fn the_linear_time_guard_catches_the_old_decoder() {
        let (unit, end, _) = HOSTILE_WORDS[0];
        let text = move |n: usize| format!("{}{end}", unit.repeat(n));
        let old = std::panic::catch_unwind(|| {
            crate::growth::assert_linear("the old decoder", 2_000, text, |text| {
                std::hint::black_box(decode_encoded_words_before(text));
            })
        });
        assert!(old.is_err(), "the old decoder passed as linear");
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
