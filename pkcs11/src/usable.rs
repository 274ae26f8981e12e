//! Which of the contact cache's certificates the token offers NSS: only those the companion
//! itself would encrypt to now (`certs::policy::encryption_verdict`, the same check as
//! `recipients_check` and `encrypt`): a certificate whose chain does not verify for S/MIME
//! encryption against the companion's anchors (every CA's extended key usage included), that a
//! CRL the companion holds revokes, that has expired, or that fails the algorithm policy is never
//! shown to Thunderbird, whatever NSS itself would make of it.
//!
//! Revocation: the module never asks a CA (it runs inside Thunderbird, and a slow responder must
//! not hold Thunderbird's send path). It reads what the host recorded in the revocation cache
//! (OCSP answers, fetched CRLs) besides the CRLs in the anchor folders; a revocation the host
//! records moves the anchors' stamp (`TrustAnchors::stamp`), so every verdict is judged again.
//!
//! Reading a certificate with OpenSSL and verifying its chain costs about 0.2 ms (`cargo bench -p
//! smime-companion-pkcs11`: C_Initialize with 1,000 contacts takes about 240 ms instead of 50 ms),
//! so verdicts are kept per certificate and computed again only when something they depend on
//! changed:
//! - the anchors or CRLs (a file in the anchor folders added, removed or rewritten), or a status
//!   the host recorded in the revocation cache: all;
//! - the intermediate certificates chains are built from (cache or identities): all;
//! - a verdict's time bound passed (a usable certificate's notAfter, a not yet valid one's
//!   notBefore): that one;
//! - an hour passed (a CA's validity, the system's CA store): all.
//!
//! New certificates in the cache get a verdict when they are read; the others keep theirs.

use crate::objects::TokenCert;
use openssl::x509::X509;
use smime_companion::certs::policy::encryption_verdict;
use smime_companion::certs::revocation::Checker;
use smime_companion::certs::summary::Cert;
use smime_companion::certs::trust::TrustAnchors;
use smime_companion::home::Home;
use std::collections::HashMap;

/// Every verdict is computed again after this long.
pub const FULL_RECHECK_SECS: i64 = 3600;

/// A contact certificate as read from the cache, with its fingerprint (the verdict's key).
pub struct Candidate {
    pub sha256: [u8; 32],
    pub cert: TokenCert,
}

impl Candidate {
    pub fn new(cert: TokenCert) -> Candidate {
        Candidate { sha256: openssl::sha::sha256(&cert.der), cert }
    }
}

#[derive(Clone, Copy, Debug)]
struct Verdict {
    usable: bool,
    /// When the verdict may change by itself (a validity bound).
    recheck_at: Option<i64>,
}

type Stamp = Vec<(std::path::PathBuf, Option<std::time::SystemTime>, u64)>;

/// The verdicts, and what they were computed against.
#[derive(Default)]
pub struct UsableFilter {
    anchors: Option<TrustAnchors>,
    stamp: Stamp,
    /// SHA-256 over the intermediates' DER, in order.
    intermediates_key: Option<[u8; 32]>,
    intermediates: Vec<X509>,
    verdicts: HashMap<[u8; 32], Verdict>,
    full_at: i64,
    /// The fingerprints found usable the last time, in candidate order.
    usable: Vec<[u8; 32]>,
    /// Verdicts computed so far (for tests and the trace).
    pub computed: u64,
}

impl UsableFilter {
    /// The usable candidates, when they differ from the last call's (or `inputs_changed`: the
    /// candidates or intermediates were read again); None when nothing changed.
    /// `intermediates`: the DER of every intermediate CA certificate known (cache and
    /// identities), as the host's `Context::known_intermediates` gives them.
    pub fn refresh<'c>(
        &mut self,
        home: &Home,
        candidates: &'c [Candidate],
        intermediates: &dyn Fn() -> Vec<Vec<u8>>,
        inputs_changed: bool,
        now: i64,
    ) -> Option<Vec<&'c TokenCert>> {
        let stamp = TrustAnchors::stamp(home);
        if self.anchors.is_none() || stamp != self.stamp || now - self.full_at >= FULL_RECHECK_SECS || now < self.full_at {
            let mut anchors = TrustAnchors::load(home);
            let settings = smime_companion::config::Config::load(home).revocation_settings();
            anchors.revocation = Some(std::sync::Arc::new(Checker::cache_only(home, settings)));
            for problem in &anchors.problems {
                log::warn!("pkcs11: trust store: {problem}");
            }
            self.anchors = Some(anchors);
            self.stamp = stamp;
            self.full_at = now;
            self.verdicts.clear();
        }
        if inputs_changed || self.intermediates_key.is_none() {
            let ders = intermediates();
            let mut hasher = openssl::sha::Sha256::new();
            for der in &ders {
                hasher.update(&(der.len() as u64).to_be_bytes());
                hasher.update(der);
            }
            let key = hasher.finish();
            if self.intermediates_key != Some(key) {
                self.intermediates = ders.iter().filter_map(|d| X509::from_der(d).ok()).collect();
                let _ = openssl::error::ErrorStack::get();
                self.intermediates_key = Some(key);
                self.verdicts.clear();
            }
        }
        let anchors = self.anchors.as_ref()?;
        let mut usable = Vec::new();
        let mut fresh = HashMap::with_capacity(candidates.len());
        for c in candidates {
            let verdict = match self.verdicts.get(&c.sha256) {
                Some(v) if v.recheck_at.map_or(true, |t| now < t) => *v,
                _ => {
                    self.computed += 1;
                    judge(anchors, &c.cert, &self.intermediates, now)
                }
            };
            fresh.insert(c.sha256, verdict);
            if verdict.usable {
                usable.push(c);
            }
        }
        self.verdicts = fresh;
        let fingerprints: Vec<[u8; 32]> = usable.iter().map(|c| c.sha256).collect();
        if fingerprints == self.usable && !inputs_changed {
            return None;
        }
        self.usable = fingerprints;
        Some(usable.into_iter().map(|c| &c.cert).collect())
    }
}

fn judge(anchors: &TrustAnchors, cert: &TokenCert, intermediates: &[X509], now: i64) -> Verdict {
    let Ok(x509) = X509::from_der(&cert.der) else {
        let _ = openssl::error::ErrorStack::get();
        return Verdict { usable: false, recheck_at: None };
    };
    let parsed = Cert { x509, der: cert.der.clone(), fields: cert.fields.clone() };
    let f = &parsed.fields;
    match encryption_verdict(anchors, &parsed, intermediates, now) {
        Ok(()) => Verdict { usable: true, recheck_at: Some(f.not_after.saturating_add(1)) },
        Err(refusal) => {
            crate::trace_line(|| format!("contact certificate not offered: {}", refusal.code()));
            Verdict { usable: false, recheck_at: (f.not_before > now).then_some(f.not_before) }
        }
    }
}
