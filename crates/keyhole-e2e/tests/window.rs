//! Keyhole end to end through its real window: clicks and typing via WebDriver, the real
//! provider and APIs from the sandbox, headless Chromium as the system browser.
//!
//! Run (one X server for the whole run; windows of parallel tests would share it, so serially):
//! `cargo build -p keyhole && DISPLAY=:99 cargo test -p keyhole-e2e -- --test-threads=1`
//! (scripts/e2e starts Xvfb and does both).

mod common;

use common::{
    closed_port_url, launch_as, launch_signed_in, read_optional, sign_in, App, Opener, Profile,
    SIGN_IN_WAIT, WAIT,
};

#[tokio::test]
async fn signing_in_shows_the_login_and_calling_the_lax_api_shows_its_data() {
    const TEST: &str = "sign_in_and_lax_api";
    let login = "user_2e2e_lax";
    let sandbox = keyhole_sandbox::shared();
    let (app, _) = launch_as(TEST, login).await;

    app.wait_state("signedOut", WAIT).await;
    assert!(
        app.exists("#sandbox-badge:not([hidden])").await,
        "the sandbox badge shows{}",
        app.context().await
    );
    assert_eq!(app.value("#instance").await, sandbox.issuer);
    assert_eq!(app.value("#api-url").await, sandbox.api.lax);
    // The About line, from the state the shell injected before the page loaded.
    let about = app.text("#about").await;
    assert!(
        about.starts_with(&format!("Keyhole {} · commit ", env!("CARGO_PKG_VERSION"))),
        "{about}"
    );
    app.screenshot("signed-out").await;

    sign_in(&app, login).await;
    assert_eq!(app.text("#issuer").await, sandbox.issuer);
    assert_eq!(
        app.invoke("session").await.expect("session answers")["session"]["subject"],
        login
    );
    app.screenshot("signed-in").await;

    app.call_api_for_data().await;
    let box_text = app.text("#api-result").await;
    assert!(box_text.contains("Data from API"), "{box_text}");
    assert!(app.text("#api-meta").await.starts_with("200 OK"));
    let auth = app.api_json().await;
    assert_eq!(auth["subject"], login, "{auth}");
    assert_eq!(auth["userId"], login, "{auth}");
    assert_eq!(auth["tokenType"], "oauth_token", "{auth}");
    assert!(
        !app.exists("#diagnosis").await,
        "no diagnosis for a good answer"
    );
    app.screenshot("lax-data").await;

    // A slow endpoint, so "Loading..." is on screen long enough to be seen for sure.
    app.set_api_url(&format!("{}?ms=2500", sandbox.api.slow))
        .await;
    app.click("#call-api").await;
    app.wait_api("loading", WAIT).await;
    let loading_text = app.text("#api-result[data-result=\"loading\"]").await;
    assert!(loading_text.starts_with("Loading"), "{loading_text}");
    app.wait_text("#status", "calling the API", WAIT).await;
    app.screenshot("api-loading").await;
    app.wait_api("data", WAIT).await;
    assert_eq!(app.api_json().await["slow"], true);
    app.screenshot("slow-data").await;

    app.quit().await;
}

#[tokio::test]
async fn the_strict_api_answers_with_a_token_refuses_another_instances_token_and_needs_a_session() {
    const TEST: &str = "strict_api";
    let login = "user_2e2e_strict";
    let sandbox = keyhole_sandbox::shared();
    // A second, independent "Clerk instance" with its own signing key: its strict API must
    // refuse tokens from the first one, which is what a backend set up for another instance does.
    let other = tokio::task::spawn_blocking(keyhole_sandbox::Sandbox::start)
        .await
        .expect("join")
        .expect("a second sandbox starts");
    let (app, _) = launch_signed_in(TEST, login).await;

    app.set_api_url(&sandbox.api.strict).await;
    app.call_api_for_data().await;
    let auth = app.api_json().await;
    assert_eq!(auth["subject"], login, "{auth}");
    app.screenshot("strict-data").await;

    app.set_api_url(&other.api.strict).await;
    assert_eq!(app.call_api().await, "error", "{}", app.context().await);
    let error = app.text("#api-error").await;
    assert_eq!(error, "Error: 401 Unauthorized — Unauthenticated!");
    let diagnosis = app.text("#diagnosis").await;
    assert!(diagnosis.contains("refused (HTTP 401)"), "{diagnosis}");
    assert!(diagnosis.contains(&sandbox.issuer), "{diagnosis}");
    app.screenshot("strict-401-other-instance").await;

    app.click("#sign-out").await;
    app.wait_state("signedOut", WAIT).await;
    app.wait_text("#notice", "Signed out.", WAIT).await;
    assert!(
        !app.exists("#call-api").await,
        "no Call API when signed out"
    );
    // Not even the backend calls the API without a session.
    let refused = app.invoke("call_api").await.expect_err("no session");
    assert_eq!(refused["kind"], "not_signed_in", "{refused}");
    assert_eq!(
        app.invoke("session").await.expect("session answers")["session"],
        serde_json::Value::Null
    );
    app.screenshot("signed-out").await;

    app.quit().await;
    drop(other);
}

#[tokio::test]
async fn the_session_only_api_reads_the_token_as_signed_out_and_the_diagnosis_says_why() {
    const TEST: &str = "session_only_api";
    let login = "user_2e2e_session_only";
    let sandbox = keyhole_sandbox::shared();
    let (app, _) = launch_signed_in(TEST, login).await;

    app.set_api_url(&sandbox.api.session_only).await;
    app.call_api_for_data().await;
    let auth = app.api_json().await;
    assert_eq!(auth["userId"], serde_json::Value::Null, "{auth}");
    let diagnosis = app.text("#diagnosis").await;
    assert!(diagnosis.starts_with("Warning: "), "{diagnosis}");
    assert!(diagnosis.contains("reads you as signed out"), "{diagnosis}");
    assert!(
        diagnosis.contains("acceptsToken: 'oauth_token'"),
        "{diagnosis}"
    );
    app.screenshot("diagnosis").await;

    app.quit().await;
}

#[tokio::test]
async fn a_bad_api_url_is_a_field_error_and_nothing_is_saved() {
    const TEST: &str = "bad_api_url";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_as(TEST, "user_2e2e_unused").await;
    app.wait_state("signedOut", WAIT).await;

    app.set_api_url(&sandbox.api.strict).await;
    let saved = read_optional(&profile.settings_file()).expect("the settings file exists");
    assert!(saved.contains(&sandbox.api.strict), "{saved}");

    app.fill("#api-url", "notaurl").await;
    app.click("#save-settings").await;
    let message = app.wait_text("#error-apiUrl", "notaurl", WAIT).await;
    assert!(message.contains("not a valid URL"), "{message}");
    app.wait_for(
        "the API URL field marked invalid",
        "#api-url[aria-invalid=\"true\"]",
        WAIT,
    )
    .await;
    app.screenshot("field-error").await;

    assert_eq!(
        read_optional(&profile.settings_file()).as_deref(),
        Some(saved.as_str()),
        "the settings file is unchanged"
    );
    assert_eq!(
        app.invoke("load_settings").await.expect("load_settings")["apiUrl"],
        sandbox.api.strict.as_str()
    );
    // A fresh page shows what the backend holds: the last good URL.
    app.reload().await;
    assert_eq!(app.value("#api-url").await, sandbox.api.strict);
    assert!(!app.exists("#error-apiUrl").await);

    app.quit().await;
}

#[tokio::test]
async fn an_unreachable_api_shows_an_error_and_the_next_good_call_works() {
    const TEST: &str = "unreachable_api";
    let login = "user_2e2e_unreachable";
    let sandbox = keyhole_sandbox::shared();
    let (app, _) = launch_signed_in(TEST, login).await;

    let closed = closed_port_url("/protected-endpoint");
    app.set_api_url(&closed).await;
    assert_eq!(app.call_api().await, "error", "{}", app.context().await);
    let error = app.text("#api-error").await;
    assert!(
        error.starts_with("Error: could not reach the API"),
        "{error}"
    );
    assert!(error.contains(&closed), "{error}");
    app.wait_text("#status", "API call failed", WAIT).await;
    app.screenshot("unreachable-error").await;

    // Still usable: same session, a good API answers.
    app.set_api_url(&sandbox.api.lax).await;
    app.call_api_for_data().await;
    assert_eq!(app.api_json().await["subject"], login);
    assert_eq!(app.text("#subject").await, login);
    app.screenshot("recovered").await;

    app.quit().await;
}

#[tokio::test]
async fn cancel_during_sign_in_returns_to_signed_out_and_a_new_sign_in_works() {
    const TEST: &str = "cancel_sign_in";
    let login = "user_2e2e_after_cancel";
    // The opener only records URLs: nobody completes the first sign-in.
    let profile = Profile::new(Opener::Recorder);
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedOut", WAIT).await;

    app.click("#sign-in").await;
    app.wait_state("signingIn", WAIT).await;
    app.wait_text("#sign-in-stage", "Waiting for you", WAIT)
        .await;
    let first = profile.wait_opened(1).await;
    assert_eq!(app.value("#sign-in-url").await, first[0]);
    app.screenshot("waiting").await;

    app.click("#open-browser-again").await;
    let again = profile.wait_opened(2).await;
    assert_eq!(again[1], first[0], "the same URL is opened again");

    app.click("#cancel-sign-in").await;
    app.wait_state("signedOut", WAIT).await;
    app.wait_text("#notice", "Sign-in cancelled.", WAIT).await;
    app.screenshot("cancelled").await;

    // The cancelled sign-in's loopback listener is gone: a late browser cannot deliver a code.
    let url = first[0].clone();
    let late = tokio::task::spawn_blocking(move || keyhole_sandbox::http_login(&url, "late"))
        .await
        .expect("join");
    let late = late.expect_err("the cancelled sign-in no longer listens");
    assert!(late.contains("ECONNREFUSED"), "{late}");

    // A new sign-in works; the test plays the browser on the new URL.
    app.click("#sign-in").await;
    app.wait_state("signingIn", WAIT).await;
    let opened = profile.wait_opened(3).await;
    let second = opened[2].clone();
    assert_ne!(second, first[0], "a new sign-in has a new URL");
    let browser =
        tokio::task::spawn_blocking(move || keyhole_sandbox::chromium_login(&second, login));
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    browser
        .await
        .expect("join")
        .expect("the browser stand-in delivered the code");
    assert_eq!(app.text("#subject").await, login);
    app.screenshot("signed-in-after-cancel").await;

    app.quit().await;
}

#[tokio::test]
async fn settings_survive_a_restart_of_the_app() {
    const TEST: &str = "restart";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_as(TEST, "user_2e2e_restart").await;
    app.wait_state("signedOut", WAIT).await;
    app.fill("#scopes", "openid profile email").await;
    app.set_api_url(&sandbox.api.strict).await;
    app.screenshot("saved").await;
    app.quit().await;

    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedOut", WAIT).await;
    assert_eq!(app.value("#api-url").await, sandbox.api.strict);
    assert_eq!(app.value("#scopes").await, "openid profile email");
    assert_eq!(app.value("#instance").await, sandbox.issuer);
    assert!(
        app.exists("#sandbox-badge:not([hidden])").await,
        "still the sandbox's instance{}",
        app.context().await
    );
    app.screenshot("after-restart").await;
    app.quit().await;
}

#[tokio::test]
async fn a_signed_in_session_survives_a_restart_of_the_app_until_sign_out() {
    const TEST: &str = "session_restart";
    let login = "user_2e2e_keep";
    let (app, profile) = launch_signed_in(TEST, login).await;
    app.quit().await;

    // A new app process: the refresh token from the OS keychain brings the session back,
    // with no browser involved (the opener would sign in as the same login, so count opens).
    let opened_before =
        std::fs::read_to_string(profile.path().join("standin.log")).unwrap_or_default();
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    assert_eq!(app.text("#subject").await, login);
    // The restore from the keychain ended as the page loaded: its first frame was already the
    // signed-in screen, not a "Restoring…" frame turning into another layout.
    assert_eq!(
        first_screen(&app).await,
        "signedIn",
        "{}",
        app.context().await
    );
    app.screenshot("restored").await;
    app.call_api_for_data().await;
    assert_eq!(app.api_json().await["userId"], login);
    let opened_after =
        std::fs::read_to_string(profile.path().join("standin.log")).unwrap_or_default();
    assert_eq!(
        opened_before, opened_after,
        "the restore must not open the browser"
    );

    // Signing out ends it for good: the next launch is signed out.
    app.click("#sign-out").await;
    app.wait_state("signedOut", WAIT).await;
    app.quit().await;
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedOut", WAIT).await;
    assert_eq!(
        first_screen(&app).await,
        "signedOut",
        "{}",
        app.context().await
    );
    // Signed out because nothing was stored — not because a stored token was refused.
    assert!(
        !app.exists("#notice").await,
        "no notice expected after a clean sign-out{}",
        app.context().await
    );
    app.screenshot("after-sign-out-restart").await;
    app.quit().await;
}

#[tokio::test]
async fn the_page_may_call_only_keyholes_own_commands() {
    const TEST: &str = "capabilities";
    let (app, _) = launch_as(TEST, "user_2e2e_unused").await;
    app.wait_state("signedOut", WAIT).await;
    // Allowed: the app's commands (through the app manifest's permissions).
    let settings = app
        .invoke("load_settings")
        .await
        .expect("load_settings is allowed");
    assert_eq!(settings["sandbox"], true, "{settings}");
    for command in ["history", "profiles", "saved_requests"] {
        app.invoke(command)
            .await
            .unwrap_or_else(|e| panic!("{command} is allowed: {e}"));
    }
    // Not allowed: the store and clipboard plugins are used from Rust only, and the window API
    // is not needed.
    for command in [
        "plugin:store|load",
        "plugin:window|close",
        "plugin:clipboard-manager|read_text",
        "plugin:clipboard-manager|write_text",
    ] {
        let refused = app
            .invoke(command)
            .await
            .expect_err("the capability does not allow it");
        let text = refused.to_string();
        assert!(text.contains("not allowed"), "{command}: {text}");
    }
    app.quit().await;
}

/// The screen the page's first frame showed (main.js keeps it in `data-first-screen`).
async fn first_screen(app: &App) -> String {
    app.execute("return document.documentElement.getAttribute('data-first-screen')")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
