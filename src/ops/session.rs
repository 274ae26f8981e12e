//! Session-level ops: `hello`, `ping`, the chunked-upload ops and `transfer_fetch`.

use super::{decode_payload, find_payload, parse, parse_text, payload_fields, reply, Base64Text, NoParams, Transfer, OPS};
use crate::context::Context;
use crate::error::{error_codes, Error, Result};
use crate::fetch::{self, FetchRequest, DEFAULT_FETCH_TIMEOUT_MS, MAX_FETCH_BYTES, MAX_FETCH_TIMEOUT_MS};
use std::time::Duration;
use crate::product::{ADDON_ID, HOST_NAME, PRODUCT_NAME, PROTOCOL_VERSION, VERSION};
use crate::protocol::transfer::SUGGESTED_CHUNK_BYTES;
use crate::protocol::{MAX_REPLY_BODY_BYTES, MAX_REQUEST_BYTES, MAX_TRANSFER_BYTES};
use serde::{Deserialize, Serialize};
use crate::protocol::Params;
use serde_json::Value;

#[derive(Serialize)]
struct OpInfo {
    name: &'static str,
    params: &'static str,
    help: &'static str,
}

#[derive(Serialize)]
struct Limits {
    max_request_bytes: u64,
    max_reply_frame_bytes: usize,
    max_transfer_bytes: u64,
    suggested_chunk_bytes: u64,
}

#[derive(Serialize)]
struct Hello {
    product: &'static str,
    version: &'static str,
    protocol: u32,
    host_name: &'static str,
    addon_id: &'static str,
    caller: Option<String>,
    ops: Vec<OpInfo>,
    limits: Limits,
    error_codes: Vec<&'static str>,
    /// Replies carry the host's own times (`SMIME_COMPANION_TIMING=1`).
    timing: bool,
}

pub fn hello(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("hello", &params)?;
    reply(Hello {
        product: PRODUCT_NAME,
        version: VERSION,
        protocol: PROTOCOL_VERSION,
        host_name: HOST_NAME,
        addon_id: ADDON_ID,
        caller: ctx.caller.as_ref().map(|c| c.identity().to_string()),
        ops: OPS.iter().map(|o| OpInfo { name: o.name, params: o.params, help: o.help }).collect(),
        limits: Limits {
            max_request_bytes: MAX_REQUEST_BYTES,
            max_reply_frame_bytes: MAX_REPLY_BODY_BYTES,
            max_transfer_bytes: MAX_TRANSFER_BYTES,
            suggested_chunk_bytes: SUGGESTED_CHUNK_BYTES,
        },
        error_codes: error_codes(),
        timing: crate::protocol::session::timing_requested(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PingParams {
    #[serde(default)]
    echo: Option<Value>,
}

#[derive(Serialize)]
struct Pong {
    pong: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    echo: Option<Value>,
}

pub fn ping(_: &mut Context, params: Params) -> Result<Value> {
    let PingParams { echo } = parse("ping", &params)?;
    reply(Pong { pong: true, echo })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BeginParams {
    total_bytes: u64,
    #[serde(default)]
    sha256: Option<String>,
    /// The caller's name for the transfer, so it can send the chunks without waiting for this
    /// answer (docs/PROTOCOL.md, "Chunked uploads").
    #[serde(default)]
    transfer_id: Option<String>,
}

#[derive(Serialize)]
struct Begun {
    transfer_id: String,
    suggested_chunk_bytes: u64,
}

pub fn transfer_begin(ctx: &mut Context, params: Params) -> Result<Value> {
    let BeginParams { total_bytes, sha256, transfer_id } = parse("transfer_begin", &params)?;
    let transfer_id = ctx.transfers.begin(total_bytes, sha256, transfer_id)?;
    reply(Begun { transfer_id, suggested_chunk_bytes: SUGGESTED_CHUNK_BYTES })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChunkParams<'a> {
    transfer_id: String,
    index: u64,
    /// Borrowed: a chunk of up to 64 MiB is not copied out of the frame first. (Usually taken
    /// out of the params before they are parsed: `find_payload`.)
    #[serde(default, borrow)]
    data_b64: Option<Base64Text<'a>>,
    #[serde(default, borrow)]
    data_latin1: Option<Base64Text<'a>>,
}

#[derive(Serialize)]
struct ChunkAccepted {
    received_bytes: u64,
}

pub fn transfer_chunk(ctx: &mut Context, params: Params) -> Result<Value> {
    let (transfer_id, index, payload) = {
        let split = params.split(&payload_fields("data").each_ref().map(String::as_str));
        let ChunkParams { transfer_id, index, data_b64, data_latin1 } = parse_text("transfer_chunk", &split.rest)?;
        let payload = find_payload("transfer_chunk", "data", &params, &split, data_b64, data_latin1, Transfer::NotAccepted)?;
        (transfer_id, index, payload)
    };
    let bytes = decode_payload(ctx, "transfer_chunk", params, payload)?;
    let received_bytes = ctx.transfers.append(&transfer_id, index, &bytes)?;
    reply(ChunkAccepted { received_bytes })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransferIdParams {
    transfer_id: String,
}

#[derive(Serialize)]
struct Ended {
    transfer_id: String,
    total_bytes: u64,
    /// Only when `transfer_begin` was given one to check.
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

pub fn transfer_end(ctx: &mut Context, params: Params) -> Result<Value> {
    let TransferIdParams { transfer_id } = parse("transfer_end", &params)?;
    let finished = ctx.transfers.end(&transfer_id)?;
    reply(Ended { transfer_id, total_bytes: finished.total_bytes, sha256: finished.sha256 })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FetchParams {
    url: String,
    /// The `Authorization` header's value (`Bearer <token>`); overwritten in memory after use.
    #[serde(default)]
    authorization: Option<String>,
    #[serde(default)]
    transfer_id: Option<String>,
    #[serde(default)]
    timeout_ms: Option<u64>,
}

#[derive(Serialize)]
struct Fetched {
    transfer_id: String,
    total_bytes: u64,
}

/// Downloads a message from the user's mail server into a finished transfer (src/fetch).
pub fn transfer_fetch(ctx: &mut Context, params: Params) -> Result<Value> {
    let FetchParams { url, authorization, transfer_id, timeout_ms } = parse("transfer_fetch", &params)?;
    // The token is in the request frame as well: that is overwritten at once, the copy after use.
    params.wipe();
    let authorization = authorization.map(zeroize::Zeroizing::new);
    let timeout_ms = timeout_ms.unwrap_or(DEFAULT_FETCH_TIMEOUT_MS);
    if !(1..=MAX_FETCH_TIMEOUT_MS).contains(&timeout_ms) {
        let reason = format!("timeout_ms must be 1 to {MAX_FETCH_TIMEOUT_MS}");
        return Err(Error::InvalidParams { op: "transfer_fetch".into(), reason });
    }
    if let Some(name) = &transfer_id {
        ctx.transfers.check_name("transfer_fetch", name)?;
    }
    let request = FetchRequest {
        url: &url,
        authorization: authorization.as_ref().map(|a| a.as_str()),
        accept: "message/rfc822, */*",
        timeout: Duration::from_millis(timeout_ms),
        limit: ctx.transfers.room().min(MAX_FETCH_BYTES),
    };
    let data = fetch::fetch(&request)?;
    let total_bytes = data.len() as u64;
    let transfer_id = ctx.transfers.insert(transfer_id, data)?;
    reply(Fetched { transfer_id, total_bytes })
}

#[derive(Serialize)]
struct Discarded {
    discarded: bool,
}

pub fn transfer_discard(ctx: &mut Context, params: Params) -> Result<Value> {
    let TransferIdParams { transfer_id } = parse("transfer_discard", &params)?;
    ctx.transfers.discard(&transfer_id)?;
    reply(Discarded { discarded: true })
}
