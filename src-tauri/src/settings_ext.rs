//! Settings: read from `settings.json` (tauri-plugin-store, in the app data dir) at startup,
//! validated by keyhole-core before anything is saved, and filled from the local sandbox when
//! Keyhole runs against it. Nothing secret is ever stored here.
//!
//! The session that goes with the settings lives in `session_ext`; the `save_settings` command
//! tells it about a save.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use keyhole_core::{registration, resource, ApiRequest, Config, Profile, Profiles, Settings};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::StoreExt;

use crate::error::Result;
use crate::session_ext::SessionExt;

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
}

#[derive(Deserialize)]
struct ReadyLine {
    issuer: String,
    client_id: String,
    api: ReadyApi,
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

/// The profiles shared with keyhole-cli, and which one is current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesView {
    /// Every profile's name, in the order saved.
    pub names: Vec<String>,
    /// The current profile, if any.
    pub current: Option<String>,
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

/// The current settings.
pub struct SettingsManager {
    store_path: PathBuf,
    sandbox: Option<SandboxDefaults>,
    current: Mutex<Settings>,
    /// The profiles file (`profiles.json`, shared with keyhole-cli), when there is a config dir.
    profiles: Option<Profiles>,
    profile: Mutex<Option<String>>,
}

impl SettingsManager {
    /// Starts from what the store held (if anything), with the sandbox's values as defaults when
    /// the stored settings have no instance or name the sandbox's.
    pub fn new(
        store_path: PathBuf,
        stored: Stored,
        sandbox: Option<SandboxDefaults>,
        profiles: Option<Profiles>,
    ) -> SettingsManager {
        let settings = with_sandbox_defaults(stored.settings.unwrap_or_default(), sandbox.as_ref());
        SettingsManager {
            store_path,
            sandbox,
            current: Mutex::new(settings),
            profiles,
            profile: Mutex::new(stored.profile),
        }
    }

    /// Where the settings are stored (relative paths are inside the app data dir).
    pub fn store_path(&self) -> &Path {
        &self.store_path
    }

    fn lock(&self) -> MutexGuard<'_, Settings> {
        // Nothing panics while holding this lock; a poisoned one still holds consistent data.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current_profile(&self) -> Option<String> {
        self.profile
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The current settings.
    pub fn view(&self) -> SettingsView {
        let settings = self.lock().clone();
        let sandbox = self
            .sandbox
            .as_ref()
            .is_some_and(|s| s.is(&settings.instance));
        SettingsView {
            settings,
            sandbox,
            profile: self.current_profile(),
        }
    }

    /// The current settings, validated (in the current profile, whose session is its own); or
    /// the first invalid setting.
    pub fn config(&self) -> Result<Config> {
        let config = self.lock().validate()?;
        Ok(match self.current_profile() {
            Some(name) => config.in_profile(&name),
            None => config,
        })
    }

    fn profiles_file(&self) -> Result<&Profiles> {
        self.profiles.as_ref().ok_or_else(|| {
            keyhole_core::Error::InvalidSetting {
                field: "profile",
                message: "Keyhole could not find your config directory, where profiles are kept; set KEYHOLE_CONFIG_DIR to one.".into(),
                source: None,
            }
            .into()
        })
    }

    /// The profiles (shared with keyhole-cli) and the current one.
    pub fn profiles(&self) -> Result<ProfilesView> {
        let names = match &self.profiles {
            Some(profiles) => profiles.list()?.into_iter().map(|p| p.name).collect(),
            None => Vec::new(),
        };
        Ok(ProfilesView {
            names,
            current: self.current_profile(),
        })
    }

    /// Saves the current settings as profile `name` (its saved requests are kept) and makes it
    /// current. The profile's session is its own: the one of the settings before is kept.
    pub fn save_profile<R: Runtime>(&self, app: &AppHandle<R>, name: &str) -> Result<Config> {
        let settings = self.lock().clone();
        self.profiles_file()?.save(Profile {
            name: name.to_owned(),
            settings: settings.clone(),
            requests: Vec::new(),
        })?;
        self.write(app, &settings, Some(name))?;
        self.config()
    }

    /// The requests saved in the current profile (none without a profile).
    pub fn saved_requests(&self) -> Result<Vec<ApiRequest>> {
        match self.current_profile() {
            Some(name) => Ok(self.profiles_file()?.get(&name)?.requests),
            None => Ok(Vec::new()),
        }
    }

    /// Saves `request` as `name` in the current profile; the engine blanks any credential
    /// first. Returns the profile's saved requests.
    pub fn save_request(&self, name: &str, request: &ApiRequest) -> Result<Vec<ApiRequest>> {
        let profile = self.require_profile()?;
        Ok(self
            .profiles_file()?
            .save_request(&profile, name, request)?)
    }

    /// Deletes the request saved as `name` in the current profile. Returns the ones left.
    pub fn delete_saved_request(&self, name: &str) -> Result<Vec<ApiRequest>> {
        let profile = self.require_profile()?;
        Ok(self.profiles_file()?.remove_request(&profile, name)?)
    }

    fn require_profile(&self) -> Result<String> {
        self.current_profile().ok_or_else(|| {
            keyhole_core::Error::InvalidSetting {
                field: "savedRequest",
                message: "Requests are saved in a profile: save these settings as a profile first."
                    .into(),
                source: None,
            }
            .into()
        })
    }

    /// Makes profile `name` current (its settings become the current ones); `None` leaves
    /// profiles for the settings of no profile, as they are now.
    pub fn switch_profile<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        name: Option<&str>,
    ) -> Result<Config> {
        let settings = match name {
            Some(name) => self.profiles_file()?.get(name)?.settings,
            None => self.lock().clone(),
        };
        self.write(app, &settings, name)?;
        tracing::info!(profile = name.unwrap_or("(none)"), "profile switched");
        self.config()
    }

    /// Writes `settings` and `profile` to the store, then makes them current. A failed write
    /// changes nothing.
    fn write<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        settings: &Settings,
        profile: Option<&str>,
    ) -> Result<()> {
        let value = serde_json::to_value(settings).map_err(tauri_plugin_store::Error::from)?;
        let store = app.store(&self.store_path)?;
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
            tracing::warn!(%error, path = %self.store_path.display(), "could not save the settings");
            return Err(error.into());
        }
        *self.lock() = settings.clone();
        *self.profile.lock().unwrap_or_else(|e| e.into_inner()) = profile.map(str::to_owned);
        Ok(())
    }

    /// Validates and normalizes `input`, writes it to the store, then makes it current. Bad input
    /// or a failed write changes nothing. Returns the view and the validated configuration.
    pub fn save<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        input: &Settings,
    ) -> Result<(SettingsView, Config)> {
        input.validate()?;
        let settings = input.normalized()?;
        let profile = self.current_profile();
        // The current profile follows its edits, so keyhole-cli --profile sees them.
        if let Some(name) = &profile {
            self.profiles_file()?.save(Profile {
                name: name.clone(),
                settings: settings.clone(),
                requests: Vec::new(),
            })?;
        }
        self.write(app, &settings, profile.as_deref())?;
        let config = self.config()?;
        tracing::info!(issuer = %config.issuer, "settings saved");
        Ok((self.view(), config))
    }
}

/// How long one set-up request (metadata, discovery, registration) may take.
const SET_UP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// "Set up from this API": the engine reads the API's protected-resource metadata (RFC 9728),
/// checks it, discovers the authorization server and registers when no client ID is given;
/// the settings it returns (instance, client ID, resource) are saved and become current. Any
/// failure is one sentence and saves nothing.
pub async fn set_up_from_api<R: Runtime>(
    app: &AppHandle<R>,
    input: &Settings,
) -> Result<SetUpView> {
    let secrets = app.sessions().secrets();
    let setup = resource::set_up_from_api(
        &keyhole_core::http_client(SET_UP_TIMEOUT),
        &secrets,
        &input.api_url,
        input,
    )
    .await?;
    save_completed(app, &setup.settings, setup.note)
}

/// Settings with an instance but no client ID: the engine registers Keyhole with the provider
/// (RFC 7591), or reuses the client it registered before; the client ID is saved. A provider
/// without a registration endpoint is a `clientId` error and nothing is saved.
pub async fn register_client<R: Runtime>(
    app: &AppHandle<R>,
    input: &Settings,
) -> Result<SetUpView> {
    let secrets = app.sessions().secrets();
    let (settings, how) = registration::complete_settings(
        &keyhole_core::http_client(SET_UP_TIMEOUT),
        &secrets,
        input,
    )
    .await?;
    let note = how.note(settings.instance.trim());
    save_completed(app, &settings, note)
}

/// Before a sign-in: when the current client ID is the one Keyhole registered, the engine checks
/// the provider still knows it and registers again when it does not; the new client ID is saved
/// and the note returned. A client ID the user gave costs one keychain read and nothing else.
pub async fn recheck_registration<R: Runtime>(app: &AppHandle<R>) -> Result<Option<String>> {
    let current = app.settings().view().settings;
    let secrets = app.sessions().secrets();
    let (settings, how) = registration::complete_settings(
        &keyhole_core::http_client(SET_UP_TIMEOUT),
        &secrets,
        &current,
    )
    .await?;
    if how != registration::Registration::Replaced {
        return Ok(None);
    }
    Ok(save_completed(app, &settings, how.note(settings.instance.trim()))?.note)
}

fn save_completed<R: Runtime>(
    app: &AppHandle<R>,
    settings: &Settings,
    note: Option<String>,
) -> Result<SetUpView> {
    let (view, config) = app.settings().save(app, settings)?;
    app.sessions().settings_changed(app, &config);
    if let Some(note) = &note {
        tracing::info!(issuer = %config.issuer, "{note}");
    }
    Ok(SetUpView {
        settings: view,
        note,
    })
}

/// The stored settings, completed from the sandbox when they are empty or name it.
fn with_sandbox_defaults(stored: Settings, sandbox: Option<&SandboxDefaults>) -> Settings {
    let Some(sandbox) = sandbox else {
        return stored;
    };
    if stored.instance.trim().is_empty() {
        // Nothing chosen yet: the sandbox's instance with its own client and API.
        return Settings {
            instance: sandbox.issuer.clone(),
            client_id: sandbox.client_id.clone(),
            api_url: sandbox.api_url.clone(),
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

/// `app.settings()` from anything that can reach the app's state.
pub trait SettingsExt<R: Runtime> {
    /// The settings manager.
    fn settings(&self) -> &SettingsManager;
}

impl<R: Runtime, T: Manager<R>> SettingsExt<R> for T {
    fn settings(&self) -> &SettingsManager {
        self.state::<SettingsManager>().inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> SandboxDefaults {
        SandboxDefaults::from_ready_json(
            r#"{"issuer":"http://127.0.0.1:4000","client_id":"keyhole-sandbox",
                "api":{"lax":"http://127.0.0.1:5000/protected-endpoint","strict":"x"},
                "stats":"s","access_token_ttl":3600,"pid":1}"#,
        )
        .expect("ready JSON parses")
    }

    #[test]
    fn the_ready_line_gives_issuer_client_and_lax_api() {
        let sb = sandbox();
        assert_eq!(sb.issuer, "http://127.0.0.1:4000");
        assert_eq!(sb.client_id, "keyhole-sandbox");
        assert_eq!(sb.api_url, "http://127.0.0.1:5000/protected-endpoint");
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
