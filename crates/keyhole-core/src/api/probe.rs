//! Calling the protected API with `Authorization: Bearer <access token>`.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, CONTENT_TYPE, LOCATION};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::api::request::{Method, Prepared};
use crate::error::{Error, Result};
use crate::http;

/// Largest body kept; past it the rest is read only to count it (within the request's timeout)
/// and the body is marked truncated.
pub const BODY_CAP: usize = 50 * 1024 * 1024;
/// Largest body parsed into [`Body::Json`] (the diagnosis, the matrix and the CLI read it);
/// larger ones are [`Body::Large`]: only their raw bytes, which the viewer reads without parsing.
pub const PARSE_CAP: usize = 1024 * 1024;
/// Same-origin redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// The API's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResponse {
    /// The method sent.
    pub method: String,
    /// The HTTP status code.
    pub status: u16,
    /// True for 2xx.
    pub ok: bool,
    /// The status line's canonical reason, e.g. "Unauthorized".
    pub reason: String,
    /// The URL that answered (after same-origin redirects).
    pub url: String,
    /// Time from sending the request to the end of the body.
    pub elapsed_ms: u64,
    /// Time from sending the request to the response's status and headers (first byte).
    pub ttfb_ms: u64,
    /// The body's true size in bytes (counted past [`BODY_CAP`]; see `size_known`).
    pub size: u64,
    /// Bytes of body kept in `raw` (at most [`BODY_CAP`]).
    pub kept: u64,
    /// True when the body was longer than [`BODY_CAP`]: only the first `kept` bytes are kept.
    pub truncated: bool,
    /// False when the request's timeout ended the counting past the cap: `size` is then a
    /// lower bound.
    pub size_known: bool,
    /// The kept bytes, shared (the viewer, Copy and Save body read them; never serialized).
    #[serde(skip)]
    pub raw: bytes::Bytes,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// Response headers, in order, as (name, value).
    pub headers: Vec<(String, String)>,
    /// The body as Keyhole could read it.
    pub body: Body,
    /// A redirect Keyhole did not follow because it leaves the API's origin.
    pub blocked_redirect: Option<String>,
}

/// A response body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Body {
    /// Parsed JSON.
    Json {
        /// The value.
        value: serde_json::Value,
    },
    /// Anything else, as text (lossy UTF-8).
    Text {
        /// The text.
        text: String,
        /// True when the body was longer than [`BODY_CAP`] and was cut.
        truncated: bool,
    },
    /// Longer than [`PARSE_CAP`]: not parsed; the bytes are in [`ApiResponse::raw`].
    Large,
    /// No body.
    Empty,
}

impl ApiResponse {
    /// A one-line summary for errors: `401 Unauthorized — Unauthenticated!`.
    pub fn status_line(&self) -> String {
        let excerpt = match &self.body {
            Body::Json { value } => http::excerpt(value.to_string().as_bytes(), 300),
            Body::Text { text, .. } => http::excerpt(text.as_bytes(), 300),
            Body::Large => http::excerpt(&self.raw[..self.raw.len().min(600)], 300),
            Body::Empty => String::new(),
        };
        let head = format!("{} {}", self.status, self.reason).trim().to_owned();
        if excerpt.is_empty() {
            head
        } else {
            format!("{head} — {excerpt}")
        }
    }
}

/// Sends `request` (with `Authorization: Bearer <token>` when a token is given) and reads the
/// answer, within the request's timeout and until `cancel`. Redirects are followed only within
/// the same origin (scheme, host and port); any other redirect is returned as the answer,
/// unfollowed, so the token never travels to another origin.
pub async fn send(
    http: &reqwest::Client,
    request: &Prepared,
    token: Option<&str>,
    cancel: &CancellationToken,
) -> Result<ApiResponse> {
    // Counting a body past the cap stops a little before the timeout, so the kept part survives.
    let count_until = tokio::time::Instant::now() + request.timeout().mul_f64(0.9);
    let exchange = tokio::time::timeout(
        request.timeout(),
        exchange(http, request, token, count_until),
    );
    let outcome = tokio::select! {
        () = cancel.cancelled() => Err(Error::CallCancelled),
        outcome = exchange => outcome.unwrap_or_else(|_| Err(Error::ApiTimeout {
            url: request.url().to_string(),
            seconds: request.timeout().as_secs(),
        })),
    };
    // Transport failures of the API are their own kind: the front ends tell them apart from the
    // provider's (the CLI's exit code 4).
    outcome.map_err(|error| match error {
        Error::Network {
            url,
            message,
            source,
            ..
        } => Error::ApiUnreachable {
            url,
            message,
            source,
        },
        other => other,
    })
}

async fn exchange(
    http: &reqwest::Client,
    request: &Prepared,
    token: Option<&str>,
    count_until: tokio::time::Instant,
) -> Result<ApiResponse> {
    let started = Instant::now();
    let origin = request.url().origin();
    let mut current = request.url().clone();
    let mut method = request.method();
    let mut with_body = true;
    for _ in 0..=MAX_REDIRECTS {
        let mut builder = request.builder(http, method, &current, with_body);
        if let Some(token) = token {
            // Marked sensitive, so the header's Debug never shows the token.
            builder = builder.bearer_auth(token);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| http::network_error("the API", current.as_str(), e))?;
        let ttfb = started.elapsed();
        let status = response.status();
        if status.is_redirection() {
            if let Some(next) = location(response.headers(), &current) {
                if next.origin() == origin {
                    // As browsers do: 303 (and 301/302 after a POST) turn into a GET without body.
                    if status == reqwest::StatusCode::SEE_OTHER
                        || (matches!(status.as_u16(), 301 | 302) && method == Method::Post)
                    {
                        method = Method::Get;
                        with_body = false;
                    }
                    current = next;
                    continue;
                }
                return read(
                    response,
                    method,
                    current,
                    started,
                    ttfb,
                    Some(next.to_string()),
                    count_until,
                )
                .await;
            }
        }
        return read(response, method, current, started, ttfb, None, count_until).await;
    }
    Err(Error::Network {
        what: "the API",
        url: request.url().to_string(),
        message: format!("it redirected more than {MAX_REDIRECTS} times"),
        source: None,
    })
}

fn location(headers: &HeaderMap, base: &Url) -> Option<Url> {
    let value = headers.get(LOCATION)?.to_str().ok()?;
    base.join(value).ok()
}

async fn read(
    response: reqwest::Response,
    method: Method,
    url: Url,
    started: Instant,
    ttfb: Duration,
    blocked_redirect: Option<String>,
    count_until: tokio::time::Instant,
) -> Result<ApiResponse> {
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let kept = read_counting(response, BODY_CAP, count_until).await?;
    let bytes = kept.bytes;
    let truncated = kept.total > bytes.len() as u64;
    Ok(ApiResponse {
        method: method.as_str().to_owned(),
        ttfb_ms: u64::try_from(ttfb.as_millis()).unwrap_or(u64::MAX),
        size: kept.total,
        kept: bytes.len() as u64,
        truncated,
        size_known: kept.known,
        status: status.as_u16(),
        ok: status.is_success(),
        reason: status.canonical_reason().unwrap_or("").to_owned(),
        url: url.to_string(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        body: parse_body(&bytes, truncated, content_type.as_deref()),
        content_type,
        headers,
        blocked_redirect,
        raw: bytes,
    })
}

/// A body read up to a cap, and how long it really was.
struct Counted {
    bytes: bytes::Bytes,
    total: u64,
    known: bool,
}

/// Where Save body streams an answer: every byte received, past [`BODY_CAP`] too, secret
/// values blanked on the way (the service sets it up for one send, [`with_sink`]).
pub(crate) struct BodySink {
    state: std::sync::Mutex<SinkState>,
}

struct SinkState {
    file: std::io::BufWriter<std::fs::File>,
    redactor: Option<crate::api::variables::BodyRedactor>,
    written: u64,
    failed: Option<std::io::Error>,
    scratch: Vec<u8>,
}

tokio::task_local! {
    static SINK: std::sync::Arc<BodySink>;
}

/// Runs `send` with every answer body it reads streamed into `sink`.
pub(crate) async fn with_sink<F: std::future::Future>(
    sink: std::sync::Arc<BodySink>,
    send: F,
) -> F::Output {
    SINK.scope(sink, send).await
}

impl BodySink {
    /// A sink writing to `file`, blanking with `redactor` when a secret is in use.
    pub(crate) fn new(
        file: std::fs::File,
        redactor: Option<crate::api::variables::BodyRedactor>,
    ) -> BodySink {
        BodySink {
            state: std::sync::Mutex::new(SinkState {
                file: std::io::BufWriter::with_capacity(256 * 1024, file),
                redactor,
                written: 0,
                failed: None,
                scratch: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new answer starts (a renewal's retry reads a second one): the file starts over.
    fn restart(&self) {
        use std::io::{Seek, Write};
        let mut state = self.lock();
        let state = &mut *state;
        let outcome = state
            .file
            .flush()
            .and_then(|()| state.file.get_ref().set_len(0))
            .and_then(|()| state.file.seek(std::io::SeekFrom::Start(0)).map(drop));
        if let Err(error) = outcome {
            state.failed.get_or_insert(error);
        }
        state.written = 0;
        if let Some(redactor) = &mut state.redactor {
            let mut dropped = Vec::new();
            redactor.finish(&mut dropped);
        }
    }

    fn write(&self, chunk: &[u8]) {
        use std::io::Write;
        let mut state = self.lock();
        let state = &mut *state;
        if state.failed.is_some() {
            return;
        }
        let outcome = match &mut state.redactor {
            Some(redactor) => {
                state.scratch.clear();
                redactor.push(chunk, &mut state.scratch);
                state.written += state.scratch.len() as u64;
                state.file.write_all(&state.scratch)
            }
            None => {
                state.written += chunk.len() as u64;
                state.file.write_all(chunk)
            }
        };
        if let Err(error) = outcome {
            state.failed = Some(error);
        }
    }

    /// Writes what is still held and flushes: the bytes written, or the first write error.
    pub(crate) fn finish(&self) -> std::io::Result<u64> {
        use std::io::Write;
        let mut state = self.lock();
        let state = &mut *state;
        if let Some(error) = state.failed.take() {
            return Err(error);
        }
        if let Some(redactor) = &mut state.redactor {
            state.scratch.clear();
            redactor.finish(&mut state.scratch);
            state.written += state.scratch.len() as u64;
            state.file.write_all(&state.scratch)?;
        }
        state.file.flush()?;
        Ok(state.written)
    }
}

/// Keeps at most `cap` bytes, then reads on only to count the rest, until `count_until` (or,
/// while Save body streams it to a file, to the end: the request's timeout still holds).
async fn read_counting(
    mut response: reqwest::Response,
    cap: usize,
    count_until: tokio::time::Instant,
) -> Result<Counted> {
    let sink = SINK.try_with(std::sync::Arc::clone).ok();
    if let Some(sink) = &sink {
        sink.restart();
    }
    let count_until = if sink.is_some() {
        count_until + Duration::from_secs(24 * 3600)
    } else {
        count_until
    };
    let url = response.url().to_string();
    let hint = response.content_length().unwrap_or(0);
    let mut body = bytes::BytesMut::with_capacity(usize::try_from(hint).unwrap_or(0).min(cap));
    let mut total: u64 = 0;
    loop {
        let next = if total >= cap as u64 {
            match tokio::time::timeout_at(count_until, response.chunk()).await {
                Ok(next) => next,
                Err(_) => {
                    return Ok(Counted {
                        bytes: body.freeze(),
                        total,
                        known: false,
                    })
                }
            }
        } else {
            response.chunk().await
        };
        let Some(chunk) = next.map_err(|e| http::network_error("the API", &url, e))? else {
            break;
        };
        if let Some(sink) = &sink {
            sink.write(&chunk);
        }
        let room = cap.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        total += chunk.len() as u64;
    }
    // The body's end came with (or right after) its last chunk: the clock is read once, here,
    // for scripts/bench's "last byte → first painted screen" (bench/README.md, "Answer viewer").
    log_last_byte(total);
    Ok(Counted {
        bytes: body.freeze(),
        total,
        known: true,
    })
}

/// Logs when a body's last byte came in, at debug level under `keyhole_core::timing`, with the
/// wall clock in microseconds and the body's size (never its content):
/// `KEYHOLE_LOG=keyhole_core::timing=debug` shows it.
fn log_last_byte(bytes: u64) {
    let unix_us = crate::timing::unix_micros(std::time::SystemTime::now());
    tracing::debug!(target: "keyhole_core::timing", unix_us, bytes, "answer body: last byte");
}

/// JSON when the content type says so (or says nothing) and the body parses; text otherwise.
fn parse_body(bytes: &[u8], truncated: bool, content_type: Option<&str>) -> Body {
    if bytes.is_empty() {
        return Body::Empty;
    }
    if bytes.len() > PARSE_CAP {
        return Body::Large;
    }
    let maybe_json = content_type.is_none_or(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.contains("json")
    });
    if maybe_json && !truncated {
        if let Ok(value) = serde_json::from_slice(bytes) {
            return Body::Json { value };
        }
    }
    Body::Text {
        text: String::from_utf8_lossy(bytes).into_owned(),
        truncated,
    }
}

/// The API client's own limit; each call has its own, shorter timeout (see [`Prepared`]).
pub const CLIENT_TIMEOUT: Duration = crate::api::request::MAX_API_TIMEOUT;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_json_only_when_they_say_so_and_parse() {
        assert_eq!(
            parse_body(b"{\"a\":1}", false, Some("application/json; charset=utf-8")),
            Body::Json {
                value: serde_json::json!({"a": 1})
            }
        );
        assert_eq!(
            parse_body(b"{\"a\":1}", false, None),
            Body::Json {
                value: serde_json::json!({"a": 1})
            }
        );
        assert!(matches!(
            parse_body(b"{\"a\":1}", false, Some("text/plain")),
            Body::Text { .. }
        ));
        assert!(matches!(
            parse_body(b"{broken", false, Some("application/json")),
            Body::Text { .. }
        ));
        assert!(matches!(
            parse_body(b"{\"a\":", true, Some("application/json")),
            Body::Text {
                truncated: true,
                ..
            }
        ));
        assert_eq!(
            parse_body(b"", false, Some("application/json")),
            Body::Empty
        );
        assert!(matches!(
            parse_body(&[0xff, 0xfe], false, Some("text/plain")),
            Body::Text { .. }
        ));
    }

    #[test]
    fn status_line_reads_like_the_tutorial_error() {
        let response = ApiResponse {
            status: 401,
            ok: false,
            reason: "Unauthorized".into(),
            url: "http://x.test/".into(),
            elapsed_ms: 1,
            method: "GET".into(),
            ttfb_ms: 1,
            size: 0,
            kept: 0,
            truncated: false,
            size_known: true,
            raw: bytes::Bytes::new(),
            content_type: Some("text/html".into()),
            headers: vec![],
            body: Body::Text {
                text: "Unauthenticated!".into(),
                truncated: false,
            },
            blocked_redirect: None,
        };
        assert_eq!(
            response.status_line(),
            "401 Unauthorized — Unauthenticated!"
        );
    }
}
