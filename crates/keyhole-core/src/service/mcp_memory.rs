//! What Keyhole remembers of an MCP server it signed in for: the provider, client, resource and
//! scopes of that sign-in, in the keychain beside the session (nothing secret in it, but it says
//! which session is the server's). A later run finds the kept session from it and sends the
//! token on its first request, instead of a request without one, a `401` and the server's
//! metadata first; the server's `401`, if the token no longer does, still starts over. For a
//! stateless (2026-07-28) server it also keeps how the server introduced itself, so that first
//! request is the operation itself, without `server/discover` before it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::mcp::McpServer;
use crate::secret::Secret;
use crate::session::keeper::blocking;
use crate::session::vault::SecretStore;
use crate::settings::config::Settings;

const FORMAT: u32 = 1;

/// The sign-in a server let in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Remembered {
    v: u32,
    /// The MCP endpoint.
    pub url: String,
    pub instance: String,
    pub client_id: String,
    pub resource: String,
    pub scopes: String,
    /// How a stateless server introduced itself (`server/discover`); none for an older server,
    /// which is initialized every run.
    #[serde(default)]
    pub server: Option<McpServer>,
}

/// A server's introduction larger than this (its capabilities and instructions are its own)
/// is not kept: the next run discovers it again.
const MAX_SERVER_BYTES: usize = 16 * 1024;

impl Remembered {
    /// What `settings` (set up for the server at `url`) say of it, and how it introduced
    /// itself (`server`, kept when stateless and small).
    pub fn of(url: &Url, settings: &Settings, server: Option<McpServer>) -> Remembered {
        let server = server.filter(|s| {
            !s.revision.is_legacy()
                && serde_json::to_vec(s).is_ok_and(|json| json.len() <= MAX_SERVER_BYTES)
        });
        Remembered {
            v: FORMAT,
            url: url.to_string(),
            instance: settings.instance.clone(),
            client_id: settings.client_id.clone(),
            resource: settings.resource.clone(),
            scopes: settings.scopes.clone(),
            server,
        }
    }

    /// `base` with this sign-in's provider, client, resource and scopes, for the server.
    pub fn settings(&self, base: &Settings) -> Settings {
        Settings {
            instance: self.instance.clone(),
            client_id: self.client_id.clone(),
            resource: self.resource.clone(),
            api_url: self.url.clone(),
            scopes: self.scopes.clone(),
            ..base.clone()
        }
    }
}

fn account(url: &Url) -> String {
    format!("mcp-server@{url}")
}

/// The record for `url`, if one is kept and is ours (anything else is ignored, and replaced by
/// the next sign-in the server lets in).
pub(super) async fn load(store: &Arc<dyn SecretStore>, url: &Url) -> Result<Option<Remembered>> {
    let (store, account) = (Arc::clone(store), account(url));
    let text = blocking(move || store.load(&account)).await?;
    Ok(text
        .and_then(|t| serde_json::from_str::<Remembered>(t.secret()).ok())
        .filter(|r| r.v == FORMAT && r.url == url.as_str()))
}

/// Keeps `record` for its server.
pub(super) async fn save(store: &Arc<dyn SecretStore>, record: &Remembered) -> Result<()> {
    let url = Url::parse(&record.url)
        .map_err(|e| Error::keychain("the MCP server's record has no URL", e))?;
    let text = serde_json::to_string(record)
        .map(Secret::new)
        .map_err(|e| Error::keychain("the MCP server's record could not be written", e))?;
    let (store, account) = (Arc::clone(store), account(&url));
    blocking(move || store.save(&account, &text)).await
}
