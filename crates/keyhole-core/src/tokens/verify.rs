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

use crate::error::{capitalize, Error, Result, Rule};
use crate::tokens::grant::MAX_TOKEN_LEN;
use crate::tokens::jwks::KeySet;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const CLOCK_SKEW_SECS: u64 = 60;
/// Oldest ID token accepted, by its `iat`, in seconds (plus the skew). ID tokens are checked
/// right after the token endpoint issued them, so an older one is a replay or a broken clock.
pub const MAX_ID_TOKEN_AGE_SECS: u64 = 10 * 60;

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
    /// The provider's `id_token_signing_alg_values_supported`.
    pub id_token_algs: &'a [String],
}

impl Verifier<'_> {
    /// Verifies an ID token; `nonce` is the one sent with the authorization request (None on
    /// refresh); `access_token` is the one issued with it, for `at_hash`.
    pub async fn id_token(
        &self,
        raw: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<Map<String, Value>> {
        const WHAT: &str = "the ID token";
        // RFC 8725 §3.11: an explicitly typed access token is not an ID token.
        if let Ok(header) = peek_header(raw) {
            if is_access_token_type(header.get("typ")) {
                return Err(Error::refused(
                    Rule::TokenConfusion,
                    "The provider sent an access token (typ at+jwt) where the ID token belongs, so Keyhole refused it.",
                ));
            }
        }
        let (header, claims) = self.jwt(raw, WHAT).await?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // OIDC Core §3.1.3.7 step 7: the algorithm the provider announced, and no other.
        if !self.id_token_algs.iter().any(|a| a == alg) {
            return Err(Error::refused(
                Rule::SigningAlgorithm,
                format!(
                    "The ID token is signed with {alg}, which the provider does not announce for ID tokens (it lists {:?}), so Keyhole refused it.",
                    self.id_token_algs
                ),
            ));
        }
        // OIDC Core §3.1.3.7 step 3: this client must be an audience, and no untrusted other.
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().map(|a| a.as_str().unwrap_or("")).collect(),
            _ => Vec::new(),
        };
        if !audiences.contains(&self.client_id) {
            return Err(Error::refused(
                Rule::Audience,
                format!(
                    "The ID token is meant for {}, not for this app's client ID {:?}; check the client ID.",
                    show(claims.get("aud")),
                    self.client_id
                ),
            ));
        }
        if audiences.iter().any(|a| *a != self.client_id) {
            return Err(Error::refused(
                Rule::Audience,
                format!(
                    "The ID token is also meant for other audiences ({}) that this app does not trust, so Keyhole refused it.",
                    show(claims.get("aud"))
                ),
            ));
        }
        match claims.get("azp") {
            None => {}
            Some(Value::String(azp)) if azp == self.client_id => {}
            other => {
                return Err(Error::refused(
                    Rule::Audience,
                    format!(
                    "The ID token was issued to {} (azp), not to this app, so Keyhole refused it.",
                    show(other)
                ),
                ))
            }
        }
        let Some(iat) = claims.get("iat").and_then(Value::as_f64) else {
            return Err(Error::verification(format!("{WHAT} has no iat claim")));
        };
        let age = now_secs() as f64 - iat;
        if age > (MAX_ID_TOKEN_AGE_SECS + CLOCK_SKEW_SECS) as f64 {
            return Err(Error::refused(
                Rule::Stale,
                format!(
                    "The ID token was issued {} minutes ago (iat), and Keyhole accepts only ID tokens issued in the last {} minutes; check this computer's clock, or sign in again.",
                    (age / 60.0).round(),
                    MAX_ID_TOKEN_AGE_SECS / 60
                ),
            ));
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
        if let (Some(at_hash), Some(access_token)) = (claims.get("at_hash"), access_token) {
            let expected = token_hash(alg, access_token);
            if at_hash.as_str() != expected.as_deref() {
                return Err(Error::refused(
                    Rule::AtHash,
                    "The ID token's at_hash does not match the access token it came with (a substituted token?), so Keyhole refused both.",
                ));
            }
        }
        Ok(claims)
    }

    /// Verifies an access token if it is a JWT; an opaque one is reported as such.
    pub async fn access_token(&self, raw: &str) -> Result<AccessTokenInfo> {
        const WHAT: &str = "the access token";
        check_length(raw, WHAT)?;
        let Ok(header) = peek_header(raw) else {
            return Ok(AccessTokenInfo::Opaque);
        };
        // RFC 9068 §2.1 and §4, RFC 8725 §3.11: a JWT access token is typed at+jwt (Clerk's are);
        // anything else, an untyped JWT or an ID token above all, is another kind of token.
        if !is_access_token_type(header.get("typ")) {
            return Err(Error::refused(
                Rule::TokenConfusion,
                format!(
                    "The access token is a JWT of type {}, not an access token (at+jwt), so Keyhole will not use it; the provider may be handing out another kind of token.",
                    show(header.get("typ"))
                ),
            ));
        }
        let (header, claims) = self.jwt(raw, WHAT).await?;
        Ok(AccessTokenInfo::Jwt { header, claims })
    }

    /// Verifies a Clerk session token minted for `session_id`: typed `JWT` (not an access or ID
    /// token, RFC 8725 §3.11), signed by the instance, issued by it, alive, for that session.
    pub async fn session_token(&self, raw: &str, session_id: &str) -> Result<Map<String, Value>> {
        const WHAT: &str = "the session token";
        check_length(raw, WHAT)?;
        let header = peek_header(raw)
            .map_err(|()| Error::verification(format!("{WHAT} is not a well-formed JWT")))?;
        if is_access_token_type(header.get("typ")) {
            return Err(Error::refused(
                Rule::TokenConfusion,
                "Clerk sent an OAuth access token (typ at+jwt) where a session token belongs, so Keyhole refused it.",
            ));
        }
        let (_, claims) = self.jwt(raw, WHAT).await?;
        if claims.get("sid").and_then(Value::as_str) != Some(session_id) {
            return Err(Error::verification(format!(
                "{WHAT} is for session {}, not for the one Keyhole holds",
                show(claims.get("sid"))
            )));
        }
        if claims
            .get("sub")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(Error::verification(format!("{WHAT} has no subject (sub)")));
        }
        Ok(claims)
    }

    /// Signature, algorithm, `iss`, `exp`, `nbf`, `iat`.
    async fn jwt(&self, raw: &str, what: &str) -> Result<(Map<String, Value>, Map<String, Value>)> {
        check_length(raw, what)?;
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

        crate::tokens::jws_crypto::install();
        let mut claims = None;
        for key in &keys {
            match jsonwebtoken::decode::<Map<String, Value>>(raw, &key.key, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
                Err(e) => return Err(describe(what, e, raw)),
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

/// True for the media types of RFC 9068 §2.1, compared case-insensitively (RFC 7515 §4.1.9).
fn is_access_token_type(typ: Option<&Value>) -> bool {
    typ.and_then(Value::as_str).is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    })
}

fn check_length(raw: &str, what: &str) -> Result<()> {
    if raw.len() > MAX_TOKEN_LEN {
        return Err(Error::refused(
            Rule::TooLarge,
            format!(
                "{} is longer than {} KiB, far more than any real token, so Keyhole refused it.",
                capitalize(what),
                MAX_TOKEN_LEN / 1024
            ),
        ));
    }
    Ok(())
}

/// OIDC Core §3.1.3.8: the left half of the token's hash with the JWS algorithm's hash function,
/// base64url-encoded. None for algorithms Keyhole does not verify.
pub(crate) fn token_hash(alg: &str, token: &str) -> Option<String> {
    use sha2::Digest as _;
    let digest = match alg {
        "RS256" => sha2::Sha256::digest(token.as_bytes()).to_vec(),
        "RS384" => sha2::Sha384::digest(token.as_bytes()).to_vec(),
        "RS512" => sha2::Sha512::digest(token.as_bytes()).to_vec(),
        _ => return None,
    };
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]))
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

fn describe(what: &str, error: jsonwebtoken::errors::Error, raw: &str) -> Error {
    let exp = || {
        peek_claims(raw)
            .and_then(|c| c.get("exp").and_then(Value::as_i64))
            .map(|exp| format!(" (exp {exp}, now {})", now_secs()))
            .unwrap_or_default()
    };
    let message = match error.kind() {
        ErrorKind::ExpiredSignature => format!("{what} has expired{}", exp()),
        ErrorKind::ImmatureSignature => {
            format!("{what} is not valid yet (nbf); check this computer's clock")
        }
        ErrorKind::MissingRequiredClaim(claim) => format!("{what} has no {claim} claim"),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            format!("{what} uses an algorithm that does not match the provider's key")
        }
        ErrorKind::InvalidClaimFormat(claim) => format!("{what}'s {claim} claim is malformed"),
        // RFC 7518 §3.3: RSA keys for RS256/384/512 are 2048 bits or larger.
        // Why the key is unusable is the source's to say.
        ErrorKind::InvalidRsaKey(_) => format!(
            "{what} is signed with a provider key that is not a usable RSA key; \
             keys under 2048 bits are refused"
        ),
        // The JWT library's words are the source, not repeated here.
        _ => format!("{what} could not be verified"),
    };
    Error::verification_from(message, error)
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
        encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
    }

    /// Every token these tests make, through the engine's crypto provider.
    fn encode(header: &Header, claims: &Value, key: &EncodingKey) -> String {
        crate::tokens::jws_crypto::install();
        jsonwebtoken::encode(header, claims, key).unwrap()
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
        check_id_with(token, nonce, None, &["RS256".to_owned()]).await
    }

    async fn check_id_with(
        token: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        algs: &[String],
    ) -> Result<Map<String, Value>> {
        let http = crate::http::client(std::time::Duration::from_secs(2));
        // Key A without its "alg", so a token may use any RS algorithm with it.
        let mut jwk: Value = serde_json::from_str(include_str!("testdata/rsa_a.jwk.json")).unwrap();
        jwk.as_object_mut().unwrap().remove("alg");
        let keys = KeySet::preloaded(
            url::Url::parse("http://127.0.0.1:9/jwks").unwrap(),
            &json!({"keys": [jwk]}),
        );
        let verifier = Verifier {
            http: &http,
            keys: &keys,
            issuer: ISSUER,
            client_id: CLIENT,
            id_token_algs: algs,
        };
        verifier.id_token(token, nonce, access_token).await
    }

    async fn check_access(token: &str) -> Result<AccessTokenInfo> {
        check_access_with(token, keys()).await
    }

    async fn check_access_with(token: &str, keys: KeySet) -> Result<AccessTokenInfo> {
        let http = crate::http::client(std::time::Duration::from_secs(2));
        let verifier = Verifier {
            http: &http,
            keys: &keys,
            issuer: ISSUER,
            client_id: CLIENT,
            id_token_algs: &[],
        };
        verifier.access_token(token).await
    }

    #[tokio::test]
    async fn a_provider_key_under_2048_bits_is_refused_by_name() {
        // Key A's JWK with its modulus cut to 1024 bits: the signature is never even checked.
        let mut jwk: Value = serde_json::from_str(include_str!("testdata/rsa_a.jwk.json")).unwrap();
        let n = jwk["n"].as_str().unwrap().to_owned();
        jwk["n"] = n[..171].into();
        let keys = KeySet::preloaded(
            url::Url::parse("http://127.0.0.1:9/jwks").unwrap(),
            &json!({"keys": [jwk]}),
        );
        let token = sign(&access_claims(), KEY_A, "key-a", "at+jwt");
        let err = check_access_with(&token, keys).await.unwrap_err();
        assert_eq!(err.kind(), "verification", "{err}");
        assert!(
            err.to_string().contains("keys under 2048 bits are refused"),
            "{err}"
        );
    }

    fn sign_with(claims: &Value, pem: &str, alg: Algorithm, typ: Option<&str>) -> String {
        let mut header = Header::new(alg);
        header.kid = Some("key-a".into());
        header.typ = typ.map(str::to_owned);
        encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
    }

    fn access_claims() -> Value {
        let now = now_secs();
        json!({"iss": ISSUER, "sub": "user_2test", "client_id": CLIENT, "exp": now + 600, "iat": now, "scope": "openid email"})
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
        let token = encode(
            &header,
            &id_claims(),
            &EncodingKey::from_secret(PUB_A.as_bytes()),
        );
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
        // The JWT library's own error stays in the chain, for logs.
        let source = std::error::Error::source(&err).expect("a source");
        assert!(
            source
                .downcast_ref::<jsonwebtoken::errors::Error>()
                .is_some(),
            "{source:?}"
        );
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
        // OIDC Core §3.1.3.7 step 3: another audience the client does not trust is refused,
        // even with azp naming this client.
        for aud in [
            json!([CLIENT, "other-app"]),
            json!(["other-app", CLIENT]),
            json!([CLIENT, CLIENT, ""]),
        ] {
            let several = with(with(id_claims(), "aud", aud.clone()), "azp", json!(CLIENT));
            let err = check_id(&sign(&several, KEY_A, "key-a", "JWT"), Some("n-123"))
                .await
                .unwrap_err();
            assert_eq!(err.rule(), Some(Rule::Audience), "{aud}: {err}");
        }
        // An azp naming another party is refused.
        let azp = with(id_claims(), "azp", json!("other-app"));
        let err = check_id(&sign(&azp, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::Audience), "{err}");
        // Only this client, as a string or a one-element array, passes.
        let array = with(id_claims(), "aud", json!([CLIENT]));
        check_id(&sign(&array, KEY_A, "key-a", "JWT"), Some("n-123"))
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
        assert_eq!(err.rule(), Some(Rule::TokenConfusion), "{err}");
        // RFC 7515 §4.1.9: media types compare case-insensitively.
        check_access(&sign(&claims, KEY_A, "key-a", "application/AT+JWT"))
            .await
            .unwrap();
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
        let token = encode(
            &header,
            &id_claims(),
            &EncodingKey::from_rsa_pem(KEY_A.as_bytes()).unwrap(),
        );
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

    #[tokio::test]
    async fn a_jwt_access_token_not_typed_at_jwt_is_refused_as_token_confusion() {
        for typ in [
            Some("JWT"),
            None,
            Some("jwt"),
            Some(""),
            Some("id_token+jwt"),
        ] {
            let token = sign_with(&access_claims(), KEY_A, Algorithm::RS256, typ);
            let err = check_access(&token).await.unwrap_err();
            assert_eq!(err.rule(), Some(Rule::TokenConfusion), "{typ:?}: {err}");
        }
        // The ID token itself, offered as the access token.
        let id = sign(&id_claims(), KEY_A, "key-a", "JWT");
        let err = check_access(&id).await.unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TokenConfusion), "{err}");
    }

    #[tokio::test]
    async fn an_access_token_offered_as_the_id_token_is_refused() {
        let token = sign(&id_claims(), KEY_A, "key-a", "at+jwt");
        let err = check_id(&token, Some("n-123")).await.unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TokenConfusion), "{err}");
    }

    #[tokio::test]
    async fn an_id_token_issued_too_long_ago_is_refused_as_stale() {
        let now = now_secs();
        let old = with(
            id_claims(),
            "iat",
            json!(now - MAX_ID_TOKEN_AGE_SECS - CLOCK_SKEW_SECS - 5),
        );
        let err = check_id(&sign(&old, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::Stale), "{err}");
        // Within the limit it passes.
        let recent = with(id_claims(), "iat", json!(now - MAX_ID_TOKEN_AGE_SECS + 5));
        check_id(&sign(&recent, KEY_A, "key-a", "JWT"), Some("n-123"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn tokens_beyond_the_size_cap_are_refused_before_parsing() {
        let huge = with(id_claims(), "pad", json!("x".repeat(MAX_TOKEN_LEN)));
        let token = sign(&huge, KEY_A, "key-a", "JWT");
        let err = check_id(&token, Some("n-123")).await.unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TooLarge), "{err}");
        let err = check_access(&"a".repeat(MAX_TOKEN_LEN + 1))
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TooLarge), "{err}");
    }

    #[tokio::test]
    async fn an_id_token_algorithm_the_provider_did_not_announce_is_refused() {
        let token = sign_with(&id_claims(), KEY_A, Algorithm::RS384, Some("JWT"));
        let err = check_id_with(&token, Some("n-123"), None, &["RS256".to_owned()])
            .await
            .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::SigningAlgorithm), "{err}");
        check_id_with(&token, Some("n-123"), None, &["RS384".to_owned()])
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_wrong_at_hash_is_refused_and_a_right_one_passes() {
        let access = "oat_2xKq8fA1b2c3";
        let right = token_hash("RS256", access).unwrap();
        let algs = ["RS256".to_owned()];
        let good = with(id_claims(), "at_hash", json!(right));
        check_id_with(
            &sign(&good, KEY_A, "key-a", "JWT"),
            Some("n-123"),
            Some(access),
            &algs,
        )
        .await
        .unwrap();
        for wrong in [
            json!("AAAAAAAAAAAAAAAAAAAAAA"),
            json!(""),
            json!(42),
            Value::Null,
        ] {
            let bad = with(id_claims(), "at_hash", wrong.clone());
            let err = check_id_with(
                &sign(&bad, KEY_A, "key-a", "JWT"),
                Some("n-123"),
                Some(access),
                &algs,
            )
            .await
            .unwrap_err();
            assert_eq!(err.rule(), Some(Rule::AtHash), "{wrong}: {err}");
        }
        // The hash of another access token does not pass either.
        let other = with(
            id_claims(),
            "at_hash",
            json!(token_hash("RS256", "oat_other").unwrap()),
        );
        let err = check_id_with(
            &sign(&other, KEY_A, "key-a", "JWT"),
            Some("n-123"),
            Some(access),
            &algs,
        )
        .await
        .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::AtHash), "{err}");
    }

    #[test]
    fn at_hash_matches_the_oidc_core_example() {
        // OIDC Core, Appendix A.3: at_hash of this access token with RS256.
        assert_eq!(
            token_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").as_deref(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        );
    }
}
