//! The request editor's backend: sends the user's [`ApiRequest`] through the current settings'
//! keeper (the engine checks it, adds the token when asked, renews once on a 401), lets the user
//! cancel it, records it in the history, and copies it as curl to the clipboard. The engine
//! renders the curl command; the literal token goes to the clipboard only, never to the page.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use keyhole_core::{AccessToken, ApiRequest, ApiResult, CancellationToken, CurlToken};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};

use crate::clipboard;
use crate::error::{Error, Result};
use crate::history_ext::HistoryExt;
use crate::session_ext::SessionExt;
use crate::settings_ext::SettingsExt;

/// What the page sees of a copied curl command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurlCopy {
    /// The command as copied; with the literal token, the token is shown as `<access token>`.
    pub command: String,
    /// True when the clipboard holds the literal token.
    pub literal_token: bool,
}

/// Writes text to the clipboard (tests put a recorder in place of the system clipboard).
pub type Clipboard = Arc<dyn Fn(String) -> std::result::Result<(), String> + Send + Sync>;

/// The request in flight (one at a time: a new one cancels the old).
pub struct RequestManager {
    keychain_service: String,
    clipboard: Option<Clipboard>,
    calls: AtomicU64,
    pending: Mutex<Option<(u64, CancellationToken)>>,
}

impl RequestManager {
    /// A manager whose copied curl commands read the token from `keychain_service`; they go to
    /// `clipboard`, or the system clipboard when None.
    pub fn new(keychain_service: String, clipboard: Option<Clipboard>) -> RequestManager {
        RequestManager {
            keychain_service,
            clipboard,
            calls: AtomicU64::new(0),
            pending: Mutex::new(None),
        }
    }

    fn pending(&self) -> MutexGuard<'_, Option<(u64, CancellationToken)>> {
        // Held only for a swap; a poisoned lock still holds a consistent value.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `request` with the current settings' session (or none, without the token), until
    /// it is answered, times out, or [`RequestManager::cancel`] is called; then records it.
    pub async fn send<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        request: &ApiRequest,
    ) -> Result<ApiResult> {
        let config = app.settings().config()?;
        let profile = config.profile.clone();
        let keeper = app.sessions().keeper_for(app, config);
        let cancel = CancellationToken::new();
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some((_, previous)) = self.pending().replace((call, cancel.clone())) {
            previous.cancel();
        }
        let outcome = keeper.send(request, &cancel).await.map_err(Error::from);
        {
            let mut pending = self.pending();
            if pending.as_ref().is_some_and(|(id, _)| *id == call) {
                *pending = None;
            }
        }
        match &outcome {
            Ok(result) => tracing::info!(
                method = %result.response.method,
                status = result.response.status,
                elapsed_ms = result.response.elapsed_ms,
                url = %result.response.url,
                "API answered"
            ),
            Err(error) => tracing::info!(kind = error.kind(), %error, "request failed"),
        }
        app.history().record(app, request, profile, &outcome);
        outcome
    }

    /// Cancels the request in flight; its `send` fails with kind `cancelled`.
    pub fn cancel(&self) {
        if let Some((_, pending)) = self.pending().take() {
            tracing::info!("request cancelled by the user");
            pending.cancel();
        }
    }

    /// Puts `request` as a curl command on the clipboard. The token comes from
    /// `$(keyhole-cli token …)`, or is the literal access token when `literal_token` (the page
    /// warned the user); the page then sees it masked.
    pub async fn copy_curl<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        request: &ApiRequest,
        literal_token: bool,
    ) -> Result<CurlCopy> {
        let config = app.settings().config()?;
        let literal_token = literal_token && request.send_token;
        let command = if literal_token {
            let keeper = app.sessions().keeper_for(app, config);
            let session = keeper.fresh_session().await?;
            let copied = request.to_curl(&CurlToken::Literal(session.tokens.access_token))?;
            self.write_clipboard(app, copied).await?;
            request.to_curl(&CurlToken::Literal(AccessToken::new(
                "<access token>".into(),
            )))?
        } else {
            let copied =
                request.to_curl(&CurlToken::command_for(&config, &self.keychain_service))?;
            self.write_clipboard(app, copied.clone()).await?;
            copied
        };
        tracing::info!(literal_token, "curl command copied");
        Ok(CurlCopy {
            command,
            literal_token,
        })
    }

    async fn write_clipboard<R: Runtime>(&self, app: &AppHandle<R>, text: String) -> Result<()> {
        match &self.clipboard {
            Some(clipboard) => clipboard(text),
            None => clipboard::write_text(app, text).await,
        }
        .map_err(Error::Clipboard)
    }
}

/// `app.requests()` from anything that can reach the app's state.
pub trait RequestExt<R: Runtime> {
    /// The request manager.
    fn requests(&self) -> &RequestManager;
}

impl<R: Runtime, T: Manager<R>> RequestExt<R> for T {
    fn requests(&self) -> &RequestManager {
        self.state::<RequestManager>().inner()
    }
}
