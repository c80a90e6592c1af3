//! The session across real `keyhole-cli` processes, against the real sandbox and a real Secret
//! Service: a warm run makes no request but the API call; a sign-out racing a renewal in another
//! process stays signed out; a closed pipe and Ctrl-C end a run quietly with the usual status.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use keyhole_core::{account_for, Keychain, SecretStore};
use keyhole_sandbox::{Sandbox, SandboxOptions};

struct Cli {
    service: String,
    issuer: String,
    client_id: String,
}

impl Cli {
    fn new(test: &str, sandbox: &Sandbox) -> Cli {
        Cli {
            service: format!("dev.keyhole.test.cli.{test}.{}", std::process::id()),
            issuer: sandbox.issuer.clone(),
            client_id: sandbox.client_id.clone(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyhole-cli"));
        cmd.args(args)
            .args(["--instance", &self.issuer, "--client-id", &self.client_id])
            .env("KEYHOLE_KEYCHAIN_SERVICE", &self.service)
            .env_remove("KEYHOLE_API_URL")
            .env_remove("KEYHOLE_BROWSER")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("keyhole-cli runs")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("keyhole-cli starts")
    }

    fn sign_in(&self, login: &str) {
        let script = keyhole_sandbox::sandbox_dir().join("login-http.mjs");
        let browser = format!("node {} --login {login}", script.display());
        let out = self.run(&["sign-in", "--browser-command", &browser, "--timeout", "60"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    fn keychain(&self) -> (Keychain, String) {
        let keychain = Keychain::open_service(&self.service).expect("a Secret Service");
        (keychain, account_for(&self.issuer, &self.client_id))
    }

    fn entry(&self) -> Option<String> {
        let (keychain, account) = self.keychain();
        keychain
            .load(&account)
            .expect("keychain answers")
            .map(|entry| entry.secret().to_owned())
    }

    /// Makes the stored access token due for renewal, as time passing would.
    fn make_due(&self) {
        let (keychain, account) = self.keychain();
        let mut record: serde_json::Value =
            serde_json::from_str(keychain.load(&account).unwrap().expect("a record").secret())
                .unwrap();
        record["expires_at"] = record["received_at"].clone();
        keychain
            .save(&account, &keyhole_core::Secret::new(record.to_string()))
            .unwrap();
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stat(sandbox: &Sandbox, name: &str) -> u64 {
    sandbox.stats().unwrap()[name].as_u64().unwrap()
}

#[test]
fn a_warm_call_makes_no_request_to_the_provider_and_rotates_nothing() {
    let sandbox = Sandbox::start().unwrap();
    let cli = Cli::new("warm", &sandbox);
    cli.sign_in("user_2warm_cli");
    let entry = cli.entry();
    let before = stat(&sandbox, "requests");

    let out = cli.run(&[
        "call",
        "--api-url",
        &sandbox.api.lax,
        "--browser-command",
        "false",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let auth: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(auth["userId"], "user_2warm_cli");
    let out = cli.run(&["status"]);
    assert!(
        text(&out.stdout).contains("as user_2warm_cli"),
        "{}",
        text(&out.stdout)
    );

    assert_eq!(
        stat(&sandbox, "requests"),
        before,
        "a warm call and status make no discovery, key or refresh request"
    );
    assert_eq!(cli.entry(), entry, "the stored session did not change");
    cli.run(&["sign-out"]);
}

#[test]
fn sign_out_racing_a_renewal_in_another_process_stays_signed_out_50_times() {
    // Each renewal's answer is held 300 ms after the provider issued the new tokens: the refresh
    // is in flight while sign-out runs in another process.
    let sandbox = Sandbox::start_with(SandboxOptions {
        refresh_delay_ms: Some(300),
        ..Default::default()
    })
    .unwrap();
    let cli = Cli::new("race", &sandbox);
    let started = Instant::now();
    for round in 0..50u64 {
        cli.sign_in(&format!("user_2race{round}"));
        cli.make_due();
        let call = cli.spawn(&[
            "call",
            "--api-url",
            &sandbox.api.lax,
            "--browser-command",
            "false",
        ]);
        // Start sign-out at a different point of the renewal each round (0–343 ms in).
        std::thread::sleep(Duration::from_millis(round * 7));
        let sign_out = cli.run(&["sign-out"]);
        let call = call.wait_with_output().expect("call ends");
        assert!(
            sign_out.status.success(),
            "round {round}: {}",
            text(&sign_out.stderr)
        );
        let entry = cli.entry().unwrap_or_default();
        assert!(
            !entry.contains("refresh_token"),
            "round {round}: a session is stored after sign-out (call said: {})",
            text(&call.stderr)
        );
        assert_eq!(
            stat(&sandbox, "live_grants"),
            0,
            "round {round}: the provider still honours a grant after sign-out (call said: {})",
            text(&call.stderr)
        );
    }
    eprintln!("50 rounds in {:?}", started.elapsed());
    let out = cli.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Not signed in"));
}

#[test]
fn status_into_a_closed_pipe_ends_quietly_with_status_141() {
    let sandbox = keyhole_sandbox::shared();
    let cli = Cli::new("pipe", sandbox);
    let mut child = cli.spawn(&["status"]);
    drop(child.stdout.take()); // the reader is gone before anything is written
    let out = child.wait_with_output().expect("status ends");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn ctrl_c_during_the_api_call_after_an_interactive_sign_in_ends_at_once_with_130() {
    let sandbox = keyhole_sandbox::shared();
    let cli = Cli::new("ctrlc", sandbox);
    let script = keyhole_sandbox::sandbox_dir().join("login-http.mjs");
    let browser = format!("node {} --login user_2ctrlc", script.display());
    let slow = format!("{}?ms=20000", sandbox.api.slow);
    // No stored session: this run signs in through the "browser", then calls the slow API.
    let mut child = cli.spawn(&["call", "--api-url", &slow, "--browser-command", &browser]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while cli.entry().is_none_or(|e| !e.contains("refresh_token")) {
        assert!(Instant::now() < deadline, "the sign-in never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500)); // now inside the 20 s API call
    let interrupted = Instant::now();
    // SAFETY: kill(2) on our own child's pid.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            interrupted.elapsed() < Duration::from_secs(5),
            "Ctrl-C was ignored during the API call"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    cli.run(&["sign-out"]);
}

#[test]
fn an_opt_in_flag_that_is_not_a_url_is_a_bad_setting_and_nothing_runs() {
    let sandbox = keyhole_sandbox::shared();
    let cli = Cli::new("optin", sandbox);
    let out = cli.run(&["status", "--allow-cleartext-api", "not a url"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--allow-cleartext-api") && stderr.contains("is not a URL"),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty(), "nothing ran");
}

#[test]
fn two_processes_finding_the_token_due_renew_it_once_between_them() {
    let sandbox = Sandbox::start_with(SandboxOptions {
        refresh_delay_ms: Some(200),
        ..Default::default()
    })
    .unwrap();
    let cli = Cli::new("once", &sandbox);
    cli.sign_in("user_2once");
    for round in 0..5 {
        cli.make_due();
        let before = stat(&sandbox, "refresh_grants");
        let calls: Vec<Child> = (0..2)
            .map(|_| {
                cli.spawn(&[
                    "call",
                    "--api-url",
                    &sandbox.api.lax,
                    "--browser-command",
                    "false",
                ])
            })
            .collect();
        for call in calls {
            let out = call.wait_with_output().expect("call ends");
            assert!(out.status.success(), "round {round}: {}", text(&out.stderr));
        }
        assert_eq!(
            stat(&sandbox, "refresh_grants") - before,
            1,
            "round {round}: the second process took up the first one's renewal"
        );
    }
    cli.run(&["sign-out"]);
}
