//! [`Keyhole`]: the engine a front end holds — configuration, HTTP client, discovered provider.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::api::diagnosis::{diagnose, TokenContext};
use crate::api::probe::{self, ApiResponse};
#[cfg(any(test, feature = "test-support"))]
use crate::api::request::ApiRequest;
use crate::api::request::{Credential, Prepared};
use crate::error::{Error, Result, Rule};
use crate::secret::Secret;
use crate::session::state::{Minted, Session};
use crate::settings::config::Config;
use crate::signin::browser::Browser;
use crate::signin::discovery;
use crate::signin::flow::{PendingSignIn, Progress};
use crate::signin::provider::Provider;
use crate::signin::SignInMethod;
use crate::tokens::grant;
use crate::tokens::jwks::KeySet;
use crate::tokens::verify::AccessTokenInfo;
#[cfg(any(test, feature = "test-support"))]
use {crate::tokens::verify::Verifier, oauth2::AccessToken};

/// Default timeout of one HTTP request to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(20);

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
            timeout: crate::signin::flow::DEFAULT_SIGN_IN_TIMEOUT,
            cancel: CancellationToken::new(),
        }
    }
}

/// What an interactive sign-in needs from its front end: where to open the URL, how long to wait
/// and how to give up, and where to report progress. Every sign-in method takes the same one.
#[derive(Clone, Copy)]
pub struct SignInContext<'a> {
    /// Opens the authorization URL (unused by methods that only show a code).
    pub browser: &'a dyn Browser,
    /// The timeout and the cancellation.
    pub options: &'a SignInOptions,
    /// Told each step, to show it.
    pub progress: &'a (dyn Fn(Progress) + Send + Sync),
}

impl<'a> SignInContext<'a> {
    /// Bundles the three.
    pub fn new(
        browser: &'a dyn Browser,
        options: &'a SignInOptions,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Self {
        SignInContext {
            browser,
            options,
            progress,
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
    /// What the user should know about where the bearer token went.
    pub warnings: Vec<ApiWarning>,
}

/// Something the user should know before (or after) the bearer token goes to an API: the call
/// is allowed, but may not be what they mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiWarning {
    /// A stable name: `audience` or `cleartext`.
    pub kind: &'static str,
    /// One plain sentence for the user.
    pub message: String,
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
                let metadata = discovery::discover_trusting(
                    self.http(),
                    &self.config.issuer,
                    &self.config.trusted_endpoint_origins,
                )
                .await?;
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

    /// Signs in with `method` and verifies what comes back; stores nothing (the keeper stores).
    /// `progress` hears each stage. [`SignInMethod::Browser`] opens `browser` at the
    /// authorization URL and waits for the loopback redirect; if the browser cannot be opened the
    /// flow keeps waiting, so the user can open the URL from [`Progress::BrowserFailed`] by hand.
    /// [`SignInMethod::Device`] (RFC 8628, for a machine with no browser) opens nothing:
    /// `progress` hears [`Progress::DeviceCode`] with what to show, and the sign-in fails with
    /// [`Error::DeviceDenied`] or [`Error::DeviceCodeExpired`] when the user does not finish.
    /// Either way the tokens are verified the same, and a timeout or [`Error::Cancelled`] ends it.
    pub async fn sign_in(
        &self,
        method: SignInMethod,
        context: &SignInContext<'_>,
    ) -> Result<Session> {
        let SignInContext {
            browser,
            options,
            progress,
        } = *context;
        match method {
            SignInMethod::Browser => self.sign_in_browser(browser, options, progress).await,
            SignInMethod::Device => self.sign_in_device(options, progress).await,
            // Not an OAuth flow: the service signs in to Clerk's Frontend API itself.
            SignInMethod::Clerk => Err(Error::setting(
                "method",
                "Clerk's own sign-in gives a Clerk session, not OAuth tokens; start it from the service.",
            )),
        }
    }

    async fn sign_in_browser(
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

    async fn sign_in_device(
        &self,
        options: &SignInOptions,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<Session> {
        let provider = tokio::select! {
            () = options.cancel.cancelled() => return Err(Error::Cancelled),
            provider = self.provider() => provider?,
        };
        let pending = tokio::select! {
            () = options.cancel.cancelled() => return Err(Error::Cancelled),
            pending = crate::signin::device::start(self.http(), &provider.metadata, &self.config) => pending?,
        };
        progress(Progress::DeviceCode(pending.shown().clone()));
        let tokens = pending
            .poll(
                self.http(),
                &provider.metadata,
                &self.config.client_id,
                options.timeout,
                &options.cancel,
            )
            .await?;
        progress(Progress::Exchanging);
        tokio::select! {
            () = options.cancel.cancelled() => Err(Error::Cancelled),
            session = provider.device_session(self.http(), &self.config, tokens) => session,
        }
    }

    /// True when the provider offers the device flow (discovers it if needed).
    pub async fn offers_device_flow(&self) -> Result<bool> {
        Ok(self
            .provider()
            .await?
            .metadata
            .device_authorization_endpoint
            .is_some())
    }

    /// The HTTP client used for the provider (no redirects, bounded timeouts).
    pub(crate) fn http(&self) -> &reqwest::Client {
        self.http
            .get_or_init(|| crate::http::client(PROVIDER_TIMEOUT))
    }

    fn api_http(&self) -> &reqwest::Client {
        self.api_http
            .get_or_init(|| crate::http::client(probe::CLIENT_TIMEOUT))
    }

    /// Renews the session with its refresh token (rotated or kept, see [`grant::refresh`]).
    #[cfg(any(test, feature = "test-support"))]
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
        let tokens = grant::refresh(
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
    #[cfg(any(test, feature = "test-support"))]
    pub async fn inspect_access_token(&self, token: &AccessToken) -> Result<AccessTokenInfo> {
        let provider = self.provider().await?;
        Verifier {
            http: self.http(),
            keys: &provider.keys,
            issuer: &provider.metadata.issuer,
            client_id: &self.config.client_id,
            id_token_algs: &provider.metadata.id_token_signing_alg_values_supported,
        }
        .access_token(token.secret())
        .await
    }

    /// Calls the configured API with the session's access token.
    #[cfg(any(test, feature = "test-support"))]
    pub async fn call_api(&self, session: &Session) -> Result<ApiResult> {
        let url = self.config.require_api_url()?.clone();
        self.call(&url, session).await
    }

    /// Checks where the bearer token would go, before it goes: Err with [`Rule::Cleartext`] when
    /// `url` is plain http off loopback and not allowed by
    /// [`Config::allow_cleartext_api`](crate::Config::allow_cleartext_api) (RFC 6750 §5.3);
    /// otherwise the warnings the user should see (an allowed cleartext origin, or an API the
    /// access token's audience does not name).
    pub fn destination(&self, url: &Url, session: &Session) -> Result<Vec<ApiWarning>> {
        destination_warnings(url, session, &self.config.cleartext_api_origins)
    }

    /// Calls `url` with the session's access token and explains a disappointing answer.
    #[cfg(any(test, feature = "test-support"))]
    pub async fn call(&self, url: &Url, session: &Session) -> Result<ApiResult> {
        let request = ApiRequest::get(url).prepare()?;
        self.send(&request, Bearer::OAuth(session), &CancellationToken::new())
            .await
    }

    /// Sends `request` with `bearer` (which must be the kind the request asks for), until
    /// `cancel` or its timeout, and explains a disappointing answer.
    pub async fn send(
        &self,
        request: &Prepared,
        bearer: Bearer<'_>,
        cancel: &CancellationToken,
    ) -> Result<ApiResult> {
        let wanted = request.credential();
        if bearer.credential() != wanted {
            // A caller's mistake, not the user's: the request asked for another token.
            return Err(Error::NotSignedIn);
        }
        let warnings = match &bearer {
            Bearer::OAuth(session) => self.destination(request.url(), session)?,
            Bearer::Session(_) => cleartext_warnings(
                request.url(),
                "session token",
                &self.config.cleartext_api_origins,
            )?,
            Bearer::Opaque(kind, _) => cleartext_warnings(
                request.url(),
                match kind {
                    Credential::ApiKey => "API key",
                    _ => "M2M token",
                },
                &self.config.cleartext_api_origins,
            )?,
            Bearer::None => Vec::new(),
        };
        // Returned to the caller, who shows them (the CLI's "Warning:", the window's notice); a
        // WARN log line too would say each one twice, three times after a renewal's retry.
        for warning in &warnings {
            tracing::debug!(kind = warning.kind, "{}", warning.message);
        }
        let token = bearer.token();
        let response = probe::send(self.api_http(), request, token, cancel).await?;
        // Without a token, a signed-out answer is what was asked for: only Clerk's reason is said.
        let session_token;
        let context = match &bearer {
            Bearer::OAuth(session) => Some(TokenContext {
                credential: Credential::OAuth,
                access: &session.access,
                expires_at: session.expires_at(),
                issuer: &session.issuer,
            }),
            Bearer::Session(minted) => {
                session_token = AccessTokenInfo::Jwt {
                    header: minted.header.clone(),
                    claims: minted.claims.clone(),
                };
                Some(TokenContext {
                    credential: Credential::Session,
                    access: &session_token,
                    expires_at: Some(UNIX_EPOCH + Duration::from_secs(minted.expires_at)),
                    issuer: minted
                        .claims
                        .get("iss")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or(""),
                })
            }
            Bearer::Opaque(kind, _) => Some(TokenContext {
                credential: *kind,
                access: &AccessTokenInfo::Opaque,
                expires_at: None,
                issuer: &self.config.issuer,
            }),
            Bearer::None => None,
        };
        let diagnosis = diagnose(&response, context.as_ref());
        Ok(ApiResult {
            response,
            diagnosis,
            warnings,
        })
    }
}

/// The token a request goes out with, of the kind its [`Credential`] names.
pub enum Bearer<'a> {
    /// The OAuth session's access token.
    OAuth(&'a Session),
    /// A Clerk session token just minted.
    Session(&'a Minted),
    /// An opaque credential of kind `.0` (an API key, an M2M token), sent as it is.
    Opaque(Credential, &'a Secret),
    /// None.
    None,
}

impl Bearer<'_> {
    fn credential(&self) -> Credential {
        match self {
            Bearer::OAuth(_) => Credential::OAuth,
            Bearer::Session(_) => Credential::Session,
            Bearer::Opaque(kind, _) => *kind,
            Bearer::None => Credential::None,
        }
    }

    fn token(&self) -> Option<&str> {
        match self {
            Bearer::OAuth(session) => Some(session.tokens.access_token.secret()),
            Bearer::Session(minted) => Some(minted.token.secret()),
            Bearer::Opaque(_, token) => Some(token.secret()),
            Bearer::None => None,
        }
    }
}

/// RFC 6750 §5.3 for any bearer token about to go to `url`.
pub(crate) fn cleartext_warnings(
    url: &Url,
    what: &str,
    cleartext_allowed: &[url::Origin],
) -> Result<Vec<ApiWarning>> {
    let origin = url.origin();
    let loopback = url
        .host_str()
        .is_some_and(crate::settings::config::is_loopback_host);
    if url.scheme() != "http" || loopback {
        return Ok(Vec::new());
    }
    if !cleartext_allowed.contains(&origin) {
        return Err(Error::refused(
            Rule::Cleartext,
            format!(
                "The API URL uses plain http on {}, so your {what} would cross the network unencrypted where anyone on the path can copy it; use https, or allow cleartext for that origin explicitly.",
                origin.ascii_serialization()
            ),
        ));
    }
    Ok(vec![ApiWarning {
        kind: "cleartext",
        message: format!(
            "Your {what} goes to {} unencrypted (plain http), as you allowed; anyone on the network path can copy it.",
            origin.ascii_serialization()
        ),
    }])
}

/// RFC 6750 §5.3 and the token's audience, for a bearer token about to go to `url`.
fn destination_warnings(
    url: &Url,
    session: &Session,
    cleartext_allowed: &[url::Origin],
) -> Result<Vec<ApiWarning>> {
    let mut warnings = cleartext_warnings(url, "access token", cleartext_allowed)?;
    let origin = url.origin();
    if let AccessTokenInfo::Jwt { claims, .. } = &session.access {
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(serde_json::Value::String(a)) => vec![a.as_str()],
            Some(serde_json::Value::Array(a)) => {
                a.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        };
        // Only URL audiences name an origin; a URN (or none, as with Clerk by default) cannot be
        // compared with the API URL, so it says nothing either way.
        let named: Vec<Url> = audiences
            .iter()
            .filter_map(|a| Url::parse(a).ok())
            .filter(|a| matches!(a.scheme(), "http" | "https"))
            .collect();
        if !named.is_empty() && !named.iter().any(|a| a.origin() == origin) {
            warnings.push(ApiWarning {
                kind: "audience",
                message: format!(
                    "Your access token is meant for {} (its audience), not for {}; Keyhole sends it as asked, but an API it is not meant for can reuse it.",
                    audiences.join(", "),
                    origin.ascii_serialization()
                ),
            });
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::grant::IdToken;
    use crate::tokens::grant::TokenSet;
    use crate::tokens::jwks::KeySet;
    use crate::Settings;
    use oauth2::RefreshToken;
    use serde_json::json;
    use std::time::SystemTime;

    fn config() -> Config {
        Settings {
            instance: "http://127.0.0.1:9".into(),
            client_id: "keyhole-client".into(),
            ..Settings::default()
        }
        .validate()
        .unwrap()
    }

    fn provider() -> Provider {
        // An unreachable issuer: these tests never touch the network.
        let metadata = crate::signin::discovery::check_document(
            json!({
                "issuer": "http://127.0.0.1:9",
                "authorization_endpoint": "http://127.0.0.1:9/oauth/authorize",
                "token_endpoint": "http://127.0.0.1:9/oauth/token",
                "jwks_uri": "http://127.0.0.1:9/jwks",
                "code_challenge_methods_supported": ["S256"],
            })
            .to_string()
            .as_bytes(),
            "http://127.0.0.1:9",
        )
        .unwrap();
        let keys = KeySet::preloaded(metadata.jwks_uri.clone(), &json!({"keys": []}));
        Provider { metadata, keys }
    }

    fn tokens(access: &str, scopes: Option<&[&str]>) -> TokenSet {
        TokenSet {
            access_token: AccessToken::new(access.into()),
            refresh_token: Some(RefreshToken::new("rt".into())),
            id_token: None,
            expires_at: None,
            received_at: SystemTime::now(),
            scopes: scopes.map(|s| s.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn session(access: AccessTokenInfo, scopes: Option<&[&str]>) -> Session {
        Session {
            issuer: "http://127.0.0.1:9".into(),
            client_id: "keyhole-client".into(),
            tokens: tokens("oat_x", scopes),
            access,
            id_claims: Some(serde_json::Map::new()),
            identity: None,
        }
    }

    #[tokio::test]
    async fn an_openid_answer_without_an_id_token_is_refused_whatever_scope_it_claims() {
        let http = crate::http::client(Duration::from_secs(2));
        for scopes in [None, Some(&["profile", "email"][..]), Some(&["openid"][..])] {
            let err = provider()
                .session(
                    &http,
                    &config(),
                    tokens("oat_x", scopes),
                    Some("nonce"),
                    None,
                )
                .await
                .unwrap_err();
            assert_eq!(err.rule(), Some(Rule::IdTokenMissing), "{scopes:?}: {err}");
        }
    }

    #[tokio::test]
    async fn the_id_token_sent_as_the_access_token_is_refused() {
        let http = crate::http::client(Duration::from_secs(2));
        let mut set = tokens("e30.e30.c2ln", None);
        set.id_token = Some(IdToken::new("e30.e30.c2ln".into()));
        let err = provider()
            .session(&http, &config(), set, Some("nonce"), None)
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TokenConfusion), "{err}");
    }

    #[tokio::test]
    async fn a_refresh_that_widens_the_scope_is_refused() {
        let http = crate::http::client(Duration::from_secs(2));
        let before = session(AccessTokenInfo::Opaque, Some(&["openid", "email"]));
        let widened = tokens("oat_y", Some(&["openid", "email", "private_metadata"]));
        let err = provider()
            .session(&http, &config(), widened, None, Some(&before))
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::ScopeWidened), "{err}");
        assert!(err.to_string().contains("private_metadata"), "{err}");
        // Narrower, equal or unsaid scope is fine; unsaid keeps the previous scope.
        for scopes in [Some(&["email"][..]), Some(&["email", "openid"][..]), None] {
            let renewed = provider()
                .session(
                    &http,
                    &config(),
                    tokens("oat_y", scopes),
                    None,
                    Some(&before),
                )
                .await
                .unwrap();
            assert!(renewed.tokens.scopes.is_some(), "{scopes:?}");
        }
        // With no scope ever said, the bound is what was asked for.
        let before = session(AccessTokenInfo::Opaque, None);
        let err = provider()
            .session(
                &http,
                &config(),
                tokens("oat_y", Some(&["openid", "admin"])),
                None,
                Some(&before),
            )
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::ScopeWidened), "{err}");
    }

    #[test]
    fn a_bearer_token_never_goes_in_cleartext_off_loopback_unless_allowed() {
        let s = session(AccessTokenInfo::Opaque, None);
        let url = Url::parse("http://api.example.com/protected").unwrap();
        let err = destination_warnings(&url, &s, &[]).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::Cleartext), "{err}");
        assert!(err.to_string().contains("http://api.example.com"), "{err}");
        // Allowed for that origin: sent, with a warning. Another origin stays refused.
        let warnings = destination_warnings(&url, &s, &[url.origin()]).unwrap();
        assert_eq!(warnings[0].kind, "cleartext");
        let other = Url::parse("http://api.example.com:8080/").unwrap();
        assert_eq!(
            destination_warnings(&other, &s, &[url.origin()])
                .unwrap_err()
                .rule(),
            Some(Rule::Cleartext)
        );
        // Loopback and https need nothing.
        for ok in [
            "http://127.0.0.1:5010/x",
            "http://localhost:5000/x",
            "http://[::1]:5000/x",
            "https://api.example.com/x",
        ] {
            let warnings = destination_warnings(&Url::parse(ok).unwrap(), &s, &[]).unwrap();
            assert!(warnings.is_empty(), "{ok}");
        }
    }

    #[test]
    fn an_api_the_tokens_audience_does_not_name_gets_a_warning() {
        let jwt = |aud: serde_json::Value| {
            let mut claims = serde_json::Map::new();
            if !aud.is_null() {
                claims.insert("aud".into(), aud);
            }
            session(
                AccessTokenInfo::Jwt {
                    header: serde_json::Map::new(),
                    claims,
                },
                None,
            )
        };
        let api = Url::parse("https://api.example.com/protected").unwrap();
        let named = jwt(json!("https://api.example.com"));
        assert!(destination_warnings(&api, &named, &[]).unwrap().is_empty());
        let listed = jwt(json!(["https://other.test", "https://api.example.com/"]));
        assert!(destination_warnings(&api, &listed, &[]).unwrap().is_empty());
        let elsewhere = jwt(json!(["https://other.test/api"]));
        let warnings = destination_warnings(&api, &elsewhere, &[]).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].kind, "audience");
        assert!(warnings[0].message.contains("https://other.test/api"));
        // No aud (Clerk's default), a URN, or an opaque token: nothing to compare, no warning.
        for s in [
            jwt(serde_json::Value::Null),
            jwt(json!("urn:keyhole:sandbox-api")),
            session(AccessTokenInfo::Opaque, None),
        ] {
            assert!(destination_warnings(&api, &s, &[]).unwrap().is_empty());
        }
    }
}
