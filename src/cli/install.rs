//! `install` and `uninstall`: register or remove the host for browsers.

use super::{Args, CliError, Globals, UsageError, EXIT_OK};
use crate::caller::AllowList;
use crate::config::Config;
use crate::home::{system_config_file, Home};
use crate::install::receipt::{Entry, Target};
use crate::install::{self, Client, Layout, Pkcs11, Request, Scope};
use std::path::PathBuf;

struct Selection {
    pub layout: Layout,
    pub scope: Scope,
    /// `--client`, if given.
    pub clients: Option<Vec<Client>>,
}

/// `--user|--system`; None when neither was given.
pub(super) fn scope_option(args: &mut Args) -> Result<Option<Scope>, CliError> {
    let system = args.flag("--system");
    let user = args.flag("--user");
    match (user, system) {
        (true, true) => Err(UsageError("choose one of --user and --system".into()).into()),
        (true, false) => Ok(Some(Scope::User)),
        (false, true) => Ok(Some(Scope::System)),
        (false, false) => Ok(None),
    }
}

/// The layout of this machine, with `--root DIR` applied.
pub(super) fn layout_option(args: &mut Args) -> Result<Layout, CliError> {
    let mut layout = Layout::current()?;
    if let Some(root) = args.path("--root")? {
        layout.root = root;
    }
    Ok(layout)
}

fn target(args: &mut Args) -> Result<Selection, CliError> {
    let scope = scope_option(args)?.unwrap_or(Scope::User);
    let clients = match args.value("--client")? {
        None => None,
        Some(name) => Some(Client::parse(&name).ok_or_else(|| {
            UsageError(format!("unknown client {name:?} (thunderbird, firefox, chrome, edge, chromium, all)"))
        })?),
    };
    let layout = layout_option(args)?;
    Ok(Selection { layout, scope, clients })
}

/// Where the receipt of `scope` lives: the per-user data folder, or the system folder.
fn receipt_path(globals: &Globals, layout: &Layout, scope: Scope) -> Result<PathBuf, CliError> {
    Ok(match scope {
        Scope::User => Home::resolve(globals.home.as_deref())?.data_dir().join("install-receipt.json"),
        Scope::System => layout.system_receipt(),
    })
}

/// The allow-list the manifests carry: for the machine only the system-wide configuration (not
/// the administrator's own), for a user both files.
fn allow_list(globals: &Globals, scope: Scope) -> Result<AllowList, CliError> {
    let config = match scope {
        Scope::User => globals.context()?.config,
        Scope::System => {
            let config = Config::load_files(&[system_config_file()]);
            for problem in &config.problems {
                eprintln!("{}: warning: {problem}", crate::product::BINARY_NAME);
            }
            config
        }
    };
    Ok(AllowList::from_config(&config))
}

fn role_text(entry: &Entry) -> String {
    if let Target::Dir { .. } = entry.target {
        return "folder".into();
    }
    let role = match entry.role {
        install::Role::HostManifest => "host manifest",
        install::Role::Pkcs11Manifest => "PKCS#11 module manifest",
        install::Role::Addon => "add-on",
    };
    format!("{}, {role}", entry.client.name())
}

pub fn cmd_install(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let target = target(&mut args)?;
    let quiet = args.flag("--quiet");
    let host_path = match args.path("--path")? {
        Some(p) => p,
        None => std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .map_err(|e| crate::error::Error::io("current executable", e))?,
    };
    let pkcs11 = match args.path("--pkcs11")? {
        Some(p) => Pkcs11::At(p),
        None => Pkcs11::Auto,
    };
    let addon = args.path("--addon")?;
    args.finish()?;
    if !host_path.is_absolute() {
        return Err(UsageError("--path must be absolute".into()).into());
    }
    // install refuses it too; said here as a usage error, before anything is read.
    install::check_addon_scope(target.scope, addon.as_deref()).map_err(|reason| UsageError(reason.into()))?;
    let clients = target.clients.unwrap_or_else(|| vec![Client::Thunderbird]);
    let allow = allow_list(globals, target.scope)?;
    let receipt = receipt_path(globals, &target.layout, target.scope)?;
    let req = Request { scope: target.scope, clients: &clients, host_path: &host_path, pkcs11, addon: addon.as_deref(), allow: &allow };
    let report = install::install(&target.layout, &req, &receipt)?;
    log::info!("install {}: {} written, {} unchanged", target.scope.name(), report.changed.len(), report.unchanged.len());
    for w in &report.warnings {
        eprintln!("{}: warning: {w}", crate::product::BINARY_NAME);
    }
    if !quiet {
        for e in &report.changed {
            println!("wrote {} ({})", e.describe(), role_text(e));
        }
        for e in &report.unchanged {
            println!("unchanged {} ({})", e.describe(), role_text(e));
        }
        for n in &report.notes {
            println!("note: {n}");
        }
    }
    Ok(EXIT_OK)
}

pub fn cmd_uninstall(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let target = target(&mut args)?;
    let quiet = args.flag("--quiet");
    args.finish()?;
    let receipt = receipt_path(globals, &target.layout, target.scope)?;
    let report = install::uninstall(&target.layout, target.scope, target.clients.as_deref(), &receipt)?;
    log::info!("uninstall {}: {} removed, {} kept", target.scope.name(), report.changed.len(), report.kept.len());
    if !quiet {
        if report.changed.is_empty() && report.kept.is_empty() {
            println!("nothing to remove");
        }
        for e in &report.changed {
            println!("removed {} ({})", e.describe(), role_text(e));
        }
        for (e, why) in &report.kept {
            println!("kept {} ({}): {why}", e.describe(), role_text(e));
        }
    }
    Ok(EXIT_OK)
}
