//! Looking certificates up in LDAP directories (docs/DIRECTORY.md): a company's directory
//! (OpenLDAP, Active Directory's `userSMIMECertificate` / `userCertificate`) or a CA's public one.
//!
//! A lookup asks every configured directory at once, each in its own thread over one
//! connection, all the addresses in a few searches (`BATCH` addresses `or`-ed into one filter).
//! What comes back is bounded (entries, values, bytes, certificates) and then treated like a
//! certificate from a signed mail: a certificate is kept only for the looked-up addresses it
//! names itself (compared as the contact cache compares, `contacts::cert_addresses`; a
//! certificate for anyone else is discarded), judged by the same encryption check
//! (`select::TrustJudge::verdict`: usage, chain for S/MIME, revocation, algorithms) and stored
//! through the cache's harvest path with source `directory`. Each directory ends in a stable
//! state (`ok` or a `directory_*` code); a directory that is down or slow costs at most its
//! timeout and never holds up the others.

pub mod ber;
pub mod client;
pub mod filter;
pub mod manage;
pub mod secrets;
pub mod settings;

use crate::certs::summary::Cert;
use crate::certs::trust::{parse_certificates, read_certificates};
use crate::contacts::select::TrustJudge;
use crate::contacts::service::{self, RecipientCheckOrInvalid};
use crate::certs::policy::Refusal;
use crate::contacts::{cert_addresses, key_fingerprint, parse_address, HarvestItem, Source};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::identities::seal::Passphrase;
use client::{DirError, SearchLimits, Session, TlsTrust};
use serde::Serialize;
use serde_json::Value;
use settings::{Bind, DirectorySettings, Origin, Scheme};
use std::collections::HashMap;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// The most addresses one lookup takes.
pub const MAX_LOOKUP_ADDRESSES: usize = 100;
/// Addresses per search (one `or` filter).
pub const BATCH: usize = 25;
/// The most entries one search accepts, whatever the size limit.
pub const MAX_ENTRIES_PER_SEARCH: usize = 250;
/// Values of one entry, and bytes of one value, that are read.
pub const MAX_VALUES_PER_ENTRY: usize = 16;
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Certificates taken from one value (a PKCS#7 bundle).
pub const MAX_CERTS_PER_VALUE: usize = 16;
/// Certificates kept for one address from one lookup.
pub const MAX_CERTS_PER_ADDRESS: usize = 16;
/// The compose check waits at most this long for directories, whatever their timeouts: the
/// add-on's check on Send waits 5 s for the host's whole answer.
pub const COMPOSE_BUDGET: Duration = Duration::from_secs(4);
/// After a directory's deadline, how long its thread still gets to report before it counts as
/// timed out (name resolution has no timeout of its own).
const GRACE: Duration = Duration::from_millis(250);
/// The compose check does not ask a directory again about an address it answered within this
/// time, nor a directory that failed within `RECENT_FAILURE`.
pub const RECENT_ANSWER: Duration = Duration::from_secs(5 * 60);
pub const RECENT_FAILURE: Duration = Duration::from_secs(60);

/// Who asked: the compose check (bounded by `COMPOSE_BUDGET`, recent answers reused) or a
/// person (`contacts lookup`, the contacts page: every directory asked again, full timeouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Compose,
    Explicit,
}

/// How one directory answered.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryStatus {
    pub id: String,
    pub origin: Origin,
    pub url: String,
    /// `ok`, or one of the `directory_*` codes (docs/DIRECTORY.md).
    pub state: &'static str,
    /// What went wrong, for IT (never a password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Entries returned.
    pub entries: usize,
    /// Certificates (each counted once) that name a looked-up address.
    pub certificates: usize,
    /// Certificates (each counted once) that name none of the looked-up addresses: discarded.
    pub other_address: usize,
    /// Values that are no certificate, or exceeded the bounds: skipped.
    pub unreadable: usize,
    /// The answer was cut short (size or time limit, or our bounds).
    pub truncated: bool,
    /// Not asked again: the compose check reused a recent answer or failure.
    pub recent: bool,
    pub millis: u64,
}

/// What the lookup found for one address.
#[derive(Debug, Clone, Serialize)]
pub struct AddressFound {
    pub address: String,
    /// Certificates the directories hold for it (after the address check).
    pub found: usize,
    /// Of those, the ones the contact cache did not have yet (and now has).
    pub new: usize,
    /// Of those, the ones left out as superseded: older than a usable one from the same answer,
    /// with another key.
    pub superseded: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupReport {
    pub directories: Vec<DirectoryStatus>,
    pub addresses: Vec<AddressFound>,
}

/// Every directory in effect: the system's, then the add-on's managed ones (given with the
/// request), then the user's. Problems with managed entries are returned, not fatal.
pub fn configured(ctx: &Context, managed: Option<&Value>) -> (Vec<DirectorySettings>, Vec<String>) {
    let mut all: Vec<DirectorySettings> = ctx.config.directories.iter().filter(|d| d.origin == Origin::System).cloned().collect();
    let mut problems = Vec::new();
    if let Some(value) = managed {
        let (good, bad) = settings::read_list(value, Origin::Managed);
        problems.extend(bad.into_iter().map(|p| format!("managed settings: {p}")));
        all.extend(good.into_iter().map(|(_, s)| s));
    }
    all.extend(ctx.config.directories.iter().filter(|d| d.origin == Origin::User).cloned());
    if all.len() > settings::MAX_DIRECTORIES {
        problems.push(format!("more than {} directories: only the first are asked", settings::MAX_DIRECTORIES));
        all.truncate(settings::MAX_DIRECTORIES);
    }
    (all, problems)
}

/// What one directory's thread brings back.
struct Answer {
    values: Vec<Vec<u8>>,
    entries: usize,
    dropped_values: usize,
    truncated: bool,
    error: Option<DirError>,
}

/// What a directory's thread needs, prepared on the caller's thread.
struct Job {
    settings: DirectorySettings,
    addresses: Vec<String>,
    trust: TlsTrust,
    password: Option<Passphrase>,
    deadline: Instant,
}

/// Recent answers and failures per directory (`Mode::Compose` reuses them).
struct Recent {
    failed: Option<(Instant, DirError)>,
    answered: HashMap<String, Instant>,
}

static RECENT: Mutex<Option<HashMap<String, Recent>>> = Mutex::new(None);

fn with_recent<T>(f: impl FnOnce(&mut HashMap<String, Recent>) -> T) -> T {
    let mut guard = RECENT.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

/// Looks `addresses` up in `directories`, stores what is found in the contact cache (source
/// `directory`) and says what each directory and address came to.
pub fn lookup(ctx: &mut Context, addresses: &[String], directories: &[DirectorySettings], mode: Mode) -> Result<LookupReport> {
    let mut wanted: Vec<String> = Vec::new();
    for raw in addresses {
        let address = parse_address(raw)?;
        if !wanted.contains(&address) {
            wanted.push(address);
        }
    }
    if wanted.len() > MAX_LOOKUP_ADDRESSES {
        return Err(Error::InvalidParams { op: "contacts_lookup".into(), reason: format!("at most {MAX_LOOKUP_ADDRESSES} addresses at once") });
    }
    let started = Instant::now();
    let anchors = ctx.trust();
    let companion_cas: Vec<openssl::x509::X509> = anchors.anchors.iter().map(|a| a.cert.x509.clone()).collect();

    // Prepare every directory (password, CA file, recent answers) before any thread starts.
    let mut statuses: Vec<DirectoryStatus> = Vec::new();
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    for d in directories {
        let mut status = DirectoryStatus {
            id: d.id.clone(),
            origin: d.origin,
            url: d.url(),
            state: "ok",
            message: None,
            entries: 0,
            certificates: 0,
            other_address: 0,
            unreadable: 0,
            truncated: false,
            recent: false,
            millis: 0,
        };
        let mut ask: Vec<String> = wanted.clone();
        if mode == Mode::Compose {
            let known = with_recent(|recent| {
                let r = recent.get(&d.key())?;
                if let Some((_, e)) = r.failed.as_ref().filter(|(at, _)| at.elapsed() < RECENT_FAILURE) {
                    return Some(Err(e.clone()));
                }
                Some(Ok(wanted.iter().filter(|a| !r.answered.get(*a).is_some_and(|t| t.elapsed() < RECENT_ANSWER)).cloned().collect::<Vec<_>>()))
            });
            match known {
                Some(Err(e)) => {
                    fail(&mut status, &e);
                    status.recent = true;
                    statuses.push(status);
                    continue;
                }
                Some(Ok(rest)) => ask = rest,
                None => {}
            }
        }
        if ask.is_empty() {
            status.recent = true;
            statuses.push(status);
            continue;
        }
        let prepared = prepare(ctx, d, &companion_cas);
        match prepared {
            Ok((trust, password)) => {
                let budget = if mode == Mode::Compose { d.timeout.min(COMPOSE_BUDGET) } else { d.timeout };
                jobs.push((statuses.len(), Job { settings: d.clone(), addresses: ask, trust, password, deadline: started + budget }));
            }
            Err(e) => fail(&mut status, &e),
        }
        statuses.push(status);
    }

    // Ask them all at once; wait for each until its deadline (and a little grace).
    let (tx, rx) = mpsc::channel::<(usize, Answer, u64)>();
    let mut pending: HashMap<usize, (Instant, String, Vec<String>)> = HashMap::new();
    for (index, job) in jobs {
        let tx = tx.clone();
        pending.insert(index, (job.deadline, job.settings.key(), job.addresses.clone()));
        let spawned = std::thread::Builder::new().name(format!("directory-{}", job.settings.id)).spawn(move || {
            let t0 = Instant::now();
            let answer = ask_directory(&job);
            let _ = tx.send((index, answer, t0.elapsed().as_millis() as u64));
        });
        if let Err(e) = spawned {
            pending.remove(&index);
            fail(&mut statuses[index], &DirError::Unreachable(format!("no thread: {e}")));
        }
    }
    drop(tx);
    let mut answers: Vec<(usize, Answer)> = Vec::new();
    while !pending.is_empty() {
        let last = pending.values().map(|(deadline, _, _)| *deadline).max().unwrap_or_else(Instant::now) + GRACE;
        let Some(wait) = last.checked_duration_since(Instant::now()) else { break };
        match rx.recv_timeout(wait) {
            Ok((index, answer, millis)) => {
                if let Some((_, key, asked)) = pending.remove(&index) {
                    remember(&key, &asked, answer.error.as_ref());
                }
                statuses[index].millis = millis;
                answers.push((index, answer));
            }
            Err(_) => break,
        }
    }
    for (index, (_, key, asked)) in pending {
        remember(&key, &asked, Some(&DirError::Timeout));
        fail(&mut statuses[index], &DirError::Timeout);
        statuses[index].millis = started.elapsed().as_millis() as u64;
    }

    // Certificates per looked-up address, each once; the CA certificates that came with each.
    let mut found: Vec<Vec<(Cert, Vec<Cert>)>> = vec![Vec::new(); wanted.len()];
    for (index, answer) in answers {
        let status = &mut statuses[index];
        status.entries = answer.entries;
        status.truncated = answer.truncated;
        status.unreadable = answer.dropped_values;
        if let Some(e) = &answer.error {
            fail(status, e);
        }
        let mut distinct: std::collections::HashSet<String> = std::collections::HashSet::new();
        for value in &answer.values {
            let Ok(mut certs) = parse_certificates(value) else {
                status.unreadable += 1;
                continue;
            };
            if certs.len() > MAX_CERTS_PER_VALUE {
                certs.truncate(MAX_CERTS_PER_VALUE);
                status.truncated = true;
            }
            let (cas, leaves): (Vec<Cert>, Vec<Cert>) = certs.into_iter().partition(|c| c.fields.is_ca);
            for leaf in leaves {
                let names = cert_addresses(&leaf);
                let fp = leaf.fingerprint_sha256();
                let mut matched = false;
                for (i, address) in wanted.iter().enumerate() {
                    if !names.contains(address) {
                        continue;
                    }
                    matched = true;
                    let list = &mut found[i];
                    if list.iter().any(|(c, _)| c.fingerprint_sha256() == fp) {
                        continue;
                    }
                    if list.len() >= MAX_CERTS_PER_ADDRESS {
                        status.truncated = true;
                        continue;
                    }
                    list.push((leaf.clone(), cas.clone()));
                }
                if !distinct.insert(fp) {
                    continue;
                }
                if matched {
                    status.certificates += 1;
                } else {
                    status.other_address += 1;
                }
            }
        }
        log::info!(
            "directory {} ({}): {} in {} ms, {} entries, {} certificates, {} for other addresses, {} unreadable{}",
            status.id,
            status.url,
            status.state,
            status.millis,
            status.entries,
            status.certificates,
            status.other_address,
            status.unreadable,
            if status.truncated { ", truncated" } else { "" }
        );
    }

    // Judge each certificate as a signer's would be, and store them all in one transaction.
    let judge = TrustJudge { anchors: &anchors, intermediates: ctx.known_intermediates()?, now: crate::time::now() };
    let mut items: Vec<HarvestItem> = Vec::new();
    let mut report: Vec<AddressFound> = Vec::new();
    for (address, certs) in wanted.iter().zip(found.iter_mut()) {
        // Newest first: the certificate encryption would choose is the first one the cache
        // admits.
        certs.sort_by_key(|(c, _)| std::cmp::Reverse(c.validity().0));
        let judged: Vec<(&Cert, &Vec<Cert>, std::result::Result<(), Refusal>)> = certs
            .iter()
            .map(|(cert, cas)| {
                let with_bundle = TrustJudge {
                    anchors: judge.anchors,
                    intermediates: judge.intermediates.iter().cloned().chain(cas.iter().map(|c| c.x509.clone())).collect(),
                    now: judge.now,
                };
                (cert, cas, with_bundle.verdict(cert))
            })
            .collect();
        // A directory keeps the certificates a person had before: one older than a usable
        // certificate in the same answer, with another key, is superseded. Kept, it would only
        // wait as a key change; it is left out. Without a usable one, everything is kept (so
        // the reason, expired or untrusted, is there to see).
        let usable = judged.iter().find(|(_, _, v)| v.is_ok()).map(|(c, _, _)| (c.validity().0, key_fingerprint(c)));
        let known: Vec<String> = ctx.contacts()?.certificates_for(address)?.iter().map(|c| c.cert.fingerprint_sha256()).collect();
        let (mut new, mut superseded) = (0, 0);
        for (cert, cas, verdict) in judged {
            if let Some((since, key)) = &usable {
                if cert.validity().0 < *since && key_fingerprint(cert) != *key {
                    superseded += 1;
                    continue;
                }
            }
            let fp = cert.fingerprint_sha256();
            if !known.contains(&fp) {
                new += 1;
            }
            if items.iter().any(|i| i.cert.fingerprint_sha256() == fp) {
                continue;
            }
            let bundle: Vec<openssl::x509::X509> = cas.iter().map(|c| c.x509.clone()).collect();
            items.push(HarvestItem {
                cert: cert.clone(),
                // The bundle's CA certificates: kept as intermediates only when they led to an
                // anchor (the cache's rule for a signer's chain).
                chain: cas.clone(),
                anchored: judge.verify(cert, &bundle).anchor.is_some(),
                trusted: verdict.is_ok(),
                revoked: matches!(verdict, Err(Refusal::Revoked { .. })),
                capabilities: Vec::new(),
                key_preference: None,
                signing_time: None,
                message_date: None,
                // A directory's entry names nobody: the contact keeps the name a signature gave.
                named: None,
            });
        }
        report.push(AddressFound { address: address.clone(), found: certs.len(), new, superseded });
    }
    if !items.is_empty() {
        ctx.contacts()?.harvest_all(&items, Source::Directory, &judge)?;
    }
    Ok(LookupReport { directories: statuses, addresses: report })
}

/// `recipients_check`: each address checked, after the lookup when one was asked for.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientsChecked {
    pub recipients: Vec<RecipientCheckOrInvalid>,
    /// What the directories said (None: no lookup was asked for, needed or possible).
    pub lookup: Option<LookupReport>,
}

/// `recipients_check`, looking up first (`lookup`) the recipients without a usable certificate.
pub fn check_recipients(ctx: &mut Context, addresses: &[String], lookup_missing: bool, managed: Option<&Value>) -> Result<RecipientsChecked> {
    let (recipients, lookup) = check_looking_up(ctx, addresses, lookup_missing, managed)?;
    Ok(RecipientsChecked { recipients, lookup })
}

fn check_looking_up(
    ctx: &mut Context,
    addresses: &[String],
    lookup_missing: bool,
    managed: Option<&Value>,
) -> Result<(Vec<RecipientCheckOrInvalid>, Option<LookupReport>)> {
    let checks = service::check(ctx, addresses)?;
    if !lookup_missing {
        return Ok((checks, None));
    }
    let (directories, problems) = configured(ctx, managed);
    for p in &problems {
        log::warn!("{p}");
    }
    let missing: Vec<String> = checks
        .iter()
        .filter_map(|c| match c {
            RecipientCheckOrInvalid::Checked(c) if !c.can_encrypt => Some(c.address.clone()),
            _ => None,
        })
        .take(MAX_LOOKUP_ADDRESSES)
        .collect();
    if directories.is_empty() || missing.is_empty() {
        return Ok((checks, None));
    }
    let report = lookup(ctx, &missing, &directories, Mode::Compose)?;
    if report.addresses.iter().any(|a| a.found > 0) {
        return Ok((service::check(ctx, addresses)?, Some(report)));
    }
    Ok((checks, Some(report)))
}

/// `contacts_lookup`: what every directory said, and then each address checked.
#[derive(Debug, Clone, Serialize)]
pub struct LookupChecked {
    pub directories: Vec<DirectoryStatus>,
    pub addresses: Vec<AddressFound>,
    pub recipients: Vec<RecipientCheckOrInvalid>,
    /// Entries of the configuration left out, and why.
    pub problems: Vec<String>,
}

/// `contacts_lookup` for the op and the CLI: every directory asked (as a person asks:
/// `Mode::Explicit`), then each address checked. No directory configured is `no_directory`.
pub fn lookup_and_check(ctx: &mut Context, addresses: &[String], managed: Option<&Value>) -> Result<LookupChecked> {
    let (directories, problems) = configured(ctx, managed);
    if directories.is_empty() {
        return Err(Error::NoDirectory { problems });
    }
    let report = lookup(ctx, addresses, &directories, Mode::Explicit)?;
    let recipients = service::check(ctx, addresses)?;
    Ok(LookupChecked { directories: report.directories, addresses: report.addresses, recipients, problems })
}

fn fail(status: &mut DirectoryStatus, e: &DirError) {
    status.state = e.code();
    status.message = Some(e.message());
}

fn remember(key: &str, asked: &[String], error: Option<&DirError>) {
    with_recent(|recent| {
        let r = recent.entry(key.to_string()).or_insert_with(|| Recent { failed: None, answered: HashMap::new() });
        match error {
            Some(e) => r.failed = Some((Instant::now(), e.clone())),
            None => {
                r.failed = None;
                let now = Instant::now();
                r.answered.retain(|_, t| t.elapsed() < RECENT_ANSWER);
                for a in asked {
                    r.answered.insert(a.clone(), now);
                }
            }
        }
    });
}

/// The TLS trust and the password of a directory.
fn prepare(ctx: &Context, d: &DirectorySettings, companion_cas: &[openssl::x509::X509]) -> std::result::Result<(TlsTrust, Option<Passphrase>), DirError> {
    let mut trust = TlsTrust { extra_cas: companion_cas.to_vec() };
    if let Some(path) = &d.ca_file {
        let certs = read_certificates(path).map_err(|e| DirError::TlsFailed(format!("ca_file {}: {e}", path.display())))?;
        trust.extra_cas.extend(certs.into_iter().map(|c| c.x509));
    }
    let password = match &d.bind {
        Bind::Anonymous => None,
        Bind::Simple { password_file: Some(path), .. } => Some(secrets::from_file(path).map_err(|e| {
            log::warn!("directory {}: bind_password_file: {}", d.id, crate::error::Chain(&e));
            DirError::PasswordMissing
        })?),
        Bind::Simple { password_file: None, .. } => match secrets::stored(&ctx.home, &d.id) {
            Ok(Some(p)) => Some(p),
            Ok(None) => return Err(DirError::PasswordMissing),
            Err(e) => {
                log::warn!("directory {}: stored password: {}", d.id, crate::error::Chain(&e));
                return Err(DirError::PasswordMissing);
            }
        },
    };
    if password.as_ref().is_some_and(|p| p.is_empty()) {
        return Err(DirError::PasswordMissing);
    }
    Ok((trust, password))
}

/// One directory's part of a lookup, on its own thread: connect, bind, search in batches.
fn ask_directory(job: &Job) -> Answer {
    let mut answer = Answer { values: Vec::new(), entries: 0, dropped_values: 0, truncated: false, error: None };
    let d = &job.settings;
    let run = |answer: &mut Answer| -> std::result::Result<(), DirError> {
        let mut session = Session::connect(&d.host, d.port, d.scheme == Scheme::Ldaps, d.starttls, &job.trust, job.deadline)?;
        if let (Bind::Simple { dn, .. }, Some(password)) = (&d.bind, &job.password) {
            session.simple_bind(dn, password.as_str())?;
        }
        for batch in job.addresses.chunks(BATCH) {
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            let filter = d.filter.encode_any(&refs);
            let limits = SearchLimits {
                max_entries: (d.size_limit as usize * batch.len()).min(MAX_ENTRIES_PER_SEARCH),
                max_values_per_entry: MAX_VALUES_PER_ENTRY,
                max_value_bytes: MAX_VALUE_BYTES,
            };
            let end = session.search(&d.base_dn, &filter, &d.attributes, limits, &mut |entry| {
                answer.dropped_values += entry.dropped_values;
                answer.values.extend(entry.values);
            })?;
            answer.entries += end.entries;
            answer.truncated |= end.truncated;
            if end.spoiled {
                return Ok(());
            }
        }
        session.unbind();
        Ok(())
    };
    // A panic here must not take the host down; it becomes a bad answer.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut answer)));
    answer.error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some(DirError::BadResponse("internal error while reading the answer".into())),
    };
    answer
}
