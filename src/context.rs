//! The state one run hands to every op and command: where files live, who called, the session's
//! open transfers, and (opened on first use) the stores.

use crate::caller::Caller;
use crate::certs::revocation::Checker;
use crate::certs::trust::TrustAnchors;
use crate::config::Config;
use crate::contacts::ContactCache;
use crate::error::Result;
use crate::identities::session::Unlocked;
use crate::identities::{Identity, IdentityStore};
use crate::home::Home;
use crate::protocol::transfer::Transfers;
use openssl::x509::X509;
use std::rc::Rc;

/// A value read from a store, kept while the store's generation stays the same.
struct Memo<T> {
    generation: (i64, u64),
    value: Rc<T>,
}

pub struct Context {
    pub home: Home,
    /// The browser that started the host; `None` for the CLI.
    pub caller: Option<Caller>,
    pub config: Config,
    pub transfers: Transfers,
    /// Private keys unlocked in this session.
    pub unlocked: Unlocked,
    contacts: Option<ContactCache>,
    identities: Option<IdentityStore>,
    /// Every message inspected needs these; parsing them (OpenSSL takes ~0.1 ms a certificate)
    /// once per change instead of once per message.
    identity_list: Option<Memo<Vec<Identity>>>,
    cache_intermediates: Option<Memo<Vec<X509>>>,
    trust: Option<(TrustStamp, Rc<TrustAnchors>)>,
    /// Revocation checking (OCSP, fetched CRLs, the cache), kept across reloads of the anchors.
    revocation: std::sync::Arc<Checker>,
}

type TrustStamp = Vec<(std::path::PathBuf, Option<std::time::SystemTime>, u64)>;

impl Context {
    pub fn new(home: Home, caller: Option<Caller>) -> Context {
        let config = Config::load(&home);
        let unlocked = Unlocked::new(config.unlock_duration());
        let revocation = std::sync::Arc::new(Checker::new(&home, config.revocation_settings()));
        Context {
            home,
            caller,
            config,
            transfers: Transfers::default(),
            unlocked,
            contacts: None,
            identities: None,
            identity_list: None,
            cache_intermediates: None,
            trust: None,
            revocation,
        }
    }

    /// The contact cache, opened on first use and kept for the session.
    pub fn contacts(&mut self) -> Result<&mut ContactCache> {
        if self.contacts.is_none() {
            self.contacts = Some(ContactCache::open(&self.home)?);
        }
        Ok(self.contacts.as_mut().expect("just opened"))
    }

    /// The identity store, opened on first use.
    pub fn identities(&mut self) -> Result<&mut IdentityStore> {
        if self.identities.is_none() {
            self.identities = Some(IdentityStore::open(&self.home)?);
        }
        Ok(self.identities.as_mut().expect("just opened"))
    }

    /// The trust anchors and CRLs of the IT and user folders, loaded again only when a file
    /// there was added, removed or changed (`trust add` in another process counts at once),
    /// with the revocation checker. Each call starts an operation: its revocation checks get a
    /// fresh network budget ([`Context::trust_rechecking`] also asks again what failed before).
    pub fn trust(&mut self) -> Rc<TrustAnchors> {
        self.revocation.begin(false);
        self.current_trust()
    }

    /// [`Context::trust`], asking CAs again about certificates whose check failed recently
    /// ("check again").
    pub fn trust_rechecking(&mut self) -> Rc<TrustAnchors> {
        self.revocation.begin(true);
        self.current_trust()
    }

    fn current_trust(&mut self) -> Rc<TrustAnchors> {
        let stamp = TrustAnchors::stamp(&self.home);
        if let Some((seen, anchors)) = &self.trust {
            if *seen == stamp {
                return anchors.clone();
            }
        }
        let mut loaded = TrustAnchors::load(&self.home);
        loaded.revocation = Some(self.revocation.clone());
        let anchors = Rc::new(loaded);
        for problem in &anchors.problems {
            log::warn!("trust store: {problem}");
        }
        self.trust = Some((stamp, anchors.clone()));
        anchors
    }

    /// The revocation checker of this run.
    pub fn revocation(&self) -> std::sync::Arc<Checker> {
        self.revocation.clone()
    }

    /// Every identity (current, renewed, expired), read again only after the store changed.
    pub fn identity_list(&mut self) -> Result<Rc<Vec<Identity>>> {
        let store = self.identities()?;
        let generation = store.generation()?;
        if let Some(memo) = self.identity_list.as_ref().filter(|m| m.generation == generation) {
            return Ok(memo.value.clone());
        }
        let value = Rc::new(self.identities()?.all()?);
        self.identity_list = Some(Memo { generation, value: value.clone() });
        Ok(value)
    }

    /// Intermediate CA certificates known from contacts' mail and from the user's own chains
    /// (colleagues' certificates often share the user's CA), for building chains. Every
    /// verification loads them, so the cache gives only those of chains that reached a trust
    /// anchor and a few others (`ContactCache::intermediate_ders`).
    pub fn known_intermediates(&mut self) -> Result<Vec<X509>> {
        let cache = self.contacts()?;
        let generation = cache.generation()?;
        let from_cache = match self.cache_intermediates.as_ref().filter(|m| m.generation == generation) {
            Some(memo) => memo.value.clone(),
            None => {
                let value = Rc::new(self.contacts()?.intermediates()?);
                self.cache_intermediates = Some(Memo { generation, value: value.clone() });
                value
            }
        };
        let mut out = (*from_cache).clone();
        if let Ok(identities) = self.identity_list() {
            out.extend(identities.iter().flat_map(|i| i.chain.iter().map(|c| c.x509.clone())));
        }
        Ok(out)
    }
}
