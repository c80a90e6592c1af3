//! The parsers of outside input as plain functions, for the fuzz targets (`fuzz/`) and the
//! property tests (`tests/properties.rs`). Behind the `fuzzing` feature, so it is not part of the
//! crate's API: not a supported API, it may change at any time.

use serde_json::{Map, Value};

use crate::error::Rule;
use crate::Result;

pub use crate::settings::config::{
    issuer_from_publishable_key as publishable_key, parse_api_url as api_url,
};
pub use crate::signin::discovery::check_document as discovery;
pub use crate::tokens::grant::{parse_token_response as token_response, MAX_TOKEN_LEN};
pub use crate::tokens::verify::{AccessTokenInfo, MAX_ID_TOKEN_AGE_SECS};

/// A JWT's JOSE header, read without trusting it.
pub fn jwt_header(raw: &str) -> Option<Map<String, Value>> {
    crate::tokens::verify::peek_header(raw).ok()
}

/// A JWKS document: how many keys may verify signatures.
pub fn jwks(body: &[u8]) -> Result<usize> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|e| crate::Error::discovery_from("the JWKS is not JSON", e))?;
    Ok(crate::tokens::jwks::parse_key_set(&document)?
        .iter()
        .filter(|k| k.verifies)
        .count())
}

/// The loopback listener's verdict on one raw request, with `state` issued and `port` bound:
/// None when the head is unreadable; else the status, the rule a refusal broke, and the code
/// (Ok) or error (Err) when the request ends the flow.
pub fn callback(
    raw: &[u8],
    state: &str,
    issuer: &str,
    port: u16,
) -> Option<(u16, Option<Rule>, Option<Result<String>>)> {
    let state = oauth2::CsrfToken::new(state.to_owned());
    let expected = crate::signin::loopback::Expected {
        state: &state,
        issuer,
        require_iss: false,
        carries: crate::signin::loopback::CODE,
    };
    let (status, rule, outcome) = crate::signin::loopback::judge_raw(raw, port, &expected)?;
    Some((status, rule, outcome.map(|o| o.map(|c| c.secret().clone()))))
}

/// Who checks tokens in [`id_token`] and [`access_token`].
pub struct Checker<'a> {
    /// The provider's JWKS document.
    pub jwks: &'a Value,
    /// The issuer.
    pub issuer: &'a str,
    /// This client.
    pub client_id: &'a str,
    /// `id_token_signing_alg_values_supported`.
    pub id_token_algs: &'a [String],
}

fn run<T>(
    checker: &Checker<'_>,
    check: impl AsyncFnOnce(&crate::tokens::verify::Verifier<'_>) -> T,
) -> T {
    // One runtime and client per thread, not per input: building them costs more than most
    // checks, and the fuzzer runs millions of inputs.
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("no runtime: {e}"));
        static HTTP: reqwest::Client = crate::http::client(std::time::Duration::from_millis(200));
    }
    // An unreachable JWKS URL: a refetch fails at once, nothing leaves the machine.
    let uri = url::Url::parse("http://127.0.0.1:9/jwks").unwrap_or_else(|_| unreachable!());
    let keys = crate::tokens::jwks::KeySet::preloaded(uri, checker.jwks);
    HTTP.with(|http| {
        let verifier = crate::tokens::verify::Verifier {
            http,
            keys: &keys,
            issuer: checker.issuer,
            client_id: checker.client_id,
            id_token_algs: checker.id_token_algs,
        };
        RUNTIME.with(|runtime| runtime.block_on(check(&verifier)))
    })
}

/// Verifies an ID token as a sign-in does.
pub fn id_token(
    checker: &Checker<'_>,
    raw: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Result<Map<String, Value>> {
    run(checker, async |v| {
        v.id_token(raw, nonce, access_token).await
    })
}

/// Verifies an access token as a sign-in does.
pub fn access_token(checker: &Checker<'_>, raw: &str) -> Result<AccessTokenInfo> {
    run(checker, async |v| v.access_token(raw).await)
}
