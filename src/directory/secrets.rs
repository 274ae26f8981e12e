//! Bind passwords for directories (docs/DIRECTORY.md, "Passwords").
//!
//! - IT points a directory at a file (`bind_password_file`): its first line is the password. IT
//!   decides who may read it (e.g. root and a group of users, 0640).
//! - Otherwise the user's password for the directory's id is kept in `directory-passwords.json`
//!   in the data folder: written atomically, 0600, in the 0700 folder.
//!
//! Not sealed under a passphrase as the private keys are: the compose check looks recipients up
//! before anything is unlocked, and a password sealed under the keys' passphrase would make
//! every lookup wait for an unlock. It has the protection Thunderbird gives its own saved LDAP
//! passwords without a primary password: a file only the user can read. Every copy in memory
//! is wiped when dropped, and no password is ever logged, shown or sent back to the add-on.

use crate::error::{Error, Result};
use crate::home::{write_private_file, Home};
use crate::identities::seal::Passphrase;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The longest password kept.
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn store_path(home: &Home) -> PathBuf {
    home.data_dir().join("directory-passwords.json")
}

/// The password stored for directory `id`, if any.
pub fn stored(home: &Home, id: &str) -> Result<Option<Passphrase>> {
    let all = read(&store_path(home))?;
    Ok(all.get(id).map(|p| Passphrase::new(p.as_str())))
}

/// Whether a password is stored for `id` (for listings: the password itself never leaves).
pub fn has_stored(home: &Home, id: &str) -> bool {
    read(&store_path(home)).map(|all| all.contains_key(id)).unwrap_or(false)
}

/// Stores (or, with None or an empty password, removes) the password for directory `id`.
pub fn set(home: &Home, id: &str, password: Option<&Passphrase>) -> Result<()> {
    let path = store_path(home);
    home.ensure_private_dir(home.data_dir())?;
    let mut all = read(&path)?;
    match password.filter(|p| !p.is_empty()) {
        Some(p) if p.as_str().len() > MAX_PASSWORD_LEN || p.as_str().chars().any(|c| c == '\n' || c == '\r' || c == '\0') => {
            return Err(Error::InvalidParams {
                op: "directories_set_password".into(),
                reason: format!("the password must be one line of at most {MAX_PASSWORD_LEN} bytes"),
            })
        }
        Some(p) => {
            all.insert(id.to_string(), Zeroizing::new(p.as_str().to_string()));
        }
        None => {
            if all.remove(id).is_none() {
                return Ok(());
            }
        }
    }
    let map: BTreeMap<&str, &str> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let text = Zeroizing::new(serde_json::to_vec_pretty(&map).map_err(|e| Error::Internal { reason: e.to_string() })?);
    write_private_file(&path, &text)
}

/// The password in a file IT named: its first line.
pub fn from_file(path: &Path) -> Result<Passphrase> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
    Ok(Passphrase::new(text.lines().next().unwrap_or("")))
}

fn read(path: &Path) -> Result<BTreeMap<String, Zeroizing<String>>> {
    let text = match std::fs::read(path) {
        Ok(t) => Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let map: BTreeMap<String, String> = serde_json::from_slice(&text)
        .map_err(|_| Error::BadConfig { path: path.display().to_string(), reason: "not a JSON object of passwords".into() })?;
    Ok(map.into_iter().map(|(k, v)| (k, Zeroizing::new(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_stored_privately_replaced_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        assert!(stored(&home, "corp").unwrap().is_none());
        set(&home, "corp", Some(&Passphrase::new("s3cret"))).unwrap();
        set(&home, "other", Some(&Passphrase::new("x"))).unwrap();
        assert_eq!(stored(&home, "corp").unwrap().unwrap().as_str(), "s3cret");
        assert!(has_stored(&home, "other"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(store_path(&home)).unwrap().permissions().mode() & 0o777, 0o600);
        }
        set(&home, "corp", Some(&Passphrase::new(""))).unwrap();
        assert!(stored(&home, "corp").unwrap().is_none());
        assert!(has_stored(&home, "other"));
        assert!(set(&home, "corp", Some(&Passphrase::new("a\nb"))).is_err());
    }
}
