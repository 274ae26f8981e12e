//! The state one run hands to every op and command: where files live, who called, the session's
//! open transfers, and (opened on first use) the stores.

use crate::caller::Caller;
use crate::config::Config;
use crate::home::Home;
use crate::protocol::transfer::Transfers;

pub struct Context {
    pub home: Home,
    /// The browser that started the host; `None` for the CLI.
    pub caller: Option<Caller>,
    pub config: Config,
    pub transfers: Transfers,
}

impl Context {
    pub fn new(home: Home, caller: Option<Caller>) -> Context {
        let config = Config::load(&home);
        Context { home, caller, config, transfers: Transfers::default() }
    }
}
