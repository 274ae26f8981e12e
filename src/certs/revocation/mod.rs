//! Revocation: is a certificate of a chain revoked, and how do we know (docs/REVOCATION.md).
//!
//! For the signer's (or recipient's) certificate and each CA certificate above it (not the trust
//! anchor), the evidence at hand is read first, at no network cost:
//! - the CRLs we hold (stored, carried in the message, fetched earlier and cached), the newest
//!   verified one per issuer and scope deciding (`trust::choose_crls`, OpenSSL checks);
//! - a cached OCSP answer ([`cache`]);
//! - an OCSP answer the message carries (RFC 5940), when it verifies and is fresh.
//!
//! Any of them saying "revoked" decides; otherwise any saying "good" does. When none answers and
//! checking online is on, the CA is asked: its OCSP responder (authorityInfoAccess) first, its
//! CRL distribution points (HTTP) second, the chain's certificates in parallel threads, each
//! request within [`REQUEST_TIMEOUT`] and all of one operation within [`OPERATION_BUDGET`]. What
//! could not be learnt stays `unknown` with the reason, remembered for [`FAILURE_RETRY_SECS`] so
//! the next message does not wait again (a "check again" ignores that).
//!
//! The [`Checker`] lives with the trust anchors (`TrustAnchors::revocation`), so every trust
//! decision (a signer's chain, `encryption_verdict`) uses it. The PKCS#11 module's checker never
//! goes online: it reads what the host recorded.

pub mod cache;
pub mod http;
pub mod ocsp;

use crate::home::Home;
use crate::time::to_rfc3339;
use cache::{RevocationCache, StatusRow};
use http::{FetchError, ProxySetting};
use openssl::x509::store::X509StoreRef;
use openssl::x509::{X509Crl, X509Ref, X509};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One HTTP request (connect and answer) at most.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// All requests of one operation (one message, one recipients check) at most. Under the add-on's
/// 5 s bound on the check it runs when mail is sent.
pub const OPERATION_BUDGET: Duration = Duration::from_secs(4);

/// A check that failed is not tried again for this long (unless asked to check again).
pub const FAILURE_RETRY_SECS: i64 = 600;

/// A good or revoked answer is kept until its nextUpdate, at most this long.
pub const MAX_CACHE_SECS: i64 = 7 * 86400;

/// An answer without nextUpdate is kept this long.
pub const CACHE_WITHOUT_NEXT_UPDATE_SECS: i64 = 3600;

/// Responder URLs and distribution points tried per certificate, each.
const MAX_URLS: usize = 2;

/// Overrides the user's `revocation` setting (tests, the end-to-end suite); IT's still wins.
pub const MODE_ENV: &str = "SMIME_COMPANION_REVOCATION";

/// Whether and how hard revocation is checked (`revocation` in docs/CONFIG.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Never ask a CA (privacy: a responder learns whose mail is read); what is at hand counts.
    Off,
    /// Ask when nothing at hand answers; an unknown status is shown, not held against anyone.
    #[default]
    On,
    /// As `on`, and a status that stays unknown counts as a problem.
    Required,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "off" => Some(Mode::Off),
            "on" => Some(Mode::On),
            "required" => Some(Mode::Required),
            _ => None,
        }
    }
}

/// The settings a checker works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    pub proxy: ProxySetting,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { mode: Mode::On, proxy: ProxySetting::FromEnvironment }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Good,
    Revoked,
    Unknown,
}

/// How a status was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Ocsp,
    Crl,
}

/// Where the evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Asked the CA now.
    Online,
    /// Asked earlier; kept in the revocation cache.
    Cache,
    /// Carried in the message.
    Message,
    /// A CRL in the anchor folders (`trust add`, IT's folder) or given for this call (`--crl`).
    Stored,
}

/// Why a status is unknown. Retryable ones may change with another try ([`is_retryable`]).
pub const UNKNOWN_REASONS: &[&str] = &[
    "off",
    "no_source",
    "untrusted_chain",
    "offline",
    "timeout",
    "responder_error",
    "invalid_response",
    "stale_response",
    "unknown_to_responder",
    "not_checked",
];

/// Whether checking again may bring an answer.
pub fn is_retryable(reason: &str) -> bool {
    matches!(reason, "offline" | "timeout" | "responder_error" | "stale_response" | "not_checked")
}

/// What is known about one certificate of a chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertStatus {
    /// 0 the certificate itself, 1 its issuer, …
    pub depth: u32,
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The responder or distribution point asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the companion got the answer (online or cached ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    /// The CA's own date of the information, and when it promises newer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub this_update: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_update: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The CRLReason (`key_compromise`, `superseded`, …), when the CA gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<&'static str>,
    /// Why the status is unknown ([`UNKNOWN_REASONS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip)]
    pub revoked_at_unix: Option<i64>,
}

impl CertStatus {
    fn new(depth: usize, status: Status) -> CertStatus {
        CertStatus {
            depth: depth as u32,
            // Filled in by `trust`, which has the chain's certificates read already.
            subject: String::new(),
            status,
            method: None,
            source: None,
            url: None,
            checked_at: None,
            this_update: None,
            next_update: None,
            revoked_at: None,
            revocation_reason: None,
            reason: None,
            revoked_at_unix: None,
        }
    }

    fn unknown(depth: usize, reason: &'static str) -> CertStatus {
        CertStatus { reason: Some(reason), ..CertStatus::new(depth, Status::Unknown) }
    }

    fn times(mut self, this_update: Option<i64>, next_update: Option<i64>) -> CertStatus {
        self.this_update = this_update.map(to_rfc3339);
        self.next_update = next_update.map(to_rfc3339);
        self
    }

    fn revoked(mut self, at: Option<i64>, reason: Option<&'static str>) -> CertStatus {
        self.revoked_at = at.map(to_rfc3339);
        self.revoked_at_unix = at;
        self.revocation_reason = reason;
        self
    }
}

/// The revocation part of a signer's verdict (docs/INSPECT.md, "Revocation").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevocationReport {
    /// `revoked` when any certificate of the chain is; else the signer's own certificate's.
    pub status: Status,
    /// When unknown: why (the signer's certificate's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Whether checking again may help (`inspect_message` with `recheck_revocation`).
    pub retry: bool,
    /// Each certificate checked, the signer's first (the trust anchor is not checked).
    pub certificates: Vec<CertStatus>,
    /// Revocation is `required`: an unknown status is a problem of the verdict.
    #[serde(skip)]
    pub required: bool,
}

impl RevocationReport {
    pub fn not_checked() -> RevocationReport {
        RevocationReport { status: Status::Unknown, reason: Some("not_checked"), retry: false, certificates: Vec::new(), required: false }
    }

    pub(crate) fn from_statuses(certificates: Vec<CertStatus>, required: bool) -> RevocationReport {
        let revoked = certificates.iter().any(|c| c.status == Status::Revoked);
        let own = certificates.iter().find(|c| c.depth == 0);
        let status = if revoked { Status::Revoked } else { own.map_or(Status::Unknown, |c| c.status) };
        let reason = match status {
            Status::Unknown => Some(own.and_then(|c| c.reason).unwrap_or("not_checked")),
            _ => None,
        };
        RevocationReport { status, reason, retry: reason.is_some_and(is_retryable), certificates, required }
    }

    /// The first revoked certificate, the nearest to the signer first.
    pub fn first_revoked(&self) -> Option<&CertStatus> {
        self.certificates.iter().find(|c| c.status == Status::Revoked)
    }

    /// Whether the status counts as a problem: unknown while revocation is required.
    pub fn unknown_but_required(&self) -> bool {
        self.required && self.status == Status::Unknown
    }
}

/// What the CRLs at hand say about one certificate (computed by `trust`, OpenSSL deciding).
#[derive(Debug, Clone)]
pub(crate) struct CrlFinding {
    pub state: CrlState,
    pub source: Source,
    pub url: Option<String>,
    pub this_update: Option<i64>,
    pub next_update: Option<i64>,
    /// When the companion fetched it (fetched and cached CRLs).
    pub fetched_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CrlState {
    Revoked { at: Option<i64>, reason: Option<&'static str> },
    Good,
    /// A CRL covers the certificate but is out of date (or not yet valid).
    Stale,
}

impl CrlFinding {
    fn status(&self, depth: usize) -> CertStatus {
        let base = |status| CertStatus {
            method: Some(Method::Crl),
            source: Some(self.source),
            url: self.url.clone(),
            checked_at: self.fetched_at.map(to_rfc3339),
            ..CertStatus::new(depth, status)
        }
        .times(self.this_update, self.next_update);
        match &self.state {
            CrlState::Revoked { at, reason } => base(Status::Revoked).revoked(*at, *reason),
            CrlState::Good => base(Status::Good),
            CrlState::Stale => CertStatus { reason: Some("stale_response"), ..base(Status::Unknown) },
        }
    }
}

/// A CRL fetched from a distribution point during this check.
pub(crate) struct FetchedCrl {
    pub crl: X509Crl,
    pub url: String,
    pub depth: usize,
}

/// A CRL from the revocation cache.
pub(crate) struct CachedCrl {
    pub crl: Arc<X509Crl>,
    pub url: Option<String>,
    pub fetched_at: i64,
}

/// The chain being judged, as `trust` sees it.
pub(crate) struct ChainView<'a> {
    /// As OpenSSL built it, the certificate first.
    pub chain: &'a [X509],
    /// Whether it reaches a trust anchor (nobody is asked about an untrusted chain).
    pub trusted: bool,
    /// Certificates that may complete an OCSP responder's chain.
    pub pool: &'a [X509],
    /// The trust anchors, for the responders' chains.
    pub store: Option<&'a X509StoreRef>,
    /// OCSP responses the message carries.
    pub message_ocsp: &'a [Vec<u8>],
}

/// How many certificates of `chain` are checked: all but a self-issued last one (the anchor).
pub(crate) fn checked_depths(chain: &[X509]) -> usize {
    match chain.last() {
        Some(last) if names_equal(last.subject_name(), last.issuer_name()) => chain.len() - 1,
        _ => chain.len(),
    }
}

/// The issuer of `chain[depth]`, when the chain has it.
fn issuer_at(chain: &[X509], depth: usize) -> Option<&X509> {
    chain.get(depth + 1)
}

/// Per operation: when its network budget ends, whether cached failures are ignored, and which
/// certificates were already asked about (each at most once per operation).
#[derive(Default)]
struct Operation {
    deadline: Option<Instant>,
    recheck: bool,
    asked: HashSet<(String, String)>,
}

/// Checks revocation for every trust decision of a run (see the module doc).
pub struct Checker {
    home: Home,
    settings: Settings,
    /// May go online (the host and the CLI); false in the PKCS#11 module.
    online: bool,
    request_timeout: Duration,
    budget: Duration,
    cache: Mutex<Option<RevocationCache>>,
    operation: Mutex<Operation>,
    /// Parsed cached CRLs: (issuer, fetched_at, size) → CRL.
    parsed: Mutex<HashMap<(String, i64, usize), Arc<X509Crl>>>,
}

/// Parsed cached CRLs kept in memory.
const MAX_PARSED_CRLS: usize = 16;

impl Checker {
    /// A checker for the host and the CLI: reads and fills the cache, asks CAs when allowed.
    pub fn new(home: &Home, settings: Settings) -> Checker {
        Checker::build(home, settings, true)
    }

    /// A checker that never goes online and never writes (the PKCS#11 module inside Thunderbird).
    pub fn cache_only(home: &Home, settings: Settings) -> Checker {
        Checker::build(home, settings, false)
    }

    fn build(home: &Home, settings: Settings, online: bool) -> Checker {
        Checker {
            home: home.clone(),
            settings,
            online,
            request_timeout: REQUEST_TIMEOUT,
            budget: OPERATION_BUDGET,
            cache: Mutex::new(None),
            operation: Mutex::new(Operation::default()),
            parsed: Mutex::new(HashMap::new()),
        }
    }

    pub fn mode(&self) -> Mode {
        self.settings.mode
    }

    /// Starts an operation: a fresh network budget; with `recheck`, failures recorded earlier
    /// are ignored and the CAs asked again.
    pub fn begin(&self, recheck: bool) {
        *lock(&self.operation) = Operation { deadline: None, recheck, asked: HashSet::new() };
    }

    fn with_cache<T>(&self, f: impl FnOnce(&mut RevocationCache) -> crate::error::Result<T>) -> Option<T> {
        let mut slot = lock(&self.cache);
        if slot.is_none() {
            let opened = if self.online { RevocationCache::open(&self.home) } else { RevocationCache::open_reader(&self.home) };
            match opened {
                Ok(c) => *slot = Some(c),
                Err(e) => {
                    if self.online {
                        log::warn!("revocation cache unavailable: {}", crate::error::Chain(&e));
                    }
                    return None;
                }
            }
        }
        let cache = slot.as_mut()?;
        match f(cache) {
            Ok(v) => Some(v),
            Err(e) => {
                log::warn!("revocation cache: {}", crate::error::Chain(&e));
                None
            }
        }
    }

    /// The cached CRLs of the issuers of `chain`'s checked certificates, current at `now`.
    pub(crate) fn cached_crls(&self, chain: &[X509], now: i64) -> Vec<CachedCrl> {
        let mut issuers: Vec<String> = Vec::new();
        for depth in 0..checked_depths(chain) {
            if let Some(issuer) = issuer_at(chain, depth) {
                let id = issuer_id(issuer);
                if !issuers.contains(&id) {
                    issuers.push(id);
                }
            }
        }
        let mut out = Vec::new();
        for id in issuers {
            let rows = self.with_cache(|c| c.crls(&id, now)).unwrap_or_default();
            for row in rows {
                let key = (id.clone(), row.fetched_at, row.der.len());
                let mut parsed = lock(&self.parsed);
                let crl = match parsed.get(&key) {
                    Some(crl) => crl.clone(),
                    None => {
                        let Ok(crl) = X509Crl::from_der(&row.der) else {
                            let _ = openssl::error::ErrorStack::get();
                            continue;
                        };
                        if parsed.len() >= MAX_PARSED_CRLS {
                            parsed.clear();
                        }
                        let crl = Arc::new(crl);
                        parsed.insert(key, crl.clone());
                        crl
                    }
                };
                out.push(CachedCrl { crl, url: row.url, fetched_at: row.fetched_at });
            }
        }
        out
    }

    /// The budget's end for this operation, starting it at the first request.
    fn deadline(&self) -> Instant {
        let mut op = lock(&self.operation);
        *op.deadline.get_or_insert_with(|| Instant::now() + self.budget)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Judges each checked certificate of a chain (see the module doc). `findings`: what the CRLs at
/// hand say, per checked depth. `rerun`: the same CRL judgement with CRLs fetched now taking part.
pub(crate) fn assess(
    checker: Option<&Checker>,
    view: &ChainView<'_>,
    findings: Vec<Option<CrlFinding>>,
    rerun: &mut dyn FnMut(&[FetchedCrl]) -> Vec<Option<CrlFinding>>,
) -> Vec<CertStatus> {
    let now = crate::time::now();
    let chain = view.chain;
    let n = findings.len().min(checked_depths(chain));
    let mut statuses: Vec<Option<CertStatus>> = vec![None; n];
    // Why each undecided certificate stays unknown, if nothing else answers.
    let mut why: Vec<&'static str> = vec!["not_checked"; n];
    let mut online_jobs = Vec::new();
    let recheck = checker.is_some_and(|c| lock(&c.operation).recheck);
    for depth in 0..n {
        let cert = &chain[depth];
        let issuer = issuer_at(chain, depth);
        let mut evidence: Vec<CertStatus> = Vec::new();
        if let Some(f) = &findings[depth] {
            evidence.push(f.status(depth));
        }
        let key = issuer.map(|i| (issuer_id(i), serial_of(cert)));
        let mut cached_failure: Option<CertStatus> = None;
        if let (Some(checker), Some((issuer_key, serial))) = (checker, &key) {
            let asked_now = lock(&checker.operation).asked.contains(&(issuer_key.clone(), serial.clone()));
            if let Some(row) = checker.with_cache(|c| c.status(issuer_key, serial, now)).flatten() {
                let status = from_row(depth, &row);
                if status.status == Status::Unknown {
                    if !recheck || asked_now {
                        cached_failure = Some(status);
                    }
                } else {
                    evidence.push(status);
                }
            }
        }
        if let (Some(issuer), Some(store)) = (issuer, view.store) {
            for der in view.message_ocsp {
                if let Ok(answer) = ocsp::check(der, cert, issuer, view.pool, store, None, now) {
                    if answer.status != ocsp::AnswerStatus::Unknown {
                        evidence.push(from_answer(depth, &answer, Source::Message, None, None));
                    }
                }
            }
        }
        let decided = evidence
            .iter()
            .find(|s| s.status == Status::Revoked)
            .or_else(|| evidence.iter().find(|s| s.status == Status::Good))
            .cloned();
        if let Some(d) = decided {
            statuses[depth] = Some(d);
            continue;
        }
        if let Some(stale) = evidence.into_iter().find(|s| s.reason.is_some()) {
            why[depth] = stale.reason.unwrap_or("not_checked");
            statuses[depth] = Some(stale);
        }
        if let Some(failure) = cached_failure {
            why[depth] = failure.reason.unwrap_or("not_checked");
            statuses[depth] = Some(failure);
            continue;
        }
        let Some(checker) = checker else { continue };
        why[depth] = match () {
            _ if checker.settings.mode == Mode::Off => "off",
            _ if !checker.online => "not_checked",
            _ if !view.trusted => "untrusted_chain",
            _ => "no_source",
        };
        let Some(issuer) = issuer else { continue };
        if checker.settings.mode == Mode::Off || !checker.online || !view.trusted || view.store.is_none() {
            continue;
        }
        let ocsp_urls = urls(cert.ocsp_responders().ok().map(|s| s.iter().map(|u| u.to_string()).collect()).unwrap_or_default());
        let crl_urls = urls(distribution_points(cert));
        if ocsp_urls.is_empty() && crl_urls.is_empty() {
            continue;
        }
        online_jobs.push(Job { depth, cert: cert.clone(), issuer: issuer.clone(), ocsp_urls, crl_urls });
    }

    if let (Some(checker), false) = (checker, online_jobs.is_empty()) {
        let results = checker.run_online(online_jobs, view, now);
        let mut fetched = Vec::new();
        let mut failed = Vec::new();
        for (depth, result) in results {
            match result {
                Outcome::Answer(status) => statuses[depth] = Some(status),
                Outcome::Crl(crl) => fetched.push(crl),
                Outcome::Failed(reason) => {
                    why[depth] = reason;
                    failed.push(depth);
                    statuses[depth] = Some(CertStatus::unknown(depth, reason));
                }
            }
        }
        if !fetched.is_empty() {
            let depths: Vec<(usize, String)> = fetched.iter().map(|f| (f.depth, f.url.clone())).collect();
            let again = rerun(&fetched);
            for (depth, url) in depths {
                let status = match again.get(depth).cloned().flatten() {
                    Some(f) => f.status(depth),
                    // The CA's own CRL does not cover the certificate.
                    None => CertStatus { url: Some(url), method: Some(Method::Crl), ..CertStatus::unknown(depth, "invalid_response") },
                };
                if status.status == Status::Unknown {
                    failed.push(depth);
                    why[depth] = status.reason.unwrap_or("invalid_response");
                }
                statuses[depth] = Some(status);
            }
        }
        for depth in failed {
            checker.record_failure(&chain[depth], issuer_at(chain, depth), why[depth], now);
        }
    }

    statuses
        .into_iter()
        .enumerate()
        .map(|(depth, s)| s.unwrap_or_else(|| CertStatus::unknown(depth, why[depth])))
        .collect()
}

/// The HTTP addresses among `urls`, at most [`MAX_URLS`].
fn urls(list: Vec<String>) -> Vec<String> {
    list.into_iter().filter(|u| http::usable_url(u).is_some()).take(MAX_URLS).collect()
}

/// The URIs of a certificate's CRL distribution points.
fn distribution_points(cert: &X509Ref) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(points) = cert.crl_distribution_points() {
        for point in &points {
            let Some(names) = point.distpoint().and_then(|n| n.fullname()) else { continue };
            out.extend(names.iter().filter_map(|n| n.uri()).map(str::to_string));
        }
    }
    let _ = openssl::error::ErrorStack::get();
    out
}

struct Job {
    depth: usize,
    cert: X509,
    issuer: X509,
    ocsp_urls: Vec<String>,
    crl_urls: Vec<String>,
}

enum Outcome {
    Answer(CertStatus),
    Crl(FetchedCrl),
    Failed(&'static str),
}

enum Attempt {
    Ocsp(String),
    Crl(String),
}

/// What a request thread reports: whose request (index of its `Pending`), which, and the body.
type Reply = (usize, Attempt, Result<Vec<u8>, FetchError>);

/// One certificate's online check in progress.
struct Pending {
    job: Job,
    query: Option<ocsp::Query>,
    next_ocsp: usize,
    next_crl: usize,
    /// Why the OCSP and the CRL attempts failed, the first of each.
    ocsp_reason: Option<&'static str>,
    crl_reason: Option<&'static str>,
    in_flight: bool,
    done: Option<Outcome>,
}

impl Checker {
    /// Asks the CAs about the `jobs`' certificates, in parallel, within the operation's budget.
    fn run_online(&self, jobs: Vec<Job>, view: &ChainView<'_>, now: i64) -> Vec<(usize, Outcome)> {
        let deadline = self.deadline();
        let (tx, rx) = mpsc::channel::<Reply>();
        let mut pending: Vec<Pending> = Vec::new();
        {
            let mut op = lock(&self.operation);
            for job in &jobs {
                op.asked.insert((issuer_id(&job.issuer), serial_of(&job.cert)));
            }
        }
        for job in jobs {
            let query = if job.ocsp_urls.is_empty() { None } else { ocsp::Query::new(&job.cert, &job.issuer) };
            pending.push(Pending { job, query, next_ocsp: 0, next_crl: 0, ocsp_reason: None, crl_reason: None, in_flight: false, done: None });
        }
        for (i, p) in pending.iter_mut().enumerate() {
            self.start_next(i, p, &tx, deadline);
        }
        while pending.iter().any(|p| p.in_flight) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok((i, attempt, result)) = rx.recv_timeout(left) else { break };
            let p = &mut pending[i];
            p.in_flight = false;
            match attempt {
                Attempt::Ocsp(url) => self.take_ocsp(p, &url, result, view, now),
                Attempt::Crl(url) => self.take_crl(p, url, result, now),
            }
            if p.done.is_none() {
                self.start_next(i, p, &tx, deadline);
            }
        }
        pending
            .into_iter()
            .map(|p| {
                let outcome = p.done.unwrap_or_else(|| {
                    // Still waiting at the deadline: a timeout, whatever failed before.
                    let reason = if p.in_flight { "timeout" } else { p.ocsp_reason.or(p.crl_reason).unwrap_or("no_source") };
                    Outcome::Failed(reason)
                });
                (p.job.depth, outcome)
            })
            .collect()
    }

    /// Starts the next request for `p`: its OCSP responders first, then its distribution points.
    /// Leaves `done` set when there is nothing left to try.
    fn start_next(&self, i: usize, p: &mut Pending, tx: &mpsc::Sender<Reply>, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = left.min(self.request_timeout);
        let attempt = if p.query.is_some() && p.next_ocsp < p.job.ocsp_urls.len() {
            p.next_ocsp += 1;
            Attempt::Ocsp(p.job.ocsp_urls[p.next_ocsp - 1].clone())
        } else if p.next_crl < p.job.crl_urls.len() {
            p.next_crl += 1;
            Attempt::Crl(p.job.crl_urls[p.next_crl - 1].clone())
        } else {
            p.done = Some(Outcome::Failed(p.ocsp_reason.or(p.crl_reason).unwrap_or("no_source")));
            return;
        };
        if timeout < Duration::from_millis(50) {
            p.done = Some(Outcome::Failed("timeout"));
            return;
        }
        let tx = tx.clone();
        let proxy = self.settings.proxy.clone();
        let body = p.query.as_ref().map(|q| q.der.clone()).unwrap_or_default();
        let (url, is_ocsp) = match &attempt {
            Attempt::Ocsp(u) => (u.clone(), true),
            Attempt::Crl(u) => (u.clone(), false),
        };
        log::debug!("revocation: asking {url} ({})", if is_ocsp { "OCSP" } else { "CRL" });
        // Detached: a request still running at the deadline finishes (or times out) on its own;
        // its answer is no longer waited for.
        let spawned = std::thread::Builder::new().name("revocation".into()).spawn(move || {
            let result = if is_ocsp { http::post_ocsp(&url, &body, timeout, &proxy) } else { http::get_crl(&url, timeout, &proxy) };
            let _ = tx.send((i, attempt, result));
        });
        match spawned {
            Ok(_) => p.in_flight = true,
            Err(e) => {
                log::warn!("revocation: no thread for a request: {e}");
                p.done = Some(Outcome::Failed("offline"));
            }
        }
    }

    fn take_ocsp(&self, p: &mut Pending, url: &str, result: Result<Vec<u8>, FetchError>, view: &ChainView<'_>, now: i64) {
        let reason = match result {
            Err(e) => fetch_reason(e),
            Ok(body) => {
                let (Some(query), Some(store)) = (&p.query, view.store) else { return };
                match ocsp::check(&body, &p.job.cert, &p.job.issuer, view.pool, store, Some(query), now) {
                    Ok(answer) if answer.status != ocsp::AnswerStatus::Unknown => {
                        let status = from_answer(p.job.depth, &answer, Source::Online, Some(url), Some(now));
                        self.record_answer(&p.job, &answer, url, now);
                        p.done = Some(Outcome::Answer(status));
                        return;
                    }
                    Ok(_) => "unknown_to_responder",
                    Err(ocsp::Refused::ResponderError) => "responder_error",
                    Err(ocsp::Refused::Invalid) => "invalid_response",
                    Err(ocsp::Refused::Stale) => "stale_response",
                }
            }
        };
        log::info!("revocation: OCSP {url} gave no answer: {reason}");
        p.ocsp_reason.get_or_insert(reason);
    }

    fn take_crl(&self, p: &mut Pending, url: String, result: Result<Vec<u8>, FetchError>, now: i64) {
        let reason = match result {
            Err(e) => fetch_reason(e),
            Ok(body) => match issued_crl(&body, &p.job.cert, &p.job.issuer) {
                Some(crl) => {
                    self.record_crl(&p.job.issuer, &crl, &url, now);
                    p.done = Some(Outcome::Crl(FetchedCrl { crl, url, depth: p.job.depth }));
                    return;
                }
                None => "invalid_response",
            },
        };
        log::info!("revocation: CRL {url} gave no answer: {reason}");
        p.crl_reason.get_or_insert(reason);
    }

    fn record_answer(&self, job: &Job, answer: &ocsp::OcspAnswer, url: &str, now: i64) {
        if !self.online {
            return;
        }
        let (status, reason, revoked_at) = match &answer.status {
            ocsp::AnswerStatus::Good => ("good", None, None),
            ocsp::AnswerStatus::Revoked { at, reason } => ("revoked", reason.map(str::to_string), Some(*at)),
            ocsp::AnswerStatus::Unknown => return,
        };
        let until = answer.next_update.unwrap_or(answer.this_update + CACHE_WITHOUT_NEXT_UPDATE_SECS);
        let row = StatusRow {
            status: status.into(),
            method: Some("ocsp".into()),
            reason,
            revoked_at,
            this_update: Some(answer.this_update),
            next_update: answer.next_update,
            url: Some(url.to_string()),
            checked_at: now,
            expires_at: until.min(now + MAX_CACHE_SECS).max(now + 1),
        };
        let (issuer, serial) = (issuer_id(&job.issuer), serial_of(&job.cert));
        self.with_cache(|c| c.put_status(&issuer, &serial, &row, now));
    }

    fn record_failure(&self, cert: &X509Ref, issuer: Option<&X509>, reason: &'static str, now: i64) {
        let Some(issuer) = issuer.filter(|_| self.online) else { return };
        let row = StatusRow {
            status: "unknown".into(),
            method: None,
            reason: Some(reason.into()),
            revoked_at: None,
            this_update: None,
            next_update: None,
            url: None,
            checked_at: now,
            expires_at: now + FAILURE_RETRY_SECS,
        };
        let (issuer, serial) = (issuer_id(issuer), serial_of(cert));
        self.with_cache(|c| c.put_status(&issuer, &serial, &row, now));
    }

    fn record_crl(&self, issuer: &X509Ref, crl: &X509Crl, url: &str, now: i64) {
        let (Some(this_update), Some(next_update)) = (asn1_unix(crl.last_update()), crl.next_update().and_then(asn1_unix)) else { return };
        if next_update <= now || !self.online {
            return; // out of date: it takes part in this check, but is not kept
        }
        let Ok(der) = crl.to_der() else { return };
        let scope = super::trust::crl_extension_value(crl, openssl::nid::Nid::ISSUING_DISTRIBUTION_POINT).unwrap_or_default();
        let id = issuer_id(issuer);
        self.with_cache(|c| c.put_crl(&id, &scope, &der, url, this_update, next_update, now));
    }
}

fn fetch_reason(e: FetchError) -> &'static str {
    match e {
        FetchError::Offline => "offline",
        FetchError::Timeout => "timeout",
        FetchError::ResponderError => "responder_error",
    }
}

/// The CRL in `body` (DER or PEM) that `issuer` issued for `cert`'s scope: its issuer name is
/// the certificate's issuer, its signature verifies with the issuer's key, and it is no delta
/// CRL. Which of several counts is decided later, with all the others (`trust::choose_crls`).
fn issued_crl(body: &[u8], cert: &X509Ref, issuer: &X509Ref) -> Option<X509Crl> {
    let crls = super::trust::parse_crls(body).ok()?;
    let key = issuer.public_key().ok()?;
    let found = crls.into_iter().find(|crl| {
        names_equal(crl.issuer_name(), cert.issuer_name())
            && !super::trust::crl_has_extension(crl, openssl::nid::Nid::DELTA_CRL)
            && crl.verify(&key).unwrap_or(false)
    });
    let _ = openssl::error::ErrorStack::get();
    found
}

fn from_row(depth: usize, row: &StatusRow) -> CertStatus {
    let status = match row.status.as_str() {
        "good" => Status::Good,
        "revoked" => Status::Revoked,
        _ => Status::Unknown,
    };
    let reason = row.reason.as_deref();
    let mut s = CertStatus {
        method: row.method.as_deref().map(|_| Method::Ocsp),
        source: Some(Source::Cache),
        url: row.url.clone(),
        checked_at: Some(to_rfc3339(row.checked_at)),
        ..CertStatus::new(depth, status)
    }
    .times(row.this_update, row.next_update);
    match status {
        Status::Revoked => s = s.revoked(row.revoked_at, reason.and_then(static_reason)),
        Status::Unknown => s.reason = Some(reason.and_then(|r| UNKNOWN_REASONS.iter().find(|k| **k == r).copied()).unwrap_or("not_checked")),
        Status::Good => {}
    }
    s
}

/// The static name of a CRLReason read back from the cache.
fn static_reason(name: &str) -> Option<&'static str> {
    (0..=10).filter_map(ocsp::reason_name).find(|n| *n == name)
}

fn from_answer(depth: usize, answer: &ocsp::OcspAnswer, source: Source, url: Option<&str>, checked_at: Option<i64>) -> CertStatus {
    let status = match answer.status {
        ocsp::AnswerStatus::Good => Status::Good,
        ocsp::AnswerStatus::Revoked { .. } => Status::Revoked,
        ocsp::AnswerStatus::Unknown => Status::Unknown,
    };
    let s = CertStatus {
        method: Some(Method::Ocsp),
        source: Some(source),
        url: url.map(str::to_string),
        checked_at: checked_at.map(to_rfc3339),
        ..CertStatus::new(depth, status)
    }
    .times(Some(answer.this_update), answer.next_update);
    match answer.status {
        ocsp::AnswerStatus::Revoked { at, reason } => s.revoked(Some(at), reason),
        _ => s,
    }
}

/// An issuer's identity for the cache: SHA-256 over its subject and public key (what an OCSP
/// CertID names), in hex. Both are read from the certificate's DER: OpenSSL's key encoder would
/// cost more than the whole chain verification.
pub(crate) fn issuer_id(issuer: &X509Ref) -> String {
    let mut h = openssl::sha::Sha256::new();
    let der = issuer.to_der().unwrap_or_default();
    match subject_and_key(&der) {
        Some((subject, key)) => {
            h.update(&(subject.len() as u64).to_be_bytes());
            h.update(subject);
            h.update(key);
        }
        None => h.update(&der),
    }
    let _ = openssl::error::ErrorStack::get();
    crate::hex::encode(&h.finish())
}

/// The subject and subjectPublicKeyInfo elements (DER) of a certificate's DER.
fn subject_and_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    use crate::asn1::{tag, Reader};
    let cert = Reader::new(der).expect(tag::SEQUENCE).ok()?;
    let tbs = cert.children().ok()?.expect(tag::SEQUENCE).ok()?;
    let mut r = tbs.children().ok()?;
    r.read_optional_context(0).ok()?; // version
    for _ in 0..3 {
        r.read().ok()?; // serialNumber, signature, issuer
    }
    r.read().ok()?; // validity
    let subject = r.expect(tag::SEQUENCE).ok()?;
    let key = r.expect(tag::SEQUENCE).ok()?;
    Some((subject.raw, key.raw))
}

/// A certificate's serial number in hex, as the cache keys it.
fn serial_of(cert: &X509Ref) -> String {
    let hex = cert.serial_number().to_bn().and_then(|bn| bn.to_hex_str().map(|s| s.to_string())).unwrap_or_default();
    let _ = openssl::error::ErrorStack::get();
    hex
}

fn names_equal(a: &openssl::x509::X509NameRef, b: &openssl::x509::X509NameRef) -> bool {
    a.try_cmp(b).is_ok_and(|o| o == std::cmp::Ordering::Equal)
}

/// An ASN.1 time as Unix seconds.
pub(crate) fn asn1_unix(t: &openssl::asn1::Asn1TimeRef) -> Option<i64> {
    let d = openssl::asn1::Asn1Time::from_unix(0).and_then(|epoch| epoch.diff(t)).ok()?;
    Some(d.days as i64 * 86400 + d.secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_are_told_apart_by_name_and_key() {
        let make = |name: &str, key: &openssl::pkey::PKey<openssl::pkey::Private>, days: u32| {
            let mut n = openssl::x509::X509NameBuilder::new().unwrap();
            n.append_entry_by_nid(openssl::nid::Nid::COMMONNAME, name).unwrap();
            let n = n.build();
            let mut b = X509::builder().unwrap();
            b.set_subject_name(&n).unwrap();
            b.set_issuer_name(&n).unwrap();
            b.set_pubkey(key).unwrap();
            b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap()).unwrap();
            b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(days).unwrap()).unwrap();
            b.sign(key, openssl::hash::MessageDigest::sha256()).unwrap();
            b.build()
        };
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let key = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
        let other = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
        let ca = make("CA", &key, 10);
        let der = ca.to_der().unwrap();
        let (subject, spki) = subject_and_key(&der).unwrap();
        assert_eq!(subject, ca.subject_name().to_der().unwrap());
        assert_eq!(spki, ca.public_key().unwrap().public_key_to_der().unwrap());
        assert_eq!(issuer_id(&ca), issuer_id(&make("CA", &key, 20)), "a renewed CA certificate with the same name and key");
        assert_ne!(issuer_id(&ca), issuer_id(&make("CA", &other, 10)), "a look-alike with another key");
        assert_ne!(issuer_id(&ca), issuer_id(&make("CB", &key, 10)));
    }

    #[test]
    fn modes_parse_and_default_to_on() {
        assert_eq!(Mode::parse("off"), Some(Mode::Off));
        assert_eq!(Mode::parse("required"), Some(Mode::Required));
        assert_eq!(Mode::parse("ON"), None);
        assert_eq!(Mode::default(), Mode::On);
    }

    #[test]
    fn every_unknown_reason_is_listed_and_only_passing_troubles_are_retryable() {
        for r in ["offline", "timeout", "responder_error", "stale_response", "not_checked"] {
            assert!(UNKNOWN_REASONS.contains(&r) && is_retryable(r), "{r}");
        }
        for r in ["off", "no_source", "untrusted_chain", "invalid_response", "unknown_to_responder"] {
            assert!(UNKNOWN_REASONS.contains(&r) && !is_retryable(r), "{r}");
        }
    }

    #[test]
    fn a_revoked_certificate_anywhere_makes_the_report_revoked_else_the_signers_own_status_counts() {
        let status = |depth: u32, status, reason| CertStatus {
            depth,
            subject: String::new(),
            status,
            method: None,
            source: None,
            url: None,
            checked_at: None,
            this_update: None,
            next_update: None,
            revoked_at: None,
            revocation_reason: None,
            reason,
            revoked_at_unix: None,
        };
        let r = RevocationReport::from_statuses(vec![status(0, Status::Good, None), status(1, Status::Revoked, None)], false);
        assert_eq!((r.status, r.reason, r.retry), (Status::Revoked, None, false));
        assert_eq!(r.first_revoked().unwrap().depth, 1);
        let r = RevocationReport::from_statuses(vec![status(0, Status::Good, None), status(1, Status::Unknown, Some("timeout"))], true);
        assert_eq!(r.status, Status::Good, "an unknown CA status is shown, it does not make the signer's unknown");
        assert!(!r.unknown_but_required());
        let r = RevocationReport::from_statuses(vec![status(0, Status::Unknown, Some("timeout"))], true);
        assert_eq!((r.status, r.reason, r.retry), (Status::Unknown, Some("timeout"), true));
        assert!(r.unknown_but_required());
        let r = RevocationReport::from_statuses(Vec::new(), false);
        assert_eq!((r.status, r.reason), (Status::Unknown, Some("not_checked")));
    }
}
