//! The service's MCP side: a server's tools, resources and prompts, and a tool call, from its URL
//! alone. A request goes with the session's access token when the settings in force are set up
//! for that server; a `401` leads through the server's RFC 9728 metadata to its authorization
//! server and a sign-in with RFC 8707 `resource` = the server (the set-up order's rules:
//! registration, the stored client, PKCE, `iss`), then the request goes again, once.
//!
//! What a set-up for a server finds is kept for this run only (the settings are not written):
//! the registration and the session are in the keychain, keyed by issuer, client and resource,
//! so the next run finds both again behind the same `401`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::{lock, mcp_memory, Resumed, Service};
use crate::error::{Error, Result};
use crate::http::shown_origin;
use crate::mcp::{McpCallResult, McpClient, McpFault, McpLimits, McpListing, McpTools};
use crate::settings::config::Settings;
use crate::signin::SignInMethod;

/// The MCP clients of this service, one per endpoint, with the settings that signed in for it.
#[derive(Default)]
pub(super) struct McpClients {
    by_url: Mutex<HashMap<String, Entry>>,
    limits: Mutex<Option<McpLimits>>,
}

#[derive(Clone)]
struct Entry {
    client: Arc<McpClient>,
    /// The settings whose session the server let in, once one did.
    authorized: Option<Settings>,
    /// The server's record as the keychain has it, once read or written this run.
    recorded: Option<mcp_memory::Remembered>,
}

/// How long a cancelled sign-in may take to end by itself.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

enum Op<'a> {
    Tools,
    Call(&'a str, &'a Value),
    Listing(&'static str),
}

enum Answer {
    Tools(McpTools),
    Call(McpCallResult),
    Listing(McpListing),
}

impl Service {
    /// How long each MCP request may take (default 30 s, the API's), for the servers talked to
    /// from now on (the CLI's `--max-time`).
    pub fn set_mcp_timeout(&self, timeout: std::time::Duration) {
        let limits = McpLimits {
            timeout,
            ..McpLimits::default()
        };
        *lock(&self.inner.mcp.limits) = Some(limits);
        lock(&self.inner.mcp.by_url).clear();
    }

    /// The tools of the MCP server at `url`, every page read; signs in (with `method`) when the
    /// server asks for it.
    pub async fn mcp_tools(&self, url: &str, method: SignInMethod) -> Result<McpTools> {
        match self.mcp(url, method, Op::Tools).await? {
            Answer::Tools(tools) => Ok(tools),
            _ => unreachable!("tools/list answers with tools"),
        }
    }

    /// Calls `tool` of the MCP server at `url` with `arguments` (a JSON object). A result with
    /// `isError` is an answer ([`McpCallResult::is_error`]), not an `Err`.
    pub async fn mcp_call(
        &self,
        url: &str,
        tool: &str,
        arguments: &Value,
        method: SignInMethod,
    ) -> Result<McpCallResult> {
        if !arguments.is_object() {
            return Err(Error::setting(
                "arguments",
                "A tool's arguments are a JSON object, like {\"text\": \"hello\"}; nothing was sent.",
            ));
        }
        match self.mcp(url, method, Op::Call(tool, arguments)).await? {
            Answer::Call(result) => Ok(result),
            _ => unreachable!("tools/call answers with a result"),
        }
    }

    /// The resources of the MCP server at `url` (none, and `offered: false`, when it offers
    /// none).
    pub async fn mcp_resources(&self, url: &str, method: SignInMethod) -> Result<McpListing> {
        match self.mcp(url, method, Op::Listing("resources")).await? {
            Answer::Listing(listing) => Ok(listing),
            _ => unreachable!("resources/list answers with a listing"),
        }
    }

    /// The prompts of the MCP server at `url`, as [`Service::mcp_resources`].
    pub async fn mcp_prompts(&self, url: &str, method: SignInMethod) -> Result<McpListing> {
        match self.mcp(url, method, Op::Listing("prompts")).await? {
            Answer::Listing(listing) => Ok(listing),
            _ => unreachable!("prompts/list answers with a listing"),
        }
    }

    /// The step-up after a `403 insufficient_scope` ([`Error::mcp_needed_scopes`]), once the
    /// user agreed: a new sign-in for the server at `url` asking for the scopes it had and
    /// `scopes` too. Err when the provider did not grant them all. The request that was refused
    /// can then go again. The request in flight: [`Service::cancel_request`] cancels it.
    pub async fn mcp_step_up(
        &self,
        url: &str,
        scopes: &str,
        method: SignInMethod,
    ) -> Result<crate::SessionSummary> {
        self.mcp_in_flight(self.mcp_step_up_uncancelled(url, scopes, method))
            .await
    }

    async fn mcp_step_up_uncancelled(
        &self,
        url: &str,
        scopes: &str,
        method: SignInMethod,
    ) -> Result<crate::SessionSummary> {
        let url = crate::settings::config::parse_api_url(url)?;
        let mut settings = self.settings();
        if !same_url(&settings.resource, &url) {
            // Not set up for this server in this run yet: its metadata first.
            self.mcp_adopt(&url, None).await?;
            settings = self.settings();
        }
        let had = settings.validate()?.scopes;
        let wanted = crate::settings::config::Settings {
            scopes: format!("{} {scopes}", had.join(" ")),
            ..settings
        };
        wanted.validate()?;
        self.notice(format!(
            "Signing in again for the MCP server at {}, asking also for {} (step-up)…",
            shown_origin(&url),
            crate::mcp::shown_line(scopes, 200)
        ));
        lock(&self.inner.chosen).settings = wanted;
        self.follow_account();
        let summary = self.sign_in(method).await?;
        let missing: Vec<&str> = scopes
            .split_whitespace()
            .filter(|s| !summary.scopes.iter().any(|g| g == s))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Mcp {
                fault: McpFault::Forbidden,
                message: format!(
                    "The provider did not grant {} although Keyhole asked for it, so the MCP server will refuse the token again; the user or the application may not be allowed it.",
                    missing.join(" ")
                ),
                code: None,
                challenge: None,
            });
        }
        Ok(summary)
    }

    /// One MCP operation, as the request in flight (see [`Service::mcp_in_flight`]).
    async fn mcp(&self, url: &str, method: SignInMethod, op: Op<'_>) -> Result<Answer> {
        self.mcp_in_flight(self.mcp_uncancelled(url, method, op))
            .await
    }

    /// `work` as the request in flight: [`Service::cancel_request`] (or a new request) cancels
    /// it with [`Error::CallCancelled`], the sign-in it started included (ended through its own
    /// path first). The MCP operations, the authorization report and the step-up go this way.
    pub(super) async fn mcp_in_flight<T>(
        &self,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let cancel = CancellationToken::new();
        let call = self.inner.calls.fetch_add(1, Ordering::SeqCst);
        if let Some((_, previous)) =
            lock(&self.inner.request_in_flight).replace((call, cancel.clone()))
        {
            previous.cancel();
        }
        tokio::pin!(work);
        let outcome = tokio::select! {
            outcome = &mut work => outcome,
            () = cancel.cancelled() => {
                if self.is_signing_in() {
                    // The sign-in ends through its own path (the loopback closed, the keeper
                    // told), not by dropping it halfway.
                    self.cancel_sign_in();
                    let _ = tokio::time::timeout(CANCEL_GRACE, &mut work).await;
                }
                tracing::info!("MCP request cancelled");
                Err(Error::CallCancelled)
            }
        };
        let mut in_flight = lock(&self.inner.request_in_flight);
        if in_flight.as_ref().is_some_and(|(id, _)| *id == call) {
            *in_flight = None;
        }
        outcome
    }

    async fn mcp_uncancelled(&self, url: &str, method: SignInMethod, op: Op<'_>) -> Result<Answer> {
        let url = crate::settings::config::parse_api_url(url)?;
        let entry = self.mcp_entry(&url);
        let mut token = self.mcp_token(&url, &entry).await?;
        if token.is_none() {
            token = self.mcp_remembered(&url, &entry).await;
        }
        let challenge = match run(&entry.client, &op, token.as_deref()).await {
            Err(Error::Mcp {
                fault: McpFault::Unauthorized,
                challenge,
                ..
            }) => challenge,
            Ok(answer) if token.is_some() => {
                self.mcp_let_in(&url).await;
                return Ok(answer);
            }
            other => return other,
        };
        if token.is_some() {
            tracing::info!(url = %shown_origin(&url), "the MCP server refused the token: setting up again");
        }
        let resumed = self.mcp_sign_in(&url, challenge.as_deref(), method).await?;
        let mut outcome = run(&entry.client, &op, Some(&self.mcp_fresh_token(&url).await?)).await;
        if resumed == Resumed::Stored && is_unauthorized(&outcome) {
            // The kept session's token was refused (revoked, or from before a change at the
            // server): a new sign-in, once.
            self.notice("The MCP server refused the kept session's token; signing in again.");
            self.sign_in(method).await?;
            outcome = run(&entry.client, &op, Some(&self.mcp_fresh_token(&url).await?)).await;
        }
        match outcome {
            Err(Error::Mcp {
                fault: McpFault::Unauthorized,
                challenge,
                code,
                ..
            }) => Err(Error::Mcp {
                fault: McpFault::Unauthorized,
                message: format!(
                    "The MCP server at {} refused the token Keyhole just got for it from {} (for the resource {}): the server's token check and its metadata disagree (audience, issuer or the resource it names); fix the server.",
                    shown_origin(&url),
                    self.settings().instance,
                    self.settings().resource,
                ),
                code,
                challenge,
            }),
            Ok(answer) => {
                self.mcp_let_in(&url).await;
                Ok(answer)
            }
            other => other,
        }
    }

    /// The server let the session of the settings in force in: they are the ones for it, in
    /// this run and (when they changed) in the keychain for the next.
    async fn mcp_let_in(&self, url: &Url) {
        let settings = self.settings();
        let Some(entry) = lock(&self.inner.mcp.by_url).get(url.as_str()).cloned() else {
            return;
        };
        if !same_url(&settings.resource, url) {
            self.mcp_set_entry(url, |e| e.authorized = Some(settings.clone()));
            return;
        }
        let record = mcp_memory::Remembered::of(url, &settings, entry.client.introduced().await);
        let store = &self.inner.options.secrets;
        let kept = match entry.recorded {
            Some(kept) => Some(kept),
            None => mcp_memory::load(store, url).await.ok().flatten(),
        };
        if kept.as_ref() != Some(&record) {
            if let Err(error) = mcp_memory::save(store, &record).await {
                tracing::debug!(kind = error.kind(), "the MCP server's record was not kept");
            }
        }
        self.mcp_set_entry(url, |e| {
            e.authorized = Some(settings.clone());
            e.recorded = Some(record.clone());
        });
    }

    fn mcp_set_entry(&self, url: &Url, change: impl FnOnce(&mut Entry)) {
        if let Some(entry) = lock(&self.inner.mcp.by_url).get_mut(url.as_str()) {
            change(entry);
        }
    }

    /// The token of the session a server let in before (its record in the keychain), with its
    /// settings adopted for this run and the server's introduction assumed; None, and the
    /// settings as they were, when there is none.
    async fn mcp_remembered(&self, url: &Url, entry: &Entry) -> Option<String> {
        let store = &self.inner.options.secrets;
        let record = mcp_memory::load(store, url).await.ok().flatten()?;
        self.mcp_set_entry(url, |e| e.recorded = Some(record.clone()));
        let before = self.settings();
        let settings = record.settings(&before);
        settings.validate().ok()?;
        lock(&self.inner.chosen).settings = settings;
        self.follow_account();
        let token = match self.fresh_session().await {
            Ok(session) if self.mcp_may_send(url).is_ok() => {
                Some(session.tokens.access_token.secret().to_owned())
            }
            _ => None,
        };
        match (&token, record.server) {
            (Some(_), Some(server)) => entry.client.assume(server).await,
            (Some(_), None) => {}
            (None, _) => {
                lock(&self.inner.chosen).settings = before;
                self.follow_account();
            }
        }
        token
    }

    pub(super) fn mcp_limits(&self) -> McpLimits {
        lock(&self.inner.mcp.limits).unwrap_or_default()
    }

    fn mcp_entry(&self, url: &Url) -> Entry {
        let limits = self.mcp_limits();
        lock(&self.inner.mcp.by_url)
            .entry(url.to_string())
            .or_insert_with(|| Entry {
                client: Arc::new(McpClient::new(url.clone(), limits)),
                authorized: None,
                recorded: None,
            })
            .clone()
    }

    /// The token to send first: the session's, when the settings in force are the ones that
    /// signed in for this server, or are set up for it (its URL as the resource or the API URL);
    /// None otherwise, or when no session is kept (the server's 401 then starts the set-up).
    async fn mcp_token(&self, url: &Url, entry: &Entry) -> Result<Option<String>> {
        let settings = self.settings();
        let set_up_for = entry.authorized.as_ref() == Some(&settings)
            || same_url(&settings.resource, url)
            || (settings.resource.trim().is_empty() && same_url(&settings.api_url, url));
        if !set_up_for || settings.instance.trim().is_empty() {
            return Ok(None);
        }
        match self.fresh_session().await {
            Ok(session) => {
                self.mcp_may_send(url)?;
                Ok(Some(session.tokens.access_token.secret().to_owned()))
            }
            Err(error) => {
                tracing::debug!(kind = error.kind(), "no kept session for the MCP server");
                Ok(None)
            }
        }
    }

    pub(super) async fn mcp_fresh_token(&self, url: &Url) -> Result<String> {
        self.mcp_may_send(url)?;
        let session = self.fresh_session().await?;
        Ok(session.tokens.access_token.secret().to_owned())
    }

    /// RFC 6750 §5.3: never the token in cleartext off this machine, unless allowed (said then).
    fn mcp_may_send(&self, url: &Url) -> Result<()> {
        let allowed: Vec<url::Origin> = self
            .inner
            .options
            .cleartext_api_origins
            .iter()
            .map(Url::origin)
            .collect();
        for warning in crate::engine::cleartext_warnings(url, "access token", &allowed)? {
            self.notice(warning.message);
        }
        Ok(())
    }

    /// The set-up for the server behind `url` (its metadata, its authorization server, a client)
    /// adopted for this run, then the session: kept, or a sign-in with `method`.
    async fn mcp_sign_in(
        &self,
        url: &Url,
        challenge: Option<&str>,
        method: SignInMethod,
    ) -> Result<Resumed> {
        self.mcp_adopt(url, challenge).await?;
        let (_, resumed) = self.session_or_sign_in(method).await?;
        Ok(resumed)
    }

    /// The set-up for the server behind `url`, adopted for this run (what it found is returned:
    /// the metadata, and how the client came about).
    pub(super) async fn mcp_adopt(
        &self,
        url: &Url,
        challenge: Option<&str>,
    ) -> Result<crate::signin::resource::ApiSetup> {
        self.notice(format!(
            "The MCP server at {} asks for a sign-in: reading its protected-resource metadata…",
            shown_origin(url)
        ));
        let base = self.settings();
        let setup = crate::signin::resource::set_up_for_resource(
            self.http(),
            &self.inner.options.secrets,
            url,
            challenge,
            &base,
        )
        .await?;
        self.notice(format!(
            "The MCP server names {} as its authorization server; signing in for the resource {}.",
            setup.settings.instance, setup.settings.resource
        ));
        if let Some(note) = &setup.note {
            self.notice(note.clone());
        }
        // For this run: the app's REST settings stay as saved.
        lock(&self.inner.chosen).settings = setup.settings.clone();
        self.follow_account();
        Ok(setup)
    }
}

async fn run(client: &McpClient, op: &Op<'_>, token: Option<&str>) -> Result<Answer> {
    Ok(match op {
        Op::Tools => Answer::Tools(client.tools(token).await?),
        Op::Call(tool, arguments) => Answer::Call(client.call(tool, arguments, token).await?),
        Op::Listing(kind) => Answer::Listing(client.listing(kind, token).await?),
    })
}

fn is_unauthorized(outcome: &Result<Answer>) -> bool {
    matches!(
        outcome,
        Err(Error::Mcp {
            fault: McpFault::Unauthorized,
            ..
        })
    )
}

/// True when the settings field `field` names `url` (a trailing slash aside).
fn same_url(field: &str, url: &Url) -> bool {
    field.trim().trim_end_matches('/') == url.as_str().trim_end_matches('/')
}
