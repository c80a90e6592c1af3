//! Clerk's own account of why it read a request as signed out: the `x-clerk-auth-status`,
//! `x-clerk-auth-reason` and `x-clerk-auth-message` headers that `@clerk/backend`'s
//! `withDebugHeaders` puts on every signed-out or handshake answer (so `@clerk/express`,
//! `@clerk/clerk-sdk-node` and the other SDKs built on it send them too), in plain words.
//!
//! The reason values are the ones `@clerk/backend` defines — `AuthErrorReason`,
//! `TokenVerificationErrorReason` and `MachineTokenVerificationErrorCode` in 3.25 (and 1.34,
//! which `@clerk/clerk-sdk-node` 5.1.6 bundles: the same values without `token-type-mismatch`) —
//! plus the literal `"No token in header"` it gives a machine-only route called without one.

use crate::api::matrix::accepts_token_value;
use crate::api::request::Credential;

/// The longest part of a header value quoted back (a hostile API may send anything).
const QUOTE_CAP: usize = 240;

/// What Clerk's SDK said about the request, from the answer's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClerkAuth {
    /// `x-clerk-auth-status`: `signed-out` or `handshake` (a signed-in answer carries none).
    pub status: Option<String>,
    /// `x-clerk-auth-reason`, e.g. `token-invalid-signature`.
    pub reason: Option<String>,
    /// `x-clerk-auth-message`: Clerk's own sentence, e.g. "JWT signature is invalid. (reason=…)".
    pub message: Option<String>,
}

impl ClerkAuth {
    /// Clerk's headers among `headers`, or None when the answer carries none of them (not a
    /// Clerk backend, or a signed-in answer).
    pub fn from_headers(headers: &[(String, String)]) -> Option<ClerkAuth> {
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| quoted(v))
                .filter(|v| !v.is_empty())
        };
        let auth = ClerkAuth {
            status: get("x-clerk-auth-status"),
            reason: get("x-clerk-auth-reason"),
            message: get("x-clerk-auth-message"),
        };
        (auth.status.is_some() || auth.reason.is_some()).then_some(auth)
    }

    /// True when Clerk's SDK did not read the request as signed in.
    pub fn signed_out(&self) -> bool {
        self.status.as_deref() != Some("signed-in")
    }

    /// One or two sentences: what Clerk's SDK concluded and why, for a request that carried
    /// `sent` (the kind of token, or [`Credential::None`]).
    pub fn explain(&self, sent: Credential) -> String {
        let verdict = match self.status.as_deref() {
            Some("handshake") => "Clerk's SDK on the API asked for a handshake (a redirect only a browser follows) instead of reading the request",
            _ => "Clerk's SDK on the API read the request as signed out",
        };
        let mut text = match &self.reason {
            Some(reason) => format!(
                "{verdict} (x-clerk-auth-reason: {reason}): {}.",
                reason_in_words(reason, sent)
            ),
            None => format!("{verdict}."),
        };
        if let Some(message) = self.message.as_deref().map(without_reason_suffix) {
            if !message.is_empty() {
                text.push_str(&format!(" Clerk's message: \"{message}\""));
            }
        }
        text
    }

    /// True when the reason is simply that no token came with the request.
    pub fn no_token_reason(&self) -> bool {
        matches!(
            self.reason.as_deref(),
            Some("session-token-and-uat-missing" | "No token in header" | "session-token-missing")
        )
    }
}

/// Clerk's kind name for what was sent (`oauth_token`, …), or "no token".
fn kind_name(sent: Credential) -> &'static str {
    accepts_token_value(sent).unwrap_or("no token")
}

/// Plain words for one of `@clerk/backend`'s reason values; an unknown one is said to be so.
fn reason_in_words(reason: &str, sent: Credential) -> String {
    let machine = matches!(sent, Credential::ApiKey | Credential::M2m);
    let words = match reason {
        // AuthErrorReason
        "session-token-and-uat-missing" => "the request carried no session token at all (no Authorization: Bearer header and no __session cookie)",
        "session-token-missing" => "the session token in the request was empty",
        "client-uat-but-no-session-token" => "the request carried Clerk's __client_uat cookie but no session token",
        "session-token-but-no-client-uat" => "a session token came without the __client_uat cookie a browser sends with it",
        "session-token-expired" => "the session token had expired",
        "session-token-iat-before-client-uat" => "the session token is older than the client's last sign-in change (__client_uat): it was issued before a sign-in or sign-out",
        "session-token-nbf" => "the session token is not valid yet (its nbf is in the future): a clock is off",
        "session-token-iat-in-the-future" => "the session token was issued in the future: the API's clock or Clerk's is off",
        "dev-browser-missing" => "a development instance wanted its dev-browser token, which only a browser that went through Clerk has",
        "dev-browser-sync" => "a development instance is syncing its dev-browser token, a step only a browser takes",
        "primary-responds-to-syncing" | "primary-domain-cross-origin-sync" | "satellite-needs-syncing" => "a multi-domain (satellite) sync step that only a browser takes",
        "active-organization-mismatch" => "the session's active organization is not the one the request's URL asks for (organizationSyncOptions)",
        "token-type-mismatch" => return format!(
            "the backend does not accept this kind of token: its acceptsToken leaves out {}",
            kind_name(sent)
        ),
        "unexpected-error" => "the SDK failed while checking the token (an error on the API's side; its logs say more)",
        // TokenVerificationErrorReason (and MachineTokenVerificationErrorCode)
        "token-expired" => "the token had expired",
        "token-invalid" if machine => "Clerk did not recognise the token: it is revoked, expired, or from another instance",
        "token-invalid" => "the token is not a JWT Clerk's SDK can read",
        "token-invalid-algorithm" => "the token is signed with an algorithm the SDK refuses (it accepts RS256)",
        "token-invalid-authorized-parties" => "the token's azp is not among the backend's authorizedParties",
        "token-invalid-issuer" => "the token's issuer is not the one the backend expects",
        "token-invalid-signature" => "the token's signature does not match the backend's key, so the backend is probably set up for another Clerk instance (its CLERK_JWT_KEY or secret key)",
        "token-not-active-yet" => "the token is not valid yet (nbf): a clock is off",
        "token-iat-in-the-future" => "the token was issued in the future: a clock is off",
        "token-verification-failed" => "the SDK could not verify the token: a claim it needs is missing or wrong (Clerk's message says which)",
        "secret-key-invalid" => "the backend's own secret key is invalid (CLERK_SECRET_KEY)",
        "jwk-local-missing" => "the backend has no key to check the token with (set CLERK_JWT_KEY or CLERK_SECRET_KEY)",
        "jwk-remote-failed-to-load" | "jwk-remote-invalid" | "jwk-remote-missing" | "jwk-failed-to-resolve" => "the backend could not load the instance's signing keys (JWKS) from Clerk",
        "jwk-kid-mismatch" => "the token's key id (kid) is not among the backend's keys: another instance, or keys rotated since",
        "No token in header" => return format!(
            "the route reads only {} from the Authorization header, and none came",
            kind_name(sent)
        ),
        other => return format!("a reason Keyhole does not know ({other}); Clerk's message may say more"),
    };
    words.to_owned()
}

/// A header value as it may be quoted back: printable, single-line, at most [`QUOTE_CAP`] chars.
fn quoted(value: &str) -> String {
    let mut clean: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(QUOTE_CAP)
        .collect();
    if value.chars().filter(|c| !c.is_control()).count() > QUOTE_CAP {
        clean.push('…');
    }
    clean.trim().to_owned()
}

/// Clerk's message without the "(reason=…, token-carrier=…)" it appends (already said).
fn without_reason_suffix(message: &str) -> &str {
    match message.rfind(" (reason=") {
        Some(at) if message.ends_with(')') => message[..at].trim(),
        _ => message.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_answer_without_clerk_headers_has_no_clerk_account() {
        assert_eq!(
            ClerkAuth::from_headers(&headers(&[("content-type", "text/plain")])),
            None
        );
    }

    #[test]
    fn the_signature_reason_names_another_instance_and_quotes_the_message_once() {
        let auth = ClerkAuth::from_headers(&headers(&[
            ("X-Clerk-Auth-Status", "signed-out"),
            ("x-clerk-auth-reason", "token-invalid-signature"),
            (
                "x-clerk-auth-message",
                "JWT signature is invalid. (reason=token-invalid-signature, token-carrier=header)",
            ),
        ]))
        .unwrap();
        assert!(auth.signed_out());
        let text = auth.explain(Credential::OAuth);
        assert!(
            text.contains("read the request as signed out")
                && text.contains("another Clerk instance")
                && text.contains("Clerk's message: \"JWT signature is invalid.\"")
                && !text.contains("token-carrier"),
            "{text}"
        );
    }

    #[test]
    fn a_token_type_mismatch_names_the_kind_that_was_sent() {
        let auth = ClerkAuth::from_headers(&headers(&[
            ("x-clerk-auth-status", "signed-out"),
            ("x-clerk-auth-reason", "token-type-mismatch"),
        ]))
        .unwrap();
        for (sent, name) in [
            (Credential::OAuth, "oauth_token"),
            (Credential::Session, "session_token"),
            (Credential::ApiKey, "api_key"),
            (Credential::M2m, "m2m_token"),
        ] {
            let text = auth.explain(sent);
            assert!(
                text.contains(&format!("acceptsToken leaves out {name}")),
                "{text}"
            );
        }
    }

    #[test]
    fn token_invalid_means_unknown_to_clerk_for_machine_tokens_and_unreadable_for_jwts() {
        let auth =
            ClerkAuth::from_headers(&headers(&[("x-clerk-auth-reason", "token-invalid")])).unwrap();
        assert!(auth
            .explain(Credential::ApiKey)
            .contains("did not recognise"));
        assert!(auth.explain(Credential::OAuth).contains("not a JWT"));
    }

    #[test]
    fn a_handshake_and_an_unknown_reason_are_said_as_such() {
        let auth = ClerkAuth::from_headers(&headers(&[
            ("x-clerk-auth-status", "handshake"),
            ("x-clerk-auth-reason", "brand-new-reason"),
        ]))
        .unwrap();
        let text = auth.explain(Credential::None);
        assert!(
            text.contains("handshake") && text.contains("does not know (brand-new-reason)"),
            "{text}"
        );
    }

    #[test]
    fn a_hostile_header_is_quoted_single_line_and_capped() {
        let long = format!("a\r\nb{}", "x".repeat(1000));
        let auth = ClerkAuth::from_headers(&headers(&[("x-clerk-auth-reason", &long)])).unwrap();
        let reason = auth.reason.unwrap();
        assert!(!reason.contains('\n') && !reason.contains('\r'));
        assert_eq!(reason.chars().count(), QUOTE_CAP + 1);
        assert!(reason.ends_with('…'));
    }

    /// The reason values in an installed `@clerk/backend` bundle: every string value of its
    /// `AuthErrorReason`, `TokenVerificationErrorReason` and `MachineTokenVerificationErrorCode`.
    fn reasons_defined_in(bundle: &str) -> Vec<String> {
        let mut found = Vec::new();
        for name in [
            "AuthErrorReason",
            "TokenVerificationErrorReason",
            "MachineTokenVerificationErrorCode",
        ] {
            let Some(start) = bundle.find(&format!("var {name} = {{")) else {
                continue;
            };
            let block = &bundle[start..];
            let block = &block[..block.find("};").unwrap_or(block.len())];
            for line in block.lines().skip(1) {
                if let Some((_, value)) = line.split_once(": \"") {
                    found.push(value.trim_end_matches([',', '"']).to_owned());
                }
            }
        }
        found
    }

    #[test]
    fn every_reason_the_installed_clerk_backends_define_has_words_of_its_own() {
        // Read from the SDKs the sandbox runs (@clerk/backend 3.25 for @clerk/express, 1.34
        // inside @clerk/clerk-sdk-node), so a reason a new SDK adds fails here until it is said.
        let modules = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../sandbox/node_modules/@clerk"
        );
        for bundle in [
            "backend/dist/index.js",
            "clerk-sdk-node/node_modules/@clerk/backend/dist/index.js",
        ] {
            let path = format!("{modules}/{bundle}");
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{path}: {e} (run scripts/setup test)"));
            let reasons = reasons_defined_in(&source);
            assert!(reasons.len() > 25, "{path}: only {reasons:?}");
            for reason in reasons {
                for sent in [Credential::OAuth, Credential::ApiKey, Credential::None] {
                    let words = reason_in_words(&reason, sent);
                    assert!(!words.contains("does not know"), "{reason}: {words}");
                }
            }
        }
    }
}
