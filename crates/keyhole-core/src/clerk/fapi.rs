//! Clerk's Frontend API as a native client, the way `@clerk/expo` talks to it: `_is_native=1` on
//! every request, the client JWT as `Authorization: Bearer …`, and the `authorization` answer
//! header kept as the newest client JWT (Clerk rotates it, e.g. when a sign-in completes).
//! Shapes follow Clerk's published spec (`fapi/2026-05-12.yml`): form-encoded bodies, answers in
//! the `{response, client}` envelope, errors as `{errors: [{code, message, long_message}]}`.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Map, Value};
use url::Url;

use crate::clerk::{judge_answer, CAP};
use crate::error::{Error, Result};
use crate::http::{excerpt, network_error, read_capped};
use crate::secret::Secret;

/// The Frontend API version Keyhole speaks (the spec it was checked against).
pub(crate) const API_VERSION: &str = "2026-05-12";
/// How long one Frontend API request may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// A Frontend API answer: the `response` member, and the client JWT when the answer carried one.
#[derive(Debug)]
pub(crate) struct Answer {
    pub response: Value,
    pub client: Option<Value>,
    pub client_jwt: Option<Secret>,
}

/// One instance's Frontend API.
pub(crate) struct Fapi<'a> {
    pub http: &'a reqwest::Client,
    /// The instance's Frontend API origin (the OAuth issuer, for Clerk).
    pub base: &'a Url,
}

impl Fapi<'_> {
    /// `GET path` (with `query`), as the client `client_jwt`.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        client_jwt: Option<&Secret>,
        what: &'static str,
    ) -> Result<Answer> {
        self.send(reqwest::Method::GET, path, query, &[], client_jwt, what)
            .await
    }

    /// `POST path` with a form body, as the client `client_jwt`.
    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        client_jwt: Option<&Secret>,
        what: &'static str,
    ) -> Result<Answer> {
        self.send(reqwest::Method::POST, path, &[], form, client_jwt, what)
            .await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        form: &[(&str, &str)],
        client_jwt: Option<&Secret>,
        what: &'static str,
    ) -> Result<Answer> {
        let mut url = self
            .base
            .join(path)
            .map_err(|e| Error::setting_from("instance", "The instance URL cannot carry Frontend API paths; give its origin, e.g. https://clerk.example.com.", e))?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("_is_native", "1");
            pairs.append_pair("__clerk_api_version", API_VERSION);
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(jwt) = client_jwt {
            let value =
                HeaderValue::from_str(&format!("Bearer {}", jwt.secret())).map_err(|_| {
                    Error::stored_session("the stored Clerk client token is not a header value")
                })?;
            request = request.header(AUTHORIZATION, value);
        }
        if method == reqwest::Method::POST {
            let mut body = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in form {
                body.append_pair(name, value);
            }
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.finish());
        }
        // The URL without its query: the nonce may ride in it.
        let shown = format!("{}{}", self.base.origin().ascii_serialization(), url.path());
        let response = request
            .send()
            .await
            .map_err(|e| network_error(what, &shown, e))?;
        let status = response.status();
        let client_jwt = response
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret::new);
        let (body, truncated) = read_capped(response, CAP, what).await?;
        let parsed = judge_answer("Frontend API", status, &body, truncated, what)?;
        let Some(mut envelope) = parsed else {
            return Err(Error::clerk(
                "Frontend API",
                status.as_u16(),
                String::new(),
                format!("Clerk's answer to {what} is not a JSON object; is the instance URL a Clerk Frontend API?"),
            ));
        };
        let client = envelope.remove("client").filter(|c| !c.is_null());
        // Most answers wrap the resource in `response`; a minted token is the object itself.
        let response = match envelope.remove("response") {
            Some(response) => response,
            None => Value::Object(envelope),
        };
        Ok(Answer {
            response,
            client,
            client_jwt,
        })
    }
}

/// The error Clerk's answer `body` (status `status`) carries, in one plain sentence. Codes Keyhole
/// knows get a sentence that names the fix (the dashboard setting); others get Clerk's own words.
pub(crate) fn clerk_error(
    api: &'static str,
    status: u16,
    body: Option<&Map<String, Value>>,
    raw: &[u8],
    what: &str,
) -> Error {
    let first = body
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .and_then(Value::as_object);
    let text = |name: &str| {
        first
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(|s| s.trim().trim_end_matches('.').to_owned())
            .filter(|s| !s.is_empty())
    };
    let code = text("code").unwrap_or_default();
    let param = first
        .and_then(|e| e.get("meta"))
        .and_then(|m| m.get("param_name"))
        .and_then(Value::as_str);
    // Clerk names no code of its own for a redirect URL off the allowlist; a refused
    // `redirect_url` parameter is that.
    let code_for_message = match (code.as_str(), param) {
        ("form_param_value_invalid", Some("redirect_url")) => "redirect_url_not_allowed",
        (code, _) => code,
    };
    let said = text("long_message").or_else(|| text("message"));
    let message = match code_for_message {
        "native_api_disabled" => "This Clerk instance does not let native apps use its Frontend API: turn on Native API in the Clerk Dashboard (Configure → Native applications), then sign in again.".to_owned(),
        "clerk_key_invalid" => "Clerk refused the secret key: it is wrong, revoked, or of another instance. Copy it again from the Clerk Dashboard (Configure → API keys) of this instance.".to_owned(),
        "machine_secret_key_invalid" => "Clerk refused the machine secret key: it is wrong or revoked. Copy it again from the Clerk Dashboard (Configure → Machines).".to_owned(),
        "redirect_url_not_allowed" => "Clerk refused Keyhole's loopback redirect URL because it is not on the instance's allowlist: add http://127.0.0.1:<port>/callback in the Clerk Dashboard (Native applications → Allowlist for mobile SSO redirect), set that fixed port as Keyhole's redirect port, and sign in again.".to_owned(),
        _ => match said {
            Some(said) if code.is_empty() => format!("Clerk's {api} refused {what} (HTTP {status}): {said}."),
            Some(said) => format!("Clerk's {api} refused {what} (HTTP {status}, {code}): {said}."),
            None => format!(
                "Clerk's {api} refused {what} (HTTP {status}){}",
                if raw.is_empty() { ".".to_owned() } else { format!(": {}", excerpt(raw, 120)) }
            ),
        },
    };
    Error::clerk(api, status, code, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::clerk_error;
    use crate::error::Error;

    fn error_of(body: serde_json::Value) -> Error {
        let raw = serde_json::to_vec(&body).unwrap_or_default();
        clerk_error("Frontend API", 403, body.as_object(), &raw, "the sign-in")
    }

    #[test]
    fn known_codes_name_the_dashboard_setting() {
        let disabled = error_of(
            json!({"errors": [{"code": "native_api_disabled", "message": "Native API is disabled"}]}),
        );
        assert!(
            matches!(&disabled, Error::Clerk { code, status: 403, .. } if code == "native_api_disabled")
        );
        assert!(disabled.to_string().contains("Native API"), "{disabled}");
        assert!(disabled.to_string().contains("Dashboard"), "{disabled}");
    }

    #[test]
    fn a_refused_redirect_url_names_the_allowlist() {
        let refused = error_of(
            json!({"errors": [{"code": "form_param_value_invalid", "message": "is invalid", "meta": {"param_name": "redirect_url"}}]}),
        );
        assert!(refused.to_string().contains("allowlist"), "{refused}");
        assert!(refused.to_string().contains("redirect port"), "{refused}");
        let other = error_of(
            json!({"errors": [{"code": "form_param_value_invalid", "message": "is invalid", "meta": {"param_name": "strategy"}}]}),
        );
        assert!(!other.to_string().contains("allowlist"), "{other}");
    }

    #[test]
    fn unknown_codes_keep_clerks_words_once() {
        let other = error_of(
            json!({"errors": [{"code": "form_param_unknown", "message": "Is unknown", "long_message": "foo is not a valid parameter."}]}),
        );
        assert_eq!(
            other.to_string(),
            "Clerk's Frontend API refused the sign-in (HTTP 403, form_param_unknown): foo is not a valid parameter."
        );
        let bare = clerk_error("Backend API", 500, None, b"", "the mint");
        assert_eq!(
            bare.to_string(),
            "Clerk's Backend API refused the mint (HTTP 500)."
        );
    }
}
