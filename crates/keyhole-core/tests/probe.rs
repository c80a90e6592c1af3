//! Calling the tutorial's API (Express + @clerk/express, real) with the token from a real sign-in.

mod common;

use std::time::Duration;

use common::{closed_port, keyhole, quiet, StandIn};
use keyhole_core::SignInMethod;
use keyhole_core::{Body, CancellationToken, Keyhole, Session, SignInContext, SignInOptions};
use tokio::sync::OnceCell;

/// One sign-in shared by the tests in this file.
async fn session() -> &'static Session {
    static SESSION: OnceCell<Session> = OnceCell::const_new();
    SESSION
        .get_or_init(|| async {
            let keyhole = keyhole("");
            let browser = StandIn::http_login("user_2probe");
            let options = SignInOptions {
                timeout: Duration::from_secs(60),
                cancel: CancellationToken::new(),
            };
            keyhole
                .sign_in(
                    SignInMethod::Browser,
                    &SignInContext::new(&browser, &options, &quiet),
                )
                .await
                .expect("sign-in")
        })
        .await
}

async fn call(url: &str) -> keyhole_core::Result<keyhole_core::ApiResult> {
    let keyhole: Keyhole = keyhole(url);
    keyhole.call_api(session().await).await
}

#[tokio::test]
async fn the_lax_endpoint_answers_the_auth_object_of_the_signed_in_user() {
    let sandbox = keyhole_sandbox::shared();
    let answer = call(&sandbox.api.lax).await.unwrap();
    assert_eq!(answer.response.status, 200);
    let Body::Json { value } = &answer.response.body else {
        panic!("{:?}", answer.response.body)
    };
    assert_eq!(value["userId"], "user_2probe");
    assert_eq!(value["subject"], "user_2probe");
    assert_eq!(value["isAuthenticated"], true);
    assert_eq!(value["clientId"], sandbox.client_id.as_str());
    assert_eq!(answer.diagnosis, None);
}

#[tokio::test]
async fn the_strict_endpoint_answers_200_with_the_token_and_401_unauthenticated_without() {
    let sandbox = keyhole_sandbox::shared();
    let answer = call(&sandbox.api.strict).await.unwrap();
    assert_eq!(answer.response.status, 200, "{:?}", answer.response.body);

    let (status, body) = keyhole_sandbox::http_get(&sandbox.api.strict).unwrap();
    assert_eq!((status, body.as_str()), (401, "Unauthenticated!"));

    // A token the API cannot verify (signed by another key) gets the same 401, and a diagnosis.
    let mut forged = session().await.clone();
    let raw = forged.tokens.access_token.secret().clone();
    let (head, _) = raw.rsplit_once('.').unwrap();
    forged.tokens.access_token =
        keyhole_core::AccessToken::new(format!("{head}.bm90LWEtc2lnbmF0dXJl"));
    let answer = keyhole(&sandbox.api.strict)
        .call_api(&forged)
        .await
        .unwrap();
    assert_eq!(answer.response.status, 401);
    assert_eq!(
        answer.response.status_line(),
        "401 Unauthorized — Unauthenticated!"
    );
    assert!(answer.diagnosis.unwrap().contains("acceptsToken"));
}

#[tokio::test]
async fn the_session_only_instance_reads_signed_out_and_the_diagnosis_says_why() {
    let sandbox = keyhole_sandbox::shared();
    let answer = call(&sandbox.api.session_only).await.unwrap();
    assert_eq!(answer.response.status, 200);
    let Body::Json { value } = &answer.response.body else {
        panic!()
    };
    assert_eq!(value["userId"], serde_json::Value::Null);
    let diagnosis = answer
        .diagnosis
        .expect("a diagnosis for a signed-out answer");
    assert!(
        diagnosis.contains("session tokens only")
            && diagnosis.contains("acceptsToken: 'oauth_token'"),
        "{diagnosis}"
    );
}

#[tokio::test]
async fn an_api_that_is_down_is_a_transport_error_in_plain_words() {
    let error = call(&format!(
        "http://127.0.0.1:{}/protected-endpoint",
        closed_port()
    ))
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "api_unreachable");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the transport error is kept as the cause"
    );
    assert!(
        error.to_string().contains("connection was refused"),
        "{error}"
    );
}

#[tokio::test]
async fn a_non_json_body_is_shown_as_text() {
    let answer = call(&keyhole_sandbox::shared().api.plain).await.unwrap();
    assert_eq!(answer.response.status, 200);
    assert_eq!(
        answer.response.body,
        Body::Text {
            text: "hello from a non-JSON endpoint".into(),
            truncated: false
        }
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_with_the_token() {
    let sandbox = keyhole_sandbox::shared();
    let answer = call(&sandbox.api.redirect_elsewhere).await.unwrap();
    assert_eq!(answer.response.status, 302);
    assert_eq!(
        answer.response.blocked_redirect.as_deref(),
        Some(sandbox.api.session_only.as_str())
    );
    assert!(answer.diagnosis.unwrap().contains("not sent there"));
}

#[tokio::test]
async fn a_body_over_a_mebibyte_is_kept_whole_with_its_true_size() {
    // It was cut at 1 MiB and shown as 1.0 MB (issue 17): now kept up to 50 MB, unparsed.
    let answer = call(&keyhole_sandbox::shared().api.big).await.unwrap();
    let response = &answer.response;
    assert_eq!(response.body, Body::Large);
    assert!(!response.truncated);
    assert!(response.size_known);
    assert!(response.size > 2_000_000, "{}", response.size);
    assert_eq!(response.kept, response.size);
    assert_eq!(response.raw.len() as u64, response.size);
    assert!(response.raw.ends_with(b"]"));
}

#[tokio::test]
async fn a_body_past_the_cap_keeps_the_first_50_mb_and_counts_the_rest() {
    let total = keyhole_core::BODY_CAP as u64 + 1_000_000;
    let url = format!("{}?bytes={total}", keyhole_sandbox::shared().api.sized);
    let answer = call(&url).await.unwrap();
    let response = &answer.response;
    assert_eq!(response.status, 200);
    assert!(response.truncated);
    assert!(response.size_known);
    assert_eq!(response.size, total);
    assert_eq!(response.kept, keyhole_core::BODY_CAP as u64);
    assert_eq!(response.raw.len(), keyhole_core::BODY_CAP);
    assert!(response.raw.starts_with(b"{\"items\":[{\"i\":0,"));
}

#[tokio::test]
async fn an_api_slower_than_the_timeout_is_a_timeout_error() {
    // The engine's API client waits 30 s; a shorter client shows the classification quickly.
    let sandbox = keyhole_sandbox::shared();
    let http = keyhole_core::http_client(Duration::from_millis(300));
    let error = http
        .get(format!("{}?ms=3000", sandbox.api.slow))
        .send()
        .await
        .unwrap_err();
    assert!(keyhole_core::describe_transport_error(&error).contains("timeout"));
}
