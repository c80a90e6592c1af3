//! Property tests of every parser of outside input: callback request, discovery document, token
//! response, JWT header and claims, JWKS, publishable key, API URL. None may panic, and each rule
//! holds for every input proptest can find. `PROPTEST_CASES` raises the case count (default 48,
//! so the suite stays within seconds in CI). They reach the parsers through the `fuzzing` feature:
//! `cargo test -p keyhole-core --features fuzzing --test properties`.

use std::sync::OnceLock;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use keyhole_core::fuzzing::{self, Checker};
use keyhole_core::Rule;
use proptest::prelude::*;
use serde_json::{json, Value};

const ISSUER: &str = "https://clerk.example.com";
const CLIENT: &str = "keyhole-client";
const PORT: u16 = 8765;
const STATE: &str = "Zq0vX3w9pT2mK7sL1cB8nR4yH6dF5gJ0aE2uI9oQ";

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Shrinking is for humans reading a failure; keep CI bounded.
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn callback(target: &str, host: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

fn jwks() -> &'static Value {
    static JWKS: OnceLock<Value> = OnceLock::new();
    JWKS.get_or_init(|| {
        let jwk: Value =
            serde_json::from_str(include_str!("../src/tokens/testdata/rsa_a.jwk.json")).unwrap();
        json!({ "keys": [jwk] })
    })
}

fn checker() -> Checker<'static> {
    static ALGS: OnceLock<Vec<String>> = OnceLock::new();
    Checker {
        jwks: jwks(),
        issuer: ISSUER,
        client_id: CLIENT,
        id_token_algs: ALGS.get_or_init(|| vec!["RS256".to_owned()]),
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("key-a".into());
    header.typ = typ.map(str::to_owned);
    let key =
        EncodingKey::from_rsa_pem(include_bytes!("../src/tokens/testdata/rsa_a.pem")).unwrap();
    keyhole_core::jws_crypto::install();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// One honest ID token, signed once (RSA signing is slow in debug builds).
fn good_id_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let now = now();
        sign(
            Some("JWT"),
            &json!({"iss": ISSUER, "sub": "user_2p", "aud": CLIENT, "exp": now + 3600, "iat": now, "nonce": "n"}),
        )
    })
}

fn honest_discovery() -> Value {
    json!({
        "issuer": ISSUER,
        "authorization_endpoint": format!("{ISSUER}/oauth/authorize"),
        "token_endpoint": format!("{ISSUER}/oauth/token"),
        "userinfo_endpoint": format!("{ISSUER}/oauth/userinfo"),
        "revocation_endpoint": format!("{ISSUER}/oauth/token/revoke"),
        "jwks_uri": format!("{ISSUER}/.well-known/jwks.json"),
        "code_challenge_methods_supported": ["S256"],
        "response_types_supported": ["code"],
    })
}

fn honest_token_response() -> Value {
    json!({"access_token": "oat_2xKq8fA1b2c3", "token_type": "Bearer", "expires_in": 3600,
           "refresh_token": "rt_1", "scope": "openid email", "id_token": "a.b.c"})
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const BACK_CHANNEL: [&str; 4] = [
    "token_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "userinfo_endpoint",
];
const TOKEN_MEMBERS: [&str; 6] = [
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "id_token",
];

proptest! {
    #![proptest_config(config())]

    // ---- callback request (loopback listener) ----

    #[test]
    fn any_bytes_at_the_callback_never_panic(raw in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = fuzzing::callback(&raw, STATE, ISSUER, PORT);
    }

    #[test]
    fn any_callback_whose_state_differs_in_any_way_is_refused(
        state in "[ -~]{0,60}".prop_filter("differs", |s| s != STATE),
        code in "[A-Za-z0-9_-]{1,20}",
    ) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", &code)
            .append_pair("state", &state)
            .finish();
        let raw = callback(&format!("/callback?{query}"), &format!("127.0.0.1:{PORT}"));
        let (status, _, outcome) = fuzzing::callback(&raw, STATE, ISSUER, PORT).unwrap();
        prop_assert_eq!(status, 400);
        prop_assert!(outcome.is_none(), "a callback with another state ended the flow");
    }

    #[test]
    fn the_issued_state_with_the_right_host_yields_exactly_the_code(code in "[A-Za-z0-9_.~-]{1,40}") {
        let raw = callback(&format!("/callback?code={code}&state={STATE}"), &format!("127.0.0.1:{PORT}"));
        let (status, _, outcome) = fuzzing::callback(&raw, STATE, ISSUER, PORT).unwrap();
        prop_assert_eq!(status, 200);
        prop_assert_eq!(outcome.unwrap().unwrap(), code);
    }

    #[test]
    fn any_other_host_is_refused_whatever_the_request_carries(
        host in "[ -~]{0,40}".prop_filter("other host", |h| h.trim() != format!("127.0.0.1:{PORT}")),
    ) {
        let raw = callback(&format!("/callback?code=c&state={STATE}"), &host);
        if let Some((status, rule, outcome)) = fuzzing::callback(&raw, STATE, ISSUER, PORT) {
            prop_assert_eq!(status, 421);
            prop_assert_eq!(rule, Some(Rule::LoopbackHost));
            prop_assert!(outcome.is_none());
        }
    }

    // ---- discovery document ----

    #[test]
    fn any_discovery_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..400), doc in any_json()) {
        let _ = fuzzing::discovery(&raw, ISSUER);
        let _ = fuzzing::discovery(doc.to_string().as_bytes(), ISSUER);
    }

    #[test]
    fn a_back_channel_endpoint_on_any_other_origin_is_refused(
        which in 0..BACK_CHANNEL.len(),
        scheme in prop_oneof![Just("https"), Just("http")],
        host in "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,2}",
        port in prop::option::of(1u16..),
    ) {
        let origin = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        // Hosts the URL standard reads as (bad) IPv4 addresses are not URLs at all: refused elsewhere.
        let parsed = url::Url::parse(&origin);
        prop_assume!(parsed.is_ok());
        prop_assume!(parsed.unwrap().origin() != url::Url::parse(ISSUER).unwrap().origin());
        let mut doc = honest_discovery();
        doc[BACK_CHANNEL[which]] = format!("{origin}/x").into();
        let err = fuzzing::discovery(doc.to_string().as_bytes(), ISSUER).unwrap_err();
        // Plain http off loopback is refused first, by its own check; otherwise by origin.
        if scheme == "https" {
            prop_assert_eq!(err.rule(), Some(Rule::EndpointOrigin), "{}", err);
        } else {
            prop_assert!(err.kind() == "discovery" || err.rule() == Some(Rule::EndpointOrigin), "{}", err);
        }
    }

    #[test]
    fn metadata_without_s256_in_its_pkce_methods_is_refused(
        methods in prop::option::of(prop::collection::vec("[ -~]{0,8}".prop_filter("not S256", |m| m != "S256"), 0..4)),
    ) {
        let mut doc = honest_discovery();
        match methods {
            Some(list) => doc["code_challenge_methods_supported"] = json!(list),
            None => { doc.as_object_mut().unwrap().remove("code_challenge_methods_supported"); }
        }
        let err = fuzzing::discovery(doc.to_string().as_bytes(), ISSUER).unwrap_err();
        prop_assert_eq!(err.rule(), Some(Rule::PkceUnsupported));
    }

    // ---- token response ----

    #[test]
    fn any_token_response_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..400), doc in any_json()) {
        let _ = fuzzing::token_response(&raw);
        let _ = fuzzing::token_response(doc.to_string().as_bytes());
    }

    #[test]
    fn any_token_type_but_bearer_is_refused(token_type in "[ -~]{0,12}".prop_filter("not bearer", |t| !t.eq_ignore_ascii_case("bearer"))) {
        let mut r = honest_token_response();
        r["token_type"] = token_type.into();
        let err = fuzzing::token_response(r.to_string().as_bytes()).unwrap_err();
        prop_assert_eq!(err.rule(), Some(Rule::TokenType));
    }

    #[test]
    fn a_null_member_is_never_read_as_absent(which in 0..TOKEN_MEMBERS.len()) {
        let mut r = honest_token_response();
        r[TOKEN_MEMBERS[which]] = Value::Null;
        let err = fuzzing::token_response(r.to_string().as_bytes()).unwrap_err();
        prop_assert!(matches!(err.rule(), Some(Rule::TokenResponse | Rule::TokenType)), "{}", err);
    }

    #[test]
    fn any_string_expires_in_is_refused_by_name(expires_in in ".{0,12}") {
        let mut r = honest_token_response();
        r["expires_in"] = expires_in.into();
        let err = fuzzing::token_response(r.to_string().as_bytes()).unwrap_err();
        prop_assert_eq!(err.rule(), Some(Rule::TokenResponse));
        prop_assert!(err.to_string().contains("expires_in is a string"), "{}", err);
    }

    #[test]
    fn an_accepted_access_token_is_a_nonempty_b64token(token in "[ -~]{0,24}") {
        let mut r = honest_token_response();
        r["access_token"] = token.clone().into();
        let ok = fuzzing::token_response(r.to_string().as_bytes()).is_ok();
        let body = token.trim_end_matches('=');
        let b64token = !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
        prop_assert_eq!(ok, b64token);
    }

    // ---- JWT header and claims ----

    #[test]
    fn any_jwt_shaped_input_never_panics(header in any_json(), claims in any_json(), sig in prop::collection::vec(any::<u8>(), 0..80)) {
        let raw = format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()), b64(&sig));
        let _ = fuzzing::jwt_header(&raw);
        let _ = fuzzing::id_token(&checker(), &raw, Some("n"), None);
        let _ = fuzzing::access_token(&checker(), &raw);
    }

    #[test]
    fn any_jwt_whose_signature_bytes_change_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..) {
        let good = good_id_token();
        let (signed, signature) = good.rsplit_once('.').unwrap();
        let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).unwrap();
        let i = index.index(bytes.len());
        bytes[i] ^= flip;
        let forged = format!("{signed}.{}", b64(&bytes));
        let refused = fuzzing::id_token(&checker(), &forged, Some("n"), None);
        prop_assert_eq!(refused.err().map(|e| e.kind()), Some("verification"));
    }

    #[test]
    fn any_jwt_access_token_not_typed_at_jwt_is_refused(typ in prop::option::of("[ -~]{0,16}")) {
        prop_assume!(!typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")));
        let mut header = json!({"alg": "RS256", "kid": "key-a"});
        if let Some(t) = &typ { header["typ"] = t.clone().into(); }
        let raw = format!("{}.{}.c2ln", b64(header.to_string().as_bytes()), b64(b"{}"));
        let err = fuzzing::access_token(&checker(), &raw).unwrap_err();
        prop_assert_eq!(err.rule(), Some(Rule::TokenConfusion));
    }

    #[test]
    fn any_other_audience_beside_the_client_is_refused(others in prop::collection::vec("[ -~]{0,12}", 1..4)) {
        prop_assume!(others.iter().any(|o| o != CLIENT));
        let mut aud = vec![CLIENT.to_owned()];
        aud.extend(others);
        // Header and claims are checked after the signature: sign this one (slow; few cases).
        let now = now();
        let token = sign(Some("JWT"), &json!({"iss": ISSUER, "sub": "u", "aud": aud, "azp": CLIENT, "exp": now + 60, "iat": now}));
        let err = fuzzing::id_token(&checker(), &token, None, None).unwrap_err();
        prop_assert_eq!(err.rule(), Some(Rule::Audience));
    }

    // ---- JWKS ----

    #[test]
    fn any_jwks_never_panics(raw in prop::collection::vec(any::<u8>(), 0..400), doc in any_json(), key in any_json()) {
        let _ = fuzzing::jwks(&raw);
        let _ = fuzzing::jwks(doc.to_string().as_bytes());
        let _ = fuzzing::jwks(json!({"keys": [key]}).to_string().as_bytes());
    }

    #[test]
    fn a_key_whose_key_ops_lack_verify_never_counts(ops in prop::collection::vec("[a-zA-Z]{0,10}".prop_filter("not verify", |o| o != "verify"), 0..4)) {
        let mut doc = jwks().clone();
        doc["keys"][0]["key_ops"] = json!(ops);
        prop_assert_eq!(fuzzing::jwks(doc.to_string().as_bytes()).unwrap_or(0), 0);
    }

    // ---- publishable key ----

    #[test]
    fn any_publishable_key_never_panics_and_only_decodes_to_an_https_host(key in "(pk_(test|live)_)?[ -~]{0,60}") {
        if let Ok(issuer) = fuzzing::publishable_key(&key) {
            let host = issuer.strip_prefix("https://").unwrap();
            prop_assert!(host.contains('.'));
            prop_assert!(host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
        }
    }

    #[test]
    fn every_valid_frontend_api_host_round_trips(host in "[a-z0-9-]{1,12}(\\.[a-z0-9-]{1,12}){1,3}") {
        let key = format!("pk_live_{}", base64::engine::general_purpose::STANDARD.encode(format!("{host}$")));
        prop_assert_eq!(fuzzing::publishable_key(&key).unwrap(), format!("https://{host}"));
    }

    // ---- API URL ----

    #[test]
    fn any_api_url_never_panics_and_an_accepted_one_is_safe_to_send_a_token_to(input in "[ -~]{0,60}", tail in "[ -~]{0,30}") {
        for candidate in [input.clone(), format!("http://{tail}"), format!("https://a.test/{tail}")] {
            if let Ok(url) = fuzzing::api_url(&candidate) {
                prop_assert!(matches!(url.scheme(), "http" | "https"));
                prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
                prop_assert!(url.username().is_empty() && url.password().is_none());
                prop_assert!(url.fragment().is_none());
            }
        }
    }
}

#[test]
fn the_honest_fixtures_pass_so_the_properties_can_fail() {
    fuzzing::discovery(honest_discovery().to_string().as_bytes(), ISSUER).unwrap();
    fuzzing::token_response(honest_token_response().to_string().as_bytes()).unwrap();
    fuzzing::id_token(&checker(), good_id_token(), Some("n"), None).unwrap();
    assert_eq!(fuzzing::jwks(jwks().to_string().as_bytes()).unwrap(), 1);
    let raw = callback(
        &format!("/callback?code=c&state={STATE}"),
        &format!("127.0.0.1:{PORT}"),
    );
    assert_eq!(fuzzing::callback(&raw, STATE, ISSUER, PORT).unwrap().0, 200);
}
