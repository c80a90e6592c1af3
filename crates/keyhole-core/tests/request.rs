//! Shaped requests to the tutorial's API (Express + @clerk/express, real): method, query, headers
//! and body arrive as sent, the token goes along only when asked, and the answer carries its
//! headers, timings and size; a slow API is cut by the call's timeout or by a cancel.

mod common;

use std::time::{Duration, Instant};

use common::{keyhole, quiet, StandIn};
use keyhole_core::{
    ApiRequest, Body, CancellationToken, Method, Pair, RequestBody, Session, SignInOptions,
};
use keyhole_core::{Bearer, SignInContext, SignInMethod};
use tokio::sync::OnceCell;

async fn session() -> &'static Session {
    static SESSION: OnceCell<Session> = OnceCell::const_new();
    SESSION
        .get_or_init(|| async {
            let options = SignInOptions {
                timeout: Duration::from_secs(60),
                cancel: CancellationToken::new(),
            };
            keyhole("")
                .sign_in(
                    SignInMethod::Browser,
                    &SignInContext::new(&StandIn::http_login("user_2request"), &options, &quiet),
                )
                .await
                .expect("sign-in")
        })
        .await
}

fn echo() -> ApiRequest {
    ApiRequest::get(&keyhole_sandbox::shared().api.echo.parse().unwrap())
}

async fn send(request: &ApiRequest) -> keyhole_core::Result<keyhole_core::ApiResult> {
    let prepared = request.prepare()?;
    keyhole("")
        .send(
            &prepared,
            Bearer::OAuth(session().await),
            &CancellationToken::new(),
        )
        .await
}

fn json(result: &keyhole_core::ApiResult) -> &serde_json::Value {
    match &result.response.body {
        Body::Json { value } => value,
        other => panic!("not JSON: {other:?}"),
    }
}

#[tokio::test]
async fn a_post_with_query_header_and_json_body_arrives_as_sent_with_the_token() {
    let mut request = echo();
    request.method = Method::Post;
    request.query = vec![
        Pair::new("page", "2"),
        Pair {
            enabled: false,
            ..Pair::new("off", "x")
        },
    ];
    request.headers = vec![Pair::new("X-Trace", "keyhole-test")];
    request.body = RequestBody::Json {
        text: r#"{"hello":"world"}"#.into(),
    };
    let result = send(&request).await.unwrap();
    let seen = json(&result);
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["query"], serde_json::json!({ "page": "2" }));
    assert_eq!(seen["headers"]["x-trace"], "keyhole-test");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    assert_eq!(seen["headers"]["authorization"], "Bearer …masked");
    assert_eq!(seen["body"], r#"{"hello":"world"}"#);
    assert_eq!(seen["userId"], "user_2request");
    let response = &result.response;
    assert_eq!(response.method, "POST");
    assert!(response.ttfb_ms <= response.elapsed_ms);
    assert_eq!(
        response.size as usize,
        serde_json::to_vec(seen).unwrap().len()
    );
    assert!(
        response
            .headers
            .iter()
            .any(|(name, value)| name == "content-type" && value.contains("json")),
        "{:?}",
        response.headers
    );
}

#[tokio::test]
async fn without_the_token_the_api_reads_a_signed_out_caller_and_needs_no_session() {
    let mut request = echo();
    request.send_token = false;
    let prepared = request.prepare().unwrap();
    // No session at all.
    let result = keyhole("")
        .send(&prepared, Bearer::None, &CancellationToken::new())
        .await
        .unwrap();
    let seen = json(&result);
    assert_eq!(seen["userId"], serde_json::Value::Null);
    assert!(seen["headers"].get("authorization").is_none(), "{seen}");
    // Clerk's SDK says why it read the caller as signed out; the diagnosis
    // names that reason instead of staying silent (issue 17, part 7).
    let diagnosis = result.diagnosis.unwrap_or_default();
    assert!(
        diagnosis.starts_with("Sent without a token:")
            && diagnosis.contains("session-token-and-uat-missing"),
        "{diagnosis}"
    );
}

#[tokio::test]
async fn a_slow_api_is_reported_as_a_timeout_not_as_unreachable() {
    let mut request = echo();
    request.url = format!("{}?ms=5000", keyhole_sandbox::shared().api.slow);
    request.timeout_secs = Some(1);
    let started = Instant::now();
    let error = send(&request).await.unwrap_err();
    assert_eq!(error.kind(), "api_timeout", "{error}");
    assert!(error.to_string().contains("within 1 s"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_cancelled_call_ends_at_once() {
    let mut request = echo();
    request.url = format!("{}?ms=20000", keyhole_sandbox::shared().api.slow);
    let prepared = request.prepare().unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let error = keyhole("")
        .send(&prepared, Bearer::OAuth(session().await), &cancel)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "cancelled", "{error}");
    assert_eq!(error.to_string(), "the call was cancelled");
    assert!(started.elapsed() < Duration::from_secs(3));
}
