//! Token endpoint calls through the `oauth2` crate: the code exchange (PKCE, public client) and
//! the refresh grant, plus the token set Keyhole keeps.

use std::fmt;
use std::time::{Duration, SystemTime};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, EndpointNotSet, EndpointSet,
    ExtraTokenFields, HttpClientError, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, StandardRevocableToken, StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::discovery::ProviderMetadata;
use crate::error::{Error, Result};

/// An OIDC ID token (a JWT). Its `Debug` is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdToken(String);

impl IdToken {
    /// Wraps a raw ID token.
    pub fn new(raw: String) -> Self {
        IdToken(raw)
    }
    /// The raw JWT. Handle with care.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdToken([redacted])")
    }
}

/// The `id_token` member of an OIDC token response.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OidcFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<IdToken>,
}
impl ExtraTokenFields for OidcFields {}

type TokenResponse = StandardTokenResponse<OidcFields, BasicTokenType>;

/// The oauth2 client Keyhole uses: a public client with authorization and token endpoints set.
pub(crate) type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Tokens from one grant. Every secret is a redacting newtype.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The bearer token sent to APIs (a JWT or an opaque string).
    pub access_token: AccessToken,
    /// Present when `offline_access` was granted.
    pub refresh_token: Option<RefreshToken>,
    /// Present when `openid` was granted.
    pub id_token: Option<IdToken>,
    /// When the access token expires, from `expires_in`.
    pub expires_at: Option<SystemTime>,
    /// When this token set was received.
    pub received_at: SystemTime,
    /// The granted scopes, when the provider said (RFC 6749 §5.1).
    pub scopes: Option<Vec<String>>,
}

pub(crate) fn oauth_client(
    metadata: &ProviderMetadata,
    client_id: &str,
    redirect_uri: Option<&str>,
) -> Result<OAuthClient> {
    let client = oauth2::Client::new(ClientId::new(client_id.to_owned()))
        .set_auth_uri(AuthUrl::from_url(metadata.authorization_endpoint.clone()))
        .set_token_uri(TokenUrl::from_url(metadata.token_endpoint.clone()));
    Ok(match redirect_uri {
        Some(uri) => client.set_redirect_uri(
            RedirectUrl::new(uri.to_owned())
                .map_err(|e| Error::Discovery(format!("bad redirect URI {uri}: {e}")))?,
        ),
        None => client,
    })
}

/// Exchanges an authorization code. `redirect_uri` must be byte-for-byte the one sent to authorize.
pub(crate) async fn exchange_code(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    client_id: &str,
    redirect_uri: &str,
    code: AuthorizationCode,
    verifier: PkceCodeVerifier,
) -> Result<TokenSet> {
    let response = oauth_client(metadata, client_id, Some(redirect_uri))?
        .exchange_code(code)
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .map_err(|e| token_error(e, metadata))?;
    Ok(token_set(response, None))
}

/// Uses a refresh token. When the provider rotates it, the new one is in the result; when it
/// does not, the old one is kept, so the caller can always store `refresh_token`.
pub async fn refresh(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    client_id: &str,
    refresh_token: &RefreshToken,
) -> Result<TokenSet> {
    let response = oauth_client(metadata, client_id, None)?
        .exchange_refresh_token(refresh_token)
        .request_async(http)
        .await
        .map_err(|e| token_error(e, metadata))?;
    Ok(token_set(response, Some(refresh_token)))
}

fn token_set(response: TokenResponse, previous_refresh: Option<&RefreshToken>) -> TokenSet {
    let received_at = SystemTime::now();
    TokenSet {
        received_at,
        access_token: response.access_token().clone(),
        refresh_token: response
            .refresh_token()
            .cloned()
            .or_else(|| previous_refresh.cloned()),
        id_token: response.extra_fields().id_token.clone(),
        expires_at: response
            .expires_in()
            .map(|d| received_at + d.min(Duration::from_secs(10 * 365 * 24 * 3600))),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect()),
    }
}

fn token_error(
    error: RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>,
    metadata: &ProviderMetadata,
) -> Error {
    let url = metadata.token_endpoint.to_string();
    match error {
        RequestTokenError::ServerResponse(response) => Error::TokenRefused {
            error: response.error().to_string(),
            description: response.error_description().cloned(),
        },
        RequestTokenError::Request(HttpClientError::Reqwest(e)) => {
            crate::http::network_error("the token endpoint", &url, *e)
        }
        RequestTokenError::Request(e) => Error::Network {
            what: "the token endpoint",
            url,
            message: e.to_string(),
            source: None,
        },
        // The body is not quoted: it may hold tokens.
        // Neither the body nor serde's message is quoted: either may hold a token.
        RequestTokenError::Parse(e, _body) => Error::TokenResponse(format!(
            "it is not a valid token response ({:?} error at `{}`)",
            e.inner().classify(),
            e.path()
        )),
        RequestTokenError::Other(message) => Error::TokenResponse(message),
    }
}

/// Which kind of token is revoked (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenKind {
    Refresh,
    Access,
}

/// Revokes a token at the RFC 7009 endpoint (Clerk: `/oauth/token/revoke`) as a public client.
///
/// Written by hand because the oauth2 crate refuses every non-https revocation URL, including
/// loopback ones; discovery already allows plain http only on loopback.
pub(crate) async fn revoke(
    http: &reqwest::Client,
    endpoint: &url::Url,
    client_id: &str,
    token: &str,
    kind: TokenKind,
) -> Result<()> {
    let hint = match kind {
        TokenKind::Refresh => "refresh_token",
        TokenKind::Access => "access_token",
    };
    let url = endpoint.to_string();
    let response = http
        .post(endpoint.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("token", token),
            ("token_type_hint", hint),
            ("client_id", client_id),
        ])
        .send()
        .await
        .map_err(|e| crate::http::network_error("the revocation endpoint", &url, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let (body, _) =
        crate::http::read_capped(response, 16 * 1024, "the revocation endpoint").await?;
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) if value.get("error").is_some_and(|e| e.is_string()) => {
            Err(Error::TokenRefused {
                error: value["error"].as_str().unwrap_or_default().to_owned(),
                description: value
                    .get("error_description")
                    .and_then(|d| d.as_str())
                    .map(str::to_owned),
            })
        }
        _ => Err(Error::TokenResponse(format!(
            "the revocation endpoint answered HTTP {status}"
        ))),
    }
}
