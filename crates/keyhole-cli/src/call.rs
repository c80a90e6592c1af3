//! `keyhole-cli call`: call the API with the stored session (signing in first when needed) and
//! print the answer.

use keyhole_core::{ApiResult, Body, Error};

use crate::cli::CallArgs;
use crate::keeper::{self, fail, EXIT_HTTP_ERROR};
use crate::output::{err, out};

pub async fn run(args: CallArgs) -> u8 {
    let mut keeper = match keeper::keeper(&args.sign_in.settings, Some(&args.api_url)).await {
        Ok(keeper) => keeper,
        Err(code) => return code,
    };
    // Checked before any browser opens: a bad URL must not cost a sign-in.
    if let Err(error) = keeper.keyhole().config().require_api_url() {
        return fail(&error);
    }
    match keeper.restore().await {
        Ok(Some(_)) => err!("Using the stored session."),
        Ok(None) => {
            if let Err(code) = keeper::sign_in(&mut keeper, &args.sign_in).await {
                return code;
            }
        }
        Err(error @ Error::SessionEnded(_)) => {
            err!("{error}");
            if let Err(code) = keeper::sign_in(&mut keeper, &args.sign_in).await {
                return code;
            }
        }
        Err(error) => return fail(&error),
    }
    let result = match keeper.call_api().await {
        Ok(result) => result,
        Err(error) => return fail(&error),
    };
    let summary = match (args.json, keeper.current().await) {
        (true, Some(session)) => Some(session.summary()),
        _ => None,
    };
    print_result(&result, summary.as_ref());
    if result.response.ok {
        0
    } else {
        EXIT_HTTP_ERROR
    }
}

fn print_result(result: &ApiResult, summary: Option<&keyhole_core::SessionSummary>) {
    let response = &result.response;
    err!(
        "GET {} → {} {} in {} ms",
        response.url,
        response.status,
        response.reason,
        response.elapsed_ms
    );
    for warning in &result.warnings {
        err!("Warning: {}", warning.message);
    }
    if let Some(target) = &response.blocked_redirect {
        err!("Not followed: redirect to {target}");
    }
    if let Some(summary) = summary {
        let document = serde_json::json!({ "result": result, "session": summary });
        out!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    } else {
        match &response.body {
            Body::Json { value } => {
                out!(
                    "{}",
                    serde_json::to_string_pretty(value).unwrap_or_default()
                )
            }
            Body::Text { text, truncated } => {
                out!("{text}");
                if *truncated {
                    err!("(body cut at {} bytes)", keyhole_core::BODY_CAP);
                }
            }
            Body::Empty => {}
        }
    }
    if !response.ok {
        err!("Error: {}", response.status_line());
    }
    if let Some(diagnosis) = &result.diagnosis {
        err!("Diagnosis: {diagnosis}");
    }
}
