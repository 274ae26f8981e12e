//! Hexadecimal text of bytes: lower case when written (fingerprints, digests, key identifiers,
//! file names, the sealed-key fields), and read strictly (only hex digits, two per byte).

use std::fmt::Write;

/// Lower-case hex of `bytes`, two digits per byte.
pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The bytes `text` spells in hex (either case); None for an odd length or anything but hex
/// digits (no sign, no spaces, no `0x`).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits.chunks_exact(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lower_case_two_digits_per_byte() {
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    #[test]
    fn decodes_what_it_encodes_and_either_case() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&bytes)), Some(bytes));
        assert_eq!(decode("A0fF"), Some(vec![0xa0, 0xff]));
        assert_eq!(decode(""), Some(vec![]));
    }

    #[test]
    fn decoding_refuses_anything_but_pairs_of_hex_digits() {
        // `u8::from_str_radix` would take "+f" as 15: a sign is not a hex digit.
        for bad in ["0", "abc", "+f", "-1", " f", "0x", "gg", "é1", "éé"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
