//! The authorization report of an MCP server and its provider: one check per rule of the MCP
//! authorization spec and the RFCs behind it, each with a verdict and the section it comes from.
//! [`crate::Service::mcp_check`] runs them; this module holds what they find and the small pure
//! pieces they are made of.

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use super::Revision;

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The server or provider does what the rule asks.
    Pass,
    /// It does not: the detail says what it did instead.
    Fail,
    /// The rule is about something neither offers (e.g. no `403` to step up from).
    NotOffered,
    /// The check could not run (an earlier step failed, or it needs something not at hand); the
    /// detail says why and what would let it run.
    NotChecked,
}

impl Verdict {
    /// `pass`, `fail`, `not offered`, `not checked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotOffered => "not offered",
            Verdict::NotChecked => "not checked",
        }
    }
}

/// Which rule a check grades, in the order the report lists them. Stable names:
/// [`CheckId::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckId {
    /// Without a token the server answers `401` with a `Bearer` challenge.
    MissingTokenRefused,
    /// The server serves RFC 9728 protected-resource metadata.
    MetadataServed,
    /// The metadata's `resource` is the server's URL.
    MetadataResource,
    /// The authorization server's metadata names exactly the issuer the resource named.
    IssuerMatches,
    /// The authorization server offers PKCE with S256.
    PkceS256,
    /// The authorization server returns `iss` in its authorization response.
    IssReturned,
    /// How Keyhole got a client with the provider.
    Registration,
    /// The access token's `aud` names the server.
    TokenAudience,
    /// The server lets in the token its provider issued for it.
    TokenAccepted,
    /// The server refuses a token its provider issued for another resource.
    OtherAudienceRefused,
    /// The server refuses a token whose signature is wrong.
    BadSignatureRefused,
    /// The server refuses a token past its `exp`.
    ExpiredRefused,
    /// A `403` names the scopes it needs (`insufficient_scope`).
    InsufficientScope,
}

impl CheckId {
    /// Every check, in report order.
    pub const ALL: [CheckId; 13] = [
        CheckId::MissingTokenRefused,
        CheckId::MetadataServed,
        CheckId::MetadataResource,
        CheckId::IssuerMatches,
        CheckId::PkceS256,
        CheckId::IssReturned,
        CheckId::Registration,
        CheckId::TokenAudience,
        CheckId::TokenAccepted,
        CheckId::OtherAudienceRefused,
        CheckId::BadSignatureRefused,
        CheckId::ExpiredRefused,
        CheckId::InsufficientScope,
    ];

    /// A short, stable name, e.g. `metadata_resource`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::MissingTokenRefused => "missing_token_refused",
            CheckId::MetadataServed => "metadata_served",
            CheckId::MetadataResource => "metadata_resource",
            CheckId::IssuerMatches => "issuer_matches",
            CheckId::PkceS256 => "pkce_s256",
            CheckId::IssReturned => "iss_returned",
            CheckId::Registration => "registration",
            CheckId::TokenAudience => "token_audience",
            CheckId::TokenAccepted => "token_accepted",
            CheckId::OtherAudienceRefused => "other_audience_refused",
            CheckId::BadSignatureRefused => "bad_signature_refused",
            CheckId::ExpiredRefused => "expired_refused",
            CheckId::InsufficientScope => "insufficient_scope",
        }
    }

    /// What the rule asks, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::MissingTokenRefused => "Without a token: 401 with a Bearer challenge",
            CheckId::MetadataServed => "Protected-resource metadata served",
            CheckId::MetadataResource => "The metadata's resource is this server",
            CheckId::IssuerMatches => "The authorization server's metadata names its issuer",
            CheckId::PkceS256 => "PKCE with S256 offered",
            CheckId::IssReturned => "iss returned in the authorization response",
            CheckId::Registration => "Client registration",
            CheckId::TokenAudience => "The access token's audience is this server",
            CheckId::TokenAccepted => "The server lets in the token issued for it",
            CheckId::OtherAudienceRefused => "A token for another resource: refused",
            CheckId::BadSignatureRefused => "A wrongly signed token: refused",
            CheckId::ExpiredRefused => "An expired token: refused",
            CheckId::InsufficientScope => "A 403 names the scopes it needs",
        }
    }

    /// Where the rule is written.
    pub fn spec(self) -> &'static str {
        match self {
            CheckId::MissingTokenRefused => {
                "MCP Authorization §Authorization Server Discovery; RFC 6750 §3; RFC 9728 §5.1"
            }
            CheckId::MetadataServed => {
                "MCP Authorization §Protected Resource Metadata; RFC 9728 §3"
            }
            CheckId::MetadataResource => "RFC 9728 §3.3",
            CheckId::IssuerMatches => "RFC 8414 §3.3; OIDC Discovery §4.3",
            CheckId::PkceS256 => "MCP Authorization §Authorization Code Protection; RFC 7636 §4.2",
            CheckId::IssReturned => "RFC 9207 §2; MCP 2026-07-28 Authorization",
            CheckId::Registration => "MCP Authorization §Client Registration Approaches",
            CheckId::TokenAudience => "RFC 8707 §2; RFC 9068 §3",
            CheckId::TokenAccepted => "MCP Authorization §Access Token Usage",
            CheckId::OtherAudienceRefused => "MCP Authorization §Token Audience Binding; RFC 8707",
            CheckId::BadSignatureRefused => "MCP Authorization §Token Handling; RFC 9068 §4",
            CheckId::ExpiredRefused => "RFC 9068 §4; RFC 7519 §4.1.4",
            CheckId::InsufficientScope => {
                "MCP Authorization §Scope Challenge Handling; RFC 6750 §3.1"
            }
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// The rule.
    pub id: CheckId,
    /// What it asks, in a few words.
    pub title: &'static str,
    /// Where it is written.
    pub spec: &'static str,
    /// Its outcome.
    pub verdict: Verdict,
    /// What was seen, in one or two plain sentences (never a token).
    pub detail: String,
}

/// The report on one MCP server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpReport {
    /// The MCP endpoint checked.
    pub url: String,
    /// The revision spoken with it, once a token let Keyhole in.
    pub revision: Option<Revision>,
    /// The authorization server the metadata named, once read.
    pub issuer: Option<String>,
    /// Every check, in [`CheckId::ALL`] order.
    pub checks: Vec<Check>,
}

impl McpReport {
    /// A report with every check not run yet ("not checked" until a step sets it).
    pub(crate) fn new(url: &str) -> McpReport {
        McpReport {
            url: url.to_owned(),
            revision: None,
            issuer: None,
            checks: CheckId::ALL
                .iter()
                .map(|&id| Check {
                    id,
                    title: id.title(),
                    spec: id.spec(),
                    verdict: Verdict::NotChecked,
                    detail: String::new(),
                })
                .collect(),
        }
    }

    /// Sets one check's outcome.
    pub(crate) fn set(&mut self, id: CheckId, verdict: Verdict, detail: impl Into<String>) {
        if let Some(check) = self.checks.iter_mut().find(|c| c.id == id) {
            check.verdict = verdict;
            check.detail = detail.into();
        }
    }

    /// Marks every check still unset as not checked, for `why`.
    pub(crate) fn skip_rest(&mut self, why: &str) {
        for check in &mut self.checks {
            if check.verdict == Verdict::NotChecked && check.detail.is_empty() {
                check.detail = why.to_owned();
            }
        }
    }

    /// The check `id`.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The verdict of `id` (not checked when absent).
    pub fn verdict(&self, id: CheckId) -> Verdict {
        self.check(id).map_or(Verdict::NotChecked, |c| c.verdict)
    }

    /// True when any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.verdict == Verdict::Fail)
    }
}

/// The token with its signature changed (its first byte flipped): same header and claims, so a
/// server that lets it in does not check signatures. An input that is not a JWS comes back with
/// a signature appended that cannot verify.
pub(crate) fn with_wrong_signature(token: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let signature = match parts.len() {
        3 => b64.decode(&parts[2]).unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut signature = if signature.is_empty() {
        vec![0u8; 32]
    } else {
        signature
    };
    signature[0] ^= 0x55;
    match parts.len() {
        3 => parts[2] = b64.encode(&signature),
        _ => parts = vec![token.to_owned(), b64.encode(&signature)],
    }
    parts.join(".")
}

/// The audiences a JWT's `aud` names (a string or a list), or None when the token is not a JWT
/// Keyhole can read.
pub(crate) fn audiences(token: &str) -> Option<Vec<String>> {
    let claims = crate::tokens::verify::peek_claims(token)?;
    Some(match claims.get("aud") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    })
}

/// A JWT's `exp`, when it has one.
pub(crate) fn expiry(token: &str) -> Option<i64> {
    crate::tokens::verify::peek_claims(token)?
        .get("exp")
        .and_then(Value::as_i64)
}

/// True when `audiences` names `resource` (a trailing slash aside: RFC 8707 identifiers are
/// compared as the server publishes them, and `/` is how URLs print).
pub(crate) fn names(audiences: &[String], resource: &str) -> bool {
    let bare = |s: &str| s.trim_end_matches('/').to_owned();
    audiences.iter().any(|a| bare(a) == bare(resource))
}

/// What a `403`'s challenge asks for: `Some(scope)` for `insufficient_scope` (RFC 6750 §3.1; the
/// scope it names, possibly empty), None for any other refusal.
pub(crate) fn insufficient_scope(challenge: Option<&str>) -> Option<String> {
    let challenge = challenge?;
    let error = crate::signin::resource::bearer_param(challenge, "error")?;
    (error == "insufficient_scope")
        .then(|| crate::signin::resource::bearer_param(challenge, "scope").unwrap_or_default())
}

/// True for a `Bearer` challenge (RFC 6750 §3), whatever its parameters.
pub(crate) fn is_bearer_challenge(challenge: Option<&str>) -> bool {
    challenge.is_some_and(|c| {
        c.trim_start()
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{}",
            b64.encode(br#"{"alg":"RS256"}"#),
            b64.encode(claims.to_string()),
            b64.encode([1u8, 2, 3, 4])
        )
    }

    #[test]
    fn a_wrong_signature_keeps_header_and_claims_and_changes_only_the_signature() {
        let token = jwt(&serde_json::json!({"aud": "x"}));
        let forged = with_wrong_signature(&token);
        let (a, b): (Vec<&str>, Vec<&str>) =
            (token.split('.').collect(), forged.split('.').collect());
        assert_eq!(a[..2], b[..2]);
        assert_ne!(a[2], b[2]);
        assert_eq!(audiences(&forged), Some(vec!["x".to_owned()]));
        // Not a JWS: still something that cannot verify, never the token itself.
        assert_ne!(with_wrong_signature("opaque"), "opaque");
        assert!(with_wrong_signature("opaque").starts_with("opaque."));
    }

    #[test]
    fn audiences_read_a_string_or_a_list_and_compare_without_the_trailing_slash() {
        let one = audiences(&jwt(&serde_json::json!({"aud": "http://h/mcp/"}))).unwrap();
        assert!(names(&one, "http://h/mcp"));
        let many = audiences(&jwt(&serde_json::json!({"aud": ["a", "http://h/mcp"]}))).unwrap();
        assert!(names(&many, "http://h/mcp/"));
        assert!(!names(&many, "http://h/other"));
        assert_eq!(audiences(&jwt(&serde_json::json!({}))), Some(vec![]));
        assert_eq!(audiences("not-a-jwt"), None);
        assert_eq!(expiry(&jwt(&serde_json::json!({"exp": 17}))), Some(17));
    }

    #[test]
    fn insufficient_scope_is_read_from_the_bearer_challenge_only() {
        assert_eq!(
            insufficient_scope(Some(
                r#"Bearer error="insufficient_scope", scope="mcp:admin files:read""#
            )),
            Some("mcp:admin files:read".to_owned())
        );
        assert_eq!(
            insufficient_scope(Some(r#"Bearer error="invalid_token""#)),
            None
        );
        assert_eq!(insufficient_scope(None), None);
        assert!(is_bearer_challenge(Some("bearer realm=\"x\"")));
        assert!(!is_bearer_challenge(Some("Basic realm=\"x\"")));
        assert!(!is_bearer_challenge(None));
    }

    #[test]
    fn a_new_report_lists_every_check_unrun_and_fails_only_on_a_fail() {
        let mut report = McpReport::new("http://h/mcp");
        assert_eq!(report.checks.len(), CheckId::ALL.len());
        assert!(!report.failed());
        report.set(CheckId::PkceS256, Verdict::Pass, "S256 listed");
        report.skip_rest("the sign-in failed");
        assert_eq!(report.verdict(CheckId::PkceS256), Verdict::Pass);
        let audience = report.check(CheckId::TokenAudience).unwrap();
        assert_eq!(audience.verdict, Verdict::NotChecked);
        assert_eq!(audience.detail, "the sign-in failed");
        report.set(CheckId::ExpiredRefused, Verdict::Fail, "let in");
        assert!(report.failed());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["checks"][0]["id"], "missing_token_refused");
        assert_eq!(json["checks"][11]["verdict"], "fail");
    }
}
