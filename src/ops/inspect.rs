//! `inspect_message`: the verdict on one message (docs/INSPECT.md).

use super::{parse_text, payload_fields, reply, split_payload, yes, Base64Text};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::inspect::{inspect, InspectRequest};
use serde::Deserialize;
use crate::protocol::Params;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InspectParams<'a> {
    /// Borrowed from the request frame: a large message is not copied before it is decoded.
    /// (Usually taken out of the params before they are parsed: `split_payload`.)
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
}

pub fn inspect_message(ctx: &mut Context, params: Params) -> Result<Value> {
    let (raw, request) = {
        let split = params.split(&payload_fields("message").each_ref().map(String::as_str));
        let p: InspectParams = parse_text("inspect_message", &split.rest)?;
        let at = match &p.at {
            Some(text) => Some(crate::time::parse_rfc3339(text).ok_or_else(|| Error::BadTime { value: text.clone() })?),
            None => None,
        };
        let raw = split_payload(ctx, "inspect_message", "message", &split, p.message_b64, p.message_latin1, p.transfer.into())?;
        let request = InspectRequest {
            at,
            return_content: p.return_content,
            decrypted_by_thunderbird: p.decrypted_by_thunderbird,
            harvest: p.harvest,
            ..InspectRequest::default()
        };
        (raw, request)
    };
    // The request frame (the base64 text) is no longer needed: free it before the analysis.
    drop(params);
    let inspection = inspect(ctx, &raw, &request)?;
    reply(inspection.report)
}
