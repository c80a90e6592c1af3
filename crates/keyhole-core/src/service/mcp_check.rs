//! The authorization report of an MCP server ([`Service::mcp_check`]): the server and its
//! provider graded rule by rule, from the server's URL alone. It asks without a token, reads the
//! server's RFC 9728 metadata and its authorization server's metadata, signs in for the server
//! (the engine's own rules still apply: a sign-in they refuse is reported, never worked around),
//! then sends the server the token it asked for, one for another resource, a wrongly signed one
//! and an expired one, each to a new connection, and grades each answer.
//!
//! Nothing the check sends calls a tool: it lists tools only, so running it has no effect on the
//! server beyond its logs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use url::Url;

use super::Service;
use crate::error::{Error, Result};
use crate::mcp::report::{self, CheckId, McpReport, Verdict};
use crate::mcp::{McpClient, McpFault, McpTools};
use crate::signin::registration::Registration;
use crate::signin::resource;
use crate::signin::SignInMethod;

/// How far past its `exp` an expired token is sent: servers allow some clock skew (Clerk's SDKs
/// 5 s), and a token inside it is not yet expired to them.
const EXPIRY_LEEWAY: Duration = Duration::from_secs(10);

/// What a check may do beyond its requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct McpCheckOptions {
    /// How long the check may wait for the access token to expire, to send it expired (zero:
    /// never; the check is then "not checked" unless the token is already that old).
    pub expiry_wait: Duration,
}

impl Service {
    /// The authorization report of the MCP server at `url` (see the module). Err only for a URL
    /// that is not one; every failure of the server or its provider is a check's verdict.
    /// Signs in with `method` when no kept session lets Keyhole in. The request in flight:
    /// [`Service::cancel_request`] cancels it ([`Error::CallCancelled`]), its sign-in included.
    pub async fn mcp_check(
        &self,
        url: &str,
        method: SignInMethod,
        options: McpCheckOptions,
    ) -> Result<McpReport> {
        self.mcp_in_flight(self.mcp_check_uncancelled(url, method, options))
            .await
    }

    async fn mcp_check_uncancelled(
        &self,
        url: &str,
        method: SignInMethod,
        options: McpCheckOptions,
    ) -> Result<McpReport> {
        let url = crate::settings::config::parse_api_url(url)?;
        let mut report = McpReport::new(url.as_str());
        // A token of the settings in force, if they are for another resource of the same
        // provider: read before the set-up for this server replaces them for the run.
        let other = self.fresh_session().await.ok().map(|s| {
            (
                s.tokens.access_token.secret().to_owned(),
                self.settings().instance.trim_end_matches('/').to_owned(),
            )
        });

        let challenge = self.check_missing_token(&url, &mut report).await;
        // Sent now, while it is fresh; graded once the server's provider is known.
        let other = match other {
            Some((token, from)) => Some((from, self.other_audience(&url, &token).await)),
            None => None,
        };
        let Some(issuer) = self
            .check_metadata(&url, challenge.as_deref(), &mut report)
            .await
        else {
            report.skip_rest("Not checked: the protected-resource metadata did not lead to an authorization server.");
            return Ok(report);
        };
        report.issuer = Some(issuer.clone());
        let Some(provider) = self.check_provider(&issuer, &mut report).await else {
            report.skip_rest("Not checked: Keyhole does not sign in to an authorization server whose metadata fails the checks above.");
            return Ok(report);
        };

        let token = match self
            .check_sign_in(&url, challenge.as_deref(), method, &provider, &mut report)
            .await
        {
            Ok(token) => token,
            Err(error) => {
                let why = format!("Not checked: the sign-in for this server failed: {error}");
                report.skip_rest(&why);
                return Ok(report);
            }
        };

        self.check_token(&url, &token, &mut report).await;
        grade_other_audience(other, &issuer, &mut report);
        let forged = report::with_wrong_signature(&token);
        let (verdict, detail) = self.refusal(&url, &forged, "a wrongly signed token").await;
        report.set(CheckId::BadSignatureRefused, verdict, detail);
        self.check_expired(&url, &token, options, &mut report).await;
        Ok(report)
    }

    /// Without a token: the challenge, when the server answered `401` (kept for the set-up).
    async fn check_missing_token(&self, url: &Url, report: &mut McpReport) -> Option<String> {
        let client = McpClient::new(url.clone(), self.mcp_limits());
        let (verdict, detail, challenge) = match client.tools(None).await {
            Err(Error::Mcp {
                fault: McpFault::Unauthorized,
                challenge,
                ..
            }) => {
                if report::is_bearer_challenge(challenge.as_deref()) {
                    let with = if challenge
                        .as_deref()
                        .and_then(|c| resource::bearer_param(c, "resource_metadata"))
                        .is_some()
                    {
                        " naming its resource metadata"
                    } else {
                        " (without resource_metadata: clients must guess the metadata's place)"
                    };
                    (
                        Verdict::Pass,
                        format!("Answered 401 with a Bearer challenge{with}."),
                        challenge,
                    )
                } else {
                    (
                        Verdict::Fail,
                        "Answered 401 without a WWW-Authenticate Bearer challenge, so a client cannot tell how to sign in.".to_owned(),
                        None,
                    )
                }
            }
            Ok(tools) => (
                Verdict::NotOffered,
                format!(
                    "Lists its {} tools without a token (a public listing): nothing to refuse here.",
                    tools.tools.len()
                ),
                None,
            ),
            Err(error) => (
                Verdict::Fail,
                format!("Without a token it answered otherwise than 401: {error}"),
                None,
            ),
        };
        report.set(CheckId::MissingTokenRefused, verdict, detail);
        challenge
    }

    /// The server's metadata: served, and for this server. The issuer it names, when usable.
    async fn check_metadata(
        &self,
        url: &Url,
        challenge: Option<&str>,
        report: &mut McpReport,
    ) -> Option<String> {
        let found = match resource::metadata_for(self.http(), url, challenge).await {
            Ok(found) => found,
            Err(Error::Refused {
                rule: crate::Rule::ResourceMismatch,
                message,
                ..
            }) => {
                report.set(CheckId::MetadataServed, Verdict::Pass, "Served (RFC 9728).");
                report.set(CheckId::MetadataResource, Verdict::Fail, message);
                return None;
            }
            Err(error) => {
                report.set(CheckId::MetadataServed, Verdict::Fail, error.to_string());
                return None;
            }
        };
        report.set(
            CheckId::MetadataServed,
            Verdict::Pass,
            format!("Served at {}.", found.metadata_url),
        );
        report.set(
            CheckId::MetadataResource,
            Verdict::Pass,
            format!("Names {} as its resource.", found.resource),
        );
        match resource::pick_authorization_server(&found, url) {
            Ok(issuer) => Some(issuer),
            Err(error) => {
                report.set(CheckId::IssuerMatches, Verdict::Fail, error.to_string());
                None
            }
        }
    }

    /// The authorization server's own metadata, as served (the raw document, so each rule gets
    /// its own verdict). The document, when Keyhole may sign in there.
    async fn check_provider(&self, issuer: &str, report: &mut McpReport) -> Option<Value> {
        let at = crate::signin::discovery::discovery_url(issuer);
        let document: Value =
            match crate::http::get_json(self.http(), &at, "the authorization server's metadata")
                .await
            {
                Ok(document) => document,
                Err(error) => {
                    report.set(CheckId::IssuerMatches, Verdict::Fail, error.to_string());
                    return None;
                }
            };
        let named = document.get("issuer").and_then(Value::as_str);
        let issuer_ok = named.is_some_and(|n| n.trim_end_matches('/') == issuer);
        report.set(
            CheckId::IssuerMatches,
            if issuer_ok { Verdict::Pass } else { Verdict::Fail },
            match named {
                Some(n) if issuer_ok => format!("{at} names {n}."),
                Some(n) => format!("{at} names the issuer {n}, not {issuer}: tokens from it could be another server's (mix-up)."),
                None => format!("{at} names no issuer."),
            },
        );
        let methods: Vec<&str> = document
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array)
            .map(|m| m.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let s256 = methods.contains(&"S256");
        report.set(
            CheckId::PkceS256,
            if s256 { Verdict::Pass } else { Verdict::Fail },
            if s256 {
                "code_challenge_methods_supported lists S256.".to_owned()
            } else if methods.is_empty() {
                "The metadata lists no code_challenge_methods_supported, so PKCE is not offered and an MCP client must not sign in.".to_owned()
            } else {
                format!("code_challenge_methods_supported lists {methods:?} but not S256, so an MCP client must not sign in.")
            },
        );
        let iss = document
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            == Some(true);
        report.set(
            CheckId::IssReturned,
            if iss { Verdict::Pass } else { Verdict::Fail },
            if iss {
                "Advertised (authorization_response_iss_parameter_supported), and Keyhole refuses a response without it."
            } else {
                "Not advertised (authorization_response_iss_parameter_supported), so a client cannot tell this provider's answer from another's (mix-up, RFC 9207 §2.4)."
            },
        );
        (issuer_ok && s256).then_some(document)
    }

    /// The set-up and sign-in for the server; the access token it got.
    async fn check_sign_in(
        &self,
        url: &Url,
        challenge: Option<&str>,
        method: SignInMethod,
        provider: &Value,
        report: &mut McpReport,
    ) -> Result<String> {
        let cimd = provider
            .get("client_id_metadata_document_supported")
            .and_then(Value::as_bool)
            == Some(true);
        let setup = match self.mcp_adopt(url, challenge).await {
            Ok(setup) => setup,
            Err(error) => {
                report.set(CheckId::Registration, Verdict::Fail, error.to_string());
                return Err(error);
            }
        };
        let issuer = &setup.settings.instance;
        let how = match setup.registration {
            Registration::Given => {
                "The client ID given in the settings (pre-registered).".to_owned()
            }
            Registration::Registered => {
                format!("Registered just now with {issuer} (RFC 7591, application_type native).")
            }
            Registration::Reused => {
                format!("The client Keyhole registered with {issuer} before (RFC 7591).")
            }
            Registration::Replaced => format!(
                "Registered again with {issuer} (RFC 7591): it no longer knew the one before."
            ),
            Registration::MetadataDocument => format!(
                "The Client ID Metadata Document {} is the client ID (no registration).",
                setup.settings.client_id
            ),
        };
        let cimd = if cimd && setup.registration != Registration::MetadataDocument {
            " The provider also accepts Client ID Metadata Documents, which the current revision prefers; none is configured (--client-metadata-url)."
        } else {
            ""
        };
        report.set(CheckId::Registration, Verdict::Pass, format!("{how}{cimd}"));
        if let Err(error) = self.session_or_sign_in(method).await {
            if matches!(error, Error::IssuerMismatch { .. }) {
                report.set(CheckId::IssReturned, Verdict::Fail, error.to_string());
            }
            return Err(error);
        }
        self.mcp_fresh_token(url).await
    }

    /// The token's audience, and whether the server lets it in (and asks for more scope).
    async fn check_token(&self, url: &Url, token: &str, report: &mut McpReport) {
        let resource = self.settings().resource;
        match report::audiences(token) {
            Some(auds) if report::names(&auds, &resource) => report.set(
                CheckId::TokenAudience,
                Verdict::Pass,
                format!("aud names {resource}."),
            ),
            Some(auds) => report.set(
                CheckId::TokenAudience,
                Verdict::Fail,
                format!("aud is {auds:?}, not the resource {resource} Keyhole asked for (RFC 8707): a token for this server would be good at others too."),
            ),
            None => report.set(
                CheckId::TokenAudience,
                Verdict::NotChecked,
                "The access token is not a JWT Keyhole can read (opaque): only the server can tell its audience.",
            ),
        }
        let client = McpClient::new(url.clone(), self.mcp_limits());
        match client.tools(Some(token)).await {
            Ok(tools) => {
                report.revision = Some(tools.server.revision);
                report.set(
                    CheckId::TokenAccepted,
                    Verdict::Pass,
                    format!(
                        "Let in: {} tools listed (MCP {}).",
                        tools.tools.len(),
                        tools.server.revision.as_str()
                    ),
                );
                report.set(
                    CheckId::InsufficientScope,
                    Verdict::NotOffered,
                    "The granted scopes let every request of the check in: no 403 to step up from.",
                );
            }
            Err(Error::Mcp {
                fault: McpFault::Forbidden,
                challenge,
                ..
            }) => {
                report.set(
                    CheckId::TokenAccepted,
                    Verdict::Pass,
                    "Accepted as a valid token, but not enough for the tool list (403).",
                );
                match report::insufficient_scope(challenge.as_deref()) {
                    Some(scope) if !scope.is_empty() => report.set(
                        CheckId::InsufficientScope,
                        Verdict::Pass,
                        format!("Answered 403 insufficient_scope naming the scopes it needs: {scope}."),
                    ),
                    Some(_) => report.set(
                        CheckId::InsufficientScope,
                        Verdict::Fail,
                        "Answered 403 insufficient_scope without a scope parameter, so a client cannot tell which scopes to ask for.",
                    ),
                    None => report.set(
                        CheckId::InsufficientScope,
                        Verdict::Fail,
                        "Answered 403 without error=\"insufficient_scope\" and the scopes it needs, so a client cannot step up.",
                    ),
                }
            }
            Err(error) => {
                let verdict = Verdict::Fail;
                report.set(
                    CheckId::TokenAccepted,
                    verdict,
                    format!("Refused the token its own provider issued for it: {error}"),
                );
                report.set(
                    CheckId::InsufficientScope,
                    Verdict::NotChecked,
                    "Not checked: the server let no token in.",
                );
            }
        }
    }

    /// `token` (of the settings in force) sent to the server, when it is for another resource:
    /// its verdict. None when it is for this server.
    async fn other_audience(&self, url: &Url, token: &str) -> Option<(Verdict, String)> {
        let auds = report::audiences(token)?;
        if report::names(&auds, url.as_str()) {
            return None;
        }
        let what = format!("a token for {}", auds.join(", "));
        Some(self.refusal(url, token, &what).await)
    }

    /// The token again once it expired, when that comes within the wait allowed.
    async fn check_expired(
        &self,
        url: &Url,
        token: &str,
        options: McpCheckOptions,
        report: &mut McpReport,
    ) {
        let Some(exp) = report::expiry(token) else {
            report.set(
                CheckId::ExpiredRefused,
                Verdict::NotChecked,
                "Not checked: the access token has no exp Keyhole can read.",
            );
            return;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let wait = Duration::from_secs(exp.saturating_sub(now).max(0) as u64) + EXPIRY_LEEWAY;
        if wait > options.expiry_wait {
            report.set(
                CheckId::ExpiredRefused,
                Verdict::NotChecked,
                format!(
                    "Not checked: the access token expires in {} s; allow the check to wait that long plus {} s to send it expired (--expiry-wait {}, or the window's wait for the token to expire).",
                    wait.saturating_sub(EXPIRY_LEEWAY).as_secs(),
                    EXPIRY_LEEWAY.as_secs(),
                    wait.as_secs()
                ),
            );
            return;
        }
        self.notice(format!(
            "Waiting {} s for the access token to expire, to check that the server refuses it…",
            wait.as_secs()
        ));
        tokio::time::sleep(wait).await;
        let what = format!("the token {} s after its exp", EXPIRY_LEEWAY.as_secs());
        let (verdict, detail) = self.refusal(url, token, &what).await;
        report.set(CheckId::ExpiredRefused, verdict, detail);
    }

    /// Sends `token` (which must not let anyone in) on a new connection; Pass for a 401 with a
    /// Bearer challenge (RFC 6750 §3.1 `invalid_token`).
    async fn refusal(&self, url: &Url, token: &str, what: &str) -> (Verdict, String) {
        let client = McpClient::new(url.clone(), self.mcp_limits());
        let outcome: Result<McpTools> = client.tools(Some(token)).await;
        match outcome {
            Err(Error::Mcp {
                fault: McpFault::Unauthorized,
                challenge,
                ..
            }) => {
                if report::is_bearer_challenge(challenge.as_deref()) {
                    (
                        Verdict::Pass,
                        format!("Refused {what} with 401 and a Bearer challenge."),
                    )
                } else {
                    (
                        Verdict::Fail,
                        format!(
                            "Refused {what} with 401 but no WWW-Authenticate Bearer challenge."
                        ),
                    )
                }
            }
            Ok(tools) => (
                Verdict::Fail,
                format!(
                    "Let in {what}: {} tools listed. The server does not check what it should.",
                    tools.tools.len()
                ),
            ),
            Err(error) => (
                Verdict::Fail,
                format!("Answered {what} otherwise than 401 with a challenge: {error}"),
            ),
        }
    }
}

/// The other-audience verdict: counted only for a token of the server's own provider.
fn grade_other_audience(
    other: Option<(String, Option<(Verdict, String)>)>,
    issuer: &str,
    report: &mut McpReport,
) {
    match other {
        Some((from, Some((verdict, detail)))) if from == issuer => {
            report.set(CheckId::OtherAudienceRefused, verdict, detail);
        }
        _ => report.set(
            CheckId::OtherAudienceRefused,
            Verdict::NotChecked,
            format!("Not checked: Keyhole holds no token of {issuer} for another resource. Sign in to another API of this provider (keyhole-cli sign-in with its settings), then check again."),
        ),
    }
}
