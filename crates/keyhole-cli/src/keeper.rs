//! Building the session keeper, signing in through the browser, and turning errors into exit codes.

use std::sync::Arc;
use std::time::Duration;

use keyhole_core::{
    Browser, CancellationToken, CommandBrowser, CurlToken, Error, KeychainOrMemory, Keyhole,
    Profiles, Progress, SecretStore, Session, SessionKeeper, SignInOptions, SystemBrowser,
};

use crate::cli::{SettingsArgs, SignInArgs};
use crate::output::err;

pub const EXIT_HTTP_ERROR: u8 = 1;
pub const EXIT_SETTINGS: u8 = 2;
pub const EXIT_SIGN_IN: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;
pub const EXIT_CANCELLED: u8 = 130;

/// A keeper for `settings`, keeping the session in the system keychain, or in memory for this
/// run when there is none (said once, on stderr, when it is first found missing).
pub fn keeper(args: &SettingsArgs, api_url: Option<&str>) -> Result<SessionKeeper, u8> {
    let profile = match &args.profile {
        Some(name) => Some(
            Profiles::open_default()
                .and_then(|profiles| profiles.get(name))
                .map_err(|e| fail(&e))?,
        ),
        None => None,
    };
    let mut config = args
        .to_settings(profile.as_ref(), api_url)
        .validate()
        .map_err(|e| fail(&e))?;
    if let Some(profile) = &profile {
        config = config.in_profile(&profile.name);
    }
    for (flag, urls) in [
        ("trust-endpoint-origin", &args.trust_endpoint_origin),
        ("allow-cleartext-api", &args.allow_cleartext_api),
    ] {
        for url in urls {
            let Ok(parsed) = url::Url::parse(url.trim()) else {
                err!("error: --{flag}: {url:?} is not a URL; give an origin such as https://auth.example.com");
                return Err(EXIT_SETTINGS);
            };
            config = match flag {
                "trust-endpoint-origin" => config.trust_endpoint_origin(&parsed),
                _ => config.allow_cleartext_api(&parsed),
            };
        }
    }
    let store: Arc<dyn SecretStore> = Arc::new(KeychainOrMemory::new(&args.keychain_service));
    Ok(SessionKeeper::new(Keyhole::new(config), store))
}

/// Says so when the keychain turned out to be missing (after the keeper first used it).
pub fn note_keychain(keeper: &SessionKeeper) {
    if let Some(reason) = keeper.store().unavailable() {
        err!("Note: {reason}; the session is kept for this run only.");
    }
}

/// Signs in through the browser (or `--browser-command`). Ctrl-C is handled by `main`.
pub async fn sign_in(keeper: &SessionKeeper, args: &SignInArgs) -> Result<Session, u8> {
    let browser: Arc<dyn Browser> = match args
        .browser_command
        .as_deref()
        .and_then(CommandBrowser::parse)
    {
        Some(browser) => Arc::new(browser),
        None => Arc::new(SystemBrowser),
    };
    let options = SignInOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        cancel: CancellationToken::new(),
    };
    let session = keeper
        .sign_in(browser.as_ref(), &options, &report)
        .await
        .map_err(|e| fail(&e))?;
    note_keychain(keeper);
    let summary = session.summary();
    err!(
        "Signed in as {}{}.",
        summary.subject.as_deref().unwrap_or("an unnamed user"),
        summary
            .email
            .as_deref()
            .map(|e| format!(" <{e}>"))
            .unwrap_or_default()
    );
    if matches!(summary.access_token, keyhole_core::AccessTokenView::Opaque) {
        err!("The access token is opaque (not a JWT): it is sent as-is and cannot be decoded.");
    }
    Ok(session)
}

fn report(progress: Progress) {
    match progress {
        Progress::OpeningBrowser { .. } => err!("Opening your browser to sign in…"),
        Progress::Waiting { url } => {
            err!("Waiting for you to finish signing in in the browser (Ctrl-C to cancel).");
            err!("If no browser opened, visit: {url}");
        }
        Progress::BrowserFailed { url, message } => {
            err!("Could not open a browser: {message}");
            err!("Open this URL yourself to sign in: {url}");
        }
        Progress::Exchanging => err!("Signing in…"),
    }
}

/// Prints the error and returns its exit code, chosen by the error's kind.
pub fn fail(error: &Error) -> u8 {
    match error.kind() {
        "invalid_setting" => {
            err!(
                "error: --{}: {error}",
                flag_name(error.field().unwrap_or_default())
            );
            EXIT_SETTINGS
        }
        "cancelled" => {
            err!("Sign-in cancelled.");
            EXIT_CANCELLED
        }
        "api_unreachable" | "api_timeout" => {
            err!("error: {error}");
            EXIT_UNREACHABLE
        }
        _ => {
            err!("error: {error}");
            EXIT_SIGN_IN
        }
    }
}

fn flag_name(field: &str) -> &'static str {
    match field {
        "instance" => "instance",
        "clientId" => "client-id",
        "scopes" => "scopes",
        "redirectPort" => "redirect-port",
        "profile" => "profile",
        "method" => "request",
        "headers" => "header",
        "body" => "data",
        "timeout" => "max-time",
        "query" | "apiUrl" => "api-url",
        _ => "api-url",
    }
}

/// The `keyhole-cli token …` command that prints this session's token, for a copied curl
/// command: the same profile, instance and client, and the keychain service when not the default.
pub fn token_command(keeper: &SessionKeeper, args: &SettingsArgs) -> CurlToken {
    CurlToken::command_for(keeper.keyhole().config(), &args.keychain_service)
}
