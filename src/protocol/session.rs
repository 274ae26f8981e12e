//! The session loop: read a frame, answer it, repeat until the input ends.
//!
//! Every frame that can be read gets exactly one reply (possibly chunked) and the session goes on.
//! A frame that cannot be read (length over the cap, input ending inside a frame) gets a
//! best-effort error reply and ends the session, since the stream cannot be resynchronised.

use super::chunking::reply_frames;
use super::envelope::{error_reply, ok_reply, parse_request, with_timing, Rejected, RequestId, Timing, MAX_OP_CHARS};
use super::framing::{read_frame_noting, write_frame, FrameError, FrameRead};
use super::{Op, MAX_REQUEST_BYTES};
use crate::context::Context;
use crate::error::Error;
use crate::logging::sanitize;
use serde_json::Value;
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// Why a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The input ended between frames: the browser closed the port.
    Eof,
    /// A frame could not be read; an error reply was attempted.
    BrokenFrame,
    /// Writing a reply failed: nobody is listening any more.
    OutputClosed,
}

/// Set to `1` to have every reply carry the host's own times (`timing`) and `hello` say so, for
/// the benchmark in a real Thunderbird (tests/e2e/bench.sh). Off by default.
pub const TIMING_ENV: &str = "SMIME_COMPANION_TIMING";

/// Whether this process times its requests (`SMIME_COMPANION_TIMING=1`).
pub fn timing_requested() -> bool {
    std::env::var_os(TIMING_ENV).is_some_and(|v| v == "1")
}

/// Serves requests from `input` until it ends.
pub fn serve<R: Read, W: Write>(ops: &[Op], ctx: &mut Context, mut input: R, mut output: W) -> SessionEnd {
    let timed = timing_requested();
    loop {
        let mut header_at = None;
        let body = match read_frame_noting(&mut input, MAX_REQUEST_BYTES, &mut header_at) {
            Ok(FrameRead::Frame(body)) => body,
            Ok(FrameRead::Eof) => return SessionEnd::Eof,
            Err(e) => {
                let error = match e {
                    FrameError::TooLarge { announced, max } => Error::RequestTooLarge { announced, max },
                    FrameError::Truncated { expected, received } => Error::TruncatedFrame { expected, received },
                    FrameError::Io(e) => Error::Internal { reason: format!("reading input: {e}") },
                };
                log::warn!("session ends: {} ({error})", error.code());
                let _ = send(&mut output, &RequestId::null(), error_reply(&RequestId::null(), &error));
                return SessionEnd::BrokenFrame;
            }
        };
        let started = Instant::now();
        let in_len = body.len();
        let (id, op, reply) = answer(ops, ctx, body);
        let outcome = match &reply {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        if let Err(e) = &reply {
            // Only the causes (the OS's, SQLite's, OpenSSL's words): the message itself may
            // repeat what the request named.
            for cause in crate::error::causes(e) {
                log::debug!("request id={} cause: {}", sanitize(id.as_json(), 64), sanitize(&cause, 1000));
            }
        }
        let mut bytes = match &reply {
            Ok(result) => ok_reply(&id, result),
            Err(e) => error_reply(&id, e),
        };
        if timed {
            let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
            let read_ms = header_at.map_or(0.0, |at| ms(started.duration_since(at)));
            // The wall clock when the header arrived, which the add-on's own clock can be set
            // against: the time a request waits before it reaches the host, and a reply after.
            let header_at = header_at.unwrap_or(started);
            let received_at_ms = std::time::SystemTime::now()
                .checked_sub(header_at.elapsed())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0.0, ms);
            bytes = with_timing(bytes, &Timing { received_at_ms, read_ms, handle_ms: ms(started.elapsed()) });
        }
        let out_len = bytes.len();
        let written = send(&mut output, &id, bytes);
        log::info!(
            "request id={} op={} outcome={} ms={:.3} in={} out={}",
            sanitize(id.as_json(), 64),
            sanitize(&op, 64),
            outcome,
            started.elapsed().as_secs_f64() * 1000.0,
            in_len,
            out_len,
        );
        if written.is_err() {
            return SessionEnd::OutputClosed;
        }
    }
}

/// Parses and dispatches one request; returns the id to answer, the op name and the outcome.
fn answer(ops: &[Op], ctx: &mut Context, body: Vec<u8>) -> (RequestId, String, Result<Value, Error>) {
    let request = match parse_request(body) {
        Ok(r) => r,
        Err(Rejected { id, error }) => return (id, String::from("-"), Err(error)),
    };
    let Some(op) = ops.iter().find(|o| o.name == request.op) else {
        // parse_request bounds the op's length; this keeps control characters out of the reply.
        let error = Error::UnknownOp { op: sanitize(&request.op, MAX_OP_CHARS) };
        return (request.id, request.op, Err(error));
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| (op.handler)(ctx, request.params)))
        .unwrap_or_else(|panic| Err(Error::Internal { reason: panic_message(&panic) }));
    (request.id, request.op, outcome)
}

fn send<W: Write>(output: &mut W, id: &RequestId, reply: Vec<u8>) -> io::Result<()> {
    for frame in reply_frames(id, reply) {
        write_frame(output, &frame)?;
    }
    output.flush()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a handler panicked".into());
    format!("handler panicked: {}", sanitize(&text, 200))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::home::Home;
    use crate::protocol::shape::ParamsType;
    use serde::de::IgnoredAny;
    use serde_json::json;

    fn boom(_: &mut Context, _: crate::protocol::Params) -> crate::error::Result<Value> {
        panic!("deliberate test panic")
    }

    fn echo(_: &mut Context, params: crate::protocol::Params) -> crate::error::Result<Value> {
        Ok(serde_json::from_str(params.text()).unwrap())
    }

    static TEST_OPS: &[Op] = &[
        Op { name: "boom", params: "{}", help: "panics", params_type: ParamsType::of::<IgnoredAny>(), handler: boom },
        Op { name: "echo", params: "{…}", help: "echoes", params_type: ParamsType::of::<IgnoredAny>(), handler: echo },
    ];

    fn frames(bodies: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for b in bodies {
            write_frame(&mut out, b).unwrap();
        }
        out
    }

    fn replies(mut bytes: &[u8]) -> Vec<Value> {
        let mut out = Vec::new();
        while let FrameRead::Frame(b) = crate::protocol::framing::read_frame(&mut bytes, u64::MAX).unwrap() {
            out.push(serde_json::from_slice(&b).unwrap());
        }
        out
    }

    #[test]
    fn a_panicking_handler_becomes_internal_error_and_the_session_goes_on() {
        let dir = std::env::temp_dir().join(format!("smc-session-{}", std::process::id()));
        let mut ctx = Context::new(Home::at(&dir), None);
        let input = frames(&[br#"{"id":1,"op":"boom"}"#, br#"{"id":2,"op":"echo","params":{"a":1}}"#]);
        let mut output = Vec::new();
        let end = serve(TEST_OPS, &mut ctx, &input[..], &mut output);
        assert_eq!(end, SessionEnd::Eof);
        let r = replies(&output);
        assert_eq!(r[0]["error"]["code"], "internal_error");
        assert_eq!(r[0]["id"], 1);
        assert_eq!(r[1], json!({"id": 2, "ok": true, "result": {"a": 1}}));
    }
}
