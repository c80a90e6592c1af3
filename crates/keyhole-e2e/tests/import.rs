//! Variables and import through the app's real window (issue 17, parts 4 and 5): a secret
//! variable in a header reaches the sandbox's echo endpoint resolved while the window shows it
//! masked and no store file holds it; a pasted curl command fills the editor with the notice that
//! its token was replaced; an OpenAPI import from the sandbox's own URL lists the saved requests.
//!
//! Run like explorer.rs: `cargo build -p keyhole -p keyhole-cli && DISPLAY=:99 cargo test -p
//! keyhole-e2e --test import -- --test-threads=1`.

mod common;

use common::{launch_as, sign_in, App, WAIT};

const SECRET: &str = "e2e-var-S3cr3t-7d1a";
const PASTED_TOKEN: &str = "eyJpasted.curl-token.sig";

async fn open_section(app: &App, id: &str) {
    if !app.exists(&format!("#{id}[open]")).await {
        app.click(&format!("#{id}-summary")).await;
        app.wait_for(id, &format!("#{id}[open]"), WAIT).await;
    }
}

/// Whether the page shows `needle` anywhere, as text or in a field.
async fn page_shows(app: &App, needle: &str) -> bool {
    let script = format!(
        "const n = {needle:?}; return document.body.textContent.includes(n) || [...document.querySelectorAll('input, textarea')].some((e) => e.value.includes(n));"
    );
    app.execute(&script).await.as_bool().unwrap_or(true)
}

#[tokio::test]
async fn a_secret_variable_is_sent_masked_and_kept_nowhere_a_curl_paste_and_an_openapi_import_fill_the_window(
) {
    const TEST: &str = "import_variables";
    let login = "user_2e2e_vars";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_as(TEST, login).await;
    app.wait_state("signedOut", WAIT).await;
    app.fill("#profile-name", "V").await;
    app.click("#save-profile").await;
    app.wait_for(
        "V current",
        "#profile-select option[value=\"V\"][selected]",
        WAIT,
    )
    .await;
    sign_in(&app, login).await;

    // A secret variable: typed once, then only its mask is shown.
    open_section(&app, "variables").await;
    app.fill("#variable-name", "apikey").await;
    app.fill("#variable-value", SECRET).await;
    app.click("#variable-secret").await;
    app.click("#variable-save").await;
    app.wait_text("#variable-0-value", "••••••••", WAIT).await;
    assert_eq!(
        app.value("#variable-value").await,
        "",
        "the typed secret is gone"
    );

    // Used in a header: the API gets the value; the answer shown blanks it.
    app.fill("#request-url", &sandbox.api.echo).await;
    open_section(&app, "request-headers").await;
    app.click("#add-headers").await;
    app.fill("#headers-0-name", "X-Api-Key").await;
    app.fill("#headers-0-value", "{{apikey}}").await;
    app.call_api_for_data().await;
    let echo = app.api_json().await;
    assert_eq!(
        echo["headers"]["x-api-key"], "<secret apikey>",
        "resolved, then blanked: {echo}"
    );
    assert_eq!(echo["userId"], login);
    assert!(
        !page_shows(&app, SECRET).await,
        "the window shows the secret"
    );

    // A pasted curl command becomes the request; its token is replaced, said in the notice.
    let command = format!(
        "curl -X PUT '{}?from=curl' -H 'Authorization: Bearer {PASTED_TOKEN}' -H 'X-Trace: pasted' --data-raw '{{\"a\":1}}'",
        sandbox.api.echo
    );
    app.fill("#request-url", &command).await;
    app.click("#call-api").await;
    app.wait_text("#notice", "replaced by Keyhole's own", WAIT)
        .await;
    assert_eq!(
        app.value("#request-url").await,
        format!("{}?from=curl", sandbox.api.echo)
    );
    assert_eq!(app.value("#request-method").await, "PUT");
    assert!(
        !page_shows(&app, PASTED_TOKEN).await,
        "the pasted token is gone"
    );
    app.call_api_for_data().await;
    let echo = app.api_json().await;
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["headers"]["x-trace"], "pasted");
    assert_eq!(echo["userId"], login, "Keyhole's own token went instead");

    // OpenAPI from the sandbox's own URL: one saved request per operation.
    let openapi = sandbox.api.echo.replace("/echo", "/openapi.json");
    app.fill("#import-source", &openapi).await;
    app.click("#import-document").await;
    app.wait_text("#import-report", "Imported 3 requests", WAIT)
        .await;
    for name in ["echoGet", "echoPost", "GET /protected-endpoint"] {
        app.wait_for(name, &format!("#saved-list [data-name=\"{name}\"]"), WAIT)
            .await;
    }
    app.screenshot("imported").await;
    app.quit().await;

    // Nothing on disk holds the secret or the pasted token; the history keeps the template.
    let files = profile.stored_files();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        assert!(
            !text.contains(SECRET),
            "{} holds the secret",
            file.display()
        );
        assert!(
            !text.contains(PASTED_TOKEN),
            "{} holds the pasted token",
            file.display()
        );
    }
    let history = files
        .iter()
        .find(|f| f.ends_with("history.json"))
        .unwrap_or_else(|| panic!("no history.json among {files:?}"));
    let text = std::fs::read_to_string(history).expect("history.json");
    assert!(text.contains("{{apikey}}"), "the template is kept: {text}");
}
