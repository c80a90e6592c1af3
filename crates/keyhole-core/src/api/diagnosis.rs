//! Plain-words explanations when an API rejects, or reads as signed out, a token Keyhole holds.
//!
//! The usual causes with Clerk backends (../shared/docs/clerk-oauth.md): the SDK reads session
//! tokens only unless told `acceptsToken: 'oauth_token'`; the backend belongs to another instance;
//! the token expired; a development instance's handshake redirect.

use std::time::SystemTime;

use serde_json::Value;

use crate::api::clerk_auth::ClerkAuth;
use crate::api::probe::{ApiResponse, Body};
use crate::api::request::Credential;
use crate::tokens::verify::AccessTokenInfo;

/// What Keyhole knows about the token it sent.
pub struct TokenContext<'a> {
    /// The kind of token that was sent.
    pub credential: Credential,
    /// The decoded access token, or that it is opaque.
    pub access: &'a AccessTokenInfo,
    /// When the access token expires: [`crate::Session::expires_at`], which already falls back
    /// to the JWT's `exp`.
    pub expires_at: Option<SystemTime>,
    /// The issuer the token comes from.
    pub issuer: &'a str,
}

const ACCEPTS_TOKEN_HINT: &str = "Clerk's backend SDKs read session tokens only by default. To accept Keyhole's OAuth access token, the backend must ask for it: getAuth(req, { acceptsToken: 'oauth_token' }) with @clerk/express (the deprecated @clerk/clerk-sdk-node cannot accept OAuth tokens at all).";

const SESSION_TOKEN_HINT: &str = "Clerk's backend SDKs accept session tokens by default, so this backend was probably told to accept other kinds only (its acceptsToken must include 'session_token'), or it sets authorizedParties: Keyhole's session tokens carry no azp (no browser Origin), and @clerk/backend refuses such a token when authorizedParties is set.";

/// What the backend must change to accept the kind of token that was sent.
fn accepts_hint(credential: Credential) -> &'static str {
    match credential {
        Credential::Session => SESSION_TOKEN_HINT,
        Credential::ApiKey => "Clerk's backend SDKs read API keys only when asked: getAuth(req, { acceptsToken: 'api_key' }) (or an array with it, or 'any'), and the backend checks an API key with Clerk, so it needs its secret key and network access.",
        Credential::M2m => "Clerk's backend SDKs read M2M tokens only when asked: getAuth(req, { acceptsToken: 'm2m_token' }) (or an array with it, or 'any'); an opaque M2M token is checked with Clerk, so the backend needs its secret key and network access.",
        Credential::OAuth | Credential::None => ACCEPTS_TOKEN_HINT,
    }
}

/// Explains a disappointing answer, or returns None when there is nothing to explain. `token` is
/// what Keyhole knows of the token it sent, None when the request went without one: then only
/// Clerk's own account of the answer (its `x-clerk-auth-*` headers) is said, in plain words.
pub fn diagnose(response: &ApiResponse, token: Option<&TokenContext<'_>>) -> Option<String> {
    let clerk = ClerkAuth::from_headers(&response.headers).filter(ClerkAuth::signed_out);
    let Some(token) = token else {
        return without_token(response, clerk.as_ref());
    };
    let hint = accepts_hint(token.credential);
    let noun = match token.credential {
        Credential::Session => "session token",
        Credential::ApiKey => "API key",
        Credential::M2m => "M2M token",
        Credential::OAuth | Credential::None => "access token",
    };
    if let Some(target) = &response.blocked_redirect {
        let mut text = format!(
            "The API redirected (HTTP {}) to {target}, which is another origin. Keyhole did not follow it, so your token was not sent there.",
            response.status
        );
        if target.contains("handshake") || target.contains("__clerk") {
            text.push_str(" This looks like a Clerk development instance's handshake redirect, which answers browser-like requests; use a production (pk_live_) instance for APIs, or make the backend treat Bearer requests as API calls.");
        }
        return Some(text);
    }
    let rejected = matches!(response.status, 401 | 403);
    let signed_out = response.ok && (reads_as_signed_out(&response.body) || clerk.is_some());
    if !rejected && !signed_out {
        return None;
    }
    // Clerk's own reason, when its SDK gave one, comes right after the first sentence.
    let said = clerk
        .as_ref()
        .map(|c| format!(" {}", c.explain(token.credential)))
        .unwrap_or_default();
    if let Some(expired) = expired_since(token) {
        return Some(format!(
            "Your {noun} expired {expired} ago. Refresh the session or sign in again.{said}"
        ));
    }
    // Opaque machine credentials are never decoded, so "verified" would be untrue of them.
    let machine = matches!(token.credential, Credential::ApiKey | Credential::M2m);
    let (sent, held) = if machine {
        ("its", "that Keyhole holds")
    } else {
        ("a valid", "that Keyhole holds and verified")
    };
    let opaque_note = match token.access {
        _ if machine => "",
        AccessTokenInfo::Opaque => " Your access token is opaque (not a JWT): the backend can only check it by asking Clerk with its secret key, so it needs network access and the instance's secret key.",
        AccessTokenInfo::Jwt { .. } => "",
    };
    let instance_hint = format!(
        "If it already does, the backend is probably set up for another Clerk instance: its keys (CLERK_JWT_KEY or secret key) must be those of {}.",
        token.issuer
    );
    if signed_out {
        let token_type = match &response.body {
            Body::Json { value } => value.get("tokenType").and_then(Value::as_str),
            _ => None,
        };
        return Some(
            if token_type == Some("oauth_token") && token.credential == Credential::OAuth {
                format!(
                "The API looked for an OAuth token but reads you as signed out, although Keyhole's token is valid.{said} The backend is probably set up for another Clerk instance: its keys (CLERK_JWT_KEY or secret key) must be those of {}. A clock that is far off can cause this too.{opaque_note}",
                token.issuer
            )
            } else {
                format!("The API answered, but reads you as signed out although Keyhole sent {sent} {noun}.{said} {hint} {instance_hint}{opaque_note}")
            },
        );
    }
    let challenge = response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, value)| format!(" Its WWW-Authenticate header says: {value}."))
        .unwrap_or_default();
    Some(format!(
        "The API refused (HTTP {}) a {noun} {held}.{said}{challenge} {hint} {instance_hint}{opaque_note}",
        response.status
    ))
}

/// The diagnosis of an answer to a request sent without a token: Clerk's reason when its SDK
/// gave one (a signed-out answer is then what was asked for, and says so), else nothing.
fn without_token(response: &ApiResponse, clerk: Option<&ClerkAuth>) -> Option<String> {
    let clerk = clerk?;
    let mut text = format!("Sent without a token: {}", clerk.explain(Credential::None));
    if clerk.no_token_reason() {
        text.push_str(if response.ok {
            " That is what a request without a token gets; choose a token type to see what the API lets in."
        } else {
            " The API needs a token for this route; choose a token type and send it again."
        });
    }
    Some(text)
}

/// A Clerk auth object that says nobody is signed in: `userId: null` or `isAuthenticated: false`.
/// What [`compare_answers`] needs of an answer, small enough to keep for many requests (the body
/// itself can be 1 MiB): its status, whether it was 2xx, its status line, and a hash of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerDigest {
    status: u16,
    ok: bool,
    status_line: String,
    body_hash: u64,
}

impl AnswerDigest {
    /// The digest of `response`.
    pub fn of(response: &ApiResponse) -> AnswerDigest {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(&response.body)
            .unwrap_or_default()
            .hash(&mut hasher);
        AnswerDigest {
            status: response.status,
            ok: response.ok,
            status_line: response.status_line(),
            body_hash: hasher.finish(),
        }
    }
}

/// What the same request answered with and without the token says, once both are known (the
/// window's "send my access token" toggle): None when the token made the difference it should.
pub fn compare_answers(with_token: &AnswerDigest, without_token: &AnswerDigest) -> Option<String> {
    let same = with_token.status == without_token.status
        && with_token.body_hash == without_token.body_hash;
    if same && (with_token.ok || with_token.status == 401) {
        return Some(format!(
            "With and without your token the API answered the same ({}): it reads your token as a signed-out caller. {ACCEPTS_TOKEN_HINT}",
            with_token.status_line
        ));
    }
    if !with_token.ok && with_token.status == without_token.status {
        return Some(format!(
            "With and without your token the API answered {}: the token made no difference, so it is refused (or ignored) before it counts.",
            with_token.status
        ));
    }
    None
}

fn reads_as_signed_out(body: &Body) -> bool {
    let Body::Json {
        value: Value::Object(auth),
    } = body
    else {
        return false;
    };
    auth.get("isAuthenticated") == Some(&Value::Bool(false))
        || (auth.get("userId") == Some(&Value::Null)
            && !auth
                .get("isAuthenticated")
                .is_some_and(|v| v == &Value::Bool(true)))
}

fn expired_since(token: &TokenContext<'_>) -> Option<String> {
    let expires_at = token.expires_at?;
    let ago = SystemTime::now().duration_since(expires_at).ok()?;
    let secs = ago.as_secs();
    Some(if secs < 120 {
        format!("{secs} s")
    } else {
        format!("{} min", secs / 60)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_answer_with_and_without_the_token_says_the_token_reads_as_signed_out() {
        let signed_out = Body::Json {
            value: serde_json::json!({ "userId": null }),
        };
        let digest = |status, body| AnswerDigest::of(&response(status, body));
        let with = digest(200, signed_out.clone());
        let without = digest(200, signed_out);
        let said = compare_answers(&with, &without).expect("explained");
        assert!(
            said.contains("answered the same") && said.contains("signed-out caller"),
            "{said}"
        );
        let refused = compare_answers(&digest(403, Body::Empty), &digest(403, Body::Empty))
            .expect("explained");
        assert!(refused.contains("made no difference"), "{refused}");
        // The token made the difference it should: nothing to say.
        let accepted = digest(
            200,
            Body::Json {
                value: serde_json::json!({ "userId": "u" }),
            },
        );
        assert_eq!(compare_answers(&accepted, &digest(401, Body::Empty)), None);
    }
    use std::time::Duration;

    fn response(status: u16, body: Body) -> ApiResponse {
        ApiResponse {
            status,
            ok: (200..300).contains(&status),
            reason: String::new(),
            url: "http://api.test/".into(),
            elapsed_ms: 1,
            method: "GET".into(),
            ttfb_ms: 1,
            size: 0,
            kept: 0,
            truncated: false,
            size_known: true,
            raw: Default::default(),
            content_type: None,
            headers: vec![],
            body,
            blocked_redirect: None,
        }
    }

    fn jwt() -> AccessTokenInfo {
        AccessTokenInfo::Jwt {
            header: Default::default(),
            claims: Default::default(),
        }
    }

    fn ctx(access: &AccessTokenInfo, expires_at: Option<SystemTime>) -> TokenContext<'_> {
        TokenContext {
            credential: Credential::OAuth,
            access,
            expires_at,
            issuer: "https://clerk.example.com",
        }
    }

    fn json(v: Value) -> Body {
        Body::Json { value: v }
    }

    #[test]
    fn a_signed_out_session_token_object_points_at_accepts_token() {
        let access = jwt();
        let body = json(
            serde_json::json!({"userId": null, "sessionId": null, "tokenType": "session_token", "isAuthenticated": false}),
        );
        let text = diagnose(&response(200, body), Some(&ctx(&access, None))).unwrap();
        assert!(text.contains("acceptsToken: 'oauth_token'"), "{text}");
        // The tutorial's deprecated SDK gives the same shape without tokenType.
        let old =
            json(serde_json::json!({"sessionClaims": null, "sessionId": null, "userId": null}));
        assert!(diagnose(&response(200, old), Some(&ctx(&access, None)))
            .unwrap()
            .contains("acceptsToken"));
    }

    #[test]
    fn a_signed_out_oauth_object_points_at_the_instance() {
        let access = jwt();
        let body = json(
            serde_json::json!({"tokenType": "oauth_token", "isAuthenticated": false, "userId": null}),
        );
        let text = diagnose(&response(200, body), Some(&ctx(&access, None))).unwrap();
        assert!(
            text.contains("another Clerk instance") && text.contains("https://clerk.example.com"),
            "{text}"
        );
    }

    #[test]
    fn a_signed_in_object_or_a_plain_error_needs_no_diagnosis() {
        let access = jwt();
        let body = json(
            serde_json::json!({"tokenType": "oauth_token", "isAuthenticated": true, "userId": "user_1"}),
        );
        assert_eq!(
            diagnose(&response(200, body), Some(&ctx(&access, None))),
            None
        );
        assert_eq!(
            diagnose(&response(500, Body::Empty), Some(&ctx(&access, None))),
            None
        );
        assert_eq!(
            diagnose(
                &response(200, json(serde_json::json!([1, 2]))),
                Some(&ctx(&access, None))
            ),
            None
        );
    }

    #[test]
    fn a_401_with_an_expired_token_says_it_expired() {
        let access = jwt();
        let past = SystemTime::now() - Duration::from_secs(300);
        let text = diagnose(&response(401, Body::Empty), Some(&ctx(&access, Some(past)))).unwrap();
        assert!(text.contains("expired 5 min ago"), "{text}");
    }

    #[test]
    fn a_401_with_a_valid_token_names_both_likely_causes() {
        let access = AccessTokenInfo::Opaque;
        let mut r = response(
            401,
            Body::Text {
                text: "Unauthenticated!".into(),
                truncated: false,
            },
        );
        r.headers.push((
            "www-authenticate".into(),
            "Bearer error=\"invalid_token\"".into(),
        ));
        let text = diagnose(
            &r,
            Some(&ctx(
                &access,
                Some(SystemTime::now() + Duration::from_secs(600)),
            )),
        )
        .unwrap();
        assert!(
            text.contains("acceptsToken")
                && text.contains("another Clerk instance")
                && text.contains("opaque")
                && text.contains("invalid_token"),
            "{text}"
        );
    }

    fn clerk_signed_out(mut r: ApiResponse, reason: &str) -> ApiResponse {
        r.headers
            .push(("x-clerk-auth-status".into(), "signed-out".into()));
        r.headers
            .push(("x-clerk-auth-reason".into(), reason.into()));
        r
    }

    #[test]
    fn without_a_token_only_clerks_reason_is_said_and_plain_answers_need_nothing() {
        let signed_out = json(serde_json::json!({"userId": null}));
        assert_eq!(diagnose(&response(200, signed_out.clone()), None), None);
        let lax = clerk_signed_out(response(200, signed_out), "session-token-and-uat-missing");
        let text = diagnose(&lax, None).unwrap();
        assert!(
            text.starts_with("Sent without a token: Clerk's SDK")
                && text.contains("no Authorization: Bearer header")
                && text.contains("what a request without a token gets"),
            "{text}"
        );
        let strict = clerk_signed_out(response(401, Body::Empty), "session-token-and-uat-missing");
        assert!(diagnose(&strict, None)
            .unwrap()
            .contains("needs a token for this route"));
    }

    #[test]
    fn with_a_token_clerks_reason_joins_the_diagnosis_even_on_a_plain_200() {
        let access = jwt();
        let plain = Body::Text {
            text: "hello".into(),
            truncated: false,
        };
        // A route that reads no auth object, but Clerk's middleware said signed out.
        let r = clerk_signed_out(response(200, plain), "token-type-mismatch");
        let text = diagnose(&r, Some(&ctx(&access, None))).unwrap();
        assert!(
            text.contains("reads you as signed out")
                && text.contains("acceptsToken leaves out oauth_token")
                && text.contains("acceptsToken: 'oauth_token'"),
            "{text}"
        );
    }

    #[test]
    fn a_cross_origin_redirect_is_explained() {
        let access = jwt();
        let mut r = response(307, Body::Empty);
        r.blocked_redirect =
            Some("https://x.clerk.accounts.dev/v1/client/handshake?redirect_url=…".into());
        let text = diagnose(&r, Some(&ctx(&access, None))).unwrap();
        assert!(
            text.contains("not sent there") && text.contains("handshake"),
            "{text}"
        );
    }
}
