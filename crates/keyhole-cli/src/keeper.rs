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
/// run when there is none (said once, on stderr, when it is first found missing). With no client
/// ID, the instance's dynamic registration gives one; with no instance either, `api_url`'s
/// protected-resource metadata names it (RFC 9728) — the engine decides, this only says so.
pub async fn keeper(args: &SettingsArgs, api_url: Option<&str>) -> Result<SessionKeeper, u8> {
    let profile = profile(args)?;
    let store: Arc<dyn SecretStore> = Arc::new(KeychainOrMemory::new(&args.keychain_service));
    let http = keyhole_core::http_client(Duration::from_secs(20));
    let mut settings = args.to_settings(profile.as_ref(), api_url);
    if settings.instance.trim().is_empty() {
        let Some(api_url) = api_url.filter(|u| !u.trim().is_empty()) else {
            err!("error: --instance: give the Clerk instance (its Frontend API URL or publishable key).");
            return Err(EXIT_SETTINGS);
        };
        err!("No instance given: asking the API at {api_url} where to sign in…");
        let setup = keyhole_core::resource::set_up_from_api(&http, &store, api_url, &settings)
            .await
            .map_err(|e| fail(&e))?;
        err!(
            "The API names {} as its authorization server; signing in for the resource {}.",
            setup.settings.instance,
            setup.settings.resource
        );
        if let Some(note) = &setup.note {
            err!("{note}");
        }
        settings = setup.settings;
    } else if settings.client_id.trim().is_empty() {
        let (completed, how) =
            keyhole_core::registration::complete_settings(&http, &store, &settings)
                .await
                .map_err(|e| fail(&e))?;
        if let Some(note) = how.note(settings.instance.trim()) {
            err!("{note}");
        }
        settings = completed;
    }
    build(
        args,
        &settings,
        store,
        profile.as_ref().map(|p| p.name.as_str()),
    )
}

/// A keeper for commands that only read or end a session (`status`, `sign-out`, `token`): with no
/// client ID, only a client Keyhole registered before is used (the engine looks it up; it never
/// registers). When there is none, says "not signed in" and returns `not_signed_in` as the code.
pub async fn stored_keeper(args: &SettingsArgs, not_signed_in: u8) -> Result<SessionKeeper, u8> {
    let profile = profile(args)?;
    let store: Arc<dyn SecretStore> = Arc::new(KeychainOrMemory::new(&args.keychain_service));
    let settings = args.to_settings(profile.as_ref(), None);
    if settings.instance.trim().is_empty() {
        err!(
            "error: --instance: give the Clerk instance (its Frontend API URL or publishable key)."
        );
        return Err(EXIT_SETTINGS);
    }
    match keyhole_core::registration::stored_settings(&store, &settings)
        .await
        .map_err(|e| fail(&e))?
    {
        keyhole_core::registration::Stored::Ready(settings, _) => build(
            args,
            &settings,
            store,
            profile.as_ref().map(|p| p.name.as_str()),
        ),
        keyhole_core::registration::Stored::NotRegistered { issuer } => {
            err!("Not signed in to {issuer}: no client ID was given and Keyhole has not registered with it (sign in first).");
            Err(not_signed_in)
        }
    }
}

/// The `--profile` named, if any.
fn profile(args: &SettingsArgs) -> Result<Option<keyhole_core::Profile>, u8> {
    match &args.profile {
        Some(name) => Profiles::open_default()
            .and_then(|profiles| profiles.get(name))
            .map(Some)
            .map_err(|e| fail(&e)),
        None => Ok(None),
    }
}

fn build(
    args: &SettingsArgs,
    settings: &keyhole_core::Settings,
    store: Arc<dyn SecretStore>,
    profile: Option<&str>,
) -> Result<SessionKeeper, u8> {
    let mut config = settings.validate().map_err(|e| fail(&e))?;
    if let Some(profile) = profile {
        config = config.in_profile(profile);
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
    Ok(SessionKeeper::new(Keyhole::new(config), store))
}

/// After the provider said `invalid_client` for a client Keyhole registered: registers again
/// (once) and gives a keeper for the new client.
async fn replace_client(keeper: &SessionKeeper, args: &SettingsArgs) -> Result<SessionKeeper, u8> {
    let config = keeper.keyhole().config().clone();
    let http = keyhole_core::http_client(Duration::from_secs(20));
    let client_id = keyhole_core::registration::replace(&http, keeper.store(), &config)
        .await
        .map_err(|e| fail(&e))?;
    err!(
        "The provider at {} no longer knew Keyhole's registered client, so Keyhole registered again.",
        config.issuer
    );
    let settings = keyhole_core::Settings {
        instance: config.issuer.clone(),
        client_id,
        scopes: config.scopes.join(" "),
        redirect_port: config.redirect_port,
        api_url: config.api_url.map(String::from).unwrap_or_default(),
        resource: config.resource.map(String::from).unwrap_or_default(),
    };
    build(
        args,
        &settings,
        keeper.store().clone(),
        config.profile.as_deref(),
    )
}

/// True when this machine has no display to open a browser on (Linux/BSD without X11 or
/// Wayland, e.g. over SSH); macOS and Windows always have one.
fn no_display() -> bool {
    cfg!(all(unix, not(target_os = "macos")))
        && std::env::var_os("DISPLAY").is_none_or(|v| v.is_empty())
        && std::env::var_os("WAYLAND_DISPLAY").is_none_or(|v| v.is_empty())
}

/// Says so when the keychain turned out to be missing (after the keeper first used it).
pub fn note_keychain(keeper: &SessionKeeper) {
    if let Some(reason) = keeper.store().unavailable() {
        err!("Note: {reason}; the session is kept for this run only.");
    }
}

/// Signs in through the browser (or `--browser-command`), or with a code entered on another
/// device (`--device`, or by itself when there is no display and no browser command). When the
/// provider no longer knows a client Keyhole registered, registers again once and retries; the
/// keeper then serves the new client. Ctrl-C is handled by `main`.
pub async fn sign_in(keeper: &mut SessionKeeper, args: &SignInArgs) -> Result<Session, u8> {
    match sign_in_once(keeper, args).await {
        Err(Failure::InvalidClient(error)) => {
            if keeper.keyhole().config().client_id
                != args.settings.client_id.clone().unwrap_or_default()
            {
                *keeper = replace_client(keeper, &args.settings).await?;
                return sign_in_once(keeper, args).await.map_err(|f| f.report());
            }
            Err(fail(&error))
        }
        other => other.map_err(|f| f.report()),
    }
}

enum Failure {
    InvalidClient(Error),
    Code(u8),
}

impl Failure {
    fn report(self) -> u8 {
        match self {
            Failure::InvalidClient(error) => fail(&error),
            Failure::Code(code) => code,
        }
    }
}

async fn sign_in_once(keeper: &SessionKeeper, args: &SignInArgs) -> Result<Session, Failure> {
    let options = SignInOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        cancel: CancellationToken::new(),
    };
    let mut device = args.device;
    if !device && args.browser_command.is_none() && no_display() {
        match keeper.keyhole().offers_device_flow().await {
            Ok(true) => {
                err!("No display or browser here, so Keyhole signs in with a code you enter on another device.");
                device = true;
            }
            Ok(false) => {
                err!("No display or browser here, and the provider offers no sign-in with a code: open the URL below in a browser that can reach this machine's 127.0.0.1, or pass --browser-command.");
            }
            Err(error) => return Err(Failure::Code(fail(&error))),
        }
    }
    let outcome = if device {
        keeper.sign_in_device(&options, &report).await
    } else {
        let browser: Arc<dyn Browser> = match args
            .browser_command
            .as_deref()
            .and_then(CommandBrowser::parse)
        {
            Some(browser) => Arc::new(browser),
            None => Arc::new(SystemBrowser),
        };
        keeper.sign_in(browser.as_ref(), &options, &report).await
    };
    let session = match outcome {
        Ok(session) => session,
        Err(error) if error.is_invalid_client() => return Err(Failure::InvalidClient(error)),
        Err(error) => return Err(Failure::Code(fail(&error))),
    };
    Ok(signed_in(keeper, session))
}

fn signed_in(keeper: &SessionKeeper, session: Session) -> Session {
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
    session
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
        Progress::DeviceCode(code) => {
            err!("To sign in, visit {}", code.verification_uri);
            err!("and enter the code: {}", code.user_code);
            if let Some(complete) = &code.verification_uri_complete {
                err!("Or open: {complete}");
            }
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                err!("{}", code.qr.to_terminal());
            }
            err!(
                "Waiting for you to finish on the other device (the code expires in {} min; Ctrl-C to cancel).",
                code.expires_in.div_ceil(60)
            );
        }
        Progress::Exchanging => err!("Signing in…"),
    }
}

/// Prints the error with its causes and returns its exit code, chosen by the error's kind.
pub fn fail(error: &Error) -> u8 {
    match error.kind() {
        "invalid_setting" => {
            err!(
                "error: --{}: {}",
                flag_name(error.field().unwrap_or_default()),
                error.report()
            );
            EXIT_SETTINGS
        }
        "cancelled" => {
            err!("Sign-in cancelled.");
            EXIT_CANCELLED
        }
        "api_unreachable" | "api_timeout" => {
            err!("error: {}", error.report());
            EXIT_UNREACHABLE
        }
        _ => {
            err!("error: {}", error.report());
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
        "savedRequest" => "saved",
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
