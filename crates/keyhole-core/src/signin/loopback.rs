//! The loopback redirect listener of RFC 8252 §7.3: `http://127.0.0.1:<port>/callback`.
//!
//! It accepts exactly one valid authorization response. Anything else — other paths, a wrong
//! `state`, a half-formed request, an idle socket a browser opened speculatively — gets an answer
//! (or a timeout) and leaves the flow waiting. The listener is closed when [`Listener::wait`]
//! returns, whichever way it ends.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use oauth2::{AuthorizationCode, CsrfToken};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::{capitalize, Error, Result, Rule};
use crate::signin::oauth_error::OAuthError;

/// The path the provider redirects to.
pub const CALLBACK_PATH: &str = "/callback";
/// How long one connection may take to send its request line and headers.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// A bound loopback listener waiting for the authorization response.
#[derive(Debug)]
pub struct Listener {
    listener: TcpListener,
    port: u16,
}

/// What a valid authorization response must carry.
pub struct Expected<'a> {
    /// The `state` sent with the authorization request.
    pub state: &'a CsrfToken,
    /// The issuer the request went to.
    pub issuer: &'a str,
    /// RFC 9207: the provider declared it always sends `iss`, so a response without it is refused.
    pub require_iss: bool,
    /// The query parameter that carries what the flow waits for: `code` for OAuth (RFC 6749
    /// §4.1.2), `rotating_token_nonce` for Clerk's native sign-in.
    pub carries: &'static str,
}

/// What an OAuth authorization response carries.
pub const CODE: &str = "code";

impl Listener {
    /// Binds `127.0.0.1:<port>` (0 = any free port). Bind before the browser opens, so the
    /// redirect can never meet a closed port.
    pub async fn bind(port: u16) -> Result<Listener> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|e| Error::Loopback {
                port,
                message: match e.kind() {
                    std::io::ErrorKind::AddrInUse => format!(
                        "port {port} is already in use by another program; choose another redirect port, or 0 for any free port"
                    ),
                    std::io::ErrorKind::PermissionDenied => format!(
                        "port {port} needs special permissions; choose a port above 1023, or 0 for any free port"
                    ),
                    // The system's own words are the source.
                    _ => "the system refused it".to_owned(),
                },
                source: e,
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Loopback {
                port,
                message: "its address could not be read".to_owned(),
                source: e,
            })?
            .port();
        Ok(Listener { listener, port })
    }

    /// The port actually bound.
    #[cfg(test)]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The redirect URI to send, with the literal IPv4 loopback address (RFC 8252 §7.3, §8.3).
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the one valid authorization response, at most `timeout`, until `cancel` fires.
    pub async fn wait(
        self,
        expected: &Expected<'_>,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<AuthorizationCode> {
        let (sender, mut requests) = tokio::sync::mpsc::channel::<(Head, TcpStream)>(8);
        // RFC 8252 §8.3: only requests addressed to the redirect URI's own authority count, so a
        // web page that rebinds a DNS name to 127.0.0.1 cannot play the callback.
        let authority = format!("127.0.0.1:{}", self.port);
        // Dropped on return: aborts every connection still being read.
        let mut connections = JoinSet::new();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return Err(Error::Cancelled),
                () = &mut deadline => return Err(Error::Timeout(timeout)),
                accepted = self.listener.accept() => {
                    // A failed accept (e.g. out of file descriptors) is one lost connection, not the flow.
                    if let Ok((stream, _)) = accepted {
                        connections.spawn(read_request(stream, sender.clone()));
                    }
                }
                Some((head, mut stream)) = requests.recv() => {
                    let (reply, outcome) = judge(&head, &authority, expected);
                    write_reply(&mut stream, &reply).await;
                    if let Some(outcome) = outcome {
                        return outcome;
                    }
                }
                // Reap finished connection tasks so the set does not grow.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

/// Judges one raw request as the listener on `port` would, for the fuzz targets and property
/// tests: None when the head is incomplete or unreadable; else the status sent and, when the
/// request ends the flow, its outcome.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn judge_raw(
    raw: &[u8],
    port: u16,
    expected: &Expected<'_>,
) -> Option<(u16, Option<Rule>, Option<Result<AuthorizationCode>>)> {
    let head = Head::parse(raw).ok()??;
    let (reply, outcome) = judge(&head, &format!("127.0.0.1:{port}"), expected);
    Some((reply.status, reply.rule, outcome))
}

/// What the flow needs of a request head.
#[derive(Clone, Default)]
pub(crate) struct Head {
    method: String,
    /// The path and query: on the callback, the query holds the authorization code.
    target: String,
    /// The `Host` header; None when absent or repeated.
    host: Option<String>,
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.target.split('?').next().unwrap_or_default();
        f.debug_struct("Head")
            .field("method", &self.method)
            .field("path", &path)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Head {
    /// Parses a complete request head; `Ok(None)` when more bytes are needed.
    pub(crate) fn parse(buffer: &[u8]) -> std::result::Result<Option<Head>, ()> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(buffer) {
            Ok(httparse::Status::Complete(_)) => {
                let mut hosts = request
                    .headers
                    .iter()
                    .filter(|h| h.name.eq_ignore_ascii_case("host"));
                let host = match (hosts.next(), hosts.next()) {
                    (Some(h), None) => std::str::from_utf8(h.value).ok().map(str::to_owned),
                    _ => None,
                };
                Ok(Some(Head {
                    method: request.method.unwrap_or_default().to_owned(),
                    target: request.path.unwrap_or_default().to_owned(),
                    host,
                }))
            }
            Ok(httparse::Status::Partial) => Ok(None),
            Err(_) => Err(()),
        }
    }
}

/// Reads one request head; well-formed ones go to the flow, others are answered here.
async fn read_request(mut stream: TcpStream, flow: tokio::sync::mpsc::Sender<(Head, TcpStream)>) {
    let mut buffer = Vec::with_capacity(1024);
    let head = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 2048];
        loop {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..n]);
            match Head::parse(&buffer) {
                Ok(Some(head)) => return Some(Ok(head)),
                Ok(None) if buffer.len() <= MAX_HEAD => continue,
                _ => return Some(Err(())),
            }
        }
    })
    .await;
    match head {
        Ok(Some(Ok(head))) => {
            let _ = flow.send((head, stream)).await;
        }
        Ok(Some(Err(()))) => {
            write_reply(
                &mut stream,
                &Reply::page(400, "Bad request", "Keyhole could not read this request."),
            )
            .await
        }
        // Closed or idle past the read timeout: nothing to answer.
        _ => {}
    }
}

struct Reply {
    status: u16,
    reason: &'static str,
    html: String,
    /// The rule a refused request broke, when one did (for tests).
    rule: Option<Rule>,
}

impl Reply {
    fn page(status: u16, title: &str, message: &str) -> Reply {
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            421 => "Misdirected Request",
            _ => "Error",
        };
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Keyhole — {t}</title>\
             <style>body{{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}}\
             h1{{font-size:1.4em}}@media(prefers-color-scheme:dark){{body{{background:#111;color:#eee}}}}</style></head>\
             <body><h1>{t}</h1><p>{m}</p></body></html>",
            t = escape_html(title),
            m = escape_html(message)
        );
        Reply {
            status,
            reason,
            html,
            rule: None,
        }
    }
}

/// Decides what a request means for the flow: the reply to send, and the outcome when it ends it.
/// `authority` is the redirect URI's `host:port`, the only `Host` accepted.
fn judge(
    head: &Head,
    authority: &str,
    expected: &Expected<'_>,
) -> (Reply, Option<Result<AuthorizationCode>>) {
    if head.host.as_deref() != Some(authority) {
        // Not addressed to Keyhole's redirect URI (DNS rebinding, or a confused client): it is
        // answered and ignored, whatever it carries, and the sign-in keeps waiting.
        let mut reply = Reply::page(
            421,
            "Not addressed to Keyhole",
            "This request was not sent to the address Keyhole listens on (its Host header differs), so Keyhole ignored it. Keyhole is still waiting for your sign-in.",
        );
        reply.rule = Some(Rule::LoopbackHost);
        return (reply, None);
    }
    let (method, target) = (head.method.as_str(), head.target.as_str());
    let not_found = || {
        Reply::page(
            404,
            "Not found",
            "This address is only used to finish signing in to Keyhole.",
        )
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        return (not_found(), None);
    }
    if method != "GET" {
        return (
            Reply::page(405, "Not allowed", "The sign-in callback only accepts GET."),
            None,
        );
    }
    let params = match Params::parse(query, expected.carries) {
        Some(params) => params,
        None => {
            return (
                Reply::page(400, "Not a sign-in response", "This request repeats a parameter, so Keyhole ignored it. Keyhole is still waiting for your sign-in."),
                None,
            )
        }
    };
    let state_ok = params
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), expected.state.secret().as_bytes()));
    if !state_ok {
        // Not the response to our request (forged, stale, or another app's): keep waiting.
        return (
            Reply::page(400, "Not the sign-in Keyhole is waiting for", "This response does not belong to the sign-in in progress (its state does not match), so Keyhole ignored it. Finish the sign-in from the tab Keyhole opened, or start again from the app."),
            None,
        );
    }
    // RFC 9207: a response that names another issuer is a mix-up attack, whatever else it says.
    match params.iss.as_deref() {
        Some(iss) if iss != expected.issuer => {
            let error = Error::IssuerMismatch {
                expected: expected.issuer.to_owned(),
                got: iss.to_owned(),
            };
            return (
                Reply::page(400, "Sign-in refused", &error.to_string()),
                Some(Err(error)),
            );
        }
        None if expected.require_iss => {
            let error = Error::IssuerMismatch {
                expected: expected.issuer.to_owned(),
                got: String::new(),
            };
            return (
                Reply::page(400, "Sign-in refused", "The provider promised to name itself in the response (iss) but did not, so Keyhole refused it."),
                Some(Err(error)),
            );
        }
        _ => {}
    }
    if let Some(error) = params.error {
        let (error, description) =
            match OAuthError::from_parts(&error, params.error_description.as_deref()) {
                Some(e) => (e.error, e.description),
                None => ("an unnamed error".to_owned(), None),
            };
        let error = Error::Provider { error, description };
        let message = format!(
            "{}. You can close this tab and try again from Keyhole.",
            capitalize(&error.to_string())
        );
        return (
            Reply::page(200, "Sign-in did not complete", &message),
            Some(Err(error)),
        );
    }
    match params.code {
        Some(code) if !code.is_empty() => (
            Reply::page(200, "Signed in", "You are signed in to Keyhole. You can close this tab and return to the app."),
            Some(Ok(AuthorizationCode::new(code))),
        ),
        _ => (
            Reply::page(400, "Not a sign-in response", "This response carries neither a code nor an error. Keyhole is still waiting for your sign-in."),
            None,
        ),
    }
}

#[derive(Default)]
struct Params {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Params {
    /// Parses the query, reading what the flow waits for from `carries`; `None` when a
    /// parameter Keyhole reads appears twice (RFC 6749 §3.1).
    fn parse(query: &str, carries: &str) -> Option<Params> {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                name if name == carries => &mut params.code,
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return None;
            }
        }
        Some(params)
    }
}

async fn write_reply(stream: &mut TcpStream, reply: &Reply) {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.reason,
        reply.html.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(reply.html.as_bytes()).await?;
        stream.shutdown().await
    };
    // The browser going away mid-reply changes nothing for the flow.
    let _ = tokio::time::timeout(Duration::from_secs(5), write).await;
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://clerk.example.com";

    const AUTHORITY: &str = "127.0.0.1:8765";

    fn head(target: &str, host: Option<&str>) -> Head {
        Head {
            method: "GET".into(),
            target: target.into(),
            host: host.map(str::to_owned),
        }
    }

    fn judge_with(target: &str, require_iss: bool) -> (u16, Option<Result<AuthorizationCode>>) {
        let (reply, outcome) = judge_head(&head(target, Some(AUTHORITY)), require_iss);
        (reply.status, outcome)
    }

    fn judge_head(head: &Head, require_iss: bool) -> (Reply, Option<Result<AuthorizationCode>>) {
        let state = CsrfToken::new("s".repeat(43));
        let expected = Expected {
            state: &state,
            issuer: ISSUER,
            require_iss,
            carries: CODE,
        };
        judge(head, AUTHORITY, &expected)
    }

    #[test]
    fn clerks_redirect_is_read_for_its_nonce_and_still_needs_keyholes_state() {
        let state = CsrfToken::new("s".repeat(43));
        let expected = Expected {
            state: &state,
            issuer: ISSUER,
            require_iss: false,
            carries: "rotating_token_nonce",
        };
        let judge_target =
            |target: &str| judge(&head(target, Some(AUTHORITY)), AUTHORITY, &expected);
        let (reply, outcome) = judge_target(&format!(
            "/callback?state={}&rotating_token_nonce=n0nce",
            good_state()
        ));
        assert_eq!(reply.status, 200);
        assert_eq!(
            outcome
                .and_then(Result::ok)
                .map(|n| n.secret().clone())
                .as_deref(),
            Some("n0nce")
        );
        // A code is not what this flow waits for; a wrong state is not this sign-in's.
        let (reply, outcome) = judge_target(&format!("/callback?state={}&code=abc", good_state()));
        assert_eq!((reply.status, outcome.is_none()), (400, true));
        let (reply, outcome) = judge_target("/callback?state=forged&rotating_token_nonce=n0nce");
        assert_eq!((reply.status, outcome.is_none()), (400, true));
    }

    #[test]
    fn a_callback_addressed_to_any_other_host_is_ignored_and_the_flow_keeps_waiting() {
        let target = format!("/callback?code=abc&state={}", good_state());
        for host in [
            None,
            Some("evil.test"),
            Some("evil.test:8765"),
            Some("localhost:8765"),
            Some("127.0.0.1"),
            Some("127.0.0.1:8766"),
            Some("[::1]:8765"),
            Some("127.0.0.1:8765.evil.test"),
            Some(""),
        ] {
            let (reply, outcome) = judge_head(&head(&target, host), false);
            assert_eq!(reply.status, 421, "{host:?}");
            assert_eq!(reply.rule, Some(Rule::LoopbackHost), "{host:?}");
            assert!(outcome.is_none(), "{host:?}");
        }
        // A repeated Host header counts as none.
        let raw = format!("GET {target} HTTP/1.1\r\nHost: {AUTHORITY}\r\nHost: evil.test\r\n\r\n");
        let parsed = Head::parse(raw.as_bytes()).unwrap().unwrap();
        assert_eq!(parsed.host, None);
        let (reply, _) = judge_head(&parsed, false);
        assert_eq!(reply.rule, Some(Rule::LoopbackHost));
        let (reply, outcome) = judge_head(&head(&target, Some(AUTHORITY)), false);
        assert_eq!(reply.status, 200);
        assert!(outcome.unwrap().is_ok());
    }

    fn good_state() -> String {
        "s".repeat(43)
    }

    #[test]
    fn a_matching_callback_yields_the_code() {
        let (status, outcome) =
            judge_with(&format!("/callback?code=abc&state={}", good_state()), false);
        assert_eq!(status, 200);
        assert_eq!(outcome.unwrap().unwrap().secret(), "abc");
    }

    #[test]
    fn other_paths_get_404_and_do_not_end_the_flow() {
        for target in [
            "/favicon.ico",
            "/",
            "/callback/x?code=1",
            "/CALLBACK?code=1",
        ] {
            let (status, outcome) = judge_with(target, false);
            assert_eq!(status, 404, "{target}");
            assert!(outcome.is_none());
        }
    }

    #[test]
    fn a_wrong_or_missing_state_is_refused_and_the_flow_keeps_waiting() {
        for target in [
            "/callback?code=abc&state=nope",
            "/callback?code=abc",
            "/callback?error=access_denied",
        ] {
            let (status, outcome) = judge_with(target, false);
            assert_eq!(status, 400, "{target}");
            assert!(outcome.is_none(), "{target}");
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let s = good_state();
        let (status, outcome) = judge_with(&format!("/callback?code=a&code=b&state={s}"), false);
        assert_eq!(status, 400);
        assert!(outcome.is_none());
    }

    #[test]
    fn provider_errors_end_the_flow_with_their_description() {
        let s = good_state();
        let (_, outcome) = judge_with(
            &format!("/callback?error=access_denied&error_description=User+said+no&state={s}"),
            false,
        );
        let error = outcome.unwrap().unwrap_err();
        assert_eq!(error.kind(), "provider");
        assert!(
            error.to_string().contains("access_denied (User said no)"),
            "{error}"
        );
    }

    #[test]
    fn an_iss_naming_another_issuer_is_refused_rfc9207() {
        let s = good_state();
        let (_, outcome) = judge_with(
            &format!("/callback?code=abc&state={s}&iss=https%3A%2F%2Fevil.test"),
            false,
        );
        assert_eq!(outcome.unwrap().unwrap_err().kind(), "issuer_mismatch");
        let (_, outcome) = judge_with(
            &format!("/callback?code=abc&state={s}&iss=https%3A%2F%2Fclerk.example.com"),
            true,
        );
        assert!(outcome.unwrap().is_ok());
    }

    #[test]
    fn a_missing_iss_is_refused_when_the_provider_promised_it() {
        let (_, outcome) = judge_with(&format!("/callback?code=abc&state={}", good_state()), true);
        assert_eq!(outcome.unwrap().unwrap_err().kind(), "issuer_mismatch");
    }

    #[test]
    fn pages_escape_what_the_provider_wrote() {
        let reply = Reply::page(200, "x", "<script>alert(1)</script>");
        assert!(!reply.html.contains("<script>"));
        assert!(reply.html.contains("&lt;script&gt;"));
    }

    async fn raw_get(port: u16, request: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn receive_ignores_idle_connections_and_stray_requests_then_takes_the_real_callback() {
        let listener = Listener::bind(0).await.unwrap();
        let port = listener.port();
        let state = CsrfToken::new_random_len(32);
        let cancel = CancellationToken::new();
        let secret = state.secret().clone();
        let client = tokio::spawn(async move {
            // A speculative socket that never sends anything must not block the others.
            let _idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let host = format!("Host: 127.0.0.1:{port}");
            let favicon = raw_get(
                port,
                &format!("GET /favicon.ico HTTP/1.1\r\n{host}\r\n\r\n"),
            )
            .await;
            let rebound = raw_get(
                port,
                &format!("GET /callback?code=evil&state={secret} HTTP/1.1\r\nHost: evil.test:{port}\r\n\r\n"),
            )
            .await;
            let garbage = raw_get(port, "\x16\x03\x01garbage\r\n\r\n").await;
            let forged = raw_get(
                port,
                &format!("GET /callback?code=evil&state=forged HTTP/1.1\r\n{host}\r\n\r\n"),
            )
            .await;
            let real = raw_get(
                port,
                &format!("GET /callback?code=good&state={secret} HTTP/1.1\r\n{host}\r\n\r\n"),
            )
            .await;
            (favicon, rebound, garbage, forged, real)
        });
        let expected = Expected {
            state: &state,
            issuer: ISSUER,
            require_iss: false,
            carries: CODE,
        };
        let code = listener
            .wait(&expected, Duration::from_secs(10), &cancel)
            .await
            .unwrap();
        assert_eq!(code.secret(), "good");
        let (favicon, rebound, garbage, forged, real) = client.await.unwrap();
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
        assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        assert!(
            real.starts_with("HTTP/1.1 200") && real.contains("close this tab"),
            "{real}"
        );
        // The listener is gone once the flow ends.
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn cancel_and_timeout_end_the_wait_and_free_the_port() {
        let state = CsrfToken::new_random();
        let expected = Expected {
            state: &state,
            issuer: ISSUER,
            require_iss: false,
            carries: CODE,
        };

        let listener = Listener::bind(0).await.unwrap();
        let port = listener.port();
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            trigger.cancel();
        });
        let error = listener
            .wait(&expected, Duration::from_secs(30), &cancel)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "cancelled");
        // The same port can be bound again at once.
        let again = Listener::bind(port).await.unwrap();

        let error = again
            .wait(
                &expected,
                Duration::from_millis(50),
                &CancellationToken::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "timeout");
        Listener::bind(port).await.unwrap();
    }

    #[tokio::test]
    async fn a_busy_port_gives_a_clear_error() {
        let taken = Listener::bind(0).await.unwrap();
        let error = Listener::bind(taken.port()).await.unwrap_err();
        assert_eq!(error.kind(), "loopback");
        assert!(error.to_string().contains("already in use"), "{error}");
    }
}
