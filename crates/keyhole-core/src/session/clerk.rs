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

use crate::clerk::fapi::{self, Fapi};
use crate::clerk::native::{self, NativeSession};
use tokio_util::sync::CancellationToken;

use crate::api::request::Prepared;
use crate::engine::{ApiResult, Bearer, Keyhole, SignInContext};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::lock;
use crate::session::state::{AccessTokenView, Minted, SessionSummary};
use crate::session::vault::SecretStore;
use crate::settings::config::Config;
use crate::tokens::jwks::KeySet;
use crate::tokens::verify::{now_secs, peek_header, Verifier};

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
}

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
        })
    }

    /// The settings this keeper serves.
    pub fn config(&self) -> &Config {
        self.sender.config()
    }

    /// Sends `request` with a session token minted for it (or one minted moments ago, see
    /// [`ClerkKeeper::token`]).
    pub async fn send(&self, request: &Prepared, cancel: &CancellationToken) -> Result<ApiResult> {
        let minted = tokio::select! {
            () = cancel.cancelled() => return Err(Error::CallCancelled),
            minted = self.token() => minted?,
        };
        self.sender
            .send(request, Bearer::Session(&minted), cancel)
            .await
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
        let jwks_url = self.jwks_url()?;
        let jwks: Value =
            crate::http::get_json(self.http(), jwks_url.as_str(), "the instance's keys (JWKS)")
                .await?;
        {
            let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
            self.save(&session, Some(&jwks))?;
        }
        *self.keys_lock() = Some(Arc::new(KeySet::preloaded(jwks_url, &jwks)));
        *self.current.lock().await = Some(session.clone());
        self.clear_minted();
        let minted = self.token().await?;
        Ok(summary(&self.instance, &session, &minted))
    }

    /// The session from the keychain, if one is kept (nothing is sent).
    pub async fn restore(&self) -> Result<Option<NativeSession>> {
        let record = self.load()?;
        let mut slot = self.current.lock().await;
        *slot = record.map(|r| {
            if let Some(jwks) = &r.jwks {
                if let Ok(url) = self.jwks_url() {
                    *self.keys_lock() = Some(Arc::new(KeySet::preloaded(url, jwks)));
                }
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
                ..SessionSummary::clerk_default(&session.session_id)
            },
        })
    }

    async fn mint(&self) -> Result<Minted> {
        let _lock = lock::acquire(&self.account, LOCK_WAIT).await?;
        // The keychain's copy is the newest rotation, whoever made it.
        let record = self.load()?;
        let mut slot = self.current.lock().await;
        let Some(mut session) = record.map(|r| r.session) else {
            *slot = None;
            return Err(Error::NotSignedIn);
        };
        let path = format!("/v1/client/sessions/{}/tokens", session.session_id);
        let answer = match self
            .fapi()
            .post(
                &path,
                &[],
                Some(&session.client_jwt),
                "minting a session token",
            )
            .await
        {
            Ok(answer) => answer,
            Err(Error::Clerk {
                status: 401 | 404, ..
            }) => {
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
        if let Some(newer) = &answer.client_jwt {
            if newer != &session.client_jwt {
                session.client_jwt = newer.clone();
                let jwks = self.load()?.and_then(|r| r.jwks);
                self.save(&session, jwks.as_ref())?;
            }
        }
        let jwt = native::string_at(&answer.response, &["jwt"])
            .ok_or_else(|| {
                Error::clerk(
                    "Frontend API",
                    200,
                    "",
                    "Clerk's answer to minting a session token carries no jwt, so there is nothing to send.",
                )
            })?
            .to_owned();
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
        let path = format!("/v1/client/sessions/{}/end", record.session.session_id);
        match self
            .fapi()
            .post(
                &path,
                &[],
                Some(&record.session.client_jwt),
                "ending the session",
            )
            .await
        {
            Ok(_) => Ok(true),
            // Already ended there: what sign-out wanted.
            Err(Error::Clerk {
                status: 401 | 404, ..
            }) => Ok(true),
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
        ..SessionSummary::clerk_default(&session.session_id)
    }
}
