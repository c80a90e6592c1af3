//! Glue between the UI and keyhole-core's session policy. The engine decides everything
//! (which keeper serves the settings, the newest sign-in wins, renewal, sign-out); this module
//! holds the [`Accounts`], starts a new keeper's renewal driver and restore, and forwards the
//! keeper's changes to the UI as [`SESSION_CHANGED`] events with notices to show once.
//! `std::sync::Mutex`es here are held only for a copy or a swap, never across an `.await`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keyhole_core::renewal::{self, RenewalStats};
use keyhole_core::{
    Accounts, ApiResult, Browser, CancellationToken, Config, Error as CoreError, Progress,
    SecretStore, SessionKeeper, SessionSummary, SignInOptions, SignOutOutcome,
};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::error::{Error, Result};

/// Emitted with a [`Progress`] payload while a sign-in runs.
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";
/// Emitted with a [`SessionState`] whenever the session starts, is renewed, restored or ends.
pub const SESSION_CHANGED: &str = "session-changed";

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

/// The keeper of the current settings, plus what the UI is told once.
pub struct SessionManager {
    browser: Arc<dyn Browser>,
    sign_in_timeout: Duration,
    accounts: Accounts,
    renewals: Arc<RenewalStats>,
    restoring: AtomicBool,
    notices: Mutex<Vec<String>>,
    keychain_notice_given: AtomicBool,
    /// Set when the page first asks for the state; events sent before then would be lost.
    ui_ready: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; a poisoned one still holds consistent data.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl SessionManager {
    /// A manager that opens sign-in URLs with `browser`, gives up after `sign_in_timeout`, and
    /// keeps sessions in `secrets`.
    pub fn new(
        browser: Arc<dyn Browser>,
        sign_in_timeout: Duration,
        secrets: Arc<dyn SecretStore>,
    ) -> SessionManager {
        SessionManager {
            browser,
            sign_in_timeout,
            accounts: Accounts::new(secrets),
            renewals: Arc::default(),
            restoring: AtomicBool::new(false),
            notices: Mutex::new(Vec::new()),
            keychain_notice_given: AtomicBool::new(false),
            ui_ready: AtomicBool::new(false),
        }
    }

    /// Where sessions and registrations are kept (the keychain, or memory without one).
    pub fn secrets(&self) -> Arc<dyn SecretStore> {
        Arc::clone(self.accounts.store())
    }

    /// What the background renewal has done (for diagnostics and tests).
    pub fn renewals(&self) -> &RenewalStats {
        &self.renewals
    }

    /// The state for the page, which asks once it listens for [`SESSION_CHANGED`]: from then on
    /// changes are sent as events. (Before, they wait here, so a notice from a restore that beat
    /// the page's start is not lost.)
    pub fn state_for_ui(&self) -> SessionState {
        self.ui_ready.store(true, Ordering::SeqCst);
        self.state()
    }

    /// For the page's first frame (`crate::first_frame_script`): the session and whether a
    /// restore runs, read without taking the notices or marking the page ready (it calls
    /// `session` for both once it listens).
    pub fn first_frame_state(&self) -> SessionState {
        SessionState {
            session: self.accounts.current().and_then(|k| k.summary()),
            restoring: self.restoring.load(Ordering::SeqCst),
            notice: None,
        }
    }

    /// The session as the UI sees it; pending notices are handed over (shown once).
    pub fn state(&self) -> SessionState {
        let session = self.accounts.current().and_then(|k| k.summary());
        let notices = std::mem::take(&mut *lock(&self.notices));
        SessionState {
            session,
            restoring: self.restoring.load(Ordering::SeqCst),
            notice: (!notices.is_empty()).then(|| notices.join(" ")),
        }
    }

    /// The keeper for `config`; a new one gets its renewal driver and its changes forwarded.
    pub(crate) fn keeper_for<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        config: Config,
    ) -> Arc<SessionKeeper> {
        let (keeper, new) = self.accounts.for_config(config);
        if new {
            tauri::async_runtime::spawn(renewal::drive(
                Arc::downgrade(&keeper),
                Arc::clone(&self.renewals),
            ));
            forward(app, &keeper);
        }
        keeper
    }

    fn keeper<R: Runtime>(&self, app: &AppHandle<R>) -> Result<Arc<SessionKeeper>> {
        Ok(self.keeper_for(app, app.state::<crate::SettingsManager>().config()?))
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
                // The keeper's watchers were told why (see `forward`).
                Err(CoreError::SessionEnded(_)) => {}
                Err(error) => {
                    tracing::info!(kind = error.kind(), %error, "could not restore the session");
                    sessions.tell(format!(
                        "Could not restore your session: {}. You can sign in again.",
                        error.report()
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
        self.accounts.current().is_some_and(|k| k.is_signing_in())
    }

    /// Runs an interactive sign-in with the current settings (a newer one replaces it). Emits
    /// [`SIGN_IN_PROGRESS`] while it runs; the session reaches the UI through the keeper.
    pub async fn sign_in<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SessionSummary> {
        self.run_sign_in(app, false).await
    }

    /// Runs a device sign-in (RFC 8628) with the current settings, exactly like
    /// [`SessionManager::sign_in`]; the progress carries the user code and its QR code.
    pub async fn sign_in_device<R: Runtime>(&self, app: &AppHandle<R>) -> Result<SessionSummary> {
        self.run_sign_in(app, true).await
    }

    async fn run_sign_in<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        device: bool,
    ) -> Result<SessionSummary> {
        // A client Keyhole registered may have been forgotten by the provider since: the engine
        // checks it (RFC 7592) and registers again once; the user hears it.
        if let Some(note) = crate::settings_ext::recheck_registration(app).await? {
            self.tell(note);
            self.emit_state(app);
        }
        let keeper = self.keeper(app)?;
        tracing::info!(issuer = %keeper.keyhole().config().issuer, "sign-in started");
        let progress = {
            let app = app.clone();
            move |progress: Progress| {
                // The URL carries state and PKCE challenge: it is not logged.
                if let Err(error) = app.emit(SIGN_IN_PROGRESS, &progress) {
                    tracing::warn!(%error, "could not emit {SIGN_IN_PROGRESS}");
                }
            }
        };
        let options = SignInOptions {
            timeout: self.sign_in_timeout,
            cancel: CancellationToken::new(),
        };
        let outcome = if device {
            keeper.sign_in_device(&options, &progress).await
        } else {
            keeper
                .sign_in(self.browser.as_ref(), &options, &progress)
                .await
        };
        let session = outcome
            .inspect_err(|error| tracing::info!(kind = error.kind(), %error, "sign-in ended"))?;
        self.check_keychain();
        let summary = session.summary();
        tracing::info!(
            subject = summary.subject.as_deref().unwrap_or("?"),
            "signed in"
        );
        Ok(summary)
    }

    /// Cancels the pending sign-in, if any; its `sign_in` call then fails with `cancelled`.
    pub fn cancel_sign_in(&self) {
        if let Some(keeper) = self.accounts.current() {
            tracing::info!("sign-in cancelled by the user");
            keeper.cancel_sign_in();
        }
    }

    /// Opens the pending sign-in's authorize URL in the browser again.
    pub fn open_browser_again(&self) -> Result<()> {
        let keeper = self
            .accounts
            .current()
            .filter(|k| k.is_signing_in())
            .ok_or(Error::NoSignIn)?;
        let url = keeper
            .pending_sign_in_url()
            .ok_or_else(|| Error::Browser("the sign-in URL is not ready yet".into()))?;
        self.browser.open(&url).map_err(Error::Browser)
    }

    /// Ends the session: revoked at the provider, removed from the keychain and memory. The local
    /// part happens even when the provider cannot be reached; the outcome says so.
    pub async fn sign_out<R: Runtime>(&self, app: &AppHandle<R>) -> SignOutOutcome {
        let Some(keeper) = self.accounts.current() else {
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
        let config = app.state::<crate::SettingsManager>().config()?;
        // The saved API URL: changing it alone keeps the keeper (and its session).
        let url = config.require_api_url()?.clone();
        let keeper = self.keeper_for(app, config);
        let result = keeper
            .call(&url)
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

    /// Called after settings were saved: another sign-in configuration means another session —
    /// that one's, restored from the keychain if it was kept.
    pub fn settings_changed<R: Runtime>(&self, app: &AppHandle<R>, config: &Config) {
        if self.accounts.would_switch(config) {
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
        if let Some(reason) = self.accounts.store().unavailable() {
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

/// Tells the UI about every change of `keeper`'s session, with the reason when it ended by
/// itself. Ends when the keeper is dropped.
fn forward<R: Runtime>(app: &AppHandle<R>, keeper: &Arc<SessionKeeper>) {
    let mut changes = keeper.watch();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            let ended = changes.borrow_and_update().ended.clone();
            let sessions = app.sessions();
            if let Some(reason) = ended {
                sessions.tell(reason);
            }
            sessions.emit_state(&app);
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
