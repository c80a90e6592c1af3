//! Keyhole's desktop shell: a thin layer of Tauri commands over `keyhole-core`.

/// Starts the desktop app.
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::default().build())
        .run(tauri::generate_context!())
        .unwrap_or_else(|error| panic!("Keyhole could not start: {error}"));
}
