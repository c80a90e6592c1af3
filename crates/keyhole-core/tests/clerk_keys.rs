//! The kinds of token made with Clerk's Backend API, against the sandbox's stand-in (checked
//! against Clerk's spec) and the APIs verifying with Clerk's own SDKs: an impersonated test
//! session from the secret key, API keys (pasted or created) and M2M tokens from a machine secret
//! key; then the matrix over every kind, a mint that fails mid-matrix, and the bad keys.

mod common;

use std::sync::Arc;

use keyhole_core::{ApiRequest, Credential, Error, KeyKind, MemoryStore, Service, Settings};
use keyhole_sandbox::Sandbox;
use serde_json::Value;
use url::Url;

/// A Clerk user ID of the shape Clerk's spec gives (`user_` and 27 characters).
const USER: &str = "user_2abcdefghijklmnopqrstuvwxyz";

fn service(sb: &Sandbox, instance: &str, secrets: Arc<MemoryStore>) -> Service {
    let settings = Settings {
        instance: instance.to_owned(),
        api_url: sb.api.tutorial_lax.clone(),
        backend_api: sb.bapi.clone(),
        ..Settings::default()
    };
    common::service_over(settings, secrets, Arc::new(common::NoBrowser))
}

/// Sends `credential` to the route of `acceptsToken: accepts_token` and expects the API to let it
/// in (`isAuthenticated: true`); the auth object.
async fn let_in(
    keyhole: &Service,
    sb: &Sandbox,
    accepts_token: &str,
    credential: Credential,
) -> Value {
    let answer = keyhole
        .send(&common::get_with(&accepts(sb, accepts_token), credential))
        .await
        .expect("answered");
    let auth = common::json_of(&answer.response.body).clone();
    assert_eq!(auth["isAuthenticated"], true, "{credential:?}: {auth}");
    auth
}

fn accepts(sb: &Sandbox, value: &str) -> String {
    format!("{}/{value}", sb.api.accepts)
}

#[tokio::test]
async fn a_test_session_from_the_secret_key_is_impersonated_and_the_tutorial_reads_it() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let keyhole = service(sb, &sb.fapi, secrets.clone());
    // Pasted with the line break a terminal copy adds.
    let view = keyhole
        .save_clerk_key(KeyKind::SecretKey, &format!(" {}\n", sb.secret_key))
        .await
        .expect("kept");
    let masked = view.secret_key.expect("shown masked");
    assert!(masked.starts_with("sk_test_…"), "{masked}");
    assert!(!masked.contains(&sb.secret_key[8..]), "masked: {masked}");

    let summary = keyhole
        .start_test_session(USER, false)
        .await
        .expect("a test session");
    assert!(summary.impersonated, "{summary:?}");
    assert_eq!(summary.credential, Credential::Session);
    assert_eq!(summary.subject.as_deref(), Some(USER));

    let answer = keyhole
        .send(&common::get_with(&sb.api.tutorial_lax, Credential::Session))
        .await
        .expect("answered");
    let auth = common::json_of(&answer.response.body);
    assert_eq!(auth["userId"], USER, "{auth}");
    assert_eq!(
        auth["sessionId"],
        summary.session_id.as_deref().unwrap_or("?"),
        "{auth}"
    );

    let outcome = keyhole.sign_out().await.expect("signed out");
    assert!(outcome.revoked, "{outcome:?}");
    assert_eq!(keyhole.clerk_session().await.expect("read"), None);
    assert!(sb.spec_violations().expect("stats").is_empty());
}

#[tokio::test]
async fn a_production_or_wrong_or_foreign_secret_key_is_refused_by_name() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let keyhole = service(sb, &sb.fapi, secrets.clone());

    // No key yet.
    let none = keyhole
        .start_test_session(USER, false)
        .await
        .expect_err("no key");
    assert_eq!(none.field(), Some("secretKey"), "{none:?}");

    // A production key, not explicitly allowed: nothing is sent.
    keyhole
        .save_clerk_key(KeyKind::SecretKey, "sk_live_notallowedhere")
        .await
        .expect("kept");
    let production = keyhole
        .start_test_session(USER, false)
        .await
        .expect_err("refused");
    assert_eq!(production.field(), Some("secretKey"));
    assert!(
        production.to_string().contains("production"),
        "{production}"
    );

    // A wrong key: Clerk's refusal, in one sentence naming the Dashboard.
    keyhole
        .save_clerk_key(KeyKind::SecretKey, "sk_test_wrongwrongwrong")
        .await
        .expect("kept");
    let wrong = keyhole
        .start_test_session(USER, false)
        .await
        .expect_err("refused");
    assert!(
        matches!(&wrong, Error::Clerk { code, status: 401, .. } if code == "clerk_key_invalid"),
        "{wrong:?}"
    );
    assert!(wrong.to_string().contains("secret key"), "{wrong}");
    assert_eq!(
        keyhole.clerk_session().await.expect("read"),
        None,
        "nothing kept"
    );

    // A publishable key (the instance) of another instance than the secret key's: the session
    // token names its real issuer, and Keyhole says which key belongs where.
    let other = Sandbox::start().expect("a second instance");
    let foreign = service(sb, &other.fapi, Arc::new(MemoryStore::default()));
    foreign
        .save_clerk_key(KeyKind::SecretKey, &sb.secret_key)
        .await
        .expect("kept");
    let mixed = foreign
        .start_test_session(USER, false)
        .await
        .expect_err("refused");
    assert_eq!(mixed.field(), Some("secretKey"), "{mixed:?}");
    assert!(
        mixed.to_string().contains("another Clerk instance"),
        "{mixed}"
    );
    assert_eq!(
        foreign.clerk_session().await.expect("read"),
        None,
        "nothing kept"
    );

    // Not a secret key at all.
    let pasted = keyhole
        .save_clerk_key(KeyKind::SecretKey, "pk_test_Zm9vLmJhcg")
        .await
        .expect_err("refused");
    assert_eq!(pasted.field(), Some("secretKey"));
    assert!(pasted.to_string().contains("publishable key"), "{pasted}");
}

#[tokio::test]
async fn api_keys_and_m2m_tokens_go_as_they_are_and_the_matrix_names_what_lets_each_in() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let keyhole = service(sb, &sb.fapi, secrets.clone());
    keyhole
        .save_clerk_key(KeyKind::SecretKey, &sb.secret_key)
        .await
        .expect("kept");

    // An API key created with the secret key, accepted where acceptsToken allows api_key.
    let masked = keyhole.create_api_key(USER).await.expect("created");
    assert!(masked.starts_with("ak_…"), "{masked}");
    let auth = let_in(&keyhole, sb, "api_key", Credential::ApiKey).await;
    assert_eq!(auth["tokenType"], "api_key", "{auth}");

    // One pasted with spaces and a line break works the same.
    let (status, body) = keyhole_sandbox::http_request_with_headers(
        "POST",
        &format!("{}/v1/api_keys", sb.bapi),
        &[("Authorization", &format!("Bearer {}", sb.secret_key))],
        Some((
            "application/json",
            &format!(r#"{{"name":"pasted","subject":"{USER}"}}"#),
        )),
    )
    .expect("BAPI");
    assert_eq!(status, 200, "{body}");
    let pasted: Value = serde_json::from_str(&body).expect("JSON");
    let secret = pasted["secret"].as_str().expect("a secret");
    let (head, tail) = secret.split_at(6);
    keyhole
        .save_clerk_key(KeyKind::ApiKey, &format!("  {head}\n{tail} \r\n"))
        .await
        .expect("kept");
    let_in(&keyhole, sb, "api_key", Credential::ApiKey).await;

    // M2M: a wrong machine key first, then the right one.
    keyhole
        .save_clerk_key(KeyKind::MachineKey, "ak_wrongmachinekey")
        .await
        .expect("kept");
    let wrong = keyhole
        .send(&common::get_with(
            &accepts(sb, "m2m_token"),
            Credential::M2m,
        ))
        .await
        .expect_err("refused");
    assert!(
        matches!(&wrong, Error::Clerk { code, .. } if code == "machine_secret_key_invalid"),
        "{wrong:?}"
    );
    keyhole
        .save_clerk_key(KeyKind::MachineKey, &sb.machine_secret_key)
        .await
        .expect("kept");
    let auth = let_in(&keyhole, sb, "m2m_token", Credential::M2m).await;
    assert_eq!(auth["tokenType"], "m2m_token", "{auth}");

    // The matrix on the tutorial's own route (session tokens only) with a test session held.
    let session = keyhole
        .start_test_session(USER, false)
        .await
        .expect("session");
    let matrix = keyhole
        .try_every_token_type(&ApiRequest::get(
            &Url::parse(&sb.api.tutorial_lax).expect("URL"),
        ))
        .await
        .expect("a matrix");
    let row = |kind| {
        matrix
            .rows
            .iter()
            .find(|r| r.credential == kind)
            .unwrap_or_else(|| panic!("no {kind:?} row: {matrix:#?}"))
    };
    assert_eq!(
        row(Credential::Session).signed_in,
        Some(true),
        "{matrix:#?}"
    );
    for (kind, value) in [
        (Credential::ApiKey, "'api_key'"),
        (Credential::M2m, "'m2m_token'"),
    ] {
        assert_eq!(row(kind).signed_in, Some(false), "{matrix:#?}");
        let fix = row(kind).fix.clone().unwrap_or_default();
        assert!(fix.contains(value), "{kind:?}: {fix}");
    }
    assert_eq!(row(Credential::None).signed_in, Some(false));

    // A mint that fails mid-matrix: that row fails, the others still run.
    sb.revoke_session(session.session_id.as_deref().expect("an ID"))
        .expect("revoked");
    let later = service(sb, &sb.fapi, secrets.clone());
    let matrix = later
        .try_every_token_type(&ApiRequest::get(
            &Url::parse(&accepts(sb, "any")).expect("URL"),
        ))
        .await
        .expect("a matrix");
    let session_row = matrix
        .rows
        .iter()
        .find(|r| r.credential == Credential::Session)
        .expect("a session row");
    assert!(
        session_row
            .error
            .as_deref()
            .is_some_and(|e| e.contains("session ended")),
        "{session_row:?}"
    );
    for kind in [Credential::ApiKey, Credential::M2m] {
        let row = matrix
            .rows
            .iter()
            .find(|r| r.credential == kind)
            .expect("a row");
        assert_eq!(row.signed_in, Some(true), "{kind:?} on 'any': {row:?}");
    }
    assert!(sb.spec_violations().expect("stats").is_empty());
}

#[tokio::test]
async fn on_each_accepts_token_setting_the_matrix_lets_in_exactly_the_kinds_it_names() {
    let sb = keyhole_sandbox::shared();
    let settings = Settings {
        instance: sb.fapi.clone(),
        client_id: sb.client_id.clone(),
        api_url: sb.api.tutorial_lax.clone(),
        backend_api: sb.bapi.clone(),
        ..Settings::default()
    };
    let keyhole = common::service_over(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(common::StandIn::http_login("user_2matrix")),
    );
    // Every kind held: an OAuth session, a test session, an API key, a machine key.
    keyhole
        .sign_in(keyhole_core::SignInMethod::Browser)
        .await
        .expect("OAuth sign-in");
    keyhole
        .save_clerk_key(KeyKind::SecretKey, &sb.secret_key)
        .await
        .expect("kept");
    keyhole
        .start_test_session(USER, false)
        .await
        .expect("test session");
    keyhole.create_api_key(USER).await.expect("API key");
    keyhole
        .save_clerk_key(KeyKind::MachineKey, &sb.machine_secret_key)
        .await
        .expect("kept");

    use Credential::{ApiKey, M2m, OAuth, Session};
    let routes: [(&str, &[Credential]); 6] = [
        ("session_token", &[Session]),
        ("oauth_token", &[OAuth]),
        ("api_key", &[ApiKey]),
        ("m2m_token", &[M2m]),
        ("any", &[Session, OAuth, ApiKey, M2m]),
        ("session_token,api_key", &[Session, ApiKey]),
    ];
    for (accepts_token, let_in) in routes {
        let url = Url::parse(&accepts(sb, accepts_token)).expect("URL");
        let matrix = keyhole
            .try_every_token_type(&ApiRequest::get(&url))
            .await
            .expect("a matrix");
        assert!(matrix.missing.is_empty(), "{matrix:#?}");
        for row in &matrix.rows {
            let expected = let_in.contains(&row.credential);
            assert_eq!(
                row.signed_in,
                Some(expected),
                "{accepts_token}: {:?} {row:?}",
                row.credential
            );
            match keyhole_core::accepts_token_value(row.credential) {
                Some(value) if !expected => {
                    let fix = row.fix.clone().unwrap_or_default();
                    assert!(
                        fix.contains(&format!("'{value}'")),
                        "{accepts_token}: {fix}"
                    );
                }
                _ => assert_eq!(row.fix, None, "{accepts_token}: {row:?}"),
            }
        }
    }
    assert!(sb.spec_violations().expect("stats").is_empty());
}

#[tokio::test]
async fn m2m_tokens_come_opaque_by_default_or_as_jwts_when_asked() {
    let sb = keyhole_sandbox::shared();
    for (format, jwt) in [("", false), ("jwt", true)] {
        let settings = Settings {
            instance: sb.fapi.clone(),
            api_url: accepts(sb, "m2m_token"),
            backend_api: sb.bapi.clone(),
            m2m_format: format.into(),
            ..Settings::default()
        };
        let keyhole = common::service_over(
            settings,
            Arc::new(MemoryStore::default()),
            Arc::new(common::NoBrowser),
        );
        keyhole
            .save_clerk_key(KeyKind::MachineKey, &sb.machine_secret_key)
            .await
            .expect("kept");
        let token = keyhole.token(Credential::M2m).await.expect("minted");
        assert_eq!(token.secret().starts_with("mt_"), !jwt, "{format:?}");
        assert_eq!(token.secret().split('.').count() == 3, jwt, "{format:?}");
        let auth = let_in(&keyhole, sb, "m2m_token", Credential::M2m).await;
        assert_eq!(auth["tokenType"], "m2m_token", "{format:?}: {auth}");
    }
    let bad = Settings {
        instance: sb.fapi.clone(),
        m2m_format: "paseto".into(),
        ..Settings::default()
    };
    let error = common::service_over(
        bad,
        Arc::new(MemoryStore::default()),
        Arc::new(common::NoBrowser),
    )
    .token(Credential::M2m)
    .await
    .expect_err("refused");
    assert_eq!(error.field(), Some("m2mFormat"), "{error:?}");
}
