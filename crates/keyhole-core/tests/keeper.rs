//! The session that lives on, against the real sandbox and a real Secret Service (gnome-keyring on
//! a private D-Bus session, started by scripts/test): restore, refresh across expiry, rotation,
//! revocation, sign-out with the provider down, and one shared refresh for concurrent calls.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{config_for, quiet, StandIn};
use keyhole_core::{
    account_for, ApiRequest, Body, CancellationToken, Keychain, Keyhole, Secret, SecretStore,
    SessionKeeper, SignInOptions,
};
use keyhole_core::{SignInContext, SignInMethod};
use keyhole_sandbox::{Sandbox, SandboxOptions};

/// A real keychain under a service name of this test's own.
fn keychain(test: &str) -> Arc<Keychain> {
    let service = format!("dev.keyhole.test.{test}.{}", std::process::id());
    Arc::new(Keychain::open_service(&service).unwrap_or_else(|e| {
        panic!("these tests need a Secret Service on the session bus (scripts/test starts gnome-keyring): {e}")
    }))
}

fn keeper(sandbox: &Sandbox, store: Arc<Keychain>, api: &str) -> SessionKeeper {
    SessionKeeper::new(Keyhole::new(config_for(sandbox, api)), store)
}

async fn sign_in(keeper: &SessionKeeper, login: &'static str) {
    let options = SignInOptions {
        timeout: Duration::from_secs(60),
        cancel: CancellationToken::new(),
    };
    keeper
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&StandIn::http_login(login), &options, &quiet),
        )
        .await
        .expect("sign-in");
}

fn stored(store: &Keychain, sandbox: &Sandbox) -> Option<String> {
    store
        .load(&account_for(&sandbox.issuer, &sandbox.client_id))
        .unwrap()
        .map(|entry| entry.secret().to_owned())
}

/// The refresh token in the stored session record, if any.
fn stored_refresh(store: &Keychain, sandbox: &Sandbox) -> Option<String> {
    let entry = stored(store, sandbox)?;
    let record: serde_json::Value = serde_json::from_str(&entry).expect("the entry is JSON");
    record["refresh_token"].as_str().map(str::to_owned)
}

/// Asserts that the provider refuses `refresh_token` as invalid_grant.
fn assert_dead(sandbox: &Sandbox, refresh_token: &str) {
    let (status, body) = sandbox.try_refresh(refresh_token).unwrap();
    assert_eq!(status, 400, "the provider still accepts the token");
    assert!(body.contains("invalid_grant"), "{body}");
}

fn user_of(result: &keyhole_core::ApiResult) -> String {
    match &result.response.body {
        Body::Json { value } => value["userId"].as_str().unwrap_or("<none>").to_owned(),
        other => panic!("not JSON: {other:?}"),
    }
}

fn refresh_grants(sandbox: &Sandbox) -> u64 {
    sandbox.stats().unwrap()["refresh_grants"].as_u64().unwrap()
}

#[tokio::test]
async fn a_restarted_keeper_resumes_from_the_keychain_without_a_browser() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("restore");
    let first = keeper(sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&first, "user_2restore").await;
    assert!(
        stored_refresh(&store, sandbox).is_some(),
        "the refresh token is in the keychain"
    );
    drop(first);

    // A new engine and keeper, as after an app restart: nothing in memory.
    let second = keeper(sandbox, store.clone(), &sandbox.api.lax);
    let session = second.restore().await.unwrap().expect("restored");
    assert_eq!(session.subject(), Some("user_2restore"));
    assert_eq!(user_of(&second.call_api().await.unwrap()), "user_2restore");
    second.sign_out().await;
}

#[tokio::test]
async fn calls_keep_working_across_expiry_with_one_refresh_per_expiry() {
    let sandbox = Sandbox::start_with(SandboxOptions {
        access_token_ttl: Some(3),
        ..Default::default()
    })
    .unwrap();
    let store = keychain("expiry");
    let keeper = keeper(&sandbox, store, &sandbox.api.lax);
    sign_in(&keeper, "user_2expiry").await;
    let before = refresh_grants(&sandbox);

    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < Duration::from_secs(8) {
        let result = keeper.call_api().await.unwrap();
        assert_eq!(result.response.status, 200);
        assert_eq!(
            user_of(&result),
            "user_2expiry",
            "call {calls} read as signed out"
        );
        calls += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let refreshes = keeper.refresh_count();
    eprintln!(
        "{calls} calls over {:?} with a 3 s token: {refreshes} refreshes",
        started.elapsed()
    );
    // 8 s of 3 s tokens renewed in their last 0.6 s: 2 or 3 expiries.
    assert!(
        (2..=3).contains(&refreshes),
        "{refreshes} refreshes for {calls} calls"
    );
    assert_eq!(
        refresh_grants(&sandbox) - before,
        u64::from(refreshes),
        "the provider saw the same refreshes"
    );
    keeper.sign_out().await;
}

#[tokio::test]
async fn ten_concurrent_calls_at_expiry_share_exactly_one_refresh() {
    let sandbox = Sandbox::start_with(SandboxOptions {
        access_token_ttl: Some(2),
        ..Default::default()
    })
    .unwrap();
    let store = keychain("concurrent");
    let keeper = Arc::new(keeper(&sandbox, store, &sandbox.api.lax));
    sign_in(&keeper, "user_2concurrent").await;
    let before = refresh_grants(&sandbox);
    tokio::time::sleep(Duration::from_millis(2100)).await; // the access token has expired

    let calls: Vec<_> = (0..10)
        .map(|_| {
            let keeper = keeper.clone();
            tokio::spawn(async move { keeper.call_api().await })
        })
        .collect();
    for call in calls {
        let result = call.await.unwrap().unwrap();
        assert_eq!(user_of(&result), "user_2concurrent");
    }
    assert_eq!(keeper.refresh_count(), 1);
    assert_eq!(
        refresh_grants(&sandbox) - before,
        1,
        "the provider saw exactly one refresh"
    );
    keeper.sign_out().await;
}

#[tokio::test]
async fn a_refresh_rotates_the_stored_token_and_a_reused_one_ends_the_session() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("rotation");
    let keeper = keeper(sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&keeper, "user_2rotation").await;
    let old = stored_refresh(&store, sandbox).unwrap();

    keeper.refresh_now().await.unwrap();
    let new = stored_refresh(&store, sandbox).unwrap();
    assert_ne!(
        old, new,
        "the rotated refresh token replaced the stored one"
    );

    // The old one no longer works at the provider (and, as with Clerk, its reuse revokes the grant).
    assert_dead(sandbox, &old);

    // So the session is over: a clear reason, signed out, keychain entry gone.
    let error = keeper.refresh_now().await.unwrap_err();
    assert_eq!(error.kind(), "session_ended", "{error}");
    assert!(error.to_string().contains("Sign in again"), "{error}");
    assert!(keeper.current().await.is_none());
    assert_eq!(stored(&store, sandbox), None);
}

#[tokio::test]
async fn a_restore_with_a_revoked_token_signs_out_with_the_reason() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("revoked");
    let account = account_for(&sandbox.issuer, &sandbox.client_id);
    store
        .save(
            &account,
            &Secret::new("not-a-refresh-token-the-provider-knows".into()),
        )
        .unwrap();
    let keeper = keeper(sandbox, store.clone(), &sandbox.api.lax);
    let error = keeper.restore().await.unwrap_err();
    assert_eq!(error.kind(), "session_ended", "{error}");
    assert_eq!(stored(&store, sandbox), None);
    assert_eq!(
        keeper.fresh_session().await.unwrap_err().kind(),
        "not_signed_in"
    );
}

#[tokio::test]
async fn sign_out_revokes_at_the_provider_and_wipes_the_keychain() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("signout");
    let keeper = keeper(sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&keeper, "user_2signout").await;
    let refresh = stored_refresh(&store, sandbox).unwrap();
    assert_eq!(
        keeper.summary().unwrap().subject.as_deref(),
        Some("user_2signout")
    );

    // Whoever watches hears "signed out" only once the keychain entry is gone.
    let mut watch = keeper.watch();
    let (watched_store, issuer, client) = (
        store.clone(),
        sandbox.issuer.clone(),
        sandbox.client_id.clone(),
    );
    let watcher = tokio::spawn(async move {
        watch.wait_for(|u| u.session.is_none()).await.unwrap();
        watched_store
            .load(&account_for(&issuer, &client))
            .unwrap()
            .map(|entry| entry.secret().to_owned())
    });
    let outcome = keeper.sign_out().await;
    let entry = watcher.await.unwrap().unwrap_or_default();
    assert!(
        !entry.contains(&refresh) && !entry.contains("refresh_token"),
        "told signed out before the keychain was wiped"
    );
    assert!(outcome.revoked, "{outcome:?}");
    assert_eq!(outcome.message, None);
    assert_eq!(stored_refresh(&store, sandbox), None);
    assert!(
        stored(&store, sandbox).is_some_and(|e| e.contains("signed_out_at")),
        "a sign-out marker stays"
    );
    assert!(keeper.current().await.is_none());
    assert_dead(sandbox, &refresh);
}

#[tokio::test]
async fn sign_out_with_the_provider_down_still_wipes_everything_and_says_so() {
    let sandbox = Sandbox::start().unwrap();
    let store = keychain("offline");
    let keeper = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&keeper, "user_2offline").await;
    let (issuer, client) = (sandbox.issuer.clone(), sandbox.client_id.clone());
    drop(sandbox); // the provider stops

    let outcome = keeper.sign_out().await;
    assert!(!outcome.revoked);
    let message = outcome.message.unwrap();
    assert!(
        message.contains("could not be confirmed") && message.contains("refused"),
        "{message}"
    );
    let entry = store.load(&account_for(&issuer, &client)).unwrap();
    assert!(
        entry.is_some_and(|e| !e.secret().contains("refresh_token")),
        "no token left in the keychain"
    );
    assert!(keeper.current().await.is_none());
}

#[tokio::test]
async fn a_401_refreshes_once_and_the_call_is_retried_with_the_new_token() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("retry");
    let keeper = keeper(sandbox, store, &sandbox.api.strict);
    sign_in(&keeper, "user_2retry").await;
    assert_eq!(keeper.call_api().await.unwrap().response.status, 200);
    assert_eq!(keeper.refresh_count(), 0, "a 200 needs no refresh");

    // The API stops accepting the token (here: its signature is broken) while it has not expired.
    let mut session = keeper.current().await.unwrap();
    let raw = session.tokens.access_token.secret().clone();
    let (head, _) = raw.rsplit_once('.').unwrap();
    session.tokens.access_token = keyhole_core::AccessToken::new(format!("{head}.YnJva2Vu"));
    keeper.adopt(session).await.unwrap();

    let result = keeper.call_api().await.unwrap();
    assert_eq!(
        result.response.status, 200,
        "retried with the refreshed token"
    );
    assert_eq!(user_of(&result), "user_2retry");
    assert_eq!(keeper.refresh_count(), 1, "exactly one refresh for the 401");
    keeper.sign_out().await;
}

/// Rewrites the stored record with `edit` (as another run, or time passing, would leave it).
fn edit_record(store: &Keychain, sandbox: &Sandbox, edit: impl FnOnce(&mut serde_json::Value)) {
    let account = account_for(&sandbox.issuer, &sandbox.client_id);
    let mut record: serde_json::Value = serde_json::from_str(
        store
            .load(&account)
            .unwrap()
            .expect("a stored record")
            .secret(),
    )
    .unwrap();
    edit(&mut record);
    store
        .save(&account, &Secret::new(record.to_string()))
        .unwrap();
}

#[tokio::test]
async fn a_restart_with_a_fresh_stored_token_makes_no_request_to_the_provider() {
    let sandbox = Sandbox::start().unwrap();
    let store = keychain("warm");
    let first = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&first, "user_2warm").await;
    let refresh = stored_refresh(&store, &sandbox);
    drop(first);

    let requests = || sandbox.stats().unwrap()["requests"].as_u64().unwrap();
    let before = requests();
    let second = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    let result = second.call_api().await.unwrap();
    assert_eq!(user_of(&result), "user_2warm");
    assert_eq!(
        requests(),
        before,
        "no discovery, keys or refresh before the API call"
    );
    assert_eq!(stored_refresh(&store, &sandbox), refresh, "nothing rotated");
    assert_eq!(second.refresh_count(), 0);
    second.sign_out().await;
}

#[tokio::test]
async fn a_renewal_after_a_restart_that_names_another_user_ends_the_session() {
    let sandbox = Sandbox::start().unwrap();
    let store = keychain("identity");
    let first = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&first, "user_2pinned").await;
    drop(first);
    // The record says the session began as someone else, and its access token is due: the
    // provider's renewed ID token (for user_2pinned) must not be taken as that person.
    edit_record(&store, &sandbox, |record| {
        record["identity"]["sub"] = "user_2original".into();
        record["expires_at"] = record["received_at"].clone();
    });

    let second = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    let error = second.call_api().await.unwrap_err();
    assert_eq!(error.kind(), "session_ended", "{error}");
    assert!(
        error.to_string().contains("another user") && error.to_string().contains("user_2original"),
        "{error}"
    );
    assert!(second.current().await.is_none());
    assert_eq!(stored(&store, &sandbox), None, "the record is wiped");
    assert_eq!(
        sandbox.stats().unwrap()["live_grants"],
        0,
        "what the refused renewal received was revoked"
    );
}

#[tokio::test]
async fn an_old_format_entry_is_renewed_and_upgraded_and_garbage_is_refused_without_a_request() {
    let sandbox = Sandbox::start().unwrap();
    let store = keychain("upgrade");
    let account = account_for(&sandbox.issuer, &sandbox.client_id);
    let first = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    sign_in(&first, "user_2upgrade").await;
    let refresh = stored_refresh(&store, &sandbox).unwrap();
    drop(first);
    // Keyhole 0.1 kept the bare refresh token.
    store.save(&account, &Secret::new(refresh)).unwrap();
    let second = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    let session = second.restore().await.unwrap().expect("restored");
    assert_eq!(session.subject(), Some("user_2upgrade"));
    let upgraded = stored(&store, &sandbox).unwrap();
    assert!(upgraded.starts_with("{\"v\":2"), "upgraded to the record");
    second.sign_out().await;

    let requests = || sandbox.stats().unwrap()["requests"].as_u64().unwrap();
    store
        .save(&account, &Secret::new("{\"v\":2,\"garbage\":true}".into()))
        .unwrap();
    let before = requests();
    let third = keeper(&sandbox, store.clone(), &sandbox.api.lax);
    let error = third.restore().await.unwrap_err();
    assert_eq!(error.kind(), "stored_session", "{error}");
    assert!(error.to_string().contains("sign in again"), "{error}");
    assert_eq!(
        requests(),
        before,
        "nothing from the entry was sent anywhere"
    );
    // The next sign-in replaces it.
    sign_in(&third, "user_2upgrade").await;
    assert!(stored_refresh(&store, &sandbox).is_some());
    third.sign_out().await;
}

/// What `keeper` gets for `GET url`, with its token or without.
async fn get(keeper: &SessionKeeper, url: &str, with_token: bool) -> keyhole_core::ApiResult {
    let mut request = ApiRequest::get(&url.parse().expect("a URL"));
    request.send_token = with_token;
    keeper
        .send(&request, &CancellationToken::new())
        .await
        .expect("an answer")
}

#[tokio::test]
async fn both_answers_of_the_same_request_join_the_diagnosis() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("both");
    // The session-only API (plain getAuth): it reads the OAuth token as signed out.
    let keeper = keeper(sandbox, store, &sandbox.api.session_only);
    sign_in(&keeper, "user_2both").await;
    let with = get(&keeper, &sandbox.api.session_only, true).await;
    assert!(
        !with
            .diagnosis
            .as_deref()
            .unwrap_or_default()
            .contains("answered the same"),
        "one answer alone compares nothing"
    );
    let said = get(&keeper, &sandbox.api.session_only, false)
        .await
        .diagnosis
        .unwrap_or_default();
    assert!(
        said.contains("With and without your token the API answered the same")
            && said.contains("acceptsToken: 'oauth_token'"),
        "{said}"
    );

    // The lax API tells the two apart: nothing compared; only Clerk's own reason (its
    // x-clerk-auth-* headers), in plain words.
    get(&keeper, &sandbox.api.lax, true).await;
    let said = get(&keeper, &sandbox.api.lax, false)
        .await
        .diagnosis
        .unwrap_or_default();
    assert!(
        said.starts_with("Sent without a token: Clerk's SDK")
            && said.contains("x-clerk-auth-reason: session-token-and-uat-missing")
            && said.contains("what a request without a token gets")
            && !said.contains("answered the same"),
        "{said}"
    );
    keeper.sign_out().await;
}

#[tokio::test]
async fn clerks_reason_from_the_tutorials_sdk_joins_the_diagnosis_with_and_without_the_token() {
    let sandbox = keyhole_sandbox::shared();
    let store = keychain("tutorial-reason");
    // The tutorial's @clerk/clerk-sdk-node 5.1.6 (its own @clerk/backend 1.34): it reads only
    // session tokens, and says why in its headers.
    let keeper = keeper(sandbox, store, &sandbox.api.tutorial_strict);
    sign_in(&keeper, "user_2tutorial").await;
    let with = get(&keeper, &sandbox.api.tutorial_strict, true).await;
    assert_eq!(with.response.status, 401);
    let said = with.diagnosis.unwrap_or_default();
    assert!(
        said.contains(
            "Clerk's SDK on the API read the request as signed out (x-clerk-auth-reason: "
        ) && said.contains("acceptsToken"),
        "{said}"
    );
    let said = get(&keeper, &sandbox.api.tutorial_strict, false)
        .await
        .diagnosis
        .unwrap_or_default();
    assert!(
        said.starts_with("Sent without a token: Clerk's SDK")
            && said.contains("session-token-and-uat-missing")
            && said.contains("needs a token for this route"),
        "{said}"
    );
    keeper.sign_out().await;
}
