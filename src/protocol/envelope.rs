//! The request and reply envelopes.
//!
//! Request: `{"id": <string|number>, "op": <string>, "params": <object, optional>}`.
//! Reply: `{"id": …, "ok": true, "result": …}` or
//! `{"id": …, "ok": false, "error": {"code": …, "message": …, "details": {…}}}`.

use crate::error::Error;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Longest request id we echo back; ids are correlation tokens, not payload.
pub const MAX_ID_CHARS: usize = 256;

/// A request that passed envelope checks. `params` is always an object.
#[derive(Debug)]
pub struct Request {
    pub id: Value,
    pub op: String,
    pub params: Value,
}

/// A request that failed envelope checks, with the id to answer to (null when unknown).
#[derive(Debug)]
pub struct Rejected {
    pub id: Value,
    pub error: Error,
}

/// Parses one frame body into a request.
pub fn parse_request(body: &[u8]) -> Result<Request, Rejected> {
    let reject = |id: Value, error: Error| Rejected { id, error };
    let text = std::str::from_utf8(body)
        .map_err(|e| reject(Value::Null, Error::InvalidUtf8 { valid_up_to: e.valid_up_to() }))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        reject(
            Value::Null,
            Error::InvalidJson { line: e.line(), column: e.column(), reason: e.to_string() },
        )
    })?;
    let Value::Object(mut fields) = value else {
        return Err(reject(
            Value::Null,
            Error::InvalidRequest { reason: format!("expected an object, got {}", kind(&value)) },
        ));
    };
    let id = match fields.remove("id") {
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
    let op = match fields.remove("op") {
        Some(Value::String(op)) => op,
        None => return Err(reject(id, Error::InvalidRequest { reason: "request has no \"op\"".into() })),
        Some(other) => {
            return Err(reject(
                id,
                Error::InvalidRequest { reason: format!("op must be a string, got {}", kind(&other)) },
            ))
        }
    };
    let params = match fields.remove("params") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p,
        Some(other) => {
            return Err(reject(
                id,
                Error::InvalidParams { op, reason: format!("params must be an object, got {}", kind(&other)) },
            ))
        }
    };
    if let Some(extra) = fields.keys().next() {
        return Err(reject(id, Error::InvalidRequest { reason: format!("unknown envelope field {extra:?}") }));
    }
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
        parse_request(body.as_bytes()).unwrap_err().error.code()
    }

    #[test]
    fn accepts_string_and_number_ids_and_defaults_params() {
        let r = parse_request(br#"{"id":"a","op":"ping"}"#).unwrap();
        assert_eq!((r.id, r.op.as_str(), r.params), (json!("a"), "ping", json!({})));
        assert_eq!(parse_request(br#"{"id":7,"op":"ping","params":{}}"#).unwrap().id, json!(7));
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
        assert_eq!(parse_request(b"\xff").unwrap_err().error.code(), "invalid_utf8");
    }

    #[test]
    fn errors_after_the_id_is_known_answer_to_that_id() {
        assert_eq!(parse_request(br#"{"id":"x","op":5}"#).unwrap_err().id, json!("x"));
    }
}
