//! Clerk session tokens against the real sandbox: Keyhole signs in to the Frontend API stand-in
//! as a native client (checked against Clerk's OpenAPI spec by the sandbox itself), mints session
//! tokens, and the tutorial's own backend (`@clerk/clerk-sdk-node` `ClerkExpressWithAuth()` and
//! `ClerkExpressRequireAuth()`) lets it in. Then the faults: a session ended at Clerk, Native API
//! off, a redirect URL off the allowlist, a forged nonce; and sign-out.

mod common;

use std::sync::Arc;

use keyhole_core::{
    ApiRequest, Browser, Credential, Error, MemoryStore, SecretStore, Service, Settings,
    SignInMethod,
};
use keyhole_sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;
use url::Url;

const MINTS: &str = "POST /v1/client/sessions/{id}/tokens";

fn service(sb: &Sandbox, secrets: Arc<MemoryStore>, browser: Arc<dyn Browser>) -> Service {
    service_with(sb, secrets, browser, 0)
}

fn service_with(
    sb: &Sandbox,
    secrets: Arc<MemoryStore>,
    browser: Arc<dyn Browser>,
    redirect_port: u16,
) -> Service {
    let settings = Settings {
        instance: sb.fapi.clone(),
        api_url: sb.api.tutorial_lax.clone(),
        redirect_port,
        ..Settings::default()
    };
    common::service_over(settings, secrets, browser)
}

fn assert_spec_clean(sb: &Sandbox) {
    let violations = sb.spec_violations().expect("stats");
    assert!(
        violations.is_empty(),
        "the stand-in saw requests or sent answers off Clerk's spec: {violations:#?}"
    );
}

#[tokio::test]
async fn the_tutorials_backend_reads_keyholes_session_token_as_the_signed_in_user() {
    let sb = Sandbox::start().expect("a sandbox of its own, to count mints");
    let secrets = Arc::new(MemoryStore::default());
    let login = "user_2tutorial";
    let keyhole = service(
        &sb,
        secrets.clone(),
        Arc::new(common::StandIn::http_login(login)),
    );

    let summary = keyhole
        .sign_in(SignInMethod::Clerk)
        .await
        .expect("signed in to Clerk");
    assert_eq!(summary.credential, Credential::Session);
    assert_eq!(summary.subject.as_deref(), Some(login));
    let session_id = summary.session_id.clone().expect("a session ID");
    assert!(session_id.starts_with("sess_"), "{session_id}");

    // The tutorial's lax route: its auth object names the user and the session.
    let lax = keyhole
        .send(&common::get_with(&sb.api.tutorial_lax, Credential::Session))
        .await
        .expect("the API answered");
    assert_eq!(lax.response.status, 200);
    let auth = common::json_of(&lax.response.body);
    assert_eq!(auth["userId"], login, "{auth}");
    assert_eq!(auth["sessionId"], session_id.as_str(), "{auth}");
    assert_eq!(auth["claims"]["sid"], session_id.as_str(), "{auth}");
    assert_eq!(auth["claims"]["sub"], login, "{auth}");
    assert_eq!(lax.diagnosis, None);

    // Its strict route: 200, not 401 Unauthenticated!.
    let strict = keyhole
        .send(&common::get_with(
            &sb.api.tutorial_strict,
            Credential::Session,
        ))
        .await
        .expect("the API answered");
    assert_eq!(strict.response.status, 200, "{:?}", strict.response.body);

    // Both calls within a token's life: one mint at sign-in, none since.
    assert_eq!(sb.fapi_requests(MINTS), 1);

    // A new process (the CLI) with the same keychain: one Frontend API request, the mint.
    let before = total_fapi_requests(&sb);
    let cli = service(&sb, secrets.clone(), Arc::new(common::NoBrowser));
    let again = cli
        .send(&common::get_with(&sb.api.tutorial_lax, Credential::Session))
        .await
        .expect("the API answered");
    assert_eq!(common::json_of(&again.response.body)["userId"], login);
    assert_eq!(
        total_fapi_requests(&sb) - before,
        1,
        "exactly one Frontend API request"
    );
    assert_eq!(sb.fapi_requests(MINTS), 2);

    // The OAuth access token is not what this backend reads: the tutorial's backend reads it as
    // signed out, and the matrix says which acceptsToken would let each kind in.
    let matrix = cli
        .try_every_token_type(&ApiRequest::get(
            &Url::parse(&format!("{}/oauth_token", sb.api.accepts)).expect("URL"),
        ))
        .await
        .expect("a matrix");
    let session_row = matrix
        .rows
        .iter()
        .find(|r| r.credential == Credential::Session)
        .expect("a session row");
    assert_eq!(session_row.signed_in, Some(false));
    assert!(
        session_row
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("acceptsToken: 'session_token'")),
        "{session_row:?}"
    );
    assert!(matrix
        .missing
        .iter()
        .any(|m| m.credential == Credential::OAuth));
    assert_spec_clean(&sb);

    // Sign-out ends the session at Clerk and forgets it here.
    let outcome = cli.sign_out().await.expect("signed out");
    assert!(outcome.revoked, "{outcome:?}");
    assert!(kept(&secrets, &sb.fapi).is_none());
    let after = keyhole
        .send(&common::get_with(&sb.api.tutorial_lax, Credential::Session))
        .await;
    // The first service still holds a minted token for a few seconds; past it, Clerk says no.
    if let Ok(result) = after {
        assert_eq!(result.response.status, 200);
    }
    assert_spec_clean(&sb);
}

/// The Clerk session record kept for the instance at `fapi`.
fn kept(secrets: &MemoryStore, fapi: &str) -> Option<keyhole_core::Secret> {
    secrets
        .load(&format!("clerk-session@{fapi}"))
        .expect("the store answers")
}

fn total_fapi_requests(sb: &Sandbox) -> u64 {
    sb.stats().expect("stats")["fapi_requests"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_session_ended_at_clerk_is_said_once_and_then_asks_for_a_sign_in() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let keyhole = service(
        sb,
        secrets.clone(),
        Arc::new(common::StandIn::http_login("user_2ended")),
    );
    let summary = keyhole
        .sign_in(SignInMethod::Clerk)
        .await
        .expect("signed in");
    sb.revoke_session(summary.session_id.as_deref().expect("an ID"))
        .expect("revoked at Clerk");

    // A new process, so no token minted before the revocation is still in memory.
    let cli = service(sb, secrets.clone(), Arc::new(common::NoBrowser));
    let ended = cli
        .send(&common::get_with(&sb.api.tutorial_lax, Credential::Session))
        .await
        .expect_err("the session ended");
    assert!(matches!(ended, Error::SessionEnded(_)), "{ended:?}");
    assert!(ended.to_string().contains("Sign in again"), "{ended}");
    // Forgotten, not retried: the next call says there is no session.
    assert_eq!(cli.clerk_session().await.expect("read"), None);
    let next = cli
        .send(&common::get_with(&sb.api.tutorial_lax, Credential::Session))
        .await
        .expect_err("no session");
    assert!(matches!(next, Error::NotSignedIn), "{next:?}");
}

/// Starts a sandbox with `options`, signs in with Clerk's own sign-in and expects Clerk to refuse
/// with `code`: the error, once it is known nothing was stored.
async fn refused_sign_in(options: SandboxOptions, code: &str) -> (Sandbox, Error) {
    let sb = Sandbox::start_with(options).expect("sandbox");
    let secrets = Arc::new(MemoryStore::default());
    // Any free port: not one an allowlist names.
    let keyhole = service(&sb, secrets.clone(), Arc::new(common::NoBrowser));
    let error = keyhole
        .sign_in(SignInMethod::Clerk)
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, Error::Clerk { code: got, .. } if got == code),
        "{error:?}"
    );
    assert!(kept(&secrets, &sb.fapi).is_none(), "nothing stored");
    (sb, error)
}

#[tokio::test]
async fn an_instance_with_native_api_off_says_which_dashboard_setting_to_turn_on() {
    let options = SandboxOptions {
        native_api_disabled: true,
        ..SandboxOptions::default()
    };
    let (_sb, error) = refused_sign_in(options, "native_api_disabled").await;
    assert!(error.to_string().contains("Native API"), "{error}");
    assert!(error.to_string().contains("Dashboard"), "{error}");
}

#[tokio::test]
async fn a_redirect_url_off_the_allowlist_names_the_allowlist_and_the_fixed_port() {
    let allowed = common::closed_port();
    let options = SandboxOptions {
        native_redirect_port: Some(allowed),
        ..SandboxOptions::default()
    };
    let (sb, error) = refused_sign_in(options, "form_param_value_invalid").await;
    assert!(error.to_string().contains("allowlist"), "{error}");
    let secrets = Arc::new(MemoryStore::default());

    // The fixed port the allowlist names: the sign-in goes through.
    let fixed = service_with(
        &sb,
        secrets.clone(),
        Arc::new(common::StandIn::http_login("user_2fixed")),
        allowed,
    );
    let summary = fixed.sign_in(SignInMethod::Clerk).await.expect("signed in");
    assert_eq!(summary.subject.as_deref(), Some("user_2fixed"));
    assert_spec_clean(&sb);
}

#[tokio::test]
async fn a_forged_nonce_is_refused_by_clerk_and_nothing_is_stored() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    // The browser comes back with Keyhole's state but a nonce of its own making.
    let forger = common::StandIn::new(|url| {
        keyhole_sandbox::run_standin(
            keyhole_sandbox::Standin::Http,
            url,
            &[
                "--login",
                "user_2forged",
                "--forge",
                "rotating_token_nonce=forged",
            ],
        )
    });
    let keyhole = service(sb, secrets.clone(), Arc::new(forger));
    let error = keyhole
        .sign_in(SignInMethod::Clerk)
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, Error::Clerk { code, .. } if code == "form_param_value_invalid"),
        "{error:?}"
    );
    assert!(kept(&secrets, &sb.fapi).is_none(), "nothing stored");
}

#[tokio::test]
async fn settings_with_only_an_instance_save_and_serve_clerks_own_sign_in() {
    let sb = keyhole_sandbox::shared();
    let keyhole = service(
        sb,
        Arc::new(MemoryStore::default()),
        Arc::new(common::StandIn::http_login("user_2onlyinstance")),
    );
    let saved = keyhole
        .save_settings(&Settings {
            instance: format!(" {} ", sb.fapi),
            api_url: sb.api.tutorial_lax.clone(),
            ..Settings::default()
        })
        .expect("an instance is enough to save");
    assert_eq!(saved.client_id, "");
    assert_eq!(saved.instance, sb.fapi);
    let summary = keyhole
        .sign_in(SignInMethod::Clerk)
        .await
        .expect("signed in");
    assert_eq!(summary.subject.as_deref(), Some("user_2onlyinstance"));
}

#[tokio::test]
async fn processes_sharing_one_clerk_client_never_send_or_keep_a_rotated_away_client_jwt() {
    // Clerk rotates the client JWT and refuses the old one; this stand-in does it on every mint,
    // so each mint below rotates it.
    let sb = Sandbox::start_with(SandboxOptions {
        rotate_client_on_mint: true,
        ..SandboxOptions::default()
    })
    .expect("sandbox");
    let keychain = Arc::new(MemoryStore::default());
    let app = service(
        &sb,
        keychain.clone(),
        Arc::new(common::StandIn::http_login("user_2shared")),
    );
    app.sign_in(SignInMethod::Clerk).await.expect("signed in");
    let lax = || common::get_with(&sb.api.tutorial_lax, Credential::Session);

    // A window that read the session before the CLI rotated the client JWT.
    let window = service(&sb, keychain.clone(), Arc::new(common::NoBrowser));
    assert!(window.clerk_session().await.expect("read").is_some());
    let cli = service(&sb, keychain.clone(), Arc::new(common::NoBrowser));
    let first = cli.send(&lax()).await.expect("the CLI's call");
    assert_eq!(
        common::json_of(&first.response.body)["userId"],
        "user_2shared"
    );
    // The window mints with the newest client JWT (read under the lock), not the one it read.
    let second = window.send(&lax()).await.expect("the window's call");
    assert_eq!(
        common::json_of(&second.response.body)["userId"],
        "user_2shared"
    );

    // Two more processes at once: the lock takes them one after the other.
    let (a, b) = (
        service(&sb, keychain.clone(), Arc::new(common::NoBrowser)),
        service(&sb, keychain.clone(), Arc::new(common::NoBrowser)),
    );
    let request = lax();
    let (ra, rb) = tokio::join!(a.send(&request), b.send(&request));
    for result in [ra, rb] {
        let result = result.expect("both answered");
        assert_eq!(
            common::json_of(&result.response.body)["userId"],
            "user_2shared"
        );
    }
    // And what the keychain keeps still works.
    let later = service(&sb, keychain.clone(), Arc::new(common::NoBrowser));
    later
        .send(&lax())
        .await
        .expect("the kept client JWT is the newest");
    assert_eq!(sb.fapi_requests(MINTS), 6, "one mint per process");
    assert_spec_clean(&sb);
}
