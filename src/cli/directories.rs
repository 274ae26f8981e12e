//! `directories list|password` and `contacts lookup`: the LDAP directories (docs/DIRECTORY.md),
//! with the same semantics as the ops; `--json` prints what the op returns.

use super::{Action, Args, CliError, Globals, UsageError, EXIT_OK, EXIT_PROBLEM};
use crate::contacts::select::Reason;
use crate::contacts::service::RecipientCheckOrInvalid;
use crate::directory::manage;
use crate::identities::seal::Passphrase;
use crate::untrusted::shown;

pub static ACTIONS: &[Action] = &[
    Action { name: "list", args: "", options: "", help: "the directories in effect (IT's and yours) and entries left out", run: list },
    Action {
        name: "password",
        args: "ID",
        options: "[--password-file F | --remove]",
        help: "store your bind password for directory ID (typed, or the first line of F; - for stdin); --remove deletes it",
        run: password,
    },
];

pub const NOTES: &str = "Directories are set in the configuration files (`directories`, docs/DIRECTORY.md)\nor on the add-on's options page.\n";

fn list(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    args.finish()?;
    let ctx = globals.context()?;
    let listing = manage::list(&ctx, None);
    if json {
        return super::print_json(&listing).map(|_| EXIT_OK);
    }
    for d in &listing.directories {
        say!(
            "{:<20} {:<8} {}{}  base {}  filter {}  {}{}",
            shown(&d.id, 64),
            d.origin.as_str(),
            shown(&d.url, 200),
            if d.starttls { " (StartTLS)" } else { "" },
            shown(&d.base_dn, 200),
            shown(&d.filter, 200),
            d.bind,
            d.password.map(|p| format!(" (password {p})")).unwrap_or_default()
        );
    }
    for p in &listing.problems {
        say!("left out: {}", shown(p, 400));
    }
    if listing.directories.is_empty() {
        say!("no directory configured (docs/DIRECTORY.md)");
    }
    Ok(EXIT_OK)
}

fn password(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let id = args.required("ID")?;
    let remove = args.flag("--remove");
    let file = args.value("--password-file")?;
    args.finish()?;
    let ctx = globals.context()?;
    let password = if remove {
        Passphrase::new("")
    } else {
        super::secrets::secret(file.as_deref(), &format!("bind password for {id}"))?
    };
    let outcome = manage::set_password(&ctx, &id, &password, None)?;
    if json {
        return super::print_reply_json(&outcome).map(|_| EXIT_OK);
    }
    let done = if outcome.password_set { "stored the password for" } else { "removed the password of" };
    say!("{done} {}", shown(&outcome.id, 64));
    Ok(EXIT_OK)
}

/// `contacts lookup ADDRESS...`: exit 0 when every address can receive encrypted mail after it.
pub fn lookup(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let addresses = args.rest();
    args.finish()?;
    if addresses.is_empty() {
        return Err(UsageError("give one or more addresses".into()).into());
    }
    let mut ctx = globals.context()?;
    let result = crate::directory::lookup_and_check(&mut ctx, &addresses, None)?;
    let all_ok = result.recipients.iter().all(|r| r.reason_code().is_none());
    if json {
        super::print_reply_json(&result)?;
        return Ok(if all_ok { EXIT_OK } else { EXIT_PROBLEM });
    }
    for d in &result.directories {
        let mut line = format!("directory {} ({}): {}", shown(&d.id, 64), shown(&d.url, 200), d.state);
        if let Some(m) = &d.message {
            line.push_str(&format!(" ({})", shown(m, 300)));
        }
        line.push_str(&format!(", {} entries, {} certificate(s)", d.entries, d.certificates));
        if d.other_address > 0 {
            line.push_str(&format!(", {} for other addresses discarded", d.other_address));
        }
        if d.truncated {
            line.push_str(", answer cut short");
        }
        say!("{line}");
    }
    for (found, check) in result.addresses.iter().zip(&result.recipients) {
        let state = match check {
            RecipientCheckOrInvalid::Checked(c) => match (&c.certificate, c.reason) {
                (Some(cert), _) => format!("can encrypt ({})", cert.summary.fingerprint_sha256),
                (None, reason) => reason.map(Reason::code).unwrap_or_default(),
            },
            RecipientCheckOrInvalid::Invalid { reason, .. } => reason.to_string(),
        };
        say!("{}: {} found, {} new; {state}", shown(&found.address, 200), found.found, found.new);
    }
    Ok(if all_ok { EXIT_OK } else { EXIT_PROBLEM })
}
