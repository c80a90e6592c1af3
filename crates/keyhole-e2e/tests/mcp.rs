//! The explorer's MCP mode through the app's real window (issue 18, part 3), against the
//! sandbox's MCP peers: the official SDK behind Clerk's `@clerk/mcp-tools` (2025-11-25) and the
//! 2026-07-28 server written from the spec. From the server's URL alone: its 401 leads the engine
//! to the sandbox provider, and the browser stand-in (headless Chromium) signs in; then the tool
//! list, a form generated from echo's input schema, Call and its result; fail's `isError` as an
//! error state; markup's HTML and control characters shown as text; a field left empty refused
//! at the field with nothing sent; the server's resources and prompts; a slow call cancelled; the authorization report of a server
//! answering 500 without a token; the step-up a 403 naming a scope offers; the report waiting
//! for a short-lived token to expire (and that wait cancelled); the mode and URL over a restart.
//!
//! Run like explorer.rs: `cargo build -p keyhole -p keyhole-cli && DISPLAY=:99 cargo test -p
//! keyhole-e2e --test mcp -- --test-threads=1` (scripts/test does both).

mod common;

use std::path::Path;

use common::{launch_signed_in, App, SIGN_IN_WAIT, WAIT};
use serde_json::Value;

/// Switches to the MCP mode, lists the tools at `url` (signing in when the server asks) and
/// waits for the list; returns the revision line.
async fn list_tools(app: &App, url: &str) -> String {
    if !app.exists("#mode-mcp[aria-pressed=\"true\"]").await {
        app.click("#mode-mcp").await;
        app.wait_for("the MCP mode", "#mcp-url", WAIT).await;
    }
    app.fill("#mcp-url", url).await;
    app.click("#mcp-list").await;
    app.wait_for(
        "the tool list",
        "#mcp-tools[data-result=\"data\"] #mcp-tool-list",
        SIGN_IN_WAIT,
    )
    .await;
    app.text("#mcp-revision").await
}

/// Picks `tool` in the list and waits for its form.
async fn choose(app: &App, tool: &str) {
    app.click(&format!("#mcp-tool-list [data-tool=\"{tool}\"]"))
        .await;
    app.wait_for(
        &format!("the form of {tool}"),
        &format!("#mcp-tool[data-tool=\"{tool}\"]"),
        WAIT,
    )
    .await;
}

/// Clicks Call and waits until the result is `result` (`data` or `error`).
async fn call(app: &App, result: &str) {
    app.click("#mcp-call").await;
    app.wait_for(
        &format!("the MCP result {result}"),
        &format!("#mcp-result[data-result=\"{result}\"]"),
        SIGN_IN_WAIT,
    )
    .await;
}

#[tokio::test]
async fn the_mcp_mode_lists_a_servers_tools_after_signing_in_from_its_401_and_calls_one_from_the_generated_form(
) {
    const TEST: &str = "mcp_window";
    let login = "user_2e2e_mcp";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, login).await;

    // The mode switch is in the first frame of the explorer, REST chosen.
    assert_eq!(
        app.execute("return document.querySelector('#mode-rest').getAttribute('aria-pressed')")
            .await,
        Value::from("true")
    );

    // The SDK server: its 401 has the engine sign in for it (the stand-in browser completes it).
    let revision = list_tools(&app, &sandbox.mcp.sdk).await;
    assert!(
        revision.starts_with("MCP 2025-11-25 · keyhole-sandbox-mcp 1.0.0 · 5 tools (3 pages)"),
        "{revision}{}",
        app.context().await
    );
    let names = app
        .execute("return [...document.querySelectorAll('#mcp-tool-list [data-tool]')].map((b) => b.dataset.tool)")
        .await;
    assert_eq!(
        names,
        serde_json::json!(["echo", "whoami", "slow", "markup", "fail"])
    );
    // Its resources and prompts (the SDK server offers both), with the session just made.
    app.click("#mcp-listing-button").await;
    app.wait_for(
        "the resources and prompts",
        "#mcp-listing[data-result=\"data\"]",
        SIGN_IN_WAIT,
    )
    .await;
    assert_eq!(app.text("#mcp-resources-title").await, "Resources (1)");
    assert_eq!(
        app.text("#mcp-resources-0 .mcp-item-uri").await,
        "sandbox://readme"
    );
    assert!(app
        .text("#mcp-resources-0")
        .await
        .contains("What this server is."));
    assert_eq!(app.text("#mcp-prompts-title").await, "Prompts (1)");
    assert!(
        app.exists("#mcp-prompts-0[data-name=\"greet\"]").await,
        "{}",
        app.context().await
    );
    // One line a tool: the whole description is in the DOM (and the button's title).
    let description = app
        .execute("return document.querySelector('#mcp-tool-list [data-tool=\"echo\"]').textContent")
        .await;
    assert!(
        description
            .as_str()
            .is_some_and(|d| d.contains("Says back the text it is given.")),
        "{description}"
    );

    // echo: a form from its schema (text, required); left empty, the form says so and nothing goes.
    choose(&app, "echo").await;
    let label = app
        .execute("return document.querySelector('label[for=\"mcp-arg-0\"]').textContent")
        .await;
    assert_eq!(
        label,
        Value::from("text * string"),
        "{}",
        app.context().await
    );
    let before = sandbox.mcp_stats().expect("mcp stats")["sdk_requests"].clone();
    app.click("#mcp-call").await;
    let error = app
        .wait_text("#mcp-arg-0-error", "text is required.", WAIT)
        .await;
    assert_eq!(error, "text is required.");
    assert!(app.exists("#mcp-arg-0[aria-invalid=\"true\"]").await);
    assert_eq!(
        sandbox.mcp_stats().expect("mcp stats")["sdk_requests"],
        before,
        "nothing was sent"
    );
    app.fill("#mcp-arg-0", "hello from the window").await;
    call(&app, "data").await;
    assert_eq!(app.text("#mcp-content-0").await, "hello from the window");
    let structured: Value =
        serde_json::from_str(&app.text("#mcp-structured").await).expect("structured is JSON");
    assert_eq!(structured["text"], "hello from the window");
    assert!(app
        .text("#mcp-meta")
        .await
        .starts_with("MCP 2025-11-25 · keyhole-sandbox-mcp 1.0.0 · "));
    let shot = app.screenshot_at("echo", "#explorer-mode").await;
    keep_for_readme(&shot, "mcp-mode.png");

    // whoami: the server verified a token for the user the browser signed in as.
    choose(&app, "whoami").await;
    assert!(app.text("#mcp-no-args").await.contains("no arguments"));
    call(&app, "data").await;
    let who: Value =
        serde_json::from_str(&app.text("#mcp-structured").await).expect("structured is JSON");
    assert_eq!(who["userId"], login, "{who}");

    // fail: isError is an error state, not data, with the tool's words below.
    choose(&app, "fail").await;
    call(&app, "error").await;
    assert!(
        app.exists("#mcp-result[data-error-kind=\"tool_error\"]")
            .await
    );
    assert_eq!(
        app.text("#mcp-error").await,
        "Error: The tool fail reported an error (isError)."
    );
    assert_eq!(app.text("#mcp-content-0").await, "this tool always fails");
    app.screenshot_at("is-error", "#mcp-tool").await;

    // markup: its HTML is text, its control characters visible escapes; no element came of it.
    choose(&app, "markup").await;
    call(&app, "data").await;
    let shown = app.text("#mcp-content-0").await;
    assert!(
        shown.starts_with("<script>alert(\"x\")</script><b>bold</b>\\u{0007}\\u{001b}[31mred"),
        "{shown}"
    );
    assert!(shown.ends_with("\\u{0000}end"), "{shown}");
    let elements = app
        .execute("return document.querySelectorAll('#mcp-result script, #mcp-result b').length")
        .await;
    assert_eq!(elements, Value::from(0));
    app.screenshot_at("markup", "#mcp-tool").await;

    // slow: Loading… with the time waited, then Cancel.
    choose(&app, "slow").await;
    app.fill("#mcp-arg-0", "-5").await;
    app.click("#mcp-call").await;
    app.wait_text("#mcp-arg-0-error", "ms must be at least 0.", WAIT)
        .await;
    app.fill("#mcp-arg-0", "20000").await;
    app.click("#mcp-call").await;
    app.wait_for(
        "the call to wait",
        "#mcp-result[data-result=\"loading\"]",
        WAIT,
    )
    .await;
    app.wait_text("#mcp-call-elapsed", "1 s", WAIT).await;
    app.click("#mcp-call-cancel").await;
    app.wait_for(
        "the call to be cancelled",
        "#mcp-result[data-result=\"error\"][data-error-kind=\"cancelled\"]",
        WAIT,
    )
    .await;
    assert_eq!(
        app.text("#mcp-error").await,
        "Error: Cancelled. Nothing was received."
    );

    // The 2026-07-28 server, from its URL alone too (another resource: another sign-in).
    let revision = list_tools(&app, &sandbox.mcp.modern).await;
    assert!(
        revision.starts_with("MCP 2026-07-28 · keyhole-sandbox-mcp 1.0.0 · 5 tools"),
        "{revision}{}",
        app.context().await
    );
    choose(&app, "echo").await;
    app.fill("#mcp-arg-0", "hello 2026").await;
    call(&app, "data").await;
    assert_eq!(app.text("#mcp-content-0").await, "hello 2026");

    // A URL that is no MCP server: Error: what it answered.
    app.fill("#mcp-url", &sandbox.mcp.html).await;
    app.click("#mcp-list").await;
    let error = app
        .wait_text("#mcp-tools-error", "is not an MCP server", WAIT)
        .await;
    assert!(error.starts_with("Error: "), "{error}");

    // Check authorization on the server answering 500 without a token: that check fails, and
    // the summary counts the failures.
    app.fill("#mcp-url", &sandbox.mcp.error_500).await;
    app.click("#mcp-check-button").await;
    app.wait_for(
        "the authorization report",
        "#mcp-check[data-result=\"data\"] #mcp-checks",
        SIGN_IN_WAIT,
    )
    .await;
    let row = "#mcp-check-missing_token_refused";
    assert!(
        app.exists(&format!("{row}.verdict-fail[data-verdict=\"fail\"]"))
            .await,
        "{}",
        app.context().await
    );
    assert!(app
        .text(&format!("{row} .verdict"))
        .await
        .starts_with("FAIL"));
    let summary = app.text("#mcp-check-summary").await;
    assert!(summary.ends_with("failed"), "{summary}");
    assert!(app.exists("#mcp-check-summary.verdict-fail").await);
    app.screenshot_at("report", "#mcp-check").await;

    // The server needing a scope no token has: its 403 offers the step-up, which signs in again
    // (the stand-in browser agrees) and lists the tools once more.
    app.fill("#mcp-url", &sandbox.mcp.scoped).await;
    app.click("#mcp-list").await;
    let offer = app
        .wait_text(
            "#mcp-tools-step-up",
            "Sign in again asking for mcp:admin",
            SIGN_IN_WAIT,
        )
        .await;
    assert_eq!(offer, "Sign in again asking for mcp:admin");
    assert!(app
        .text("#mcp-tools-error")
        .await
        .contains("needs the scope mcp:admin"));
    app.click("#mcp-tools-step-up").await;
    app.wait_for(
        "the tool list after the step-up",
        "#mcp-tools[data-result=\"data\"] #mcp-tool-list",
        SIGN_IN_WAIT,
    )
    .await;
    assert!(app.text("#mcp-revision").await.contains("5 tools"));

    // No token on the page, and none in what the app stored.
    let page = app
        .execute("return document.documentElement.textContent")
        .await;
    assert!(
        !looks_like_a_jwt(page.as_str().unwrap_or_default()),
        "a token on the page"
    );
    for file in profile.stored_files() {
        let text = common::read_optional(&file).unwrap_or_default();
        assert!(!looks_like_a_jwt(&text), "a token in {}", file.display());
    }
    app.quit().await;
}

#[tokio::test]
async fn the_mcp_mode_and_its_server_url_come_back_after_a_restart() {
    const TEST: &str = "mcp_restart";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, "user_2e2e_mcp_restart").await;
    let url = sandbox.mcp.sdk.clone();
    list_tools(&app, &url).await;
    // Kept on the clock's tick after a change: wait until the shell holds the mode and URL.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let saved = app.invoke("tabs").await.expect("tabs");
        if saved["mode"] == "mcp" && saved["mcpUrl"] == url.as_str() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "mode and URL not kept: {saved}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.quit().await;

    // Restarted: the MCP mode in front, the URL in its field, and List tools lists from it.
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    app.wait_for(
        "the MCP mode restored",
        "#mode-mcp[aria-pressed=\"true\"]",
        WAIT,
    )
    .await;
    assert_eq!(app.value("#mcp-url").await, url, "{}", app.context().await);
    assert_eq!(
        app.execute("return document.activeElement && document.activeElement.id")
            .await,
        Value::from("mcp-url"),
        "the URL has the focus at start"
    );
    app.click("#mcp-list").await;
    app.wait_for(
        "the tool list from the restored URL",
        "#mcp-tools[data-result=\"data\"] #mcp-tool-list",
        SIGN_IN_WAIT,
    )
    .await;
    // Back to REST: that is kept too.
    app.click("#mode-rest").await;
    let deadline = std::time::Instant::now() + WAIT;
    while app.invoke("tabs").await.expect("tabs")["mode"] != "rest" {
        assert!(std::time::Instant::now() < deadline, "REST not kept");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.quit().await;
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    assert!(
        app.exists("#mode-rest[aria-pressed=\"true\"]").await,
        "{}",
        app.context().await
    );
    app.quit().await;
    for file in profile.stored_files() {
        let text = common::read_optional(&file).unwrap_or_default();
        assert!(!looks_like_a_jwt(&text), "a token in {}", file.display());
    }
}

#[tokio::test]
async fn the_report_may_wait_for_the_token_to_expire_and_that_wait_can_be_cancelled() {
    const TEST: &str = "mcp_expiry";
    let login = "user_2e2e_mcp_expiry";
    // A sandbox of its own whose tokens live 2 s, so the wait is the token's 2 s and the
    // engine's 10 s of leeway.
    let sandbox = keyhole_sandbox::Sandbox::start_with(keyhole_sandbox::SandboxOptions {
        access_token_ttl: Some(2),
        ..keyhole_sandbox::SandboxOptions::default()
    })
    .expect("a sandbox with short-lived tokens");
    let profile = common::Profile::on(&sandbox, common::Opener::chromium(login));
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedOut", WAIT).await;
    common::sign_in(&app, login).await;
    app.click("#mode-mcp").await;
    app.wait_for("the MCP mode", "#mcp-url", WAIT).await;
    app.fill("#mcp-url", &sandbox.mcp.compliant).await;

    // Without the wait, an expired token is not checked.
    app.click("#mcp-check-button").await;
    let row = "#mcp-check-expired_refused";
    app.wait_for(
        "the report without the wait",
        &format!("#mcp-check[data-result=\"data\"] {row}"),
        SIGN_IN_WAIT,
    )
    .await;
    assert!(
        app.exists(&format!("{row}[data-verdict=\"not_checked\"]"))
            .await,
        "{}",
        app.context().await
    );

    // Allowed to wait 30 s: Loading… says so, then the expired token is refused (pass).
    app.click("#mcp-expiry-wait").await;
    app.clear("#mcp-expiry-seconds").await;
    app.fill("#mcp-expiry-seconds", "30").await;
    app.click("#mcp-check-button").await;
    let said = app
        .wait_text("#mcp-check-expiry", "within 30 s", WAIT)
        .await;
    assert!(said.contains("Cancel stops the wait"), "{said}");
    app.wait_for(
        "the report after the wait",
        &format!("#mcp-check[data-result=\"data\"] {row}"),
        SIGN_IN_WAIT,
    )
    .await;
    assert!(
        app.exists(&format!("{row}[data-verdict=\"pass\"]")).await,
        "{}{}",
        app.text(row).await,
        app.context().await
    );

    // Again, cancelled while it waits for the token to expire (the engine says it waits).
    app.click("#mcp-check-button").await;
    app.wait_text("#notice", "for the access token to expire", WAIT)
        .await;
    app.wait_for(
        "the check to wait",
        "#mcp-check[data-result=\"loading\"]",
        WAIT,
    )
    .await;
    app.click("#mcp-check-cancel").await;
    app.wait_for(
        "the wait to be cancelled",
        "#mcp-check[data-result=\"error\"][data-error-kind=\"cancelled\"]",
        WAIT,
    )
    .await;
    app.quit().await;
}

/// `eyJ….eyJ…`: the start of a JWT's header and payload.
fn looks_like_a_jwt(text: &str) -> bool {
    text.split("eyJ").skip(1).any(|rest| {
        let head: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        head.len() >= 8 && rest[head.len()..].starts_with(".eyJ")
    })
}

/// Copies a screenshot to `docs/screenshots/` when `KEYHOLE_README_SHOTS` is set (the README's
/// MCP picture is made this way).
fn keep_for_readme(shot: &Path, name: &str) {
    if std::env::var_os("KEYHOLE_README_SHOTS").is_none() {
        return;
    }
    let dir = common::workspace_dir().join("docs/screenshots");
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    std::fs::copy(shot, dir.join(name)).expect("copy the screenshot");
}
