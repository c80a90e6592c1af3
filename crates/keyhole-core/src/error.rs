//! The engine's one error type.

use std::time::Duration;

/// Every way the engine can fail. Variants are named after the failure, not the library that saw it.
/// Messages never contain a token, code or verifier. A variant that wraps a cause keeps it as its
/// `source` and its message never repeats it: [`Error::report`] prints the whole chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is invalid; `field` names it (`instance`, `clientId`, `scopes`, `redirectPort`, `apiUrl`).
    #[error("{message}")]
    InvalidSetting {
        /// The setting at fault, as the UI names it.
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
        /// The file system's or parser's own error, when one saw the problem (the profiles file).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A request to the provider never got an HTTP answer (refused, timeout, DNS, TLS, cut off).
    #[error("could not reach {what} at {url}: {message}")]
    Network {
        /// What was being contacted ("the discovery document", "the token endpoint", …).
        what: &'static str,
        /// The URL that was requested.
        url: String,
        /// The cause in plain words.
        message: String,
        /// The transport's own error.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The protected API never gave an HTTP answer.
    #[error("could not reach the API at {url}: {message}")]
    ApiUnreachable {
        /// The URL that was requested.
        url: String,
        /// The cause in plain words.
        message: String,
        /// The transport's own error, when there was one.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The provider's metadata or keys are unusable.
    #[error("{message}")]
    Discovery {
        /// What is wrong, for people.
        message: String,
        /// The parser's or URL library's own error, when one saw the problem.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The provider answered the authorization request with `error=` (RFC 6749 §4.1.2.1).
    #[error("the provider refused the sign-in: {}", describe_oauth_error(error, description.as_deref()))]
    Provider {
        /// The `error` code, e.g. `access_denied`.
        error: String,
        /// `error_description`, if any.
        description: Option<String>,
    },
    /// The authorization response came from another issuer than the one asked (RFC 9207 mix-up).
    #[error(
        "the sign-in response names issuer {got:?} but Keyhole asked {expected:?}; it was refused"
    )]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// What the `iss` parameter said (empty when it was required but missing).
        got: String,
    },
    /// No callback arrived in time.
    #[error("the sign-in timed out after {} without an answer from the browser", human_duration(*.0))]
    Timeout(Duration),
    /// The caller cancelled the sign-in.
    #[error("the sign-in was cancelled")]
    Cancelled,
    /// The caller cancelled an API call.
    #[error("the call was cancelled")]
    CallCancelled,
    /// The API did not answer within the call's timeout.
    #[error("the API at {url} did not answer within {seconds} s, the request's timeout; try again, or allow it more time (the Timeout field in the window, --max-time in the CLI)")]
    ApiTimeout {
        /// The URL that was requested.
        url: String,
        /// The timeout, in seconds.
        seconds: u64,
    },
    /// The loopback listener could not be set up.
    #[error("could not listen for the sign-in redirect on 127.0.0.1:{port}: {message}")]
    Loopback {
        /// The port asked for (0 = any).
        port: u16,
        /// The cause.
        message: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The token endpoint refused a grant (RFC 6749 §5.2), e.g. `invalid_grant`.
    #[error("the token endpoint refused the request: {}", describe_oauth_error(error, description.as_deref()))]
    TokenRefused {
        /// The `error` code.
        error: String,
        /// `error_description`, if any.
        description: Option<String>,
    },
    /// The token endpoint answered something that is not a token response (a redirect, an HTTP
    /// error without an RFC 6749 error body); what it was, in plain words.
    #[error("the token endpoint's answer could not be read: {0}")]
    TokenResponse(String),
    /// A token failed verification.
    #[error("token verification failed: {message}")]
    Verification {
        /// What failed, for people.
        message: String,
        /// The JWT library's own error, when it saw the problem.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The OS keychain could not be used.
    #[error("{message}")]
    Keychain {
        /// What failed, in plain words.
        message: String,
        /// The keychain library's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The keychain entry holds something that is not a session Keyhole can use. It is left
    /// alone (and replaced at the next sign-in); nothing from it is sent anywhere.
    #[error("the saved session could not be read ({reason}); sign in again to replace it")]
    StoredSession {
        /// What is wrong with it, in plain words.
        reason: String,
        /// Where its JSON failed to parse, when it did (redacted: never the entry's text).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The cross-process session lock could not be used.
    #[error("{message}")]
    Lock {
        /// What failed, in plain words.
        message: String,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another Keyhole process held the session lock for too long.
    #[error(
        "another Keyhole window or terminal is busy renewing this session; try again in a moment"
    )]
    Busy,
    /// The provider ended the session (e.g. the refresh token was revoked or expired).
    #[error("your session ended: {0}. Sign in again.")]
    SessionEnded(String),
    /// No client ID was given and Keyhole has registered none with the instance, so there can be
    /// no session to use or end.
    #[error("Not signed in to {issuer}: no client ID was given and Keyhole has not registered with it (sign in first).")]
    NotRegistered {
        /// The instance's issuer.
        issuer: String,
    },
    /// `open_browser_again` with no sign-in waiting for the browser.
    #[error("no sign-in is waiting for the browser")]
    NoSignIn,
    /// The browser could not be opened.
    #[error("{0}")]
    Browser(String),
    /// The front end's settings store could not be written.
    #[error("could not save the settings")]
    SettingsStore(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The answer viewer's JSONPath filter could not run: a bad expression, or a body that is
    /// not JSON. One plain sentence.
    #[error("{0}")]
    BadFilter(String),
    /// Save body could not write the file (a folder that does not exist, a disk full). One
    /// plain sentence.
    #[error("{0}")]
    SaveBody(String),
    /// The viewer asked for an answer no longer kept (a newer one replaced it, its tab closed).
    #[error("That answer is no longer kept (a newer one replaced it): send the request again.")]
    AnswerGone,
    /// An operation needs a session and there is none.
    #[error("not signed in")]
    NotSignedIn,
    /// Clerk's Frontend or Backend API refused a request. The message is one plain sentence that
    /// names the fix when Keyhole knows it.
    #[error("{message}")]
    Clerk {
        /// "Frontend API" or "Backend API".
        api: &'static str,
        /// The HTTP status.
        status: u16,
        /// Clerk's error code (e.g. `native_api_disabled`), empty when it gave none.
        code: String,
        /// What happened and what to do.
        message: String,
    },
    /// Something that crossed the boundary broke a rule of the standards, so Keyhole refused it;
    /// `rule` says which (see SECURITY.md). The message is one plain sentence.
    #[error("{message}")]
    Refused {
        /// The rule that was broken.
        rule: Rule,
        /// What happened and what to do.
        message: String,
        /// Where the answer failed to parse, when it did (redacted: never the answer's text,
        /// which may hold a token).
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The provider refused to start a device sign-in (RFC 8628 §3.2), e.g. `invalid_client`.
    #[error("the provider refused to start a sign-in with a code: {}", describe_oauth_error(error, description.as_deref()))]
    DeviceAuthorizationRefused {
        /// The `error` code.
        error: String,
        /// `error_description`, if any.
        description: Option<String>,
    },
    /// The user declined a device sign-in on the other device (RFC 8628 `access_denied`).
    #[error("The sign-in was declined on the device where the code was entered, so nothing was stored; start again if that was a mistake.")]
    DeviceDenied,
    /// The device code expired before the user finished (RFC 8628 `expired_token`).
    #[error("The sign-in code expired before the sign-in was finished, so nothing was stored; start again to get a new code.")]
    DeviceCodeExpired,
    /// The provider refused to register Keyhole as a client (RFC 7591 §3.2.2).
    #[error("the provider refused to register Keyhole as a client: {}", describe_oauth_error(error, description.as_deref()))]
    RegistrationRefused {
        /// The `error` code, e.g. `invalid_redirect_uri`.
        error: String,
        /// `error_description`, if any.
        description: Option<String>,
    },
    /// An MCP server could not be used: its answer is not MCP, breaks the protocol, is too large
    /// or too slow, is a JSON-RPC error, or asks for a sign-in; `fault` says which. The message is
    /// one plain sentence; whatever the server wrote in it is shown as text.
    #[error("{message}")]
    Mcp {
        /// What went wrong, by kind.
        fault: crate::mcp::McpFault,
        /// What happened and what to do.
        message: String,
        /// The JSON-RPC error code, for [`McpFault::RpcError`](crate::mcp::McpFault::RpcError).
        code: Option<i64>,
        /// The `WWW-Authenticate` challenge of a 401 or 403, for the sign-in that follows.
        challenge: Option<String>,
    },
    /// The revocation endpoint (RFC 7009) refused a token or answered something unreadable.
    #[error("the revocation endpoint refused the request: {}", describe_revocation(*status, error.as_deref(), description.as_deref()))]
    RevocationRefused {
        /// The HTTP status.
        status: u16,
        /// The RFC 6749 §5.2 `error` code, when the body had one (e.g. `unsupported_token_type`).
        error: Option<String>,
        /// `error_description`, if any.
        description: Option<String>,
    },
}

/// The rules of the standards Keyhole enforces on what the provider, the browser and the network
/// send it. Each has a stable name ([`Rule::as_str`]) and is listed in SECURITY.md with its test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// A back-channel endpoint (token, JWKS, revocation, userinfo) is on another origin than the
    /// issuer (RFC 8414 §2, RFC 9700 §4.4: the code and verifier must not go elsewhere).
    EndpointOrigin,
    /// The metadata does not list PKCE `S256` in `code_challenge_methods_supported` (RFC 8414 §2).
    PkceUnsupported,
    /// `token_type` is not `Bearer` (RFC 6749 §5.1, §7.1; RFC 6750).
    TokenType,
    /// The token response is malformed: an empty or ill-formed token, a `null` member, a wrong
    /// JSON type (RFC 6749 §5.1, Appendix A; RFC 6750 §2.1).
    TokenResponse,
    /// A refresh granted more scope than the session had (RFC 6749 §6).
    ScopeWidened,
    /// An `openid` request was answered without an ID token (OIDC Core §3.1.3.3).
    IdTokenMissing,
    /// A token of another kind was offered as the access token, or the other way round
    /// (RFC 8725 §3.11, RFC 9068 §2.1 and §4).
    TokenConfusion,
    /// The ID token names audiences the client does not trust (OIDC Core §3.1.3.7 step 3).
    Audience,
    /// The ID token was issued too long ago (OIDC Core §3.1.3.7 step 10).
    Stale,
    /// A response or token is larger than Keyhole reads.
    TooLarge,
    /// The key that would verify the token is not for verifying (RFC 7517 §4.2, §4.3).
    KeyUse,
    /// The token is signed with an algorithm the provider did not announce (OIDC Discovery §3,
    /// OIDC Core §3.1.3.7 step 7).
    SigningAlgorithm,
    /// The ID token's `at_hash` does not match the access token (OIDC Core §3.1.3.8, §3.2.2.9).
    AtHash,
    /// A loopback callback arrived with a `Host` other than the redirect URI's (RFC 8252 §8.3).
    LoopbackHost,
    /// The bearer token would cross the network in cleartext (RFC 6750 §5.3).
    Cleartext,
    /// The device authorization answer is malformed: no device or user code, a verification URI
    /// that is not https, an absurd lifetime (RFC 8628 §3.2).
    DeviceResponse,
    /// The registration answer has no `client_id`, or makes Keyhole a confidential client
    /// (RFC 7591 §3.2.1).
    RegistrationResponse,
    /// Protected-resource metadata names another resource than the one it was fetched for
    /// (RFC 9728 §3.3).
    ResourceMismatch,
    /// Protected-resource metadata names an authorization server weaker than the API: plain http
    /// for an https API (RFC 9728 §7.1, RFC 8414 §2), or one that is not a URL.
    AuthorizationServer,
}

impl Rule {
    /// A short, stable name, e.g. `endpoint_origin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::EndpointOrigin => "endpoint_origin",
            Rule::PkceUnsupported => "pkce_unsupported",
            Rule::TokenType => "token_type",
            Rule::TokenResponse => "token_response",
            Rule::ScopeWidened => "scope_widened",
            Rule::IdTokenMissing => "id_token_missing",
            Rule::TokenConfusion => "token_confusion",
            Rule::Audience => "audience",
            Rule::Stale => "stale",
            Rule::TooLarge => "too_large",
            Rule::KeyUse => "key_use",
            Rule::SigningAlgorithm => "signing_algorithm",
            Rule::AtHash => "at_hash",
            Rule::LoopbackHost => "loopback_host",
            Rule::Cleartext => "cleartext",
            Rule::DeviceResponse => "device_response",
            Rule::RegistrationResponse => "registration_response",
            Rule::ResourceMismatch => "resource_mismatch",
            Rule::AuthorizationServer => "authorization_server",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A short, stable name for the kind of failure, for UIs and exit codes to branch on.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidSetting { .. } => "invalid_setting",
            Error::Network { .. } => "network",
            Error::ApiUnreachable { .. } => "api_unreachable",
            Error::Discovery { .. } => "discovery",
            Error::Provider { .. } => "provider",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::Timeout(_) => "timeout",
            Error::Cancelled | Error::CallCancelled => "cancelled",
            Error::ApiTimeout { .. } => "api_timeout",
            Error::Loopback { .. } => "loopback",
            Error::TokenRefused { .. } => "token_refused",
            Error::TokenResponse(_) => "token_response",
            Error::Verification { .. } => "verification",
            Error::Keychain { .. } => "keychain",
            Error::StoredSession { .. } => "stored_session",
            Error::Lock { .. } => "lock",
            Error::Busy => "busy",
            Error::SessionEnded(_) => "session_ended",
            Error::NotSignedIn => "not_signed_in",
            Error::BadFilter(_) => "bad_filter",
            Error::SaveBody(_) => "save_body",
            Error::AnswerGone => "answer_gone",
            Error::Clerk { .. } => "clerk",
            Error::NotRegistered { .. } => "not_registered",
            Error::NoSignIn => "no_sign_in",
            Error::Browser(_) => "browser",
            Error::SettingsStore(_) => "store",
            Error::Refused { .. } => "refused",
            Error::RevocationRefused { .. } => "revocation_refused",
            Error::DeviceAuthorizationRefused { .. } => "device_authorization_refused",
            Error::DeviceDenied => "denied",
            Error::DeviceCodeExpired => "expired",
            Error::RegistrationRefused { .. } => "registration_refused",
            Error::Mcp { .. } => "mcp",
        }
    }

    /// True when the provider no longer knows the client (`invalid_client`): a registered client
    /// was deleted, or the client ID is wrong.
    pub fn is_invalid_client(&self) -> bool {
        match self {
            Error::TokenRefused { error, .. }
            | Error::DeviceAuthorizationRefused { error, .. }
            | Error::Provider { error, .. } => error == "invalid_client",
            _ => false,
        }
    }

    /// The rule that was broken, for [`Error::Refused`].
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Error::Refused { rule, .. } => Some(*rule),
            _ => None,
        }
    }

    /// What went wrong with an MCP server, for [`Error::Mcp`].
    pub fn mcp_fault(&self) -> Option<crate::mcp::McpFault> {
        match self {
            Error::Mcp { fault, .. } => Some(*fault),
            _ => None,
        }
    }

    /// The scopes an MCP server's `403 insufficient_scope` names (RFC 6750 §3.1), for a step-up
    /// sign-in ([`crate::Service::mcp_step_up`]) once the user agrees.
    pub fn mcp_needed_scopes(&self) -> Option<String> {
        match self {
            Error::Mcp {
                fault: crate::mcp::McpFault::Forbidden,
                challenge,
                ..
            } => crate::mcp::report::insufficient_scope(challenge.as_deref())
                .filter(|s| !s.trim().is_empty()),
            _ => None,
        }
    }

    pub(crate) fn clerk(
        api: &'static str,
        status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Clerk {
            api,
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub(crate) fn refused(rule: Rule, message: impl Into<String>) -> Self {
        Error::Refused {
            rule,
            message: message.into(),
            source: None,
        }
    }

    /// This refusal (or unreadable entry), with where `error` broke its JSON as the source:
    /// redacted, since the text may hold a token.
    pub(crate) fn unparsed(mut self, error: &serde_json::Error) -> Self {
        if let Error::Refused { source, .. } | Error::StoredSession { source, .. } = &mut self {
            *source = Some(Box::new(Unparsed::of(error)));
        }
        self
    }

    /// The setting at fault, for [`Error::InvalidSetting`].
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::InvalidSetting { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn setting(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidSetting {
            field,
            message: message.into(),
            source: None,
        }
    }

    /// A setting that `source` (the file system, a parser) found at fault.
    pub(crate) fn setting_from(
        field: &'static str,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::InvalidSetting {
            field,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A keychain entry that is not a usable session, for `reason`.
    pub(crate) fn stored_session(reason: impl Into<String>) -> Self {
        Error::StoredSession {
            reason: reason.into(),
            source: None,
        }
    }

    pub(crate) fn verification(message: impl Into<String>) -> Self {
        Error::Verification {
            message: message.into(),
            source: None,
        }
    }

    /// A verification failure that `source` (the JWT library) reported.
    pub(crate) fn verification_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Verification {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn discovery(message: impl Into<String>) -> Self {
        Error::Discovery {
            message: message.into(),
            source: None,
        }
    }

    /// A discovery failure that `source` (a parser) reported.
    pub(crate) fn discovery_from(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Discovery {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub(crate) fn keychain(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Keychain {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn lock(message: &str, source: std::io::Error) -> Self {
        Error::Lock {
            message: message.to_owned(),
            source,
        }
    }

    /// This error and every cause under it, on one line: `top: cause: cause`. What front ends
    /// print, since each message leaves its cause to its source.
    pub fn report(&self) -> String {
        chain(self)
    }
}

/// `error` and every cause under it, on one line (`top: cause: cause`). A cause whose text is
/// already there (some libraries repeat their source) is left out.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !part.is_empty() && !text.contains(&part) {
            // A sentence's full stop goes before its cause, not after.
            if text.ends_with('.') {
                text.pop();
            }
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Where a JSON document that may hold secrets (a token response, a keychain entry) failed to
/// parse: the kind of failure and its line and column, never the text around it (serde's own
/// message can quote the value, which may be a token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unparsed {
    category: serde_json::error::Category,
    line: usize,
    column: usize,
}

impl Unparsed {
    pub(crate) fn of(error: &serde_json::Error) -> Unparsed {
        Unparsed {
            category: error.classify(),
            line: error.line(),
            column: error.column(),
        }
    }
}

impl std::fmt::Display for Unparsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.category {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "cut off",
        })?;
        // Line 0 means serde did not read text (a value already parsed): no place to name.
        if self.line > 0 {
            write!(f, " at line {}, column {}", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Unparsed {}

/// The sentence with its first letter in upper case, for messages built from lower-case parts.
pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn describe_oauth_error(error: &str, description: Option<&str>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!("{error} ({d})"),
        _ => error.to_owned(),
    }
}

fn describe_revocation(status: u16, error: Option<&str>, description: Option<&str>) -> String {
    match error {
        Some(error) => describe_oauth_error(error, description),
        None => format!("it answered HTTP {status}"),
    }
}

fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else if secs >= 1 {
        format!("{secs} s")
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// Each level of `error`'s chain, top first, checking on the way that none repeats the text
    /// of its source (a reporter walking the chain would print it twice).
    fn levels(error: &Error) -> Vec<String> {
        let mut levels = vec![error.to_string()];
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            let above = levels.last().map(String::as_str).unwrap_or_default();
            assert!(
                !above.contains(&text),
                "{above:?} repeats its source {text:?}"
            );
            levels.push(text);
            source = cause.source();
        }
        levels
    }

    #[test]
    fn a_keychain_entry_that_is_not_json_chains_to_where_it_broke_without_quoting_it() {
        let entry = r#"{"v":2,"access_token":"oat_s3cret"#;
        let error = crate::session::record::Stored::parse(entry).expect_err("cut off");
        assert_eq!(
            levels(&error),
            [
                "the saved session could not be read (it is not valid JSON); sign in again to replace it",
                "cut off at line 1, column 33",
            ]
        );
        assert_eq!(
            error.report(),
            "the saved session could not be read (it is not valid JSON); sign in again to replace it: cut off at line 1, column 33"
        );
        assert!(!format!("{error:?}").contains("oat_s3cret"), "{error:?}");
    }

    #[test]
    fn a_token_response_that_is_not_json_keeps_where_it_broke_but_never_the_body() {
        let body = br#"{"access_token":"oat_s3cret","token_type":"Bearer",}"#;
        let error = crate::tokens::grant::parse_token_response(body).expect_err("not JSON");
        assert_eq!(error.rule(), Some(Rule::TokenResponse));
        let levels = levels(&error);
        assert_eq!(levels.len(), 2, "{levels:?}");
        assert!(
            levels[0].contains("not a valid token response"),
            "{levels:?}"
        );
        assert_eq!(levels[1], "syntax error at line 1, column 52");
        assert!(!error.report().contains("oat_s3cret"), "{}", error.report());
        assert!(!format!("{error:?}").contains("oat_s3cret"), "{error:?}");
    }

    #[test]
    fn an_unreadable_profiles_file_chains_to_the_file_system_error() {
        // A directory where the file should be: a real I/O failure.
        let error = crate::settings::profiles::Profiles::at(std::env::temp_dir())
            .list()
            .expect_err("a directory is no profiles file");
        let levels = levels(&error);
        let io = error
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the I/O error is the source");
        assert_eq!(levels.len(), 2, "{levels:?}");
        assert!(
            levels[0].ends_with("could not be read; fix or remove it."),
            "{levels:?}"
        );
        assert_eq!(levels[1], io.to_string());
        // The full stop moves behind the cause.
        assert_eq!(
            error.report(),
            format!("{}: {io}", levels[0].trim_end_matches('.'))
        );
    }

    #[tokio::test]
    async fn a_refused_connection_chains_to_the_transport_error_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
        let http = crate::http::client(std::time::Duration::from_secs(5));
        let error =
            crate::http::get_json::<serde_json::Value>(&http, &url, "the discovery document")
                .await
                .expect_err("nothing listens there");
        let levels = levels(&error);
        assert_eq!(
            levels[0],
            format!("could not reach the discovery document at {url}: the connection was refused — is the server running on that port?")
        );
        assert!(
            levels.len() > 2,
            "the transport's own chain follows: {levels:?}"
        );
        let report = error.report();
        assert!(report.starts_with(&levels[0]), "{report}");
        assert!(
            report.to_lowercase().contains("connection refused"),
            "{report}"
        );
    }

    #[test]
    fn a_lock_error_says_its_cause_once() {
        let error = Error::lock(
            "could not lock /run/user/1/keyhole/x.lock",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert_eq!(
            levels(&error),
            [
                "could not lock /run/user/1/keyhole/x.lock",
                "permission denied"
            ]
        );
        assert_eq!(
            error.report(),
            "could not lock /run/user/1/keyhole/x.lock: permission denied"
        );
    }
}
