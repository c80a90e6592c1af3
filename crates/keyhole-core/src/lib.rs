//! # keyhole-core
//!
//! Keyhole's sign-in engine, with no Tauri dependency: it signs a user in to a Clerk instance (or
//! any OpenID provider) from a desktop, and calls a protected API with the access token.
//!
//! # Contents
//! - [`Settings`] → [`Config`]: the instance (Frontend API URL or publishable key), client ID,
//!   scopes, redirect port and API URL, validated field by field.
//! - [`Keyhole`]: discovery, the loopback PKCE sign-in ([`Keyhole::sign_in`]), refresh, API calls.
//! - [`Session`]: verified tokens; [`ApiResult`]: the API's answer plus a [`diagnosis`] in plain words.
//! - [`SessionKeeper`]: the session that lives on — refresh before expiry and once on a 401,
//!   restore from the OS [`Keychain`] after a restart, sign-out with revocation.
//! - No set-up: [`Keyhole::sign_in_device`] / [`SessionKeeper::sign_in_device`] (RFC 8628, for
//!   machines without a browser), [`registration`] (RFC 7591, when no client ID is given) and
//!   [`resource`] (RFC 9728: start from the API URL alone, ask for it as an RFC 8707 resource).
//! - [`Error`]: one error type; [`Error::kind`] gives a stable name for UIs, [`Error::report`]
//!   the message with its causes (each cause is a `source`, never repeated in the message).
//!
//! # Security
//! Redirects are never followed by the provider client; the API client follows them only within
//! the API's origin, so the bearer token never leaves it. Tokens are redacting newtypes and no
//! message of this crate contains one.
//!
//! # Example
//! ```no_run
//! # async fn example() -> keyhole_core::Result<()> {
//! use keyhole_core::{Keyhole, Settings, SignInOptions, SystemBrowser};
//!
//! let config = Settings {
//!     instance: "pk_test_Zml0LWZveC00Mi5jbGVyay5hY2NvdW50cy5kZXYk".into(),
//!     client_id: "my-client-id".into(),
//!     api_url: "http://localhost:5000/protected-endpoint".into(),
//!     ..Settings::default()
//! }
//! .validate()?;
//! let keyhole = Keyhole::new(config);
//! let session = keyhole
//!     .sign_in(&SystemBrowser, &SignInOptions::default(), &|progress| eprintln!("{progress:?}"))
//!     .await?;
//! let answer = keyhole.call_api(&session).await?;
//! println!("{} {}", answer.response.status, answer.diagnosis.unwrap_or_default());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod api;
mod engine;
mod error;
mod http;
mod secret;
mod session;
mod settings;
mod signin;
mod tokens;

pub use api::diagnosis;
pub use session::renewal;
pub use signin::{registration, resource};
pub use tokens::jws_crypto;

pub use api::probe::{ApiResponse, Body, BODY_CAP};
pub use api::request::{
    quote as shell_quote, ApiRequest, CurlToken, Method, Pair, Prepared, RequestBody,
    DEFAULT_API_TIMEOUT, MAX_API_TIMEOUT,
};
pub use engine::{ApiResult, ApiWarning, Keyhole, SignInOptions};
pub use error::{chain, Error, Result, Rule};
pub use http::{client as http_client, describe_transport_error};
pub use secret::Secret;
pub use session::accounts::Accounts;
pub use session::keeper::{SessionKeeper, SessionUpdate, SignOutOutcome};
pub use session::state::{AccessTokenView, Identity, Session, SessionSummary};
pub use session::vault::{account_for, Keychain, KeychainOrMemory, MemoryStore, SecretStore};
pub use settings::config::{
    issuer_from_publishable_key, parse_api_url, Config, Settings, DEFAULT_SCOPES, MAX_URL_LEN,
};
pub use settings::profiles::{Profile, Profiles};
pub use signin::browser::{Browser, CommandBrowser, SystemBrowser};
pub use signin::device::{DeviceCode, QrCode};
pub use signin::discovery::{discover, discovery_url, ProviderMetadata};
pub use signin::flow::{PendingSignIn, Progress, DEFAULT_SIGN_IN_TIMEOUT};
pub use signin::loopback::CALLBACK_PATH;
pub use signin::provider::Provider;
pub use tokens::grant::{IdToken, TokenSet};
pub use tokens::jwks::KeySet;
pub use tokens::verify::{AccessTokenInfo, CLOCK_SKEW_SECS};

/// The parsers of outside input as plain functions, for the fuzz targets (`fuzz/`) and the
/// property tests. Not a supported API: it may change at any time.
#[doc(hidden)]
pub mod fuzzing {
    use serde_json::{Map, Value};

    use crate::error::Rule;
    use crate::Result;

    pub use crate::settings::config::{
        issuer_from_publishable_key as publishable_key, parse_api_url as api_url,
    };
    pub use crate::signin::discovery::check_document as discovery;
    pub use crate::tokens::grant::{parse_token_response as token_response, MAX_TOKEN_LEN};
    pub use crate::tokens::verify::{AccessTokenInfo, MAX_ID_TOKEN_AGE_SECS};

    /// A JWT's JOSE header, read without trusting it.
    pub fn jwt_header(raw: &str) -> Option<Map<String, Value>> {
        crate::tokens::verify::peek_header(raw).ok()
    }

    /// A JWKS document: how many keys may verify signatures.
    pub fn jwks(body: &[u8]) -> Result<usize> {
        let document: Value = serde_json::from_slice(body)
            .map_err(|e| crate::Error::discovery_from(format!("the JWKS is not JSON: {e}"), e))?;
        Ok(crate::tokens::jwks::parse_key_set(&document)?
            .iter()
            .filter(|k| k.verifies)
            .count())
    }

    /// The loopback listener's verdict on one raw request, with `state` issued and `port` bound:
    /// None when the head is unreadable; else the status, the rule a refusal broke, and the code
    /// (Ok) or error (Err) when the request ends the flow.
    pub fn callback(
        raw: &[u8],
        state: &str,
        issuer: &str,
        port: u16,
    ) -> Option<(u16, Option<Rule>, Option<Result<String>>)> {
        let state = oauth2::CsrfToken::new(state.to_owned());
        let expected = crate::signin::loopback::Expected {
            state: &state,
            issuer,
            require_iss: false,
        };
        let (status, rule, outcome) = crate::signin::loopback::judge_raw(raw, port, &expected)?;
        Some((status, rule, outcome.map(|o| o.map(|c| c.secret().clone()))))
    }

    /// Who checks tokens in [`id_token`] and [`access_token`].
    pub struct Checker<'a> {
        /// The provider's JWKS document.
        pub jwks: &'a Value,
        /// The issuer.
        pub issuer: &'a str,
        /// This client.
        pub client_id: &'a str,
        /// `id_token_signing_alg_values_supported`.
        pub id_token_algs: &'a [String],
    }

    fn run<T>(
        checker: &Checker<'_>,
        check: impl AsyncFnOnce(&crate::tokens::verify::Verifier<'_>) -> T,
    ) -> T {
        // An unreachable JWKS URL: a refetch fails at once, nothing leaves the machine.
        let uri = url::Url::parse("http://127.0.0.1:9/jwks").unwrap_or_else(|_| unreachable!());
        let keys = crate::tokens::jwks::KeySet::preloaded(uri, checker.jwks);
        let http = crate::http::client(std::time::Duration::from_millis(200));
        let verifier = crate::tokens::verify::Verifier {
            http: &http,
            keys: &keys,
            issuer: checker.issuer,
            client_id: checker.client_id,
            id_token_algs: checker.id_token_algs,
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("no runtime: {e}"))
            .block_on(check(&verifier))
    }

    /// Verifies an ID token as a sign-in does.
    pub fn id_token(
        checker: &Checker<'_>,
        raw: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<Map<String, Value>> {
        run(checker, async |v| {
            v.id_token(raw, nonce, access_token).await
        })
    }

    /// Verifies an access token as a sign-in does.
    pub fn access_token(checker: &Checker<'_>, raw: &str) -> Result<AccessTokenInfo> {
        run(checker, async |v| v.access_token(raw).await)
    }
}

/// Token newtypes with redacted `Debug`, from the `oauth2` crate.
pub use oauth2::{AccessToken, RefreshToken};
/// Re-exported so front ends can cancel a sign-in without depending on tokio-util themselves.
pub use tokio_util::sync::CancellationToken;
