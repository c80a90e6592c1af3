// Hello-world Tauri v2 app: the baseline that scripts/bench compares Keyhole against.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running the minimal Tauri app");
}
