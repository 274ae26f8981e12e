//! Guards for work that must grow linearly with its input, for the tests that pin a former
//! blow-up (quadratic time), so that a reintroduced one fails instead of passing slowly. The unit
//! tests have the same guard in-process (src/growth.rs).
//!
//! The work is timed in CPU time, never by the wall clock: the real binary's user and system time
//! (from `wait4`), or the time of the thread doing the work. A busy machine (other builds, other
//! tests on two cores) stretches the wall clock, not these. A blow-up is told by growth: the
//! input of size 4n may cost at most [`MAX_GROWTH`] times what size n costs, where linear work
//! costs 4 times as much and quadratic 16 times, on any machine. Only a hang is caught by the
//! wall clock ([`HANG_LIMIT`]).

use std::process::{Command, ExitStatus};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

/// The larger input may cost at most this many times the smaller: linear work costs 4 times as
/// much (a little more where the larger input no longer fits a cache), quadratic 16 times.
pub const MAX_GROWTH: f64 = 8.0;

/// A larger run cheaper than this is no blow-up of any consequence (and too short to time well).
pub const NEGLIGIBLE: Duration = Duration::from_millis(100);

/// No answer after this long (wall clock) is a hang, not slowness.
pub const HANG_LIMIT: Duration = Duration::from_secs(600);

/// Whether the costs at size n (`small`) and 4n (`large`) show linear growth.
pub fn grows_linearly(small: Duration, large: Duration) -> bool {
    large < NEGLIGIBLE || large.as_secs_f64() <= MAX_GROWTH * small.as_secs_f64()
}

/// Fails unless `cost(4 * n)` is at most [`MAX_GROWTH`] times `cost(n)`. A ratio over the
/// bound is measured once more (the smaller of two readings counts) before the test fails.
pub fn assert_linear(what: &str, n: usize, mut cost: impl FnMut(usize) -> Duration) {
    let (mut small, mut large) = (cost(n), cost(4 * n));
    if !grows_linearly(small, large) {
        small = small.min(cost(n));
        large = large.min(cost(4 * n));
    }
    // Shown with `--nocapture`: the sizes should make the larger run take well over NEGLIGIBLE.
    eprintln!("{what}: {small:?} of CPU time for n = {n}, {large:?} for 4n");
    assert!(
        grows_linearly(small, large),
        "{what}: {small:?} of CPU time for n = {n}, {large:?} for 4n: {:.1} times as much, more than linear work ({MAX_GROWTH})",
        large.as_secs_f64() / small.as_secs_f64()
    );
}

/// Runs `cmd` to its end and returns its exit status and the CPU time it used (user + system).
/// A program still running after [`HANG_LIMIT`] is killed and the test fails.
#[cfg(unix)]
pub fn run_timed(cmd: &mut Command) -> (ExitStatus, Duration) {
    use std::os::unix::process::ExitStatusExt;
    let child = cmd.spawn().expect("the program starts");
    let pid = child.id() as libc::pid_t;
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: wait4 writes into the two valid, exclusively borrowed locals; `pid` is our
            // child, and nothing else waits for it.
            let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if rc == pid {
                break;
            }
            assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EINTR), "wait4");
        }
        let _ = done.send((status, usage));
    });
    let (status, usage) = match finished.recv_timeout(HANG_LIMIT) {
        Ok(result) => result,
        Err(RecvTimeoutError::Disconnected) => std::panic::resume_unwind(waiter.join().unwrap_err()),
        Err(RecvTimeoutError::Timeout) => {
            // SAFETY: the child has not been reaped (the waiter has not returned), so `pid` is
            // still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{cmd:?} still running after {HANG_LIMIT:?}: a hang");
        }
    };
    drop(child);
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (ExitStatus::from_raw(status), time(usage.ru_utime) + time(usage.ru_stime))
}

/// CPU time the calling thread has used so far.
#[cfg(unix)]
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
