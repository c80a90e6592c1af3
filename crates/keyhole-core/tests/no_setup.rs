//! Issue 10, no set-up, against the real sandbox (and the adversary for what an honest provider
//! never sends): the device authorization grant (RFC 8628), dynamic client registration
//! (RFC 7591/7592) and starting from the API URL alone (RFC 9728 + RFC 8707).

mod common;

use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use keyhole_core::registration::{self, Registration};
use keyhole_core::resource;
use keyhole_core::{
    CancellationToken, Error, Keyhole, MemoryStore, Progress, Rule, SecretStore, SessionKeeper,
    Settings, SignInOptions,
};
use keyhole_core::{SignInContext, SignInMethod};
use keyhole_sandbox::adversary::{Adversary, Answer};
use keyhole_sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

/// One sandbox for this file, polling every second (the default 5 s would make tests slow).
fn sandbox() -> &'static Sandbox {
    static SANDBOX: std::sync::OnceLock<Sandbox> = std::sync::OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::start_with(SandboxOptions {
            device_interval: Some(1),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

fn settings(sb: &Sandbox, api: &str) -> Settings {
    Settings {
        instance: sb.issuer.clone(),
        client_id: sb.client_id.clone(),
        api_url: api.to_owned(),
        ..Settings::default()
    }
}

fn keeper_with(settings: &Settings, store: Arc<dyn SecretStore>) -> SessionKeeper {
    SessionKeeper::new(Keyhole::new(settings.validate().expect("valid")), store)
}

fn options() -> SignInOptions {
    SignInOptions {
        timeout: Duration::from_secs(60),
        cancel: CancellationToken::new(),
    }
}

fn http() -> reqwest::Client {
    keyhole_core::http_client(Duration::from_secs(10))
}

/// Runs a device sign-in on `keeper` and has `other_device` act on the code it shows.
async fn device_sign_in(
    keeper: &SessionKeeper,
    other_device: impl FnOnce(String) -> Result<String, String> + Send + 'static,
) -> keyhole_core::Result<keyhole_core::Session> {
    let (tx, rx) = mpsc::channel::<String>();
    let progress = move |p: Progress| {
        if let Progress::DeviceCode(code) = &p {
            let _ = tx.send(code.url().to_owned());
        }
    };
    let device = std::thread::spawn(move || {
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|e| format!("no code shown: {e}"))?;
        other_device(url)
    });
    let progress = Arc::new(progress);
    let p = Arc::clone(&progress);
    let outcome = keeper
        .sign_in(
            SignInMethod::Device,
            &SignInContext::new(&common::NoBrowser, &options(), &move |stage| p(stage)),
        )
        .await;
    let device = device.join().expect("device thread");
    if outcome.is_ok() {
        device.expect("the other device finished");
    }
    outcome
}

#[tokio::test]
async fn a_device_sign_in_is_verified_stored_and_used_like_a_loopback_one() {
    let sb = sandbox();
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let keeper = keeper_with(&settings(sb, &sb.api.strict), store.clone());
    let outcome = device_sign_in(&keeper, |url| {
        assert!(url.contains("user_code="), "{url}");
        keyhole_sandbox::device_login(&url, "user_2device")
    })
    .await;
    let session = outcome.expect("device sign-in");
    assert_eq!(session.subject(), Some("user_2device"));
    assert!(session.tokens.refresh_token.is_some());
    assert!(!keeper.is_signing_in());
    // Stored exactly as after the loopback flow: another keeper restores it with no request.
    let again = keeper_with(&settings(sb, &sb.api.strict), store);
    let restored = again.restore().await.expect("restore").expect("stored");
    assert_eq!(restored.subject(), Some("user_2device"));
    let answer = again.call_api().await.expect("call");
    assert_eq!(answer.response.status, 200, "{:?}", answer.response.body);
    // And it renews like one.
    again.refresh_now().await.expect("refresh");
    assert!(sb.stats().unwrap()["device_grants"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn a_declined_device_sign_in_says_so_and_stores_nothing() {
    let sb = sandbox();
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let keeper = keeper_with(&settings(sb, &sb.api.strict), store.clone());
    let outcome = device_sign_in(&keeper, |url| keyhole_sandbox::device_deny(&url)).await;
    let err = outcome.expect_err("declined");
    assert_eq!(err.kind(), "denied", "{err}");
    assert!(err.to_string().contains("declined"), "{err}");
    assert!(keeper.current().await.is_none());
    let account = keyhole_core::account_for(&sb.issuer, &sb.client_id);
    assert_eq!(store.load(&account).unwrap(), None);
}

#[tokio::test]
async fn a_device_sign_in_can_be_cancelled_while_polling() {
    let sb = sandbox();
    let keeper = keeper_with(
        &settings(sb, &sb.api.strict),
        Arc::new(MemoryStore::default()),
    );
    let cancel = CancellationToken::new();
    let shown = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (c, s) = (cancel.clone(), shown.clone());
    let progress = move |p: Progress| {
        if matches!(p, Progress::DeviceCode(_)) {
            s.store(true, std::sync::atomic::Ordering::SeqCst);
            let c = c.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                c.cancel();
            });
        }
    };
    let started = Instant::now();
    let err = keeper
        .sign_in(
            SignInMethod::Device,
            &SignInContext::new(
                &common::NoBrowser,
                &SignInOptions {
                    timeout: Duration::from_secs(60),
                    cancel,
                },
                &progress,
            ),
        )
        .await
        .expect_err("cancelled");
    assert!(shown.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(err.kind(), "cancelled", "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// An adversarial provider offering the device grant, whose device authorization endpoint hands
/// out one code valid for `expires_in` seconds, polled every second; its token endpoint is the
/// test's to script.
fn device_adversary(expires_in: u32) -> Adversary {
    let adversary = Adversary::start().expect("adversary");
    let mut discovery = adversary.discovery();
    discovery["device_authorization_endpoint"] = adversary.url("/oauth/device").into();
    adversary.set_discovery(Answer::Json(discovery));
    adversary.set_route(
        "POST",
        "/oauth/device",
        Answer::Json(json!({
            "device_code": "dc-0123456789", "user_code": "BCDF-GHJK",
            "verification_uri": adversary.url("/device"), "expires_in": expires_in, "interval": 1
        })),
    );
    adversary
}

#[tokio::test]
async fn the_sandbox_enforces_slow_down_and_keyhole_honours_it() {
    // The adversary answers slow_down once, then pending, then tokens: the second poll must come
    // at least 5 s later than the first interval (RFC 8628 §3.5).
    let adversary = device_adversary(60);
    let polls = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
    let seen = Arc::clone(&polls);
    adversary.set_token(move |grant| {
        let mut polls = seen.lock().unwrap();
        polls.push(Instant::now());
        match polls.len() {
            1 => Answer::Status(400, json!({"error": "slow_down"})),
            2 => Answer::Status(400, json!({"error": "authorization_pending"})),
            _ => Answer::Json(grant.forge.token_response(grant)),
        }
    });
    let config = Settings {
        instance: adversary.issuer.clone(),
        client_id: adversary.client_id.clone(),
        scopes: "profile".into(),
        ..Settings::default()
    }
    .validate()
    .unwrap();
    let keyhole = Keyhole::new(config);
    keyhole
        .sign_in(
            SignInMethod::Device,
            &SignInContext::new(&common::NoBrowser, &options(), &|_| {}),
        )
        .await
        .expect("signed in after slowing down");
    let polls = polls.lock().unwrap();
    assert_eq!(polls.len(), 3);
    assert!(
        polls[1] - polls[0] >= Duration::from_secs(6),
        "{:?}",
        polls[1] - polls[0]
    );
    assert!(polls[2] - polls[1] >= Duration::from_secs(6));
}

#[tokio::test]
async fn a_device_code_that_expires_says_so_and_stores_nothing() {
    let adversary = device_adversary(3);
    adversary.set_token(|_| Answer::Status(400, json!({"error": "authorization_pending"})));
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let settings = Settings {
        instance: adversary.issuer.clone(),
        client_id: adversary.client_id.clone(),
        ..Settings::default()
    };
    let keeper = keeper_with(&settings, store.clone());
    let err = keeper
        .sign_in(
            SignInMethod::Device,
            &SignInContext::new(&common::NoBrowser, &options(), &|_| {}),
        )
        .await
        .expect_err("expired");
    assert_eq!(err.kind(), "expired", "{err}");
    assert!(matches!(err, Error::DeviceCodeExpired));
    // And a provider that says expired_token itself.
    adversary.set_token(|_| Answer::Status(400, json!({"error": "expired_token"})));
    let err = keeper
        .sign_in(
            SignInMethod::Device,
            &SignInContext::new(&common::NoBrowser, &options(), &|_| {}),
        )
        .await
        .expect_err("expired");
    assert_eq!(err.kind(), "expired", "{err}");
    let account = keyhole_core::account_for(&adversary.issuer, &adversary.client_id);
    assert_eq!(store.load(&account).unwrap(), None);
}

// --- registration -------------------------------------------------------------------------------

#[tokio::test]
async fn without_a_client_id_keyhole_registers_reuses_and_signs_in_with_its_client() {
    let sb = sandbox();
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let bare = Settings {
        client_id: String::new(),
        ..settings(sb, &sb.api.strict)
    };
    let (first, how) = registration::complete_settings(&http(), &store, &bare)
        .await
        .expect("registered");
    assert_eq!(how, Registration::Registered);
    assert_ne!(first.client_id, sb.client_id);
    assert!(how.note(&sb.issuer).unwrap().contains("registered"));
    let (second, how) = registration::complete_settings(&http(), &store, &bare)
        .await
        .expect("reused");
    assert_eq!(how, Registration::Reused);
    assert_eq!(second.client_id, first.client_id);
    // A loopback sign-in with the registered client.
    let keeper = keeper_with(&first, store.clone());
    let browser = common::StandIn::http_login("user_2registered");
    let session = keeper
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &|_| {}),
        )
        .await
        .expect("sign-in with the registered client");
    assert_eq!(session.client_id, first.client_id);
    assert_eq!(keeper.call_api().await.unwrap().response.status, 200);
}

#[tokio::test]
async fn a_registered_client_the_provider_forgot_is_registered_again_once() {
    let sb = sandbox();
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let bare = Settings {
        client_id: String::new(),
        ..settings(sb, &sb.api.strict)
    };
    let (first, _) = registration::complete_settings(&http(), &store, &bare)
        .await
        .unwrap();
    // The provider forgets it (RFC 7592 delete, with the token Keyhole keeps).
    delete_registered(&store, &sb.issuer).await;
    // Its device sign-in now hears invalid_client: the engine names it, and `replace` registers
    // again (what the front ends do, once).
    let keeper = keeper_with(&first, store.clone());
    let err = keeper
        .sign_in(
            SignInMethod::Device,
            &SignInContext::new(&common::NoBrowser, &options(), &|_| {}),
        )
        .await
        .expect_err("forgotten client");
    assert!(err.is_invalid_client(), "{err}");
    let config = first.validate().unwrap();
    let new_id = registration::replace(&http(), &store, &config)
        .await
        .expect("registered again")
        .expect("the client is Keyhole's own");
    assert_ne!(new_id, first.client_id);
    let (now, how) = registration::complete_settings(&http(), &store, &bare)
        .await
        .unwrap();
    assert_eq!(
        (now.client_id.as_str(), how),
        (new_id.as_str(), Registration::Reused)
    );
    // The next start notices a deletion by itself (RFC 7592 read) and says so.
    delete_registered(&store, &sb.issuer).await;
    let (after, how) = registration::complete_settings(&http(), &store, &bare)
        .await
        .unwrap();
    assert_eq!(how, Registration::Replaced);
    assert_ne!(after.client_id, new_id);
    assert!(how.note(&sb.issuer).unwrap().contains("registered again"));
    // A front end that saved the registered client ID in its settings gets the same check:
    // still known, it is reused as it is; forgotten, it is registered again once.
    let (same, how) = registration::complete_settings(&http(), &store, &after)
        .await
        .unwrap();
    assert_eq!(
        (same.client_id.as_str(), how),
        (after.client_id.as_str(), Registration::Reused)
    );
    delete_registered(&store, &sb.issuer).await;
    let (renewed, how) = registration::complete_settings(&http(), &store, &after)
        .await
        .unwrap();
    assert_eq!(how, Registration::Replaced);
    assert_ne!(renewed.client_id, after.client_id);
    // A client ID the user gave is theirs: never checked or replaced.
    let given = Settings {
        client_id: "the-users-own-client".into(),
        ..after.clone()
    };
    let (kept, how) = registration::complete_settings(&http(), &store, &given)
        .await
        .unwrap();
    assert_eq!(
        (kept.client_id.as_str(), how),
        ("the-users-own-client", Registration::Given)
    );
}

#[tokio::test]
async fn looking_up_a_stored_registration_never_asks_the_provider_and_never_registers() {
    // An instance where nothing listens: any request to it would fail the lookup.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let bare = |instance: &str| Settings {
        instance: instance.to_owned(),
        ..Settings::default()
    };
    assert_eq!(
        registration::stored_settings(&store, &bare(&nowhere))
            .await
            .expect("no network needed"),
        registration::Stored::NotRegistered {
            issuer: nowhere.clone()
        }
    );
    assert_eq!(
        store
            .load(&registration::registration_account(&nowhere))
            .unwrap(),
        None
    );
    // A given client ID is used as given.
    let given = Settings {
        client_id: "mine".into(),
        ..bare(&nowhere)
    };
    assert_eq!(
        registration::stored_settings(&store, &given).await.unwrap(),
        registration::Stored::Ready(given.clone(), Registration::Given)
    );
    // Bad settings are still one field error.
    let err = registration::stored_settings(&store, &bare("notaurl"))
        .await
        .expect_err("not an instance");
    assert_eq!(err.field(), Some("instance"), "{err}");

    // After a registration, the lookup finds that client.
    let sb = sandbox();
    let (registered, _) = registration::complete_settings(&http(), &store, &bare(&sb.issuer))
        .await
        .expect("registered");
    assert_eq!(
        registration::stored_settings(&store, &bare(&sb.issuer))
            .await
            .unwrap(),
        registration::Stored::Ready(registered, Registration::Reused)
    );
}

async fn delete_registered(store: &Arc<dyn SecretStore>, issuer: &str) {
    let entry = store
        .load(&registration::registration_account(issuer))
        .unwrap()
        .unwrap();
    let entry: serde_json::Value = serde_json::from_str(entry.secret()).unwrap();
    let deleted = http()
        .delete(entry["registration_client_uri"].as_str().unwrap())
        .bearer_auth(entry["registration_access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
}

#[tokio::test]
async fn no_registration_endpoint_and_no_client_id_is_one_sentence_and_stores_nothing() {
    let adversary = Adversary::start().expect("adversary");
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let bare = Settings {
        instance: adversary.issuer.clone(),
        ..Settings::default()
    };
    let err = registration::complete_settings(&http(), &store, &bare)
        .await
        .expect_err("no registration");
    assert_eq!(err.field(), Some("clientId"), "{err}");
    assert!(err.to_string().contains("client ID"), "{err}");
    assert_eq!(
        store
            .load(&registration::registration_account(&adversary.issuer))
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_registration_answer_without_client_id_is_refused_and_stores_nothing() {
    let adversary = Adversary::start().expect("adversary");
    let mut discovery = adversary.discovery();
    discovery["registration_endpoint"] = adversary.url("/oauth/register").into();
    adversary.set_discovery(Answer::Json(discovery));
    adversary.set_route(
        "POST",
        "/oauth/register",
        Answer::Status(
            201,
            json!({"client_name": "Keyhole", "redirect_uris": ["http://127.0.0.1/callback"]}),
        ),
    );
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let bare = Settings {
        instance: adversary.issuer.clone(),
        ..Settings::default()
    };
    let err = registration::complete_settings(&http(), &store, &bare)
        .await
        .expect_err("no client_id");
    assert_eq!(err.rule(), Some(Rule::RegistrationResponse), "{err}");
    assert_eq!(
        store
            .load(&registration::registration_account(&adversary.issuer))
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn the_sandbox_refuses_to_register_a_non_loopback_redirect() {
    let sb = sandbox();
    let answer = http()
        .post(&sb.registration_endpoint)
        .json(
            &json!({"redirect_uris": ["https://evil.test/callback"], "application_type": "native"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_redirect_uri");
}

// --- from the API URL alone ---------------------------------------------------------------------

#[tokio::test]
async fn from_the_api_url_alone_keyhole_finds_the_provider_registers_and_signs_in_for_that_resource(
) {
    let sb = sandbox();
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    // The strict endpoint answers 401 with WWW-Authenticate resource_metadata.
    let setup = resource::set_up_from_api(&http(), &store, &sb.api.strict, &Settings::default())
        .await
        .expect("set up from the API");
    assert_eq!(setup.settings.instance, sb.issuer);
    assert_eq!(setup.settings.resource, sb.api.strict);
    assert_eq!(setup.registration, Registration::Registered);
    assert!(setup
        .resource
        .metadata_url
        .as_str()
        .ends_with("/.well-known/oauth-protected-resource/protected-auth-required"));
    let keeper = keeper_with(&setup.settings, store.clone());
    let browser = common::StandIn::http_login("user_2resource");
    keeper
        .sign_in(
            SignInMethod::Browser,
            &SignInContext::new(&browser, &options(), &|_| {}),
        )
        .await
        .expect("sign-in with resource=");
    let answer = keeper.call_api().await.expect("call");
    assert_eq!(answer.response.status, 200);
    // The token is for this API (RFC 8707): its audience names it, so no warning.
    assert!(answer.warnings.is_empty(), "{:?}", answer.warnings);
    let session = keeper.current().await.unwrap();
    let keyhole_core::AccessTokenInfo::Jwt { claims, .. } = &session.access else {
        panic!("a JWT access token");
    };
    assert_eq!(claims["aud"], sb.api.strict.as_str());

    // The lax endpoint answers 200 without a token: the well-known location with its path.
    let lax = resource::discover_resource(&http(), &url::Url::parse(&sb.api.lax).unwrap())
        .await
        .expect("well-known");
    assert_eq!(lax.resource.as_str(), sb.api.lax);
    assert_eq!(lax.authorization_servers, std::slice::from_ref(&sb.issuer));
}

#[tokio::test]
async fn resource_metadata_for_another_resource_is_refused_and_nothing_is_stored() {
    let adversary = Adversary::start().expect("adversary");
    let metadata = adversary.url("/.well-known/oauth-protected-resource/api");
    adversary.set_api(Answer::Raw {
        status: 401,
        content_type: format!(
            "text/plain\r\nWWW-Authenticate: Bearer resource_metadata=\"{metadata}\""
        ),
        body: b"Unauthenticated".to_vec(),
    });
    adversary.set_route(
        "GET",
        "/.well-known/oauth-protected-resource/api",
        Answer::Json(json!({
            "resource": "https://elsewhere.example.com/api",
            "authorization_servers": [adversary.issuer.clone()],
        })),
    );
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let err =
        resource::set_up_from_api(&http(), &store, &adversary.api_url(), &Settings::default())
            .await
            .expect_err("mismatch");
    assert_eq!(err.rule(), Some(Rule::ResourceMismatch), "{err}");
    assert_eq!(
        store
            .load(&registration::registration_account(&adversary.issuer))
            .unwrap(),
        None
    );
    assert!(!adversary.api_saw_bearer());
}

#[tokio::test]
async fn an_authorization_server_whose_metadata_names_another_issuer_is_refused() {
    let adversary = Adversary::start().expect("adversary");
    let mut discovery = adversary.discovery();
    discovery["issuer"] = "http://127.0.0.1:1".into();
    adversary.set_discovery(Answer::Json(discovery));
    adversary.set_route(
        "GET",
        "/.well-known/oauth-protected-resource/api",
        Answer::Json(json!({
            "resource": adversary.url("/api"),
            "authorization_servers": [adversary.issuer.clone()],
        })),
    );
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let err =
        resource::set_up_from_api(&http(), &store, &adversary.api_url(), &Settings::default())
            .await
            .expect_err("issuer mismatch");
    assert_eq!(err.kind(), "discovery", "{err}");
    assert!(err.to_string().contains("calls itself"), "{err}");
}
