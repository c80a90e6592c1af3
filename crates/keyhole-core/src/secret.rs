//! [`Secret`]: the secrets the `oauth2` crate has no type for — a keychain entry's text, a
//! registration access token.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string. `Debug` prints `Secret([redacted])` and there is no `Display`, so it cannot
/// reach a log or a message by accident; it serializes as the bare string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    /// The secret itself. Handle with care.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;
    use std::time::{Duration, SystemTime};

    use oauth2::{
        AccessToken, AuthorizationCode, ClientSecret, CsrfToken, DeviceCode, PkceCodeVerifier,
        RefreshToken, StandardRevocableToken,
    };
    use serde_json::json;

    use super::Secret;
    use crate::api::request::{ApiRequest, CurlToken};
    use crate::session::record::{Record, Stored};
    use crate::session::state::Session;
    use crate::session::vault::{MemoryStore, SecretStore};
    use crate::tokens::grant::{IdToken, TokenSet};

    /// Every secret below is this string or starts with it (b64token characters only, so each
    /// parser accepts it wherever a token goes).
    const SECRET: &str = "S3cr3t-Value_9f2c";

    fn hidden(what: &str, text: String) {
        assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    }

    fn debug_hides(what: &str, value: &dyn Debug) {
        hidden(what, format!("{value:?}"));
        hidden(what, format!("{value:#?}"));
    }

    fn error_hides(what: &str, error: &crate::Error) {
        debug_hides(what, error);
        hidden(what, error.to_string());
        hidden(what, error.report());
    }

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: AccessToken::new(SECRET.into()),
            refresh_token: Some(RefreshToken::new(format!("{SECRET}-refresh"))),
            id_token: Some(IdToken::new(format!("{SECRET}.id.token"))),
            expires_at: Some(SystemTime::now() + Duration::from_secs(3600)),
            received_at: SystemTime::now(),
            scopes: Some(vec!["openid".into()]),
        }
    }

    fn session() -> Session {
        Session {
            tokens: tokens(),
            ..crate::session::record::tests::session()
        }
    }

    #[test]
    fn no_secret_value_or_carrier_prints_its_secret() {
        // The types themselves (none of them has a Display).
        debug_hides("Secret", &Secret::new(SECRET.into()));
        debug_hides("AccessToken", &AccessToken::new(SECRET.into()));
        debug_hides("RefreshToken", &RefreshToken::new(SECRET.into()));
        debug_hides("IdToken", &IdToken::new(SECRET.into()));
        debug_hides("AuthorizationCode", &AuthorizationCode::new(SECRET.into()));
        debug_hides("PkceCodeVerifier", &PkceCodeVerifier::new(SECRET.into()));
        debug_hides("CsrfToken", &CsrfToken::new(SECRET.into()));
        debug_hides("DeviceCode", &DeviceCode::new(SECRET.into()));
        debug_hides("ClientSecret", &ClientSecret::new(SECRET.into()));
        for token in [
            StandardRevocableToken::AccessToken(AccessToken::new(SECRET.into())),
            StandardRevocableToken::RefreshToken(RefreshToken::new(SECRET.into())),
        ] {
            debug_hides("StandardRevocableToken", &token);
        }

        // What carries them.
        debug_hides("TokenSet", &tokens());
        debug_hides("Session", &session());
        debug_hides("SessionSummary", &session().summary());
        let record = Record::of(&session(), "https://clerk.example.test/oauth/token");
        debug_hides("Record", &record);
        let text = record.to_text();
        assert!(
            text.secret().contains(SECRET),
            "the record holds the tokens"
        );
        debug_hides("the record's text", &text);
        let stored = Stored::parse(text.secret()).expect("a record");
        debug_hides("Stored::Session", &stored);
        debug_hides("Stored::Legacy", &Stored::parse(SECRET).expect("format 1"));
        let store = MemoryStore::default();
        store.save("account", &text).expect("saved");
        debug_hides("MemoryStore", &store);
        debug_hides("a loaded entry", &store.load("account"));
        debug_hides(
            "CurlToken::Literal",
            &CurlToken::Literal(AccessToken::new(SECRET.into())),
        );
        let request = ApiRequest::get(&url::Url::parse("https://api.example.test/").expect("url"));
        let literal = request
            .to_curl(&CurlToken::Literal(AccessToken::new(SECRET.into())))
            .expect("curl");
        assert!(
            literal.contains(SECRET),
            "the literal curl command is what the user asked for"
        );

        let device = crate::signin::device::parse_response(
            json!({
                "device_code": SECRET,
                "user_code": "WDJB-MJHT",
                "verification_uri": "https://clerk.example.test/oauth/device",
                "expires_in": 600,
            })
            .to_string()
            .as_bytes(),
        )
        .expect("a device answer");
        debug_hides("PendingDevice", &device);
        debug_hides("the DeviceCode shown", device.shown());

        let endpoint = url::Url::parse("https://clerk.example.test/oauth/register").expect("url");
        let client = crate::signin::registration::parse_response(
            json!({
                "client_id": "abc",
                "registration_access_token": SECRET,
                "registration_client_uri": "https://clerk.example.test/oauth/register/abc",
            })
            .to_string()
            .as_bytes(),
            "https://clerk.example.test",
            &endpoint,
        )
        .expect("a registration answer");
        debug_hides("RegisteredClient", &client);

        let answer = crate::tokens::grant::parse_token_response(
            json!({
                "access_token": SECRET,
                "token_type": "Bearer",
                "refresh_token": format!("{SECRET}-refresh"),
                "id_token": format!("{SECRET}.id.token"),
            })
            .to_string()
            .as_bytes(),
        )
        .expect("a token response");
        debug_hides("TokenResponse", &answer);

        let raw = format!(
            "GET /callback?code={SECRET}&state={SECRET} HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"
        );
        let head = crate::signin::loopback::Head::parse(raw.as_bytes())
            .expect("well-formed")
            .expect("complete");
        debug_hides("the callback's Head", &head);

        // Errors about what holds a secret (these have a Display too).
        let mut broken = Record::of(&session(), "file:///etc/passwd");
        broken.client_id = String::new();
        let error = Stored::parse(broken.to_text().secret()).expect_err("refused");
        error_hides("a refused record", &error);
        let error = crate::tokens::grant::parse_token_response(
            format!("{{\"access_token\":\"{SECRET}\",\"token_type\":\"DPoP\"}}").as_bytes(),
        )
        .expect_err("refused");
        error_hides("a refused token response", &error);
        let cut = format!("{{\"access_token\":\"{SECRET}");
        let error = crate::tokens::grant::parse_token_response(cut.as_bytes()).expect_err("cut");
        error_hides("a token response cut off", &error);
        let error = Stored::parse(&cut).expect_err("cut");
        error_hides("a keychain entry cut off", &error);
    }
}
