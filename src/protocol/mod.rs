//! The native-messaging protocol: framing, request/reply envelopes, chunked replies and uploads,
//! and the session loop that drives the op table. `docs/PROTOCOL.md` describes the wire format.

pub mod chunking;
pub mod envelope;
pub mod framing;
pub mod scan;
pub mod session;
pub mod shape;
pub mod transfer;

use crate::context::Context;
use crate::error::Result;
use serde_json::Value;
use std::borrow::Cow;

pub use scan::latin1_in_place;

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
    /// Where the params' members are in the frame, when the scanner vouched for the request
    /// (scan.rs): `split` then need not read them again.
    members: Option<Vec<scan::MemberSpan>>,
}

impl Params {
    /// Params that are the given JSON text (which must be a valid JSON object).
    pub fn from_json_text(text: String) -> Params {
        let end = text.len();
        Params { frame: text, start: 0, end, members: None }
    }

    /// No params (`{}`).
    pub fn empty() -> Params {
        Params::from_json_text("{}".into())
    }

    pub(crate) fn within(frame: String, start: usize, end: usize, members: Option<Vec<scan::MemberSpan>>) -> Params {
        Params { frame, start, end, members }
    }

    /// Frees the frame after overwriting it: for requests that carry a password or passphrase
    /// (the parsed copies are wiped by `Passphrase` themselves).
    pub fn wipe(self) {
        let mut frame = self.frame;
        zeroize::Zeroize::zeroize(&mut frame);
    }

    /// The request frame's bytes, and where in them the params text starts: a payload can then
    /// be decoded where it is (see `ops::decode_payload`) instead of into a copy.
    pub fn into_frame(self) -> (Vec<u8>, usize) {
        let start = if self.frame.get(self.start..self.end).is_some() { self.start } else { 0 };
        (self.frame.into_bytes(), start)
    }

    /// The JSON text of the params object.
    pub fn text(&self) -> &str {
        self.frame.get(self.start..self.end).unwrap_or("{}")
    }

    /// The params with the members named in `names` taken out, when they are strings and the
    /// scanner vouches for the params (scan.rs): a payload of many MiB is then read once, by
    /// its decoder, and never by serde_json. Otherwise nothing is taken and `rest` is all of it.
    pub fn split<'p>(&'p self, names: &[&str]) -> Split<'p> {
        let text = self.text();
        let whole = || Split { rest: Cow::Borrowed(text), taken: Vec::new() };
        let known = self.members.as_ref().and_then(|spans| spans.iter().map(|m| m.member(text, self.start)).collect::<Option<Vec<_>>>());
        let Some(members) = known.or_else(|| scan::plain_object(text)) else { return whole() };
        let take = |m: &scan::Member<'_>| names.contains(&m.key) && m.value.starts_with('"');
        if !members.iter().any(take) {
            return whole();
        }
        let mut rest = String::from("{");
        let mut taken = Vec::new();
        for m in members {
            if take(&m) {
                taken.push(m);
                continue;
            }
            if rest.len() > 1 {
                rest.push(',');
            }
            // Keys the scanner vouches for have no escapes: quoting them again gives their text.
            rest.push('"');
            rest.push_str(m.key);
            rest.push_str("\":");
            rest.push_str(m.value);
        }
        rest.push('}');
        Split { rest: Cow::Owned(rest), taken }
    }
}

/// Params split by `Params::split`.
pub struct Split<'p> {
    /// The params' JSON text without the members taken.
    pub rest: Cow<'p, str>,
    /// Each member taken: its value is a string literal, quotes included.
    pub taken: Vec<scan::Member<'p>>,
}

impl<'p> Split<'p> {
    /// The member `name`, if it was taken.
    pub fn literal(&self, name: &str) -> Option<&scan::Member<'p>> {
        self.taken.iter().find(|m| m.key == name)
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
