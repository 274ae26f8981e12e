//! Decides the mode: native messaging when a browser started us, the CLI otherwise.

use smime_companion::caller::Caller;
use smime_companion::{cli, native};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let caller = Caller::detect(&args);
    let native_mode = caller.is_some();
    // A panic is logged; the session turns it into an `internal_error` reply. Only a person at a
    // terminal also gets a line on stderr (stdout is the wire in native mode).
    std::panic::set_hook(Box::new(move |info| {
        log::error!("panic: {info}");
        if !native_mode {
            eprintln!("smime-companion: internal error: {info}");
        }
    }));
    let status = match caller {
        Some(caller) => native::run(caller),
        None => {
            // A person piping output into `head` or `grep -q` expects a quiet exit when the pipe
            // closes, as with any Unix tool. (In native mode a closed pipe ends the session.)
            #[cfg(unix)]
            // SAFETY: sets a signal's disposition to the default, before any other thread
            // exists; no handler of ours runs.
            unsafe {
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            }
            cli::run(args)
        }
    };
    ExitCode::from(status)
}
