//! Trust anchors and CRLs, and chain verification against them.
//!
//! Anchors come from the system's CA store, a system-wide folder IT manages
//! (`/etc/smime-companion/anchors/`), the user's own folder (`trust add`) and, for one CLI call,
//! `--ca FILE`. CRLs come from the message, the same folders (`crls/`) and `--crl FILE`, so
//! revocation works without a network.
//!
//! Which CRL counts is decided here, not by OpenSSL's own lookup (which prefers the CRLs handed
//! to a verification over the store's, so an older CRL carried in a message could hide a
//! revocation the stored one records): for each certificate of the chain, among all CRLs of its
//! issuer whose signature verifies with that issuer's key, the newest (CRL number, then
//! thisUpdate) wins, wherever it came from; OpenSSL then checks the chain against exactly
//! those CRLs (docs/INSPECT.md, "Revocation"). CRLs fetched from a CA's distribution points
//! (and cached) take part in that choice exactly like stored ones; OCSP and the rest of
//! revocation checking live in `certs::revocation`, whose checker the anchors carry.

use super::revocation::{self, Checker, CrlFinding, CrlState, FetchedCrl, RevocationReport, Source};
use super::summary::{BadCertificate, Cert};
use crate::error::{Error, Result};
use crate::ffi;
use crate::home::{create_private_dir, system_dir, Home, SYSTEM_ANCHORS_ENV};
use foreign_types::ForeignTypeRef;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Crl, X509CrlRef, X509PurposeId, X509StoreContext, X509};
use serde::Serialize;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a trust anchor came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorSource {
    System,
    It,
    User,
    Call,
}

/// An anchor or CRL we hold explicitly (the system store is consulted by OpenSSL directly).
#[derive(Debug, Clone)]
pub struct Anchor {
    pub cert: Cert,
    pub source: AnchorSource,
    pub path: Option<PathBuf>,
}

pub struct StoredCrl {
    pub crl: X509Crl,
    pub source: AnchorSource,
    pub path: Option<PathBuf>,
}

/// Everything trust decisions need for one run.
#[derive(Default)]
pub struct TrustAnchors {
    pub anchors: Vec<Anchor>,
    pub crls: Vec<StoredCrl>,
    /// Whether the system's CA store is consulted.
    pub use_system: bool,
    /// Files in the folders that could not be read (reported by `trust list` and doctor).
    pub problems: Vec<String>,
    /// The OpenSSL store, built on first use and shared by every verification of the run.
    store: std::sync::OnceLock<Option<X509Store>>,
    /// Whether a stored CRL's signature verifies with a key: (index in `crls`, SHA-256 of the
    /// issuer certificate) → verified. Every verification of a run consults the same CRLs.
    crl_signatures: std::sync::Mutex<std::collections::HashMap<(usize, [u8; 32]), bool>>,
    /// Revocation checking beyond the CRLs held (OCSP, fetched CRLs, the cache); None: the CRLs
    /// held are all there is (tests, the identity checks).
    pub revocation: Option<Arc<Checker>>,
}

/// The system-wide folder of extra anchors IT manages.
pub fn system_anchor_dir() -> PathBuf {
    std::env::var_os(SYSTEM_ANCHORS_ENV).filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| system_dir().join("anchors"))
}

pub fn user_anchor_dir(home: &Home) -> PathBuf {
    home.data_dir().join("anchors")
}

fn crl_dir(anchor_dir: &Path) -> PathBuf {
    anchor_dir.join("crls")
}

impl TrustAnchors {
    /// Loads the IT and user folders; the system store is used as well.
    pub fn load(home: &Home) -> TrustAnchors {
        let mut t = TrustAnchors { use_system: true, ..TrustAnchors::default() };
        t.load_dir(&system_anchor_dir(), AnchorSource::It);
        t.load_dir(&user_anchor_dir(home), AnchorSource::User);
        t
    }

    /// What `load` would read, as (file, modified, length): equal stamps mean an equal load.
    /// The revocation cache's change marker is part of it: a recorded revocation changes
    /// verdicts as a new CRL does.
    pub fn stamp(home: &Home) -> Vec<(PathBuf, Option<std::time::SystemTime>, u64)> {
        [system_anchor_dir(), user_anchor_dir(home)]
            .iter()
            .flat_map(|dir| [list_files(dir), list_files(&crl_dir(dir))])
            .flatten()
            .chain([revocation::cache::marker_path(home)])
            .map(|path| {
                let meta = std::fs::metadata(&path).ok();
                let modified = meta.as_ref().and_then(|m| m.modified().ok());
                (path, modified, meta.map_or(0, |m| m.len()))
            })
            .collect()
    }

    fn load_dir(&mut self, dir: &Path, source: AnchorSource) {
        for path in list_files(dir) {
            match read_certificates(&path) {
                Ok(certs) => self.anchors.extend(certs.into_iter().map(|cert| Anchor { cert, source, path: Some(path.clone()) })),
                Err(e) => self.problems.push(format!("{}: {e}", path.display())),
            }
        }
        for path in list_files(&crl_dir(dir)) {
            match read_crls(&path) {
                Ok(crls) => self.crls.extend(crls.into_iter().map(|crl| StoredCrl { crl, source, path: Some(path.clone()) })),
                Err(e) => self.problems.push(format!("{}: {e}", path.display())),
            }
        }
    }

    /// The store of anchors (CRLs are chosen per verification, see the module doc). The
    /// system's CA certificates are looked up by hash in the certificate folder, one file per
    /// issuer as needed, rather than parsing the whole bundle for every run; where there is no
    /// hashed folder, the bundle file is loaded.
    pub(crate) fn store(&self) -> Option<&X509Store> {
        self.store
            .get_or_init(|| {
                let build = || -> std::result::Result<X509Store, openssl::error::ErrorStack> {
                    let mut builder = X509StoreBuilder::new()?;
                    if self.use_system {
                        add_system_store(&mut builder)?;
                    }
                    for a in &self.anchors {
                        // The same anchor may be listed twice (IT and user); OpenSSL refuses duplicates.
                        let _ = builder.add_cert(a.cert.x509.clone());
                    }
                    let _ = openssl::error::ErrorStack::get();
                    Ok(builder.build())
                };
                build().map_err(|e| log::warn!("trust store could not be built: {e}")).ok()
            })
            .as_ref()
    }

    /// Adds anchors for this call only (`--ca`).
    pub fn add_call_anchors(&mut self, path: &Path) -> Result<()> {
        let certs = read_certificates(path).map_err(|e| Error::BadCertificate { path: path.display().to_string(), reason: e.0 })?;
        self.anchors.extend(certs.into_iter().map(|cert| Anchor { cert, source: AnchorSource::Call, path: Some(path.to_path_buf()) }));
        self.store = std::sync::OnceLock::new();
        Ok(())
    }

    /// Adds CRLs for this call only (`--crl`).
    pub fn add_call_crls(&mut self, path: &Path) -> Result<()> {
        let crls = read_crls(path).map_err(|e| Error::BadCertificate { path: path.display().to_string(), reason: e.0 })?;
        self.crls.extend(crls.into_iter().map(|crl| StoredCrl { crl, source: AnchorSource::Call, path: Some(path.to_path_buf()) }));
        Ok(())
    }

    /// Which source anchors a certificate, if it is one of ours; the system store otherwise.
    pub fn source_of(&self, anchor: &Cert) -> AnchorSource {
        let fp = anchor.fingerprint_sha256();
        self.anchors.iter().find(|a| a.cert.fingerprint_sha256() == fp).map(|a| a.source).unwrap_or(AnchorSource::System)
    }
}

/// Which use a chain is verified for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// OpenSSL's S/MIME signing purpose (key usage and extended key usage of the signer, the
    /// extended key usage of every CA).
    SmimeSign,
    /// OpenSSL's S/MIME encryption purpose: the extended key usage of every CA, and of the
    /// certificate itself its extended key usage and keyEncipherment. That last demand is wrong
    /// for EC keys (keyAgreement), so callers judge the certificate's own usage themselves
    /// (`certs::policy::encryption_usage`) and ignore `V_ERR_INVALID_PURPOSE` at depth 0.
    SmimeEncrypt,
    /// The chain alone; the caller checks the certificate's usage itself. OpenSSL's S/MIME
    /// encryption purpose demands keyEncipherment, which EC certificates (keyAgreement) lack.
    ChainOnly,
}

/// One problem OpenSSL found while verifying a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainError {
    /// `X509_V_ERR_*`.
    pub code: i32,
    /// 0 = the certificate itself, 1 = its issuer, …
    pub depth: u32,
}

/// What chain verification found.
#[derive(Debug, Clone)]
pub struct ChainOutcome {
    /// Every problem, in the order OpenSSL met them; empty means trusted and valid.
    pub errors: Vec<ChainError>,
    /// The chain OpenSSL built, the certificate first.
    pub chain: Vec<Cert>,
    /// Where the chain's root came from, when the chain ends at a trusted anchor.
    pub anchor: Option<AnchorSource>,
    /// What is known about revocation of the certificate and its CAs, and how.
    pub revocation: RevocationReport,
}

/// Revocation evidence a message carries: CRLs, and OCSP responses (RFC 5940).
#[derive(Default, Clone, Copy)]
pub struct Evidence<'a> {
    pub crls: &'a [X509Crl],
    pub ocsp: &'a [Vec<u8>],
}


// X509_V_ERR_* codes (x509_vfy.h).
pub const V_ERR_UNABLE_TO_GET_ISSUER_CERT: i32 = 2;
pub const V_ERR_UNABLE_TO_GET_CRL: i32 = 3;
pub const V_ERR_CERT_SIGNATURE_FAILURE: i32 = 7;
pub const V_ERR_CRL_SIGNATURE_FAILURE: i32 = 8;
pub const V_ERR_CERT_NOT_YET_VALID: i32 = 9;
pub const V_ERR_CERT_HAS_EXPIRED: i32 = 10;
pub const V_ERR_CRL_NOT_YET_VALID: i32 = 11;
pub const V_ERR_CRL_HAS_EXPIRED: i32 = 12;
pub const V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: i32 = 18;
pub const V_ERR_SELF_SIGNED_CERT_IN_CHAIN: i32 = 19;
pub const V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 = 20;
pub const V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 = 21;
pub const V_ERR_CERT_REVOKED: i32 = 23;
pub const V_ERR_INVALID_CA: i32 = 24;
pub const V_ERR_INVALID_PURPOSE: i32 = 26;
pub const V_ERR_CERT_UNTRUSTED: i32 = 27;
pub const V_ERR_CERT_REJECTED: i32 = 28;
pub const V_ERR_KEYUSAGE_NO_CERTSIGN: i32 = 32;
pub const V_ERR_UNABLE_TO_GET_CRL_ISSUER: i32 = 33;
pub const V_ERR_KEYUSAGE_NO_CRL_SIGN: i32 = 35;
pub const V_ERR_EE_KEY_TOO_SMALL: i32 = 66;
pub const V_ERR_CA_KEY_TOO_SMALL: i32 = 67;
pub const V_ERR_CA_MD_TOO_WEAK: i32 = 68;

thread_local! {
    static COLLECTED: RefCell<Vec<ChainError>> = const { RefCell::new(Vec::new()) };
}

/// A stack of CRLs that borrows them: the stack is freed on drop, the CRLs (owned by the
/// caller) are not.
struct BorrowedCrls(*mut openssl_sys::OPENSSL_STACK);

impl BorrowedCrls {
    /// A stack of `crls`, which must outlive it.
    fn new(crls: &[&X509CrlRef]) -> std::result::Result<BorrowedCrls, openssl::error::ErrorStack> {
        let stack = BorrowedCrls(unsafe { ffi::OPENSSL_sk_new_null() });
        if stack.0.is_null() {
            return Err(openssl::error::ErrorStack::get());
        }
        for crl in crls {
            if unsafe { ffi::OPENSSL_sk_push(stack.0, crl.as_ptr() as *const libc::c_void) } <= 0 {
                return Err(openssl::error::ErrorStack::get());
            }
        }
        Ok(stack)
    }
}

impl Drop for BorrowedCrls {
    fn drop(&mut self) {
        if !self.0.is_null() {
            unsafe { ffi::OPENSSL_sk_free(self.0) };
        }
    }
}

/// Records every error and lets verification go on, so all problems are reported at once.
unsafe extern "C" fn collect_errors(ok: libc::c_int, ctx: *mut openssl_sys::X509_STORE_CTX) -> libc::c_int {
    if ok == 0 {
        let code = ffi::X509_STORE_CTX_get_error(ctx);
        let depth = ffi::X509_STORE_CTX_get_error_depth(ctx).max(0) as u32;
        COLLECTED.with(|c| {
            let mut c = c.borrow_mut();
            if !c.contains(&ChainError { code, depth }) {
                c.push(ChainError { code, depth });
            }
        });
    }
    1
}

/// Verifies `cert` for `purpose` at time `at`, with `untrusted` as candidate intermediates and
/// `extra_crls` (e.g. from the message) as candidate CRLs besides the stored ones.
pub fn verify_chain(
    anchors: &TrustAnchors,
    cert: &X509,
    untrusted: &[X509],
    extra_crls: &[X509Crl],
    at: i64,
    purpose: Purpose,
) -> ChainOutcome {
    verify_chain_with(anchors, cert, untrusted, Evidence { crls: extra_crls, ocsp: &[] }, at, purpose)
}

/// [`verify_chain`] with all the revocation evidence a message carries.
pub fn verify_chain_with(anchors: &TrustAnchors, cert: &X509, untrusted: &[X509], evidence: Evidence<'_>, at: i64, purpose: Purpose) -> ChainOutcome {
    match verify_inner(anchors, cert, untrusted, evidence, at, purpose) {
        Ok(outcome) => outcome,
        Err(e) => {
            log::debug!("chain verification could not run: {e}");
            ChainOutcome {
                errors: vec![ChainError { code: V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, depth: 0 }],
                chain: Cert::from_x509(cert).into_iter().collect(),
                anchor: None,
                revocation: RevocationReport::not_checked(),
            }
        }
    }
}

/// What one run of OpenSSL's verification found.
#[derive(Clone)]
struct Run {
    chain: Vec<X509>,
    verified: bool,
    errors: Vec<ChainError>,
}

/// Verifies once: without revocation checking when `crls` is None, else against exactly `crls`.
fn run(
    store: &X509Store,
    cert: &X509,
    untrusted: &openssl::stack::StackRef<X509>,
    at: i64,
    purpose: Purpose,
    crls: Option<&[&X509CrlRef]>,
) -> std::result::Result<Run, openssl::error::ErrorStack> {
    COLLECTED.with(|c| c.borrow_mut().clear());
    // The CRLs are lent to the context for this verification. Declared before the context, the
    // stack is freed after it on every path (errors included), and never while the context may
    // still point to it.
    let lent = crls.map(BorrowedCrls::new).transpose()?;
    let mut ctx = X509StoreContext::new()?;
    let (chain, verified) = ctx.init(store, cert, untrusted, |ctx| {
        // Time, checks and CRLs belong to this verification, not to the shared store.
        unsafe {
            let param = ffi::X509_STORE_CTX_get0_param(ctx.as_ptr());
            ffi::X509_VERIFY_PARAM_set_time(param, at as libc::time_t);
            let mut flags = X509VerifyFlags::USE_CHECK_TIME;
            if lent.is_some() {
                flags |= X509VerifyFlags::CRL_CHECK | X509VerifyFlags::CRL_CHECK_ALL;
            }
            ffi::X509_VERIFY_PARAM_set_flags(param, flags.bits() as libc::c_ulong);
            let purpose_id = match purpose {
                Purpose::SmimeSign => X509PurposeId::SMIME_SIGN,
                Purpose::SmimeEncrypt => X509PurposeId::SMIME_ENCRYPT,
                Purpose::ChainOnly => X509PurposeId::ANY,
            };
            ffi::X509_STORE_CTX_set_purpose(ctx.as_ptr(), purpose_id.as_raw());
            if let Some(crls) = &lent {
                // Only lent: the context does not free what set0_crls hands it.
                ffi::X509_STORE_CTX_set0_crls(ctx.as_ptr(), crls.0);
            }
            ffi::X509_STORE_CTX_set_verify_cb(ctx.as_ptr(), Some(collect_errors));
        }
        let verified = ctx.verify_cert()?;
        let chain: Vec<X509> = ctx.chain().map(|s| s.iter().map(|c| c.to_owned()).collect()).unwrap_or_default();
        Ok((chain, verified))
    })?;
    let errors = COLLECTED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    Ok(Run { chain, verified, errors })
}

fn verify_inner(
    anchors: &TrustAnchors,
    cert: &X509,
    untrusted: &[X509],
    evidence: Evidence<'_>,
    at: i64,
    purpose: Purpose,
) -> std::result::Result<ChainOutcome, openssl::error::ErrorStack> {
    let Some(store) = anchors.store() else {
        return Err(openssl::error::ErrorStack::get());
    };
    let mut chain_stack = openssl::stack::Stack::new()?;
    for c in untrusted {
        chain_stack.push(c.clone())?;
    }
    // First the chain, then its CRLs: which CRL counts depends on the issuers the chain has.
    let first = run(store, cert, &chain_stack, at, purpose, None)?;
    let built: Vec<X509> = first.chain.clone();
    let checker = anchors.revocation.as_deref();
    let now = crate::time::now();
    let cached = checker.map(|c| c.cached_crls(&built, now)).unwrap_or_default();
    let mut candidates: Vec<CrlCandidate<'_>> = anchors
        .crls
        .iter()
        .enumerate()
        .map(|(i, c)| CrlCandidate { crl: &c.crl, source: Source::Stored, stored_index: Some(i), url: None, fetched_at: None })
        .chain(evidence.crls.iter().map(|c| CrlCandidate { crl: c, source: Source::Message, stored_index: None, url: None, fetched_at: None }))
        .collect();
    candidates.extend(cached.iter().map(|c| CrlCandidate {
        crl: &c.crl,
        source: Source::Cache,
        stored_index: None,
        url: c.url.as_deref(),
        fetched_at: Some(c.fetched_at),
    }));
    let run_with = |extra: &[CrlCandidate<'_>], first: &Run| -> std::result::Result<(Run, Vec<Option<CrlFinding>>), openssl::error::ErrorStack> {
        let all: Vec<&CrlCandidate<'_>> = candidates.iter().chain(extra.iter()).collect();
        let chosen = choose_crls(anchors, &all, &built);
        if chosen.is_empty() {
            return Ok((first.clone(), vec![None; revocation::checked_depths(&built)]));
        }
        let crls: Vec<&X509CrlRef> = chosen.iter().map(|c| c.crl).collect();
        let result = run(store, cert, &chain_stack, at, purpose, Some(&crls))?;
        let findings = crl_findings(&built, &chosen, &result.errors);
        Ok((result, findings))
    };
    let (mut result, findings) = run_with(&[], &first)?;
    let trusted = !built.is_empty() && !result.errors.iter().any(|e| is_trust_error(e.code));
    let mut pool: Vec<X509> = untrusted.to_vec();
    pool.extend(built.iter().cloned());
    let view = revocation::ChainView { chain: &built, trusted, pool: &pool, store: Some(store), message_ocsp: evidence.ocsp };
    let mut rerun_failed = None;
    let mut rerun = |fetched: &[FetchedCrl]| -> Vec<Option<CrlFinding>> {
        let extra: Vec<CrlCandidate<'_>> = fetched
            .iter()
            .map(|f| CrlCandidate { crl: &f.crl, source: Source::Online, stored_index: None, url: Some(&f.url), fetched_at: Some(now) })
            .collect();
        match run_with(&extra, &first) {
            Ok((again, findings)) => {
                result = again;
                findings
            }
            Err(e) => {
                rerun_failed = Some(e);
                Vec::new()
            }
        }
    };
    let mut statuses = revocation::assess(checker, &view, findings, &mut rerun);
    if let Some(e) = rerun_failed {
        return Err(e);
    }
    let Run { chain, verified, mut errors } = result;
    // OCSP's revocations join OpenSSL's (from the CRLs).
    for s in statuses.iter().filter(|s| s.status == revocation::Status::Revoked) {
        let e = ChainError { code: V_ERR_CERT_REVOKED, depth: s.depth };
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    if !verified && errors.is_empty() {
        errors.push(ChainError { code: V_ERR_CERT_UNTRUSTED, depth: 0 });
    }
    // "No CRL for this issuer" only means revocation is unknown, not that anything is wrong.
    errors.retain(|e| e.code != V_ERR_UNABLE_TO_GET_CRL);
    let chain: Vec<Cert> = chain.iter().filter_map(|c| Cert::from_x509(c).ok()).collect();
    for s in &mut statuses {
        if let Some(c) = chain.get(s.depth as usize) {
            s.subject = c.fields.subject.to_rfc4514();
        }
    }
    let untrusted_chain = errors.iter().any(|e| is_trust_error(e.code));
    let anchor = match chain.last() {
        Some(root) if !untrusted_chain => Some(anchors.source_of(root)),
        _ => None,
    };
    let required = checker.is_some_and(|c| c.mode() == revocation::Mode::Required);
    Ok(ChainOutcome { errors, chain, anchor, revocation: RevocationReport::from_statuses(statuses, required) })
}

/// A CRL that may take part in a verification, and where it came from.
struct CrlCandidate<'a> {
    crl: &'a X509CrlRef,
    source: Source,
    /// Its index in `TrustAnchors::crls` (stored CRLs: their signature checks are remembered).
    stored_index: Option<usize>,
    url: Option<&'a str>,
    fetched_at: Option<i64>,
}

/// What the chosen CRLs say about each checked certificate of `chain`, as OpenSSL judged it
/// (`errors` of the run with exactly those CRLs). None: no CRL covers the certificate.
fn crl_findings(chain: &[X509], chosen: &[&CrlCandidate<'_>], errors: &[ChainError]) -> Vec<Option<CrlFinding>> {
    (0..revocation::checked_depths(chain))
        .map(|depth| {
            let cert = &chain[depth];
            let at_depth = |code: i32| errors.iter().any(|e| e.code == code && e.depth == depth as u32);
            let of_issuer: Vec<&&CrlCandidate<'_>> = chosen.iter().filter(|c| names_equal(c.crl.issuer_name(), cert.issuer_name())).collect();
            if of_issuer.is_empty() || at_depth(V_ERR_UNABLE_TO_GET_CRL) {
                return None;
            }
            let (candidate, state) = if at_depth(V_ERR_CERT_REVOKED) {
                let mut found = (*of_issuer[0], CrlState::Revoked { at: None, reason: None });
                for c in &of_issuer {
                    if let openssl::x509::CrlStatus::Revoked(entry) = c.crl.get_by_cert(cert) {
                        let reason = entry
                            .extension::<openssl::x509::ReasonCode>()
                            .ok()
                            .flatten()
                            .and_then(|(_, code)| code.get_i64().ok())
                            .and_then(|code| revocation::ocsp::reason_name(code as i32));
                        found = (**c, CrlState::Revoked { at: revocation::asn1_unix(entry.revocation_date()), reason });
                        break;
                    }
                }
                found
            } else if at_depth(V_ERR_CRL_HAS_EXPIRED) || at_depth(V_ERR_CRL_NOT_YET_VALID) {
                (*of_issuer[0], CrlState::Stale)
            } else if errors.iter().any(|e| e.depth == depth as u32 && is_crl_error(e.code)) {
                return None;
            } else {
                (*of_issuer[0], CrlState::Good)
            };
            let _ = openssl::error::ErrorStack::get();
            Some(CrlFinding {
                state,
                source: candidate.source,
                url: candidate.url.map(str::to_string),
                this_update: revocation::asn1_unix(candidate.crl.last_update()),
                next_update: candidate.crl.next_update().and_then(revocation::asn1_unix),
                fetched_at: candidate.fetched_at,
            })
        })
        .collect()
}

/// OpenSSL's errors about a CRL itself (not the certificate it judges).
fn is_crl_error(code: i32) -> bool {
    matches!(code, V_ERR_CRL_SIGNATURE_FAILURE | V_ERR_UNABLE_TO_GET_CRL_ISSUER | V_ERR_KEYUSAGE_NO_CRL_SIGN)
}

/// The CRLs a chain is checked against: for each certificate, among the candidate CRLs (stored
/// and `extra`) that its issuer signed (same name, signature verifies with the issuer's key in
/// this chain), the newest per scope (issuingDistributionPoint). Delta CRLs are left out: OpenSSL
/// does not use them here, and a delta chosen as "newest" would hide its base.
fn choose_crls<'c, 'a>(anchors: &TrustAnchors, all: &[&'c CrlCandidate<'a>], chain: &[X509]) -> Vec<&'c CrlCandidate<'a>> {
    let candidates: Vec<&'c CrlCandidate<'a>> = all.iter().copied().filter(|c| !crl_has_extension(c.crl, openssl::nid::Nid::DELTA_CRL)).collect();
    let mut chosen: Vec<&'c CrlCandidate<'a>> = Vec::new();
    if candidates.is_empty() {
        return chosen;
    }
    for (depth, cert) in chain.iter().enumerate() {
        // The issuer is the next certificate; a root is its own issuer.
        let issuer = match chain.get(depth + 1) {
            Some(issuer) => issuer,
            None if names_equal(cert.issuer_name(), cert.subject_name()) => cert,
            None => continue,
        };
        let issuer_id = issuer.digest(openssl::hash::MessageDigest::sha256()).ok().and_then(|d| <[u8; 32]>::try_from(&d[..]).ok());
        let Ok(key) = issuer.public_key() else { continue };
        // Newest per scope, among the CRLs this issuer signed.
        let mut best: Vec<(Option<Vec<u8>>, &'c CrlCandidate<'a>)> = Vec::new();
        for candidate in &candidates {
            let crl = candidate.crl;
            if !names_equal(crl.issuer_name(), cert.issuer_name()) {
                continue;
            }
            if !anchors.crl_signed_by(candidate.stored_index, crl, issuer_id, &key) {
                log::debug!("a CRL whose signature does not verify with its issuer's key is ignored");
                continue;
            }
            let scope = crl_extension_value(crl, openssl::nid::Nid::ISSUING_DISTRIBUTION_POINT);
            match best.iter_mut().find(|(s, _)| *s == scope) {
                Some(slot) if newer(crl, slot.1.crl) == std::cmp::Ordering::Greater => slot.1 = candidate,
                Some(_) => {}
                None => best.push((scope, candidate)),
            }
        }
        for (_, candidate) in best {
            if !chosen.iter().any(|c| std::ptr::eq(c.crl, candidate.crl)) {
                chosen.push(candidate);
            }
        }
    }
    let _ = openssl::error::ErrorStack::get();
    chosen
}

impl TrustAnchors {
    /// Whether `crl` (stored at `index`, or from the message when None) verifies with `key`, the
    /// key of the issuer `issuer_id`; stored CRLs are checked once per issuer.
    fn crl_signed_by(&self, index: Option<usize>, crl: &X509CrlRef, issuer_id: Option<[u8; 32]>, key: &openssl::pkey::PKeyRef<openssl::pkey::Public>) -> bool {
        let verify = || crl.verify(key).unwrap_or(false);
        let (Some(index), Some(issuer_id)) = (index, issuer_id) else { return verify() };
        let mut memo = self.crl_signatures.lock().unwrap_or_else(|p| p.into_inner());
        *memo.entry((index, issuer_id)).or_insert_with(verify)
    }
}

/// Which of two CRLs of one issuer is newer: the higher CRL number when both have one and they
/// differ, else the later thisUpdate; when even that ties, the one that revokes more.
fn newer(a: &X509CrlRef, b: &X509CrlRef) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let number = |c: &X509CrlRef| c.extension::<openssl::x509::CrlNumber>().ok().flatten().and_then(|(_, n)| n.to_bn().ok());
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        if x != y {
            return x.cmp(&y);
        }
    }
    let revoked = |c: &X509CrlRef| c.get_revoked().map_or(0, |r| r.len());
    a.last_update().compare(b.last_update()).unwrap_or(Ordering::Equal).then_with(|| revoked(a).cmp(&revoked(b)))
}

fn names_equal(a: &openssl::x509::X509NameRef, b: &openssl::x509::X509NameRef) -> bool {
    a.try_cmp(b).is_ok_and(|o| o == std::cmp::Ordering::Equal)
}

pub(crate) fn crl_has_extension(crl: &X509CrlRef, nid: openssl::nid::Nid) -> bool {
    unsafe { openssl_sys::X509_CRL_get_ext_by_NID(crl.as_ptr(), nid.as_raw(), -1) >= 0 }
}

/// The DER value of a CRL extension, when present.
pub(crate) fn crl_extension_value(crl: &X509CrlRef, nid: openssl::nid::Nid) -> Option<Vec<u8>> {
    unsafe {
        let loc = openssl_sys::X509_CRL_get_ext_by_NID(crl.as_ptr(), nid.as_raw(), -1);
        if loc < 0 {
            return None;
        }
        let ext = openssl_sys::X509_CRL_get_ext(crl.as_ptr(), loc);
        if ext.is_null() {
            return None;
        }
        let data = openssl_sys::X509_EXTENSION_get_data(ext) as *const openssl_sys::ASN1_STRING;
        if data.is_null() {
            return None;
        }
        let len = openssl_sys::ASN1_STRING_length(data).max(0) as usize;
        let ptr = openssl_sys::ASN1_STRING_get0_data(data);
        Some(if ptr.is_null() { Vec::new() } else { std::slice::from_raw_parts(ptr, len).to_vec() })
    }
}

/// Adds the system's CA certificates: the hashed folder when it exists (lazy, per issuer),
/// else the bundle file. Also for the directories' TLS (`directory::client`).
pub(crate) fn add_system_store(builder: &mut openssl::x509::store::X509StoreBuilderRef) -> std::result::Result<(), openssl::error::ErrorStack> {
    let cstr = |p: *const libc::c_char| unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned();
    let dir = std::env::var("SSL_CERT_DIR").unwrap_or_else(|_| cstr(unsafe { ffi::X509_get_default_cert_dir() }));
    let hashed = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().ends_with(".0")))
        .unwrap_or(false);
    if hashed {
        let lookup = builder.add_lookup(openssl::x509::store::X509Lookup::hash_dir())?;
        lookup.add_dir(&dir, openssl::ssl::SslFiletype::PEM)?;
        Ok(())
    } else {
        let file = std::env::var("SSL_CERT_FILE").unwrap_or_else(|_| cstr(unsafe { ffi::X509_get_default_cert_file() }));
        let lookup = builder.add_lookup(openssl::x509::store::X509Lookup::file())?;
        // A missing bundle just means no system anchors.
        let _ = lookup.load_cert_file(&file, openssl::ssl::SslFiletype::PEM);
        let _ = openssl::error::ErrorStack::get();
        Ok(())
    }
}

/// Errors that mean the chain does not reach a trusted anchor.
pub fn is_trust_error(code: i32) -> bool {
    matches!(
        code,
        V_ERR_UNABLE_TO_GET_ISSUER_CERT
            | V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
            | V_ERR_SELF_SIGNED_CERT_IN_CHAIN
            | V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            | V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
            | V_ERR_CERT_UNTRUSTED
            | V_ERR_CERT_REJECTED
            | V_ERR_INVALID_CA
            | V_ERR_CERT_SIGNATURE_FAILURE
            | V_ERR_KEYUSAGE_NO_CERTSIGN
    )
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Reads one or more certificates from PEM, DER, or a PKCS#7 bundle (`.p7c`, `.p7b`).
pub fn read_certificates(path: &Path) -> std::result::Result<Vec<Cert>, BadCertificate> {
    let bytes = std::fs::read(path).map_err(|e| BadCertificate(e.to_string()))?;
    parse_certificates(&bytes)
}

pub fn parse_certificates(bytes: &[u8]) -> std::result::Result<Vec<Cert>, BadCertificate> {
    let x509s: Vec<X509> = if let Ok(list) = X509::stack_from_pem(bytes).map_err(|_| ()).and_then(|l| if l.is_empty() { Err(()) } else { Ok(l) }) {
        list
    } else if let Ok(c) = X509::from_der(bytes) {
        vec![c]
    } else if let Some(list) = pkcs7_certificates(bytes) {
        list
    } else {
        let _ = openssl::error::ErrorStack::get();
        return Err(BadCertificate("no certificate found (expected PEM, DER or a PKCS#7 bundle)".into()));
    };
    let _ = openssl::error::ErrorStack::get();
    x509s.iter().map(|c| Cert::from_x509(c)).collect()
}

/// Certificates of a PKCS#7/CMS SignedData (certs-only bundles), DER or PEM.
fn pkcs7_certificates(bytes: &[u8]) -> Option<Vec<X509>> {
    let der = if bytes.starts_with(b"-----BEGIN") {
        let p7 = openssl::pkcs7::Pkcs7::from_pem(bytes).ok()?;
        p7.to_der().ok()?
    } else {
        bytes.to_vec()
    };
    let cms = crate::smime::cms::Cms::from_der(&der)?;
    let certs = cms.certificates();
    (!certs.is_empty()).then_some(certs)
}

/// Reads CRLs from PEM (one or more) or DER.
pub fn read_crls(path: &Path) -> std::result::Result<Vec<X509Crl>, BadCertificate> {
    let bytes = std::fs::read(path).map_err(|e| BadCertificate(e.to_string()))?;
    parse_crls(&bytes)
}

pub fn parse_crls(bytes: &[u8]) -> std::result::Result<Vec<X509Crl>, BadCertificate> {
    let mut out = Vec::new();
    if bytes.starts_with(b"-----BEGIN") {
        let text = String::from_utf8_lossy(bytes);
        for block in text.split("-----END X509 CRL-----").filter(|b| b.contains("-----BEGIN X509 CRL-----")) {
            let pem = format!("{block}-----END X509 CRL-----\n");
            out.push(X509Crl::from_pem(pem.trim_start().as_bytes()).map_err(|_| BadCertificate("broken PEM CRL".into()))?);
        }
    } else if let Ok(crl) = X509Crl::from_der(bytes) {
        out.push(crl);
    }
    let _ = openssl::error::ErrorStack::get();
    if out.is_empty() {
        return Err(BadCertificate("no CRL found (expected PEM or DER)".into()));
    }
    Ok(out)
}

/// What `trust add` stored.
#[derive(Debug, Serialize)]
pub struct Added {
    pub anchors: Vec<super::summary::CertSummary>,
    pub crls: usize,
}

/// Adds the certificates (as anchors) or CRLs in `bytes` to the user's folder.
pub fn add_user(home: &Home, bytes: &[u8], source_name: &str) -> Result<Added> {
    let dir = user_anchor_dir(home);
    if let Ok(certs) = parse_certificates(bytes) {
        create_private_dir(&dir)?;
        let mut added = Vec::new();
        for cert in certs {
            let path = dir.join(format!("{}.pem", cert.fingerprint_sha256()));
            let pem = cert.x509.to_pem().map_err(|e| Error::Internal { reason: e.to_string() })?;
            crate::home::write_private_file(&path, &pem)?;
            added.push(cert.summary());
        }
        return Ok(Added { anchors: added, crls: 0 });
    }
    if let Ok(crls) = parse_crls(bytes) {
        let dir = crl_dir(&dir);
        create_private_dir(&dir)?;
        for crl in &crls {
            let der = crl.to_der().map_err(|e| Error::Internal { reason: e.to_string() })?;
            let name = crate::hex::encode(&openssl::sha::sha256(&der));
            let pem = crl.to_pem().map_err(|e| Error::Internal { reason: e.to_string() })?;
            crate::home::write_private_file(&dir.join(format!("{name}.crl.pem")), &pem)?;
        }
        return Ok(Added { anchors: Vec::new(), crls: crls.len() });
    }
    Err(Error::BadCertificate { path: source_name.into(), reason: "neither certificates nor CRLs (PEM, DER, PKCS#7)".into() })
}

/// What `trust remove` removed: the anchors' file names, their SHA-256 fingerprints.
#[derive(Debug, Serialize)]
pub struct Removed {
    pub removed: Vec<String>,
}

/// Removes a user anchor by SHA-256 fingerprint (or a unique prefix of at least 8 hex digits).
pub fn remove_user(home: &Home, fingerprint: &str) -> Result<Removed> {
    let wanted = fingerprint.to_ascii_lowercase().replace(':', "");
    if wanted.len() < 8 {
        return Err(Error::NotFound { what: "anchor".into(), key: fingerprint.into() });
    }
    let dir = user_anchor_dir(home);
    let matches: Vec<PathBuf> = list_files(&dir)
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&wanted)))
        .collect();
    if matches.is_empty() {
        return Err(Error::NotFound { what: "anchor".into(), key: fingerprint.into() });
    }
    if matches.len() > 1 {
        return Err(Error::Ambiguous { what: "anchor".into(), key: fingerprint.into() });
    }
    std::fs::remove_file(&matches[0]).map_err(|e| Error::io(&matches[0], e))?;
    Ok(Removed { removed: matches.iter().filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string)).collect() })
}

/// One anchor of `trust list`.
#[derive(Debug, Serialize)]
pub struct AnchorInfo {
    pub source: AnchorSource,
    pub certificate: super::summary::CertSummary,
}

/// What `trust list` shows.
#[derive(Debug, Serialize)]
pub struct TrustListing {
    /// Anchors IT and the user added (the system store is used as well, but not listed).
    pub anchors: Vec<AnchorInfo>,
    pub crls: usize,
    pub uses_system_store: bool,
    pub problems: Vec<String>,
}

/// The anchors and CRLs of the IT and user folders.
pub fn listing(home: &Home) -> TrustListing {
    let t = TrustAnchors::load(home);
    TrustListing {
        anchors: t.anchors.iter().map(|a| AnchorInfo { source: a.source, certificate: a.cert.summary() }).collect(),
        crls: t.crls.len(),
        uses_system_store: t.use_system,
        problems: t.problems,
    }
}
