//! Token endpoint calls as a public client: the code exchange (PKCE), the device grant, the
//! refresh grant and revocation, plus the token set Keyhole keeps.
//!
//! They are written by hand, not made through the `oauth2` crate: its token calls read bodies of
//! any size and are lenient where RFC 6749 is not (`null` members, any `token_type`, empty
//! tokens), and it refuses every non-https revocation URL, loopback ones included. Keyhole uses
//! `oauth2` only for the sign-in's authorization URL ([`oauth_client`]), PKCE, the CSRF state and
//! the redacting token newtypes.

use std::fmt;
use std::time::{Duration, SystemTime};

use oauth2::basic::BasicClient;
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, DeviceCode, EndpointSet, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RevocableToken, StandardRevocableToken,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result, Rule};
use crate::signin::discovery::ProviderMetadata;
use crate::signin::oauth_error::OAuthError;

/// Largest token response Keyhole reads; Clerk's are a few KiB.
pub const TOKEN_RESPONSE_CAP: usize = 128 * 1024;
/// Largest single token (access, refresh or ID) Keyhole accepts.
pub const MAX_TOKEN_LEN: usize = 32 * 1024;

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

/// The oauth2 client Keyhole uses: a public client with only its authorization endpoint set, since
/// it only builds the authorization URL.
pub(crate) type OAuthClient = BasicClient<EndpointSet>;

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

/// The client that builds the authorization URL for `redirect_uri`.
pub(crate) fn oauth_client(
    metadata: &ProviderMetadata,
    client_id: &str,
    redirect_uri: &str,
) -> Result<OAuthClient> {
    let redirect_uri = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| Error::discovery_from(format!("bad redirect URI {redirect_uri}"), e))?;
    Ok(BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_auth_uri(AuthUrl::from_url(metadata.authorization_endpoint.clone()))
        .set_redirect_uri(redirect_uri))
}

/// Exchanges an authorization code. `redirect_uri` must be byte-for-byte the one sent to authorize;
/// `resource` (RFC 8707) the one asked for there, if any.
pub(crate) async fn exchange_code(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    client_id: &str,
    redirect_uri: &str,
    code: AuthorizationCode,
    verifier: PkceCodeVerifier,
    resource: Option<&url::Url>,
) -> Result<TokenSet> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.secret().as_str()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.secret().as_str()),
        ("client_id", client_id),
    ];
    if let Some(resource) = resource {
        form.push(("resource", resource.as_str()));
    }
    let response = request_tokens(http, metadata, &form).await?;
    Ok(token_set(response, None))
}

/// The grant type of RFC 8628 §3.4.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One poll of the token endpoint with a device code (RFC 8628 §3.4). `authorization_pending`,
/// `slow_down`, `access_denied` and `expired_token` come back as [`Error::TokenRefused`].
pub(crate) async fn device_grant(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    client_id: &str,
    device_code: &DeviceCode,
) -> Result<TokenSet> {
    let form = [
        ("grant_type", DEVICE_CODE_GRANT),
        ("device_code", device_code.secret().as_str()),
        ("client_id", client_id),
    ];
    let response = request_tokens(http, metadata, &form).await?;
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
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret().as_str()),
        ("client_id", client_id),
    ];
    let response = request_tokens(http, metadata, &form).await?;
    Ok(token_set(response, Some(refresh_token)))
}

/// POSTs a grant to the token endpoint as a public client and reads the answer, bounded in size.
async fn request_tokens(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    form: &[(&str, &str)],
) -> Result<TokenResponse> {
    const WHAT: &str = "the token endpoint";
    let url = metadata.token_endpoint.as_str();
    let request = http.post(metadata.token_endpoint.clone()).form(form);
    let (status, body, truncated) =
        crate::http::post_for_json(request, url, TOKEN_RESPONSE_CAP, WHAT).await?;
    if status.is_redirection() {
        return Err(Error::TokenResponse(format!(
            "it redirects (HTTP {status}), and Keyhole never follows redirects on the token path"
        )));
    }
    if truncated {
        return Err(Error::refused(
            Rule::TooLarge,
            format!(
                "The token endpoint's answer is larger than {} KiB, far more than any token response, so Keyhole refused it; check the instance URL.",
                TOKEN_RESPONSE_CAP / 1024
            ),
        ));
    }
    if !status.is_success() {
        // RFC 6749 §5.2; the body is not quoted otherwise, since it may hold a token.
        return Err(match OAuthError::from_json(&body) {
            Some(e) => Error::TokenRefused {
                error: e.error,
                description: e.description,
            },
            None => Error::TokenResponse(format!("it answered HTTP {status}")),
        });
    }
    parse_token_response(&body)
}

/// A successful token response (RFC 6749 §5.1), checked member by member.
#[doc(hidden)]
#[derive(Debug)]
pub struct TokenResponse {
    access_token: AccessToken,
    refresh_token: Option<RefreshToken>,
    id_token: Option<IdToken>,
    expires_in: Option<u64>,
    scopes: Option<Vec<String>>,
}

/// Parses a token response. Nothing of the body is quoted in an error: it may hold tokens.
#[doc(hidden)]
pub fn parse_token_response(body: &[u8]) -> Result<TokenResponse> {
    let malformed = |why: &str| {
        Error::refused(
            Rule::TokenResponse,
            format!("The token endpoint's answer is not a valid token response ({why}), so Keyhole refused it; the provider is misconfigured or not the one you meant."),
        )
    };
    let members = crate::http::json_object(body, malformed)?;
    // RFC 6749 §5.1 omits members that have no value; a null where a value belongs is malformed,
    // not absent.
    let string = |name: &str| -> Result<Option<&str>> {
        match members.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Null) => Err(malformed(&format!("{name} is null"))),
            Some(_) => Err(malformed(&format!("{name} is not a string"))),
        }
    };
    let token = |name: &str| -> Result<Option<String>> {
        let Some(value) = string(name)? else {
            return Ok(None);
        };
        if value.is_empty() {
            return Err(malformed(&format!("{name} is empty")));
        }
        if value.len() > MAX_TOKEN_LEN {
            return Err(Error::refused(
                Rule::TooLarge,
                format!(
                    "The provider's {name} is longer than {} KiB, far more than any real token, so Keyhole refused it.",
                    MAX_TOKEN_LEN / 1024
                ),
            ));
        }
        Ok(Some(value.to_owned()))
    };

    let token_type = string("token_type")?.unwrap_or_default();
    // RFC 6749 §7.1: the type decides how the token is used; Keyhole only knows how to send a
    // Bearer token, and sending a DPoP or MAC token as Bearer would be wrong (and unsafe).
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(Error::refused(
            Rule::TokenType,
            if token_type.is_empty() {
                "The token endpoint did not say the token is a Bearer token (token_type), so Keyhole will not send it as one.".to_owned()
            } else {
                format!("The token endpoint issued a {token_type:?} token, not a Bearer token, and Keyhole only knows how to send Bearer tokens; turn off {token_type} tokens for this application.")
            },
        ));
    }
    let access_token =
        token("access_token")?.ok_or_else(|| malformed("access_token is missing"))?;
    // RFC 6750 §2.1: the token goes into `Authorization: Bearer <b64token>`.
    if !is_b64token(&access_token) {
        return Err(malformed(
            "access_token has characters a Bearer token cannot carry",
        ));
    }
    let refresh_token = token("refresh_token")?;
    // RFC 6749 Appendix A.17: a refresh token is visible ASCII.
    if refresh_token
        .as_deref()
        .is_some_and(|t| !t.bytes().all(|b| (0x20..=0x7e).contains(&b)))
    {
        return Err(malformed(
            "refresh_token has characters outside visible ASCII",
        ));
    }
    let id_token = token("id_token")?;
    // RFC 6749 §5.1: seconds, as a JSON number. A string is refused by name, with no exception
    // for any provider: Clerk sends a number. (oauth4webapi refused strings in 2.x and reads them
    // since 3.0.1, for Naver and Azure AD; a supported provider that sent one would be named here.)
    // Negative, fractional and beyond-u64 values are refused; a huge one is capped in `token_set`.
    let expires_in = match members.get("expires_in") {
        None => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| malformed("expires_in is not a whole number of seconds"))?,
        ),
        Some(Value::String(_)) => {
            return Err(malformed("expires_in is a string, not a number of seconds"))
        }
        Some(Value::Null) => return Err(malformed("expires_in is null")),
        Some(_) => return Err(malformed("expires_in is not a number")),
    };
    let scopes = match string("scope")? {
        None => None,
        Some(scope) => {
            let scopes: Vec<String> = scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
            let valid = scopes.iter().all(|s| {
                s.bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
            });
            if !valid {
                return Err(malformed("scope has characters a scope cannot carry"));
            }
            Some(scopes)
        }
    };
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        refresh_token: refresh_token.map(RefreshToken::new),
        id_token: id_token.map(IdToken::new),
        expires_in,
        scopes,
    })
}

/// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

fn token_set(response: TokenResponse, previous_refresh: Option<&RefreshToken>) -> TokenSet {
    let received_at = SystemTime::now();
    TokenSet {
        received_at,
        access_token: response.access_token,
        refresh_token: response.refresh_token.or_else(|| previous_refresh.cloned()),
        id_token: response.id_token,
        expires_at: response
            .expires_in
            .map(|secs| received_at + Duration::from_secs(secs.min(10 * 365 * 24 * 3600))),
        scopes: response.scopes,
    }
}

/// Revokes a token at the RFC 7009 endpoint (Clerk: `/oauth/token/revoke`) as a public client.
/// Discovery already allows plain http only on loopback.
pub(crate) async fn revoke(
    http: &reqwest::Client,
    endpoint: &url::Url,
    client_id: &str,
    token: &StandardRevocableToken,
) -> Result<()> {
    let mut form = vec![("token", token.secret())];
    if let Some(hint) = token.type_hint() {
        form.push(("token_type_hint", hint));
    }
    form.push(("client_id", client_id));
    let request = http.post(endpoint.clone()).form(&form);
    let (status, body, _) = crate::http::post_for_json(
        request,
        endpoint.as_str(),
        16 * 1024,
        "the revocation endpoint",
    )
    .await?;
    if status.is_success() {
        return Ok(());
    }
    Err(revocation_error(status.as_u16(), &body))
}

/// The revocation endpoint's refusal (RFC 7009 §2.2.1), worded as the revocation endpoint's.
fn revocation_error(status: u16, body: &[u8]) -> Error {
    let (error, description) = match OAuthError::from_json(body) {
        Some(e) => (Some(e.error), e.description),
        None => (None, None),
    };
    Error::RevocationRefused {
        status,
        error,
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<TokenResponse> {
        parse_token_response(value.to_string().as_bytes())
    }

    fn clerk_like() -> Value {
        json!({
            "access_token": "oat_2xKq8fA1b2c3",
            "token_type": "bearer",
            "expires_in": 86400,
            "refresh_token": "rt_abc",
            "id_token": "e30.e30.sig",
            "scope": "openid profile email offline_access"
        })
    }

    #[test]
    fn an_honest_clerk_response_parses() {
        let r = parse(clerk_like()).unwrap();
        assert_eq!(r.access_token.secret(), "oat_2xKq8fA1b2c3");
        assert_eq!(r.refresh_token.unwrap().secret(), "rt_abc");
        assert_eq!(r.expires_in, Some(86400));
        assert_eq!(r.scopes.unwrap().len(), 4);
        // Only access_token and token_type are required (RFC 6749 §5.1); "Bearer" in any case.
        let r = parse(json!({"access_token": "a.b.c", "token_type": "Bearer"})).unwrap();
        assert!(r.refresh_token.is_none() && r.scopes.is_none() && r.id_token.is_none());
    }

    #[test]
    fn a_token_type_other_than_bearer_is_refused() {
        for token_type in [
            json!("DPoP"),
            json!("mac"),
            json!(""),
            json!("Bearer "),
            json!(1),
        ] {
            let mut r = clerk_like();
            r["token_type"] = token_type.clone();
            let err = parse(r).unwrap_err();
            let expected = if token_type.is_string() {
                Rule::TokenType
            } else {
                Rule::TokenResponse
            };
            assert_eq!(err.rule(), Some(expected), "{token_type}: {err}");
        }
        let mut r = clerk_like();
        r.as_object_mut().unwrap().remove("token_type");
        assert_eq!(parse(r).unwrap_err().rule(), Some(Rule::TokenType));
    }

    #[test]
    fn an_empty_or_ill_formed_access_token_is_refused() {
        for token in [
            json!(""),
            json!("a b"),
            json!("a\r\nX-Evil: 1"),
            json!("==="),
            Value::Null,
            json!(5),
        ] {
            let mut r = clerk_like();
            r["access_token"] = token.clone();
            assert_eq!(
                parse(r).unwrap_err().rule(),
                Some(Rule::TokenResponse),
                "{token}"
            );
        }
        let mut r = clerk_like();
        r.as_object_mut().unwrap().remove("access_token");
        assert_eq!(parse(r).unwrap_err().rule(), Some(Rule::TokenResponse));
    }

    #[test]
    fn null_members_are_malformed_not_absent() {
        for member in [
            "refresh_token",
            "scope",
            "id_token",
            "expires_in",
            "token_type",
        ] {
            let mut r = clerk_like();
            r[member] = Value::Null;
            let err = parse(r).unwrap_err();
            assert_eq!(err.rule(), Some(Rule::TokenResponse), "{member}: {err}");
            assert!(err.to_string().contains(member), "{err}");
        }
    }

    #[test]
    fn oversized_tokens_are_refused_and_no_message_quotes_the_body() {
        let mut r = clerk_like();
        r["id_token"] = json!("x".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(parse(r).unwrap_err().rule(), Some(Rule::TooLarge));
        let mut r = clerk_like();
        r["token_type"] = json!("DPoP");
        let err = parse(r).unwrap_err().to_string();
        assert!(
            !err.contains("oat_2xKq8fA1b2c3") && !err.contains("rt_abc"),
            "{err}"
        );
        for body in [&b"not json"[..], b"[]", b"\"x\"", b""] {
            assert_eq!(
                parse_token_response(body).unwrap_err().rule(),
                Some(Rule::TokenResponse)
            );
        }
    }

    fn with_expires_in(value: Value) -> Result<TokenResponse> {
        let mut r = clerk_like();
        r["expires_in"] = value;
        parse(r)
    }

    #[test]
    fn a_string_expires_in_is_refused_by_name() {
        for value in ["3600", "", " 3600", "3600s"] {
            let err = with_expires_in(json!(value)).unwrap_err();
            assert_eq!(err.rule(), Some(Rule::TokenResponse), "{value:?}: {err}");
            assert!(
                err.to_string()
                    .contains("(expires_in is a string, not a number of seconds)"),
                "{value:?}: {err}"
            );
        }
    }

    #[test]
    fn a_whole_number_expires_in_is_read_as_seconds() {
        for secs in [0, 1, 3600, u64::MAX] {
            assert_eq!(with_expires_in(json!(secs)).unwrap().expires_in, Some(secs));
        }
        let mut r = clerk_like();
        r.as_object_mut().unwrap().remove("expires_in");
        assert_eq!(parse(r).unwrap().expires_in, None);
    }

    #[test]
    fn a_negative_fractional_or_out_of_range_expires_in_is_refused() {
        let whole = "(expires_in is not a whole number of seconds)";
        let not_number = "(expires_in is not a number)";
        let cases = [
            (json!(-1), whole),
            (json!(3599.5), whole),
            (json!(1e3), whole),
            (json!(true), not_number),
            (json!([3600]), not_number),
        ];
        for (value, why) in cases {
            let err = with_expires_in(value.clone()).unwrap_err();
            assert_eq!(err.rule(), Some(Rule::TokenResponse), "{value}: {err}");
            assert!(err.to_string().contains(why), "{value}: {err}");
        }
        // One past u64::MAX is not a u64 (serde_json reads it as a float).
        let body =
            br#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551616}"#;
        let err = parse_token_response(body).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TokenResponse));
        assert!(err.to_string().contains(whole), "{err}");
    }

    #[test]
    fn an_absurd_expires_in_is_capped_at_ten_years() {
        let tokens = token_set(with_expires_in(json!(u64::MAX)).unwrap(), None);
        let lifetime = tokens
            .expires_at
            .unwrap()
            .duration_since(tokens.received_at)
            .unwrap();
        assert_eq!(lifetime, Duration::from_secs(10 * 365 * 24 * 3600));
        let tokens = token_set(with_expires_in(json!(3600)).unwrap(), None);
        let lifetime = tokens
            .expires_at
            .unwrap()
            .duration_since(tokens.received_at);
        assert_eq!(lifetime.unwrap(), Duration::from_secs(3600));
    }

    #[test]
    fn revocation_errors_name_the_revocation_endpoint() {
        let err = revocation_error(400, br#"{"error":"unsupported_token_type"}"#);
        assert_eq!(err.kind(), "revocation_refused");
        assert_eq!(
            err.to_string(),
            "the revocation endpoint refused the request: unsupported_token_type"
        );
        let err = revocation_error(503, b"<html>down</html>");
        assert_eq!(
            err.to_string(),
            "the revocation endpoint refused the request: it answered HTTP 503"
        );
        assert!(!err.to_string().contains("token endpoint"));
    }
}
