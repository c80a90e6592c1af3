//! A Postman collection v2.1 (or v2.0) as saved requests. No well-kept crate models the format,
//! so these serde structs read the parts Keyhole keeps: folders (flattened as
//! "Folder / Name"), method, URL, headers, raw/urlencoded bodies, and collection variables,
//! which become plain Keyhole variables (`{{var}}` is the same syntax in both).

use serde::Deserialize;
use serde_json::Value;

use crate::api::request::{ApiRequest, Method, Pair, RequestBody};
use crate::api::variables::{check_variable_name, Variable};
use crate::error::{Error, Result};

use super::{is_bearer, strip_session_cookie, Parsed, TOKEN_REPLACED};

fn refuse(message: impl Into<String>) -> Error {
    Error::setting("import", message)
}

/// How deep folders may nest.
const MAX_DEPTH: usize = 16;

#[derive(Deserialize)]
struct Collection {
    info: Info,
    #[serde(default)]
    item: Vec<Item>,
    #[serde(default)]
    variable: Vec<KeyValue>,
    #[serde(default)]
    auth: Option<Value>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    schema: String,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    name: String,
    /// A folder's items.
    #[serde(default)]
    item: Option<Vec<Item>>,
    #[serde(default)]
    request: Option<RequestOrUrl>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RequestOrUrl {
    Url(String),
    Request(Box<Request>),
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    url: Option<UrlField>,
    #[serde(default)]
    header: Option<Headers>,
    #[serde(default)]
    body: Option<Body>,
    #[serde(default)]
    auth: Option<Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum UrlField {
    Text(String),
    Parts {
        #[serde(default)]
        raw: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Headers {
    List(Vec<KeyValue>),
    Text(String),
}

#[derive(Deserialize)]
struct KeyValue {
    #[serde(default, alias = "id")]
    key: Option<String>,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    disabled: bool,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

impl KeyValue {
    fn value_text(&self) -> String {
        match &self.value {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    urlencoded: Vec<KeyValue>,
    #[serde(default)]
    formdata: Vec<KeyValue>,
    #[serde(default)]
    options: Option<Value>,
    #[serde(default)]
    disabled: bool,
}

/// Parses a collection's JSON text. Err is one plain sentence under the `import` field.
pub fn parse_postman(text: &str) -> Result<Parsed> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        refuse(format!(
            "The collection is not valid JSON (line {}, column {}); export it again from Postman (Collection v2.1).",
            e.line(),
            e.column()
        ))
    })?;
    let schema = value
        .pointer("/info/schema")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !schema.contains("collection/v2.") {
        return Err(refuse(
            "This is not a Postman collection v2.1: its info.schema does not name one. Export it again from Postman (Collection v2.1).",
        ));
    }
    let collection: Collection = serde_json::from_value(value)
        .map_err(|e| refuse(format!("The Postman collection could not be read: {e}.")))?;
    let _ = &collection.info.schema;
    let mut parsed = Parsed::default();
    let bearer_collection = collection.auth.as_ref().is_some_and(is_bearer_auth);
    if bearer_collection {
        parsed.note(TOKEN_REPLACED);
    }
    walk(&collection.item, "", 0, &mut parsed)?;
    for variable in &collection.variable {
        let Some(name) = variable.key.as_deref() else {
            continue;
        };
        match check_variable_name(name) {
            Ok(name) => parsed.variables.push(Variable {
                name,
                value: variable.value_text(),
                secret: false,
            }),
            Err(_) => parsed.skipped.push(format!(
                "The collection variable {name:?} was left out: Keyhole's variable names are letters, digits, _, - and ."
            )),
        }
    }
    if parsed.requests.is_empty() && parsed.skipped.is_empty() {
        return Err(refuse("The collection has no requests to import."));
    }
    Ok(parsed)
}

fn is_bearer_auth(auth: &Value) -> bool {
    auth.get("type").and_then(Value::as_str) == Some("bearer")
}

fn walk(items: &[Item], folder: &str, depth: usize, parsed: &mut Parsed) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(refuse(format!(
            "The collection's folders nest deeper than {MAX_DEPTH}; flatten it first."
        )));
    }
    for item in items {
        let name = if folder.is_empty() {
            item.name.trim().to_owned()
        } else {
            format!("{folder} / {}", item.name.trim())
        };
        if let Some(children) = &item.item {
            walk(children, &name, depth + 1, parsed)?;
            continue;
        }
        match &item.request {
            None => parsed.skipped.push(format!("{name}: it has no request.")),
            Some(RequestOrUrl::Url(url)) => parsed.requests.push(ApiRequest {
                name: Some(name),
                ..ApiRequest::get_text(url)
            }),
            Some(RequestOrUrl::Request(request)) => {
                if let Some(r) = one(request, &name, parsed) {
                    parsed.requests.push(r);
                }
            }
        }
    }
    Ok(())
}

fn one(request: &Request, name: &str, parsed: &mut Parsed) -> Option<ApiRequest> {
    let method_text = request.method.as_deref().unwrap_or("GET");
    let Ok(method) = Method::parse(method_text) else {
        parsed.skipped.push(format!(
            "{name}: Keyhole does not send {} requests.",
            method_text.to_ascii_uppercase()
        ));
        return None;
    };
    let url = match &request.url {
        Some(UrlField::Text(text)) => text.clone(),
        Some(UrlField::Parts { raw: Some(raw) }) => raw.clone(),
        _ => {
            parsed.skipped.push(format!("{name}: it has no URL."));
            return None;
        }
    };
    if request.auth.as_ref().is_some_and(is_bearer_auth) {
        parsed.note(TOKEN_REPLACED);
    }
    let mut headers = Vec::new();
    let mut send_token = true;
    let list: Vec<(String, String, bool)> = match &request.header {
        Some(Headers::List(list)) => list
            .iter()
            .filter_map(|h| Some((h.key.clone()?, h.value_text(), !h.disabled)))
            .collect(),
        Some(Headers::Text(text)) => text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned(), true))
            .collect(),
        None => Vec::new(),
    };
    for (key, value, enabled) in list {
        if key.eq_ignore_ascii_case("authorization") {
            if is_bearer(&value) {
                parsed.note(TOKEN_REPLACED);
                continue;
            }
            send_token = !enabled && send_token;
        }
        let value = if key.eq_ignore_ascii_case("cookie") {
            let (rest, had) = strip_session_cookie(&value);
            if had {
                parsed.note(TOKEN_REPLACED);
                if rest.is_empty() {
                    continue;
                }
            }
            rest
        } else {
            value
        };
        headers.push(Pair {
            enabled,
            ..Pair::new(key, value)
        });
    }
    let body = match &request.body {
        None => RequestBody::None,
        Some(body) if body.disabled => RequestBody::None,
        Some(body) => match body.mode.as_deref() {
            Some("raw") => {
                let text = body.raw.clone().unwrap_or_default();
                let language = body
                    .options
                    .as_ref()
                    .and_then(|o| o.pointer("/raw/language"))
                    .and_then(Value::as_str);
                let json =
                    language == Some("json") || (language.is_none() && looks_like_json(&text));
                if json {
                    RequestBody::Json { text }
                } else {
                    RequestBody::Text { text }
                }
            }
            Some("urlencoded") => RequestBody::Form {
                fields: body
                    .urlencoded
                    .iter()
                    .filter_map(|f| {
                        Some(Pair {
                            enabled: !f.disabled,
                            ..Pair::new(f.key.clone()?, f.value_text())
                        })
                    })
                    .collect(),
            },
            Some("formdata") => {
                let (files, text): (Vec<&KeyValue>, Vec<&KeyValue>) = body
                    .formdata
                    .iter()
                    .partition(|f| f.kind.as_deref() == Some("file"));
                if !files.is_empty() {
                    parsed.note(format!(
                        "{name}: its file fields were left out and the rest is sent as a form."
                    ));
                }
                RequestBody::Form {
                    fields: text
                        .into_iter()
                        .filter_map(|f| {
                            Some(Pair {
                                enabled: !f.disabled,
                                ..Pair::new(f.key.clone()?, f.value_text())
                            })
                        })
                        .collect(),
                }
            }
            Some(other) => {
                parsed.note(format!(
                    "{name}: its {other} body was left out (Keyhole sends JSON, text and form bodies)."
                ));
                RequestBody::None
            }
            None => RequestBody::None,
        },
    };
    Some(ApiRequest {
        method,
        url,
        query: Vec::new(),
        headers,
        body,
        send_token,
        token_type: None,
        timeout_secs: None,
        name: Some(name.to_owned()),
    })
}

/// JSON, or JSON with `{{var}}` placeholders where values go.
fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') || t.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLLECTION: &str = include_str!("../../../tests/fixtures/import/collection.postman.json");

    #[test]
    fn folders_are_flattened_and_tokens_dropped() {
        let parsed = parse_postman(COLLECTION).expect("parsed");
        let names: Vec<_> = parsed
            .requests
            .iter()
            .filter_map(|r| r.name.clone())
            .collect();
        assert_eq!(
            names,
            ["Echo", "Items / Create item", "Items / Nested / Search"]
        );
        let create = &parsed.requests[1];
        assert_eq!(create.method, Method::Post);
        assert_eq!(create.url, "{{base}}/echo?kind=create");
        assert_eq!(create.headers, vec![Pair::new("X-Trace", "{{trace}}")]);
        assert!(matches!(&create.body, RequestBody::Json { text } if text.contains("{{name}}")));
        let search = &parsed.requests[2];
        assert_eq!(
            search.body,
            RequestBody::Form {
                fields: vec![Pair::new("q", "widgets")]
            }
        );
        let all = serde_json::to_string(&parsed.requests).unwrap();
        assert!(!all.contains("postman-secret"), "{all}");
        assert!(
            parsed.notes.contains(&TOKEN_REPLACED.to_owned()),
            "{:?}",
            parsed.notes
        );
        let vars: Vec<_> = parsed
            .variables
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(vars, [("base", "http://127.0.0.1:5000"), ("trace", "t-1")]);
        assert_eq!(parsed.skipped.len(), 1, "{:?}", parsed.skipped);
        assert!(
            parsed.skipped[0].contains("bad name"),
            "{:?}",
            parsed.skipped
        );
    }

    #[test]
    fn what_is_not_a_collection_is_one_plain_sentence() {
        let message = |text: &str| parse_postman(text).expect_err("refused").to_string();
        assert!(message("{").contains("not valid JSON"));
        assert!(
            message(r#"{"info":{"schema":"https://example.com/other"}}"#)
                .contains("not a Postman collection v2.1")
        );
        assert!(message(r#"{"info":{"schema":"https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},"item":[]}"#).contains("no requests"));
    }
}
