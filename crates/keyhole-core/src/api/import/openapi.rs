//! An OpenAPI 3.0 document (JSON or YAML, read by the `openapiv3` crate) as saved requests: one
//! per operation, named by its `operationId` (else `METHOD /path`), with its query and header
//! parameters (example values where given) and an example JSON body.

use openapiv3::{
    MediaType, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};
use serde_json::{json, Map, Value};
use url::Url;

use crate::api::request::{ApiRequest, Method, Pair, RequestBody};
use crate::error::{Error, Result};

use super::{join_url, Parsed};

fn refuse(message: impl Into<String>) -> Error {
    Error::setting("import", message)
}

/// How deep an example body is built from a schema (recursive schemas stop here).
const MAX_DEPTH: usize = 6;

/// Parses `text` (JSON or YAML). `document_url` is where it was fetched (relative servers are
/// resolved against it); `api_url` (the profile's) is the base when the document names none.
pub fn parse_openapi(
    text: &str,
    document_url: Option<&Url>,
    api_url: Option<&Url>,
) -> Result<Parsed> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => serde_yaml_ng::from_str(text).map_err(|e| {
            refuse(format!(
                "The document is neither JSON nor YAML (YAML stops at {}); check that it is an OpenAPI document.",
                e.location().map_or("its start".to_owned(), |l| format!("line {}", l.line()))
            ))
        })?,
    };
    let version = value
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if value.get("swagger").is_some() {
        return Err(refuse("This is a Swagger 2.0 document; Keyhole imports OpenAPI 3. Convert it first (e.g. with swagger2openapi)."));
    }
    if !version.starts_with("3.") {
        return Err(refuse(
            "This is not an OpenAPI 3 document: it has no \"openapi: 3.x\" line.",
        ));
    }
    let mut value = value;
    add_missing_responses(&mut value);
    let doc: OpenAPI = serde_json::from_value(value).map_err(|e| {
        let hint = if version.starts_with("3.1") {
            " (Keyhole reads OpenAPI 3.1 documents as 3.0: this one uses a 3.1-only form)"
        } else {
            ""
        };
        refuse(format!(
            "The OpenAPI document could not be read{hint}: {e}."
        ))
    })?;
    let mut parsed = Parsed::default();
    let base = base_url(&doc, document_url, api_url, &mut parsed)?;
    for (path, item) in &doc.paths.paths {
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { reference } => {
                parsed.skipped.push(format!(
                    "{path}: its path item is a reference ({reference}), which Keyhole does not follow."
                ));
                continue;
            }
        };
        for (method, operation) in item.iter() {
            let label = format!("{} {path}", method.to_ascii_uppercase());
            let Ok(method) = Method::parse(method) else {
                parsed.skipped.push(format!(
                    "{label}: Keyhole does not send {} requests.",
                    method.to_ascii_uppercase()
                ));
                continue;
            };
            let mut query = Vec::new();
            let mut headers = Vec::new();
            let mut url_path = path.clone();
            let mut path_variables = Vec::new();
            let params = item.parameters.iter().chain(operation.parameters.iter());
            for param in params {
                let Some(param) = resolve_parameter(&doc, param) else {
                    parsed.note(format!(
                        "{label}: a parameter reference could not be followed; it was left out."
                    ));
                    continue;
                };
                let data = param.parameter_data_ref();
                let example = parameter_example(&doc, data);
                let has_example = example.is_some();
                let value = example.unwrap_or_default();
                match param {
                    Parameter::Query { .. } => query.push(Pair {
                        enabled: data.required || has_example,
                        ..Pair::new(&data.name, value)
                    }),
                    Parameter::Header { .. } => {
                        if data.name.eq_ignore_ascii_case("authorization") {
                            parsed.note("Authorization header parameters were left out: Keyhole sends its own token.");
                            continue;
                        }
                        headers.push(Pair {
                            enabled: data.required || has_example,
                            ..Pair::new(&data.name, value)
                        })
                    }
                    Parameter::Path { .. } => {
                        let placeholder = format!("{{{}}}", data.name);
                        let with = if has_example {
                            value
                        } else {
                            // A Keyhole variable the user fills in once for the profile.
                            path_variables.push(data.name.clone());
                            format!("{{{{{}}}}}", data.name)
                        };
                        url_path = url_path.replace(&placeholder, &with);
                    }
                    Parameter::Cookie { .. } => parsed.note(format!(
                        "{label}: cookie parameters ({}) were left out.",
                        data.name
                    )),
                }
            }
            if !path_variables.is_empty() {
                parsed.note(format!(
                    "Path parameters without an example became variables ({{{{name}}}}): {}; set them under Variables.",
                    dedup(path_variables).join(", ")
                ));
            }
            let body = match &operation.request_body {
                None => RequestBody::None,
                Some(body) => match resolve_request_body(&doc, body) {
                    Some(body) => example_body(&doc, &body.content),
                    None => {
                        parsed.note(format!("{label}: its request body reference could not be followed; it has no body."));
                        RequestBody::None
                    }
                },
            };
            let name = operation
                .operation_id
                .clone()
                .filter(|id| !id.trim().is_empty())
                .unwrap_or_else(|| label.clone());
            parsed.requests.push(ApiRequest {
                method,
                url: join_url(&base, &url_path),
                query,
                headers,
                body,
                send_token: true,
                token_type: None,
                timeout_secs: None,
                name: Some(name),
            });
        }
    }
    if parsed.requests.is_empty() && parsed.skipped.is_empty() {
        return Err(refuse("The OpenAPI document has no operations to import."));
    }
    Ok(parsed)
}

/// 3.0 requires `responses` on each operation and the model insists; an import needs none, so a
/// document that leaves them out still imports.
fn add_missing_responses(value: &mut Value) {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let Some(paths) = value.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for method in METHODS {
            if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                op.entry("responses").or_insert_with(|| json!({}));
            }
        }
    }
}

fn dedup(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names
}

/// The first server, its variables at their defaults, resolved against where the document was
/// fetched; else the profile's API URL's origin (or the document's, per the spec's default `/`).
fn base_url(
    doc: &OpenAPI,
    document_url: Option<&Url>,
    api_url: Option<&Url>,
    parsed: &mut Parsed,
) -> Result<String> {
    let relative_to = document_url.or(api_url);
    if let Some(server) = doc.servers.first() {
        let mut url = server.url.clone();
        for (name, variable) in server.variables.iter().flatten() {
            url = url.replace(&format!("{{{name}}}"), &variable.default);
        }
        if let Ok(absolute) = Url::parse(&url) {
            return Ok(absolute.to_string());
        }
        return match relative_to.map(|base| base.join(&url)) {
            Some(Ok(joined)) => Ok(joined.to_string()),
            _ => Err(refuse(format!(
                "The document's server {url:?} is relative and Keyhole has no URL to resolve it against; set the profile's API URL first."
            ))),
        };
    }
    match document_url.or(api_url) {
        Some(url) => {
            if document_url.is_none() {
                parsed.note(format!(
                    "The document names no server; the requests go to {}, the API URL's origin.",
                    url.origin().ascii_serialization()
                ));
            }
            Ok(url.origin().ascii_serialization())
        }
        None => Err(refuse(
            "The document names no server and the profile has no API URL; set one first.",
        )),
    }
}

fn component<'a, T>(
    reference: &str,
    prefix: &str,
    map: Option<&'a openapiv3::Components>,
    get: impl Fn(&'a openapiv3::Components) -> &'a indexmap::IndexMap<String, ReferenceOr<T>>,
) -> Option<&'a T> {
    let name = reference.strip_prefix(prefix)?;
    match get(map?).get(name)? {
        ReferenceOr::Item(item) => Some(item),
        ReferenceOr::Reference { .. } => None,
    }
}

fn resolve_parameter<'a>(
    doc: &'a OpenAPI,
    param: &'a ReferenceOr<Parameter>,
) -> Option<&'a Parameter> {
    match param {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => component(
            reference,
            "#/components/parameters/",
            doc.components.as_ref(),
            |c| &c.parameters,
        ),
    }
}

fn resolve_request_body<'a>(
    doc: &'a OpenAPI,
    body: &'a ReferenceOr<openapiv3::RequestBody>,
) -> Option<&'a openapiv3::RequestBody> {
    match body {
        ReferenceOr::Item(b) => Some(b),
        ReferenceOr::Reference { reference } => component(
            reference,
            "#/components/requestBodies/",
            doc.components.as_ref(),
            |c| &c.request_bodies,
        ),
    }
}

fn resolve_schema<'a>(doc: &'a OpenAPI, schema: &'a ReferenceOr<Schema>) -> Option<&'a Schema> {
    match schema {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { reference } => schema_component(doc, reference),
    }
}

fn resolve_boxed<'a>(doc: &'a OpenAPI, schema: &'a ReferenceOr<Box<Schema>>) -> Option<&'a Schema> {
    match schema {
        ReferenceOr::Item(s) => Some(s),
        ReferenceOr::Reference { reference } => schema_component(doc, reference),
    }
}

fn schema_component<'a>(doc: &'a OpenAPI, reference: &str) -> Option<&'a Schema> {
    component(
        reference,
        "#/components/schemas/",
        doc.components.as_ref(),
        |c| &c.schemas,
    )
}

fn first_example(
    doc: &OpenAPI,
    examples: &indexmap::IndexMap<String, ReferenceOr<openapiv3::Example>>,
) -> Option<Value> {
    examples.values().find_map(|e| match e {
        ReferenceOr::Item(e) => e.value.clone(),
        ReferenceOr::Reference { reference } => component(
            reference,
            "#/components/examples/",
            doc.components.as_ref(),
            |c| &c.examples,
        )
        .and_then(|e| e.value.clone()),
    })
}

/// A parameter's example as text: `example`, the first of `examples`, the schema's example or
/// default.
fn parameter_example(doc: &OpenAPI, data: &openapiv3::ParameterData) -> Option<String> {
    let value = data
        .example
        .clone()
        .or_else(|| first_example(doc, &data.examples))
        .or_else(|| match &data.format {
            ParameterSchemaOrContent::Schema(schema) => resolve_schema(doc, schema).and_then(|s| {
                s.schema_data
                    .example
                    .clone()
                    .or_else(|| s.schema_data.default.clone())
            }),
            ParameterSchemaOrContent::Content(content) => content.values().find_map(|m| {
                m.example
                    .clone()
                    .or_else(|| first_example(doc, &m.examples))
            }),
        })?;
    Some(match value {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

/// The body of the first JSON media type (else a form, else text), from its example, the first
/// of its examples, or one built from its schema.
fn example_body(doc: &OpenAPI, content: &indexmap::IndexMap<String, MediaType>) -> RequestBody {
    let find = |pred: &dyn Fn(&str) -> bool| {
        content
            .iter()
            .find(|(kind, _)| pred(&kind.to_ascii_lowercase()))
            .map(|(_, media)| media)
    };
    let example_of = |media: &MediaType| {
        media
            .example
            .clone()
            .or_else(|| first_example(doc, &media.examples))
            .or_else(|| {
                media
                    .schema
                    .as_ref()
                    .and_then(|s| resolve_schema(doc, s))
                    .map(|s| schema_example(doc, s, 0))
            })
    };
    if let Some(media) =
        find(&|k| k == "application/json" || k.ends_with("+json") || k.contains("json"))
    {
        let value = example_of(media).unwrap_or_else(|| json!({}));
        return RequestBody::Json {
            text: serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".into()),
        };
    }
    if let Some(media) = find(&|k| k == "application/x-www-form-urlencoded") {
        let fields = match example_of(media) {
            Some(Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| {
                    Pair::new(
                        k,
                        match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        return RequestBody::Form { fields };
    }
    if let Some(media) = find(&|k| k.starts_with("text/")) {
        let text = match example_of(media) {
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        return RequestBody::Text { text };
    }
    RequestBody::None
}

/// An example value for `schema`: its own example or default, else one built from its type.
fn schema_example(doc: &OpenAPI, schema: &Schema, depth: usize) -> Value {
    if let Some(example) = schema
        .schema_data
        .example
        .clone()
        .or_else(|| schema.schema_data.default.clone())
    {
        return example;
    }
    if depth >= MAX_DEPTH {
        return Value::Null;
    }
    let boxed = |s: &ReferenceOr<Box<Schema>>| {
        resolve_boxed(doc, s).map_or(Value::Null, |s| schema_example(doc, s, depth + 1))
    };
    let plain = |s: &ReferenceOr<Schema>| {
        resolve_schema(doc, s).map_or(Value::Null, |s| schema_example(doc, s, depth + 1))
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => s
            .enumeration
            .iter()
            .flatten()
            .next()
            .map_or(json!(""), |e| json!(e)),
        SchemaKind::Type(Type::Number(_)) => json!(0),
        SchemaKind::Type(Type::Integer(_)) => json!(0),
        SchemaKind::Type(Type::Boolean(_)) => json!(false),
        SchemaKind::Type(Type::Array(array)) => match &array.items {
            Some(items) => json!([boxed(items)]),
            None => json!([]),
        },
        SchemaKind::Type(Type::Object(object)) => Value::Object(
            object
                .properties
                .iter()
                .map(|(name, s)| (name.clone(), boxed(s)))
                .collect::<Map<String, Value>>(),
        ),
        SchemaKind::AllOf { all_of } => {
            let mut merged = Map::new();
            for part in all_of {
                if let Value::Object(map) = plain(part) {
                    merged.extend(map);
                }
            }
            Value::Object(merged)
        }
        SchemaKind::OneOf { one_of: options } | SchemaKind::AnyOf { any_of: options } => {
            options.first().map_or(Value::Null, plain)
        }
        SchemaKind::Any(any) => {
            if any.properties.is_empty() {
                Value::Null
            } else {
                Value::Object(
                    any.properties
                        .iter()
                        .map(|(name, s)| (name.clone(), boxed(s)))
                        .collect(),
                )
            }
        }
        SchemaKind::Not { .. } => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"
openapi: 3.0.3
info: { title: T, version: "1" }
servers:
  - url: /api/{version}
    variables:
      version: { default: v2 }
paths:
  /items/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
    get:
      operationId: getItem
      parameters:
        - { name: expand, in: query, schema: { type: string }, example: owner }
        - { name: page, in: query, schema: { type: integer } }
        - $ref: '#/components/parameters/Trace'
        - { name: Authorization, in: header, schema: { type: string } }
    put:
      requestBody:
        $ref: '#/components/requestBodies/Item'
    trace:
      operationId: traceIt
components:
  parameters:
    Trace: { name: X-Trace, in: header, required: true, schema: { type: string, example: abc } }
  requestBodies:
    Item:
      content:
        application/json:
          schema: { $ref: '#/components/schemas/Item' }
  schemas:
    Item:
      type: object
      properties:
        name: { type: string, example: widget }
        count: { type: integer }
        tags: { type: array, items: { type: string, enum: [a, b] } }
"#;

    #[test]
    fn each_operation_is_a_request_with_its_parameters_and_an_example_body() {
        let doc = Url::parse("http://127.0.0.1:5000/openapi.yaml").unwrap();
        let parsed = parse_openapi(YAML, Some(&doc), None).expect("parsed");
        let names: Vec<_> = parsed
            .requests
            .iter()
            .filter_map(|r| r.name.clone())
            .collect();
        assert_eq!(names, ["getItem", "PUT /items/{id}"]);
        let get = &parsed.requests[0];
        assert_eq!(get.url, "http://127.0.0.1:5000/api/v2/items/{{id}}");
        assert_eq!(
            get.query,
            vec![
                Pair::new("expand", "owner"),
                Pair {
                    enabled: false,
                    ..Pair::new("page", "")
                }
            ]
        );
        assert_eq!(get.headers, vec![Pair::new("X-Trace", "abc")]);
        let RequestBody::Json { text } = &parsed.requests[1].body else {
            panic!("a JSON body: {:?}", parsed.requests[1].body)
        };
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(body, json!({"name": "widget", "count": 0, "tags": ["a"]}));
        assert_eq!(parsed.skipped.len(), 1, "{:?}", parsed.skipped);
        assert!(parsed.skipped[0].contains("TRACE"), "{:?}", parsed.skipped);
        assert!(
            parsed
                .notes
                .iter()
                .any(|n| n.contains("variables") && n.contains("id")),
            "{:?}",
            parsed.notes
        );
        assert!(
            parsed.notes.iter().any(|n| n.contains("Authorization")),
            "{:?}",
            parsed.notes
        );
    }

    #[test]
    fn a_json_document_without_servers_goes_to_the_api_url() {
        let text = r#"{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/echo":{"post":{"requestBody":{"content":{"application/json":{"example":{"a":1}}}}}}}}"#;
        let api = Url::parse("https://api.example.com/protected").unwrap();
        let parsed = parse_openapi(text, None, Some(&api)).expect("parsed");
        assert_eq!(parsed.requests[0].url, "https://api.example.com/echo");
        assert_eq!(parsed.requests[0].name.as_deref(), Some("POST /echo"));
        assert_eq!(
            parsed.requests[0].body,
            RequestBody::Json {
                text: "{\n  \"a\": 1\n}".into()
            }
        );
    }

    #[test]
    fn a_document_that_is_not_openapi_3_is_one_plain_sentence() {
        let message = |text: &str| match parse_openapi(text, None, None) {
            Err(Error::InvalidSetting { field, message, .. }) => {
                assert_eq!(field, "import");
                message
            }
            other => panic!("not refused: {other:?}"),
        };
        assert!(message(r#"{"swagger":"2.0"}"#).contains("Swagger 2.0"));
        assert!(message("name: x\n").contains("no \"openapi: 3.x\""));
        assert!(message("{ [").contains("neither JSON nor YAML"));
        assert!(message(r#"{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{}}}}}"#).contains("no server"));
        let api = Url::parse("https://api.example.com/").unwrap();
        let empty = r#"{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{}}"#;
        let error = parse_openapi(empty, None, Some(&api)).expect_err("refused");
        assert!(error.to_string().contains("no operations"), "{error}");
    }
}
