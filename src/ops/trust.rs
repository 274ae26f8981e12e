//! Trust anchors the user adds: `trust_list`, `trust_add`, `trust_remove`.

use super::{parse, reply, NoParams};
use crate::certs::summary::CertSummary;
use crate::certs::trust::{self, AnchorSource, TrustAnchors};
use crate::context::Context;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use crate::protocol::Params;
use serde_json::Value;

#[derive(Serialize)]
pub struct AnchorInfo {
    pub source: AnchorSource,
    pub certificate: CertSummary,
}

#[derive(Serialize)]
pub struct TrustListing {
    /// Anchors IT and the user added (the system store is used as well, but not listed).
    pub anchors: Vec<AnchorInfo>,
    pub crls: usize,
    pub uses_system_store: bool,
    pub problems: Vec<String>,
}

/// The anchors and CRLs of the IT and user folders.
pub fn listing(ctx: &Context) -> TrustListing {
    let t = TrustAnchors::load(&ctx.home);
    TrustListing {
        anchors: t.anchors.iter().map(|a| AnchorInfo { source: a.source, certificate: a.cert.summary() }).collect(),
        crls: t.crls.len(),
        uses_system_store: t.use_system,
        problems: t.problems.clone(),
    }
}

pub fn trust_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("trust_list", &params)?;
    reply(listing(ctx))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddParams {
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
struct RemoveParams {
    fingerprint: String,
}

#[derive(Serialize)]
struct Removed {
    removed: Vec<String>,
}

pub fn trust_remove(ctx: &mut Context, params: Params) -> Result<Value> {
    let RemoveParams { fingerprint } = parse("trust_remove", &params)?;
    reply(Removed { removed: trust::remove_user(&ctx.home, &fingerprint)? })
}
