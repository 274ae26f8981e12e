//! Base64 as the wire carries binary data (`*_b64` fields, docs/PROTOCOL.md): the standard
//! alphabet with padding, decoded strictly (no whitespace, no missing padding), with SIMD on
//! payloads of hundreds of MiB. Used by the op handlers and by the domain types that have a
//! `*_b64` field in their reply.

use crate::error::{Error, Result};

/// Decodes a `*_b64` field; `field` names it in the error.
pub fn decode(field: &str, text: &str) -> Result<Vec<u8>> {
    let invalid = |_| Error::InvalidBase64 { field: field.into() };
    let mut out = crate::bigbuf::zeroed(base64_simd::STANDARD.decoded_length(text.as_bytes()).map_err(invalid)?);
    let n = base64_simd::STANDARD.decode(text.as_bytes(), base64_simd::Out::from_slice(&mut out)).map_err(invalid)?.len();
    out.truncate(n);
    Ok(out)
}

/// Encodes bytes for a `*_b64` field.
pub fn encode(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// `#[serde(serialize_with = "crate::b64::serialize")]`: bytes that go on the wire as base64.
pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_fields_are_strict() {
        assert_eq!(decode("f", "aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode("f", "").unwrap(), b"");
        for bad in ["aGVsbG8", "aGVs bG8=", "aGVsbG8=\n", "****"] {
            assert!(matches!(decode("f", bad), Err(Error::InvalidBase64 { .. })), "{bad:?}");
        }
        assert_eq!(encode(b"hello"), "aGVsbG8=");
    }

    #[test]
    fn bytes_serialise_as_base64_strings() {
        #[derive(serde::Serialize)]
        struct Reply {
            #[serde(serialize_with = "serialize")]
            data_b64: Vec<u8>,
        }
        assert_eq!(serde_json::to_string(&Reply { data_b64: b"hello".to_vec() }).unwrap(), r#"{"data_b64":"aGVsbG8="}"#);
    }
}
