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
//! - [`Error`]: one error type; [`Error::kind`] gives a stable name for UIs.
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
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod http;
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
pub use error::{Error, Result, Rule};
pub use http::{client as http_client, describe_transport_error};
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

/// Token newtypes with redacted `Debug`, from the `oauth2` crate.
pub use oauth2::{AccessToken, RefreshToken};
/// Re-exported so front ends can cancel a sign-in without depending on tokio-util themselves.
pub use tokio_util::sync::CancellationToken;
