//! The one stream of events a [`Service`](super::Service) emits: the window forwards them, the
//! CLI prints them.

use std::sync::Arc;

use serde::Serialize;

use crate::session::keeper::SessionUpdate;
use crate::signin::flow::Progress;

/// Something the user should see, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "camelCase")]
pub enum Event {
    /// A sign-in reached a stage (the browser opened, the device code to show, exchanging).
    SignIn(Progress),
    /// The session changed: signed in, renewed, restored, signed out, or ended by itself (then
    /// [`SessionUpdate::ended`] says why).
    Session(SessionUpdate),
    /// One sentence to tell the user once: a client registered or replaced, the set-up from the
    /// API's metadata, no keychain, a restore that failed, the device flow chosen for lack of a
    /// display.
    Notice(String),
    /// A stored session started (true) or finished (false) being resumed in the background.
    Restoring(bool),
}

/// Where a service sends its events. Called on whatever task emits; keep it quick.
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;
