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

mod browser;
mod config;
pub mod diagnosis;
mod discovery;
mod engine;
mod error;
mod flow;
mod http;
mod jwks;
mod keeper;
mod loopback;
mod probe;
mod session;
mod tokens;
mod vault;
mod verify;

pub use browser::{Browser, CommandBrowser, SystemBrowser};
pub use config::{issuer_from_publishable_key, parse_api_url, Config, Settings, DEFAULT_SCOPES};
pub use discovery::{discover, discovery_url, ProviderMetadata};
pub use engine::{ApiResult, ApiWarning, Keyhole, Provider, SignInOptions};
pub use error::{Error, Result, Rule};
pub use flow::{PendingSignIn, Progress, DEFAULT_SIGN_IN_TIMEOUT};
pub use http::{client as http_client, describe_transport_error};
pub use jwks::KeySet;
pub use keeper::{SessionKeeper, SignOutOutcome};
pub use loopback::CALLBACK_PATH;
pub use probe::{ApiResponse, Body, BODY_CAP};
pub use session::{AccessTokenView, Session, SessionSummary};
pub use tokens::{IdToken, TokenSet};
pub use vault::{account_for, Keychain, KeychainOrMemory, MemoryStore, SecretStore};
pub use verify::{AccessTokenInfo, CLOCK_SKEW_SECS};

/// Token newtypes with redacted `Debug`, from the `oauth2` crate.
pub use oauth2::{AccessToken, RefreshToken};
/// Re-exported so front ends can cancel a sign-in without depending on tokio-util themselves.
pub use tokio_util::sync::CancellationToken;
