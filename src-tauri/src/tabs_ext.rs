//! The window's open tabs, in `tabs.json` (tauri-plugin-store, next to the history), so they come
//! back after a restart: each tab's draft (credential header values blanked by the engine's
//! [`ApiRequest::without_credentials`], as the history blanks them) and the status line of its
//! last answer; and the explorer's mode (REST | MCP) with the MCP server's URL. Never an answer
//! body (answers can hold secrets), never a token.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use keyhole_core::ApiRequest;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::error::Result;

/// The tabs file, next to the history file.
pub const TABS_FILE: &str = "tabs.json";
/// How many tabs are kept; past that, the first ones.
pub const TABS_LIMIT: usize = 50;
/// The longest status line kept (a line, not a body).
const STATUS_LIMIT: usize = 300;
/// The longest MCP server URL kept.
const URL_LIMIT: usize = 2048;
/// The key holding the tabs.
const STORE_KEY: &str = "tabs";

/// One open tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedTab {
    /// The draft, as the engine's request.
    pub request: ApiRequest,
    /// Its last answer's status line ("200 OK · 35 ms · 1.2 kB"), if it had one.
    #[serde(default)]
    pub status: Option<String>,
}

/// The open tabs and which one is in front.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tabs {
    /// The tabs, in the order shown.
    pub tabs: Vec<SavedTab>,
    /// The index of the tab in front.
    #[serde(default)]
    pub active: usize,
    /// The explorer's mode: `rest` (the request editor) or `mcp`; anything else is kept as `rest`.
    #[serde(default = "rest")]
    pub mode: String,
    /// The MCP server's URL as typed in the MCP mode (a user name or password in it is dropped).
    #[serde(default)]
    pub mcp_url: String,
}

impl Default for Tabs {
    fn default() -> Tabs {
        Tabs {
            tabs: Vec::new(),
            active: 0,
            mode: rest(),
            mcp_url: String::new(),
        }
    }
}

fn rest() -> String {
    "rest".to_owned()
}

/// `url` within the limit and without the credentials a URL can carry (`user:password@`): what
/// was typed otherwise, also when it is no URL yet.
fn kept_url(url: &str) -> String {
    let url: String = url.trim().chars().take(URL_LIMIT).collect();
    match url::Url::parse(&url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Both succeed for the http(s) URLs that can have them.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url,
    }
}

impl Tabs {
    /// Within the limits, with every credential header blanked.
    fn kept(self) -> Tabs {
        let tabs: Vec<SavedTab> = self
            .tabs
            .into_iter()
            .take(TABS_LIMIT)
            .map(|tab| SavedTab {
                request: tab.request.without_credentials(),
                status: tab
                    .status
                    .map(|s| s.chars().take(STATUS_LIMIT).collect::<String>())
                    .filter(|s| !s.trim().is_empty()),
            })
            .collect();
        let active = self.active.min(tabs.len().saturating_sub(1));
        let mode = if self.mode == "mcp" {
            "mcp".to_owned()
        } else {
            rest()
        };
        Tabs {
            tabs,
            active,
            mode,
            mcp_url: kept_url(&self.mcp_url),
        }
    }
}

/// The tabs, kept in memory and written through to their store file.
pub struct TabsManager {
    path: PathBuf,
    tabs: Mutex<Tabs>,
}

impl TabsManager {
    /// Reads the tabs at `path`; an unreadable file is logged and starts with none.
    pub fn load<R: Runtime>(app: &impl Manager<R>, path: &Path) -> Result<TabsManager> {
        let store = app.store(path)?;
        let tabs = store
            .get(STORE_KEY)
            .and_then(|value| match serde_json::from_value::<Tabs>(value) {
                Ok(tabs) => Some(tabs.kept()),
                Err(error) => {
                    tracing::warn!(%error, "ignoring unreadable saved tabs");
                    None
                }
            })
            .unwrap_or_default();
        Ok(TabsManager {
            path: path.to_path_buf(),
            tabs: Mutex::new(tabs),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Tabs> {
        // Held only for a copy or a swap; a poisoned lock still holds a consistent value.
        self.tabs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tabs as last saved.
    pub fn get(&self) -> Tabs {
        self.lock().clone()
    }

    /// Keeps `tabs` (blanked, within the limits) and writes them; a failed write is logged, the
    /// window keeps its tabs either way.
    pub fn save<R: Runtime>(&self, app: &AppHandle<R>, tabs: Tabs) -> Tabs {
        let tabs = tabs.kept();
        *self.lock() = tabs.clone();
        let written = app.store(&self.path).and_then(|store| {
            store.set(STORE_KEY, serde_json::to_value(&tabs)?);
            store.save()
        });
        if let Err(error) = written {
            tracing::warn!(%error, path = %self.path.display(), "could not save the tabs");
        }
        tabs
    }
}

/// `app.tabs()` from anything that can reach the app's state.
pub trait TabsExt<R: Runtime> {
    /// The open tabs.
    fn tabs(&self) -> &TabsManager;
}

impl<R: Runtime, T: Manager<R>> TabsExt<R> for T {
    fn tabs(&self) -> &TabsManager {
        self.state::<TabsManager>().inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_saved_before_the_mcp_mode_read_as_the_rest_mode_with_no_url() {
        let tabs: Tabs = serde_json::from_value(serde_json::json!({ "tabs": [], "active": 0 }))
            .expect("an older file reads");
        assert_eq!(tabs.mode, "rest");
        assert_eq!(tabs.mcp_url, "");
    }

    #[test]
    fn the_mode_is_rest_or_mcp_and_the_mcp_url_loses_its_credentials() {
        let kept = |mode: &str, url: &str| {
            Tabs {
                mode: mode.to_owned(),
                mcp_url: url.to_owned(),
                ..Tabs::default()
            }
            .kept()
        };
        let mcp = kept("mcp", " http://127.0.0.1:5000/mcp ");
        assert_eq!(
            (mcp.mode.as_str(), mcp.mcp_url.as_str()),
            ("mcp", "http://127.0.0.1:5000/mcp")
        );
        assert_eq!(kept("graphql", "").mode, "rest", "a mode not known");
        assert_eq!(
            kept("mcp", "https://ada:s3cret@mcp.example/mcp").mcp_url,
            "https://mcp.example/mcp"
        );
        assert_eq!(
            kept("mcp", "localhost:3000/mc").mcp_url,
            "localhost:3000/mc",
            "not a URL yet: kept as typed"
        );
        assert_eq!(kept("mcp", &"x".repeat(5000)).mcp_url.len(), URL_LIMIT);
    }
}
