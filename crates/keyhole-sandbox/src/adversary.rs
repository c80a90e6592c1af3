//! A provider that lies on purpose: discovery, authorize, token, JWKS, revocation and a protected
//! API on one 127.0.0.1 port, each answering honestly (Clerk's paths and conventions) until a
//! test scripts a crafted variant — raw JSON, raw JOSE headers, wrong keys, slow or huge bodies.
//!
//! It records every request (method, path, whether it carried `Authorization`, the names of the
//! form fields), so a test can assert that the API never saw a bearer token, or that a foreign
//! endpoint never received the code. Started per test on port 0; stopped on drop.
//!
//! ```no_run
//! use keyhole_sandbox::adversary::{Adversary, Answer};
//! let adversary = Adversary::start().unwrap();
//! let mut discovery = adversary.discovery();
//! discovery["token_endpoint"] = "https://elsewhere.test/oauth/token".into();
//! adversary.set_discovery(Answer::Json(discovery));
//! // ... run a sign-in against adversary.issuer, then:
//! assert!(!adversary.api_saw_bearer());
//! ```

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::EncodingKey;
use serde_json::{json, Value};
use sha2::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The honest signing key (RSA-2048, kid `key-a`), shared with keyhole-core's unit tests.
const KEY_A: &str = include_str!("../../keyhole-core/src/tokens/testdata/rsa_a.pem");
const JWK_A: &str = include_str!("../../keyhole-core/src/tokens/testdata/rsa_a.jwk.json");
/// A key the provider does not publish.
const KEY_B: &str = include_str!("../../keyhole-core/src/tokens/testdata/rsa_b.pem");

/// Every wait of the server is bounded by this.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1024 * 1024;

/// What an endpoint answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with this JSON.
    Json(Value),
    /// This status with this JSON.
    Status(u16, Value),
    /// Exactly these bytes as the body.
    Raw {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
    /// A body of `len` bytes, streamed: `prefix`, then `fill` repeated (for huge documents).
    Huge {
        /// What the body starts with (e.g. `{"access_token":"`).
        prefix: Vec<u8>,
        /// The byte repeated after it.
        fill: u8,
        /// Total length.
        len: usize,
    },
    /// The same answer after a delay.
    Slow(Duration, Box<Answer>),
}

/// A token request as the adversary received it, for a scripted token endpoint to shape its
/// answer (and to sign what it likes with [`Forge`]).
#[derive(Debug, Clone)]
pub struct Grant {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: String,
    /// The nonce of the authorization request the code belongs to.
    pub nonce: Option<String>,
    /// The `scope` of that authorization request.
    pub scope: Option<String>,
    /// Signs crafted tokens.
    pub forge: Forge,
}

type TokenScript = Arc<dyn Fn(&Grant) -> Answer + Send + Sync>;

/// Signs tokens as the adversary's issuer, honest or not. Uses jsonwebtoken's RSA signing: no
/// hand-rolled crypto.
#[derive(Debug, Clone)]
pub struct Forge {
    /// The issuer (`http://127.0.0.1:<port>`).
    pub issuer: String,
    /// The client tokens are issued to.
    pub client_id: String,
}

impl Forge {
    /// Seconds since the epoch.
    pub fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Signs `claims` under exactly `header` (any JOSE header: the `alg` member only picks the
    /// hash) with the published key, or with an unpublished one when `published` is false.
    pub fn sign_raw(&self, header: &Value, claims: &Value, published: bool) -> String {
        let padding: &'static dyn ring::signature::RsaEncoding =
            match header.get("alg").and_then(Value::as_str) {
                Some("RS384") => &ring::signature::RSA_PKCS1_SHA384,
                Some("RS512") => &ring::signature::RSA_PKCS1_SHA512,
                _ => &ring::signature::RSA_PKCS1_SHA256,
            };
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let message = format!("{}.{}", b64(header), b64(claims));
        let pem = if published { KEY_A } else { KEY_B };
        // Signed with ring directly: this peer must not pick jsonwebtoken's process-wide crypto
        // provider, which is the engine's to install (keyhole-core's jws_crypto).
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key parses");
        let pair = ring::signature::RsaKeyPair::from_der(key.as_bytes())
            .or_else(|_| ring::signature::RsaKeyPair::from_pkcs8(key.as_bytes()))
            .expect("test key parses");
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(
            padding,
            &ring::rand::SystemRandom::new(),
            message.as_bytes(),
            &mut signature,
        )
        .expect("signs");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
        format!("{message}.{signature}")
    }

    /// Signs with the published key under `{"alg": alg, "kid": "key-a", "typ": typ}`.
    pub fn sign(&self, alg: &str, typ: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": alg, "kid": "key-a"});
        if let Some(typ) = typ {
            header["typ"] = typ.into();
        }
        self.sign_raw(&header, claims, true)
    }

    /// Clerk-like access token claims (no `aud`).
    pub fn access_claims(&self) -> Value {
        let now = Self::now();
        json!({
            "iss": self.issuer, "sub": "user_2adversary", "client_id": self.client_id,
            "jti": format!("oat_{now}"), "scope": "openid profile email offline_access",
            "exp": now + 3600, "iat": now,
        })
    }

    /// Honest ID token claims for `nonce`, with `at_hash` of `access_token`.
    pub fn id_claims(&self, nonce: Option<&str>, access_token: &str) -> Value {
        let now = Self::now();
        let mut claims = json!({
            "iss": self.issuer, "sub": "user_2adversary", "aud": self.client_id,
            "exp": now + 3600, "iat": now, "email": "user_2adversary@example.test",
            "at_hash": at_hash(access_token),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        claims
    }

    /// An honest `at+jwt` access token.
    pub fn access_token(&self) -> String {
        self.sign("RS256", Some("at+jwt"), &self.access_claims())
    }

    /// An honest token response for `grant`: an `at+jwt` access token, an ID token when
    /// `openid` was asked, a rotated refresh token, Bearer, one hour.
    pub fn token_response(&self, grant: &Grant) -> Value {
        let access_token = self.access_token();
        self.token_response_with(grant, &access_token)
    }

    /// [`Forge::token_response`] around a given access token (the ID token's `at_hash` matches it).
    pub fn token_response_with(&self, grant: &Grant, access_token: &str) -> Value {
        let scope = grant
            .scope
            .clone()
            .unwrap_or_else(|| "openid profile email offline_access".into());
        let mut response = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": format!("rt_{}", Self::now()),
            "scope": scope,
        });
        if scope.split(' ').any(|s| s == "openid") {
            let claims = self.id_claims(grant.nonce.as_deref(), access_token);
            response["id_token"] = self.sign("RS256", Some("JWT"), &claims).into();
        }
        response
    }
}

/// OIDC Core §3.1.3.8: base64url of the left half of SHA-256 of the token.
pub fn at_hash(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// One request the adversary received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Whether it carried an `Authorization` header.
    pub authorization: bool,
    /// The names (not the values) of its form fields.
    pub form: Vec<String>,
}

#[derive(Default)]
struct Script {
    discovery: Option<Answer>,
    jwks: Option<Answer>,
    revocation: Option<Answer>,
    token: Option<TokenScript>,
    api: Option<Answer>,
    routes: HashMap<(String, String), Answer>,
}

/// What one authorization request asked, kept by code.
#[derive(Clone)]
struct Pending {
    challenge: String,
    nonce: Option<String>,
    scope: Option<String>,
}

struct Shared {
    issuer: String,
    client_id: String,
    script: Mutex<Script>,
    seen: Mutex<Vec<Seen>>,
    codes: Mutex<HashMap<String, Pending>>,
    last: Mutex<Option<Pending>>,
    counter: Mutex<u64>,
}

/// A running adversarial provider. Dropping it stops the server.
pub struct Adversary {
    /// `http://127.0.0.1:<port>`: the issuer and every endpoint's origin.
    pub issuer: String,
    /// The client ID it issues tokens to.
    pub client_id: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Adversary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adversary")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Adversary {
    /// Binds 127.0.0.1:0 and serves on its own thread.
    pub fn start() -> Result<Adversary, String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("adversary: cannot bind 127.0.0.1:0: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("adversary: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("adversary: {e}"))?
            .port();
        let issuer = format!("http://127.0.0.1:{port}");
        let client_id = "keyhole-adversary".to_owned();
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            script: Mutex::default(),
            seen: Mutex::default(),
            codes: Mutex::default(),
            last: Mutex::default(),
            counter: Mutex::new(0),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("keyhole-adversary".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => return eprintln!("adversary: no runtime: {e}"),
                };
                runtime.block_on(serve(listener, serving, stopped));
            })
            .map_err(|e| format!("adversary: cannot start its thread: {e}"))?;
        Ok(Adversary {
            issuer,
            client_id,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// A [`Forge`] for this issuer and client.
    pub fn forge(&self) -> Forge {
        Forge {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The protected API's URL (`/api`).
    pub fn api_url(&self) -> String {
        self.url("/api")
    }

    /// The honest discovery document: Clerk's paths and metadata, all on the issuer's origin.
    pub fn discovery(&self) -> Value {
        honest_discovery(&self.issuer)
    }

    /// The honest JWKS: key A, `use: sig`, RS256.
    pub fn jwks(&self) -> Value {
        honest_jwks()
    }

    /// Scripts the discovery document.
    pub fn set_discovery(&self, answer: Answer) {
        self.script().discovery = Some(answer);
    }

    /// Scripts the JWKS.
    pub fn set_jwks(&self, answer: Answer) {
        self.script().jwks = Some(answer);
    }

    /// Scripts the revocation endpoint (honest: 200).
    pub fn set_revocation(&self, answer: Answer) {
        self.script().revocation = Some(answer);
    }

    /// Scripts the protected API (honest: 200 `{"ok":true}`).
    pub fn set_api(&self, answer: Answer) {
        self.script().api = Some(answer);
    }

    /// Scripts the token endpoint: `answer` sees each grant (PKCE is still checked first).
    pub fn set_token(&self, answer: impl Fn(&Grant) -> Answer + Send + Sync + 'static) {
        self.script().token = Some(Arc::new(answer));
    }

    /// Answers `method path` (no query) with `answer`, before any built-in route: for endpoints
    /// the honest adversary does not have (registration, device authorization, resource
    /// metadata).
    pub fn set_route(&self, method: &str, path: &str, answer: Answer) {
        self.script()
            .routes
            .insert((method.to_owned(), path.to_owned()), answer);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// How many requests reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// Whether the protected API ever received an `Authorization` header.
    pub fn api_saw_bearer(&self) -> bool {
        self.seen()
            .iter()
            .any(|s| s.path == "/api" && s.authorization)
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        lock(&self.shared.script)
    }
}

impl Drop for Adversary {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The server ends at once on the signal; connection tasks die with its runtime.
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn honest_discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
        "revocation_endpoint": format!("{issuer}/oauth/token/revoke"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "none", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["public"],
    })
}

fn honest_jwks() -> Value {
    let jwk: Value = serde_json::from_str(JWK_A).expect("the test JWK parses");
    json!({ "keys": [jwk] })
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(connection(stream, Arc::clone(&shared)));
                }
            }
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    authorization: bool,
    body: Vec<u8>,
}

async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_len, method, target, authorization, content_length) = loop {
        let n = tokio::time::timeout(IO_TIMEOUT, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer) {
            Ok(httparse::Status::Complete(len)) => {
                let header = |name: &str| {
                    request
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                };
                let content_length = header("content-length")
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (
                    len,
                    request.method.unwrap_or_default().to_owned(),
                    request.path.unwrap_or_default().to_owned(),
                    header("authorization").is_some(),
                    content_length.min(MAX_BODY),
                );
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD => continue,
            _ => return None,
        }
    };
    let mut body = buffer.split_off(head_len);
    while body.len() < content_length {
        let n = tokio::time::timeout(IO_TIMEOUT, stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        authorization,
        body,
    })
}

async fn connection(mut stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    lock(&shared.seen).push(Seen {
        method: request.method.clone(),
        path: request.path.clone(),
        authorization: request.authorization,
        form: form.iter().map(|(k, _)| k.clone()).collect(),
    });
    let answer = route(&shared, &request, &form);
    let _ = tokio::time::timeout(IO_TIMEOUT * 3, write_answer(&mut stream, answer)).await;
}

fn route(shared: &Shared, request: &Request, form: &[(String, String)]) -> Option<Answer> {
    let scripted = |pick: fn(&Script) -> Option<Answer>| pick(&lock(&shared.script));
    let routed = lock(&shared.script)
        .routes
        .get(&(request.method.clone(), request.path.clone()))
        .cloned();
    if let Some(answer) = routed {
        return Some(answer);
    }
    Some(match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/.well-known/openid-configuration") => scripted(|s| s.discovery.clone())
            .unwrap_or_else(|| Answer::Json(honest_discovery(&shared.issuer))),
        ("GET", "/.well-known/jwks.json") => {
            scripted(|s| s.jwks.clone()).unwrap_or_else(|| Answer::Json(honest_jwks()))
        }
        ("GET", "/oauth/authorize") => return authorize(shared, &request.query),
        ("POST", "/oauth/token") => token(shared, form),
        ("POST", "/oauth/token/revoke") => {
            scripted(|s| s.revocation.clone()).unwrap_or(Answer::Raw {
                status: 200,
                content_type: "application/json".into(),
                body: Vec::new(),
            })
        }
        ("GET", "/api") => scripted(|s| s.api.clone()).unwrap_or_else(|| {
            Answer::Json(json!({"ok": true, "authorized": request.authorization}))
        }),
        _ => Answer::Status(404, json!({"error": "not_found"})),
    })
}

/// Redirects straight back with a code, as a provider with a signed-in browser does. `None`
/// answers a 302 built here.
fn authorize(shared: &Shared, query: &str) -> Option<Answer> {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let code = {
        let mut counter = lock(&shared.counter);
        *counter += 1;
        format!("code_{}", *counter)
    };
    let pending = Pending {
        challenge: params.get("code_challenge").cloned().unwrap_or_default(),
        nonce: params.get("nonce").cloned(),
        scope: params.get("scope").cloned(),
    };
    lock(&shared.codes).insert(code.clone(), pending.clone());
    *lock(&shared.last) = Some(pending);
    let mut location = url::Url::parse(params.get("redirect_uri")?).ok()?;
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", params.get("state").map_or("", String::as_str))
        .append_pair("iss", &shared.issuer);
    Some(Answer::Raw {
        status: 302,
        content_type: format!("text/plain\r\nLocation: {location}"),
        body: Vec::new(),
    })
}

fn token(shared: &Shared, form: &[(String, String)]) -> Answer {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let invalid_grant = || Answer::Status(400, json!({"error": "invalid_grant"}));
    let grant_type = field("grant_type").unwrap_or_default().to_owned();
    let pending = match grant_type.as_str() {
        "authorization_code" => {
            let Some(pending) = field("code").and_then(|c| lock(&shared.codes).remove(c)) else {
                return invalid_grant();
            };
            // PKCE S256 (RFC 7636 §4.6), as an honest provider checks it.
            let verifier = field("code_verifier").unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            if computed != pending.challenge {
                return invalid_grant();
            }
            pending
        }
        "refresh_token" => {
            let mut pending = lock(&shared.last).clone().unwrap_or(Pending {
                challenge: String::new(),
                nonce: None,
                scope: None,
            });
            // OIDC Core §12.2: no nonce on refresh.
            pending.nonce = None;
            pending
        }
        // RFC 8628: answered by the script only.
        "urn:ietf:params:oauth:grant-type:device_code" if lock(&shared.script).token.is_some() => {
            Pending {
                challenge: String::new(),
                nonce: None,
                scope: None,
            }
        }
        _ => return Answer::Status(400, json!({"error": "unsupported_grant_type"})),
    };
    let grant = Grant {
        grant_type,
        nonce: pending.nonce,
        scope: pending.scope,
        forge: Forge {
            issuer: shared.issuer.clone(),
            client_id: shared.client_id.clone(),
        },
    };
    let script = lock(&shared.script).token.clone();
    match script {
        Some(script) => script(&grant),
        None => Answer::Json(grant.forge.token_response(&grant)),
    }
}

async fn write_answer(stream: &mut tokio::net::TcpStream, answer: Option<Answer>) {
    let mut answer = answer.unwrap_or(Answer::Status(400, json!({"error": "invalid_request"})));
    while let Answer::Slow(delay, inner) = answer {
        tokio::time::sleep(delay).await;
        answer = *inner;
    }
    let (status, content_type, body, huge) = match answer {
        Answer::Json(value) => (
            200,
            "application/json".to_owned(),
            value.to_string().into_bytes(),
            None,
        ),
        Answer::Status(status, value) => (
            status,
            "application/json".to_owned(),
            value.to_string().into_bytes(),
            None,
        ),
        Answer::Raw {
            status,
            content_type,
            body,
        } => (status, content_type, body, None),
        Answer::Huge { prefix, fill, len } => (
            200,
            "application/json".to_owned(),
            prefix,
            Some((fill, len)),
        ),
        Answer::Slow(..) => unreachable!("unwrapped above"),
    };
    let length = huge.map_or(body.len(), |(_, len)| len.max(body.len()));
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&body).await.is_err() {
        return;
    }
    if let Some((fill, len)) = huge {
        let block = vec![fill; 64 * 1024];
        let mut left = len.saturating_sub(body.len());
        while left > 0 {
            let n = left.min(block.len());
            // The client hanging up once it has read enough is the expected end.
            if stream.write_all(&block[..n]).await.is_err() {
                return;
            }
            left -= n;
        }
    }
    let _ = stream.shutdown().await;
}

/// The browser, for a provider that redirects at once: GETs `authorize_url`, then follows its
/// redirect to the loopback callback, sending `host` as the `Host` header (the callback's own
/// authority when None). Returns the callback's status and body.
pub fn browse(authorize_url: &str, host: Option<&str>) -> Result<(u16, String), String> {
    let (status, headers, body) = request(authorize_url, None)?;
    if status != 302 {
        return Err(format!("authorize answered {status}: {body}"));
    }
    let location = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .ok_or("authorize sent no Location")?;
    let (status, _, body) = request(&location, host)?;
    Ok((status, body))
}

type Response = (u16, Vec<(String, String)>, String);

/// A bounded HTTP/1.0 GET to a 127.0.0.1 URL, with the `Host` header given or the URL's own.
fn request(url: &str, host: Option<&str>) -> Result<Response, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let authority = format!(
        "{}:{}",
        parsed.host_str().unwrap_or_default(),
        parsed.port_or_known_default().unwrap_or(80)
    );
    let addr: SocketAddr = authority
        .parse()
        .map_err(|_| format!("{url}: only literal 127.0.0.1 addresses"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{url}: refusing a non-loopback address"));
    }
    let mut stream =
        TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("{url}: {e}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| format!("{url}: {e}"))?;
    let target = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let host_line = match host {
        Some("") => String::new(),
        Some(host) => format!("Host: {host}\r\n"),
        None => format!("Host: {authority}\r\n"),
    };
    write!(
        stream,
        "GET {target} HTTP/1.0\r\n{host_line}Connection: close\r\n\r\n"
    )
    .map_err(|e| format!("{url}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("{url}: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{url}: no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> Response {
        request(url, None).unwrap()
    }

    #[test]
    fn serves_honest_discovery_and_jwks_and_records_requests() {
        let adversary = Adversary::start().unwrap();
        let (status, _, body) = get(&adversary.url("/.well-known/openid-configuration"));
        assert_eq!(status, 200);
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["issuer"], adversary.issuer.as_str());
        let (_, _, body) = get(&adversary.url("/.well-known/jwks.json"));
        assert!(body.contains("key-a"));
        assert!(!adversary.api_saw_bearer());
        assert_eq!(adversary.hits("/.well-known/jwks.json"), 1);
    }

    #[test]
    fn a_scripted_answer_replaces_the_honest_one() {
        let adversary = Adversary::start().unwrap();
        adversary.set_jwks(Answer::Status(500, json!({"nope": 1})));
        let (status, _, _) = get(&adversary.url("/.well-known/jwks.json"));
        assert_eq!(status, 500);
        adversary.set_discovery(Answer::Huge {
            prefix: b"{\"a\":\"".to_vec(),
            fill: b'x',
            len: 300_000,
        });
        let (_, _, body) = get(&adversary.url("/.well-known/openid-configuration"));
        assert_eq!(body.len(), 300_000);
    }

    #[test]
    fn the_api_records_an_authorization_header() {
        let adversary = Adversary::start().unwrap();
        let addr: SocketAddr = adversary.issuer["http://".len()..].parse().unwrap();
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
        write!(
            stream,
            "GET /api HTTP/1.0\r\nAuthorization: Bearer x\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        assert!(adversary.api_saw_bearer());
    }

    #[test]
    fn forged_tokens_carry_exactly_the_header_given() {
        let forge = Adversary::start().unwrap().forge();
        let token = forge.sign_raw(&json!({"alg": "RS256", "zzz": 1}), &json!({"a": 1}), true);
        let header = token.split('.').next().unwrap();
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&decoded).unwrap(),
            json!({"alg": "RS256", "zzz": 1})
        );
    }
}
