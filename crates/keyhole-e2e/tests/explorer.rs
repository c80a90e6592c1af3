//! The request explorer through the app's real window (issue 9): a shaped request to the
//! sandbox's echo endpoint and its whole answer, cancel and timeout of a slow one, the history
//! after a restart (with no token in any stored file), profiles with a session each, and copy as
//! curl run in a shell.
//!
//! Run like window.rs: `cargo build -p keyhole -p keyhole-cli && DISPLAY=:99 cargo test -p
//! keyhole-e2e -- --test-threads=1` (scripts/test does both).

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{
    launch_as, launch_signed_in, sign_in, target_dir, App, Opener, Profile, SIGN_IN_WAIT, WAIT,
};
use serde_json::Value;

const ESCAPE: &str = "\u{E00C}";

/// Opens a section of the request editor (a `<details>`) if it is closed.
async fn open_section(app: &App, id: &str) {
    if !app.exists(&format!("#{id}[open]")).await {
        app.click(&format!("#{id}-summary")).await;
        app.wait_for(id, &format!("#{id}[open]"), WAIT).await;
    }
}

/// Shapes `POST <echo>?from=e2e` with a header and a JSON body in the editor.
async fn shape_post_to_echo(app: &App, echo: &str) {
    app.fill("#request-url", echo).await;
    app.select("#request-method", "POST").await;
    open_section(app, "request-query").await;
    app.click("#add-query").await;
    app.fill("#query-0-name", "from").await;
    app.fill("#query-0-value", "e2e").await;
    open_section(app, "request-headers").await;
    app.click("#add-headers").await;
    app.fill("#headers-0-name", "X-Keyhole-Test").await;
    app.fill("#headers-0-value", "e2e header").await;
    open_section(app, "request-body-section").await;
    app.click("#body-kind-json").await;
    app.fill("#request-body", r#"{"hello": "world", "n": 1}"#)
        .await;
    app.wait_text("#content-type", "application/json", WAIT)
        .await;
}

/// Sends a request the sandbox answers only after 20 s, and waits until the window has shown a
/// second of waiting.
async fn call_slow(app: &App, slow: &str) {
    app.fill("#request-url", &format!("{slow}?ms=20000")).await;
    app.click("#call-api").await;
    app.wait_api("loading", WAIT).await;
    app.wait_text("#api-elapsed", "1 s", WAIT).await;
}

/// Whether the page prefers dark (GTK_THEME=Adwaita:dark switches WebKitGTK, where it works).
async fn prefers_dark(app: &App) -> Value {
    app.execute("return matchMedia('(prefers-color-scheme: dark)').matches")
        .await
}

fn dark_supported(value: &Value) -> bool {
    value.as_bool() == Some(true)
}

/// The dark screenshot of `css` as `name`, when `dark` says the page is dark; else why not.
async fn screenshot_if_dark(app: &App, test: &str, dark: &Value, name: &str, css: &str) {
    if dark_supported(dark) {
        app.screenshot_at(name, css).await;
    } else {
        eprintln!(
            "[{test}] GTK_THEME=Adwaita:dark did not switch WebKitGTK to dark: no dark screenshot"
        );
    }
}

#[tokio::test]
async fn a_post_with_a_header_and_a_json_body_reaches_the_echo_endpoint_and_the_whole_answer_shows()
{
    const TEST: &str = "explorer_post_echo";
    let login = "user_2e2e_echo";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, login).await;
    assert!(
        app.exists("#request-url:focus").await || app.exists("#screen-title:focus").await,
        "focus lands in the window{}",
        app.context().await
    );
    assert!(app.text("#shortcuts").await.contains("Esc cancels"));

    shape_post_to_echo(&app, &sandbox.api.echo).await;
    app.screenshot("editor").await;
    app.call_api_for_data().await;
    let echo = app.api_json().await;
    assert_eq!(echo["method"], "POST", "{echo}");
    assert_eq!(echo["path"], "/echo", "{echo}");
    assert_eq!(echo["query"]["from"], "e2e", "{echo}");
    assert_eq!(echo["headers"]["x-keyhole-test"], "e2e header", "{echo}");
    assert_eq!(
        echo["headers"]["content-type"], "application/json",
        "{echo}"
    );
    assert_eq!(echo["headers"]["authorization"], "Bearer …masked", "{echo}");
    assert_eq!(echo["body"], r#"{"hello": "world", "n": 1}"#, "{echo}");
    assert_eq!(echo["userId"], login, "{echo}");

    // Status, time, time to first byte, size; every response header.
    let meta = app.text("#api-meta").await;
    assert!(meta.starts_with("200 OK · "), "{meta}");
    assert!(meta.contains(" ms · first byte "), "{meta}");
    assert!(meta.contains(" B") || meta.contains(" kB"), "{meta}");
    open_section(&app, "api-headers").await;
    let headers = app.text("#api-headers-list").await;
    assert!(headers.contains("content-type"), "{headers}");
    assert!(headers.contains("application/json"), "{headers}");
    app.screenshot_at("answer", "#api-result").await;

    // Without the token: the same request as a signed-out caller.
    app.select("#token-type", "none").await;
    assert!(!app.exists("#auth-header").await);
    app.call_api_for_data().await;
    let echo = app.api_json().await;
    assert_eq!(echo["userId"], Value::Null, "{echo}");
    assert_eq!(echo["headers"].get("authorization"), None, "{echo}");
    // Clerk's answer says why (its x-clerk-auth-* headers), and the window says it in words.
    let diagnosis = app.text("#diagnosis").await;
    assert!(
        diagnosis.contains("Sent without a token: Clerk's SDK on the API read the request as signed out (x-clerk-auth-reason: session-token-and-uat-missing)"),
        "{diagnosis}"
    );

    // An invalid JSON body is the engine's message, next to the body; nothing is sent.
    app.fill("#request-body", "{oops").await;
    app.click("#call-api").await;
    let message = app.wait_text("#request-error-body", "line 1", WAIT).await;
    assert!(message.contains("not valid"), "{message}");
    app.screenshot_at("json-error", "#request-body-section")
        .await;
    app.quit().await;

    // The same states in dark.
    profile.set_dark(true);
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    let dark = prefers_dark(&app).await;
    // The tab came back with the request as it was left (issue 17, part 3); its body may be the
    // invalid one typed last (when the tabs were saved after it), so it gets a valid one again.
    assert_eq!(app.value("#request-method").await, "POST");
    assert!(
        app.value("#request-url")
            .await
            .starts_with(&sandbox.api.echo),
        "{}",
        app.context().await
    );
    open_section(&app, "request-body-section").await;
    app.fill("#request-body", r#"{"hello": "world", "n": 1}"#)
        .await;
    app.call_api_for_data().await;
    open_section(&app, "api-headers").await;
    screenshot_if_dark(&app, TEST, &dark, "answer-dark", "#api-result").await;
    app.quit().await;
}

#[tokio::test]
async fn a_slow_request_shows_the_time_waited_and_is_cancelled_by_the_button_or_esc_or_its_timeout()
{
    const TEST: &str = "explorer_cancel";
    let login = "user_2e2e_cancel";
    let sandbox = keyhole_sandbox::shared();
    let (app, _) = launch_signed_in(TEST, login).await;

    call_slow(&app, &sandbox.api.slow).await;
    app.wait_text("#status", "calling the API", WAIT).await;
    app.screenshot_at("waiting", "#api-result").await;
    app.click("#cancel-request").await;
    app.wait_api_error("cancelled", WAIT).await;
    assert!(app.text("#api-error").await.contains("Cancelled"));
    app.screenshot_at("cancelled", "#api-result").await;

    // Esc does the same.
    app.click("#call-api").await;
    app.wait_api("loading", WAIT).await;
    app.press(ESCAPE).await;
    app.wait_api_error("cancelled", WAIT).await;

    // A timeout the user set is reported as a timeout.
    app.fill("#request-timeout", "1").await;
    app.click("#call-api").await;
    app.wait_api_error("api_timeout", WAIT).await;
    let error = app.text("#api-error").await;
    assert!(error.starts_with("Error: Timed out"), "{error}");
    assert!(!error.contains("could not reach"), "{error}");
    app.screenshot_at("timed-out", "#api-result").await;

    // Still usable.
    app.fill("#request-timeout", "30").await;
    app.fill("#request-url", &sandbox.api.lax).await;
    app.call_api_for_data().await;
    app.quit().await;
}

/// Each exact token value the sandbox issued in this run, when it records them.
fn issued_tokens() -> Vec<String> {
    std::env::var_os("KEYHOLE_SANDBOX_TOKEN_LOG")
        .and_then(|path| std::fs::read_to_string(path).ok())
        .map(|text| {
            text.lines()
                .map(str::trim)
                .filter(|l| l.len() >= 16)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Fails when a stored file holds a JWT or a token the sandbox issued (without printing it).
fn assert_no_token_in(files: &[PathBuf]) {
    let issued = issued_tokens();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        assert!(
            !text.contains("eyJ"),
            "{} contains something shaped like a JWT",
            file.display()
        );
        let leaked = issued.iter().filter(|t| text.contains(t.as_str())).count();
        assert_eq!(
            leaked,
            0,
            "{} contains {leaked} token(s) the sandbox issued",
            file.display()
        );
    }
}

#[tokio::test]
async fn the_history_reopens_a_request_after_a_restart_and_no_store_file_holds_a_token() {
    const TEST: &str = "explorer_history";
    let login = "user_2e2e_history";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, login).await;
    shape_post_to_echo(&app, &sandbox.api.echo).await;
    app.call_api_for_data().await;
    app.fill("#request-url", &sandbox.api.lax).await;
    app.select("#request-method", "GET").await;
    app.click("#body-kind-none").await;
    app.call_api_for_data().await;
    app.wait_for("two history entries", "#history-list li:nth-child(2)", WAIT)
        .await;
    app.quit().await;

    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    let list = app.text("#history-list").await;
    assert!(list.contains("POST"), "{list}");
    let echo_url = format!("{}?from=e2e", sandbox.api.echo);
    assert!(
        app.exists(&format!("#history-list button[title=\"{echo_url}\"]"))
            .await,
        "{echo_url} is in the history: {list}"
    );
    assert!(list.contains("200"), "{list}");
    app.screenshot("history").await;
    // One click puts the older request (the POST) back in the editor.
    app.click("#history-list li:nth-child(2) button").await;
    // The URL shows its query: the table's row (issue 17: URL and query table in sync).
    assert_eq!(app.value("#request-url").await, echo_url);
    assert_eq!(app.value("#request-method").await, "POST");
    open_section(&app, "request-headers").await;
    assert_eq!(app.value("#headers-0-name").await, "X-Keyhole-Test");
    open_section(&app, "request-body-section").await;
    assert_eq!(
        app.value("#request-body").await,
        r#"{"hello": "world", "n": 1}"#
    );
    app.call_api_for_data().await;
    assert_eq!(app.api_json().await["query"]["from"], "e2e");
    app.screenshot("history-reopened").await;
    app.quit().await;

    let files = profile.stored_files();
    let history = files
        .iter()
        .find(|f| f.ends_with("history.json"))
        .unwrap_or_else(|| panic!("no history.json among {files:?}"));
    let text = std::fs::read_to_string(history).expect("history.json");
    assert!(text.contains("X-Keyhole-Test"), "the request is kept");
    assert!(!text.contains("userId"), "no answer body is kept: {text}");
    assert_no_token_in(&files);
}

/// Signs in through the recording opener's `index`th URL as `login`.
async fn sign_in_as(app: &App, profile: &Profile, index: usize, login: &'static str) {
    app.click("#sign-in").await;
    let url = profile.wait_opened(index + 1).await[index].clone();
    let browser = tokio::task::spawn_blocking(move || keyhole_sandbox::chromium_login(&url, login));
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    browser
        .await
        .expect("join")
        .expect("the browser stand-in signed in");
    assert_eq!(app.text("#subject").await, login);
}

fn cli(profile: &Profile, args: &[&str]) -> std::process::Output {
    let binary = target_dir().join("debug/keyhole-cli");
    assert!(
        binary.is_file(),
        "{} is missing: cargo build -p keyhole-cli",
        binary.display()
    );
    let mut cmd = Command::new(binary);
    cmd.args(args).stdin(Stdio::null());
    profile.apply_env(&mut cmd);
    cmd.output().expect("keyhole-cli runs")
}

#[tokio::test]
async fn switching_profiles_keeps_each_profiles_session_and_the_cli_lists_them() {
    const TEST: &str = "explorer_profiles";
    let profile = Profile::new(Opener::Recorder);
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedOut", WAIT).await;
    let focused = app
        .execute("return document.activeElement && document.activeElement.id")
        .await;
    assert!(
        app.exists("#instance:focus").await,
        "the first field has the focus at start (focused: {focused}){}",
        app.context().await
    );

    app.fill("#profile-name", "alpha").await;
    app.click("#save-profile").await;
    app.wait_for(
        "alpha current",
        "#profile-select option[value=\"alpha\"][selected]",
        WAIT,
    )
    .await;
    sign_in_as(&app, &profile, 0, "user_2e2e_alpha").await;

    app.open_settings_panel().await;
    let before = app.text("#hint-profiles").await;
    assert!(
        before.contains("a new profile starts signed out"),
        "{before}"
    );
    app.fill("#profile-name", "beta").await;
    app.click("#save-profile").await;
    // beta has no session of its own yet: said before (above) and after (issue 17).
    app.wait_state("signedOut", WAIT).await;
    let notice = app
        .wait_text("#notice", "Saved as profile beta", WAIT)
        .await;
    assert!(
        notice.contains("sign in again to use beta") && notice.contains("profile alpha"),
        "{notice}"
    );
    sign_in_as(&app, &profile, 1, "user_2e2e_beta").await;
    app.screenshot("profile-beta").await;

    // Back to alpha: its session is restored, no browser opens.
    app.open_settings_panel().await;
    app.select("#profile-select", "alpha").await;
    app.wait_text("#subject", "user_2e2e_alpha", SIGN_IN_WAIT)
        .await;
    app.open_settings_panel().await;
    app.select("#profile-select", "beta").await;
    app.wait_text("#subject", "user_2e2e_beta", SIGN_IN_WAIT)
        .await;
    assert_eq!(profile.opened_urls().len(), 2, "no sign-in for a switch");
    app.screenshot("profile-switched").await;

    // The CLI sees the app's profiles, and each one's own session.
    let list = cli(&profile, &["profile", "list"]);
    let out = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.status.success() && out.contains("alpha") && out.contains("beta"),
        "{out}{}",
        String::from_utf8_lossy(&list.stderr)
    );
    for (name, login) in [("alpha", "user_2e2e_alpha"), ("beta", "user_2e2e_beta")] {
        let status = cli(&profile, &["status", "--profile", name]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        );
        assert!(text.contains(login), "{name}: {text}");
    }
    app.quit().await;
}

/// The clipboard's text (X CLIPBOARD selection) via xclip.
fn clipboard() -> String {
    let out = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .stdin(Stdio::null())
        .output()
        .expect("xclip runs (scripts/setup test installs it)");
    assert!(out.status.success(), "xclip -o failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn copy_as_curl_puts_a_command_on_the_clipboard_that_gets_the_same_answer_in_a_shell() {
    const TEST: &str = "explorer_curl";
    let login = "user_2e2e_curl";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, login).await;
    shape_post_to_echo(&app, &sandbox.api.echo).await;
    app.call_api_for_data().await;
    let in_app = app.api_json().await;

    app.click("#copy-curl").await;
    let shown = app.wait_text("#curl-command", "curl", WAIT).await;
    let copied = clipboard();
    assert_eq!(copied.trim(), shown.trim());
    assert!(
        copied.contains("$(keyhole-cli token --instance"),
        "{copied}"
    );
    app.screenshot_at("curl-copied", "#copy-curl").await;

    // As pasted in a shell, with keyhole-cli on the PATH.
    let bin = target_dir().join("debug");
    let mut shell = Command::new("sh");
    shell.arg("-c").arg(&copied).stdin(Stdio::null());
    profile.apply_env(&mut shell);
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    shell.env("PATH", path);
    let out = shell.output().expect("sh runs");
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_curl: Value = serde_json::from_str(&body).expect("curl printed the echo's JSON");
    for key in ["method", "path", "query", "body", "userId"] {
        assert_eq!(by_curl[key], in_app[key], "{key}: {by_curl} vs {in_app}");
    }
    assert_eq!(by_curl["headers"]["x-keyhole-test"], "e2e header");
    assert_eq!(by_curl["headers"]["authorization"], "Bearer …masked");

    // The literal token only on an explicit choice, with a warning; the page sees it masked.
    app.click("#curl-literal").await;
    let warning = app.text("#curl-warning").await;
    assert!(
        warning.contains("will contain your OAuth access token"),
        "{warning}"
    );
    app.click("#copy-curl").await;
    let shown = app.wait_text("#curl-command", "<access token>", WAIT).await;
    assert!(!shown.contains("eyJ"));
    let literal = clipboard();
    assert!(
        !literal.contains("keyhole-cli token") && literal.contains("Authorization: Bearer "),
        "the clipboard holds the command with the literal token (not printed)"
    );
    app.screenshot_at("curl-literal", "#copy-curl").await;
    app.quit().await;
}

#[tokio::test]
async fn a_request_saved_in_a_profile_reopens_after_a_restart_and_the_cli_lists_it_without_a_token()
{
    const TEST: &str = "explorer_saved";
    let login = "user_2e2e_saved";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_as(TEST, login).await;
    app.wait_state("signedOut", WAIT).await;
    app.fill("#profile-name", "A").await;
    app.click("#save-profile").await;
    app.wait_for(
        "A current",
        "#profile-select option[value=\"A\"][selected]",
        WAIT,
    )
    .await;
    sign_in(&app, login).await;

    shape_post_to_echo(&app, &sandbox.api.echo).await;
    app.fill("#saved-name", "echo post").await;
    app.click("#save-request").await;
    // (The name and URL are ellipsized, which WebDriver counts as not visible text.)
    app.wait_for(
        "the saved request",
        "#saved-0[data-name=\"echo post\"]",
        WAIT,
    )
    .await;
    app.screenshot_at("saved-requests", "#saved-requests").await;
    app.quit().await;

    // After a restart the list is there; one click opens the request; it is sent as saved.
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    app.wait_text("#saved-requests-summary", "Saved requests in A (1)", WAIT)
        .await;
    // The tab came back as it was left (issue 17: tabs restored); a new one is a plain GET.
    let echo_url = format!("{}?from=e2e", sandbox.api.echo);
    assert_eq!(app.value("#request-method").await, "POST");
    assert_eq!(app.value("#request-url").await, echo_url);
    app.click("#tab-new").await;
    assert_eq!(app.value("#request-method").await, "GET");
    app.click("#saved-0").await;
    assert_eq!(
        app.wait_value("#request-url", &echo_url, WAIT).await,
        echo_url
    );
    assert_eq!(app.value("#request-method").await, "POST");
    app.call_api_for_data().await;
    let echo = app.api_json().await;
    assert_eq!(echo["query"]["from"], "e2e", "{echo}");
    assert_eq!(echo["headers"]["x-keyhole-test"], "e2e header", "{echo}");
    assert_eq!(echo["body"], r#"{"hello": "world", "n": 1}"#, "{echo}");
    assert_eq!(echo["userId"], login, "{echo}");
    app.quit().await;

    // keyhole-cli sees it in profile A.
    let out = cli(&profile, &["profile", "requests", "A"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        listed.trim(),
        format!("echo post\tPOST\t{}", sandbox.api.echo)
    );
    let files = profile.stored_files();
    let profiles_json = files
        .iter()
        .find(|f| f.ends_with("profiles.json"))
        .unwrap_or_else(|| panic!("no profiles.json among {files:?}"));
    let text = std::fs::read_to_string(profiles_json).expect("profiles.json");
    assert!(text.contains("\"echo post\""), "{text}");
    assert!(!text.contains("Bearer"), "{text}");
    assert_no_token_in(&files);

    // The same list in dark.
    profile.set_dark(true);
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    app.wait_for("the saved request", "#saved-0", WAIT).await;
    let dark = prefers_dark(&app).await;
    screenshot_if_dark(&app, TEST, &dark, "saved-requests-dark", "#saved-requests").await;
    app.quit().await;
}

#[tokio::test]
async fn the_explorer_states_read_in_dark_too() {
    const TEST: &str = "explorer_dark";
    let login = "user_2e2e_dark";
    let sandbox = keyhole_sandbox::shared();
    let profile = Profile::new(Opener::chromium(login));
    profile.set_dark(true);
    let app = App::launch(TEST, profile.clone()).await;
    let dark = prefers_dark(&app).await;
    assert!(
        dark_supported(&dark),
        "GTK_THEME=Adwaita:dark should switch WebKitGTK to dark: {dark}"
    );
    sign_in(&app, login).await;

    // The editor, shaped; its answer; the history that answer leaves.
    shape_post_to_echo(&app, &sandbox.api.echo).await;
    app.screenshot("editor-dark").await;
    app.call_api_for_data().await;
    app.wait_for("a history entry", "#history-list li", WAIT)
        .await;
    app.screenshot("history-dark").await;

    // Copy as curl.
    app.click("#copy-curl").await;
    app.wait_text("#curl-command", "curl", WAIT).await;
    app.screenshot_at("curl-copied-dark", "#copy-curl").await;

    // A JSON error next to the body.
    app.fill("#request-body", "{oops").await;
    app.click("#call-api").await;
    app.wait_text("#request-error-body", "line 1", WAIT).await;
    app.screenshot_at("json-error-dark", "#request-body-section")
        .await;

    // Waiting, cancelled, timed out.
    app.click("#body-kind-none").await;
    app.select("#request-method", "GET").await;
    call_slow(&app, &sandbox.api.slow).await;
    app.screenshot_at("waiting-dark", "#api-result").await;
    app.click("#cancel-request").await;
    app.wait_api_error("cancelled", WAIT).await;
    app.screenshot_at("cancelled-dark", "#api-result").await;
    app.fill("#request-timeout", "1").await;
    app.click("#call-api").await;
    app.wait_api_error("api_timeout", WAIT).await;
    app.screenshot_at("timed-out-dark", "#api-result").await;
    app.quit().await;
}

/// Presses `keys` with Ctrl held (WebDriver: Control, the keys, then the null key releases it).
async fn ctrl(app: &App, keys: &str) {
    app.press(&format!("\u{E009}{keys}\u{E000}")).await;
}

const PAGE_UP: &str = "\u{E00E}";
const PAGE_DOWN: &str = "\u{E00F}";
const SHIFT: &str = "\u{E008}";

/// The tabs' titles, in the order shown.
async fn tab_titles(app: &App) -> Vec<String> {
    let titles = app
        .execute(
            "return [...document.querySelectorAll('#tabs [role=tab]')].map((t) => t.textContent)",
        )
        .await;
    serde_json::from_value(titles).unwrap_or_default()
}

#[tokio::test]
async fn tabs_keep_their_own_request_and_answer_over_a_restart_and_the_history_tells_token_kinds_and_profiles_apart(
) {
    const TEST: &str = "explorer_tabs";
    let login = "user_2e2e_tabs";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, login).await;

    // Tab 1: the lax API with a query typed in the URL, which the table follows.
    let lax = format!("{}?a=1", sandbox.api.lax);
    app.fill("#request-url", &lax).await;
    app.wait_text("#request-query-summary", "Query parameters (1)", WAIT)
        .await;
    app.call_api_for_data().await;
    assert_eq!(app.api_json().await["tokenType"], "oauth_token");

    // Tab 2 (Ctrl+T): the echo endpoint with a long path-like query, without the token.
    ctrl(&app, "t").await;
    app.wait_for("a second tab", "#tabs [role=tab]:nth-of-type(1)", WAIT)
        .await;
    assert_eq!(tab_titles(&app).await.len(), 2, "Ctrl+T opened a tab");
    let long = format!(
        "{}?padding={}&end=the-path-stays",
        sandbox.api.echo,
        "p".repeat(120)
    );
    app.fill("#request-url", &long).await;
    app.select("#token-type", "none").await;
    app.call_api_for_data().await;
    let echo = app.api_json().await;
    assert!(echo["headers"].get("authorization").is_none(), "{echo}");

    // Ctrl+PageUp: back to tab 1, with its own request and answer.
    ctrl(&app, PAGE_UP).await;
    assert_eq!(app.value("#request-url").await, lax);
    assert_eq!(app.api_json().await["tokenType"], "oauth_token");
    // Ctrl+Shift+PageDown moves it after tab 2.
    let before = tab_titles(&app).await;
    ctrl(&app, &format!("{SHIFT}{PAGE_DOWN}")).await;
    let after = tab_titles(&app).await;
    assert_eq!(after, [before[1].clone(), before[0].clone()], "moved");
    app.screenshot("tabs").await;

    // The history tells the two apart (token kind), and a long URL keeps its path's end.
    app.wait_for("two history entries", "#history-list li:nth-child(2)", WAIT)
        .await;
    let kinds = app
        .execute("return [...document.querySelectorAll('#history-list .history-item')].map((b) => [b.dataset.tokenType, b.querySelector('.token-kind').textContent])")
        .await;
    assert_eq!(
        kinds,
        serde_json::json!([["none", "No token"], ["oauth", "OAuth token"]]),
        "{kinds}"
    );
    let tail = app
        .execute("const t = document.querySelector('#history-list li:first-child .url-tail'); return [t.textContent, t.scrollWidth <= t.clientWidth + 1, t.getBoundingClientRect().width > 0]")
        .await;
    assert!(
        tail[0]
            .as_str()
            .is_some_and(|t| t.ends_with("end=the-path-stays"))
            && tail[1] == true
            && tail[2] == true,
        "the path's end shows in full: {tail}"
    );
    let note = app.text("#history-note").await;
    assert!(note.contains("answers can hold secrets"), "{note}");
    app.screenshot_at("history-token-kinds", "#history").await;
    // The tabs are saved on the clock's tick after a change: wait for the shell to hold both.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let saved = app.invoke("tabs").await.expect("tabs");
        let statuses = saved["tabs"].as_array().map_or(0, |tabs| {
            tabs.iter().filter(|t| t["status"].is_string()).count()
        });
        // Saved after the move: the echo tab first (a save from before it had the same `active`).
        if statuses == 2
            && saved["active"] == 1
            && saved["tabs"][0]["request"]["url"] == sandbox.api.echo.as_str()
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tabs not saved: {saved}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.quit().await;

    // After a restart: both tabs, in their order, each with its draft and last status line.
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    assert_eq!(tab_titles(&app).await, after);
    assert_eq!(app.value("#request-url").await, lax, "the front tab");
    let restored = app
        .wait_text("#api-restored", "Last answer: 200", WAIT)
        .await;
    assert!(restored.contains(" ms"), "{restored}");
    ctrl(&app, PAGE_UP).await;
    assert_eq!(app.value("#request-url").await, long);
    assert_eq!(app.value("#token-type").await, "none");
    // Ctrl+W closes it; the other stays.
    ctrl(&app, "w").await;
    assert_eq!(tab_titles(&app).await.len(), 1);
    assert_eq!(app.value("#request-url").await, lax);

    // History is per profile: a new profile lists none of the entries sent without one.
    app.open_settings_panel().await;
    app.fill("#profile-name", "other").await;
    app.click("#save-profile").await;
    app.wait_state("signedOut", WAIT).await;
    sign_in(&app, login).await;
    app.wait_text("#history-summary", "History (0)", WAIT).await;
    app.open_settings_panel().await;
    app.select("#profile-select", "").await;
    app.wait_text("#history-summary", "History (2)", SIGN_IN_WAIT)
        .await;
    app.quit().await;

    let files = profile.stored_files();
    let tabs = files
        .iter()
        .find(|f| f.ends_with("tabs.json"))
        .unwrap_or_else(|| panic!("no tabs.json among {files:?}"));
    let text = std::fs::read_to_string(tabs).expect("tabs.json");
    // The tab closed with Ctrl+W is gone from the file; the one left keeps its draft.
    assert!(
        !text.contains("the-path-stays") && text.contains("protected-endpoint"),
        "{text}"
    );
    assert!(!text.contains("userId"), "no answer body is kept: {text}");
    assert_no_token_in(&files);
}
