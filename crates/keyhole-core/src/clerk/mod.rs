//! Clerk's own APIs, beyond its OAuth server: the Frontend API as a native client (a Clerk
//! session, and the session tokens the tutorial's backend reads) — and the Backend API with a
//! secret key (test sessions, API keys, M2M tokens), with the keys it needs.

pub(crate) mod bapi;
pub(crate) mod fapi;
pub(crate) mod keys;
pub(crate) mod native;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The largest answer read from either API (a client with its sessions and users is a few KiB).
pub(crate) const CAP: usize = 256 * 1024;

/// Judges an answer of Clerk's `api` ("Frontend API" or "Backend API") to `what`: a redirect
/// (never followed), one over [`CAP`], or a non-2xx status is an error in Clerk's words
/// ([`fapi::clerk_error`]); otherwise the JSON object, when the body is one.
pub(crate) fn judge_answer(
    api: &'static str,
    status: reqwest::StatusCode,
    body: &[u8],
    truncated: bool,
    what: &str,
) -> Result<Option<Map<String, Value>>> {
    if status.is_redirection() {
        return Err(Error::clerk(
            api,
            status.as_u16(),
            "",
            format!("Clerk's {api} answered {what} with a redirect (HTTP {status}), which Keyhole never follows; check its URL."),
        ));
    }
    if truncated {
        return Err(Error::clerk(
            api,
            status.as_u16(),
            "",
            format!(
                "Clerk's answer to {what} is larger than {} KiB, so Keyhole refused it.",
                CAP / 1024
            ),
        ));
    }
    let parsed = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    if !status.is_success() {
        return Err(fapi::clerk_error(
            api,
            status.as_u16(),
            parsed.as_ref(),
            body,
            what,
        ));
    }
    Ok(parsed)
}
