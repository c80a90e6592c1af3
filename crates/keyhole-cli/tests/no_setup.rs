//! Issue 10 through `keyhole-cli` run as a process against the real sandbox: `sign-in --device`,
//! `call --device`, the device flow offered by itself without a display, `--client-id` left out
//! (dynamic registration), and `call --api-url URL` with nothing else (RFC 9728).
//!
//! Registration reuse across runs needs a keychain: run with a Secret Service (scripts/test
//! starts one); without it each run keeps its registration in memory and registers again.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use keyhole_sandbox::{Sandbox, SandboxOptions};

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::start_with(SandboxOptions {
            device_interval: Some(1),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn command(service: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyhole-cli"));
    cmd.args(args)
        .env(
            "KEYHOLE_KEYCHAIN_SERVICE",
            format!("dev.keyhole.test.nosetup.{service}.{}", std::process::id()),
        )
        .env_remove("KEYHOLE_INSTANCE")
        .env_remove("KEYHOLE_CLIENT_ID")
        .env_remove("KEYHOLE_API_URL")
        .env_remove("KEYHOLE_BROWSER")
        .env_remove("KEYHOLE_DEVICE");
    cmd
}

fn run(service: &str, args: &[&str]) -> Output {
    command(service, args).output().expect("keyhole-cli runs")
}

fn standin(login: &str) -> String {
    let script = keyhole_sandbox::sandbox_dir().join("login-http.mjs");
    format!("node {} --login {login}", script.display())
}

/// Runs the CLI, waits for the device code on its stderr, completes it "on another device" as
/// `login` (or declines), and returns the CLI's output with its whole stderr.
fn with_device(mut cmd: Command, login: Option<&str>) -> (Output, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyhole-cli runs");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("Or open: ") {
                let _ = tx.send(url.to_owned());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the CLI showed a device code");
    let device = match login {
        Some(login) => keyhole_sandbox::device_login(&url, login),
        None => keyhole_sandbox::device_deny(&url),
    };
    device.expect("the other device finished");
    let output = child.wait_with_output().expect("keyhole-cli ends");
    let stderr = reader.join().expect("stderr reader");
    (output, stderr)
}

#[test]
fn sign_in_device_shows_the_code_on_stderr_and_signs_in() {
    let sb = sandbox();
    let cmd = command(
        "device",
        &[
            "sign-in",
            "--device",
            "--instance",
            &sb.issuer,
            "--client-id",
            &sb.client_id,
        ],
    );
    let (out, stderr) = with_device(cmd, Some("user_2clidevice"));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("To sign in, visit "), "{stderr}");
    assert!(stderr.contains("and enter the code: "), "{stderr}");
    assert!(stderr.contains("Signed in as user_2clidevice"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn call_device_signs_in_with_a_code_and_calls_the_api() {
    let sb = sandbox();
    let cmd = command(
        "calldevice",
        &[
            "call",
            "--device",
            "--instance",
            &sb.issuer,
            "--client-id",
            &sb.client_id,
            "--api-url",
            &sb.api.strict,
        ],
    );
    let (out, stderr) = with_device(cmd, Some("user_2clicall"));
    assert!(out.status.success(), "{stderr}");
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(auth["userId"], "user_2clicall");
}

#[test]
fn a_declined_device_sign_in_is_one_sentence_and_exit_3() {
    let sb = sandbox();
    let cmd = command(
        "declined",
        &[
            "sign-in",
            "--device",
            "--instance",
            &sb.issuer,
            "--client-id",
            &sb.client_id,
        ],
    );
    let (out, stderr) = with_device(cmd, None);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("The sign-in was declined on the device where the code was entered"),
        "{stderr}"
    );
}

#[test]
fn without_a_display_or_browser_the_cli_offers_the_device_flow_by_itself() {
    let sb = sandbox();
    let mut cmd = command(
        "nodisplay",
        &[
            "sign-in",
            "--instance",
            &sb.issuer,
            "--client-id",
            &sb.client_id,
        ],
    );
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let (out, stderr) = with_device(cmd, Some("user_2headless"));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("No display or browser here, so Keyhole signs in with a code"),
        "{stderr}"
    );
}

#[test]
fn without_a_client_id_the_cli_registers_keyhole_and_signs_in() {
    let sb = sandbox();
    let out = run(
        "register",
        &[
            "call",
            "--instance",
            &sb.issuer,
            "--api-url",
            &sb.api.strict,
            "--browser-command",
            &standin("user_2cliregistered"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Keyhole registered itself as a client"),
        "{stderr}"
    );
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(auth["userId"], "user_2cliregistered");
    assert_ne!(auth["clientId"], sb.client_id.as_str());
}

#[test]
fn call_with_only_the_api_url_finds_the_provider_registers_and_calls() {
    let sb = sandbox();
    let out = run(
        "apionly",
        &[
            "call",
            "--api-url",
            &sb.api.strict,
            "--browser-command",
            &standin("user_2apionly"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "The API names {} as its authorization server",
            sb.issuer
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Keyhole registered itself as a client"),
        "{stderr}"
    );
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(auth["userId"], "user_2apionly");
}

#[test]
fn no_registration_and_no_client_id_is_one_sentence_and_exit_2() {
    let adversary = keyhole_sandbox::adversary::Adversary::start().expect("adversary");
    let out = run("noreg", &["sign-in", "--instance", &adversary.issuer]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: --client-id: "), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn an_api_that_says_nothing_about_sign_in_is_one_sentence() {
    let sb = sandbox();
    let out = run("nometadata", &["call", "--api-url", &sb.api.session_only]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("does not say how to sign in to it"),
        "{stderr}"
    );
}
