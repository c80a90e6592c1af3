//! [`Accounts`]: which keeper serves the settings in force. A change of instance, client, scopes
//! or redirect port means another keeper (whose session, if one was kept for that account, is
//! restored from the keychain); a change of the API URL alone keeps the session.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::engine::Keyhole;
use crate::session::keeper::SessionKeeper;
use crate::session::vault::SecretStore;
use crate::settings::config::Config;

/// The keeper of the current settings, for a front end that lets the user change them.
pub struct Accounts {
    store: Arc<dyn SecretStore>,
    current: Mutex<Option<Arc<SessionKeeper>>>,
}

impl Accounts {
    /// Keepers made here keep their sessions in `store`.
    pub fn new(store: Arc<dyn SecretStore>) -> Accounts {
        Accounts {
            store,
            current: Mutex::new(None),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<SessionKeeper>>> {
        // Held only for a swap; a poisoned lock still holds a consistent value.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current keeper, if settings were ever valid.
    pub fn current(&self) -> Option<Arc<SessionKeeper>> {
        self.slot().clone()
    }

    /// The keeper for `config`, and true when it is a new one (the front end then restores its
    /// session and starts its [`renewal`](crate::session::renewal) driver). Switching away cancels the old
    /// keeper's pending sign-in.
    pub fn for_config(&self, config: Config) -> (Arc<SessionKeeper>, bool) {
        let mut slot = self.slot();
        if let Some(keeper) = slot
            .as_ref()
            .filter(|k| k.keyhole().config().same_sign_in(&config))
        {
            return (Arc::clone(keeper), false);
        }
        let keeper = Arc::new(SessionKeeper::new(
            Keyhole::new(config),
            Arc::clone(&self.store),
        ));
        if let Some(old) = slot.replace(Arc::clone(&keeper)) {
            old.cancel_sign_in();
        }
        (keeper, true)
    }

    /// True when `config` would get a new keeper.
    pub fn would_switch(&self, config: &Config) -> bool {
        !self
            .slot()
            .as_ref()
            .is_some_and(|k| k.keyhole().config().same_sign_in(config))
    }
}
