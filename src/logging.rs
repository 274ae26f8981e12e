//! The log file: `<data>/logs/smime-companion.log`, mode 0600, rotated at `MAX_LOG_BYTES` with one
//! previous generation kept (`.log.1`). Level from `SMIME_COMPANION_LOG` (off, error, warn, info,
//! debug, trace; default info).
//!
//! What may be logged: op names, request ids, durations, outcome codes, sizes, fingerprints. What
//! never is: request params, message content, keys, passwords. Logging never writes to stdout,
//! which in native-messaging mode carries only frames.

use crate::home::{create_private_dir, Home};
use log::LevelFilter;
use simplelog::{ConfigBuilder, WriteLogger};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Environment variable that sets the log level.
pub const LOG_LEVEL_ENV: &str = "SMIME_COMPANION_LOG";
/// Size at which the log file is rotated.
pub const MAX_LOG_BYTES: u64 = 4 * 1024 * 1024;

/// Installs the file logger. Failing to open the log is not fatal: the host must still answer,
/// so the failure is returned for the caller to mention where it can (stderr in CLI mode).
pub fn init(home: &Home) -> io::Result<()> {
    let level = level_from_env();
    if level == LevelFilter::Off {
        return Ok(());
    }
    create_private_dir(&home.log_dir()).map_err(|e| io::Error::new(io::ErrorKind::Other, e.to_string()))?;
    let writer = RotatingFile::open(home.log_file(), MAX_LOG_BYTES)?;
    let config = ConfigBuilder::new()
        .set_time_format_rfc3339()
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .set_location_level(LevelFilter::Off)
        .build();
    WriteLogger::init(level, config, writer).map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
    Ok(())
}

fn level_from_env() -> LevelFilter {
    match std::env::var(LOG_LEVEL_ENV).unwrap_or_default().trim().to_ascii_lowercase().as_str() {
        "off" | "none" => LevelFilter::Off,
        "error" => LevelFilter::Error,
        "warn" | "warning" => LevelFilter::Warn,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        _ => LevelFilter::Info,
    }
}

/// Makes a string that came from outside safe for one log line: no control characters, bounded.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out
}

/// An append-only file that moves itself to `<name>.1` when it grows past its cap. Several
/// processes may append at once (host and CLI); a rotation race at worst loses one generation.
struct RotatingFile {
    path: PathBuf,
    file: File,
    written: u64,
    max_bytes: u64,
}

impl RotatingFile {
    fn open(path: PathBuf, max_bytes: u64) -> io::Result<RotatingFile> {
        let file = open_private_append(&path)?;
        let written = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut log = RotatingFile { path, file, written, max_bytes };
        if log.written >= log.max_bytes {
            log.rotate()?;
        }
        Ok(log)
    }

    fn rotate(&mut self) -> io::Result<()> {
        let old = self.path.with_extension("log.1");
        fs::rename(&self.path, &old)?;
        self.file = open_private_append(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written >= self.max_bytes {
            // Another process may have rotated already; either way start a fresh file.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn open_private_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A file created by an older version or by hand may be wider; the log names fingerprints.
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_control_characters_and_bounds_length() {
        assert_eq!(sanitize("a\nb\x1b[31m", 100), "a?b?[31m");
        assert_eq!(sanitize("abcdef", 3), "abc…");
    }

    #[test]
    fn rotating_file_moves_full_log_aside() {
        let dir = std::env::temp_dir().join(format!("smc-log-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.log");
        let mut log = RotatingFile::open(path.clone(), 10).unwrap();
        log.write_all(b"0123456789").unwrap();
        log.write_all(b"abc").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"abc");
        assert_eq!(fs::read(dir.join("x.log.1")).unwrap(), b"0123456789");
        fs::remove_dir_all(&dir).unwrap();
    }
}
