//! "Try every token type": the same request sent once per kind of token the user holds, and for
//! each what the API made of it — let in or not, and for a kind it refused, the `acceptsToken`
//! setting of Clerk's backend SDKs (`@clerk/express` `getAuth(req, { acceptsToken })`,
//! `clerkMiddleware`, `@clerk/backend` `authenticateRequest`) that would let it in.

use serde::Serialize;
use serde_json::Value;

use crate::api::probe::{ApiResponse, Body};
use crate::api::request::Credential;

/// One kind's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatrixRow {
    /// The kind of token sent.
    pub credential: Credential,
    /// The HTTP status, when the API answered.
    pub status: Option<u16>,
    /// Whether the API saw a signed-in caller: an auth object with a user or subject, or a 2xx
    /// from a route that is not an auth object; None when the answer does not say.
    pub signed_in: Option<bool>,
    /// The `tokenType` the API's auth object names, when it names one (what it looked for).
    pub token_type_seen: Option<String>,
    /// For a kind that was not let in: the change that would let it in, in Clerk's words.
    pub fix: Option<String>,
    /// Why this kind could not be tried (no answer, a mint that failed); the other rows still ran.
    pub error: Option<String>,
}

/// The whole matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matrix {
    /// `METHOD URL` of the request.
    pub target: String,
    /// One row per kind tried, in [`Credential::ALL`]'s order.
    pub rows: Vec<MatrixRow>,
    /// The kinds not tried because Keyhole holds none of them, with how to get one.
    pub missing: Vec<MissingKind>,
}

/// A kind the user does not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingKind {
    /// The kind.
    pub credential: Credential,
    /// How to get one.
    pub how: String,
}

/// The `acceptsToken` value of Clerk's SDKs for a kind (none for a request without a token).
pub fn accepts_token_value(credential: Credential) -> Option<&'static str> {
    match credential {
        Credential::Session => Some("session_token"),
        Credential::OAuth => Some("oauth_token"),
        Credential::ApiKey => Some("api_key"),
        Credential::M2m => Some("m2m_token"),
        Credential::None => None,
    }
}

impl MatrixRow {
    /// The row for `credential` from the API's `response`.
    pub fn answered(credential: Credential, response: &ApiResponse) -> MatrixRow {
        let auth = match &response.body {
            Body::Json {
                value: Value::Object(auth),
            } if looks_like_auth_object(auth) => Some(auth),
            _ => None,
        };
        let signed_in = match auth {
            Some(auth) => Some(auth_says_signed_in(auth)),
            None if response.ok => Some(true),
            None if matches!(response.status, 401 | 403) => Some(false),
            None => None,
        };
        let token_type_seen = auth
            .and_then(|a| a.get("tokenType"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let fix = match (signed_in, accepts_token_value(credential)) {
            (Some(true), _) | (_, None) => None,
            (_, Some(value)) => Some(fix_for(credential, value, token_type_seen.as_deref())),
        };
        MatrixRow {
            credential,
            status: Some(response.status),
            signed_in,
            token_type_seen,
            fix,
            error: None,
        }
    }

    /// The row for a kind that could not be tried.
    pub fn failed(credential: Credential, message: String) -> MatrixRow {
        MatrixRow {
            credential,
            status: None,
            signed_in: None,
            token_type_seen: None,
            fix: None,
            error: Some(message),
        }
    }
}

fn fix_for(credential: Credential, value: &str, seen: Option<&str>) -> String {
    let looked_for = match seen {
        Some(seen) if seen != value => format!(" It looked for {seen}."),
        _ => String::new(),
    };
    let azp = match credential {
        // @clerk/backend refuses a session token without azp when authorizedParties is set, and
        // Keyhole's carry none (no browser Origin).
        Credential::Session => " If it already accepts session tokens, it probably sets authorizedParties: a session token from Keyhole carries no azp, so leave authorizedParties out for this route or accept another kind.",
        _ => "",
    };
    format!(
        "To let a {} in, the backend must accept it: getAuth(req, {{ acceptsToken: '{value}' }}) (or an array that includes '{value}', or 'any').{looked_for}{azp}",
        credential_noun(credential)
    )
}

fn credential_noun(credential: Credential) -> &'static str {
    match credential {
        Credential::Session => "Clerk session token",
        Credential::OAuth => "OAuth access token",
        Credential::ApiKey => "Clerk API key",
        Credential::M2m => "M2M token",
        Credential::None => "request without a token",
    }
}

/// Clerk's auth objects carry these (session: `userId`, `sessionId`; machine: `subject`,
/// `tokenType`; both: `isAuthenticated` in current SDKs).
fn looks_like_auth_object(auth: &serde_json::Map<String, Value>) -> bool {
    [
        "userId",
        "sessionId",
        "isAuthenticated",
        "tokenType",
        "subject",
    ]
    .iter()
    .any(|k| auth.contains_key(*k))
}

fn auth_says_signed_in(auth: &serde_json::Map<String, Value>) -> bool {
    let named = |key: &str| {
        auth.get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    match auth.get("isAuthenticated") {
        Some(Value::Bool(said)) => *said,
        _ => named("userId") || named("subject"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    impl ApiResponse {
        fn for_tests() -> ApiResponse {
            ApiResponse {
                method: "GET".into(),
                status: 200,
                ok: true,
                reason: String::new(),
                url: "http://127.0.0.1/".into(),
                elapsed_ms: 0,
                ttfb_ms: 0,
                size: 0,
                kept: 0,
                truncated: false,
                size_known: true,
                raw: Default::default(),
                content_type: None,
                headers: Vec::new(),
                body: Body::Empty,
                blocked_redirect: None,
            }
        }
    }

    fn answer(status: u16, body: Value) -> ApiResponse {
        ApiResponse {
            status,
            ok: (200..300).contains(&status),
            body: Body::Json { value: body },
            ..ApiResponse::for_tests()
        }
    }

    #[test]
    fn an_auth_object_with_a_user_is_signed_in() {
        let row = MatrixRow::answered(
            Credential::Session,
            &answer(
                200,
                json!({"userId": "user_1", "sessionId": "sess_1", "tokenType": "session_token", "isAuthenticated": true}),
            ),
        );
        assert_eq!(row.signed_in, Some(true));
        assert_eq!(row.fix, None);
    }

    #[test]
    fn a_signed_out_object_names_the_setting_that_lets_the_kind_in() {
        let row = MatrixRow::answered(
            Credential::OAuth,
            &answer(
                200,
                json!({"userId": null, "tokenType": "session_token", "isAuthenticated": false}),
            ),
        );
        assert_eq!(row.signed_in, Some(false));
        let fix = row.fix.unwrap_or_default();
        assert!(fix.contains("acceptsToken: 'oauth_token'"), "{fix}");
        assert!(fix.contains("looked for session_token"), "{fix}");
        // The tutorial's old SDK: no isAuthenticated, userId null.
        let old = MatrixRow::answered(
            Credential::Session,
            &answer(
                200,
                json!({"sessionClaims": null, "sessionId": null, "userId": null}),
            ),
        );
        assert_eq!(old.signed_in, Some(false));
        assert!(old.fix.unwrap_or_default().contains("'session_token'"));
    }

    #[test]
    fn a_strict_route_answers_by_status() {
        let refused = ApiResponse {
            status: 401,
            ok: false,
            body: Body::Text {
                text: "Unauthenticated!".into(),
                truncated: false,
            },
            ..ApiResponse::for_tests()
        };
        let row = MatrixRow::answered(Credential::OAuth, &refused);
        assert_eq!(row.signed_in, Some(false));
        assert!(row.fix.is_some());
        let none = MatrixRow::answered(Credential::None, &refused);
        assert_eq!((none.signed_in, none.fix), (Some(false), None));
        let data = MatrixRow::answered(Credential::Session, &answer(200, json!({"items": [1]})));
        assert_eq!(data.signed_in, Some(true));
    }
}
