//! Native-messaging mode: check the caller, then serve frames on stdin/stdout until the port closes.
//! Nothing but frames is ever written to stdout.

use crate::caller::{AllowList, Caller};
use crate::context::Context;
use crate::error::Error;
use crate::home::Home;
use crate::ops::OPS;
use crate::protocol::envelope::{error_reply, RequestId};
use crate::protocol::framing::write_frame;
use crate::protocol::session::{serve, SessionEnd};
use std::io::{self, BufWriter, Write};

/// Exit status when the session ended because a frame could not be read.
pub const EXIT_BROKEN_FRAME: u8 = 1;
/// Exit status when the caller is not allowed.
pub const EXIT_CALLER_NOT_ALLOWED: u8 = 3;
/// Exit status when the per-user folder cannot be found.
pub const EXIT_NO_HOME: u8 = 4;

/// The op table this mode serves: the CLI's `ops` command lists it (the CLI never reaches into
/// `ops`, whose handlers are this mode's front end).
pub fn op_table() -> &'static [crate::protocol::Op] {
    OPS
}

/// Runs one native-messaging session and returns the process exit status.
pub fn run(caller: Caller) -> u8 {
    let stdout = io::stdout();
    let mut output = BufWriter::with_capacity(1 << 16, stdout.lock());
    let home = match Home::resolve(None) {
        Ok(home) => home,
        Err(e) => {
            let _ = write_frame(&mut output, &error_reply(&RequestId::null(), &e)).and_then(|_| output.flush());
            return EXIT_NO_HOME;
        }
    };
    if let Err(e) = crate::logging::init(&home) {
        // stderr reaches the browser console; it is the only place left to say this.
        eprintln!("smime-companion: cannot open log: {e}");
    }
    let ctx_caller = caller.clone();
    let mut ctx = Context::new(home, Some(ctx_caller));
    for problem in &ctx.config.problems {
        log::warn!("config: {problem}");
    }
    let allow = AllowList::from_config(&ctx.config);
    if !allow.allows(&caller) {
        let identity = crate::logging::sanitize(caller.identity(), 128);
        log::warn!("refused caller {identity}");
        let error = Error::CallerNotAllowed { caller: identity };
        let _ = write_frame(&mut output, &error_reply(&RequestId::null(), &error)).and_then(|_| output.flush());
        return EXIT_CALLER_NOT_ALLOWED;
    }
    log::info!("session start caller={}", crate::logging::sanitize(caller.identity(), 128));
    widen_pipes();
    let stdin = io::stdin();
    let end = serve(OPS, &mut ctx, stdin.lock(), &mut output);
    log::info!("session end: {end:?}");
    match end {
        SessionEnd::Eof | SessionEnd::OutputClosed => 0,
        SessionEnd::BrokenFrame => EXIT_BROKEN_FRAME,
    }
}

/// Asks for 1 MiB pipe buffers (the Linux default is 64 KiB): a 25 MiB message then crosses
/// in a few dozen wake-ups instead of hundreds. Where stdin/stdout are no pipes, or the system
/// refuses, nothing changes.
fn widen_pipes() {
    #[cfg(target_os = "linux")]
    for fd in [0, 1] {
        // SAFETY: fcntl on our own standard descriptors; failure is harmless.
        unsafe {
            libc::fcntl(fd, libc::F_SETPIPE_SZ, 1 << 20);
        }
    }
}
