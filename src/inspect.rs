//! The `inspect_message` service shared by the native op and the CLI: gathers trust anchors,
//! keys and known certificates, runs the analysis, and returns the verdict.

use crate::certs::trust::TrustAnchors;
use crate::context::Context;
use crate::error::Result;
use crate::smime::analyze::{inspect as analyze, InspectOptions, Inspection};
use crate::smime::decrypt::DecryptionKey;
use std::path::PathBuf;

/// Everything a caller can ask of one inspection.
#[derive(Default)]
pub struct InspectRequest {
    /// Judge certificates at this time instead of now.
    pub at: Option<i64>,
    pub return_content: bool,
    pub decrypted_by_thunderbird: bool,
    /// Extra trust anchors and CRLs for this call only (`--ca`, `--crl`).
    pub anchors: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    /// Extra keys for this call only (`--p12`).
    pub keys: Vec<DecryptionKey>,
}

pub fn inspect(ctx: &mut Context, raw: &[u8], req: &InspectRequest) -> Result<Inspection> {
    let mut trust = TrustAnchors::load(&ctx.home);
    for problem in &trust.problems {
        log::warn!("trust store: {problem}");
    }
    for path in &req.anchors {
        trust.add_call_anchors(path)?;
    }
    for path in &req.crls {
        trust.add_call_crls(path)?;
    }
    let now = crate::time::now();
    let options = InspectOptions {
        at: req.at.unwrap_or(now),
        now,
        trust: &trust,
        keys: &req.keys,
        known_certs: &[],
        names: &(),
        return_content: req.return_content,
        decrypted_by_thunderbird: req.decrypted_by_thunderbird,
    };
    let inspection = analyze(raw, &options);
    let r = &inspection.report;
    log::info!(
        "inspected {} bytes: signature={} encryption={:?} signer={}",
        raw.len(),
        r.signature.state.code(),
        r.encryption.state,
        r.signature.signer.as_ref().map(|s| s.fingerprint_sha256.as_str()).unwrap_or("-"),
    );
    Ok(inspection)
}
