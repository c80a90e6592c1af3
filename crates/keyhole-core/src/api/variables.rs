//! Variables: per-profile values a request uses as `{{name}}` in its URL, query, headers and
//! body. A plain variable's value is kept with the profile (`profiles.json`); a secret one's in the
//! keychain only (entry [`secret_account`]), and is masked wherever it is shown.
//!
//! What is stored (saved requests, history, tabs) is always the template: the engine resolves
//! the variables only when it sends ([`Variables::resolve`]), and blanks any secret value from the
//! answer it hands back ([`Variables::redact_result`]) and from the curl command it copies, which
//! reads a secret from a shell variable set by `keyhole-cli var get` instead.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::api::request::{ApiRequest, Pair, RequestBody};
use crate::engine::ApiResult;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The longest variable name.
pub const MAX_VARIABLE_NAME: usize = 64;
/// The longest value (plain or secret).
pub const MAX_VARIABLE_VALUE: usize = 64 * 1024;
/// The most variables one profile keeps.
pub const MAX_VARIABLES: usize = 200;
/// A secret shorter than this would be blanked wherever its few characters appear by chance.
pub const MIN_SECRET_LEN: usize = 4;
/// What a window or a list shows for a secret value.
pub const MASK: &str = "••••••••";

/// A variable as the profiles file keeps it: a secret one's value is never here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    /// The name used as `{{name}}`.
    pub name: String,
    /// The value of a plain variable; empty for a secret one (its value is in the keychain).
    #[serde(default)]
    pub value: String,
    /// True when the value lives in the keychain only.
    #[serde(default)]
    pub secret: bool,
}

/// A variable as a front end shows it: a secret value masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariableView {
    /// The name.
    pub name: String,
    /// The plain value, or [`MASK`] for a secret one (empty when the keychain has lost it).
    pub value: String,
    /// True for a secret.
    pub secret: bool,
}

/// The keychain entry of secret variable `name` of profile `profile`.
pub(crate) fn secret_account(profile: &str, name: &str) -> String {
    format!("keyhole-variable:{name}@{profile}")
}

/// A variable name: 1–64 characters, a letter or `_` first, then letters, digits, `_`, `-` or
/// `.`. Err is one plain sentence about the `variable` field.
pub fn check_variable_name(name: &str) -> Result<String> {
    let name = name.trim();
    if is_name(name) {
        return Ok(name.to_owned());
    }
    Err(Error::setting(
        "variable",
        format!(
            "{name:?} is not a variable name; start with a letter or _, then use up to {MAX_VARIABLE_NAME} letters, digits, _, - or ."
        ),
    ))
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphabetic() || first == b'_' => {}
        _ => return false,
    }
    name.len() <= MAX_VARIABLE_NAME
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// True for a header value that is one `{{name}}`, maybe after a scheme word (`Bearer {{t}}`):
/// it names a variable and holds no secret itself, so a kept request may keep it.
pub(crate) fn is_only_a_reference(value: &str) -> bool {
    let value = value.trim();
    let reference = match value.rsplit_once(char::is_whitespace) {
        Some((scheme, last))
            if scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            last
        }
        Some(_) => return false,
        None => value,
    };
    reference
        .strip_prefix("{{")
        .and_then(|r| r.strip_suffix("}}"))
        .is_some_and(|name| is_name(name.trim()))
}

/// Checks a value before it is kept: its size, and a secret's least length.
pub(crate) fn check_variable_value(value: &str, secret: bool) -> Result<()> {
    if value.len() > MAX_VARIABLE_VALUE {
        return Err(Error::setting(
            "variable",
            format!(
                "The value is larger than {} KiB; use a shorter one.",
                MAX_VARIABLE_VALUE / 1024
            ),
        ));
    }
    if secret && value.chars().count() < MIN_SECRET_LEN {
        return Err(Error::setting(
            "variable",
            format!("A secret value needs at least {MIN_SECRET_LEN} characters: a shorter one cannot be told apart from other text to blank it."),
        ));
    }
    Ok(())
}

#[derive(Clone)]
enum Value {
    Plain(String),
    Secret(Secret),
    /// A secret variable whose keychain entry is gone.
    Lost,
}

/// The variables in force for one send: names to values, secrets included (in memory only).
/// `Debug` shows the names and the plain values, never a secret.
#[derive(Clone, Default)]
pub struct Variables {
    values: BTreeMap<String, Value>,
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.values {
            match value {
                Value::Plain(text) => map.entry(name, text),
                Value::Secret(_) => map.entry(name, &"[redacted]"),
                Value::Lost => map.entry(name, &"[lost]"),
            };
        }
        map.finish()
    }
}

/// How a secret variable is written into the resolved text.
#[derive(Clone, Copy)]
enum Secrets {
    /// Its value: the request that is sent.
    Value,
    /// A marker (see [`sentinel`]) that the curl command turns into a shell variable.
    Marker,
}

/// The shell variable a copied curl command reads a secret variable from.
pub fn shell_variable(name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("KEYHOLE_VAR_{tail}")
}

/// A marker made of characters every part of a request keeps as they are (URL paths and
/// queries, header values, JSON strings, form fields), so it can be found in the curl command.
fn sentinel(index: usize) -> String {
    format!("KhSeCrEtVaR{index}x")
}

impl Variables {
    /// No variables.
    pub fn new() -> Variables {
        Variables::default()
    }

    /// Adds (or replaces) a plain variable.
    pub fn plain(mut self, name: &str, value: &str) -> Variables {
        self.values
            .insert(name.to_owned(), Value::Plain(value.to_owned()));
        self
    }

    /// Adds (or replaces) a secret variable.
    pub fn secret(mut self, name: &str, value: Secret) -> Variables {
        self.values.insert(name.to_owned(), Value::Secret(value));
        self
    }

    /// Adds a secret variable whose value the keychain no longer has: using it is an error.
    pub(crate) fn lost(mut self, name: &str) -> Variables {
        self.values.insert(name.to_owned(), Value::Lost);
        self
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `request` with every `{{name}}` replaced by its value, ready to send. Err names the first
    /// unknown variable and the field it is in; nothing is sent then.
    pub fn resolve(&self, request: &ApiRequest) -> Result<ApiRequest> {
        self.resolve_with(request, Secrets::Value)
    }

    fn resolve_with(&self, request: &ApiRequest, secrets: Secrets) -> Result<ApiRequest> {
        let text = |text: &str, field: &'static str, place: &str| {
            self.substitute(text, field, place, secrets)
        };
        let pairs = |pairs: &[Pair], field: &'static str, place: &str| -> Result<Vec<Pair>> {
            pairs
                .iter()
                .map(|p| {
                    if !p.enabled {
                        return Ok(p.clone());
                    }
                    Ok(Pair {
                        name: text(&p.name, field, &format!("{place} name"))?,
                        value: text(&p.value, field, &format!("{place} {:?}", p.name.trim()))?,
                        enabled: true,
                    })
                })
                .collect()
        };
        let body = match &request.body {
            RequestBody::None => RequestBody::None,
            RequestBody::Json { text: t } => RequestBody::Json {
                text: text(t, "body", "body")?,
            },
            RequestBody::Text { text: t } => RequestBody::Text {
                text: text(t, "body", "body")?,
            },
            RequestBody::Form { fields } => RequestBody::Form {
                fields: pairs(fields, "body", "form field")?,
            },
        };
        // A URL that went through a URL parser has its braces encoded (`%7B%7Bid%7D%7D`).
        let url = ["%7B%7B", "%7b%7b"]
            .iter()
            .fold(request.url.clone(), |u, e| u.replace(e, "{{"));
        let url = ["%7D%7D", "%7d%7d"]
            .iter()
            .fold(url, |u, e| u.replace(e, "}}"));
        Ok(ApiRequest {
            url: text(&url, "apiUrl", "URL")?,
            query: pairs(&request.query, "query", "query parameter")?,
            headers: pairs(&request.headers, "headers", "header")?,
            body,
            ..request.clone()
        })
    }

    /// `text` with its `{{name}}` references replaced. A `{{` not followed by a name and `}}` is
    /// kept as it is (JSON, or another tool's `{{$guid}}`).
    fn substitute(
        &self,
        text: &str,
        field: &'static str,
        place: &str,
        secrets: Secrets,
    ) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let reference = after
                .find("}}")
                .map(|end| (after[..end].trim(), end))
                .filter(|(name, _)| is_name(name));
            let Some((name, end)) = reference else {
                out.push_str("{{");
                rest = after;
                continue;
            };
            match self.values.get(name) {
                Some(Value::Plain(value)) => out.push_str(value),
                Some(Value::Secret(value)) => match secrets {
                    Secrets::Value => out.push_str(value.secret()),
                    Secrets::Marker => out.push_str(&sentinel(self.index_of(name))),
                },
                Some(Value::Lost) => {
                    return Err(Error::setting(
                        field,
                        format!(
                            "The {place} uses the secret variable {name:?}, whose value the keychain no longer has; set it again under Variables."
                        ),
                    ))
                }
                None => {
                    return Err(Error::setting(
                        field,
                        format!(
                            "The {place} uses {{{{{name}}}}}, but this profile has no variable {name:?}; add it under Variables or remove it."
                        ),
                    ))
                }
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn index_of(&self, name: &str) -> usize {
        self.values.keys().position(|k| k == name).unwrap_or(0)
    }

    fn secrets(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.values.iter().filter_map(|(name, value)| match value {
            Value::Secret(secret) => Some((name.as_str(), secret)),
            Value::Plain(_) | Value::Lost => None,
        })
    }

    /// `text` with every secret value replaced by `<secret NAME>`.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (name, secret) in self.secrets() {
            if secret.secret().len() >= MIN_SECRET_LEN && text.contains(secret.secret()) {
                text = text.replace(secret.secret(), &format!("<secret {name}>"));
            }
        }
        text
    }

    /// A redactor for a body's bytes as they stream (Save body), or None when no secret value
    /// is in use.
    pub fn body_redactor(&self) -> Option<BodyRedactor> {
        let needles: Vec<(Vec<u8>, Vec<u8>)> = self
            .secrets()
            .filter(|(_, secret)| secret.secret().len() >= MIN_SECRET_LEN)
            .map(|(name, secret)| {
                (
                    secret.secret().as_bytes().to_vec(),
                    format!("<secret {name}>").into_bytes(),
                )
            })
            .collect();
        (!needles.is_empty()).then(|| BodyRedactor {
            longest: needles.iter().map(|(n, _)| n.len()).max().unwrap_or(0),
            needles,
            carry: Vec::new(),
        })
    }

    /// The answer with every secret value blanked (the URL, the headers, the body, the words
    /// about it): an API that echoes what it got must not put a secret on screen or on disk.
    pub fn redact_result(&self, mut result: ApiResult) -> ApiResult {
        if self.secrets().next().is_none() {
            return result;
        }
        let response = &mut result.response;
        response.url = self.redact(&response.url);
        for (name, value) in &mut response.headers {
            *name = self.redact(name);
            *value = self.redact(value);
        }
        if let Some(redirect) = &mut response.blocked_redirect {
            *redirect = self.redact(redirect);
        }
        match &mut response.body {
            crate::api::probe::Body::Json { value } => self.redact_json(value),
            crate::api::probe::Body::Text { text, .. } => *text = self.redact(text),
            crate::api::probe::Body::Large | crate::api::probe::Body::Empty => {}
        }
        // The raw bytes the viewer, Copy and Save body read.
        if let Some(mut redactor) = self.body_redactor() {
            let mut out = Vec::with_capacity(response.raw.len());
            redactor.push(&response.raw, &mut out);
            redactor.finish(&mut out);
            response.raw = bytes::Bytes::from(out);
        }
        if let Some(diagnosis) = &mut result.diagnosis {
            *diagnosis = self.redact(diagnosis);
        }
        for warning in &mut result.warnings {
            warning.message = self.redact(&warning.message);
        }
        result
    }

    fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => *text = self.redact(text),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => {
                let old = std::mem::take(map);
                for (key, mut v) in old {
                    self.redact_json(&mut v);
                    map.insert(self.redact(&key), v);
                }
            }
            _ => {}
        }
    }

    /// An error about a resolved request, with any secret value blanked from its words (the URL
    /// an unreachable or slow API was called at, a refused value).
    pub(crate) fn redact_error(&self, error: Error) -> Error {
        if self.secrets().next().is_none() {
            return error;
        }
        match error {
            Error::InvalidSetting {
                field,
                message,
                source,
            } if source.is_none() => Error::setting(field, self.redact(&message)),
            Error::ApiUnreachable {
                url,
                message,
                source,
            } => {
                let redacted = self.redact(&url);
                Error::ApiUnreachable {
                    message: self.redact(&message),
                    // The transport's own words repeat the URL.
                    source: if redacted == url { source } else { None },
                    url: redacted,
                }
            }
            Error::ApiTimeout { url, seconds } => Error::ApiTimeout {
                url: self.redact(&url),
                seconds,
            },
            other => other,
        }
    }

    /// The request as a curl command (see [`ApiRequest::to_curl`]): plain variables substituted,
    /// each secret one read from a shell variable that a first line sets with
    /// `keyhole-cli var get NAME` (`var_get` is that command without the name), so no secret is
    /// in the command.
    pub fn to_curl(
        &self,
        request: &ApiRequest,
        token: &crate::api::request::CurlToken,
        var_get: &str,
    ) -> Result<String> {
        let resolved = self.resolve_with(request, Secrets::Marker)?;
        let mut command = resolved.to_curl(token)?;
        let mut lines = Vec::new();
        for (index, name) in self.values.keys().enumerate() {
            let marker = sentinel(index);
            if !command.contains(&marker) {
                continue;
            }
            let shell = shell_variable(name);
            // The marker sits inside a single-quoted word: close the quotes around a
            // double-quoted variable (no empty '' left where it starts or ends the word).
            let variable = format!("\"${shell}\"");
            command = command
                .replace(&format!("'{marker}'"), &variable)
                .replace(&format!("'{marker}"), &format!("{variable}'"))
                .replace(&format!("{marker}'"), &format!("'{variable}"))
                .replace(&marker, &format!("'{variable}'"));
            lines.push(format!(
                "{shell}=\"$({var_get} {})\"",
                crate::api::request::quote(name)
            ));
        }
        lines.push(command);
        Ok(lines.join("\n"))
    }
}

/// Blanks secret values in a body's bytes as they stream: a value split between two chunks is
/// still found, since the last bytes of a chunk wait for the next (or for [`BodyRedactor::finish`]).
pub struct BodyRedactor {
    /// (secret value, what replaces it).
    needles: Vec<(Vec<u8>, Vec<u8>)>,
    longest: usize,
    carry: Vec<u8>,
}

impl fmt::Debug for BodyRedactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyRedactor([redacted])")
    }
}

impl BodyRedactor {
    /// Appends `chunk`, blanked, to `out` (all but its last bytes, which may start a value).
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        self.carry.extend_from_slice(chunk);
        // A match starting before `safe` lies whole in what is held.
        let safe = self
            .carry
            .len()
            .saturating_sub(self.longest.saturating_sub(1));
        let used = self.scan(safe, out);
        self.carry.drain(..used);
    }

    /// Appends what is still held, blanked.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let used = self.scan(self.carry.len(), out);
        self.carry.drain(..used);
    }

    /// Copies `carry` from its start, blanking matches that start before `until`; answers the
    /// bytes consumed.
    fn scan(&self, until: usize, out: &mut Vec<u8>) -> usize {
        let bytes = &self.carry;
        let mut at = 0;
        let mut copied = 0;
        while at < until {
            let hit = self
                .needles
                .iter()
                .find(|(needle, _)| bytes[at..].starts_with(needle));
            match hit {
                Some((needle, with)) => {
                    out.extend_from_slice(&bytes[copied..at]);
                    out.extend_from_slice(with);
                    at += needle.len();
                    copied = at;
                }
                None => at += 1,
            }
        }
        out.extend_from_slice(&bytes[copied..at]);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::request::{CurlToken, Method};

    fn request() -> ApiRequest {
        ApiRequest {
            method: Method::Post,
            url: "{{base}}/echo/{{id}}".into(),
            query: vec![Pair::new("{{qname}}", "x-{{id}}")],
            headers: vec![
                Pair::new("X-{{hname}}", "v {{id}}"),
                Pair::new("X-Key", "{{token}}"),
            ],
            body: RequestBody::Json {
                text: r#"{"id":"{{id}}","k":"{{ token }}"}"#.into(),
            },
            send_token: false,
            token_type: None,
            timeout_secs: None,
            name: None,
        }
    }

    #[test]
    fn a_body_streamed_in_pieces_is_blanked_even_where_a_value_is_split() {
        let vars = vars();
        let body = b"{\"a\":\"s3cret-value\",\"b\":\"xs3cret-valuex\"}s3cret-val";
        for cut in 0..body.len() {
            let mut redactor = vars.body_redactor().expect("a secret is in use");
            let mut out = Vec::new();
            redactor.push(&body[..cut], &mut out);
            redactor.push(&body[cut..], &mut out);
            redactor.finish(&mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "{\"a\":\"<secret token>\",\"b\":\"x<secret token>x\"}s3cret-val",
                "cut at {cut}"
            );
        }
        assert!(Variables::new().plain("a", "b").body_redactor().is_none());
    }

    fn vars() -> Variables {
        Variables::new()
            .plain("base", "http://127.0.0.1:5000")
            .plain("id", "42")
            .plain("qname", "q")
            .plain("hname", "Trace")
            .secret("token", Secret::new("s3cret-value".into()))
    }

    #[test]
    fn every_place_of_a_request_is_resolved() {
        let r = vars().resolve(&request()).expect("resolved");
        assert_eq!(r.url, "http://127.0.0.1:5000/echo/42");
        assert_eq!(r.query, vec![Pair::new("q", "x-42")]);
        assert_eq!(r.headers[0], Pair::new("X-Trace", "v 42"));
        assert_eq!(r.headers[1], Pair::new("X-Key", "s3cret-value"));
        assert_eq!(
            r.body,
            RequestBody::Json {
                text: r#"{"id":"42","k":"s3cret-value"}"#.into()
            }
        );
        let mut form = request();
        form.body = RequestBody::Form {
            fields: vec![Pair::new("f{{id}}", "{{base}}")],
        };
        let r = vars().resolve(&form).expect("resolved");
        assert_eq!(
            r.body,
            RequestBody::Form {
                fields: vec![Pair::new("f42", "http://127.0.0.1:5000")]
            }
        );
        let p = r.prepare().expect("prepared");
        assert_eq!(p.url().as_str(), "http://127.0.0.1:5000/echo/42?q=x-42");
        // The same template after a URL parser encoded its braces.
        let mut parsed = request();
        parsed.url = url::Url::parse("http://h/items/{{id}}")
            .unwrap()
            .to_string();
        assert!(parsed.url.contains("%7B%7Bid%7D%7D"), "{}", parsed.url);
        assert_eq!(vars().resolve(&parsed).unwrap().url, "http://h/items/42");
    }

    #[test]
    fn what_is_not_a_reference_is_kept_as_it_is() {
        let v = Variables::new().plain("a", "1");
        let mut r = request();
        r.url = "http://h/{{$guid}}/{{a}}/{{ open".into();
        r.query.clear();
        r.headers.clear();
        r.body = RequestBody::Text {
            text: "{{}} {{a}}}".into(),
        };
        let out = v.resolve(&r).expect("resolved");
        assert_eq!(out.url, "http://h/{{$guid}}/1/{{ open");
        assert_eq!(
            out.body,
            RequestBody::Text {
                text: "{{}} 1}".into()
            }
        );
    }

    #[test]
    fn an_unknown_variable_is_named_with_its_field() {
        let field = |mut r: ApiRequest, edit: &dyn Fn(&mut ApiRequest)| {
            edit(&mut r);
            let error = vars().resolve(&r).expect_err("refused");
            (error.field(), error.to_string())
        };
        let (f, message) = field(request(), &|r| r.url = "{{nope}}/x".into());
        assert_eq!(f, Some("apiUrl"));
        assert!(message.contains("{{nope}}"), "{message}");
        assert!(message.contains("URL"), "{message}");
        let (f, message) = field(request(), &|r| r.headers[1].value = "{{missing}}".into());
        assert_eq!(f, Some("headers"));
        assert!(message.contains("header \"X-Key\""), "{message}");
        let (f, _) = field(request(), &|r| r.query[0].name = "{{q2}}".into());
        assert_eq!(f, Some("query"));
        let (f, _) = field(request(), &|r| {
            r.body = RequestBody::Text {
                text: "{{b}}".into(),
            }
        });
        assert_eq!(f, Some("body"));
        // A disabled pair is not sent, so its unknown variable is no error.
        let mut r = request();
        r.headers.push(Pair {
            enabled: false,
            ..Pair::new("X", "{{absent}}")
        });
        assert!(vars().resolve(&r).is_ok());
    }

    #[test]
    fn a_kept_credential_header_keeps_a_variable_but_not_a_value() {
        let mut r = request();
        r.headers = vec![
            Pair::new("Authorization", "Bearer {{token}}"),
            Pair::new("Cookie", "{{cookie}}"),
            Pair::new("Proxy-Authorization", "Basic abc{{x}}"),
            Pair::new("Cookie", "a=b; {{c}}"),
        ];
        let kept = r.without_credentials();
        assert_eq!(kept.headers[0].value, "Bearer {{token}}");
        assert_eq!(kept.headers[1].value, "{{cookie}}");
        assert_eq!(kept.headers[2].value, "");
        assert_eq!(kept.headers[3].value, "");
    }

    #[test]
    fn names_follow_one_rule_said_plainly() {
        for good in ["a", "_x", "api.base-url_2", &"n".repeat(64)] {
            assert_eq!(check_variable_name(good).expect(good), good);
        }
        for bad in ["", "1st", "has space", "-x", "a{b", "é", &"n".repeat(65)] {
            let error = check_variable_name(bad).expect_err(bad);
            assert_eq!(error.field(), Some("variable"), "{bad:?}");
            assert!(error.to_string().contains("start with a letter"), "{error}");
        }
        let error = check_variable_value("abc", true).expect_err("short");
        assert!(error.to_string().contains("at least 4"), "{error}");
        assert!(check_variable_value("abc", false).is_ok());
    }

    #[test]
    fn curl_reads_a_secret_from_a_shell_variable() {
        let curl = vars()
            .to_curl(
                &request(),
                &CurlToken::Command("keyhole-cli token".into()),
                "keyhole-cli var get --profile work",
            )
            .expect("curl");
        assert!(!curl.contains("s3cret-value"), "{curl}");
        assert!(
            curl.starts_with(
                "KEYHOLE_VAR_TOKEN=\"$(keyhole-cli var get --profile work token)\"\ncurl "
            ),
            "{curl}"
        );
        assert!(
            curl.contains(r#"-H 'x-key: '"$KEYHOLE_VAR_TOKEN" "#),
            "{curl}"
        );
        assert!(
            curl.contains(r#"--data-binary '{"id":"42","k":"'"$KEYHOLE_VAR_TOKEN"'"}'"#),
            "{curl}"
        );
        assert!(
            curl.contains(" 'http://127.0.0.1:5000/echo/42?q=x-42'")
                || curl.ends_with(" http://127.0.0.1:5000/echo/42?q=x-42"),
            "{curl}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::api::probe::{ApiResponse, Body};
    use crate::api::request::{CurlToken, Method};
    use crate::settings::config::Settings;
    use crate::settings::profiles::{Profile, Profiles};

    fn template(places: &[bool; 6]) -> ApiRequest {
        let at = |on: bool, text: &str| {
            if on {
                text.replace("@", "{{key}}")
            } else {
                text.replace("@", "")
            }
        };
        ApiRequest {
            method: Method::Post,
            url: at(places[0], "http://127.0.0.1:5000/echo/@"),
            query: vec![Pair::new("q", at(places[1], "v@"))],
            headers: vec![
                Pair::new("X-A", at(places[2], "a @")),
                Pair::new("Authorization", at(places[3], "Bearer @")),
            ],
            body: if places[4] {
                RequestBody::Json {
                    text: at(places[5], r#"{"k":"@"}"#),
                }
            } else {
                RequestBody::Form {
                    fields: vec![Pair::new("f", at(places[5], "@"))],
                }
            },
            send_token: false,
            token_type: None,
            timeout_secs: None,
            name: None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the secret and wherever it is used, it reaches the resolved request only:
        /// never the stored template (profiles file), the kept copy, the curl command, a Debug
        /// print, or an answer that echoes it.
        #[test]
        fn no_secret_value_appears_in_what_is_stored_or_shown(
            secret in "[A-Za-z0-9_.~-]{4,40}",
            places in proptest::array::uniform6(any::<bool>()),
        ) {
            // Secrets that are a piece of the template's own text say nothing about leaks.
            prop_assume!(!"http://127.0.0.1:5000/echo/ v a Bearer {\"k\":\"\"} q f X-A key KEYHOLE_VAR_KEY keyhole-cli var get --profile p token POST".contains(&secret));
            let vars = Variables::new().secret("key", Secret::new(secret.clone())).plain("p", "1");
            let request = template(&places);
            let resolved = vars.resolve(&request).expect("resolves");
            let uses = places[0] || places[1] || places[2] || places[3] || places[5];
            prop_assert_eq!(serde_json::to_string(&resolved).unwrap().contains(&secret), uses);

            let shown = |what: &str, text: &str| {
                assert!(!text.contains(&secret), "{what} shows the secret: {text}");
            };
            shown("Debug of the variables", &format!("{vars:?} {vars:#?}"));
            shown("the template", &serde_json::to_string(&request).unwrap());
            shown("the kept copy", &serde_json::to_string(&request.without_credentials()).unwrap());
            let curl = vars
                .to_curl(&request, &CurlToken::Command("keyhole-cli token".into()), "keyhole-cli var get --profile p")
                .expect("curl");
            shown("curl", &curl);

            // Saved as a request and as a variable of a profile: the file has no secret.
            let dir = std::env::temp_dir().join(format!("keyhole-var-prop-{}-{:?}", std::process::id(), std::thread::current().id()));
            let profiles = Profiles::at(dir.join("profiles.json"));
            profiles.save(Profile {
                name: "p".into(),
                settings: Settings {
                    instance: "http://127.0.0.1:4010".into(),
                    client_id: "c".into(),
                    ..Settings::default()
                },
                requests: vec![],
            }).expect("saved");
            profiles.save_request("p", "r", &request).expect("saved");
            profiles.set_variable("p", &Variable { name: "key".into(), value: secret.clone(), secret: true }).expect("set");
            shown("the profiles file", &std::fs::read_to_string(profiles.path()).unwrap());
            let _ = std::fs::remove_dir_all(&dir);

            // An answer that echoes the resolved request back.
            let echoed = serde_json::to_string(&resolved).unwrap();
            let result = ApiResult {
                response: ApiResponse {
                    method: "POST".into(),
                    status: 200,
                    ok: true,
                    reason: "OK".into(),
                    url: resolved.url.clone(),
                    elapsed_ms: 1,
                    ttfb_ms: 1,
                    size: 1,
                    kept: 1,
                    truncated: false,
                    size_known: true,
                    raw: bytes::Bytes::from(format!("{{\"got\":{echoed:?},\"s\":\"{secret}\"}}")),
                    content_type: None,
                    headers: vec![("x-echo".into(), format!("v={secret}"))],
                    body: Body::Json { value: serde_json::json!({ "got": echoed, secret.clone(): [secret.clone()] }) },
                    blocked_redirect: None,
                },
                diagnosis: Some(format!("saw {secret}")),
                warnings: vec![],
            };
            let redacted = vars.redact_result(result);
            shown("the answer", &serde_json::to_string(&redacted).unwrap());
            shown("the answer's Debug", &format!("{redacted:?}"));
            shown("the answer's raw bytes", &String::from_utf8_lossy(&redacted.response.raw));
            let error = vars.redact_error(Error::ApiTimeout { url: resolved.url.clone(), seconds: 1 });
            shown("an error", &format!("{error} {error:?}"));
        }
    }
}
