//! `keyhole-cli call`: send a request to the API with the stored session (signing in first when
//! needed) and print the answer; or print it as curl.

use keyhole_core::{
    ApiRequest, ApiResult, Body, Credential, Matrix, Method, Pair, RequestBody, Resumed, Service,
};

use crate::cli::CallArgs;
use crate::output::{err, out};
use crate::service::{self, fail, EXIT_HTTP_ERROR, EXIT_SETTINGS};

/// The timeout of a request that does not say (the engine's default too).
const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// The largest body `-d @FILE` reads.
const MAX_DATA_FILE: u64 = 1024 * 1024;

pub async fn run(args: CallArgs) -> u8 {
    let service = match service::service(
        &args.sign_in.settings,
        Some(&args.sign_in),
        args.api_url.as_deref(),
    ) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let asked = args.sign_in.token_type.map(Credential::from);
    // The set-up order first (no instance: the API's metadata names it; no client ID: Keyhole
    // registers), then everything is checked before any browser opens: a bad request must not
    // cost a sign-in. A Clerk session needs no OAuth client, so no set-up.
    if asked != Some(Credential::Session) {
        if let Err(error) = service.prepare().await {
            return fail(&error);
        }
    }
    let request = match request(&args, &service) {
        Ok(request) => request,
        Err(code) => return code,
    };
    if let Err(error) = service.check_request(&request) {
        return fail(&error);
    }
    if args.curl {
        return match service.curl(&request, false).await {
            Ok(curl) => {
                out!("{}", curl.shown);
                0
            }
            Err(error) => fail(&error),
        };
    }
    if args.every_token_type {
        return match service.try_every_token_type(&request).await {
            Ok(matrix) => print_matrix(&matrix, args.json),
            Err(error) => fail(&error),
        };
    }
    let credential = request.credential();
    match service
        .ready_for(credential, service::method(&args.sign_in))
        .await
    {
        Ok(None) => {}
        Ok(Some((_, Resumed::Stored))) => err!("Using the stored session."),
        Ok(Some((signed_in, Resumed::SignedIn))) => service::signed_in(&signed_in),
        Err(error) => return fail(&error),
    }
    let result = match service.send(&request).await {
        Ok(result) => result,
        Err(error) => return fail(&error),
    };
    // The session the request went with (renewed on a 401, or the token just minted).
    let summary = match (args.json, credential) {
        (false, _) | (true, Credential::None) => None,
        (true, Credential::Session) => service.clerk_session().await.ok().flatten(),
        (true, _) => service.summary(),
    };
    print_result(&result, &args, summary.as_ref());
    if result.response.ok {
        0
    } else {
        EXIT_HTTP_ERROR
    }
}

/// The request the flags describe: the saved one (`--saved`) with the flags given on top, or
/// a GET of the API URL.
fn request(args: &CallArgs, service: &Service) -> Result<ApiRequest, u8> {
    let saved = match &args.saved {
        Some(name) => Some(service.saved_request(name).map_err(|e| fail(&e))?),
        None => None,
    };
    let from_saved = saved.is_some();
    let mut request = match saved {
        Some(request) => request,
        None => ApiRequest {
            timeout_secs: Some(DEFAULT_TIMEOUT_SECS),
            ..ApiRequest::get(&api_url(service)?)
        },
    };
    request.name = None;
    if from_saved && args.api_url.is_some() {
        request.url = api_url(service)?.to_string();
    }
    if let Some(method) = &args.method {
        request.method = Method::parse(method).map_err(|e| fail(&e))?;
    }
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            err!(
                "error: --header: {header:?} is not 'Name: value'; write it like -H 'X-Trace: 1'."
            );
            return Err(EXIT_SETTINGS);
        };
        let name = name.trim();
        // A header given here replaces one of the same name in the saved request.
        request
            .headers
            .retain(|h| !h.name.trim().eq_ignore_ascii_case(name));
        request.headers.push(Pair::new(name, value.trim()));
    }
    if let Some(data) = &args.data {
        let text = match data.strip_prefix('@') {
            Some(path) => read_data_file(path)?,
            None => data.clone(),
        };
        let own_type = request
            .headers
            .iter()
            .any(|h| h.enabled && h.name.trim().eq_ignore_ascii_case("content-type"));
        request.body = if !own_type && serde_json::from_str::<serde_json::Value>(&text).is_ok() {
            RequestBody::Json { text }
        } else {
            RequestBody::Text { text }
        };
    }
    if args.no_token {
        request.token_type = Some(Credential::None);
    }
    if let Some(kind) = args.sign_in.token_type {
        request.token_type = Some(kind.into());
    }
    if let Some(secs) = args.max_time {
        request.timeout_secs = Some(secs);
    }
    Ok(request)
}

/// Prints the matrix; exit 0 when some kind with a token was let in, else 1.
fn print_matrix(matrix: &Matrix, json: bool) -> u8 {
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(matrix).unwrap_or_default()
        );
    } else {
        err!("{}: one request per kind of token held", matrix.target);
        out!(
            "{:<8} {:<6} {:<9} WHAT WOULD LET IT IN",
            "KIND",
            "STATUS",
            "SIGNED IN"
        );
        for row in &matrix.rows {
            let status = row.status.map_or("-".to_owned(), |s| s.to_string());
            let signed_in = match row.signed_in {
                Some(true) => "yes",
                Some(false) => "no",
                None => "?",
            };
            let note = row
                .error
                .as_deref()
                .map(|e| format!("failed: {e}"))
                .or_else(|| row.fix.clone())
                .unwrap_or_default();
            out!(
                "{:<8} {:<6} {:<9} {note}",
                row.credential.as_str(),
                status,
                signed_in
            );
        }
        for missing in &matrix.missing {
            err!(
                "Not tried: {} (none held; {}).",
                missing.credential.as_str(),
                missing.how
            );
        }
    }
    let let_in = matrix
        .rows
        .iter()
        .any(|r| r.credential.sends_token() && r.signed_in == Some(true));
    if let_in {
        0
    } else {
        EXIT_HTTP_ERROR
    }
}

fn api_url(service: &Service) -> Result<url::Url, u8> {
    service.api_url().map_err(|e| fail(&e))
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
            Body::Text { text, .. } => out!("{text}"),
            // Too large to parse: the kept bytes as they came.
            Body::Large => {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(&response.raw);
                let _ = stdout.write_all(b"\n");
            }
            Body::Empty => {}
        }
        if response.truncated {
            err!(
                "(body cut: the first {} of {}{} bytes)",
                response.kept,
                if response.size_known { "" } else { "at least " },
                response.size
            );
        }
    }
    if !response.ok {
        err!("Error: {}", response.status_line());
    }
    if let Some(diagnosis) = &result.diagnosis {
        err!("Diagnosis: {diagnosis}");
    }
}
