//! Import: a pasted curl command as a request ([`curl`]); an OpenAPI 3 document ([`openapi`]) or
//! a Postman collection v2.1 ([`postman`]) as a profile's saved requests. A bearer token or a
//! Clerk session cookie found in any of them is dropped (Keyhole sends its own) and said so;
//! nothing imported ever holds it.

pub(crate) mod curl;
pub(crate) mod openapi;
pub(crate) mod postman;

use serde::Serialize;

use crate::api::request::ApiRequest;
use crate::api::variables::Variable;

/// The largest document read (a file or a download).
pub const MAX_DOCUMENT: usize = 8 * 1024 * 1024;

/// What the user is told when a token in what they imported was dropped.
pub const TOKEN_REPLACED: &str =
    "The bearer token in what you pasted was replaced by Keyhole's own; it was not kept.";

/// What a document gave: requests to save (named), plain variables to add, and what was left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The requests, each with its name set.
    pub requests: Vec<ApiRequest>,
    /// Variables the document defines (Postman's collection variables).
    pub variables: Vec<Variable>,
    /// What was left out, one sentence each.
    pub skipped: Vec<String>,
    /// What was changed, one sentence each.
    pub notes: Vec<String>,
}

impl Parsed {
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.notes.contains(&text) {
            self.notes.push(text);
        }
    }
}

/// The kinds of document Keyhole imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImportKind {
    /// OpenAPI 3 (JSON or YAML).
    Openapi,
    /// Postman collection v2.1 (JSON).
    Postman,
}

/// What an import saved into the profile, and what it did not, for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// The names the requests were saved under, in order.
    pub saved: Vec<String>,
    /// Variables added to the profile.
    pub variables: Vec<String>,
    /// What was left out, one sentence each.
    pub skipped: Vec<String>,
    /// What was changed (a name taken, a token dropped), one sentence each.
    pub notes: Vec<String>,
}

/// True for an `Authorization` value that carries a bearer token.
pub(crate) fn is_bearer(value: &str) -> bool {
    value
        .trim()
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("bearer "))
        || value.trim().eq_ignore_ascii_case("bearer")
}

/// `cookies` without Clerk's `__session` cookie (and its `__session_*` variants), and whether
/// there was one.
pub(crate) fn strip_session_cookie(cookies: &str) -> (String, bool) {
    let mut found = false;
    let kept: Vec<&str> = cookies
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .filter(|c| {
            let name = c.split('=').next().unwrap_or("").trim();
            let session = name == "__session" || name.starts_with("__session_");
            found |= session;
            !session
        })
        .collect();
    (kept.join("; "), found)
}

/// `base` and `path` joined with one `/`.
pub(crate) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}
