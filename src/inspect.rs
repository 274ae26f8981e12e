//! The `inspect_message` service shared by the native op and the CLI: gathers trust anchors,
//! keys and the contact cache's certificates, runs the analysis, harvests verified signers into
//! the cache, and returns the verdict.

use crate::certs::trust::TrustAnchors;
use crate::contacts::{ContactCache, HarvestItem};
use crate::context::Context;
use crate::error::Result;
use crate::identities::Identity;
use crate::certs::address::{cert_address_key, cert_matches};
use crate::contacts::select::TrustJudge;
use crate::contacts::CertStatus;
use crate::mime::address::Mailbox;
use crate::smime::analyze::{inspect as analyze, InspectOptions, Inspection};
use crate::smime::cms_der::CertId;
use crate::smime::decrypt::{DecryptionKey, RecipientNames};
use crate::smime::signature::VerifiedSigner;
use crate::smime::verdict::{push_unique, SignatureState, Warning};
use openssl::x509::X509;
use std::path::PathBuf;

/// Everything a caller can ask of one inspection.
#[derive(Default)]
pub struct InspectRequest {
    /// Judge certificates at this time instead of now.
    pub at: Option<i64>,
    pub return_content: bool,
    /// Keep the verified or decrypted content in `Inspection::content` (the CLI's `--content`).
    pub keep_content: bool,
    pub decrypted_by_thunderbird: bool,
    /// Store verified signers' certificates in the contact cache.
    pub harvest: bool,
    /// Extra trust anchors and CRLs for this call only (`--ca`, `--crl`).
    pub anchors: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    /// Extra keys for this call only (`--p12`).
    pub keys: Vec<DecryptionKey>,
    /// Ask CAs again about certificates whose revocation check failed recently ("check again").
    pub recheck_revocation: bool,
}

struct CacheNames<'a>(Option<&'a ContactCache>);

impl RecipientNames for CacheNames<'_> {
    fn email_for(&self, id: &CertId) -> Option<String> {
        self.0.and_then(|c| crate::contacts::email_for(c, id))
    }
}

pub fn inspect(ctx: &mut Context, raw: &[u8], req: &InspectRequest) -> Result<Inspection> {
    // Anchors or CRLs for this call only (the CLI's --ca, --crl) need a store of their own.
    let trust = if req.recheck_revocation { ctx.trust_rechecking() } else { ctx.trust() };
    let trust = if req.anchors.is_empty() && req.crls.is_empty() {
        trust
    } else {
        let mut trust = TrustAnchors::load(&ctx.home);
        trust.revocation = Some(ctx.revocation());
        for path in &req.anchors {
            trust.add_call_anchors(path)?;
        }
        for path in &req.crls {
            trust.add_call_crls(path)?;
        }
        std::rc::Rc::new(trust)
    };
    let identities = ctx.identity_list().and_then(|list| Ok((list, ctx.identities()?.lock_epoch()?)));
    let (identities, epoch) = identities.unwrap_or_else(|e| {
        log::warn!("identities unavailable: {}", crate::error::Chain(&e));
        (Default::default(), 0)
    });
    let (keys, locked) = session_keys(ctx, &identities, epoch, &req.keys);
    let intermediates: Vec<X509> = ctx.known_intermediates().unwrap_or_default();
    // The verdict never depends on the cache being usable: without it, nothing is harvested.
    let (cache, cache_error) = match ctx.contacts() {
        Ok(cache) => (Some(&*cache), None),
        Err(e) => {
            log::warn!("contact cache unavailable: {}", crate::error::Chain(&e));
            (None, Some(e.code()))
        }
    };
    let lookup = |id: &CertId| cache.and_then(|c| c.find(id).ok().flatten()).map(|c| c.x509);
    let now = crate::time::now();
    let options = InspectOptions {
        at: req.at.unwrap_or(now),
        now,
        trust: &trust,
        keys: &keys,
        locked: &locked,
        known_certs: &intermediates,
        lookup: &lookup,
        names: &CacheNames(cache),
        return_content: req.return_content,
        keep_content: req.keep_content,
        decrypted_by_thunderbird: req.decrypted_by_thunderbird,
    };
    let mut inspection = analyze(raw, &options);
    inspection.report.contacts.error = cache_error;
    if cache_error.is_none() {
        let judge = TrustJudge { anchors: &trust, intermediates, now };
        if let Err(e) = remember(ctx, &mut inspection, req.harvest, &judge) {
            log::warn!("harvest failed: {}", crate::error::Chain(&e));
            inspection.report.contacts.error = Some(e.code());
        }
    }
    let r = &inspection.report;
    log::info!(
        "inspected {} bytes: signature={} encryption={:?} signer={} harvested={}",
        raw.len(),
        r.signature.state.code(),
        r.encryption.state,
        r.signature.signer.as_ref().map(|s| s.fingerprint_sha256.as_str()).unwrap_or("-"),
        r.contacts.stored.len(),
    );
    Ok(inspection)
}

/// The keys to decrypt with: those given for this call, and the identities unlocked in this
/// session; plus the certificates of identities still locked (to say "unlock to read").
fn session_keys(ctx: &mut Context, identities: &[Identity], epoch: i64, extra: &[DecryptionKey]) -> (Vec<DecryptionKey>, Vec<crate::certs::summary::Cert>) {
    let mut keys = extra.to_vec();
    let mut locked = Vec::new();
    for identity in identities {
        match ctx.unlocked.get(&identity.fingerprint(), epoch) {
            Some(key) => keys.push(DecryptionKey { cert: identity.cert.clone(), key, replaced: identity.replaced_by.is_some() }),
            None => locked.push(identity.cert.clone()),
        }
    }
    (keys, locked)
}

/// Whether a signature proves the signer holds the key, whatever else is wrong with it.
fn intact(signer: &VerifiedSigner) -> bool {
    !matches!(
        signer.state,
        SignatureState::Malformed
            | SignatureState::ContentAltered
            | SignatureState::UnsupportedAlgorithm
            | SignatureState::SignerCertificateMissing
    )
}

/// What the cache may believe of a signer: trusted only when the verdict found no
/// certificate-level problem (the state's precedence puts every such problem, and every
/// structural one, before `no_sender_address`).
fn verdict_trusts(signer: &VerifiedSigner) -> bool {
    signer.trusted && signer.state > SignatureState::WeakAlgorithm
}

/// The contact a signer may name: only a trusted signer that passed the From rule (its state is
/// `time_mismatch` or better), and only the certificate address that is the single From
/// mailbox; the name is that mailbox's display name.
fn named_by(signer: &VerifiedSigner, from: &[Mailbox]) -> Option<(String, String)> {
    let [mailbox] = from else { return None };
    if !verdict_trusts(signer) || signer.state < SignatureState::TimeMismatch {
        return None;
    }
    let name = crate::logging::sanitize(mailbox.name.as_deref()?, 200);
    let address = signer.cert.emails().into_iter().find(|e| cert_matches(e, &mailbox.address))?;
    Some((cert_address_key(address)?, name))
}

/// Harvests intact signers (when asked) and reports key changes, renewals and certificates held
/// for confirmation for them.
fn remember(ctx: &mut Context, inspection: &mut Inspection, harvest: bool, judge: &TrustJudge<'_>) -> Result<()> {
    let cache = ctx.contacts()?;
    let date = inspection.date;
    for signer in inspection.signers.iter().filter(|s| intact(s)) {
        if harvest {
            let item = HarvestItem {
                cert: signer.cert.clone(),
                chain: signer.chain.clone(),
                anchored: signer.trusted,
                trusted: verdict_trusts(signer),
                revoked: signer.state == SignatureState::Revoked,
                capabilities: signer.desc.capabilities.clone(),
                key_preference: signer.desc.encryption_key_preference.clone(),
                signing_time: signer.desc.signing_time,
                message_date: date,
                named: named_by(signer, &inspection.report.message.from),
            };
            if cache.harvest(&item, judge)?.stored {
                inspection.report.contacts.stored.push(signer.cert.fingerprint_sha256());
            }
        }
        let fp = signer.cert.fingerprint_sha256();
        for address in crate::contacts::cert_addresses(&signer.cert) {
            let pending = cache.certificates_for(&address)?.iter().any(|c| c.status == CertStatus::Pending && c.cert.fingerprint_sha256() == fp);
            for event in cache.history(&address)? {
                if event.fingerprint.as_deref() != Some(fp.as_str()) {
                    continue;
                }
                let (code, previous) = match event.event.as_str() {
                    "key_changed" => ("key_changed", "previous_fingerprint"),
                    "renewed" => ("renewed", "previous_fingerprint"),
                    // Only while it still waits: a confirmation or refusal since settles it.
                    "certificate_pending" if pending => ("certificate_pending", "working_fingerprint"),
                    _ => continue,
                };
                push_unique(
                    &mut inspection.report.signature.warnings,
                    Warning::new(code)
                        .with("address", address.clone())
                        .with(previous, event.previous_fingerprint.clone().unwrap_or_default())
                        .with("since", event.at.clone()),
                );
            }
        }
    }
    Ok(())
}
