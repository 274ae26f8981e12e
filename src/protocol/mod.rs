//! The native-messaging protocol: framing, request/reply envelopes, chunked replies and uploads,
//! and the session loop that drives the op table. `docs/PROTOCOL.md` describes the wire format.

pub mod chunking;
pub mod envelope;
pub mod framing;
pub mod session;
pub mod shape;
pub mod transfer;

use crate::context::Context;
use crate::error::Result;
use serde_json::Value;

/// Largest request frame the host reads. Larger payloads use a chunked upload (transfer).
pub const MAX_REQUEST_BYTES: u64 = 64 * 1024 * 1024;

pub use chunking::{MAX_REPLY_BODY_BYTES, MAX_REPLY_FRAME_BYTES};
pub use transfer::MAX_TRANSFER_BYTES;

/// A handler turns an op's params into a result. It owns nothing of the wire format.
pub type Handler = fn(&mut Context, Params) -> Result<Value>;

/// An op's params: the JSON object as it arrived, still inside the request frame. Handlers
/// deserialise it straight into their typed struct (borrowing large strings such as a message's
/// base64 rather than copying them), and may drop it as soon as they have what they need, which
/// frees the frame: a 256 MiB message must not sit in memory three times.
pub struct Params {
    frame: String,
    start: usize,
    end: usize,
}

impl Params {
    /// Params that are the given JSON text (which must be a valid JSON object).
    pub fn from_json_text(text: String) -> Params {
        let end = text.len();
        Params { frame: text, start: 0, end }
    }

    /// No params (`{}`).
    pub fn empty() -> Params {
        Params::from_json_text("{}".into())
    }

    pub(crate) fn within(frame: String, start: usize, end: usize) -> Params {
        Params { frame, start, end }
    }

    /// Frees the frame after overwriting it: for requests that carry a password or passphrase
    /// (the parsed copies are wiped by `Passphrase` themselves).
    pub fn wipe(self) {
        let mut frame = self.frame;
        zeroize::Zeroize::zeroize(&mut frame);
    }

    /// The JSON text of the params object.
    pub fn text(&self) -> &str {
        self.frame.get(self.start..self.end).unwrap_or("{}")
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Params({} bytes)", self.end - self.start)
    }
}

/// One row of the op table: the single source for dispatch, `hello` and docs/PROTOCOL.md.
pub struct Op {
    pub name: &'static str,
    /// The params' shape in one line, e.g. `{total_bytes, sha256?}`.
    pub params: &'static str,
    /// What the op does, in one line.
    pub help: &'static str,
    /// The `deny_unknown_fields` struct `handler` parses `params` into; a test holds the
    /// `params` text to its fields.
    pub params_type: shape::ParamsType,
    pub handler: Handler,
}

/// Renders the op table as the Markdown table that docs/PROTOCOL.md embeds.
pub fn ops_markdown(ops: &[Op]) -> String {
    let mut out = String::from("| op | params | what it does |\n|---|---|---|\n");
    for op in ops {
        out.push_str(&format!("| `{}` | `{}` | {} |\n", op.name, op.params, op.help));
    }
    out
}
