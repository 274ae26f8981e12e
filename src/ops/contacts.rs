//! The contact cache's ops (docs/CONTACTS.md).

use super::{parse, payload, reply, Base64Text, NoParams};
use crate::contacts::service;
use crate::contacts::{parse_address, Decision, ExportFormat, ListQuery, Sort};
use crate::context::Context;
use crate::error::{Error, Result};
use serde::Deserialize;
use crate::protocol::Params;
use serde_json::{json, Value};

/// Most contacts one page may hold.
pub const MAX_PAGE: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    sort: Option<String>,
}

fn default_limit() -> usize {
    50
}

pub fn parse_sort(op: &str, sort: Option<&str>) -> Result<Sort> {
    match sort.unwrap_or("address") {
        "address" => Ok(Sort::Address),
        "last_seen" => Ok(Sort::LastSeen),
        "expiry" => Ok(Sort::Expiry),
        other => Err(Error::InvalidParams { op: op.into(), reason: format!("sort {other:?}: use address, last_seen or expiry") }),
    }
}

pub fn contacts_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ListParams = parse("contacts_list", &params)?;
    let query = ListQuery { search: p.search, offset: p.offset, limit: p.limit.clamp(1, MAX_PAGE), sort: parse_sort("contacts_list", p.sort.as_deref())? };
    reply(ctx.contacts()?.list(&query)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddressParams {
    address: String,
}

pub fn contacts_show(ctx: &mut Context, params: Params) -> Result<Value> {
    let AddressParams { address } = parse("contacts_show", &params)?;
    reply(service::show(ctx, &address)?)
}

pub fn contacts_delete(ctx: &mut Context, params: Params) -> Result<Value> {
    let AddressParams { address } = parse("contacts_delete", &params)?;
    let address = parse_address(&address)?;
    let deleted = ctx.contacts()?.delete_contact(&address, crate::time::now())?;
    reply(json!({ "address": address, "deleted_certificates": deleted }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FingerprintParams {
    fingerprint: String,
}

pub fn contacts_delete_certificate(ctx: &mut Context, params: Params) -> Result<Value> {
    let FingerprintParams { fingerprint } = parse("contacts_delete_certificate", &params)?;
    let deleted = ctx.contacts()?.delete_certificate(&fingerprint, crate::time::now())?;
    reply(json!({ "deleted": deleted }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionParams {
    address: String,
    fingerprint: String,
    #[serde(default)]
    note: Option<String>,
}

fn decide(ctx: &mut Context, op: &str, params: &Params, decision: Decision) -> Result<Value> {
    let p: DecisionParams = parse(op, params)?;
    reply(service::decide(ctx, &p.address, &p.fingerprint, decision, p.note.as_deref())?)
}

pub fn contacts_confirm_certificate(ctx: &mut Context, params: Params) -> Result<Value> {
    decide(ctx, "contacts_confirm_certificate", &params, Decision::Confirm)
}

pub fn contacts_refuse_certificate(ctx: &mut Context, params: Params) -> Result<Value> {
    decide(ctx, "contacts_refuse_certificate", &params, Decision::Refuse)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams<'a> {
    #[serde(default, borrow)]
    data_b64: Option<Base64Text<'a>>,
    #[serde(default)]
    transfer: Option<String>,
}

pub fn contacts_import(ctx: &mut Context, params: Params) -> Result<Value> {
    let bytes = {
        let p: ImportParams<'_> = parse("contacts_import", &params)?;
        payload(ctx, "contacts_import", p.data_b64, "data_b64", p.transfer)?
    };
    // The frame is no longer needed: free it before the certificates are parsed.
    drop(params);
    reply(service::import_bytes(ctx, &bytes, "data_b64")?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    address: String,
    #[serde(default)]
    format: Option<String>,
}

pub fn contacts_export(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ExportParams = parse("contacts_export", &params)?;
    let name = p.format.as_deref().unwrap_or("pem");
    let format = ExportFormat::parse(name)
        .ok_or_else(|| Error::InvalidParams { op: "contacts_export".into(), reason: format!("format {name:?}: use pem, der or p7c") })?;
    let (bytes, count) = service::export_contact(ctx, &p.address, format)?;
    reply(json!({ "format": name, "certificates": count, "data_b64": crate::b64::encode(&bytes) }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckParams {
    addresses: Vec<String>,
    /// Look the recipients without a usable certificate up in the directories first
    /// (docs/DIRECTORY.md).
    #[serde(default)]
    lookup: bool,
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn recipients_check(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: CheckParams = parse("recipients_check", &params)?;
    let (recipients, lookup) = crate::directory::check_recipients(ctx, &p.addresses, p.lookup, p.managed_directories.as_ref())?;
    reply(json!({ "recipients": recipients, "lookup": lookup }))
}

pub fn contacts_stats(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("contacts_stats", &params)?;
    reply(ctx.contacts()?.stats(crate::time::now())?)
}
