// Hello-world Tauri v2 app: the baseline that scripts/bench compares Keyhole against.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::time::{SystemTime, UNIX_EPOCH};

/// The same start-up milestones Keyhole logs (its lib.rs, `startup_mark`), on stderr, so that
/// scripts/bench can put the two apps' time lines side by side. Four lines; nothing else.
fn mark(milestone: &str) {
    let unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_micros());
    eprintln!("startup: {milestone} unix_us={unix_us}");
}

fn main() {
    mark("main");
    tauri::Builder::default()
        // Windows of tauri.conf.json are built just before the setup hook runs.
        .setup(|_| {
            mark("window built");
            Ok(())
        })
        .on_page_load(|_, payload| match payload.event() {
            tauri::webview::PageLoadEvent::Started => mark("page load started"),
            tauri::webview::PageLoadEvent::Finished => mark("page load finished"),
        })
        .run(tauri::generate_context!())
        .expect("error while running the minimal Tauri app");
}
