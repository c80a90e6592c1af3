//! Profiles: named sets of settings ("local", "staging", "production") with their saved
//! requests, shared by the app and the CLI in one file, `profiles.json` in Keyhole's config
//! directory. Each profile has its own session in the keychain. Nothing secret is stored here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::request::ApiRequest;
use crate::api::variables::{self, Variable, MAX_VARIABLES};
use crate::error::{Error, Result};
use crate::settings::config::Settings;

/// The file format version written today.
const VERSION: u32 = 1;
/// Larger files are not Keyhole's.
const MAX_FILE: u64 = 4 * 1024 * 1024;
/// The longest profile name.
const MAX_NAME: usize = 64;
/// The longest name of a saved request, in characters.
const MAX_REQUEST_NAME: usize = 100;
/// The most requests one profile keeps.
const MAX_REQUESTS: usize = 200;

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
    /// Each profile's variables (a secret one's value is in the keychain, never here). Beside the
    /// profiles rather than in them, so saving a profile's settings never touches them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    variables: std::collections::BTreeMap<String, Vec<Variable>>,
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
        match profiles.iter().find(|p| p.name == name) {
            Some(profile) => Ok(profile.clone()),
            None => Err(no_such_profile(name, &profiles)),
        }
    }

    /// The request saved as `name` in profile `profile`; Err names the saved ones.
    pub fn request(&self, profile: &str, name: &str) -> Result<ApiRequest> {
        let requests = self.get(profile)?.requests;
        let wanted = name.trim();
        requests
            .iter()
            .find(|r| r.name.as_deref() == Some(wanted))
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = requests.iter().filter_map(|r| r.name.as_deref()).collect();
                Error::setting(
                    "savedRequest",
                    if known.is_empty() {
                        format!(
                            "Profile {profile:?} has no saved request {wanted:?}; it has none yet."
                        )
                    } else {
                        format!(
                            "Profile {profile:?} has no saved request {wanted:?}; it has {}.",
                            known.join(", ")
                        )
                    },
                )
            })
    }

    /// Saves `request` in profile `profile` under `name`, replacing (in place) one of that name.
    /// What is stored never holds a credential: the values of `Authorization`,
    /// `Proxy-Authorization` and `Cookie` headers are blanked first, and Keyhole's own token is
    /// never part of a request. Returns the profile's saved requests.
    pub fn save_request(
        &self,
        profile: &str,
        name: &str,
        request: &ApiRequest,
    ) -> Result<Vec<ApiRequest>> {
        let name = check_request_name(name)?;
        let mut stored = request.without_credentials();
        stored.name = Some(name.clone());
        let mut file = self.read()?;
        let target = find_mut(&mut file, profile)?;
        let full = target.requests.len() >= MAX_REQUESTS;
        match target
            .requests
            .iter_mut()
            .find(|r| r.name.as_deref() == Some(name.as_str()))
        {
            Some(existing) => *existing = stored,
            None if full => {
                return Err(Error::setting(
                    "savedRequest",
                    format!(
                    "Profile {profile:?} already keeps {MAX_REQUESTS} requests; delete one first."
                ),
                ))
            }
            None => target.requests.push(stored),
        }
        let requests = target.requests.clone();
        self.write(&file)?;
        Ok(requests)
    }

    /// Deletes the request saved as `name` in profile `profile` (deleting nothing is not an
    /// error). Returns the profile's saved requests.
    pub fn remove_request(&self, profile: &str, name: &str) -> Result<Vec<ApiRequest>> {
        let mut file = self.read()?;
        let target = find_mut(&mut file, profile)?;
        target
            .requests
            .retain(|r| r.name.as_deref() != Some(name.trim()));
        let requests = target.requests.clone();
        self.write(&file)?;
        Ok(requests)
    }

    /// Saves `profile` (its settings checked first, as a save outside a profile checks them: an
    /// empty client ID is kept, since the OAuth sign-in registers one), replacing one of the same
    /// name and keeping that one's saved requests when `profile` brings none.
    pub fn save(&self, mut profile: Profile) -> Result<()> {
        check_name(&profile.name)?;
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

    /// Removes the profile called `name` and its variables (removing nothing is not an error).
    pub fn remove(&self, name: &str) -> Result<()> {
        let mut file = self.read()?;
        file.profiles.retain(|p| p.name != name);
        file.variables.remove(name);
        self.write(&file)
    }

    /// The variables of profile `profile`, in the order added.
    pub fn variables(&self, profile: &str) -> Result<Vec<Variable>> {
        let mut file = self.read()?;
        find_mut(&mut file, profile)?;
        Ok(file.variables.remove(profile).unwrap_or_default())
    }

    /// Adds `variable` to profile `profile`, replacing (in place) one of its name. A secret one is
    /// stored without its value. Returns the variable it replaced, if any.
    pub(crate) fn set_variable(
        &self,
        profile: &str,
        variable: &Variable,
    ) -> Result<Option<Variable>> {
        let name = variables::check_variable_name(&variable.name)?;
        let stored = Variable {
            name,
            value: if variable.secret {
                String::new()
            } else {
                variable.value.clone()
            },
            secret: variable.secret,
        };
        let mut file = self.read()?;
        find_mut(&mut file, profile)?;
        let list = file.variables.entry(profile.to_owned()).or_default();
        let full = list.len() >= MAX_VARIABLES;
        let replaced = match list.iter_mut().find(|v| v.name == stored.name) {
            Some(existing) => Some(std::mem::replace(existing, stored)),
            None if full => {
                return Err(Error::setting(
                    "variable",
                    format!(
                    "Profile {profile:?} already has {MAX_VARIABLES} variables; delete one first."
                ),
                ))
            }
            None => {
                list.push(stored);
                None
            }
        };
        self.write(&file)?;
        Ok(replaced)
    }

    /// Removes variable `name` of profile `profile`; the one removed, if there was one.
    pub(crate) fn remove_variable(&self, profile: &str, name: &str) -> Result<Option<Variable>> {
        let mut file = self.read()?;
        find_mut(&mut file, profile)?;
        let Some(list) = file.variables.get_mut(profile) else {
            return Ok(None);
        };
        let Some(index) = list.iter().position(|v| v.name == name.trim()) else {
            return Ok(None);
        };
        let removed = list.remove(index);
        if list.is_empty() {
            file.variables.remove(profile);
        }
        self.write(&file)?;
        Ok(Some(removed))
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
        // The file system's or parser's words are the source, not repeated in the message.
        let broken = |source: Box<dyn std::error::Error + Send + Sync>| {
            Error::setting_from(
                "profile",
                format!(
                    "The profiles file {} could not be read; fix or remove it.",
                    self.path.display()
                ),
                source,
            )
        };
        let meta = match std::fs::metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(File {
                    v: VERSION,
                    ..File::default()
                })
            }
            Err(e) => return Err(broken(e.into())),
        };
        if meta.len() > MAX_FILE {
            return Err(unreadable("it is far too large".into()));
        }
        let text = std::fs::read_to_string(&self.path).map_err(|e| broken(e.into()))?;
        let file: File = serde_json::from_str(&text).map_err(|e| broken(e.into()))?;
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
            Error::setting_from(
                "profile",
                format!(
                    "The profiles file {} could not be written.",
                    self.path.display()
                ),
                e,
            )
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let text = serde_json::to_string_pretty(&File {
            v: VERSION,
            profiles: file.profiles.clone(),
            variables: file.variables.clone(),
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

fn no_such_profile(name: &str, profiles: &[Profile]) -> Error {
    let known: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    Error::setting(
        "profile",
        if known.is_empty() {
            format!(
                "There is no profile {name:?}; save one first (keyhole-cli profile save {name} …)."
            )
        } else {
            format!(
                "There is no profile {name:?}; the profiles are {}.",
                known.join(", ")
            )
        },
    )
}

fn find_mut<'a>(file: &'a mut File, name: &str) -> Result<&'a mut Profile> {
    match file.profiles.iter().position(|p| p.name == name) {
        Some(index) => Ok(&mut file.profiles[index]),
        None => Err(no_such_profile(name, &file.profiles)),
    }
}

/// A saved request's name, trimmed: 1–100 characters, none of them a control character.
fn check_request_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::setting(
            "savedRequest",
            "Give the request a name to save it under.",
        ));
    }
    if name.chars().count() > MAX_REQUEST_NAME || name.chars().any(char::is_control) {
        return Err(Error::setting(
            "savedRequest",
            format!("Use a name of up to {MAX_REQUEST_NAME} characters, on one line."),
        ));
    }
    Ok(name.to_owned())
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
    fn a_profile_keeps_an_empty_client_id_as_the_form_hint_promises() {
        // The form says "Empty: Keyhole registers itself": saving in a profile must not refuse it.
        let (_dir, profiles) = temp();
        let mut no_client = settings("http://127.0.0.1:4010");
        no_client.client_id = String::new();
        profiles
            .save(Profile {
                name: "fresh".into(),
                settings: no_client,
                requests: vec![],
            })
            .unwrap();
        assert_eq!(profiles.get("fresh").unwrap().settings.client_id, "");
        // A bad instance is still refused, by its own field.
        let mut bad = settings("not a url at all");
        bad.client_id = String::new();
        let error = profiles
            .save(Profile {
                name: "bad".into(),
                settings: bad,
                requests: vec![],
            })
            .unwrap_err();
        assert_eq!(error.field(), Some("instance"), "{error}");
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

    #[test]
    fn saved_requests_are_added_replaced_and_removed_without_credentials() {
        let (dir, profiles) = temp();
        let saved = |name: &str| Profile {
            name: name.into(),
            settings: settings("http://127.0.0.1:4010"),
            requests: vec![],
        };
        profiles.save(saved("a")).unwrap();
        // A file written before requests had names still reads.
        let mut request = ApiRequest::get(&"http://127.0.0.1:5000/echo".parse().unwrap());
        request.method = crate::api::request::Method::Post;
        request.headers = vec![
            crate::api::request::Pair::new("Authorization", "Bearer secret-token"),
            crate::api::request::Pair::new("X-Trace", "keep"),
        ];
        let list = profiles
            .save_request("a", "  echo post ", &request)
            .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].name.as_deref(), Some("echo post"));
        let text = std::fs::read_to_string(profiles.path()).unwrap();
        assert!(!text.contains("secret-token"), "{text}");
        assert!(text.contains("keep"), "{text}");
        // The same name replaces in place; another is appended.
        request.method = crate::api::request::Method::Put;
        profiles.save_request("a", "echo post", &request).unwrap();
        let list = profiles.save_request("a", "second", &request).unwrap();
        let names: Vec<_> = list.iter().filter_map(|r| r.name.clone()).collect();
        assert_eq!(names, ["echo post", "second"]);
        let one = profiles.request("a", "echo post").unwrap();
        assert_eq!(one.method, crate::api::request::Method::Put);
        // Saving the profile's settings again keeps them.
        profiles.save(saved("a")).unwrap();
        assert_eq!(profiles.get("a").unwrap().requests.len(), 2);
        let error = profiles.request("a", "nope").unwrap_err();
        assert_eq!(error.field(), Some("savedRequest"));
        assert!(error.to_string().contains("echo post, second"), "{error}");
        for bad in ["", "   ", "two\nlines", &"x".repeat(101)] {
            let error = profiles.save_request("a", bad, &request).unwrap_err();
            assert_eq!(error.field(), Some("savedRequest"), "{bad:?}");
        }
        let error = profiles.save_request("b", "x", &request).unwrap_err();
        assert_eq!(error.field(), Some("profile"));
        let list = profiles.remove_request("a", "echo post").unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(profiles.requests_named("a"), ["second"]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_file_from_before_names_reads_and_keeps_its_requests() {
        let (dir, profiles) = temp();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            profiles.path(),
            r#"{"v":1,"profiles":[{"name":"old","settings":{"instance":"http://127.0.0.1:4010","clientId":"c","apiUrl":"http://127.0.0.1:5000/x"},"requests":[{"method":"GET","url":"http://127.0.0.1:5000/x"}]}]}"#,
        )
        .unwrap();
        let old = profiles.get("old").unwrap();
        assert_eq!(old.requests.len(), 1);
        assert_eq!(old.requests[0].name, None);
        let list = profiles
            .save_request(
                "old",
                "new",
                &ApiRequest::get(&"http://127.0.0.1:5000/y".parse().unwrap()),
            )
            .unwrap();
        assert_eq!(list.len(), 2, "the unnamed one is kept");
        let _ = std::fs::remove_dir_all(dir);
    }

    impl Profiles {
        fn requests_named(&self, profile: &str) -> Vec<String> {
            self.get(profile)
                .unwrap()
                .requests
                .into_iter()
                .filter_map(|r| r.name)
                .collect()
        }
    }
}
