//! [`Keyhole`]: the engine a front end holds — configuration, HTTP client, discovered provider.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::browser::Browser;
use crate::config::Config;
use crate::diagnosis::{diagnose, TokenContext};
use crate::discovery::{self, ProviderMetadata};
use crate::error::{Error, Result};
use crate::flow::{PendingSignIn, Progress};
use crate::jwks::KeySet;
use crate::probe::{self, ApiResponse};
use crate::session::{Identity, Session};
use crate::tokens::{self, TokenSet};
use crate::verify::{AccessTokenInfo, Verifier};
use oauth2::AccessToken;

/// Default timeout of one HTTP request to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(20);

/// A discovered provider with its key set.
pub struct Provider {
    /// The checked metadata.
    pub metadata: ProviderMetadata,
    /// Its signing keys.
    pub keys: KeySet,
}

/// Options of an interactive sign-in.
#[derive(Debug, Clone)]
pub struct SignInOptions {
    /// How long to wait for the browser to come back.
    pub timeout: Duration,
    /// Fires to abandon the sign-in.
    pub cancel: CancellationToken,
}

impl Default for SignInOptions {
    fn default() -> Self {
        SignInOptions {
            timeout: crate::flow::DEFAULT_SIGN_IN_TIMEOUT,
            cancel: CancellationToken::new(),
        }
    }
}

/// An API answer plus Keyhole's explanation when it disappoints.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResult {
    /// The answer.
    #[serde(flatten)]
    pub response: ApiResponse,
    /// Why it most likely went wrong, in plain words.
    pub diagnosis: Option<String>,
}

/// The engine for one configuration.
pub struct Keyhole {
    config: Config,
    // Built on first use: a warm CLI run that only calls the API never builds the provider's.
    http: std::sync::OnceLock<reqwest::Client>,
    api_http: std::sync::OnceLock<reqwest::Client>,
    provider: tokio::sync::OnceCell<Arc<Provider>>,
}

impl Keyhole {
    /// An engine for `config`. Nothing touches the network until it is needed.
    pub fn new(config: Config) -> Keyhole {
        Keyhole {
            config,
            http: std::sync::OnceLock::new(),
            api_http: std::sync::OnceLock::new(),
            provider: tokio::sync::OnceCell::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The provider, discovered on first use. A failed discovery is retried on the next call.
    pub async fn provider(&self) -> Result<Arc<Provider>> {
        self.provider
            .get_or_try_init(|| async {
                let metadata = discovery::discover(self.http(), &self.config.issuer).await?;
                let keys = KeySet::new(metadata.jwks_uri.clone());
                Ok(Arc::new(Provider { metadata, keys }))
            })
            .await
            .cloned()
    }

    /// Discovers the provider, binds the loopback listener and builds the authorization URL.
    pub async fn start_sign_in(&self) -> Result<PendingSignIn> {
        let provider = self.provider().await?;
        PendingSignIn::start(self.http().clone(), provider, self.config.clone()).await
    }

    /// The whole interactive sign-in: open `browser`, wait for the redirect, exchange, verify.
    /// `progress` hears each stage. If the browser cannot be opened the flow keeps waiting, so
    /// the user can open the URL from [`Progress::BrowserFailed`] by hand.
    pub async fn sign_in(
        &self,
        browser: &dyn Browser,
        options: &SignInOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Session> {
        let pending = tokio::select! {
            () = options.cancel.cancelled() => return Err(Error::Cancelled),
            pending = self.start_sign_in() => pending?,
        };
        let url = pending.authorize_url().to_string();
        progress(Progress::OpeningBrowser { url: url.clone() });
        match browser.open(pending.authorize_url()) {
            Ok(()) => progress(Progress::Waiting { url }),
            Err(message) => {
                tracing::warn!(%message, "could not open the browser");
                progress(Progress::BrowserFailed { url, message });
            }
        }
        pending
            .finish(options.timeout, &options.cancel, || {
                progress(Progress::Exchanging)
            })
            .await
    }

    /// The HTTP client used for the provider (no redirects, bounded timeouts).
    pub(crate) fn http(&self) -> &reqwest::Client {
        self.http
            .get_or_init(|| crate::http::client(PROVIDER_TIMEOUT))
    }

    fn api_http(&self) -> &reqwest::Client {
        self.api_http
            .get_or_init(|| crate::http::client(probe::DEFAULT_TIMEOUT))
    }

    /// Renews the session with its refresh token (rotated or kept, see [`tokens::refresh`]).
    pub async fn refresh(&self, session: &Session) -> Result<Session> {
        let refresh_token = session
            .tokens
            .refresh_token
            .as_ref()
            .ok_or(Error::NotSignedIn)?;
        self.renew(refresh_token, Some(session)).await
    }

    /// Exchanges `refresh_token`; `previous` is the session it renews, when one is known (its ID
    /// claims and identity carry over when no new ID token comes back).
    pub(crate) async fn renew(
        &self,
        refresh_token: &oauth2::RefreshToken,
        previous: Option<&Session>,
    ) -> Result<Session> {
        let provider = self.provider().await?;
        let tokens = tokens::refresh(
            self.http(),
            &provider.metadata,
            &self.config.client_id,
            refresh_token,
        )
        .await?;
        provider
            .session(self.http(), &self.config, tokens, None, previous)
            .await
    }

    /// Verifies an access token from this provider (signature, issuer, lifetime), or reports it
    /// opaque. An unknown `kid` makes the key set refetch once.
    pub async fn inspect_access_token(&self, token: &AccessToken) -> Result<AccessTokenInfo> {
        let provider = self.provider().await?;
        Verifier {
            http: self.http(),
            keys: &provider.keys,
            issuer: &provider.metadata.issuer,
            client_id: &self.config.client_id,
        }
        .access_token(token.secret())
        .await
    }

    /// Calls the configured API with the session's access token.
    pub async fn call_api(&self, session: &Session) -> Result<ApiResult> {
        let url = self.config.require_api_url()?.clone();
        self.call(&url, session).await
    }

    /// Calls `url` with the session's access token and explains a disappointing answer.
    pub async fn call(&self, url: &Url, session: &Session) -> Result<ApiResult> {
        let response = probe::call(self.api_http(), url, &session.tokens.access_token).await?;
        let diagnosis = diagnose(
            &response,
            &TokenContext {
                access: &session.access,
                expires_at: session.expires_at(),
                issuer: &session.issuer,
            },
        );
        Ok(ApiResult {
            response,
            diagnosis,
        })
    }
}

impl Provider {
    /// Verifies a token set and makes it a session. `nonce` is the sign-in's; `previous` is the
    /// session a refresh renews (its ID claims are kept when no new ID token comes back).
    pub(crate) async fn session(
        &self,
        http: &reqwest::Client,
        config: &Config,
        tokens: TokenSet,
        nonce: Option<&str>,
        previous: Option<&Session>,
    ) -> Result<Session> {
        let verifier = Verifier {
            http,
            keys: &self.keys,
            issuer: &self.metadata.issuer,
            client_id: &config.client_id,
        };
        let id_claims = match &tokens.id_token {
            Some(id_token) => {
                let claims = verifier.id_token(id_token.secret(), nonce).await?;
                // OIDC Core §12.2: a refreshed ID token is about the same user.
                if let Some(previous_sub) = previous.and_then(Session::subject) {
                    if claims.get("sub").and_then(|s| s.as_str()) != Some(previous_sub) {
                        return Err(Error::verification(
                            "the refreshed ID token is about another user than the session",
                        ));
                    }
                }
                Some(claims)
            }
            None if previous.is_some() => previous.and_then(|p| p.id_claims.clone()),
            None if nonce.is_some() && granted(&tokens, "openid") => {
                return Err(Error::verification(
                    "the provider sent no ID token although the openid scope was granted",
                ))
            }
            None => None,
        };
        let access = verifier.access_token(tokens.access_token.secret()).await?;
        Ok(Session {
            issuer: self.metadata.issuer.clone(),
            client_id: config.client_id.clone(),
            tokens,
            access,
            identity: id_claims
                .as_ref()
                .and_then(Identity::from_claims)
                .or_else(|| previous.and_then(|p| p.identity.clone())),
            id_claims,
        })
    }
}

/// True when `scope` was granted; a response without `scope` granted what was asked (RFC 6749 §5.1).
fn granted(tokens: &TokenSet, scope: &str) -> bool {
    tokens
        .scopes
        .as_ref()
        .is_none_or(|scopes| scopes.iter().any(|s| s == scope))
}
