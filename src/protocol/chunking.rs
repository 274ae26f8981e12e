//! Replies larger than one frame. Thunderbird drops the port when the host sends a message over
//! 1 MiB, so a reply whose JSON is larger is sent as ordered chunk frames:
//!
//! `{"id": …, "chunk": {"index": i, "count": n, "total_bytes": N, "sha256": "…", "text": "…"}}`
//!
//! Concatenating the `text` of chunks 0..n gives the reply's JSON text (N bytes of UTF-8, with the
//! given SHA-256), which parses to the ordinary reply envelope. Slices are cut on character
//! boundaries so each is a valid JSON string.

use openssl::sha::sha256;
use serde::Serialize;
use super::envelope::RequestId;

/// Thunderbird's limit on one host-to-add-on message (`MAX_READ` in NativeMessaging.sys.mjs).
pub const MAX_REPLY_FRAME_BYTES: usize = 1024 * 1024;

/// Largest reply body we send in one frame: the 4-byte header counts too, so nothing we write is
/// over 1 MiB on the wire, whichever way a reader counts.
pub const MAX_REPLY_BODY_BYTES: usize = MAX_REPLY_FRAME_BYTES - 4;

/// Room kept in each chunk frame for the envelope around the text (id excluded).
pub const CHUNK_ENVELOPE_BYTES: usize = 256;

#[derive(Serialize)]
struct ChunkFrame<'a> {
    id: &'a RequestId,
    chunk: Chunk<'a>,
}

#[derive(Serialize)]
struct Chunk<'a> {
    index: usize,
    count: usize,
    total_bytes: usize,
    sha256: &'a str,
    text: &'a str,
}

/// Splits a serialised reply into frame bodies, each at most `MAX_REPLY_BODY_BYTES`.
pub fn reply_frames(id: &RequestId, reply: Vec<u8>) -> Vec<Vec<u8>> {
    reply_frames_with_limit(id, reply, MAX_REPLY_BODY_BYTES)
}

/// `reply_frames` with another frame limit (tests and the fuzz targets use small ones). The
/// limit must leave room for the envelope and the id: at least `CHUNK_ENVELOPE_BYTES`, the id's
/// JSON and one escaped character (6 bytes) more.
pub fn reply_frames_with_limit(id: &RequestId, reply: Vec<u8>, limit: usize) -> Vec<Vec<u8>> {
    if reply.len() <= limit {
        return vec![reply];
    }
    let text = String::from_utf8(reply).expect("replies are serialised by serde_json as UTF-8");
    let id_len = id.as_json().len();
    let budget = limit - CHUNK_ENVELOPE_BYTES - id_len;
    let slices = split_by_escaped_len(&text, budget);
    let digest = crate::hex::encode(&sha256(text.as_bytes()));
    let count = slices.len();
    slices
        .into_iter()
        .enumerate()
        .map(|(index, text_slice)| {
            let chunk = Chunk { index, count, total_bytes: text.len(), sha256: &digest, text: text_slice };
            let frame = serde_json::to_vec(&ChunkFrame { id, chunk }).expect("serialising borrowed data cannot fail");
            debug_assert!(frame.len() <= limit, "chunk frame of {} bytes", frame.len());
            frame
        })
        .collect()
}

/// Cuts `text` into slices whose JSON-escaped length is at most `budget`, on char boundaries.
fn split_by_escaped_len(text: &str, budget: usize) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut slices = Vec::new();
    let mut start = 0;
    let mut cost = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let width = utf8_width(c);
        let escaped = match c {
            b'"' | b'\\' => 2,
            0..=0x1f => 6,
            _ => width,
        };
        if cost + escaped > budget && i > start {
            slices.push(&text[start..i]);
            start = i;
            cost = 0;
        }
        cost += escaped;
        i += width;
    }
    if start < bytes.len() {
        slices.push(&text[start..]);
    }
    slices
}

fn utf8_width(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn reassemble(frames: &[Vec<u8>]) -> String {
        let mut text = String::new();
        let mut digest = String::new();
        for (i, f) in frames.iter().enumerate() {
            let v: Value = serde_json::from_slice(f).unwrap();
            let chunk = &v["chunk"];
            assert_eq!(chunk["index"], i);
            assert_eq!(chunk["count"], frames.len());
            digest = chunk["sha256"].as_str().unwrap().to_string();
            text.push_str(chunk["text"].as_str().unwrap());
        }
        assert_eq!(digest, crate::hex::encode(&sha256(text.as_bytes())));
        text
    }

    #[test]
    fn small_reply_is_one_frame_unchanged() {
        let frames = reply_frames(&RequestId::from_json("1").unwrap(), b"{\"id\":1}".to_vec());
        assert_eq!(frames, vec![b"{\"id\":1}".to_vec()]);
    }

    #[test]
    fn escapes_and_multibyte_text_survive_chunking_within_the_limit() {
        let payload: String = "\"\\ä€😀x".repeat(2000);
        let reply = serde_json::to_vec(&json!({"id": "r", "ok": true, "result": payload})).unwrap();
        let frames = reply_frames_with_limit(&RequestId::from_json("\"r\"").unwrap(), reply.clone(), 1000);
        assert!(frames.len() > 10);
        assert!(frames.iter().all(|f| f.len() <= 1000));
        assert_eq!(reassemble(&frames).as_bytes(), &reply[..]);
    }
}
