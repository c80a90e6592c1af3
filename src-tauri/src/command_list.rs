//! The app's commands, listed once. A new or renamed command is an edit here plus its fn in
//! `commands.rs`; every other list derives from this one or is checked against it:
//! - `lib.rs` registers them with `tauri::generate_handler!`;
//! - `build.rs` declares them to `tauri_build::AppManifest`, so each one is permission-checked;
//! - `src-tauri/tests/command_list.rs` fails when `capabilities/default.json` (`allow-<name>`)
//!   or `ui/api.js` (`invoke("<name>")`) lists one more or one fewer.
//!
//! Read as a module by build.rs and the tests too, so it holds nothing but macros.

/// Calls the macro `$then` with every command name: `$then! { load_settings, save_settings, … }`.
/// A callback rather than a list value, because `generate_handler!` wants paths written out.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            load_settings,
            save_settings,
            set_up_from_api,
            register_client,
            session,
            sign_in,
            cancel_sign_in,
            open_browser_again,
            sign_out,
            call_api,
            send_request,
            answer_lines,
            answer_fold,
            answer_search,
            answer_filter,
            answer_copy,
            save_body,
            drop_answer,
            cancel_request,
            clerk_session,
            try_every_token_type,
            clerk_keys,
            save_clerk_key,
            forget_clerk_key,
            start_test_session,
            create_api_key,
            history,
            clear_history,
            copy_curl,
            profiles,
            switch_profile,
            save_profile,
            saved_requests,
            save_request,
            delete_saved_request,
            tabs,
            save_tabs,
            variables,
            set_variable,
            forget_variable,
            import_curl,
            import_document,
            mcp_tools,
            mcp_call,
            mcp_resources,
            mcp_prompts,
            mcp_check,
            mcp_step_up,
        }
    };
}

/// The callback that makes the names strings: `with_commands!(command_names)` is
/// `&["load_settings", …]`, for build.rs and the tests (lib.rs wants paths, not names).
#[allow(unused_macros)]
macro_rules! command_names {
    ($($name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}
