//! The session — kept by keyhole-core's [`SessionKeeper`] (refresh, keychain, revocation) — and
//! the sign-in in progress.
//!
//! One keeper per instance + client + scopes + port: changing only the API URL keeps the session.
//! Its changes (sign-in, refresh, restore, end) reach the UI as [`SESSION_CHANGED`] events from a
//! task that also renews the token shortly before it expires. `std::sync::Mutex`es here are held
//! only for a copy or a swap, never across an `.await`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyhole_core::{
    ApiResult, Browser, CancellationToken, Config, Error as CoreError, Keyhole, Progress,
    SecretStore, SessionKeeper, SessionSummary, SignInOptions, SignOutOutcome,
};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use url::Url;

use crate::error::{Error, Result};
use crate::settings_ext::SettingsExt;

/// Emitted with a [`Progress`] payload while a sign-in runs.
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";
/// Emitted with a [`SessionState`] whenever the session starts, is renewed, restored or ends.
pub const SESSION_CHANGED: &str = "session-changed";
/// After a background renewal failed for a passing reason (network), try again this much later.
const RETRY_REFRESH: Duration = Duration::from_secs(30);

/// What the UI knows about the session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The signed-in session, if any.
    pub session: Option<SessionSummary>,
    /// True while a stored session is being resumed in the background.
    pub restoring: bool,
    /// Something to tell the user once (no keychain, a session that ended, a failed restore).
    pub notice: Option<String>,
}

/// The session keeper and the pending sign-in.
pub struct SessionManager {
    browser: Arc<dyn Browser>,
    sign_in_timeout: Duration,
    secrets: Arc<dyn SecretStore>,
    keeper: Mutex<Option<Arc<SessionKeeper>>>,
    pending: Mutex<Option<Pending>>,
    next_id: AtomicU64,
    restoring: AtomicBool,
    notices: Mutex<Vec<String>>,
    keychain_notice_given: AtomicBool,
    /// Set when the page first asks for the state; events sent before then would be lost.
    ui_ready: AtomicBool,
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
    /// A manager that opens sign-in URLs with `browser`, gives up after `sign_in_timeout`, and
    /// keeps refresh tokens in `secrets`.
    pub fn new(
        browser: Arc<dyn Browser>,
        sign_in_timeout: Duration,
        secrets: Arc<dyn SecretStore>,
    ) -> SessionManager {
        SessionManager {
            browser,
            sign_in_timeout,
            secrets,
            keeper: Mutex::new(None),
            pending: Mutex::new(None),
            next_id: AtomicU64::new(1),
            restoring: AtomicBool::new(false),
            notices: Mutex::new(Vec::new()),
            keychain_notice_given: AtomicBool::new(false),
            ui_ready: AtomicBool::new(false),
        }
    }

    /// The state for the page, which asks once it listens for [`SESSION_CHANGED`]: from then on
    /// changes are sent as events. (Before, they wait here, so a notice from a restore that beat
    /// the page's start is not lost.)
    pub fn state_for_ui(&self) -> SessionState {
        self.ui_ready.store(true, Ordering::SeqCst);
        self.state()
    }

    /// The session as the UI sees it; pending notices are handed over (shown once).
    pub fn state(&self) -> SessionState {
        let session = lock(&self.keeper).as_ref().and_then(|k| k.summary());
        let notices = std::mem::take(&mut *lock(&self.notices));
        SessionState {
            session,
            restoring: self.restoring.load(Ordering::SeqCst),
            notice: (!notices.is_empty()).then(|| notices.join(" ")),
        }
    }

    /// The keeper for the current settings, made (and watched) when the instance, client,
    /// scopes or port changed.
    fn keeper<R: Runtime>(&self, app: &AppHandle<R>) -> Result<Arc<SessionKeeper>> {
        let config = app.settings().config()?;
        let mut slot = lock(&self.keeper);
        if let Some(keeper) = slot
            .as_ref()
            .filter(|k| same_session(k.keyhole().config(), &config))
        {
            return Ok(Arc::clone(keeper));
        }
        let keeper = Arc::new(SessionKeeper::new(
            Keyhole::new(config),
            Arc::clone(&self.secrets),
        ));
        *slot = Some(Arc::clone(&keeper));
        drop(slot);
        watch(app, &keeper);
        Ok(keeper)
    }

    /// Resumes the stored session of the current settings in the background (at launch, and
    /// after switching instance). The UI shows "restoring" meanwhile; nothing waits on it.
    pub fn restore_in_background<R: Runtime>(&self, app: &AppHandle<R>) {
        let Ok(keeper) = self.keeper(app) else {
            return; // No valid settings yet: nothing to restore.
        };
        self.restoring.store(true, Ordering::SeqCst);
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let sessions = app.sessions();
            match keeper.restore().await {
                Ok(Some(_)) => tracing::info!("session restored"),
                Ok(None) => {}
                Err(error @ CoreError::SessionEnded(_)) => sessions.tell(error.to_string()),
                Err(error) => {
                    tracing::info!(kind = error.kind(), %error, "could not restore the session");
                    sessions.tell(format!(
                        "Could not restore your session: {error}. You can sign in again."
                    ));
                }
            }
            // Notices first, so whoever sees `restoring: false` sees them too.
            sessions.check_keychain();
            sessions.restoring.store(false, Ordering::SeqCst);
            sessions.emit_state(&app);
        });
    }

    /// True while a stored session is being resumed.
    pub fn is_restoring(&self) -> bool {
        self.restoring.load(Ordering::SeqCst)
    }

    /// True while a sign-in is running.
    pub fn is_signing_in(&self) -> bool {
        lock(&self.pending).is_some()
    }

    /// Runs an interactive sign-in with the current settings. A sign-in already running is
    /// cancelled first. Emits [`SIGN_IN_PROGRESS`] while it runs and [`SESSION_CHANGED`] on success.
    pub async fn sign_in<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SessionSummary> {
        let keeper = self.keeper(app)?;
        let (id, cancel) = self.begin();
        tracing::info!(issuer = %keeper.keyhole().config().issuer, "sign-in started");
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
        let outcome = keeper
            .keyhole()
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
        // Stores the refresh token in the keychain; the watcher tells the UI.
        keeper.adopt(session).await?;
        self.check_keychain();
        tracing::info!(
            subject = summary.subject.as_deref().unwrap_or("?"),
            "signed in"
        );
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

    /// Ends the session: revoked at the provider, removed from the keychain and memory. The local
    /// part happens even when the provider cannot be reached; the outcome says so.
    pub async fn sign_out<R: Runtime>(&self, app: &AppHandle<R>) -> SignOutOutcome {
        let Some(keeper) = lock(&self.keeper).clone() else {
            return SignOutOutcome {
                revoked: false,
                message: None,
            };
        };
        let outcome = keeper.sign_out().await;
        tracing::info!(revoked = outcome.revoked, "signed out");
        self.emit_state(app);
        outcome
    }

    /// Calls the current settings' API with a fresh access token (renewed if about to expire,
    /// and once more on a 401).
    pub async fn call_api<R: Runtime>(&self, app: &AppHandle<R>) -> Result<ApiResult> {
        let keeper = self.keeper(app)?;
        let url = app.settings().config()?.require_api_url()?.clone();
        let result = keeper.call(&url).await.inspect_err(|error| {
            tracing::info!(kind = error.kind(), %error, "API call failed");
            if matches!(error, CoreError::SessionEnded(_)) {
                self.tell(error.to_string());
                self.emit_state(app);
            }
        })?;
        tracing::info!(
            status = result.response.status,
            elapsed_ms = result.response.elapsed_ms,
            url = %result.response.url,
            "API answered"
        );
        Ok(result)
    }

    /// Called after settings were saved: another instance, client, scopes or port means another
    /// session — that one's, restored from the keychain if it was kept.
    pub fn settings_changed<R: Runtime>(&self, app: &AppHandle<R>, config: &Config) {
        let same = lock(&self.keeper)
            .as_ref()
            .is_some_and(|k| same_session(k.keyhole().config(), config));
        if !same {
            tracing::info!("the instance changed: switching session");
            self.restore_in_background(app);
            self.emit_state(app);
        }
    }

    fn tell(&self, notice: String) {
        lock(&self.notices).push(notice);
    }

    /// Says once that secrets cannot outlive the app, when no keychain was available.
    fn check_keychain(&self) {
        if let Some(reason) = self.secrets.unavailable() {
            if !self.keychain_notice_given.swap(true, Ordering::SeqCst) {
                tracing::warn!(%reason, "no system keychain: the session is kept in memory only");
                // `reason` reads "the system keychain is not available (…)".
                self.tell(format!(
                    "{reason}. You will stay signed in only until Keyhole closes."
                ));
            }
        }
    }

    fn emit_state<R: Runtime>(&self, app: &AppHandle<R>) {
        if !self.ui_ready.load(Ordering::SeqCst) {
            return; // The page will ask (state_for_ui) and get everything at once.
        }
        if let Err(error) = app.emit(SESSION_CHANGED, self.state()) {
            tracing::warn!(%error, "could not emit {SESSION_CHANGED}");
        }
    }
}

/// Two configurations share a session when they sign in the same way; the API URL may differ.
fn same_session(a: &Config, b: &Config) -> bool {
    a.issuer == b.issuer
        && a.client_id == b.client_id
        && a.scopes == b.scopes
        && a.redirect_port == b.redirect_port
}

/// Tells the UI about every change of `keeper`'s session, and renews the session when it is due.
/// Ends when the keeper is dropped.
fn watch<R: Runtime>(app: &AppHandle<R>, keeper: &Arc<SessionKeeper>) {
    let mut changes = keeper.watch();
    let keeper: Weak<SessionKeeper> = Arc::downgrade(keeper);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut not_before = SystemTime::UNIX_EPOCH;
        loop {
            let due = changes
                .borrow()
                .as_ref()
                .and_then(|s| s.refresh_at)
                .map(|at| (UNIX_EPOCH + Duration::from_secs(at)).max(not_before));
            let wait = due.map(|due| due.duration_since(SystemTime::now()).unwrap_or_default());
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        break; // The keeper is gone.
                    }
                    app.sessions().emit_state(&app);
                }
                () = tokio::time::sleep(wait.unwrap_or_default()), if wait.is_some() => {
                    let Some(keeper) = keeper.upgrade() else { break };
                    match keeper.fresh_session().await {
                        Ok(_) => tracing::info!("session renewed"),
                        Err(error @ CoreError::SessionEnded(_)) => {
                            app.sessions().tell(error.to_string());
                            app.sessions().emit_state(&app);
                        }
                        Err(error) => {
                            tracing::warn!(kind = error.kind(), %error, "could not renew the session; will retry");
                            not_before = SystemTime::now() + RETRY_REFRESH;
                        }
                    }
                }
            }
        }
    });
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
