//! The commands the UI invokes (see `ui/api.js`). Each one forwards to a manager in
//! `settings_ext` or `session_ext`; build.rs lists them so the capability must allow each.

use keyhole_core::{ApiResult, SessionSummary, Settings, SignOutOutcome};
use tauri::{AppHandle, Runtime};

use crate::error::Result;
use crate::session_ext::{SessionExt, SessionState};
use crate::settings_ext::{SettingsExt, SettingsView};

/// The current settings, and whether they are the local sandbox's.
#[tauri::command]
pub fn load_settings<R: Runtime>(app: AppHandle<R>) -> SettingsView {
    app.settings().view()
}

/// Validates, normalizes and stores `settings`; a field error changes nothing.
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SettingsView> {
    let (view, config) = app.settings().save(&app, &settings)?;
    // Another instance or client switches to that one's session (restored if one is stored).
    app.sessions().settings_changed(&app, &config);
    Ok(view)
}

/// The session, whether a stored one is being restored, and any notice to show once.
#[tauri::command]
pub fn session<R: Runtime>(app: AppHandle<R>) -> SessionState {
    app.sessions().state_for_ui()
}

/// Signs in through the system browser; emits `sign-in-progress` while it waits.
#[tauri::command]
pub async fn sign_in<R: Runtime>(app: AppHandle<R>) -> Result<SessionSummary> {
    app.sessions().sign_in(&app).await
}

/// Cancels the pending sign-in (its `sign_in` fails with kind `cancelled`).
#[tauri::command]
pub fn cancel_sign_in<R: Runtime>(app: AppHandle<R>) {
    app.sessions().cancel_sign_in();
}

/// Opens the pending sign-in's URL in the browser again.
#[tauri::command]
pub async fn open_browser_again<R: Runtime>(app: AppHandle<R>) -> Result<()> {
    app.sessions().open_browser_again()
}

/// Ends the session.
#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>) -> SignOutOutcome {
    app.sessions().sign_out(&app).await
}

/// Calls the API in the settings with the session's access token.
#[tauri::command]
pub async fn call_api<R: Runtime>(app: AppHandle<R>) -> Result<ApiResult> {
    app.sessions().call_api(&app).await
}

#[cfg(test)]
mod tests {
    //! Each command through Tauri's IPC layer (`tauri::test`), with a temp store and a browser
    //! that opens nothing. No network: a sign-in is pointed at a local port that never answers.

    use std::net::TcpListener;
    use std::path::Path;
    use std::sync::mpsc;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
    use tauri::webview::InvokeRequest;
    use tauri::{App, Listener, WebviewWindow, WebviewWindowBuilder};
    use url::Url;

    use keyhole_core::{MemoryStore, SecretStore};

    use crate::{builder, init, Launch, SandboxDefaults, SessionExt};

    /// Memory, as when the OS keychain could not be opened.
    #[derive(Default)]
    struct NoKeychain(MemoryStore);

    impl SecretStore for NoKeychain {
        fn load(&self, account: &str) -> keyhole_core::Result<Option<String>> {
            self.0.load(account)
        }
        fn save(&self, account: &str, secret: &str) -> keyhole_core::Result<()> {
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
        let launch = Launch {
            store_path: store.to_path_buf(),
            sandbox,
            browser: Arc::new(|_: &Url| -> Result<(), String> { Ok(()) }),
            sign_in_timeout: Duration::from_secs(30),
            secrets,
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
        (TestApp { app, window }, events)
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
        wait_until("the restore is over", || !t.app.sessions().is_restoring());
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
        wait_until("the restore is over", || !t.app.sessions().is_restoring());
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
        fn load(&self, account: &str) -> keyhole_core::Result<Option<String>> {
            let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            let _ = gate.recv_timeout(Duration::from_secs(10));
            self.inner.load(account)
        }
        fn save(&self, account: &str, secret: &str) -> keyhole_core::Result<()> {
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
        assert!(t.app.sessions().is_restoring());
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
        wait_until("the restore is over", || !t.app.sessions().is_restoring());
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
        wait_until("the sign-in is pending", || {
            t.app.sessions().is_signing_in()
        });
        invoke(&t.window, "cancel_sign_in", json!({})).expect("cancel answers");
        let error = pending
            .recv_timeout(Duration::from_secs(10))
            .expect("sign_in answers after cancel")
            .expect_err("a cancelled sign-in fails");
        assert_eq!(error["kind"], "cancelled");
        assert!(!t.app.sessions().is_signing_in());
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
            t.app.sessions().is_signing_in()
        });
        let second = sign_in_in_background(&t);
        let error = first
            .recv_timeout(Duration::from_secs(10))
            .expect("the first sign_in answers")
            .expect_err("the stale sign-in fails");
        assert_eq!(error["kind"], "cancelled");
        assert!(
            t.app.sessions().is_signing_in(),
            "the second one still runs"
        );

        invoke(&t.window, "cancel_sign_in", json!({})).expect("cancel answers");
        let error = second
            .recv_timeout(Duration::from_secs(10))
            .expect("the second sign_in answers")
            .expect_err("cancelled");
        assert_eq!(error["kind"], "cancelled");
    }
}
