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

    pub fn set_ttl(&mut self, ttl: Duration) {
        self.ttl = ttl;
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

    /// Seconds until the key locks itself again.
    pub fn remaining(&self, fingerprint: &str) -> Option<u64> {
        self.entries.get(fingerprint).map(|e| e.until.saturating_duration_since(Instant::now()).as_secs())
    }

    pub fn lock_all(&mut self) {
        self.entries.clear();
    }

    fn expire(&mut self, epoch: i64) {
        let now = Instant::now();
        self.entries.retain(|_, e| e.until > now && e.epoch == epoch);
    }
}
