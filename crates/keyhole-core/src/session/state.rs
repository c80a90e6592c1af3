//! A signed-in session: the tokens and what verification learned from them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::request::Credential;
use crate::secret::Secret;
use crate::tokens::grant::TokenSet;
use crate::tokens::verify::AccessTokenInfo;

/// Tokens plus their verified contents.
#[derive(Debug, Clone)]
pub struct Session {
    /// The issuer the tokens come from.
    pub issuer: String,
    /// The client they were issued to.
    pub client_id: String,
    /// The tokens themselves.
    pub tokens: TokenSet,
    /// The verified access token's header and claims, or that it is opaque.
    pub access: AccessTokenInfo,
    /// The verified ID token's claims, when there is one.
    pub id_claims: Option<Map<String, Value>>,
    /// Who signed in, from the original ID token; every renewal must name the same.
    pub identity: Option<Identity>,
}

/// Who the original ID token was about (OIDC Core §12.2: a refreshed ID token must carry the
/// same `iss`, `sub` and `aud`). Kept in the stored record, so the pin survives restarts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The issuer.
    pub iss: String,
    /// The user.
    pub sub: String,
    /// The audiences, sorted.
    pub aud: Vec<String>,
}

impl Identity {
    /// The identity an ID token's verified claims name; None when a claim is missing.
    pub fn from_claims(claims: &Map<String, Value>) -> Option<Identity> {
        let mut aud: Vec<String> = match claims.get("aud")? {
            Value::String(aud) => vec![aud.clone()],
            Value::Array(auds) => auds
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => return None,
        };
        aud.sort();
        aud.dedup();
        Some(Identity {
            iss: claims.get("iss")?.as_str()?.to_owned(),
            sub: claims.get("sub")?.as_str()?.to_owned(),
            aud,
        })
    }

    /// Why `other` is not the same identity, in plain words; None when it is.
    pub fn mismatch(&self, other: &Identity) -> Option<String> {
        if self.iss != other.iss {
            Some(format!(
                "the provider renewed the session for another issuer ({:?}, not {:?})",
                other.iss, self.iss
            ))
        } else if self.sub != other.sub {
            Some(format!(
                "the provider renewed the session for another user ({:?}, not {:?})",
                other.sub, self.sub
            ))
        } else if self.aud != other.aud {
            Some("the provider renewed the session for another audience".to_owned())
        } else {
            None
        }
    }
}

/// A Clerk session token, verified against the instance's keys, ready to send.
#[derive(Debug, Clone)]
pub struct Minted {
    pub(crate) token: Secret,
    pub(crate) header: Map<String, Value>,
    pub(crate) claims: Map<String, Value>,
    pub(crate) expires_at: u64,
}

/// What a UI shows about a session; no token values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// The user (`sub`), from the ID token or else the access token.
    pub subject: Option<String>,
    /// `name`, when the ID token carries it.
    pub name: Option<String>,
    /// `email`, when the ID token carries it.
    pub email: Option<String>,
    /// The issuer.
    pub issuer: String,
    /// Access-token expiry, unix seconds.
    pub expires_at: Option<u64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The decoded access token.
    pub access_token: AccessTokenView,
    /// The ID token's claims.
    pub id_token_claims: Option<Map<String, Value>>,
    /// Whether a refresh token is held.
    pub refreshable: bool,
    /// When the session will be renewed (unix seconds), if it can be.
    pub refresh_at: Option<u64>,
    /// The token this session gives the API: `oauth` (an access token) or `session` (a Clerk
    /// session token, minted for each call).
    pub credential: Credential,
    /// Clerk's session ID (`sess_…`), for a Clerk session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// True for a test session made with the secret key: Keyhole acts as that user without
    /// their sign-in. A UI must say so plainly.
    pub impersonated: bool,
}

impl SessionSummary {
    /// A Clerk session's summary before anything is known but its ID.
    pub(crate) fn clerk_default(session_id: &str) -> SessionSummary {
        SessionSummary {
            subject: None,
            name: None,
            email: None,
            issuer: String::new(),
            expires_at: None,
            scopes: Vec::new(),
            access_token: AccessTokenView::Opaque,
            id_token_claims: None,
            // A new session token can be minted whenever one is needed.
            refreshable: true,
            refresh_at: None,
            credential: Credential::Session,
            session_id: Some(session_id.to_owned()),
            impersonated: false,
        }
    }
}

/// The access token as a UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AccessTokenView {
    /// A verified JWT.
    Jwt {
        /// JOSE header.
        header: Map<String, Value>,
        /// Claims.
        claims: Map<String, Value>,
    },
    /// Not decodable.
    Opaque,
}

impl Session {
    /// The user's ID (`sub`).
    pub fn subject(&self) -> Option<&str> {
        self.id_claims
            .as_ref()
            .and_then(|c| c.get("sub"))
            .or_else(|| self.access_claims().and_then(|c| c.get("sub")))
            .and_then(Value::as_str)
    }

    fn access_claims(&self) -> Option<&Map<String, Value>> {
        match &self.access {
            AccessTokenInfo::Jwt { claims, .. } => Some(claims),
            AccessTokenInfo::Opaque => None,
        }
    }

    /// When the access token expires: `expires_in` from the token response, else its `exp`.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.tokens.expires_at.or_else(|| {
            self.access_claims()
                .and_then(|c| c.get("exp"))
                .and_then(Value::as_u64)
                .map(|exp| UNIX_EPOCH + std::time::Duration::from_secs(exp))
        })
    }

    /// When the access token should be renewed: shortly before it expires — a fifth of its
    /// lifetime, at most a minute, before. None when it cannot be (no refresh token or expiry).
    pub fn refresh_due(&self) -> Option<SystemTime> {
        self.tokens.refresh_token.as_ref()?;
        let expires_at = self.expires_at()?;
        let lifetime = expires_at
            .duration_since(self.tokens.received_at)
            .unwrap_or_default();
        Some(expires_at - (lifetime / 5).min(std::time::Duration::from_secs(60)))
    }

    /// What a UI shows.
    pub fn summary(&self) -> SessionSummary {
        let id_claim = |name: &str| {
            self.id_claims
                .as_ref()
                .and_then(|c| c.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let scopes = self.tokens.scopes.clone().unwrap_or_else(|| {
            self.access_claims()
                .and_then(|c| c.get("scope").or_else(|| c.get("scp")))
                .map(|s| match s {
                    Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
                    Value::Array(a) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                })
                .unwrap_or_default()
        });
        SessionSummary {
            subject: self.subject().map(str::to_owned),
            name: id_claim("name"),
            email: id_claim("email"),
            issuer: self.issuer.clone(),
            expires_at: self
                .expires_at()
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            scopes,
            access_token: match &self.access {
                AccessTokenInfo::Jwt { header, claims } => AccessTokenView::Jwt {
                    header: header.clone(),
                    claims: claims.clone(),
                },
                AccessTokenInfo::Opaque => AccessTokenView::Opaque,
            },
            id_token_claims: self.id_claims.clone(),
            refreshable: self.tokens.refresh_token.is_some(),
            // Rounded up for display only; renewal itself uses the exact instant.
            refresh_at: self
                .refresh_due()
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0)),
            credential: Credential::OAuth,
            session_id: None,
            impersonated: false,
        }
    }
}
