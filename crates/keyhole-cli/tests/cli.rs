//! `keyhole-cli` run as a process against the real sandbox, the browser stood in by the sandbox's
//! plain-HTTP login script (passed with --browser-command, as a user would pass their browser).

use std::process::{Command, Output};

/// Runs keyhole-cli with its own keychain service, so tests never share a stored session.
fn cli_in(service: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyhole-cli"))
        .args(args)
        .env(
            "KEYHOLE_KEYCHAIN_SERVICE",
            format!("dev.keyhole.test.cli.{service}.{}", std::process::id()),
        )
        .env_remove("KEYHOLE_INSTANCE")
        .env_remove("KEYHOLE_CLIENT_ID")
        .env_remove("KEYHOLE_API_URL")
        .env_remove("KEYHOLE_BROWSER")
        .output()
        .expect("keyhole-cli runs")
}

fn standin(login: &str) -> String {
    let script = keyhole_sandbox::sandbox_dir().join("login-http.mjs");
    format!("node {} --login {login}", script.display())
}

#[test]
fn call_signs_in_and_prints_the_apis_auth_object() {
    let sandbox = keyhole_sandbox::shared();
    let browser = standin("user_2cli");
    let out = cli_in(
        "success",
        &[
            "call",
            "--instance",
            &sandbox.issuer,
            "--client-id",
            &sandbox.client_id,
            "--api-url",
            &sandbox.api.lax,
            "--browser-command",
            &browser,
            "--timeout",
            "60",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let auth: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is the API's JSON");
    assert_eq!(auth["userId"], "user_2cli");
    assert!(stderr.contains("Signed in as user_2cli"), "{stderr}");
    assert!(stderr.contains("→ 200 OK"), "{stderr}");
}

#[test]
fn call_against_the_session_only_api_exits_zero_but_prints_the_diagnosis() {
    let sandbox = keyhole_sandbox::shared();
    let browser = standin("user_2cli_diag");
    let out = cli_in(
        "diagnosis",
        &[
            "call",
            "--instance",
            &sandbox.issuer,
            "--client-id",
            &sandbox.client_id,
            "--api-url",
            &sandbox.api.session_only,
            "--browser-command",
            &browser,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Diagnosis:") && stderr.contains("acceptsToken"),
        "{stderr}"
    );
}

#[test]
fn a_denied_sign_in_fails_with_the_providers_error_and_exit_code_3() {
    let sandbox = keyhole_sandbox::shared();
    let script = keyhole_sandbox::sandbox_dir().join("login-http.mjs");
    let browser = format!("node {} --deny", script.display());
    let out = cli_in(
        "denied",
        &[
            "call",
            "--instance",
            &sandbox.issuer,
            "--client-id",
            &sandbox.client_id,
            "--api-url",
            &sandbox.api.lax,
            "--browser-command",
            &browser,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("access_denied"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unreachable_api_fails_with_exit_code_4_after_signing_in() {
    let sandbox = keyhole_sandbox::shared();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let browser = standin("user_2cli_down");
    let out = cli_in(
        "unreachable",
        &[
            "call",
            "--instance",
            &sandbox.issuer,
            "--client-id",
            &sandbox.client_id,
            "--api-url",
            &format!("http://127.0.0.1:{port}/x"),
            "--browser-command",
            &browser,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
}

#[test]
fn a_bad_setting_names_the_flag_and_exits_2_without_opening_a_browser() {
    let out = cli_in(
        "bad_setting",
        &[
            "call",
            "--instance",
            "pk_test_broken",
            "--client-id",
            "abc",
            "--api-url",
            "http://127.0.0.1:1/",
            "--browser-command",
            "/nonexistent/browser",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--instance") && stderr.contains("publishable key"),
        "{stderr}"
    );
}

#[test]
fn no_token_value_reaches_the_output_even_with_debug_logging() {
    let sandbox = keyhole_sandbox::shared();
    let browser = standin("user_2cli_log");
    let out = Command::new(env!("CARGO_BIN_EXE_keyhole-cli"))
        .args([
            "call",
            "--instance",
            &sandbox.issuer,
            "--client-id",
            &sandbox.client_id,
            "--api-url",
            &sandbox.api.lax,
            "--browser-command",
            &browser,
            "--json",
        ])
        .env("KEYHOLE_LOG", "trace")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // A JWT starts with base64url of '{"' — "eyJ". None may appear anywhere.
    assert!(
        !stdout.contains("eyJ") && !stderr.contains("eyJ"),
        "a token leaked:\n{stdout}\n{stderr}"
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["session"]["subject"], "user_2cli_log");
}

#[test]
fn a_session_signed_in_once_serves_later_processes_until_sign_out() {
    let sandbox = keyhole_sandbox::shared();
    let service = "lifecycle";
    let common = [
        "--instance",
        sandbox.issuer.as_str(),
        "--client-id",
        sandbox.client_id.as_str(),
    ];
    let browser = standin("user_2cli_life");
    let mut sign_in = vec!["sign-in", "--browser-command", browser.as_str()];
    sign_in.extend(common);
    let out = cli_in(service, &sign_in);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A new process calls without any browser: one that cannot open would fail it in 2 s.
    let mut call = vec![
        "call",
        "--api-url",
        sandbox.api.lax.as_str(),
        "--browser-command",
        "/nonexistent/browser",
        "--timeout",
        "2",
    ];
    call.extend(common);
    let out = cli_in(service, &call);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Using the stored session"), "{stderr}");
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(auth["userId"], "user_2cli_life");

    let mut status = vec!["status"];
    status.extend(common);
    let out = cli_in(service, &status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("as user_2cli_life"),
        "{stdout}"
    );

    let mut sign_out = vec!["sign-out"];
    sign_out.extend(common);
    let out = cli_in(service, &sign_out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let out = cli_in(service, &status);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Not signed in"));
}

fn run_ok(args: &[&str]) -> String {
    let out = cli_in("docs", args);
    assert!(
        out.status.success(),
        "keyhole-cli {args:?}: exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
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
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let commit = std::env::var("KEYHOLE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or(head)
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        run_ok(&["--version"]).trim(),
        format!(
            "keyhole-cli {} (commit {commit})",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn completions_complete_every_subcommand_and_option() {
    let bash = run_ok(&["completions", "bash"]);
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
    let zsh = run_ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef keyhole-cli"), "{zsh}");
    let refused = cli_in("docs", &["completions", "tcsh"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn the_man_pages_come_from_the_clap_definitions() {
    let page = run_ok(&["man"]);
    assert!(page.contains(".TH keyhole-cli 1"), "{page}");
    assert!(
        page.contains("sign\\-out"),
        "subcommands are listed: {page}"
    );

    let dir = std::env::temp_dir().join(format!("keyhole-cli-man-{}", std::process::id()));
    run_ok(&["man", "--out-dir", dir.to_str().expect("UTF-8 temp dir")]);
    let call =
        std::fs::read_to_string(dir.join("keyhole-cli-call.1")).expect("a page per subcommand");
    assert!(call.contains("\\-\\-api\\-url"), "{call}");
    assert!(dir.join("keyhole-cli.1").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
