//! The engine against a provider that lies on purpose (keyhole_sandbox::adversary): one full
//! flow per class of issue 8 — sign in through the loopback listener, then call the API — and
//! for each, the rule that refused it and proof that the API never saw a bearer token.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{quiet, StandIn};
use keyhole_core::{
    ApiResult, CancellationToken, Config, Error, Keyhole, MemoryStore, Result, Rule, SessionKeeper,
    Settings, SignInOptions,
};
use keyhole_core::{SignInContext, SignInMethod};
use keyhole_sandbox::adversary::{Adversary, Answer, Forge, Grant};
use serde_json::{json, Value};

fn config(adversary: &Adversary, api_url: &str) -> Config {
    Settings {
        instance: adversary.issuer.clone(),
        client_id: adversary.client_id.clone(),
        api_url: api_url.to_owned(),
        ..Settings::default()
    }
    .validate()
    .expect("adversary settings are valid")
}

fn options(timeout: Duration) -> SignInOptions {
    SignInOptions {
        timeout,
        cancel: CancellationToken::new(),
    }
}

/// A browser that follows the provider's redirect to the callback, with the callback's own Host.
fn browser() -> StandIn {
    StandIn::new(|url| {
        keyhole_sandbox::adversary::browse(url, None)
            .map(|(status, body)| format!("{status} {body}"))
    })
}

/// The whole flow a user runs: sign in, then call the API with the token.
async fn flow_with(config: Config) -> Result<ApiResult> {
    let keyhole = Keyhole::new(config);
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser(), &options(Duration::from_secs(20)), &quiet),
        )
        .await?;
    keyhole.call_api(&session).await
}

async fn flow(adversary: &Adversary) -> Result<ApiResult> {
    flow_with(config(adversary, &adversary.api_url())).await
}

/// Runs the flow, expects `rule` to refuse it, and checks that no bearer token reached the API.
async fn refused(adversary: &Adversary, rule: Rule) -> Error {
    let error = flow(adversary)
        .await
        .expect_err("the crafted provider must be refused");
    assert_eq!(error.rule(), Some(rule), "{error}");
    assert!(
        !adversary.api_saw_bearer(),
        "the API saw a bearer token although the flow was refused"
    );
    error
}

/// An honest sign-in through `adversary`, its session held by a keeper (for sign-out tests).
async fn signed_in_keeper(adversary: &Adversary) -> SessionKeeper {
    let keyhole = Keyhole::new(config(adversary, &adversary.api_url()));
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser(), &options(Duration::from_secs(20)), &quiet),
        )
        .await
        .expect("honest sign-in");
    let keeper = SessionKeeper::new(keyhole, Arc::new(MemoryStore::default()));
    keeper.adopt(session).await.unwrap();
    keeper
}

/// Scripts the token endpoint to answer the honest response, changed by `edit`.
fn tweak_token(adversary: &Adversary, edit: impl Fn(&Grant, &mut Value) + Send + Sync + 'static) {
    adversary.set_token(move |grant| {
        let mut response = grant.forge.token_response(grant);
        edit(grant, &mut response);
        Answer::Json(response)
    });
}

#[tokio::test]
async fn control_an_honest_adversary_signs_in_and_the_api_sees_the_bearer() {
    let adversary = Adversary::start().unwrap();
    let result = flow(&adversary)
        .await
        .expect("an honest provider is accepted");
    assert_eq!(result.response.status, 200);
    assert!(result.warnings.is_empty(), "{:?}", result.warnings);
    assert!(adversary.api_saw_bearer());
}

#[tokio::test]
async fn class1_back_channel_endpoints_on_another_origin_are_refused_and_never_contacted() {
    let elsewhere = Adversary::start().unwrap();
    for (name, path) in [
        ("token_endpoint", "/oauth/token"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("revocation_endpoint", "/oauth/token/revoke"),
        ("userinfo_endpoint", "/oauth/userinfo"),
    ] {
        let adversary = Adversary::start().unwrap();
        let mut discovery = adversary.discovery();
        discovery[name] = elsewhere.url(path).into();
        adversary.set_discovery(Answer::Json(discovery));
        let error = refused(&adversary, Rule::EndpointOrigin).await;
        assert!(error.to_string().contains(name), "{error}");
        assert_eq!(adversary.hits("/oauth/authorize"), 0, "{name}");
    }
    assert!(
        elsewhere.seen().is_empty(),
        "the other origin was contacted: {:?}",
        elsewhere.seen()
    );
}

#[tokio::test]
async fn class1_an_explicitly_trusted_other_origin_is_accepted() {
    let adversary = Adversary::start().unwrap();
    let keys = Adversary::start().unwrap();
    let mut discovery = adversary.discovery();
    discovery["jwks_uri"] = keys.url("/.well-known/jwks.json").into();
    adversary.set_discovery(Answer::Json(discovery));
    let trusted = url::Url::parse(&keys.issuer).unwrap();
    let config = config(&adversary, &adversary.api_url()).trust_endpoint_origin(&trusted);
    flow_with(config).await.expect("a trusted origin is used");
    assert_eq!(keys.hits("/.well-known/jwks.json"), 1);
}

#[tokio::test]
async fn class2_metadata_without_s256_pkce_is_refused_before_the_browser_opens() {
    for methods in [None, Some(json!(["plain"])), Some(json!([]))] {
        let adversary = Adversary::start().unwrap();
        let mut discovery = adversary.discovery();
        match &methods {
            None => {
                discovery
                    .as_object_mut()
                    .unwrap()
                    .remove("code_challenge_methods_supported");
            }
            Some(list) => discovery["code_challenge_methods_supported"] = list.clone(),
        }
        adversary.set_discovery(Answer::Json(discovery));
        refused(&adversary, Rule::PkceUnsupported).await;
        assert_eq!(adversary.hits("/oauth/authorize"), 0, "{methods:?}");
    }
}

#[tokio::test]
async fn class3_a_token_type_other_than_bearer_is_refused() {
    for token_type in ["DPoP", "mac", "", "N_A"] {
        let adversary = Adversary::start().unwrap();
        tweak_token(&adversary, move |_, r| r["token_type"] = token_type.into());
        refused(&adversary, Rule::TokenType).await;
    }
}

#[tokio::test]
async fn class3_an_empty_access_token_and_null_members_are_refused() {
    for (member, value) in [
        ("access_token", json!("")),
        ("refresh_token", Value::Null),
        ("scope", Value::Null),
        ("id_token", Value::Null),
    ] {
        let adversary = Adversary::start().unwrap();
        let value2 = value.clone();
        tweak_token(&adversary, move |_, r| r[member] = value2.clone());
        let error = refused(&adversary, Rule::TokenResponse).await;
        assert!(error.to_string().contains(member), "{member}: {error}");
    }
}

#[tokio::test]
async fn class3_an_openid_answer_without_an_id_token_is_refused_even_when_scope_drops_openid() {
    let adversary = Adversary::start().unwrap();
    tweak_token(&adversary, |_, r| {
        r.as_object_mut().unwrap().remove("id_token");
        r["scope"] = "profile email offline_access".into();
    });
    refused(&adversary, Rule::IdTokenMissing).await;
}

#[tokio::test]
async fn class3_a_refresh_that_widens_the_scope_is_refused() {
    let adversary = Adversary::start().unwrap();
    let keyhole = Keyhole::new(config(&adversary, &adversary.api_url()));
    let session = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser(), &options(Duration::from_secs(20)), &quiet),
        )
        .await
        .expect("honest sign-in");
    tweak_token(&adversary, |_, r| {
        r["scope"] = "openid profile email offline_access private_metadata".into();
    });
    let error = keyhole.refresh(&session).await.unwrap_err();
    assert_eq!(error.rule(), Some(Rule::ScopeWidened), "{error}");
    assert!(!adversary.api_saw_bearer());
}

#[tokio::test]
async fn class4_a_jwt_access_token_not_typed_at_jwt_or_the_id_token_itself_is_refused() {
    for typ in [Some("JWT"), None, Some("id+jwt")] {
        let adversary = Adversary::start().unwrap();
        adversary.set_token(move |grant| {
            let forge = &grant.forge;
            let access = forge.sign("RS256", typ, &forge.access_claims());
            Answer::Json(forge.token_response_with(grant, &access))
        });
        refused(&adversary, Rule::TokenConfusion).await;
    }
    // The ID token offered as the access token.
    let adversary = Adversary::start().unwrap();
    tweak_token(&adversary, |_, r| r["access_token"] = r["id_token"].clone());
    refused(&adversary, Rule::TokenConfusion).await;
}

#[tokio::test]
async fn class5_an_id_token_with_an_untrusted_extra_audience_is_refused_even_with_azp() {
    let adversary = Adversary::start().unwrap();
    adversary.set_token(|grant| {
        let forge = &grant.forge;
        let access = forge.access_token();
        let mut claims = forge.id_claims(grant.nonce.as_deref(), &access);
        claims["aud"] = json!([forge.client_id, "some-other-client"]);
        claims["azp"] = forge.client_id.clone().into();
        let mut response = forge.token_response_with(grant, &access);
        response["id_token"] = forge.sign("RS256", Some("JWT"), &claims).into();
        Answer::Json(response)
    });
    refused(&adversary, Rule::Audience).await;
}

/// Scripts an ID token whose claims `edit` changes (signed with the published key, RS256).
fn tweak_id_token(
    adversary: &Adversary,
    edit: impl Fn(&Forge, &mut Value) + Send + Sync + 'static,
) {
    adversary.set_token(move |grant| {
        let forge = &grant.forge;
        let access = forge.access_token();
        let mut claims = forge.id_claims(grant.nonce.as_deref(), &access);
        edit(forge, &mut claims);
        let mut response = forge.token_response_with(grant, &access);
        response["id_token"] = forge.sign("RS256", Some("JWT"), &claims).into();
        Answer::Json(response)
    });
}

#[tokio::test]
async fn class6_an_id_token_issued_long_ago_is_refused() {
    let adversary = Adversary::start().unwrap();
    tweak_id_token(&adversary, |_, c| {
        c["iat"] = (Forge::now() - 24 * 3600).into();
    });
    refused(&adversary, Rule::Stale).await;
}

#[tokio::test]
async fn class6_a_20_mb_token_response_is_refused_without_reading_it_all() {
    let adversary = Adversary::start().unwrap();
    adversary.set_token(|_| Answer::Huge {
        prefix: br#"{"token_type":"Bearer","id_token":""#.to_vec(),
        fill: b'a',
        len: 20 * 1024 * 1024,
    });
    refused(&adversary, Rule::TooLarge).await;
}

#[tokio::test]
async fn class6_an_oversized_token_inside_a_small_enough_response_is_refused() {
    let adversary = Adversary::start().unwrap();
    tweak_token(&adversary, |_, r| {
        r["refresh_token"] = "r".repeat(40 * 1024).into();
    });
    refused(&adversary, Rule::TooLarge).await;
}

#[tokio::test]
async fn class7_a_key_whose_key_ops_lack_verify_does_not_verify() {
    let adversary = Adversary::start().unwrap();
    let mut jwks = adversary.jwks();
    jwks["keys"][0]["key_ops"] = json!(["sign"]);
    jwks["keys"][0].as_object_mut().unwrap().remove("use");
    adversary.set_jwks(Answer::Json(jwks));
    refused(&adversary, Rule::KeyUse).await;
}

#[tokio::test]
async fn class7_an_id_token_signed_with_an_unannounced_algorithm_is_refused() {
    let adversary = Adversary::start().unwrap();
    // The key itself allows any RS algorithm; the metadata announces RS256 only.
    let mut jwks = adversary.jwks();
    jwks["keys"][0].as_object_mut().unwrap().remove("alg");
    adversary.set_jwks(Answer::Json(jwks));
    adversary.set_token(|grant| {
        let forge = &grant.forge;
        let access = forge.access_token();
        let claims = forge.id_claims(grant.nonce.as_deref(), &access);
        let mut response = forge.token_response_with(grant, &access);
        response["id_token"] = forge.sign("RS384", Some("JWT"), &claims).into();
        Answer::Json(response)
    });
    refused(&adversary, Rule::SigningAlgorithm).await;
}

#[tokio::test]
async fn class8_a_wrong_at_hash_is_refused() {
    let adversary = Adversary::start().unwrap();
    tweak_id_token(&adversary, |_, c| {
        c["at_hash"] = keyhole_sandbox::adversary::at_hash("another-token").into();
    });
    refused(&adversary, Rule::AtHash).await;
}

#[tokio::test]
async fn class9_revocation_errors_are_worded_as_the_revocation_endpoints() {
    let adversary = Adversary::start().unwrap();
    let keeper = signed_in_keeper(&adversary).await;
    adversary.set_revocation(Answer::Status(
        400,
        json!({"error": "invalid_client", "error_description": "no such client"}),
    ));
    let outcome = keeper.sign_out().await;
    assert!(!outcome.revoked);
    let message = outcome.message.unwrap_or_default();
    assert!(
        message.contains("revocation endpoint refused the request: invalid_client"),
        "{message}"
    );
    assert!(!message.contains("token endpoint"), "{message}");
    assert_eq!(adversary.hits("/oauth/token/revoke"), 1);
}

#[tokio::test]
async fn class10_a_callback_with_a_foreign_host_is_ignored_and_the_code_never_exchanged() {
    let adversary = Adversary::start().unwrap();
    let keyhole = Keyhole::new(config(&adversary, &adversary.api_url()));
    let rebinding = StandIn::new(|url| {
        let mut answers = Vec::new();
        for host in ["evil.test", "localhost", ""] {
            let (status, body) = keyhole_sandbox::adversary::browse(url, Some(host))?;
            if status != 421 || !body.contains("Host") {
                return Err(format!("Host {host:?} got {status}: {body}"));
            }
            answers.push(status);
        }
        Ok(format!("{answers:?}"))
    });
    let error = keyhole
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&rebinding, &options(Duration::from_secs(3)), &quiet),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "timeout", "{error}");
    rebinding.result().expect("every foreign Host got 421");
    assert_eq!(adversary.hits("/oauth/token"), 0, "a code was exchanged");
    assert!(!adversary.api_saw_bearer());
    // The same callback with the redirect URI's own Host completes.
    flow(&adversary).await.expect("the right Host is accepted");
}

#[tokio::test]
async fn class11_a_bearer_token_is_not_sent_in_cleartext_off_loopback() {
    let adversary = Adversary::start().unwrap();
    // 0.0.0.0 is not a loopback name, yet Linux delivers it to this machine's 127.0.0.1
    // listener: a real peer that would see the token if Keyhole sent it.
    let port = adversary.issuer.rsplit(':').next().unwrap();
    let api = format!("http://0.0.0.0:{port}/api");
    let error = flow_with(config(&adversary, &api)).await.unwrap_err();
    assert_eq!(error.rule(), Some(Rule::Cleartext), "{error}");
    assert!(!adversary.api_saw_bearer());
    // Explicitly allowed for that origin: sent, with a warning.
    let allowed = config(&adversary, &api).allow_cleartext_api(&url::Url::parse(&api).unwrap());
    let result = flow_with(allowed).await.expect("allowed cleartext");
    assert_eq!(result.warnings[0].kind, "cleartext");
    assert!(adversary.api_saw_bearer());
}

#[tokio::test]
async fn class11_an_api_the_tokens_audience_does_not_name_gets_a_warning() {
    let adversary = Adversary::start().unwrap();
    adversary.set_token(|grant| {
        let forge = &grant.forge;
        let mut claims = forge.access_claims();
        claims["aud"] = "https://api.elsewhere.test".into();
        let access = forge.sign("RS256", Some("at+jwt"), &claims);
        Answer::Json(forge.token_response_with(grant, &access))
    });
    let result = flow(&adversary).await.expect("warned, not refused");
    assert_eq!(result.warnings.len(), 1, "{:?}", result.warnings);
    assert_eq!(result.warnings[0].kind, "audience");
    assert!(result.warnings[0]
        .message
        .contains("https://api.elsewhere.test"));
}

/// What a provider says in an error reaches the terminal and the window: terminal escapes,
/// newlines and bidi overrides must not (RFC 6749 §5.2 allows printable ASCII only).
const HOSTILE_DESCRIPTION: &str =
    "\u{1b}[2J\u{1b}[1;32mSigned in as admin\r\nAPI: 200 OK\u{202e}txt.exe\u{7}";

fn assert_displayable(message: &str) {
    assert!(
        !message
            .chars()
            .any(|c| c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
        "{message:?}"
    );
}

#[tokio::test]
async fn a_token_error_with_terminal_escapes_is_shown_cleaned_as_one_line() {
    let adversary = Adversary::start().unwrap();
    adversary.set_token(|_| {
        Answer::Status(
            400,
            json!({"error": "invalid_grant", "error_description": HOSTILE_DESCRIPTION}),
        )
    });
    let error = flow(&adversary).await.expect_err("the provider refused");
    assert_eq!(error.kind(), "token_refused", "{error}");
    let message = error.to_string();
    assert_displayable(&message);
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(
        message.contains("Signed in as admin API: 200 OK txt.exe"),
        "{message}"
    );
    assert!(!adversary.api_saw_bearer(), "the API saw a bearer token");
}

#[tokio::test]
async fn a_revocation_error_with_terminal_escapes_is_shown_cleaned_as_one_line() {
    let adversary = Adversary::start().unwrap();
    let keeper = signed_in_keeper(&adversary).await;
    adversary.set_revocation(Answer::Status(
        400,
        json!({"error": "invalid_request\n\u{1b}[31m", "error_description": HOSTILE_DESCRIPTION}),
    ));
    let outcome = keeper.sign_out().await;
    assert!(!outcome.revoked);
    let message = outcome.message.unwrap_or_default();
    assert_displayable(&message);
    assert!(
        message.contains("revocation endpoint refused the request: invalid_request [31m"),
        "{message}"
    );
}
