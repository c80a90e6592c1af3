//! The session across real `keyhole-cli` processes, against the real sandbox and a real Secret
//! Service: a warm run makes no request but the API call; a sign-out racing a renewal in another
//! process stays signed out; a closed pipe and Ctrl-C end a run quietly with the usual status.

mod common;

use std::process::Child;
use std::time::{Duration, Instant};

use keyhole_core::{account_for, Keychain, SecretStore};
use keyhole_sandbox::{Sandbox, SandboxOptions};

use common::{assert_not_signed_in, failed_with, login, succeeded, text, Cli};

/// A [`Cli`] whose every run names the sandbox's instance and client, and that reads and edits
/// their stored session.
struct Signed {
    cli: Cli,
    account: String,
    lax_api: String,
}

impl std::ops::Deref for Signed {
    type Target = Cli;

    fn deref(&self) -> &Cli {
        &self.cli
    }
}

impl Signed {
    fn new(test: &str, sandbox: &Sandbox) -> Signed {
        Signed {
            cli: Cli::new(test).signing_in_to(sandbox),
            account: account_for(&sandbox.issuer, &sandbox.client_id),
            lax_api: sandbox.api.lax.clone(),
        }
    }

    /// `call` of the API with a browser that cannot sign in: only a stored session serves it.
    fn stored_call(&self) -> [&str; 5] {
        [
            "call",
            "--api-url",
            &self.lax_api,
            "--browser-command",
            "false",
        ]
    }

    fn sign_in(&self, user: &str) {
        succeeded(&self.run(&[
            "sign-in",
            "--browser-command",
            &login(user),
            "--timeout",
            "60",
        ]));
    }

    fn keychain(&self) -> Keychain {
        Keychain::open_service(&self.service).expect("a Secret Service")
    }

    fn entry(&self) -> Option<String> {
        self.keychain()
            .load(&self.account)
            .expect("keychain answers")
            .map(|entry| entry.secret().to_owned())
    }

    /// Makes the stored access token due for renewal, as time passing would.
    fn make_due(&self) {
        let keychain = self.keychain();
        let mut record: serde_json::Value = serde_json::from_str(
            keychain
                .load(&self.account)
                .unwrap()
                .expect("a record")
                .secret(),
        )
        .unwrap();
        record["expires_at"] = record["received_at"].clone();
        keychain
            .save(
                &self.account,
                &keyhole_core::Secret::new(record.to_string()),
            )
            .unwrap();
    }
}

fn stat(sandbox: &Sandbox, name: &str) -> u64 {
    sandbox.stats().unwrap()[name].as_u64().unwrap()
}

/// A sandbox of its own whose renewals answer `ms` after the provider issued the new tokens.
fn with_refresh_delay(ms: u32) -> Sandbox {
    Sandbox::start_with(SandboxOptions {
        refresh_delay_ms: Some(ms),
        ..Default::default()
    })
    .expect("a sandbox")
}

#[test]
fn a_warm_call_makes_no_request_to_the_provider_and_rotates_nothing() {
    let sandbox = Sandbox::start().unwrap();
    let cli = Signed::new("warm", &sandbox);
    cli.sign_in("user_2warm_cli");
    let entry = cli.entry();
    let before = stat(&sandbox, "requests");

    let out = cli.run(&cli.stored_call());
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
    let sandbox = with_refresh_delay(300);
    let cli = Signed::new("race", &sandbox);
    let started = Instant::now();
    for round in 0..50u64 {
        cli.sign_in(&format!("user_2race{round}"));
        cli.make_due();
        let call = cli.spawn(&cli.stored_call());
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
    assert_not_signed_in(&out);
}

#[test]
fn status_into_a_closed_pipe_ends_quietly_with_status_141() {
    let sandbox = keyhole_sandbox::shared();
    let cli = Signed::new("pipe", sandbox);
    let mut child = cli.spawn(&["status"]);
    drop(child.stdout.take()); // the reader is gone before anything is written
    let out = child.wait_with_output().expect("status ends");
    let stderr = failed_with(&out, 141);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn ctrl_c_during_the_api_call_after_an_interactive_sign_in_ends_at_once_with_130() {
    let sandbox = keyhole_sandbox::shared();
    let cli = Signed::new("ctrlc", sandbox);
    let browser = login("user_2ctrlc");
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
    let cli = Signed::new("optin", sandbox);
    let out = cli.run(&["status", "--allow-cleartext-api", "not a url"]);
    let stderr = failed_with(&out, 2);
    assert!(
        stderr.contains("--allow-cleartext-api") && stderr.contains("is not a URL"),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty(), "nothing ran");
}

#[test]
fn two_processes_finding_the_token_due_renew_it_once_between_them() {
    let sandbox = with_refresh_delay(200);
    let cli = Signed::new("once", &sandbox);
    cli.sign_in("user_2once");
    for round in 0..5 {
        cli.make_due();
        let before = stat(&sandbox, "refresh_grants");
        let calls: Vec<Child> = (0..2).map(|_| cli.spawn(&cli.stored_call())).collect();
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
