//! `inspect_message`: the verdict on one message (docs/INSPECT.md).

use super::{parse, payload, reply, yes, Base64Text};
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
    #[serde(default, borrow)]
    message_b64: Option<Base64Text<'a>>,
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
    let (raw, request) = {
        let p: InspectParams = parse("inspect_message", &params)?;
        let at = match &p.at {
            Some(text) => Some(crate::time::parse_rfc3339(text).ok_or_else(|| Error::BadTime { value: text.clone() })?),
            None => None,
        };
        let raw = payload(ctx, "inspect_message", p.message_b64, "message_b64", p.transfer)?;
        let request = InspectRequest {
            at,
            return_content: p.return_content,
            decrypted_by_thunderbird: p.decrypted_by_thunderbird,
            harvest: p.harvest,
            recheck_revocation: p.recheck_revocation,
            ..InspectRequest::default()
        };
        (raw, request)
    };
    // The request frame (the base64 text) is no longer needed: free it before the analysis.
    drop(params);
    let inspection = inspect(ctx, &raw, &request)?;
    reply(inspection.report)
}
