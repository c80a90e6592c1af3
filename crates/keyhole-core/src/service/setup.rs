//! The set-up order, one rule for both front ends: settings with no instance get it from the
//! API's protected-resource metadata (RFC 9728); settings with no client ID get one by dynamic
//! registration (RFC 7591), or the one Keyhole registered before; a client Keyhole registered is
//! checked with the provider before a sign-in (RFC 7592) and registered again when forgotten —
//! and replaced once more (`registration::replace`) if the provider still answers
//! `invalid_client` during the sign-in.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::session::vault::SecretStore;
use crate::settings::config::Settings;
use crate::signin::registration::{self, Stored};
use crate::signin::resource;

/// Err naming `instance` when `settings` have none.
pub(super) fn require_instance(settings: &Settings) -> Result<()> {
    if settings.instance.trim().is_empty() {
        return Err(missing_instance());
    }
    Ok(())
}

fn missing_instance() -> Error {
    Error::setting(
        "instance",
        "give the Clerk instance (its Frontend API URL or publishable key).",
    )
}

/// `settings` completed for a sign-in, telling `notice` what was done on the user's behalf.
pub(super) async fn complete(
    http: &reqwest::Client,
    secrets: &Arc<dyn SecretStore>,
    settings: &Settings,
    notice: &(dyn Fn(String) + Sync),
) -> Result<Settings> {
    if settings.instance.trim().is_empty() {
        let api_url = settings.api_url.trim();
        if api_url.is_empty() {
            return Err(missing_instance());
        }
        notice(format!(
            "No instance given: asking the API at {api_url} where to sign in…"
        ));
        let setup = resource::set_up_from_api(http, secrets, api_url, settings).await?;
        notice(format!(
            "The API names {} as its authorization server; signing in for the resource {}.",
            setup.settings.instance, setup.settings.resource
        ));
        if let Some(note) = setup.note {
            notice(note);
        }
        return Ok(setup.settings);
    }
    let (completed, how) = registration::complete_settings(http, secrets, settings).await?;
    if let Some(note) = how.note(completed.instance.trim()) {
        notice(note);
    }
    Ok(completed)
}

/// Look up only: `settings` with the client Keyhole registered before with the instance, when
/// they name none. Err [`Error::NotRegistered`] when there is none.
pub(super) async fn stored(
    secrets: &Arc<dyn SecretStore>,
    settings: &Settings,
) -> Result<Settings> {
    match registration::stored_settings(secrets, settings).await? {
        Stored::Ready(settings, _) => Ok(settings),
        Stored::NotRegistered { issuer } => Err(Error::NotRegistered { issuer }),
    }
}
