//! Dynamic client registration (RFC 7591): when the provider offers a `registration_endpoint`
//! and no client ID is given, Keyhole registers itself as a public native client and keeps the
//! client ID (and the registration access token, RFC 7592) in the keychain, one entry per
//! instance, reusing it from then on. When the provider no longer knows that client
//! (`invalid_client`, or a 401 from its RFC 7592 read), Keyhole registers again, once, and says so.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use crate::error::{Error, Result, Rule};
use crate::secret::Secret;
use crate::session::keeper::blocking;
use crate::session::vault::SecretStore;
use crate::settings::config::{Config, Settings};
use crate::signin::discovery::{self, ProviderMetadata};
use crate::signin::oauth_error::OAuthError;

/// The name Keyhole registers under.
pub const CLIENT_NAME: &str = "Keyhole";
/// The redirect URI registered: any port on the loopback interface (RFC 8252 §7.3).
const REDIRECT_URI: &str = "http://127.0.0.1/callback";
const RESPONSE_CAP: usize = 64 * 1024;
const FORMAT: u32 = 1;

/// A client Keyhole registered for itself. `Debug` leaves out the registration access token.
#[derive(Clone, Serialize, Deserialize)]
pub struct RegisteredClient {
    v: u32,
    /// The issuer it was registered with.
    pub issuer: String,
    /// The client ID the provider gave.
    pub client_id: String,
    registration_access_token: Option<Secret>,
    registration_client_uri: Option<String>,
}

impl std::fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// How the client in use came about, for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// The user gave a client ID.
    Given,
    /// Keyhole registered a new client just now.
    Registered,
    /// Keyhole reused the client it registered before.
    Reused,
    /// The provider no longer knew the stored client, so Keyhole registered a new one.
    Replaced,
    /// The user's Client ID Metadata Document is the client ID (the provider accepts them).
    MetadataDocument,
}

impl Registration {
    /// One plain sentence for the user, when there is something to say.
    pub fn note(self, issuer: &str) -> Option<String> {
        match self {
            Registration::Given | Registration::Reused => None,
            Registration::MetadataDocument => Some(format!(
                "Keyhole signs in to {issuer} with your Client ID Metadata Document as its client ID (no registration); its redirect_uris must name the redirect port exactly."
            )),
            Registration::Registered => Some(format!(
                "Keyhole registered itself as a client with {issuer} (no client ID was given) and will reuse it."
            )),
            Registration::Replaced => Some(format!(
                "The provider at {issuer} no longer knew Keyhole's registered client, so Keyhole registered again."
            )),
        }
    }
}

/// The keychain entry of an instance's registered client.
pub fn registration_account(issuer: &str) -> String {
    format!("registration@{issuer}")
}

/// Settings ready to validate: when `settings` has no client ID, the provider's registration
/// endpoint gives one (registered now, or reused from the keychain). Err, naming `clientId`,
/// when the provider offers no registration.
pub async fn complete_settings(
    http: &reqwest::Client,
    store: &Arc<dyn SecretStore>,
    settings: &Settings,
) -> Result<(Settings, Registration)> {
    let document =
        crate::settings::config::parse_client_metadata_url(&settings.client_metadata_url)?;
    let client_id = settings.client_id.trim();
    if document.as_ref().is_some_and(|d| d.as_str() == client_id) {
        return Ok((settings.clone(), Registration::MetadataDocument));
    }
    if !client_id.is_empty() && !registered_here(store, settings).await? {
        return Ok((settings.clone(), Registration::Given));
    }
    // No client ID, or the one Keyhole registered (a front end saved it in the settings): the
    // provider may have forgotten it since, so it goes the registration way (checked, or
    // registered again).
    // Validate everything else first (a placeholder client ID stands in).
    let probe = Settings {
        client_id: "registration-pending".into(),
        ..settings.clone()
    }
    .validate()?;
    let metadata = discovery::discover(http, &probe.issuer).await?;
    // The order MCP 2025-11-25 gives: a given client ID, then a metadata document where the
    // provider takes one, then registration.
    if let Some(document) = document.filter(|_| metadata.client_id_metadata_document_supported) {
        return Ok((
            Settings {
                client_id: document.to_string(),
                ..settings.clone()
            },
            Registration::MetadataDocument,
        ));
    }
    let (client, how) = client_for(http, store, &metadata).await?;
    Ok((
        Settings {
            client_id: client.client_id,
            ..settings.clone()
        },
        how,
    ))
}

/// True when `settings`' client ID is the one Keyhole registered with its instance (a keychain
/// read; no request).
async fn registered_here(store: &Arc<dyn SecretStore>, settings: &Settings) -> Result<bool> {
    let Ok(config) = settings.validate() else {
        return Ok(false); // Not Keyhole's to check: validation says what is wrong later.
    };
    Ok(load(store, &config.issuer)
        .await?
        .is_some_and(|stored| stored.client_id == config.client_id))
}

/// What [`stored_settings`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Settings with a client ID: the one given ([`Registration::Given`]) or the one Keyhole
    /// registered before ([`Registration::Reused`]).
    Ready(Settings, Registration),
    /// No client ID was given and Keyhole has registered none with this issuer, so there can be
    /// no session to look at.
    NotRegistered {
        /// The instance's issuer, as validated.
        issuer: String,
    },
}

/// Look up only: `settings` completed with the client Keyhole registered before with this
/// instance, read from the keychain. Never asks the provider and never registers: for commands
/// that only read or end a session (`status`, `sign-out`, `token`), where a new client could
/// have no session.
pub async fn stored_settings(store: &Arc<dyn SecretStore>, settings: &Settings) -> Result<Stored> {
    if !settings.client_id.trim().is_empty() {
        return Ok(Stored::Ready(settings.clone(), Registration::Given));
    }
    let issuer = Settings {
        client_id: "registration-pending".into(),
        ..settings.clone()
    }
    .validate()?
    .issuer;
    Ok(match load(store, &issuer).await? {
        Some(client) => Stored::Ready(
            Settings {
                client_id: client.client_id,
                ..settings.clone()
            },
            Registration::Reused,
        ),
        None => Stored::NotRegistered { issuer },
    })
}

/// The registered client for this provider: the stored one if it still exists, else a new one.
pub async fn client_for(
    http: &reqwest::Client,
    store: &Arc<dyn SecretStore>,
    metadata: &ProviderMetadata,
) -> Result<(RegisteredClient, Registration)> {
    let endpoint = metadata.registration_endpoint.as_ref().ok_or_else(|| {
        Error::setting(
            "clientId",
            format!(
                "The provider at {} does not let apps register themselves and no client ID was given; create an OAuth application in its dashboard (or turn on dynamic client registration) and give its client ID.",
                metadata.issuer
            ),
        )
    })?;
    if let Some(stored) = load(store, &metadata.issuer).await? {
        if still_known(http, &stored).await {
            return Ok((stored, Registration::Reused));
        }
        let client = register(http, metadata, endpoint).await?;
        save(store, &client).await?;
        return Ok((client, Registration::Replaced));
    }
    let client = register(http, metadata, endpoint).await?;
    save(store, &client).await?;
    Ok((client, Registration::Registered))
}

/// After the provider answered `invalid_client` for `config`'s client: when that is the client
/// Keyhole registered, registers again and returns the new client ID; None when it is the user's
/// own (wrong, and theirs to fix: the provider's refusal says so). Callers do this once per
/// attempt.
pub async fn replace(
    http: &reqwest::Client,
    store: &Arc<dyn SecretStore>,
    config: &Config,
) -> Result<Option<String>> {
    let stored = load(store, &config.issuer).await?;
    if stored.is_none_or(|s| s.client_id != config.client_id) {
        return Ok(None);
    }
    let metadata = discovery::discover(http, &config.issuer).await?;
    let endpoint = metadata.registration_endpoint.as_ref().ok_or_else(|| {
        Error::setting(
            "clientId",
            "The provider no longer knows Keyhole's registered client and no longer lets apps register; give a client ID.",
        )
    })?;
    let client = register(http, &metadata, endpoint).await?;
    save(store, &client).await?;
    Ok(Some(client.client_id))
}

/// RFC 7592 §2.1: reads the client's registration; false only when the provider says it does
/// not know it (401/403/404). Without a registration access token, or on any other answer, the
/// client is assumed to exist (the token endpoint will tell otherwise).
async fn still_known(http: &reqwest::Client, client: &RegisteredClient) -> bool {
    let (Some(token), Some(uri)) = (
        &client.registration_access_token,
        &client.registration_client_uri,
    ) else {
        return true;
    };
    let Ok(uri) = Url::parse(uri) else {
        return true;
    };
    match http.get(uri).bearer_auth(token.secret()).send().await {
        Ok(response) => !matches!(response.status().as_u16(), 401 | 403 | 404),
        Err(_) => true,
    }
}

/// RFC 7591 §3.1: registers a public native client with a loopback redirect.
pub(crate) async fn register(
    http: &reqwest::Client,
    metadata: &ProviderMetadata,
    endpoint: &Url,
) -> Result<RegisteredClient> {
    const WHAT: &str = "the registration endpoint";
    let mut grant_types = vec!["authorization_code", "refresh_token"];
    if metadata.device_authorization_endpoint.is_some() {
        grant_types.push(crate::tokens::grant::DEVICE_CODE_GRANT);
    }
    let request = json!({
        "client_name": CLIENT_NAME,
        "application_type": "native",
        "token_endpoint_auth_method": "none",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": grant_types,
        "response_types": ["code"],
    });
    let request = http.post(endpoint.clone()).json(&request);
    let (status, body, truncated) =
        crate::http::post_for_json(request, endpoint.as_str(), RESPONSE_CAP, WHAT).await?;
    if !status.is_success() {
        let refusal = OAuthError::from_refusal(&body, status.as_u16());
        return Err(Error::RegistrationRefused {
            error: refusal.error,
            description: refusal.description,
        });
    }
    if truncated {
        return Err(bad_answer("it is far larger than any registration answer"));
    }
    parse_response(&body, &metadata.issuer, endpoint)
}

fn bad_answer(why: &str) -> Error {
    Error::refused(
        Rule::RegistrationResponse,
        format!("The provider's answer to Keyhole's registration is not usable ({why}), so nothing was stored; give a client ID instead."),
    )
}

/// RFC 7591 §3.2.1, checked. Nothing of the body is quoted (it may hold a token).
pub(crate) fn parse_response(
    body: &[u8],
    issuer: &str,
    endpoint: &Url,
) -> Result<RegisteredClient> {
    let members = crate::http::json_object(body, bad_answer)?;
    let client_id = match members.get("client_id") {
        Some(Value::String(id))
            if !id.is_empty()
                && id.len() <= 256
                && id.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            id.clone()
        }
        Some(_) => return Err(bad_answer("its client_id is not a client ID")),
        None => return Err(bad_answer("it has no client_id")),
    };
    match members
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => {}
        Some(_) => return Err(bad_answer(
            "it made Keyhole a confidential client with a secret, which a desktop app cannot keep",
        )),
    }
    let token = members
        .get("registration_access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.len() <= 4096)
        .map(|t| Secret::new(t.to_owned()));
    // The registration access token only ever goes back to the registration endpoint's origin.
    let uri = members
        .get("registration_client_uri")
        .and_then(Value::as_str)
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| u.origin() == endpoint.origin())
        .map(String::from);
    Ok(RegisteredClient {
        v: FORMAT,
        issuer: issuer.to_owned(),
        client_id,
        registration_access_token: token.filter(|_| uri.is_some()),
        registration_client_uri: uri,
    })
}

async fn load(store: &Arc<dyn SecretStore>, issuer: &str) -> Result<Option<RegisteredClient>> {
    let (store, account) = (store.clone(), registration_account(issuer));
    let text = blocking(move || store.load(&account)).await?;
    // An entry that is not ours is ignored (and replaced by the next registration).
    Ok(text
        .and_then(|t| serde_json::from_str::<RegisteredClient>(t.secret()).ok())
        .filter(|c| c.v == FORMAT && c.issuer == issuer))
}

async fn save(store: &Arc<dyn SecretStore>, client: &RegisteredClient) -> Result<()> {
    let text = serde_json::to_string(client)
        .map(Secret::new)
        .map_err(|e| Error::keychain("the registration could not be written", e))?;
    let (store, account) = (store.clone(), registration_account(&client.issuer));
    blocking(move || store.save(&account, &text)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Url {
        Url::parse("https://clerk.example.com/oauth/register").unwrap()
    }

    #[test]
    fn an_answer_without_client_id_is_refused_by_rule() {
        for body in [
            json!({"client_name": "Keyhole"}),
            json!({"client_id": ""}),
            json!({"client_id": 42}),
            json!({"client_id": "has space"}),
        ] {
            let err = parse_response(
                body.to_string().as_bytes(),
                "https://clerk.example.com",
                &endpoint(),
            )
            .unwrap_err();
            assert_eq!(
                err.rule(),
                Some(Rule::RegistrationResponse),
                "{body}: {err}"
            );
        }
    }

    #[test]
    fn a_confidential_registration_is_refused() {
        let body = json!({"client_id": "abc", "client_secret": "s3cr3t-value", "token_endpoint_auth_method": "client_secret_basic"});
        let err = parse_response(
            body.to_string().as_bytes(),
            "https://clerk.example.com",
            &endpoint(),
        )
        .unwrap_err();
        assert_eq!(err.rule(), Some(Rule::RegistrationResponse));
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }

    #[test]
    fn a_registration_client_uri_on_another_origin_is_dropped_with_its_token() {
        let body = json!({"client_id": "abc", "registration_access_token": "rat-123",
                          "registration_client_uri": "https://evil.test/oauth/register/abc"});
        let client = parse_response(
            body.to_string().as_bytes(),
            "https://clerk.example.com",
            &endpoint(),
        )
        .unwrap();
        assert_eq!(client.client_id, "abc");
        assert!(client.registration_access_token.is_none());
        assert!(!format!("{client:?}").contains("rat-123"));
    }
}
