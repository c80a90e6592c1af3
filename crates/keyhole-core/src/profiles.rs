//! Profiles: named sets of settings ("local", "staging", "production") with their saved
//! requests, shared by the app and the CLI in one file, `profiles.json` in Keyhole's config
//! directory. Each profile has its own session in the keychain. Nothing secret is stored here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::request::ApiRequest;

/// The file format version written today.
const VERSION: u32 = 1;
/// Larger files are not Keyhole's.
const MAX_FILE: u64 = 4 * 1024 * 1024;
/// The longest profile name.
const MAX_NAME: usize = 64;

/// A named set of settings and saved requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The name, e.g. `staging`.
    pub name: String,
    /// Instance, client ID, scopes, redirect port, API URL.
    pub settings: Settings,
    /// Requests saved under this profile.
    #[serde(default)]
    pub requests: Vec<ApiRequest>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    v: u32,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// The profiles file.
#[derive(Debug, Clone)]
pub struct Profiles {
    path: PathBuf,
}

impl Profiles {
    /// `profiles.json` in `KEYHOLE_CONFIG_DIR`, else the platform's config directory
    /// (`$XDG_CONFIG_HOME/keyhole`, `~/.config/keyhole`, `%APPDATA%\keyhole`).
    pub fn open_default() -> Result<Profiles> {
        Ok(Profiles::at(config_dir()?.join("profiles.json")))
    }

    /// The profiles file at `path`.
    pub fn at(path: PathBuf) -> Profiles {
        Profiles { path }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every profile, in the order saved. A missing file is no profiles.
    pub fn list(&self) -> Result<Vec<Profile>> {
        Ok(self.read()?.profiles)
    }

    /// The profile called `name`; Err names the ones there are.
    pub fn get(&self, name: &str) -> Result<Profile> {
        let profiles = self.list()?;
        profiles
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
                Error::setting(
                    "profile",
                    if known.is_empty() {
                        format!("There is no profile {name:?}; save one first (keyhole-cli profile save {name} …).")
                    } else {
                        format!(
                            "There is no profile {name:?}; the profiles are {}.",
                            known.join(", ")
                        )
                    },
                )
            })
    }

    /// Saves `profile` (its settings checked first), replacing one of the same name and keeping
    /// that one's saved requests when `profile` brings none.
    pub fn save(&self, mut profile: Profile) -> Result<()> {
        check_name(&profile.name)?;
        profile.settings.validate()?;
        profile.settings = profile.settings.normalized()?;
        let mut file = self.read()?;
        match file.profiles.iter_mut().find(|p| p.name == profile.name) {
            Some(existing) => {
                if profile.requests.is_empty() {
                    profile.requests = std::mem::take(&mut existing.requests);
                }
                *existing = profile;
            }
            None => file.profiles.push(profile),
        }
        self.write(&file)
    }

    /// Removes the profile called `name` (removing nothing is not an error).
    pub fn remove(&self, name: &str) -> Result<()> {
        let mut file = self.read()?;
        file.profiles.retain(|p| p.name != name);
        self.write(&file)
    }

    fn read(&self) -> Result<File> {
        let unreadable = |why: String| {
            Error::setting(
                "profile",
                format!(
                    "The profiles file {} could not be read ({why}); fix or remove it.",
                    self.path.display()
                ),
            )
        };
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(File {
                    v: VERSION,
                    profiles: Vec::new(),
                })
            }
            Err(e) => return Err(unreadable(e.to_string())),
        };
        if meta.len() > MAX_FILE {
            return Err(unreadable("it is far too large".into()));
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| unreadable(e.to_string()))?;
        let file: File = serde_json::from_str(&text)
            .map_err(|e| unreadable(format!("line {}, column {}", e.line(), e.column())))?;
        if file.v > VERSION {
            return Err(unreadable(format!(
                "it was written by a newer Keyhole (format {})",
                file.v
            )));
        }
        Ok(file)
    }

    fn write(&self, file: &File) -> Result<()> {
        let failed = |e: std::io::Error| {
            Error::setting(
                "profile",
                format!(
                    "The profiles file {} could not be written ({e}).",
                    self.path.display()
                ),
            )
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text = serde_json::to_string_pretty(&File {
            v: VERSION,
            profiles: file.profiles.clone(),
        })
        .unwrap_or_default();
        // Written beside and renamed over, so a reader never sees half a file.
        let temp = self
            .path
            .with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&temp, text).map_err(failed)?;
        std::fs::rename(&temp, &self.path).map_err(failed)
    }
}

/// A profile name: 1–64 letters, digits, `-`, `_` or `.`.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > MAX_NAME
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(Error::setting(
            "profile",
            format!(
                "{name:?} is not a profile name; use up to {MAX_NAME} letters, digits, -, _ or ."
            ),
        ));
    }
    Ok(())
}

fn config_dir() -> Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(dir) = var("KEYHOLE_CONFIG_DIR") {
        return Ok(dir);
    }
    let base = if cfg!(windows) {
        var("APPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("keyhole")).ok_or_else(|| {
        Error::setting(
            "profile",
            "Keyhole could not find your config directory; set KEYHOLE_CONFIG_DIR to one.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (PathBuf, Profiles) {
        let dir = std::env::temp_dir().join(format!(
            "keyhole-profiles-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        (dir.clone(), Profiles::at(dir.join("profiles.json")))
    }

    fn settings(instance: &str) -> Settings {
        Settings {
            instance: instance.into(),
            client_id: "client".into(),
            api_url: "http://127.0.0.1:5000/protected-endpoint".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn profiles_are_saved_replaced_listed_and_removed() {
        let (dir, profiles) = temp();
        assert!(profiles.list().unwrap().is_empty(), "no file, no profiles");
        profiles
            .save(Profile {
                name: "local".into(),
                settings: settings("http://127.0.0.1:4010"),
                requests: vec![ApiRequest::get(
                    &"http://127.0.0.1:5000/echo".parse().unwrap(),
                )],
            })
            .unwrap();
        profiles
            .save(Profile {
                name: "staging".into(),
                settings: settings("https://clerk.staging.example.com"),
                requests: vec![],
            })
            .unwrap();
        // Saving again replaces the settings and keeps the saved requests.
        profiles
            .save(Profile {
                name: "local".into(),
                settings: settings("http://127.0.0.1:4011"),
                requests: vec![],
            })
            .unwrap();
        let local = profiles.get("local").unwrap();
        assert_eq!(local.settings.instance, "http://127.0.0.1:4011");
        assert_eq!(local.requests.len(), 1);
        let names: Vec<String> = profiles
            .list()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["local", "staging"]);
        profiles.remove("local").unwrap();
        let error = profiles.get("local").unwrap_err();
        assert_eq!(error.field(), Some("profile"));
        assert!(
            error.to_string().contains("the profiles are staging"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_names_settings_and_files_are_refused_and_change_nothing() {
        let (dir, profiles) = temp();
        for name in ["", "has space", "../escape", &"x".repeat(65)] {
            let error = profiles
                .save(Profile {
                    name: name.into(),
                    settings: settings("http://127.0.0.1:4010"),
                    requests: vec![],
                })
                .unwrap_err();
            assert_eq!(error.field(), Some("profile"), "{name:?}");
        }
        let error = profiles
            .save(Profile {
                name: "ok".into(),
                settings: settings("not an instance at all"),
                requests: vec![],
            })
            .unwrap_err();
        assert_eq!(error.field(), Some("instance"));
        assert!(!profiles.path().exists(), "nothing was written");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(profiles.path(), "{ not json").unwrap();
        let error = profiles.list().unwrap_err();
        assert!(error.to_string().contains("could not be read"), "{error}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
