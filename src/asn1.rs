//! A small, read-only BER/DER reader for describing certificates and CMS structures: extensions,
//! policies, signed attributes, recipient identifiers. It never decides whether anything is
//! valid; OpenSSL does that. BER is accepted (indefinite lengths, constructed strings) because
//! real S/MIME agents send it.

use std::borrow::Cow;

/// Nesting deeper than this is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asn1Error(pub &'static str);

pub type Asn1Result<T> = Result<T, Asn1Error>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// Universal tag numbers used here.
pub mod tag {
    pub const BOOLEAN: u32 = 1;
    pub const INTEGER: u32 = 2;
    pub const BIT_STRING: u32 = 3;
    pub const OCTET_STRING: u32 = 4;
    pub const NULL: u32 = 5;
    pub const OID: u32 = 6;
    pub const UTF8_STRING: u32 = 12;
    pub const SEQUENCE: u32 = 16;
    pub const SET: u32 = 17;
    pub const PRINTABLE_STRING: u32 = 19;
    pub const T61_STRING: u32 = 20;
    pub const IA5_STRING: u32 = 22;
    pub const UTC_TIME: u32 = 23;
    pub const GENERALIZED_TIME: u32 = 24;
    pub const UNIVERSAL_STRING: u32 = 28;
    pub const BMP_STRING: u32 = 30;
}

/// One element: identifier, and its content bytes.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
    /// The content octets (between header and end, end-of-contents excluded).
    pub content: &'a [u8],
    /// The whole element, header included.
    pub raw: &'a [u8],
    depth: usize,
}

pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0, depth: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Reads the next element.
    pub fn read(&mut self) -> Asn1Result<Tlv<'a>> {
        let (tlv, used) = parse_one(&self.data[self.pos..], self.depth)?;
        self.pos += used;
        Ok(tlv)
    }

    /// Reads the next element if it has this context-specific number.
    pub fn read_optional_context(&mut self, number: u32) -> Asn1Result<Option<Tlv<'a>>> {
        if self.is_empty() {
            return Ok(None);
        }
        let (tlv, used) = parse_one(&self.data[self.pos..], self.depth)?;
        if tlv.class == Class::Context && tlv.number == number {
            self.pos += used;
            Ok(Some(tlv))
        } else {
            Ok(None)
        }
    }

    /// Reads the next element and checks it is the universal type `number`.
    pub fn expect(&mut self, number: u32) -> Asn1Result<Tlv<'a>> {
        let tlv = self.read()?;
        if tlv.class != Class::Universal || tlv.number != number {
            return Err(Asn1Error("unexpected element"));
        }
        Ok(tlv)
    }
}

impl<'a> Tlv<'a> {
    pub fn is_universal(&self, number: u32) -> bool {
        self.class == Class::Universal && self.number == number
    }

    pub fn is_context(&self, number: u32) -> bool {
        self.class == Class::Context && self.number == number
    }

    /// A reader over the children of a constructed element.
    pub fn children(&self) -> Asn1Result<Reader<'a>> {
        if !self.constructed {
            return Err(Asn1Error("not constructed"));
        }
        if self.depth >= MAX_DEPTH {
            return Err(Asn1Error("nested too deeply"));
        }
        Ok(Reader { data: self.content, pos: 0, depth: self.depth + 1 })
    }

    /// The value of a string type, concatenating BER constructed segments.
    pub fn octets(&self) -> Asn1Result<Cow<'a, [u8]>> {
        if !self.constructed {
            return Ok(Cow::Borrowed(self.content));
        }
        let mut out = Vec::new();
        let mut r = self.children()?;
        while !r.is_empty() {
            out.extend_from_slice(&r.read()?.octets()?);
        }
        Ok(Cow::Owned(out))
    }

    /// An OBJECT IDENTIFIER in dotted form.
    pub fn oid(&self) -> Asn1Result<String> {
        if !self.is_universal(tag::OID) {
            return Err(Asn1Error("not an OID"));
        }
        oid_to_string(self.content)
    }

    /// A text value of any string type, decoded to UTF-8 (lossy for broken input).
    pub fn text(&self) -> Asn1Result<String> {
        let bytes = self.octets()?;
        Ok(match self.number {
            tag::BMP_STRING => {
                let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                String::from_utf16_lossy(&units)
            }
            tag::UNIVERSAL_STRING => bytes
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap_or('\u{fffd}'))
                .collect(),
            // T61 is in practice Latin-1.
            tag::T61_STRING if std::str::from_utf8(&bytes).is_err() => bytes.iter().map(|&b| b as char).collect(),
            _ => String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// A time value (UTCTime or GeneralizedTime) as Unix seconds.
    pub fn time(&self) -> Asn1Result<i64> {
        let generalized = match self.number {
            tag::UTC_TIME => false,
            tag::GENERALIZED_TIME => true,
            _ => return Err(Asn1Error("not a time")),
        };
        crate::time::parse_asn1_time(&self.octets()?, generalized).ok_or(Asn1Error("bad time"))
    }
}

/// Parses one element at the start of `data`; returns it and the bytes it used.
fn parse_one(data: &[u8], depth: usize) -> Asn1Result<(Tlv<'_>, usize)> {
    if depth > MAX_DEPTH {
        return Err(Asn1Error("nested too deeply"));
    }
    let first = *data.first().ok_or(Asn1Error("truncated"))?;
    let class = match first >> 6 {
        0 => Class::Universal,
        1 => Class::Application,
        2 => Class::Context,
        _ => Class::Private,
    };
    let constructed = first & 0x20 != 0;
    let mut pos = 1;
    let mut number = u32::from(first & 0x1f);
    if number == 0x1f {
        number = 0;
        loop {
            let b = *data.get(pos).ok_or(Asn1Error("truncated"))?;
            pos += 1;
            if number > (u32::MAX >> 7) {
                return Err(Asn1Error("tag too large"));
            }
            number = (number << 7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let len_byte = *data.get(pos).ok_or(Asn1Error("truncated"))?;
    pos += 1;
    if len_byte == 0x80 {
        // Indefinite length: children up to the end-of-contents octets.
        if !constructed {
            return Err(Asn1Error("indefinite length on a primitive"));
        }
        let start = pos;
        loop {
            if data.get(pos..pos + 2) == Some(&[0, 0]) {
                let tlv = Tlv { class, constructed, number, content: &data[start..pos], raw: &data[..pos + 2], depth };
                return Ok((tlv, pos + 2));
            }
            let (_, used) = parse_one(data.get(pos..).ok_or(Asn1Error("truncated"))?, depth + 1)?;
            pos += used;
        }
    }
    let len = if len_byte & 0x80 == 0 {
        usize::from(len_byte)
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n > 8 {
            return Err(Asn1Error("length too long"));
        }
        let mut len: u64 = 0;
        for _ in 0..n {
            len = (len << 8) | u64::from(*data.get(pos).ok_or(Asn1Error("truncated"))?);
            pos += 1;
        }
        usize::try_from(len).map_err(|_| Asn1Error("length too long"))?
    };
    let end = pos.checked_add(len).filter(|&e| e <= data.len()).ok_or(Asn1Error("truncated"))?;
    let tlv = Tlv { class, constructed, number, content: &data[pos..end], raw: &data[..end], depth };
    Ok((tlv, end))
}

/// Dotted text of an OID's content octets.
pub fn oid_to_string(content: &[u8]) -> Asn1Result<String> {
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(Asn1Error("bad OID"));
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for &b in content {
        if value > (u64::MAX >> 7) {
            return Err(Asn1Error("OID arc too large"));
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (a, b) = match value {
                    0..=39 => (0, value),
                    40..=79 => (1, value - 40),
                    _ => (2, value - 80),
                };
                arcs.push(a);
                arcs.push(b);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    Ok(arcs.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

/// The content octets of a dotted OID (for building structures in tests and the sign path).
pub fn oid_from_string(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().ok()).collect::<Option<_>>()?;
    if arcs.len() < 2 || arcs[0] > 2 {
        return None;
    }
    let mut out = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.extend(tmp.iter().rev());
    };
    push(arcs[0] * 40 + arcs[1]);
    arcs[2..].iter().for_each(|&a| push(a));
    Some(out)
}

/// One DER element: tag, definite length, content.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Unsigned big-endian integer content as lower-case hex, leading zero octets dropped.
pub fn integer_hex(content: &[u8]) -> String {
    let trimmed: &[u8] = match content.iter().position(|&b| b != 0) {
        Some(i) => &content[i..],
        None => &[0],
    };
    crate::hex::encode(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_definite_and_indefinite_lengths() {
        // SEQUENCE { INTEGER 5, OCTET STRING (constructed, indefinite) { "ab", "c" } }
        let data = [0x30, 0x80, 0x02, 0x01, 0x05, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0, 0, 0, 0];
        let seq = Reader::new(&data).read().unwrap();
        let mut r = seq.children().unwrap();
        assert_eq!(r.expect(tag::INTEGER).unwrap().content, &[5]);
        let os = r.read().unwrap();
        assert_eq!(&*os.octets().unwrap(), b"abc");
        assert!(r.is_empty());
        assert_eq!(seq.raw.len(), data.len());
    }

    #[test]
    fn oids_round_trip() {
        for oid in ["1.2.840.113549.1.7.2", "2.23.140.1.5.3.2", "2.5.4.97", "1.3.6.1.4.1.4146.1.40"] {
            let bytes = oid_from_string(oid).unwrap();
            assert_eq!(oid_to_string(&bytes).unwrap(), oid);
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for data in [&[0x30u8, 0x05, 0x02][..], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &[0x1f], &[0x04, 0x80, 0, 0], &[]] {
            let _ = Reader::new(data).read().map(|t| t.octets());
        }
        let mut deep = vec![0x30u8, 0x80].repeat(200);
        deep.extend(vec![0u8; 400]);
        assert!(Reader::new(&deep).read().is_err());
    }
}
