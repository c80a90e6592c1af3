//! [`SessionKeeper`]: the session that lives on — renewed shortly before it expires and once on a
//! 401, restored after a restart from the refresh token in the keychain, and ended with
//! revocation at the provider.
//!
//! Refresh tokens rotate (Clerk revokes the whole login when an old one is reused), so every
//! refresh runs under two locks: the in-process session lock, which makes concurrent callers share
//! one refresh, and a lock file shared with other Keyhole processes (the app and the CLI), after
//! which the stored refresh token is read again in case another process rotated it.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oauth2::RefreshToken;
use serde::Serialize;
use url::Url;

use crate::browser::Browser;
use crate::engine::{ApiResult, Keyhole, SignInOptions};
use crate::error::{Error, Result};
use crate::flow::Progress;
use crate::session::{Session, SessionSummary};
use crate::tokens::{self, TokenKind};
use crate::vault::{account_for, SecretStore};

/// How long to wait for another Keyhole process to finish its refresh.
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// How a sign-out went. The local session is always gone afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOutOutcome {
    /// True when the provider confirmed the revocation of every token held.
    pub revoked: bool,
    /// Why revocation could not be confirmed, when it could not.
    pub message: Option<String>,
}

/// Owns the current session of one configuration and keeps it usable.
pub struct SessionKeeper {
    keyhole: Keyhole,
    store: Arc<dyn SecretStore>,
    account: String,
    current: tokio::sync::Mutex<Option<Session>>,
    /// The summary of `current`, published on every change (UIs watch it; reading never waits).
    published: tokio::sync::watch::Sender<Option<SessionSummary>>,
    refreshes: AtomicU32,
}

impl SessionKeeper {
    /// A keeper for `keyhole`'s configuration that keeps the refresh token in `store`.
    pub fn new(keyhole: Keyhole, store: Arc<dyn SecretStore>) -> SessionKeeper {
        let account = account_for(&keyhole.config().issuer, &keyhole.config().client_id);
        SessionKeeper {
            keyhole,
            store,
            account,
            current: tokio::sync::Mutex::new(None),
            published: tokio::sync::watch::Sender::new(None),
            refreshes: AtomicU32::new(0),
        }
    }

    /// What a UI shows about the current session, without waiting for a refresh in progress.
    pub fn summary(&self) -> Option<SessionSummary> {
        self.published.borrow().clone()
    }

    /// Hears every change of the session: sign-in, refresh, restore, sign-out, and its end.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<Option<SessionSummary>> {
        self.published.subscribe()
    }

    /// Replaces the current session and tells the watchers.
    fn set(&self, slot: &mut Option<Session>, session: Option<Session>) {
        self.published
            .send_replace(session.as_ref().map(Session::summary));
        *slot = session;
    }

    /// The engine.
    pub fn keyhole(&self) -> &Keyhole {
        &self.keyhole
    }

    /// How many refresh grants this keeper has made.
    pub fn refresh_count(&self) -> u32 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The current session, if any (no network).
    pub async fn current(&self) -> Option<Session> {
        self.current.lock().await.clone()
    }

    /// Signs in through the browser and keeps the session (its refresh token goes to the store).
    pub async fn sign_in(
        &self,
        browser: &dyn Browser,
        options: &SignInOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Session> {
        let session = self.keyhole.sign_in(browser, options, progress).await?;
        self.adopt(session.clone()).await?;
        Ok(session)
    }

    /// Makes `session` the current one and stores its refresh token.
    pub async fn adopt(&self, session: Session) -> Result<()> {
        let mut slot = self.current.lock().await;
        match &session.tokens.refresh_token {
            Some(token) => self.save(token.secret()).await?,
            // A session without a refresh token cannot be resumed: forget an older one.
            None => self.delete().await?,
        }
        self.set(&mut slot, Some(session));
        Ok(())
    }

    /// Resumes the stored session after a restart: Ok(None) when nothing is stored; Err with
    /// [`Error::SessionEnded`] (and the stored token removed) when the provider no longer accepts it.
    pub async fn restore(&self) -> Result<Option<Session>> {
        let mut slot = self.current.lock().await;
        if slot.is_none() {
            self.resume_locked(&mut slot).await?;
        }
        Ok(slot.clone())
    }

    /// A session whose access token is not about to expire, refreshing (once, shared) if needed.
    pub async fn fresh_session(&self) -> Result<Session> {
        let mut slot = self.current.lock().await;
        if slot.is_none() && !self.resume_locked(&mut slot).await? {
            return Err(Error::NotSignedIn);
        }
        if slot.as_ref().is_some_and(needs_refresh) {
            self.refresh_locked(&mut slot).await?;
        }
        slot.clone().ok_or(Error::NotSignedIn)
    }

    /// Renews the session now, whatever its expiry.
    pub async fn refresh_now(&self) -> Result<Session> {
        let mut slot = self.current.lock().await;
        self.refresh_locked(&mut slot).await?;
        slot.clone().ok_or(Error::NotSignedIn)
    }

    /// Calls the configured API; see [`SessionKeeper::call`].
    pub async fn call_api(&self) -> Result<ApiResult> {
        let url = self.keyhole.config().require_api_url()?.clone();
        self.call(&url).await
    }

    /// Calls `url` with a fresh access token. On a 401 the session is refreshed once and the
    /// call retried once — never more.
    pub async fn call(&self, url: &Url) -> Result<ApiResult> {
        let session = self.fresh_session().await?;
        let first = self.keyhole.call(url, &session).await?;
        if first.response.status != 401 || session.tokens.refresh_token.is_none() {
            return Ok(first);
        }
        let retry = {
            let mut slot = self.current.lock().await;
            // Someone else may have refreshed meanwhile; then their token is the one to retry with.
            let same = slot.as_ref().is_some_and(|s| {
                s.tokens.access_token.secret() == session.tokens.access_token.secret()
            });
            if same {
                self.refresh_locked(&mut slot).await?;
            }
            slot.clone().ok_or(Error::NotSignedIn)?
        };
        self.keyhole.call(url, &retry).await
    }

    /// Ends the session: revokes the refresh and access tokens at the provider, then removes
    /// them from the store and from memory — the local part happens even when revocation fails.
    pub async fn sign_out(&self) -> SignOutOutcome {
        let mut slot = self.current.lock().await;
        let session = slot.take();
        let stored = self.load().await.ok().flatten();
        let refresh = session
            .as_ref()
            .and_then(|s| s.tokens.refresh_token.as_ref().map(|t| t.secret().clone()))
            .or(stored);
        let access = session
            .as_ref()
            .map(|s| s.tokens.access_token.secret().clone());

        let mut problems = Vec::new();
        if refresh.is_some() || access.is_some() {
            if let Err(problem) = self.revoke(refresh.as_deref(), access.as_deref()).await {
                problems.push(problem);
            }
        }
        if let Err(e) = self.delete().await {
            problems.push(e.to_string());
        }
        // Told only now, so nobody sees "signed out" (and, say, quits) before the wipe is done.
        self.set(&mut slot, None);
        SignOutOutcome {
            revoked: problems.is_empty() && (refresh.is_some() || access.is_some()),
            message: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }

    async fn revoke(&self, refresh: Option<&str>, access: Option<&str>) -> Result<(), String> {
        let provider = self
            .keyhole
            .provider()
            .await
            .map_err(|e| format!("revocation could not be confirmed: {e}"))?;
        let endpoint = provider.metadata.revocation_endpoint.as_ref().ok_or_else(|| {
            "the provider offers no revocation endpoint, so the tokens stay valid until they expire"
                .to_owned()
        })?;
        let client_id = &self.keyhole.config().client_id;
        let http = self.keyhole.http();
        // The refresh token first: revoking it ends the whole grant.
        if let Some(token) = refresh {
            tokens::revoke(http, endpoint, client_id, token, TokenKind::Refresh)
                .await
                .map_err(|e| format!("revocation could not be confirmed: {e}"))?;
        }
        if let Some(token) = access {
            match tokens::revoke(http, endpoint, client_id, token, TokenKind::Access).await {
                Ok(()) => {}
                // RFC 7009 §2.2.1: many providers cannot revoke self-contained JWT access tokens.
                // With the grant revoked above, that token only lives out its short lifetime.
                Err(Error::RevocationRefused {
                    error: Some(error), ..
                }) if error == "unsupported_token_type" && refresh.is_some() => {}
                Err(e) => return Err(format!("revocation could not be confirmed: {e}")),
            }
        }
        Ok(())
    }

    /// Loads the stored refresh token into a new session. Returns false when nothing is stored.
    async fn resume_locked(&self, slot: &mut Option<Session>) -> Result<bool> {
        if self.load().await?.is_none() {
            return Ok(false);
        }
        let _lock = self.lock_across_processes().await?;
        // Read again under the lock: another process may have just rotated it.
        let Some(stored) = self.load().await? else {
            return Ok(false);
        };
        let session = self
            .settle(self.keyhole.resume(&RefreshToken::new(stored)).await)
            .await?;
        self.set(slot, Some(session));
        Ok(true)
    }

    async fn refresh_locked(&self, slot: &mut Option<Session>) -> Result<()> {
        let mut base = slot.clone().ok_or(Error::NotSignedIn)?;
        let _lock = self.lock_across_processes().await?;
        // Another Keyhole process may have rotated the refresh token since this one read it.
        if let Some(stored) = self.load().await? {
            base.tokens.refresh_token = Some(RefreshToken::new(stored));
        }
        match self.settle(self.keyhole.refresh(&base).await).await {
            Ok(session) => {
                self.set(slot, Some(session));
                Ok(())
            }
            Err(error @ Error::SessionEnded(_)) => {
                self.set(slot, None);
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// Stores what a refresh gave, or forgets the session when the provider refused it.
    async fn settle(&self, refreshed: Result<Session>) -> Result<Session> {
        match refreshed {
            Ok(session) => {
                self.refreshes.fetch_add(1, Ordering::Relaxed);
                if let Some(token) = &session.tokens.refresh_token {
                    self.save(token.secret()).await?;
                }
                Ok(session)
            }
            Err(Error::TokenRefused { error, description }) if error == "invalid_grant" => {
                let _ = self.delete().await;
                Err(Error::SessionEnded(format!(
                    "the provider no longer accepts the saved sign-in (invalid_grant{}) — it was revoked, expired, or used elsewhere",
                    description.map(|d| format!(": {d}")).unwrap_or_default()
                )))
            }
            Err(error) => Err(error),
        }
    }

    async fn load(&self) -> Result<Option<String>> {
        let (store, account) = (self.store.clone(), self.account.clone());
        blocking(move || store.load(&account)).await
    }

    async fn save(&self, secret: &str) -> Result<()> {
        let (store, account, secret) =
            (self.store.clone(), self.account.clone(), secret.to_owned());
        blocking(move || store.save(&account, &secret)).await
    }

    async fn delete(&self) -> Result<()> {
        let (store, account) = (self.store.clone(), self.account.clone());
        blocking(move || store.delete(&account)).await
    }

    async fn lock_across_processes(&self) -> Result<File> {
        let path = lock_path(&self.account);
        blocking(move || {
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| {
                    Error::Keychain(format!(
                        "could not open the refresh lock {}: {e}",
                        path.display()
                    ))
                })?;
            let started = std::time::Instant::now();
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(file),
                    Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                        std::thread::sleep(Duration::from_millis(25))
                    }
                    Err(std::fs::TryLockError::WouldBlock) => {
                        return Err(Error::Keychain(
                            "another Keyhole process has been refreshing this session for too long"
                                .into(),
                        ))
                    }
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(Error::Keychain(format!(
                            "could not lock {}: {e}",
                            path.display()
                        )))
                    }
                }
            }
        })
        .await
    }
}

/// True when the access token is due for renewal (and a refresh token can renew it).
fn needs_refresh(session: &Session) -> bool {
    session
        .refresh_due()
        .is_some_and(|due| SystemTime::now() >= due)
}

/// The lock file shared by every Keyhole process using this account.
fn lock_path(account: &str) -> PathBuf {
    // FNV-1a: a stable, dependency-free file name for the account.
    let hash = account.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("keyhole-refresh-{hash:016x}.lock"))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(Error::Keychain(format!("the keychain call failed: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::TokenSet;
    use crate::verify::AccessTokenInfo;

    fn session(lifetime: u64, left: u64, refreshable: bool) -> Session {
        let now = SystemTime::now();
        let expires_at = now + Duration::from_secs(left);
        Session {
            issuer: "https://x.test".into(),
            client_id: "c".into(),
            tokens: TokenSet {
                access_token: oauth2::AccessToken::new("a".into()),
                refresh_token: refreshable.then(|| RefreshToken::new("r".into())),
                id_token: None,
                expires_at: Some(expires_at),
                received_at: expires_at - Duration::from_secs(lifetime),
                scopes: None,
            },
            access: AccessTokenInfo::Opaque,
            id_claims: None,
        }
    }

    #[test]
    fn refresh_comes_shortly_before_expiry_scaled_to_the_lifetime() {
        // A one-day token: refresh in its last minute.
        assert!(!needs_refresh(&session(86_400, 120, true)));
        assert!(needs_refresh(&session(86_400, 50, true)));
        // A 10 s token: refresh in its last 2 s, not on every call.
        assert!(!needs_refresh(&session(10, 5, true)));
        assert!(needs_refresh(&session(10, 1, true)));
        // Nothing to refresh with.
        assert!(!needs_refresh(&session(10, 1, false)));
    }

    #[test]
    fn each_account_gets_its_own_lock_file() {
        assert_ne!(lock_path("a@https://x.test"), lock_path("b@https://x.test"));
        assert_eq!(lock_path("a@https://x.test"), lock_path("a@https://x.test"));
    }
}
