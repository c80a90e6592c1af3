//! [`McpClient`]: one MCP endpoint, its revision and (for the older revisions) its session.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Map, Value};
use url::Url;

use super::sse::SseParser;
use super::{
    shown_line, shown_text, McpCallResult, McpContent, McpFault, McpItem, McpListing, McpServer,
    McpTool, McpTools, Revision,
};
use crate::error::{Error, Result};
use crate::http::shown_origin;

/// How long one MCP request may take and how much of an answer is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct McpLimits {
    /// Per request, from sending to the last byte read (an SSE stream included).
    pub timeout: Duration,
    /// The most bytes one answer (a JSON body, or an SSE stream in total) may have.
    pub cap: usize,
}

impl Default for McpLimits {
    fn default() -> Self {
        McpLimits {
            timeout: crate::api::request::DEFAULT_API_TIMEOUT,
            cap: 4 * 1024 * 1024,
        }
    }
}

/// More pages than this is a server that paginates without end.
const MAX_PAGES: u32 = 100;
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const CLIENT_NAME: &str = "Keyhole";

/// What one POST got back: the response to it (if one came), and what HTTP said.
struct Reply {
    status: u16,
    content_type: String,
    session: Option<String>,
    challenge: Option<String>,
    /// The JSON-RPC message answering the request, when one was read.
    message: Option<Value>,
    /// The body did parse as JSON, but was no JSON-RPC message (kept to say so).
    other_json: bool,
    notifications: u32,
}

#[derive(Default)]
struct Conn {
    server: Option<McpServer>,
    session: Option<String>,
    /// `server` is what an earlier run found ([`McpClient::assume`]), not yet answered by it.
    assumed: bool,
}

/// One MCP endpoint. Cheap to share; requests may run at once.
pub(crate) struct McpClient {
    url: Url,
    http: reqwest::Client,
    limits: McpLimits,
    conn: tokio::sync::Mutex<Conn>,
    ids: AtomicU64,
}

impl McpClient {
    /// A client for the endpoint `url`; nothing is sent yet.
    pub(crate) fn new(url: Url, limits: McpLimits) -> McpClient {
        McpClient {
            url,
            http: crate::http::client(limits.timeout + Duration::from_secs(5)),
            limits,
            conn: tokio::sync::Mutex::new(Conn::default()),
            ids: AtomicU64::new(1),
        }
    }

    /// The server, introduced (discovered or initialized) on first use.
    pub(crate) async fn server(&self, token: Option<&str>) -> Result<McpServer> {
        let mut conn = self.conn.lock().await;
        if let Some(server) = &conn.server {
            return Ok(server.clone());
        }
        let (server, session) = self.introduce(token).await?;
        conn.server = Some(server.clone());
        conn.session = session;
        Ok(server)
    }

    /// Speak `server`'s revision (an earlier run's introduction of this endpoint) without
    /// introducing again: requests go straight away. Only a stateless (2026-07-28) server is
    /// assumed; a server that answers that it no longer speaks the revision is introduced again
    /// once (2026-07-28 transport, backward compatibility), and the request sent again.
    pub(crate) async fn assume(&self, server: McpServer) {
        let mut conn = self.conn.lock().await;
        if conn.server.is_none() && !server.revision.is_legacy() && server.url == self.url.as_str()
        {
            conn.server = Some(server);
            conn.assumed = true;
        }
    }

    /// The server as it introduced itself to this client, once it did (not what was assumed
    /// and not answered yet).
    pub(crate) async fn introduced(&self) -> Option<McpServer> {
        let conn = self.conn.lock().await;
        conn.server.clone().filter(|_| !conn.assumed)
    }

    /// Every tool, page after page.
    pub(crate) async fn tools(&self, token: Option<&str>) -> Result<McpTools> {
        let (server, items, pages) = self.paginate("tools/list", "tools", token).await?;
        let tools = items
            .iter()
            .filter_map(|tool| {
                Some(McpTool {
                    name: tool.get("name")?.as_str()?.to_owned(),
                    title: text_member(tool, "title"),
                    description: text_member(tool, "description"),
                    input_schema: tool.get("inputSchema").cloned().unwrap_or(Value::Null),
                })
            })
            .collect();
        Ok(McpTools {
            server,
            tools,
            pages,
        })
    }

    /// Calls `tool` with `arguments` (a JSON object).
    pub(crate) async fn call(
        &self,
        tool: &str,
        arguments: &Value,
        token: Option<&str>,
    ) -> Result<McpCallResult> {
        let started = Instant::now();
        let params = json!({ "name": tool, "arguments": arguments });
        let (server, result, notifications) = self.request("tools/call", params, token).await?;
        let content = match result.get("content") {
            Some(Value::Array(items)) => items.iter().map(content_item).collect(),
            _ => {
                return Err(protocol(format!(
                    "The MCP server's result for the tool {} has no content list, which every tool result must have.",
                    shown_line(tool, 80)
                )))
            }
        };
        Ok(McpCallResult {
            server,
            tool: tool.to_owned(),
            content,
            structured: result.get("structuredContent").cloned(),
            is_error: result.get("isError").and_then(Value::as_bool) == Some(true),
            notifications,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// `resources/list` or `prompts/list`, when the server's capabilities offer them.
    pub(crate) async fn listing(
        &self,
        kind: &'static str,
        token: Option<&str>,
    ) -> Result<McpListing> {
        // What an earlier run found may be out of date: what is offered is asked now.
        self.forget_assumed().await;
        let server = self.server(token).await?;
        if server.capabilities.get(kind).is_none() {
            return Ok(McpListing {
                server,
                offered: false,
                items: Vec::new(),
            });
        }
        let method = if kind == "resources" {
            "resources/list"
        } else {
            "prompts/list"
        };
        let (server, items, _) = self.paginate(method, kind, token).await?;
        let items = items
            .iter()
            .filter_map(|item| {
                Some(McpItem {
                    name: shown_text(item.get("name")?.as_str()?),
                    uri: item.get("uri").and_then(Value::as_str).map(shown_text),
                    description: text_member(item, "description"),
                })
            })
            .collect();
        Ok(McpListing {
            server,
            offered: true,
            items,
        })
    }

    async fn paginate(
        &self,
        method: &'static str,
        member: &'static str,
        token: Option<&str>,
    ) -> Result<(McpServer, Vec<Value>, u32)> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        let mut pages = 0;
        loop {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let (server, result, _) = self.request(method, params, token).await?;
            pages += 1;
            match result.get(member) {
                Some(Value::Array(list)) => items.extend(list.iter().cloned()),
                _ => {
                    return Err(protocol(format!(
                        "The MCP server's answer to {method} has no {member} list."
                    )))
                }
            }
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    if !seen.insert(next.to_owned()) || pages >= MAX_PAGES {
                        return Err(protocol(format!(
                            "The MCP server's {method} pages without end (a cursor repeated, or more than {MAX_PAGES} pages), so Keyhole stopped reading."
                        )));
                    }
                    cursor = Some(next.to_owned());
                }
                _ => return Ok((server, items, pages)),
            }
        }
    }

    /// Sends `method` with `params` in the revision spoken; a forgotten session (404) is
    /// initialized once more. The server, the result and the notifications counted.
    async fn request(
        &self,
        method: &'static str,
        params: Value,
        token: Option<&str>,
    ) -> Result<(McpServer, Map<String, Value>, u32)> {
        for attempt in 0..2 {
            let server = self.server(token).await?;
            let (session, assumed) = {
                let conn = self.conn.lock().await;
                (conn.session.clone(), conn.assumed)
            };
            let reply = self
                .send(
                    server.revision,
                    session.as_deref(),
                    method,
                    params.clone(),
                    token,
                )
                .await?;
            if server.revision.is_legacy() && session.is_some() && reply.status == 404 {
                // The server forgot the session: a new one, once (2025-11-25 transport §Session
                // Management: the client MUST start a new session on 404).
                let mut conn = self.conn.lock().await;
                conn.server = None;
                conn.session = None;
                drop(conn);
                if attempt == 0 {
                    tracing::info!(url = %shown_origin(&self.url), "MCP session expired: initializing again");
                    continue;
                }
                return Err(Error::Mcp {
                    fault: McpFault::SessionExpired,
                    message: format!(
                        "The MCP server at {} forgot its session again right after Keyhole started a new one, so Keyhole stopped; try again, and if it keeps happening the server loses sessions (a restart, several instances without shared sessions).",
                        shown_origin(&self.url)
                    ),
                    code: None,
                    challenge: None,
                });
            }
            let notifications = reply.notifications;
            let bad_request = reply.status == 400;
            let result = self.outcome(reply, method);
            if assumed {
                if attempt == 0 && no_longer_spoken(&result, bad_request) {
                    tracing::info!(url = %shown_origin(&self.url), "the MCP server no longer speaks the revision of the last run: introducing again");
                    self.forget_assumed().await;
                    continue;
                }
                self.conn.lock().await.assumed = false;
            }
            return Ok((server, result?, notifications));
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// Drops an assumed server: the next request introduces the endpoint.
    async fn forget_assumed(&self) {
        let mut conn = self.conn.lock().await;
        if conn.assumed {
            *conn = Conn::default();
        }
    }

    /// The revision, by the 2026-07-28 transport's backward-compatibility rule: `server/discover`
    /// first; a recognized modern error means a modern server, anything else (but a sign-in or
    /// no answer at all) means an older one, which is initialized.
    async fn introduce(&self, token: Option<&str>) -> Result<(McpServer, Option<String>)> {
        let reply = self
            .send(
                Revision::V2026_07_28,
                None,
                "server/discover",
                json!({}),
                token,
            )
            .await?;
        let first = match self.outcome(reply, "server/discover") {
            Ok(result) => {
                let versions: Vec<&str> = result
                    .get("supportedVersions")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if versions.contains(&Revision::V2026_07_28.as_str()) {
                    return Ok((self.describe(Revision::V2026_07_28, &result), None));
                }
                match versions.iter().find_map(|v| Revision::parse(v)) {
                    Some(older) => return self.initialize(older, token).await,
                    None => return Err(unspoken(&self.url, &versions)),
                }
            }
            Err(error) => error,
        };
        match &first {
            // A sign-in, no answer, or an answer too big or too slow: the same again for
            // initialize, so it is said now.
            Error::Mcp {
                fault:
                    McpFault::Unauthorized
                    | McpFault::Forbidden
                    | McpFault::TooLarge
                    | McpFault::Timeout,
                ..
            }
            | Error::ApiUnreachable { .. }
            | Error::Network { .. } => return Err(first),
            Error::Mcp {
                fault: McpFault::RpcError,
                code: Some(-32022),
                ..
            } => {
                // A modern server that does not speak 2026-07-28: its own list decides.
                return Err(first);
            }
            Error::Mcp {
                fault: McpFault::RpcError,
                code: Some(-32021 | -32020),
                ..
            } => return Err(first),
            _ => {}
        }
        tracing::debug!(reason = %first, "no 2026-07-28 answer: trying initialize");
        self.initialize(Revision::V2025_11_25, token).await
    }

    async fn initialize(
        &self,
        asked: Revision,
        token: Option<&str>,
    ) -> Result<(McpServer, Option<String>)> {
        let params = json!({
            "protocolVersion": asked.as_str(),
            "capabilities": {},
            "clientInfo": { "name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION") },
        });
        let reply = self.send(asked, None, "initialize", params, token).await?;
        let session = reply.session.clone();
        let result = self.outcome(reply, "initialize")?;
        let offered = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let revision = Revision::parse(offered)
            .filter(|r| r.is_legacy())
            .ok_or_else(|| unspoken(&self.url, &[offered]))?;
        let server = self.describe(revision, &result);
        let note = self
            .send(
                revision,
                session.as_deref(),
                "notifications/initialized",
                Value::Null,
                token,
            )
            .await?;
        if note.status >= 400 {
            return Err(Error::Mcp {
                fault: McpFault::Protocol,
                message: format!(
                    "The MCP server at {} refused the notifications/initialized that completes initialize (HTTP {}).",
                    shown_origin(&self.url),
                    note.status
                ),
                code: None,
                challenge: None,
            });
        }
        Ok((server, session))
    }

    fn describe(&self, revision: Revision, result: &Map<String, Value>) -> McpServer {
        // 2026-07-28 puts serverInfo in the result's _meta; the older revisions in the result.
        let info = result
            .get("_meta")
            .and_then(|m| m.get("io.modelcontextprotocol/serverInfo"))
            .or_else(|| result.get("serverInfo"));
        McpServer {
            url: self.url.to_string(),
            revision,
            name: info.and_then(|i| text_member(i, "name")),
            version: info.and_then(|i| text_member(i, "version")),
            capabilities: result.get("capabilities").cloned().unwrap_or(json!({})),
            instructions: text_member(&Value::Object(result.clone()), "instructions"),
        }
    }

    /// POSTs one JSON-RPC request (or notification, when `params` is null and the method starts
    /// with `notifications/`) and reads the answer within the timeout and the cap.
    async fn send(
        &self,
        revision: Revision,
        session: Option<&str>,
        method: &'static str,
        params: Value,
        token: Option<&str>,
    ) -> Result<Reply> {
        let notification = method.starts_with("notifications/");
        let id = self.ids.fetch_add(1, Ordering::SeqCst);
        let mut message = json!({ "jsonrpc": "2.0", "method": method });
        if !notification {
            message["id"] = json!(id);
        }
        let name = ["name", "uri"]
            .iter()
            .find_map(|k| params.get(k).and_then(Value::as_str))
            .map(str::to_owned);
        let mut params = match params {
            Value::Object(map) => Some(map),
            _ => None,
        };
        if revision == Revision::V2026_07_28 {
            let params = params.get_or_insert_with(Map::new);
            let mut meta = match params.remove("_meta") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            meta.insert(META_VERSION.into(), json!(revision.as_str()));
            meta.insert(
                "io.modelcontextprotocol/clientCapabilities".into(),
                json!({}),
            );
            meta.insert(
                "io.modelcontextprotocol/clientInfo".into(),
                json!({ "name": CLIENT_NAME, "version": env!("CARGO_PKG_VERSION") }),
            );
            params.insert("_meta".into(), Value::Object(meta));
        }
        if let Some(params) = params {
            message["params"] = Value::Object(params);
        }
        let mut request = self
            .http
            .post(self.url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/json, text/event-stream",
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&message).unwrap_or_default());
        // 2025-06-18 on: the version on every request after initialize; 2026-07-28: on all, with
        // the method and the name mirrored for intermediaries.
        if method != "initialize" {
            request = request.header("MCP-Protocol-Version", revision.as_str());
        }
        if revision == Revision::V2026_07_28 {
            request = request.header("Mcp-Method", method);
            if let (Some(name), "tools/call" | "resources/read" | "prompts/get") =
                (name.as_deref(), method)
            {
                request = request.header("Mcp-Name", header_value(name));
            }
        }
        if let Some(session) = session {
            request = request.header("Mcp-Session-Id", session);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let notifications = Arc::new(AtomicU32::new(0));
        let exchange = self.exchange(request, id, notification, Arc::clone(&notifications));
        match tokio::time::timeout(self.limits.timeout, exchange).await {
            Ok(reply) => reply,
            Err(_) => {
                let seen = notifications.load(Ordering::SeqCst);
                Err(Error::Mcp {
                    fault: McpFault::Timeout,
                    message: format!(
                        "The MCP server at {} did not answer {method} within {}{}, so Keyhole stopped waiting; try again, or allow it more time.",
                        shown_origin(&self.url),
                        seconds(self.limits.timeout),
                        if seen > 0 {
                            format!(" (its stream stayed open and sent {seen} notifications, but never the response)")
                        } else {
                            String::new()
                        }
                    ),
                    code: None,
                    challenge: None,
                })
            }
        }
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        id: u64,
        notification: bool,
        notifications: Arc<AtomicU32>,
    ) -> Result<Reply> {
        let mut response = request.send().await.map_err(|e| Error::ApiUnreachable {
            url: self.url.to_string(),
            message: crate::http::describe_transport_error(&e),
            source: Some(e),
        })?;
        let status = response.status().as_u16();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let content_type = header(reqwest::header::CONTENT_TYPE).to_ascii_lowercase();
        let challenge = Some(header(reqwest::header::WWW_AUTHENTICATE)).filter(|c| !c.is_empty());
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            // A session ID is visible ASCII (2025-11-25 §Session Management); anything else is
            // not one Keyhole would send back.
            .filter(|s| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b)))
            .map(str::to_owned);
        if (300..400).contains(&status) {
            let location = header(reqwest::header::LOCATION);
            return Err(not_mcp(
                &self.url,
                format!(
                    "redirects (HTTP {status}) to {}; Keyhole does not follow redirects with your token — use the final URL",
                    shown_line(&location, 200)
                ),
            ));
        }
        let mut reply = Reply {
            status,
            content_type: content_type.clone(),
            session,
            challenge,
            message: None,
            other_json: false,
            notifications: 0,
        };
        if notification {
            return Ok(reply);
        }
        if content_type.starts_with("text/event-stream") && (200..300).contains(&status) {
            let mut parser = SseParser::default();
            let mut read = 0usize;
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| crate::http::network_error("the MCP server", self.url.as_str(), e))?
            {
                read += chunk.len();
                let events = match parser.feed(&chunk, self.limits.cap) {
                    Ok(events) if read <= self.limits.cap => events,
                    _ => return Err(too_large(&self.url, self.limits.cap)),
                };
                for data in events {
                    let Ok(value) = serde_json::from_slice::<Value>(&data) else {
                        return Err(protocol(format!(
                            "The MCP server at {} sent an SSE event that is not JSON.",
                            shown_origin(&self.url)
                        )));
                    };
                    if value.get("id") == Some(&json!(id))
                        && (value.get("result").is_some() || value.get("error").is_some())
                    {
                        reply.message = Some(value);
                        reply.notifications = notifications.load(Ordering::SeqCst);
                        // The response came: the rest of the stream is not read.
                        return Ok(reply);
                    }
                    if value.get("method").is_some() && value.get("id").is_none() {
                        notifications.fetch_add(1, Ordering::SeqCst);
                    }
                    // A request from the server (sampling, elicitation): Keyhole offers none of
                    // those capabilities, so it is not answered.
                }
            }
            return Err(protocol(format!(
                "The MCP server at {} ended its SSE stream without the response.",
                shown_origin(&self.url)
            )));
        }
        let (body, truncated) =
            crate::http::read_capped(response, self.limits.cap, "the MCP server").await?;
        if truncated {
            return Err(too_large(&self.url, self.limits.cap));
        }
        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
            let rpc = value.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
                && (value.get("result").is_some() || value.get("error").is_some());
            if rpc {
                reply.message = Some(value);
            } else {
                reply.other_json = true;
            }
        }
        Ok(reply)
    }

    /// The result of a reply, or the error it is.
    fn outcome(&self, reply: Reply, method: &str) -> Result<Map<String, Value>> {
        let origin = shown_origin(&self.url);
        if reply.status == 401 || reply.status == 403 {
            let (fault, what) = if reply.status == 401 {
                (McpFault::Unauthorized, "asks for a sign-in (HTTP 401)")
            } else {
                (
                    McpFault::Forbidden,
                    "refused the token as not enough (HTTP 403)",
                )
            };
            // RFC 6750 §3.1: a 403 naming the scopes it needs can be met by a sign-in for them.
            let message = match super::report::insufficient_scope(reply.challenge.as_deref()) {
                Some(scopes) if reply.status == 403 && !scopes.trim().is_empty() => format!(
                    "The MCP server at {origin} needs the scope{} {} (HTTP 403 insufficient_scope), which the token does not carry; sign in again asking for {} (a step-up).",
                    if scopes.split_whitespace().count() == 1 { "" } else { "s" },
                    super::shown_line(&scopes, 200),
                    if scopes.split_whitespace().count() == 1 { "it" } else { "them" },
                ),
                _ => format!("The MCP server at {origin} {what}."),
            };
            return Err(Error::Mcp {
                fault,
                message,
                code: None,
                challenge: reply.challenge,
            });
        }
        if let Some(message) = reply.message {
            if let Some(error) = message.get("error") {
                let code = error.get("code").and_then(Value::as_i64);
                let said = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(|m| shown_line(m, 300))
                    .unwrap_or_default();
                return Err(Error::Mcp {
                    fault: McpFault::RpcError,
                    message: format!(
                        "The MCP server at {origin} answered {method} with error {}: {said}",
                        code.map_or("(no code)".to_owned(), |c| c.to_string())
                    ),
                    code,
                    challenge: None,
                });
            }
            return match message.get("result") {
                Some(Value::Object(result)) => Ok(result.clone()),
                _ => Err(protocol(format!(
                    "The MCP server at {origin} answered {method} with a result that is not a JSON object."
                ))),
            };
        }
        if reply.status >= 500 {
            return Err(Error::Mcp {
                fault: McpFault::HttpStatus,
                message: format!(
                    "The MCP server at {origin} failed with HTTP {} to {method}, without a JSON-RPC error saying why.",
                    reply.status
                ),
                code: None,
                challenge: reply.challenge,
            });
        }
        let what = if reply.status == 404 {
            "answers 404 Not Found: nothing is served at that path; check the URL".to_owned()
        } else if reply.content_type.starts_with("text/html") {
            format!("answers with an HTML page (HTTP {}), not MCP; check that the URL is the server's MCP endpoint (often …/mcp)", reply.status)
        } else if reply.other_json {
            format!(
                "answers JSON that is not JSON-RPC 2.0 (HTTP {}), so it is not an MCP endpoint",
                reply.status
            )
        } else if (200..300).contains(&reply.status) {
            return Err(protocol(format!(
                "The MCP server at {origin} answered {method} with HTTP {} but no JSON-RPC response.",
                reply.status
            )));
        } else {
            format!(
                "answers HTTP {} with no JSON-RPC message in it",
                reply.status
            )
        };
        Err(not_mcp(&self.url, what))
    }
}

/// A header value as the 2026-07-28 transport wants it: plain when it is visible ASCII without
/// edge spaces, else the `=?base64?…?=` sentinel (§Value Encoding).
/// An answer saying the revision sent is not (or no longer) spoken: `-32022` unsupported
/// protocol version, `-32020` a header it does not match, or an older server's `400` refusing a
/// request outside a session (the SDKs answer `-32000` "not initialized").
fn no_longer_spoken(result: &Result<Map<String, Value>>, bad_request: bool) -> bool {
    matches!(
        result,
        Err(Error::Mcp {
            fault: McpFault::RpcError,
            code: Some(-32022 | -32020),
            ..
        })
    ) || (bad_request
        && matches!(
            result,
            Err(Error::Mcp {
                fault: McpFault::RpcError
                    | McpFault::Protocol
                    | McpFault::NotMcp
                    | McpFault::HttpStatus,
                code: Some(-32000) | None,
                ..
            })
        ))
}

fn header_value(value: &str) -> String {
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && value.trim() == value
        && !(value.starts_with("=?base64?") && value.ends_with("?="));
    if plain {
        value.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

/// `d` for a message: whole seconds, or tenths below ten seconds.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} s", d.as_secs())
    }
}

fn text_member(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(shown_text)
}

fn content_item(item: &Value) -> McpContent {
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let mime = item.get("mimeType").and_then(Value::as_str).unwrap_or("?");
    let text = match kind.as_str() {
        "text" => item
            .get("text")
            .and_then(Value::as_str)
            .map(shown_text)
            .unwrap_or_default(),
        "image" | "audio" => {
            let size = item
                .get("data")
                .and_then(Value::as_str)
                .map_or(0, |d| d.len() / 4 * 3);
            format!("({kind}, {}, about {size} bytes)", shown_line(mime, 80))
        }
        "resource_link" => format!(
            "(link to {})",
            shown_line(item.get("uri").and_then(Value::as_str).unwrap_or("?"), 300)
        ),
        "resource" => {
            let resource = item.get("resource").unwrap_or(&Value::Null);
            let uri = resource.get("uri").and_then(Value::as_str).unwrap_or("?");
            match resource.get("text").and_then(Value::as_str) {
                Some(text) => format!("({}) {}", shown_line(uri, 300), shown_text(text)),
                None => format!("(resource {})", shown_line(uri, 300)),
            }
        }
        other => format!("(content of type {})", shown_line(other, 40)),
    };
    McpContent { kind, text }
}

fn protocol(message: String) -> Error {
    Error::Mcp {
        fault: McpFault::Protocol,
        message,
        code: None,
        challenge: None,
    }
}

fn not_mcp(url: &Url, what: String) -> Error {
    Error::Mcp {
        fault: McpFault::NotMcp,
        message: format!(
            "{} is not an MCP server: it {what}.",
            shown_line(url.as_str(), 200)
        ),
        code: None,
        challenge: None,
    }
}

fn too_large(url: &Url, cap: usize) -> Error {
    Error::Mcp {
        fault: McpFault::TooLarge,
        message: format!(
            "The MCP server at {} sent more than {} MiB in one answer, more than Keyhole reads, so it stopped reading.",
            shown_origin(url),
            cap / (1024 * 1024)
        ),
        code: None,
        challenge: None,
    }
}

fn unspoken(url: &Url, versions: &[&str]) -> Error {
    protocol(format!(
        "The MCP server at {} speaks only {}, and Keyhole speaks 2026-07-28, 2025-11-25 and 2025-06-18.",
        shown_origin(url),
        if versions.is_empty() {
            "no version it names".to_owned()
        } else {
            versions
                .iter()
                .map(|v| shown_line(v, 40))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_outside_visible_ascii_use_the_base64_sentinel() {
        assert_eq!(header_value("get_weather"), "get_weather");
        assert_eq!(
            header_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(header_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(
            header_value("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
    }

    #[test]
    fn content_items_are_text_to_show() {
        let text = content_item(&json!({"type": "text", "text": "<i>x</i>\u{1b}[2J"}));
        assert_eq!(text.text, "<i>x</i>\\u{001b}[2J");
        let image =
            content_item(&json!({"type": "image", "mimeType": "image/png", "data": "AAAA"}));
        assert_eq!(image.text, "(image, image/png, about 3 bytes)");
    }
}
