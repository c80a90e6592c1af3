//! The explorer's MCP mode: an MCP server's tools, a tool call, its resources and prompts, and
//! the authorization report, through the engine's
//! [`keyhole_core::Service`], which speaks MCP (the newest revision the server knows), signs in
//! from the server's `401` (RFC 9728 → its authorization server, RFC 8707 `resource` = the
//! server), escapes what the server wrote, and cancels on `cancel_request`. Nothing is decided
//! here: the window signs in with the system browser (the engine falls back to a device code
//! where none opens), as its own sign-in does. No token reaches the page or the log.

use keyhole_core::{
    McpCallResult, McpCheckOptions, McpListing, McpReport, McpTools, SessionSummary, SignInMethod,
    Verdict,
};
use std::time::Duration;

use serde_json::Value;
use tauri::{AppHandle, Runtime};

use crate::error::Result;
use crate::service_ext::ServiceExt;

/// How the window signs in when an MCP server asks for it.
const METHOD: SignInMethod = SignInMethod::Browser;

/// The tools of the MCP server at `url`, every page read.
pub async fn tools<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<McpTools> {
    let listed = app.service().mcp_tools(url, METHOD).await?;
    tracing::info!(
        revision = listed.server.revision.as_str(),
        tools = listed.tools.len(),
        pages = listed.pages,
        "MCP tools listed"
    );
    Ok(listed)
}

/// The resources of the MCP server at `url` (`offered: false` and none when it offers none).
pub async fn resources<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<McpListing> {
    let listed = app.service().mcp_resources(url, METHOD).await?;
    tracing::info!(
        offered = listed.offered,
        resources = listed.items.len(),
        "MCP resources listed"
    );
    Ok(listed)
}

/// The prompts of the MCP server at `url`, as [`resources`].
pub async fn prompts<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<McpListing> {
    let listed = app.service().mcp_prompts(url, METHOD).await?;
    tracing::info!(
        offered = listed.offered,
        prompts = listed.items.len(),
        "MCP prompts listed"
    );
    Ok(listed)
}

/// Calls `tool` of the MCP server at `url` with `arguments` (a JSON object: anything else is an
/// `arguments` setting error, and nothing is sent). A result with `isError` is an answer.
pub async fn call<R: Runtime>(
    app: &AppHandle<R>,
    url: &str,
    tool: &str,
    arguments: &Value,
) -> Result<McpCallResult> {
    let result = app.service().mcp_call(url, tool, arguments, METHOD).await?;
    // The tool's name and the outcome only: arguments and results may hold secrets.
    tracing::info!(
        tool,
        is_error = result.is_error,
        elapsed_ms = result.elapsed_ms,
        "MCP tool called"
    );
    Ok(result)
}

/// The longest wait for the access token to expire, as the CLI's `--expiry-wait`.
const MAX_EXPIRY_WAIT: u64 = 3600;

/// The authorization report of the MCP server at `url` (the engine's checks, from its URL alone;
/// no tool is called). It may wait up to `expiry_wait` seconds (at most an hour) for the access
/// token to expire, to send it expired; with none that check is "not checked" unless the token is
/// already old enough.
pub async fn check<R: Runtime>(
    app: &AppHandle<R>,
    url: &str,
    expiry_wait: Option<u64>,
) -> Result<McpReport> {
    let options = McpCheckOptions {
        expiry_wait: Duration::from_secs(expiry_wait.unwrap_or(0).min(MAX_EXPIRY_WAIT)),
    };
    let report = app.service().mcp_check(url, METHOD, options).await?;
    let failed = report
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .count();
    tracing::info!(
        checks = report.checks.len(),
        failed,
        "MCP authorization checked"
    );
    Ok(report)
}

/// The step-up the user agreed to after a `403 insufficient_scope`: a new sign-in for the server
/// at `url` asking also for `scopes` (the engine refuses it when the provider grants fewer).
pub async fn step_up<R: Runtime>(
    app: &AppHandle<R>,
    url: &str,
    scopes: &str,
) -> Result<SessionSummary> {
    let summary = app.service().mcp_step_up(url, scopes, METHOD).await?;
    tracing::info!(scopes = summary.scopes.len(), "MCP step-up signed in");
    Ok(summary)
}
