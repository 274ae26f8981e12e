//! `identities …`, `sign` and `encrypt`: the user's own certificates and keys on the command
//! line. Secrets come from files (`--password-file`, `--passphrase-file`; `-` for stdin) or a
//! prompt on the terminal, never from the command line itself.

use super::secrets::secret;
use super::{Action, Args, CliError, Globals, UsageError, EXIT_OK};
use crate::error::Error;
use crate::identities::service::DEFAULT_RADAR_DAYS;
use crate::identities::{backup, checks, service};
use crate::untrusted::shown;
use serde::Serialize;
use std::io::Write;

pub static ACTIONS: &[Action] = &[
    Action {
        name: "import",
        args: "FILE.p12",
        options: "--password-file F [--new-passphrase-file G]",
        help: "checks the key is there and matches, the chain, e-mail use and expiry; the key is stored encrypted under G (default: the file's own password)",
        run: import,
    },
    Action { name: "list", args: "", options: "", help: "your identities: validity, renewal and backup", run: list },
    Action { name: "show", args: "X", options: "", help: "one identity in detail", run: show },
    Action { name: "delete", args: "FP", options: "", help: "delete an identity and its private key", run: delete },
    Action { name: "lock", args: "", options: "", help: "lock every unlocked key in every running session", run: lock },
    Action { name: "unlock", args: "[X]", options: "--passphrase-file G", help: "check a passphrase (the add-on keeps keys unlocked)", run: unlock },
    Action {
        name: "export",
        args: "X --out FILE.p12",
        options: "--password-file F --passphrase-file G [--legacy]",
        help: "a backup with the chain under the new password F: AES-256, or 3DES for old Windows and Outlook (--legacy); G, the identity's passphrase, is always needed",
        run: export,
    },
    Action { name: "radar", args: "", options: "[--days N]", help: "identities expiring within N days (default 30)", run: radar },
    Action { name: "backup-status", args: "", options: "", help: "exit 1 while an identity has no backup", run: backup_status },
];

pub const NOTES: &str = "X is an identity's address or SHA-256 fingerprint (or a unique prefix), FP a fingerprint.\n\
                         Secrets are read from files (- for stdin) or prompted for, never from arguments.\n";

fn import(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let password_file = args.value("--password-file")?;
    let new_file = args.value("--new-passphrase-file")?;
    let file = args.required("FILE.p12")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
    let password = secret(password_file.as_deref(), "Password of the .p12 file")?;
    let new = new_file.as_deref().map(|f| secret(Some(f), "New passphrase")).transpose()?;
    let report = checks::import(&mut ctx, &bytes, &password, new.as_ref(), &file)?;
    if json {
        return super::print_json(&report).map(|_| EXIT_OK);
    }
    let i = &report.identity;
    say!("imported {} <{}>", shown(&i.subject, 200), shown(&i.emails.join(", "), 200));
    say!("  fingerprint {}", i.fingerprint);
    say!("  valid {} .. {}", i.not_before, i.not_after);
    for c in &report.checks {
        let extra = if c.details.is_empty() { String::new() } else { format!("  {}", shown(&serde_json::Value::Object(c.details.clone()).to_string(), 400)) };
        say!("  [{}] {}{}", if c.ok { "ok" } else { "!!" }, c.check, extra);
    }
    for r in &report.replaced {
        say!("  renews {r} (kept for reading old mail)");
    }
    Ok(EXIT_OK)
}

fn list(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    args.finish()?;
    let mut ctx = globals.context()?;
    let list = service::list(&mut ctx)?;
    if json {
        return super::print_reply_json(&list).map(|_| EXIT_OK);
    }
    let infos = &list.identities;
    if infos.is_empty() {
        say!("No identities. Import your certificate with: smime-companion identities import FILE.p12 --password-file F");
    }
    for i in infos {
        let state = if i.replaced_by.is_some() {
            "renewed"
        } else if i.expired {
            "expired"
        } else {
            "current"
        };
        say!(
            "{}  {:<30} until {}  {}{}",
            i.fingerprint,
            shown(&i.emails.join(","), 200),
            i.not_after,
            state,
            if i.backed_up_at.is_none() { "  (no backup yet)" } else { "" }
        );
    }
    Ok(EXIT_OK)
}

fn show(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let key = args.required("FINGERPRINT or ADDRESS")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let i = service::show(&mut ctx, &key)?;
    if json {
        return super::print_json(&i).map(|_| EXIT_OK);
    }
    say!("{}\n  {}\n  issuer {}\n  valid {} .. {}{}", i.fingerprint, shown(&i.subject, 200), shown(&i.issuer, 200), i.not_before, i.not_after, if i.expired { " (expired)" } else { "" });
    say!("  sign {}  encrypt {}  backup {}", i.can_sign, i.can_encrypt, i.backed_up_at.as_deref().unwrap_or("none"));
    if let Some(r) = &i.replaced_by {
        say!("  renewed by {r}");
    }
    Ok(EXIT_OK)
}

fn delete(globals: &Globals, mut args: Args, _json: bool) -> Result<u8, CliError> {
    let key = args.required("FINGERPRINT")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let deleted = service::delete(&mut ctx, &key)?;
    say!("deleted {}", deleted.deleted);
    Ok(EXIT_OK)
}

fn lock(globals: &Globals, args: Args, _json: bool) -> Result<u8, CliError> {
    args.finish()?;
    let mut ctx = globals.context()?;
    service::lock(&mut ctx)?;
    say!("all identities locked (running sessions drop their unlocked keys)");
    Ok(EXIT_OK)
}

fn unlock(globals: &Globals, mut args: Args, _json: bool) -> Result<u8, CliError> {
    let passphrase_file = args.value("--passphrase-file")?;
    let key = args.positional();
    args.finish()?;
    let mut ctx = globals.context()?;
    let passphrase = secret(passphrase_file.as_deref(), "Passphrase")?;
    let outcome = service::unlock(&mut ctx, &passphrase, key.as_deref())?;
    // A command runs briefly: this proves the passphrase; the add-on's session keeps keys.
    for fp in outcome.unlocked {
        say!("passphrase opens {fp}");
    }
    Ok(EXIT_OK)
}

fn export(globals: &Globals, mut args: Args, _json: bool) -> Result<u8, CliError> {
    let out = args.path("--out")?.ok_or_else(|| UsageError("--out FILE.p12 is required".into()))?;
    let password_file = args.value("--password-file")?;
    let passphrase_file = args.value("--passphrase-file")?;
    let legacy = args.flag("--legacy");
    let key = args.required("ADDRESS or FINGERPRINT")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let password = secret(password_file.as_deref(), "Password for the backup file")?;
    // The key leaves for good: its passphrase is asked every time (docs/IDENTITIES.md).
    let passphrase = secret(passphrase_file.as_deref(), "Passphrase of the identity")?;
    let backup = backup::export(&mut ctx, &key, &password, &passphrase, legacy)?;
    crate::home::write_private_file(&out, &backup.p12)?;
    ctx.identities()?.mark_backed_up(&backup.fingerprint, crate::time::now())?;
    say!("backup written to {} ({})", out.display(), if legacy { "3DES, for old Windows and Outlook" } else { "AES-256" });
    Ok(EXIT_OK)
}

fn radar(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let days: i64 = match args.value("--days")? {
        Some(d) => d.parse().map_err(|_| UsageError(format!("{d:?} is not a number of days")))?,
        None => DEFAULT_RADAR_DAYS,
    };
    args.finish()?;
    let mut ctx = globals.context()?;
    let radar = service::radar(&mut ctx, days)?;
    if json {
        return super::print_reply_json(&radar).map(|_| EXIT_OK);
    }
    if radar.identities.is_empty() {
        say!("no identity expires within {days} days");
    }
    for i in radar.identities {
        say!("{}  {}  expires {} ({} days)", i.fingerprint, shown(&i.emails.join(","), 200), i.not_after, i.expires_in_days);
    }
    Ok(EXIT_OK)
}

fn backup_status(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    args.finish()?;
    let mut ctx = globals.context()?;
    let status = backup::status(ctx.identities()?)?;
    let missing: Vec<_> = status.identities.iter().filter(|i| i.needs_backup).collect();
    if json {
        let without_backup = missing.iter().map(|i| i.fingerprint.clone()).collect();
        return super::print_json(&WithoutBackup { needs_backup: status.needs_backup, without_backup }).map(|_| EXIT_OK);
    }
    for i in &missing {
        say!("no backup yet: {} ({})", i.fingerprint, shown(&i.emails.join(","), 200));
    }
    Ok(if missing.is_empty() { EXIT_OK } else { super::EXIT_PROBLEM })
}

/// `backup-status --json`: which identities still need a backup, by fingerprint.
#[derive(Serialize)]
struct WithoutBackup {
    needs_backup: bool,
    without_backup: Vec<String>,
}

fn write_message(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|_| out.flush()).map_err(|e| Error::io("stdout", e))?;
    Ok(())
}

pub fn cmd_sign(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let from = args.value("--from")?;
    let passphrase_file = args.value("--passphrase-file")?;
    let file = args.required("FILE.eml")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let raw = super::read_input(&file)?;
    let passphrase = secret(passphrase_file.as_deref(), "Passphrase")?;
    let signed = crate::outgoing::sign_message(&mut ctx, &raw, from.as_deref(), Some(&passphrase))?;
    write_message(&signed)?;
    Ok(EXIT_OK)
}

pub fn cmd_encrypt(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let to = args.values("--to")?;
    let sign = args.flag("--sign");
    let passphrase_file = args.value("--passphrase-file")?;
    let file = args.required("FILE.eml")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let raw = super::read_input(&file)?;
    let passphrase = if sign { Some(secret(passphrase_file.as_deref(), "Passphrase")?) } else { None };
    let outcome = crate::outgoing::encrypt_message(&mut ctx, &raw, &to, sign, passphrase.as_ref())?;
    if outcome.sent_copy.is_none() {
        eprintln!("smime-companion: note: you have no identity for the sender, so you will not be able to read the sent copy");
    }
    write_message(&outcome.message)?;
    Ok(EXIT_OK)
}
