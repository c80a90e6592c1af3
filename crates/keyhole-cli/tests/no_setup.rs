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

use keyhole_core::SecretStore;
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
        .env("KEYHOLE_KEYCHAIN_SERVICE", service_of(service))
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

// --- registrations across runs (these need a Secret Service: scripts/test starts one) ----------

fn registrations(sb: &Sandbox) -> u64 {
    sb.stats().expect("stats")["registrations"]
        .as_u64()
        .expect("a count")
}

/// The keychain service a test's CLI runs use (see `command`).
fn service_of(name: &str) -> String {
    format!("dev.keyhole.test.nosetup.{name}.{}", std::process::id())
}

/// The provider forgets Keyhole's registered client: an RFC 7592 DELETE with the registration
/// access token Keyhole keeps in the keychain.
fn provider_forgets_the_registration(service: &str, issuer: &str) {
    let keychain = keyhole_core::Keychain::open_service(service).expect("a Secret Service");
    let entry = keychain
        .load(&keyhole_core::registration::registration_account(issuer))
        .expect("keychain answers")
        .expect("a stored registration");
    keyhole_sandbox::forget_registration(entry.secret()).expect("the provider forgets it");
}

#[test]
fn status_sign_out_and_token_without_a_client_id_only_reuse_a_stored_registration() {
    let sb = Sandbox::start().expect("a sandbox of its own, to count registrations");
    let service = "lookup";
    // Nothing registered yet: nothing to look at, and nothing is registered to find out.
    let out = run(service, &["status", "--instance", &sb.issuer]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("Not signed in to {}", sb.issuer)),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let out = run(service, &["sign-out", "--instance", &sb.issuer]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(service, &["token", "--instance", &sb.issuer]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert_eq!(registrations(&sb), 0, "looking never registers");

    // A sign-in registers once; status and sign-out then use that client.
    let out = run(
        service,
        &[
            "sign-in",
            "--instance",
            &sb.issuer,
            "--browser-command",
            &standin("user_2lookup"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(registrations(&sb), 1);
    let out = run(service, &["status", "--instance", &sb.issuer]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("Signed in to {} as user_2lookup", sb.issuer)),
        "{stdout}"
    );
    let out = run(service, &["sign-out", "--instance", &sb.issuer]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("the provider revoked the session"),
        "{stderr}"
    );
    let out = run(service, &["status", "--instance", &sb.issuer]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(registrations(&sb), 1, "status and sign-out reused it");
}

#[test]
fn a_registered_client_the_provider_forgot_is_registered_again_once_in_the_loopback_flow() {
    let sb = Sandbox::start().expect("a sandbox of its own, to count registrations");
    let service = "forgotten";
    let sign_in = |login: &str| {
        run(
            service,
            &[
                "sign-in",
                "--instance",
                &sb.issuer,
                "--browser-command",
                &standin(login),
            ],
        )
    };
    let out = sign_in("user_2forgot1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(registrations(&sb), 1);

    provider_forgets_the_registration(&service_of(service), &sb.issuer);
    let out = sign_in("user_2forgot2");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .matches("no longer knew Keyhole's registered client, so Keyhole registered again")
            .count(),
        1,
        "said once: {stderr}"
    );
    assert!(stderr.contains("Signed in as user_2forgot2"), "{stderr}");
    assert_eq!(registrations(&sb), 2, "registered again exactly once");

    // The new client is kept: the next run reuses it and says nothing about registering.
    let out = sign_in("user_2forgot3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("registered"), "{stderr}");
    assert_eq!(registrations(&sb), 2);
}
