//! Test support (built for unit tests only): a guard for work that must grow linearly with its
//! input, for the tests that pin a former blow-up (quadratic time), so that a reintroduced one
//! fails instead of passing slowly.
//!
//! The work runs for an input of size n and of size 4n and is timed in CPU time of the thread
//! doing it: linear work takes about 4 times as long, quadratic 16 times. The ratio does not
//! depend on how fast the machine is, and CPU time does not grow when the machine is busy (other
//! builds, other tests), so there is no wall-clock bound to miss. Only a hang is caught by the
//! wall clock, after minutes.

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

/// The larger input may cost at most this many times the smaller: linear work costs 4 times as
/// much (a little more where the larger input no longer fits a cache), quadratic 16 times.
pub const MAX_GROWTH: f64 = 8.0;

/// Below this the larger run is too quick to be a blow-up of any consequence, and too short to
/// time well.
pub const NEGLIGIBLE: Duration = Duration::from_millis(20);

/// No answer after this long (wall clock) is a hang.
const HANG_LIMIT: Duration = Duration::from_secs(600);

/// CPU time the calling thread has used so far.
pub fn thread_cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID");
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
    #[cfg(not(unix))]
    {
        // No per-thread CPU clock in std: the time since the first call stands in.
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed()
    }
}

/// Whether the costs of the input of size n (`small`) and 4n (`large`) show linear growth.
pub fn grows_linearly(small: Duration, large: Duration) -> bool {
    large < NEGLIGIBLE || large.as_secs_f64() <= MAX_GROWTH * small.as_secs_f64()
}

/// Fails unless `work` on `input(4 * n)` costs less than [`MAX_GROWTH`] times what it costs on
/// `input(n)`, in CPU time. Inputs are made outside the timing; `n` should be large enough for
/// the larger run to take well over [`NEGLIGIBLE`]. A ratio over the bound is measured once more
/// (the smaller of two readings counts) before the test fails.
pub fn assert_linear<T: 'static>(
    what: &str,
    n: usize,
    input: impl Fn(usize) -> T + Send + 'static,
    work: impl Fn(&T) + Send + 'static,
) {
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let cost = |size: usize| {
            let data = input(size);
            let start = thread_cpu_time();
            work(&data);
            thread_cpu_time() - start
        };
        let (mut small, mut large) = (cost(n), cost(4 * n));
        if !grows_linearly(small, large) {
            small = small.min(cost(n));
            large = large.min(cost(4 * n));
        }
        let _ = done.send((small, large));
    });
    match finished.recv_timeout(HANG_LIMIT) {
        Ok((small, large)) => {
            worker.join().unwrap();
            // Shown with `--nocapture`: the sizes should make the larger run take well over NEGLIGIBLE.
            eprintln!("{what}: {small:?} of CPU time for n = {n}, {large:?} for 4n");
            assert!(
                grows_linearly(small, large),
                "{what}: {:?} for n = {n}, {:?} for 4n: {:.1} times as long, more than linear work ({MAX_GROWTH})",
                small,
                large,
                large.as_secs_f64() / small.as_secs_f64()
            );
        }
        Err(RecvTimeoutError::Disconnected) => std::panic::resume_unwind(worker.join().unwrap_err()),
        Err(RecvTimeoutError::Timeout) => panic!("{what}: no end after {HANG_LIMIT:?}: a hang"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(units: usize) {
        let mut x = 0u64;
        for i in 0..units as u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
    }

    #[test]
    fn linear_work_passes_and_quadratic_work_fails() {
        assert_linear("linear", 500_000, |n| n, |&n| spin(20 * n));
        let quadratic = std::panic::catch_unwind(|| assert_linear("quadratic", 2_000, |n| n, |&n| spin(n * n)));
        let message = *quadratic.expect_err("quadratic work must fail").downcast::<String>().unwrap();
        assert!(message.contains("more than linear work"), "{message}");
    }

    #[test]
    fn only_a_large_run_that_takes_long_can_fail() {
        let ms = Duration::from_millis;
        assert!(grows_linearly(ms(10), ms(40)));
        assert!(!grows_linearly(ms(10), ms(160)));
        assert!(grows_linearly(Duration::ZERO, ms(19)), "too quick to matter");
        assert!(!grows_linearly(Duration::ZERO, ms(21)));
    }
}
