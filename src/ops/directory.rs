//! The directories' ops (docs/DIRECTORY.md): looking certificates up, and the directories'
//! settings. `managed_directories` is the add-on's managed setting of the same name (IT's
//! policy), handed over with each request that uses directories.

use super::{parse, reply};
use crate::contacts::service;
use crate::context::Context;
use crate::directory::settings::DirectoryEntry;
use crate::directory::{self, manage, Mode};
use crate::error::{Error, Result};
use crate::identities::seal::Passphrase;
use crate::protocol::Params;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupParams {
    addresses: Vec<String>,
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn contacts_lookup(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: LookupParams = parse("contacts_lookup", &params)?;
    if p.addresses.is_empty() {
        return Err(Error::InvalidParams { op: "contacts_lookup".into(), reason: "give one or more addresses".into() });
    }
    reply(lookup(ctx, &p.addresses, p.managed_directories.as_ref())?)
}

/// `contacts_lookup` for the op and the CLI: every directory asked, then each address checked.
pub fn lookup(ctx: &mut Context, addresses: &[String], managed: Option<&Value>) -> Result<Value> {
    let (directories, problems) = directory::configured(ctx, managed);
    if directories.is_empty() {
        return Err(Error::NoDirectory { problems });
    }
    let report = directory::lookup(ctx, addresses, &directories, Mode::Explicit)?;
    let recipients = service::check(ctx, addresses)?;
    Ok(json!({
        "directories": report.directories,
        "addresses": report.addresses,
        "recipients": recipients,
        "problems": problems,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn directories_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ListParams = parse("directories_list", &params)?;
    reply(manage::list(ctx, p.managed_directories.as_ref()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveParams {
    directory: Value,
    #[serde(default)]
    password: Option<String>,
}

pub fn directories_save(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: SaveParams = parse("directories_save", &params)?;
    let password = p.password.map(Passphrase::new);
    let entry = DirectoryEntry::from_json(&p.directory).map_err(|reason| Error::InvalidParams { op: "directories_save".into(), reason })?;
    reply(manage::save(ctx, &entry, password.as_ref())?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdParams {
    id: String,
}

pub fn directories_remove(ctx: &mut Context, params: Params) -> Result<Value> {
    let IdParams { id } = parse("directories_remove", &params)?;
    manage::remove(ctx, &id)?;
    reply(json!({ "removed": id }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordParams {
    id: String,
    password: String,
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn directories_set_password(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: PasswordParams = parse("directories_set_password", &params)?;
    let password = Passphrase::new(p.password);
    manage::set_password(ctx, &p.id, &password, p.managed_directories.as_ref())?;
    reply(json!({ "id": p.id, "password_set": !password.is_empty() }))
}
