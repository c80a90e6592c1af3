//! The commands the UI invokes (see `ui/api.js`). Each one forwards to the engine's service
//! (`service_ext`), or to the history and the clipboard; build.rs lists them so the capability
//! must allow each.

use keyhole_core::{
    ApiRequest, ApiResult, ProfilesView, SessionSummary, Settings, SignInMethod, SignOutOutcome,
};
use tauri::{AppHandle, Runtime};

use crate::error::Result;
use crate::history_ext::{HistoryEntry, HistoryExt};
use crate::request_ext::{CurlCopy, RequestExt};
use crate::service_ext::{self, ServiceExt, SessionState};
use crate::settings_ext::{self, SetUpView, SettingsView};

/// The current settings, and whether they are the local sandbox's.
#[tauri::command]
pub fn load_settings<R: Runtime>(app: AppHandle<R>) -> SettingsView {
    settings_ext::view(&app)
}

/// Validates, normalizes and stores `settings`; a field error changes nothing. Another instance
/// or client switches to that one's session (restored if one is stored).
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SettingsView> {
    app.service().save_settings(&settings)?;
    Ok(settings_ext::view(&app))
}

/// "Set up from this API": instance, client ID and resource from the API's metadata (RFC 9728,
/// registering when needed), saved; a failure saves nothing.
#[tauri::command]
pub async fn set_up_from_api<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SetUpView> {
    let done = app.service().set_up_from_api(&settings).await?;
    Ok(settings_ext::set_up_view(&app, done))
}

/// Settings with an instance but no client ID: Keyhole registers itself (RFC 7591) and saves
/// the client ID; a provider that offers no registration is a `clientId` error.
#[tauri::command]
pub async fn register_client<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SetUpView> {
    let done = app.service().register_client(&settings).await?;
    Ok(settings_ext::set_up_view(&app, done))
}

/// The session, whether a stored one is being restored, and any notice to show once.
#[tauri::command]
pub fn session<R: Runtime>(app: AppHandle<R>) -> SessionState {
    service_ext::state_for_ui(&app)
}

/// Signs in through the system browser; emits `sign-in-progress` while it waits.
#[tauri::command]
pub async fn sign_in<R: Runtime>(app: AppHandle<R>) -> Result<SessionSummary> {
    Ok(app
        .service()
        .sign_in(SignInMethod::Browser)
        .await?
        .summary())
}

/// Signs in with a code entered on another device (RFC 8628); emits `sign-in-progress` with the
/// code (stage `device_code`) while it polls.
#[tauri::command]
pub async fn sign_in_device<R: Runtime>(app: AppHandle<R>) -> Result<SessionSummary> {
    Ok(app.service().sign_in(SignInMethod::Device).await?.summary())
}

/// Cancels the pending sign-in (its `sign_in` fails with kind `cancelled`).
#[tauri::command]
pub fn cancel_sign_in<R: Runtime>(app: AppHandle<R>) {
    app.service().cancel_sign_in();
}

/// Opens the pending sign-in's URL in the browser again.
#[tauri::command]
pub async fn open_browser_again<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    Ok(app.service().open_browser_again()?)
}

/// Ends the session: revoked, and removed from the keychain and memory.
#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>) -> SignOutOutcome {
    app.service().sign_out().await.unwrap_or(SignOutOutcome {
        revoked: false,
        message: None,
    })
}

/// Calls the API in the settings with the session's access token.
#[tauri::command]
pub async fn call_api<R: Runtime>(app: AppHandle<R>) -> Result<ApiResult> {
    let url = app.service().config()?.require_api_url()?.clone();
    Ok(app.service().send(&ApiRequest::get(&url)).await?)
}

/// Sends the request shaped in the window (with or without the token) and records it in the
/// history; fails with kind `cancelled` after `cancel_request`, `api_timeout` after its timeout.
#[tauri::command]
pub async fn send_request<R: Runtime>(app: AppHandle<R>, request: ApiRequest) -> Result<ApiResult> {
    app.requests().send(&app, &request).await
}

/// Cancels the request in flight.
#[tauri::command]
pub fn cancel_request<R: Runtime>(app: AppHandle<R>) {
    app.service().cancel_request();
}

/// The last requests sent, newest first (requests only: no token, no answer body).
#[tauri::command]
pub fn history<R: Runtime>(app: AppHandle<R>) -> Vec<HistoryEntry> {
    app.history().list()
}

/// Forgets the history.
#[tauri::command]
pub fn clear_history<R: Runtime>(app: AppHandle<R>) {
    app.history().clear(&app);
}

/// Copies the request as a curl command to the clipboard; the literal token only when asked.
#[tauri::command]
pub async fn copy_curl<R: Runtime>(
    app: AppHandle<R>,
    request: ApiRequest,
    literal_token: bool,
) -> Result<CurlCopy> {
    app.requests()
        .copy_curl(&app, &request, literal_token)
        .await
}

/// The profiles shared with keyhole-cli, and the current one.
#[tauri::command]
pub fn profiles<R: Runtime>(app: AppHandle<R>) -> Result<ProfilesView> {
    Ok(app.service().profiles()?)
}

/// Makes profile `name` current (null: no profile); its own session is restored, the others
/// stay signed in.
#[tauri::command]
pub async fn switch_profile<R: Runtime>(
    app: AppHandle<R>,
    name: Option<String>,
) -> Result<SettingsView> {
    app.service().switch_profile(name.as_deref())?;
    Ok(settings_ext::view(&app))
}

/// Saves the current settings as profile `name` and makes it current.
#[tauri::command]
pub async fn save_profile<R: Runtime>(app: AppHandle<R>, name: String) -> Result<ProfilesView> {
    app.service().save_profile(&name)?;
    Ok(app.service().profiles()?)
}

/// The requests saved in the current profile (shared with keyhole-cli --saved).
#[tauri::command]
pub fn saved_requests<R: Runtime>(app: AppHandle<R>) -> Result<Vec<ApiRequest>> {
    Ok(app.service().saved_requests()?)
}

/// Saves `request` as `name` in the current profile, with no credential in it.
#[tauri::command]
pub fn save_request<R: Runtime>(
    app: AppHandle<R>,
    name: String,
    request: ApiRequest,
) -> Result<Vec<ApiRequest>> {
    Ok(app.service().save_request(&name, &request)?)
}

/// Deletes the request saved as `name` in the current profile.
#[tauri::command]
pub fn delete_saved_request<R: Runtime>(
    app: AppHandle<R>,
    name: String,
) -> Result<Vec<ApiRequest>> {
    Ok(app.service().delete_saved_request(&name)?)
}

#[cfg(test)]
mod tests {
    //! Each command through Tauri's IPC layer (`tauri::test`), with a temp store and a browser
    //! that opens nothing. No network: a sign-in is pointed at a local port that never answers,
    //! and the set-up refusals at the sandbox's adversarial provider on 127.0.0.1.

    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::path::Path;
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
    use tauri::webview::InvokeRequest;
    use tauri::{App, Listener, WebviewWindow, WebviewWindowBuilder};
    use url::Url;

    use keyhole_core::{MemoryStore, Profiles, Secret, SecretStore};

    use crate::{builder, init, Launch, SandboxDefaults, ServiceExt};

    /// Memory, as when the OS keychain could not be opened.
    #[derive(Default)]
    struct NoKeychain(MemoryStore);

    impl SecretStore for NoKeychain {
        fn load(&self, account: &str) -> keyhole_core::Result<Option<Secret>> {
            self.0.load(account)
        }
        fn save(&self, account: &str, secret: &Secret) -> keyhole_core::Result<()> {
            self.0.save(account, secret)
        }
        fn delete(&self, account: &str) -> keyhole_core::Result<()> {
            self.0.delete(account)
        }
        fn unavailable(&self) -> Option<String> {
            Some(
                "the system keychain is not available (org.freedesktop.secrets was not provided)"
                    .into(),
            )
        }
    }

    struct TestApp {
        app: App<MockRuntime>,
        window: WebviewWindow<MockRuntime>,
        /// What copy_curl put on the clipboard.
        copied: Arc<Mutex<Vec<String>>>,
    }

    fn start(store: &Path, sandbox: Option<SandboxDefaults>) -> TestApp {
        start_with_secrets(store, sandbox, Arc::new(MemoryStore::default())).0
    }

    /// Starts the app; every `session-changed` payload goes to `events` (from before the
    /// launch-time restore begins).
    fn start_with_secrets(
        store: &Path,
        sandbox: Option<SandboxDefaults>,
        secrets: Arc<dyn SecretStore>,
    ) -> (TestApp, mpsc::Receiver<Value>) {
        let copied = Arc::new(Mutex::new(Vec::new()));
        let clipboard = Arc::clone(&copied);
        let launch = Launch {
            store_path: store.to_path_buf(),
            sandbox,
            browser: Arc::new(|_: &Url| -> Result<(), String> { Ok(()) }),
            sign_in_timeout: Duration::from_secs(30),
            secrets,
            keychain_service: "dev.keyhole.test".into(),
            history_path: store.with_file_name("history.json"),
            profiles: Some(Profiles::at(store.with_file_name("profiles.json"))),
            clipboard: Some(Arc::new(move |text: String| {
                clipboard.lock().expect("lock").push(text);
                Ok(())
            })),
        };
        let app = builder(mock_builder())
            .build(mock_context(noop_assets()))
            .expect("the app builds");
        let (tx, events) = mpsc::channel();
        app.listen_any(crate::SESSION_CHANGED, move |event| {
            let _ = tx.send(serde_json::from_str(event.payload()).unwrap_or(Value::Null));
        });
        init(app.handle(), launch).expect("the state builds");
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("the window builds");
        (
            TestApp {
                app,
                window,
                copied,
            },
            events,
        )
    }

    fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        };
        get_ipc_response(window, request).map(|body| body.deserialize().expect("JSON answer"))
    }

    fn sandbox() -> SandboxDefaults {
        SandboxDefaults {
            issuer: "http://127.0.0.1:4000".into(),
            client_id: "keyhole-sandbox".into(),
            api_url: "http://127.0.0.1:5000/protected-endpoint".into(),
        }
    }

    fn valid() -> Value {
        json!({
            "instance": " https://clerk.example.com ",
            "clientId": "abc123",
            "scopes": "openid  email openid",
            "redirectPort": 0,
            "apiUrl": "http://localhost:5000/protected-endpoint",
            "sandbox": false
        })
    }

    #[test]
    fn save_settings_normalizes_and_writes_the_store_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("settings.json");
        let t = start(&store, None);
        let saved = invoke(&t.window, "save_settings", json!({ "settings": valid() }))
            .expect("valid settings save");
        assert_eq!(saved["instance"], "https://clerk.example.com");
        assert_eq!(saved["scopes"], "openid email");
        assert_eq!(saved["sandbox"], false);
        let file: Value =
            serde_json::from_str(&std::fs::read_to_string(&store).expect("store file written"))
                .expect("store file is JSON");
        assert_eq!(file["settings"]["clientId"], "abc123");
        assert!(file["settings"].get("sandbox").is_none(), "{file}");
        assert_eq!(invoke(&t.window, "load_settings", json!({})), Ok(saved));
    }

    #[test]
    fn save_settings_rejects_a_bad_api_url_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("settings.json");
        let t = start(&store, None);
        invoke(&t.window, "save_settings", json!({ "settings": valid() })).expect("saved");
        let before_file = std::fs::read_to_string(&store).expect("store file");
        let before = invoke(&t.window, "load_settings", json!({})).expect("loads");

        let mut bad = valid();
        bad["apiUrl"] = json!("notaurl");
        bad["clientId"] = json!("changed");
        let error = invoke(&t.window, "save_settings", json!({ "settings": bad }))
            .expect_err("notaurl is refused");
        assert_eq!(error["kind"], "invalid_setting");
        assert_eq!(error["field"], "apiUrl");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("notaurl")),
            "{error}"
        );

        assert_eq!(invoke(&t.window, "load_settings", json!({})), Ok(before));
        assert_eq!(
            std::fs::read_to_string(&store).expect("store file"),
            before_file
        );
    }

    #[test]
    fn load_settings_offers_the_sandbox_when_nothing_is_stored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = start(&dir.path().join("settings.json"), Some(sandbox()));
        let settings = invoke(&t.window, "load_settings", json!({})).expect("loads");
        assert_eq!(settings["sandbox"], true);
        assert_eq!(settings["instance"], "http://127.0.0.1:4000");
        assert_eq!(settings["clientId"], "keyhole-sandbox");
        assert_eq!(
            settings["apiUrl"],
            "http://127.0.0.1:5000/protected-endpoint"
        );
    }

    #[test]
    fn stored_settings_for_another_instance_win_over_the_sandbox() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("settings.json");
        {
            let t = start(&store, None);
            invoke(&t.window, "save_settings", json!({ "settings": valid() })).expect("saved");
        }
        let t = start(&store, Some(sandbox()));
        let settings = invoke(&t.window, "load_settings", json!({})).expect("loads");
        assert_eq!(settings["sandbox"], false);
        assert_eq!(settings["instance"], "https://clerk.example.com");
    }

    #[test]
    fn signed_out_commands_answer_plainly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = start(&dir.path().join("settings.json"), Some(sandbox()));
        // The launch-time restore finds nothing stored and finishes without the network.
        wait_until("the restore is over", || !t.app.service().is_restoring());
        assert_eq!(
            invoke(&t.window, "session", json!({})),
            Ok(json!({ "session": null, "restoring": false, "notice": null }))
        );
        let error = invoke(&t.window, "call_api", json!({})).expect_err("no session");
        assert_eq!(error["kind"], "not_signed_in");
        assert_eq!(
            invoke(&t.window, "sign_out", json!({})),
            Ok(json!({ "revoked": false, "message": null }))
        );
        let error = invoke(&t.window, "open_browser_again", json!({})).expect_err("no sign-in");
        assert_eq!(error["kind"], "no_sign_in");
        assert_eq!(
            invoke(&t.window, "cancel_sign_in", json!({})),
            Ok(Value::Null)
        );
    }

    #[test]
    fn without_a_keychain_the_ui_is_told_once_that_the_session_ends_with_the_app() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (t, events) = start_with_secrets(
            &dir.path().join("settings.json"),
            Some(sandbox()),
            Arc::new(NoKeychain::default()),
        );
        // The launch-time restore touches the store and finds nothing — before the page asked.
        wait_until("the restore is over", || !t.app.service().is_restoring());
        assert!(
            events.try_recv().is_err(),
            "no event before the page listens: it would be lost"
        );
        let first = invoke(&t.window, "session", json!({})).expect("session answers");
        let notice = first["notice"].as_str().unwrap_or_default();
        assert!(
            notice.contains("keychain is not available") && notice.contains("until Keyhole closes"),
            "{first}"
        );
        let again = invoke(&t.window, "session", json!({})).expect("session answers");
        assert_eq!(again["notice"], Value::Null, "said once, not on every call");
    }

    /// A keychain without a Secret Service whose reads wait until the test opens the gate, so
    /// the launch-time restore stays in progress for as long as the test needs.
    struct GatedKeychain {
        gate: std::sync::Mutex<mpsc::Receiver<()>>,
        inner: NoKeychain,
    }

    impl SecretStore for GatedKeychain {
        fn load(&self, account: &str) -> keyhole_core::Result<Option<Secret>> {
            let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            let _ = gate.recv_timeout(Duration::from_secs(10));
            self.inner.load(account)
        }
        fn save(&self, account: &str, secret: &Secret) -> keyhole_core::Result<()> {
            self.inner.save(account, secret)
        }
        fn delete(&self, account: &str) -> keyhole_core::Result<()> {
            self.inner.delete(account)
        }
        fn unavailable(&self) -> Option<String> {
            self.inner.unavailable()
        }
    }

    /// `window.__KEYHOLE_INITIAL__`'s value in the first-frame script.
    fn first_frame(t: &TestApp) -> Value {
        let script = crate::first_frame_script(t.app.handle());
        // Only the first page of the window gets it (a reload asks by command).
        let json = script
            .strip_prefix(
                "if (window.name !== \"keyhole-first-frame-used\") { \
                 window.name = \"keyhole-first-frame-used\"; window.__KEYHOLE_INITIAL__ = ",
            )
            .and_then(|rest| rest.strip_suffix("; }"))
            .unwrap_or_else(|| panic!("unexpected script: {script}"));
        serde_json::from_str(json).expect("the script's value is JSON")
    }

    #[test]
    fn the_first_frame_script_says_a_restore_runs_without_waiting_for_it_or_taking_its_notice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (open_gate, gate) = mpsc::channel();
        let keychain = GatedKeychain {
            gate: std::sync::Mutex::new(gate),
            inner: NoKeychain::default(),
        };
        let (t, events) = start_with_secrets(
            &dir.path().join("settings.json"),
            Some(sandbox()),
            Arc::new(keychain),
        );

        // The keychain read is blocked, yet the script is there, saying a restore runs.
        let initial = first_frame(&t);
        assert!(t.app.service().is_restoring());
        assert_eq!(initial["session"]["restoring"], true, "{initial}");
        assert_eq!(initial["session"]["session"], Value::Null);
        assert_eq!(
            Ok(initial["settings"].clone()),
            invoke(&t.window, "load_settings", json!({}))
        );
        assert_eq!(initial["settings"]["sandbox"], true);
        assert_eq!(initial["about"]["version"], env!("CARGO_PKG_VERSION"));
        assert!(initial["about"]["commit"]
            .as_str()
            .is_some_and(|c| !c.is_empty()));

        open_gate.send(()).expect("the restore waits at the gate");
        wait_until("the restore is over", || !t.app.service().is_restoring());
        let after = first_frame(&t);
        assert_eq!(after["session"]["restoring"], false, "{after}");
        assert_eq!(after["session"]["notice"], Value::Null);
        // Neither script marked the page as listening, and the notice is still the page's to take.
        assert!(events.try_recv().is_err(), "an event no page listened to");
        let state = invoke(&t.window, "session", json!({})).expect("session answers");
        assert!(
            state["notice"]
                .as_str()
                .is_some_and(|n| n.contains("keychain is not available")),
            "{state}"
        );
    }

    #[test]
    fn sign_in_with_invalid_settings_names_the_field() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = start(&dir.path().join("settings.json"), None);
        let error = invoke(&t.window, "sign_in", json!({})).expect_err("no instance set");
        assert_eq!(error["kind"], "invalid_setting");
        assert_eq!(error["field"], "instance");
    }

    /// A "provider" that accepts connections and never answers, so a sign-in stays pending.
    fn silent_provider() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let issuer = format!("http://{}", listener.local_addr().expect("addr"));
        (listener, issuer)
    }

    fn sign_in_in_background(t: &TestApp) -> mpsc::Receiver<Result<Value, Value>> {
        let (tx, rx) = mpsc::channel();
        let window = t.window.clone();
        std::thread::spawn(move || {
            let _ = tx.send(invoke(&window, "sign_in", json!({})));
        });
        rx
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn cancel_sign_in_ends_the_pending_sign_in_as_cancelled() {
        let (_provider, issuer) = silent_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let t = start(&dir.path().join("settings.json"), None);
        let mut settings = valid();
        settings["instance"] = json!(issuer);
        invoke(&t.window, "save_settings", json!({ "settings": settings })).expect("saved");

        let pending = sign_in_in_background(&t);
        wait_until("the sign-in is pending", || t.app.service().is_signing_in());
        invoke(&t.window, "cancel_sign_in", json!({})).expect("cancel answers");
        let error = pending
            .recv_timeout(Duration::from_secs(10))
            .expect("sign_in answers after cancel")
            .expect_err("a cancelled sign-in fails");
        assert_eq!(error["kind"], "cancelled");
        assert!(!t.app.service().is_signing_in());
        assert_eq!(
            invoke(&t.window, "session", json!({}))
                .expect("session answers")
                .get("session"),
            Some(&Value::Null)
        );
    }

    #[test]
    fn a_new_sign_in_cancels_the_stale_one() {
        let (_provider, issuer) = silent_provider();
        let dir = tempfile::tempdir().expect("temp dir");
        let t = start(&dir.path().join("settings.json"), None);
        let mut settings = valid();
        settings["instance"] = json!(issuer);
        invoke(&t.window, "save_settings", json!({ "settings": settings })).expect("saved");

        let first = sign_in_in_background(&t);
        wait_until("the first sign-in is pending", || {
            t.app.service().is_signing_in()
        });
        let second = sign_in_in_background(&t);
        let error = first
            .recv_timeout(Duration::from_secs(10))
            .expect("the first sign_in answers")
            .expect_err("the stale sign-in fails");
        assert_eq!(error["kind"], "cancelled");
        assert!(t.app.service().is_signing_in(), "the second one still runs");

        invoke(&t.window, "cancel_sign_in", json!({})).expect("cancel answers");
        let error = second
            .recv_timeout(Duration::from_secs(10))
            .expect("the second sign_in answers")
            .expect_err("cancelled");
        assert_eq!(error["kind"], "cancelled");
    }

    /// An API on 127.0.0.1 that answers each request with `answer` (None: never answers) and
    /// hands the raw request it read to the returned receiver.
    fn local_api(answer: Option<&'static str>) -> (String, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                stream
                    .set_read_timeout(Some(Duration::from_millis(300)))
                    .expect("timeout");
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..n]);
                }
                let _ = tx.send(String::from_utf8_lossy(&raw).into_owned());
                match answer {
                    Some(answer) => {
                        let _ = stream.write_all(answer.as_bytes());
                    }
                    None => std::thread::sleep(Duration::from_secs(30)),
                }
            }
        });
        (url, rx)
    }

    const OK_JSON: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nx-echo: yes\r\nconnection: close\r\n\r\n{\"ok\":true}";

    fn saved_app(dir: &Path) -> TestApp {
        let t = start(&dir.join("settings.json"), None);
        invoke(&t.window, "save_settings", json!({ "settings": valid() })).expect("saved");
        t
    }

    fn send_in_background(t: &TestApp, request: Value) -> mpsc::Receiver<Result<Value, Value>> {
        let (tx, rx) = mpsc::channel();
        let window = t.window.clone();
        std::thread::spawn(move || {
            let _ = tx.send(invoke(
                &window,
                "send_request",
                json!({ "request": request }),
            ));
        });
        rx
    }

    #[test]
    fn send_request_without_the_token_needs_no_session_and_history_keeps_no_credentials() {
        let (api, seen) = local_api(Some(OK_JSON));
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let request = json!({
            "method": "POST",
            "url": format!("{api}/echo"),
            "query": [{ "name": "a", "value": "1", "enabled": true }],
            "headers": [
                { "name": "Authorization", "value": "Bearer typed-secret", "enabled": true },
                { "name": "X-Off", "value": "no", "enabled": false }
            ],
            "body": { "kind": "json", "text": "{\"n\": 1}" },
            "sendToken": false
        });
        let answer = invoke(&t.window, "send_request", json!({ "request": request }))
            .expect("the API answers");
        assert_eq!(answer["status"], 200);
        assert_eq!(answer["method"], "POST");
        assert_eq!(answer["body"]["value"]["ok"], true);
        assert!(answer["headers"]
            .as_array()
            .is_some_and(|h| h.iter().any(|p| p[0] == "x-echo" && p[1] == "yes")));
        assert!(answer["ttfbMs"].is_u64() && answer["elapsedMs"].is_u64());
        let raw = seen
            .recv_timeout(Duration::from_secs(5))
            .expect("a request");
        assert!(raw.starts_with("POST /echo?a=1 "), "{raw}");
        assert!(raw.contains("content-type: application/json"), "{raw}");
        assert!(!raw.to_ascii_lowercase().contains("x-off"), "{raw}");

        let history = invoke(&t.window, "history", json!({})).expect("history");
        assert_eq!(history[0]["method"], "POST");
        assert_eq!(history[0]["url"], format!("{api}/echo?a=1"));
        assert_eq!(history[0]["status"], 200);
        assert_eq!(history[0]["request"]["headers"][0]["value"], "");
        assert_eq!(history[0]["request"]["body"]["text"], "{\"n\": 1}");
        let file = std::fs::read_to_string(dir.path().join("history.json")).expect("written");
        assert!(!file.contains("typed-secret"), "{file}");
        assert!(
            !file.contains("\"ok\""),
            "no answer body in the history: {file}"
        );

        // The history survives a restart.
        drop(t);
        let t = start(&dir.path().join("settings.json"), None);
        let again = invoke(&t.window, "history", json!({})).expect("history");
        assert_eq!(again, history);
        invoke(&t.window, "clear_history", json!({})).expect("cleared");
        assert_eq!(invoke(&t.window, "history", json!({})), Ok(json!([])));
    }

    #[test]
    fn send_request_with_the_token_needs_a_session() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let request = json!({ "url": "http://127.0.0.1:9/x" });
        let error = invoke(&t.window, "send_request", json!({ "request": request }))
            .expect_err("not signed in");
        assert_eq!(error["kind"], "not_signed_in");
    }

    #[test]
    fn a_bad_request_names_its_part_and_is_not_history() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let request = json!({
            "method": "POST", "url": "http://127.0.0.1:9/x", "sendToken": false,
            "body": { "kind": "json", "text": "{oops" }
        });
        let error = invoke(&t.window, "send_request", json!({ "request": request }))
            .expect_err("invalid JSON");
        assert_eq!(error["kind"], "invalid_setting");
        assert_eq!(error["field"], "body");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("line 1")),
            "{error}"
        );
        assert_eq!(invoke(&t.window, "history", json!({})), Ok(json!([])));
    }

    #[test]
    fn cancel_request_ends_the_pending_request_as_cancelled() {
        let (api, _seen) = local_api(None);
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let pending = send_in_background(&t, json!({ "url": api, "sendToken": false }));
        std::thread::sleep(Duration::from_millis(300));
        invoke(&t.window, "cancel_request", json!({})).expect("cancel answers");
        let error = pending
            .recv_timeout(Duration::from_secs(10))
            .expect("send_request answers after cancel")
            .expect_err("cancelled");
        assert_eq!(error["kind"], "cancelled");
        assert_eq!(error["message"], "the call was cancelled");
        let history = invoke(&t.window, "history", json!({})).expect("history");
        assert_eq!(history[0]["error"], "cancelled");
        assert_eq!(history[0]["status"], Value::Null);
    }

    #[test]
    fn a_request_that_outlives_its_timeout_is_reported_as_a_timeout() {
        let (api, _seen) = local_api(None);
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let started = Instant::now();
        let error = invoke(
            &t.window,
            "send_request",
            json!({ "request": { "url": api, "sendToken": false, "timeoutSecs": 1 } }),
        )
        .expect_err("times out");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(error["kind"], "api_timeout");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("1 s") || m.contains("second")),
            "{error}"
        );
    }

    #[test]
    fn copy_curl_puts_a_command_that_gets_the_token_from_keyhole_cli_on_the_clipboard() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let request = json!({
            "method": "POST", "url": "http://127.0.0.1:5000/echo",
            "headers": [{ "name": "X-Trace", "value": "a b", "enabled": true }],
            "body": { "kind": "json", "text": "{\"n\":1}" }
        });
        let copied = invoke(
            &t.window,
            "copy_curl",
            json!({ "request": request, "literalToken": false }),
        )
        .expect("copied");
        let command = copied["command"].as_str().expect("a command");
        assert_eq!(copied["literalToken"], false);
        assert!(command.starts_with("curl -sS -X POST"), "{command}");
        assert!(command.contains("'x-trace: a b'"), "{command}");
        assert!(
            command.contains("\"Authorization: Bearer $(keyhole-cli token --instance https://clerk.example.com --client-id abc123 --keychain-service dev.keyhole.test)\""),
            "{command}"
        );
        assert_eq!(*t.copied.lock().expect("lock"), vec![command.to_owned()]);

        // The literal token needs a session; nothing is copied without one.
        let error = invoke(
            &t.window,
            "copy_curl",
            json!({ "request": request, "literalToken": true }),
        )
        .expect_err("no session");
        assert_eq!(error["kind"], "not_signed_in");
        assert_eq!(t.copied.lock().expect("lock").len(), 1);
    }

    #[test]
    fn profiles_are_saved_listed_and_switched_each_with_its_own_settings() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        assert_eq!(
            invoke(&t.window, "profiles", json!({})),
            Ok(json!({ "names": [], "current": null }))
        );
        let saved = invoke(&t.window, "save_profile", json!({ "name": "staging" })).expect("saved");
        assert_eq!(saved, json!({ "names": ["staging"], "current": "staging" }));
        let file = std::fs::read_to_string(dir.path().join("profiles.json")).expect("written");
        assert!(
            file.contains("\"staging\"") && file.contains("abc123"),
            "{file}"
        );

        // Edits while in a profile go to that profile (keyhole-cli --profile sees them).
        let mut edited = valid();
        edited["clientId"] = json!("staging-client");
        invoke(&t.window, "save_settings", json!({ "settings": edited })).expect("saved");
        let file = std::fs::read_to_string(dir.path().join("profiles.json")).expect("written");
        assert!(file.contains("staging-client"), "{file}");

        // Another profile, made from other settings.
        let mut local = valid();
        local["clientId"] = json!("local-client");
        invoke(&t.window, "switch_profile", json!({ "name": null })).expect("no profile");
        invoke(&t.window, "save_settings", json!({ "settings": local })).expect("saved");
        invoke(&t.window, "save_profile", json!({ "name": "local" })).expect("saved");

        let view =
            invoke(&t.window, "switch_profile", json!({ "name": "staging" })).expect("switched");
        assert_eq!(view["profile"], "staging");
        assert_eq!(view["clientId"], "staging-client");
        assert_eq!(invoke(&t.window, "load_settings", json!({})), Ok(view));
        let error = invoke(&t.window, "switch_profile", json!({ "name": "nope" }))
            .expect_err("no such profile");
        assert_eq!(error["field"], "profile");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("staging, local")),
            "{error}"
        );

        // The current profile survives a restart.
        drop(t);
        let t = start(&dir.path().join("settings.json"), None);
        let view = invoke(&t.window, "load_settings", json!({})).expect("loads");
        assert_eq!(view["profile"], "staging");
        assert_eq!(view["clientId"], "staging-client");
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array()
            .expect("a list")
            .iter()
            .map(|r| r["name"].as_str().expect("named"))
            .collect()
    }

    #[test]
    fn save_request_needs_a_profile_then_keeps_the_request_without_credentials() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let request = json!({
            "method": "POST",
            "url": "http://127.0.0.1:5000/echo",
            "headers": [{ "name": "Cookie", "value": "session=secret-cookie", "enabled": true }],
            "body": { "kind": "json", "text": "{\"a\": 1}" },
            "sendToken": true,
            "timeoutSecs": 5
        });
        // No profile yet: nothing saved, and saving says what to do.
        assert_eq!(
            invoke(&t.window, "saved_requests", json!({})),
            Ok(json!([]))
        );
        let error = invoke(
            &t.window,
            "save_request",
            json!({ "name": "echo", "request": request }),
        )
        .expect_err("no profile");
        assert_eq!(error["kind"], "invalid_setting");
        assert_eq!(error["field"], "savedRequest");
        assert!(!dir.path().join("profiles.json").exists());

        invoke(&t.window, "save_profile", json!({ "name": "a" })).expect("profile");
        let list = invoke(
            &t.window,
            "save_request",
            json!({ "name": " echo ", "request": request }),
        )
        .expect("saved");
        assert_eq!(names(&list), ["echo"]);
        assert_eq!(list[0]["method"], "POST");
        assert_eq!(list[0]["headers"][0]["value"], "");
        let file = std::fs::read_to_string(dir.path().join("profiles.json")).expect("written");
        assert!(!file.contains("secret-cookie"), "{file}");
        let error = invoke(
            &t.window,
            "save_request",
            json!({ "name": "", "request": request }),
        )
        .expect_err("no name");
        assert_eq!(error["field"], "savedRequest");

        // Saving the profile's settings again keeps its requests, and a restart finds them.
        invoke(&t.window, "save_settings", json!({ "settings": valid() })).expect("saved");
        drop(t);
        let t = start(&dir.path().join("settings.json"), None);
        let list = invoke(&t.window, "saved_requests", json!({})).expect("listed");
        assert_eq!(names(&list), ["echo"]);
        // Another profile has its own (none).
        invoke(&t.window, "switch_profile", json!({ "name": null })).expect("no profile");
        invoke(&t.window, "save_profile", json!({ "name": "b" })).expect("profile");
        assert_eq!(
            invoke(&t.window, "saved_requests", json!({})),
            Ok(json!([]))
        );
    }

    #[test]
    fn delete_saved_request_removes_it_from_the_current_profile_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = saved_app(dir.path());
        let request = json!({ "method": "GET", "url": "http://127.0.0.1:5000/echo" });
        let error = invoke(&t.window, "delete_saved_request", json!({ "name": "x" }))
            .expect_err("no profile");
        assert_eq!(error["field"], "savedRequest");
        invoke(&t.window, "save_profile", json!({ "name": "a" })).expect("profile");
        for name in ["one", "two"] {
            invoke(
                &t.window,
                "save_request",
                json!({ "name": name, "request": request }),
            )
            .expect("saved");
        }
        let list =
            invoke(&t.window, "delete_saved_request", json!({ "name": "one" })).expect("deleted");
        assert_eq!(names(&list), ["two"]);
        // Deleting what is not there is not an error.
        let list =
            invoke(&t.window, "delete_saved_request", json!({ "name": "one" })).expect("no-op");
        assert_eq!(names(&list), ["two"]);
        let profiles = Profiles::at(dir.path().join("profiles.json"));
        let kept = profiles.get("a").expect("profile a").requests;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].name.as_deref(), Some("two"));
    }

    #[test]
    fn a_ten_kilobyte_instance_is_refused_and_not_saved() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("settings.json");
        let t = saved_app(dir.path());
        let before = std::fs::read_to_string(&store).expect("store file");
        let mut long = valid();
        long["instance"] = json!(format!("https://{}.example.com", "a".repeat(10 * 1024)));
        let error =
            invoke(&t.window, "save_settings", json!({ "settings": long })).expect_err("too long");
        assert_eq!(error["field"], "instance");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most 2048")),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&store).expect("store file"), before);
    }

    // --- set-up: from the API URL (RFC 9728), registration (RFC 7591) ---------------------

    fn only_the_api_url(api_url: &str) -> Value {
        json!({ "instance": "", "clientId": "", "scopes": "", "redirectPort": 0, "apiUrl": api_url, "resource": "" })
    }

    /// Starts the app with a saved configuration; returns it and the store file's text.
    fn started_with_saved_settings(dir: &Path) -> (TestApp, Arc<MemoryStore>, String) {
        let secrets = Arc::new(MemoryStore::default());
        let store = dir.join("settings.json");
        let (t, _) = start_with_secrets(&store, None, secrets.clone());
        invoke(&t.window, "save_settings", json!({ "settings": valid() })).expect("saved");
        let before = std::fs::read_to_string(&store).expect("store file");
        (t, secrets, before)
    }

    fn assert_nothing_saved(t: &TestApp, dir: &Path, before: &str) {
        assert_eq!(
            std::fs::read_to_string(dir.join("settings.json")).expect("store file"),
            before
        );
        let current = invoke(&t.window, "load_settings", json!({})).expect("loads");
        assert_eq!(current["instance"], "https://clerk.example.com");
        assert_eq!(current["clientId"], "abc123");
    }

    #[test]
    fn set_up_from_api_with_a_bad_api_url_names_the_field_and_saves_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (t, _, before) = started_with_saved_settings(dir.path());
        let error = invoke(
            &t.window,
            "set_up_from_api",
            json!({ "settings": only_the_api_url("notaurl") }),
        )
        .expect_err("notaurl is refused");
        assert_eq!(error["kind"], "invalid_setting", "{error}");
        assert_eq!(error["field"], "apiUrl", "{error}");
        assert_nothing_saved(&t, dir.path(), &before);
    }

    #[test]
    fn set_up_from_an_api_that_says_nothing_about_sign_in_is_one_sentence_and_saves_nothing() {
        let adversary = keyhole_sandbox::adversary::Adversary::start().expect("adversary");
        let dir = tempfile::tempdir().expect("temp dir");
        let (t, secrets, before) = started_with_saved_settings(dir.path());
        let error = invoke(
            &t.window,
            "set_up_from_api",
            json!({ "settings": only_the_api_url(&adversary.api_url()) }),
        )
        .expect_err("no protected-resource metadata");
        assert_eq!(error["kind"], "discovery", "{error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("does not say how to sign in to it"),
            "{error}"
        );
        assert_nothing_saved(&t, dir.path(), &before);
        assert_eq!(stored_registration(&secrets, &adversary.issuer), None);
    }

    #[test]
    fn register_client_without_a_registration_endpoint_names_the_client_id_and_saves_nothing() {
        let adversary = keyhole_sandbox::adversary::Adversary::start().expect("adversary");
        let dir = tempfile::tempdir().expect("temp dir");
        let (t, secrets, before) = started_with_saved_settings(dir.path());
        let mut settings = valid();
        settings["instance"] = json!(adversary.issuer);
        settings["clientId"] = json!("");
        let error = invoke(
            &t.window,
            "register_client",
            json!({ "settings": settings }),
        )
        .expect_err("the provider offers no registration");
        assert_eq!(error["kind"], "invalid_setting", "{error}");
        assert_eq!(error["field"], "clientId", "{error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("does not let apps register themselves"),
            "{error}"
        );
        assert_nothing_saved(&t, dir.path(), &before);
        assert_eq!(stored_registration(&secrets, &adversary.issuer), None);
    }

    #[test]
    fn register_client_with_a_client_id_given_only_saves() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = start(&dir.path().join("settings.json"), None);
        let done = invoke(&t.window, "register_client", json!({ "settings": valid() }))
            .expect("a given client ID needs no provider");
        assert_eq!(done["settings"]["clientId"], "abc123");
        assert_eq!(done["note"], Value::Null);
    }

    /// The registration stored for `issuer`, if any.
    fn stored_registration(secrets: &MemoryStore, issuer: &str) -> Option<String> {
        secrets
            .load(&keyhole_core::registration::registration_account(issuer))
            .expect("loads")
            .map(|entry| entry.secret().to_owned())
    }

    /// The provider forgets the client Keyhole registered (RFC 7592 DELETE).
    fn provider_forgets(secrets: &MemoryStore, issuer: &str) {
        let entry = stored_registration(secrets, issuer).expect("a stored registration");
        keyhole_sandbox::forget_registration(&entry).expect("the provider forgets it");
    }

    #[test]
    fn a_registered_client_the_provider_forgot_is_registered_again_before_a_sign_in() {
        let sandbox = keyhole_sandbox::Sandbox::start().expect("the sandbox (Node)");
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Arc::new(MemoryStore::default());
        let (t, events) = start_with_secrets(
            &dir.path().join("settings.json"),
            None,
            Arc::clone(&secrets) as Arc<dyn SecretStore>,
        );
        let mut settings = valid();
        settings["instance"] = json!(sandbox.issuer);
        settings["clientId"] = json!("");
        settings["apiUrl"] = json!(sandbox.api.lax);
        let done = invoke(
            &t.window,
            "register_client",
            json!({ "settings": settings }),
        )
        .expect("registered");
        let first = done["settings"]["clientId"]
            .as_str()
            .expect("a client ID")
            .to_owned();
        invoke(&t.window, "session", json!({})).expect("the page asked");

        provider_forgets(&secrets, &sandbox.issuer);
        let pending = sign_in_in_background(&t);
        wait_until("the sign-in waits for the browser", || {
            t.app.service().is_signing_in()
        });
        let now = invoke(&t.window, "load_settings", json!({})).expect("loads");
        let second = now["clientId"].as_str().expect("a client ID");
        assert_ne!(second, first, "registered again, and saved");
        // The page hears it as a notice with the session state.
        let told =
            std::iter::from_fn(|| events.recv_timeout(Duration::from_secs(5)).ok()).any(|state| {
                state["notice"]
                    .as_str()
                    .is_some_and(|n| n.contains("registered again"))
            });
        assert!(told, "the user was told the client was registered again");
        invoke(&t.window, "cancel_sign_in", json!({})).expect("cancel answers");
        let error = pending
            .recv_timeout(Duration::from_secs(10))
            .expect("sign_in answers")
            .expect_err("cancelled");
        assert_eq!(error["kind"], "cancelled");
    }
}
