//! Unlocked private keys, kept in memory for a limited time (default 15 minutes, configurable)
//! and dropped at once when anyone runs `identities lock` (the store's lock epoch changes).
//! OpenSSL wipes a key's private parts when it is freed.
//!
//! The time counts while the computer sleeps: a laptop closed for the night wakes with its keys
//! locked. `Instant` cannot do that (on Linux it is CLOCK_MONOTONIC, on macOS
//! mach_absolute_time; both stop during suspend), so the time comes from [`SystemClock`].

use super::Identity;
use openssl::pkey::{PKey, Private};
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

/// How long an unlocked key stays usable unless configured otherwise.
pub const DEFAULT_UNLOCK: Duration = Duration::from_secs(15 * 60);

/// Where unlock times are read from; tests bring their own.
pub trait Clock {
    /// Time since an arbitrary start of this clock: it never goes back, and it keeps counting
    /// while the computer sleeps.
    fn now(&mut self) -> Duration;
}

/// The system's time for unlock deadlines.
///
/// - Linux: CLOCK_BOOTTIME, the monotonic clock that includes time spent suspended.
/// - Elsewhere (macOS, Windows; no portable call in std or libc counts sleep): the later of the
///   monotonic clock (`Instant`) and the wall clock (`SystemTime`), both measured from when
///   this clock was made. The wall clock keeps counting through sleep; setting it back cannot
///   extend an unlock, because the monotonic clock still runs; setting it forward only ends
///   unlocks early.
///
/// Either way a reading never falls below an earlier one.
pub struct SystemClock {
    boot_time_at_start: Option<Duration>,
    instant_at_start: Instant,
    wall_at_start: SystemTime,
    last: Duration,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock { boot_time_at_start: boot_time(), instant_at_start: Instant::now(), wall_at_start: SystemTime::now(), last: Duration::ZERO }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&mut self) -> Duration {
        let reading = match (self.boot_time_at_start, boot_time()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => {
                let wall = SystemTime::now().duration_since(self.wall_at_start).unwrap_or(Duration::ZERO);
                self.instant_at_start.elapsed().max(wall)
            }
        };
        self.last = self.last.max(reading);
        self.last
    }
}

/// CLOCK_BOOTTIME: time since boot, suspended time included (Linux 2.6.39 and later).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn boot_time() -> Option<Duration> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    (rc == 0 && ts.tv_sec >= 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// Not available here: [`SystemClock`] combines the monotonic and the wall clock instead.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn boot_time() -> Option<Duration> {
    None
}

struct Entry {
    key: PKey<Private>,
    until: Duration,
    epoch: i64,
}

pub struct Unlocked {
    entries: HashMap<String, Entry>,
    ttl: Duration,
    clock: Box<dyn Clock>,
}

impl Default for Unlocked {
    fn default() -> Self {
        Unlocked::new(DEFAULT_UNLOCK)
    }
}

impl Unlocked {
    pub fn new(ttl: Duration) -> Unlocked {
        Unlocked::with_clock(ttl, Box::new(SystemClock::new()))
    }

    /// Unlocked keys whose time is read from `clock`.
    pub fn with_clock(ttl: Duration, clock: Box<dyn Clock>) -> Unlocked {
        Unlocked { entries: HashMap::new(), ttl, clock }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn insert(&mut self, identity: &Identity, key: PKey<Private>, epoch: i64) {
        self.insert_fingerprint(identity.fingerprint(), key, epoch);
    }

    fn insert_fingerprint(&mut self, fingerprint: String, key: PKey<Private>, epoch: i64) {
        let until = self.clock.now() + self.ttl;
        self.entries.insert(fingerprint, Entry { key, until, epoch });
    }

    /// The key, if it is unlocked, its time has not run out and nobody locked since.
    pub fn get(&mut self, fingerprint: &str, epoch: i64) -> Option<PKey<Private>> {
        self.expire(epoch);
        self.entries.get(fingerprint).map(|e| e.key.clone())
    }

    pub fn is_unlocked(&mut self, fingerprint: &str, epoch: i64) -> bool {
        self.get(fingerprint, epoch).is_some()
    }

    pub fn lock_all(&mut self) {
        self.entries.clear();
    }

    fn expire(&mut self, epoch: i64) {
        let now = self.clock.now();
        self.entries.retain(|_, e| e.until > now && e.epoch == epoch);
    }
}

/// A clock the test moves by hand (shared, so the test keeps a handle after handing it over).
#[derive(Clone, Default)]
pub struct ManualClock(std::rc::Rc<std::cell::Cell<Duration>>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        self.0.set(self.0.get() + by);
    }
}

impl Clock for ManualClock {
    fn now(&mut self) -> Duration {
        self.0.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PKey<Private> {
        PKey::from_ec_key(openssl::ec::EcKey::generate(&openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn keys_lock_themselves_when_the_time_is_up_and_on_a_new_epoch() {
        let clock = ManualClock::default();
        let mut u = Unlocked::with_clock(Duration::from_secs(15 * 60), Box::new(clock.clone()));
        u.insert_fingerprint("a".into(), key(), 1);
        clock.advance(Duration::from_secs(10 * 60));
        u.insert_fingerprint("b".into(), key(), 1);
        assert!(u.is_unlocked("a", 1) && u.is_unlocked("b", 1));
        clock.advance(Duration::from_secs(5 * 60) - Duration::from_millis(1));
        assert!(u.is_unlocked("a", 1), "a millisecond before its time");
        clock.advance(Duration::from_millis(1));
        assert!(!u.is_unlocked("a", 1), "the time ran out");
        assert!(u.is_unlocked("b", 1), "each key has its own time");
        assert!(!u.is_unlocked("b", 2), "someone ran `identities lock`: every key is gone");
        assert!(u.entries.is_empty(), "expired and locked keys are dropped, not only hidden");
    }

    /// A suspend shows up as a jump of the clock (CLOCK_BOOTTIME counts it): the keys are locked
    /// on waking, not 15 awake minutes later.
    #[test]
    fn a_sleep_past_the_unlock_time_locks_the_keys() {
        let clock = ManualClock::default();
        let mut u = Unlocked::with_clock(DEFAULT_UNLOCK, Box::new(clock.clone()));
        u.insert_fingerprint("a".into(), key(), 1);
        clock.advance(Duration::from_secs(8 * 3600));
        assert!(!u.is_unlocked("a", 1));
    }

    #[test]
    fn the_system_clock_never_goes_back_and_counts_from_zero() {
        let mut c = SystemClock::new();
        let first = c.now();
        assert!(first < Duration::from_secs(60), "{first:?}");
        let mut last = first;
        for _ in 0..1000 {
            let now = c.now();
            assert!(now >= last);
            last = now;
        }
        // A clock set back (the wall clock's start moved into the future) changes nothing.
        c.wall_at_start += Duration::from_secs(3600);
        assert!(c.now() >= last);
    }

    /// Without CLOCK_BOOTTIME the wall clock carries the time across a sleep (the monotonic
    /// clock stood still), and setting it back is caught by the monotonic clock.
    #[test]
    fn without_boot_time_the_later_of_wall_and_monotonic_clock_counts() {
        let mut c = SystemClock::new();
        c.boot_time_at_start = None;
        c.wall_at_start -= Duration::from_secs(3 * 3600);
        assert!(c.now() >= Duration::from_secs(3 * 3600), "time asleep counts");
        let mut c = SystemClock::new();
        c.boot_time_at_start = None;
        let Some(earlier) = c.instant_at_start.checked_sub(Duration::from_secs(600)) else { return };
        c.instant_at_start = earlier;
        c.wall_at_start += Duration::from_secs(3600);
        let now = c.now();
        assert!(now >= Duration::from_secs(600) && now < Duration::from_secs(700), "a clock set back is ignored: {now:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_reads_the_boot_time_clock_which_includes_suspend() {
        let boot = boot_time().expect("CLOCK_BOOTTIME");
        let mut mono = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut mono) }, 0);
        // BOOTTIME = MONOTONIC + time suspended since boot, so it is never behind.
        assert!(boot + Duration::from_millis(50) >= Duration::new(mono.tv_sec as u64, mono.tv_nsec as u32));
        assert!(SystemClock::new().boot_time_at_start.is_some());
    }
}
