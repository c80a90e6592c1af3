//! The authorization report (`Service::mcp_check`) against real peers: the sandbox's MCP servers
//! (the official SDK behind Clerk's @clerk/mcp-tools) and provider pass every check they offer;
//! each broken variant (sandbox/mcp.mjs) and the lying provider (keyhole_sandbox::adversary)
//! fails the check for its fault, and only that rule's verdict is asserted as the cause.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{options_over, StandIn};
use keyhole_core::{
    CheckId, McpCheckOptions, McpReport, MemoryStore, Service, Settings, SignInMethod, Verdict,
};
use keyhole_sandbox::adversary::{Adversary, Answer};
use keyhole_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

const BROWSER: SignInMethod = SignInMethod::Browser;

struct Fixture {
    service: Service,
    notices: Arc<Mutex<Vec<String>>>,
}

fn fixture(settings: Settings, browser: StandIn) -> Fixture {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&notices);
    let mut options = options_over(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(browser),
    );
    options.keychain_service = "dev.keyhole.test.mcp-check".into();
    options.events = Arc::new(move |event| {
        if let keyhole_core::Event::Notice(text) = event {
            heard.lock().unwrap().push(text);
        }
    });
    Fixture {
        service: Service::new(options),
        notices,
    }
}

/// The sandbox's provider and pre-registered client, set up for its REST API (whose tokens are
/// for another resource than any MCP server).
fn rest_settings(sb: &Sandbox) -> Settings {
    Settings {
        instance: sb.issuer.clone(),
        client_id: sb.client_id.clone(),
        api_url: sb.api.lax.clone(),
        ..Settings::default()
    }
}

async fn check(f: &Fixture, url: &str, wait: Duration) -> McpReport {
    f.service
        .mcp_check(url, BROWSER, McpCheckOptions { expiry_wait: wait })
        .await
        .expect("a report")
}

fn verdict(report: &McpReport, id: CheckId) -> (Verdict, String) {
    let check = report.check(id).expect("every check is listed");
    (check.verdict, check.detail.clone())
}

/// No token the sandbox issued appears in the report.
fn assert_no_token(report: &McpReport) {
    let json = serde_json::to_string(report).unwrap();
    assert!(!json.contains("eyJ"), "a JWT in the report: {json}");
}

#[tokio::test]
async fn a_compliant_server_passes_every_check_and_clerks_bare_401_and_an_unverifying_server_fail_theirs(
) {
    // Tokens that live 2 s, so the check can send one expired within its wait.
    let sb = Sandbox::start_with(SandboxOptions {
        access_token_ttl: Some(2),
        ..SandboxOptions::default()
    })
    .expect("a sandbox");
    let f = fixture(rest_settings(&sb), StandIn::http_login("user_2mcpcheck"));
    f.service.sign_in(BROWSER).await.expect("the REST sign-in");

    let report = check(&f, &sb.mcp.compliant, Duration::from_secs(30)).await;
    for c in &report.checks {
        let expected = match c.id {
            CheckId::InsufficientScope => Verdict::NotOffered,
            _ => Verdict::Pass,
        };
        assert_eq!(c.verdict, expected, "{:?}: {}", c.id, c.detail);
    }
    assert!(!report.failed());
    assert_eq!(report.issuer.as_deref(), Some(sb.issuer.as_str()));
    assert_eq!(report.revision, Some(keyhole_core::Revision::V2025_11_25));
    let (_, other) = verdict(&report, CheckId::OtherAudienceRefused);
    assert!(other.starts_with("Refused a token for "), "{other}");
    let said = f.notices.lock().unwrap().join("\n");
    assert!(said.contains("for the access token to expire"), "{said}");
    assert_no_token(&report);

    // Clerk's own middleware refuses the same tokens, but with a bare 401: those three fail on
    // the challenge alone.
    let report = check(&f, &sb.mcp.sdk, Duration::from_secs(30)).await;
    for id in [
        CheckId::OtherAudienceRefused,
        CheckId::BadSignatureRefused,
        CheckId::ExpiredRefused,
    ] {
        let (got, said) = verdict(&report, id);
        assert_eq!(got, Verdict::Fail, "{id:?}: {said}");
        assert!(
            said.ends_with("with 401 but no WWW-Authenticate Bearer challenge."),
            "{said}"
        );
    }
    assert_eq!(
        verdict(&report, CheckId::MissingTokenRefused).0,
        Verdict::Pass
    );
    assert_eq!(verdict(&report, CheckId::TokenAccepted).0, Verdict::Pass);

    // A server that lets any bearer token in: the two refusal checks fail, and say so.
    let f = fixture(rest_settings(&sb), StandIn::http_login("user_2mcpcheck"));
    let report = check(&f, &sb.mcp.no_verify, Duration::from_secs(30)).await;
    let (signature, said) = verdict(&report, CheckId::BadSignatureRefused);
    assert_eq!(signature, Verdict::Fail, "{said}");
    assert!(said.starts_with("Let in a wrongly signed token"), "{said}");
    let (expired, said) = verdict(&report, CheckId::ExpiredRefused);
    assert_eq!(expired, Verdict::Fail, "{said}");
    assert!(said.contains("after its exp"), "{said}");
    assert_eq!(
        verdict(&report, CheckId::MissingTokenRefused).0,
        Verdict::Pass
    );
    assert!(report.failed());
    assert_no_token(&report);
}

#[tokio::test]
async fn each_broken_sandbox_server_fails_the_check_for_its_fault() {
    let sb = keyhole_sandbox::shared();

    // No metadata where the challenge says: served fails, and nothing after it is graded.
    let f = fixture(rest_settings(sb), StandIn::http_login("user_2mcpbroken"));
    let report = check(&f, &sb.mcp.no_prm, Duration::ZERO).await;
    let (served, said) = verdict(&report, CheckId::MetadataServed);
    assert_eq!(served, Verdict::Fail, "{said}");
    assert!(said.contains("404"), "{said}");
    let (audience, said) = verdict(&report, CheckId::TokenAudience);
    assert_eq!(audience, Verdict::NotChecked);
    assert!(
        said.contains("did not lead to an authorization server"),
        "{said}"
    );

    // Metadata for another resource.
    let report = check(&f, &sb.mcp.wrong_prm, Duration::ZERO).await;
    assert_eq!(verdict(&report, CheckId::MetadataServed).0, Verdict::Pass);
    let (resource, said) = verdict(&report, CheckId::MetadataResource);
    assert_eq!(resource, Verdict::Fail, "{said}");
    assert!(said.contains("describes another resource"), "{said}");

    // 500 without a token: that check fails, and the rest still runs (well-known metadata).
    let report = check(&f, &sb.mcp.error_500, Duration::ZERO).await;
    let (missing, said) = verdict(&report, CheckId::MissingTokenRefused);
    assert_eq!(missing, Verdict::Fail, "{said}");
    assert!(
        said.contains("otherwise than 401") && said.contains("500"),
        "{said}"
    );
    assert_eq!(verdict(&report, CheckId::TokenAccepted).0, Verdict::Pass);

    // Expired is not checked when the token lives longer than the check may wait.
    let (expired, said) = verdict(&report, CheckId::ExpiredRefused);
    assert_eq!(expired, Verdict::NotChecked);
    assert!(said.contains("--expiry-wait"), "{said}");

    // A token for the REST API is let into the server that checks no audience; without one at
    // hand the check says how to get one.
    let f = fixture(rest_settings(sb), StandIn::http_login("user_2mcpbroken"));
    let report = check(&f, &sb.mcp.any_audience, Duration::ZERO).await;
    let (other, said) = verdict(&report, CheckId::OtherAudienceRefused);
    assert_eq!(other, Verdict::NotChecked, "no REST session yet: {said}");
    assert!(said.contains("Sign in to another API"), "{said}");
    let f = fixture(rest_settings(sb), StandIn::http_login("user_2mcpbroken"));
    f.service.sign_in(BROWSER).await.expect("the REST sign-in");
    let report = check(&f, &sb.mcp.any_audience, Duration::ZERO).await;
    let (other, said) = verdict(&report, CheckId::OtherAudienceRefused);
    assert_eq!(other, Verdict::Fail, "{said}");
    assert!(said.starts_with("Let in a token for"), "{said}");
    assert_eq!(verdict(&report, CheckId::TokenAudience).0, Verdict::Pass);
    assert_no_token(&report);

    // A scope the token lacks: named in the challenge (pass), or not (fail).
    let report = check(&f, &sb.mcp.scoped, Duration::ZERO).await;
    let (scope, said) = verdict(&report, CheckId::InsufficientScope);
    assert_eq!(scope, Verdict::Pass, "{said}");
    assert!(said.contains("mcp:admin"), "{said}");
    let report = check(&f, &sb.mcp.bare_403, Duration::ZERO).await;
    let (scope, said) = verdict(&report, CheckId::InsufficientScope);
    assert_eq!(scope, Verdict::Fail, "{said}");
    assert!(
        said.contains("without error=\"insufficient_scope\""),
        "{said}"
    );
}

/// The adversary as an MCP server's provider: its `/mcp` answers 401 (no challenge) to every
/// request and its metadata names it; its provider metadata is the honest one as `change`d.
fn adversary_mcp(change: impl FnOnce(&mut serde_json::Value)) -> Adversary {
    let adversary = Adversary::start().expect("the adversary");
    adversary.set_route(
        "GET",
        "/.well-known/oauth-protected-resource/mcp",
        Answer::Json(json!({
            "resource": adversary.url("/mcp"),
            "authorization_servers": [adversary.issuer],
        })),
    );
    adversary.set_route(
        "POST",
        "/mcp",
        Answer::Status(401, json!({"error": "invalid_token"})),
    );
    let mut discovery = adversary.discovery();
    change(&mut discovery);
    adversary.set_discovery(Answer::Json(discovery));
    adversary
}

fn adversary_browser() -> StandIn {
    StandIn::new(|url| {
        keyhole_sandbox::adversary::browse(url, None)
            .map(|(status, body)| format!("{status} {body}"))
    })
}

fn adversary_settings(adversary: &Adversary, client_id: &str) -> Settings {
    Settings {
        instance: adversary.issuer.clone(),
        client_id: client_id.to_owned(),
        ..Settings::default()
    }
}

#[tokio::test]
async fn a_provider_that_names_another_issuer_or_offers_no_s256_is_failed_and_not_signed_in_to() {
    let adversary = adversary_mcp(|d| d["issuer"] = json!("https://elsewhere.example"));
    let f = fixture(
        adversary_settings(&adversary, &adversary.client_id),
        adversary_browser(),
    );
    let report = check(&f, &adversary.url("/mcp"), Duration::ZERO).await;
    let (issuer, said) = verdict(&report, CheckId::IssuerMatches);
    assert_eq!(issuer, Verdict::Fail, "{said}");
    assert!(
        said.contains("names the issuer https://elsewhere.example"),
        "{said}"
    );
    assert_eq!(
        verdict(&report, CheckId::Registration).0,
        Verdict::NotChecked
    );
    assert_eq!(adversary.hits("/oauth/token"), 0, "no sign-in was made");

    let adversary = adversary_mcp(|d| d["code_challenge_methods_supported"] = json!(["plain"]));
    let f = fixture(
        adversary_settings(&adversary, &adversary.client_id),
        adversary_browser(),
    );
    let report = check(&f, &adversary.url("/mcp"), Duration::ZERO).await;
    let (pkce, said) = verdict(&report, CheckId::PkceS256);
    assert_eq!(pkce, Verdict::Fail, "{said}");
    assert!(said.contains("[\"plain\"] but not S256"), "{said}");
    assert_eq!(verdict(&report, CheckId::IssuerMatches).0, Verdict::Pass);
    assert_eq!(adversary.hits("/oauth/token"), 0, "no sign-in was made");
}

#[tokio::test]
async fn a_provider_without_iss_or_audience_and_a_server_refusing_its_tokens_fail_those_checks() {
    // The honest adversary advertises no RFC 9207 iss and issues tokens without aud; its /mcp
    // refuses every token, and without a challenge.
    let adversary = adversary_mcp(|_| {});
    let f = fixture(
        adversary_settings(&adversary, &adversary.client_id),
        adversary_browser(),
    );
    let report = check(&f, &adversary.url("/mcp"), Duration::ZERO).await;
    let (iss, said) = verdict(&report, CheckId::IssReturned);
    assert_eq!(iss, Verdict::Fail, "{said}");
    assert!(said.starts_with("Not advertised"), "{said}");
    let (missing, said) = verdict(&report, CheckId::MissingTokenRefused);
    assert_eq!(missing, Verdict::Fail, "{said}");
    assert!(
        said.contains("without a WWW-Authenticate Bearer challenge"),
        "{said}"
    );
    let (registration, said) = verdict(&report, CheckId::Registration);
    assert_eq!(registration, Verdict::Pass, "{said}");
    assert!(said.contains("pre-registered"), "{said}");
    let (audience, said) = verdict(&report, CheckId::TokenAudience);
    assert_eq!(audience, Verdict::Fail, "{said}");
    assert!(said.starts_with("aud is []"), "{said}");
    let (accepted, said) = verdict(&report, CheckId::TokenAccepted);
    assert_eq!(accepted, Verdict::Fail, "{said}");
    assert!(
        said.starts_with("Refused the token its own provider issued"),
        "{said}"
    );
    assert_no_token(&report);

    // No client ID and no registration endpoint: the registration check fails, nothing is sent.
    let adversary = adversary_mcp(|_| {});
    let f = fixture(adversary_settings(&adversary, ""), adversary_browser());
    let report = check(&f, &adversary.url("/mcp"), Duration::ZERO).await;
    let (registration, said) = verdict(&report, CheckId::Registration);
    assert_eq!(registration, Verdict::Fail, "{said}");
    assert!(said.to_lowercase().contains("client id"), "{said}");
    assert_eq!(
        verdict(&report, CheckId::TokenAudience).0,
        Verdict::NotChecked
    );
    assert_eq!(adversary.hits("/oauth/token"), 0);
}

#[tokio::test]
async fn a_url_that_is_not_one_is_refused_before_anything_is_sent() {
    let f = fixture(Settings::default(), adversary_browser());
    let err = f
        .service
        .mcp_check("not a url", BROWSER, McpCheckOptions::default())
        .await
        .expect_err("not a URL");
    assert_eq!(err.kind(), "invalid_setting", "{err}");
}
