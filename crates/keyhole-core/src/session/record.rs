//! The one stored session record per account: what sits in the keychain entry between runs.
//!
//! Version 2 is JSON: the refresh token, the access token with its expiry (so a run whose token is
//! still fresh makes no request but the API call), the verified identity of the original ID token
//! (pinned across restarts, OIDC Core §12.2) and the token endpoint the tokens came from (a
//! refresh token is never sent anywhere else). A sign-out leaves a marker with no secret in it, so
//! a refresh that was in flight in another process neither stores nor keeps its result.
//!
//! Version 1 (Keyhole 0.1) stored the bare refresh token; it is read and upgraded at the next
//! refresh. What the entry holds is outside input like any other: it is parsed and checked here,
//! and anything else is refused with a plain message instead of being sent to the provider.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oauth2::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::state::{Identity, Session};
use crate::tokens::grant::{IdToken, TokenSet};
use crate::tokens::verify::{self, AccessTokenInfo};

/// The format written today.
const VERSION: u32 = 2;
/// Larger entries are not Keyhole's (a Clerk token set is a few KiB).
const MAX_ENTRY: usize = 64 * 1024;
/// Largest token accepted from the entry.
const MAX_TOKEN: usize = 16 * 1024;

/// What a keychain entry holds.
#[derive(Debug, Clone)]
pub(crate) enum Stored {
    /// A session (format 2).
    Session(Box<Record>),
    /// Only a refresh token (format 1): usable after one refresh.
    Legacy(RefreshToken),
    /// The user signed out; nothing may be stored over this but a new sign-in.
    SignedOut,
}

/// A stored session (format 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub v: u32,
    pub refresh_token: Option<RefreshToken>,
    pub access_token: AccessToken,
    /// Unix seconds.
    pub expires_at: Option<u64>,
    /// Unix seconds.
    pub received_at: u64,
    pub scopes: Option<Vec<String>>,
    pub issuer: String,
    pub client_id: String,
    pub identity: Option<Identity>,
    /// The verified ID token's claims (name and email for display; no secret).
    pub id_claims: Option<Map<String, Value>>,
    pub token_endpoint: String,
}

#[derive(Serialize, Deserialize)]
struct Marker {
    v: u32,
    signed_out_at: u64,
}

impl Stored {
    /// Reads an entry. Err ([`Error::StoredSession`]) when it is neither format.
    pub fn parse(text: &str) -> Result<Stored> {
        let unreadable = |why: &str| Error::stored_session(why);
        if text.len() > MAX_ENTRY {
            return Err(unreadable("it is far larger than a session"));
        }
        let trimmed = text.trim();
        if !trimmed.starts_with('{') {
            // Format 1: the refresh token alone.
            check_token(trimmed, "refresh token", is_vschar)?;
            return Ok(Stored::Legacy(RefreshToken::new(trimmed.to_owned())));
        }
        let value: Value = serde_json::from_str(trimmed)
            .map_err(|e| unreadable("it is not valid JSON").unparsed(&e))?;
        match value.get("v").and_then(Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) if v > u64::from(VERSION) => {
                return Err(unreadable(&format!(
                    "it was written by a newer Keyhole (format {v})"
                )))
            }
            _ => return Err(unreadable("it has no known format version")),
        }
        if value.get("signed_out_at").is_some() {
            serde_json::from_value::<Marker>(value)
                .map_err(|e| unreadable("its sign-out marker is malformed").unparsed(&e))?;
            return Ok(Stored::SignedOut);
        }
        // serde's message may quote the offending value, which may be a token: only its kind.
        let record: Record = serde_json::from_value(value)
            .map_err(|e| unreadable("a field is missing or has the wrong type").unparsed(&e))?;
        record.check()?;
        Ok(Stored::Session(Box::new(record)))
    }

    /// The text of a sign-out marker (no secret in it, but stored as entries are).
    pub fn signed_out_marker() -> Secret {
        Secret::new(
            serde_json::to_string(&Marker {
                v: VERSION,
                signed_out_at: unix(SystemTime::now()),
            })
            .unwrap_or_default(),
        )
    }

    /// The refresh token held, if any.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        match self {
            Stored::Session(record) => record.refresh_token.as_ref(),
            Stored::Legacy(token) => Some(token),
            Stored::SignedOut => None,
        }
    }
}

impl Record {
    /// The record of a verified session.
    pub fn of(session: &Session, token_endpoint: &str) -> Record {
        Record {
            v: VERSION,
            refresh_token: session.tokens.refresh_token.clone(),
            access_token: session.tokens.access_token.clone(),
            expires_at: session.expires_at().map(unix),
            received_at: unix(session.tokens.received_at),
            scopes: session.tokens.scopes.clone(),
            issuer: session.issuer.clone(),
            client_id: session.client_id.clone(),
            identity: session.identity.clone(),
            id_claims: session.id_claims.clone(),
            token_endpoint: token_endpoint.to_owned(),
        }
    }

    /// The entry's text: it holds the tokens.
    pub fn to_text(&self) -> Secret {
        // Serializing plain strings, numbers and maps cannot fail.
        Secret::new(serde_json::to_string(self).unwrap_or_default())
    }

    /// The session this record holds. The access token was verified when it was received and has
    /// been in the keychain since; its claims are decoded again for display only.
    pub fn session(&self) -> Session {
        let raw = self.access_token.secret();
        let access = match (verify::peek_header(raw), verify::peek_claims(raw)) {
            (Ok(header), Some(claims)) => AccessTokenInfo::Jwt { header, claims },
            _ => AccessTokenInfo::Opaque,
        };
        Session {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            tokens: TokenSet {
                access_token: self.access_token.clone(),
                refresh_token: self.refresh_token.clone(),
                id_token: None::<IdToken>,
                expires_at: self.expires_at.map(from_unix),
                received_at: from_unix(self.received_at),
                scopes: self.scopes.clone(),
            },
            access,
            id_claims: self.id_claims.clone(),
            identity: self.identity.clone(),
        }
    }

    fn check(&self) -> Result<()> {
        check_token(self.access_token.secret(), "access token", is_b64token)?;
        if let Some(token) = &self.refresh_token {
            check_token(token.secret(), "refresh token", is_vschar)?;
        }
        let url = url::Url::parse(&self.token_endpoint)
            .map_err(|_| Error::stored_session("its token endpoint is not a URL"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(Error::stored_session(
                "its token endpoint is not an http(s) URL",
            ));
        }
        if self.issuer.is_empty() || self.client_id.is_empty() {
            return Err(Error::stored_session("it names no issuer or client"));
        }
        Ok(())
    }
}

/// RFC 6749 Appendix A: refresh tokens are VSCHAR (printable ASCII).
fn is_vschar(c: u8) -> bool {
    (0x20..=0x7e).contains(&c)
}

/// RFC 6750 §2.1 b64token: what may follow `Bearer ` in a header.
fn is_b64token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/=".contains(&c)
}

fn check_token(token: &str, what: &str, allowed: fn(u8) -> bool) -> Result<()> {
    if token.is_empty() || token.len() > MAX_TOKEN || !token.bytes().all(allowed) {
        return Err(Error::stored_session(format!(
            "its {what} is not a well-formed token"
        )));
    }
    Ok(())
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn from_unix(secs: u64) -> SystemTime {
    // Clamped so that absurd stored values cannot overflow SystemTime.
    UNIX_EPOCH + Duration::from_secs(secs.min(1 << 40))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A verified session's fields, for tests here and elsewhere in the crate.
    pub(crate) fn session() -> Session {
        Session {
            issuer: "https://clerk.example.test".into(),
            client_id: "client".into(),
            tokens: TokenSet {
                access_token: AccessToken::new("oat_abc123".into()),
                refresh_token: Some(RefreshToken::new("rt_1".into())),
                id_token: None,
                expires_at: Some(UNIX_EPOCH + Duration::from_secs(2_000)),
                received_at: UNIX_EPOCH + Duration::from_secs(1_000),
                scopes: Some(vec!["openid".into()]),
            },
            access: AccessTokenInfo::Opaque,
            id_claims: None,
            identity: Some(Identity {
                iss: "https://clerk.example.test".into(),
                sub: "user_1".into(),
                aud: vec!["client".into()],
            }),
        }
    }

    #[test]
    fn a_record_round_trips_through_its_text() {
        let text = Record::of(&session(), "https://clerk.example.test/oauth/token").to_text();
        let Stored::Session(record) = Stored::parse(text.secret()).expect("parses") else {
            panic!("not a session")
        };
        let back = record.session();
        assert_eq!(back.tokens.access_token.secret(), "oat_abc123");
        assert_eq!(
            back.tokens
                .refresh_token
                .as_ref()
                .map(|t| t.secret().as_str()),
            Some("rt_1")
        );
        assert_eq!(back.expires_at(), session().expires_at());
        assert_eq!(back.identity, session().identity);
        assert_eq!(
            record.token_endpoint,
            "https://clerk.example.test/oauth/token"
        );
    }

    #[test]
    fn a_bare_refresh_token_is_the_old_format() {
        match Stored::parse("rt_old-format.123\n").expect("parses") {
            Stored::Legacy(token) => assert_eq!(token.secret(), "rt_old-format.123"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sign_out_marker_reads_as_signed_out() {
        assert!(matches!(
            Stored::parse(Stored::signed_out_marker().secret()),
            Ok(Stored::SignedOut)
        ));
    }

    #[test]
    fn garbage_is_refused_with_a_reason_never_sent_as_a_token() {
        let cases = [
            ("", "refresh token is not a well-formed token"),
            ("na\u{ef}ve", "refresh token is not a well-formed token"),
            ("tab\there", "refresh token is not a well-formed token"),
            ("{not json", "not valid JSON"),
            ("{\"v\":1}", "no known format version"),
            ("{\"v\":99}", "newer Keyhole"),
            ("{\"v\":2,\"access_token\":7}", "wrong type"),
        ];
        for (text, why) in cases {
            match Stored::parse(text) {
                Err(Error::StoredSession {
                    reason: message, ..
                }) => {
                    assert!(message.contains(why), "{text:?}: {message}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        let mut record = Record::of(&session(), "https://clerk.example.test/oauth/token");
        record.access_token = AccessToken::new("bad token\r\nX-Injected: 1".into());
        match Stored::parse(record.to_text().secret()) {
            Err(Error::StoredSession {
                reason: message, ..
            }) => {
                assert!(
                    message.contains("access token is not a well-formed"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        record.access_token = AccessToken::new("ok".into());
        record.token_endpoint = "file:///etc/passwd".into();
        match Stored::parse(record.to_text().secret()) {
            Err(Error::StoredSession {
                reason: message, ..
            }) => assert!(message.contains("http(s)"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Stored::parse(&"x".repeat(MAX_ENTRY + 1)),
            Err(Error::StoredSession { reason: m, .. }) if m.contains("larger")
        ));
    }
}
