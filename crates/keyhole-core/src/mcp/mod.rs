//! An MCP client over Streamable HTTP (JSON-RPC 2.0), Tauri-free: what the service uses to list
//! and call a server's tools.
//!
//! It speaks revision 2026-07-28 first (`server/discover`; the protocol version, client
//! capabilities and client info in each request's `_meta`; the `MCP-Protocol-Version`,
//! `Mcp-Method` and `Mcp-Name` headers) and falls back, as that revision's transport says, to the
//! `initialize` lifecycle of 2025-11-25 / 2025-06-18 (`notifications/initialized`,
//! `Mcp-Session-Id`) when the server answers with something that is not a modern MCP error. Which
//! revision was spoken is part of every answer ([`McpServer::revision`]).
//!
//! Every answer is read within the request's timeout and a size cap, JSON or SSE alike; an SSE
//! stream is read event by event as it arrives and dropped once the response came. A session the
//! server forgot (404) is initialized once more, then reported. A 401 or 403 comes back as
//! [`McpFault::Unauthorized`] / [`McpFault::Forbidden`] with its challenge: signing in is the
//! service's job. Text the server wrote is shown as text: control characters are escaped
//! ([`shown_text`]).

mod client;
pub(crate) mod report;
mod sse;

use serde::{Deserialize, Serialize};

pub(crate) use client::{McpClient, McpLimits};
pub use report::{Check, CheckId, McpReport, Verdict};

/// What went wrong with an MCP server ([`crate::Error::Mcp`]), by kind. Stable names:
/// [`McpFault::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum McpFault {
    /// The URL answered, but not as an MCP server (an HTML page, 404, JSON that is not JSON-RPC,
    /// a redirect).
    NotMcp,
    /// An MCP answer that breaks the protocol (a response to another request, no result and no
    /// error, a revision Keyhole does not speak, pages without end).
    Protocol,
    /// The answer is larger than Keyhole reads.
    TooLarge,
    /// The answer did not come within the timeout (a stream that never ends).
    Timeout,
    /// The server answered a JSON-RPC error.
    RpcError,
    /// The server forgot the session again right after a new one.
    SessionExpired,
    /// 401: the server wants a (valid) token.
    Unauthorized,
    /// 403: the token is not enough (`insufficient_scope`).
    Forbidden,
    /// Another HTTP error status with no JSON-RPC error in it (a 500).
    HttpStatus,
}

impl McpFault {
    /// A short, stable name, e.g. `not_mcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            McpFault::NotMcp => "not_mcp",
            McpFault::Protocol => "protocol",
            McpFault::TooLarge => "too_large",
            McpFault::Timeout => "timeout",
            McpFault::RpcError => "rpc_error",
            McpFault::SessionExpired => "session_expired",
            McpFault::Unauthorized => "unauthorized",
            McpFault::Forbidden => "forbidden",
            McpFault::HttpStatus => "http_status",
        }
    }
}

/// The MCP revisions Keyhole speaks, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Revision {
    /// 2026-07-28: stateless, `server/discover`, `_meta` on every request.
    #[serde(rename = "2026-07-28")]
    V2026_07_28,
    /// 2025-11-25: `initialize`, sessions.
    #[serde(rename = "2025-11-25")]
    V2025_11_25,
    /// 2025-06-18: `initialize`, sessions, `MCP-Protocol-Version`.
    #[serde(rename = "2025-06-18")]
    V2025_06_18,
}

impl Revision {
    /// The protocol version string, e.g. `2026-07-28`.
    pub fn as_str(self) -> &'static str {
        match self {
            Revision::V2026_07_28 => "2026-07-28",
            Revision::V2025_11_25 => "2025-11-25",
            Revision::V2025_06_18 => "2025-06-18",
        }
    }

    /// The revision named `version`, if Keyhole speaks it.
    pub fn parse(version: &str) -> Option<Revision> {
        [
            Revision::V2026_07_28,
            Revision::V2025_11_25,
            Revision::V2025_06_18,
        ]
        .into_iter()
        .find(|r| r.as_str() == version)
    }

    /// True for the revisions with `initialize` and sessions.
    pub fn is_legacy(self) -> bool {
        self != Revision::V2026_07_28
    }
}

/// The server as it introduced itself, and the revision spoken with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpServer {
    /// The MCP endpoint.
    pub url: String,
    /// The revision spoken.
    pub revision: Revision,
    /// Its name (`serverInfo`, self-reported), shown as text.
    pub name: Option<String>,
    /// Its version (self-reported), shown as text.
    pub version: Option<String>,
    /// Its capabilities, as it sent them.
    pub capabilities: serde_json::Value,
    /// Its instructions, shown as text.
    pub instructions: Option<String>,
}

/// One tool: what a form is built from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpTool {
    /// The name to call it by (as sent: a call must name it exactly).
    pub name: String,
    /// Its title, shown as text.
    pub title: Option<String>,
    /// Its description, shown as text.
    pub description: Option<String>,
    /// Its input schema, as sent (JSON; not checked here).
    pub input_schema: serde_json::Value,
}

/// A server's tools, every page read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpTools {
    /// The server.
    pub server: McpServer,
    /// Every tool, in the order listed.
    pub tools: Vec<McpTool>,
    /// How many `tools/list` pages it took.
    pub pages: u32,
}

/// One content item of a tool result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpContent {
    /// Its `type`: `text`, `image`, `audio`, `resource_link`, `resource`, or what the server
    /// sent.
    pub kind: String,
    /// Text to show: the text itself (escaped, [`shown_text`]), or for other kinds what it is
    /// (MIME type, size, URI).
    pub text: String,
}

/// A tool call's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpCallResult {
    /// The server.
    pub server: McpServer,
    /// The tool called.
    pub tool: String,
    /// The content items.
    pub content: Vec<McpContent>,
    /// `structuredContent`, as sent.
    pub structured: Option<serde_json::Value>,
    /// `isError`: the tool failed (an answer, not a transport failure).
    pub is_error: bool,
    /// Notifications that came before the result on an SSE answer (progress, log messages).
    pub notifications: u32,
    /// How long the call took, in milliseconds.
    pub elapsed_ms: u64,
}

/// A resource or a prompt, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpItem {
    /// Its name, shown as text.
    pub name: String,
    /// A resource's URI.
    pub uri: Option<String>,
    /// Its description, shown as text.
    pub description: Option<String>,
}

/// A server's resources or prompts (empty when it offers none).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpListing {
    /// The server.
    pub server: McpServer,
    /// Whether the server offers this kind at all (its capabilities).
    pub offered: bool,
    /// Every item, in the order listed.
    pub items: Vec<McpItem>,
}

/// `text` safe to print or put in a text node: control characters (but newline and tab) and the
/// bidirectional overrides become visible `\u{…}` escapes, so a tool result can neither drive a
/// terminal nor reorder what is shown. HTML stays literal text; nothing renders it.
pub fn shown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// [`shown_text`], on one line and at most `max` characters: for messages.
pub(crate) fn shown_line(text: &str, max: usize) -> String {
    let one = shown_text(text).replace(['\n', '\t'], " ");
    match one.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &one[..at]),
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_as_escapes_and_html_stays_text() {
        assert_eq!(
            shown_text("<b>x</b>\u{7}\u{1b}[31mred\u{0}\n\tok\u{202e}"),
            "<b>x</b>\\u{0007}\\u{001b}[31mred\\u{0000}\n\tok\\u{202e}"
        );
        assert_eq!(shown_line("a\nb\u{7}cdef", 5), "a b\\u…");
    }

    #[test]
    fn revisions_have_their_spec_names() {
        assert_eq!(Revision::parse("2025-06-18"), Some(Revision::V2025_06_18));
        assert_eq!(Revision::parse("2024-11-05"), None);
        assert!(!Revision::V2026_07_28.is_legacy());
        assert_eq!(
            serde_json::to_string(&Revision::V2026_07_28).unwrap(),
            "\"2026-07-28\""
        );
    }
}
