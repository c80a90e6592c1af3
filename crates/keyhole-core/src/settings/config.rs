//! What the user configures, and its validation into a [`Config`] the engine can use.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};

/// Scopes asked for when the user leaves the field empty: identity, profile, and a refresh token.
pub const DEFAULT_SCOPES: &str = "openid profile email offline_access";
/// The longest instance or API URL accepted (browsers and servers commonly stop near 2 kB).
pub const MAX_URL_LEN: usize = 2048;
/// The longest scopes field accepted.
pub const MAX_SCOPES_LEN: usize = 1024;

/// Refuses `input` longer than `max` characters, naming the field in plain words.
fn check_length(field: &'static str, what: &str, input: &str, max: usize) -> Result<()> {
    let len = input.chars().count();
    if len > max {
        return Err(Error::setting(
            field,
            format!("The {what} is {len} characters long; at most {max} are accepted. Check what was pasted."),
        ));
    }
    Ok(())
}

/// A URL parse error in plain words.
fn url_problem(error: url::ParseError) -> &'static str {
    match error {
        url::ParseError::RelativeUrlWithoutBase => "it does not start with http:// or https://",
        url::ParseError::EmptyHost => "it has no host name",
        url::ParseError::InvalidPort => "its port is not a number from 1 to 65535",
        url::ParseError::InvalidIpv4Address | url::ParseError::InvalidIpv6Address => {
            "its IP address is not valid"
        }
        url::ParseError::InvalidDomainCharacter | url::ParseError::IdnaError => {
            "its host name has a character host names cannot have"
        }
        _ => "it is not written as a web address",
    }
}

/// The settings as the user typed them. [`Settings::validate`] turns them into a [`Config`].
///
/// Field names serialize in camelCase because that is how UIs and settings files name them, and
/// [`Error::field`] uses the same names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The Clerk instance: its Frontend API URL (the OAuth issuer) or a publishable key.
    pub instance: String,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// Space-separated scopes; empty means [`DEFAULT_SCOPES`].
    pub scopes: String,
    /// The loopback port for the redirect; 0 picks a free one.
    pub redirect_port: u16,
    /// The protected API to call.
    pub api_url: String,
    /// The RFC 8707 resource to ask a token for (what the API's RFC 9728 metadata names);
    /// empty for none.
    pub resource: String,
    /// Clerk's Backend API, for test sessions, API keys and M2M tokens; empty for
    /// `https://api.clerk.com`.
    pub backend_api: String,
    /// The M2M tokens to mint: `opaque` (`mt_…`, the default when empty) or `jwt`.
    pub m2m_format: String,
    /// A Client ID Metadata Document of Keyhole's, hosted by the user (an https URL): with no
    /// client ID, it is the client ID at a provider that accepts such documents, before any
    /// registration (MCP 2025-11-25 §Client Registration Approaches). Empty for none.
    pub client_metadata_url: String,
}

/// Validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The issuer identifier, exactly as the provider must name itself.
    pub issuer: String,
    /// The OAuth client ID.
    pub client_id: String,
    /// Scopes to request (deduplicated, in the order given).
    pub scopes: Vec<String>,
    /// Loopback port for the redirect (0 = any free port).
    pub redirect_port: u16,
    /// The protected API, when one is set.
    pub api_url: Option<Url>,
    /// The RFC 8707 resource indicator sent with the sign-in, when one is set.
    pub resource: Option<Url>,
    /// Origins other than the issuer's that the provider's token, JWKS, revocation and userinfo
    /// endpoints may be on. Empty by default: Clerk serves them all from the issuer's origin.
    pub trusted_endpoint_origins: Vec<url::Origin>,
    /// Plain-http API origins, off loopback, that may receive the bearer token in cleartext
    /// (RFC 6750 §5.3). Empty by default.
    pub cleartext_api_origins: Vec<url::Origin>,
    /// The profile these settings come from; each profile keeps a session of its own.
    pub profile: Option<String>,
    /// Clerk's Backend API origin (`https://api.clerk.com` unless set).
    pub backend_api: Url,
    /// The M2M tokens to mint.
    pub m2m_format: crate::clerk::bapi::M2mFormat,
}

impl Settings {
    /// Checks every field and returns the first problem, naming the field.
    pub fn validate(&self) -> Result<Config> {
        // The fields in the order the form shows them: the first problem is the one reported.
        parse_instance(&self.instance)?;
        let client_id = parse_client_id(&self.client_id)?;
        parse_client_metadata_url(&self.client_metadata_url)?;
        Ok(Config {
            client_id,
            ..self.validate_without_client()?
        })
    }

    /// Like [`Settings::validate`] for what needs no OAuth client (a Clerk session signed in
    /// through the Frontend API): the client ID is not read and stays empty.
    pub(crate) fn validate_without_client(&self) -> Result<Config> {
        Ok(Config {
            issuer: parse_instance(&self.instance)?,
            client_id: String::new(),
            scopes: parse_scopes(&self.scopes)?,
            redirect_port: self.redirect_port,
            api_url: match self.api_url.trim() {
                "" => None,
                url => Some(parse_api_url(url)?),
            },
            resource: match self.resource.trim() {
                "" => None,
                resource => Some(parse_resource(resource)?),
            },
            trusted_endpoint_origins: Vec::new(),
            cleartext_api_origins: Vec::new(),
            profile: None,
            backend_api: parse_backend_api(&self.backend_api)?,
            m2m_format: match self.m2m_format.trim() {
                "" | "opaque" => crate::clerk::bapi::M2mFormat::Opaque,
                "jwt" => crate::clerk::bapi::M2mFormat::Jwt,
                other => {
                    return Err(Error::setting(
                        "m2mFormat",
                        format!("{other:?} is not an M2M token format; use opaque or jwt."),
                    ))
                }
            },
        })
    }

    /// The same settings with whitespace trimmed and scopes written out, as they should be saved.
    /// An empty client ID stays empty: a Clerk session needs none, and the OAuth sign-in
    /// registers one first.
    pub fn normalized(&self) -> Result<Settings> {
        let config = if self.client_id.trim().is_empty() {
            self.validate_without_client()?
        } else {
            self.validate()?
        };
        Ok(Settings {
            instance: self.instance.trim().to_owned(),
            client_id: config.client_id,
            scopes: config.scopes.join(" "),
            redirect_port: config.redirect_port,
            api_url: self.api_url.trim().to_owned(),
            resource: config.resource.map(String::from).unwrap_or_default(),
            backend_api: self.backend_api.trim().to_owned(),
            m2m_format: self.m2m_format.trim().to_owned(),
            client_metadata_url: parse_client_metadata_url(&self.client_metadata_url)?
                .map(String::from)
                .unwrap_or_default(),
        })
    }
}

/// A Client ID Metadata Document's URL, as the draft (§3) and oidc-provider check it: https,
/// with a path, no `.` or `..` segment, no fragment, no user or password. None when empty.
pub(crate) fn parse_client_metadata_url(input: &str) -> Result<Option<Url>> {
    let raw = input.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let refuse = |why: &str| {
        Error::setting(
            "clientMetadataUrl",
            format!("“{raw}” cannot be a Client ID Metadata Document's URL: {why}."),
        )
    };
    check_length(
        "clientMetadataUrl",
        "Client ID Metadata Document URL",
        raw,
        2048,
    )?;
    let rest = raw
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &raw[8..])
        .ok_or_else(|| refuse("it must be an https URL"))?;
    if raw.bytes().any(|b| b <= 0x20 || b == b'\\' || b == 0x7f) {
        return Err(refuse("it has spaces, backslashes or control characters"));
    }
    if raw.contains('#') {
        return Err(refuse("it must not have a fragment (#…)"));
    }
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    if rest[..path_start].contains('@') {
        return Err(refuse("it must not carry a user name or password"));
    }
    // Checked on the text: the URL parser would resolve them away.
    let path = rest[path_start..].split('?').next().unwrap_or_default();
    if path
        .split('/')
        .map(|seg| seg.to_ascii_lowercase().replace("%2e", "."))
        .any(|seg| seg == "." || seg == "..")
    {
        return Err(refuse("it must not have . or .. path segments"));
    }
    if path.trim_matches('/').is_empty() {
        return Err(refuse(
            "it must have a path (the document's own, like /keyhole.json)",
        ));
    }
    let url = Url::parse(raw).map_err(|_| refuse("it is not a URL"))?;
    Ok(Some(url))
}

impl Config {
    /// Also accept the provider's token, JWKS, revocation and userinfo endpoints on `url`'s
    /// origin. Only for a provider that really serves them elsewhere: the code, PKCE verifier and
    /// tokens are sent there.
    pub fn trust_endpoint_origin(mut self, url: &Url) -> Config {
        self.trusted_endpoint_origins.push(url.origin());
        self
    }

    /// Allow sending the bearer token over plain http to `url`'s origin although it is not
    /// loopback. Anyone on the network path can then read and reuse the token.
    pub fn allow_cleartext_api(mut self, url: &Url) -> Config {
        self.cleartext_api_origins.push(url.origin());
        self
    }

    /// The settings of profile `name`, whose session is kept apart from every other's.
    pub fn in_profile(mut self, name: &str) -> Config {
        self.profile = Some(name.to_owned());
        self
    }

    /// The keychain account of this configuration's session: one per instance and client, per
    /// RFC 8707 resource when one is asked for (a token for one MCP server or API is not one for
    /// another: MCP 2025-06-18 §Token Audience Binding), and per profile.
    pub fn account(&self) -> String {
        let mut base = crate::session::vault::account_for(&self.issuer, &self.client_id);
        if let Some(resource) = &self.resource {
            base = format!("{base} for {resource}");
        }
        match &self.profile {
            Some(profile) => format!("{base}#{profile}"),
            None => base,
        }
    }

    /// True when `openid` is requested, so an ID token and a nonce are part of the flow.
    pub fn wants_id_token(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }

    /// True when `other` signs in exactly the same way (instance, client, scopes, redirect
    /// port), so the same keeper serves both; the API URL may differ.
    pub fn same_sign_in(&self, other: &Config) -> bool {
        self.issuer == other.issuer
            && self.client_id == other.client_id
            && self.profile == other.profile
            && self.scopes == other.scopes
            && self.redirect_port == other.redirect_port
            && self.resource == other.resource
    }

    /// The API URL, or an error naming the field when none is set.
    pub fn require_api_url(&self) -> Result<&Url> {
        self.api_url
            .as_ref()
            .ok_or_else(|| Error::setting("apiUrl", "Set the URL of the protected API to call."))
    }
}

/// Turns the instance field (a Frontend API URL or a publishable key) into an issuer.
fn parse_instance(input: &str) -> Result<String> {
    const FIELD: &str = "instance";
    let input = input.trim();
    check_length(FIELD, "instance", input, MAX_URL_LEN)?;
    if input.is_empty() {
        return Err(Error::setting(
            FIELD,
            "Enter your Clerk instance: its Frontend API URL (https://…) or a publishable key (pk_test_… or pk_live_…).",
        ));
    }
    if input.starts_with("pk_") || input.starts_with("sk_") {
        return issuer_from_publishable_key(input);
    }
    // A bare host ("clerk.example.com", as the dashboard shows it) means its https origin.
    let with_scheme;
    let input = if !input.contains("://") && looks_like_host(input) {
        with_scheme = format!("https://{input}");
        with_scheme.as_str()
    } else {
        input
    };
    let url = Url::parse(input).map_err(|e| {
        Error::setting(
            FIELD,
            format!(
                "“{input}” is neither a URL nor a publishable key: {}. Enter https://… (or http://127.0.0.1 / http://localhost for a local one) or pk_test_… / pk_live_….",
                url_problem(e)
            ),
        )
    })?;
    check_issuer_url(&url, input)?;
    // A bare origin is written without the trailing slash that `Url` adds: Clerk's issuers have none.
    Ok(input.strip_suffix('/').unwrap_or(input).to_owned())
}

/// A DNS name with at least one dot, e.g. `fit-fox-42.clerk.accounts.dev`.
fn looks_like_host(input: &str) -> bool {
    let host = input.strip_suffix('/').unwrap_or(input);
    host.contains('.')
        && !host.starts_with('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn check_issuer_url(url: &Url, input: &str) -> Result<()> {
    const FIELD: &str = "instance";
    let host = url
        .host_str()
        .ok_or_else(|| Error::setting(FIELD, format!("“{input}” has no host.")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(Error::setting(
                FIELD,
                "The instance URL must use https://; plain http:// is allowed only on this computer (127.0.0.1 or localhost).",
            ))
        }
        other => {
            return Err(Error::setting(
                FIELD,
                format!("The instance URL must start with https:// (or http:// for 127.0.0.1 or localhost); “{other}” addresses are not supported."),
            ))
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::setting(
            FIELD,
            "The instance URL must not have a query or fragment.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::setting(
            FIELD,
            "The instance URL must not contain a user name or password.",
        ));
    }
    Ok(())
}

/// Decodes a Clerk publishable key (`pk_test_` / `pk_live_` + base64 of `<frontend api host>$`)
/// into its issuer URL, `https://<host>`.
pub fn issuer_from_publishable_key(key: &str) -> Result<String> {
    const FIELD: &str = "instance";
    let key = key.trim();
    if key.starts_with("sk_") {
        return Err(Error::setting(
            FIELD,
            "That is a secret key (sk_…). Never paste it into a desktop app; use the publishable key (pk_…) or the Frontend API URL.",
        ));
    }
    let encoded = key
        .strip_prefix("pk_test_")
        .or_else(|| key.strip_prefix("pk_live_"))
        .ok_or_else(|| {
            Error::setting(FIELD, "A publishable key starts with pk_test_ or pk_live_.")
        })?;
    let bad = || {
        Error::setting(
            FIELD,
            "This publishable key is not valid: it does not decode to a Clerk Frontend API host. Copy it again from the Clerk dashboard.",
        )
    };
    let trimmed = encoded.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let host = text.strip_suffix('$').ok_or_else(bad)?;
    let valid_host = !host.is_empty()
        && host.contains('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !valid_host {
        return Err(bad());
    }
    Ok(format!("https://{}", host.to_ascii_lowercase()))
}

fn parse_client_id(input: &str) -> Result<String> {
    let id = input.trim();
    check_length("clientId", "client ID", id, 256)?;
    if id.is_empty() {
        return Err(Error::setting(
            "clientId",
            "Enter the client ID of your Clerk OAuth application, or leave it empty and sign in: Keyhole registers itself if the instance allows it.",
        ));
    }
    // RFC 6749 appendix A.1: client_id is visible ASCII; Clerk's are alphanumeric.
    if id.len() > 256 || !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::setting(
            "clientId",
            "A client ID is a single word of printable ASCII characters with no spaces.",
        ));
    }
    Ok(id.to_owned())
}

fn parse_scopes(input: &str) -> Result<Vec<String>> {
    check_length("scopes", "scopes list", input.trim(), MAX_SCOPES_LEN)?;
    let input = if input.trim().is_empty() {
        DEFAULT_SCOPES
    } else {
        input
    };
    let mut scopes: Vec<String> = Vec::new();
    for scope in input.split_whitespace() {
        // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        let valid = scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !valid {
            return Err(Error::setting(
                "scopes",
                format!("“{scope}” is not a valid scope: quotes, backslashes and non-ASCII characters are not allowed."),
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    Ok(scopes)
}

/// Checks a protected API URL: http or https with a host, no credentials in it.
pub fn parse_api_url(input: &str) -> Result<Url> {
    const FIELD: &str = "apiUrl";
    let input = input.trim();
    check_length(FIELD, "API URL", input, MAX_URL_LEN)?;
    let mut url = Url::parse(input).map_err(|e| {
        Error::setting(
            FIELD,
            format!("“{input}” is not a valid URL: {}. Example: http://localhost:5000/protected-endpoint", url_problem(e)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::setting(
            FIELD,
            format!(
                "The API URL must start with http:// or https://; “{}” addresses are not supported.",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::setting(FIELD, "The API URL has no host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::setting(
            FIELD,
            "The API URL must not contain a user name or password; Keyhole sends your access token instead.",
        ));
    }
    // A fragment is never sent to a server.
    url.set_fragment(None);
    Ok(url)
}

/// The Backend API's origin: https, or http on this computer only (the secret key goes there).
fn parse_backend_api(input: &str) -> Result<Url> {
    const FIELD: &str = "backendApi";
    let input = match input.trim() {
        "" => crate::clerk::bapi::DEFAULT_BACKEND_API,
        input => input,
    };
    check_length(FIELD, "Backend API URL", input, MAX_URL_LEN)?;
    let url = Url::parse(input).map_err(|e| {
        Error::setting(
            FIELD,
            format!(
                "“{input}” is not a URL: {}. Leave it empty for https://api.clerk.com.",
                url_problem(e)
            ),
        )
    })?;
    let local = url.host_str().is_some_and(is_loopback_host);
    if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
        return Err(Error::setting(
            FIELD,
            "The Backend API URL must use https:// (plain http:// only on this computer): your secret key goes there.",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
        return Err(Error::setting(
            FIELD,
            "The Backend API URL must be an origin such as https://api.clerk.com, with no user name, password or query.",
        ));
    }
    Ok(url)
}

/// RFC 8707 §2: a resource is an absolute URI without a fragment.
fn parse_resource(input: &str) -> Result<Url> {
    let url = Url::parse(input).map_err(|e| {
        Error::setting_from("resource", format!("“{input}” is not an absolute URI."), e)
    })?;
    if url.fragment().is_some() {
        return Err(Error::setting(
            "resource",
            "A resource indicator must not have a fragment (RFC 8707).",
        ));
    }
    Ok(url)
}

pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            instance: "https://clerk.example.com".into(),
            client_id: "abc123".into(),
            scopes: String::new(),
            redirect_port: 0,
            api_url: "http://localhost:5000/protected-endpoint".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn a_client_metadata_url_follows_the_drafts_rules_and_names_the_field_it_refuses() {
        let ok = parse_client_metadata_url(" https://keyhole.example/oauth/client.json ").unwrap();
        assert_eq!(
            ok.unwrap().as_str(),
            "https://keyhole.example/oauth/client.json"
        );
        assert_eq!(parse_client_metadata_url("").unwrap(), None);
        for (bad, why) in [
            ("http://keyhole.example/client.json", "must be an https URL"),
            ("https://keyhole.example/", "must have a path"),
            ("https://keyhole.example", "must have a path"),
            (
                "https://keyhole.example/a/../client.json",
                ". or .. path segments",
            ),
            (
                "https://keyhole.example/a/%2E/client.json",
                ". or .. path segments",
            ),
            (
                "https://keyhole.example/client.json#x",
                "must not have a fragment",
            ),
            (
                "https://me:pw@keyhole.example/client.json",
                "user name or password",
            ),
            ("https://keyhole.example/a b.json", "spaces, backslashes"),
        ] {
            let err = parse_client_metadata_url(bad).expect_err(bad);
            assert_eq!(err.field(), Some("clientMetadataUrl"), "{bad}");
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
        let with_bad = Settings {
            client_metadata_url: "http://keyhole.example/c.json".into(),
            ..settings()
        };
        assert_eq!(
            with_bad.validate().unwrap_err().field(),
            Some("clientMetadataUrl")
        );
    }

    #[test]
    fn the_backend_api_defaults_to_clerks_and_carries_a_secret_key_over_https_only() {
        let config = settings().validate().expect("valid");
        assert_eq!(config.backend_api.as_str(), "https://api.clerk.com/");
        let local = Settings {
            backend_api: "http://127.0.0.1:4001".into(),
            ..settings()
        };
        assert_eq!(
            local.validate().expect("valid").backend_api.as_str(),
            "http://127.0.0.1:4001/"
        );
        for bad in [
            "http://api.example.com",
            "https://u:p@api.clerk.com",
            "not a url",
        ] {
            let s = Settings {
                backend_api: bad.into(),
                ..settings()
            };
            assert_eq!(field_of(s), "backendApi", "{bad}");
        }
    }

    fn field_of(s: Settings) -> &'static str {
        s.validate().unwrap_err().field().unwrap()
    }

    #[test]
    fn a_ten_kilobyte_instance_or_api_url_is_refused_in_plain_words() {
        let long = format!("https://{}.example.com", "a".repeat(10 * 1024));
        for (field, s) in [
            (
                "instance",
                Settings {
                    instance: long.clone(),
                    ..settings()
                },
            ),
            (
                "apiUrl",
                Settings {
                    api_url: long.clone(),
                    ..settings()
                },
            ),
        ] {
            let error = s.validate().unwrap_err();
            assert_eq!(error.field(), Some(field));
            let text = error.to_string();
            assert!(text.contains("at most 2048"), "{text}");
            assert!(
                text.len() < 300,
                "the message does not echo the input: {text}"
            );
        }
    }

    #[test]
    fn url_errors_say_what_is_wrong_without_parser_jargon() {
        let error = parse_api_url("notaurl").unwrap_err().to_string();
        assert!(error.contains("not a valid URL"), "{error}");
        assert!(
            error.contains("does not start with http:// or https://"),
            "{error}"
        );
        assert!(!error.contains("relative URL"), "{error}");
        let error = parse_api_url("ftp://example.com/x")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("ftp:."), "{error}");
        let error = parse_instance("ftp://clerk.example.com")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("https://") && error.contains("127.0.0.1"),
            "{error}"
        );
        let error = parse_instance("http://clerk.example.com")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("https://") && error.contains("localhost"),
            "{error}"
        );
    }

    #[test]
    fn valid_settings_give_a_config_with_default_scopes() {
        let config = settings().validate().unwrap();
        assert_eq!(config.issuer, "https://clerk.example.com");
        assert_eq!(
            config.scopes,
            ["openid", "profile", "email", "offline_access"]
        );
        assert!(config.wants_id_token());
        assert_eq!(
            config.api_url.unwrap().as_str(),
            "http://localhost:5000/protected-endpoint"
        );
    }

    #[test]
    fn publishable_keys_decode_to_the_frontend_api_host() {
        // base64("clerk.example.com$") and base64("fit-fox-42.clerk.accounts.dev$")
        assert_eq!(
            issuer_from_publishable_key("pk_live_Y2xlcmsuZXhhbXBsZS5jb20k").unwrap(),
            "https://clerk.example.com"
        );
        assert_eq!(
            issuer_from_publishable_key("pk_test_Zml0LWZveC00Mi5jbGVyay5hY2NvdW50cy5kZXYk")
                .unwrap(),
            "https://fit-fox-42.clerk.accounts.dev"
        );
        let s = Settings {
            instance: " pk_test_Zml0LWZveC00Mi5jbGVyay5hY2NvdW50cy5kZXYk ".into(),
            ..settings()
        };
        assert_eq!(
            s.validate().unwrap().issuer,
            "https://fit-fox-42.clerk.accounts.dev"
        );
    }

    #[test]
    fn broken_publishable_keys_are_refused_naming_the_instance_field() {
        for key in [
            "pk_test_",
            "pk_test_!!!",
            "pk_live_Y2xlcmsuZXhhbXBsZS5jb20", // "clerk.example.com" without the '$'
            "pk_test_aGVsbG8k",                // "hello$": no dot, not a host
            "pk_prod_Y2xlcmsuZXhhbXBsZS5jb20k", // unknown prefix
            "sk_test_Y2xlcmsuZXhhbXBsZS5jb20k", // a secret key
            "pk_test_PHNjcmlwdD4uZXhhbXBsZS5jb20k", // "<script>.example.com$"
        ] {
            let err = issuer_from_publishable_key(key).unwrap_err();
            assert_eq!(err.field(), Some("instance"), "{key}");
        }
    }

    #[test]
    fn instance_urls_must_be_https_except_on_loopback() {
        assert_eq!(
            field_of(Settings {
                instance: "http://clerk.example.com".into(),
                ..settings()
            }),
            "instance"
        );
        assert_eq!(
            field_of(Settings {
                instance: "ftp://clerk.example.com".into(),
                ..settings()
            }),
            "instance"
        );
        assert_eq!(
            field_of(Settings {
                instance: "".into(),
                ..settings()
            }),
            "instance"
        );
        assert_eq!(
            field_of(Settings {
                instance: "https://clerk.example.com/?x=1".into(),
                ..settings()
            }),
            "instance"
        );
        let local = Settings {
            instance: "http://127.0.0.1:4000".into(),
            ..settings()
        };
        assert_eq!(local.validate().unwrap().issuer, "http://127.0.0.1:4000");
    }

    #[test]
    fn a_bare_host_means_its_https_origin() {
        for (typed, issuer) in [
            ("clerk.example.com", "https://clerk.example.com"),
            (
                "fit-fox-42.clerk.accounts.dev/",
                "https://fit-fox-42.clerk.accounts.dev",
            ),
        ] {
            let s = Settings {
                instance: typed.into(),
                ..settings()
            };
            assert_eq!(s.validate().unwrap().issuer, issuer);
        }
        for not_a_host in [
            "clerk",
            "clerk example.com",
            "clerk.example.com/path?x",
            ".example.com",
        ] {
            let s = Settings {
                instance: not_a_host.into(),
                ..settings()
            };
            assert_eq!(
                s.validate().unwrap_err().field(),
                Some("instance"),
                "{not_a_host}"
            );
        }
    }

    #[test]
    fn a_trailing_slash_on_a_bare_origin_is_dropped() {
        let s = Settings {
            instance: "https://clerk.example.com/".into(),
            ..settings()
        };
        assert_eq!(s.validate().unwrap().issuer, "https://clerk.example.com");
    }

    #[test]
    fn client_id_must_be_one_printable_word() {
        assert_eq!(
            field_of(Settings {
                client_id: " ".into(),
                ..settings()
            }),
            "clientId"
        );
        assert_eq!(
            field_of(Settings {
                client_id: "a b".into(),
                ..settings()
            }),
            "clientId"
        );
        assert_eq!(
            field_of(Settings {
                client_id: "ключ".into(),
                ..settings()
            }),
            "clientId"
        );
    }

    #[test]
    fn scopes_are_validated_and_deduplicated() {
        let s = Settings {
            scopes: "openid  email openid user:org:read".into(),
            ..settings()
        };
        assert_eq!(
            s.validate().unwrap().scopes,
            ["openid", "email", "user:org:read"]
        );
        assert_eq!(
            field_of(Settings {
                scopes: "openid \"x\"".into(),
                ..settings()
            }),
            "scopes"
        );
        let no_openid = Settings {
            scopes: "profile email".into(),
            ..settings()
        };
        assert!(!no_openid.validate().unwrap().wants_id_token());
    }

    #[test]
    fn api_url_must_be_http_with_a_host_and_no_credentials() {
        for bad in [
            "localhost:5000",
            "ftp://x.test/",
            "http://",
            "not a url",
            "https://user:pw@api.test/",
        ] {
            assert_eq!(
                field_of(Settings {
                    api_url: bad.into(),
                    ..settings()
                }),
                "apiUrl",
                "{bad}"
            );
        }
        let empty = Settings {
            api_url: "".into(),
            ..settings()
        }
        .validate()
        .unwrap();
        assert_eq!(empty.require_api_url().unwrap_err().field(), Some("apiUrl"));
        let frag = Settings {
            api_url: "https://api.test/x#frag".into(),
            ..settings()
        };
        assert_eq!(
            frag.validate().unwrap().api_url.unwrap().as_str(),
            "https://api.test/x"
        );
    }

    #[test]
    fn normalized_settings_trim_and_spell_out_scopes() {
        let s = Settings {
            client_id: " abc ".into(),
            ..settings()
        }
        .normalized()
        .unwrap();
        assert_eq!(s.client_id, "abc");
        assert_eq!(s.scopes, DEFAULT_SCOPES);
    }

    #[test]
    fn settings_deserialize_with_missing_fields_as_defaults() {
        let s: Settings =
            serde_json::from_str(r#"{"instance":"https://x.test","redirectPort":8765}"#).unwrap();
        assert_eq!(s.redirect_port, 8765);
        assert_eq!(s.client_id, "");
    }
}
