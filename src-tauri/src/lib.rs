//! Keyhole's desktop shell: a thin layer of Tauri commands over `keyhole-core`.
//!
//! - `commands`: what the UI invokes, one line each.
//! - `settings_ext`: settings in `settings.json` (tauri-plugin-store), sandbox defaults, the engine.
//! - `session_ext`: the session (refresh, keychain, revocation via keyhole-core) and the pending sign-in.
//! - `error`: the one error type, sent to the UI as `{kind, message, field?}`.

mod commands;
mod error;
mod session_ext;
mod settings_ext;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keyhole_core::{
    Browser, Keychain, KeychainOrMemory, SecretStore, SystemBrowser, DEFAULT_SIGN_IN_TIMEOUT,
};
use tauri::{AppHandle, Builder, Manager, Runtime};

pub use error::{Error, Result};
pub use session_ext::{
    SessionExt, SessionManager, SessionState, SESSION_CHANGED, SIGN_IN_PROGRESS,
};
pub use settings_ext::{
    SandboxDefaults, SetUpView, SettingsExt, SettingsManager, SettingsView, STORE_FILE,
};

/// What the shell takes from its surroundings. [`Launch::from_env`] is the real app's; tests
/// build their own (a temp store, a fake browser) instead of changing the process environment.
pub struct Launch {
    /// The settings store; a relative path is inside the app data dir.
    pub store_path: PathBuf,
    /// The local sandbox, when `KEYHOLE_SANDBOX` names its ready JSON.
    pub sandbox: Option<SandboxDefaults>,
    /// What opens the sign-in URL.
    pub browser: Arc<dyn Browser>,
    /// How long a sign-in waits for the browser.
    pub sign_in_timeout: Duration,
    /// Where refresh tokens are kept: the OS keychain, or memory when there is none.
    pub secrets: Arc<dyn SecretStore>,
}

impl Launch {
    /// `settings.json` in the app data dir, the system browser, the OS keychain (service
    /// `KEYHOLE_KEYCHAIN_SERVICE`, default shared with keyhole-cli), and the sandbox if
    /// `KEYHOLE_SANDBOX` names one.
    pub fn from_env() -> Launch {
        let service = std::env::var("KEYHOLE_KEYCHAIN_SERVICE")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| Keychain::SERVICE.to_owned());
        Launch {
            store_path: PathBuf::from(STORE_FILE),
            sandbox: SandboxDefaults::from_env(),
            browser: Arc::new(SystemBrowser),
            sign_in_timeout: DEFAULT_SIGN_IN_TIMEOUT,
            // Opened on first use, off the startup path.
            secrets: Arc::new(KeychainOrMemory::new(&service)),
        }
    }
}

/// Adds Keyhole's plugins and commands to `builder`; [`init`] adds its state.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::default().build())
        .invoke_handler(tauri::generate_handler![
            commands::load_settings,
            commands::save_settings,
            commands::set_up_from_api,
            commands::register_client,
            commands::session,
            commands::sign_in,
            commands::sign_in_device,
            commands::cancel_sign_in,
            commands::open_browser_again,
            commands::sign_out,
            commands::call_api,
        ])
}

/// Builds the app's state, one `manage` per type: the settings (read from the store) and the
/// session, whose stored copy is then restored in the background. Reads one local file; nothing
/// here waits on the network or the keychain.
pub fn init<R: Runtime>(app: &AppHandle<R>, launch: Launch) -> Result<()> {
    let stored = settings_ext::load_stored(app, &launch.store_path)?;
    app.manage(SettingsManager::new(
        launch.store_path,
        stored,
        launch.sandbox,
    ));
    app.manage(SessionManager::new(
        launch.browser,
        launch.sign_in_timeout,
        launch.secrets,
    ));
    app.sessions().restore_in_background(app);
    Ok(())
}

/// Starts the desktop app.
pub fn run() {
    init_tracing();
    let launch = Launch::from_env();
    let app = builder(tauri::Builder::default()).setup(|app| Ok(init(app.handle(), launch)?));
    if let Err(error) = app.run(tauri::generate_context!()) {
        tracing::error!(%error, "Keyhole could not start");
        eprintln!("Keyhole could not start: {error}");
        std::process::exit(1);
    }
}

/// Logs to stderr; `KEYHOLE_LOG` takes an `EnvFilter` (default: Keyhole at info, the rest at warn).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYHOLE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,keyhole_app=info,keyhole_core=info")
    });
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
}
