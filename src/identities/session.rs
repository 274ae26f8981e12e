//! Unlocked private keys, kept in memory for a limited time (default 15 minutes, configurable)
//! and dropped at once when anyone runs `identities lock` (the store's lock epoch changes).
//! OpenSSL wipes a key's private parts when it is freed.

use super::Identity;
use openssl::pkey::{PKey, Private};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an unlocked key stays usable unless configured otherwise.
pub const DEFAULT_UNLOCK: Duration = Duration::from_secs(15 * 60);

struct Entry {
    key: PKey<Private>,
    until: Instant,
    epoch: i64,
}

pub struct Unlocked {
    entries: HashMap<String, Entry>,
    ttl: Duration,
}

impl Default for Unlocked {
    fn default() -> Self {
        Unlocked::new(DEFAULT_UNLOCK)
    }
}

impl Unlocked {
    pub fn new(ttl: Duration) -> Unlocked {
        Unlocked { entries: HashMap::new(), ttl }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn insert(&mut self, identity: &Identity, key: PKey<Private>, epoch: i64) {
        self.entries.insert(identity.fingerprint(), Entry { key, until: Instant::now() + self.ttl, epoch });
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
        let now = Instant::now();
        self.entries.retain(|_, e| e.until > now && e.epoch == epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PKey<Private> {
        PKey::from_ec_key(openssl::ec::EcKey::generate(&openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn keys_lock_themselves_after_the_time_and_on_a_new_epoch() {
        let mut u = Unlocked::new(Duration::from_millis(200));
        u.entries.insert("a".into(), Entry { key: key(), until: Instant::now() + u.ttl, epoch: 1 });
        u.entries.insert("b".into(), Entry { key: key(), until: Instant::now() + Duration::from_secs(60), epoch: 1 });
        assert!(u.is_unlocked("a", 1));
        assert!(!u.is_unlocked("b", 2), "someone ran `identities lock`: every key is gone");
        assert!(!u.is_unlocked("a", 2));
        u.entries.insert("a".into(), Entry { key: key(), until: Instant::now() + u.ttl, epoch: 2 });
        std::thread::sleep(Duration::from_millis(300));
        assert!(!u.is_unlocked("a", 2), "the time ran out");
        assert!(u.entries.is_empty(), "expired keys are dropped, not only hidden");
    }
}
