//! Identity operations with the same semantics for the native ops and the CLI: listing,
//! unlocking and locking keys, deleting, the expiry radar. Each returns the typed reply both
//! front ends print (docs/IDENTITIES.md). Backups are in `backup`.

use super::checks::expiring;
use super::seal::Passphrase;
use super::{Identity, IdentityInfo};
use crate::context::Context;
use crate::error::{Error, Result};
use serde::Serialize;

/// How far ahead the expiry radar looks unless told otherwise, in days.
pub const DEFAULT_RADAR_DAYS: i64 = 30;

/// What the add-on shows of an identity; `epoch` is the store's lock epoch (read once per call).
fn info(ctx: &mut Context, identity: &Identity, epoch: i64) -> IdentityInfo {
    let unlocked = ctx.unlocked.is_unlocked(&identity.fingerprint(), epoch);
    identity.info(crate::time::now(), unlocked)
}

#[derive(Debug, Serialize)]
pub struct IdentityList {
    pub identities: Vec<IdentityInfo>,
}

/// Every identity, with whether this session holds its key unlocked.
pub fn list(ctx: &mut Context) -> Result<IdentityList> {
    let all = ctx.identities()?.all()?;
    let epoch = ctx.identities()?.lock_epoch()?;
    Ok(IdentityList { identities: all.iter().map(|i| info(ctx, i, epoch)).collect() })
}

/// One identity, by fingerprint (or unique prefix) or address.
pub fn show(ctx: &mut Context, key: &str) -> Result<IdentityInfo> {
    let found = ctx.identities()?.one(key)?;
    let epoch = ctx.identities()?.lock_epoch()?;
    Ok(info(ctx, &found, epoch))
}

#[derive(Debug, Serialize)]
pub struct Deleted {
    /// The deleted identity's fingerprint.
    pub deleted: String,
}

/// Deletes an identity and its private key.
pub fn delete(ctx: &mut Context, key: &str) -> Result<Deleted> {
    let identity = ctx.identities()?.one(key)?;
    ctx.identities()?.delete(&identity.fingerprint(), crate::time::now())?;
    Ok(Deleted { deleted: identity.fingerprint() })
}

#[derive(Debug, Serialize)]
pub struct UnlockOutcome {
    /// The fingerprints of the identities the passphrase opened.
    pub unlocked: Vec<String>,
    /// How long they stay unlocked in this session.
    pub seconds: u64,
}

/// Unlocks the given identity, or every identity this passphrase opens, for the session's
/// configured time. Fails (with the last identity's error) only when it opens none.
pub fn unlock(ctx: &mut Context, passphrase: &Passphrase, identity: Option<&str>) -> Result<UnlockOutcome> {
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
        _ => Ok(UnlockOutcome { unlocked, seconds: ctx.unlocked.ttl().as_secs() }),
    }
}

#[derive(Debug, Serialize)]
pub struct Locked {
    pub locked: bool,
}

/// Locks every unlocked key: this session's, and (through the store's lock epoch) every other
/// session's and the PKCS#11 module's.
pub fn lock(ctx: &mut Context) -> Result<Locked> {
    ctx.unlocked.lock_all();
    ctx.identities()?.raise_lock_epoch()?;
    Ok(Locked { locked: true })
}

#[derive(Debug, Serialize)]
pub struct ExpiryRadar {
    pub days: i64,
    pub identities: Vec<IdentityInfo>,
}

/// The identities that expire within `days` and have not been renewed.
pub fn radar(ctx: &mut Context, days: i64) -> Result<ExpiryRadar> {
    Ok(ExpiryRadar { days, identities: expiring(ctx.identities()?, days, crate::time::now())? })
}
