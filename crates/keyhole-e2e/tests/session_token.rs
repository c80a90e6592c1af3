//! Session tokens through the real window: Sign in with Clerk (session token) signs in to the
//! sandbox's Clerk Frontend API stand-in (headless Chromium as the system browser), the token
//! selector sends a session token to the tutorial's backend (`ClerkExpressWithAuth()` /
//! `ClerkExpressRequireAuth()`), and Try every token type shows which kinds an `acceptsToken`
//! route lets in, with Clerk's fix for the others.
//!
//! Run as window.rs says: `cargo build -p keyhole && DISPLAY=:99 cargo test -p keyhole-e2e
//! --test session_token -- --test-threads=1` (or `scripts/e2e session_token`).

mod common;

use common::{launch_as, App, SIGN_IN_WAIT, WAIT};

/// Clicks "Sign in with Clerk (session token)" and waits for the Clerk card to name `login`.
async fn sign_in_to_clerk(app: &App, login: &str) {
    app.click("#sign-in-clerk").await;
    app.wait_for(
        "the Clerk session card",
        "#clerk-session[data-held=\"true\"]",
        SIGN_IN_WAIT,
    )
    .await;
    app.wait_state("signedIn", WAIT).await;
    assert_eq!(
        app.text("#clerk-subject").await,
        login,
        "the Clerk card names the login{}",
        app.context().await
    );
}

#[tokio::test]
async fn a_clerk_session_sends_session_tokens_to_the_tutorial_backend_and_the_matrix_names_the_fix()
{
    const TEST: &str = "session_token";
    let login = "user_2e2e_session";
    let sandbox = keyhole_sandbox::shared();
    let (app, _) = launch_as(TEST, login).await;
    app.wait_state("signedOut", WAIT).await;
    assert!(
        app.exists("#sign-in-clerk").await,
        "both sign-ins are offered"
    );

    // The tutorial's backend, then Clerk's own sign-in: no OAuth session, only a Clerk one.
    app.set_api_url(&sandbox.api.tutorial_lax).await;
    let before = sandbox.fapi_requests("POST /v1/client/sign_ins");
    sign_in_to_clerk(&app, login).await;
    assert!(
        sandbox.fapi_requests("POST /v1/client/sign_ins") > before,
        "the sign-in went through the Frontend API"
    );
    let session_id = app.text("#clerk-session-id").await;
    assert!(session_id.starts_with("sess_"), "{session_id}");
    assert!(
        !app.exists("#subject").await,
        "no OAuth session is shown as held"
    );
    assert!(
        app.exists("#sign-in-oauth").await,
        "the OAuth sign-in is offered"
    );
    app.screenshot("clerk-signed-in").await;

    // The selector defaults to the only kind held; the masked header says which.
    assert_eq!(app.value("#token-type").await, "session");
    let page = app.text("#app").await;
    assert!(!page.contains("eyJ"), "no token value on the page: {page}");

    app.call_api_for_data().await;
    assert!(app.text("#api-result").await.contains("Data from API"));
    let auth = app.api_json().await;
    assert_eq!(auth["userId"], login, "{auth}");
    assert_eq!(auth["sessionId"], session_id.as_str(), "{auth}");
    // The card shows the decoded claims of the token just minted (its sid is the session).
    app.wait_text("#session-token-claims", &session_id, WAIT)
        .await;
    app.screenshot_at("session-token-data", "#api-result").await;

    // ClerkExpressRequireAuth(): 200, not 401.
    app.fill("#request-url", &sandbox.api.tutorial_strict).await;
    app.call_api_for_data().await;
    assert!(
        app.text("#api-meta").await.starts_with("200"),
        "{}",
        app.text("#api-meta").await
    );
    assert_eq!(app.api_json().await["userId"], login);

    // OAuth too, then every kind on a route that accepts only OAuth tokens.
    app.click("#sign-in-oauth").await;
    app.wait_for("the OAuth session", "#subject", SIGN_IN_WAIT)
        .await;
    assert_eq!(app.text("#subject").await, login);
    assert!(
        app.exists("#clerk-session[data-held=\"true\"]").await,
        "the Clerk session stays"
    );
    app.fill(
        "#request-url",
        &format!("{}/oauth_token", sandbox.api.accepts),
    )
    .await;
    app.click("#try-every-token-type").await;
    app.wait_for("the matrix", "#matrix-result[data-result=\"data\"]", WAIT)
        .await;
    let session_row = app.text("#matrix-session").await;
    assert_eq!(
        app.execute("return document.querySelector('#matrix-session').dataset.signedIn")
            .await,
        "false",
        "{session_row}"
    );
    assert!(session_row.contains("'session_token'"), "{session_row}");
    assert_eq!(
        app.execute("return document.querySelector('#matrix-oauth').dataset.signedIn")
            .await,
        "true",
        "{}",
        app.text("#token-matrix").await
    );
    assert!(app.text("#matrix-oauth").await.contains("200"));
    app.screenshot_at("token-matrix", "#matrix-result").await;

    // Sign-out ends both.
    app.click("#sign-out").await;
    app.wait_state("signedOut", WAIT).await;
    assert_eq!(
        app.invoke("clerk_session")
            .await
            .expect("clerk_session answers"),
        serde_json::Value::Null
    );
    app.quit().await;
}

/// The Clerk keys panel: the sandbox's secret key pasted in, an impersonated test session for a
/// user (with its banner) sending session tokens to the tutorial's backend, then an API key
/// created for the same user and sent as it is to an `acceptsToken: 'api_key'` route.
#[tokio::test]
async fn the_secret_key_acts_as_a_user_and_creates_an_api_key_the_backend_accepts() {
    const TEST: &str = "clerk_keys";
    const USER: &str = "user_2abcdefghijklmnopqrstuvwxyz";
    let sandbox = keyhole_sandbox::shared();
    let (app, _) = launch_as(TEST, "user_2e2e_keys").await;
    app.wait_state("signedOut", WAIT).await;
    app.set_api_url(&sandbox.api.tutorial_lax).await;

    // The panel opens from the sign-in screen; the key goes in and comes back masked only.
    app.click("#clerk-keys-summary").await;
    app.wait_for("the Clerk keys panel", "#clerk-keys[open]", WAIT)
        .await;
    app.fill("#key-secret-key", &sandbox.secret_key).await;
    app.click("#save-key-secret-key").await;
    app.wait_for(
        "the secret key kept",
        "#key-row-secret-key[data-kept=\"true\"]",
        WAIT,
    )
    .await;
    assert!(app.text("#kept-secret-key").await.starts_with("sk_test_"));
    assert_eq!(
        app.value("#key-secret-key").await,
        "",
        "the input is cleared"
    );
    let page = app.text("#app").await;
    assert!(
        !page.contains(&sandbox.secret_key),
        "the key is never shown back: {page}"
    );
    app.screenshot_at("keys-panel", "#clerk-keys").await;

    // Act as the user: an impersonated test session, said plainly on the Clerk card.
    app.fill("#act-as-user", USER).await;
    app.click("#start-test-session").await;
    app.wait_for("the banner", "#impersonated-banner", SIGN_IN_WAIT)
        .await;
    app.wait_state("signedIn", WAIT).await;
    assert_eq!(
        app.text("#impersonated-banner").await,
        "Impersonated test session — made with the secret key, not the user's own sign-in"
    );
    assert_eq!(app.text("#clerk-subject").await, USER);
    assert_eq!(app.value("#token-type").await, "session");
    app.screenshot("impersonated-session").await;
    app.call_api_for_data().await;
    assert!(app.text("#api-result").await.contains("Data from API"));
    let auth = app.api_json().await;
    assert_eq!(auth["userId"], USER, "{auth}");
    // The card is read again after the mint: it still says what kind of session this is.
    app.wait_text("#session-token-claims", USER, WAIT).await;
    assert!(app.exists("#impersonated-banner").await, "the banner stays");

    // An API key for the same user, kept, then sent as it is.
    app.fill("#api-key-for", USER).await;
    app.click("#create-api-key").await;
    app.wait_for("the API key created", "#created-api-key", WAIT)
        .await;
    app.wait_for(
        "the API key kept",
        "#key-row-api-key[data-kept=\"true\"]",
        WAIT,
    )
    .await;
    app.select("#token-type", "api-key").await;
    app.fill("#request-url", &format!("{}/api_key", sandbox.api.accepts))
        .await;
    app.call_api_for_data().await;
    let auth = app.api_json().await;
    assert_eq!(auth["isAuthenticated"], true, "{auth}");
    let page = app.text("#app").await;
    assert!(!page.contains(&sandbox.secret_key), "{page}");
    app.screenshot_at("api-key-data", "#api-result").await;
    app.quit().await;
}
