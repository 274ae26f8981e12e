//! The module's state between `C_Initialize` and `C_Finalize`: the current [`Snapshot`] of the
//! two databases, the sessions with their running operations, and the login (the private keys
//! the PIN opened).
//!
//! Concurrency: NSS calls from many threads (lookups run on `CryptoTask` threads). `state` is one
//! mutex held only for short, non-blocking work; the databases sit behind their own mutex,
//! taken with `try_lock` so a thread never waits for another's reading: it serves the snapshot
//! it has. Login's key derivation (PBKDF2, ~0.3 s per identity) runs with no lock held. Lock
//! order: `source`, then `state`.
//!
//! Freshness: at most once a second by its [`Clock`] (on `C_FindObjectsInit`, and at login) the
//! module asks each database for `PRAGMA data_version`, which changes when another process commits; only then
//! does it read that database again. Each database is opened and read on its own: when one
//! cannot be opened or read (missing, locked, damaged, too new), what was last read from it stays
//! in use and the other is still read. Reads wait at most [`BUSY_TIMEOUT`] for a lock. An
//! `identities lock` (the store's lock epoch) logs out.

use crate::crypto::{self, EcdhParams, Mechanism};
use crate::objects::{secret_key_object, Handles, KeyKind, Object, Snapshot, Sources, TokenCert};
use crate::usable::{Candidate, UsableFilter};
use crate::types::*;
use openssl::pkey::{PKey, Private};
use smime_companion::contacts::{self, ContactCache};
use smime_companion::home::Home;
use smime_companion::identities::seal::Passphrase;
use smime_companion::identities::{self, IdentityStore};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The one slot this module has.
pub const SLOT_ID: CK_SLOT_ID = 1;
/// How often the databases are asked whether they changed.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a read waits for another process's lock before the old snapshot is served.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(100);
/// Session objects (derived keys) get handles from here up, token objects below.
const SESSION_OBJECT_BASE: CK_OBJECT_HANDLE = 0x4000_0000;

/// Where the module reads the time for [`POLL_INTERVAL`]; tests bring a [`ManualClock`]
/// ([`crate::set_clock_override`]) and move it on instead of sleeping.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary start of this clock; it never goes back.
    fn now(&self) -> Duration;
}

/// The monotonic clock (a suspended computer has nothing to poll for, so `Instant` does).
pub struct SystemClock(Instant);

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock(Instant::now())
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A clock moved by hand, shared between the module and the test that moves it.
#[derive(Default)]
pub struct ManualClock(Mutex<Duration>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *lock(&self.0) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *lock(&self.0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpKind {
    Sign,
    Decrypt,
}

/// The key an operation uses.
enum OpKey {
    Private(PKey<Private>, KeyKind),
    /// A secret key derived on this token (its value, wiped when dropped).
    Secret(Zeroizing<Vec<u8>>),
}

struct Operation {
    mechanism: Mechanism,
    key: OpKey,
    /// Data from `C_SignUpdate`.
    buffer: Vec<u8>,
    /// A decryption result (a content key) kept after `CKR_BUFFER_TOO_SMALL`, for the caller's
    /// next call.
    result: Option<Zeroizing<Vec<u8>>>,
}

impl Operation {
    /// The output length (an upper bound for decryption) for `input_len` bytes of input.
    fn out_len(&self, input_len: usize) -> usize {
        match self.key {
            OpKey::Private(_, KeyKind::Rsa { modulus_len }) => modulus_len,
            OpKey::Private(_, KeyKind::Ec { field_len }) => 2 * field_len,
            OpKey::Secret(_) => input_len.saturating_sub(8),
        }
    }
}

#[derive(Default)]
struct Session {
    rw: bool,
    find: Option<(Vec<CK_OBJECT_HANDLE>, usize)>,
    sign: Option<Operation>,
    decrypt: Option<Operation>,
}

struct Login {
    /// Unlocked keys by identity (certificate fingerprint).
    keys: HashMap<String, PKey<Private>>,
    epoch: i64,
    /// Every identity there was at the login (opened by the PIN or not).
    known: HashSet<String>,
    /// An identity arrived since: the login ends where NSS looks for it (C_GetSessionInfo).
    stale: bool,
}

pub struct State {
    pub snapshot: Arc<Snapshot>,
    sessions: HashMap<CK_SESSION_HANDLE, Session>,
    next_session: CK_SESSION_HANDLE,
    login: Option<Login>,
    session_objects: HashMap<CK_OBJECT_HANDLE, (CK_SESSION_HANDLE, Object)>,
    next_session_object: CK_OBJECT_HANDLE,
}

/// Where the objects come from.
struct Source {
    home: Option<Home>,
    contacts: Db<ContactCache>,
    identities: Db<IdentityStore>,
    /// What was last read from each database.
    sources: Sources,
    /// The contact cache's end-entity certificates, before `usable` picked those to offer.
    candidates: Vec<Candidate>,
    usable: UsableFilter,
    clock: Arc<dyn Clock>,
    /// When the databases were last asked, by `clock`.
    last_poll: Option<Duration>,
    handles: Handles,
}

/// One database the module reads: its connection once it could be opened, and the
/// `data_version` its last successful read saw.
struct Db<T> {
    name: &'static str,
    conn: Option<T>,
    version: Option<i64>,
    /// Successful reads so far.
    reads: u64,
}

impl<T> Db<T> {
    fn new(name: &'static str) -> Db<T> {
        Db { name, conn: None, version: None, reads: 0 }
    }

    /// The connection and its current `data_version` when the database changed since it was last
    /// read (opening it when it has appeared); None when it did not, or could not be asked.
    fn changed(
        &mut self,
        path: &Path,
        open: impl FnOnce(&Path) -> smime_companion::error::Result<T>,
        data_version: impl FnOnce(&T) -> smime_companion::error::Result<i64>,
    ) -> Option<(&T, i64)> {
        if self.conn.is_none() {
            // The module never creates the user's databases.
            if !path.is_file() {
                return None;
            }
            match open(path) {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    self.failed(&e);
                    return None;
                }
            }
        }
        let conn = self.conn.as_ref()?;
        match data_version(conn) {
            Ok(v) if self.version == Some(v) => None,
            Ok(v) => Some((conn, v)),
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    fn read(&mut self, version: i64) {
        self.version = Some(version);
        self.reads += 1;
        let (name, reads) = (self.name, self.reads);
        crate::trace_line(|| format!("refresh: {name} read ({reads} reads)"));
    }

    fn failed(&self, e: &smime_companion::error::Error) {
        let name = self.name;
        crate::trace_line(|| format!("refresh: {name} failed, keeping what was read from it before: {e}"));
        log::warn!("pkcs11: {name}: keeping what was read before: {}", smime_companion::error::Chain(e));
    }
}

/// What a sign or decrypt call gives back.
pub enum Output {
    /// Size query (no buffer): the length; the operation goes on.
    Length(usize),
    /// The buffer is too small: the length needed; the operation goes on.
    TooSmall(usize),
    /// The result (for a decryption, a content key: wiped when dropped); the operation has ended.
    Done(Zeroizing<Vec<u8>>),
}

pub struct Module {
    state: Mutex<State>,
    source: Mutex<Source>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Module {
    /// A module over the data folder `home` (None: no data, only the profile object).
    pub fn new(home: Option<Home>) -> Module {
        Module::with_clock(home, Arc::new(SystemClock::new()))
    }

    /// A module whose polling reads the time from `clock`.
    pub fn with_clock(home: Option<Home>, clock: Arc<dyn Clock>) -> Module {
        let m = Module {
            state: Mutex::new(State {
                snapshot: Arc::new(Snapshot::empty()),
                sessions: HashMap::new(),
                next_session: 1,
                login: None,
                session_objects: HashMap::new(),
                next_session_object: SESSION_OBJECT_BASE,
            }),
            source: Mutex::new(Source::new(home, clock)),
        };
        m.refresh(true);
        m
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Reads the databases again if they changed (at most once per [`POLL_INTERVAL`] unless
    /// `force`). Never waits for another thread that is reading them.
    pub fn refresh(&self, force: bool) {
        let mut src = match self.source.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let now = src.clock.now();
        if !force && src.last_poll.is_some_and(|t| now.saturating_sub(t) < POLL_INTERVAL) {
            return;
        }
        src.last_poll = Some(now);
        if let Some(snapshot) = src.poll() {
            crate::trace_line(|| format!("refresh: {} objects, {} identities", snapshot.objects.len(), snapshot.identities.len()));
            self.state().install(snapshot)
        }
    }

    // --- sessions ---------------------------------------------------------------------------

    pub fn open_session(&self, flags: CK_FLAGS) -> Result<CK_SESSION_HANDLE, CK_RV> {
        if flags & CKF_SERIAL_SESSION == 0 {
            return Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
        }
        if flags & CKF_RW_SESSION != 0 {
            return Err(CKR_TOKEN_WRITE_PROTECTED);
        }
        let mut st = self.state();
        let h = st.next_session;
        st.next_session += 1;
        st.sessions.insert(h, Session { rw: false, ..Session::default() });
        Ok(h)
    }

    pub fn close_session(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        let mut st = self.state();
        st.sessions.remove(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        st.session_objects.retain(|_, (owner, _)| *owner != h);
        if st.sessions.is_empty() {
            st.login = None;
        }
        Ok(())
    }

    pub fn close_all_sessions(&self) {
        let mut st = self.state();
        st.sessions.clear();
        st.session_objects.clear();
        st.login = None;
    }

    /// (state, flags) of a session.
    pub fn session_info(&self, h: CK_SESSION_HANDLE) -> Result<(CK_STATE, CK_FLAGS), CK_RV> {
        // NSS asks this to see whether a removable token is still the same one.
        self.refresh(false);
        let mut st = self.state();
        st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if st.login.as_ref().is_some_and(|l| l.stale) {
            // The next use asks for the passphrase, which then opens the new identity too.
            log::info!("pkcs11: an identity was added; logged out");
            st.login = None;
            for s in st.sessions.values_mut() {
                s.sign = None;
                s.decrypt = None;
            }
        }
        let s = st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let state = match (st.login.is_some(), s.rw) {
            (false, false) => CKS_RO_PUBLIC_SESSION,
            (false, true) => CKS_RW_PUBLIC_SESSION,
            (true, false) => CKS_RO_USER_FUNCTIONS,
            (true, true) => CKS_RW_USER_FUNCTIONS,
        };
        Ok((state, CKF_SERIAL_SESSION | if s.rw { CKF_RW_SESSION } else { 0 }))
    }

    pub fn check_session(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        self.state().sessions.get(&h).map(|_| ()).ok_or(CKR_SESSION_HANDLE_INVALID)
    }

    /// (sessions, read-write sessions, has identities) for C_GetTokenInfo.
    pub fn token_counts(&self) -> (usize, usize, bool) {
        let st = self.state();
        (st.sessions.len(), st.sessions.values().filter(|s| s.rw).count(), !st.snapshot.identities.is_empty())
    }

    // --- login ------------------------------------------------------------------------------

    pub fn login(&self, h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: &[u8]) -> Result<(), CK_RV> {
        {
            let st = self.state();
            st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
            match user {
                CKU_USER => {}
                CKU_CONTEXT_SPECIFIC => return Err(CKR_OPERATION_NOT_INITIALIZED),
                CKU_SO => return Err(CKR_PIN_INCORRECT),
                _ => return Err(CKR_USER_TYPE_INVALID),
            }
            if st.login.is_some() {
                return Err(CKR_USER_ALREADY_LOGGED_IN);
            }
        }
        self.refresh(true);
        let snapshot = self.state().snapshot.clone();
        if snapshot.identities.is_empty() {
            return Err(CKR_USER_PIN_NOT_INITIALIZED);
        }
        let Ok(text) = std::str::from_utf8(pin) else { return Err(CKR_PIN_INCORRECT) };
        let passphrase = Passphrase::new(text);
        // Every identity that opens with this PIN is unlocked (they may have different
        // passphrases); PBKDF2 runs for each, two at a time, with no lock held.
        let mut keys = HashMap::new();
        for chunk in snapshot.identities.chunks(2) {
            let opened: Vec<Option<(String, PKey<Private>)>> = std::thread::scope(|scope| {
                let handles: Vec<_> =
                    chunk.iter().map(|i| scope.spawn(|| i.unlock(&passphrase).ok().map(|k| (i.fingerprint(), k)))).collect();
                handles.into_iter().map(|t| t.join().ok().flatten()).collect()
            });
            keys.extend(opened.into_iter().flatten());
        }
        if keys.is_empty() {
            return Err(CKR_PIN_INCORRECT);
        }
        let mut st = self.state();
        st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if st.login.is_some() {
            return Err(CKR_USER_ALREADY_LOGGED_IN);
        }
        if st.snapshot.lock_epoch != snapshot.lock_epoch {
            // Locked (identities lock) while we were deriving: the PIN no longer counts.
            return Err(CKR_PIN_INCORRECT);
        }
        let known = snapshot.identities.iter().map(|i| i.fingerprint()).collect();
        st.login = Some(Login { keys, epoch: snapshot.lock_epoch, known, stale: false });
        Ok(())
    }

    pub fn logout(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        let mut st = self.state();
        st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if st.login.take().is_none() {
            return Err(CKR_USER_NOT_LOGGED_IN);
        }
        for s in st.sessions.values_mut() {
            s.sign = None;
            s.decrypt = None;
        }
        Ok(())
    }

    // --- objects ------------------------------------------------------------------------------

    /// Runs `f` on a visible object (token or session object).
    pub fn with_object<R>(&self, h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE, f: impl FnOnce(&Object) -> R) -> Result<R, CK_RV> {
        let st = self.state();
        st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if let Some((_, obj)) = st.session_objects.get(&o) {
            return Ok(f(obj));
        }
        let obj = st.snapshot.object(o).filter(|obj| st.visible(obj)).ok_or(CKR_OBJECT_HANDLE_INVALID)?;
        Ok(f(obj))
    }

    /// Starts a search; returns how many objects it found.
    pub fn find_init(&self, h: CK_SESSION_HANDLE, template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)]) -> Result<usize, CK_RV> {
        self.refresh(false);
        let mut st = self.state();
        let State { snapshot, sessions, login, session_objects, .. } = &mut *st;
        let session = sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if session.find.is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        let mut found = snapshot.find(template, |o| visible(login, o));
        found.extend(session_objects.iter().filter(|(_, (_, o))| o.matches(template)).map(|(h, _)| *h));
        let n = found.len();
        session.find = Some((found, 0));
        Ok(n)
    }

    pub fn find_next(&self, h: CK_SESSION_HANDLE, max: usize) -> Result<Vec<CK_OBJECT_HANDLE>, CK_RV> {
        let mut st = self.state();
        let s = st.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let (found, pos) = s.find.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        // `max` comes from the caller (CK_ULONG): it may be anything up to usize::MAX.
        let end = pos.saturating_add(max).min(found.len());
        let out = found[*pos..end].to_vec();
        *pos = end;
        Ok(out)
    }

    pub fn find_final(&self, h: CK_SESSION_HANDLE) -> Result<(), CK_RV> {
        let mut st = self.state();
        let s = st.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        s.find.take().map(|_| ()).ok_or(CKR_OPERATION_NOT_INITIALIZED)
    }

    pub fn destroy_object(&self, h: CK_SESSION_HANDLE, o: CK_OBJECT_HANDLE) -> Result<(), CK_RV> {
        let mut st = self.state();
        st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if st.session_objects.remove(&o).is_some() {
            return Ok(());
        }
        match st.snapshot.object(o).filter(|obj| st.visible(obj)) {
            Some(_) => Err(CKR_TOKEN_WRITE_PROTECTED),
            None => Err(CKR_OBJECT_HANDLE_INVALID),
        }
    }

    // --- sign and decrypt -------------------------------------------------------------------------

    pub fn op_init(&self, h: CK_SESSION_HANDLE, op: OpKind, mechanism: Mechanism, key: CK_OBJECT_HANDLE) -> Result<(), CK_RV> {
        let mut st = self.state();
        let st = &mut *st;
        let session = st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        if match op {
            OpKind::Sign => session.sign.is_some(),
            OpKind::Decrypt => session.decrypt.is_some(),
        } {
            return Err(CKR_OPERATION_ACTIVE);
        }
        if let Mechanism::AesKeyWrap = mechanism {
            // NSS unwraps "by hand" (C_Decrypt) with the key C_DeriveKey made here.
            let (_, obj) = st.session_objects.get(&key).ok_or(CKR_KEY_HANDLE_INVALID)?;
            if op != OpKind::Decrypt {
                return Err(CKR_MECHANISM_INVALID);
            }
            if !matches!(obj.value(CKA_VALUE).map(<[u8]>::len), Some(16 | 24 | 32)) {
                return Err(CKR_KEY_TYPE_INCONSISTENT);
            }
            // Whatever usage NSS's derive template named (it asks for CKA_DERIVE-style usages that
            // differ between versions), this key exists only to open the wrapped content key.
            let value = Zeroizing::new(obj.value(CKA_VALUE).unwrap_or_default().to_vec());
            let operation = Operation { mechanism, key: OpKey::Secret(value), buffer: Vec::new(), result: None };
            st.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?.decrypt = Some(operation);
            return Ok(());
        }
        let login = st.login.as_ref().ok_or(CKR_USER_NOT_LOGGED_IN)?;
        let obj = st.snapshot.object(key).filter(|o| st.visible(o)).ok_or(CKR_KEY_HANDLE_INVALID)?;
        let Some((fingerprint, kind)) = obj.key.clone() else { return Err(CKR_KEY_HANDLE_INVALID) };
        let allowed = match op {
            OpKind::Sign => obj.flag(CKA_SIGN),
            OpKind::Decrypt => obj.flag(CKA_DECRYPT),
        };
        if !allowed {
            return Err(CKR_KEY_FUNCTION_NOT_PERMITTED);
        }
        let fits = matches!(
            (&mechanism, kind, op),
            (Mechanism::RsaPkcs, KeyKind::Rsa { .. }, _)
                | (Mechanism::RsaOaep { .. }, KeyKind::Rsa { .. }, OpKind::Decrypt)
                | (Mechanism::Ecdsa, KeyKind::Ec { .. }, OpKind::Sign)
        );
        if !fits {
            return Err(match (&mechanism, op) {
                (Mechanism::RsaOaep { .. }, OpKind::Sign) | (Mechanism::Ecdsa, OpKind::Decrypt) => CKR_MECHANISM_INVALID,
                _ => CKR_KEY_TYPE_INCONSISTENT,
            });
        }
        let pkey = login.keys.get(&fingerprint).cloned().ok_or(CKR_USER_NOT_LOGGED_IN)?;
        let operation = Operation { mechanism, key: OpKey::Private(pkey, kind), buffer: Vec::new(), result: None };
        let session = st.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        match op {
            OpKind::Sign => session.sign = Some(operation),
            OpKind::Decrypt => session.decrypt = Some(operation),
        }
        Ok(())
    }

    /// `C_SignUpdate`: collects the data for `C_SignFinal`.
    pub fn sign_update(&self, h: CK_SESSION_HANDLE, data: &[u8]) -> Result<(), CK_RV> {
        let mut st = self.state();
        let s = st.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let op = s.sign.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        op.buffer.extend_from_slice(data);
        Ok(())
    }

    /// Finishes a sign or decrypt operation over `data` (appended to what updates collected).
    /// `capacity`: None for a size query.
    pub fn op_run(&self, h: CK_SESSION_HANDLE, kind: OpKind, data: &[u8], capacity: Option<usize>) -> Result<Output, CK_RV> {
        // Take the operation out, compute without the lock, put it back if it goes on.
        let mut op = {
            let mut st = self.state();
            let s = st.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
            let slot = match kind {
                OpKind::Sign => &mut s.sign,
                OpKind::Decrypt => &mut s.decrypt,
            };
            let op = slot.as_ref().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
            let expected = op.out_len(data.len());
            if let (OpKind::Sign, None) = (kind, capacity) {
                return Ok(Output::Length(expected));
            }
            if let (OpKind::Sign, Some(cap)) = (kind, capacity) {
                if cap < expected {
                    return Ok(Output::TooSmall(expected));
                }
            }
            if let (OpKind::Decrypt, None) = (kind, capacity) {
                return Ok(Output::Length(op.result.as_ref().map_or(expected, |r| r.len())));
            }
            slot.take().ok_or(CKR_OPERATION_NOT_INITIALIZED)?
        };
        let expected = op.out_len(data.len());
        let result = match (kind, &op.key) {
            (OpKind::Decrypt, _) if op.result.is_some() => Ok(op.result.take().unwrap_or_default()),
            (OpKind::Sign, OpKey::Private(key, _)) => {
                let mut input = std::mem::take(&mut op.buffer);
                input.extend_from_slice(data);
                crypto::sign(key, &op.mechanism, &input, expected).map(Zeroizing::new)
            }
            (OpKind::Decrypt, OpKey::Private(key, _)) => crypto::decrypt(key, &op.mechanism, data, expected),
            (OpKind::Decrypt, OpKey::Secret(kek)) => crypto::aes_key_unwrap(kek, data),
            (OpKind::Sign, OpKey::Secret(_)) => Err(CKR_MECHANISM_INVALID),
        };
        let out = result?;
        if let (OpKind::Decrypt, Some(cap)) = (kind, capacity) {
            if out.len() > cap {
                let len = out.len();
                op.result = Some(out);
                let mut st = self.state();
                if let Some(s) = st.sessions.get_mut(&h) {
                    s.decrypt = Some(op);
                }
                return Ok(Output::TooSmall(len));
            }
        }
        Ok(Output::Done(out))
    }

    // --- derive (ECDH) ---------------------------------------------------------------------------

    pub fn derive(
        &self,
        h: CK_SESSION_HANDLE,
        params: &EcdhParams,
        base: CK_OBJECT_HANDLE,
        template: &[(CK_ATTRIBUTE_TYPE, Vec<u8>)],
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let ulong = |v: &[u8]| -> Result<CK_ULONG, CK_RV> {
            Ok(CK_ULONG::from_ne_bytes(v.try_into().map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?))
        };
        let mut key_type = CKK_GENERIC_SECRET;
        let mut len = None;
        let mut flags = Vec::new();
        for (ty, v) in template {
            match *ty {
                CKA_CLASS if ulong(v)? != CKO_SECRET_KEY => return Err(CKR_TEMPLATE_INCONSISTENT),
                CKA_KEY_TYPE => key_type = ulong(v)?,
                CKA_VALUE_LEN => len = Some(ulong(v)? as usize),
                CKA_TOKEN if v.first().is_some_and(|&b| b != 0) => return Err(CKR_TOKEN_WRITE_PROTECTED),
                CKA_SENSITIVE if v.first().is_some_and(|&b| b != 0) => return Err(CKR_TEMPLATE_INCONSISTENT),
                CKA_ENCRYPT | CKA_DECRYPT | CKA_WRAP | CKA_UNWRAP | CKA_SIGN | CKA_VERIFY | CKA_DERIVE => {
                    flags.push((*ty, v.first().is_some_and(|&b| b != 0)))
                }
                _ => {}
            }
        }
        if len.is_none() {
            len = match key_type {
                CKK_DES3 => Some(24),
                CKK_GENERIC_SECRET if params.kdf == CKD_NULL => None,
                _ => return Err(CKR_TEMPLATE_INCOMPLETE),
            };
        }
        if len == Some(0) || len.is_some_and(|l| l > 1024) {
            return Err(CKR_ATTRIBUTE_VALUE_INVALID);
        }
        let pkey = {
            let st = self.state();
            st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
            let login = st.login.as_ref().ok_or(CKR_USER_NOT_LOGGED_IN)?;
            let obj = st.snapshot.object(base).filter(|o| st.visible(o)).ok_or(CKR_KEY_HANDLE_INVALID)?;
            let Some((fingerprint, KeyKind::Ec { .. })) = obj.key.clone() else { return Err(CKR_KEY_TYPE_INCONSISTENT) };
            if !obj.flag(CKA_DERIVE) {
                return Err(CKR_KEY_FUNCTION_NOT_PERMITTED);
            }
            login.keys.get(&fingerprint).cloned().ok_or(CKR_USER_NOT_LOGGED_IN)?
        };
        let value = crypto::ecdh_derive(&pkey, params, len)?;
        let mut st = self.state();
        st.sessions.get(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        let handle = st.next_session_object;
        st.next_session_object += 1;
        st.session_objects.insert(handle, (h, secret_key_object(handle, key_type, &value, &flags)));
        Ok(handle)
    }
}

/// Private objects need a login, and a private key the PIN actually opened.
fn visible(login: &Option<Login>, o: &Object) -> bool {
    if !o.private {
        return true;
    }
    match (login, &o.key) {
        (Some(login), Some((fp, _))) => login.keys.contains_key(fp),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

impl State {
    fn visible(&self, o: &Object) -> bool {
        visible(&self.login, o)
    }

    fn install(&mut self, snapshot: Snapshot) {
        let epoch = snapshot.lock_epoch;
        // NSS keeps the certificates it has seen in its own cache and only forgets a token's
        // objects when the token goes away. So when objects were deleted (a contact deleted in
        // the companion), the token acts as if it was removed and put back: every session ends
        // (and with it the login); NSS notices at its next presence check (C_GetSessionInfo)
        // and drops what it cached from this token.
        let removed = self.snapshot.objects.iter().any(|o| snapshot.object(o.handle).is_none());
        self.snapshot = Arc::new(snapshot);
        if removed && !self.sessions.is_empty() {
            crate::trace_line(|| "objects were deleted: all sessions closed (token removed and put back)".into());
            self.sessions.clear();
            self.session_objects.clear();
            self.login = None;
        }
        // An identity imported since the login (a renewal, a backup brought from another
        // computer) needs a new login: the PIN is not kept. The login ends at NSS's next session
        // check, never in between (NSS would then miss a key it was told it may use).
        let snapshot = &self.snapshot;
        if let Some(login) = self.login.as_mut().filter(|l| snapshot.identities.iter().any(|i| !l.known.contains(&i.fingerprint()))) {
            login.stale = true;
        }
        if self.login.as_ref().is_some_and(|l| l.epoch != epoch) {
            log::info!("pkcs11: identities were locked; logged out");
            self.login = None;
            for s in self.sessions.values_mut() {
                s.sign = None;
                s.decrypt = None;
            }
        }
    }
}

impl Source {
    fn new(home: Option<Home>, clock: Arc<dyn Clock>) -> Source {
        Source {
            home,
            contacts: Db::new("contacts"),
            identities: Db::new("identities"),
            sources: Sources::default(),
            candidates: Vec::new(),
            usable: UsableFilter::default(),
            clock,
            last_poll: None,
            handles: Handles::default(),
        }
    }

    /// Opens what exists and reads again each database that changed; a database that fails
    /// keeps what was read from it before, and does not keep the other from being read.
    /// Some(snapshot) when there is something new.
    fn poll(&mut self) -> Option<Snapshot> {
        let home = self.home.clone()?;
        let mut changed = false;
        let path = contacts::db_path(&home);
        let read = self
            .contacts
            .changed(&path, |p| ContactCache::open_reader(p, BUSY_TIMEOUT), ContactCache::data_version)
            .map(|(cache, version)| (read_contacts(cache), version));
        match read {
            Some((Ok((candidates, intermediates)), version)) => {
                self.candidates = candidates;
                self.sources.intermediates = intermediates;
                self.contacts.read(version);
                changed = true;
            }
            Some((Err(e), _)) => self.contacts.failed(&e),
            None => {}
        }
        let path = identities::db_path(&home);
        let read = self
            .identities
            .changed(&path, |p| IdentityStore::open_reader(p, BUSY_TIMEOUT), IdentityStore::data_version)
            .map(|(store, version)| (store.all().and_then(|all| Ok((all, store.lock_epoch()?))), version));
        match read {
            Some((Ok((identities, lock_epoch)), version)) => {
                self.sources.identities = Arc::new(identities);
                self.sources.lock_epoch = lock_epoch;
                self.identities.read(version);
                changed = true;
            }
            Some((Err(e), _)) => self.identities.failed(&e),
            None => {}
        }
        // Which contact certificates may be offered: judged again as far as anything changed.
        let sources = &self.sources;
        let intermediates = || -> Vec<Vec<u8>> {
            let chains = sources.identities.iter().flat_map(|i| i.chain.iter()).map(|c| c.der.clone());
            sources.intermediates.iter().map(|c| c.der.clone()).chain(chains).collect()
        };
        let usable = self.usable.refresh(&home, &self.candidates, &intermediates, changed, smime_companion::time::now());
        if let Some(usable) = usable {
            let offered: Vec<TokenCert> = usable.into_iter().cloned().collect();
            let (offered_count, candidates) = (offered.len(), self.candidates.len());
            crate::trace_line(|| format!("refresh: {offered_count} of {candidates} contact certificates may be encrypted to"));
            self.sources.contacts = offered;
            changed = true;
        }
        changed.then(|| Snapshot::build(&self.sources, &mut self.handles))
    }
}

/// The contact cache's certificates the token may show: (end-entity certificates that allow
/// encryption and that nothing marked revoked, before their chains are judged; intermediate CA
/// certificates).
fn read_contacts(cache: &ContactCache) -> smime_companion::error::Result<(Vec<Candidate>, Vec<TokenCert>)> {
    let contacts = cache.encryption_certificate_ders()?.into_iter().filter_map(TokenCert::parse).map(Candidate::new).collect();
    let intermediates = cache.intermediate_ders()?.into_iter().filter_map(TokenCert::parse).collect();
    Ok((contacts, intermediates))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_database_that_changed_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        drop(ContactCache::open(&home).unwrap());
        let mut store = IdentityStore::open(&home).unwrap();
        let mut src = Source::new(Some(home.clone()), Arc::new(ManualClock::default()));
        assert!(src.poll().is_some());
        assert_eq!((src.contacts.reads, src.identities.reads), (1, 1));
        assert!(src.poll().is_none(), "nothing changed");
        assert_eq!((src.contacts.reads, src.identities.reads), (1, 1));
        // A commit to the contact cache (another process harvesting).
        let other = rusqlite::Connection::open(contacts::db_path(&home)).unwrap();
        other.execute("INSERT INTO history (address, at, event) VALUES ('x', 0, 'x')", []).unwrap();
        let identities = src.sources.identities.clone();
        assert!(src.poll().is_some());
        assert_eq!((src.contacts.reads, src.identities.reads), (2, 1));
        assert!(Arc::ptr_eq(&identities, &src.sources.identities), "the identities were kept, not read again");
        // A commit to the identities (identities lock).
        store.raise_lock_epoch().unwrap();
        let snapshot = src.poll().unwrap();
        assert_eq!((src.contacts.reads, src.identities.reads), (2, 2));
        assert_eq!(snapshot.lock_epoch, 1);
    }
}
