//! Signing and encrypting outgoing mail with the user's identities and the contact cache: for
//! the CLI, for Outlook on the web later, and for the interop tests.
//!
//! The signer is the From address's current identity; recipients are To, Cc and Bcc (either can
//! be overridden). Encryption also includes the sender's own certificate, so the sent copy stays
//! readable. AES-256-CBC by default; AES-256-GCM only when every recipient advertised it.

use crate::certs::summary::Cert;
use crate::contacts::select::choose;
use crate::contacts::service::reason_code;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::identities::seal::Passphrase;
use crate::identities::Identity;
use crate::mime::address::{normalize, parse_mailbox_list};
use crate::mime::Entity;
use crate::smime::compose;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKey, Private};
use openssl::symm::Cipher;
use serde::Serialize;

fn bad(reason: impl Into<String>) -> Error {
    Error::BadMessage { reason: reason.into() }
}

/// The From address of a message.
pub fn from_address(raw: &[u8]) -> Result<String> {
    let root = Entity::parse(raw);
    let from = root.header("from").ok_or_else(|| bad("no From header; give --from"))?;
    let first = parse_mailbox_list(&from).into_iter().next().ok_or_else(|| bad("the From header holds no address"))?;
    normalize(&first.address).ok_or_else(|| Error::InvalidAddress { address: first.address })
}

/// The To, Cc and Bcc addresses of a message.
pub fn recipient_addresses(raw: &[u8]) -> Vec<String> {
    let root = Entity::parse(raw);
    let mut out: Vec<String> = Vec::new();
    for name in ["to", "cc", "bcc"] {
        for value in root.headers(name) {
            for m in parse_mailbox_list(&value) {
                let a = normalize(&m.address).unwrap_or(m.address);
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// The current identity for an address that can be used for `purpose` now.
fn current_identity(ctx: &mut Context, address: &str, usable: fn(&Identity) -> bool) -> Result<Identity> {
    let now = crate::time::now();
    let mut found: Vec<Identity> = ctx
        .identities()?
        .find(address)?
        .into_iter()
        .filter(|i| usable(i) && i.cert.fields.not_before <= now && now <= i.cert.fields.not_after)
        .collect();
    found.sort_by_key(|i| (i.replaced_by.is_none(), i.cert.fields.not_before));
    found.pop().ok_or_else(|| Error::NoIdentity { address: address.into() })
}

/// The private key of an identity: unlocked in this session, or opened with the passphrase
/// (and then kept unlocked for the configured time).
pub fn private_key(ctx: &mut Context, identity: &Identity, passphrase: Option<&Passphrase>) -> Result<PKey<Private>> {
    let epoch = ctx.identities()?.lock_epoch()?;
    if let Some(key) = ctx.unlocked.get(&identity.fingerprint(), epoch) {
        return Ok(key);
    }
    let passphrase = passphrase.ok_or_else(|| Error::IdentityLocked { fingerprint: identity.fingerprint() })?;
    let key = identity.unlock(passphrase)?;
    ctx.unlocked.insert(identity, key.clone(), epoch);
    Ok(key)
}

/// Signs a message: the result is a multipart/signed message with the original outer headers.
pub fn sign_message(ctx: &mut Context, raw: &[u8], from: Option<&str>, passphrase: Option<&Passphrase>) -> Result<Vec<u8>> {
    let split = compose::split(raw).map_err(bad)?;
    let entity = signed_entity(ctx, raw, &split.content, from, passphrase)?;
    Ok(compose::message(&split.outer, &entity))
}

/// The multipart/signed entity over `content`, signed by the From (or given) address's identity.
fn signed_entity(ctx: &mut Context, raw: &[u8], content: &[u8], from: Option<&str>, passphrase: Option<&Passphrase>) -> Result<Vec<u8>> {
    let address = match from {
        Some(a) => crate::contacts::parse_address(a)?,
        None => from_address(raw)?,
    };
    let identity = current_identity(ctx, &address, Identity::can_sign)?;
    let key = private_key(ctx, &identity, passphrase)?;
    let der = crate::smime::sign::sign_detached(content, &identity.cert, &key, &identity.chain)
        .map_err(|e| Error::Internal { reason: format!("signing failed: {}", e.0) })?;
    log::info!("signed as {}", identity.fingerprint());
    Ok(compose::multipart_signed(content, &der))
}

#[derive(Debug, Clone, Serialize)]
pub struct EncryptedRecipient {
    pub address: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EncryptOutcome {
    /// The encrypted message.
    #[serde(rename = "message_b64", serialize_with = "crate::b64::serialize")]
    pub message: Vec<u8>,
    pub cipher: &'static str,
    pub recipients: Vec<EncryptedRecipient>,
    /// The sender's own certificate the message is also encrypted to (None: no identity).
    pub sent_copy: Option<String>,
    pub signed: bool,
}

/// Encrypts a message (optionally signing it first) to its recipients' certificates from the
/// contact cache. Any recipient without a usable certificate stops it, named with the reason.
pub fn encrypt_message(
    ctx: &mut Context,
    raw: &[u8],
    to: &[String],
    sign: bool,
    passphrase: Option<&Passphrase>,
) -> Result<EncryptOutcome> {
    let split = compose::split(raw).map_err(bad)?;
    let addresses: Vec<String> = if to.is_empty() { recipient_addresses(raw) } else { to.to_vec() };
    if addresses.is_empty() {
        return Err(Error::NoRecipients);
    }
    let anchors = ctx.trust();
    let judge = crate::contacts::service::judge(ctx, &anchors)?;
    let mut chosen: Vec<(String, Cert, Vec<String>)> = Vec::new();
    let mut missing = Vec::new();
    for raw_address in &addresses {
        let Some(address) = normalize(raw_address) else {
            missing.push((crate::logging::sanitize(raw_address, 200), "invalid_address".to_string()));
            continue;
        };
        let candidates = ctx.contacts()?.certificates_for(&address)?;
        match choose(&candidates, &judge) {
            Ok(c) => chosen.push((address, c.cert.clone(), c.capabilities.clone())),
            Err(reason) => missing.push((address, reason_code(reason))),
        }
    }
    if !missing.is_empty() {
        return Err(Error::RecipientsWithoutCertificate { recipients: missing });
    }
    let gcm = chosen.iter().all(|(_, _, caps)| caps.iter().any(|c| c == "aes-256-gcm"));
    let (cipher, cipher_name) = if gcm { (Cipher::aes_256_gcm(), "aes-256-gcm") } else { (Cipher::aes_256_cbc(), "aes-256-cbc") };
    let sender = from_address(raw).ok();
    let own = match &sender {
        Some(a) => current_identity(ctx, a, |i| crate::contacts::can_encrypt(&i.cert)).ok(),
        None => None,
    };
    let inner = if sign { signed_entity(ctx, raw, &split.content, sender.as_deref(), passphrase)? } else { split.content.clone() };
    let mut stack = openssl::stack::Stack::new().map_err(|e| Error::Internal { reason: e.to_string() })?;
    for (_, cert, _) in &chosen {
        stack.push(cert.x509.clone()).map_err(|e| Error::Internal { reason: e.to_string() })?;
    }
    if let Some(own) = &own {
        if !chosen.iter().any(|(_, c, _)| c.fingerprint_sha256() == own.fingerprint()) {
            stack.push(own.cert.x509.clone()).map_err(|e| Error::Internal { reason: e.to_string() })?;
        }
    }
    let cms = CmsContentInfo::encrypt(&stack, &inner, cipher, CMSOptions::BINARY)
        .map_err(|e| Error::Internal { reason: format!("encryption failed: {e}") })?;
    let der = cms.to_der().map_err(|e| Error::Internal { reason: e.to_string() })?;
    let entity = compose::pkcs7_mime_enveloped(&der, gcm);
    log::info!("encrypted to {} recipient(s) with {cipher_name}", chosen.len());
    Ok(EncryptOutcome {
        message: compose::message(&split.outer, &entity),
        cipher: cipher_name,
        recipients: chosen.iter().map(|(a, c, _)| EncryptedRecipient { address: a.clone(), fingerprint: c.fingerprint_sha256() }).collect(),
        sent_copy: own.map(|i| i.fingerprint()),
        signed: sign,
    })
}
