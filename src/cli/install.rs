//! `install` and `uninstall`: register or remove the host for browsers.

use super::{Args, CliError, Globals, UsageError, EXIT_OK};
use crate::caller::AllowList;
use crate::install::{self, Client, Layout, Scope};

struct Target {
    layout: Layout,
    scope: Scope,
    clients: Vec<Client>,
}

fn target(args: &mut Args) -> Result<Target, CliError> {
    let system = args.flag("--system");
    let user = args.flag("--user");
    if system && user {
        return Err(UsageError("choose one of --user and --system".into()).into());
    }
    let scope = if system { Scope::System } else { Scope::User };
    let clients = match args.value("--client")? {
        None => vec![Client::Thunderbird],
        Some(name) => Client::parse(&name)
            .ok_or_else(|| UsageError(format!("unknown client {name:?} (thunderbird, firefox, chrome, edge, chromium, all)")))?,
    };
    let mut layout = Layout::current()?;
    if let Some(root) = args.path("--root")? {
        layout.root = root;
    }
    Ok(Target { layout, scope, clients })
}

pub fn cmd_install(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let target = target(&mut args)?;
    let host_path = match args.path("--path")? {
        Some(p) => p,
        None => std::env::current_exe()
            .and_then(|p| p.canonicalize())
            .map_err(|e| crate::error::Error::io("current executable", e))?,
    };
    args.finish()?;
    if !host_path.is_absolute() {
        return Err(UsageError("--path must be absolute".into()).into());
    }
    let ctx = globals.context()?;
    let allow = AllowList::from_config(&ctx.config);
    let (written, notes) = install::install(&target.layout, target.scope, &target.clients, &host_path, &allow)?;
    for w in &written {
        println!("wrote {} ({})", w.path.display(), w.client.name());
    }
    for n in notes {
        println!("note: {n}");
    }
    Ok(EXIT_OK)
}

pub fn cmd_uninstall(_: &Globals, mut args: Args) -> Result<u8, CliError> {
    let target = target(&mut args)?;
    args.finish()?;
    let removed = install::uninstall(&target.layout, target.scope, &target.clients)?;
    if removed.is_empty() {
        println!("nothing to remove");
    }
    for w in &removed {
        println!("removed {} ({})", w.path.display(), w.client.name());
    }
    Ok(EXIT_OK)
}

