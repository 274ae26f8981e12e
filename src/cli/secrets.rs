//! Secrets for the command line: from a file (its first line; `-` for stdin) or typed at a
//! hidden prompt, never from the command line itself. Every copy is wiped when dropped.

use super::{CliError, UsageError};
use crate::error::Error;
use crate::identities::seal::Passphrase;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

/// A secret from a file (its first line), from stdin (`-`), or typed at a prompt.
pub fn secret(file: Option<&str>, prompt: &str) -> Result<Passphrase, CliError> {
    match file {
        Some("-") => {
            let mut text = Zeroizing::new(String::new());
            std::io::stdin().read_to_string(&mut text).map_err(|e| Error::io("stdin", e))?;
            Ok(first_line(&text))
        }
        Some(path) => Ok(secret_file(Path::new(path))?),
        None if std::io::stdin().is_terminal() => prompt_hidden(prompt),
        None => Err(UsageError(format!("{prompt}: give it in a file (see --help)")).into()),
    }
}

/// Reads a line from the terminal without echoing it.
fn prompt_hidden(prompt: &str) -> Result<Passphrase, CliError> {
    eprint!("{prompt}: ");
    let _ = std::io::stderr().flush();
    #[cfg(unix)]
    // SAFETY: `termios` is plain data for which all-zero is a valid value; tcgetattr fills it
    // from descriptor 0 (or fails, and it is not used) and tcsetattr only reads it.
    let restore = unsafe {
        let mut term: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut term) == 0 {
            let saved = term;
            term.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &term);
            Some(saved)
        } else {
            None
        }
    };
    let mut line = Zeroizing::new(String::new());
    let read = std::io::stdin().read_line(&mut line);
    #[cfg(unix)]
    if let Some(saved) = restore {
        // SAFETY: puts back the settings tcgetattr filled in above; only reads `saved`.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &saved) };
    }
    eprintln!();
    read.map_err(|e| Error::io("terminal", e))?;
    Ok(Passphrase::new(line.trim_end_matches(['\r', '\n'])))
}


/// A secret from a file: its first line, without the line ending.
pub fn secret_file(path: &Path) -> Result<Passphrase, Error> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
    Ok(first_line(&text))
}

fn first_line(text: &str) -> Passphrase {
    Passphrase::new(text.lines().next().unwrap_or(""))
}
