//! Fixtures of the shell's tests: the app started the way `keyhole_app::run` starts it, but on
//! Tauri's mock runtime, with a temp folder for its files, secrets in memory, a browser that
//! opens nothing and a clipboard the test reads. Tests reach it only as the page does: commands
//! through the IPC layer, `session-changed` events, and the first-frame script.

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
use tempfile::TempDir;
use url::Url;

use keyhole_app::{builder, init, Launch, SandboxDefaults};
use keyhole_core::{MemoryStore, Profiles, SecretStore};
use keyhole_sandbox::adversary::Adversary;

/// The event `ui/api.js` listens to for the session.
const SESSION_CHANGED: &str = "session-changed";

/// Memory, as when the OS keychain could not be opened.
#[derive(Default)]
pub struct NoKeychain(MemoryStore);

impl SecretStore for NoKeychain {
    fn load(&self, account: &str) -> keyhole_core::Result<Option<keyhole_core::Secret>> {
        self.0.load(account)
    }
    fn save(&self, account: &str, secret: &keyhole_core::Secret) -> keyhole_core::Result<()> {
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

/// A keychain without a Secret Service whose reads say they started, then wait until the test
/// opens the gate, so the launch-time restore stays in progress for as long as the test needs.
pub struct GatedKeychain {
    gate: Mutex<mpsc::Receiver<()>>,
    reading: Mutex<mpsc::Sender<()>>,
    inner: NoKeychain,
}

impl GatedKeychain {
    /// The keychain, the sender that opens its gate, and the receiver told of each read.
    pub fn new() -> (GatedKeychain, mpsc::Sender<()>, mpsc::Receiver<()>) {
        let (open_gate, gate) = mpsc::channel();
        let (reading, reads) = mpsc::channel();
        let keychain = GatedKeychain {
            gate: Mutex::new(gate),
            reading: Mutex::new(reading),
            inner: NoKeychain::default(),
        };
        (keychain, open_gate, reads)
    }
}

impl SecretStore for GatedKeychain {
    fn load(&self, account: &str) -> keyhole_core::Result<Option<keyhole_core::Secret>> {
        let _ = self
            .reading
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(());
        let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        let _ = gate.recv_timeout(Duration::from_secs(10));
        self.inner.load(account)
    }
    fn save(&self, account: &str, secret: &keyhole_core::Secret) -> keyhole_core::Result<()> {
        self.inner.save(account, secret)
    }
    fn delete(&self, account: &str) -> keyhole_core::Result<()> {
        self.inner.delete(account)
    }
    fn unavailable(&self) -> Option<String> {
        self.inner.unavailable()
    }
}

/// The app, started in a temp folder of its own that outlives a restart.
pub struct TestApp {
    pub app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    /// What copy_curl put on the clipboard.
    pub copied: Arc<Mutex<Vec<String>>>,
    /// Every `session-changed` payload, from before the launch-time restore begins.
    pub events: mpsc::Receiver<Value>,
    /// Last, so it is removed after the app has quit.
    dir: TempDir,
}

impl TestApp {
    /// The folder of the app's files (settings.json, history.json, profiles.json).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The text of `file` in [`TestApp::dir`], which must exist.
    pub fn read(&self, file: &str) -> String {
        let path = self.dir().join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Quits and starts again on the same files, with new memory for secrets.
    pub fn restart(self) -> TestApp {
        self.quit_and_start(None)
    }

    /// [`TestApp::restart`] with `KEYHOLE_SANDBOX` naming `sandbox`.
    pub fn restart_with_sandbox(self, sandbox: SandboxDefaults) -> TestApp {
        self.quit_and_start(Some(sandbox))
    }

    fn quit_and_start(self, sandbox: Option<SandboxDefaults>) -> TestApp {
        let TestApp {
            app,
            window,
            copied,
            events,
            dir,
        } = self;
        // The old app is gone before the new one reads the files, as across a real restart.
        drop((app, window, copied, events));
        start_in(dir, sandbox, Arc::new(MemoryStore::default()))
    }

    /// Calls `cmd` as the page does; the answer or the error, as JSON.
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke(&self.window, cmd, args)
    }

    /// Calls `cmd`, which takes `{ settings }`, with `settings`.
    pub fn invoke_with_settings(&self, cmd: &str, settings: Value) -> Result<Value, Value> {
        self.invoke(cmd, json!({ "settings": settings }))
    }

    /// Calls `cmd` on another thread; its answer arrives on the receiver.
    pub fn invoke_in_background(
        &self,
        cmd: &'static str,
        args: Value,
    ) -> mpsc::Receiver<Result<Value, Value>> {
        let (tx, rx) = mpsc::channel();
        let window = self.window.clone();
        std::thread::spawn(move || {
            let _ = tx.send(invoke(&window, cmd, args));
        });
        rx
    }
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

/// Starts the app with its files in a new temp folder and its secrets in memory.
pub fn start(sandbox: Option<SandboxDefaults>) -> TestApp {
    start_with_secrets(sandbox, Arc::new(MemoryStore::default()))
}

/// Starts the app with its files in a new temp folder and its secrets in `secrets`.
pub fn start_with_secrets(
    sandbox: Option<SandboxDefaults>,
    secrets: Arc<dyn SecretStore>,
) -> TestApp {
    start_in(tempfile::tempdir().expect("temp dir"), sandbox, secrets)
}

fn start_in(
    dir: TempDir,
    sandbox: Option<SandboxDefaults>,
    secrets: Arc<dyn SecretStore>,
) -> TestApp {
    let copied = Arc::new(Mutex::new(Vec::new()));
    let clipboard = Arc::clone(&copied);
    let launch = Launch {
        store_path: dir.path().join("settings.json"),
        sandbox,
        browser: Arc::new(|_: &Url| -> Result<(), String> { Ok(()) }),
        sign_in_timeout: Duration::from_secs(30),
        secrets,
        keychain_service: "dev.keyhole.test".into(),
        history_path: dir.path().join("history.json"),
        profiles: Some(Profiles::at(dir.path().join("profiles.json"))),
        clipboard: Some(Arc::new(move |text: String| {
            clipboard.lock().expect("lock").push(text);
            Ok(())
        })),
    };
    let app = builder(mock_builder())
        .build(mock_context(noop_assets()))
        .expect("the app builds");
    let (tx, events) = mpsc::channel();
    app.listen_any(SESSION_CHANGED, move |event| {
        let _ = tx.send(serde_json::from_str(event.payload()).unwrap_or(Value::Null));
    });
    init(app.handle(), launch).expect("the state builds");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the window builds");
    TestApp {
        app,
        window,
        copied,
        events,
        dir,
    }
}

/// Starts the app with [`valid`] settings saved.
pub fn saved_app() -> TestApp {
    let t = start(None);
    t.invoke_with_settings("save_settings", valid())
        .expect("saved");
    t
}

/// Starts the app with [`valid`] settings saved; returns it, its secrets and the store file's text.
pub fn started_with_saved_settings() -> (TestApp, Arc<MemoryStore>, String) {
    let secrets = Arc::new(MemoryStore::default());
    let t = start_with_secrets(None, secrets.clone());
    t.invoke_with_settings("save_settings", valid())
        .expect("saved");
    let before = t.read("settings.json");
    (t, secrets, before)
}

/// Neither the store file nor the settings the app holds changed since `before`.
pub fn assert_nothing_saved(t: &TestApp, before: &str) {
    assert_eq!(t.read("settings.json"), before);
    let current = t.invoke("load_settings", json!({})).expect("loads");
    assert_eq!(current["instance"], "https://clerk.example.com");
    assert_eq!(current["clientId"], "abc123");
}

/// Runs set-up command `cmd` with the settings `settings_for` makes for the sandbox's adversarial
/// provider, in an app with [`valid`] settings saved; the command must fail and save nothing (no
/// settings, no registration). Returns the error, for the test to say which rule refused.
pub fn refused_by_the_adversary(
    cmd: &str,
    settings_for: impl FnOnce(&Adversary) -> Value,
) -> Value {
    let adversary = Adversary::start().expect("adversary");
    let (t, secrets, before) = started_with_saved_settings();
    let error = t
        .invoke_with_settings(cmd, settings_for(&adversary))
        .expect_err("the adversary's answer is refused");
    assert_nothing_saved(&t, &before);
    assert_eq!(stored_registration(&secrets, &adversary.issuer), None);
    error
}

/// `error`'s message contains `text`.
pub fn assert_message_has(error: &Value, text: &str) {
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(text), "{error}");
}

pub fn sandbox() -> SandboxDefaults {
    SandboxDefaults {
        issuer: "http://127.0.0.1:4000".into(),
        client_id: "keyhole-sandbox".into(),
        api_url: "http://127.0.0.1:5000/protected-endpoint".into(),
        backend_api: "http://127.0.0.1:4001".into(),
    }
}

pub fn valid() -> Value {
    json!({
        "instance": " https://clerk.example.com ",
        "clientId": "abc123",
        "scopes": "openid  email openid",
        "redirectPort": 0,
        "apiUrl": "http://localhost:5000/protected-endpoint",
        "sandbox": false
    })
}

pub fn only_the_api_url(api_url: &str) -> Value {
    json!({ "instance": "", "clientId": "", "scopes": "", "redirectPort": 0, "apiUrl": api_url, "resource": "" })
}

/// `window.__KEYHOLE_INITIAL__`'s value in the first-frame script.
pub fn first_frame(t: &TestApp) -> Value {
    let script = keyhole_app::first_frame_script(t.app.handle());
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

/// Whether a stored session is being restored, read from the first-frame script: unlike the
/// `session` command it takes no notice and does not mark the page as listening.
pub fn restoring(t: &TestApp) -> bool {
    first_frame(t)["session"]["restoring"]
        .as_bool()
        .expect("the first frame says whether a restore runs")
}

/// Whether a sign-in is pending: `open_browser_again` refuses with `no_sign_in` exactly when none
/// is. (It may open the test's browser, which opens nothing.)
pub fn signing_in(t: &TestApp) -> bool {
    match t.invoke("open_browser_again", json!({})) {
        Ok(_) => true,
        Err(error) if error["kind"] == "no_sign_in" => false,
        // Pending, but still fetching the provider's metadata: no URL to open yet.
        Err(error) if error["kind"] == "browser" => true,
        Err(error) => panic!("open_browser_again: {error}"),
    }
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A "provider" that accepts connections and never answers, so a sign-in stays pending.
pub fn silent_provider() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, issuer)
}

/// Starts the app with [`valid`] settings whose instance is `issuer`.
pub fn started_against(issuer: &str) -> TestApp {
    let t = start(None);
    let mut settings = valid();
    settings["instance"] = json!(issuer);
    t.invoke_with_settings("save_settings", settings)
        .expect("saved");
    t
}

/// Starts `sign_in` in the background and waits until it is pending.
pub fn pending_sign_in(t: &TestApp, what: &str) -> mpsc::Receiver<Result<Value, Value>> {
    let pending = t.invoke_in_background("sign_in", json!({}));
    wait_until(what, || signing_in(t));
    pending
}

/// The answer of a command started in the background, which must fail: its error.
pub fn error_of(answer: &mpsc::Receiver<Result<Value, Value>>, what: &str) -> Value {
    answer
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what} answers"))
        .expect_err(what)
}

/// An API on 127.0.0.1 that answers each request with `answer` (None: never answers) and
/// hands the raw request it read to the returned receiver.
pub fn local_api(answer: Option<&'static str>) -> (String, mpsc::Receiver<String>) {
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

pub const OK_JSON: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nx-echo: yes\r\nconnection: close\r\n\r\n{\"ok\":true}";

/// The names of a list of saved requests.
pub fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["name"].as_str().expect("named"))
        .collect()
}

/// The registration stored for `issuer`, if any.
pub fn stored_registration(secrets: &MemoryStore, issuer: &str) -> Option<String> {
    secrets
        .load(&keyhole_core::registration::registration_account(issuer))
        .expect("loads")
        .map(|entry| entry.secret().to_owned())
}

/// The provider forgets the client Keyhole registered (RFC 7592 DELETE).
pub fn provider_forgets(secrets: &MemoryStore, issuer: &str) {
    let entry = stored_registration(secrets, issuer).expect("a stored registration");
    keyhole_sandbox::forget_registration(&entry).expect("the provider forgets it");
}
