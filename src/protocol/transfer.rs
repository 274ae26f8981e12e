//! Chunked uploads: payloads larger than one request frame (a 256 MiB message, say) arrive as a
//! transfer. `transfer_begin` announces the size (and optionally a SHA-256), `transfer_chunk`
//! appends ordered base64 chunks, `transfer_end` checks size and digest. An op then names the
//! transfer (`"transfer": "t1"`) instead of carrying the bytes; using a transfer consumes it.

use crate::error::{Error, Result};
use crate::hex;
use openssl::sha::Sha256;
use std::collections::HashMap;

/// Largest payload one transfer may carry, and the most all open transfers may hold together.
pub const MAX_TRANSFER_BYTES: u64 = 512 * 1024 * 1024;

/// Chunk size we suggest to clients: well under the request cap, and cheap to base64 in JS.
pub const SUGGESTED_CHUNK_BYTES: u64 = 8 * 1024 * 1024;

/// What an open transfer counts against `MAX_TRANSFER_BYTES` at least, however little it
/// announces: its bookkeeping (digest state, map entry). Without it, transfers of 0 bytes could
/// be opened without end, each costing memory and making the next `begin` slower.
pub const MIN_TRANSFER_CHARGE: u64 = 4096;

struct Transfer {
    announced: u64,
    /// The digest the caller announced, and the hasher that checks it. Without one nothing is
    /// hashed: the pipe from the browser loses nothing, and hashing a 25 MiB message here took
    /// a sixth of the host's time for it.
    expected: Option<(String, Sha256)>,
    data: Vec<u8>,
    next_index: u64,
    /// Set by `end`: what it found.
    finished: Option<Finished>,
}

/// The open transfers of one session.
#[derive(Default)]
pub struct Transfers {
    open: HashMap<String, Transfer>,
    counter: u64,
    /// What the open transfers count against `MAX_TRANSFER_BYTES` (see `charge`), kept up to
    /// date so opening one costs the same however many are open.
    held: u64,
}

/// Longest transfer id a caller may choose (`transfer_begin` with `transfer_id`).
pub const MAX_TRANSFER_ID_CHARS: usize = 64;

/// What a transfer announcing `announced` bytes counts against the budget.
fn charge(announced: u64) -> u64 {
    announced.max(MIN_TRANSFER_CHARGE)
}

/// What `end` reports.
#[derive(Debug, Clone)]
pub struct Finished {
    pub total_bytes: u64,
    /// The digest of the data, checked: only when `begin` was given one.
    pub sha256: Option<String>,
}

impl Transfers {
    /// Opens a transfer of `total_bytes`; `sha256` (hex) is checked at the end when given (and
    /// only then is the data hashed). Its
    /// id is `name` when the caller chose one (which may then send the chunks, the end and the op
    /// that uses it without waiting for this answer), else one the session makes up.
    pub fn begin(&mut self, total_bytes: u64, sha256: Option<String>, name: Option<String>) -> Result<String> {
        if let Some(name) = &name {
            self.check_name("transfer_begin", name)?;
        }
        let room = MAX_TRANSFER_BYTES - self.held;
        if charge(total_bytes) > room {
            return Err(Error::TransferTooLarge { requested: total_bytes, max: room });
        }
        self.held += charge(total_bytes);
        let expected = sha256.map(|s| (s.to_ascii_lowercase(), Sha256::new()));
        // A made-up id is never one a caller chose and still uses.
        let id = name.unwrap_or_else(|| loop {
            self.counter += 1;
            let id = format!("t{}", self.counter);
            if !self.open.contains_key(&id) {
                break id;
            }
        });
        self.open.insert(
            id.clone(),
            Transfer {
                announced: total_bytes,
                expected,
                data: Vec::new(),
                next_index: 0,
                finished: None,
            },
        );
        Ok(id)
    }

    /// Refuses a `transfer_id` a caller chose that is malformed or in use (`op` names the op).
    pub fn check_name(&self, op: &str, name: &str) -> Result<()> {
        let reason = if name.is_empty() || name.chars().count() > MAX_TRANSFER_ID_CHARS {
            format!("transfer_id must have 1 to {MAX_TRANSFER_ID_CHARS} characters")
        } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            "transfer_id may only hold the letters A to Z and a to z, digits, '-' and '_'".to_string()
        } else if self.open.contains_key(name) {
            format!("transfer_id {name} is in use")
        } else {
            return Ok(());
        };
        Err(Error::InvalidParams { op: op.into(), reason })
    }

    /// Keeps `data`, which arrived whole (`transfer_fetch`), as a finished transfer named `name`
    /// (or one the session makes up), charged like an upload of its size.
    pub fn insert(&mut self, name: Option<String>, data: Vec<u8>) -> Result<String> {
        let total_bytes = data.len() as u64;
        let id = self.begin(total_bytes, None, name)?;
        let t = self.open.get_mut(&id).ok_or_else(|| unknown(&id))?;
        t.data = data;
        t.next_index = 1;
        t.finished = Some(Finished { total_bytes, sha256: None });
        Ok(id)
    }

    /// What another transfer may still hold: the budget less what the open ones hold.
    pub fn room(&self) -> u64 {
        MAX_TRANSFER_BYTES - self.held
    }

    /// Appends chunk `index` (which must be the next one). Returns the bytes received so far.
    pub fn append(&mut self, id: &str, index: u64, bytes: &[u8]) -> Result<u64> {
        let t = self.open.get_mut(id).ok_or_else(|| unknown(id))?;
        if t.finished.is_some() || index != t.next_index {
            return Err(Error::TransferChunkOutOfOrder { transfer_id: id.into(), expected: t.next_index, got: index });
        }
        let received = t.data.len() as u64 + bytes.len() as u64;
        if received > t.announced {
            let announced = t.announced;
            self.remove(id);
            return Err(Error::TransferOverflow { transfer_id: id.into(), announced, received });
        }
        if t.data.capacity() == 0 {
            t.data = crate::bigbuf::with_capacity(t.announced as usize);
        }
        t.data.extend_from_slice(bytes);
        if let Some((_, hasher)) = &mut t.expected {
            hasher.update(bytes);
        }
        t.next_index += 1;
        Ok(received)
    }

    /// Closes a transfer for writing and checks its size and digest. A digest mismatch discards it.
    pub fn end(&mut self, id: &str) -> Result<Finished> {
        let t = self.open.get_mut(id).ok_or_else(|| unknown(id))?;
        let received = t.data.len() as u64;
        if received != t.announced {
            return Err(Error::TransferIncomplete { transfer_id: id.into(), announced: t.announced, received });
        }
        if let Some(done) = &t.finished {
            return Ok(done.clone());
        }
        let sha256 = match t.expected.take() {
            Some((expected, hasher)) => {
                let actual = hex::encode(&hasher.finish());
                if expected != actual {
                    self.remove(id);
                    return Err(Error::TransferDigestMismatch { transfer_id: id.into(), expected, actual });
                }
                Some(actual)
            }
            None => None,
        };
        let finished = Finished { total_bytes: received, sha256 };
        t.finished = Some(finished.clone());
        Ok(finished)
    }

    /// Hands over the data of an ended transfer and forgets it.
    pub fn take(&mut self, id: &str) -> Result<Vec<u8>> {
        match self.open.get(id) {
            None => Err(unknown(id)),
            Some(t) if t.finished.is_none() => Err(Error::TransferNotComplete { transfer_id: id.into() }),
            Some(_) => Ok(self.remove(id).map(|t| t.data).unwrap_or_default()),
        }
    }

    /// Drops a transfer, finished or not.
    pub fn discard(&mut self, id: &str) -> Result<()> {
        self.remove(id).map(|_| ()).ok_or_else(|| unknown(id))
    }

    /// Forgets a transfer and gives back what it counted against the budget.
    fn remove(&mut self, id: &str) -> Option<Transfer> {
        let t = self.open.remove(id)?;
        self.held -= charge(t.announced);
        Some(t)
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

fn unknown(id: &str) -> Error {
    Error::UnknownTransfer { transfer_id: id.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_may_name_its_transfer_and_made_up_ids_never_take_that_name() {
        let mut t = Transfers::default();
        assert_eq!(t.begin(3, None, Some("t1".into())).unwrap(), "t1");
        assert_eq!(t.begin(3, None, Some("t2".into())).unwrap(), "t2");
        assert_eq!(t.begin(3, None, None).unwrap(), "t3", "t1 and t2 are the caller's");
        for bad in ["t1", "", "a b", "t/1", "\u{e9}", &"x".repeat(MAX_TRANSFER_ID_CHARS + 1)] {
            let e = t.begin(3, None, Some(bad.into())).unwrap_err();
            assert_eq!(e.code(), "invalid_params", "{bad:?}");
        }
        assert!(t.begin(3, None, Some("x".repeat(MAX_TRANSFER_ID_CHARS))).is_ok());
        t.append("t1", 0, b"abc").unwrap();
        t.end("t1").unwrap();
        assert_eq!(t.take("t1").unwrap(), b"abc");
        assert_eq!(t.begin(3, None, Some("t1".into())).unwrap(), "t1", "a used transfer's name is free again");
    }

    #[test]
    fn data_that_arrived_whole_is_a_finished_transfer_charged_by_its_size() {
        let mut t = Transfers::default();
        let room = t.room();
        let id = t.insert(Some("f1".into()), b"a message".to_vec()).unwrap();
        assert_eq!(id, "f1");
        assert_eq!(t.room(), room - MIN_TRANSFER_CHARGE, "charged at least the minimum");
        assert_eq!(t.end(&id).unwrap().total_bytes, 9);
        assert_eq!(t.append(&id, 1, b"x").unwrap_err().code(), "transfer_chunk_out_of_order", "nothing more goes in");
        assert_eq!(t.take(&id).unwrap(), b"a message");
        assert_eq!(t.room(), room);
        assert_eq!(t.insert(Some("bad id".into()), vec![]).unwrap_err().code(), "invalid_params");
    }

    #[test]
    fn without_a_digest_to_check_nothing_is_hashed_or_reported() {
        let mut t = Transfers::default();
        let id = t.begin(5, None, None).unwrap();
        t.append(&id, 0, b"hello").unwrap();
        let done = t.end(&id).unwrap();
        assert_eq!((done.total_bytes, done.sha256), (5, None));
        assert_eq!(t.end(&id).unwrap().sha256, None, "ending again says the same");
        assert_eq!(t.take(&id).unwrap(), b"hello");
    }

    #[test]
    fn chunks_in_order_with_digest_give_the_data() {
        let mut t = Transfers::default();
        let digest = hex::encode(&openssl::sha::sha256(b"hello world"));
        let id = t.begin(11, Some(digest.to_uppercase()), None).unwrap();
        assert_eq!(t.append(&id, 0, b"hello ").unwrap(), 6);
        assert_eq!(t.append(&id, 2, b"x").unwrap_err().code(), "transfer_chunk_out_of_order");
        assert_eq!(t.take(&id).unwrap_err().code(), "transfer_not_complete");
        t.append(&id, 1, b"world").unwrap();
        assert_eq!(t.end(&id).unwrap().sha256, Some(digest));
        assert_eq!(t.take(&id).unwrap(), b"hello world");
        assert_eq!(t.take(&id).unwrap_err().code(), "unknown_transfer");
    }

    #[test]
    fn size_and_digest_problems_are_reported() {
        let mut t = Transfers::default();
        let id = t.begin(3, None, None).unwrap();
        assert_eq!(t.end(&id).unwrap_err().code(), "transfer_incomplete");
        assert_eq!(t.append(&id, 0, b"abcd").unwrap_err().code(), "transfer_overflow");
        assert!(t.is_empty());
        let id = t.begin(1, Some("00".into()), None).unwrap();
        t.append(&id, 0, b"a").unwrap();
        assert_eq!(t.end(&id).unwrap_err().code(), "transfer_digest_mismatch");
        assert_eq!(t.begin(MAX_TRANSFER_BYTES + 1, None, None).unwrap_err().code(), "transfer_too_large");
    }

    #[test]
    fn open_transfers_share_one_budget() {
        let mut t = Transfers::default();
        t.begin(MAX_TRANSFER_BYTES - MIN_TRANSFER_CHARGE - 10, None, None).unwrap();
        assert_eq!(t.begin(MIN_TRANSFER_CHARGE + 11, None, None).unwrap_err().code(), "transfer_too_large");
        assert!(t.begin(MIN_TRANSFER_CHARGE + 10, None, None).is_ok());
        assert_eq!(t.begin(0, None, None).unwrap_err().code(), "transfer_too_large");
    }

    /// Transfers announcing nothing could be opened without end (found by the random-input
    /// test): each now counts as `MIN_TRANSFER_CHARGE`, and ending one in any way gives its
    /// share back.
    #[test]
    fn empty_transfers_count_against_the_budget_too() {
        let mut t = Transfers::default();
        let most = MAX_TRANSFER_BYTES / MIN_TRANSFER_CHARGE;
        let ids: Vec<String> = (0..most).map(|_| t.begin(0, None, None).unwrap()).collect();
        assert_eq!(t.begin(0, None, None).unwrap_err().code(), "transfer_too_large");
        t.discard(&ids[0]).unwrap();
        t.end(&ids[1]).unwrap();
        t.take(&ids[1]).unwrap();
        assert!(t.begin(0, None, None).is_ok() && t.begin(0, None, None).is_ok());
        assert_eq!(t.begin(0, None, None).unwrap_err().code(), "transfer_too_large");
        // A digest mismatch and an overflow discard the transfer and give its share back too.
        let most_after = |t: &mut Transfers| (0..).take_while(|_| t.begin(0, None, None).is_ok()).count();
        t.discard(&ids[2]).unwrap();
        let id = t.begin(1, Some("00".into()), None).unwrap();
        t.append(&id, 0, b"a").unwrap();
        assert_eq!(t.end(&id).unwrap_err().code(), "transfer_digest_mismatch");
        let id = t.begin(1, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.append(&id, 0, b"ab").unwrap_err().code(), "transfer_overflow");
        assert_eq!(most_after(&mut t), 1);
    }
}
