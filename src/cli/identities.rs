//! `identities …`, `sign` and `encrypt`: the user's own certificates and keys on the command
//! line. Secrets come from files (`--password-file`, `--passphrase-file`; `-` for stdin) or a
//! prompt on the terminal, never from the command line itself.

use super::{Args, CliError, Globals, UsageError, EXIT_OK};
use crate::error::Error;
use crate::identities::checks::{expiring, import};
use crate::identities::seal::Passphrase;
use crate::logging::sanitize;
use serde::Serialize;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| Error::Internal { reason: e.to_string() })?);
    Ok(())
}

/// A secret from a file (its first line), from stdin (`-`), or typed at a prompt.
pub fn secret(file: Option<&str>, prompt: &str) -> Result<Passphrase, CliError> {
    match file {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("stdin", e))?;
            Ok(Passphrase::new(text.lines().next().unwrap_or("")))
        }
        Some(path) => Ok(Passphrase::new(super::inspect::read_secret_file(Path::new(path))?)),
        None if std::io::stdin().is_terminal() => prompt_hidden(prompt),
        None => Err(UsageError(format!("{prompt}: give it in a file (see --help)")).into()),
    }
}

/// Reads a line from the terminal without echoing it.
fn prompt_hidden(prompt: &str) -> Result<Passphrase, CliError> {
    eprint!("{prompt}: ");
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    let restore = unsafe {
        let mut term: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut term) == 0 {
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &term);
            Some(saved)
        } else {
            None
        }
    };
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    #[cfg(unix)]
    if let Some(saved) = restore {
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
    eprintln!();
    read.map_err(|e| Error::io("terminal", e))?;
    Ok(Passphrase::new(line.trim_end_matches(['\r', '\n'])))
}

pub fn cmd_identities(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let json = args.flag("--json");
    let action = args.required("import, list, show, delete, lock, unlock, export, radar or backup-status")?;
    let mut ctx = globals.context()?;
    let now = crate::time::now();
    match action.as_str() {
        "import" => {
            let password_file = args.value("--password-file")?;
            let new_file = args.value("--new-passphrase-file")?;
            let file = args.required("FILE.p12")?;
            args.finish()?;
            let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
            let password = secret(password_file.as_deref(), "Password of the .p12 file")?;
            let new = new_file.as_deref().map(|f| secret(Some(f), "New passphrase")).transpose()?;
            let report = import(&mut ctx, &bytes, &password, new.as_ref(), &file)?;
            if json {
                return print_json(&report).map(|_| EXIT_OK);
            }
            let i = &report.identity;
            println!("imported {} <{}>", sanitize(&i.subject, 200), i.emails.join(", "));
            println!("  fingerprint {}", i.fingerprint);
            println!("  valid {} .. {}", i.not_before, i.not_after);
            for c in &report.checks {
                let extra = if c.details.is_empty() { String::new() } else { format!("  {}", serde_json::Value::Object(c.details.clone())) };
                println!("  [{}] {}{}", if c.ok { "ok" } else { "!!" }, c.check, extra);
            }
            for r in &report.replaced {
                println!("  renews {r} (kept for reading old mail)");
            }
        }
        "list" => {
            args.finish()?;
            let all = ctx.identities()?.all()?;
            let infos: Vec<_> = all.iter().map(|i| i.info(now, false)).collect();
            if json {
                return print_json(&serde_json::json!({ "identities": infos })).map(|_| EXIT_OK);
            }
            if infos.is_empty() {
                println!("No identities. Import your certificate with: smime-companion identities import FILE.p12 --password-file F");
            }
            for i in &infos {
                let state = if i.replaced_by.is_some() {
                    "renewed"
                } else if i.expired {
                    "expired"
                } else {
                    "current"
                };
                println!(
                    "{}  {:<30} until {}  {}{}",
                    i.fingerprint,
                    i.emails.join(","),
                    i.not_after,
                    state,
                    if i.backed_up_at.is_none() { "  (no backup yet)" } else { "" }
                );
            }
        }
        "show" => {
            let key = args.required("FINGERPRINT or ADDRESS")?;
            args.finish()?;
            let i = ctx.identities()?.one(&key)?.info(now, false);
            if json {
                return print_json(&i).map(|_| EXIT_OK);
            }
            println!("{}\n  {}\n  issuer {}\n  valid {} .. {}{}", i.fingerprint, sanitize(&i.subject, 200), sanitize(&i.issuer, 200), i.not_before, i.not_after, if i.expired { " (expired)" } else { "" });
            println!("  sign {}  encrypt {}  backup {}", i.can_sign, i.can_encrypt, i.backed_up_at.as_deref().unwrap_or("none"));
            if let Some(r) = &i.replaced_by {
                println!("  renewed by {r}");
            }
        }
        "delete" => {
            let key = args.required("FINGERPRINT")?;
            args.finish()?;
            let identity = ctx.identities()?.one(&key)?;
            ctx.identities()?.delete(&identity.fingerprint(), now)?;
            println!("deleted {}", identity.fingerprint());
        }
        "lock" => {
            args.finish()?;
            ctx.identities()?.raise_lock_epoch()?;
            println!("all identities locked (running sessions drop their unlocked keys)");
        }
        "unlock" => {
            let passphrase_file = args.value("--passphrase-file")?;
            let key = args.positional();
            args.finish()?;
            let passphrase = secret(passphrase_file.as_deref(), "Passphrase")?;
            let unlocked = crate::ops::unlock_identities(&mut ctx, &passphrase, key.as_deref())?;
            // A command runs briefly: this proves the passphrase; the add-on's session keeps keys.
            for fp in unlocked {
                println!("passphrase opens {fp}");
            }
        }
        "export" => {
            let out = args.path("--out")?.ok_or_else(|| UsageError("--out FILE.p12 is required".into()))?;
            let password_file = args.value("--password-file")?;
            let passphrase_file = args.value("--passphrase-file")?;
            let legacy = args.flag("--legacy");
            let key = args.required("ADDRESS or FINGERPRINT")?;
            args.finish()?;
            let password = secret(password_file.as_deref(), "Password for the backup file")?;
            let passphrase = passphrase_file.as_deref().map(|f| secret(Some(f), "Passphrase")).transpose()?;
            let (bytes, _) = crate::ops::export_identity(&mut ctx, &key, &password, passphrase.as_ref(), legacy)?;
            crate::home::write_private_file(&out, &bytes)?;
            crate::ops::record_backup(&mut ctx, &key)?;
            println!("backup written to {} ({})", out.display(), if legacy { "3DES, for old Windows and Outlook" } else { "AES-256" });
        }
        "radar" => {
            let days: i64 = match args.value("--days")? {
                Some(d) => d.parse().map_err(|_| UsageError(format!("{d:?} is not a number of days")))?,
                None => 30,
            };
            args.finish()?;
            let list = expiring(ctx.identities()?, days, now)?;
            if json {
                return print_json(&serde_json::json!({ "days": days, "identities": list })).map(|_| EXIT_OK);
            }
            if list.is_empty() {
                println!("no identity expires within {days} days");
            }
            for i in list {
                println!("{}  {}  expires {} ({} days)", i.fingerprint, i.emails.join(","), i.not_after, i.expires_in_days);
            }
        }
        "backup-status" => {
            args.finish()?;
            let all = ctx.identities()?.all()?;
            let missing: Vec<_> = all.iter().filter(|i| i.backed_up_at.is_none() && i.replaced_by.is_none()).collect();
            if json {
                return print_json(&serde_json::json!({ "needs_backup": !missing.is_empty(), "without_backup": missing.iter().map(|i| i.fingerprint()).collect::<Vec<_>>() })).map(|_| EXIT_OK);
            }
            for i in &missing {
                println!("no backup yet: {} ({})", i.fingerprint(), i.cert.emails().join(","));
            }
            return Ok(if missing.is_empty() { EXIT_OK } else { super::EXIT_PROBLEM });
        }
        other => return Err(UsageError(format!("unknown identities action {other:?}")).into()),
    }
    Ok(EXIT_OK)
}

fn read_message(file: &str) -> Result<Vec<u8>, CliError> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| Error::io("stdin", e))?;
        return Ok(buf);
    }
    Ok(std::fs::read(file).map_err(|e| Error::io(file, e))?)
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
    let raw = read_message(&file)?;
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
    let raw = read_message(&file)?;
    let passphrase = if sign { Some(secret(passphrase_file.as_deref(), "Passphrase")?) } else { None };
    let outcome = crate::outgoing::encrypt_message(&mut ctx, &raw, &to, sign, passphrase.as_ref())?;
    if outcome.sent_copy.is_none() {
        eprintln!("smime-companion: note: you have no identity for the sender, so you will not be able to read the sent copy");
    }
    write_message(&outcome.message)?;
    Ok(EXIT_OK)
}
