//! The system clipboard, written by copy as curl. On Linux through GTK, which runs the window
//! anyway: native on X11 and Wayland alike, and no second clipboard client in the binary (the
//! clipboard plugin's arboard, with its PNG encoder and Wayland client, cost about 0.4 MB).
//! Elsewhere through arboard without its image support.

use tauri::{AppHandle, Runtime};

/// Puts `text` on the clipboard. GTK keeps serving it for as long as the app runs.
#[cfg(target_os = "linux")]
pub async fn write_text<R: Runtime>(app: &AppHandle<R>, text: String) -> Result<(), String> {
    let (done, written) = tokio::sync::oneshot::channel();
    // GTK may only be used from its main thread.
    app.run_on_main_thread(move || {
        gtk::Clipboard::get(&gtk::gdk::SELECTION_CLIPBOARD).set_text(&text);
        let _ = done.send(());
    })
    .map_err(|e| e.to_string())?;
    written
        .await
        .map_err(|_| "the window is closing".to_owned())
}

/// Puts `text` on the clipboard (the system keeps it after the app quits).
#[cfg(not(target_os = "linux"))]
pub async fn write_text<R: Runtime>(_app: &AppHandle<R>, text: String) -> Result<(), String> {
    arboard::Clipboard::new()
        .and_then(|mut clipboard| clipboard.set_text(text))
        .map_err(|e| e.to_string())
}
