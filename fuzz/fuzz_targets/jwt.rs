//! JWTs as ID and access tokens: never a panic, never accepted without the provider's signature.
#![no_main]
use keyhole_core::fuzzing::{self, Checker};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let _ = fuzzing::jwt_header(raw);
    let jwk: serde_json::Value =
        serde_json::from_str(include_str!("../../crates/keyhole-core/src/tokens/testdata/rsa_a.jwk.json"))
            .unwrap_or_default();
    let jwks = serde_json::json!({ "keys": [jwk] });
    let algs = ["RS256".to_owned()];
    let checker = Checker {
        jwks: &jwks,
        issuer: "https://clerk.example.com",
        client_id: "keyhole-client",
        id_token_algs: &algs,
    };
    // The fuzzer cannot sign with key A: anything accepted is a verification bug.
    assert!(fuzzing::id_token(&checker, raw, None, None).is_err());
    if let Ok(fuzzing::AccessTokenInfo::Jwt { .. }) = fuzzing::access_token(&checker, raw) {
        panic!("an unsigned JWT access token was accepted");
    }
});
