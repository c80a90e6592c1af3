//! The provider's signing keys, fetched from the discovered `jwks_uri` and cached by `kid`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use url::Url;

use crate::error::{Error, Result, Rule};
use crate::http;

/// How long a `kid` that was still missing after a refetch is remembered as missing.
const MISSING_KID_MEMORY: Duration = Duration::from_secs(300);

/// One usable verification key.
#[derive(Clone)]
pub(crate) struct Key {
    pub kid: Option<String>,
    pub alg: Option<Algorithm>,
    pub key: DecodingKey,
    /// False when `use` or `key_ops` say the key is not for verifying signatures (RFC 7517 §4.2,
    /// §4.3). Kept, not dropped, so a token naming it is refused for that reason.
    pub verifies: bool,
}

#[derive(Default)]
struct Cache {
    keys: Vec<Key>,
    fetched: bool,
    /// Kids that were unknown even right after a refetch, and when.
    missing: Vec<(String, Instant)>,
    fetches: u32,
}

/// The provider's key set, loaded on first use and refetched once when a token names an unknown
/// `kid` (key rotation) — not once per token.
pub struct KeySet {
    jwks_uri: Url,
    cache: tokio::sync::Mutex<Cache>,
}

impl KeySet {
    /// A key set for `jwks_uri`; nothing is fetched until a token needs a key.
    pub fn new(jwks_uri: Url) -> Self {
        KeySet {
            jwks_uri,
            cache: tokio::sync::Mutex::new(Cache::default()),
        }
    }

    /// A key set already holding the keys of `document` (a kept copy, or tests and fuzz targets
    /// that check tokens without HTTP); an unknown `kid` still refetches.
    pub(crate) fn preloaded(jwks_uri: Url, document: &serde_json::Value) -> Self {
        let keys = parse_key_set(document).unwrap_or_default();
        KeySet {
            jwks_uri,
            cache: tokio::sync::Mutex::new(Cache {
                keys,
                fetched: true,
                ..Cache::default()
            }),
        }
    }

    /// How many times the JWKS was fetched (for tests and diagnostics).
    #[cfg(any(test, feature = "test-support"))]
    pub async fn fetch_count(&self) -> u32 {
        self.cache.lock().await.fetches
    }

    /// The candidate keys for a token's `kid` and `alg`. The lock is held across the fetch so
    /// concurrent verifications share one request.
    pub(crate) async fn keys_for(
        &self,
        http: &reqwest::Client,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<Vec<Key>> {
        let mut cache = self.cache.lock().await;
        if !cache.fetched {
            self.fetch(http, &mut cache).await?;
        }
        let found = matching(&cache.keys, kid, alg);
        if !found.is_empty() {
            return only_verifying(found);
        }
        let Some(kid) = kid else {
            return Err(Error::verification(format!(
                "the provider publishes no {alg:?} key to check this token with"
            )));
        };
        cache
            .missing
            .retain(|(_, at)| at.elapsed() < MISSING_KID_MEMORY);
        if !cache.missing.iter().any(|(k, _)| k == kid) {
            // Maybe the provider rotated its keys since the last fetch.
            self.fetch(http, &mut cache).await?;
            let found = matching(&cache.keys, Some(kid), alg);
            if !found.is_empty() {
                return only_verifying(found);
            }
            cache.missing.push((kid.to_owned(), Instant::now()));
        }
        Err(Error::verification(format!(
            "the token is signed with key {kid:?}, which the provider's JWKS at {} does not contain",
            self.jwks_uri
        )))
    }

    async fn fetch(&self, http: &reqwest::Client, cache: &mut Cache) -> Result<()> {
        cache.fetches += 1;
        let document: serde_json::Value =
            http::get_json(http, self.jwks_uri.as_str(), "the signing keys (JWKS)").await?;
        cache.keys = parse_key_set(&document)?;
        cache.fetched = true;
        cache.missing.clear();
        Ok(())
    }
}

/// The keys that may verify signatures; refused by rule when the token's key may not.
fn only_verifying(found: Vec<Key>) -> Result<Vec<Key>> {
    let usable: Vec<Key> = found.into_iter().filter(|k| k.verifies).collect();
    if usable.is_empty() {
        return Err(Error::refused(
            Rule::KeyUse,
            "The provider's key for this token is not meant for verifying signatures (its use or key_ops say otherwise), so Keyhole refused the token.",
        ));
    }
    Ok(usable)
}

/// Parses a JWKS key by key, keeping the RSA keys and skipping what Keyhole cannot use (one
/// unknown key type must not make the whole set unusable).
pub(crate) fn parse_key_set(document: &serde_json::Value) -> Result<Vec<Key>> {
    let entries = document
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| Error::discovery("the JWKS has no \"keys\" array"))?;
    let mut seen = HashSet::new();
    let keys = entries
        .iter()
        .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
        .filter_map(|jwk| {
            let use_ok = !matches!(
                jwk.common.public_key_use,
                Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
            );
            let ops_ok = jwk
                .common
                .key_operations
                .as_ref()
                .is_none_or(|ops| ops.contains(&KeyOperations::Verify));
            let alg = match jwk.common.key_algorithm {
                None => None,
                Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
                Some(KeyAlgorithm::RS384) => Some(Algorithm::RS384),
                Some(KeyAlgorithm::RS512) => Some(Algorithm::RS512),
                Some(_) => return None,
            };
            if !matches!(
                jwk.algorithm,
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
            ) {
                return None;
            }
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            Some(Key {
                kid: jwk.common.key_id,
                alg,
                key,
                verifies: use_ok && ops_ok,
            })
        })
        .filter(|k| seen.insert(k.kid.clone()) || k.kid.is_none())
        .collect();
    Ok(keys)
}

fn matching(keys: &[Key], kid: Option<&str>, alg: Algorithm) -> Vec<Key> {
    keys.iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .filter(|k| k.alg.is_none_or(|a| a == alg))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let rsa: serde_json::Value =
            serde_json::from_str(include_str!("testdata/rsa_a.jwk.json")).unwrap();
        let doc = serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "X448", "x": "abc", "kid": "weird"},
            {"kty": "future-type", "kid": "unknown"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": rsa["n"], "e": rsa["e"]},
            {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            rsa,
        ]});
        let keys: Vec<Key> = parse_key_set(&doc)
            .unwrap()
            .into_iter()
            .filter(|k| k.verifies)
            .collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("key-a"));
    }

    #[test]
    fn a_key_whose_key_ops_lack_verify_is_refused_by_rule() {
        let rsa: serde_json::Value =
            serde_json::from_str(include_str!("testdata/rsa_a.jwk.json")).unwrap();
        for ops in [
            serde_json::json!(["sign"]),
            serde_json::json!(["encrypt", "wrapKey"]),
            serde_json::json!([]),
        ] {
            let mut key = rsa.clone();
            key["key_ops"] = ops.clone();
            let keys = parse_key_set(&serde_json::json!({ "keys": [key] })).unwrap();
            let err = only_verifying(matching(&keys, Some("key-a"), Algorithm::RS256))
                .err()
                .unwrap();
            assert_eq!(err.rule(), Some(Rule::KeyUse), "{ops}: {err}");
        }
        let mut key = rsa;
        key["key_ops"] = serde_json::json!(["verify"]);
        let keys = parse_key_set(&serde_json::json!({ "keys": [key] })).unwrap();
        assert_eq!(
            only_verifying(matching(&keys, Some("key-a"), Algorithm::RS256))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_document_without_keys_is_an_error() {
        assert!(parse_key_set(&serde_json::json!({"nokeys": []})).is_err());
    }
}
