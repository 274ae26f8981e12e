//! The slice of BER that LDAP uses (RFC 4511 section 5.1): single-byte tags, definite lengths
//! only (short or long form, minimal or not: Active Directory writes four length bytes where one
//! would do), no indefinite form. The reader never recurses: the LDAP layer walks the few levels
//! of a message itself, so no input can exhaust the stack, and every length is checked against
//! what is left before anything is taken.

use std::fmt;

/// Why a BER element could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BerError(pub &'static str);

impl fmt::Display for BerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

pub type BerResult<T> = Result<T, BerError>;

// Universal tags.
pub const BOOLEAN: u8 = 0x01;
pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const ENUMERATED: u8 = 0x0a;
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;

/// A message header: its tag, and how many bytes the header and the content take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub tag: u8,
    pub header_len: usize,
    pub content_len: usize,
}

/// Reads the tag and length at the start of `data`. `Ok(None)`: more bytes are needed to tell.
/// Lengths of more than four bytes, the indefinite form and multi-byte tags are errors.
pub fn header(data: &[u8]) -> BerResult<Option<Header>> {
    let Some(&tag) = data.first() else { return Ok(None) };
    if tag & 0x1f == 0x1f {
        return Err(BerError("multi-byte tag"));
    }
    let Some(&first) = data.get(1) else { return Ok(None) };
    if first < 0x80 {
        return Ok(Some(Header { tag, header_len: 2, content_len: first as usize }));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 {
        return Err(BerError("indefinite length"));
    }
    if n > 4 {
        return Err(BerError("length of more than four bytes"));
    }
    let Some(bytes) = data.get(2..2 + n) else { return Ok(None) };
    let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
    Ok(Some(Header { tag, header_len: 2 + n, content_len: len }))
}

/// One element: its tag and its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The elements inside a constructed element.
    pub fn children(&self) -> Reader<'a> {
        Reader::new(self.content)
    }

    /// An INTEGER or ENUMERATED value that fits an i64.
    pub fn integer(&self) -> BerResult<i64> {
        let c = self.content;
        if c.is_empty() || c.len() > 8 {
            return Err(BerError("integer of no or more than eight bytes"));
        }
        let negative = c[0] & 0x80 != 0;
        let mut value: i64 = if negative { -1 } else { 0 };
        for &b in c {
            value = (value << 8) | b as i64;
        }
        Ok(value)
    }

    pub fn boolean(&self) -> BerResult<bool> {
        match self.content {
            [b] => Ok(*b != 0),
            _ => Err(BerError("boolean of other than one byte")),
        }
    }
}

/// Reads elements one after another from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The tag of the next element, without reading it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// The next element.
    pub fn read(&mut self) -> BerResult<Tlv<'a>> {
        let h = header(self.data)?.ok_or(BerError("truncated element"))?;
        let end = h.header_len.checked_add(h.content_len).ok_or(BerError("length overflow"))?;
        let content = self.data.get(h.header_len..end).ok_or(BerError("element longer than its container"))?;
        self.data = &self.data[end..];
        Ok(Tlv { tag: h.tag, content })
    }

    /// The next element, which must have tag `tag`.
    pub fn expect(&mut self, tag: u8) -> BerResult<Tlv<'a>> {
        let tlv = self.read()?;
        if tlv.tag != tag {
            return Err(BerError("unexpected tag"));
        }
        Ok(tlv)
    }
}

/// Encodes one element with a definite, minimal length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    crate::asn1::der_tlv(tag, content)
}

/// An INTEGER (or, with another tag, an ENUMERATED) in the fewest bytes.
pub fn integer(tag: u8, value: i64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    tlv(tag, &bytes[start..])
}

pub fn octets(tag: u8, value: &[u8]) -> Vec<u8> {
    tlv(tag, value)
}

pub fn boolean(value: bool) -> Vec<u8> {
    tlv(BOOLEAN, &[if value { 0xff } else { 0x00 }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_take_short_long_and_non_minimal_lengths_and_refuse_the_rest() {
        assert_eq!(header(&[0x30, 0x05]).unwrap(), Some(Header { tag: 0x30, header_len: 2, content_len: 5 }));
        assert_eq!(header(&[0x30, 0x81, 0x80]).unwrap(), Some(Header { tag: 0x30, header_len: 3, content_len: 128 }));
        // Active Directory's four-byte form for a short length.
        assert_eq!(header(&[0x30, 0x84, 0, 0, 0, 5]).unwrap(), Some(Header { tag: 0x30, header_len: 6, content_len: 5 }));
        assert_eq!(header(&[0x30]).unwrap(), None);
        assert_eq!(header(&[0x30, 0x84, 0, 0]).unwrap(), None);
        assert!(header(&[0x30, 0x80]).is_err(), "indefinite");
        assert!(header(&[0x30, 0x85, 1, 0, 0, 0, 0]).is_err(), "five length bytes");
        assert!(header(&[0x3f, 0x01]).is_err(), "multi-byte tag");
    }

    #[test]
    fn an_element_longer_than_its_container_is_an_error_not_a_panic() {
        let mut r = Reader::new(&[0x04, 0x05, b'a']);
        assert!(r.read().is_err());
        let mut r = Reader::new(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff]);
        assert!(r.read().is_err());
    }

    #[test]
    fn integers_round_trip() {
        for v in [0i64, 1, 127, 128, 255, 256, -1, -128, -129, i32::MAX as i64, i64::MAX, i64::MIN] {
            let enc = integer(INTEGER, v);
            let mut r = Reader::new(&enc);
            assert_eq!(r.read().unwrap().integer().unwrap(), v, "{v}");
        }
        assert_eq!(integer(INTEGER, 128), vec![0x02, 0x02, 0x00, 0x80]);
        assert!(Tlv { tag: INTEGER, content: &[1; 9] }.integer().is_err());
    }
}
