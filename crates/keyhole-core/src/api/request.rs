//! [`ApiRequest`]: the request a user shapes (method, query, headers, body, whether the token
//! goes along, a timeout), checked once here for both front ends, and its copy as a `curl`
//! command that runs as pasted.

use std::time::Duration;

use oauth2::AccessToken;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::settings::config::{parse_api_url, Config};

/// The default time an API call may take.
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest timeout a user may set.
pub const MAX_API_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest request body Keyhole sends.
pub const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// The HTTP methods Keyhole sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum Method {
    #[default]
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Method {
    /// The method as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    /// Parses a method name (any case). Err names the methods Keyhole knows.
    pub fn parse(text: &str) -> Result<Method> {
        Ok(match text.trim().to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            _ => {
                return Err(Error::setting(
                    "method",
                    format!("{:?} is not a method Keyhole sends; use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.", text.trim()),
                ))
            }
        })
    }

    fn reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
            Method::Head => reqwest::Method::HEAD,
            Method::Options => reqwest::Method::OPTIONS,
        }
    }
}

/// A query parameter, header or form field; a disabled one is kept but not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// The name.
    pub name: String,
    /// The value.
    #[serde(default)]
    pub value: String,
    /// Sent only when true.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Pair {
    /// An enabled pair.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Pair {
        Pair {
            name: name.into(),
            value: value.into(),
            enabled: true,
        }
    }
}

/// The request body; its kind sets the `Content-Type` unless a header says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RequestBody {
    /// No body.
    #[default]
    None,
    /// JSON text, checked before sending (`application/json`).
    Json {
        /// The JSON.
        text: String,
    },
    /// Plain text (`text/plain; charset=utf-8`).
    Text {
        /// The text.
        text: String,
    },
    /// Form fields (`application/x-www-form-urlencoded`).
    Form {
        /// The fields.
        fields: Vec<Pair>,
    },
}

/// A request to the protected API, as the user shaped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRequest {
    /// The method.
    #[serde(default)]
    pub method: Method,
    /// The URL (query parameters below are appended to its own).
    pub url: String,
    /// Query parameters.
    #[serde(default)]
    pub query: Vec<Pair>,
    /// Headers. `Authorization` is Keyhole's own while the token is sent.
    #[serde(default)]
    pub headers: Vec<Pair>,
    /// The body.
    #[serde(default)]
    pub body: RequestBody,
    /// Sends `Authorization: Bearer <access token>`; false sends the request as a signed-out
    /// caller would.
    #[serde(default = "yes")]
    pub send_token: bool,
    /// The kind of token to send; when absent, `send_token` decides between the OAuth token and
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<Credential>,
    /// How long the call may take, in seconds (default 30, at most 600).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// The name it is saved under in a profile (none for a request that is not saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The credential a request carries. Each kind of token the API may accept is one variant: the
/// engine reads it where it picks the token (`Service::send`), builds the `Authorization` header
/// (`Keyhole::send`) and copies as curl. The names are the CLI's `--token-type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credential {
    /// A Clerk session token minted for this call from the Clerk session Keyhole holds, as the
    /// tutorial's React client sends it (`getToken()`).
    Session,
    /// The OAuth access token of the signed-in session.
    #[serde(rename = "oauth")]
    OAuth,
    /// The Clerk API key kept for the instance (`ak_…`, opaque), sent as it is.
    ApiKey,
    /// An M2M token minted for the call from the machine secret key (`mt_…`, opaque).
    M2m,
    /// Nothing: the request goes as a signed-out caller's would.
    None,
}

impl Credential {
    /// Every kind, in the order a matrix lists them.
    pub const ALL: [Credential; 5] = [
        Credential::Session,
        Credential::OAuth,
        Credential::ApiKey,
        Credential::M2m,
        Credential::None,
    ];

    /// The name as the CLI and the UI write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Session => "session",
            Credential::OAuth => "oauth",
            Credential::ApiKey => "api-key",
            Credential::M2m => "m2m",
            Credential::None => "none",
        }
    }

    /// Parses a name (see [`Credential::as_str`]); Err names the kinds.
    pub fn parse(text: &str) -> Result<Credential> {
        Credential::ALL
            .into_iter()
            .find(|c| c.as_str() == text.trim())
            .ok_or_else(|| {
                Error::setting(
                    "tokenType",
                    format!(
                        "{:?} is not a token type Keyhole sends; use session, oauth, api-key, m2m or none.",
                        text.trim()
                    ),
                )
            })
    }

    /// True when a token goes along.
    pub fn sends_token(self) -> bool {
        self != Credential::None
    }
}

impl ApiRequest {
    /// The credential this request carries: its `tokenType`, else the OAuth token when
    /// `sendToken` (saved requests from before token types) is on.
    pub fn credential(&self) -> Credential {
        match self.token_type {
            Some(kind) => kind,
            None if self.send_token => Credential::OAuth,
            None => Credential::None,
        }
    }
}

/// A checked request, ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) credential: Credential,
    pub(crate) timeout: Duration,
}

impl Prepared {
    /// The URL the request goes to, query included.
    pub fn url(&self) -> &Url {
        &self.url
    }
    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The credential that goes along.
    pub fn credential(&self) -> Credential {
        self.credential
    }
    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn builder(
        &self,
        http: &reqwest::Client,
        method: Method,
        url: &Url,
        with_body: bool,
    ) -> reqwest::RequestBuilder {
        let mut builder = http
            .request(method.reqwest(), url.clone())
            .headers(self.headers.clone());
        if let (true, Some(body)) = (with_body, &self.body) {
            builder = builder.body(body.clone());
        }
        builder
    }
}

impl ApiRequest {
    /// `GET url` with the token, as the tutorial's component does.
    pub fn get(url: &Url) -> ApiRequest {
        ApiRequest::get_text(url.as_str())
    }

    /// `GET text` with the token, `text` kept as written (it may hold `{{variables}}`).
    pub(crate) fn get_text(text: &str) -> ApiRequest {
        ApiRequest {
            method: Method::Get,
            url: text.to_owned(),
            query: Vec::new(),
            headers: Vec::new(),
            body: RequestBody::None,
            send_token: true,
            token_type: None,
            timeout_secs: None,
            name: None,
        }
    }

    /// Checks every part and builds what is sent. Err names the part (`apiUrl`, `query`,
    /// `headers`, `body`, `timeout`) with one plain sentence.
    pub fn prepare(&self) -> Result<Prepared> {
        let mut url = parse_api_url(&self.url)?;
        {
            let enabled: Vec<&Pair> = self.query.iter().filter(|p| p.enabled).collect();
            if enabled.iter().any(|p| p.name.trim().is_empty()) {
                return Err(Error::setting(
                    "query",
                    "A query parameter has no name; give it one or remove it.",
                ));
            }
            if !enabled.is_empty() {
                let mut pairs = url.query_pairs_mut();
                for p in enabled {
                    pairs.append_pair(p.name.trim(), &p.value);
                }
            }
        }
        let mut headers = HeaderMap::new();
        // An API call, not a navigation: Clerk's dev instances answer navigations with a redirect.
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json, */*;q=0.5"),
        );
        for pair in self.headers.iter().filter(|p| p.enabled) {
            if pair.name.trim().is_empty() {
                return Err(Error::setting(
                    "headers",
                    "A header has no name; give it one, or remove the row.",
                ));
            }
            // RFC 9110 §5.1: a field name is a token (what HeaderName accepts, and nothing else).
            let name = HeaderName::from_bytes(pair.name.trim().as_bytes()).map_err(|_| {
                Error::setting(
                    "headers",
                    format!(
                        "{:?} is not a valid header name; a name is letters, digits and any of ! # $ % & ' * + - . ^ _ ` | ~, with no spaces or colons.",
                        pair.name.trim()
                    ),
                )
            })?;
            if name == AUTHORIZATION && self.credential().sends_token() {
                return Err(Error::setting(
                    "headers",
                    "Keyhole adds the Authorization header with your token; remove yours, or turn off sending the token to send your own.",
                ));
            }
            let value = HeaderValue::from_str(pair.value.trim()).map_err(|_| {
                Error::setting(
                    "headers",
                    format!(
                        "The value of header {name} has a line break or a character headers cannot carry; remove it."
                    ),
                )
            })?;
            if name == reqwest::header::ACCEPT {
                headers.remove(reqwest::header::ACCEPT);
            }
            headers.append(name, value);
        }
        let (content_type, body) = match &self.body {
            RequestBody::None => (None, None),
            RequestBody::Json { text } => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
                    return Err(Error::setting(
                        "body",
                        format!(
                            "The JSON body is not valid at line {}, column {}; fix it or send it as text.",
                            e.line(),
                            e.column()
                        ),
                    ));
                }
                (Some("application/json"), Some(text.clone().into_bytes()))
            }
            RequestBody::Text { text } => (
                Some("text/plain; charset=utf-8"),
                Some(text.clone().into_bytes()),
            ),
            RequestBody::Form { fields } => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for f in fields.iter().filter(|f| f.enabled) {
                    form.append_pair(f.name.trim(), &f.value);
                }
                (
                    Some("application/x-www-form-urlencoded"),
                    Some(form.finish().into_bytes()),
                )
            }
        };
        if body.as_ref().is_some_and(|b| b.len() > MAX_REQUEST_BODY) {
            return Err(Error::setting(
                "body",
                format!(
                    "The body is larger than {} KiB; send a smaller one.",
                    MAX_REQUEST_BODY / 1024
                ),
            ));
        }
        if let Some(content_type) = content_type {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
        }
        let timeout = match self.timeout_secs {
            None => DEFAULT_API_TIMEOUT,
            Some(secs) if (1..=MAX_API_TIMEOUT.as_secs()).contains(&secs) => {
                Duration::from_secs(secs)
            }
            Some(_) => {
                return Err(Error::setting(
                    "timeout",
                    format!(
                        "The timeout must be between 1 and {} seconds.",
                        MAX_API_TIMEOUT.as_secs()
                    ),
                ))
            }
        };
        Ok(Prepared {
            method: self.method,
            url,
            headers,
            body,
            credential: self.credential(),
            timeout,
        })
    }

    /// The same request as a `curl` command that runs as pasted. The token is `token`: a shell
    /// command that prints it (the default: `keyhole-cli token …`), or the literal value only
    /// when the user explicitly asked for it.
    pub fn to_curl(&self, token: &CurlToken) -> Result<String> {
        let prepared = self.prepare()?;
        let mut words = vec!["curl".to_owned(), "-sS".to_owned()];
        if prepared.method == Method::Head {
            words.push("-I".to_owned());
        } else if prepared.method != Method::Get || prepared.body.is_some() {
            words.push("-X".to_owned());
            words.push(prepared.method.as_str().to_owned());
        }
        for (name, value) in &prepared.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            words.push("-H".to_owned());
            words.push(quote(&format!("{name}: {value}")));
        }
        if prepared.credential.sends_token() {
            words.push("-H".to_owned());
            words.push(match token {
                // Double quotes so the shell runs the command substitution.
                CurlToken::Command(command) => format!("\"Authorization: Bearer $({command})\""),
                CurlToken::Literal(token) => {
                    quote(&format!("Authorization: Bearer {}", token.secret()))
                }
            });
        }
        if let Some(body) = &prepared.body {
            words.push("--data-binary".to_owned());
            words.push(quote(&String::from_utf8_lossy(body)));
        }
        words.push(quote(prepared.url.as_str()));
        Ok(words.join(" "))
    }
}

/// Where a copied `curl` command gets the token.
#[derive(Debug, Clone)]
pub enum CurlToken {
    /// A shell command that prints the token (e.g. `keyhole-cli token --profile work`).
    Command(String),
    /// The token itself (the user asked for it, and was warned).
    Literal(AccessToken),
}

impl CurlToken {
    /// `keyhole-cli token …` for `config`'s session: by profile when it has one, else by instance
    /// and client; the keychain service only when it is not the default.
    pub fn command_for(
        config: &Config,
        keychain_service: &str,
        credential: Credential,
    ) -> CurlToken {
        let mut words = vec!["keyhole-cli".to_owned(), "token".to_owned()];
        match &config.profile {
            Some(profile) => words.extend(["--profile".to_owned(), quote(profile)]),
            None => words.extend([
                "--instance".to_owned(),
                quote(&config.issuer),
                "--client-id".to_owned(),
                quote(&config.client_id),
            ]),
        }
        if keychain_service != crate::Keychain::SERVICE {
            words.extend(["--keychain-service".to_owned(), quote(keychain_service)]);
        }
        // The OAuth token is the default; another kind says which.
        if credential != Credential::OAuth {
            words.extend(["--token-type".to_owned(), credential.as_str().to_owned()]);
        }
        CurlToken::Command(words.join(" "))
    }
}

/// Headers whose values are credentials: never kept in a history or a saved request.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

impl ApiRequest {
    /// The request as it may be kept (history, saved requests): the values of credential headers
    /// (`Authorization`, `Proxy-Authorization`, `Cookie`) the user typed are blanked, unless
    /// the value is only a variable (`Bearer {{token}}`), which holds no secret itself. Keyhole's
    /// own token is never part of a request, so nothing else needs removing.
    pub fn without_credentials(&self) -> ApiRequest {
        let mut request = self.clone();
        for header in &mut request.headers {
            if CREDENTIAL_HEADERS.contains(&header.name.trim().to_ascii_lowercase().as_str())
                && !crate::api::variables::is_only_a_reference(&header.value)
            {
                header.value.clear();
            }
        }
        request
    }
}

/// Single-quotes `text` for a POSIX shell.
pub fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> ApiRequest {
        ApiRequest {
            url: url.into(),
            ..ApiRequest::get(&Url::parse("http://127.0.0.1:1/").expect("url"))
        }
    }

    #[test]
    fn query_headers_and_a_json_body_are_prepared() {
        let mut r = request("http://127.0.0.1:5000/echo?a=1");
        r.method = Method::Post;
        r.query = vec![
            Pair::new("b", "two words"),
            Pair {
                enabled: false,
                ..Pair::new("c", "3")
            },
        ];
        r.headers = vec![Pair::new("X-Trace", "abc")];
        r.body = RequestBody::Json {
            text: r#"{"x":1}"#.into(),
        };
        let p = r.prepare().expect("valid");
        assert_eq!(p.url.as_str(), "http://127.0.0.1:5000/echo?a=1&b=two+words");
        assert_eq!(p.headers["x-trace"], "abc");
        assert_eq!(p.headers[CONTENT_TYPE], "application/json");
        assert_eq!(p.body.as_deref(), Some(&br#"{"x":1}"#[..]));
    }

    #[test]
    fn each_bad_part_is_named_with_a_plain_sentence() {
        let field = |r: &ApiRequest| r.prepare().expect_err("refused").field();
        let mut r = request("http://127.0.0.1:5000/");
        r.body = RequestBody::Json {
            text: "{\"x\":".into(),
        };
        assert_eq!(field(&r), Some("body"));
        assert!(r.prepare().unwrap_err().to_string().contains("line 1"));
        let mut r = request("http://127.0.0.1:5000/");
        r.headers = vec![Pair::new("Bad Name", "x")];
        assert_eq!(field(&r), Some("headers"));
        let mut r = request("http://127.0.0.1:5000/");
        r.headers = vec![Pair::new("X", "a\nb")];
        assert_eq!(field(&r), Some("headers"));
        let mut r = request("http://127.0.0.1:5000/");
        r.headers = vec![Pair::new("authorization", "Bearer mine")];
        assert_eq!(field(&r), Some("headers"));
        r.send_token = false;
        assert!(
            r.prepare().is_ok(),
            "one's own Authorization without the token"
        );
        let mut r = request("http://127.0.0.1:5000/");
        r.timeout_secs = Some(0);
        assert_eq!(field(&r), Some("timeout"));
        let mut r = request("http://127.0.0.1:5000/");
        r.query = vec![Pair::new(" ", "x")];
        assert_eq!(field(&r), Some("query"));
        assert_eq!(field(&request("notaurl")), Some("apiUrl"));
        assert_eq!(Method::parse("brew").unwrap_err().field(), Some("method"));
    }

    #[test]
    fn a_header_name_is_a_token_and_the_refusal_says_what_a_token_is() {
        let refusal = |name: &str| {
            let mut r = request("http://127.0.0.1:5000/");
            r.headers = vec![Pair::new(name, "x")];
            r.prepare().map(|_| ()).map_err(|e| e.to_string())
        };
        // RFC 9110 tokens, not just letters, digits and -.
        for ok in ["X_Under.score", "X-Trace", "a!#$%&'*+-.^_`|~9"] {
            assert_eq!(refusal(ok), Ok(()), "{ok}");
        }
        for bad in ["Bad Name", "X:Y", "Ünïcode"] {
            let said = refusal(bad).unwrap_err();
            assert!(
                said.contains("is not a valid header name")
                    && said.contains("! # $ % & ' * + - . ^ _ ` | ~"),
                "{bad}: {said}"
            );
        }
        assert_eq!(
            refusal("  ").unwrap_err(),
            "A header has no name; give it one, or remove the row."
        );
    }

    #[test]
    fn the_token_command_names_the_profile_or_the_instance_and_client() {
        let config = crate::Settings {
            instance: "https://clerk.example.com".into(),
            client_id: "abc".into(),
            ..Default::default()
        }
        .validate()
        .expect("valid");
        let CurlToken::Command(plain) =
            CurlToken::command_for(&config, crate::Keychain::SERVICE, Credential::OAuth)
        else {
            panic!("a command")
        };
        assert_eq!(
            plain,
            "keyhole-cli token --instance https://clerk.example.com --client-id abc"
        );
        let CurlToken::Command(profiled) = CurlToken::command_for(
            &config.in_profile("my staging"),
            "other.service",
            Credential::OAuth,
        ) else {
            panic!("a command")
        };
        assert_eq!(
            profiled,
            "keyhole-cli token --profile 'my staging' --keychain-service other.service"
        );
    }

    #[test]
    fn a_kept_request_has_no_credential_header_values() {
        let mut r = request("http://127.0.0.1:5000/echo");
        r.send_token = false;
        r.headers = vec![
            Pair::new("Authorization", "Bearer secret"),
            Pair::new(" cookie", "session=secret"),
            Pair::new("X-Trace", "keep"),
        ];
        let kept = r.without_credentials();
        assert_eq!(kept.headers[0], Pair::new("Authorization", ""));
        assert_eq!(kept.headers[1], Pair::new(" cookie", ""));
        assert_eq!(kept.headers[2], Pair::new("X-Trace", "keep"));
        assert!(!serde_json::to_string(&kept)
            .expect("json")
            .contains("secret"));
    }

    #[test]
    fn curl_takes_the_token_from_a_command_unless_asked_for_the_value() {
        let mut r = request("http://127.0.0.1:5000/echo");
        r.method = Method::Post;
        r.headers = vec![Pair::new("X-Note", "it's")];
        r.body = RequestBody::Json {
            text: r#"{"a":"b c"}"#.into(),
        };
        let curl = r
            .to_curl(&CurlToken::Command(
                "keyhole-cli token --profile work".into(),
            ))
            .expect("curl");
        assert!(curl.starts_with("curl -sS -X POST "), "{curl}");
        assert!(curl.contains(r"-H 'x-note: it'\''s'"), "{curl}");
        assert!(
            curl.contains("-H \"Authorization: Bearer $(keyhole-cli token --profile work)\""),
            "{curl}"
        );
        assert!(curl.contains(r#"--data-binary '{"a":"b c"}'"#), "{curl}");
        assert!(curl.ends_with(" http://127.0.0.1:5000/echo"), "{curl}");
        let literal = r
            .to_curl(&CurlToken::Literal(AccessToken::new("tok.en".into())))
            .expect("curl");
        assert!(
            literal.contains("-H 'Authorization: Bearer tok.en'"),
            "{literal}"
        );
        r.send_token = false;
        let without = r
            .to_curl(&CurlToken::Literal(AccessToken::new("tok.en".into())))
            .expect("curl");
        assert!(!without.contains("Authorization"), "{without}");
    }
}
