//! `keyhole-cli call`: sign in through the browser, call the API once, print the answer.

use std::sync::Arc;
use std::time::Duration;

use keyhole_core::{
    ApiResult, Body, Browser, CancellationToken, CommandBrowser, Error, Keyhole, Progress,
    SignInOptions, SystemBrowser,
};

use crate::cli::CallArgs;

pub const EXIT_HTTP_ERROR: u8 = 1;
pub const EXIT_SETTINGS: u8 = 2;
pub const EXIT_SIGN_IN: u8 = 3;
pub const EXIT_UNREACHABLE: u8 = 4;
pub const EXIT_CANCELLED: u8 = 130;

pub async fn run(args: CallArgs) -> u8 {
    let config = match args.settings.to_settings().validate() {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let browser: Arc<dyn Browser> = match args.browser_command.as_deref().map(str::trim) {
        Some(command) if !command.is_empty() => match CommandBrowser::parse(command) {
            Some(browser) => Arc::new(browser),
            None => Arc::new(SystemBrowser),
        },
        _ => Arc::new(SystemBrowser),
    };
    let keyhole = Keyhole::new(config);
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
    let session = match keyhole.sign_in(browser.as_ref(), &options, &report).await {
        Ok(session) => session,
        Err(error) => return fail(&error),
    };
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
    let result = match keyhole.call_api(&session).await {
        Ok(result) => result,
        Err(error) => return fail(&error),
    };
    print_result(&result, args.json.then_some(&summary));
    if result.response.ok {
        0
    } else {
        EXIT_HTTP_ERROR
    }
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

fn print_result(result: &ApiResult, summary: Option<&keyhole_core::SessionSummary>) {
    let response = &result.response;
    eprintln!(
        "GET {} → {} {} in {} ms",
        response.url, response.status, response.reason, response.elapsed_ms
    );
    if let Some(target) = &response.blocked_redirect {
        eprintln!("Not followed: redirect to {target}");
    }
    if let Some(summary) = summary {
        let document = serde_json::json!({ "result": result, "session": summary });
        println!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    } else {
        match &response.body {
            Body::Json { value } => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(value).unwrap_or_default()
                )
            }
            Body::Text { text, truncated } => {
                println!("{text}");
                if *truncated {
                    eprintln!("(body cut at {} bytes)", keyhole_core::BODY_CAP);
                }
            }
            Body::Empty => {}
        }
    }
    if !response.ok {
        eprintln!("Error: {}", response.status_line());
    }
    if let Some(diagnosis) = &result.diagnosis {
        eprintln!("Diagnosis: {diagnosis}");
    }
}

fn fail(error: &Error) -> u8 {
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
