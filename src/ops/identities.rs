//! The user's own identities, and signing and encrypting with them (docs/IDENTITIES.md).
//! Passwords and passphrases arrive in params and go nowhere but into OpenSSL: never logged.

use super::{parse, payload, reply, yes, Base64Text, NoParams};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::identities::checks::{expiring, import};
use crate::identities::seal::Passphrase;
use crate::identities::Identity;
use serde::Deserialize;
use crate::protocol::Params;
use serde_json::{json, Value};

/// What the add-on shows of an identity; `epoch` is the store's lock epoch (read once per call).
fn info(ctx: &mut Context, identity: &Identity, epoch: i64) -> Result<Value> {
    let unlocked = ctx.unlocked.is_unlocked(&identity.fingerprint(), epoch);
    serde_json::to_value(identity.info(crate::time::now(), unlocked)).map_err(|e| Error::Internal { reason: e.to_string() })
}

pub fn identities_list(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("identities_list", &params)?;
    let all = ctx.identities()?.all()?;
    let epoch = ctx.identities()?.lock_epoch()?;
    let list = all.iter().map(|i| info(ctx, i, epoch)).collect::<Result<Vec<_>>>()?;
    Ok(json!({ "identities": list }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
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
struct IdentityParams {
    identity: String,
}

pub fn identities_show(ctx: &mut Context, params: Params) -> Result<Value> {
    let IdentityParams { identity } = parse("identities_show", &params)?;
    let found = ctx.identities()?.one(&identity)?;
    let epoch = ctx.identities()?.lock_epoch()?;
    info(ctx, &found, epoch)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FingerprintParams {
    fingerprint: String,
}

pub fn identities_delete(ctx: &mut Context, params: Params) -> Result<Value> {
    let FingerprintParams { fingerprint } = parse("identities_delete", &params)?;
    let identity = ctx.identities()?.one(&fingerprint)?;
    ctx.identities()?.delete(&identity.fingerprint(), crate::time::now())?;
    Ok(json!({ "deleted": identity.fingerprint() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlockParams {
    passphrase: String,
    #[serde(default)]
    identity: Option<String>,
}

/// Unlocks the given identity, or every identity this passphrase opens.
pub fn unlock(ctx: &mut Context, passphrase: &Passphrase, identity: Option<&str>) -> Result<Vec<String>> {
    let candidates = match identity {
        Some(key) => vec![ctx.identities()?.one(key)?],
        None => ctx.identities()?.all()?,
    };
    if candidates.is_empty() {
        return Err(Error::NotFound { what: "identity".into(), key: identity.unwrap_or("any").into() });
    }
    let epoch = ctx.identities()?.lock_epoch()?;
    let mut unlocked = Vec::new();
    let mut last_error = None;
    for c in &candidates {
        match c.unlock(passphrase) {
            Ok(key) => {
                ctx.unlocked.insert(c, key, epoch);
                unlocked.push(c.fingerprint());
            }
            Err(e) => last_error = Some(e),
        }
    }
    match (unlocked.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(unlocked),
    }
}

pub fn identities_unlock(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: UnlockParams = parse("identities_unlock", &params)?;
    params.wipe();
    let passphrase = Passphrase::new(p.passphrase);
    let unlocked = unlock(ctx, &passphrase, p.identity.as_deref())?;
    Ok(json!({ "unlocked": unlocked, "seconds": ctx.unlocked.ttl().as_secs() }))
}

pub fn identities_lock(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("identities_lock", &params)?;
    ctx.unlocked.lock_all();
    // Everyone else (other host sessions, the PKCS#11 module) drops their unlocked keys too.
    ctx.identities()?.raise_lock_epoch()?;
    Ok(json!({ "locked": true }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportParams {
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
    let backup = export(ctx, &p.identity, &password, &passphrase, p.legacy)?;
    if p.record_backup {
        ctx.identities()?.mark_backed_up(&backup.fingerprint, crate::time::now())?;
    }
    Ok(json!({ "p12_b64": crate::b64::encode(&backup.p12), "file_name": backup.file_name }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupSavedParams {
    identity: String,
}

pub fn identities_backup_saved(ctx: &mut Context, params: Params) -> Result<Value> {
    let p: BackupSavedParams = parse("identities_backup_saved", &params)?;
    // From now on `backup_status` stops reminding.
    let fingerprint = ctx.identities()?.one(&p.identity)?.fingerprint();
    ctx.identities()?.mark_backed_up(&fingerprint, crate::time::now())?;
    Ok(json!({ "fingerprint": fingerprint, "backed_up": true }))
}

/// A backup of one identity, not yet recorded as made.
pub struct Backup {
    pub p12: Vec<u8>,
    /// A name to suggest for the file.
    pub file_name: String,
    pub fingerprint: String,
}

/// A PKCS#12 backup with the chain: AES-256 (PBES2, SHA-256 MAC) by default, 3DES with a SHA-1
/// MAC when `legacy` (older Windows and Outlook import only that), protected by `password`.
///
/// The key is always opened from its seal with the identity's `passphrase`, whether or not the
/// session holds it unlocked: an unlocked key signs and decrypts for a while, but handing it out
/// for good takes the passphrase (a wrong one is `wrong_password`, and nothing is exported). The
/// session's unlocked keys are left as they are. The backup is recorded by the caller once the
/// file is written (`mark_backed_up`).
pub fn export(ctx: &mut Context, key: &str, password: &Passphrase, passphrase: &Passphrase, legacy: bool) -> Result<Backup> {
    let identity = ctx.identities()?.one(key)?;
    let private = identity.unlock(passphrase)?;
    let internal = |e: openssl::error::ErrorStack| Error::Internal { reason: e.to_string() };
    let mut builder = openssl::pkcs12::Pkcs12::builder();
    let email = identity.cert.emails().into_iter().next().unwrap_or_else(|| "identity".into());
    builder.name(&email).pkey(&private).cert(&identity.cert.x509);
    let mut ca = openssl::stack::Stack::new().map_err(internal)?;
    for c in &identity.chain {
        ca.push(c.x509.clone()).map_err(internal)?;
    }
    builder.ca(ca);
    if legacy {
        let pbe = openssl::nid::Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC;
        builder.key_algorithm(pbe).cert_algorithm(pbe).mac_md(openssl::hash::MessageDigest::sha1());
    } else {
        builder.key_iter(100_000).mac_iter(100_000);
    }
    let p12 = builder.build2(password.as_str()).map_err(internal)?;
    let der = p12.to_der().map_err(internal)?;
    let safe: String = email.chars().map(|c| if c.is_ascii_alphanumeric() || c == '@' || c == '.' || c == '-' { c } else { '_' }).collect();
    Ok(Backup { p12: der, file_name: format!("{safe}{}.p12", if legacy { "-legacy" } else { "" }), fingerprint: identity.fingerprint() })
}

pub fn backup_status(ctx: &mut Context, params: Params) -> Result<Value> {
    let NoParams {} = parse("backup_status", &params)?;
    let all = ctx.identities()?.all()?;
    let list: Vec<Value> = all
        .iter()
        .map(|i| {
            json!({
                "fingerprint": i.fingerprint(),
                "emails": i.cert.emails(),
                "backed_up_at": i.backed_up_at.map(crate::time::to_rfc3339),
            })
        })
        .collect();
    let needs = all.iter().any(Identity::needs_backup);
    Ok(json!({ "needs_backup": needs, "identities": list }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RadarParams {
    #[serde(default = "thirty")]
    days: i64,
}

fn thirty() -> i64 {
    30
}

pub fn expiry_radar(ctx: &mut Context, params: Params) -> Result<Value> {
    let RadarParams { days } = parse("expiry_radar", &params)?;
    let list = expiring(ctx.identities()?, days, crate::time::now())?;
    Ok(json!({ "days": days, "identities": list }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignParams<'a> {
    #[serde(default, borrow)]
    message_b64: Option<Base64Text<'a>>,
    #[serde(default)]
    transfer: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    passphrase: Option<String>,
}

pub fn sign_message(ctx: &mut Context, params: Params) -> Result<Value> {
    let (raw, from, passphrase) = {
        let p: SignParams = parse("sign_message", &params)?;
        (payload(ctx, "sign_message", p.message_b64, "message_b64", p.transfer)?, p.from, p.passphrase.map(Passphrase::new))
    };
    params.wipe();
    let signed = crate::outgoing::sign_message(ctx, &raw, from.as_deref(), passphrase.as_ref())?;
    Ok(json!({ "message_b64": crate::b64::encode(&signed) }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EncryptParams<'a> {
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
    let outcome = crate::outgoing::encrypt_message(ctx, &raw, &to, sign, passphrase.as_ref())?;
    let mut v = serde_json::to_value(&outcome).map_err(|e| Error::Internal { reason: e.to_string() })?;
    v["message_b64"] = Value::String(crate::b64::encode(&outcome.message));
    Ok(v)
}
