//! Writing a file so that a reader never sees half of it, even after a crash: the bytes go to a
//! temporary file in the same folder, which is flushed to disk and then renamed over the target
//! (on Unix the folder is flushed too, so the rename itself survives a crash). Every file the
//! companion writes whole goes through here: host manifests and policies (0644, read by browsers
//! running as any user), the receipt, and the user's private files (0600).

use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, with exactly the Unix permission bits `mode` whatever the
/// umask (ignored elsewhere). The temporary file never has wider permissions than `mode`.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = temporary_path(path);
    if let Err(e) = write_synced(&tmp, bytes, mode) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })?;
    #[cfg(unix)]
    {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // Best effort: the new file is complete either way; this keeps the rename over a crash.
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// `.NAME.PID.tmp` beside `path`: hidden, and one per process so two writers never share one.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_synced(tmp: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut file = options.open(tmp)?;
    // The umask may have narrowed the mode given at creation, and a file left over by a crashed
    // writer with this process id keeps its old mode: either way it gets exactly `mode`, before
    // any byte is written.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(bytes)?;
    // Without this a crash soon after the rename can leave an empty file in its place.
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".tmp")).collect()
    }

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write(&path, b"first", 0o644).unwrap();
        write(&path, b"second, longer", 0o644).unwrap();
        write(&path, b"3", 0o644).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"3");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_gets_exactly_the_mode_asked_for() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let public = dir.path().join("manifest.json");
        write(&public, b"{}", 0o644).unwrap();
        assert_eq!(mode(&public), 0o644);
        // A private file replacing a public one does not inherit its mode.
        write(&public, b"secret", 0o600).unwrap();
        assert_eq!(mode(&public), 0o600);
        // A temporary file left by a crashed writer with our process id has its mode replaced.
        let private = dir.path().join("p");
        fs::write(temporary_path(&private), b"old").unwrap();
        fs::set_permissions(temporary_path(&private), fs::Permissions::from_mode(0o666)).unwrap();
        write(&private, b"new", 0o600).unwrap();
        assert_eq!((mode(&private), fs::read(&private).unwrap()), (0o600, b"new".to_vec()));
    }

    #[test]
    fn a_failed_write_names_the_path_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the rename fails.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"x").unwrap();
        let e = write(&path, b"data", 0o644).unwrap_err();
        assert_eq!(e.code(), "io_error");
        assert!(e.to_string().starts_with(&path.display().to_string()), "{e}");
        assert!(leftovers(dir.path()).is_empty());
        // No folder at all: the temporary file cannot be made.
        let e = write(&dir.path().join("missing/a.json"), b"data", 0o644).unwrap_err();
        assert_eq!(e.code(), "io_error");
    }
}
