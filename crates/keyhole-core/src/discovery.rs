//! OpenID Provider metadata from `<issuer>/.well-known/openid-configuration`.

use serde::Deserialize;
use url::Url;

use crate::config::is_loopback_host;
use crate::error::{Error, Result};
use crate::http;

/// The provider endpoints and capabilities Keyhole uses, read from discovery and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// The issuer, exactly as the document names it (equal to the configured one).
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: Url,
    /// Where codes and refresh tokens are exchanged.
    pub token_endpoint: Url,
    /// The signing keys.
    pub jwks_uri: Url,
    /// OIDC userinfo, when offered.
    pub userinfo_endpoint: Option<Url>,
    /// RFC 7009 revocation (Clerk: `/oauth/token/revoke`), when offered.
    pub revocation_endpoint: Option<Url>,
    /// RFC 9207: the provider always sends `iss` in the authorization response.
    pub authorization_response_iss_parameter_supported: bool,
}

#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    response_types_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// The discovery URL for an issuer (OIDC Discovery §4: a trailing slash is removed before appending).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Fetches and checks the provider's metadata for `issuer`.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata> {
    let url = discovery_url(issuer);
    let document: Document = http::get_json(http, &url, "the discovery document").await?;
    check(document, issuer, &url)
}

fn check(doc: Document, issuer: &str, url: &str) -> Result<ProviderMetadata> {
    // OIDC Discovery §4.3: the issuer must be identical to the one used to build the URL.
    // Accept what the user typed or the same without its trailing slash, since that prefix was used.
    if doc.issuer != issuer && doc.issuer != issuer.trim_end_matches('/') {
        return Err(Error::Discovery(format!(
            "the provider at {url} calls itself {:?}, not {issuer:?}; the instance must be the exact issuer URL (wrong instance, or a proxy in between?)",
            doc.issuer
        )));
    }
    if let Some(methods) = &doc.code_challenge_methods_supported {
        if !methods.iter().any(|m| m == "S256") {
            return Err(Error::Discovery(format!(
                "the provider does not support PKCE with S256 (it lists {methods:?}); Keyhole needs it"
            )));
        }
    }
    if let Some(types) = &doc.response_types_supported {
        if !types.iter().any(|t| t == "code") {
            return Err(Error::Discovery(
                "the provider does not support the authorization code flow (response_type=code)"
                    .into(),
            ));
        }
    }
    let endpoint = |name: &str, value: &str| -> Result<Url> {
        let parsed = Url::parse(value).map_err(|e| {
            Error::Discovery(format!(
                "the provider's {name} {value:?} is not a URL ({e})"
            ))
        })?;
        let secure = parsed.scheme() == "https"
            || (parsed.scheme() == "http" && parsed.host_str().is_some_and(is_loopback_host));
        if !secure {
            return Err(Error::Discovery(format!(
                "the provider's {name} {value:?} must use https"
            )));
        }
        Ok(parsed)
    };
    let optional = |name: &str, value: &Option<String>| {
        value.as_deref().map(|v| endpoint(name, v)).transpose()
    };
    Ok(ProviderMetadata {
        authorization_endpoint: endpoint("authorization_endpoint", &doc.authorization_endpoint)?,
        token_endpoint: endpoint("token_endpoint", &doc.token_endpoint)?,
        jwks_uri: endpoint("jwks_uri", &doc.jwks_uri)?,
        userinfo_endpoint: optional("userinfo_endpoint", &doc.userinfo_endpoint)?,
        revocation_endpoint: optional("revocation_endpoint", &doc.revocation_endpoint)?,
        authorization_response_iss_parameter_supported: doc
            .authorization_response_iss_parameter_supported,
        issuer: doc.issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: serde_json::Value) -> Document {
        serde_json::from_value(json).unwrap()
    }

    fn clerk_like() -> serde_json::Value {
        serde_json::json!({
            "issuer": "https://clerk.example.com",
            "authorization_endpoint": "https://clerk.example.com/oauth/authorize",
            "token_endpoint": "https://clerk.example.com/oauth/token",
            "jwks_uri": "https://clerk.example.com/.well-known/jwks.json",
            "revocation_endpoint": "https://clerk.example.com/oauth/token/revoke",
            "code_challenge_methods_supported": ["S256"],
            "response_types_supported": ["code"]
        })
    }

    const URL: &str = "https://clerk.example.com/.well-known/openid-configuration";

    #[test]
    fn discovery_url_drops_a_trailing_slash() {
        assert_eq!(
            discovery_url("https://a.test/"),
            "https://a.test/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a.test/t1"),
            "https://a.test/t1/.well-known/openid-configuration"
        );
    }

    #[test]
    fn endpoints_come_from_the_document() {
        let m = check(doc(clerk_like()), "https://clerk.example.com", URL).unwrap();
        assert_eq!(m.token_endpoint.path(), "/oauth/token");
        assert_eq!(m.revocation_endpoint.unwrap().path(), "/oauth/token/revoke");
        assert!(!m.authorization_response_iss_parameter_supported);
    }

    #[test]
    fn an_issuer_that_differs_at_all_is_refused() {
        for issuer in [
            "https://clerk.example.com.evil.test",
            "https://CLERK.example.com",
            "https://clerk.example.com/x",
        ] {
            let mut d = clerk_like();
            d["issuer"] = issuer.into();
            let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
            assert_eq!(err.kind(), "discovery", "{issuer}");
        }
    }

    #[test]
    fn a_provider_without_s256_is_refused() {
        let mut d = clerk_like();
        d["code_challenge_methods_supported"] = serde_json::json!(["plain"]);
        let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
        assert!(err.to_string().contains("S256"), "{err}");
    }

    #[test]
    fn plain_http_endpoints_are_refused_off_loopback() {
        let mut d = clerk_like();
        d["token_endpoint"] = "http://clerk.example.com/oauth/token".into();
        let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
        assert!(err.to_string().contains("token_endpoint"), "{err}");
    }
}
