//! The contact cache's ops (docs/CONTACTS.md).

use super::{parse, payload, reply, Base64Text, NoParams};
use crate::contacts::service;
use crate::contacts::{Decision, ExportFormat, ListQuery, DEFAULT_PAGE};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::protocol::Params;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    #[serde(default)]
    search: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "default_page")]
    limit: usize,
    #[serde(default)]
    sort: Option<String>,
}

fn default_page() -> usize {
    DEFAULT_PAGE
}

pub fn contacts_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ListParams = parse("contacts_list", &params)?;
    let query = ListQuery::new(p.search, p.offset, p.limit, p.sort.as_deref())
        .map_err(|reason| Error::InvalidParams { op: "contacts_list".into(), reason })?;
    reply(ctx.contacts()?.list(&query)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AddressParams {
    address: String,
}

pub fn contacts_show(ctx: &mut Context, params: Params) -> Result<Value> {
    let AddressParams { address } = parse("contacts_show", &params)?;
    reply(service::show(ctx, &address)?)
}

pub fn contacts_delete(ctx: &mut Context, params: Params) -> Result<Value> {
    let AddressParams { address } = parse("contacts_delete", &params)?;
    reply(service::delete(ctx, &address)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FingerprintParams {
    fingerprint: String,
}

pub fn contacts_delete_certificate(ctx: &mut Context, params: Params) -> Result<Value> {
    let FingerprintParams { fingerprint } = parse("contacts_delete_certificate", &params)?;
    reply(service::delete_certificate(ctx, &fingerprint)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionParams {
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
pub(super) struct ImportParams<'a> {
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
pub(super) struct ExportParams {
    address: String,
    #[serde(default)]
    format: Option<String>,
}

pub fn contacts_export(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ExportParams = parse("contacts_export", &params)?;
    let name = p.format.as_deref().unwrap_or("pem");
    let format = ExportFormat::parse(name)
        .ok_or_else(|| Error::InvalidParams { op: "contacts_export".into(), reason: format!("format {name:?}: use pem, der or p7c") })?;
    reply(service::export_contact(ctx, &p.address, format, name)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckParams {
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
    reply(crate::directory::check_recipients(ctx, &p.addresses, p.lookup, p.managed_directories.as_ref())?)
}

pub fn contacts_stats(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("contacts_stats", &params)?;
    reply(ctx.contacts()?.stats(crate::time::now())?)
}
