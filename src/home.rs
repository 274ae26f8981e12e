//! Where the companion keeps its files: the per-user data folder (contact cache, identities, logs,
//! user configuration) and the system-wide configuration IT manages.
//!
//! The per-user folder comes from `directories`; `--home DIR` or `SMIME_COMPANION_HOME` move all
//! per-user files under one folder instead (tests, portable setups).

use crate::error::{Error, Result};
use crate::product::BINARY_NAME;
use std::fs;
use std::path::{Path, PathBuf};

/// Environment variable that overrides the per-user folder.
pub const HOME_ENV: &str = "SMIME_COMPANION_HOME";
/// Environment variable that overrides the system-wide configuration file (packaging and tests).
pub const SYSTEM_CONFIG_ENV: &str = "SMIME_COMPANION_SYSTEM_CONFIG";
/// Environment variable that overrides the system-wide folder of extra trust anchors.
pub const SYSTEM_ANCHORS_ENV: &str = "SMIME_COMPANION_SYSTEM_ANCHORS";

/// The resolved folders of one run.
#[derive(Debug, Clone)]
pub struct Home {
    data_dir: PathBuf,
    config_dir: PathBuf,
}

impl Home {
    /// Resolves the folders: an explicit `--home` wins, then `SMIME_COMPANION_HOME`, then the
    /// platform's per-user folders. Nothing is created here; callers create what they write.
    pub fn resolve(explicit: Option<&Path>) -> Result<Home> {
        if let Some(dir) = explicit {
            return Ok(Home::at(dir));
        }
        if let Some(dir) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Home::at(Path::new(&dir)));
        }
        let dirs = directories::ProjectDirs::from("org", "smime-companion", BINARY_NAME).ok_or_else(|| {
            Error::io_reason("$HOME", std::io::ErrorKind::NotFound, "no home folder found; set SMIME_COMPANION_HOME or pass --home")
        })?;
        Ok(Home { data_dir: dirs.data_dir().to_path_buf(), config_dir: dirs.config_dir().to_path_buf() })
    }

    /// All per-user files under one folder.
    pub fn at(dir: &Path) -> Home {
        let dir = absolute(dir);
        Home { data_dir: dir.clone(), config_dir: dir }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn log_file(&self) -> PathBuf {
        self.log_dir().join(format!("{BINARY_NAME}.log"))
    }

    /// The per-user configuration file (see docs/CONFIG.md).
    pub fn user_config_file(&self) -> PathBuf {
        self.config_dir.join("config.json")
    }

    /// Creates a private folder (0700) below the data folder, with its parents.
    pub fn ensure_private_dir(&self, dir: &Path) -> Result<()> {
        create_private_dir(dir)
    }
}

/// The system-wide configuration file IT manages (see docs/CONFIG.md).
pub fn system_config_file() -> PathBuf {
    if let Some(p) = std::env::var_os(SYSTEM_CONFIG_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    system_dir().join("config.json")
}

/// The system-wide folder of the companion's configuration.
pub fn system_dir() -> PathBuf {
    if cfg!(windows) {
        let base = std::env::var_os("ProgramData").map(PathBuf::from);
        base.unwrap_or_else(|| PathBuf::from(r"C:\ProgramData")).join(BINARY_NAME)
    } else if cfg!(target_os = "macos") {
        PathBuf::from("/Library/Application Support").join(BINARY_NAME)
    } else {
        PathBuf::from("/etc").join(BINARY_NAME)
    }
}

/// Creates `dir` and its missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mode = fs::metadata(dir).map_err(|e| Error::io(dir, e))?.permissions().mode() & 0o777;
        if mode != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| Error::io(dir, e))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
    }
}

/// Writes a file readable only by the user (0600), atomically ([`crate::atomic`]): a crash
/// never leaves half a file.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic::write(path, bytes, 0o600)
}

fn absolute(dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().map(|cwd| cwd.join(dir)).unwrap_or_else(|_| dir.to_path_buf())
    }
}
