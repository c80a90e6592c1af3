//! The sign-in: authorization request with PKCE S256, `state` and `nonce`, the loopback redirect,
//! the code exchange, and verification of what comes back.

use std::sync::Arc;
use std::time::Duration;

use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier, Scope};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{Error, Result};
use crate::session::state::Session;
use crate::settings::config::Config;
use crate::signin::loopback::{Expected, Listener};
use crate::signin::provider::Provider;
use crate::tokens::grant;

/// Default time to wait for the browser to come back.
pub const DEFAULT_SIGN_IN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How a sign-in is going, for a UI to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Progress {
    /// About to open the browser at `url`.
    OpeningBrowser {
        /// The authorization URL.
        url: String,
    },
    /// The browser was opened; waiting for the redirect.
    Waiting {
        /// The authorization URL, to open again or copy.
        url: String,
    },
    /// No browser could be opened; still waiting — the user can open `url` by hand.
    BrowserFailed {
        /// The authorization URL.
        url: String,
        /// Why the browser did not open.
        message: String,
    },
    /// A device sign-in (RFC 8628) started: show the user code and where to enter it. Polling
    /// until the user finishes on the other device.
    DeviceCode(crate::signin::device::DeviceCode),
    /// The code arrived; exchanging and verifying it.
    Exchanging,
}

/// A sign-in whose authorization URL is ready and whose listener is bound. The PKCE verifier,
/// `state` and `nonce` live only inside it, so a code can only be exchanged through
/// [`PendingSignIn::finish`].
pub struct PendingSignIn {
    pub(crate) http: reqwest::Client,
    pub(crate) provider: Arc<Provider>,
    pub(crate) config: Config,
    listener: Listener,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    nonce: Option<String>,
    authorize_url: Url,
    redirect_uri: String,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl PendingSignIn {
    pub(crate) async fn start(
        http: reqwest::Client,
        provider: Arc<Provider>,
        config: Config,
    ) -> Result<PendingSignIn> {
        let listener = Listener::bind(config.redirect_port).await?;
        let redirect_uri = listener.redirect_uri();
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        // 32 random bytes each: well over the 128 bits the state needs, and Clerk's 8-character minimum.
        let state = CsrfToken::new_random_len(32);
        let nonce = config
            .wants_id_token()
            .then(|| CsrfToken::new_random_len(32).secret().clone());
        let client = grant::oauth_client(&provider.metadata, &config.client_id, &redirect_uri)?;
        let issued_state = state.clone();
        let mut request = client
            .authorize_url(move || issued_state)
            .add_scopes(config.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge);
        if let Some(nonce) = &nonce {
            request = request.add_extra_param("nonce", nonce.clone());
        }
        // RFC 8707: the API the token is for, when its metadata named one (RFC 9728).
        if let Some(resource) = &config.resource {
            request = request.add_extra_param("resource", resource.to_string());
        }
        let (authorize_url, _) = request.url();
        Ok(PendingSignIn {
            http,
            provider,
            config,
            listener,
            state,
            verifier,
            nonce,
            authorize_url,
            redirect_uri,
        })
    }

    /// The URL to open in the browser.
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    /// `http://127.0.0.1:<port>/callback`.
    #[cfg(any(test, feature = "test-support"))]
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the redirect (at most `timeout`, until `cancel`), then exchanges the code and
    /// verifies the tokens. `on_code` runs when the code has arrived.
    pub async fn finish(
        self,
        timeout: Duration,
        cancel: &CancellationToken,
        on_code: impl FnOnce(),
    ) -> Result<Session> {
        let expected = Expected {
            state: &self.state,
            issuer: &self.provider.metadata.issuer,
            require_iss: self
                .provider
                .metadata
                .authorization_response_iss_parameter_supported,
            carries: crate::signin::loopback::CODE,
        };
        let code = self.listener.wait(&expected, timeout, cancel).await?;
        on_code();
        let exchange = async {
            let tokens = grant::exchange_code(
                &self.http,
                &self.provider.metadata,
                &self.config.client_id,
                &self.redirect_uri,
                code,
                self.verifier,
                self.config.resource.as_ref(),
            )
            .await?;
            self.provider
                .session(
                    &self.http,
                    &self.config,
                    tokens,
                    self.nonce.as_deref(),
                    None,
                )
                .await
        };
        tokio::select! {
            () = cancel.cancelled() => Err(Error::Cancelled),
            session = exchange => session,
        }
    }
}
