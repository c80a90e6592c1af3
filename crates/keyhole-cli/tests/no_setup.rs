//! Issue 10 through `keyhole-cli` run as a process against the real sandbox: `sign-in --device`,
//! `call --device`, the device flow offered by itself without a display, `--client-id` left out
//! (dynamic registration), and `call --api-url URL` with nothing else (RFC 9728).
//!
//! Registration reuse across runs needs a keychain: run with a Secret Service (scripts/test
//! starts one); without it each run keeps its registration in memory and registers again.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use keyhole_core::SecretStore;
use keyhole_sandbox::{Sandbox, SandboxOptions};

use common::{failed_with, login, succeeded, text, Cli};

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
    let cmd = Cli::new("device")
        .signing_in_to(sandbox())
        .command(&["sign-in", "--device"]);
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
    let cmd = Cli::new("calldevice").signing_in_to(sb).command(&[
        "call",
        "--device",
        "--api-url",
        &sb.api.strict,
    ]);
    let (out, stderr) = with_device(cmd, Some("user_2clicall"));
    assert!(out.status.success(), "{stderr}");
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(auth["userId"], "user_2clicall");
}

#[test]
fn a_declined_device_sign_in_is_one_sentence_and_exit_3() {
    let cmd = Cli::new("declined")
        .signing_in_to(sandbox())
        .command(&["sign-in", "--device"]);
    let (out, stderr) = with_device(cmd, None);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("The sign-in was declined on the device where the code was entered"),
        "{stderr}"
    );
}

#[test]
fn without_a_display_or_browser_the_cli_offers_the_device_flow_by_itself() {
    let mut cmd = Cli::new("nodisplay")
        .signing_in_to(sandbox())
        .command(&["sign-in"]);
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let (out, stderr) = with_device(cmd, Some("user_2headless"));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("No display or browser here, so Keyhole signs in with a code"),
        "{stderr}"
    );
}

/// Runs `call` with `settings` (no client ID) against the strict API, signing in as `user`; it
/// must succeed and say Keyhole registered itself. Its stderr and the API's answer.
fn registering_call(test: &str, settings: &[&str], user: &str) -> (String, serde_json::Value) {
    let mut args = vec!["call", "--api-url", &sandbox().api.strict];
    args.extend(settings);
    let browser = login(user);
    args.extend(["--browser-command", &browser]);
    let out = Cli::new(test).run(&args);
    let stderr = succeeded(&out);
    assert!(
        stderr.contains("Keyhole registered itself as a client"),
        "{stderr}"
    );
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(auth["userId"], user);
    (stderr, auth)
}

#[test]
fn without_a_client_id_the_cli_registers_keyhole_and_signs_in() {
    let sb = sandbox();
    let (_, auth) = registering_call(
        "register",
        &["--instance", &sb.issuer],
        "user_2cliregistered",
    );
    assert_ne!(auth["clientId"], sb.client_id.as_str());
}

#[test]
fn call_with_only_the_api_url_finds_the_provider_registers_and_calls() {
    let sb = sandbox();
    let (stderr, _) = registering_call("apionly", &[], "user_2apionly");
    assert!(
        stderr.contains(&format!(
            "The API names {} as its authorization server",
            sb.issuer
        )),
        "{stderr}"
    );
}

#[test]
fn no_registration_and_no_client_id_is_one_sentence_and_exit_2() {
    let adversary = keyhole_sandbox::adversary::Adversary::start().expect("adversary");
    let out = Cli::new("noreg").run(&["sign-in", "--instance", &adversary.issuer]);
    let stderr = failed_with(&out, 2);
    assert!(stderr.starts_with("error: --client-id: "), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn an_api_that_says_nothing_about_sign_in_is_one_sentence() {
    let sb = sandbox();
    let out = Cli::new("nometadata").run(&["call", "--api-url", &sb.api.session_only]);
    let stderr = text(&out.stderr);
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
    let cli = Cli::new("lookup").with_args(&["--instance", &sb.issuer]);
    // Nothing registered yet: nothing to look at, and nothing is registered to find out.
    let out = cli.run(&["status"]);
    let stderr = failed_with(&out, 1);
    assert!(
        stderr.contains(&format!("Not signed in to {}", sb.issuer)),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    succeeded(&cli.run(&["sign-out"]));
    let out = cli.run(&["token"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert_eq!(registrations(&sb), 0, "looking never registers");

    // A sign-in registers once; status and sign-out then use that client.
    succeeded(&cli.run(&["sign-in", "--browser-command", &login("user_2lookup")]));
    assert_eq!(registrations(&sb), 1);
    let out = cli.run(&["status"]);
    succeeded(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("Signed in to {} as user_2lookup", sb.issuer)),
        "{stdout}"
    );
    let stderr = succeeded(&cli.run(&["sign-out"]));
    assert!(
        stderr.contains("the provider revoked the session"),
        "{stderr}"
    );
    let out = cli.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(registrations(&sb), 1, "status and sign-out reused it");
}

#[test]
fn a_registered_client_the_provider_forgot_is_registered_again_once_in_the_loopback_flow() {
    let sb = Sandbox::start().expect("a sandbox of its own, to count registrations");
    let cli = Cli::new("forgotten").with_args(&["--instance", &sb.issuer]);
    let sign_in = |user: &str| cli.run(&["sign-in", "--browser-command", &login(user)]);
    succeeded(&sign_in("user_2forgot1"));
    assert_eq!(registrations(&sb), 1);

    provider_forgets_the_registration(&cli.service, &sb.issuer);
    let stderr = succeeded(&sign_in("user_2forgot2"));
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
    let stderr = succeeded(&sign_in("user_2forgot3"));
    assert!(!stderr.contains("registered"), "{stderr}");
    assert_eq!(registrations(&sb), 2);
}
