//! The Clerk session Keyhole holds as a native client ([`crate::clerk::native`]): its record in
//! the keychain, session tokens minted right before a call (and reused while they have life left,
//! so typing never mints), the client JWT's rotation shared by every Keyhole process under the
//! account lock, and sign-out at Clerk.
//!
//! Each Frontend API call reads the record under the lock first, because another process (the
//! app, the CLI) may have rotated the client JWT since; an answer's rotated JWT is saved before
//! the lock is released.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use crate::clerk::bapi::Bapi;
use crate::clerk::fapi::{self, Fapi};
use crate::clerk::keys::{self, KeyKind};
use crate::clerk::native::{self, NativeSession};
use tokio_util::sync::CancellationToken;

use crate::api::request::{Credential, Prepared};
use crate::engine::{ApiResult, Bearer, Keyhole, SignInContext};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::lock;
use crate::session::state::{AccessTokenView, Minted, SessionSummary};
use crate::session::vault::SecretStore;
use crate::settings::config::Config;
use crate::tokens::jwks::KeySet;
use crate::tokens::verify::{now_secs, peek_claims, peek_header, Verifier};

/// A minted session token with less life than this left is not sent; a new one is minted.
/// Clerk's live ~60 s; an API may be a few seconds away, and clocks drift.
pub(crate) const MIN_LIFE: Duration = Duration::from_secs(15);
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// What the keychain holds for a Clerk session: the session and the instance's public keys (so a
/// warm call verifies its token without a second request).
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    v: u8,
    #[serde(flatten)]
    session: NativeSession,
    #[serde(default)]
    jwks: Option<Value>,
}

/// The Clerk session of one instance.
pub(crate) struct ClerkKeeper {
    /// Sends the API calls (the engine's request rules, with this instance's settings).
    sender: Keyhole,
    instance: Url,
    account: String,
    store: Arc<dyn SecretStore>,
    http: OnceLock<reqwest::Client>,
    keys: Mutex<Option<Arc<KeySet>>>,
    current: tokio::sync::Mutex<Option<NativeSession>>,
    minted: Mutex<Option<Minted>>,
    /// The last M2M token minted, with its expiry.
    m2m: Mutex<Option<(Secret, Option<u64>)>>,
}

/// Which keys are kept for an instance, masked.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysView {
    /// The secret key, e.g. `sk_test_…abcd`.
    pub secret_key: Option<String>,
    /// The API key.
    pub api_key: Option<String>,
    /// The machine secret key.
    pub machine_key: Option<String>,
}

/// The token a request is about to carry.
enum Ready {
    Minted(Minted),
    Opaque(Secret),
    Nothing,
}

/// How long an M2M token Keyhole mints lives.
const M2M_TTL: Duration = Duration::from_secs(10 * 60);

impl ClerkKeeper {
    /// The keeper of the Clerk session of `config`'s instance (its Frontend API origin).
    pub fn new(config: Config, store: Arc<dyn SecretStore>) -> Result<ClerkKeeper> {
        let instance = Url::parse(&config.issuer)
            .map_err(|e| Error::setting_from("instance", "The instance is not a URL.", e))?;
        let account = format!("clerk-session@{}", instance.origin().ascii_serialization());
        Ok(ClerkKeeper {
            sender: Keyhole::new(config),
            instance,
            account,
            store,
            http: OnceLock::new(),
            keys: Mutex::new(None),
            current: tokio::sync::Mutex::new(None),
            minted: Mutex::new(None),
            m2m: Mutex::new(None),
        })
    }

    /// The settings this keeper serves.
    pub fn config(&self) -> &Config {
        self.sender.config()
    }

    /// Sends `request` with a session token minted for it (or one minted moments ago, see
    /// [`ClerkKeeper::token`]).
    /// An API key or M2M token goes as it is; a request without a token goes without.
    pub async fn send(&self, request: &Prepared, cancel: &CancellationToken) -> Result<ApiResult> {
        let credential = request.credential();
        let ready = async {
            match credential {
                Credential::Session => Ok(Ready::Minted(self.token().await?)),
                Credential::ApiKey => Ok(Ready::Opaque(self.api_key()?)),
                Credential::M2m => Ok(Ready::Opaque(self.m2m_token().await?)),
                Credential::OAuth | Credential::None => Ok(Ready::Nothing),
            }
        };
        let ready: Result<Ready> = tokio::select! {
            () = cancel.cancelled() => return Err(Error::CallCancelled),
            ready = ready => ready,
        };
        let ready = ready?;
        let bearer = match &ready {
            Ready::Minted(minted) => Bearer::Session(minted),
            Ready::Opaque(token) => Bearer::Opaque(credential, token),
            Ready::Nothing => Bearer::None,
        };
        self.sender.send(request, bearer, cancel).await
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| crate::http::client(fapi::TIMEOUT))
    }

    fn fapi(&self) -> Fapi<'_> {
        Fapi {
            http: self.http(),
            base: &self.instance,
        }
    }

    /// Signs in through the browser (see [`native::sign_in`]) and keeps the session.
    pub async fn sign_in(
        &self,
        port: u16,
        strategy: Option<&str>,
        context: &SignInContext<'_>,
    ) -> Result<SessionSummary> {
        let session = native::sign_in(&self.fapi(), port, strategy, context).await?;
        let jwks = self.fetch_jwks().await?;
        self.keep(&session, Some(jwks)).await?;
        let minted = self.token().await?;
        Ok(summary(&self.instance, &session, &minted))
    }

    /// Keeps a session just made (and the instance's keys, when fetched): in the keychain under
    /// the lock, and here, with no token minted for another session left over.
    async fn keep(&self, session: &NativeSession, jwks: Option<Value>) -> Result<()> {
        {
            let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
            self.save(session, jwks.as_ref())?;
        }
        if let Some(jwks) = &jwks {
            self.preload_keys(jwks);
        }
        *self.current.lock().await = Some(session.clone());
        self.clear_minted();
        Ok(())
    }

    async fn fetch_jwks(&self) -> Result<Value> {
        let url = self.jwks_url()?;
        crate::http::get_json(self.http(), url.as_str(), "the instance's keys (JWKS)").await
    }

    fn preload_keys(&self, jwks: &Value) {
        if let Ok(url) = self.jwks_url() {
            *self.keys_lock() = Some(Arc::new(KeySet::preloaded(url, jwks)));
        }
    }

    /// The session from the keychain, if one is kept (nothing is sent).
    pub async fn restore(&self) -> Result<Option<NativeSession>> {
        let record = self.load()?;
        let mut slot = self.current.lock().await;
        *slot = record.map(|r| {
            if let Some(jwks) = &r.jwks {
                self.preload_keys(jwks);
            }
            r.session
        });
        Ok(slot.clone())
    }

    /// A session token to send now: the last one minted while it has [`MIN_LIFE`] left, else a
    /// new one.
    pub async fn token(&self) -> Result<Minted> {
        if let Some(minted) = self.minted_lock().clone() {
            if minted.expires_at >= now_secs() + MIN_LIFE.as_secs() {
                return Ok(minted);
            }
        }
        let minted = self.mint().await?;
        *self.minted_lock() = Some(minted.clone());
        Ok(minted)
    }

    /// What a UI shows of the session, with the last token minted.
    pub async fn summary(&self) -> Option<SessionSummary> {
        let session = self.current.lock().await.clone()?;
        let minted = self.minted_lock().clone();
        Some(match minted {
            Some(minted) => summary(&self.instance, &session, &minted),
            None => SessionSummary {
                subject: Some(session.user_id.clone()),
                email: session.email.clone(),
                issuer: self.instance.origin().ascii_serialization(),
                impersonated: session.client_jwt.is_none(),
                ..SessionSummary::clerk_default(&session.session_id)
            },
        })
    }

    async fn mint(&self) -> Result<Minted> {
        let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
        // The keychain's copy is the newest rotation, whoever made it.
        let record = self.load()?;
        let mut slot = self.current.lock().await;
        let Some(Record {
            mut session, jwks, ..
        }) = record
        else {
            *slot = None;
            return Err(Error::NotSignedIn);
        };
        let jwt = match session.client_jwt.clone() {
            Some(client_jwt) => {
                self.mint_native(&mut session, &client_jwt, jwks.as_ref())
                    .await
            }
            None => self.mint_test(&session).await,
        };
        let jwt = match jwt {
            Ok(jwt) => jwt,
            Err(Error::Clerk {
                status: 401 | 404,
                code,
                ..
            }) if code != "clerk_key_invalid" => {
                // Ended at Clerk (signed out elsewhere, revoked): forget it, so the next call
                // asks for a sign-in instead of failing the same way again.
                self.store.delete(&self.account)?;
                self.clear_minted();
                *slot = None;
                return Err(Error::SessionEnded(
                    "Clerk no longer knows this session (it was signed out or revoked)".to_owned(),
                ));
            }
            Err(error) => return Err(error),
        };
        if let Some(iss) = peek_claims(&jwt)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_owned))
            .filter(|iss| *iss != self.instance.origin().ascii_serialization())
        {
            return Err(Error::setting(
                "secretKey",
                format!("The session token comes from another Clerk instance ({iss}), not from {}: the secret key or the session belongs to that one. Use this instance's secret key, or set the instance to that one.", self.instance.origin().ascii_serialization()),
            ));
        }
        let claims = self.verify(&jwt, &session.session_id).await?;
        let header = peek_header(&jwt).unwrap_or_default();
        let expires_at = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        *slot = Some(session);
        Ok(Minted {
            token: Secret::new(jwt),
            header,
            claims,
            expires_at,
        })
    }

    /// A session token from the Frontend API, as the client `client_jwt`; a rotated client JWT
    /// is saved (the caller holds the lock).
    async fn mint_native(
        &self,
        session: &mut NativeSession,
        client_jwt: &Secret,
        jwks: Option<&Value>,
    ) -> Result<String> {
        let path = format!("/v1/client/sessions/{}/tokens", session.session_id);
        let answer = self
            .fapi()
            .post(&path, &[], Some(client_jwt), "minting a session token")
            .await?;
        if let Some(newer) = answer.client_jwt.as_ref().filter(|n| *n != client_jwt) {
            session.client_jwt = Some(newer.clone());
            self.save(session, jwks)?;
        }
        native::string_at(&answer.response, &["jwt"])
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::clerk(
                    "Frontend API",
                    200,
                    "",
                    "Clerk's answer to minting a session token carries no jwt, so there is nothing to send.",
                )
            })
    }

    /// A session token for a test session, from the Backend API with the secret key.
    async fn mint_test(&self, session: &NativeSession) -> Result<String> {
        let key = self.key(KeyKind::SecretKey)?;
        let token = self.bapi(&key).session_token(&session.session_id).await?;
        Ok(token.secret().to_owned())
    }

    // --- test sessions, keys and machine tokens ------------------------------------------------

    /// Makes a session for `user_id` with the secret key (Backend API `POST /v1/sessions`, as
    /// Clerk's testing guide does) and keeps it as this instance's Clerk session: an
    /// impersonated test session. A production key (`sk_live_`) only with `allow_production`.
    pub async fn start_test_session(
        &self,
        user_id: &str,
        allow_production: bool,
    ) -> Result<SessionSummary> {
        let user_id = user_id.trim();
        if !user_id.starts_with("user_") || user_id.chars().any(char::is_whitespace) {
            return Err(Error::setting(
                "testUser",
                "Give the user to act as by their Clerk user ID (user_…, from the Dashboard's Users page).",
            ));
        }
        let key = self.key(KeyKind::SecretKey)?;
        if !keys::is_development(&key) && !allow_production {
            return Err(Error::setting(
                "secretKey",
                "That is a production secret key (sk_live_…): a test session acts as a real user of a live app, so Keyhole makes one only when you say so explicitly (--allow-production, or the window's checkbox).",
            ));
        }
        let session_id = self.bapi(&key).create_session(user_id).await?;
        let session = NativeSession {
            client_jwt: None,
            session_id,
            user_id: user_id.to_owned(),
            email: None,
        };
        // Without the keys now, the first mint fetches them.
        let jwks = self.fetch_jwks().await.ok();
        self.keep(&session, jwks).await?;
        let minted = match self.token().await {
            Ok(minted) => minted,
            Err(error) => {
                // Nothing half-made stays behind.
                self.store.delete(&self.account)?;
                *self.current.lock().await = None;
                return Err(error);
            }
        };
        Ok(summary(&self.instance, &session, &minted))
    }

    /// Keeps `pasted` as this instance's key of `kind` (checked first; see [`keys::parse_key`]).
    /// A new API or machine key replaces the token minted from the old one.
    pub fn save_key(&self, kind: KeyKind, pasted: &str) -> Result<()> {
        let key = keys::parse_key(kind, pasted)?;
        self.store.save(&self.key_account(kind), &key)?;
        *self.m2m_lock() = None;
        Ok(())
    }

    /// Forgets this instance's key of `kind`.
    pub fn forget_key(&self, kind: KeyKind) -> Result<()> {
        self.store.delete(&self.key_account(kind))?;
        *self.m2m_lock() = None;
        Ok(())
    }

    /// Which keys are kept, masked (`sk_test_…abcd`).
    pub fn keys_view(&self) -> Result<KeysView> {
        let masked = |kind: KeyKind| -> Result<Option<String>> {
            Ok(self
                .store
                .load(&self.key_account(kind))?
                .map(|k| keys::masked(&k)))
        };
        Ok(KeysView {
            secret_key: masked(KeyKind::SecretKey)?,
            api_key: masked(KeyKind::ApiKey)?,
            machine_key: masked(KeyKind::MachineKey)?,
        })
    }

    /// True when a key of `kind` is kept.
    pub fn has_key(&self, kind: KeyKind) -> bool {
        matches!(self.store.load(&self.key_account(kind)), Ok(Some(_)))
    }

    /// Creates an API key for `subject` (a user ID) with the secret key (Backend API
    /// `POST /v1/api_keys`) and keeps it as this instance's API key.
    pub async fn create_api_key(&self, subject: &str) -> Result<String> {
        let subject = subject.trim();
        if subject.is_empty() || subject.chars().any(char::is_whitespace) {
            return Err(Error::setting(
                "apiKey",
                "Give the user (user_…) or organization (org_…) the API key is for.",
            ));
        }
        let key = self.key(KeyKind::SecretKey)?;
        let created = self.bapi(&key).create_api_key(subject, "Keyhole").await?;
        self.store
            .save(&self.key_account(KeyKind::ApiKey), &created)?;
        Ok(keys::masked(&created))
    }

    /// The kept API key, sent as it is.
    pub fn api_key(&self) -> Result<Secret> {
        self.key(KeyKind::ApiKey)
    }

    /// An M2M token of the configured format: the one minted last while it has [`MIN_LIFE`]
    /// left, else a new one from the machine secret key. Sent as it is, JWT or opaque.
    pub async fn m2m_token(&self) -> Result<Secret> {
        if let Some((token, expires_at)) = self.m2m_lock().clone() {
            if expires_at.is_none_or(|at| at >= now_secs() + MIN_LIFE.as_secs()) {
                return Ok(token);
            }
        }
        let key = self.key(KeyKind::MachineKey)?;
        let issued = self
            .bapi(&key)
            .m2m_token(self.config().m2m_format, M2M_TTL)
            .await?;
        *self.m2m_lock() = Some((issued.token.clone(), issued.expires_at));
        Ok(issued.token)
    }

    fn key(&self, kind: KeyKind) -> Result<Secret> {
        self.store
            .load(&self.key_account(kind))?
            .ok_or_else(|| {
                Error::setting(
                    kind.field(),
                    match kind {
                        KeyKind::SecretKey => "No secret key is kept for this instance: give it first (keyhole-cli key set secret-key, or Keys in the window).",
                        KeyKind::ApiKey => "No API key is kept for this instance: paste one (keyhole-cli key set api-key) or create one with the secret key (keyhole-cli key create-api-key).",
                        KeyKind::MachineKey => "No machine secret key is kept for this instance: paste one (keyhole-cli key set machine-key).",
                    },
                )
            })
    }

    /// The keychain entry of this instance's key of `kind`.
    fn key_account(&self, kind: KeyKind) -> String {
        kind.account(&self.config().issuer)
    }

    fn bapi<'a>(&'a self, key: &'a Secret) -> Bapi<'a> {
        Bapi {
            http: self.http(),
            base: &self.config().backend_api,
            key,
        }
    }

    fn m2m_lock(&self) -> std::sync::MutexGuard<'_, Option<(Secret, Option<u64>)>> {
        self.m2m.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn verify(&self, jwt: &str, session_id: &str) -> Result<Map<String, Value>> {
        let keys = {
            let mut keys = self.keys_lock();
            match keys.as_ref() {
                Some(keys) => Arc::clone(keys),
                None => {
                    let set = Arc::new(KeySet::new(self.jwks_url()?));
                    *keys = Some(Arc::clone(&set));
                    set
                }
            }
        };
        let issuer = self.instance.origin().ascii_serialization();
        Verifier {
            http: self.http(),
            keys: &keys,
            issuer: &issuer,
            client_id: "",
            id_token_algs: &[],
        }
        .session_token(jwt, session_id)
        .await
    }

    /// Ends the session at Clerk and forgets it here. The local part happens even when Clerk
    /// cannot be reached; Err then says so.
    pub async fn sign_out(&self) -> Result<bool> {
        let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
        let record = self.load()?;
        self.store.delete(&self.account)?;
        self.clear_minted();
        *self.current.lock().await = None;
        let Some(record) = record else {
            return Ok(false);
        };
        let ended = match &record.session.client_jwt {
            Some(client_jwt) => {
                let path = format!("/v1/client/sessions/{}/end", record.session.session_id);
                self.fapi()
                    .post(&path, &[], Some(client_jwt), "ending the session")
                    .await
                    .map(drop)
            }
            None => match self.key(KeyKind::SecretKey) {
                Ok(key) => {
                    self.bapi(&key)
                        .revoke_session(&record.session.session_id)
                        .await
                }
                Err(error) => Err(error),
            },
        };
        match ended {
            Ok(()) => Ok(true),
            // Already ended there: what sign-out wanted.
            Err(Error::Clerk {
                status: 401 | 404,
                code,
                ..
            }) if code != "clerk_key_invalid" => Ok(true),
            Err(error) => Err(error),
        }
    }

    fn jwks_url(&self) -> Result<Url> {
        self.instance.join("/.well-known/jwks.json").map_err(|e| {
            Error::setting_from(
                "instance",
                "The instance URL cannot carry the JWKS path.",
                e,
            )
        })
    }

    fn load(&self) -> Result<Option<Record>> {
        let Some(text) = self.store.load(&self.account)? else {
            return Ok(None);
        };
        serde_json::from_str::<Record>(text.secret())
            .map(Some)
            .map_err(|e| Error::stored_session("the kept Clerk session is unreadable").unparsed(&e))
    }

    fn save(&self, session: &NativeSession, jwks: Option<&Value>) -> Result<()> {
        let record = Record {
            v: 1,
            session: session.clone(),
            jwks: jwks.cloned(),
        };
        let text = serde_json::to_string(&record).map_err(|e| {
            Error::stored_session("the Clerk session could not be written").unparsed(&e)
        })?;
        self.store.save(&self.account, &Secret::new(text))
    }

    fn clear_minted(&self) {
        *self.minted_lock() = None;
    }

    fn minted_lock(&self) -> std::sync::MutexGuard<'_, Option<Minted>> {
        self.minted.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keys_lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<KeySet>>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn summary(instance: &Url, session: &NativeSession, minted: &Minted) -> SessionSummary {
    SessionSummary {
        subject: Some(session.user_id.clone())
            .filter(|s| !s.is_empty())
            .or_else(|| {
                minted
                    .claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }),
        email: session.email.clone(),
        issuer: instance.origin().ascii_serialization(),
        expires_at: Some(minted.expires_at),
        access_token: AccessTokenView::Jwt {
            header: minted.header.clone(),
            claims: minted.claims.clone(),
        },
        impersonated: session.client_jwt.is_none(),
        ..SessionSummary::clerk_default(&session.session_id)
    }
}
