//! The engine's service for one run: built from the flags (and the profile they name), with its
//! events printed on stderr; and the exit code of each error.

use std::sync::Arc;
use std::time::Duration;

use keyhole_core::{
    Browser, CommandBrowser, Error, Event, KeychainOrMemory, Profiles, Progress, Service,
    ServiceOptions, SessionSummary, SystemBrowser, DEFAULT_SIGN_IN_TIMEOUT,
};

use crate::cli::{SettingsArgs, SignInArgs};
use crate::output::err;

pub const EXIT_HTTP_ERROR: u8 = 1;
pub const EXIT_SETTINGS: u8 = 2;
pub const EXIT_SIGN_IN: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;
pub const EXIT_CANCELLED: u8 = 130;

/// The service for `args` (the sign-in flags when the command may sign in), calling `api_url`
/// when given. Bad flags are said here, on stderr, with the exit code.
pub fn service(
    args: &SettingsArgs,
    sign_in: Option<&SignInArgs>,
    api_url: Option<&str>,
) -> Result<Service, u8> {
    let profiles = Profiles::open_default();
    let profile = match &args.profile {
        Some(name) => Some(
            profiles
                .as_ref()
                .map_err(fail)?
                .get(name)
                .map_err(|e| fail(&e))?,
        ),
        None => None,
    };
    let browser: Arc<dyn Browser> = match sign_in
        .and_then(|a| a.browser_command.as_deref())
        .and_then(CommandBrowser::parse)
    {
        Some(browser) => Arc::new(browser),
        None => Arc::new(SystemBrowser),
    };
    Ok(Service::new(ServiceOptions {
        settings: args.to_settings(profile.as_ref(), api_url),
        profile: profile.map(|p| p.name),
        profiles: profiles.ok(),
        secrets: Arc::new(KeychainOrMemory::new(&args.keychain_service)),
        keychain_service: args.keychain_service.clone(),
        browser,
        sign_in_timeout: sign_in.map_or(DEFAULT_SIGN_IN_TIMEOUT, |a| {
            Duration::from_secs(a.timeout.max(1))
        }),
        settings_store: None,
        events: Arc::new(print_event),
        background: None,
        trusted_endpoint_origins: origins("trust-endpoint-origin", &args.trust_endpoint_origin)?,
        cleartext_api_origins: origins("allow-cleartext-api", &args.allow_cleartext_api)?,
    }))
}

fn origins(flag: &str, urls: &[String]) -> Result<Vec<url::Url>, u8> {
    urls.iter()
        .map(|url| {
            url::Url::parse(url.trim()).map_err(|_| {
                err!("error: --{flag}: {url:?} is not a URL; give an origin such as https://auth.example.com");
                EXIT_SETTINGS
            })
        })
        .collect()
}

/// The method the flags ask for: Clerk's own sign-in for `--token-type session`, `--device`,
/// else the browser (the engine switches to the device flow by itself where no browser can open).
pub fn method(args: &SignInArgs) -> keyhole_core::SignInMethod {
    if args.token_type == Some(crate::cli::TokenType::Session) {
        keyhole_core::SignInMethod::Clerk
    } else if args.device {
        keyhole_core::SignInMethod::Device
    } else {
        keyhole_core::SignInMethod::Browser
    }
}

/// Says who signed in, after a sign-in.
pub fn signed_in(summary: &SessionSummary) {
    let what = match (summary.credential, summary.impersonated) {
        (_, true) => " (an impersonated test session made with the secret key)",
        (keyhole_core::Credential::Session, false) => " (a Clerk session)",
        _ => "",
    };
    err!(
        "Signed in as {}{}{what}.",
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
}

fn print_event(event: Event) {
    match event {
        Event::Notice(text) => err!("{text}"),
        Event::SignIn(progress) => report(progress),
        // A run that ends with its command has no session view to keep up to date.
        Event::Session(_) | Event::Restoring(_) => {}
    }
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

/// Prints the error with its causes and returns its exit code, chosen by the error's variant.
pub fn fail(error: &Error) -> u8 {
    match error {
        // Not a flag's fault: the variable or the document named.
        Error::InvalidSetting {
            field: "variable" | "import",
            ..
        } => {
            err!("error: {}", error.report());
            EXIT_SETTINGS
        }
        Error::InvalidSetting { field, .. } => {
            err!("error: --{}: {}", flag_name(field), error.report());
            EXIT_SETTINGS
        }
        Error::Cancelled | Error::CallCancelled => {
            err!("Sign-in cancelled.");
            EXIT_CANCELLED
        }
        Error::ApiUnreachable { .. } | Error::ApiTimeout { .. } => {
            err!("error: {}", error.report());
            EXIT_UNREACHABLE
        }
        // An MCP server that answered, but not well: as `call`'s failed answer; one that did not
        // answer in time as an API that did not; a refused sign-in as a failed sign-in.
        Error::Mcp { fault, .. } => {
            err!("error: {}", error.report());
            match fault {
                keyhole_core::McpFault::Timeout => EXIT_UNREACHABLE,
                keyhole_core::McpFault::Unauthorized | keyhole_core::McpFault::Forbidden => {
                    EXIT_SIGN_IN
                }
                _ => EXIT_HTTP_ERROR,
            }
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
        "tokenType" => "token-type",
        "backendApi" => "backend-api",
        "m2mFormat" => "m2m-format",
        "secretKey" => "secret-key",
        "apiKey" => "api-key",
        "machineKey" => "machine-key",
        "testUser" => "test-user",
        "clerkStrategy" => "instance",
        "arguments" => "args",
        _ => "api-url",
    }
}
