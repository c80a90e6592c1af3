//! The sign-in engine against real peers: oidc-provider configured like Clerk, and the browser
//! stood in by scripts that complete the provider's login (plain HTTP, or headless Chromium).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{closed_port, keyhole, quiet, NoBrowser, StandIn};
use keyhole_core::{
    AccessTokenInfo, AccessTokenView, CancellationToken, Keyhole, Progress, Settings, SignInOptions,
};
use keyhole_core::{SignInContext, SignInMethod};

fn options() -> SignInOptions {
    SignInOptions {
        timeout: Duration::from_secs(60),
        cancel: CancellationToken::new(),
    }
}

#[tokio::test]
async fn a_full_sign_in_yields_verified_tokens_for_the_login_used() {
    let sandbox = keyhole_sandbox::shared();
    let keyhole = keyhole(&sandbox.api.lax);
    let browser = StandIn::http_login("user_2full");
    let stages = Arc::new(Mutex::new(Vec::new()));
    let seen = stages.clone();
    let record = move |p: Progress| seen.lock().unwrap().push(p);

    let started = Instant::now();
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &record),
        )
        .await
        .expect("sign-in");
    eprintln!(
        "full scripted sign-in (stand-in to verified tokens): {:?}",
        started.elapsed()
    );
    browser.result().expect("the stand-in reached the callback");

    assert_eq!(session.subject(), Some("user_2full"));
    let summary = session.summary();
    assert_eq!(summary.email.as_deref(), Some("user_2full@example.test"));
    assert!(
        summary.refreshable,
        "offline_access should give a refresh token"
    );
    match &session.access {
        AccessTokenInfo::Jwt { header, claims } => {
            assert_eq!(header["typ"], "at+jwt");
            assert_eq!(claims["sub"], "user_2full");
            assert_eq!(claims["iss"], sandbox.issuer.as_str());
        }
        AccessTokenInfo::Opaque => panic!("the sandbox issues JWT access tokens"),
    }
    assert!(matches!(summary.access_token, AccessTokenView::Jwt { .. }));
    let id = session.id_claims.as_ref().expect("an ID token with openid");
    assert_eq!(id["aud"], sandbox.client_id.as_str());

    let stages = stages.lock().unwrap();
    assert!(
        matches!(stages[0], Progress::OpeningBrowser { .. }),
        "{stages:?}"
    );
    assert!(
        matches!(stages[1], Progress::Waiting { ref url } if url.contains("code_challenge_method=S256")),
        "{stages:?}"
    );
    assert_eq!(stages[2], Progress::Exchanging);
}

#[tokio::test]
async fn the_authorization_request_carries_pkce_state_nonce_and_the_loopback_redirect() {
    let keyhole = keyhole("");
    let pending = keyhole.start_sign_in().await.unwrap();
    let url = pending.authorize_url().clone();
    let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/oauth/authorize");
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert!(params["state"].len() >= 43, "state carries 256 bits");
    assert!(params["nonce"].len() >= 43);
    assert_eq!(params["scope"], "openid profile email offline_access");
    let redirect = &params["redirect_uri"];
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    assert_eq!(redirect, pending.redirect_uri());
    // Two sign-ins never share a state or challenge.
    let other = keyhole.start_sign_in().await.unwrap();
    assert_ne!(other.authorize_url(), pending.authorize_url());
}

#[tokio::test]
async fn a_headless_chromium_completes_the_providers_login_form() {
    let sandbox = keyhole_sandbox::shared();
    let keyhole = keyhole(&sandbox.api.lax);
    let browser = StandIn::new(|url| keyhole_sandbox::chromium_login(url, "user_2chromium"));
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &quiet),
        )
        .await
        .expect("sign-in through Chromium");
    browser.result().expect("Chromium reached the callback");
    assert_eq!(session.subject(), Some("user_2chromium"));
    let answer = keyhole.call_api(&session).await.unwrap();
    assert_eq!(answer.response.status, 200);
}

#[tokio::test]
async fn the_providers_access_denied_answer_ends_the_sign_in_with_that_error() {
    let keyhole = keyhole("");
    let browser = StandIn::new(keyhole_sandbox::http_deny);
    let error = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &quiet),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "provider", "{error}");
    assert!(error.to_string().contains("access_denied"), "{error}");
}

#[tokio::test]
async fn a_callback_with_the_wrong_state_is_refused_and_the_real_one_still_completes() {
    let browser = StandIn::new(|url| {
        let url = url::Url::parse(url).unwrap();
        let redirect = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        let (status, body) =
            keyhole_sandbox::http_get(&format!("{redirect}?code=forged&state=not-the-state"))?;
        if status != 400 || !body.contains("does not match") {
            return Err(format!("the forged callback got {status}: {body}"));
        }
        keyhole_sandbox::http_login(url.as_str(), "user_2state")
    });
    let keyhole = keyhole("");
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &quiet),
        )
        .await
        .expect("the real callback still completes");
    browser
        .result()
        .expect("forged callback refused, then login completed");
    assert_eq!(session.subject(), Some("user_2state"));
}

#[tokio::test]
async fn timeout_and_cancel_end_the_flow_and_free_the_port() {
    let sandbox = keyhole_sandbox::shared();
    let port = closed_port();
    let config = Settings {
        instance: sandbox.issuer.clone(),
        client_id: sandbox.client_id.clone(),
        redirect_port: port,
        ..Settings::default()
    }
    .validate()
    .unwrap();
    let keyhole = Keyhole::new(config);

    let timeout = SignInOptions {
        timeout: Duration::from_millis(300),
        cancel: CancellationToken::new(),
    };
    let error = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&NoBrowser, &timeout, &quiet),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "timeout", "{error}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "listener still open after timeout"
    );

    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let options = SignInOptions {
        timeout: Duration::from_secs(60),
        cancel,
    };
    let waiting = Arc::new(Mutex::new(false));
    let flag = waiting.clone();
    let on_progress = move |p: Progress| {
        if matches!(p, Progress::Waiting { .. }) {
            *flag.lock().unwrap() = true;
            trigger.cancel();
        }
    };
    let started = Instant::now();
    let error = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&NoBrowser, &options, &on_progress),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "cancelled", "{error}");
    assert!(*waiting.lock().unwrap());
    assert!(started.elapsed() < Duration::from_secs(5));
    // The same port is free for the next sign-in.
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("port freed");
}

#[tokio::test]
async fn a_browser_that_cannot_open_leaves_the_flow_waiting_with_the_url() {
    let keyhole = keyhole("");
    let shown = Arc::new(Mutex::new(None));
    let slot = shown.clone();
    let on_progress = move |p: Progress| {
        if let Progress::BrowserFailed { url, message } = p {
            *slot.lock().unwrap() = Some(message);
            // The user opens the URL by hand.
            std::thread::spawn(move || keyhole_sandbox::http_login(&url, "user_2manual"));
        }
    };
    let failing = |_: &url::Url| Err::<(), String>("no browser installed".into());
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&failing, &options(), &on_progress),
        )
        .await
        .expect("sign-in by hand");
    assert_eq!(
        shown.lock().unwrap().as_deref(),
        Some("no browser installed")
    );
    assert_eq!(session.subject(), Some("user_2manual"));
}

#[tokio::test]
async fn an_instance_whose_discovery_names_another_issuer_is_refused() {
    let sandbox = keyhole_sandbox::shared();
    // Same server, but reached as "localhost": the document's issuer is 127.0.0.1, not this.
    let instance = sandbox.issuer.replace("127.0.0.1", "localhost");
    let config = Settings {
        instance,
        client_id: sandbox.client_id.clone(),
        ..Settings::default()
    }
    .validate()
    .unwrap();
    let error = Keyhole::new(config).start_sign_in().await.unwrap_err();
    assert_eq!(error.kind(), "discovery", "{error}");
    assert!(error.to_string().contains("calls itself"), "{error}");
}

#[tokio::test]
async fn an_unreachable_provider_is_a_network_error_naming_discovery() {
    let config = Settings {
        instance: format!("http://127.0.0.1:{}", closed_port()),
        client_id: "x".into(),
        ..Settings::default()
    }
    .validate()
    .unwrap();
    let error = Keyhole::new(config).start_sign_in().await.unwrap_err();
    assert_eq!(error.kind(), "network", "{error}");
    assert!(
        error.to_string().contains("discovery") && error.to_string().contains("refused"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unknown_client_id_is_reported_by_the_provider() {
    let sandbox = keyhole_sandbox::shared();
    let config = Settings {
        instance: sandbox.issuer.clone(),
        client_id: "no-such-client".into(),
        ..Settings::default()
    }
    .validate()
    .unwrap();
    // oidc-provider shows its own error page for an unknown client instead of redirecting
    // (it cannot trust the redirect URI), so the browser never comes back: a timeout.
    let keyhole = Keyhole::new(config);
    let browser = StandIn::http_login("user_2x");
    let options = SignInOptions {
        timeout: Duration::from_secs(3),
        cancel: CancellationToken::new(),
    };
    let error = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options, &quiet),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "timeout", "{error}");
    assert!(
        browser.result().is_err(),
        "the stand-in cannot reach a callback"
    );
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_the_old_one_is_refused() {
    let keyhole = keyhole("");
    let browser = StandIn::http_login("user_2refresh");
    let first = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &quiet),
        )
        .await
        .unwrap();
    let second = keyhole.refresh(&first).await.expect("refresh");
    assert_eq!(second.subject(), Some("user_2refresh"));
    let old = first.tokens.refresh_token.as_ref().unwrap().secret();
    let new = second.tokens.refresh_token.as_ref().unwrap().secret();
    assert_ne!(old, new, "public-client refresh tokens rotate");
    assert_ne!(
        first.tokens.access_token.secret(),
        second.tokens.access_token.secret()
    );
    // Reusing the old refresh token is refused (and, like Clerk, revokes the grant).
    let error = keyhole.refresh(&first).await.unwrap_err();
    assert_eq!(error.kind(), "token_refused", "{error}");
    assert!(error.to_string().contains("invalid_grant"), "{error}");
}

#[tokio::test]
async fn an_unknown_kid_triggers_one_jwks_refetch_not_one_per_token() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let sandbox = keyhole_sandbox::shared();
    let keyhole = keyhole("");
    let browser = StandIn::http_login("user_2kid");
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &quiet),
        )
        .await
        .unwrap();
    let provider = keyhole.provider().await.unwrap();
    assert_eq!(
        provider.keys.fetch_count().await,
        1,
        "sign-in fetched the keys once"
    );
    // Verifying the same good token again uses the cache.
    keyhole
        .inspect_access_token(&session.tokens.access_token)
        .await
        .unwrap();
    assert_eq!(provider.keys.fetch_count().await, 1);

    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("rotated-key".into());
    header.typ = Some("at+jwt".into());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": sandbox.issuer, "sub": "user_2kid", "exp": now + 600, "iat": now});
    let key =
        EncodingKey::from_rsa_pem(include_bytes!("../src/tokens/testdata/rsa_b.pem")).unwrap();
    keyhole_core::jws_crypto::install();
    let forged = keyhole_core::AccessToken::new(encode(&header, &claims, &key).unwrap());
    for _ in 0..3 {
        let error = keyhole.inspect_access_token(&forged).await.unwrap_err();
        assert!(error.to_string().contains("rotated-key"), "{error}");
    }
    assert_eq!(
        provider.keys.fetch_count().await,
        2,
        "one refetch for the unknown kid, not one per token"
    );
}
