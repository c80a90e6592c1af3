//! The service's variables: each profile's, kept by [`Profiles`](crate::Profiles) (plain values)
//! and the keychain (secret ones), resolved for every send and copy.

use crate::api::request::{quote, ApiRequest};
use crate::api::variables::{
    check_variable_name, check_variable_value, secret_account, Variable, VariableView, Variables,
    MASK,
};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings::config::Config;

use super::Service;

const NEEDS_PROFILE: &str =
    "Variables belong to a profile: save these settings as a profile first (or name one with --profile NAME).";

impl Service {
    /// The current profile's variables, secret values masked (none without a profile).
    pub fn variables(&self) -> Result<Vec<VariableView>> {
        let Some(profile) = self.profile() else {
            return Ok(Vec::new());
        };
        let secrets = &self.inner.options.secrets;
        self.profiles_file()?
            .variables(&profile)?
            .into_iter()
            .map(|v| {
                let value = if v.secret {
                    // An entry the keychain lost shows empty, so the user sees to set it again.
                    match secrets.load(&secret_account(&profile, &v.name))? {
                        Some(_) => MASK.to_owned(),
                        None => String::new(),
                    }
                } else {
                    v.value
                };
                Ok(VariableView {
                    name: v.name,
                    value,
                    secret: v.secret,
                })
            })
            .collect()
    }

    /// Sets variable `name` of the current profile to `value`: a secret one in the keychain only
    /// (written there before the profile names it), a plain one in the profiles file. A secret
    /// turned plain leaves the keychain. Bad input changes nothing.
    pub fn set_variable(&self, name: &str, value: &str, secret: bool) -> Result<Vec<VariableView>> {
        let profile = self.variable_profile()?;
        let name = check_variable_name(name)?;
        check_variable_value(value, secret)?;
        let secrets = &self.inner.options.secrets;
        let account = secret_account(&profile, &name);
        let file = self.profiles_file()?;
        // The profile must exist before the keychain is touched.
        file.variables(&profile)?;
        if secret {
            secrets.save(&account, &Secret::new(value.to_owned()))?;
            self.check_keychain();
        }
        let replaced = file.set_variable(
            &profile,
            &Variable {
                name: name.clone(),
                value: value.to_owned(),
                secret,
            },
        )?;
        if !secret && replaced.is_some_and(|v| v.secret) {
            secrets.delete(&account)?;
        }
        tracing::info!(variable = %name, secret, "variable set");
        self.variables()
    }

    /// The value of variable `name` of the current profile (a secret one from the keychain): only
    /// for the user who asked for it (`keyhole-cli var get`).
    pub fn variable_value(&self, name: &str) -> Result<Secret> {
        let profile = self.variable_profile()?;
        let list = self.profiles_file()?.variables(&profile)?;
        let Some(variable) = list.iter().find(|v| v.name == name.trim()) else {
            return Err(no_such_variable(&profile, name, &list));
        };
        if !variable.secret {
            return Ok(Secret::new(variable.value.clone()));
        }
        self.inner
            .options
            .secrets
            .load(&secret_account(&profile, &variable.name))?
            .ok_or_else(|| {
                Error::setting(
                    "variable",
                    format!(
                        "The keychain no longer has the value of secret variable {:?}; set it again.",
                        variable.name
                    ),
                )
            })
    }

    /// Deletes variable `name` of the current profile (a secret one's keychain entry too).
    /// Deleting nothing is not an error.
    pub fn forget_variable(&self, name: &str) -> Result<Vec<VariableView>> {
        let profile = self.variable_profile()?;
        if let Some(removed) = self.profiles_file()?.remove_variable(&profile, name)? {
            if removed.secret {
                self.inner
                    .options
                    .secrets
                    .delete(&secret_account(&profile, &removed.name))?;
            }
            tracing::info!(variable = %removed.name, "variable deleted");
        }
        self.variables()
    }

    /// The variables `request` may use: none when it has no `{{` (so a plain request reads
    /// neither the profiles file nor the keychain) or no profile is in use.
    pub(crate) fn variables_for(&self, request: &ApiRequest) -> Result<Variables> {
        let mut vars = Variables::new();
        let Some(profile) = self.profile() else {
            return Ok(vars);
        };
        let Some(file) = &self.inner.options.profiles else {
            return Ok(vars);
        };
        if !serde_json::to_string(request).is_ok_and(|text| text.contains("{{")) {
            return Ok(vars);
        }
        for v in file.variables(&profile)? {
            vars = if !v.secret {
                vars.plain(&v.name, &v.value)
            } else {
                match self
                    .inner
                    .options
                    .secrets
                    .load(&secret_account(&profile, &v.name))?
                {
                    Some(value) => vars.secret(&v.name, value),
                    None => vars.lost(&v.name),
                }
            };
        }
        Ok(vars)
    }

    /// Checks `request` as [`Service::send`] would before sending: its variables resolve and
    /// every part is valid. Nothing is sent; a front end calls it before a sign-in.
    pub fn check_request(&self, request: &ApiRequest) -> Result<()> {
        let vars = self.variables_for(request)?;
        vars.resolve(request)?
            .prepare()
            .map(drop)
            .map_err(|e| vars.redact_error(e))
    }

    /// `keyhole-cli var get` for this profile, without the variable's name (for curl commands).
    pub(crate) fn var_get_command(&self, config: &Config) -> String {
        let mut words = vec!["keyhole-cli".to_owned(), "var".to_owned(), "get".to_owned()];
        if let Some(profile) = &config.profile {
            words.extend(["--profile".to_owned(), quote(profile)]);
        }
        if self.inner.options.keychain_service != crate::Keychain::SERVICE {
            words.extend([
                "--keychain-service".to_owned(),
                quote(&self.inner.options.keychain_service),
            ]);
        }
        words.join(" ")
    }

    fn variable_profile(&self) -> Result<String> {
        self.profile()
            .ok_or_else(|| Error::setting("variable", NEEDS_PROFILE))
    }
}

fn no_such_variable(profile: &str, name: &str, list: &[Variable]) -> Error {
    let known: Vec<&str> = list.iter().map(|v| v.name.as_str()).collect();
    Error::setting(
        "variable",
        if known.is_empty() {
            format!(
                "Profile {profile:?} has no variable {:?}; it has none yet.",
                name.trim()
            )
        } else {
            format!(
                "Profile {profile:?} has no variable {:?}; it has {}.",
                name.trim(),
                known.join(", ")
            )
        },
    )
}
