//! `doctor`, `policy` and `generate`: checking an installation, Thunderbird's enterprise policy
//! file, and the package sources for Linux, Windows and macOS.

use super::install::{layout_option, scope_option};
use super::{Args, CliError, Globals, UsageError, EXIT_OK, EXIT_PROBLEM};
use crate::error::Error;
use crate::home::{system_config_file, Home};
use crate::install::doctor::{self, Inputs};
use crate::install::package;
use crate::install::policy::{self, Merged, Removed};
use crate::install::registry::SystemRegistry;
use crate::install::{write_atomically_mode, Client, Scope};
use crate::product::{ADDON_ID, BINARY_NAME};
use std::path::Path;

pub fn cmd_doctor(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let json = args.flag("--json");
    let scope = scope_option(&mut args)?;
    let layout = layout_option(&mut args)?;
    let clients = match args.value("--client")? {
        None => None,
        Some(name) => Some(Client::parse(&name).ok_or_else(|| UsageError(format!("unknown client {name:?} (thunderbird, chrome, edge, chromium, all)")))?),
    };
    args.finish()?;
    let mut config_files = vec![system_config_file()];
    if scope != Some(Scope::System) {
        config_files.push(Home::resolve(globals.home.as_deref())?.user_config_file());
    }
    let report = doctor::run(&Inputs { layout, scope, registry: &SystemRegistry, config_files, clients });
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json()).expect("a Value always serialises"));
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.healthy() { EXIT_OK } else { EXIT_PROBLEM })
}

pub fn cmd_policy(_: &Globals, mut args: Args) -> Result<u8, CliError> {
    let quiet = args.flag("--quiet");
    let file = args.path("--file")?.ok_or_else(|| UsageError("--file POLICIES.JSON is required".into()))?;
    let xpi = args.value("--xpi")?.ok_or_else(|| UsageError("--xpi PATH is required".into()))?;
    let action = args.required("merge or remove")?;
    args.finish()?;
    let xpi_path = Path::new(&xpi);
    let absolute = xpi_path.is_absolute() || xpi.starts_with(r"\\");
    if !absolute {
        return Err(UsageError("--xpi must be an absolute path (it becomes a file:// URL)".into()).into());
    }
    let url = policy::file_url(&xpi);
    let say = |text: String| {
        if !quiet {
            println!("{text}");
        }
    };
    let shown = file.display();
    match action.as_str() {
        "merge" => {
            if !xpi_path.is_file() {
                return Err(Error::io_reason(&xpi, std::io::ErrorKind::NotFound, "no add-on file there").into());
            }
            match policy::merge(&file, ADDON_ID, &url)? {
                Merged::Created => say(format!("created {shown}: Thunderbird force-installs the add-on from {url}")),
                Merged::Updated => say(format!("updated {shown}: Thunderbird force-installs the add-on from {url}; other settings kept")),
                Merged::Unchanged => say(format!("{shown} already force-installs the add-on from {url}")),
                // IT's own entry: said even with --quiet, so a package's install log shows it.
                Merged::NotOurs(other) => eprintln!(
                    "{BINARY_NAME}: note: {shown} already has an entry for the add-on that installs it from {other}, not {url}; left as it is"
                ),
                Merged::Blocked => eprintln!(
                    "{BINARY_NAME}: note: {shown} blocks the add-on (installation_mode \"blocked\"); left as it is, so Thunderbird will not install the add-on"
                ),
            }
        }
        "remove" => match policy::remove(&file, ADDON_ID, &url)? {
            Removed::Removed => say(format!("removed the add-on's entry from {shown}; other settings kept")),
            Removed::RemovedFile => say(format!("removed {shown}: it held only the add-on's entry")),
            Removed::NotPresent => say(format!("{shown} has no entry for the add-on")),
            Removed::NoFile => say(format!("{shown} does not exist")),
            Removed::NotOurs(other) => say(format!("{shown} installs the add-on from {other}, not {url}; left as it is")),
        },
        other => return Err(UsageError(format!("unknown policy action {other:?} (merge, remove)")).into()),
    }
    Ok(EXIT_OK)
}

pub fn cmd_generate(_: &Globals, mut args: Args) -> Result<u8, CliError> {
    let out = args.path("--out")?.ok_or_else(|| UsageError("--out DIR is required".into()))?;
    let target = args.required("a target (debian, windows, macos)")?;
    args.finish()?;
    let files = package::generate(&target)
        .ok_or_else(|| UsageError(format!("unknown target {target:?} ({})", package::TARGETS.join(", "))))??;
    for f in files {
        let mut path = out.clone();
        path.extend(f.path.split('/'));
        let dir = path.parent().unwrap_or(&out);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_atomically_mode(&path, f.contents.as_bytes(), f.mode)?;
        println!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}
