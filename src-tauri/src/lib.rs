//! Keyhole's desktop shell: a thin layer of Tauri commands over `keyhole-core`.
//!
//! - `commands`: what the UI invokes, one line each.
//! - `service_ext`: the engine's [`keyhole_core::Service`] (settings, set-up, sign-in, session,
//!   requests: every decision), registered with the app, its events forwarded to the window.
//! - `settings_ext`: `settings.json` (tauri-plugin-store) as the service's settings store, and
//!   the sandbox's defaults.
//! - `request_ext`: the request editor's sends (recorded in the history) and copy as curl.
//! - `mcp_ext`: the explorer's MCP mode (a server's tools, a tool call, resources and prompts, the
//!   authorization report) through the engine.
//! - `history_ext`: the last 100 requests in `history.json` (requests only, never a token).
//! - `tabs_ext`: the window's open tabs in `tabs.json` (drafts and status lines, never a token).
//! - `answer_ext`: the engine's answers (the last of each tab), served to the window's viewer.
//! - `clipboard`: the system clipboard (GTK on Linux), for copy as curl and the answer's Copy.
//! - `error`: the one error type, sent to the UI as `{kind, message, field?}`.

mod answer_ext;
mod clipboard;
#[macro_use]
mod command_list;
mod commands;
mod error;
mod history_ext;
mod mcp_ext;
mod request_ext;
mod service_ext;
mod settings_ext;
mod tabs_ext;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keyhole_core::{
    Browser, Keychain, KeychainOrMemory, Profiles, SecretStore, Service, ServiceOptions,
    SystemBrowser, DEFAULT_SIGN_IN_TIMEOUT,
};
use serde::Serialize;
use tauri::{AppHandle, Builder, Manager, Runtime, WebviewWindowBuilder};

pub use answer_ext::{AnswerExt, Sent};
pub use error::{Error, Result};
pub use history_ext::{HistoryEntry, HistoryExt, HistoryManager, HISTORY_FILE, HISTORY_LIMIT};
pub use request_ext::{Clipboard, CurlCopy, RequestExt, RequestManager};
pub use service_ext::{ServiceExt, SessionState, SESSION_CHANGED, SIGN_IN_PROGRESS};
pub use settings_ext::{SandboxDefaults, SetUpView, SettingsView, STORE_FILE};
pub use tabs_ext::{SavedTab, Tabs, TabsExt, TabsManager, TABS_FILE, TABS_LIMIT};

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
    /// The keychain service name (named in copied curl commands when not the default).
    pub keychain_service: String,
    /// The request history store; a relative path is inside the app data dir.
    pub history_path: PathBuf,
    /// The profiles file shared with keyhole-cli, when there is a config dir.
    pub profiles: Option<Profiles>,
    /// Where copied curl commands go; None is the system clipboard.
    pub clipboard: Option<Clipboard>,
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
            keychain_service: service,
            history_path: PathBuf::from(HISTORY_FILE),
            profiles: Profiles::open_default()
                .inspect_err(|error| tracing::warn!(%error, "no profiles"))
                .ok(),
            clipboard: None,
        }
    }
}

/// Adds Keyhole's plugins and commands to `builder`; [`init`] adds its state.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_store::Builder::default().build())
        .on_page_load(|_, payload| match payload.event() {
            tauri::webview::PageLoadEvent::Started => startup_mark("page load started"),
            // The load event: the document, the styles and every module have run.
            tauri::webview::PageLoadEvent::Finished => startup_mark("page load finished"),
        })
        .invoke_handler({
            // Every command of command_list.rs, as `commands::<name>`.
            macro_rules! handler {
                ($($name:ident),* $(,)?) => {
                    tauri::generate_handler![$(commands::$name),*]
                };
            }
            with_commands!(handler)
        })
}

/// Builds the app's state, one `manage` per type: the engine's service over the stored settings,
/// the history, the clipboard; then the stored session is restored in the background. Reads one
/// local file; nothing here waits on the network or the keychain.
pub fn init<R: Runtime>(app: &AppHandle<R>, launch: Launch) -> Result<()> {
    let stored = settings_ext::load_stored(app, &launch.store_path)?;
    let settings = settings_ext::with_sandbox_defaults(
        stored.settings.unwrap_or_default(),
        launch.sandbox.as_ref(),
    );
    app.manage(settings_ext::Sandbox(launch.sandbox));
    app.manage(service_ext::Notices::default());
    app.manage(service_ext::LaunchClerk::default());
    app.manage(HistoryManager::load(app, &launch.history_path)?);
    // Beside the history, so a test's own history dir holds its tabs too.
    app.manage(TabsManager::load(
        app,
        &launch.history_path.with_file_name(TABS_FILE),
    )?);
    app.manage(RequestManager::new(launch.clipboard));
    app.manage(keyhole_core::Answers::default());
    app.manage(Service::new(ServiceOptions {
        settings,
        profile: stored.profile,
        profiles: launch.profiles,
        secrets: launch.secrets,
        keychain_service: launch.keychain_service,
        browser: launch.browser,
        sign_in_timeout: launch.sign_in_timeout,
        settings_store: Some(Arc::new(settings_ext::SettingsFile {
            app: app.clone(),
            path: launch.store_path,
        })),
        events: service_ext::forward_events(app),
        background: Some(tauri::async_runtime::handle().inner().clone()),
        trusted_endpoint_origins: Vec::new(),
        cleartext_api_origins: Vec::new(),
    }));
    app.service().restore_in_background();
    service_ext::read_clerk_session_at_launch(app);
    Ok(())
}

/// The version and the commit this binary was built from (build.rs), for the About line.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    /// The package version.
    pub version: &'static str,
    /// `git rev-parse --short=10 HEAD` at build time, or `unknown`.
    pub commit: &'static str,
}

/// This build's [`About`].
pub const ABOUT: About = About {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("KEYHOLE_COMMIT"),
};

/// Everything the page's first frame depends on.
#[derive(Serialize)]
struct FirstFrame {
    settings: SettingsView,
    session: SessionState,
    /// The Clerk session read at launch; `null` if that read has not answered yet.
    clerk: Option<service_ext::LaunchClerkView>,
    about: About,
    tabs: Tabs,
}

/// A script that sets `window.__KEYHOLE_INITIAL__`, on the window's first page only, to the
/// settings, the session (is a stored one being restored?), the Clerk session read at launch, the
/// saved tabs and [`ABOUT`], taken from memory after [`init`]. The webview runs it before the
/// page's own scripts, so the page renders its final layout without awaiting a command (the
/// keychain and the network are left to the background reads). An initialization script is
/// injected by the webview, outside the page's CSP, which therefore needs no `unsafe-inline`.
pub fn first_frame_script<R: Runtime>(app: &AppHandle<R>) -> String {
    let initial = FirstFrame {
        settings: settings_ext::view(app),
        session: service_ext::first_frame_state(app),
        clerk: service_ext::first_frame_clerk(app),
        about: ABOUT,
        tabs: app.tabs().get(),
    };
    // Serializing these plain structs cannot fail; if it ever did, the page asks by command.
    let json = serde_json::to_string(&initial).unwrap_or_else(|_| "null".to_owned());
    // The webview runs this on every load of the window, but the snapshot is the launch's: a
    // reload (settings saved since) must ask by command instead. window.name survives reloads.
    format!(
        "if (window.name !== {FIRST_FRAME_USED:?}) {{ window.name = {FIRST_FRAME_USED:?}; \
         window.__KEYHOLE_INITIAL__ = {json}; }}"
    )
}

/// Marks the window whose first page has had [`first_frame_script`]'s snapshot.
const FIRST_FRAME_USED: &str = "keyhole-first-frame-used";

/// Opens the main window of tauri.conf.json (`"create": false` there, so it waits for this) with
/// [`first_frame_script`], after [`init`] has built the state the script reads.
fn open_main_window<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .unwrap_or_default();
    let mut window = WebviewWindowBuilder::from_config(app, &config)?;
    // KEYHOLE_FIRST_FRAME=commands leaves the script out: the page then awaits its first commands
    // before its first paint instead. Only `scripts/bench` sets it, to compare the two.
    if std::env::var("KEYHOLE_FIRST_FRAME").as_deref() != Ok("commands") {
        window = window.initialization_script(first_frame_script(app));
    }
    window.build()?;
    startup_mark("window built");
    Ok(())
}

/// Logs a start-up milestone at debug level under `keyhole_app::startup`, with the wall clock in
/// microseconds: `scripts/bench` subtracts its own launch time from it to say where the time
/// between launch and first paint goes (`KEYHOLE_LOG=keyhole_app::startup=debug`).
pub(crate) fn startup_mark(milestone: &str) {
    let unix_us = keyhole_core::unix_micros(std::time::SystemTime::now());
    tracing::debug!(target: "keyhole_app::startup", unix_us, "{milestone}");
}

/// Starts the desktop app.
pub fn run() {
    init_tracing();
    startup_mark("main");
    let launch = Launch::from_env();
    let app = builder(tauri::Builder::default()).setup(|app| {
        init(app.handle(), launch)?;
        open_main_window(app.handle())?;
        Ok(())
    });
    if let Err(error) = app.run(tauri::generate_context!()) {
        tracing::error!(%error, "Keyhole could not start");
        eprintln!("Keyhole could not start: {error}");
        std::process::exit(1);
    }
}

/// Logs to stderr; `KEYHOLE_LOG` takes `target=level` directives such as
/// `warn,keyhole_app=debug` (default: Keyhole at info, the rest at warn). A `Targets` filter
/// rather than an `EnvFilter`: the same syntax minus span and field matching, without the
/// regex-based matcher in the release binary.
fn init_tracing() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let filter = std::env::var("KEYHOLE_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| {
            Targets::new()
                .with_default(tracing::Level::WARN)
                .with_target("keyhole_app", tracing::Level::INFO)
                .with_target("keyhole_core", tracing::Level::INFO)
        });
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}
