//! Every kind of token Clerk's backend SDKs accept, sent by real `keyhole-cli` processes to the
//! real sandbox with a real Secret Service: a Clerk session signed in through the Frontend API
//! (the tutorial's backend reads it, an OAuth token it refuses; a warm call mints once), the
//! `token` and `--curl` outputs, the secret key kept from stdin and an impersonated test session,
//! a garbage key refused with nothing kept, and `--every-token-type` naming the acceptsToken that
//! would let each refused kind in. No token value reaches any stderr of these runs.

mod common;

use std::cell::RefCell;
use std::io::Write;
use std::process::{Output, Stdio};

use keyhole_sandbox::Sandbox;
use serde_json::Value;

use common::{login, text, Cli};

/// A Clerk user ID of the shape Clerk's spec gives (`user_` and 27 characters).
const USER: &str = "user_2abcdefghijklmnopqrstuvwxyz";
const LOGIN: &str = "user_2clisessionloginabcdefghi";
const MINTS: &str = "POST /v1/client/sessions/{id}/tokens";

/// keyhole-cli runs against one sandbox, every run naming its instance, client and Backend API;
/// each run's stderr is kept for the leak check at the end.
struct Runs<'a> {
    cli: Cli,
    sandbox: &'a Sandbox,
    stderrs: RefCell<Vec<String>>,
}

impl<'a> Runs<'a> {
    fn new(test: &str, sandbox: &'a Sandbox) -> Runs<'a> {
        Runs {
            cli: Cli::new(test).with_args(&[
                "--instance",
                &sandbox.fapi,
                "--client-id",
                &sandbox.client_id,
                "--backend-api",
                &sandbox.bapi,
            ]),
            sandbox,
            stderrs: RefCell::new(Vec::new()),
        }
    }

    /// Runs `args`, with `stdin` written to its standard input when given.
    fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.cli.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().expect("keyhole-cli starts");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(input.as_bytes()).expect("stdin written");
        }
        let out = child.wait_with_output().expect("keyhole-cli ends");
        self.stderrs.borrow_mut().push(text(&out.stderr));
        out
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None)
    }

    /// Runs `args`, checks exit 0; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "keyhole-cli {args:?}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Runs `args`, checks the exit code; its stderr.
    fn exits(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "keyhole-cli {args:?}\nstdout:\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    fn sign_in_session(&self, user: &str) -> String {
        let out = self.run(&[
            "sign-in",
            "--token-type",
            "session",
            "--browser-command",
            &login(user),
            "--timeout",
            "60",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    }

    fn sign_in_oauth(&self, user: &str) {
        let out = self.run(&[
            "sign-in",
            "--token-type",
            "oauth",
            "--browser-command",
            &login(user),
            "--timeout",
            "60",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// `call --json` of `url` with `kind` and a browser that cannot sign in: the answer's body.
    fn call_json(&self, kind: &str, url: &str) -> Value {
        let stdout = self.ok(&[
            "call",
            "--token-type",
            kind,
            "--api-url",
            url,
            "--json",
            "--browser-command",
            "false",
        ]);
        let answer: Value = serde_json::from_str(&stdout).expect("stdout is JSON");
        answer["body"]["value"].clone()
    }

    /// The `key list` lines, as (name, shown).
    fn keys(&self) -> Vec<(String, String)> {
        self.ok(&["key", "list"])
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn key_shown(&self, name: &str) -> String {
        self.keys()
            .into_iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no {name} line in key list"))
            .1
    }

    /// No stderr of these runs holds any of `secrets`, a JWT, or a value the sandbox logged as
    /// issued (`KEYHOLE_SANDBOX_TOKEN_LOG`, when scripts/test sets it).
    fn assert_no_token_in_stderr(&self, secrets: &[&str]) {
        let mut values: Vec<String> = secrets
            .iter()
            .filter(|s| s.len() >= 8)
            .map(|s| (*s).to_owned())
            .collect();
        values.push(self.sandbox.secret_key.clone());
        values.push(self.sandbox.machine_secret_key.clone());
        if let Some(path) = std::env::var_os("KEYHOLE_SANDBOX_TOKEN_LOG") {
            if let Ok(log) = std::fs::read_to_string(path) {
                values.extend(log.lines().filter(|l| l.len() >= 16).map(str::to_owned));
            }
        }
        let stderrs = self.stderrs.borrow();
        assert!(!stderrs.is_empty());
        for (i, stderr) in stderrs.iter().enumerate() {
            // Left out: the sign-in URL a user with no browser has to open (its `state` is Clerk's
            // binding with the identity provider, shown in the browser's address bar anyway).
            let stderr: String = stderr
                .lines()
                .filter(|l| !l.starts_with("If no browser opened, visit: "))
                .collect::<Vec<_>>()
                .join("\n");
            let stderr = stderr.as_str();
            assert!(
                !looks_like_jwt(stderr),
                "run {i}'s stderr holds a JWT:\n{stderr}"
            );
            for value in &values {
                assert!(
                    !stderr.contains(value.as_str()),
                    "run {i}'s stderr holds a token value (starting {:?}):\n{stderr}",
                    &value[..6]
                );
            }
        }
    }
}

fn looks_like_jwt(s: &str) -> bool {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .any(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() == 3 && parts[0].starts_with("eyJ") && parts[1].starts_with("eyJ")
        })
}

fn total_fapi_requests(sb: &Sandbox) -> u64 {
    sb.stats().expect("stats")["fapi_requests"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

#[test]
fn a_clerk_session_signed_in_by_the_cli_is_what_the_tutorials_backend_reads_and_mints_once_warm() {
    let sb = Sandbox::start().expect("a sandbox of its own, to count Frontend API requests");
    let runs = Runs::new("session", &sb);

    let said = runs.sign_in_session(LOGIN);
    assert!(
        said.contains(LOGIN) && said.contains("Clerk session"),
        "{said}"
    );

    // The tutorial's lax route names the login and a Clerk session.
    let auth = runs.call_json("session", &sb.api.tutorial_lax);
    assert_eq!(auth["userId"], LOGIN, "{auth}");
    let session_id = auth["sessionId"].as_str().unwrap_or_default().to_owned();
    assert!(session_id.starts_with("sess_"), "{auth}");

    // Its strict route lets the session token in (exit 0 is a 2xx).
    runs.ok(&[
        "call",
        "--token-type",
        "session",
        "--api-url",
        &sb.api.tutorial_strict,
        "--browser-command",
        "false",
    ]);

    // A warm call in a new process: exactly one Frontend API request, the mint.
    let (mints, total) = (sb.fapi_requests(MINTS), total_fapi_requests(&sb));
    let again = runs.call_json("session", &sb.api.tutorial_lax);
    assert_eq!(again["userId"], LOGIN, "{again}");
    assert_eq!(again["sessionId"], session_id.as_str(), "{again}");
    assert_eq!(sb.fapi_requests(MINTS) - mints, 1, "one mint per warm call");
    assert_eq!(
        total_fapi_requests(&sb) - total,
        1,
        "no Frontend API request but the mint"
    );

    // The OAuth access token is not what the tutorial's strict route reads: 401, exit 1.
    runs.sign_in_oauth(LOGIN);
    let out = runs.run(&[
        "call",
        "--token-type",
        "oauth",
        "--api-url",
        &sb.api.tutorial_strict,
        "--browser-command",
        "false",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));

    // `token --token-type session`: one JWT line, nothing else on stdout.
    let printed = runs.ok(&["token", "--token-type", "session"]);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 1, "{} lines", lines.len());
    assert!(looks_like_jwt(lines[0]), "not a JWT");
    assert_eq!(printed, format!("{}\n", lines[0]), "nothing but the line");
    let jwt = lines[0].to_owned();

    // `call --curl --token-type session`: the token comes from `keyhole-cli token`, not inline.
    let curl = runs.ok(&[
        "call",
        "--curl",
        "--token-type",
        "session",
        "--api-url",
        &sb.api.tutorial_lax,
    ]);
    assert!(curl.contains("--token-type session"), "{curl}");
    assert!(curl.contains("keyhole-cli token"), "{curl}");
    assert!(!curl.contains(&jwt) && !looks_like_jwt(&curl), "{curl}");

    assert!(sb.spec_violations().expect("stats").is_empty());
    runs.ok(&["sign-out"]);
    runs.assert_no_token_in_stderr(&[&jwt]);
}

#[test]
fn a_secret_key_from_stdin_makes_an_impersonated_test_session_the_tutorial_reads() {
    let sb = keyhole_sandbox::shared();
    let runs = Runs::new("testuser", sb);

    let pasted = format!("  {}  \n", sb.secret_key);
    let out = runs.run_with(&["key", "set", "secret-key"], Some(&pasted));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = runs.key_shown("secret-key");
    assert!(shown.starts_with("sk_test_…"), "{shown}");
    assert_eq!(
        shown.chars().count(),
        "sk_test_…".chars().count() + 4,
        "{shown}"
    );
    assert!(!shown.contains(&sb.secret_key[8..]), "{shown}");
    assert_eq!(runs.key_shown("api-key"), "-");

    let said = runs.exits(0, &["sign-in", "--test-user", USER]);
    assert!(
        said.contains(USER) && said.contains("impersonated test session"),
        "{said}"
    );
    let auth = runs.call_json("session", &sb.api.tutorial_lax);
    assert_eq!(auth["userId"], USER, "{auth}");
    assert!(
        auth["sessionId"]
            .as_str()
            .is_some_and(|s| s.starts_with("sess_")),
        "{auth}"
    );

    assert!(sb.spec_violations().expect("stats").is_empty());
    runs.ok(&["sign-out"]);
    runs.ok(&["key", "forget", "secret-key"]);
    assert_eq!(runs.key_shown("secret-key"), "-");
    runs.assert_no_token_in_stderr(&[]);
}

#[test]
fn a_publishable_key_given_as_an_api_key_is_refused_by_name_and_nothing_is_kept() {
    let sb = keyhole_sandbox::shared();
    let runs = Runs::new("garbage", sb);
    let out = runs.run_with(
        &["key", "set", "api-key"],
        Some(&format!("{}\n", sb.publishable_key)),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let said = text(&out.stderr);
    let said = said.trim();
    assert_eq!(said.lines().count(), 1, "one sentence: {said}");
    assert!(
        said.contains("api-key") || said.contains("API key"),
        "{said}"
    );
    assert!(!said.contains(&sb.publishable_key), "{said}");
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    assert_eq!(runs.key_shown("api-key"), "-", "nothing kept");
    runs.assert_no_token_in_stderr(&[]);
}

#[test]
fn every_token_type_on_an_oauth_only_route_lets_oauth_in_and_names_the_fix_of_each_other_kind() {
    let sb = keyhole_sandbox::shared();
    let runs = Runs::new("every", sb);
    runs.sign_in_session(LOGIN);
    runs.sign_in_oauth(LOGIN);
    let out = runs.run_with(&["key", "set", "secret-key"], Some(&sb.secret_key));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = runs.run_with(&["key", "set", "machine-key"], Some(&sb.machine_secret_key));
    assert!(out.status.success(), "{}", text(&out.stderr));
    runs.ok(&["key", "create-api-key", "--subject", USER]);
    assert!(runs.key_shown("api-key").starts_with("ak_…"));
    let api_key = runs
        .ok(&["token", "--token-type", "api-key"])
        .trim()
        .to_owned();
    let m2m = runs.ok(&["token", "--token-type", "m2m"]).trim().to_owned();

    let url = format!("{}/oauth_token", sb.api.accepts);
    let stdout = runs.ok(&["call", "--every-token-type", "--json", "--api-url", &url]);
    let matrix: Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    assert_eq!(
        matrix["target"].as_str().map(|t| t.contains(&url)),
        Some(true),
        "{matrix:#}"
    );
    let row = |kind: &str| {
        matrix["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["credential"] == kind))
            .unwrap_or_else(|| panic!("no {kind} row: {matrix:#}"))
            .clone()
    };
    assert_eq!(row("oauth")["signedIn"], true, "{matrix:#}");
    for (kind, fix) in [
        ("session", "'session_token'"),
        ("api-key", "'api_key'"),
        ("m2m", "'m2m_token'"),
    ] {
        let r = row(kind);
        assert_eq!(r["signedIn"], false, "{kind}: {r:#}");
        assert!(
            r["fix"].as_str().is_some_and(|f| f.contains(fix)),
            "{kind}'s fix names {fix}: {r:#}"
        );
    }
    assert_eq!(
        matrix["missing"].as_array().map(Vec::len),
        Some(0),
        "every kind held: {matrix:#}"
    );

    assert!(sb.spec_violations().expect("stats").is_empty());
    runs.ok(&["sign-out"]);
    runs.assert_no_token_in_stderr(&[&api_key, &m2m]);
}
