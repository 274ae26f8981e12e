//! A temporary machine for the installer tests: HOME, a system root, the companion's data folder
//! and a host program, and the real binary run against them.
#![allow(dead_code)]

use super::common::{self, BIN};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary machine: HOME, a system root, the companion's data folder and a host program.
pub struct Machine {
    _dir: tempfile::TempDir,
    pub home: PathBuf,
    pub root: PathBuf,
    pub data: PathBuf,
    pub host: PathBuf,
}

impl Machine {
    pub fn new() -> Machine {
        let dir = common::temp_home();
        let base = dir.path().to_path_buf();
        let (home, root, data) = (base.join("home"), base.join("root"), base.join("data"));
        for d in [&home, &root, &data] {
            std::fs::create_dir_all(d).unwrap();
        }
        let host = base.join("bin/smime-companion");
        write_exe(&host);
        Machine { _dir: dir, home, root, data, host }
    }

    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("HOME", &self.home)
            .env("SMIME_COMPANION_HOME", &self.data)
            .env("SMIME_COMPANION_SYSTEM_CONFIG", self.data.join("system-config.json"))
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("SMIME_COMPANION_LOG")
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}\nstdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    pub fn root_str(&self) -> &str {
        self.root.to_str().unwrap()
    }

    pub fn host_str(&self) -> &str {
        self.host.to_str().unwrap()
    }

    pub fn user_manifest(&self) -> PathBuf {
        self.home.join(".mozilla/native-messaging-hosts/smime_companion.json")
    }

    pub fn install_user(&self) -> String {
        self.ok(&["install", "--user", "--path", self.host_str(), "--root", self.root_str()])
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn write_exe(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
    set_mode(path, 0o755);
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

