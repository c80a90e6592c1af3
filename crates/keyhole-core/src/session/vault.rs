//! Where the refresh token is kept between runs: the OS keychain (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows) and nowhere else — never a plain file.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// A place for one secret per account. Implementations must not write secrets to plain files.
pub trait SecretStore: Send + Sync {
    /// The secret for `account`, if one is stored.
    fn load(&self, account: &str) -> Result<Option<Secret>>;
    /// Stores (or replaces) the secret for `account`.
    fn save(&self, account: &str, secret: &Secret) -> Result<()>;
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

/// The OS keychain through the `keyring` crate (on Linux, reads over one kept connection:
/// [`super::keychain_reads`]).
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
    #[cfg(target_os = "linux")]
    reads: std::sync::Arc<super::keychain_reads::Reads>,
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
        let keychain = Keychain::named(service);
        keychain.load("keyhole-availability-probe")?;
        Ok(keychain)
    }

    /// Connections kept for reads so far, and the reads they answered (Linux; the others read
    /// through `keyring` only and say (0, 0)).
    #[cfg(feature = "test-support")]
    pub fn kept_reads(&self) -> (usize, usize) {
        #[cfg(target_os = "linux")]
        {
            use std::sync::atomic::Ordering::Relaxed;
            (
                self.reads.connections.load(Relaxed),
                self.reads.answered.load(Relaxed),
            )
        }
        #[cfg(not(target_os = "linux"))]
        (0, 0)
    }

    fn named(service: &str) -> Keychain {
        Keychain {
            service: service.to_owned(),
            #[cfg(target_os = "linux")]
            reads: Default::default(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, keyring::Error> {
        keyring::Entry::new(&self.service, account)
    }

    fn load_raw(&self, account: &str) -> Result<Option<Secret>, keyring::Error> {
        #[cfg(target_os = "linux")]
        if let super::keychain_reads::Found::Answer(found) = self.reads.load(&self.service, account)
        {
            return Ok(found.map(Secret::new));
        }
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(Secret::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn save_raw(&self, account: &str, secret: &Secret) -> Result<(), keyring::Error> {
        self.entry(account)?.set_password(secret.secret())
    }

    fn delete_raw(&self, account: &str) -> Result<(), keyring::Error> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl SecretStore for Keychain {
    fn load(&self, account: &str) -> Result<Option<Secret>> {
        self.load_raw(account).map_err(keychain_error)
    }

    fn save(&self, account: &str, secret: &Secret) -> Result<()> {
        self.save_raw(account, secret).map_err(keychain_error)
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.delete_raw(account).map_err(keychain_error)
    }
}

/// True when the error means there is no keychain to talk to (rather than a failed operation).
fn is_unavailable(error: &keyring::Error) -> bool {
    matches!(
        error,
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_)
    )
}

fn keychain_error(error: keyring::Error) -> Error {
    let message = if is_unavailable(&error) {
        // "Secret Service: no result found" and the like mean nothing to a user: say what it is.
        "the system keychain is not available (no Secret Service, Keychain or Credential Manager answered)"
    } else {
        "the system keychain refused the operation"
    };
    Error::keychain(message, error)
}

/// The OS keychain, tried on first use (so startup never waits on it, and a run that finds it
/// costs no extra round trip); when no keychain is available, this process's memory, and
/// [`KeychainOrMemory::unavailable`] says why.
#[derive(Debug)]
pub struct KeychainOrMemory {
    keychain: Keychain,
    failed: std::sync::OnceLock<String>,
    memory: MemoryStore,
}

impl KeychainOrMemory {
    /// Nothing is opened until the first secret is read or written.
    pub fn new(service: &str) -> Self {
        KeychainOrMemory {
            keychain: Keychain::named(service),
            failed: std::sync::OnceLock::new(),
            memory: MemoryStore::default(),
        }
    }

    /// Runs `op` on the keychain; once it turns out to be missing, on memory from then on.
    fn with<T>(
        &self,
        on_keychain: impl Fn(&Keychain) -> Result<T, keyring::Error>,
        on_memory: impl Fn(&MemoryStore) -> Result<T>,
    ) -> Result<T> {
        if self.failed.get().is_none() {
            match on_keychain(&self.keychain) {
                Err(error) if is_unavailable(&error) => {
                    tracing::info!(%error, "no system keychain; keeping the session in memory");
                    let _ = self.failed.set(keychain_error(error).report());
                }
                other => return other.map_err(keychain_error),
            }
        }
        on_memory(&self.memory)
    }
}

impl SecretStore for KeychainOrMemory {
    fn load(&self, account: &str) -> Result<Option<Secret>> {
        self.with(|k| k.load_raw(account), |m| m.load(account))
    }
    fn save(&self, account: &str, secret: &Secret) -> Result<()> {
        self.with(|k| k.save_raw(account, secret), |m| m.save(account, secret))
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.with(|k| k.delete_raw(account), |m| m.delete(account))
    }
    /// Set once the keychain has been tried and found missing.
    fn unavailable(&self) -> Option<String> {
        self.failed.get().cloned()
    }
}

/// Secrets in this process's memory only: the fallback when no keychain is available (the
/// session then ends with the app), and a stand-in for unit tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, Secret>>,
}

impl SecretStore for MemoryStore {
    fn load(&self, account: &str) -> Result<Option<Secret>> {
        Ok(self.lock().get(account).cloned())
    }

    fn save(&self, account: &str, secret: &Secret) -> Result<()> {
        self.lock().insert(account.to_owned(), secret.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.lock().remove(account);
        Ok(())
    }
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.secrets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
