//! Issue 10 through the real window: signing in with a code entered on another device
//! (RFC 8628), and "Set up from this API" with nothing but the API URL filled in (RFC 9728
//! metadata, RFC 7591 registration, RFC 8707 resource) — against the real sandbox.
//!
//! Run like `window.rs`: `cargo build -p keyhole && xvfb-run -a cargo test -p keyhole-e2e -- --test-threads=1`.

mod common;

use common::{launch_as, App, Opener, Profile, SIGN_IN_WAIT, WAIT};

#[tokio::test]
async fn signing_in_with_a_code_shows_it_and_another_device_completes_it() {
    const TEST: &str = "device_sign_in";
    let login = "user_2e2e_device";
    let sandbox = keyhole_sandbox::shared();
    // The opener only records: nothing in the device flow should need this machine's browser.
    let profile = Profile::new(Opener::Recorder);
    let app = App::launch(TEST, profile.clone()).await;
    app.wait_state("signedOut", WAIT).await;

    app.click("#sign-in-device").await;
    app.wait_state("signingIn", WAIT).await;
    app.wait_for("the device code", "#device-user-code", WAIT)
        .await;
    let code = app.text("#device-user-code").await;
    assert!(
        code.len() >= 8 && code.chars().all(|c| c.is_ascii_uppercase() || c == '-'),
        "a user code like XXXX-XXXX: {code:?}"
    );
    let verification_uri = app.text("#device-verification-uri").await;
    assert!(
        verification_uri.starts_with(&sandbox.issuer),
        "{verification_uri}"
    );
    assert!(
        app.exists("#device-qr").await,
        "the QR code is drawn{}",
        app.context().await
    );
    assert!(app.value("#sign-in-url").await.contains(&code));
    app.screenshot("code").await;

    // "Another device": the user types the code the window shows into the verification page.
    let url = format!("{verification_uri}?user_code={code}");
    let other_device =
        tokio::task::spawn_blocking(move || keyhole_sandbox::device_login(&url, login));
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    other_device
        .await
        .expect("join")
        .expect("the other device completed the sign-in");
    assert_eq!(app.text("#subject").await, login);
    assert_eq!(app.text("#issuer").await, sandbox.issuer);
    assert!(
        profile.opened_urls().is_empty(),
        "no browser was opened on this machine: {:?}",
        profile.opened_urls()
    );
    app.screenshot("signed-in").await;

    app.call_api_for_data().await;
    let auth = app.api_json().await;
    assert_eq!(auth["subject"], login, "{auth}");
    assert_eq!(auth["tokenType"], "oauth_token", "{auth}");
    app.screenshot("api-data").await;

    app.quit().await;
}

#[tokio::test]
async fn set_up_from_this_api_fills_the_settings_registers_and_the_sign_in_calls_that_api() {
    const TEST: &str = "set_up_from_api";
    let login = "user_2e2e_from_api";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_as(TEST, login).await;
    app.wait_state("signedOut", WAIT).await;
    assert!(
        app.exists("#set-up-from-api[hidden]").await,
        "not offered while instance and client ID are filled in{}",
        app.context().await
    );

    // Nothing but the API URL: the strict API, which answers 401 with resource_metadata.
    app.clear("#instance").await;
    app.clear("#client-id").await;
    app.fill("#api-url", &sandbox.api.strict).await;
    app.wait_for(
        "Set up from this API to be offered",
        "#set-up-from-api:not([hidden])",
        WAIT,
    )
    .await;
    assert!(
        app.exists("#sign-in:not(.primary)").await,
        "while set-up is offered it is the one primary action{}",
        app.context().await
    );
    app.screenshot("only-the-api-url").await;

    app.click("#set-up-from-api").await;
    let notice = app.wait_text("#notice", "Set up from the API", WAIT).await;
    assert!(notice.contains(&sandbox.issuer), "{notice}");
    assert!(notice.contains("registered itself"), "{notice}");
    assert_eq!(app.value("#instance").await, sandbox.issuer);
    let client_id = app.value("#client-id").await;
    assert!(
        !client_id.is_empty() && client_id != sandbox.client_id,
        "a client ID of its own: {client_id:?}"
    );
    assert_eq!(app.value("#resource").await, sandbox.api.strict);
    assert!(app.exists("#set-up-from-api[hidden]").await);
    // One primary action, with the focus on it (not dropped to the page body).
    assert!(
        app.exists("#sign-in.primary:focus").await,
        "Sign in has the focus{}",
        app.context().await
    );
    let primaries = app
        .execute("return [...document.querySelectorAll('button.primary')].filter((b) => !b.hidden).length")
        .await;
    assert_eq!(primaries, 1, "one primary button");
    let saved = app.invoke("load_settings").await.expect("load_settings");
    assert_eq!(saved["clientId"], client_id.as_str(), "{saved}");
    assert_eq!(saved["resource"], sandbox.api.strict.as_str(), "{saved}");
    let file = common::read_optional(&profile.settings_file()).expect("settings saved");
    assert!(file.contains(&client_id), "{file}");
    app.screenshot("set-up").await;

    app.click("#sign-in").await;
    app.wait_state("signedIn", SIGN_IN_WAIT).await;
    assert_eq!(app.text("#subject").await, login);
    // The editor holds the URL set up from: nothing to type again (issue 17).
    assert_eq!(app.value("#request-url").await, sandbox.api.strict);
    app.screenshot("signed-in").await;

    app.call_api_for_data().await;
    let auth = app.api_json().await;
    assert_eq!(auth["subject"], login, "{auth}");
    assert_eq!(auth["userId"], login, "{auth}");
    assert_eq!(auth["clientId"], client_id.as_str(), "{auth}");
    assert!(
        !app.exists("#api-warnings").await,
        "a token for this API (its audience names it): no destination warning{}",
        app.context().await
    );
    app.screenshot("api-data").await;

    app.quit().await;
}
