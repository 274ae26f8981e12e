//! The user's own identities, and signing and encrypting with them (docs/IDENTITIES.md).
//! Passwords and passphrases arrive in params and go nowhere but into OpenSSL: never logged.

use super::{parse, payload, reply, yes, Base64Text, NoParams};
use crate::context::Context;
use crate::error::Result;
use crate::identities::checks::import;
use crate::identities::seal::Passphrase;
use crate::identities::service::DEFAULT_RADAR_DAYS;
use crate::identities::{backup, service};
use crate::protocol::Params;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn identities_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("identities_list", &params)?;
    reply(service::list(ctx)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImportParams {
    p12_b64: String,
    password: String,
    #[serde(default)]
    new_passphrase: Option<String>,
}

pub fn identities_import(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ImportParams = parse("identities_import", &params)?;
    params.wipe();
    let bytes = crate::b64::decode("p12_b64", &p.p12_b64)?;
    let password = Passphrase::new(p.password);
    let new = p.new_passphrase.map(Passphrase::new);
    reply(import(ctx, &bytes, &password, new.as_ref(), "p12_b64")?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IdentityParams {
    identity: String,
}

pub fn identities_show(ctx: &mut Context, params: Params) -> Result<Value> {
    let IdentityParams { identity } = parse("identities_show", &params)?;
    reply(service::show(ctx, &identity)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FingerprintParams {
    fingerprint: String,
}

pub fn identities_delete(ctx: &mut Context, params: Params) -> Result<Value> {
    let FingerprintParams { fingerprint } = parse("identities_delete", &params)?;
    reply(service::delete(ctx, &fingerprint)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UnlockParams {
    passphrase: String,
    #[serde(default)]
    identity: Option<String>,
}

pub fn identities_unlock(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: UnlockParams = parse("identities_unlock", &params)?;
    params.wipe();
    let passphrase = Passphrase::new(p.passphrase);
    reply(service::unlock(ctx, &passphrase, p.identity.as_deref())?)
}

pub fn identities_lock(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("identities_lock", &params)?;
    reply(service::lock(ctx)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportParams {
    identity: String,
    /// The new backup file's password.
    password: String,
    /// The identity's passphrase: always needed, also while the key is unlocked.
    passphrase: String,
    #[serde(default)]
    legacy: bool,
    /// Record the backup now (default). The add-on says false and calls
    /// `identities_backup_saved` once the user really saved the file.
    #[serde(default = "yes")]
    record_backup: bool,
}

pub fn identities_export(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: ExportParams = parse("identities_export", &params)?;
    params.wipe();
    let password = Passphrase::new(p.password);
    let passphrase = Passphrase::new(p.passphrase);
    let backup = backup::export(ctx, &p.identity, &password, &passphrase, p.legacy)?;
    if p.record_backup {
        ctx.identities()?.mark_backed_up(&backup.fingerprint, crate::time::now())?;
    }
    reply(backup)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BackupSavedParams {
    identity: String,
}

pub fn identities_backup_saved(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: BackupSavedParams = parse("identities_backup_saved", &params)?;
    reply(backup::record(ctx, &p.identity)?)
}

pub fn backup_status(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("backup_status", &params)?;
    reply(backup::status(ctx.identities()?)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RadarParams {
    #[serde(default = "default_radar_days")]
    days: i64,
}

fn default_radar_days() -> i64 {
    DEFAULT_RADAR_DAYS
}

pub fn expiry_radar(ctx: &mut Context, params: Params) -> Result<Value> {
    let RadarParams { days } = parse("expiry_radar", &params)?;
    reply(service::radar(ctx, days)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignParams<'a> {
    #[serde(default, borrow)]
    message_b64: Option<Base64Text<'a>>,
    #[serde(default)]
    transfer: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    passphrase: Option<String>,
}

#[derive(Serialize)]
struct Signed {
    #[serde(rename = "message_b64", serialize_with = "crate::b64::serialize")]
    message: Vec<u8>,
}

pub fn sign_message(ctx: &mut Context, params: Params) -> Result<Value> {
    let (raw, from, passphrase) = {
        let p: SignParams = parse("sign_message", &params)?;
        (payload(ctx, "sign_message", p.message_b64, "message_b64", p.transfer)?, p.from, p.passphrase.map(Passphrase::new))
    };
    params.wipe();
    let message = crate::outgoing::sign_message(ctx, &raw, from.as_deref(), passphrase.as_ref())?;
    reply(Signed { message })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EncryptParams<'a> {
    #[serde(default, borrow)]
    message_b64: Option<Base64Text<'a>>,
    #[serde(default)]
    transfer: Option<String>,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    sign: bool,
    #[serde(default)]
    passphrase: Option<String>,
}

pub fn encrypt_message(ctx: &mut Context, params: Params) -> Result<Value> {
    let (raw, to, sign, passphrase) = {
        let p: EncryptParams = parse("encrypt_message", &params)?;
        (payload(ctx, "encrypt_message", p.message_b64, "message_b64", p.transfer)?, p.to, p.sign, p.passphrase.map(Passphrase::new))
    };
    params.wipe();
    reply(crate::outgoing::encrypt_message(ctx, &raw, &to, sign, passphrase.as_ref())?)
}
