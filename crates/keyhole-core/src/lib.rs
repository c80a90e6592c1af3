//! # keyhole-core
//!
//! Keyhole's engine, with no Tauri dependency: it signs a user in to a Clerk instance (or any
//! OpenID provider) from a desktop or a terminal, keeps the session, and calls a protected API.
//! The desktop app's shell and the CLI are both thin front ends over its one [`Service`].
//!
//! # Contents
//! - [`Service`]: what a front end builds ([`ServiceOptions`]) and calls. It owns settings →
//!   [`Config`], the [`Profile`] in use, the set-up order (RFC 9728 resource metadata when no
//!   instance is given, RFC 7591 registration when no client ID is, a forgotten client replaced),
//!   restore-or-sign-in, the [`SignInMethod`], sign-out, the request in flight and copy as curl,
//!   and it reports as it goes through one stream of [`Event`]s.
//! - [`Settings`]: what the user types, validated field by field into a [`Config`].
//! - [`Session`]: verified tokens and what a UI shows of them ([`SessionSummary`]).
//! - [`ApiRequest`] → [`ApiResult`]: the request the user shapes, the [`Credential`] it carries
//!   (a Clerk session token, the OAuth access token, an API key, an M2M token, or none), and the
//!   answer with a plain-words diagnosis when it disappoints; [`Matrix`]: the same request with
//!   every kind of token held, and what would let each refused kind in.
//! - [`KeyKind`]: the Clerk keys a user gives (secret key, API key, machine secret key), kept in
//!   the keychain only.
//! - [`SecretStore`]: where secrets live — the OS [`Keychain`], or memory without one.
//! - [`Error`]: one error type; [`Error::kind`] gives a stable name for UIs, [`Error::rule`] the
//!   rule of the standards that refused something, [`Error::report`] the message with its causes
//!   (each cause is a `source`, never repeated in the message).
//!
//! # Inside
//! `settings` (config, profiles) → `signin` (discovery, resource metadata, registration, the
//! loopback and device flows) → `tokens` (grants, keys, verification) → `session` (record,
//! keeper, renewal, lock, vault) → `api` (request, probe, diagnosis); `service` sits on top.
//!
//! # Security
//! Redirects are never followed by the provider client; the API client follows them only within
//! the API's origin, so the bearer token never leaves it. Tokens are redacting newtypes and no
//! message of this crate contains one.
//!
//! # Example
//! ```no_run
//! # async fn example() -> keyhole_core::Result<()> {
//! use std::sync::Arc;
//! use keyhole_core::*;
//!
//! let service = Service::new(ServiceOptions {
//!     settings: Settings {
//!         instance: "pk_test_Zml0LWZveC00Mi5jbGVyay5hY2NvdW50cy5kZXYk".into(),
//!         api_url: "http://localhost:5000/protected-endpoint".into(),
//!         ..Settings::default()
//!     },
//!     profile: None,
//!     profiles: None,
//!     secrets: Arc::new(KeychainOrMemory::new(Keychain::SERVICE)),
//!     keychain_service: Keychain::SERVICE.into(),
//!     browser: Arc::new(SystemBrowser),
//!     sign_in_timeout: DEFAULT_SIGN_IN_TIMEOUT,
//!     settings_store: None,
//!     events: Arc::new(|event| eprintln!("{event:?}")),
//!     background: None,
//!     trusted_endpoint_origins: Vec::new(),
//!     cleartext_api_origins: Vec::new(),
//! });
//! // No client ID: Keyhole registers itself (RFC 7591), then signs in through the browser.
//! let (session, _) = service.session_or_sign_in(SignInMethod::Browser).await?;
//! let url = url::Url::parse("http://localhost:5000/protected-endpoint").unwrap();
//! let answer = service.send(&ApiRequest::get(&url)).await?;
//! println!("{} {}", answer.response.status, answer.diagnosis.unwrap_or_default());
//! # let _ = session;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod api;
mod clerk;
mod engine;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod mcp;
mod secret;
mod service;
mod session;
mod settings;
mod signin;
mod timing;
mod tokens;

// What the two front ends use: the service, and the types its calls take and give.
pub use api::answer::{
    Answer, Fold, Kind as AnswerKind, Line, Match, Matches, Mode, Span, Token, Window,
};
pub use api::answers::{AnswerView, Answers, Saved};
pub use api::import::curl::{looks_like_curl, CurlImport};
pub use api::import::{ImportKind, ImportReport, TOKEN_REPLACED};
pub use api::matrix::{accepts_token_value, Matrix, MatrixRow, MissingKind};
pub use api::probe::{ApiResponse, Body, BODY_CAP, PARSE_CAP};
pub use api::request::{ApiRequest, Credential, Method, Pair, RequestBody};
pub use api::variables::{
    check_variable_name, shell_variable, Variable, VariableView, Variables, MASK,
};
pub use clerk::keys::KeyKind;
/// Token newtypes with redacted `Debug`, from the `oauth2` crate.
pub use engine::{ApiResult, ApiWarning};
pub use error::{chain, Error, Result, Rule};
pub use mcp::{
    shown_text, Check, CheckId, McpCallResult, McpContent, McpFault, McpItem, McpListing,
    McpReport, McpServer, McpTool, McpTools, Revision, Verdict,
};
pub use oauth2::{AccessToken, RefreshToken};
pub use secret::Secret;
pub use service::{
    Curl, Event, EventSink, McpCheckOptions, ProfilesView, Resumed, Service, ServiceOptions, SetUp,
    SettingsStore,
};
pub use session::clerk::KeysView;
pub use session::keeper::{SessionUpdate, SignOutOutcome};
pub use session::state::{AccessTokenView, Identity, Session, SessionSummary};
pub use session::vault::{Keychain, KeychainOrMemory, MemoryStore, SecretStore};
pub use settings::config::{Config, Settings, DEFAULT_SCOPES};
pub use settings::profiles::{Profile, Profiles};
pub use signin::browser::{Browser, CommandBrowser, SystemBrowser};
pub use signin::device::{DeviceCode, QrCode};
pub use signin::flow::{Progress, DEFAULT_SIGN_IN_TIMEOUT};
pub use signin::SignInMethod;
pub use timing::unix_micros;
pub use tokens::grant::{IdToken, TokenSet};
pub use tokens::verify::AccessTokenInfo;

// The engine's lower layers, for the tests that drive one flow at a time against the sandbox.
#[cfg(feature = "test-support")]
#[doc(hidden)]
pub use {
    api::diagnosis,
    engine::{Bearer, Keyhole, SignInContext, SignInOptions},
    http::{client as http_client, describe_transport_error},
    session::keeper::SessionKeeper,
    session::renewal,
    session::vault::account_for,
    signin::{registration, resource},
    tokens::jws_crypto,
    tokio_util::sync::CancellationToken,
};
