//! The log file: `<data>/logs/smime-companion.log`, mode 0600, rotated at `MAX_LOG_BYTES` with one
//! previous generation kept (`.log.1`). Level from `SMIME_COMPANION_LOG` (off, error, warn, info,
//! debug, trace; default info).
//!
//! What may be logged: op names, request ids, durations, outcome codes, sizes, fingerprints. What
//! never is: request params, message content, keys, passwords. Logging never writes to stdout,
//! which in native-messaging mode carries only frames.
//!
//! Every record is one line with no hidden characters: the logger neutralises each message
//! (`untrusted::neutralize`) before it is written, whatever a caller put in it, so a name or
//! address from a certificate cannot add a line or reorder one.

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
    let logger = NeutralLogger(WriteLogger::new(level, config, writer));
    log::set_boxed_logger(Box::new(logger)).map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
    log::set_max_level(level);
    Ok(())
}

/// Hands each record on with its message neutralised: one line, nothing hidden.
struct NeutralLogger<L>(Box<L>);

impl<L: log::Log> log::Log for NeutralLogger<L> {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        let clean = crate::untrusted::neutralize(&text);
        self.0.log(
            &log::Record::builder()
                .args(format_args!("{clean}"))
                .metadata(record.metadata().clone())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush()
    }
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

/// Makes a string that came from outside safe for one line of the log, a terminal or an error
/// message: hidden characters made visible (`untrusted::shown`), at most `max_chars` of it.
pub fn sanitize(text: &str, max_chars: usize) -> String {
    crate::untrusted::shown(text, max_chars)
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
    fn sanitize_makes_hidden_characters_visible_and_bounds_length() {
        assert_eq!(sanitize("a\nb\x1b[31m\u{202e}", 100), "a⟨U+000A⟩b⟨U+001B⟩[31m⟨U+202E⟩");
        assert_eq!(sanitize("abcdef", 3), "abc…");
    }

    /// What a record says goes through the neutraliser whatever the caller put in it.
    #[test]
    fn every_log_record_is_one_line_without_hidden_characters() {
        use log::Log;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.log");
        let writer = RotatingFile::open(path.clone(), MAX_LOG_BYTES).unwrap();
        let logger = NeutralLogger(WriteLogger::new(LevelFilter::Info, simplelog::Config::default(), writer));
        let name = "Mallory\u{202e}gpj.exe\nFAKE ERROR line\u{200b}";
        logger.log(&log::Record::builder().args(format_args!("signer {name}")).level(log::Level::Warn).build());
        logger.log(&log::Record::builder().args(format_args!("not shown")).level(log::Level::Debug).build());
        logger.flush();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("signer Mallory⟨U+202E⟩gpj.exe⟨U+000A⟩FAKE ERROR line⟨U+200B⟩"), "{text}");
        assert!(!text.contains("not shown"));
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
