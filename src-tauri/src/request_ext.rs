//! The request editor's backend: sends the user's [`ApiRequest`] through the engine's service
//! (it checks it, adds the token when asked, renews once on a 401, cancels the one in flight),
//! records it in the history, and copies it as curl to the clipboard. The engine renders the
//! curl command; the literal token goes to the clipboard only, never to the page.

use std::sync::Arc;

use keyhole_core::ApiRequest;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};

use crate::answer_ext::{AnswerExt, Sent};
use crate::clipboard;
use crate::error::{Error, Result};
use crate::history_ext::HistoryExt;
use crate::service_ext::ServiceExt;

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

/// Where copied curl commands go.
pub struct RequestManager {
    clipboard: Option<Clipboard>,
}

impl RequestManager {
    /// Copied curl commands go to `clipboard`, or the system clipboard when None.
    pub fn new(clipboard: Option<Clipboard>) -> RequestManager {
        RequestManager { clipboard }
    }

    /// Sends `request` through the service (which cancels the one in flight), records it, and
    /// keeps its body as tab `tab`'s answer for the viewer (freeing the tab's one before).
    pub async fn send<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        request: &ApiRequest,
        tab: u64,
    ) -> Result<Sent> {
        let profile = app.service().profile();
        let outcome = app.service().send(request).await.map_err(Error::from);
        app.history().record(app, request, profile, &outcome);
        let result = outcome?;
        let answer = app.answers().keep(tab, request, &result);
        Ok(Sent { result, answer })
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
        let curl = app.service().curl(request, literal_token).await?;
        self.write_clipboard(app, curl.copied.secret().to_owned())
            .await?;
        tracing::info!(literal_token = curl.literal_token, "curl command copied");
        Ok(CurlCopy {
            command: curl.shown,
            literal_token: curl.literal_token,
        })
    }

    /// Writes `text` to the clipboard (or the tests' recorder).
    pub(crate) async fn write_clipboard<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        text: String,
    ) -> Result<()> {
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
