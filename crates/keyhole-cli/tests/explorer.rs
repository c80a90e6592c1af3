//! `keyhole-cli call` as an API explorer, run as a process against the real sandbox's echo
//! endpoint (Express + @clerk/express): every request flag, the answer's forms (-i, --json),
//! copy as curl (run in a shell, same answer), `token`, and profiles with their own sessions.

mod common;

use std::path::Path;
use std::process::Command;

use keyhole_sandbox::Sandbox;

use common::{assert_not_signed_in, failed_with, json, login, settings, text, Cli};

/// The shared sandbox, and a CLI with a keychain service and a config dir of `test`'s own.
fn explorer(test: &str) -> (&'static Sandbox, Cli) {
    (keyhole_sandbox::shared(), Cli::new(test).with_config_dir())
}

/// Saves `sandbox`'s instance and client with its echo API as profile `name`.
fn save_profile(cli: &Cli, sandbox: &Sandbox, name: &str) {
    let mut save = vec!["profile", "save", name, "--api-url", &sandbox.api.echo];
    save.extend(settings(sandbox));
    let out = cli.run(&save);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn method_headers_and_a_json_body_reach_the_api_with_the_token() {
    let (sandbox, cli) = explorer("post");
    let out = cli.call(
        sandbox,
        "user_2post",
        &[
            "--api-url",
            &format!("{}?page=2", sandbox.api.echo),
            "-X",
            "post",
            "-H",
            "X-Trace: keyhole-cli",
            "-d",
            r#"{"hello": "world"}"#,
        ],
    );
    let seen = json(&out);
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["query"]["page"], "2");
    assert_eq!(seen["headers"]["x-trace"], "keyhole-cli");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    assert_eq!(seen["body"], r#"{"hello": "world"}"#);
    assert_eq!(seen["userId"], "user_2post");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("POST http://"), "{stderr}");
    assert!(stderr.contains("first byte"), "{stderr}");
}

#[test]
fn a_token_meant_for_another_api_is_warned_about_once() {
    let (sandbox, cli) = explorer("audience");
    // A token for the lax API (RFC 8707 resource, as set-up from an API URL keeps it in the
    // profile), sent to the session-only API on another port.
    let lax = url::Url::parse(&sandbox.api.lax).unwrap();
    std::fs::create_dir_all(cli.config_dir()).unwrap();
    keyhole_core::Profiles::at(cli.config_dir().join("profiles.json"))
        .save(keyhole_core::Profile {
            name: "aud".into(),
            settings: keyhole_core::Settings {
                instance: sandbox.issuer.clone(),
                client_id: sandbox.client_id.clone(),
                scopes: keyhole_core::DEFAULT_SCOPES.into(),
                resource: lax.origin().ascii_serialization(),
                ..keyhole_core::Settings::default()
            },
            requests: Vec::new(),
        })
        .unwrap();
    let out = cli.run(&[
        "call",
        "--profile",
        "aud",
        "--browser-command",
        &login("user_2audience"),
        "--api-url",
        &sandbox.api.session_only,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("(its audience)").count(),
        1,
        "said once, as Warning: {stderr}"
    );
    assert!(
        stderr.contains("Warning: Your access token is meant for"),
        "{stderr}"
    );
}

#[test]
fn data_from_a_file_that_is_not_json_is_sent_as_text() {
    let (sandbox, cli) = explorer("file");
    std::fs::create_dir_all(cli.config_dir()).unwrap();
    let file = cli.config_dir().join("body.txt");
    std::fs::write(&file, "plain words").unwrap();
    let data = format!("@{}", file.display());
    let out = cli.call(
        sandbox,
        "user_2file",
        &["--api-url", &sandbox.api.echo, "-X", "PUT", "-d", &data],
    );
    let seen = json(&out);
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["body"], "plain words");
    assert_eq!(seen["headers"]["content-type"], "text/plain; charset=utf-8");
}

#[test]
fn no_token_sends_as_a_signed_out_caller_without_signing_in() {
    let (sandbox, cli) = explorer("notoken");
    let mut args = vec![
        "call",
        "--no-token",
        "--api-url",
        &sandbox.api.echo,
        // Any attempt to sign in would fail on this browser.
        "--browser-command",
        "/nonexistent/browser",
        "--timeout",
        "2",
    ];
    args.extend(settings(sandbox));
    let seen = json(&cli.run(&args));
    assert_eq!(seen["userId"], serde_json::Value::Null);
    assert!(seen["headers"].get("authorization").is_none(), "{seen}");
}

#[test]
fn include_prints_the_status_line_and_headers_and_json_prints_everything() {
    let (sandbox, cli) = explorer("forms");
    let out = cli.call(
        sandbox,
        "user_2forms",
        &["--api-url", &sandbox.api.echo, "-i"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (head, body) = stdout
        .split_once("\n\n")
        .expect("a blank line after the headers");
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    assert!(
        lines.any(|l| l.starts_with("content-type: application/json")),
        "{head}"
    );
    let _: serde_json::Value = serde_json::from_str(body).expect("the body follows");

    let out = cli.call(
        sandbox,
        "user_2forms",
        &["--api-url", &sandbox.api.echo, "--json"],
    );
    let doc = json(&out);
    assert_eq!(doc["status"], 200);
    assert_eq!(doc["method"], "GET");
    assert!(doc["headers"].as_array().is_some_and(|h| !h.is_empty()));
    assert_eq!(doc["body"]["kind"], "json");
    assert!(doc["elapsedMs"].as_u64().is_some() && doc["ttfbMs"].as_u64().is_some());
    assert!(doc["size"].as_u64().is_some_and(|s| s > 0));
    assert_eq!(doc["session"]["subject"], "user_2forms");
}

#[test]
fn curl_sends_nothing_and_its_command_gets_the_same_answer_in_a_shell() {
    let (sandbox, cli) = explorer("curl");
    let request = [
        "--api-url",
        sandbox.api.echo.as_str(),
        "-X",
        "POST",
        "-H",
        "X-Trace: copied",
        "-d",
        r#"{"n":1}"#,
    ];
    // Before any sign-in: --curl needs no session and opens no browser.
    let mut args = vec!["call", "--curl"];
    args.extend(request);
    args.extend([
        "--browser-command",
        "/nonexistent/browser",
        "--timeout",
        "2",
    ]);
    args.extend(settings(sandbox));
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let curl = text(&out.stdout).trim().to_owned();
    assert!(curl.starts_with("curl "), "{curl}");
    assert!(curl.contains("$(keyhole-cli token --instance"), "{curl}");

    // Signed in, the pasted command runs as is and the API sees the same request and user.
    let direct = json(&cli.call(sandbox, "user_2curl", &request));
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_keyhole-cli"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let shell = Command::new("sh")
        .args(["-c", &curl])
        .env("PATH", path)
        .env("KEYHOLE_KEYCHAIN_SERVICE", &cli.service)
        .output()
        .expect("sh runs");
    assert!(
        shell.status.success(),
        "curl failed: {}",
        text(&shell.stderr)
    );
    let pasted: serde_json::Value = serde_json::from_slice(&shell.stdout).expect("JSON");
    for key in ["method", "query", "body", "userId"] {
        assert_eq!(pasted[key], direct[key], "{key}");
    }
    assert_eq!(pasted["headers"]["x-trace"], "copied");
    assert_eq!(pasted["userId"], "user_2curl");
}

#[test]
fn token_prints_only_the_token() {
    let (sandbox, cli) = explorer("token");
    let mut args = vec!["token"];
    args.extend(settings(sandbox));
    let out = cli.run(&args);
    assert_eq!(out.status.code(), Some(3), "not signed in yet");
    assert!(out.stdout.is_empty());

    json(&cli.call(sandbox, "user_2token", &["--api-url", &sandbox.api.echo]));
    let out = cli.run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    // Not printed: the test output is checked for token values.
    assert_eq!(lines.len(), 1, "one line");
    assert!(
        lines[0].len() > 20 && !lines[0].contains(' '),
        "looks like a token"
    );
}

#[test]
fn profiles_are_saved_listed_used_by_name_and_keep_their_own_sessions() {
    let (sandbox, cli) = explorer("profiles");
    save_profile(&cli, sandbox, "local");
    let list = text(&cli.run(&["profile", "list"]).stdout);
    assert_eq!(
        list.trim(),
        format!("local\t{}\t{}", sandbox.issuer, sandbox.api.echo)
    );

    let browser = login("user_2profile");
    let out = cli.run(&["call", "--profile", "local", "--browser-command", &browser]);
    assert_eq!(json(&out)["userId"], "user_2profile");
    // The environment names the profile too.
    let out = cli
        .command(&["status"])
        .env("KEYHOLE_PROFILE", "local")
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("as user_2profile"),
        "{}",
        text(&out.stdout)
    );
    // Same instance and client without the profile: another session, not signed in.
    let mut status = vec!["status"];
    status.extend(settings(sandbox));
    let out = cli.run(&status);
    assert_not_signed_in(&out);

    let out = cli.run(&["status", "--profile", "nope"]);
    let stderr = failed_with(&out, 2);
    assert!(
        stderr.contains("--profile") && stderr.contains("the profiles are local"),
        "{stderr}"
    );
    cli.run(&["sign-out", "--profile", "local"]);
}

#[test]
fn bad_request_flags_are_settings_errors_before_any_sign_in() {
    let (sandbox, cli) = explorer("badflags");
    for (flags, names) in [
        (vec!["-H", "no colon here"], "--header"),
        (vec!["-X", "BREW"], "--request"),
        (vec!["-H", "Bad Name: x"], "--header"),
        (vec!["--max-time", "0"], "--max-time"),
        (vec!["-d", "@/nonexistent/file"], "--data"),
    ] {
        let mut args = vec![
            "call",
            "--api-url",
            &sandbox.api.echo,
            "--browser-command",
            "/nonexistent/browser",
        ];
        args.extend(settings(sandbox));
        args.extend(flags.iter());
        let out = cli.run(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(names), "{flags:?}: {stderr}");
        assert!(!stderr.contains("Opening your browser"), "{stderr}");
    }
}

#[test]
fn a_call_slower_than_max_time_is_a_timeout_with_exit_code_4() {
    let (sandbox, cli) = explorer("maxtime");
    let slow = format!("{}?ms=5000", sandbox.api.slow);
    let out = cli.call(
        sandbox,
        "user_2slow",
        &["--api-url", &slow, "--max-time", "1"],
    );
    let stderr = failed_with(&out, 4);
    assert!(
        stderr.contains("did not answer within 1 s") && stderr.contains("--max-time"),
        "{stderr}"
    );
}

#[test]
fn saved_requests_are_listed_and_sent_by_name_with_flags_on_top() {
    let (sandbox, cli) = explorer("saved");
    save_profile(&cli, sandbox, "a");
    let out = cli.run(&["profile", "requests", "a"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "none saved yet");

    // The window saves requests through the engine; so does this test.
    let profiles = keyhole_core::Profiles::at(cli.config_dir().join("profiles.json"));
    let mut request =
        keyhole_core::ApiRequest::get(&format!("{}?from=saved", sandbox.api.echo).parse().unwrap());
    request.method = keyhole_core::Method::Post;
    request.headers = vec![
        keyhole_core::Pair::new("X-Trace", "saved"),
        keyhole_core::Pair::new("Cookie", "session=typed-by-hand"),
    ];
    request.body = keyhole_core::RequestBody::Json {
        text: r#"{"saved": true}"#.into(),
    };
    profiles
        .save_request("a", "echo post", &request)
        .expect("saved");
    let file = std::fs::read_to_string(profiles.path()).unwrap();
    assert!(!file.contains("typed-by-hand"), "{file}");

    let out = cli.run(&["profile", "requests", "a"]);
    assert_eq!(
        text(&out.stdout).trim(),
        format!("echo post\tPOST\t{}?from=saved", sandbox.api.echo)
    );

    // Sent as saved: method, query, header and body; the token is Keyhole's own.
    let browser = login("user_2saved");
    let base = [
        "call",
        "--profile",
        "a",
        "--browser-command",
        browser.as_str(),
        "--saved",
        "echo post",
    ];
    let out = cli.run(&base);
    let seen = json(&out);
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["query"]["from"], "saved");
    assert_eq!(seen["headers"]["x-trace"], "saved");
    assert_eq!(seen["body"], r#"{"saved": true}"#);
    assert_eq!(seen["userId"], "user_2saved");

    // Flags given override it: the method, a header of the same name, the URL.
    let other = format!("{}?from=flag", sandbox.api.echo);
    let mut args = base.to_vec();
    args.extend(["-X", "PUT", "-H", "x-trace: flag", "--api-url", &other]);
    let seen = json(&cli.run(&args));
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["query"]["from"], "flag");
    assert_eq!(seen["headers"]["x-trace"], "flag");
    assert_eq!(seen["body"], r#"{"saved": true}"#);

    // Unknown names say which there are; --saved needs a profile.
    let mut args = base.to_vec();
    args[6] = "nope";
    let out = cli.run(&args);
    let stderr = failed_with(&out, 2);
    assert!(
        stderr.contains("--saved") && stderr.contains("it has echo post"),
        "{stderr}"
    );
    let mut args = vec!["call", "--saved", "echo post"];
    args.extend(settings(sandbox));
    let out = cli.run(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--profile"),
        "{}",
        text(&out.stderr)
    );
    let out = cli.run(&["profile", "requests", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    cli.run(&["sign-out", "--profile", "a"]);
}
