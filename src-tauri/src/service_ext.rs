//! Glue between the UI and keyhole-core's [`Service`], which decides everything (settings,
//! set-up, sign-in, renewal, sign-out, the request in flight). This module registers it with
//! the app and forwards its events to the window: sign-in stages as [`SIGN_IN_PROGRESS`], and
//! everything else as one [`SESSION_CHANGED`] with the session and the notices to show once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyhole_core::{Event, EventSink, Service, SessionSummary};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

/// Emitted with a [`keyhole_core::Progress`] payload while a sign-in runs.
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";
/// Emitted with a [`SessionState`] whenever the session starts, is renewed, restored or ends.
pub const SESSION_CHANGED: &str = "session-changed";

/// What the UI knows about the session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// The signed-in session, if any.
    pub session: Option<SessionSummary>,
    /// True while a stored session is being resumed in the background.
    pub restoring: bool,
    /// Something to tell the user once (no keychain, a session that ended, a failed restore).
    pub notice: Option<String>,
}

/// The notices waiting for the page, and whether it listens yet (managed state).
#[derive(Default)]
pub struct Notices {
    waiting: Mutex<Vec<String>>,
    /// Set when the page first asks for the state; events sent before then would be lost.
    ui_ready: AtomicBool,
}

/// The sink the service's events go to: the window, through [`SESSION_CHANGED`] and
/// [`SIGN_IN_PROGRESS`].
pub fn forward_events<R: Runtime>(app: &AppHandle<R>) -> EventSink {
    let app = app.clone();
    Arc::new(move |event| match event {
        // The URL carries state and PKCE challenge: it is not logged.
        Event::SignIn(progress) => {
            if let Err(error) = app.emit(SIGN_IN_PROGRESS, &progress) {
                tracing::warn!(%error, "could not emit {SIGN_IN_PROGRESS}");
            }
        }
        Event::Notice(text) => tell(&app, text),
        Event::Session(update) => {
            if let Some(reason) = update.ended {
                tell(&app, reason);
            } else {
                emit_state(&app);
            }
        }
        Event::Restoring(active) => {
            crate::startup_mark(if active {
                "restore started"
            } else {
                "restore ended"
            });
            emit_state(&app);
        }
    })
}

fn tell<R: Runtime>(app: &AppHandle<R>, text: String) {
    if let Some(notices) = app.try_state::<Notices>() {
        notices
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
    }
    emit_state(app);
}

fn emit_state<R: Runtime>(app: &AppHandle<R>) {
    let ready = app
        .try_state::<Notices>()
        .is_some_and(|n| n.ui_ready.load(Ordering::SeqCst));
    if !ready {
        return; // The page will ask (state_for_ui) and get everything at once.
    }
    if let Err(error) = app.emit(SESSION_CHANGED, state(app)) {
        tracing::warn!(%error, "could not emit {SESSION_CHANGED}");
    }
}

/// The session as the UI sees it; waiting notices are handed over (shown once).
fn state<R: Runtime>(app: &AppHandle<R>) -> SessionState {
    let notices = app
        .try_state::<Notices>()
        .map(|n| std::mem::take(&mut *n.waiting.lock().unwrap_or_else(|e| e.into_inner())))
        .unwrap_or_default();
    snapshot(app, (!notices.is_empty()).then(|| notices.join(" ")))
}

/// The session and whether a restore runs, with `notice`.
fn snapshot<R: Runtime>(app: &AppHandle<R>, notice: Option<String>) -> SessionState {
    let service = app.service();
    SessionState {
        session: service.summary(),
        restoring: service.is_restoring(),
        notice,
    }
}

/// The state for the page, which asks once it listens for [`SESSION_CHANGED`]: from then on
/// changes are sent as events. (Before, they wait, so a notice from a restore that beat the
/// page's start is not lost.)
pub fn state_for_ui<R: Runtime>(app: &AppHandle<R>) -> SessionState {
    if let Some(notices) = app.try_state::<Notices>() {
        notices.ui_ready.store(true, Ordering::SeqCst);
    }
    state(app)
}

/// The longest a page may have [`settled_state_for_ui`] wait for a restore.
const MAX_SETTLE: Duration = Duration::from_secs(1);

/// [`state_for_ui`] once the restore running since launch has ended, waiting at most `settle_ms`
/// (capped at [`MAX_SETTLE`]): the page asks this way before its first frame, so that frame shows
/// the restore's outcome rather than a "restoring" screen that lasts a few milliseconds.
pub async fn settled_state_for_ui<R: Runtime>(
    app: &AppHandle<R>,
    settle_ms: Option<u64>,
) -> SessionState {
    if let Some(ms) = settle_ms {
        app.service()
            .restore_settled(Duration::from_millis(ms).min(MAX_SETTLE))
            .await;
    }
    state_for_ui(app)
}

/// For the page's first frame (`crate::first_frame_script`): the session and whether a restore
/// runs, read without taking the notices or marking the page ready.
pub fn first_frame_state<R: Runtime>(app: &AppHandle<R>) -> SessionState {
    snapshot(app, None)
}

/// The Clerk session as read at launch (managed state), for the page's first frame: empty until
/// [`read_clerk_session_at_launch`] has its answer.
#[derive(Default)]
pub struct LaunchClerk(Mutex<Option<LaunchClerkView>>);

/// The launch's read of the Clerk session, as the first frame's snapshot carries it:
/// `{"session": …}`, where `null` means none is kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LaunchClerkView {
    /// The Clerk session of the instance in force, if one is kept.
    pub session: Option<SessionSummary>,
}

/// Reads the Clerk session of the instance in force in the background (a keychain read, nothing
/// sent), as the restore of the OAuth session does: it has answered long before the window is
/// built (~10 ms against ~100 ms), so the first frame's snapshot carries it and the page paints
/// without asking first (bench/README, "Launch"). No instance set: nothing to read.
pub fn read_clerk_session_at_launch<R: Runtime>(app: &AppHandle<R>) {
    if app.service().settings().instance.is_empty() {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match app.service().clerk_session().await {
            Ok(session) => {
                if let Some(launch) = app.try_state::<LaunchClerk>() {
                    *launch.0.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(LaunchClerkView { session });
                }
            }
            // The page asks again by command and shows what that says.
            Err(error) => tracing::debug!(kind = error.kind(), "no Clerk session read at launch"),
        }
    });
}

/// The launch's Clerk session if its read has answered; `None` while it has not (the page then
/// asks by command before its first frame).
pub fn first_frame_clerk<R: Runtime>(app: &AppHandle<R>) -> Option<LaunchClerkView> {
    app.try_state::<LaunchClerk>()
        .and_then(|launch| launch.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

/// `app.service()` from anything that can reach the app's state.
pub trait ServiceExt<R: Runtime> {
    /// The engine's service.
    fn service(&self) -> &Service;
}

impl<R: Runtime, T: Manager<R>> ServiceExt<R> for T {
    fn service(&self) -> &Service {
        self.state::<Service>().inner()
    }
}
