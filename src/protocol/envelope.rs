//! The request and reply envelopes.
//!
//! Request: `{"id": <string|number>, "op": <string>, "params": <object, optional>}`.
//! Reply: `{"id": …, "ok": true, "result": …}` or
//! `{"id": …, "ok": false, "error": {"code": …, "message": …, "details": {…}}}`.
//!
//! The id comes back exactly as it was sent (its JSON text, byte for byte): a number beyond 2^53,
//! `1.0` or `1e3` is not rewritten. A key that appears twice in any object of the request (the
//! envelope, params, or any object inside them) is refused (`duplicate_key`): parsers disagree
//! on which of the two wins, so the request has no one meaning.

use crate::error::Error;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use super::Params;
use serde_json::value::RawValue;
use serde_json::error::Category;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// Longest request id we echo back; ids are correlation tokens, not payload. Counted in
/// characters of a string id, in characters of the JSON text of a number.
pub const MAX_ID_CHARS: usize = 256;

/// Longest op name we accept; errors name the op, so it is bounded once here (the longest
/// real op is far shorter).
pub const MAX_OP_CHARS: usize = 64;

/// A request's id as it arrived: a JSON string or number, kept as its JSON text and written back
/// unchanged; `null` when the request had none we could read.
#[derive(Clone)]
pub struct RequestId(Box<RawValue>);

impl RequestId {
    /// The id of replies to requests whose id is unknown.
    pub fn null() -> RequestId {
        RequestId(RawValue::from_string("null".into()).expect("null is JSON"))
    }

    /// An id from its JSON text (which must be valid JSON).
    pub fn from_json(text: &str) -> Option<RequestId> {
        RawValue::from_string(text.trim().to_string()).ok().map(RequestId)
    }

    /// The id's JSON text, as sent.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    pub fn is_null(&self) -> bool {
        self.as_json() == "null"
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_json())
    }
}

impl PartialEq for RequestId {
    fn eq(&self, other: &RequestId) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // serde_json writes a RawValue verbatim.
        self.0.serialize(serializer)
    }
}

/// A request that passed envelope checks. `params` is always a JSON object.
#[derive(Debug)]
pub struct Request {
    pub id: RequestId,
    pub op: String,
    pub params: Params,
}

/// A request that failed envelope checks, with the id to answer to (null when unknown).
#[derive(Debug)]
pub struct Rejected {
    pub id: RequestId,
    pub error: Error,
}

/// Parses one frame body into a request. The params stay in the frame (see `Params`).
pub fn parse_request(body: Vec<u8>) -> Result<Request, Rejected> {
    let reject = |id: &RequestId, error: Error| Rejected { id: id.clone(), error };
    let null = RequestId::null();
    // Validated once here; everything after works on this string without copying it.
    let body = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return Err(reject(&null, Error::InvalidUtf8 { valid_up_to: e.utf8_error().valid_up_to() })),
    };
    let text = body.as_str();
    // Each field is kept as raw JSON text, in order, duplicates included: small ones are parsed
    // below, params are left in place. The scanner reads a plain request in one quick pass and
    // vouches for it as a whole, duplicate keys included (scan.rs); anything else is read by
    // serde_json, whose errors say what is wrong.
    // The scanner also notes where the params' own members are, for the op that splits them.
    let mut params_members = None;
    let (fields, params_checked): (Vec<(Cow<str>, &str)>, bool) = match super::scan::plain_object_spans(text, Some("params")) {
        Some((members, inner)) => {
            params_members = inner;
            // Every boundary the scanner stops at is an ASCII byte, so these slices are on characters.
            let members = members.iter().map(|m| m.member(text, 0).map(|m| (Cow::Borrowed(m.key), m.value)));
            (members.collect::<Option<_>>().ok_or_else(|| reject(&null, Error::Internal { reason: "scanner out of bounds".into() }))?, true)
        }
        None => {
            let Fields(fields) = serde_json::from_str(text).map_err(|e| match e.classify() {
                Category::Data => reject(&null, Error::InvalidRequest { reason: format!("expected an object ({e})") }),
                _ => reject(&null, Error::InvalidJson { line: e.line(), column: e.column(), reason: e.to_string() }),
            })?;
            (fields.into_iter().map(|(k, v)| (k, v.get())).collect(), false)
        }
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let mut seen: HashSet<&str> = HashSet::new();
    let duplicate = fields.iter().map(|(k, _)| k.as_ref()).find(|k| !seen.insert(k)).map(str::to_string);
    if duplicate.as_deref() == Some("id") {
        // Which of the two ids to answer to cannot be told.
        return Err(reject(&null, Error::duplicate_key("$", "id")));
    }
    let id = match field("id") {
        None => return Err(reject(&null, Error::MissingId)),
        Some(raw) => parse_id(raw).map_err(|e| reject(&null, e))?,
    };
    if let Some(key) = duplicate {
        return Err(reject(&id, Error::duplicate_key("$", &key)));
    }
    let small = |raw: &str| serde_json::from_str::<Value>(raw).unwrap_or(Value::Null);
    let op = match field("op").map(small) {
        Some(Value::String(op)) if op.chars().count() > MAX_OP_CHARS => {
            return Err(reject(&id, Error::InvalidRequest { reason: format!("op longer than {MAX_OP_CHARS} characters") }))
        }
        Some(Value::String(op)) => op,
        None => return Err(reject(&id, Error::InvalidRequest { reason: "request has no \"op\"".into() })),
        Some(other) => {
            return Err(reject(
                &id,
                Error::InvalidRequest { reason: format!("op must be a string, got {}", kind(&other)) },
            ))
        }
    };
    if let Some((extra, _)) = fields.iter().find(|(k, _)| !matches!(k.as_ref(), "id" | "op" | "params")) {
        let extra = crate::logging::sanitize(extra, MAX_OP_CHARS);
        return Err(reject(&id, Error::InvalidRequest { reason: format!("unknown envelope field {extra:?}") }));
    }
    let range = match field("params") {
        None => None,
        Some("null") => None,
        Some(raw) if raw.starts_with('{') => {
            match if params_checked { Ok(None) } else { first_duplicate_key(raw, "$.params") } {
                Ok(None) => {}
                Ok(Some((path, key))) => return Err(reject(&id, Error::duplicate_key(&path, &key))),
                // A number beyond f64 or nesting past serde_json's limit: no handler could read it.
                Err(reason) => return Err(reject(&id, Error::InvalidParams { op, reason })),
            }
            let start = raw.as_ptr() as usize - text.as_ptr() as usize;
            Some((start, start + raw.len()))
        }
        Some(raw) => {
            let got = kind(&small(raw));
            return Err(reject(&id, Error::InvalidParams { op, reason: format!("params must be an object, got {got}") }));
        }
    };
    drop(fields);
    let params = match range {
        Some((start, end)) => Params::within(body, start, end, params_members),
        None => Params::empty(),
    };
    Ok(Request { id, op, params })
}

/// The id as sent (its JSON text), if it is a string or a number of bounded length.
fn parse_id(text: &str) -> Result<RequestId, Error> {
    let bad = |reason: String| Error::InvalidRequest { reason };
    match text.as_bytes().first() {
        Some(b'"') => {
            // Counted decoded; a lone surrogate escape (valid JSON, not Unicode) as written.
            let chars = serde_json::from_str::<String>(text).map(|d| d.chars().count()).unwrap_or_else(|_| text.chars().count());
            if chars > MAX_ID_CHARS {
                return Err(bad(format!("id longer than {MAX_ID_CHARS} characters")));
            }
        }
        Some(b'-' | b'0'..=b'9') => {
            if text.len() > MAX_ID_CHARS {
                return Err(bad(format!("id longer than {MAX_ID_CHARS} characters")));
            }
        }
        Some(b'n') => return Err(Error::MissingId),
        _ => {
            let got = kind(&serde_json::from_str::<Value>(text).unwrap_or(Value::Null));
            return Err(bad(format!("id must be a string or number, got {got}")));
        }
    }
    RequestId::from_json(text).ok_or_else(|| bad("id is not JSON".into()))
}

/// The envelope's fields in the order sent, a repeated one as often as it appears.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for FieldsVisitor<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(Key(key)) = map.next_key()? {
                    out.push((key, map.next_value()?));
                }
                Ok(Fields(out))
            }
        }
        deserializer.deserialize_map(FieldsVisitor(std::marker::PhantomData))
    }
}

/// An object key, borrowed from the frame unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

/// The first key that appears twice in one object anywhere in `json` (valid JSON text): the
/// path of that object below `root` (`$.params.to[2]`) and the key. Keys are compared after
/// unescaping, so `"a"` and `"\u0061"` are the same key. An error when the text cannot be
/// read as values at all (a number beyond f64, nesting past serde_json's limit).
pub fn first_duplicate_key(json: &str, root: &str) -> Result<Option<(String, String)>, String> {
    let found = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(json);
    match (Walk { found: &found }).deserialize(&mut deserializer) {
        Ok(()) => Ok(None),
        Err(e) => match found.into_inner() {
            Some((mut path, key)) => {
                path.reverse();
                Ok(Some((format!("{root}{}", path.concat()), key)))
            }
            None => Err(e.to_string()),
        },
    }
}

/// Walks a JSON value without keeping it, recording the first duplicate key with its path
/// (innermost segment first; each level adds its own on the way out).
struct Walk<'f> {
    found: &'f RefCell<Option<(Vec<String>, String)>>,
}

impl<'f> Walk<'f> {
    fn add_segment(&self, segment: String) {
        if let Some((path, _)) = self.found.borrow_mut().as_mut() {
            path.push(segment);
        }
    }
}

impl<'de, 'f> DeserializeSeed<'de> for Walk<'f> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'f> Visitor<'de> for Walk<'f> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            match seq.next_element_seed(Walk { found: self.found }) {
                Ok(Some(())) => index += 1,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.add_segment(format!("[{index}]"));
                    return Err(e);
                }
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(Key(key)) = map.next_key()? {
            if seen.contains(&key) {
                *self.found.borrow_mut() = Some((Vec::new(), key.into_owned()));
                return Err(de::Error::custom("duplicate key"));
            }
            if let Err(e) = map.next_value_seed(Walk { found: self.found }) {
                self.add_segment(format!(".{key}"));
                return Err(e);
            }
            seen.insert(key);
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct OkReply<'a> {
    id: &'a RequestId,
    ok: bool,
    result: &'a Value,
}

#[derive(Serialize)]
struct ErrorReply<'a> {
    id: &'a RequestId,
    ok: bool,
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    details: Value,
}

/// Serialises a success reply (borrowing the result: replies can be hundreds of MiB).
pub fn ok_reply(id: &RequestId, result: &Value) -> Vec<u8> {
    serde_json::to_vec(&OkReply { id, ok: true, result }).expect("serialising a serde_json::Value cannot fail")
}

/// Serialises an error reply.
pub fn error_reply(id: &RequestId, error: &Error) -> Vec<u8> {
    let error = ErrorBody { code: error.code(), message: error.to_string(), details: error.details() };
    serde_json::to_vec(&ErrorReply { id, ok: false, error }).expect("serialising a serde_json::Value cannot fail")
}

/// The host's own times for one request, added to its reply when the session is timed
/// (`SMIME_COMPANION_TIMING=1`, docs/PROTOCOL.md "Timing").
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Timing {
    /// When the frame's header arrived: ms since the Unix epoch (the wall clock).
    pub received_at_ms: f64,
    /// From the frame's header to its last byte: the body crossing the pipe.
    pub read_ms: f64,
    /// Parsing the request and running the op.
    pub handle_ms: f64,
}

/// A serialised reply (an object) with `"timing": {…}` added as its last member.
pub fn with_timing(mut reply: Vec<u8>, timing: &Timing) -> Vec<u8> {
    if reply.last() == Some(&b'}') {
        reply.pop();
        reply.extend_from_slice(b",\"timing\":");
        reply.extend_from_slice(&serde_json::to_vec(timing).expect("serialising two numbers cannot fail"));
        reply.push(b'}');
    }
    reply
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
    use serde_json::json;

    fn code(body: &str) -> &'static str {
        parse_request(body.as_bytes().to_vec()).unwrap_err().error.code()
    }

    fn rejected(body: &str) -> Rejected {
        parse_request(body.as_bytes().to_vec()).unwrap_err()
    }

    #[test]
    fn accepts_string_and_number_ids_and_defaults_params() {
        let r = parse_request(br#"{"id":"a","op":"ping"}"#.to_vec()).unwrap();
        assert_eq!((r.id.as_json(), r.op.as_str(), r.params.text()), ("\"a\"", "ping", "{}"));
        let r = parse_request(br#"{"id":7,"op":"ping","params": {"x": [1, "y"]} }"#.to_vec()).unwrap();
        assert_eq!((r.id.as_json(), r.params.text()), ("7", r#"{"x": [1, "y"]}"#));
    }

    /// serde_json reads a number beyond u64 as f64 and writes `1e3` back as `1000.0`: the id is
    /// kept as the text that was sent, so the reply matches it whatever the sender's number type.
    #[test]
    fn the_reply_echoes_the_id_exactly_as_it_was_sent() {
        for id in [
            "9007199254740993",
            "18446744073709551616",
            "123456789012345678901234567890",
            "-9223372036854775809",
            "1.0",
            "1e3",
            "-0",
            "0.1000000000000000055511151231257827",
            "1e400",
            r#""a\u00e9\ud83d\ude00""#,
            r#""\ud800""#,
        ] {
            let r = parse_request(format!(r#"{{"id": {id} ,"op":"ping"}}"#).into_bytes()).unwrap();
            assert_eq!(r.id.as_json(), id);
            let reply = String::from_utf8(ok_reply(&r.id, &json!({"pong": true}))).unwrap();
            assert_eq!(reply, format!(r#"{{"id":{id},"ok":true,"result":{{"pong":true}}}}"#));
            let reply = String::from_utf8(error_reply(&r.id, &Error::MissingId)).unwrap();
            assert!(reply.starts_with(&format!(r#"{{"id":{id},"ok":false,"#)), "{reply}");
            // An error found after the id was read answers to that id, exactly.
            let rejected = rejected(&format!(r#"{{"id":{id},"op":5}}"#));
            assert_eq!(rejected.id.as_json(), id);
        }
    }

    #[test]
    fn envelope_errors_have_stable_codes() {
        assert_eq!(code("\u{0}"), "invalid_json");
        assert_eq!(code("[1]"), "invalid_request");
        assert_eq!(code(r#"{"op":"ping"}"#), "missing_id");
        assert_eq!(code(r#"{"id":null,"op":"ping"}"#), "missing_id");
        assert_eq!(code(r#"{"id":{},"op":"ping"}"#), "invalid_request");
        assert_eq!(code(r#"{"id":[1],"op":"ping"}"#), "invalid_request");
        assert_eq!(code(r#"{"id":true,"op":"ping"}"#), "invalid_request");
        assert_eq!(code(r#"{"id":1}"#), "invalid_request");
        assert_eq!(code(r#"{"id":1,"op":"ping","params":[]}"#), "invalid_params");
        assert_eq!(code(r#"{"id":1,"op":"ping","extra":1}"#), "invalid_request");
        assert_eq!(code(&format!(r#"{{"id":{},"op":"ping"}}"#, "1".repeat(MAX_ID_CHARS + 1))), "invalid_request");
        assert_eq!(code(&format!(r#"{{"id":"{}","op":"ping"}}"#, "é".repeat(MAX_ID_CHARS + 1))), "invalid_request");
        assert!(parse_request(format!(r#"{{"id":"{}","op":"ping"}}"#, "é".repeat(MAX_ID_CHARS)).into_bytes()).is_ok());
        assert_eq!(parse_request(b"\xff".to_vec()).unwrap_err().error.code(), "invalid_utf8");
    }

    #[test]
    fn errors_after_the_id_is_known_answer_to_that_id() {
        assert_eq!(rejected(r#"{"id":"x","op":5}"#).id.as_json(), "\"x\"");
    }

    /// Two parsers can read `{"id":1,"id":2}` as different requests; the host refuses it rather
    /// than pick one, at every level of the envelope and params.
    #[test]
    fn a_key_given_twice_anywhere_in_the_request_is_refused_with_its_place() {
        let dup = |body: &str| {
            let r = rejected(body);
            assert_eq!(r.error.code(), "duplicate_key", "{body}");
            (r.id.as_json().to_string(), r.error.details())
        };
        // The id itself twice: which one to answer to cannot be told.
        assert_eq!(dup(r#"{"id":1,"id":2,"op":"ping"}"#), ("null".into(), json!({"path": "$", "key": "id"})));
        assert_eq!(dup(r#"{"id":1,"op":"ping","op":"hello"}"#), ("1".into(), json!({"path": "$", "key": "op"})));
        assert_eq!(dup(r#"{"id":1,"op":"ping","params":{},"params":{}}"#).1["key"], "params");
        assert_eq!(dup(r#"{"id":1,"op":"ping","params":{"a":1,"b":2,"a":3}}"#).1, json!({"path": "$.params", "key": "a"}));
        assert_eq!(
            dup(r#"{"id":"q","op":"ping","params":{"echo":{"x":[{"k":1},{"k":1,"k":2}]}}}"#),
            ("\"q\"".into(), json!({"path": "$.params.echo.x[1]", "key": "k"}))
        );
        // Escapes are undone before comparing.
        assert_eq!(dup(r#"{"id":1,"op":"ping","params":{"a":1,"\u0061":2}}"#).1["key"], "a");
        assert_eq!(dup(r#"{"\u0069d":1,"id":2,"op":"ping"}"#).1["key"], "id");
        // Equal keys in different objects, or equal values, are fine.
        let ok = parse_request(br#"{"id":1,"op":"ping","params":{"a":{"a":1},"b":[{"a":1},{"a":1}],"c":"a"}}"#.to_vec()).unwrap();
        assert_eq!(ok.op, "ping");
    }

    #[test]
    fn a_duplicate_key_reply_names_a_bounded_neutralised_key() {
        let key = format!("\u{202e}{}", "k".repeat(10_000));
        let body = json!({"id": 1, "op": "ping"}).to_string();
        let body = format!(r#"{}, "params": {{{k}: 1, {k}: 2}}}}"#, &body[..body.len() - 1], k = serde_json::to_string(&key).unwrap());
        let r = rejected(&body);
        let reply = String::from_utf8(error_reply(&r.id, &r.error)).unwrap();
        assert!(reply.len() < 1000, "{}", reply.len());
        assert!(reply.contains("⟨U+202E⟩kkk") && !reply.contains('\u{202e}'), "{reply}");
    }

    #[test]
    fn params_no_handler_could_read_are_invalid_params() {
        assert_eq!(code(r#"{"id":1,"op":"ping","params":{"n":1e999}}"#), "invalid_params");
        let deep = format!(r#"{{"id":1,"op":"ping","params":{{"a":{}1{}}}}}"#, "[".repeat(200), "]".repeat(200));
        assert_eq!(code(&deep), "invalid_params");
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
        assert_eq!(rejected.id.as_json(), "\"a\"");
        assert_eq!(rejected.error.code(), "invalid_request");
        let reply = String::from_utf8(error_reply(&rejected.id, &rejected.error)).unwrap();
        assert!(!reply.contains(&long), "{reply}");
        let huge = "x".repeat(1 << 20);
        let rejected = parse_request(json!({"id": 1, "op": huge}).to_string().into_bytes()).unwrap_err();
        assert!(error_reply(&rejected.id, &rejected.error).len() < 1000);
    }
}
