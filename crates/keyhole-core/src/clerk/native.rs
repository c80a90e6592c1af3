//! Signing in to Clerk itself, as its native SDKs do (`@clerk/expo`'s `useSSO`), so that Keyhole
//! holds a Clerk *session* and can mint the session tokens the tutorial's API reads:
//!
//! 1. `POST /v1/client` — a new native client; its JWT comes back in the `authorization` header.
//! 2. `GET /v1/environment` — the instance's enabled SSO connections (one is chosen).
//! 3. `POST /v1/client/sign_ins` (`strategy=oauth_…`, `redirect_url` = Keyhole's loopback with its
//!    own `state`) — Clerk answers the URL to open in the system browser.
//! 4. The browser comes back to `http://127.0.0.1:<port>/callback?state=…&rotating_token_nonce=…`.
//! 5. `GET /v1/client/sign_ins/{id}?rotating_token_nonce=…` — the sign-in is `complete` with
//!    `created_session_id`, and the client JWT is rotated.
//!
//! The nonce is what binds the browser's sign-in to this client (only this client's JWT redeems
//! it); Keyhole's `state` binds the redirect to this sign-in, as in RFC 6749 §10.12.

use oauth2::CsrfToken;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::clerk::fapi::{Answer, Fapi};
use crate::engine::SignInContext;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::signin::flow::Progress;
use crate::signin::loopback::{Expected, Listener};

/// The loopback callback's parameter that carries Clerk's nonce.
const NONCE: &str = "rotating_token_nonce";

/// A Clerk session held by a native client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct NativeSession {
    /// The client JWT (rotated by Clerk; the newest is the only one that works). None for a test
    /// session made with the secret key, whose tokens come from the Backend API.
    #[serde(default)]
    pub client_jwt: Option<Secret>,
    /// `sess_…`.
    pub session_id: String,
    /// `user_…`.
    pub user_id: String,
    /// The user's primary email address, when Clerk said it.
    #[serde(default)]
    pub email: Option<String>,
}

/// Runs the sign-in above: listens on `port` (0 = any free port), opens the browser through
/// `context`, and waits at most its timeout.
pub(crate) async fn sign_in(
    fapi: &Fapi<'_>,
    port: u16,
    strategy: Option<&str>,
    context: &SignInContext<'_>,
) -> Result<NativeSession> {
    let cancel = &context.options.cancel;
    let client = cancellable(
        cancel,
        fapi.post("/v1/client", &[], None, "creating a native client"),
    )
    .await?;
    let mut jwt = client.client_jwt.ok_or_else(|| {
        Error::clerk(
            "Frontend API",
            200,
            "",
            "Clerk created a client but sent no client token back (authorization header), so Keyhole cannot hold a session; check that Native API is on in the Clerk Dashboard (Configure → Native applications).",
        )
    })?;
    let environment = cancellable(
        cancel,
        fapi.get(
            "/v1/environment",
            &[],
            Some(&jwt),
            "reading the instance's settings",
        ),
    )
    .await?;
    let strategy = choose_strategy(&environment.response, strategy)?;

    let listener = Listener::bind(port).await?;
    let state = CsrfToken::new_random();
    let redirect_url = format!("{}?state={}", listener.redirect_uri(), state.secret());
    let started = cancellable(
        cancel,
        fapi.post(
            "/v1/client/sign_ins",
            &[("strategy", &strategy), ("redirect_url", &redirect_url)],
            Some(&jwt),
            "starting the sign-in",
        ),
    )
    .await?;
    rotate(&mut jwt, &started);
    let sign_in_id = string_at(&started.response, &["id"])
        .ok_or_else(|| shape("the new sign-in has no id"))?
        .to_owned();
    let browser_url = string_at(
        &started.response,
        &[
            "first_factor_verification",
            "external_verification_redirect_url",
        ],
    )
    .and_then(|u| Url::parse(u).ok())
    .filter(|u| matches!(u.scheme(), "https" | "http"))
    .ok_or_else(|| {
        shape("the sign-in names no web page to open (external_verification_redirect_url)")
    })?;

    let shown = browser_url.to_string();
    (context.progress)(Progress::OpeningBrowser { url: shown.clone() });
    match context.browser.open(&browser_url) {
        Ok(()) => (context.progress)(Progress::Waiting { url: shown }),
        Err(message) => {
            tracing::warn!(%message, "could not open the browser");
            (context.progress)(Progress::BrowserFailed {
                url: shown,
                message,
            });
        }
    }
    let issuer = fapi.base.origin().ascii_serialization();
    let expected = Expected {
        state: &state,
        issuer: &issuer,
        require_iss: false,
        carries: NONCE,
    };
    let nonce = listener
        .wait(&expected, context.options.timeout, cancel)
        .await?;
    (context.progress)(Progress::Exchanging);
    let path = format!("/v1/client/sign_ins/{sign_in_id}");
    let finished = cancellable(
        cancel,
        fapi.get(
            &path,
            &[(NONCE, nonce.secret())],
            Some(&jwt),
            "finishing the sign-in",
        ),
    )
    .await?;
    rotate(&mut jwt, &finished);
    let status = string_at(&finished.response, &["status"]).unwrap_or("");
    let session_id = string_at(&finished.response, &["created_session_id"])
        .filter(|_| status == "complete")
        .ok_or_else(|| {
            Error::clerk(
                "Frontend API",
                200,
                "",
                format!("Clerk did not complete the sign-in (its status is {status:?}); finish it in the browser, or sign in again. A new user may first need to sign up in the app's own sign-in page."),
            )
        })?
        .to_owned();
    let (user_id, email) = user_of(finished.client.as_ref(), &session_id);
    Ok(NativeSession {
        client_jwt: Some(jwt),
        session_id,
        user_id: user_id.unwrap_or_default(),
        email,
    })
}

/// Keeps the newest client JWT an answer carried.
pub(crate) fn rotate(jwt: &mut Secret, answer: &Answer) {
    if let Some(newer) = &answer.client_jwt {
        *jwt = newer.clone();
    }
}

async fn cancellable<T>(
    cancel: &CancellationToken,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        () = cancel.cancelled() => Err(Error::Cancelled),
        done = work => done,
    }
}

/// The SSO strategy to sign in with: `wanted` when the instance offers it, else the first
/// enabled, authenticatable social or enterprise connection.
fn choose_strategy(environment: &Value, wanted: Option<&str>) -> Result<String> {
    let mut offered: Vec<String> = environment
        .pointer("/user_settings/social")
        .and_then(Value::as_object)
        .map(|social| {
            social
                .values()
                .filter(|c| c.get("enabled").and_then(Value::as_bool) == Some(true))
                .filter(|c| c.get("authenticatable").and_then(Value::as_bool) != Some(false))
                .filter_map(|c| c.get("strategy").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    offered.sort();
    match wanted {
        Some(wanted) if offered.iter().any(|s| s == wanted) => Ok(wanted.to_owned()),
        Some(wanted) => Err(Error::setting(
            "clerkStrategy",
            format!(
                "This Clerk instance offers no sign-in with {wanted:?}; {}",
                offer_list(&offered)
            ),
        )),
        None => offered.into_iter().next().ok_or_else(|| {
            Error::clerk(
                "Frontend API",
                200,
                "",
                "This Clerk instance has no SSO connection turned on, and a native sign-in in the browser needs one: enable a social or custom OAuth connection in the Clerk Dashboard (Configure → SSO connections).",
            )
        }),
    }
}

fn offer_list(offered: &[String]) -> String {
    if offered.is_empty() {
        "it has none turned on.".to_owned()
    } else {
        format!("it offers {}.", offered.join(", "))
    }
}

/// The session's user ID and primary email, from the client object.
fn user_of(client: Option<&Value>, session_id: &str) -> (Option<String>, Option<String>) {
    let Some(session) = client
        .and_then(|c| c.get("sessions"))
        .and_then(Value::as_array)
        .and_then(|s| {
            s.iter()
                .find(|s| s.get("id").and_then(Value::as_str) == Some(session_id))
        })
    else {
        return (None, None);
    };
    let user = session.get("user");
    let user_id = user
        .and_then(|u| u.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let primary = user
        .and_then(|u| u.get("primary_email_address_id"))
        .and_then(Value::as_str);
    let email = user
        .and_then(|u| u.get("email_addresses"))
        .and_then(Value::as_array)
        .and_then(|all| {
            all.iter()
                .find(|e| primary.is_none() || e.get("id").and_then(Value::as_str) == primary)
        })
        .and_then(|e| e.get("email_address"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    (user_id, email)
}

pub(crate) fn string_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn shape(what: &str) -> Error {
    Error::clerk(
        "Frontend API",
        200,
        "",
        format!("Clerk's answer is not what its Frontend API specifies: {what}; is the instance URL a Clerk Frontend API?"),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{choose_strategy, user_of};
    use crate::error::Error;

    #[test]
    fn the_strategy_is_an_enabled_connection() {
        let env = json!({"user_settings": {"social": {
            "oauth_google": {"enabled": false, "authenticatable": true, "strategy": "oauth_google"},
            "oauth_github": {"enabled": true, "authenticatable": true, "strategy": "oauth_github"},
            "oauth_custom_x": {"enabled": true, "authenticatable": false, "strategy": "oauth_custom_x"},
        }}});
        assert_eq!(
            choose_strategy(&env, None).ok().as_deref(),
            Some("oauth_github")
        );
        let refused = choose_strategy(&env, Some("oauth_google"));
        assert!(
            matches!(&refused, Err(Error::InvalidSetting { field: "clerkStrategy", message, .. }) if message.contains("oauth_github")),
            "{refused:?}"
        );
        let none = choose_strategy(&json!({}), None);
        assert!(
            matches!(&none, Err(Error::Clerk { .. }))
                && none
                    .as_ref()
                    .err()
                    .is_some_and(|e| e.to_string().contains("SSO connection")),
            "{none:?}"
        );
    }

    #[test]
    fn the_user_comes_from_the_client_object() {
        let client = json!({"sessions": [
            {"id": "sess_other", "user": {"id": "user_other"}},
            {"id": "sess_1", "user": {"id": "user_1", "primary_email_address_id": "idn_2",
              "email_addresses": [{"id": "idn_1", "email_address": "old@example.com"}, {"id": "idn_2", "email_address": "a@example.com"}]}},
        ]});
        let (user, email) = user_of(Some(&client), "sess_1");
        assert_eq!(user.as_deref(), Some("user_1"));
        assert_eq!(email.as_deref(), Some("a@example.com"));
        assert_eq!(user_of(Some(&client), "sess_missing"), (None, None));
    }
}
