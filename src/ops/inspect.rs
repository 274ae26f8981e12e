//! `inspect_message`: the verdict on one message (docs/INSPECT.md).

use super::{decode_payload, find_payload, parse_text, payload_fields, reply, yes, Base64Text};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::inspect::{inspect, InspectRequest};
use serde::Deserialize;
use crate::protocol::Params;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InspectParams<'a> {
    /// Borrowed from the request frame: a large message is not copied before it is decoded.
    /// (Usually taken out of the params before they are parsed: `find_payload`.)
    #[serde(default, borrow)]
    message_b64: Option<Base64Text<'a>>,
    #[serde(default, borrow)]
    message_latin1: Option<Base64Text<'a>>,
    #[serde(default)]
    transfer: Option<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    return_content: bool,
    #[serde(default = "yes")]
    harvest: bool,
    #[serde(default)]
    decrypted_by_thunderbird: bool,
    /// Ask CAs again where a revocation check failed recently ("check again").
    #[serde(default)]
    recheck_revocation: bool,
}

pub fn inspect_message(ctx: &mut Context, params: Params) -> Result<Value> {
    let (payload, request) = {
        let split = params.split(&payload_fields("message").each_ref().map(String::as_str));
        let p: InspectParams = parse_text("inspect_message", &split.rest)?;
        let at = match &p.at {
            Some(text) => Some(crate::time::parse_rfc3339(text).ok_or_else(|| Error::BadTime { value: text.clone() })?),
            None => None,
        };
        let payload = find_payload("inspect_message", "message", &params, &split, p.message_b64, p.message_latin1, p.transfer.into())?;
        let request = InspectRequest {
            at,
            return_content: p.return_content,
            decrypted_by_thunderbird: p.decrypted_by_thunderbird,
            harvest: p.harvest,
            recheck_revocation: p.recheck_revocation,
            ..InspectRequest::default()
        };
        (payload, request)
    };
    // The message is decoded over its own text in the request frame, which holds nothing else
    // needed any more.
    let raw = decode_payload(ctx, "inspect_message", params, payload)?;
    let inspection = inspect(ctx, &raw, &request)?;
    reply(inspection.report)
}
