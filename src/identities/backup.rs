//! Backups of identities: the PKCS#12 export for another device or a safe place, and which
//! identities still have none (docs/IDENTITIES.md). Shared by the native ops and the CLI.

use super::seal::Passphrase;
use super::{Identity, IdentityStore};
use crate::context::Context;
use crate::error::{Error, Result};
use serde::Serialize;

/// PBKDF2 iterations of the key and MAC in a (non-legacy) backup.
pub const BACKUP_ITERATIONS: u32 = 100_000;

/// A backup of one identity, not yet recorded as made. Serialises as `identities_export`'s reply.
#[derive(Serialize)]
pub struct Backup {
    /// The PKCS#12 file.
    #[serde(rename = "p12_b64", serialize_with = "crate::b64::serialize")]
    pub p12: Vec<u8>,
    /// A name to suggest for the file.
    pub file_name: String,
    #[serde(skip)]
    pub fingerprint: String,
}

/// A PKCS#12 backup with the chain: AES-256 (PBES2, SHA-256 MAC) by default, 3DES with a SHA-1
/// MAC when `legacy` (older Windows and Outlook import only that), protected by `password`.
///
/// The key is always opened from its seal with the identity's `passphrase`, whether or not the
/// session holds it unlocked: an unlocked key signs and decrypts for a while, but handing it out
/// for good takes the passphrase (a wrong one is `wrong_password`, and nothing is exported). The
/// session's unlocked keys are left as they are. The backup is recorded by the caller once the
/// file is written (`record`).
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
        builder.key_iter(BACKUP_ITERATIONS).mac_iter(BACKUP_ITERATIONS);
    }
    let p12 = builder.build2(password.as_str()).map_err(internal)?;
    let der = p12.to_der().map_err(internal)?;
    Ok(Backup { p12: der, file_name: file_name(&email, legacy), fingerprint: identity.fingerprint() })
}

/// The file name a backup suggests: the address with anything unusual in a file name replaced.
fn file_name(email: &str, legacy: bool) -> String {
    let safe: String = email.chars().map(|c| if c.is_ascii_alphanumeric() || c == '@' || c == '.' || c == '-' { c } else { '_' }).collect();
    format!("{safe}{}.p12", if legacy { "-legacy" } else { "" })
}

/// A backup recorded as saved (`identities_backup_saved`).
#[derive(Debug, Serialize)]
pub struct BackupSaved {
    pub fingerprint: String,
    pub backed_up: bool,
}

/// Records that a backup of the identity (by fingerprint, unique prefix or address) was saved:
/// from now on `status` stops reminding.
pub fn record(ctx: &mut Context, key: &str) -> Result<BackupSaved> {
    let fingerprint = ctx.identities()?.one(key)?.fingerprint();
    ctx.identities()?.mark_backed_up(&fingerprint, crate::time::now())?;
    Ok(BackupSaved { fingerprint, backed_up: true })
}

/// One identity in `backup_status`.
#[derive(Debug, Serialize)]
pub struct BackupEntry {
    pub fingerprint: String,
    pub emails: Vec<String>,
    pub backed_up_at: Option<String>,
    /// A current identity without a backup (`Identity::needs_backup`).
    #[serde(skip)]
    pub needs_backup: bool,
}

/// Whether every current identity has a backup, and when each was made (`backup_status`).
#[derive(Debug, Serialize)]
pub struct BackupStatus {
    pub needs_backup: bool,
    pub identities: Vec<BackupEntry>,
}

pub fn status(store: &IdentityStore) -> Result<BackupStatus> {
    let all = store.all()?;
    Ok(BackupStatus {
        needs_backup: all.iter().any(Identity::needs_backup),
        identities: all
            .iter()
            .map(|i| BackupEntry {
                fingerprint: i.fingerprint(),
                emails: i.cert.emails(),
                backed_up_at: i.backed_up_at.map(crate::time::to_rfc3339),
                needs_backup: i.needs_backup(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_file_names_keep_the_address_and_nothing_a_file_system_minds() {
        assert_eq!(file_name("alice@example.org", false), "alice@example.org.p12");
        assert_eq!(file_name("a/b\\c:d e@example.org", true), "a_b_c_d_e@example.org-legacy.p12");
    }
}
