//! The state one run hands to every op and command: where files live, who called, the session's
//! open transfers, and (opened on first use) the stores.

use crate::caller::Caller;
use crate::config::Config;
use crate::contacts::ContactCache;
use crate::error::Result;
use crate::identities::session::Unlocked;
use crate::identities::IdentityStore;
use crate::home::Home;
use crate::protocol::transfer::Transfers;

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
}

impl Context {
    pub fn new(home: Home, caller: Option<Caller>) -> Context {
        let config = Config::load(&home);
        let unlocked = Unlocked::new(config.unlock_duration());
        Context {
            home,
            caller,
            config,
            transfers: Transfers::default(),
            unlocked,
            contacts: None,
            identities: None,
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
}
