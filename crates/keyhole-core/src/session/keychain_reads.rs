//! Keychain reads over one Secret Service connection kept for the process (Linux).
//!
//! `keyring` opens a new D-Bus connection and a new encrypted Secret Service session for every
//! operation: the Diffie-Hellman exchange of `OpenSession` is most of a read's ~5–8 ms, and a
//! warm MCP call reads twice (the server's record, then its session). Reads here look items up
//! exactly as `keyring` 3 does (the `target`/`service`/`username` attributes, then its fallback
//! for items without a target in the default collection) over a connection made once; anything
//! unexpected (no bus, an ambiguous match, a dropped connection) hands the read back to `keyring`,
//! which then answers, and reports, as it always did. Writes still go through `keyring`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use dbus_secret_service::{EncryptionType, SecretService};

/// `keyring`'s `target` for entries made without one (all of Keyhole's).
const DEFAULT_TARGET: &str = "default";

/// One connection, made on the first read.
#[derive(Default)]
pub(crate) struct Reads {
    connection: Mutex<Option<SecretService>>,
    /// Connections made, and reads they answered (for the tests: the connection is kept).
    pub(crate) connections: AtomicUsize,
    pub(crate) answered: AtomicUsize,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reads")
    }
}

/// What a read over the kept connection found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// The one matching item's secret (`None`: no item).
    Answer(Option<String>),
    /// Not answered here: `keyring` reads it (and says what went wrong, if anything does).
    AskKeyring,
}

impl Reads {
    /// The secret of `service`/`account`, looked up as `keyring`'s `Entry::get_password` does.
    pub(crate) fn load(&self, service: &str, account: &str) -> Found {
        let mut slot = match self.connection.lock() {
            Ok(slot) => slot,
            Err(poisoned) => poisoned.into_inner(),
        };
        if slot.is_none() {
            match SecretService::connect(EncryptionType::Dh) {
                Ok(connection) => {
                    self.connections.fetch_add(1, Ordering::Relaxed);
                    *slot = Some(connection);
                }
                Err(error) => {
                    tracing::debug!(%error, "no Secret Service connection to keep");
                    return Found::AskKeyring;
                }
            }
        }
        let Some(connection) = slot.as_ref() else {
            return Found::AskKeyring;
        };
        match lookup(connection, service, account) {
            Ok(found) => {
                if found != Found::AskKeyring {
                    self.answered.fetch_add(1, Ordering::Relaxed);
                }
                found
            }
            Err(error) => {
                // A connection that failed is not kept: the next read makes a new one.
                tracing::debug!(%error, "a keychain read over the kept connection failed");
                *slot = None;
                Found::AskKeyring
            }
        }
    }
}

fn lookup(
    ss: &SecretService,
    service: &str,
    account: &str,
) -> Result<Found, dbus_secret_service::Error> {
    let search = ss.search_items(HashMap::from([
        ("target", DEFAULT_TARGET),
        ("service", service),
        ("username", account),
    ]))?;
    let mut items: Vec<_> = search.unlocked.into_iter().collect();
    let locked = search.locked;
    if items.is_empty() && locked.is_empty() {
        // keyring 3.2.1+: items without a target (keyring 1, other tools) in the default
        // collection, searched by service and user alone.
        let collection = ss.get_default_collection()?;
        let legacy = collection
            .search_items(HashMap::from([("service", service), ("username", account)]))?;
        return Ok(match legacy.as_slice() {
            [] => Found::Answer(None),
            [item] => secret_of(item)?,
            _ => Found::AskKeyring,
        });
    }
    if items.len() + locked.len() > 1 {
        return Ok(Found::AskKeyring);
    }
    if let Some(item) = locked.into_iter().next() {
        item.unlock()?;
        items.push(item);
    }
    match items.first() {
        Some(item) => secret_of(item),
        None => Ok(Found::AskKeyring),
    }
}

fn secret_of(item: &dbus_secret_service::Item<'_>) -> Result<Found, dbus_secret_service::Error> {
    Ok(match String::from_utf8(item.get_secret()?) {
        Ok(text) => Found::Answer(Some(text)),
        // keyring says "bad encoding" for this: let it.
        Err(_) => Found::AskKeyring,
    })
}
