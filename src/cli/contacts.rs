//! `contacts list|show|confirm|refuse|delete|delete-cert|import|export|check|lookup|stats`: the
//! contact cache, with the same semantics as the native ops; `--json` prints what the op returns.

use super::{Action, Args, CliError, Globals, UsageError, EXIT_OK, EXIT_PROBLEM};
use crate::contacts::service::{self, RecipientCheckOrInvalid, RecipientChecks};
use crate::contacts::{Decision, ExportFormat, ListQuery, DEFAULT_PAGE, EXPIRING_SOON_DAYS};
use crate::error::Error;
use crate::untrusted::shown;

pub static ACTIONS: &[Action] = &[
    Action {
        name: "list",
        args: "",
        options: "[--search S] [--limit N] [--offset N] [--sort address|last_seen|expiry]",
        help: "contacts whose address or name contains S, N to a page (default 50, at most 500)",
        run: list,
    },
    Action { name: "show", args: "ADDRESS", options: "", help: "certificates, the one encryption uses (or why none), history", run: show },
    Action { name: "confirm", args: "ADDRESS FP", options: "[--note TEXT]", help: "use this certificate (a pending new key) for the contact", run: confirm },
    Action { name: "refuse", args: "ADDRESS FP", options: "[--note TEXT]", help: "never encrypt to this certificate for the contact", run: refuse },
    Action { name: "delete", args: "ADDRESS", options: "", help: "delete the contact and its certificates", run: delete },
    Action { name: "delete-cert", args: "FP", options: "", help: "delete one certificate by SHA-256 fingerprint (or prefix)", run: delete_cert },
    Action { name: "import", args: "FILE", options: "", help: "PEM, DER, .cer/.crt or .p7c/.p7b", run: import },
    Action {
        name: "export",
        args: "ADDRESS",
        options: "[--format pem|der|p7c] [--out FILE]",
        help: "the contact's certificates, to FILE (PEM also to stdout)",
        run: export,
    },
    Action { name: "check", args: "ADDRESS...", options: "", help: "can each address receive encrypted mail? (exit 1 if not all)", run: check },
    Action {
        name: "lookup",
        args: "ADDRESS...",
        options: "",
        help: "look the addresses up in the LDAP directories, store what is found, then check them (exit 1 if not all can; docs/DIRECTORY.md)",
        run: super::directories::lookup,
    },
    Action { name: "stats", args: "", options: "", help: "counts and database size", run: stats },
];

pub const NOTES: &str = "";

fn list(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let search = args.value("--search")?;
    let limit = number(args.value("--limit")?, DEFAULT_PAGE)?;
    let offset = number(args.value("--offset")?, 0)?;
    let query = ListQuery::new(search, offset, limit, args.value("--sort")?.as_deref())
        .map_err(|reason| Error::InvalidParams { op: "contacts list".into(), reason })?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let page = ctx.contacts()?.list(&query)?;
    if json {
        return super::print_json(&page).map(|_| EXIT_OK);
    }
    for c in &page.items {
        let mut flags = c.warnings.clone();
        if c.pending > 0 {
            flags.insert(0, "certificate_pending".into());
        }
        let flags = if flags.is_empty() { String::new() } else { format!("  [{}]", flags.join(", ")) };
        say!(
            "{:<40} {:>2} cert(s)  until {}{}",
            shown(&c.address, 200),
            c.certificates,
            c.latest_expiry.as_deref().unwrap_or("-"),
            flags
        );
    }
    say!("{} of {} contact(s)", page.items.len(), page.total);
    Ok(EXIT_OK)
}

fn show(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let address = args.required("ADDRESS")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let details = service::show(&mut ctx, &address)?;
    if json {
        return super::print_json(&details).map(|_| EXIT_OK);
    }
    say!("{}{}", shown(&details.address, 200), details.name.as_deref().map(|n| format!(" ({})", shown(n, 200))).unwrap_or_default());
    for c in &details.certificates {
        let i = &c.info;
        say!(
            "  {}  {}  {} .. {}  {}  {}{}",
            i.summary.fingerprint_sha256,
            shown(&i.summary.subject, 120),
            i.summary.not_before,
            i.summary.not_after,
            i.source.as_str(),
            i.status.as_str(),
            match c.not_used_because {
                None => "  used for encryption".to_string(),
                Some(r) => format!("  not used: {}", r.code()),
            },
        );
    }
    match (&details.encryption.certificate, details.encryption.reason) {
        (Some(c), _) => say!("  encryption uses {}", c.summary.fingerprint_sha256),
        (None, Some(r)) => say!("  cannot encrypt: {}", service::reason_code(r)),
        _ => {}
    }
    for h in &details.history {
        say!("  {}  {}  {}", h.at, h.event, h.fingerprint.as_deref().unwrap_or(""));
    }
    Ok(EXIT_OK)
}

fn confirm(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    decide(globals, args, json, Decision::Confirm)
}

fn refuse(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    decide(globals, args, json, Decision::Refuse)
}

fn decide(globals: &Globals, mut args: Args, json: bool, decision: Decision) -> Result<u8, CliError> {
    let address = args.required("ADDRESS")?;
    let fingerprint = args.required("FINGERPRINT")?;
    let note = args.value("--note")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let outcome = service::decide(&mut ctx, &address, &fingerprint, decision, note.as_deref())?;
    if json {
        return super::print_json(&outcome).map(|_| EXIT_OK);
    }
    say!("{}: {} is {}", shown(&outcome.address, 200), outcome.fingerprint, outcome.status.as_str());
    Ok(EXIT_OK)
}

fn delete(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let address = args.required("ADDRESS")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let deleted = service::delete(&mut ctx, &address)?;
    if json {
        return super::print_reply_json(&deleted).map(|_| EXIT_OK);
    }
    say!("deleted {} and {} certificate(s)", shown(&deleted.address, 200), deleted.deleted_certificates.len());
    Ok(EXIT_OK)
}

fn delete_cert(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let fp = args.required("FINGERPRINT")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let deleted = service::delete_certificate(&mut ctx, &fp)?;
    if json {
        return super::print_reply_json(&deleted).map(|_| EXIT_OK);
    }
    say!("deleted certificate {}", deleted.deleted);
    Ok(EXIT_OK)
}

fn import(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let file = args.required("FILE")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
    let outcome = service::import_bytes(&mut ctx, &bytes, &file)?;
    if json {
        return super::print_json(&outcome).map(|_| EXIT_OK);
    }
    say!(
        "imported {} certificate(s), {} already known, {} intermediate(s); addresses: {}",
        outcome.imported,
        outcome.already_known,
        outcome.intermediates,
        shown(&outcome.addresses.join(", "), 2000)
    );
    if !outcome.without_address.is_empty() {
        say!("skipped {} certificate(s) without an e-mail address", outcome.without_address.len());
    }
    for c in &outcome.continuity {
        say!("{}: {} (before: {})", c.event, shown(&c.address, 200), c.previous_fingerprint);
    }
    Ok(EXIT_OK)
}

fn export(globals: &Globals, mut args: Args, _json: bool) -> Result<u8, CliError> {
    let address = args.required("ADDRESS")?;
    let format_name = args.value("--format")?.unwrap_or_else(|| "pem".into());
    let out = args.path("--out")?;
    args.finish()?;
    let format = ExportFormat::parse(&format_name).ok_or_else(|| UsageError(format!("--format {format_name:?}: use pem, der or p7c")))?;
    let mut ctx = globals.context()?;
    let export = service::export_contact(&mut ctx, &address, format, &format_name)?;
    match out {
        Some(path) => std::fs::write(&path, &export.data).map_err(|e| Error::io(&path, e))?,
        None if format == ExportFormat::Pem => print!("{}", String::from_utf8_lossy(&export.data)),
        None => return Err(UsageError("binary formats need --out FILE".into()).into()),
    }
    Ok(EXIT_OK)
}

fn check(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let addresses = args.rest();
    args.finish()?;
    if addresses.is_empty() {
        return Err(UsageError("give one or more addresses".into()).into());
    }
    let mut ctx = globals.context()?;
    let checks = RecipientChecks { recipients: service::check(&mut ctx, &addresses)? };
    let all_ok = checks.recipients.iter().all(|r| r.reason_code().is_none());
    if json {
        super::print_reply_json(&checks)?;
    } else {
        for r in &checks.recipients {
            match r {
                RecipientCheckOrInvalid::Checked(c) => match (&c.certificate, c.reason) {
                    (Some(cert), _) => say!("{}: can encrypt ({})", shown(&c.address, 200), cert.summary.fingerprint_sha256),
                    (None, Some(reason)) => say!("{}: {}", shown(&c.address, 200), service::reason_code(reason)),
                    _ => {}
                },
                RecipientCheckOrInvalid::Invalid { address, reason, .. } => say!("{}: {}", shown(address, 200), shown(reason, 200)),
            }
        }
    }
    // Scripts can tell "everyone can receive encrypted mail" from the status.
    Ok(if all_ok { EXIT_OK } else { EXIT_PROBLEM })
}

fn stats(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    args.finish()?;
    let mut ctx = globals.context()?;
    let stats = ctx.contacts()?.stats(crate::time::now())?;
    if json {
        return super::print_json(&stats).map(|_| EXIT_OK);
    }
    say!(
        "{} contact(s), {} certificate(s), {} intermediate(s), {} untrusted, {} expired, {} expiring within {EXPIRING_SOON_DAYS} days, {} bytes",
        stats.contacts, stats.certificates, stats.intermediates, stats.untrusted, stats.expired, stats.expiring_within_30_days, stats.database_bytes
    );
    Ok(EXIT_OK)
}

fn number(value: Option<String>, default: usize) -> Result<usize, UsageError> {
    match value {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| UsageError(format!("{v:?} is not a number"))),
    }
}
