//! `keyhole-cli mcp tools|resources|prompts|call|check` run as a process against the sandbox's real MCP servers (the
//! official SDK behind @clerk/mcp-tools, and the 2026-07-28 server), signing in with the sandbox's
//! login script as the browser when the server's 401 asks for it.

mod common;

use common::{failed_with, json, login, settings, succeeded, text, Cli};

fn mcp<'a>(sub: &'a str, url: &'a str, browser: &'a str) -> Vec<&'a str> {
    let mut args = vec!["mcp", sub, "--url", url, "--browser-command", browser];
    args.extend(settings(keyhole_sandbox::shared()));
    args
}

#[test]
fn mcp_tools_signs_in_from_the_servers_401_and_lists_every_page() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_tools");
    let browser = login("user_2clitools");
    let mut args = mcp("tools", &sb.mcp.sdk, &browser);
    args.push("--json");
    let out = cli.run(&args);
    let listed = json(&out);
    assert_eq!(listed["server"]["revision"], "2025-11-25");
    assert_eq!(listed["pages"], 3);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["echo", "whoami", "slow", "markup", "fail"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("asks for a sign-in"), "{stderr}");
    assert!(
        stderr.contains(&format!("signing in for the resource {}", sb.mcp.sdk)),
        "{stderr}"
    );

    // Without --json: the revision on stderr, one tool a line on stdout.
    let out = cli.run(&mcp("tools", &sb.mcp.modern, &login("user_2clitools")));
    let stderr = succeeded(&out);
    assert!(
        stderr.contains("MCP 2026-07-28 with keyhole-sandbox-mcp 1.0.0"),
        "{stderr}"
    );
    assert!(text(&out.stdout).starts_with("echo\tSays back the text it is given.\n"));
}

#[test]
fn mcp_resources_and_prompts_list_what_each_server_offers() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_listings");
    let browser = login("user_2clilistings");
    // The official SDK's server (2025-11-25): one resource a line, name, URI, description.
    let out = cli.run(&mcp("resources", &sb.mcp.sdk, &browser));
    let stderr = succeeded(&out);
    assert!(stderr.contains("MCP 2025-11-25"), "{stderr}");
    assert!(stderr.contains("1 resources:"), "{stderr}");
    assert_eq!(
        text(&out.stdout),
        "readme\tsandbox://readme\tWhat this server is.\n"
    );
    // The 2026-07-28 server's prompts, as JSON.
    let mut args = mcp("prompts", &sb.mcp.modern, &browser);
    args.push("--json");
    let listed = json(&cli.run(&args));
    assert_eq!(listed["server"]["revision"], "2026-07-28");
    assert_eq!(listed["offered"], true);
    assert_eq!(listed["items"][0]["name"], "greet");
    assert_eq!(listed["items"][0]["description"], "A greeting.");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn mcp_call_calls_whoami_and_echo_with_json_arguments() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_call");
    let browser = login("user_2clicall");
    let mut args = mcp("call", &sb.mcp.modern, &browser);
    args.extend(["whoami", "--json"]);
    let answer = json(&cli.run(&args));
    assert_eq!(answer["server"]["revision"], "2026-07-28");
    assert_eq!(answer["structured"]["userId"], "user_2clicall");
    assert_eq!(answer["isError"], false);

    let mut args = mcp("call", &sb.mcp.sdk, &browser);
    args.extend(["echo", "--args", r#"{"text": "hi from the CLI"}"#]);
    let out = cli.run(&args);
    succeeded(&out);
    assert!(
        text(&out.stdout).starts_with("hi from the CLI\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn mcp_call_with_args_that_are_not_a_json_object_exits_2_before_anything_is_sent() {
    // Nothing listens there: had anything been sent, the exit would be 4 (unreachable).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let cli = Cli::new("mcp_bad_args");
    for (given, says) in [
        ("{oops", "--args: not JSON"),
        ("[1, 2]", "--args: the arguments must be a JSON object"),
    ] {
        let out = cli.run(&["mcp", "call", "--url", &url, "echo", "--args", given]);
        let stderr = failed_with(&out, 2);
        assert!(stderr.contains(says), "{given}: {stderr}");
        assert!(
            stderr.contains("Nothing was sent") || stderr.contains("nothing was sent"),
            "{stderr}"
        );
    }
}

#[test]
fn a_tool_result_with_is_error_exits_1_like_a_failed_answer() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_is_error");
    let browser = login("user_2clifail");
    let mut args = mcp("call", &sb.mcp.sdk, &browser);
    args.push("fail");
    let out = cli.run(&args);
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("The tool fail reported an error (isError)."),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "this tool always fails\n");
}

#[test]
fn a_url_that_is_no_mcp_server_exits_1_saying_what_it_answered() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_not_mcp");
    let out = cli.run(&["mcp", "tools", "--url", &sb.mcp.html]);
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains("is not an MCP server: it answers with an HTML page"),
        "{stderr}"
    );
    // A stream that never ends is given up at --max-time, as an API that does not answer (4).
    let out = cli.run(&["mcp", "tools", "--url", &sb.mcp.forever, "--max-time", "1"]);
    let stderr = failed_with(&out, 4);
    assert!(
        stderr.contains("did not answer server/discover within 1.0 s"),
        "{stderr}"
    );
}

#[test]
fn mcp_check_exits_0_for_a_compliant_server_and_1_naming_the_failed_check_for_a_broken_one() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_check");
    let browser = login("user_2clicheck");
    let mut args = mcp("check", &sb.mcp.compliant, &browser);
    args.push("--json");
    let report = json(&cli.run(&args));
    let verdict = |id: &str| {
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .map(|c| c["verdict"].as_str().unwrap().to_owned())
    };
    assert_eq!(verdict("metadata_resource").as_deref(), Some("pass"));
    assert_eq!(verdict("token_audience").as_deref(), Some("pass"));
    assert_eq!(verdict("expired_refused").as_deref(), Some("not_checked"));
    assert_eq!(report["revision"], "2025-11-25");

    // The server that answers 500 without a token: exit 1, and the text report says which.
    let out = cli.run(&mcp("check", &sb.mcp.error_500, &browser));
    let stderr = failed_with(&out, 1);
    assert!(stderr.contains(" checks failed."), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("FAIL  Without a token: 401 with a Bearer challenge"),
        "{stdout}"
    );
    // Clerk's middleware behind it refuses a forged token with a bare 401: failed too.
    assert!(
        stdout.contains("FAIL  A wrongly signed token: refused"),
        "{stdout}"
    );
    assert!(stdout.contains("pass  PKCE with S256 offered"), "{stdout}");
    assert!(!stdout.contains("eyJ"), "{stdout}");
}

#[test]
fn mcp_tools_steps_up_for_the_scope_a_403_names_only_with_step_up() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_step_up");
    let browser = login("user_2clistepup");
    let out = cli.run(&mcp("tools", &sb.mcp.scoped, &browser));
    // Refused for want of authorization: the sign-in exit code, as for a 401.
    let stderr = failed_with(&out, 3);
    assert!(
        stderr.contains("needs the scope mcp:admin (HTTP 403 insufficient_scope)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Run again with --step-up to sign in asking for mcp:admin too."),
        "{stderr}"
    );
    let mut args = mcp("tools", &sb.mcp.scoped, &browser);
    args.push("--step-up");
    let out = cli.run(&args);
    let stderr = succeeded(&out);
    assert!(
        stderr.contains("asking also for mcp:admin (step-up)"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).starts_with("echo\t"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn mcp_call_with_client_metadata_url_signs_in_with_the_document_as_the_client_id() {
    let sb = keyhole_sandbox::shared();
    let cli = Cli::new("mcp_cimd");
    let browser = login("user_2clicimd");
    let port = sb.cimd.redirect_port.to_string();
    let args = [
        "mcp",
        "call",
        "--url",
        &sb.mcp.modern,
        "--browser-command",
        &browser,
        "--client-metadata-url",
        &sb.cimd.url,
        "--redirect-port",
        &port,
        "whoami",
        "--json",
    ];
    let out = cli.run(&args);
    let answer = json(&out);
    assert_eq!(answer["structured"]["clientId"], sb.cimd.url.as_str());
    assert!(
        text(&out.stderr).contains("with your Client ID Metadata Document as its client ID"),
        "{}",
        text(&out.stderr)
    );
    // Not an https URL: refused as a setting (exit 2), saying what is wrong; no sign-in starts.
    let out = cli.run(&[
        "mcp",
        "call",
        "--url",
        &sb.mcp.modern,
        "--client-metadata-url",
        "http://example.com/client.json",
        "whoami",
    ]);
    let stderr = failed_with(&out, 2);
    assert!(stderr.contains("must be an https URL"), "{stderr}");
}
