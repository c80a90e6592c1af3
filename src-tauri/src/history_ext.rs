//! The history of the last [`HISTORY_LIMIT`] requests, in `history.json` (tauri-plugin-store, in
//! the app data dir). An entry is the request as the user shaped it (credential header values
//! blanked by the engine's [`ApiRequest::without_credentials`]) plus a summary of what came back:
//! status, time, size, or the kind of error, and which kind of token it carried. Never a token,
//! never a response body. Each entry belongs to the profile it was sent from: the window lists
//! and clears one profile's at a time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use keyhole_core::{ApiRequest, ApiResult, Credential, Error as CoreError};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::error::Result;

/// The history file; a relative path is resolved inside the app data dir.
pub const HISTORY_FILE: &str = "history.json";
/// How many requests are kept.
pub const HISTORY_LIMIT: usize = 100;
/// The key holding the entries, newest first.
const STORE_KEY: &str = "entries";

/// One sent request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Unique within this history.
    pub id: u64,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub at: u64,
    /// The method.
    pub method: String,
    /// The URL with its query parameters.
    pub url: String,
    /// The HTTP status, when the API answered.
    pub status: Option<u16>,
    /// The total time, when the API answered.
    pub elapsed_ms: Option<u64>,
    /// The error's kind when it did not (`api_timeout`, `cancelled`, `api_unreachable`, …).
    pub error: Option<String>,
    /// The reason phrase the API sent with its status, when it answered.
    #[serde(default)]
    pub reason: Option<String>,
    /// The body's size in bytes, when the API answered.
    #[serde(default)]
    pub size: Option<u64>,
    /// The kind of token the request carried (`none`: no token); None in entries from before.
    #[serde(default)]
    pub token_type: Option<Credential>,
    /// The profile it was sent from.
    pub profile: Option<String>,
    /// The request, to open it again.
    pub request: ApiRequest,
}

/// The history, kept in memory and written through to its store file.
pub struct HistoryManager {
    path: PathBuf,
    entries: Mutex<Vec<HistoryEntry>>,
    next_id: AtomicU64,
}

impl HistoryManager {
    /// Reads the history at `path`; an unreadable one is logged and starts empty.
    pub fn load<R: Runtime>(app: &impl Manager<R>, path: &Path) -> Result<HistoryManager> {
        let store = app.store(path)?;
        let entries: Vec<HistoryEntry> = store
            .get(STORE_KEY)
            .and_then(
                |value| match serde_json::from_value::<Vec<HistoryEntry>>(value) {
                    Ok(entries) => Some(entries),
                    Err(error) => {
                        tracing::warn!(%error, "ignoring an unreadable request history");
                        None
                    }
                },
            )
            .unwrap_or_default();
        let next_id = entries.iter().map(|e| e.id).max().unwrap_or(0) + 1;
        Ok(HistoryManager {
            path: path.to_path_buf(),
            entries: Mutex::new(entries),
            next_id: AtomicU64::new(next_id),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Vec<HistoryEntry>> {
        // Held only for a copy or an insert; a poisoned lock still holds consistent data.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entries sent from `profile` (None: from no profile), newest first.
    pub fn list_for(&self, profile: Option<&str>) -> Vec<HistoryEntry> {
        self.lock()
            .iter()
            .filter(|e| e.profile.as_deref() == profile)
            .cloned()
            .collect()
    }

    /// Adds what `request` got. A request refused before it was sent (a bad header, invalid
    /// JSON) is not history. A failed write is logged: the call itself succeeded.
    pub fn record<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        request: &ApiRequest,
        profile: Option<String>,
        outcome: &std::result::Result<ApiResult, crate::Error>,
    ) {
        let Ok(prepared) = request.prepare() else {
            return;
        };
        let (status, elapsed_ms, error, reason, size) = match outcome {
            Ok(result) => (
                Some(result.response.status),
                Some(result.response.elapsed_ms),
                None,
                Some(result.response.reason.clone()).filter(|r| !r.is_empty()),
                Some(result.response.size),
            ),
            Err(crate::Error::Core(CoreError::InvalidSetting { .. })) => return,
            Err(error) => (None, None, Some(error.kind().to_owned()), None, None),
        };
        let entry = HistoryEntry {
            id: self.next_id.fetch_add(1, Ordering::SeqCst),
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            method: prepared.method().as_str().to_owned(),
            url: prepared.url().to_string(),
            status,
            elapsed_ms,
            error,
            reason,
            size,
            token_type: Some(prepared.credential()),
            profile,
            request: request.without_credentials(),
        };
        let entries = {
            let mut entries = self.lock();
            entries.insert(0, entry);
            entries.truncate(HISTORY_LIMIT);
            entries.clone()
        };
        self.write(app, &entries);
    }

    /// Forgets the entries sent from `profile`; the other profiles' stay.
    pub fn clear_for<R: Runtime>(&self, app: &AppHandle<R>, profile: Option<&str>) {
        let entries = {
            let mut entries = self.lock();
            entries.retain(|e| e.profile.as_deref() != profile);
            entries.clone()
        };
        self.write(app, &entries);
    }

    fn write<R: Runtime>(&self, app: &AppHandle<R>, entries: &[HistoryEntry]) {
        let written = app.store(&self.path).and_then(|store| {
            store.set(STORE_KEY, serde_json::to_value(entries)?);
            store.save()
        });
        if let Err(error) = written {
            tracing::warn!(%error, path = %self.path.display(), "could not save the request history");
        }
    }
}

/// `app.history()` from anything that can reach the app's state.
pub trait HistoryExt<R: Runtime> {
    /// The request history.
    fn history(&self) -> &HistoryManager;
}

impl<R: Runtime, T: Manager<R>> HistoryExt<R> for T {
    fn history(&self) -> &HistoryManager {
        self.state::<HistoryManager>().inner()
    }
}
