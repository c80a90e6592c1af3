//! OpenID Provider metadata from `<issuer>/.well-known/openid-configuration`.

use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result, Rule};
use crate::http;
use crate::settings::config::is_loopback_host;

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
    /// RFC 8628 device authorization, when offered (then the device flow can be used).
    pub device_authorization_endpoint: Option<Url>,
    /// RFC 7591 dynamic client registration, when offered (then no client ID is needed).
    pub registration_endpoint: Option<Url>,
    /// The provider takes a Client ID Metadata Document's URL as a client ID (MCP 2025-11-25).
    pub client_id_metadata_document_supported: bool,
    /// The algorithms the provider signs ID tokens with; `["RS256"]` when it does not say
    /// (RS256 is OIDC's default). An ID token signed otherwise is refused.
    pub id_token_signing_alg_values_supported: Vec<String>,
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
    device_authorization_endpoint: Option<String>,
    #[serde(default)]
    registration_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    response_types_supported: Option<Vec<String>>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
    #[serde(default)]
    client_id_metadata_document_supported: bool,
    #[serde(default)]
    id_token_signing_alg_values_supported: Option<Vec<String>>,
}

/// The discovery URL for an issuer (OIDC Discovery §4: a trailing slash is removed before appending).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Fetches and checks the provider's metadata for `issuer`. Every back-channel endpoint must be
/// on the issuer's origin (see [`crate::Config::trust_endpoint_origin`] for the opt-in).
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<ProviderMetadata> {
    discover_trusting(http, issuer, &[]).await
}

/// [`discover`], also accepting back-channel endpoints on the `trusted` origins.
pub(crate) async fn discover_trusting(
    http: &reqwest::Client,
    issuer: &str,
    trusted: &[url::Origin],
) -> Result<ProviderMetadata> {
    let url = discovery_url(issuer);
    let document: Document = http::get_json(http, &url, "the discovery document").await?;
    check(document, issuer, &url, trusted)
}

/// Parses and checks a discovery document (for the fuzz targets and property tests).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
#[cfg(any(test, feature = "fuzzing"))]
pub fn check_document(body: &[u8], issuer: &str) -> Result<ProviderMetadata> {
    let document: Document = serde_json::from_slice(body).map_err(|e| {
        let message = "the discovery document is not valid JSON of the expected shape";
        Error::discovery_from(message, e)
    })?;
    check(document, issuer, &discovery_url(issuer), &[])
}

fn check(
    doc: Document,
    issuer: &str,
    url: &str,
    trusted: &[url::Origin],
) -> Result<ProviderMetadata> {
    // OIDC Discovery §4.3: the issuer must be identical to the one used to build the URL.
    // Accept what the user typed or the same without its trailing slash, since that prefix was used.
    if doc.issuer != issuer && doc.issuer != issuer.trim_end_matches('/') {
        return Err(Error::discovery(format!(
            "the provider at {url} calls itself {:?}, not {issuer:?}; the instance must be the exact issuer URL (wrong instance, or a proxy in between?)",
            doc.issuer
        )));
    }
    // RFC 8414 §2: without code_challenge_methods_supported the server does not support PKCE.
    match &doc.code_challenge_methods_supported {
        Some(methods) if methods.iter().any(|m| m == "S256") => {}
        Some(methods) => {
            return Err(Error::refused(
                Rule::PkceUnsupported,
                format!("The provider does not offer PKCE with S256 (its metadata lists {methods:?}), which Keyhole needs to keep the sign-in code safe; enable PKCE for this application."),
            ))
        }
        None => {
            return Err(Error::refused(
                Rule::PkceUnsupported,
                "The provider's metadata does not list code_challenge_methods_supported, which means it does not support PKCE (RFC 8414), and Keyhole needs PKCE with S256; enable PKCE for this application.",
            ))
        }
    }
    if let Some(types) = &doc.response_types_supported {
        if !types.iter().any(|t| t == "code") {
            return Err(Error::discovery(
                "the provider does not support the authorization code flow (response_type=code)",
            ));
        }
    }
    let issuer_origin = Url::parse(&doc.issuer)
        .map_err(|e| {
            let message = format!("the provider's issuer {:?} is not a URL", doc.issuer);
            Error::discovery_from(message, e)
        })?
        .origin();
    let endpoint = |name: &str, value: &str| -> Result<Url> {
        let parsed = Url::parse(value).map_err(|e| {
            Error::discovery_from(format!("the provider's {name} {value:?} is not a URL"), e)
        })?;
        let secure = parsed.scheme() == "https"
            || (parsed.scheme() == "http" && parsed.host_str().is_some_and(is_loopback_host));
        if !secure {
            return Err(Error::discovery(format!(
                "the provider's {name} {value:?} must use https"
            )));
        }
        Ok(parsed)
    };
    // The code, the verifier and tokens go to these: they must stay with the issuer (Clerk serves
    // them all from its Frontend API origin) unless the user trusts the other origin explicitly.
    let back_channel = |name: &str, value: &str| -> Result<Url> {
        let parsed = endpoint(name, value)?;
        let origin = parsed.origin();
        if origin != issuer_origin && !trusted.contains(&origin) {
            return Err(Error::refused(
                Rule::EndpointOrigin,
                format!(
                    "The provider's {name} is on {}, not on the issuer's origin {}, so Keyhole will not send your sign-in there; if you trust that origin, allow it explicitly in the settings.",
                    origin.ascii_serialization(),
                    issuer_origin.ascii_serialization()
                ),
            ));
        }
        Ok(parsed)
    };
    let optional = |name: &str, value: &Option<String>| {
        value.as_deref().map(|v| back_channel(name, v)).transpose()
    };
    Ok(ProviderMetadata {
        authorization_endpoint: endpoint("authorization_endpoint", &doc.authorization_endpoint)?,
        token_endpoint: back_channel("token_endpoint", &doc.token_endpoint)?,
        jwks_uri: back_channel("jwks_uri", &doc.jwks_uri)?,
        userinfo_endpoint: optional("userinfo_endpoint", &doc.userinfo_endpoint)?,
        revocation_endpoint: optional("revocation_endpoint", &doc.revocation_endpoint)?,
        // The device code and the client's metadata go to these: same rule as the token endpoint.
        device_authorization_endpoint: optional(
            "device_authorization_endpoint",
            &doc.device_authorization_endpoint,
        )?,
        registration_endpoint: optional("registration_endpoint", &doc.registration_endpoint)?,
        id_token_signing_alg_values_supported: doc
            .id_token_signing_alg_values_supported
            .unwrap_or_else(|| vec!["RS256".to_owned()]),
        authorization_response_iss_parameter_supported: doc
            .authorization_response_iss_parameter_supported,
        client_id_metadata_document_supported: doc.client_id_metadata_document_supported,
        issuer: doc.issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_that_is_not_json_says_so_and_keeps_the_parser_error() {
        let err = check_document(b"<html>hi</html>", "https://clerk.example.com").unwrap_err();
        assert_eq!(err.kind(), "discovery");
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        let source = std::error::Error::source(&err).expect("a source");
        assert!(
            source.downcast_ref::<serde_json::Error>().is_some(),
            "{source:?}"
        );
    }

    fn doc(json: serde_json::Value) -> Document {
        serde_json::from_value(json).unwrap()
    }

    fn check(d: Document, issuer: &str, url: &str) -> Result<ProviderMetadata> {
        super::check(d, issuer, url, &[])
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
    fn metadata_without_code_challenge_methods_means_no_pkce_and_is_refused() {
        let mut d = clerk_like();
        d.as_object_mut()
            .unwrap()
            .remove("code_challenge_methods_supported");
        let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::PkceUnsupported), "{err}");
        let mut d = clerk_like();
        d["code_challenge_methods_supported"] = serde_json::json!(["plain"]);
        let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::PkceUnsupported), "{err}");
    }

    #[test]
    fn back_channel_endpoints_on_another_origin_are_refused_naming_the_endpoint() {
        for name in [
            "token_endpoint",
            "jwks_uri",
            "revocation_endpoint",
            "userinfo_endpoint",
            "device_authorization_endpoint",
            "registration_endpoint",
        ] {
            for elsewhere in [
                "https://evil.test/x",
                "https://clerk.example.com:8443/x",
                "https://sub.clerk.example.com/x",
            ] {
                let mut d = clerk_like();
                d[name] = elsewhere.into();
                let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
                assert_eq!(err.rule(), Some(Rule::EndpointOrigin), "{name}: {err}");
                assert!(err.to_string().contains(name), "{err}");
            }
        }
        // The authorization endpoint is visited by the browser, not sent secrets: it may differ.
        let mut d = clerk_like();
        d["authorization_endpoint"] = "https://accounts.example.com/oauth/authorize".into();
        check(doc(d), "https://clerk.example.com", URL).unwrap();
    }

    #[test]
    fn an_explicitly_trusted_origin_is_accepted_for_back_channel_endpoints() {
        let mut d = clerk_like();
        d["token_endpoint"] = "https://tokens.example.com/oauth/token".into();
        let trusted = [Url::parse("https://tokens.example.com").unwrap().origin()];
        let m = super::check(doc(d), "https://clerk.example.com", URL, &trusted).unwrap();
        assert_eq!(m.token_endpoint.host_str(), Some("tokens.example.com"));
    }

    #[test]
    fn id_token_algorithms_default_to_rs256() {
        let m = check(doc(clerk_like()), "https://clerk.example.com", URL).unwrap();
        assert_eq!(m.id_token_signing_alg_values_supported, ["RS256"]);
    }

    #[test]
    fn plain_http_endpoints_are_refused_off_loopback() {
        let mut d = clerk_like();
        d["token_endpoint"] = "http://clerk.example.com/oauth/token".into();
        let err = check(doc(d), "https://clerk.example.com", URL).unwrap_err();
        assert!(err.to_string().contains("token_endpoint"), "{err}");
    }
}
