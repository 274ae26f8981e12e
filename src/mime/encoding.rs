//! Content-transfer-encodings and line endings.

use base64::Engine;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7bit, 8bit, binary, or anything unknown (taken as is).
    Identity,
    Base64,
    QuotedPrintable,
}

impl TransferEncoding {
    pub fn from_header(value: Option<&str>) -> TransferEncoding {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("base64") => TransferEncoding::Base64,
            Some("quoted-printable") => TransferEncoding::QuotedPrintable,
            _ => TransferEncoding::Identity,
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

pub fn decode(body: &[u8], encoding: TransferEncoding) -> Result<Cow<'_, [u8]>, DecodeError> {
    match encoding {
        TransferEncoding::Identity => Ok(Cow::Borrowed(body)),
        TransferEncoding::Base64 => decode_base64(body).map(Cow::Owned),
        TransferEncoding::QuotedPrintable => Ok(Cow::Owned(decode_quoted_printable(body))),
    }
}

/// Base64 as mail carries it: line breaks and other whitespace are skipped; any other character
/// outside the alphabet is an error (a signature must not be guessed at).
pub fn decode_base64(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    decode_base64_by_lines(body).or_else(|_| decode_base64_slowly(body))
}

fn lenient_engine() -> base64::engine::GeneralPurpose {
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// The common case, fast and without a second copy of the text: lines (found with memchr) are
/// gathered into a small buffer and decoded in blocks straight into the output; the decoder
/// itself refuses anything outside the alphabet. Anything unusual (whitespace inside a line,
/// padding in the middle) fails here and is left to the careful path.
fn decode_base64_by_lines(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    const BLOCK: usize = 64 * 1024;
    let engine = lenient_engine();
    let mut out = crate::bigbuf::zeroed(body.len() / 4 * 3 + 3);
    let mut written = 0;
    let mut stage: Vec<u8> = Vec::with_capacity(BLOCK + 256);
    // Whole blocks go to the SIMD decoder; the last piece, which may lack its padding, to the
    // lenient one.
    let mut decode = |data: &[u8], last: bool| -> Result<(), DecodeError> {
        const INVALID: DecodeError = DecodeError("invalid base64");
        written += if last {
            engine.decode_slice(data, &mut out[written..]).map_err(|_| INVALID)?
        } else {
            let room = base64_simd::Out::from_slice(&mut out[written..written + data.len() / 4 * 3]);
            base64_simd::STANDARD.decode(data, room).map_err(|_| INVALID)?.len()
        };
        Ok(())
    };
    let mut padded = false;
    let mut rest = body;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if padded {
            break; // text after the padding (some agents append a line or two) ends the data
        }
        padded = line.ends_with(b"=");
        stage.extend_from_slice(line);
        if stage.len() >= BLOCK && !padded {
            let cut = stage.len() / 4 * 4;
            decode(&stage[..cut], false)?;
            stage.drain(..cut);
        }
    }
    decode(&stage, true)?;
    out.truncate(written);
    Ok(out)
}

fn decode_base64_slowly(body: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut compact = Vec::with_capacity(body.len());
    for &b in body {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => compact.push(b),
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => {}
            _ => return Err(DecodeError("invalid character in base64")),
        }
    }
    finish_base64(compact)
}

fn finish_base64(mut compact: Vec<u8>) -> Result<Vec<u8>, DecodeError> {
    // Text after the padding (some agents append junk lines) ends the data.
    if let Some(pad) = compact.iter().position(|&b| b == b'=') {
        let end = compact[pad..].iter().take_while(|&&b| b == b'=').count() + pad;
        compact.truncate(end);
    }
    lenient_engine().decode(&compact).map_err(|_| DecodeError("invalid base64"))
}

/// Quoted-printable (RFC 2045 6.7), lenient: a malformed escape is kept literally.
pub fn decode_quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        // Soft line break: "=" then optional whitespace then CRLF or LF.
        let mut j = i + 1;
        while j < body.len() && (body[j] == b' ' || body[j] == b'\t') {
            j += 1;
        }
        if body.get(j) == Some(&b'\n') {
            i = j + 1;
            continue;
        }
        if body.get(j) == Some(&b'\r') && body.get(j + 1) == Some(&b'\n') {
            i = j + 2;
            continue;
        }
        match (body.get(i + 1).and_then(|&c| hex_val(c)), body.get(i + 2).and_then(|&c| hex_val(c))) {
            (Some(h), Some(l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            _ => {
                out.push(b'=');
                i += 1;
            }
        }
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEndings {
    Crlf,
    Lf,
    Mixed,
    None,
}

/// Which line endings a message uses.
pub fn line_endings(data: &[u8]) -> LineEndings {
    line_endings_from(data, first_bare_lf(data))
}

/// `line_endings`, given `first_bare_lf(data)`.
pub fn line_endings_from(data: &[u8], first_bare_lf: Option<usize>) -> LineEndings {
    match (memchr::memmem::find(data, b"\r\n").is_some(), first_bare_lf.is_some()) {
        (true, true) => LineEndings::Mixed,
        (true, false) => LineEndings::Crlf,
        (false, true) => LineEndings::Lf,
        (false, false) => LineEndings::None,
    }
}

/// The length `to_crlf` would give, without building it.
pub fn crlf_len(data: &[u8]) -> usize {
    if !has_bare_lf(data) {
        return data.len();
    }
    data.len() + memchr::memchr_iter(b'\n', data).filter(|&i| i == 0 || data[i - 1] != b'\r').count()
}

/// Whether a line ends in a bare LF (one without CR before it). Mail in canonical form has none,
/// and a signed part of many MiB is checked for one more than once: this looks at 64 bytes at
/// a time, which the compiler turns into vector compares, instead of stopping at every line.
pub fn has_bare_lf(data: &[u8]) -> bool {
    first_bare_lf(data).is_some()
}

/// Where the first bare LF is (see `has_bare_lf`): a part of the message before it has none.
pub fn first_bare_lf(data: &[u8]) -> Option<usize> {
    const BLOCK: usize = 64;
    if data.first() == Some(&b'\n') {
        return Some(0);
    }
    let bare = |c: u8, p: u8| (c == b'\n') & (p != b'\r');
    // Byte i+1 against byte i, block by block; the block that has one is then looked through.
    let (current, previous) = (data.get(1..).unwrap_or_default(), data);
    let block = current.chunks(BLOCK).zip(previous.chunks(BLOCK)).position(|(cur, prev)| cur.iter().zip(prev).fold(false, |any, (&c, &p)| any | bare(c, p)))?;
    let start = block * BLOCK;
    let within = current[start..].iter().zip(&previous[start..]).position(|(&c, &p)| bare(c, p))?;
    Some(start + within + 1)
}

/// The canonical form S/MIME signs: every line ending CRLF. Borrowed when already canonical.
pub fn to_crlf(data: &[u8]) -> Cow<'_, [u8]> {
    if !has_bare_lf(data) {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', data) {
        if i == 0 || data[i - 1] != b'\r' {
            out.extend_from_slice(&data[start..i]);
            out.extend_from_slice(b"\r\n");
            start = i + 1;
        }
    }
    out.extend_from_slice(&data[start..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn base64_skips_line_breaks_and_refuses_garbage() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=\r\n").unwrap(), b"hello");
        assert_eq!(decode_base64(b"aGVsbG8").unwrap(), b"hello");
        assert!(decode_base64(b"aGVs*bG8=").is_err());
        assert_eq!(decode_base64(b"aGVs bG8=\r\n").unwrap(), b"hello", "whitespace inside a line");
        assert_eq!(decode_base64(b"aGVsbG8=\r\n\r\n-- \r\nsig").unwrap(), b"hello", "text after the padding");
        let long: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let encoded = crate::smime::compose::base64_lines(&long);
        assert_eq!(decode_base64(&encoded).unwrap(), long);
        // Odd line lengths, bare LF, no final padding, garbage deep inside: every path agrees.
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&long[..199_999]);
        let odd: Vec<u8> = text.as_bytes().chunks(57).flat_map(|c| [c, b"\n"].concat()).collect();
        assert_eq!(decode_base64(&odd).unwrap(), &long[..199_999]);
        let mut broken = encoded.clone();
        broken[150_000] = b'*';
        assert!(decode_base64(&broken).is_err(), "a bad character after many good blocks");
    }

    #[test]
    fn quoted_printable_soft_breaks_and_escapes() {
        assert_eq!(decode_quoted_printable(b"Gr=C3=BC=\r\nsse =3D ok=\nx"), "Grüsse = okx".as_bytes());
        assert_eq!(decode_quoted_printable(b"a=zz"), b"a=zz");
    }

    #[test]
    fn bare_lf_is_found_wherever_it_is() {
        let slow = |d: &[u8]| d.iter().enumerate().any(|(i, &c)| c == b'\n' && (i == 0 || d[i - 1] != b'\r'));
        for len in [0, 1, 2, 63, 64, 65, 66, 127, 128, 129, 300] {
            let crlf: Vec<u8> = b"ab\r\n".iter().copied().cycle().take(len).collect();
            assert_eq!(has_bare_lf(&crlf), slow(&crlf), "len {len}");
            let first = |d: &[u8]| d.iter().enumerate().position(|(i, &c)| c == b'\n' && (i == 0 || d[i - 1] != b'\r'));
            for at in 0..len {
                let mut d = crlf.clone();
                d[at] = b'\n';
                assert_eq!(has_bare_lf(&d), slow(&d), "len {len} at {at}");
                assert_eq!(first_bare_lf(&d), first(&d), "len {len} at {at}");
                d[len - 1] = b'\n';
                assert_eq!(first_bare_lf(&d), first(&d), "len {len} at {at} and the end");
                assert_eq!(crlf_len(&d), to_crlf(&d).len());
            }
        }
        assert_eq!(line_endings(b""), LineEndings::None);
        assert_eq!(line_endings(b"a\r\n"), LineEndings::Crlf);
        assert_eq!(line_endings(b"\na"), LineEndings::Lf);
        assert_eq!(line_endings(b"\r\n\n"), LineEndings::Mixed);
        assert_eq!(line_endings(b"a\rb"), LineEndings::None);
    }

    #[test]
    fn canonical_crlf() {
        assert_eq!(&*to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(to_crlf(b"a\r\nb"), Cow::Borrowed(_)));
        assert_eq!(line_endings(b"a\r\nb\n"), LineEndings::Mixed);
        assert_eq!(line_endings(b"a\nb\n"), LineEndings::Lf);
    }
}
