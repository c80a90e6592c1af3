//! Where the refresh token is kept between runs: the OS keychain (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows) and nowhere else — never a plain file.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// A place for one secret per account. Implementations must not write secrets to plain files.
pub trait SecretStore: Send + Sync {
    /// The secret for `account`, if one is stored.
    fn load(&self, account: &str) -> Result<Option<String>>;
    /// Stores (or replaces) the secret for `account`.
    fn save(&self, account: &str, secret: &str) -> Result<()>;
    /// Removes the secret for `account`; removing nothing is not an error.
    fn delete(&self, account: &str) -> Result<()>;
    /// Why secrets do not outlive this process, when they do not (no keychain was available).
    fn unavailable(&self) -> Option<String> {
        None
    }
}

/// The keychain entry name for a session: one per instance and client.
pub fn account_for(issuer: &str, client_id: &str) -> String {
    format!("{client_id}@{issuer}")
}

/// The OS keychain through the `keyring` crate.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    /// The service name Keyhole's app and CLI share, so both see the same session.
    pub const SERVICE: &'static str = "dev.keyhole.app";

    /// Opens the keychain and checks that it answers. Err (with the reason) when no keychain
    /// service is available, e.g. no Secret Service on the session bus.
    pub fn open() -> Result<Keychain> {
        Keychain::open_service(Keychain::SERVICE)
    }

    /// Like [`Keychain::open`] with another service name (tests use their own).
    pub fn open_service(service: &str) -> Result<Keychain> {
        let keychain = Keychain {
            service: service.to_owned(),
        };
        keychain.load("keyhole-availability-probe")?;
        Ok(keychain)
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(keychain_error)
    }
}

impl SecretStore for Keychain {
    fn load(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn save(&self, account: &str, secret: &str) -> Result<()> {
        self.entry(account)?
            .set_password(secret)
            .map_err(keychain_error)
    }

    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

fn keychain_error(error: keyring::Error) -> Error {
    Error::Keychain(match error {
        keyring::Error::NoStorageAccess(e) | keyring::Error::PlatformFailure(e) => {
            format!("the system keychain is not available ({e})")
        }
        other => format!("the system keychain failed ({other})"),
    })
}

/// The OS keychain, opened on first use (so startup never waits on it); when no keychain is
/// available, this process's memory, and [`KeychainOrMemory::unavailable`] says why.
#[derive(Debug)]
pub struct KeychainOrMemory {
    service: String,
    keychain: std::sync::OnceLock<std::result::Result<Keychain, String>>,
    memory: MemoryStore,
}

impl KeychainOrMemory {
    /// Nothing is opened until the first secret is read or written.
    pub fn new(service: &str) -> Self {
        KeychainOrMemory {
            service: service.to_owned(),
            keychain: std::sync::OnceLock::new(),
            memory: MemoryStore::default(),
        }
    }

    fn store(&self) -> &dyn SecretStore {
        match self
            .keychain
            .get_or_init(|| Keychain::open_service(&self.service).map_err(|e| e.to_string()))
        {
            Ok(keychain) => keychain,
            Err(_) => &self.memory,
        }
    }
}

impl SecretStore for KeychainOrMemory {
    fn load(&self, account: &str) -> Result<Option<String>> {
        self.store().load(account)
    }
    fn save(&self, account: &str, secret: &str) -> Result<()> {
        self.store().save(account, secret)
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.store().delete(account)
    }
    /// Set once the keychain has been tried and failed.
    fn unavailable(&self) -> Option<String> {
        self.keychain.get()?.as_ref().err().cloned()
    }
}

/// Secrets in this process's memory only: the fallback when no keychain is available (the
/// session then ends with the app), and a stand-in for unit tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, String>>,
}

impl SecretStore for MemoryStore {
    fn load(&self, account: &str) -> Result<Option<String>> {
        Ok(self.lock().get(account).cloned())
    }

    fn save(&self, account: &str, secret: &str) -> Result<()> {
        self.lock().insert(account.to_owned(), secret.to_owned());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.lock().remove(account);
        Ok(())
    }
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.secrets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
