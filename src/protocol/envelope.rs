//! The request and reply envelopes.
//!
//! Request: `{"id": <string|number>, "op": <string>, "params": <object, optional>}`.
//! Reply: `{"id": …, "ok": true, "result": …}` or
//! `{"id": …, "ok": false, "error": {"code": …, "message": …, "details": {…}}}`.

use crate::error::Error;
use serde::Serialize;
use super::Params;
use serde_json::value::RawValue;
use serde_json::error::Category;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Longest request id we echo back; ids are correlation tokens, not payload.
pub const MAX_ID_CHARS: usize = 256;

/// Longest op name we accept; errors name the op, so it is bounded once here (the longest
/// real op is far shorter).
pub const MAX_OP_CHARS: usize = 64;

/// A request that passed envelope checks. `params` is always a JSON object.
#[derive(Debug)]
pub struct Request {
    pub id: Value,
    pub op: String,
    pub params: Params,
}

/// A request that failed envelope checks, with the id to answer to (null when unknown).
#[derive(Debug)]
pub struct Rejected {
    pub id: Value,
    pub error: Error,
}

/// Parses one frame body into a request. The params stay in the frame (see `Params`).
pub fn parse_request(body: Vec<u8>) -> Result<Request, Rejected> {
    let reject = |id: Value, error: Error| Rejected { id, error };
    // Validated once here; everything after works on this string without copying it.
    let body = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return Err(reject(Value::Null, Error::InvalidUtf8 { valid_up_to: e.utf8_error().valid_up_to() })),
    };
    let text = body.as_str();
    // Each field is kept as raw JSON: small ones are parsed below, params are left in place.
    let fields: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_str(text).map_err(|e| match e.classify() {
        Category::Data => reject(Value::Null, Error::InvalidRequest { reason: format!("expected an object ({e})") }),
        _ => reject(Value::Null, Error::InvalidJson { line: e.line(), column: e.column(), reason: e.to_string() }),
    })?;
    let small = |raw: &RawValue| serde_json::from_str::<Value>(raw.get()).unwrap_or(Value::Null);
    let id = match fields.get("id").map(|r| small(r)) {
        None | Some(Value::Null) => return Err(reject(Value::Null, Error::MissingId)),
        Some(Value::String(s)) if s.chars().count() > MAX_ID_CHARS => {
            return Err(reject(
                Value::Null,
                Error::InvalidRequest { reason: format!("id longer than {MAX_ID_CHARS} characters") },
            ))
        }
        Some(id @ (Value::String(_) | Value::Number(_))) => id,
        Some(other) => {
            return Err(reject(
                Value::Null,
                Error::InvalidRequest { reason: format!("id must be a string or number, got {}", kind(&other)) },
            ))
        }
    };
    let op = match fields.get("op").map(|r| small(r)) {
        Some(Value::String(op)) if op.chars().count() > MAX_OP_CHARS => {
            return Err(reject(id, Error::InvalidRequest { reason: format!("op longer than {MAX_OP_CHARS} characters") }))
        }
        Some(Value::String(op)) => op,
        None => return Err(reject(id, Error::InvalidRequest { reason: "request has no \"op\"".into() })),
        Some(other) => {
            return Err(reject(
                id,
                Error::InvalidRequest { reason: format!("op must be a string, got {}", kind(&other)) },
            ))
        }
    };
    if let Some(extra) = fields.keys().find(|k| !matches!(k.as_ref(), "id" | "op" | "params")) {
        return Err(reject(id, Error::InvalidRequest { reason: format!("unknown envelope field {extra:?}") }));
    }
    let range = match fields.get("params") {
        None => None,
        Some(raw) if raw.get() == "null" => None,
        Some(raw) if raw.get().starts_with('{') => {
            let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            Some((start, start + raw.get().len()))
        }
        Some(raw) => {
            let got = kind(&small(raw));
            return Err(reject(id, Error::InvalidParams { op, reason: format!("params must be an object, got {got}") }));
        }
    };
    drop(fields);
    let params = match range {
        Some((start, end)) => Params::within(body, start, end),
        None => Params::empty(),
    };
    Ok(Request { id, op, params })
}

#[derive(Serialize)]
struct OkReply<'a> {
    id: &'a Value,
    ok: bool,
    result: &'a Value,
}

/// Serialises a success reply (borrowing the result: replies can be hundreds of MiB).
pub fn ok_reply(id: &Value, result: &Value) -> Vec<u8> {
    serde_json::to_vec(&OkReply { id, ok: true, result }).expect("serialising a serde_json::Value cannot fail")
}

/// Serialises an error reply.
pub fn error_reply(id: &Value, error: &Error) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id,
        "ok": false,
        "error": { "code": error.code(), "message": error.to_string(), "details": error.details() },
    }))
    .expect("serialising a serde_json::Value cannot fail")
}

/// The JSON type name of a value, for error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> &'static str {
        parse_request(body.as_bytes().to_vec()).unwrap_err().error.code()
    }

    #[test]
    fn accepts_string_and_number_ids_and_defaults_params() {
        let r = parse_request(br#"{"id":"a","op":"ping"}"#.to_vec()).unwrap();
        assert_eq!((r.id, r.op.as_str(), r.params.text()), (json!("a"), "ping", "{}"));
        let r = parse_request(br#"{"id":7,"op":"ping","params": {"x": [1, "y"]} }"#.to_vec()).unwrap();
        assert_eq!((r.id, r.params.text()), (json!(7), r#"{"x": [1, "y"]}"#));
    }

    #[test]
    fn envelope_errors_have_stable_codes() {
        assert_eq!(code("\u{0}"), "invalid_json");
        assert_eq!(code("[1]"), "invalid_request");
        assert_eq!(code(r#"{"op":"ping"}"#), "missing_id");
        assert_eq!(code(r#"{"id":{},"op":"ping"}"#), "invalid_request");
        assert_eq!(code(r#"{"id":1}"#), "invalid_request");
        assert_eq!(code(r#"{"id":1,"op":"ping","params":[]}"#), "invalid_params");
        assert_eq!(code(r#"{"id":1,"op":"ping","extra":1}"#), "invalid_request");
        assert_eq!(parse_request(b"\xff".to_vec()).unwrap_err().error.code(), "invalid_utf8");
    }

    #[test]
    fn errors_after_the_id_is_known_answer_to_that_id() {
        assert_eq!(parse_request(br#"{"id":"x","op":5}"#.to_vec()).unwrap_err().id, json!("x"));
    }

    /// The op is named in errors (`invalid_params`, `unknown_op`), so its length is bounded
    /// once, like the id's.
    #[test]
    fn an_over_long_op_is_an_invalid_request_answered_to_its_id() {
        let at_limit = "é".repeat(MAX_OP_CHARS);
        let r = parse_request(json!({"id": 1, "op": at_limit}).to_string().into_bytes()).unwrap();
        assert_eq!(r.op, at_limit);
        let long = "x".repeat(MAX_OP_CHARS + 1);
        let rejected = parse_request(json!({"id": "a", "op": long, "params": []}).to_string().into_bytes()).unwrap_err();
        assert_eq!(rejected.id, json!("a"));
        assert_eq!(rejected.error.code(), "invalid_request");
        let reply = String::from_utf8(error_reply(&rejected.id, &rejected.error)).unwrap();
        assert!(!reply.contains(&long), "{reply}");
        let huge = "x".repeat(1 << 20);
        let rejected = parse_request(json!({"id": 1, "op": huge}).to_string().into_bytes()).unwrap_err();
        assert!(error_reply(&rejected.id, &rejected.error).len() < 1000);
    }
}
