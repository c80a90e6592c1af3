//! Settings: read from `settings.json` (tauri-plugin-store, in the app data dir) at startup and
//! written there by the engine's service (through [`SettingsFile`]) after it validated them, and
//! filled from the local sandbox when Keyhole runs against it. Nothing secret is ever stored here.

use std::path::{Path, PathBuf};

use keyhole_core::{Service, Settings};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::error::Result;

/// The store file; a relative path is resolved inside the app data dir.
pub const STORE_FILE: &str = "settings.json";
/// The key holding the [`Settings`] object in the store.
const STORE_KEY: &str = "settings";
/// The key holding the name of the current profile (absent: no profile).
const PROFILE_KEY: &str = "profile";
/// Environment variable naming a file that holds the sandbox's ready JSON.
pub const SANDBOX_ENV: &str = "KEYHOLE_SANDBOX";

/// What Keyhole takes from the local sandbox (`sandbox/sandbox.mjs`'s ready line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxDefaults {
    /// The provider's issuer, used as the instance.
    pub issuer: String,
    /// Its public client.
    pub client_id: String,
    /// The API that accepts OAuth tokens (`api.lax`).
    pub api_url: String,
    /// The Backend API stand-in (`bapi`), for test sessions, API keys and M2M tokens.
    pub backend_api: String,
}

#[derive(Deserialize)]
struct ReadyLine {
    issuer: String,
    client_id: String,
    api: ReadyApi,
    #[serde(default)]
    bapi: String,
}

#[derive(Deserialize)]
struct ReadyApi {
    lax: String,
}

impl SandboxDefaults {
    /// Parses the sandbox's ready JSON; unknown fields are ignored.
    pub fn from_ready_json(text: &str) -> serde_json::Result<SandboxDefaults> {
        let ready: ReadyLine = serde_json::from_str(text.trim())?;
        Ok(SandboxDefaults {
            issuer: ready.issuer.trim_end_matches('/').to_owned(),
            client_id: ready.client_id,
            api_url: ready.api.lax,
            backend_api: ready.bapi,
        })
    }

    /// Reads the file named by `KEYHOLE_SANDBOX`. A missing or broken file is logged and ignored:
    /// the app then starts with the stored settings only.
    pub fn from_env() -> Option<SandboxDefaults> {
        let path = PathBuf::from(std::env::var_os(SANDBOX_ENV)?);
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| Self::from_ready_json(&text).map_err(|e| e.to_string()));
        match parsed {
            Ok(sandbox) => {
                tracing::info!(issuer = %sandbox.issuer, "sandbox mode available");
                Some(sandbox)
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring {SANDBOX_ENV}");
                None
            }
        }
    }

    /// True when `instance` names this sandbox's provider.
    fn is(&self, instance: &str) -> bool {
        instance.trim().trim_end_matches('/') == self.issuer
    }
}

/// The settings as the UI sees them: the [`Settings`] plus whether they are the sandbox's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// The settings.
    #[serde(flatten)]
    pub settings: Settings,
    /// True when the instance is the local sandbox named by `KEYHOLE_SANDBOX`.
    pub sandbox: bool,
    /// The profile these settings belong to, if any (each profile has a session of its own).
    pub profile: Option<String>,
}

/// What a set-up saved (settings completed by the engine) and what to tell the user about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetUpView {
    /// The settings now saved.
    pub settings: SettingsView,
    /// One sentence about a registration (new, or replacing a forgotten one), if there was one.
    pub note: Option<String>,
}

/// The sandbox the app was started with, if any (managed state).
pub struct Sandbox(pub Option<SandboxDefaults>);

/// The settings in force, as the UI sees them.
pub fn view<R: Runtime>(app: &AppHandle<R>) -> SettingsView {
    let service = app.state::<Service>();
    let settings = service.settings();
    let sandbox = app
        .try_state::<Sandbox>()
        .and_then(|s| s.0.as_ref().map(|sb| sb.is(&settings.instance)))
        .unwrap_or(false);
    SettingsView {
        settings,
        sandbox,
        profile: service.profile(),
    }
}

/// What a set-up did, as the UI sees it.
pub fn set_up_view<R: Runtime>(app: &AppHandle<R>, done: keyhole_core::SetUp) -> SetUpView {
    SetUpView {
        settings: view(app),
        note: done.note,
    }
}

/// `settings.json` as the service's settings store. A failed save puts back what was there.
pub struct SettingsFile<R: Runtime> {
    /// The app, whose store plugin holds the file.
    pub app: AppHandle<R>,
    /// The store file (relative: inside the app data dir).
    pub path: PathBuf,
}

impl<R: Runtime> keyhole_core::SettingsStore for SettingsFile<R> {
    fn write(&self, settings: &Settings, profile: Option<&str>) -> keyhole_core::Result<()> {
        let failed = |e: tauri_plugin_store::Error| keyhole_core::Error::SettingsStore(Box::new(e));
        let value = serde_json::to_value(settings)
            .map_err(|e| failed(tauri_plugin_store::Error::from(e)))?;
        let store = self.app.store(&self.path).map_err(failed)?;
        let previous = (store.get(STORE_KEY), store.get(PROFILE_KEY));
        store.set(STORE_KEY, value);
        match profile {
            Some(name) => store.set(PROFILE_KEY, name),
            None => {
                store.delete(PROFILE_KEY);
            }
        }
        if let Err(error) = store.save() {
            for (key, old) in [(STORE_KEY, previous.0), (PROFILE_KEY, previous.1)] {
                match old {
                    Some(old) => store.set(key, old),
                    None => {
                        store.delete(key);
                    }
                }
            }
            tracing::warn!(%error, path = %self.path.display(), "could not save the settings");
            return Err(failed(error));
        }
        Ok(())
    }
}

/// The stored settings, completed from the sandbox when they are empty or name it.
pub fn with_sandbox_defaults(stored: Settings, sandbox: Option<&SandboxDefaults>) -> Settings {
    let Some(sandbox) = sandbox else {
        return stored;
    };
    if stored.instance.trim().is_empty() {
        // Nothing chosen yet: the sandbox's instance with its own client and API.
        return Settings {
            instance: sandbox.issuer.clone(),
            client_id: sandbox.client_id.clone(),
            api_url: sandbox.api_url.clone(),
            backend_api: sandbox.backend_api.clone(),
            ..stored
        };
    }
    if !sandbox.is(&stored.instance) {
        return stored;
    }
    let or = |value: String, default: &str| {
        if value.trim().is_empty() {
            default.to_owned()
        } else {
            value
        }
    };
    Settings {
        client_id: or(stored.client_id, &sandbox.client_id),
        api_url: or(stored.api_url, &sandbox.api_url),
        backend_api: or(stored.backend_api, &sandbox.backend_api),
        ..stored
    }
}

/// What the settings store held at startup.
#[derive(Debug, Default)]
pub struct Stored {
    /// The current settings.
    pub settings: Option<Settings>,
    /// The current profile's name.
    pub profile: Option<String>,
}

/// Reads the stored settings at startup. An unreadable entry is logged and treated as absent.
pub fn load_stored<R: Runtime>(app: &impl Manager<R>, path: &Path) -> Result<Stored> {
    let store = app.store(path)?;
    Ok(Stored {
        settings: store.get(STORE_KEY).and_then(|value| {
            match serde_json::from_value::<Settings>(value) {
                Ok(settings) => Some(settings),
                Err(error) => {
                    tracing::warn!(%error, "ignoring unreadable stored settings");
                    None
                }
            }
        }),
        profile: store
            .get(PROFILE_KEY)
            .and_then(|value| value.as_str().map(str::to_owned)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> SandboxDefaults {
        SandboxDefaults::from_ready_json(
            r#"{"issuer":"http://127.0.0.1:4000","client_id":"keyhole-sandbox",
                "api":{"lax":"http://127.0.0.1:5000/protected-endpoint","strict":"x"},
                "stats":"s","access_token_ttl":3600,"pid":1,"bapi":"http://127.0.0.1:4001"}"#,
        )
        .expect("ready JSON parses")
    }

    #[test]
    fn the_ready_line_gives_issuer_client_and_lax_api() {
        let sb = sandbox();
        assert_eq!(sb.issuer, "http://127.0.0.1:4000");
        assert_eq!(sb.client_id, "keyhole-sandbox");
        assert_eq!(sb.api_url, "http://127.0.0.1:5000/protected-endpoint");
        assert_eq!(sb.backend_api, "http://127.0.0.1:4001");
        assert!(SandboxDefaults::from_ready_json("{}").is_err());
    }

    #[test]
    fn nothing_stored_takes_every_sandbox_value() {
        let s = with_sandbox_defaults(
            Settings {
                scopes: "openid".into(),
                ..Default::default()
            },
            Some(&sandbox()),
        );
        assert_eq!(s.instance, "http://127.0.0.1:4000");
        assert_eq!(s.client_id, "keyhole-sandbox");
        assert_eq!(s.api_url, "http://127.0.0.1:5000/protected-endpoint");
        assert_eq!(s.scopes, "openid");
    }

    #[test]
    fn stored_sandbox_settings_keep_their_values_and_fill_blanks() {
        let stored = Settings {
            instance: "http://127.0.0.1:4000/".into(),
            client_id: "mine".into(),
            ..Default::default()
        };
        let s = with_sandbox_defaults(stored, Some(&sandbox()));
        assert_eq!(s.client_id, "mine");
        assert_eq!(s.api_url, "http://127.0.0.1:5000/protected-endpoint");
    }

    #[test]
    fn another_instance_is_left_alone() {
        let stored = Settings {
            instance: "https://clerk.example.com".into(),
            ..Default::default()
        };
        assert_eq!(
            with_sandbox_defaults(stored.clone(), Some(&sandbox())),
            stored
        );
        assert_eq!(
            with_sandbox_defaults(Settings::default(), None),
            Settings::default()
        );
    }
}
