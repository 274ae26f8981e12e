//! The directories' ops (docs/DIRECTORY.md): looking certificates up, and the directories'
//! settings. `managed_directories` is the add-on's managed setting of the same name (IT's
//! policy), handed over with each request that uses directories.

use super::{parse, reply};
use crate::context::Context;
use crate::directory::settings::DirectoryEntry;
use crate::directory::{self, manage};
use crate::error::{Error, Result};
use crate::identities::seal::Passphrase;
use crate::protocol::Params;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LookupParams {
    addresses: Vec<String>,
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn contacts_lookup(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: LookupParams = parse("contacts_lookup", &params)?;
    if p.addresses.is_empty() {
        return Err(Error::InvalidParams { op: "contacts_lookup".into(), reason: "give one or more addresses".into() });
    }
    reply(directory::lookup_and_check(ctx, &p.addresses, p.managed_directories.as_ref())?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn directories_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ListParams = parse("directories_list", &params)?;
    reply(manage::list(ctx, p.managed_directories.as_ref()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SaveParams {
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
pub(super) struct IdParams {
    id: String,
}

pub fn directories_remove(ctx: &mut Context, params: Params) -> Result<Value> {
    let IdParams { id } = parse("directories_remove", &params)?;
    reply(manage::remove(ctx, &id)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordParams {
    id: String,
    password: String,
    #[serde(default)]
    managed_directories: Option<Value>,
}

pub fn directories_set_password(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: PasswordParams = parse("directories_set_password", &params)?;
    let password = Passphrase::new(p.password);
    reply(manage::set_password(ctx, &p.id, &password, p.managed_directories.as_ref())?)
}
