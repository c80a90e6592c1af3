//! Test support for Keyhole: starts the offline sandbox in `sandbox/` (oidc-provider standing in
//! for Clerk, two Express + `@clerk/express` APIs) and runs its browser stand-ins.
//!
//! Everything listens on 127.0.0.1. The sandbox is a `node` child process that exits when this
//! process drops it or dies (its stdin is a pipe held here; EOF makes it exit).
//!
//! ```no_run
//! let sb = keyhole_sandbox::shared();
//! println!("issuer {} client {}", sb.issuer, sb.client_id);
//! // ... the app under test listens on http://127.0.0.1:<port>/callback and builds an authorize URL ...
//! # let authorize_url = String::new();
//! keyhole_sandbox::http_login(&authorize_url, "user_2test").expect("sign-in");
//! ```
//!
//! Environment: `KEYHOLE_NODE` (node binary, default `node`), `KEYHOLE_SANDBOX_QUIET=1` (do not
//! forward the sandbox's stderr).

pub mod adversary;

use serde::Deserialize;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long `start` waits for the ready line.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// Upper bound for one run of a browser stand-in (the scripts bound themselves at 30–45 s).
pub const STANDIN_TIMEOUT: Duration = Duration::from_secs(60);

const STDERR_TAIL_LINES: usize = 40;

/// The URLs of the protected API instances.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiUrls {
    /// `GET /protected-endpoint` on the oauth API: 200 with the `@clerk/express` auth object
    /// (`getAuth(req, { acceptsToken: 'oauth_token' })`), signed in or not.
    pub lax: String,
    /// `GET /protected-auth-required`: 401 `Unauthenticated!` unless the OAuth token verifies.
    pub strict: String,
    /// `GET /plain`: `text/plain` "hello from a non-JSON endpoint".
    pub plain: String,
    /// `GET /redirect-elsewhere`: 302 to `session_only` (a different origin).
    pub redirect_elsewhere: String,
    /// `GET /slow?ms=N`: answers `{"slow":true}` after N ms (capped at 30000).
    pub slow: String,
    /// `GET /big`: a ~2.2 MB JSON array.
    pub big: String,
    /// `GET /sized?bytes=N`: a JSON object of exactly N bytes (21 B to 3 GiB), the same every
    /// time, streamed with `Content-Length` (the answer viewer's large answers).
    pub sized: String,
    /// `/echo`, any method, behind Clerk's middleware: the method, path, query, headers
    /// (Authorization masked), body and `userId` the API received.
    pub echo: String,
    /// `GET /protected-endpoint` on the session-only API (plain `getAuth(req)`): an OAuth token
    /// reads as signed out (`userId: null`).
    pub session_only: String,
    /// The tutorial's lax route on `@clerk/clerk-sdk-node` 5.1.6 (`ClerkExpressWithAuth()`,
    /// `res.json(req.auth)`): session tokens only; an OAuth token reads as signed out.
    pub tutorial_lax: String,
    /// The tutorial's strict route (`ClerkExpressRequireAuth()` + its `401 Unauthenticated!`).
    pub tutorial_strict: String,
    /// Base of the `@clerk/express` acceptsToken routes: `{accepts}/<value>` answers
    /// `getAuth(req, { acceptsToken })` as JSON for `session_token`, `oauth_token`, `api_key`,
    /// `m2m_token`, `any` and `session_token,api_key` (the array form).
    pub accepts: String,
    /// The strict twins: `{accepts_strict}/<value>` is `401 Unauthenticated!` when signed out.
    pub accepts_strict: String,
}

/// The sandbox's Client ID Metadata Document (served over https with a certificate only the
/// provider trusts), whose URL its provider takes as a client ID.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Cimd {
    /// The document's URL: the client ID.
    pub url: String,
    /// The port of the one redirect URI it names (`http://127.0.0.1:<port>/callback`).
    pub redirect_port: u16,
}

/// The MCP servers (`sandbox/mcp.mjs`, one port). Every protected one is behind Clerk's
/// `@clerk/mcp-tools` and `@clerk/express` with its own URL as the token audience, serves RFC 9728
/// metadata at `/.well-known/oauth-protected-resource` + its path, and offers the tools `echo`,
/// `whoami`, `slow`, `markup` (HTML and control characters) and `fail` (`isError`), two per
/// `tools/list` page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct McpUrls {
    /// The official TypeScript SDK (`@modelcontextprotocol/sdk` 1.32.2: up to 2025-11-25,
    /// `initialize`, `Mcp-Session-Id`, answers as SSE).
    pub sdk: String,
    /// A 2026-07-28 server written from the spec (`server/discover`, `_meta`, `Mcp-Method` /
    /// `Mcp-Name`), its messages checked against the vendored `schema.json`.
    pub modern: String,
    /// The SDK server whose challenge names metadata that is not served (404).
    pub no_prm: String,
    /// The SDK server whose metadata names another `resource` (`sdk`'s).
    pub wrong_prm: String,
    /// The SDK server that checks no audience: a token for another resource is let in.
    pub any_audience: String,
    /// The SDK server answering 500 (not 401) to a request without a token.
    pub error_500: String,
    /// The SDK server with a `WWW-Authenticate` challenge on every 401 (Clerk's middleware sends
    /// a bare 401 for a token it refuses): the one that passes every check of the report.
    pub compliant: String,
    /// The SDK server letting in any bearer token unverified (expired, wrongly signed).
    pub no_verify: String,
    /// The SDK server needing the scope `mcp:admin`, which no sandbox token has: `403` with
    /// `error="insufficient_scope", scope="mcp:admin"`.
    pub scoped: String,
    /// As `scoped`, but its `403` names nothing (no challenge).
    pub bare_403: String,
    /// Not MCP: an HTML page (200).
    pub html: String,
    /// Not MCP: 404.
    pub not_found: String,
    /// Not MCP: JSON that is not JSON-RPC (200).
    pub not_jsonrpc: String,
    /// An SSE answer that never ends (a notification every 50 ms, never the response).
    pub forever: String,
    /// 100 MB of JSON.
    pub huge: String,
    /// 100 MB in one SSE event.
    pub huge_sse: String,
    /// `POST`: drops every SDK session, so the next request with one gets 404.
    pub expire_sessions: String,
    /// `GET`: `sdk_requests`, `modern_requests`, `initializes`, `expired_sessions`,
    /// `modern_methods`, `schema_checked`, `schema_violations`, `sdk_versions`.
    pub stats: String,
}

/// Options for [`Sandbox::start_with`]. `None` means the sandbox's default.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// Access token lifetime in seconds (default 3600).
    pub access_token_ttl: Option<u32>,
    /// ID token lifetime in seconds (default 3600).
    pub id_token_ttl: Option<u32>,
    /// The public client's id (default `keyhole-sandbox`).
    pub client_id: Option<String>,
    /// Fixed ports (default: any free port). A busy port makes `start_with` fail.
    pub provider_port: Option<u16>,
    pub api_port: Option<u16>,
    pub session_api_port: Option<u16>,
    /// Overrides [`STARTUP_TIMEOUT`].
    pub startup_timeout: Option<Duration>,
    /// Holds every refresh grant's answer this long after the tokens were issued (race tests).
    pub refresh_delay_ms: Option<u32>,
    /// The RFC 8628 polling interval the provider announces and enforces (default 5 s).
    pub device_interval: Option<u32>,
    /// Port of the Clerk Backend API stand-in (default: any free port).
    pub bapi_port: Option<u16>,
    /// FAPI native SSO: allow only `http://127.0.0.1:<port>/callback` as `redirect_url`
    /// (default: any port).
    pub native_redirect_port: Option<u16>,
    /// FAPI answers every `/v1` request with the error code `native_api_disabled`.
    pub native_api_disabled: bool,
    /// FAPI rotates the client JWT with every session token it mints and refuses the old one at
    /// once (stricter than Clerk is known to be), to test processes sharing one client.
    pub rotate_client_on_mint: bool,
}

#[derive(Deserialize)]
struct Ready {
    issuer: String,
    client_id: String,
    api: ApiUrls,
    mcp: McpUrls,
    stats: String,
    access_token_ttl: u32,
    pid: u32,
    registration_endpoint: String,
    cimd: Cimd,
    device_authorization_endpoint: String,
    fapi: String,
    bapi: String,
    secret_key: String,
    machine_secret_key: String,
    machine_id: String,
    publishable_key: String,
}

/// A running sandbox. Dropping it stops the node process.
#[derive(Debug)]
pub struct Sandbox {
    /// The provider's issuer, e.g. `http://127.0.0.1:41234` (no trailing slash); discovery is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The registered public client (redirect URI `http://127.0.0.1/callback`, any port).
    pub client_id: String,
    pub api: ApiUrls,
    /// The MCP servers.
    pub mcp: McpUrls,
    /// Access token lifetime the provider uses, in seconds.
    pub access_token_ttl: u32,
    /// The node process's id.
    pub pid: u32,
    /// RFC 7591 dynamic client registration (open; loopback redirect URIs only).
    pub registration_endpoint: String,
    /// The Client ID Metadata Document.
    pub cimd: Cimd,
    /// RFC 8628 device authorization.
    pub device_authorization_endpoint: String,
    /// Clerk Frontend API stand-in (native mode: `_is_native=1`, client JWT in `Authorization`),
    /// on the issuer's origin like real Clerk: `{fapi}/v1/environment`, `/v1/client`, ...
    pub fapi: String,
    /// Clerk Backend API stand-in origin (what `CLERK_API_URL` / `apiUrl` take); its paths are
    /// `{bapi}/v1/sessions`, ... and `{bapi}/api_keys`, `{bapi}/m2m_tokens` (also under `/v1`).
    pub bapi: String,
    /// A development secret key (`sk_test_...`) the BAPI stand-in accepts.
    pub secret_key: String,
    /// The machine secret key (`ak_...`) that may create M2M tokens at BAPI.
    pub machine_secret_key: String,
    /// The machine (`mch_...`) those M2M tokens are for.
    pub machine_id: String,
    /// A development publishable key (`pk_test_...`) that encodes the FAPI host (`127.0.0.1:<port>`).
    pub publishable_key: String,
    stats_url: String,
    child: Child,
    stdin: Option<ChildStdin>,
}

/// The repository's `sandbox/` directory.
pub fn sandbox_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sandbox");
    dir.canonicalize().unwrap_or(dir)
}

fn node_binary() -> OsString {
    std::env::var_os("KEYHOLE_NODE").unwrap_or_else(|| OsString::from("node"))
}

fn check_installed() -> Result<PathBuf, String> {
    let dir = sandbox_dir();
    if !dir.join("sandbox.mjs").is_file() {
        return Err(format!(
            "keyhole-sandbox: no sandbox.mjs in {}",
            dir.display()
        ));
    }
    if !dir.join("node_modules").is_dir() {
        return Err(format!(
            "keyhole-sandbox: {} is missing: run scripts/setup (or `cd sandbox && npm ci`; needs Node >= 20.9)",
            dir.join("node_modules").display()
        ));
    }
    Ok(dir)
}

fn push_tail(tail: &Mutex<VecDeque<String>>, line: &str) {
    let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
    if t.len() == STDERR_TAIL_LINES {
        t.pop_front();
    }
    t.push_back(line.to_owned());
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    let t = tail.lock().unwrap_or_else(|e| e.into_inner());
    t.iter().cloned().collect::<Vec<_>>().join("\n")
}

impl Sandbox {
    /// Starts a sandbox with default options.
    pub fn start() -> Result<Sandbox, String> {
        Self::start_with(SandboxOptions::default())
    }

    /// Starts `node sandbox.mjs --exit-on-stdin-close ...` and waits for its ready line.
    pub fn start_with(options: SandboxOptions) -> Result<Sandbox, String> {
        let dir = check_installed()?;
        let mut cmd = Command::new(node_binary());
        cmd.current_dir(&dir)
            .arg("sandbox.mjs")
            .arg("--exit-on-stdin-close");
        let mut flag = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                cmd.arg(name).arg(v);
            }
        };
        flag(
            "--access-token-ttl",
            options.access_token_ttl.map(|v| v.to_string()),
        );
        flag(
            "--id-token-ttl",
            options.id_token_ttl.map(|v| v.to_string()),
        );
        flag("--client-id", options.client_id.clone());
        flag(
            "--refresh-delay-ms",
            options.refresh_delay_ms.map(|v| v.to_string()),
        );
        flag(
            "--device-interval",
            options.device_interval.map(|v| v.to_string()),
        );
        flag(
            "--provider-port",
            options.provider_port.map(|v| v.to_string()),
        );
        flag("--api-port", options.api_port.map(|v| v.to_string()));
        flag("--bapi-port", options.bapi_port.map(|v| v.to_string()));
        flag(
            "--native-redirect-port",
            options.native_redirect_port.map(|v| v.to_string()),
        );
        flag(
            "--session-api-port",
            options.session_api_port.map(|v| v.to_string()),
        );
        if options.rotate_client_on_mint {
            cmd.arg("--rotate-client-on-mint");
        }
        if options.native_api_disabled {
            cmd.arg("--native-api-disabled");
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let mut child = cmd.spawn().map_err(|e| {
            format!(
                "keyhole-sandbox: cannot run {:?} (Node >= 20.9 required; set KEYHOLE_NODE to its path): {e}",
                node_binary()
            )
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");

        // Forward stderr line by line (straight to the process's stderr, so it is visible even
        // after the test that started a shared sandbox has finished) and keep a tail for errors.
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let quiet = std::env::var_os("KEYHOLE_SANDBOX_QUIET").is_some_and(|v| v != "0");
        let (stderr_done_tx, stderr_done) = mpsc::channel::<()>();
        {
            let tail = Arc::clone(&tail);
            thread::Builder::new()
                .name("keyhole-sandbox-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(stderr).lines() {
                        let Ok(line) = line else { break };
                        push_tail(&tail, &line);
                        if !quiet {
                            let _ = writeln!(std::io::stderr().lock(), "{line}");
                        }
                    }
                    let _ = stderr_done_tx.send(());
                })
                .map_err(|e| format!("keyhole-sandbox: cannot spawn a thread: {e}"))?;
        }

        let (tx, rx) = mpsc::channel::<Result<String, String>>();
        thread::Builder::new()
            .name("keyhole-sandbox-stdout".into())
            .spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let first = match reader.read_line(&mut line) {
                    Ok(0) => Err("the sandbox exited before it was ready".to_owned()),
                    Ok(_) => Ok(line),
                    Err(e) => Err(format!("reading the sandbox's stdout: {e}")),
                };
                let _ = tx.send(first);
                // Keep draining so the child never blocks on a full pipe.
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink);
            })
            .map_err(|e| format!("keyhole-sandbox: cannot spawn a thread: {e}"))?;

        let timeout = options.startup_timeout.unwrap_or(STARTUP_TIMEOUT);
        let fail = |mut child: Child, why: String| -> String {
            let _ = child.kill();
            let _ = child.wait();
            // Let the stderr thread collect the last words (it ends at EOF).
            let _ = stderr_done.recv_timeout(Duration::from_secs(2));
            let tail = tail_text(&tail);
            if tail.is_empty() {
                format!("keyhole-sandbox: {why}")
            } else {
                format!("keyhole-sandbox: {why}; its stderr ended with:\n{tail}")
            }
        };
        let line = match rx.recv_timeout(timeout) {
            Ok(Ok(line)) => line,
            Ok(Err(why)) => return Err(fail(child, why)),
            Err(_) => {
                return Err(fail(
                    child,
                    format!("no ready line within {} s", timeout.as_secs_f32()),
                ))
            }
        };
        let ready: Ready = match serde_json::from_str(line.trim()) {
            Ok(r) => r,
            Err(e) => {
                return Err(fail(
                    child,
                    format!("unexpected ready line {:?}: {e}", line.trim()),
                ))
            }
        };
        Ok(Sandbox {
            issuer: ready.issuer,
            client_id: ready.client_id,
            api: ready.api,
            mcp: ready.mcp,
            access_token_ttl: ready.access_token_ttl,
            pid: ready.pid,
            registration_endpoint: ready.registration_endpoint,
            cimd: ready.cimd,
            device_authorization_endpoint: ready.device_authorization_endpoint,
            fapi: ready.fapi,
            bapi: ready.bapi,
            secret_key: ready.secret_key,
            machine_secret_key: ready.machine_secret_key,
            machine_id: ready.machine_id,
            publishable_key: ready.publishable_key,
            stats_url: ready.stats,
            child,
            stdin,
        })
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// `GET` answers `{"refresh_grants":n,"code_grants":n,"refresh_errors":n,"code_errors":n}`
    /// (successful and failed token-endpoint grants since start).
    pub fn stats_url(&self) -> &str {
        &self.stats_url
    }

    /// Fetches [`Self::stats_url`].
    pub fn stats(&self) -> Result<serde_json::Value, String> {
        let (status, body) = http_get(&self.stats_url)?;
        if status != 200 {
            return Err(format!("stats: HTTP {status}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("stats: {e}"))
    }

    /// Every exchange with the FAPI/BAPI stand-ins that did not validate against Clerk's OpenAPI
    /// specs (`{api, method, path, where, message}`; never a token value). Empty is good.
    pub fn spec_violations(&self) -> Result<Vec<serde_json::Value>, String> {
        match self.stats()?.get("spec_violations") {
            Some(serde_json::Value::Array(v)) => Ok(v.clone()),
            other => Err(format!("stats: no spec_violations array: {other:?}")),
        }
    }

    /// How many FAPI requests were served for `path`, written as method + the spec's path with
    /// every parameter as `{id}`, e.g. `"POST /v1/client/sessions/{id}/tokens"`. 0 when none.
    pub fn fapi_requests(&self, path: &str) -> u64 {
        self.stats()
            .ok()
            .and_then(|s| s.get("fapi_requests")?.get(path)?.as_u64())
            .unwrap_or(0)
    }

    /// Revokes a session "at Clerk" (BAPI `POST /v1/sessions/{id}/revoke` with the `sk_test`
    /// key): FAPI then refuses new session tokens for it (401 `signed_out`).
    pub fn revoke_session(&self, session_id: &str) -> Result<serde_json::Value, String> {
        let (status, body) = http_request_with_headers(
            "POST",
            &format!(
                "{}/v1/sessions/{}/revoke",
                self.bapi,
                form_encode(session_id)
            ),
            &[("Authorization", &format!("Bearer {}", self.secret_key))],
            None,
        )?;
        if status != 200 {
            return Err(format!("revoke_session: HTTP {status}: {body}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("revoke_session: {e}"))
    }

    /// The MCP servers' counters ([`McpUrls::stats`]).
    pub fn mcp_stats(&self) -> Result<serde_json::Value, String> {
        let (status, body) = http_get(&self.mcp.stats)?;
        if status != 200 {
            return Err(format!("mcp stats: HTTP {status}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("mcp stats: {e}"))
    }

    /// Drops every session of the SDK server; how many there were.
    pub fn expire_mcp_sessions(&self) -> Result<u64, String> {
        let (status, body) = http_request("POST", &self.mcp.expire_sessions, None)?;
        if status != 200 {
            return Err(format!("expire sessions: HTTP {status}: {body}"));
        }
        let value: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("expire sessions: {e}"))?;
        Ok(value["expired"].as_u64().unwrap_or(0))
    }

    /// Whether the node process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // EOF on stdin makes the sandbox shut down; kill it if it takes too long.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One sandbox per test binary, started on first use. It is never dropped; it exits when the
/// test process does (its stdin reaches EOF). Panics with the reason when it cannot start.
pub fn shared() -> &'static Sandbox {
    static SHARED: OnceLock<Sandbox> = OnceLock::new();
    SHARED.get_or_init(|| Sandbox::start().unwrap_or_else(|e| panic!("{e}")))
}

/// A plain-HTTP `GET` (HTTP/1.0, no redirects, no TLS) of an `http://127.0.0.1:...` URL.
/// Returns the status code and the body. Meant for small checks in tests.
pub fn http_get(url: &str) -> Result<(u16, String), String> {
    http_request("GET", url, None)
}

/// Percent-encodes a form value (everything but RFC 3986 unreserved characters).
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Sandbox {
    /// Tries `refresh_token` at the provider's token endpoint, as the registered public client.
    /// Returns the status and body; 200 means the provider still honours it (and has rotated it).
    pub fn try_refresh(&self, refresh_token: &str) -> Result<(u16, String), String> {
        let form = format!(
            "grant_type=refresh_token&client_id={}&refresh_token={}",
            form_encode(&self.client_id),
            form_encode(refresh_token)
        );
        http_request(
            "POST",
            &format!("{}/oauth/token", self.issuer),
            Some(("application/x-www-form-urlencoded", &form)),
        )
    }
}

/// Makes the provider forget a client Keyhole registered: an RFC 7592 DELETE of its
/// `registration_client_uri` with its `registration_access_token`, both read from `entry` (the
/// JSON Keyhole keeps in the keychain for the registration). Ok when the provider answered 204.
pub fn forget_registration(entry: &str) -> Result<(), String> {
    let entry: serde_json::Value =
        serde_json::from_str(entry).map_err(|e| format!("the registration entry: {e}"))?;
    let field = |name: &str| {
        entry[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the registration entry has no {name}"))
    };
    let uri = field("registration_client_uri")?;
    let token = field("registration_access_token")?;
    let rest = uri
        .strip_prefix("http://")
        .ok_or_else(|| format!("only http:// registration URIs: {uri}"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{uri}: {e}"))?
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| format!("{uri}: not a loopback address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "DELETE {path} HTTP/1.0\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    match answer.split_whitespace().nth(1) {
        Some("204") => Ok(()),
        _ => Err(format!(
            "the provider did not delete the client: {}",
            answer.lines().next().unwrap_or("")
        )),
    }
}

/// A plain HTTP/1.0 request to an `http://127.0.0.1:...` URL, with an optional body.
pub fn http_request(
    method: &str,
    url: &str,
    body: Option<(&str, &str)>,
) -> Result<(u16, String), String> {
    http_request_with_headers(method, url, &[], body)
}

/// [`http_request`] with extra request headers (name, value).
pub fn http_request_with_headers(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> Result<(u16, String), String> {
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("http_get: only http:// URLs: {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("http_get {url}: {e}"))?
        .next()
        .ok_or_else(|| format!("http_get {url}: no address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "http_get {url}: refusing a non-loopback address {addr}"
        ));
    }
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("http_get {url}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| format!("http_get {url}: {e}"))?;
    let body_head = body
        .map(|(kind, text)| format!("Content-Type: {kind}\r\nContent-Length: {}\r\n", text.len()))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: */*\r\n{extra}{body_head}Connection: close\r\n\r\n{}",
        body.map_or("", |(_, text)| text)
    )
    .map_err(|e| format!("http_get {url}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("http_get {url}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("http_get {url}: malformed response"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("http_get {url}: malformed status line"))?;
    Ok((status, body.to_owned()))
}

/// Which browser stand-in to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standin {
    /// `login-http.mjs`: plain HTTP with a cookie jar (~0.25 s).
    Http,
    /// `login-chromium.mjs`: headless `/usr/bin/chromium` via playwright-core (~2 s).
    Chromium,
}

impl Standin {
    fn script(self) -> &'static str {
        match self {
            Standin::Http => "login-http.mjs",
            Standin::Chromium => "login-chromium.mjs",
        }
    }
}

/// The command that runs a browser stand-in on `authorize_url` (for callers that want to spawn
/// it themselves, e.g. concurrently with an async test).
pub fn standin_command(standin: Standin, authorize_url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(node_binary());
    cmd.current_dir(sandbox_dir())
        .arg(standin.script())
        .arg(authorize_url)
        .args(args);
    cmd
}

fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<String, String> {
    check_installed()?;
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {:?}: {e}", node_binary()))?;
    let mut stderr = child.stderr.take().expect("piped stderr");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let out_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status: Option<ExitStatus> = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for the stand-in: {e}")),
        }
    };
    let mut text = err_reader.join().unwrap_or_default();
    text.push_str(&out_reader.join().unwrap_or_default());
    match status {
        Some(s) if s.success() => Ok(text),
        Some(s) => Err(format!("browser stand-in failed ({s}):\n{text}")),
        None => Err(format!(
            "browser stand-in killed after {} s:\n{text}",
            timeout.as_secs()
        )),
    }
}

/// Runs a stand-in to completion (bounded by [`STANDIN_TIMEOUT`]). `Ok(stderr)` when the
/// callback was delivered to the loopback listener, `Err(reason and stderr)` otherwise.
pub fn run_standin(standin: Standin, authorize_url: &str, args: &[&str]) -> Result<String, String> {
    run_bounded(
        standin_command(standin, authorize_url, args),
        STANDIN_TIMEOUT,
    )
}

/// Signs in as `login` over plain HTTP (login form, consent) and delivers the redirect to the
/// app's loopback callback. Blocking: run it on another thread while the app waits.
pub fn http_login(authorize_url: &str, login: &str) -> Result<String, String> {
    run_standin(Standin::Http, authorize_url, &["--login", login])
}

/// Cancels at the sign-in page; the callback receives `error=access_denied`.
pub fn http_deny(authorize_url: &str) -> Result<String, String> {
    run_standin(Standin::Http, authorize_url, &["--deny"])
}

/// Completes an RFC 8628 device sign-in as `login` over plain HTTP, the way a user on another
/// device does: open `verification_uri_complete`, confirm the code, sign in, consent.
pub fn device_login(verification_uri_complete: &str, login: &str) -> Result<String, String> {
    run_standin(
        Standin::Http,
        verification_uri_complete,
        &["--device", "--login", login],
    )
}

/// Aborts an RFC 8628 device sign-in at the confirmation page (the device then hears
/// `access_denied`).
pub fn device_deny(verification_uri_complete: &str) -> Result<String, String> {
    run_standin(
        Standin::Http,
        verification_uri_complete,
        &["--device", "--deny"],
    )
}

/// Signs in as `login` through headless Chromium (`/usr/bin/chromium`).
pub fn chromium_login(authorize_url: &str, login: &str) -> Result<String, String> {
    run_standin(Standin::Chromium, authorize_url, &["--login", login])
}

/// Directory holding the `xdg-open` stand-in script (the sandbox directory).
pub fn xdg_open_dir() -> PathBuf {
    sandbox_dir()
}

/// `PATH` with the `xdg-open` stand-in first, for launching the app (or anything using the
/// `open` crate) so that "open the system browser" runs a browser stand-in instead. Configure
/// it with `KEYHOLE_STANDIN` (`chromium`|`http`), `KEYHOLE_STANDIN_LOGIN`, `KEYHOLE_STANDIN_LOG`.
pub fn path_with_xdg_open_standin() -> OsString {
    let mut paths = vec![xdg_open_dir()];
    if let Some(existing) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| xdg_open_dir().into_os_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_serves_discovery_with_its_issuer() {
        let t = Instant::now();
        let sb = Sandbox::start().expect("sandbox starts");
        eprintln!("sandbox ready in {} ms", t.elapsed().as_millis());
        assert!(sb.issuer.starts_with("http://127.0.0.1:"), "{}", sb.issuer);
        assert_eq!(sb.client_id, "keyhole-sandbox");

        let (status, body) = http_get(&sb.discovery_url()).expect("GET discovery");
        assert_eq!(status, 200, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).expect("discovery JSON");
        assert_eq!(doc["issuer"], sb.issuer.as_str());
        assert_eq!(
            doc["authorization_endpoint"],
            format!("{}/oauth/authorize", sb.issuer)
        );
        assert_eq!(doc["token_endpoint"], format!("{}/oauth/token", sb.issuer));

        let (status, body) = http_get(&sb.api.strict).expect("GET strict");
        assert_eq!((status, body.as_str()), (401, "Unauthenticated!"));
        assert_eq!(sb.stats().expect("stats")["refresh_grants"], 0);
    }

    #[test]
    fn options_reach_the_sandbox() {
        let sb = Sandbox::start_with(SandboxOptions {
            access_token_ttl: Some(5),
            client_id: Some("other-client".into()),
            ..Default::default()
        })
        .expect("sandbox starts");
        assert_eq!(sb.client_id, "other-client");
        assert_eq!(sb.access_token_ttl, 5);
    }

    #[test]
    fn a_busy_port_is_a_clear_error() {
        let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = busy.local_addr().expect("addr").port();
        let err = Sandbox::start_with(SandboxOptions {
            api_port: Some(port),
            ..Default::default()
        })
        .expect_err("port is busy");
        assert!(err.contains("busy"), "{err}");
    }

    #[test]
    fn clerk_standins_are_in_the_ready_line_and_match_the_specs() {
        let sb = Sandbox::start_with(SandboxOptions {
            native_redirect_port: Some(45789),
            ..Default::default()
        })
        .expect("sandbox starts");
        assert_eq!(sb.fapi, sb.issuer);
        assert!(sb.bapi.starts_with("http://127.0.0.1:"), "{}", sb.bapi);
        assert!(sb.secret_key.starts_with("sk_test_"));
        assert!(sb.machine_secret_key.starts_with("ak_"));
        assert!(sb.machine_id.starts_with("mch_"));
        assert!(sb.publishable_key.starts_with("pk_test_"));
        for url in [&sb.api.tutorial_lax, &sb.api.tutorial_strict] {
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        }
        let (status, body) = http_get(&sb.api.tutorial_strict).expect("GET tutorial strict");
        assert_eq!((status, body.as_str()), (401, "Unauthenticated!"));

        // BAPI: create a session with the sk_test key, then revoke it.
        let (status, body) = http_request_with_headers(
            "POST",
            &format!("{}/v1/sessions", sb.bapi),
            &[("Authorization", &format!("Bearer {}", sb.secret_key))],
            Some((
                "application/json",
                r#"{"user_id":"user_2rustRustRustRustRustRustRust"}"#,
            )),
        )
        .expect("POST /v1/sessions");
        assert_eq!(status, 200, "{body}");
        let session: serde_json::Value = serde_json::from_str(&body).expect("session JSON");
        let sid = session["id"].as_str().expect("session id");
        let revoked = sb.revoke_session(sid).expect("revoke");
        assert_eq!(revoked["status"], "revoked");

        // A wrong key is Clerk's 401.
        let (status, body) = http_request_with_headers(
            "POST",
            &format!("{}/v1/sessions", sb.bapi),
            &[("Authorization", "Bearer sk_test_wrong")],
            Some(("application/json", r#"{"user_id":"user_2x"}"#)),
        )
        .expect("POST /v1/sessions");
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("clerk_key_invalid"), "{body}");

        // FAPI: a redirect_url on another port than --native-redirect-port is refused.
        let (status, _) = http_request(
            "POST",
            &format!("{}/v1/client/sign_ins?_is_native=1", sb.fapi),
            Some((
                "application/x-www-form-urlencoded",
                "strategy=oauth_custom_sandbox&redirect_url=http%3A%2F%2F127.0.0.1%3A1234%2Fcallback",
            )),
        )
        .expect("POST sign_ins");
        assert_eq!(status, 422);
        assert_eq!(sb.fapi_requests("POST /v1/client/sign_ins"), 1);
        assert_eq!(
            sb.spec_violations().expect("stats"),
            Vec::<serde_json::Value>::new()
        );
    }

    #[test]
    fn native_api_disabled_is_clerks_error() {
        let sb = Sandbox::start_with(SandboxOptions {
            native_api_disabled: true,
            ..Default::default()
        })
        .expect("sandbox starts");
        let (status, body) =
            http_get(&format!("{}/v1/environment?_is_native=1", sb.fapi)).expect("GET env");
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("native_api_disabled"), "{body}");
    }

    #[test]
    fn shared_is_one_instance() {
        assert!(std::ptr::eq(shared(), shared()));
    }

    /// A one-shot loopback callback listener; returns its redirect URI and the request target it
    /// received.
    fn callback_listener() -> (String, thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = mpsc::channel::<String>();
        // Browsers may preconnect or ask for /favicon.ico: serve every connection on its own
        // thread and report the first /callback request.
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let tx = tx.clone();
                thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut line = String::new();
                    let Ok(clone) = conn.try_clone() else { return };
                    if BufReader::new(clone).read_line(&mut line).is_err() {
                        return;
                    }
                    let target = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let (status, body) = if target.starts_with("/callback") {
                        ("200 OK", "Signed in. You can close this window.")
                    } else {
                        ("404 Not Found", "not found")
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    if target.starts_with("/callback") {
                        let _ = tx.send(target);
                    }
                });
            }
        });
        let handle = thread::spawn(move || {
            rx.recv_timeout(STANDIN_TIMEOUT)
                .expect("no /callback request")
        });
        (format!("http://127.0.0.1:{port}/callback"), handle)
    }

    fn authorize_url(sb: &Sandbox, redirect_uri: &str) -> String {
        // The challenge is only checked for shape at /oauth/authorize (43 base64url chars); these
        // tests do not exchange the code.
        format!(
            "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20offline_access&state=state-1234567&code_challenge={}&code_challenge_method=S256",
            sb.issuer,
            sb.client_id,
            redirect_uri.replace(':', "%3A").replace('/', "%2F"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        )
    }

    #[test]
    fn http_login_delivers_a_code_to_the_loopback_listener() {
        let sb = shared();
        let (redirect_uri, got) = callback_listener();
        let log = http_login(&authorize_url(sb, &redirect_uri), "user_2rust").expect("login");
        let target = got.join().expect("listener");
        assert!(target.starts_with("/callback?code="), "{target}");
        assert!(target.contains("state=state-1234567"), "{target}");
        assert!(log.contains("callback answered 200"), "{log}");
    }

    #[test]
    fn http_deny_delivers_access_denied() {
        let sb = shared();
        let (redirect_uri, got) = callback_listener();
        http_deny(&authorize_url(sb, &redirect_uri)).expect("deny");
        let target = got.join().expect("listener");
        assert!(target.contains("error=access_denied"), "{target}");
    }

    #[test]
    fn a_refused_callback_is_a_failure() {
        let sb = shared();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let err = http_login(
            &authorize_url(sb, &format!("http://127.0.0.1:{port}/callback")),
            "user_2rust",
        )
        .expect_err("nobody listens");
        assert!(err.contains("ECONNREFUSED"), "{err}");
    }

    #[test]
    fn chromium_login_delivers_a_code() {
        if !std::path::Path::new("/usr/bin/chromium").exists() {
            eprintln!("skipped: no /usr/bin/chromium");
            return;
        }
        let sb = shared();
        let (redirect_uri, got) = callback_listener();
        chromium_login(&authorize_url(sb, &redirect_uri), "user_2chromium").expect("login");
        let target = got.join().expect("listener");
        assert!(target.starts_with("/callback?code="), "{target}");
    }

    #[test]
    fn dropping_stops_the_node_process() {
        let sb = Sandbox::start().expect("sandbox starts");
        let url = sb.discovery_url();
        drop(sb);
        assert!(http_get(&url).is_err(), "still answering after drop");
    }
}
