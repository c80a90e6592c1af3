//! Clerk's Backend API with a secret key (or a machine secret key), for what only it can give:
//! a session for a chosen user to test with (`POST /v1/sessions`, then its session tokens, as
//! Clerk's testing guide does), API keys (`POST /v1/api_keys`) and M2M tokens
//! (`POST /v1/m2m_tokens`). JSON bodies and answers, shapes from Clerk's spec
//! (`bapi/2026-05-12.yml`, servers `https://api.clerk.com/v1`).

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde_json::{json, Map, Value};
use url::Url;

use crate::clerk::{judge_answer, CAP};
use crate::error::{Error, Result};
use crate::http::{network_error, read_capped};
use crate::secret::Secret;

/// Where Clerk's Backend API lives unless the settings say otherwise.
pub const DEFAULT_BACKEND_API: &str = "https://api.clerk.com";

/// The kind of M2M token to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum M2mFormat {
    /// An opaque `mt_…` token the backend checks with Clerk.
    #[default]
    Opaque,
    /// A JWT signed by the instance, checked networklessly.
    Jwt,
}

/// The Backend API, authenticated with `key`.
pub(crate) struct Bapi<'a> {
    pub http: &'a reqwest::Client,
    /// The API's origin (`https://api.clerk.com`, or a stand-in's).
    pub base: &'a Url,
    pub key: &'a Secret,
}

/// A token the Backend API issued, with when it expires (unix seconds) when it said.
#[derive(Debug)]
pub(crate) struct Issued {
    pub token: Secret,
    pub expires_at: Option<u64>,
}

impl Bapi<'_> {
    /// `POST /v1/sessions` for `user_id`: the new session's ID.
    pub async fn create_session(&self, user_id: &str) -> Result<String> {
        let answer = self
            .post(
                "/v1/sessions",
                json!({ "user_id": user_id }),
                "creating a test session",
            )
            .await?;
        string(&answer, "id").ok_or_else(|| shape("the new session has no id"))
    }

    /// `POST /v1/sessions/{id}/tokens`: a session token for it.
    pub async fn session_token(&self, session_id: &str) -> Result<Secret> {
        let path = format!("/v1/sessions/{session_id}/tokens");
        let answer = self
            .post(&path, json!({}), "minting a session token")
            .await?;
        string(&answer, "jwt")
            .map(Secret::new)
            .ok_or_else(|| shape("the token answer has no jwt"))
    }

    /// `POST /v1/sessions/{id}/revoke`.
    pub async fn revoke_session(&self, session_id: &str) -> Result<()> {
        let path = format!("/v1/sessions/{session_id}/revoke");
        self.post(&path, json!({}), "ending the test session")
            .await?;
        Ok(())
    }

    /// `POST /v1/api_keys` for `subject` (a user or organization ID): the new key's secret.
    pub async fn create_api_key(&self, subject: &str, name: &str) -> Result<Secret> {
        let answer = self
            .post(
                "/v1/api_keys",
                json!({ "name": name, "subject": subject }),
                "creating an API key",
            )
            .await?;
        string(&answer, "secret")
            .map(Secret::new)
            .ok_or_else(|| shape("the new API key has no secret"))
    }

    /// `POST /v1/m2m_tokens` with the machine secret key: a token for that machine.
    pub async fn m2m_token(&self, format: M2mFormat, ttl: Duration) -> Result<Issued> {
        let format_name = match format {
            M2mFormat::Opaque => "opaque",
            M2mFormat::Jwt => "jwt",
        };
        let answer = self
            .post(
                "/v1/m2m_tokens",
                json!({ "token_format": format_name, "seconds_until_expiration": ttl.as_secs() }),
                "minting an M2M token",
            )
            .await?;
        let token = string(&answer, "token").ok_or_else(|| shape("the M2M answer has no token"))?;
        // `expiration` is in milliseconds.
        let expires_at = answer
            .get("expiration")
            .and_then(Value::as_f64)
            .map(|ms| (ms / 1000.0) as u64);
        Ok(Issued {
            token: Secret::new(token),
            expires_at,
        })
    }

    async fn post(
        &self,
        path: &str,
        body: Value,
        what: &'static str,
    ) -> Result<Map<String, Value>> {
        let url = self.base.join(path).map_err(|e| {
            Error::setting_from("backendApi", "The Backend API URL cannot carry Clerk's paths; give its origin, e.g. https://api.clerk.com.", e)
        })?;
        let auth =
            HeaderValue::from_str(&format!("Bearer {}", self.key.secret())).map_err(|_| {
                Error::setting(
                    "secretKey",
                    "The key holds characters a header cannot carry; paste it again.",
                )
            })?;
        let shown = format!("{}{}", self.base.origin().ascii_serialization(), url.path());
        let response = self
            .http
            .post(url)
            .header(AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| network_error(what, &shown, e))?;
        let status = response.status();
        let (raw, truncated) = read_capped(response, CAP, what).await?;
        judge_answer("Backend API", status, &raw, truncated, what)?
            .ok_or_else(|| shape("the answer is not a JSON object"))
    }
}

fn string(answer: &Map<String, Value>, key: &str) -> Option<String> {
    answer
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn shape(what: &str) -> Error {
    Error::clerk(
        "Backend API",
        200,
        "",
        format!("Clerk's answer is not what its Backend API specifies: {what}; is the Backend API URL Clerk's?"),
    )
}
