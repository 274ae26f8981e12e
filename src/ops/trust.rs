//! Trust anchors the user adds: `trust_list`, `trust_add`, `trust_remove`.

use super::{parse, reply, NoParams};
use crate::certs::trust;
use crate::context::Context;
use crate::error::Result;
use crate::protocol::Params;
use serde::Deserialize;
use serde_json::Value;

pub fn trust_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("trust_list", &params)?;
    reply(trust::listing(&ctx.home))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddParams {
    /// PEM, DER or PKCS#7 certificates, or a CRL.
    data_b64: String,
}

pub fn trust_add(ctx: &mut Context, params: Params) -> Result<Value> {
    let AddParams { data_b64 } = parse("trust_add", &params)?;
    let bytes = crate::b64::decode("data_b64", &data_b64)?;
    reply(trust::add_user(&ctx.home, &bytes, "data_b64")?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RemoveParams {
    fingerprint: String,
}

pub fn trust_remove(ctx: &mut Context, params: Params) -> Result<Value> {
    let RemoveParams { fingerprint } = parse("trust_remove", &params)?;
    reply(trust::remove_user(&ctx.home, &fingerprint)?)
}
