//! Building the session keeper, signing in through the browser, and turning errors into exit codes.

use std::sync::Arc;
use std::time::Duration;

use keyhole_core::{
    Browser, CancellationToken, CommandBrowser, Error, Keychain, Keyhole, MemoryStore, Progress,
    SecretStore, Session, SessionKeeper, SignInOptions, SystemBrowser,
};

use crate::cli::{SettingsArgs, SignInArgs};

pub const EXIT_HTTP_ERROR: u8 = 1;
pub const EXIT_SETTINGS: u8 = 2;
pub const EXIT_SIGN_IN: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;
pub const EXIT_CANCELLED: u8 = 130;

/// A keeper for `settings`, keeping secrets in the system keychain, or in memory for this run
/// when there is none (said once, on stderr).
pub fn keeper(args: &SettingsArgs, api_url: Option<&str>) -> Result<SessionKeeper, u8> {
    let config = args.to_settings(api_url).validate().map_err(|e| fail(&e))?;
    let store: Arc<dyn SecretStore> = match Keychain::open_service(&args.keychain_service) {
        Ok(keychain) => Arc::new(keychain),
        Err(error) => {
            eprintln!("Note: {error}; the session is kept for this run only.");
            Arc::new(MemoryStore::default())
        }
    };
    Ok(SessionKeeper::new(Keyhole::new(config), store))
}

/// Signs in through the browser (or `--browser-command`), with Ctrl-C cancelling.
pub async fn sign_in(keeper: &SessionKeeper, args: &SignInArgs) -> Result<Session, u8> {
    let browser: Arc<dyn Browser> = match args
        .browser_command
        .as_deref()
        .and_then(CommandBrowser::parse)
    {
        Some(browser) => Arc::new(browser),
        None => Arc::new(SystemBrowser),
    };
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let options = SignInOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        cancel,
    };
    let session = keeper
        .sign_in(browser.as_ref(), &options, &report)
        .await
        .map_err(|e| fail(&e))?;
    let summary = session.summary();
    eprintln!(
        "Signed in as {}{}.",
        summary.subject.as_deref().unwrap_or("an unnamed user"),
        summary
            .email
            .as_deref()
            .map(|e| format!(" <{e}>"))
            .unwrap_or_default()
    );
    if matches!(summary.access_token, keyhole_core::AccessTokenView::Opaque) {
        eprintln!(
            "The access token is opaque (not a JWT): it is sent as-is and cannot be decoded."
        );
    }
    Ok(session)
}

fn report(progress: Progress) {
    match progress {
        Progress::OpeningBrowser { .. } => eprintln!("Opening your browser to sign in…"),
        Progress::Waiting { url } => {
            eprintln!("Waiting for you to finish signing in in the browser (Ctrl-C to cancel).");
            eprintln!("If no browser opened, visit: {url}");
        }
        Progress::BrowserFailed { url, message } => {
            eprintln!("Could not open a browser: {message}");
            eprintln!("Open this URL yourself to sign in: {url}");
        }
        Progress::Exchanging => eprintln!("Signing in…"),
    }
}

/// Prints the error and returns its exit code.
pub fn fail(error: &Error) -> u8 {
    match error {
        Error::InvalidSetting { field, message } => {
            eprintln!("error: --{}: {message}", flag_name(field));
            EXIT_SETTINGS
        }
        Error::Cancelled => {
            eprintln!("Sign-in cancelled.");
            EXIT_CANCELLED
        }
        Error::Network {
            what: "the API", ..
        } => {
            eprintln!("error: {error}");
            EXIT_UNREACHABLE
        }
        _ => {
            eprintln!("error: {error}");
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
        _ => "api-url",
    }
}
