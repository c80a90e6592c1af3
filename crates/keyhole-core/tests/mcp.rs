//! The MCP client against the sandbox's real MCP servers (sandbox/mcp.mjs): the official
//! TypeScript SDK behind Clerk's @clerk/mcp-tools, a 2026-07-28 server checked against the spec's
//! schema, their broken variants and URLs that are no MCP server at all. Sign-ins go through the
//! sandbox's provider with the login stand-in as the browser.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyhole_core::{
    Browser, Event, McpFault, MemoryStore, Revision, Rule, Secret, SecretStore, Service,
    ServiceOptions, Settings, SignInMethod,
};
use keyhole_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;
use url::Url;

/// The login stand-in as the browser, counting how often a sign-in opened it.
struct Login {
    opens: AtomicUsize,
    who: &'static str,
}

impl Browser for Login {
    fn open(&self, url: &Url) -> Result<(), String> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let (url, who) = (url.to_string(), self.who);
        std::thread::spawn(move || keyhole_sandbox::http_login(&url, who));
        Ok(())
    }
}

struct Fixture {
    service: Service,
    login: Arc<Login>,
    notices: Arc<Mutex<Vec<String>>>,
}

fn fixture(settings: Settings, who: &'static str) -> Fixture {
    fixture_over(settings, who, Arc::new(MemoryStore::default()))
}

/// [`fixture`] over a keychain another fixture may share (as two runs of the CLI do).
fn fixture_over(settings: Settings, who: &'static str, secrets: Arc<MemoryStore>) -> Fixture {
    let login = Arc::new(Login {
        opens: AtomicUsize::new(0),
        who,
    });
    let notices = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&notices);
    let service = Service::new(ServiceOptions {
        settings,
        profile: None,
        profiles: None,
        secrets,
        keychain_service: "dev.keyhole.test.mcp".into(),
        browser: login.clone(),
        sign_in_timeout: Duration::from_secs(30),
        settings_store: None,
        events: Arc::new(move |event| {
            if let Event::Notice(text) = event {
                heard.lock().unwrap().push(text);
            }
        }),
        background: None,
        trusted_endpoint_origins: Vec::new(),
        cleartext_api_origins: Vec::new(),
    });
    Fixture {
        service,
        login,
        notices,
    }
}

/// Settings naming the sandbox's provider and its pre-registered client, nothing about MCP.
fn sandbox_client(sb: &Sandbox) -> Settings {
    Settings {
        instance: sb.issuer.clone(),
        client_id: sb.client_id.clone(),
        ..Settings::default()
    }
}

const BROWSER: SignInMethod = SignInMethod::Browser;

/// The structured answer of the whoami tool (the auth object's user and client).
async fn whoami(f: &Fixture, url: &str) -> serde_json::Value {
    let who = f
        .service
        .mcp_call(url, "whoami", &json!({}), BROWSER)
        .await
        .expect("whoami");
    who.structured.expect("whoami's structured content")
}

#[tokio::test]
async fn the_sdk_server_leads_from_its_401_to_a_sign_in_for_it_then_lists_and_calls_its_tools() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(sandbox_client(sb), "user_2mcpsdk");
    let url = &sb.mcp.sdk;

    let listed = f.service.mcp_tools(url, BROWSER).await.expect("tools");
    assert_eq!(listed.server.revision, Revision::V2025_11_25);
    assert_eq!(listed.server.name.as_deref(), Some("keyhole-sandbox-mcp"));
    let names: Vec<&str> = listed.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo", "whoami", "slow", "markup", "fail"]);
    assert_eq!(listed.pages, 3, "two tools a page");
    assert_eq!(listed.tools[0].input_schema["required"], json!(["text"]));
    // The 401 named the metadata; the metadata the provider; the sign-in was for this resource.
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 1);
    assert_eq!(f.service.settings().resource, *url);
    let said = f.notices.lock().unwrap().join("\n");
    assert!(
        said.contains(&format!("names {} as its authorization server", sb.issuer)),
        "{said}"
    );

    let structured = whoami(&f, url).await;
    assert_eq!(structured["userId"], "user_2mcpsdk");
    assert_eq!(structured["clientId"], sb.client_id.as_str());

    let echo = f
        .service
        .mcp_call(url, "echo", &json!({"text": "hello, MCP"}), BROWSER)
        .await
        .expect("echo");
    assert!(!echo.is_error);
    assert_eq!(echo.content[0].kind, "text");
    assert_eq!(echo.content[0].text, "hello, MCP");

    // HTML and control characters come back as text to show, never as raw control bytes.
    let markup = f
        .service
        .mcp_call(url, "markup", &json!({}), BROWSER)
        .await
        .expect("markup");
    let text = &markup.content[0].text;
    assert!(
        text.starts_with("<script>alert(\"x\")</script><b>bold</b>\\u{0007}\\u{001b}[31m"),
        "{text}"
    );
    assert!(!text.chars().any(|c| c.is_control()), "{text:?}");

    // isError is an answer, not a failure of the call.
    let failed = f
        .service
        .mcp_call(url, "fail", &json!({}), BROWSER)
        .await
        .expect("an answer");
    assert!(failed.is_error);
    assert_eq!(failed.content[0].text, "this tool always fails");

    let resources = f
        .service
        .mcp_resources(url, BROWSER)
        .await
        .expect("resources");
    assert!(resources.offered);
    assert_eq!(resources.items[0].uri.as_deref(), Some("sandbox://readme"));
    let prompts = f.service.mcp_prompts(url, BROWSER).await.expect("prompts");
    assert_eq!(prompts.items[0].name, "greet");
    // One sign-in for all of it.
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 1);

    // A JSON-RPC error (an unknown tool) says what the server said.
    let err = f
        .service
        .mcp_call(url, "nope", &json!({}), BROWSER)
        .await
        .expect_err("unknown tool");
    assert_eq!(err.mcp_fault(), Some(McpFault::RpcError), "{err}");
    assert!(err.to_string().contains("Unknown tool: nope"), "{err}");
}

#[tokio::test]
async fn from_its_url_alone_the_2026_07_28_server_gets_a_registration_a_sign_in_and_discover() {
    let sb = keyhole_sandbox::shared();
    // No instance, no client ID: everything from the server's 401.
    let f = fixture(Settings::default(), "user_2mcpmodern");
    let url = &sb.mcp.modern;
    let before = sb.mcp_stats().unwrap()["modern_methods"]["server/discover"]
        .as_u64()
        .unwrap_or(0);

    let listed = f.service.mcp_tools(url, BROWSER).await.expect("tools");
    assert_eq!(listed.server.revision, Revision::V2026_07_28);
    assert_eq!(listed.tools.len(), 5);
    assert_eq!(listed.pages, 3);
    let settings = f.service.settings();
    assert_eq!(settings.instance, sb.issuer);
    assert_ne!(
        settings.client_id, sb.client_id,
        "registered (RFC 7591), not the sandbox's own"
    );
    assert_eq!(settings.resource, *url);

    let who = whoami(&f, url).await;
    assert_eq!(who["userId"], "user_2mcpmodern");
    // The slow tool answers as an SSE stream; the answer is read from it.
    let slow = f
        .service
        .mcp_call(url, "slow", &json!({"ms": 20}), BROWSER)
        .await
        .expect("slow");
    assert_eq!(slow.content[0].text, "slept 20 ms");
    assert!(
        f.service
            .mcp_prompts(url, BROWSER)
            .await
            .expect("prompts")
            .offered
    );

    let stats = sb.mcp_stats().unwrap();
    assert!(stats["modern_methods"]["server/discover"].as_u64().unwrap() > before);
    // Every request Keyhole sent, and every answer, matched the 2026-07-28 schema (the peer
    // checks both and refuses a request that does not).
    assert_eq!(stats["schema_violations"], json!([]), "{stats}");
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_for_one_server_is_not_sent_as_one_for_another() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(sandbox_client(sb), "user_2mcptwo");
    f.service
        .mcp_tools(&sb.mcp.sdk, BROWSER)
        .await
        .expect("sdk");
    // The other server checks its audience: the first token is refused, so Keyhole signs in for
    // the second resource, and each keeps its own session.
    let modern = f
        .service
        .mcp_tools(&sb.mcp.modern, BROWSER)
        .await
        .expect("modern");
    assert_eq!(modern.server.revision, Revision::V2026_07_28);
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_session_the_server_forgot_is_initialized_once_more() {
    let sb = Sandbox::start_with(SandboxOptions::default())
        .expect("a sandbox of its own, to count initializes");
    let f = fixture(sandbox_client(&sb), "user_2mcpsession");
    f.service
        .mcp_tools(&sb.mcp.sdk, BROWSER)
        .await
        .expect("tools");
    let initializes = sb.mcp_stats().unwrap()["initializes"].as_u64().unwrap();
    assert_eq!(sb.expire_mcp_sessions().unwrap(), 1);

    let echo = f
        .service
        .mcp_call(&sb.mcp.sdk, "echo", &json!({"text": "again"}), BROWSER)
        .await
        .expect("echo after the session expired");
    assert_eq!(echo.content[0].text, "again");
    assert_eq!(
        sb.mcp_stats().unwrap()["initializes"].as_u64().unwrap(),
        initializes + 1
    );
}

#[tokio::test]
async fn urls_that_are_no_mcp_server_are_refused_saying_what_they_answered() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(Settings::default(), "user_2unused");
    for (url, says) in [
        (&sb.mcp.html, "answers with an HTML page"),
        (&sb.mcp.not_found, "answers 404 Not Found"),
        (&sb.mcp.not_jsonrpc, "answers JSON that is not JSON-RPC 2.0"),
    ] {
        let err = f.service.mcp_tools(url, BROWSER).await.expect_err(url);
        assert_eq!(err.mcp_fault(), Some(McpFault::NotMcp), "{url}: {err}");
        assert!(err.to_string().contains(says), "{url}: {err}");
        assert!(err.to_string().contains("is not an MCP server"), "{err}");
    }
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 0);
    // Arguments that are not an object are refused before anything is sent.
    let err = f
        .service
        .mcp_call(&sb.mcp.html, "echo", &json!(["x"]), BROWSER)
        .await
        .expect_err("not an object");
    assert_eq!(err.kind(), "invalid_setting", "{err}");
}

#[tokio::test]
async fn a_stream_that_never_ends_and_an_answer_of_100_mb_are_cut_off() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(Settings::default(), "user_2unused");
    f.service.set_mcp_timeout(Duration::from_millis(700));
    let started = std::time::Instant::now();
    let err = f
        .service
        .mcp_tools(&sb.mcp.forever, BROWSER)
        .await
        .expect_err("forever");
    assert_eq!(err.mcp_fault(), Some(McpFault::Timeout), "{err}");
    assert!(err.to_string().contains("never the response"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stopped at the timeout, not later"
    );
    let f = fixture(Settings::default(), "user_2unused");
    for url in [&sb.mcp.huge, &sb.mcp.huge_sse] {
        let err = f.service.mcp_tools(url, BROWSER).await.expect_err(url);
        assert!(err.to_string().contains("more than 4 MiB"), "{err}");
        assert_eq!(err.mcp_fault(), Some(McpFault::TooLarge), "{url}: {err}");
    }
}

#[tokio::test]
async fn broken_authorization_is_refused_by_the_rule_it_breaks() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(sandbox_client(sb), "user_2unused");
    // The metadata its challenge names is not served.
    let err = f
        .service
        .mcp_tools(&sb.mcp.no_prm, BROWSER)
        .await
        .expect_err("no PRM");
    assert_eq!(err.kind(), "discovery", "{err}");
    assert!(
        err.to_string()
            .contains("protected-resource metadata (RFC 9728)"),
        "{err}"
    );
    // The metadata names another resource (RFC 9728 §3.3).
    let err = f
        .service
        .mcp_tools(&sb.mcp.wrong_prm, BROWSER)
        .await
        .expect_err("wrong PRM");
    assert_eq!(err.rule(), Some(Rule::ResourceMismatch), "{err}");
    // 500 where a 401 belongs: no sign-in starts from it.
    let err = f
        .service
        .mcp_tools(&sb.mcp.error_500, BROWSER)
        .await
        .expect_err("500");
    assert_eq!(err.mcp_fault(), Some(McpFault::HttpStatus), "{err}");
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_403_naming_a_scope_is_met_by_a_step_up_sign_in_once_the_user_agrees() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(sandbox_client(sb), "user_2mcpstepup");
    let url = &sb.mcp.scoped;

    // The server lets the token in but needs mcp:admin: the error says so and names the scope.
    let err = f
        .service
        .mcp_tools(url, BROWSER)
        .await
        .expect_err("403 insufficient_scope");
    assert_eq!(err.mcp_fault(), Some(McpFault::Forbidden), "{err}");
    assert_eq!(err.mcp_needed_scopes().as_deref(), Some("mcp:admin"));
    assert!(
        err.to_string()
            .contains("needs the scope mcp:admin (HTTP 403 insufficient_scope)"),
        "{err}"
    );
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 1);
    assert!(!f
        .service
        .summary()
        .unwrap()
        .scopes
        .contains(&"mcp:admin".to_owned()));

    // The user agreed: a new sign-in asking for it too, then the request goes through.
    let summary = f
        .service
        .mcp_step_up(url, "mcp:admin", BROWSER)
        .await
        .expect("step-up");
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 2);
    assert!(
        summary.scopes.contains(&"mcp:admin".to_owned()),
        "{:?}",
        summary.scopes
    );
    assert!(
        summary.scopes.contains(&"offline_access".to_owned()),
        "kept what it had"
    );
    let listed = f.service.mcp_tools(url, BROWSER).await.expect("tools");
    assert_eq!(listed.tools.len(), 5);
    assert_eq!(f.login.opens.load(Ordering::SeqCst), 2, "no third sign-in");
    let said = f.notices.lock().unwrap().join("\n");
    assert!(
        said.contains("asking also for mcp:admin (step-up)"),
        "{said}"
    );

    // A scope the provider never grants: the step-up says so instead of looping.
    let err = f
        .service
        .mcp_step_up(url, "never:granted", BROWSER)
        .await
        .expect_err("not granted");
    assert!(
        err.to_string()
            .starts_with("The provider did not grant never:granted"),
        "{err}"
    );
}

#[tokio::test]
async fn a_later_run_sends_the_kept_token_on_its_first_request_and_falls_back_when_refused() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let url = &sb.mcp.modern;
    let first = fixture_over(sandbox_client(sb), "user_2mcpwarm", Arc::clone(&secrets));
    first.service.mcp_tools(url, BROWSER).await.expect("tools");
    assert_eq!(first.login.opens.load(Ordering::SeqCst), 1);

    // A new run over the same keychain: no request without the token, no metadata, no sign-in.
    let modern = |sb: &keyhole_sandbox::Sandbox| {
        sb.mcp_stats().unwrap()["modern_requests"].as_u64().unwrap()
    };
    let before = modern(sb);
    let warm = fixture_over(sandbox_client(sb), "user_2mcpwarm", Arc::clone(&secrets));
    let who = whoami(&warm, url).await;
    assert_eq!(who["userId"], "user_2mcpwarm");
    assert_eq!(warm.login.opens.load(Ordering::SeqCst), 0);
    assert_eq!(
        modern(sb) - before,
        1,
        "tools/call alone, with the token: the server's introduction is remembered too"
    );
    let said = warm.notices.lock().unwrap().join("\n");
    assert!(!said.contains("asks for a sign-in"), "{said}");

    // The kept session gone (signed out): the record leads nowhere, and the 401 path runs.
    warm.service.sign_out().await.expect("sign-out");
    let cold = fixture_over(sandbox_client(sb), "user_2mcpwarm", Arc::clone(&secrets));
    cold.service.mcp_tools(url, BROWSER).await.expect("tools");
    assert_eq!(cold.login.opens.load(Ordering::SeqCst), 1);
    let said = cold.notices.lock().unwrap().join("\n");
    assert!(said.contains("asks for a sign-in"), "{said}");
}

#[tokio::test]
async fn a_remembered_revision_the_server_no_longer_speaks_is_introduced_again_once() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let url = &sb.mcp.sdk;
    let first = fixture_over(
        sandbox_client(sb),
        "user_2mcprevision",
        Arc::clone(&secrets),
    );
    first.service.mcp_tools(url, BROWSER).await.expect("tools");

    // The record says the server spoke 2026-07-28 (as if it had, and went back to 2025-11-25
    // since): a record of an older server keeps no introduction at all.
    let account = format!("mcp-server@{}", Url::parse(url).unwrap());
    let kept = secrets
        .load(&account)
        .unwrap()
        .expect("the server's record");
    let mut record: serde_json::Value = serde_json::from_str(kept.secret()).unwrap();
    assert_eq!(record["server"], serde_json::Value::Null, "{record}");
    record["server"] = json!({
        "url": Url::parse(url).unwrap().as_str(), "revision": "2026-07-28", "name": "was modern",
        "version": "0", "capabilities": {"tools": {}}, "instructions": null,
    });
    secrets
        .save(&account, &Secret::new(record.to_string()))
        .unwrap();

    let stats = |sb: &Sandbox| sb.mcp_stats().unwrap();
    let before = stats(sb);
    let warm = fixture_over(
        sandbox_client(sb),
        "user_2mcprevision",
        Arc::clone(&secrets),
    );
    let result = warm
        .service
        .mcp_call(url, "whoami", &json!({}), BROWSER)
        .await
        .expect("whoami, after introducing the server again");
    assert_eq!(result.server.revision, Revision::V2025_11_25);
    assert_eq!(
        result.structured.expect("structured")["userId"],
        "user_2mcprevision"
    );
    assert_eq!(warm.login.opens.load(Ordering::SeqCst), 0, "no sign-in");
    let after = stats(sb);
    assert_eq!(
        after["initializes"].as_u64().unwrap() - before["initializes"].as_u64().unwrap(),
        1,
        "initialized once after the assumed revision was refused"
    );
    // The refused request, server/discover, initialize, notifications/initialized, tools/call.
    assert_eq!(
        after["sdk_requests"].as_u64().unwrap() - before["sdk_requests"].as_u64().unwrap(),
        5,
        "{before} {after}"
    );
}

#[tokio::test]
async fn with_a_client_metadata_document_and_no_client_id_its_url_is_the_client_id_not_a_registration(
) {
    let sb = keyhole_sandbox::shared();
    let stats = |sb: &keyhole_sandbox::Sandbox| sb.stats().unwrap();
    let before = stats(sb);
    let document = Settings {
        client_metadata_url: sb.cimd.url.clone(),
        // Providers match a document's redirect URIs exactly (Clerk's CIMD beta does).
        redirect_port: sb.cimd.redirect_port,
        ..Settings::default()
    };
    let f = fixture(document.clone(), "user_2mcpcimd");
    let structured = whoami(&f, &sb.mcp.modern).await;
    assert_eq!(structured["userId"], "user_2mcpcimd");
    // The token's client is the document; the provider fetched it; nothing was registered.
    assert_eq!(structured["clientId"], sb.cimd.url.as_str());
    assert_eq!(f.service.settings().client_id, sb.cimd.url);
    let after = stats(sb);
    assert_eq!(
        after["registrations"], before["registrations"],
        "no RFC 7591"
    );
    assert!(
        after["cimd_document_fetches"].as_u64() > before["cimd_document_fetches"].as_u64(),
        "the provider read the document"
    );
    let said = f.notices.lock().unwrap().join("\n");
    assert!(
        said.contains("with your Client ID Metadata Document as its client ID"),
        "{said}"
    );

    // A pre-registered client ID (for that provider) comes first.
    let f = fixture(
        Settings {
            instance: sb.issuer.clone(),
            client_id: sb.client_id.clone(),
            ..document
        },
        "user_2mcpcimd",
    );
    let who = whoami(&f, &sb.mcp.modern).await;
    assert_eq!(who["clientId"], sb.client_id.as_str());
}

/// A browser that opens nothing: the sign-in waits until it is cancelled.
struct NoBrowser;

impl Browser for NoBrowser {
    fn open(&self, _url: &Url) -> Result<(), String> {
        Ok(())
    }
}

#[tokio::test]
async fn cancel_request_cancels_an_mcp_call_and_the_sign_in_its_401_started() {
    let sb = keyhole_sandbox::shared();
    let f = fixture(sandbox_client(sb), "user_2mcpcancel");
    let url = &sb.mcp.modern;
    f.service.mcp_tools(url, BROWSER).await.expect("tools");

    // A call the server answers after 20 s: cancelled from elsewhere, as the window's Cancel does.
    let service = Arc::new(f.service);
    let canceller = Arc::clone(&service);
    let started = std::time::Instant::now();
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        canceller.cancel_request();
    });
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        service.mcp_call(url, "slow", &json!({"ms": 20000}), BROWSER),
    )
    .await
    .expect("cancelled well before the tool answers")
    .expect_err("cancelled");
    cancel.await.unwrap();
    assert_eq!(err.kind(), "cancelled", "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Still usable afterwards.
    let echo = service
        .mcp_call(url, "echo", &json!({"text": "after"}), BROWSER)
        .await
        .expect("echo");
    assert_eq!(echo.content[0].text, "after");

    // A sign-in for another server that waits for a browser that never comes: cancelled too.
    let waiting = waiting_for_a_browser(sb, "dev.keyhole.test.mcp.cancel");
    let cancel = cancel_once_signing_in(&waiting);
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        waiting.mcp_tools(&sb.mcp.sdk, BROWSER),
    )
    .await
    .expect("cancelled well before the sign-in's timeout")
    .expect_err("cancelled");
    cancel.await.unwrap();
    assert_eq!(err.kind(), "cancelled", "{err}");
    assert!(!waiting.is_signing_in(), "the sign-in ended");
}

#[tokio::test]
async fn cancel_request_cancels_the_authorization_report_and_the_sign_in_it_started() {
    let sb = keyhole_sandbox::shared();
    let waiting = waiting_for_a_browser(sb, "dev.keyhole.test.mcp.cancel-check");
    let cancel = cancel_once_signing_in(&waiting);
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        waiting.mcp_check(
            &sb.mcp.sdk,
            BROWSER,
            keyhole_core::McpCheckOptions::default(),
        ),
    )
    .await
    .expect("cancelled well before the sign-in's timeout")
    .expect_err("cancelled, not a report");
    cancel.await.unwrap();
    assert_eq!(err.kind(), "cancelled", "{err}");
    assert!(!waiting.is_signing_in(), "the sign-in ended");
}

/// A service over the sandbox's client whose sign-ins wait for a browser that never comes.
fn waiting_for_a_browser(sb: &keyhole_sandbox::Sandbox, keychain: &str) -> Arc<Service> {
    let mut options = common::options_over(
        sandbox_client(sb),
        Arc::new(MemoryStore::default()),
        Arc::new(NoBrowser),
    );
    options.keychain_service = keychain.into();
    Arc::new(Service::new(options))
}

/// Cancels `service`'s request once a sign-in it started is waiting (asserting that one did).
fn cancel_once_signing_in(service: &Arc<Service>) -> tokio::task::JoinHandle<()> {
    let canceller = Arc::clone(service);
    tokio::spawn(async move {
        for _ in 0..100 {
            if canceller.is_signing_in() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(canceller.is_signing_in(), "a sign-in started");
        canceller.cancel_request();
    })
}
