//! MIME structure with byte offsets. Every entity is a slice of the bytes it was parsed from,
//! so a signed part is verified over exactly the raw bytes of the message, never a
//! re-serialisation. Bodies are decoded only on demand.

pub mod address;
pub mod encoding;
pub mod header;

use encoding::{decode, DecodeError, TransferEncoding};
use header::{ContentType, Field};
use std::borrow::Cow;

/// Something about an entity that mail readers may take differently, so that what we verify or
/// decode could differ from what Thunderbird shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ambiguity {
    /// A Content-Type parameter (lower-case name) given more than once, in whatever form.
    Parameter(String),
    /// A header field (`content-type`, `content-transfer-encoding`) given more than once with
    /// different values, or read differently by readers that split lines differently.
    Header(&'static str),
}

/// Multipart nesting deeper than this is not descended into.
pub const MAX_DEPTH: usize = 48;
/// At most this many entities are parsed per message.
pub const MAX_ENTITIES: usize = 20_000;

#[derive(Debug, Clone)]
pub struct Entity<'a> {
    /// The whole entity: header block and body.
    pub raw: &'a [u8],
    /// Where the body starts in `raw`.
    pub body_offset: usize,
    pub fields: Vec<Field<'a>>,
    pub content_type: ContentType,
    /// Parts of a multipart, or the encapsulated message of a message/rfc822.
    pub children: Vec<Entity<'a>>,
    /// IMAP-style part number (RFC 3501 6.4.5): "" for the root, "1", "2.1", … The message
    /// inside a message/rfc822 part has that part's number; inside a message/rfc822 root, "1".
    pub number: String,
    /// Structural defects noticed while parsing (e.g. a multipart without closing boundary).
    pub defects: Vec<&'static str>,
}

impl<'a> Entity<'a> {
    /// Parses a message (or any entity) and its descendants.
    pub fn parse(raw: &'a [u8]) -> Entity<'a> {
        let mut budget = MAX_ENTITIES;
        parse_entity(raw, String::new(), 0, &ContentType::text_plain(), &mut budget)
    }

    pub fn body(&self) -> &'a [u8] {
        &self.raw[self.body_offset..]
    }

    /// The unfolded value of the first field with this name.
    pub fn header(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|f| f.is(name)).map(Field::value)
    }

    /// The unfolded values of every field with this name.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|f| f.is(name)).map(Field::value).collect()
    }

    pub fn transfer_encoding(&self) -> TransferEncoding {
        TransferEncoding::from_header(self.header("content-transfer-encoding").as_deref())
    }

    /// The body with its transfer encoding removed.
    pub fn decoded_body(&self) -> Result<Cow<'a, [u8]>, DecodeError> {
        decode(self.body(), self.transfer_encoding())
    }

    /// Where readers may take this entity differently (see `Ambiguity`): its Content-Type's
    /// ambiguous parameters, then Content-Type and Content-Transfer-Encoding fields that differ
    /// between readings (given twice with different values, or read differently by a reader
    /// that ends lines at a bare CR or reads past a line that is not a field).
    pub fn ambiguities(&self) -> Vec<Ambiguity> {
        let mut out: Vec<Ambiguity> = self.content_type.ambiguous.iter().cloned().map(Ambiguity::Parameter).collect();
        let every_reading = header::fields_in_any_reading(self.raw);
        for name in ["content-type", "content-transfer-encoding"] {
            let strict: Vec<String> = self.fields.iter().filter(|f| f.is(name)).map(|f| reading_of(name, f)).collect();
            let mut all: Vec<String> = every_reading.iter().filter(|f| f.is(name)).map(|f| reading_of(name, f)).collect();
            let absent_in_one_reading = strict.is_empty() && !all.is_empty();
            all.extend(strict);
            all.sort();
            all.dedup();
            if all.len() > 1 || absent_in_one_reading {
                out.push(Ambiguity::Header(name));
            }
        }
        out
    }

    /// Every media type some reader could give this entity (lower-case): the one in
    /// `content_type` first, then those of other Content-Type fields or readings.
    pub fn media_types(&self) -> Vec<String> {
        let mut out = vec![self.content_type.mime_type.clone()];
        for f in header::fields_in_any_reading(self.raw).iter().filter(|f| f.is("content-type")) {
            if let Some(ct) = ContentType::parse(&f.value()) {
                if !out.contains(&ct.mime_type) {
                    out.push(ct.mime_type);
                }
            }
        }
        out
    }

    /// The file name from Content-Disposition or the Content-Type `name` parameter.
    pub fn file_name(&self) -> Option<String> {
        let from_disposition = self
            .header("content-disposition")
            .and_then(|d| header::parse_params(d.split_once(';').map(|(_, p)| p).unwrap_or("")).into_iter().find(|(n, _)| n == "filename"))
            .map(|(_, v)| v);
        from_disposition.or_else(|| self.content_type.param("name").map(str::to_string))
    }
}

/// A field's value as readers compare it: the parsed Content-Type (type and parameters), or
/// the trimmed, lower-case transfer encoding.
fn reading_of(name: &str, field: &Field<'_>) -> String {
    let value = field.value();
    match ContentType::parse(&value) {
        Some(ct) if name == "content-type" => format!("{}{:?}", ct.mime_type, ct.params),
        _ => value.to_ascii_lowercase(),
    }
}

fn parse_entity<'a>(
    raw: &'a [u8],
    number: String,
    depth: usize,
    default_type: &ContentType,
    budget: &mut usize,
) -> Entity<'a> {
    *budget = budget.saturating_sub(1);
    let (fields, body_offset) = header::parse_block(raw);
    let content_type = fields
        .iter()
        .find(|f| f.is("content-type"))
        .and_then(|f| ContentType::parse(&f.value()))
        .unwrap_or_else(|| default_type.clone());
    let mut entity = Entity { raw, body_offset, fields, content_type, children: Vec::new(), number, defects: Vec::new() };
    if depth >= MAX_DEPTH || *budget == 0 {
        if entity.content_type.is_multipart() {
            entity.defects.push("nested_too_deeply");
        }
        return entity;
    }
    let body = &raw[body_offset..];
    if entity.content_type.is_multipart() {
        let Some(boundary) = entity.content_type.param("boundary").map(str::to_string).filter(|b| !b.is_empty()) else {
            entity.defects.push("multipart_without_boundary");
            return entity;
        };
        let child_default = if entity.content_type.is("multipart/digest") {
            ContentType::message_rfc822()
        } else {
            ContentType::text_plain()
        };
        let (parts, closed) = split_multipart(body, boundary.as_bytes());
        if !closed {
            entity.defects.push("multipart_not_closed");
        }
        for (i, (start, end)) in parts.into_iter().enumerate() {
            if *budget == 0 {
                entity.defects.push("too_many_parts");
                break;
            }
            let child_number = if entity.number.is_empty() { format!("{}", i + 1) } else { format!("{}.{}", entity.number, i + 1) };
            let part = &raw[body_offset + start..body_offset + end];
            entity.children.push(parse_entity(part, child_number, depth + 1, &child_default, budget));
        }
    } else if entity.content_type.is("message/rfc822") && entity.transfer_encoding() == TransferEncoding::Identity {
        // As IMAP numbers it: the encapsulated message of part "2" is "2" too (its parts "2.1",
        // …); that of the root is the root's body, part "1", so "" only ever means the root.
        let inner_number = if entity.number.is_empty() { "1".to_string() } else { entity.number.clone() };
        let inner = parse_entity(body, inner_number, depth + 1, &ContentType::text_plain(), budget);
        entity.children.push(inner);
    }
    entity
}

/// Finds the body parts of a multipart: (start, end) offsets into `body`, and whether the close
/// delimiter was found. A delimiter is `--boundary` at the start of a line followed by optional
/// `--`, optional whitespace and the line end; the line break before it belongs to it.
pub fn split_multipart(body: &[u8], boundary: &[u8]) -> (Vec<(usize, usize)>, bool) {
    let mut marker = Vec::with_capacity(boundary.len() + 3);
    marker.extend_from_slice(b"\n--");
    marker.extend_from_slice(boundary);
    let finder = memchr::memmem::Finder::new(&marker);
    // Candidate delimiter positions: index of the "--" that starts the delimiter line.
    let mut candidates = Vec::new();
    if body.starts_with(&marker[1..]) {
        candidates.push(0);
    }
    candidates.extend(finder.find_iter(body).map(|i| i + 1));

    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    for at in candidates {
        let after = at + 2 + boundary.len();
        let is_close = body.get(after..after + 2) == Some(b"--");
        let mut p = if is_close { after + 2 } else { after };
        while matches!(body.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        let line_end = match body.get(p) {
            None => body.len(),
            Some(b'\n') => p + 1,
            Some(b'\r') if body.get(p + 1) == Some(&b'\n') => p + 2,
            Some(b'\r') if p + 1 == body.len() => body.len(),
            _ => continue, // "--boundaryX": not a delimiter
        };
        if let Some(start) = open.take() {
            // The CRLF (or LF) before the delimiter is part of it.
            let mut end = at.saturating_sub(1);
            if end > start && body[end - 1] == b'\r' {
                end -= 1;
            }
            parts.push((start, end.max(start)));
        }
        if is_close {
            return (parts, true);
        }
        open = Some(line_end);
    }
    if let Some(start) = open {
        parts.push((start, body.len()));
    }
    (parts, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &[u8] = b"From: a@x.org\r\nContent-Type: multipart/signed; boundary=\"XX\"; protocol=\"application/pkcs7-signature\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--XX--\r\nepilogue";

    #[test]
    fn multipart_parts_are_exact_slices_without_the_delimiter_line_break() {
        let e = Entity::parse(SIGNED);
        assert_eq!(e.content_type.mime_type, "multipart/signed");
        assert_eq!(e.children.len(), 2);
        assert_eq!(e.children[0].raw, b"Content-Type: text/plain\r\n\r\nhello");
        assert_eq!(e.children[0].number, "1");
        assert_eq!(e.children[1].body(), b"AAAA");
        assert!(e.defects.is_empty());
    }

    #[test]
    fn lf_messages_and_look_alike_boundaries() {
        let msg = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--bb\ny\n--b \nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=c\n\n--c\n\ninner\n--c--\n--b--\n";
        let e = Entity::parse(msg);
        assert_eq!(e.children.len(), 2);
        assert_eq!(e.children[0].body(), b"x\n--bb\ny");
        let attached = &e.children[1].children[0];
        assert_eq!(attached.number, "2");
        assert_eq!(attached.children[0].number, "2.1");
        assert_eq!(attached.children[0].body(), b"inner");
    }

    #[test]
    fn the_message_inside_a_message_rfc822_root_is_part_1() {
        let msg = b"Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ny\r\n--b--\r\n";
        let e = Entity::parse(msg);
        assert_eq!(e.number, "");
        let inner = &e.children[0];
        assert_eq!(inner.number, "1");
        let numbers: Vec<&str> = inner.children.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(numbers, vec!["1.1", "1.2"]);
        assert_eq!(inner.children[1].children[0].number, "1.2", "a message/rfc822 part's message keeps its number");
    }

    #[test]
    fn ambiguities_of_an_entity_in_every_reading() {
        let amb = |msg: &[u8]| Entity::parse(msg).ambiguities();
        assert_eq!(amb(b"Content-Type: multipart/signed; boundary=a\r\n\r\n"), vec![]);
        assert_eq!(amb(b"Content-Type: multipart/signed; boundary=a\r\nContent-Type: multipart/signed; boundary=\"a\"\r\n\r\n"), vec![]);
        assert_eq!(amb(b"Content-Type: multipart/signed; boundary=a; boundary*=''b\r\n\r\n"), vec![Ambiguity::Parameter("boundary".into())]);
        assert_eq!(amb(b"Content-Type: text/plain\r\nContent-Type: multipart/signed\r\n\r\n"), vec![Ambiguity::Header("content-type")]);
        assert_eq!(amb(b"Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"), vec![Ambiguity::Header("content-transfer-encoding")]);
        assert_eq!(amb(b"Content-Transfer-Encoding: base64\r\nCONTENT-TRANSFER-ENCODING:  Base64\r\n\r\n"), vec![]);
        // Another reader reads on past a line that is not a field, or ends a line at a bare CR.
        assert_eq!(amb(b"X: 1\r\nno field\r\nContent-Type: multipart/signed; boundary=a\r\n\r\n"), vec![Ambiguity::Header("content-type")]);
        assert_eq!(amb(b"Content-Type: multipart/signed;\rboundary=a\r\n\r\n"), vec![Ambiguity::Header("content-type")]);
        assert_eq!(Entity::parse(b"X: 1\r\nno field\r\nContent-Type: multipart/signed\r\n\r\n").media_types(), vec!["text/plain", "multipart/signed"]);
    }

    #[test]
    fn unclosed_and_boundaryless_multiparts_are_defects_not_failures() {
        let e = Entity::parse(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx");
        assert_eq!(e.children.len(), 1);
        assert_eq!(e.defects, vec!["multipart_not_closed"]);
        let e = Entity::parse(b"Content-Type: multipart/mixed\r\n\r\nx");
        assert_eq!(e.defects, vec!["multipart_without_boundary"]);
    }

    #[test]
    fn deep_nesting_stops_without_overflow() {
        let mut msg = Vec::new();
        for i in 0..200 {
            msg.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
        }
        let e = Entity::parse(&msg);
        let mut depth = 0;
        let mut cur = &e;
        while let Some(c) = cur.children.first() {
            depth += 1;
            cur = c;
        }
        assert!(depth <= MAX_DEPTH);
    }
}
