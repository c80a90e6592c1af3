//! The front ends' service against the real sandbox: the set-up order and the re-registration
//! rule (tested here once for the app and the CLI), the sign-in method chosen where no browser can
//! open, and what it tells the user as events.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyhole_core::{
    Browser, Event, MemoryStore, Progress, SecretStore, Service, ServiceOptions, Settings,
    SignInMethod,
};
use keyhole_sandbox::{Sandbox, SandboxOptions};
use url::Url;

/// Everything a service told its front end.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<Event>>>);

impl Heard {
    fn notices(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::Notice(text) => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn forget(&self) {
        self.0.lock().unwrap().clear();
    }
}

fn service(
    settings: Settings,
    secrets: Arc<MemoryStore>,
    browser: Arc<dyn Browser>,
    heard: &Heard,
    also: impl Fn(&Event) + Send + Sync + 'static,
) -> Service {
    let log = heard.clone();
    Service::new(ServiceOptions {
        settings,
        profile: None,
        profiles: None,
        secrets,
        keychain_service: "dev.keyhole.test.service".into(),
        browser,
        sign_in_timeout: Duration::from_secs(60),
        settings_store: None,
        events: Arc::new(move |event| {
            also(&event);
            log.0.lock().unwrap().push(event);
        }),
        background: None,
        trusted_endpoint_origins: Vec::new(),
        cleartext_api_origins: Vec::new(),
    })
}

fn registrations(sb: &Sandbox) -> u64 {
    sb.stats().expect("stats")["registrations"]
        .as_u64()
        .expect("a count")
}

#[tokio::test]
async fn with_no_client_id_the_service_registers_once_and_replaces_a_forgotten_client_once() {
    let sb = Sandbox::start().expect("a sandbox of its own, to count registrations");
    let secrets = Arc::new(MemoryStore::default());
    let heard = Heard::default();
    let settings = Settings {
        instance: sb.issuer.clone(),
        api_url: sb.api.strict.clone(),
        ..Settings::default()
    };
    let browser = Arc::new(common::StandIn::http_login("user_2service"));
    let service = service(settings, secrets.clone(), browser, &heard, |_| {});

    let session = service
        .sign_in(SignInMethod::Browser)
        .await
        .expect("signed in");
    assert_eq!(session.subject.as_deref(), Some("user_2service"));
    let first = service.settings().client_id;
    assert!(!first.is_empty(), "the registered client ID is in force");
    assert_eq!(registrations(&sb), 1);
    let notices = heard.notices();
    assert!(
        notices.iter().any(|n| n.contains("registered itself")),
        "{notices:?}"
    );

    // Signed in again with the client in force: checked with the provider, kept, nothing said.
    heard.forget();
    service
        .sign_in(SignInMethod::Browser)
        .await
        .expect("signed in");
    assert_eq!(registrations(&sb), 1, "the known client is reused");
    assert_eq!(service.settings().client_id, first);
    assert!(heard.notices().is_empty(), "{:?}", heard.notices());

    // The provider forgets it (RFC 7592 DELETE): the next sign-in registers again, once, says so.
    let entry = secrets
        .load(&keyhole_core::registration::registration_account(
            &sb.issuer,
        ))
        .expect("loads")
        .expect("a stored registration");
    keyhole_sandbox::forget_registration(entry.secret()).expect("the provider forgets it");
    heard.forget();
    service
        .sign_in(SignInMethod::Browser)
        .await
        .expect("signed in");
    assert_eq!(registrations(&sb), 2, "registered again exactly once");
    assert_ne!(
        service.settings().client_id,
        first,
        "the new client is in force"
    );
    let again = heard.notices();
    assert_eq!(
        again
            .iter()
            .filter(|n| n.contains("no longer knew Keyhole's registered client"))
            .count(),
        1,
        "{again:?}"
    );
}

/// A browser that cannot work here (a machine with no display).
struct Headless;

impl Browser for Headless {
    fn open(&self, _url: &Url) -> Result<(), String> {
        Err("no display".into())
    }
    fn available(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn where_no_browser_can_open_the_service_signs_in_with_a_device_code_and_says_why() {
    let sb = Sandbox::start_with(SandboxOptions {
        device_interval: Some(1),
        ..Default::default()
    })
    .expect("a sandbox");
    let heard = Heard::default();
    let settings = Settings {
        instance: sb.issuer.clone(),
        client_id: sb.client_id.clone(),
        api_url: sb.api.strict.clone(),
        ..Settings::default()
    };
    // The other device: a person entering the code shown.
    let on_code = |event: &Event| {
        if let Event::SignIn(Progress::DeviceCode(code)) = event {
            let url = code.url().to_owned();
            std::thread::spawn(move || keyhole_sandbox::device_login(&url, "user_2headless"));
        }
    };
    let service = service(
        settings,
        Arc::new(MemoryStore::default()),
        Arc::new(Headless),
        &heard,
        on_code,
    );
    let session = service
        .sign_in(SignInMethod::Browser)
        .await
        .expect("signed in on the other device");
    assert_eq!(session.subject.as_deref(), Some("user_2headless"));
    let notices = heard.notices();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("No display or browser here, so Keyhole signs in with a code")),
        "{notices:?}"
    );
    let answer = service
        .send(&keyhole_core::ApiRequest::get(
            &Url::parse(&sb.api.strict).expect("a URL"),
        ))
        .await
        .expect("the API answers");
    assert_eq!(
        answer.response.status, 200,
        "the strict API lets the user in"
    );
}

#[tokio::test]
async fn a_background_restore_can_be_awaited_so_a_front_end_shows_its_end_first() {
    let sb = keyhole_sandbox::shared();
    let secrets = Arc::new(MemoryStore::default());
    let settings = Settings {
        instance: sb.issuer.clone(),
        client_id: sb.client_id.clone(),
        api_url: sb.api.lax.clone(),
        ..Settings::default()
    };
    let browser: Arc<dyn Browser> = Arc::new(common::StandIn::http_login("user_2settled"));
    let first = common::service_over(settings.clone(), secrets.clone(), browser.clone());
    first.sign_in(SignInMethod::Browser).await.expect("sign-in");

    // The next launch: the same keychain, a restore started in the background, as the app does.
    let next = Service::new(ServiceOptions {
        background: Some(tokio::runtime::Handle::current()),
        ..common::options_over(settings, secrets, browser)
    });
    assert!(
        next.restore_settled(Duration::from_secs(5)).await,
        "nothing runs yet"
    );
    next.restore_in_background();
    assert!(next.is_restoring() && next.summary().is_none());
    // The restore runs on this (current-thread) runtime only once this test awaits.
    assert!(next.restore_settled(Duration::from_secs(10)).await);
    assert!(!next.is_restoring());
    assert_eq!(
        next.summary().expect("restored").subject.as_deref(),
        Some("user_2settled")
    );
}

#[tokio::test]
async fn save_body_streams_an_answer_past_the_cap_whole_into_the_file() {
    let sb = keyhole_sandbox::shared();
    let settings = Settings {
        instance: sb.issuer.clone(),
        client_id: sb.client_id.clone(),
        api_url: sb.api.lax.clone(),
        ..Settings::default()
    };
    let browser: Arc<dyn Browser> = Arc::new(common::StandIn::http_login("user_2save"));
    let service = common::service_over(settings, Arc::new(MemoryStore::default()), browser);
    service
        .sign_in(SignInMethod::Browser)
        .await
        .expect("sign-in");
    let total = keyhole_core::BODY_CAP as u64 + 3_000_000;
    let url = Url::parse(&format!("{}?bytes={total}", sb.api.sized)).expect("a URL");
    let dir = std::env::temp_dir().join(format!("keyhole-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("answer.json");
    let (result, written) = service
        .save_body(&keyhole_core::ApiRequest::get(&url), &path)
        .await
        .expect("saved");
    assert!(result.response.truncated, "the answer itself stays capped");
    assert_eq!(written, total);
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(saved.len() as u64, total);
    assert!(saved.starts_with(b"{\"items\":[") && saved.ends_with(b"\"}"));
    serde_json::from_slice::<serde_json::Value>(&saved).expect("the whole body, valid JSON");

    // A folder that does not exist: one plain sentence, nothing sent.
    let error = service
        .save_body(
            &keyhole_core::ApiRequest::get(&url),
            &dir.join("no/such/answer.json"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "save_body");
    assert!(error.to_string().starts_with("Could not write "), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
