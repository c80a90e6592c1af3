//! Starting from the API URL alone (RFC 9728 protected-resource metadata): the API says which
//! authorization server issues its tokens and which `resource` to ask them for (RFC 8707).
//!
//! Keyhole calls the API without a token. A `401` with `WWW-Authenticate: Bearer
//! resource_metadata="…"` names the metadata; otherwise it is looked up at
//! `/.well-known/oauth-protected-resource` with the API's path appended (§3.1), then at the
//! origin's root. The document's `resource` must be the resource it was fetched for (§3.3), its
//! authorization server must be at least as secure as the API, and that server's own metadata
//! must name it as issuer (checked by discovery). Then registration gives a client ID when none
//! is given.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result, Rule};
use crate::http::shown_origin;
use crate::session::vault::SecretStore;
use crate::settings::config::{is_loopback_host, Settings};
use crate::signin::discovery;
use crate::signin::registration::{self, Registration};

const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
const CAP: usize = 64 * 1024;

/// A protected resource's metadata, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedResource {
    /// The resource identifier to ask tokens for (RFC 8707).
    pub resource: Url,
    /// The authorization servers' issuer identifiers, as listed.
    pub authorization_servers: Vec<String>,
    /// Where the metadata was read.
    pub metadata_url: Url,
}

/// What "set up from this API" found: settings ready to use, and how the client came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSetup {
    /// The settings: instance, client ID, API URL and resource filled in.
    pub settings: Settings,
    /// The metadata it came from.
    pub resource: ProtectedResource,
    /// How the client ID came about.
    pub registration: Registration,
    /// What to tell the user (a registration), if anything.
    pub note: Option<String>,
}

/// Finds and checks the API's protected-resource metadata.
pub async fn discover_resource(http: &reqwest::Client, api_url: &Url) -> Result<ProtectedResource> {
    // 1. The API's own answer to a call without a token (RFC 9728 §5.1).
    if let Some(from_header) = metadata_from_challenge(http, api_url).await? {
        let expected = expected_resource(&from_header, api_url);
        let document = fetch(http, &from_header).await?;
        return check(&document, api_url, &from_header, &expected);
    }
    // 2. The well-known locations: with the path (§3.1), then the origin's.
    let mut tried = Vec::new();
    for url in well_known_urls(api_url) {
        match fetch(http, &url).await {
            Ok(document) => {
                let expected = expected_resource(&url, api_url);
                return check(&document, api_url, &url, &expected);
            }
            Err(Error::Discovery { .. }) => tried.push(url.to_string()),
            Err(other) => return Err(other),
        }
    }
    Err(Error::discovery(format!(
        "The API at {} does not say how to sign in to it: it answered without a WWW-Authenticate resource_metadata challenge and serves no protected-resource metadata (tried {}); give the instance and client ID instead.",
        shown_origin(api_url),
        tried.join(", ")
    )))
}

/// Set up from the API URL alone: its metadata, its authorization server (discovered and checked
/// against its issuer), and a registered client when `base` has no client ID. Stores nothing but
/// a successful registration.
pub async fn set_up_from_api(
    http: &reqwest::Client,
    store: &Arc<dyn SecretStore>,
    api_url: &str,
    base: &Settings,
) -> Result<ApiSetup> {
    let api = crate::settings::config::parse_api_url(api_url)?;
    let resource = discover_resource(http, &api).await?;
    let issuer = pick_authorization_server(&resource, &api)?;
    // OIDC Discovery §4.3 / RFC 8414 §3.3: the server's metadata must name exactly this issuer.
    discovery::discover(http, &issuer).await.map_err(|e| match e {
        Error::Discovery { message, source } => Error::Discovery {
            message: format!(
                "The API's metadata names the authorization server {issuer}, but its metadata does not check out: {message}"
            ),
            source,
        },
        other => other,
    })?;
    let settings = Settings {
        instance: issuer.clone(),
        api_url: api.to_string(),
        resource: resource.resource.to_string(),
        ..base.clone()
    };
    let (settings, registration) = registration::complete_settings(http, store, &settings).await?;
    settings.validate()?;
    Ok(ApiSetup {
        note: registration.note(&issuer),
        settings,
        resource,
        registration,
    })
}

/// Set up for a resource whose `401` was just seen (an MCP server): its metadata — from the
/// challenge's `resource_metadata` when there is one, else the well-known locations — and its
/// authorization server, then settings to sign in with `resource`: `base`'s client ID kept when
/// `base` names that same issuer (a pre-registered client), else the client Keyhole registered
/// with it before, else a new registration (RFC 7591). Stores nothing but a registration.
pub(crate) async fn set_up_for_resource(
    http: &reqwest::Client,
    store: &Arc<dyn SecretStore>,
    api: &Url,
    challenge: Option<&str>,
    base: &Settings,
) -> Result<ApiSetup> {
    let resource = metadata_for(http, api, challenge).await?;
    let issuer = pick_authorization_server(&resource, api)?;
    let same_issuer = base
        .validate_without_client()
        .is_ok_and(|config| config.issuer == issuer);
    let settings = Settings {
        instance: issuer.clone(),
        client_id: if same_issuer {
            base.client_id.clone()
        } else {
            String::new()
        },
        api_url: api.to_string(),
        resource: resource.resource.to_string(),
        ..base.clone()
    };
    let (settings, registration) = registration::complete_settings(http, store, &settings).await?;
    settings.validate()?;
    Ok(ApiSetup {
        note: registration.note(&issuer),
        settings,
        resource,
        registration,
    })
}

/// The protected-resource metadata of a resource whose `401` was just seen: from the challenge's
/// `resource_metadata` when there is one, else the well-known locations; checked (§3.3).
pub(crate) async fn metadata_for(
    http: &reqwest::Client,
    api: &Url,
    challenge: Option<&str>,
) -> Result<ProtectedResource> {
    let named = challenge.and_then(|c| bearer_param(c, "resource_metadata"));
    match named {
        Some(raw) => {
            let url = Url::parse(&raw).map_err(|_| {
                Error::discovery(format!(
                    "The server's WWW-Authenticate challenge names resource metadata at {raw:?}, which is not a URL."
                ))
            })?;
            let document = fetch(http, &url).await.map_err(|e| match e {
                Error::Discovery { message, source } => Error::Discovery {
                    message: format!(
                        "The server at {} says its protected-resource metadata (RFC 9728) is at {url}, but {message}; the server must serve it there.",
                        shown_origin(api)
                    ),
                    source,
                },
                other => other,
            })?;
            check(&document, api, &url, &expected_resource(&url, api))
        }
        None => discover_resource(http, api).await,
    }
}

/// The first authorization server, if it is no weaker than the API (RFC 9728 §7.1: an https API
/// must not send its users to a plain-http server).
pub(crate) fn pick_authorization_server(resource: &ProtectedResource, api: &Url) -> Result<String> {
    let first = resource.authorization_servers.first().ok_or_else(|| {
        Error::refused(
            Rule::AuthorizationServer,
            "The API's protected-resource metadata lists no authorization server, so Keyhole cannot tell where to sign in; give the instance and client ID instead.",
        )
    })?;
    let url = Url::parse(first).map_err(|_| {
        Error::refused(
            Rule::AuthorizationServer,
            "The API's protected-resource metadata names an authorization server that is not a URL, so Keyhole did not use it; give the instance and client ID instead.",
        )
    })?;
    let loopback = url.host_str().is_some_and(is_loopback_host);
    let weaker = url.scheme() != "https" && (api.scheme() == "https" || !loopback);
    if weaker {
        return Err(Error::refused(
            Rule::AuthorizationServer,
            format!(
                "The API's metadata sends you to sign in at {} over {} although the API itself {}, so Keyhole refused it; fix the API's authorization_servers or give the instance yourself.",
                shown_origin(&url),
                plain_or_scheme(&url),
                if api.scheme() == "https" { "uses https" } else { "is not on this machine" }
            ),
        ));
    }
    Ok(first.trim_end_matches('/').to_owned())
}

/// RFC 9728 §3.1: `/.well-known/oauth-protected-resource` inserted between the host and the
/// path, then the origin's own.
fn well_known_urls(api: &Url) -> Vec<Url> {
    let mut urls = Vec::new();
    let path = api.path().trim_end_matches('/');
    let mut base = api.clone();
    base.set_query(None);
    base.set_fragment(None);
    if !path.is_empty() {
        let mut with_path = base.clone();
        with_path.set_path(&format!("{WELL_KNOWN}{path}"));
        urls.push(with_path);
    }
    let mut root = base;
    root.set_path(WELL_KNOWN);
    urls.push(root);
    urls
}

/// §3.3: the resource the metadata at `metadata_url` describes — the origin plus whatever path
/// follows the well-known prefix. A metadata URL of another shape (from the challenge) describes
/// the API URL itself.
fn expected_resource(metadata_url: &Url, api: &Url) -> Vec<String> {
    let origin = api.origin().ascii_serialization();
    match metadata_url.path().strip_prefix(WELL_KNOWN) {
        Some("") | Some("/") if metadata_url.origin() == api.origin() => vec![origin],
        Some(rest) if metadata_url.origin() == api.origin() => vec![format!("{origin}{rest}")],
        _ => {
            let mut plain = api.clone();
            plain.set_query(None);
            vec![plain.to_string(), origin]
        }
    }
}

/// Calls the API without a token; the metadata URL of a `401` Bearer challenge, if any.
async fn metadata_from_challenge(http: &reqwest::Client, api: &Url) -> Result<Option<Url>> {
    let response = http
        .get(api.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| Error::ApiUnreachable {
            url: api.to_string(),
            message: crate::http::describe_transport_error(&e),
            source: Some(e),
        })?;
    if response.status().as_u16() != 401 {
        return Ok(None);
    }
    for value in response
        .headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
    {
        let Ok(text) = value.to_str() else { continue };
        if let Some(raw) = bearer_param(text, "resource_metadata") {
            let url = Url::parse(&raw).map_err(|_| {
                Error::discovery(format!(
                    "The API's WWW-Authenticate challenge names resource metadata at {raw:?}, which is not a URL."
                ))
            })?;
            return Ok(Some(url));
        }
    }
    Ok(None)
}

/// The value of `name` in a `Bearer` challenge (RFC 6750 §3, auth-params; quoted or token).
pub(crate) fn bearer_param(header: &str, name: &str) -> Option<String> {
    let rest = header.trim_start();
    let rest = rest
        .get(..6)
        .filter(|s| s.eq_ignore_ascii_case("bearer"))
        .map(|_| &rest[6..])?;
    let mut chars = rest.chars().peekable();
    loop {
        // Skip separators.
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',' && !c.is_whitespace()))
                .collect();
        if key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let value = if chars.next_if_eq(&'"').is_some() {
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    '"' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ',' && !c.is_whitespace())).collect()
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
}

async fn fetch(http: &reqwest::Client, url: &Url) -> Result<Value> {
    let secure = url.scheme() == "https"
        || (url.scheme() == "http" && url.host_str().is_some_and(is_loopback_host));
    if !secure {
        return Err(Error::refused(
            Rule::AuthorizationServer,
            format!(
                "The API's protected-resource metadata is at {} over {}, where anyone on the path could change it or Keyhole cannot fetch it, so Keyhole did not read it; serve it over https.",
                shown_origin(url),
                plain_or_scheme(url)
            ),
        ));
    }
    let response = http
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            crate::http::network_error("the protected-resource metadata", url.as_str(), e)
        })?;
    let status = response.status();
    let (body, truncated) =
        crate::http::read_capped(response, CAP, "the protected-resource metadata").await?;
    if !status.is_success() {
        return Err(Error::discovery(format!(
            "the protected-resource metadata at {url} answered HTTP {status}"
        )));
    }
    if truncated {
        return Err(Error::discovery(format!(
            "the protected-resource metadata at {url} is larger than {} KiB",
            CAP / 1024
        )));
    }
    serde_json::from_slice(&body).map_err(|e| {
        Error::discovery_from(
            format!("the protected-resource metadata at {url} is not JSON"),
            e,
        )
    })
}

/// RFC 9728 §2 and §3.3.
pub(crate) fn check(
    document: &Value,
    api: &Url,
    metadata_url: &Url,
    expected: &[String],
) -> Result<ProtectedResource> {
    let resource = document
        .get("resource")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::refused(
                Rule::ResourceMismatch,
                format!("The protected-resource metadata at {metadata_url} names no resource, so Keyhole cannot tell which API it is for; fix the API's metadata."),
            )
        })?;
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    if !expected.iter().any(|e| same(e, resource)) {
        return Err(Error::refused(
            Rule::ResourceMismatch,
            format!(
                "The protected-resource metadata for {} describes another resource ({resource}), which could send your sign-in elsewhere, so Keyhole refused it; fix the API's metadata.",
                expected.first().map_or(api.as_str(), String::as_str)
            ),
        ));
    }
    let resource = Url::parse(resource).map_err(|_| {
        Error::refused(Rule::ResourceMismatch, "The protected-resource metadata's resource is not a URL, so Keyhole refused it; fix the API's metadata.")
    })?;
    let servers: Vec<String> = match document.get("authorization_servers") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Ok(ProtectedResource {
        resource,
        authorization_servers: servers,
        metadata_url: metadata_url.clone(),
    })
}

/// How `url` is fetched, for a refusal: "plain http", or the scheme that is not http at all.
fn plain_or_scheme(url: &Url) -> String {
    match url.scheme() {
        "http" => "plain http".to_owned(),
        other => format!("{other}: (not http or https)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn well_known_urls_insert_the_path_then_the_root() {
        let urls = well_known_urls(&url("https://api.example.com/mcp?x=1"));
        assert_eq!(
            urls[0].as_str(),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        assert_eq!(well_known_urls(&url("https://api.example.com/")).len(), 1);
    }

    #[test]
    fn a_resource_that_is_not_the_one_fetched_for_is_refused_by_rule() {
        let api = url("https://api.example.com/mcp");
        let at = url("https://api.example.com/.well-known/oauth-protected-resource/mcp");
        let expected = expected_resource(&at, &api);
        assert_eq!(expected, ["https://api.example.com/mcp"]);
        let ok = check(&json!({"resource": "https://api.example.com/mcp", "authorization_servers": ["https://clerk.example.com"]}), &api, &at, &expected).unwrap();
        assert_eq!(ok.authorization_servers, ["https://clerk.example.com"]);
        for other in [
            "https://evil.example.com/mcp",
            "https://api.example.com/other",
            "https://api.example.com",
        ] {
            let err = check(
                &json!({"resource": other, "authorization_servers": ["https://clerk.example.com"]}),
                &api,
                &at,
                &expected,
            )
            .unwrap_err();
            assert_eq!(err.rule(), Some(Rule::ResourceMismatch), "{other}: {err}");
        }
        let err = check(&json!({"authorization_servers": []}), &api, &at, &expected).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::ResourceMismatch));
        // At the root, the resource is the origin.
        let root = url("https://api.example.com/.well-known/oauth-protected-resource");
        assert_eq!(expected_resource(&root, &api), ["https://api.example.com"]);
    }

    #[tokio::test]
    async fn metadata_at_a_url_that_is_not_http_is_refused_naming_the_url_given() {
        let http = crate::http::client(std::time::Duration::from_secs(5));
        for (given, shown, over) in [
            (
                "file:///etc/keyhole/metadata.json",
                "file:///etc/keyhole/metadata.json",
                "over file: (not http or https)",
            ),
            (
                "http://metadata.example.com/.well-known/oauth-protected-resource",
                "http://metadata.example.com",
                "over plain http",
            ),
        ] {
            let err = fetch(&http, &url(given)).await.unwrap_err();
            let text = err.to_string();
            assert_eq!(err.rule(), Some(Rule::AuthorizationServer), "{text}");
            assert!(
                text.contains(&format!("at {shown} {over}")) && !text.contains("null"),
                "{text}"
            );
        }
    }

    #[test]
    fn an_authorization_server_at_a_file_url_is_refused_naming_it() {
        let resource = ProtectedResource {
            resource: url("http://127.0.0.1:4010"),
            authorization_servers: vec!["file:///tmp/as".to_owned()],
            metadata_url: url("http://127.0.0.1:4010/.well-known/oauth-protected-resource"),
        };
        let err =
            pick_authorization_server(&resource, &url("http://127.0.0.1:4010/x")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("at file:///tmp/as over file: (not http or https)")
                && !text.contains("null"),
            "{text}"
        );
    }

    #[test]
    fn an_http_authorization_server_for_an_https_api_is_refused_by_rule() {
        let resource = |server: &str| ProtectedResource {
            resource: url("https://api.example.com"),
            authorization_servers: vec![server.to_owned()],
            metadata_url: url("https://api.example.com/.well-known/oauth-protected-resource"),
        };
        let https_api = url("https://api.example.com/x");
        for server in [
            "http://clerk.example.com",
            "http://127.0.0.1:4010",
            "not a url",
        ] {
            let err = pick_authorization_server(&resource(server), &https_api).unwrap_err();
            assert_eq!(
                err.rule(),
                Some(Rule::AuthorizationServer),
                "{server}: {err}"
            );
        }
        assert_eq!(
            pick_authorization_server(&resource("https://clerk.example.com/"), &https_api).unwrap(),
            "https://clerk.example.com"
        );
        // A loopback API may use a loopback provider (the sandbox).
        let local = url("http://127.0.0.1:5010/x");
        assert!(pick_authorization_server(&resource("http://127.0.0.1:4010"), &local).is_ok());
        let mut none = resource("https://clerk.example.com");
        none.authorization_servers.clear();
        assert_eq!(
            pick_authorization_server(&none, &https_api)
                .unwrap_err()
                .rule(),
            Some(Rule::AuthorizationServer)
        );
    }

    #[test]
    fn bearer_challenges_are_parsed_quoted_or_not() {
        assert_eq!(
            bearer_param(r#"Bearer realm="x", resource_metadata="https://a.test/.well-known/oauth-protected-resource""#, "resource_metadata").as_deref(),
            Some("https://a.test/.well-known/oauth-protected-resource")
        );
        assert_eq!(
            bearer_param(
                "bearer resource_metadata=https://a.test/m",
                "resource_metadata"
            )
            .as_deref(),
            Some("https://a.test/m")
        );
        assert_eq!(
            bearer_param(r#"Basic resource_metadata="x""#, "resource_metadata"),
            None
        );
        assert_eq!(bearer_param("Bearer", "resource_metadata"), None);
        assert_eq!(
            bearer_param(r#"Bearer error="invalid_token""#, "resource_metadata"),
            None
        );
    }
}
