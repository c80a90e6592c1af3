//! Fixtures of keyhole-cli's tests: the binary run as a process with a keychain service of its
//! own (tests never share a stored session) and none of the `KEYHOLE_*` settings of the
//! environment, the sandbox's plain-HTTP login script as the browser (passed with
//! --browser-command, as a user would pass theirs), and the checks every test makes of an output.

#![allow(dead_code)] // each test file uses its own part of the fixture

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use keyhole_sandbox::Sandbox;

/// keyhole-cli as one test runs it.
pub struct Cli {
    /// Its keychain service, `dev.keyhole.test.cli.<test>.<pid>`.
    pub service: String,
    /// Its `KEYHOLE_CONFIG_DIR` (profiles), removed on drop; None leaves the variable alone.
    config_dir: Option<PathBuf>,
    /// Flags added to every run, after the run's own.
    always: Vec<String>,
}

impl Cli {
    pub fn new(test: &str) -> Cli {
        Cli {
            service: format!("dev.keyhole.test.cli.{test}.{}", std::process::id()),
            config_dir: None,
            always: Vec::new(),
        }
    }

    /// With a config dir of its own (empty at first), so profiles are the test's.
    pub fn with_config_dir(mut self) -> Cli {
        let dir = std::env::temp_dir().join(format!("{}.config", self.service));
        let _ = std::fs::remove_dir_all(&dir);
        self.config_dir = Some(dir);
        self
    }

    /// Every run ends with `args` (after its own).
    pub fn with_args(mut self, args: &[&str]) -> Cli {
        self.always.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Every run names `sandbox`'s instance and client.
    pub fn signing_in_to(self, sandbox: &Sandbox) -> Cli {
        self.with_args(&settings(sandbox))
    }

    /// The config dir of [`Cli::with_config_dir`].
    pub fn config_dir(&self) -> &Path {
        self.config_dir
            .as_deref()
            .expect("a Cli made with_config_dir")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyhole-cli"));
        cmd.args(args)
            .args(&self.always)
            .env("KEYHOLE_KEYCHAIN_SERVICE", &self.service)
            .stdin(Stdio::null());
        for name in [
            "KEYHOLE_INSTANCE",
            "KEYHOLE_CLIENT_ID",
            "KEYHOLE_API_URL",
            "KEYHOLE_PROFILE",
            "KEYHOLE_BROWSER",
            "KEYHOLE_DEVICE",
        ] {
            cmd.env_remove(name);
        }
        if let Some(dir) = &self.config_dir {
            cmd.env("KEYHOLE_CONFIG_DIR", dir);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("keyhole-cli runs")
    }

    /// Runs and checks it succeeded; its stdout.
    pub fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "keyhole-cli {args:?}: exit {:?}\n{}",
            out.status,
            text(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("keyhole-cli starts")
    }

    /// `call` with `sandbox`'s instance and client and `args`, signing in as `user` when needed.
    pub fn call(&self, sandbox: &Sandbox, user: &str, args: &[&str]) -> Output {
        self.call_with_browser(sandbox, &login(user), args)
    }

    /// [`Cli::call`] with another browser command.
    pub fn call_with_browser(&self, sandbox: &Sandbox, browser: &str, args: &[&str]) -> Output {
        let mut all = vec!["call", "--browser-command", browser];
        all.extend(settings(sandbox));
        all.extend(args);
        self.run(&all)
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        if let Some(dir) = &self.config_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `--instance <issuer> --client-id <client>` of `sandbox`.
pub fn settings(sandbox: &Sandbox) -> [&str; 4] {
    [
        "--instance",
        sandbox.issuer.as_str(),
        "--client-id",
        sandbox.client_id.as_str(),
    ]
}

/// The sandbox's login script with `args` (`--login <user>`, `--deny`), as a browser command.
pub fn browser(args: &str) -> String {
    let script = keyhole_sandbox::sandbox_dir().join("login-http.mjs");
    format!("node {} {args}", script.display())
}

/// The browser command that signs in as `user`.
pub fn login(user: &str) -> String {
    browser(&format!("--login {user}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The run succeeded; its stderr.
pub fn succeeded(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{stderr}",
        out.status,
        text(&out.stdout)
    );
    stderr
}

/// The run succeeded and printed JSON: that JSON.
pub fn json(out: &Output) -> serde_json::Value {
    succeeded(out);
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The run failed with exit status `code`; its stderr, for the test to say which rule refused.
pub fn failed_with(out: &Output, code: i32) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    stderr
}

/// `status` said there is no session, with exit status 1.
pub fn assert_not_signed_in(out: &Output) {
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Not signed in"),
        "{}",
        text(&out.stdout)
    );
}
