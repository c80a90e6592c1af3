//! Fixtures for tests against the real sandbox (oidc-provider as Clerk, @clerk/express APIs).

#![allow(dead_code)]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyhole_core::{
    ApiRequest, Body, Browser, Config, Credential, Keyhole, MemoryStore, Service, ServiceOptions,
    Settings,
};
use keyhole_sandbox::Sandbox;
use url::Url;

/// Settings for the shared sandbox, with `api_url` as given.
pub fn config_for(sandbox: &Sandbox, api_url: &str) -> Config {
    Settings {
        instance: sandbox.issuer.clone(),
        client_id: sandbox.client_id.clone(),
        scopes: String::new(),
        redirect_port: 0,
        api_url: api_url.to_owned(),
        ..Settings::default()
    }
    .validate()
    .expect("sandbox settings are valid")
}

pub fn keyhole(api_url: &str) -> Keyhole {
    Keyhole::new(config_for(keyhole_sandbox::shared(), api_url))
}

/// A "system browser" that hands the URL to one of the sandbox's stand-ins on another thread,
/// and reports how that went.
type Run = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

pub struct StandIn {
    run: Run,
    results: Mutex<Option<mpsc::Sender<Result<String, String>>>>,
    pub outcome: Mutex<mpsc::Receiver<Result<String, String>>>,
}

impl StandIn {
    pub fn new(run: impl Fn(&str) -> Result<String, String> + Send + Sync + 'static) -> StandIn {
        let (tx, rx) = mpsc::channel();
        StandIn {
            run: Arc::new(run),
            results: Mutex::new(Some(tx)),
            outcome: Mutex::new(rx),
        }
    }

    pub fn http_login(login: &'static str) -> StandIn {
        StandIn::new(move |url| keyhole_sandbox::http_login(url, login))
    }

    /// What the stand-in reported (waits a little: it may still be finishing).
    pub fn result(&self) -> Result<String, String> {
        self.outcome
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| Err(format!("the stand-in never reported: {e}")))
    }
}

impl Browser for StandIn {
    fn open(&self, url: &Url) -> Result<(), String> {
        let run = self.run.clone();
        let tx = self.results.lock().unwrap().clone();
        let url = url.to_string();
        std::thread::spawn(move || {
            let outcome = run(&url);
            if let Some(tx) = tx {
                let _ = tx.send(outcome);
            }
        });
        Ok(())
    }
}

/// A browser that never comes back: the user walked away.
pub struct NoBrowser;

impl Browser for NoBrowser {
    fn open(&self, _url: &Url) -> Result<(), String> {
        Ok(())
    }
}

pub fn quiet(_: keyhole_core::Progress) {}

/// A 127.0.0.1 port that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A front end's service over `settings`, keeping its secrets in `secrets`, hearing nothing.
pub fn service_over(
    settings: Settings,
    secrets: Arc<MemoryStore>,
    browser: Arc<dyn Browser>,
) -> Service {
    Service::new(options_over(settings, secrets, browser))
}

/// The options of [`service_over`], to change one of them.
pub fn options_over(
    settings: Settings,
    secrets: Arc<MemoryStore>,
    browser: Arc<dyn Browser>,
) -> ServiceOptions {
    ServiceOptions {
        settings,
        profile: None,
        profiles: None,
        secrets,
        keychain_service: "dev.keyhole.test.clerk".into(),
        browser,
        sign_in_timeout: Duration::from_secs(60),
        settings_store: None,
        events: Arc::new(|_| {}),
        background: None,
        trusted_endpoint_origins: Vec::new(),
        cleartext_api_origins: Vec::new(),
    }
}

/// `GET url` carrying `credential`.
pub fn get_with(url: &str, credential: Credential) -> ApiRequest {
    ApiRequest {
        token_type: Some(credential),
        ..ApiRequest::get(&Url::parse(url).expect("a URL"))
    }
}

/// The JSON an answer carried (the test fails when it is not JSON).
pub fn json_of(body: &Body) -> &serde_json::Value {
    match body {
        Body::Json { value } => value,
        other => panic!("not JSON: {other:?}"),
    }
}
