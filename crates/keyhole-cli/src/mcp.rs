//! `keyhole-cli mcp tools|resources|prompts|call|check`: an MCP server's tools, resources and
//! prompts, a tool call, and the grading of its authorization, through the engine's MCP client
//! (which signs in when the server asks).

use std::time::Duration;

use keyhole_core::{
    McpCallResult, McpCheckOptions, McpListing, McpReport, McpServer, McpTools, SignInMethod,
    Verdict,
};
use serde_json::Value;

use crate::cli::{McpArgs, McpCommand};
use crate::output::{err, out};
use crate::service::{self, fail, EXIT_HTTP_ERROR, EXIT_SETTINGS};

pub async fn run(command: McpCommand) -> u8 {
    match command {
        McpCommand::Tools(args) => {
            let service = match service_for(&args) {
                Ok(service) => service,
                Err(code) => return code,
            };
            let mut outcome = service.mcp_tools(&args.url, method(&args)).await;
            match step_up(&service, &args, &outcome).await {
                Ok(true) => outcome = service.mcp_tools(&args.url, method(&args)).await,
                Ok(false) => {}
                Err(code) => return code,
            }
            match outcome {
                Ok(tools) => print_tools(&tools, args.json),
                Err(error) => fail(&error),
            }
        }
        McpCommand::Resources(args) => listing(&args, Kind::Resources).await,
        McpCommand::Prompts(args) => listing(&args, Kind::Prompts).await,
        McpCommand::Call {
            mcp: args,
            tool,
            args: arguments,
        } => {
            // Checked before anything is built or sent: bad JSON costs no request.
            let arguments: Value = match serde_json::from_str(&arguments) {
                Ok(value @ Value::Object(_)) => value,
                Ok(_) => {
                    err!("error: --args: the arguments must be a JSON object, like '{{\"text\": \"hello\"}}'; nothing was sent.");
                    return EXIT_SETTINGS;
                }
                Err(e) => {
                    err!("error: --args: not JSON ({e}); give a JSON object, like '{{\"text\": \"hello\"}}'. Nothing was sent.");
                    return EXIT_SETTINGS;
                }
            };
            let service = match service_for(&args) {
                Ok(service) => service,
                Err(code) => return code,
            };
            let call = || service.mcp_call(&args.url, &tool, &arguments, method(&args));
            let mut outcome = call().await;
            match step_up(&service, &args, &outcome).await {
                Ok(true) => outcome = call().await,
                Ok(false) => {}
                Err(code) => return code,
            }
            match outcome {
                Ok(result) => print_call(&result, args.json),
                Err(error) => fail(&error),
            }
        }
        McpCommand::Check {
            mcp: args,
            expiry_wait,
        } => {
            let service = match service_for(&args) {
                Ok(service) => service,
                Err(code) => return code,
            };
            let options = McpCheckOptions {
                expiry_wait: Duration::from_secs(expiry_wait),
            };
            match service.mcp_check(&args.url, method(&args), options).await {
                Ok(report) => print_report(&report, args.json),
                Err(error) => fail(&error),
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Resources,
    Prompts,
}

/// `mcp resources` / `mcp prompts`: the listing, after a step-up when one is allowed and needed.
async fn listing(args: &McpArgs, kind: Kind) -> u8 {
    let service = match service_for(args) {
        Ok(service) => service,
        Err(code) => return code,
    };
    let list = || async {
        match kind {
            Kind::Resources => service.mcp_resources(&args.url, method(args)).await,
            Kind::Prompts => service.mcp_prompts(&args.url, method(args)).await,
        }
    };
    let mut outcome = list().await;
    match step_up(&service, args, &outcome).await {
        Ok(true) => outcome = list().await,
        Ok(false) => {}
        Err(code) => return code,
    }
    match outcome {
        Ok(listing) => print_listing(&listing, kind, args.json),
        Err(error) => fail(&error),
    }
}

fn print_listing(listing: &McpListing, kind: Kind, json: bool) -> u8 {
    if json {
        return print_json(serde_json::to_value(listing));
    }
    introduce(&listing.server);
    let what = match kind {
        Kind::Resources => "resources",
        Kind::Prompts => "prompts",
    };
    if !listing.offered {
        err!("The server offers no {what} (its capabilities name none).");
        return 0;
    }
    err!("{} {what}:", listing.items.len());
    // The engine has made every server text safe to print (shown_text).
    for item in &listing.items {
        let mut line = item.name.clone();
        if let Some(uri) = &item.uri {
            line = format!("{line}\t{uri}");
        }
        if let Some(description) = &item.description {
            line = format!("{line}\t{}", description.replace('\n', " "));
        }
        out!("{line}");
    }
    0
}

/// After a `403 insufficient_scope`: the step-up sign-in when `--step-up` allows it (true: send
/// again), else a hint on how to allow it. Err with the exit code when the step-up failed.
async fn step_up<T>(
    service: &keyhole_core::Service,
    args: &McpArgs,
    outcome: &keyhole_core::Result<T>,
) -> Result<bool, u8> {
    let Some(scopes) = outcome.as_ref().err().and_then(|e| e.mcp_needed_scopes()) else {
        return Ok(false);
    };
    if !args.step_up {
        err!("Run again with --step-up to sign in asking for {scopes} too.");
        return Ok(false);
    }
    match service.mcp_step_up(&args.url, &scopes, method(args)).await {
        Ok(_) => Ok(true),
        Err(error) => Err(fail(&error)),
    }
}

fn service_for(args: &McpArgs) -> Result<keyhole_core::Service, u8> {
    let service = service::service(&args.sign_in.settings, Some(&args.sign_in), None)?;
    if let Some(secs) = args.max_time {
        service.set_mcp_timeout(Duration::from_secs(secs));
    }
    Ok(service)
}

/// MCP servers take OAuth access tokens: the browser, or a code on another device.
fn method(args: &McpArgs) -> SignInMethod {
    if args.sign_in.device {
        SignInMethod::Device
    } else {
        SignInMethod::Browser
    }
}

fn introduce(server: &McpServer) {
    let name = match (&server.name, &server.version) {
        (Some(name), Some(version)) => format!("{name} {version}"),
        (Some(name), None) => name.clone(),
        _ => "an unnamed server".to_owned(),
    };
    err!(
        "MCP {} with {name} at {}.",
        server.revision.as_str(),
        server.url
    );
}

fn print_tools(tools: &McpTools, json: bool) -> u8 {
    if json {
        return print_json(serde_json::to_value(tools));
    }
    introduce(&tools.server);
    err!(
        "{} tools ({} page{}):",
        tools.tools.len(),
        tools.pages,
        if tools.pages == 1 { "" } else { "s" }
    );
    for tool in &tools.tools {
        // The name as sent would be what a call needs; shown escaped, like every server text.
        let name = keyhole_core::shown_text(&tool.name);
        match &tool.description {
            Some(description) => out!("{name}\t{}", description.replace('\n', " ")),
            None => out!("{name}"),
        }
    }
    0
}

fn print_call(result: &McpCallResult, json: bool) -> u8 {
    if json {
        print_json(serde_json::to_value(result));
    } else {
        introduce(&result.server);
        for item in &result.content {
            out!("{}", item.text);
        }
        if let Some(structured) = &result.structured {
            err!("Structured content:");
            out!(
                "{}",
                serde_json::to_string_pretty(structured).unwrap_or_default()
            );
        }
    }
    if result.is_error {
        err!(
            "The tool {} reported an error (isError).",
            keyhole_core::shown_text(&result.tool)
        );
        return EXIT_HTTP_ERROR;
    }
    0
}

fn print_report(report: &McpReport, json: bool) -> u8 {
    if json {
        let code = print_json(serde_json::to_value(report));
        if code != 0 {
            return code;
        }
    } else {
        let revision = report
            .revision
            .map(|r| format!(" (MCP {})", r.as_str()))
            .unwrap_or_default();
        err!("Authorization report for {}{revision}:", report.url);
        for check in &report.checks {
            let mark = match check.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "FAIL",
                Verdict::NotOffered => "n/o ",
                Verdict::NotChecked => "n/c ",
            };
            out!("{mark}  {}  [{}]", check.title, check.spec);
            out!("      {}", check.detail);
        }
    }
    let failed = report
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .count();
    if failed > 0 {
        err!(
            "{failed} check{} failed.",
            if failed == 1 { "" } else { "s" }
        );
        return EXIT_HTTP_ERROR;
    }
    0
}

fn print_json(value: serde_json::Result<Value>) -> u8 {
    match value.and_then(|v| serde_json::to_string_pretty(&v)) {
        Ok(text) => {
            out!("{text}");
            0
        }
        Err(e) => {
            err!("error: could not write the answer as JSON: {e}");
            70
        }
    }
}
