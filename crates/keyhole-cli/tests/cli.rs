//! `keyhole-cli` run as a process against the real sandbox, the browser stood in by the sandbox's
//! plain-HTTP login script (passed with --browser-command, as a user would pass their browser).

mod common;

use std::process::Command;

use common::{assert_not_signed_in, browser, failed_with, succeeded, text, Cli};

#[test]
fn call_signs_in_and_prints_the_apis_auth_object() {
    let sandbox = keyhole_sandbox::shared();
    let out = Cli::new("success").call(
        sandbox,
        "user_2cli",
        &["--api-url", &sandbox.api.lax, "--timeout", "60"],
    );
    let stderr = succeeded(&out);
    let auth: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the API's JSON");
    assert_eq!(auth["userId"], "user_2cli");
    assert!(stderr.contains("Signed in as user_2cli"), "{stderr}");
    assert!(stderr.contains("→ 200 OK"), "{stderr}");
}

#[test]
fn call_against_the_session_only_api_exits_zero_but_prints_the_diagnosis() {
    let sandbox = keyhole_sandbox::shared();
    let out = Cli::new("diagnosis").call(
        sandbox,
        "user_2cli_diag",
        &["--api-url", &sandbox.api.session_only],
    );
    let stderr = succeeded(&out);
    assert!(
        stderr.contains("Diagnosis:") && stderr.contains("acceptsToken"),
        "{stderr}"
    );
}

#[test]
fn a_denied_sign_in_fails_with_the_providers_error_and_exit_code_3() {
    let sandbox = keyhole_sandbox::shared();
    let out = Cli::new("denied").call_with_browser(
        sandbox,
        &browser("--deny"),
        &["--api-url", &sandbox.api.lax],
    );
    let stderr = failed_with(&out, 3);
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unreachable_api_fails_with_exit_code_4_after_signing_in() {
    let sandbox = keyhole_sandbox::shared();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let out = Cli::new("unreachable").call(
        sandbox,
        "user_2cli_down",
        &["--api-url", &format!("http://127.0.0.1:{port}/x")],
    );
    let stderr = failed_with(&out, 4);
    assert!(stderr.contains("refused"), "{stderr}");
}

#[test]
fn a_bad_setting_names_the_flag_and_exits_2_without_opening_a_browser() {
    let out = Cli::new("bad_setting").run(&[
        "call",
        "--instance",
        "pk_test_broken",
        "--client-id",
        "abc",
        "--api-url",
        "http://127.0.0.1:1/",
        "--browser-command",
        "/nonexistent/browser",
    ]);
    let stderr = failed_with(&out, 2);
    assert!(
        stderr.contains("--instance") && stderr.contains("publishable key"),
        "{stderr}"
    );
}

#[test]
fn no_token_value_reaches_the_output_even_with_debug_logging() {
    let sandbox = keyhole_sandbox::shared();
    let browser = common::login("user_2cli_log");
    let mut args = vec![
        "call",
        "--api-url",
        &sandbox.api.lax,
        "--browser-command",
        &browser,
    ];
    args.extend(common::settings(sandbox));
    args.push("--json");
    let out = Cli::new("log")
        .command(&args)
        .env("KEYHOLE_LOG", "trace")
        .output()
        .expect("keyhole-cli runs");
    let stdout = text(&out.stdout);
    let stderr = succeeded(&out);
    // A JWT starts with base64url of '{"' — "eyJ". None may appear anywhere.
    assert!(
        !stdout.contains("eyJ") && !stderr.contains("eyJ"),
        "a token leaked:\n{stdout}\n{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(doc["session"]["subject"], "user_2cli_log");
}

#[test]
fn a_session_signed_in_once_serves_later_processes_until_sign_out() {
    let sandbox = keyhole_sandbox::shared();
    let cli = Cli::new("lifecycle").signing_in_to(sandbox);
    let browser = common::login("user_2cli_life");
    succeeded(&cli.run(&["sign-in", "--browser-command", &browser]));

    // A new process calls without any browser: one that cannot open would fail it in 2 s.
    let out = cli.run(&[
        "call",
        "--api-url",
        &sandbox.api.lax,
        "--browser-command",
        "/nonexistent/browser",
        "--timeout",
        "2",
    ]);
    let stderr = succeeded(&out);
    assert!(stderr.contains("Using the stored session"), "{stderr}");
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(auth["userId"], "user_2cli_life");

    let out = cli.run(&["status"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("as user_2cli_life"),
        "{stdout}"
    );

    succeeded(&cli.run(&["sign-out"]));

    let out = cli.run(&["status"]);
    assert_not_signed_in(&out);
}

#[test]
fn version_names_the_package_version_and_the_commit_it_was_built_from() {
    // What build.rs should have found: the checked-out commit, or "unknown" without git.
    let head = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| text(&o.stdout).trim().to_owned());
    let commit = std::env::var("KEYHOLE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or(head)
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        Cli::new("docs").run_ok(&["--version"]).trim(),
        format!(
            "keyhole-cli {} (commit {commit})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn completions_complete_every_subcommand_and_option() {
    let bash = Cli::new("docs").run_ok(&["completions", "bash"]);
    assert!(bash.contains("complete -F _keyhole__cli"), "{bash}");
    for word in [
        "call",
        "sign-in",
        "status",
        "sign-out",
        "--api-url",
        "--client-id",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let zsh = Cli::new("docs").run_ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef keyhole-cli"), "{zsh}");
    let refused = Cli::new("docs").run(&["completions", "tcsh"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_pages_come_from_the_clap_definitions() {
    let page = Cli::new("docs").run_ok(&["man"]);
    assert!(page.contains(".TH keyhole-cli 1"), "{page}");
    assert!(
        page.contains("sign\\-out"),
        "subcommands are listed: {page}"
    );

    let dir = std::env::temp_dir().join(format!("keyhole-cli-man-{}", std::process::id()));
    Cli::new("docs").run_ok(&["man", "--out-dir", dir.to_str().expect("UTF-8 temp dir")]);
    let call =
        std::fs::read_to_string(dir.join("keyhole-cli-call.1")).expect("a page per subcommand");
    assert!(call.contains("\\-\\-api\\-url"), "{call}");
    assert!(dir.join("keyhole-cli.1").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
