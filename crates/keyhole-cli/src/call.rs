//! `keyhole-cli call`: send a request to the API with the stored session (signing in first when
//! needed) and print the answer; or print it as curl.

use keyhole_core::{
    ApiRequest, ApiResult, Body, CancellationToken, Error, Method, Pair, RequestBody,
};

use crate::cli::CallArgs;
use crate::keeper::{self, fail, EXIT_HTTP_ERROR, EXIT_SETTINGS};
use crate::output::{err, out};

/// The largest body `-d @FILE` reads.
const MAX_DATA_FILE: u64 = 1024 * 1024;

pub async fn run(args: CallArgs) -> u8 {
    let mut keeper = match keeper::keeper(&args.sign_in.settings, args.api_url.as_deref()).await {
        Ok(keeper) => keeper,
        Err(code) => return code,
    };
    // Everything is checked before any browser opens: a bad request must not cost a sign-in.
    let request = match request(&args, &keeper) {
        Ok(request) => request,
        Err(code) => return code,
    };
    if let Err(error) = request.prepare() {
        return fail(&error);
    }
    if args.curl {
        let command = keeper::token_command(&keeper, &args.sign_in.settings);
        return match request.to_curl(&command) {
            Ok(curl) => {
                out!("{curl}");
                0
            }
            Err(error) => fail(&error),
        };
    }
    if request.send_token {
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
    }
    let result = match keeper.send(&request, &CancellationToken::new()).await {
        Ok(result) => result,
        Err(error) => return fail(&error),
    };
    let summary = match (args.json, keeper.current().await) {
        (true, Some(session)) => Some(session.summary()),
        _ => None,
    };
    print_result(&result, &args, summary.as_ref());
    if result.response.ok {
        0
    } else {
        EXIT_HTTP_ERROR
    }
}

/// The request the flags describe.
fn request(args: &CallArgs, keeper: &keyhole_core::SessionKeeper) -> Result<ApiRequest, u8> {
    let url = match keeper.keyhole().config().require_api_url() {
        Ok(url) => url,
        Err(error) => return Err(fail(&error)),
    };
    let method = Method::parse(&args.method).map_err(|e| fail(&e))?;
    let mut headers = Vec::new();
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            err!(
                "error: --header: {header:?} is not 'Name: value'; write it like -H 'X-Trace: 1'."
            );
            return Err(EXIT_SETTINGS);
        };
        headers.push(Pair::new(name.trim(), value.trim()));
    }
    let body = match &args.data {
        None => RequestBody::None,
        Some(data) => {
            let text = match data.strip_prefix('@') {
                Some(path) => read_data_file(path)?,
                None => data.clone(),
            };
            let own_type = headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("content-type"));
            if !own_type && serde_json::from_str::<serde_json::Value>(&text).is_ok() {
                RequestBody::Json { text }
            } else {
                RequestBody::Text { text }
            }
        }
    };
    Ok(ApiRequest {
        method,
        url: url.to_string(),
        query: Vec::new(),
        headers,
        body,
        send_token: !args.no_token,
        timeout_secs: Some(args.max_time),
        name: None,
    })
}

fn read_data_file(path: &str) -> Result<String, u8> {
    let fail = |why: String| {
        err!("error: --data: could not read {path:?} ({why}).");
        EXIT_SETTINGS
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.len() > MAX_DATA_FILE {
        return Err(fail(format!(
            "it is larger than {} KiB",
            MAX_DATA_FILE / 1024
        )));
    }
    std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))
}

fn print_result(
    result: &ApiResult,
    args: &CallArgs,
    summary: Option<&keyhole_core::SessionSummary>,
) {
    let response = &result.response;
    err!(
        "{} {} → {} {} in {} ms (first byte {} ms, {} bytes)",
        response.method,
        response.url,
        response.status,
        response.reason,
        response.elapsed_ms,
        response.ttfb_ms,
        response.size
    );
    for warning in &result.warnings {
        err!("Warning: {}", warning.message);
    }
    if let Some(target) = &response.blocked_redirect {
        err!("Not followed: redirect to {target}");
    }
    if args.json {
        let mut document = serde_json::to_value(result).unwrap_or_default();
        if let (Some(map), Some(summary)) = (document.as_object_mut(), summary) {
            map.insert(
                "session".into(),
                serde_json::to_value(summary).unwrap_or_default(),
            );
        }
        out!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    } else {
        if args.include {
            out!("HTTP/1.1 {} {}", response.status, response.reason);
            for (name, value) in &response.headers {
                out!("{name}: {value}");
            }
            out!("");
        }
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
