//! Token verification against the provider's JWKS: the ID token as OIDC Core §3.1.3.7 asks,
//! the access token as far as a client can (RFC 9068 header, signature, issuer, lifetime).
//!
//! `jsonwebtoken` checks the signature, `exp` and `nbf`; the exact-match checks where the crate is
//! looser (`iss`, `aud`, `azp`, `nonce`, `iat`) are done here.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::jwks::KeySet;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 60;

/// What Keyhole could learn from an access token.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessTokenInfo {
    /// A JWT whose signature, issuer and lifetime were verified.
    Jwt {
        /// The JOSE header.
        header: Map<String, Value>,
        /// The claims.
        claims: Map<String, Value>,
    },
    /// Not a JWT (e.g. Clerk's older `oat_…` tokens): sent as-is, cannot be decoded.
    Opaque,
}

/// Checks tokens from one provider for one client.
pub(crate) struct Verifier<'a> {
    pub http: &'a reqwest::Client,
    pub keys: &'a KeySet,
    pub issuer: &'a str,
    pub client_id: &'a str,
}

impl Verifier<'_> {
    /// Verifies an ID token; `nonce` is the one sent with the authorization request (None on refresh).
    pub async fn id_token(&self, raw: &str, nonce: Option<&str>) -> Result<Map<String, Value>> {
        const WHAT: &str = "the ID token";
        let (_, claims) = self.jwt(raw, WHAT).await?;
        let aud_ok = match claims.get("aud") {
            Some(Value::String(aud)) => aud == self.client_id,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(self.client_id)),
            _ => false,
        };
        if !aud_ok {
            return Err(Error::verification(format!(
                "{WHAT} is meant for {}, not for this app's client ID {:?}",
                show(claims.get("aud")),
                self.client_id
            )));
        }
        let several_audiences = matches!(claims.get("aud"), Some(Value::Array(a)) if a.len() > 1);
        match claims.get("azp") {
            Some(Value::String(azp)) if azp == self.client_id => {}
            None if !several_audiences => {}
            other => {
                return Err(Error::verification(format!(
                    "{WHAT} was issued to {} (azp), not to this app",
                    show(other)
                )))
            }
        }
        if !claims.get("iat").is_some_and(Value::is_number) {
            return Err(Error::verification(format!("{WHAT} has no iat claim")));
        }
        if claims
            .get("sub")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(Error::verification(format!("{WHAT} has no subject (sub)")));
        }
        if let Some(expected) = nonce {
            if claims.get("nonce").and_then(Value::as_str) != Some(expected) {
                return Err(Error::verification(format!(
                    "{WHAT}'s nonce does not match the one Keyhole sent (a replayed or injected token?)"
                )));
            }
        }
        Ok(claims)
    }

    /// Verifies an access token if it is a JWT; an opaque one is reported as such.
    pub async fn access_token(&self, raw: &str) -> Result<AccessTokenInfo> {
        const WHAT: &str = "the access token";
        let Ok(header) = peek_header(raw) else {
            return Ok(AccessTokenInfo::Opaque);
        };
        // RFC 9068 §2.1 asks for at+jwt; Clerk uses it, and plain JWT is common elsewhere.
        if let Some(typ) = header.get("typ") {
            let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
            if !matches!(typ.as_str(), "at+jwt" | "application/at+jwt" | "jwt") {
                return Err(Error::verification(format!(
                    "{WHAT} has type {typ:?}; an access token is at+jwt or JWT"
                )));
            }
        }
        let (header, claims) = self.jwt(raw, WHAT).await?;
        Ok(AccessTokenInfo::Jwt { header, claims })
    }

    /// Signature, algorithm, `iss`, `exp`, `nbf`, `iat`.
    async fn jwt(&self, raw: &str, what: &str) -> Result<(Map<String, Value>, Map<String, Value>)> {
        let header = peek_header(raw)
            .map_err(|()| Error::verification(format!("{what} is not a well-formed JWT")))?;
        let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let alg = match alg_name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            other => {
                return Err(Error::verification(format!(
                    "{what} uses algorithm {other:?}; Keyhole accepts only RS256, RS384 and RS512"
                )))
            }
        };
        // RFC 7515 §4.1.11: unknown critical extensions must make the token invalid.
        if header.contains_key("crit") {
            return Err(Error::verification(format!(
                "{what} has critical header extensions Keyhole does not understand"
            )));
        }
        let kid = header.get("kid").and_then(Value::as_str);
        let keys = self.keys.keys_for(self.http, kid, alg).await?;

        let mut validation = Validation::new(alg);
        validation.leeway = CLOCK_SKEW_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::from(["exp".to_owned()]);

        let mut claims = None;
        for key in &keys {
            match jsonwebtoken::decode::<Map<String, Value>>(raw, &key.key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                Err(e) => return Err(describe(what, &e, raw)),
            }
        }
        let claims = claims.ok_or_else(|| {
            Error::verification(format!(
                "{what}'s signature does not match the provider's signing key"
            ))
        })?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer) {
            return Err(Error::verification(format!(
                "{what} was issued by {}, not by {:?}",
                show(claims.get("iss")),
                self.issuer
            )));
        }
        if let Some(iat) = claims.get("iat") {
            let iat = iat
                .as_f64()
                .ok_or_else(|| Error::verification(format!("{what}'s iat is not a number")))?;
            if iat > (now_secs() + CLOCK_SKEW_SECS) as f64 {
                return Err(Error::verification(format!(
                    "{what} claims to be issued in the future (iat); check this computer's clock"
                )));
            }
        }
        Ok((header, claims))
    }
}

/// Decodes a JWT's JOSE header without trusting it. Err when `raw` is not three base64url parts
/// with a JSON object header carrying `alg`.
pub(crate) fn peek_header(raw: &str) -> Result<Map<String, Value>, ()> {
    let mut parts = raw.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| ())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) if map.contains_key("alg") => Ok(map),
        _ => Err(()),
    }
}

/// Decodes a JWT's claims without verifying them (for display of an already verified token).
pub(crate) fn peek_claims(raw: &str) -> Option<Map<String, Value>> {
    let payload = raw.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn describe(what: &str, error: &jsonwebtoken::errors::Error, raw: &str) -> Error {
    let exp = || {
        peek_claims(raw)
            .and_then(|c| c.get("exp").and_then(Value::as_i64))
            .map(|exp| format!(" (exp {exp}, now {})", now_secs()))
            .unwrap_or_default()
    };
    Error::verification(match error.kind() {
        ErrorKind::ExpiredSignature => format!("{what} has expired{}", exp()),
        ErrorKind::ImmatureSignature => {
            format!("{what} is not valid yet (nbf); check this computer's clock")
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("{what} has no {claim} claim"),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            format!("{what} uses an algorithm that does not match the provider's key")
        }
        ErrorKind::InvalidClaimFormat(claim) => format!("{what}'s {claim} claim is malformed"),
        _ => format!("{what} could not be verified ({error})"),
    })
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "nobody named".to_owned(), Value::to_string)
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const ISSUER: &str = "https://clerk.example.com";
    const CLIENT: &str = "keyhole-client";
    const KEY_A: &str = include_str!("testdata/rsa_a.pem");
    const KEY_B: &str = include_str!("testdata/rsa_b.pem");
    const PUB_A: &str = include_str!("testdata/rsa_a_pub.pem");

    fn keys() -> KeySet {
        let jwk: Value = serde_json::from_str(include_str!("testdata/rsa_a.jwk.json")).unwrap();
        // An unreachable JWKS URL: any refetch fails, so these tests never touch the network.
        KeySet::preloaded(
            url::Url::parse("http://127.0.0.1:9/jwks").unwrap(),
            &json!({"keys": [jwk]}),
        )
    }

    fn sign(claims: &Value, pem: &str, kid: &str, typ: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        header.typ = Some(typ.into());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn id_claims() -> Value {
        let now = now_secs();
        json!({"iss": ISSUER, "sub": "user_2test", "aud": CLIENT, "exp": now + 600, "iat": now, "nonce": "n-123"})
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn without(mut claims: Value, key: &str) -> Value {
        if let Some(map) = claims.as_object_mut() {
            map.remove(key);
        }
        claims
    }

    async fn check_id(token: &str, nonce: Option<&str>) -> Result<Map<String, Value>> {
        let http = crate::http::client(std::time::Duration::from_secs(2));
        let keys = keys();
        let verifier = Verifier {
            http: &http,
            keys: &keys,
            issuer: ISSUER,
            client_id: CLIENT,
        };
        verifier.id_token(token, nonce).await
    }

    async fn check_access(token: &str) -> Result<AccessTokenInfo> {
        let http = crate::http::client(std::time::Duration::from_secs(2));
        let keys = keys();
        let verifier = Verifier {
            http: &http,
            keys: &keys,
            issuer: ISSUER,
            client_id: CLIENT,
        };
        verifier.access_token(token).await
    }

    fn b64(v: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    }

    #[tokio::test]
    async fn a_good_id_token_verifies() {
        let claims = check_id(&sign(&id_claims(), KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap();
        assert_eq!(claims["sub"], "user_2test");
    }

    #[tokio::test]
    async fn a_bad_signature_is_refused() {
        // Signed with key B but claiming key A's kid.
        let err = check_id(&sign(&id_claims(), KEY_B, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        // A payload swapped under a valid signature.
        let good = sign(&id_claims(), KEY_A, "key-a", "JWT");
        let parts: Vec<&str> = good.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            b64(&with(id_claims(), "sub", json!("user_admin"))),
            parts[2]
        );
        assert!(check_id(&forged, Some("n-123"))
            .await
            .unwrap_err()
            .to_string()
            .contains("signature"));
    }

    #[tokio::test]
    async fn alg_none_is_refused() {
        let token = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&id_claims())
        );
        let err = check_id(&token, Some("n-123")).await.unwrap_err();
        assert!(err.to_string().contains("\"none\""), "{err}");
        let err = check_access(&format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "at+jwt"})),
            b64(&id_claims())
        ))
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "verification");
    }

    #[tokio::test]
    async fn hs256_signed_with_the_public_key_is_refused() {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("key-a".into());
        let token = jsonwebtoken::encode(
            &header,
            &id_claims(),
            &EncodingKey::from_secret(PUB_A.as_bytes()),
        )
        .unwrap();
        let err = check_id(&token, Some("n-123")).await.unwrap_err();
        assert!(err.to_string().contains("HS256"), "{err}");
    }

    #[tokio::test]
    async fn an_expired_token_is_refused_beyond_the_skew() {
        let now = now_secs();
        let expired = with(id_claims(), "exp", json!(now - CLOCK_SKEW_SECS - 5));
        let err = check_id(&sign(&expired, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        // Within the skew it still passes.
        let barely = with(id_claims(), "exp", json!(now - 5));
        check_id(&sign(&barely, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap();
        // A string exp does not slip through (GHSA-h395-gr6q-cpjc).
        let stringly = with(id_claims(), "exp", json!((now - 3600).to_string()));
        assert!(
            check_id(&sign(&stringly, KEY_A, "key-a", "JWT"), Some("n-123"))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn not_yet_valid_and_future_iat_are_refused() {
        let now = now_secs();
        let nbf = with(id_claims(), "nbf", json!(now + 3600));
        assert!(check_id(&sign(&nbf, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap_err()
            .to_string()
            .contains("nbf"));
        let iat = with(id_claims(), "iat", json!(now + 3600));
        assert!(check_id(&sign(&iat, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap_err()
            .to_string()
            .contains("iat"));
    }

    #[tokio::test]
    async fn a_wrong_issuer_is_refused_even_inside_an_array() {
        for iss in [
            json!("https://evil.test"),
            json!([ISSUER]),
            json!("https://clerk.example.com/"),
            Value::Null,
        ] {
            let token = sign(
                &with(id_claims(), "iss", iss.clone()),
                KEY_A,
                "key-a",
                "JWT",
            );
            let err = check_id(&token, Some("n-123")).await.unwrap_err();
            assert!(err.to_string().contains("issued by"), "{iss}: {err}");
        }
    }

    #[tokio::test]
    async fn the_id_token_audience_must_be_this_client() {
        let wrong = sign(
            &with(id_claims(), "aud", json!("other-app")),
            KEY_A,
            "key-a",
            "JWT",
        );
        assert!(check_id(&wrong, Some("n-123"))
            .await
            .unwrap_err()
            .to_string()
            .contains("client ID"));
        let missing = without(id_claims(), "aud");
        assert!(
            check_id(&sign(&missing, KEY_A, "key-a", "JWT"), Some("n-123"))
                .await
                .is_err()
        );
        // Several audiences need azp = this client (OIDC Core §3.1.3.7).
        let several = with(id_claims(), "aud", json!([CLIENT, "other-app"]));
        assert!(
            check_id(&sign(&several, KEY_A, "key-a", "JWT"), Some("n-123"))
                .await
                .unwrap_err()
                .to_string()
                .contains("azp")
        );
        let with_azp = with(several, "azp", json!(CLIENT));
        check_id(&sign(&with_azp, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_wrong_or_missing_nonce_is_refused() {
        let token = sign(&id_claims(), KEY_A, "key-a", "JWT");
        assert!(check_id(&token, Some("other"))
            .await
            .unwrap_err()
            .to_string()
            .contains("nonce"));
        let no_nonce = without(id_claims(), "nonce");
        assert!(
            check_id(&sign(&no_nonce, KEY_A, "key-a", "JWT"), Some("n-123"))
                .await
                .is_err()
        );
        // On refresh no nonce is expected.
        check_id(&sign(&no_nonce, KEY_A, "key-a", "JWT"), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn access_tokens_may_be_at_jwt_without_aud_or_opaque() {
        let now = now_secs();
        let claims = json!({"iss": ISSUER, "sub": "user_2test", "client_id": CLIENT, "exp": now + 600, "iat": now, "scope": "openid email"});
        match check_access(&sign(&claims, KEY_A, "key-a", "at+jwt"))
            .await
            .unwrap()
        {
            AccessTokenInfo::Jwt { header, claims } => {
                assert_eq!(header["typ"], "at+jwt");
                assert_eq!(claims["sub"], "user_2test");
            }
            AccessTokenInfo::Opaque => panic!("a JWT read as opaque"),
        }
        assert_eq!(
            check_access("oat_2xKq8fA1b2c3").await.unwrap(),
            AccessTokenInfo::Opaque
        );
        assert_eq!(
            check_access("a.b.c").await.unwrap(),
            AccessTokenInfo::Opaque
        );
        let err = check_access(&sign(&claims, KEY_A, "key-a", "dpop+jwt"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("type"), "{err}");
        let expired = with(claims, "exp", json!(now - 3600));
        assert!(check_access(&sign(&expired, KEY_A, "key-a", "at+jwt"))
            .await
            .unwrap_err()
            .to_string()
            .contains("expired"));
    }

    #[tokio::test]
    async fn a_critical_header_extension_is_refused() {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("key-a".into());
        let token = jsonwebtoken::encode(
            &header,
            &id_claims(),
            &EncodingKey::from_rsa_pem(KEY_A.as_bytes()).unwrap(),
        )
        .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let crit = format!(
            "{}.{}.{}",
            b64(&json!({"alg": "RS256", "kid": "key-a", "crit": ["exp"], "exp": 1})),
            parts[1],
            parts[2]
        );
        assert!(check_id(&crit, Some("n-123"))
            .await
            .unwrap_err()
            .to_string()
            .contains("critical"));
    }
}
