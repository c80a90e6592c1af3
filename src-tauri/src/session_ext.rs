//! The signed-in session (in memory only) and the sign-in in progress.
//!
//! Locks are `std::sync::Mutex`es held only for a copy or a swap, never across an `.await`:
//! the sign-in and API calls work on clones taken out of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keyhole_core::{
    ApiResult, Browser, CancellationToken, Config, Error as CoreError, Progress, Session,
    SessionSummary, SignInOptions,
};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use url::Url;

use crate::error::{Error, Result};
use crate::settings_ext::SettingsExt;

/// Emitted with a [`Progress`] payload while a sign-in runs.
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";
/// Emitted with a [`SessionSummary`] or `null` whenever the session starts or ends.
pub const SESSION_CHANGED: &str = "session-changed";

/// What `sign_out` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOutOutcome {
    /// True when the provider confirmed the tokens are revoked.
    pub revoked: bool,
    /// Why revocation could not be confirmed, when it was attempted and failed.
    pub message: Option<String>,
}

/// The session and the pending sign-in.
pub struct SessionManager {
    browser: Arc<dyn Browser>,
    sign_in_timeout: Duration,
    session: Mutex<Option<Session>>,
    pending: Mutex<Option<Pending>>,
    next_id: AtomicU64,
}

/// The sign-in in progress: its id, how to cancel it, and its authorize URL once known.
struct Pending {
    id: u64,
    cancel: CancellationToken,
    url: Option<Url>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl SessionManager {
    /// A manager that opens sign-in URLs with `browser` and gives up after `sign_in_timeout`.
    pub fn new(browser: Arc<dyn Browser>, sign_in_timeout: Duration) -> SessionManager {
        SessionManager {
            browser,
            sign_in_timeout,
            session: Mutex::new(None),
            pending: Mutex::new(None),
            next_id: AtomicU64::new(1),
        }
    }

    /// What the UI shows about the current session.
    pub fn summary(&self) -> Option<SessionSummary> {
        lock(&self.session).as_ref().map(Session::summary)
    }

    /// True while a sign-in is running.
    pub fn is_signing_in(&self) -> bool {
        lock(&self.pending).is_some()
    }

    /// Runs an interactive sign-in with the current settings. A sign-in already running is
    /// cancelled first. Emits [`SIGN_IN_PROGRESS`] while it runs and [`SESSION_CHANGED`] on success.
    pub async fn sign_in<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SessionSummary> {
        let engine = app.settings().engine()?;
        let (id, cancel) = self.begin();
        tracing::info!(issuer = %engine.config().issuer, "sign-in started");
        let progress = {
            let app = app.clone();
            move |progress: Progress| {
                app.sessions().record(id, &progress);
                if let Err(error) = app.emit(SIGN_IN_PROGRESS, &progress) {
                    tracing::warn!(%error, "could not emit {SIGN_IN_PROGRESS}");
                }
            }
        };
        let options = SignInOptions {
            timeout: self.sign_in_timeout,
            cancel,
        };
        let outcome = engine
            .sign_in(self.browser.as_ref(), &options, &progress)
            .await;
        let still_current = self.end(id);
        let session = match outcome {
            // A newer sign-in replaced this one while its exchange was finishing: it loses.
            Ok(_) if !still_current => Err(CoreError::Cancelled),
            other => other,
        }
        .inspect_err(|error| tracing::info!(kind = error.kind(), %error, "sign-in ended"))?;
        let summary = session.summary();
        tracing::info!(
            subject = summary.subject.as_deref().unwrap_or("?"),
            "signed in"
        );
        *lock(&self.session) = Some(session);
        emit_session(app, Some(&summary));
        Ok(summary)
    }

    /// Registers a new pending sign-in, cancelling a stale one.
    fn begin(&self) -> (u64, CancellationToken) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        let stale = lock(&self.pending).replace(Pending {
            id,
            cancel: cancel.clone(),
            url: None,
        });
        if let Some(stale) = stale {
            tracing::info!("a new sign-in replaces the pending one");
            stale.cancel.cancel();
        }
        (id, cancel)
    }

    /// Forgets sign-in `id`; false when a newer sign-in had already replaced it.
    fn end(&self, id: u64) -> bool {
        let mut pending = lock(&self.pending);
        if pending.as_ref().is_some_and(|p| p.id == id) {
            *pending = None;
            true
        } else {
            false
        }
    }

    /// Keeps the authorize URL of sign-in `id` for [`Self::open_browser_again`].
    fn record(&self, id: u64, progress: &Progress) {
        let (stage, url) = match progress {
            Progress::OpeningBrowser { url } => ("opening_browser", Some(url)),
            Progress::Waiting { url } => ("waiting", Some(url)),
            Progress::BrowserFailed { url, .. } => ("browser_failed", Some(url)),
            Progress::Exchanging => ("exchanging", None),
        };
        // The URL carries state and PKCE challenge: it is not logged.
        tracing::debug!(stage, "sign-in progress");
        if let (Some(url), Some(pending)) = (url, lock(&self.pending).as_mut()) {
            if pending.id == id {
                pending.url = Url::parse(url).ok();
            }
        }
    }

    /// Cancels the pending sign-in, if any; its `sign_in` call then fails with `cancelled`.
    pub fn cancel_sign_in(&self) {
        if let Some(pending) = lock(&self.pending).as_ref() {
            tracing::info!("sign-in cancelled by the user");
            pending.cancel.cancel();
        }
    }

    /// Opens the pending sign-in's authorize URL in the browser again.
    pub fn open_browser_again(&self) -> Result<()> {
        let url = lock(&self.pending)
            .as_ref()
            .ok_or(Error::NoSignIn)?
            .url
            .clone()
            .ok_or_else(|| Error::Browser("the sign-in URL is not ready yet".into()))?;
        self.browser.open(&url).map_err(Error::Browser)
    }

    /// Ends the session. For now it is only forgotten (it lives in memory only); revoking the
    /// tokens at the provider and clearing a stored refresh token plug in at [`end_session`].
    pub async fn sign_out<R: Runtime>(&self, app: &AppHandle<R>) -> SignOutOutcome {
        let Some(session) = lock(&self.session).take() else {
            return SignOutOutcome {
                revoked: false,
                message: None,
            };
        };
        emit_session(app, None);
        tracing::info!("signed out");
        end_session(session).await
    }

    /// Calls the current settings' API with the session's access token.
    pub async fn call_api<R: Runtime>(&self, app: &AppHandle<R>) -> Result<ApiResult> {
        let session = lock(&self.session).clone().ok_or(CoreError::NotSignedIn)?;
        let engine = app.settings().engine()?;
        let result = engine
            .call_api(&session)
            .await
            .inspect_err(|error| tracing::info!(kind = error.kind(), %error, "API call failed"))?;
        tracing::info!(
            status = result.response.status,
            elapsed_ms = result.response.elapsed_ms,
            url = %result.response.url,
            "API answered"
        );
        Ok(result)
    }

    /// Forgets the session when `config` names another issuer or client than the one that
    /// issued it (its token would mean nothing to the new instance).
    pub fn keep_only_for<R: Runtime>(&self, app: &AppHandle<R>, config: &Config) {
        let ended = {
            let mut session = lock(&self.session);
            let foreign = session
                .as_ref()
                .is_some_and(|s| s.issuer != config.issuer || s.client_id != config.client_id);
            foreign.then(|| session.take()).flatten()
        };
        if ended.is_some() {
            tracing::info!("the instance changed: session forgotten");
            emit_session(app, None);
        }
    }
}

/// What happens to a session's tokens when it ends. Today nothing is stored and nothing is
/// revoked, so there is nothing to do; token revocation (RFC 7009) will go here.
async fn end_session(session: Session) -> SignOutOutcome {
    drop(session);
    SignOutOutcome {
        revoked: false,
        message: None,
    }
}

fn emit_session<R: Runtime>(app: &AppHandle<R>, summary: Option<&SessionSummary>) {
    if let Err(error) = app.emit(SESSION_CHANGED, summary) {
        tracing::warn!(%error, "could not emit {SESSION_CHANGED}");
    }
}

/// `app.sessions()` from anything that can reach the app's state.
pub trait SessionExt<R: Runtime> {
    /// The session manager.
    fn sessions(&self) -> &SessionManager;
}

impl<R: Runtime, T: Manager<R>> SessionExt<R> for T {
    fn sessions(&self) -> &SessionManager {
        self.state::<SessionManager>().inner()
    }
}
