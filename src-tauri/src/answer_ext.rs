//! The answer viewer's glue: the engine's [`Answers`] (the last answer of each tab, served in
//! windows of lines, folded, searched, filtered, copied and saved) registered with the app. Every
//! decision is the engine's; the one thing here is the clipboard, which only the shell reaches.

use keyhole_core::{AnswerView, Answers, ApiResult, Mode};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::Result;
use crate::request_ext::RequestExt;

/// `send_request`'s answer: the engine's result plus the viewer's handle on its body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// The result (status, headers, timings, diagnosis; a small body parsed too).
    #[serde(flatten)]
    pub result: ApiResult,
    /// The viewer's handle on the body, with its first lines.
    pub answer: AnswerView,
}

/// `app.answers()` from anything that can reach the app's state.
pub trait AnswerExt<R: Runtime> {
    /// The answers kept.
    fn answers(&self) -> &Answers;
}

impl<R: Runtime, T: Manager<R>> AnswerExt<R> for T {
    fn answers(&self) -> &Answers {
        self.state::<Answers>().inner()
    }
}

/// Copies answer `id` as shown (`mode`) to the clipboard; answers the characters copied.
pub async fn copy<R: Runtime>(app: &AppHandle<R>, id: u64, mode: Mode) -> Result<usize> {
    let text = app.answers().text(id, mode)?;
    let length = text.chars().count();
    app.requests().write_clipboard(app, text).await?;
    Ok(length)
}
