//! Listing the directories in effect and changing the user's own: what the options page and
//! `smime-companion directories` do. The user's directories live in the user's configuration
//! file (`directories`), so the add-on and the command line see the same ones; their passwords
//! in the password store (`secrets`). IT's directories are shown, never changed.

use super::secrets;
use super::settings::{Bind, DirectoryEntry, DirectorySettings, Origin};
use crate::config::{Config, DIRECTORY_KEY};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::identities::seal::Passphrase;
use serde::Serialize;
use serde_json::{Map, Value};

/// A directory as listed: its settings without any secret, and whether a password is there.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryInfo {
    pub id: String,
    pub origin: Origin,
    pub url: String,
    pub starttls: bool,
    pub base_dn: String,
    pub filter: String,
    pub attributes: Vec<String>,
    /// `anonymous` or `simple`.
    pub bind: &'static str,
    pub bind_dn: Option<String>,
    /// For a simple bind: `file` (IT's bind_password_file), `stored` or `missing`.
    pub password: Option<&'static str>,
    pub ca_file: Option<String>,
    pub timeout_seconds: u64,
    pub size_limit: u32,
    /// The user may change or remove it (only the user's own).
    pub editable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryListing {
    pub directories: Vec<DirectoryInfo>,
    /// Entries that were left out, and why.
    pub problems: Vec<String>,
}

pub fn info(ctx: &Context, d: &DirectorySettings) -> DirectoryInfo {
    let (bind, bind_dn, password) = match &d.bind {
        Bind::Anonymous => ("anonymous", None, None),
        Bind::Simple { dn, password_file } => {
            let password = if password_file.is_some() {
                "file"
            } else if secrets::has_stored(&ctx.home, &d.id) {
                "stored"
            } else {
                "missing"
            };
            ("simple", Some(dn.clone()), Some(password))
        }
    };
    DirectoryInfo {
        id: d.id.clone(),
        origin: d.origin,
        url: d.url(),
        starttls: d.starttls,
        base_dn: d.base_dn.clone(),
        filter: d.filter_text.clone(),
        attributes: d.attributes.clone(),
        bind,
        bind_dn,
        password,
        ca_file: d.ca_file.as_ref().map(|p| p.display().to_string()),
        timeout_seconds: d.timeout.as_secs(),
        size_limit: d.size_limit,
        editable: d.origin == Origin::User,
    }
}

/// Every directory in effect, and the problems of the entries left out.
pub fn list(ctx: &Context, managed: Option<&Value>) -> DirectoryListing {
    let (directories, mut problems) = super::configured(ctx, managed);
    problems.extend(ctx.config.directory_problems.iter().cloned());
    DirectoryListing { directories: directories.iter().map(|d| info(ctx, d)).collect(), problems }
}

/// Adds or replaces (by id) one of the user's directories, and stores its password when one is
/// given. IT's directories cannot be replaced this way.
pub fn save(ctx: &mut Context, entry: &DirectoryEntry, password: Option<&Passphrase>) -> Result<DirectoryInfo> {
    let invalid = |reason: String| Error::InvalidParams { op: "directories_save".into(), reason };
    let checked = entry.check(Origin::User).map_err(invalid)?;
    if password.is_some_and(|p| !p.is_empty()) && checked.bind == Bind::Anonymous {
        return Err(invalid("a password needs bind_dn (the DN to sign in as)".into()));
    }
    if ctx.config.directories.iter().any(|d| d.origin == Origin::System && d.id == checked.id) {
        return Err(invalid(format!("{:?} is IT's directory; choose another id", checked.id)));
    }
    let mut stored = entry.clone();
    stored.id = Some(checked.id.clone());
    let mut list = user_entries(ctx)?;
    list.retain(|e| e.get("id").and_then(Value::as_str) != Some(checked.id.as_str()) && !(e.get("id").is_none() && matches_host(e, &checked)));
    list.push(serde_json::to_value(&stored).map_err(|e| Error::Internal { reason: e.to_string() })?);
    write_user_entries(ctx, list)?;
    if let Some(p) = password {
        secrets::set(&ctx.home, &checked.id, Some(p))?;
    }
    let d = ctx.config.directories.iter().find(|d| d.origin == Origin::User && d.id == checked.id).cloned().unwrap_or(checked);
    Ok(info(ctx, &d))
}

/// What `directories_remove` removed.
#[derive(Debug, Serialize)]
pub struct Removed {
    /// The directory's id.
    pub removed: String,
}

/// Removes one of the user's directories (and its stored password).
pub fn remove(ctx: &mut Context, id: &str) -> Result<Removed> {
    let mut list = user_entries(ctx)?;
    let before = list.len();
    let user = ctx.config.directories.iter().find(|d| d.origin == Origin::User && d.id == id).cloned();
    list.retain(|e| match e.get("id").and_then(Value::as_str) {
        Some(eid) => eid != id,
        None => !user.as_ref().is_some_and(|u| matches_host(e, u)),
    });
    if list.len() == before {
        return Err(Error::NotFound { what: "directory of yours".into(), key: id.into() });
    }
    write_user_entries(ctx, list)?;
    secrets::set(&ctx.home, id, None)?;
    Ok(Removed { removed: id.to_string() })
}

/// What `directories_set_password` did.
#[derive(Debug, Serialize)]
pub struct PasswordSet {
    pub id: String,
    /// A password is stored now (false: an empty one removed it).
    pub password_set: bool,
}

/// Stores (or with an empty password removes) the user's password for any directory in effect
/// that signs in with a simple bind and has no password file.
pub fn set_password(ctx: &Context, id: &str, password: &Passphrase, managed: Option<&Value>) -> Result<PasswordSet> {
    let (directories, _) = super::configured(ctx, managed);
    let d = directories.iter().find(|d| d.id == id).ok_or_else(|| Error::NotFound { what: "directory".into(), key: id.into() })?;
    match &d.bind {
        Bind::Simple { password_file: None, .. } => {
            secrets::set(&ctx.home, id, Some(password))?;
            Ok(PasswordSet { id: id.to_string(), password_set: !password.is_empty() })
        }
        Bind::Simple { password_file: Some(_), .. } => Err(Error::InvalidParams {
            op: "directories_set_password".into(),
            reason: "this directory's password comes from IT's bind_password_file".into(),
        }),
        Bind::Anonymous => Err(Error::InvalidParams { op: "directories_set_password".into(), reason: "this directory has no bind_dn".into() }),
    }
}

fn matches_host(entry: &Value, d: &DirectorySettings) -> bool {
    entry.get("url").and_then(Value::as_str).and_then(|u| super::settings::parse_url(u).ok()).is_some_and(|(_, host, _)| host == d.id)
}

/// The user's configuration file as an object (empty when missing); a broken file is refused,
/// never overwritten.
fn user_file(ctx: &Context) -> Result<Map<String, Value>> {
    let path = ctx.home.user_config_file();
    match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Error::BadConfig { path: path.display().to_string(), reason: "not a JSON object; fix or remove it first".into() }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

fn user_entries(ctx: &Context) -> Result<Vec<Value>> {
    Ok(match user_file(ctx)?.remove(DIRECTORY_KEY) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    })
}

fn write_user_entries(ctx: &mut Context, list: Vec<Value>) -> Result<()> {
    let path = ctx.home.user_config_file();
    let mut map = user_file(ctx)?;
    map.insert(DIRECTORY_KEY.into(), Value::Array(list));
    if let Some(dir) = path.parent() {
        crate::home::create_private_dir(dir)?;
    }
    let mut text = serde_json::to_vec_pretty(&Value::Object(map)).map_err(|e| Error::Internal { reason: e.to_string() })?;
    text.push(b'\n');
    crate::home::write_private_file(&path, &text)?;
    ctx.config = Config::load(&ctx.home);
    Ok(())
}
