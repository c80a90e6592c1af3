//! Each command through Tauri's IPC layer (`tauri::test`), with a temp store and a browser
//! that opens nothing. No network: a sign-in is pointed at a local port that never answers,
//! and the set-up refusals at the sandbox's adversarial provider on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use keyhole_core::{MemoryStore, Profiles, SecretStore};

use common::*;

#[test]
fn save_settings_normalizes_and_writes_the_store_file() {
    let t = start(None);
    let saved = t
        .invoke_with_settings("save_settings", valid())
        .expect("valid settings save");
    assert_eq!(saved["instance"], "https://clerk.example.com");
    assert_eq!(saved["scopes"], "openid email");
    assert_eq!(saved["sandbox"], false);
    let file: Value = serde_json::from_str(&t.read("settings.json")).expect("store file is JSON");
    assert_eq!(file["settings"]["clientId"], "abc123");
    assert!(file["settings"].get("sandbox").is_none(), "{file}");
    assert_eq!(t.invoke("load_settings", json!({})), Ok(saved));
}

#[test]
fn save_settings_rejects_a_bad_api_url_and_changes_nothing() {
    let t = saved_app();
    let before_file = t.read("settings.json");
    let before = t.invoke("load_settings", json!({})).expect("loads");

    let mut bad = valid();
    bad["apiUrl"] = json!("notaurl");
    bad["clientId"] = json!("changed");
    let error = t
        .invoke_with_settings("save_settings", bad)
        .expect_err("notaurl is refused");
    assert_eq!(error["kind"], "invalid_setting");
    assert_eq!(error["field"], "apiUrl");
    assert_message_has(&error, "notaurl");

    assert_eq!(t.invoke("load_settings", json!({})), Ok(before));
    assert_eq!(t.read("settings.json"), before_file);
}

#[test]
fn load_settings_offers_the_sandbox_when_nothing_is_stored() {
    let t = start(Some(sandbox()));
    let settings = t.invoke("load_settings", json!({})).expect("loads");
    assert_eq!(settings["sandbox"], true);
    assert_eq!(settings["instance"], "http://127.0.0.1:4000");
    assert_eq!(settings["clientId"], "keyhole-sandbox");
    assert_eq!(
        settings["apiUrl"],
        "http://127.0.0.1:5000/protected-endpoint"
    );
}

#[test]
fn stored_settings_for_another_instance_win_over_the_sandbox() {
    let t = saved_app().restart_with_sandbox(sandbox());
    let settings = t.invoke("load_settings", json!({})).expect("loads");
    assert_eq!(settings["sandbox"], false);
    assert_eq!(settings["instance"], "https://clerk.example.com");
}

#[test]
fn signed_out_commands_answer_plainly() {
    let t = start(Some(sandbox()));
    // The launch-time restore finds nothing stored and finishes without the network.
    wait_until("the restore is over", || !restoring(&t));
    assert_eq!(
        t.invoke("session", json!({})),
        Ok(json!({ "session": null, "restoring": false, "notice": null }))
    );
    let error = t.invoke("call_api", json!({})).expect_err("no session");
    assert_eq!(error["kind"], "not_signed_in");
    assert_eq!(
        t.invoke("sign_out", json!({})),
        Ok(json!({ "revoked": false, "message": null }))
    );
    let error = t
        .invoke("open_browser_again", json!({}))
        .expect_err("no sign-in");
    assert_eq!(error["kind"], "no_sign_in");
    assert_eq!(t.invoke("cancel_sign_in", json!({})), Ok(Value::Null));
}

#[test]
fn without_a_keychain_the_ui_is_told_once_that_the_session_ends_with_the_app() {
    let t = start_with_secrets(Some(sandbox()), Arc::new(NoKeychain::default()));
    // The launch-time restore touches the store and finds nothing — before the page asked.
    wait_until("the restore is over", || !restoring(&t));
    assert!(
        t.events.try_recv().is_err(),
        "no event before the page listens: it would be lost"
    );
    let first = t.invoke("session", json!({})).expect("session answers");
    let notice = first["notice"].as_str().unwrap_or_default();
    assert!(
        notice.contains("keychain is not available") && notice.contains("until Keyhole closes"),
        "{first}"
    );
    let again = t.invoke("session", json!({})).expect("session answers");
    assert_eq!(again["notice"], Value::Null, "said once, not on every call");
}

#[test]
fn the_first_frame_script_says_a_restore_runs_without_waiting_for_it_or_taking_its_notice() {
    let (keychain, open_gate, reads) = GatedKeychain::new();
    let t = start_with_secrets(Some(sandbox()), Arc::new(keychain));

    // The keychain read is blocked, yet the script is there, saying a restore runs.
    reads
        .recv_timeout(Duration::from_secs(10))
        .expect("the restore reads the keychain");
    let initial = first_frame(&t);
    assert_eq!(initial["session"]["restoring"], true, "{initial}");
    assert_eq!(initial["session"]["session"], Value::Null);
    assert_eq!(
        Ok(initial["settings"].clone()),
        t.invoke("load_settings", json!({}))
    );
    assert_eq!(initial["settings"]["sandbox"], true);
    assert_eq!(initial["about"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(initial["about"]["commit"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));

    // Two reads wait at the gate: the restore's and the launch's read of the Clerk session.
    for _ in 0..2 {
        open_gate.send(()).expect("the reads wait at the gate");
    }
    wait_until("the restore is over", || !restoring(&t));
    let after = first_frame(&t);
    assert_eq!(after["session"]["restoring"], false, "{after}");
    assert_eq!(after["session"]["notice"], Value::Null);
    // Neither script marked the page as listening, and the notice is still the page's to take.
    assert!(t.events.try_recv().is_err(), "an event no page listened to");
    let state = t.invoke("session", json!({})).expect("session answers");
    assert!(
        state["notice"]
            .as_str()
            .is_some_and(|n| n.contains("keychain is not available")),
        "{state}"
    );
}

#[test]
fn the_first_frame_carries_the_clerk_session_read_at_launch_once_it_has_answered() {
    // The keychain is held shut: neither the restore nor the Clerk session has been read, and
    // the snapshot says the Clerk session is not known yet (the page then asks by command).
    let (keychain, open_gate, reads) = GatedKeychain::new();
    let t = start_with_secrets(Some(sandbox()), Arc::new(keychain));
    reads
        .recv_timeout(Duration::from_secs(10))
        .expect("a launch read reaches the keychain");
    assert_eq!(first_frame(&t)["clerk"], Value::Null, "not read yet");
    for _ in 0..2 {
        open_gate.send(()).expect("the reads wait at the gate");
    }
    // Once read, the snapshot says what the read found: no Clerk session is kept.
    wait_until("the launch's Clerk read has answered", || {
        !first_frame(&t)["clerk"].is_null()
    });
    assert_eq!(first_frame(&t)["clerk"], json!({ "session": null }));

    // No instance set: nothing is read, and the page asks by command.
    let t = start(None);
    assert_eq!(first_frame(&t)["clerk"], Value::Null);
}

#[test]
fn sign_in_with_invalid_settings_names_the_field() {
    let t = start(None);
    let error = t.invoke("sign_in", json!({})).expect_err("no instance set");
    assert_eq!(error["kind"], "invalid_setting");
    assert_eq!(error["field"], "instance");
}

#[test]
fn cancel_sign_in_ends_the_pending_sign_in_as_cancelled() {
    let (_provider, issuer) = silent_provider();
    let t = started_against(&issuer);

    let pending = pending_sign_in(&t, "the sign-in is pending");
    t.invoke("cancel_sign_in", json!({}))
        .expect("cancel answers");
    let error = error_of(&pending, "a cancelled sign-in fails");
    assert_eq!(error["kind"], "cancelled");
    assert!(!signing_in(&t));
    assert_eq!(
        t.invoke("session", json!({}))
            .expect("session answers")
            .get("session"),
        Some(&Value::Null)
    );
}

#[test]
fn a_new_sign_in_cancels_the_stale_one() {
    let (_provider, issuer) = silent_provider();
    let t = started_against(&issuer);

    let first = pending_sign_in(&t, "the first sign-in is pending");
    let second = t.invoke_in_background("sign_in", json!({}));
    let error = error_of(&first, "the stale sign-in fails");
    assert_eq!(error["kind"], "cancelled");
    assert!(signing_in(&t), "the second one still runs");

    t.invoke("cancel_sign_in", json!({}))
        .expect("cancel answers");
    let error = error_of(&second, "the second sign-in is cancelled");
    assert_eq!(error["kind"], "cancelled");
}

#[test]
fn send_request_without_the_token_needs_no_session_and_history_keeps_no_credentials() {
    let (api, seen) = local_api(Some(OK_JSON));
    let t = saved_app();
    let request = json!({
        "method": "POST",
        "url": format!("{api}/echo"),
        "query": [{ "name": "a", "value": "1", "enabled": true }],
        "headers": [
            { "name": "Authorization", "value": "Bearer typed-secret", "enabled": true },
            { "name": "X-Off", "value": "no", "enabled": false }
        ],
        "body": { "kind": "json", "text": "{\"n\": 1}" },
        "sendToken": false
    });
    let answer = t
        .invoke("send_request", json!({ "request": request }))
        .expect("the API answers");
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["method"], "POST");
    assert_eq!(answer["body"]["value"]["ok"], true);
    assert!(answer["headers"]
        .as_array()
        .is_some_and(|h| h.iter().any(|p| p[0] == "x-echo" && p[1] == "yes")));
    assert!(answer["ttfbMs"].is_u64() && answer["elapsedMs"].is_u64());
    let raw = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("a request");
    assert!(raw.starts_with("POST /echo?a=1 "), "{raw}");
    assert!(raw.contains("content-type: application/json"), "{raw}");
    assert!(!raw.to_ascii_lowercase().contains("x-off"), "{raw}");

    let history = t.invoke("history", json!({})).expect("history");
    assert_eq!(history[0]["method"], "POST");
    assert_eq!(history[0]["url"], format!("{api}/echo?a=1"));
    assert_eq!(history[0]["status"], 200);
    assert_eq!(history[0]["request"]["headers"][0]["value"], "");
    assert_eq!(history[0]["request"]["body"]["text"], "{\"n\": 1}");
    let file = t.read("history.json");
    assert!(!file.contains("typed-secret"), "{file}");
    assert!(
        !file.contains("\"ok\""),
        "no answer body in the history: {file}"
    );

    // The history survives a restart.
    let t = t.restart();
    let again = t.invoke("history", json!({})).expect("history");
    assert_eq!(again, history);
    t.invoke("clear_history", json!({})).expect("cleared");
    assert_eq!(t.invoke("history", json!({})), Ok(json!([])));
}

#[test]
fn send_request_with_the_token_needs_a_session() {
    let t = saved_app();
    let request = json!({ "url": "http://127.0.0.1:9/x" });
    let error = t
        .invoke("send_request", json!({ "request": request }))
        .expect_err("not signed in");
    assert_eq!(error["kind"], "not_signed_in");
}

#[test]
fn a_bad_request_names_its_part_and_is_not_history() {
    let t = saved_app();
    let request = json!({
        "method": "POST", "url": "http://127.0.0.1:9/x", "sendToken": false,
        "body": { "kind": "json", "text": "{oops" }
    });
    let error = t
        .invoke("send_request", json!({ "request": request }))
        .expect_err("invalid JSON");
    assert_eq!(error["kind"], "invalid_setting");
    assert_eq!(error["field"], "body");
    assert_message_has(&error, "line 1");
    assert_eq!(t.invoke("history", json!({})), Ok(json!([])));
}

#[test]
fn cancel_request_ends_the_pending_request_as_cancelled() {
    let (api, _seen) = local_api(None);
    let t = saved_app();
    let pending = t.invoke_in_background(
        "send_request",
        json!({ "request": { "url": api, "sendToken": false } }),
    );
    std::thread::sleep(Duration::from_millis(300));
    t.invoke("cancel_request", json!({}))
        .expect("cancel answers");
    let error = error_of(&pending, "a cancelled request fails");
    assert_eq!(error["kind"], "cancelled");
    assert_eq!(error["message"], "the call was cancelled");
    let history = t.invoke("history", json!({})).expect("history");
    assert_eq!(history[0]["error"], "cancelled");
    assert_eq!(history[0]["status"], Value::Null);
}

#[test]
fn a_request_that_outlives_its_timeout_is_reported_as_a_timeout() {
    let (api, _seen) = local_api(None);
    let t = saved_app();
    let started = Instant::now();
    let error = t
        .invoke(
            "send_request",
            json!({ "request": { "url": api, "sendToken": false, "timeoutSecs": 1 } }),
        )
        .expect_err("times out");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(error["kind"], "api_timeout");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 s") || m.contains("second")),
        "{error}"
    );
}

#[test]
fn copy_curl_puts_a_command_that_gets_the_token_from_keyhole_cli_on_the_clipboard() {
    let t = saved_app();
    let request = json!({
        "method": "POST", "url": "http://127.0.0.1:5000/echo",
        "headers": [{ "name": "X-Trace", "value": "a b", "enabled": true }],
        "body": { "kind": "json", "text": "{\"n\":1}" }
    });
    let copied = t
        .invoke(
            "copy_curl",
            json!({ "request": request, "literalToken": false }),
        )
        .expect("copied");
    let command = copied["command"].as_str().expect("a command");
    assert_eq!(copied["literalToken"], false);
    assert!(command.starts_with("curl -sS -X POST"), "{command}");
    assert!(command.contains("'x-trace: a b'"), "{command}");
    assert!(
        command.contains("\"Authorization: Bearer $(keyhole-cli token --instance https://clerk.example.com --client-id abc123 --keychain-service dev.keyhole.test)\""),
        "{command}"
    );
    assert_eq!(*t.copied.lock().expect("lock"), vec![command.to_owned()]);

    // The literal token needs a session; nothing is copied without one.
    let error = t
        .invoke(
            "copy_curl",
            json!({ "request": request, "literalToken": true }),
        )
        .expect_err("no session");
    assert_eq!(error["kind"], "not_signed_in");
    assert_eq!(t.copied.lock().expect("lock").len(), 1);
}

#[test]
fn profiles_are_saved_listed_and_switched_each_with_its_own_settings() {
    let t = saved_app();
    assert_eq!(
        t.invoke("profiles", json!({})),
        Ok(json!({ "names": [], "current": null }))
    );
    let saved = t
        .invoke("save_profile", json!({ "name": "staging" }))
        .expect("saved");
    assert_eq!(saved, json!({ "names": ["staging"], "current": "staging" }));
    let file = t.read("profiles.json");
    assert!(
        file.contains("\"staging\"") && file.contains("abc123"),
        "{file}"
    );

    // Edits while in a profile go to that profile (keyhole-cli --profile sees them).
    let mut edited = valid();
    edited["clientId"] = json!("staging-client");
    t.invoke_with_settings("save_settings", edited)
        .expect("saved");
    let file = t.read("profiles.json");
    assert!(file.contains("staging-client"), "{file}");

    // Another profile, made from other settings.
    let mut local = valid();
    local["clientId"] = json!("local-client");
    t.invoke("switch_profile", json!({ "name": null }))
        .expect("no profile");
    t.invoke_with_settings("save_settings", local)
        .expect("saved");
    t.invoke("save_profile", json!({ "name": "local" }))
        .expect("saved");

    let view = t
        .invoke("switch_profile", json!({ "name": "staging" }))
        .expect("switched");
    assert_eq!(view["profile"], "staging");
    assert_eq!(view["clientId"], "staging-client");
    assert_eq!(t.invoke("load_settings", json!({})), Ok(view));
    let error = t
        .invoke("switch_profile", json!({ "name": "nope" }))
        .expect_err("no such profile");
    assert_eq!(error["field"], "profile");
    assert_message_has(&error, "staging, local");

    // The current profile survives a restart.
    let t = t.restart();
    let view = t.invoke("load_settings", json!({})).expect("loads");
    assert_eq!(view["profile"], "staging");
    assert_eq!(view["clientId"], "staging-client");
}

#[test]
fn save_request_needs_a_profile_then_keeps_the_request_without_credentials() {
    let t = saved_app();
    let request = json!({
        "method": "POST",
        "url": "http://127.0.0.1:5000/echo",
        "headers": [{ "name": "Cookie", "value": "session=secret-cookie", "enabled": true }],
        "body": { "kind": "json", "text": "{\"a\": 1}" },
        "sendToken": true,
        "timeoutSecs": 5
    });
    // No profile yet: nothing saved, and saving says what to do.
    assert_eq!(t.invoke("saved_requests", json!({})), Ok(json!([])));
    let error = t
        .invoke(
            "save_request",
            json!({ "name": "echo", "request": request }),
        )
        .expect_err("no profile");
    assert_eq!(error["kind"], "invalid_setting");
    assert_eq!(error["field"], "savedRequest");
    assert!(!t.dir().join("profiles.json").exists());

    t.invoke("save_profile", json!({ "name": "a" }))
        .expect("profile");
    let list = t
        .invoke(
            "save_request",
            json!({ "name": " echo ", "request": request }),
        )
        .expect("saved");
    assert_eq!(names(&list), ["echo"]);
    assert_eq!(list[0]["method"], "POST");
    assert_eq!(list[0]["headers"][0]["value"], "");
    let file = t.read("profiles.json");
    assert!(!file.contains("secret-cookie"), "{file}");
    let error = t
        .invoke("save_request", json!({ "name": "", "request": request }))
        .expect_err("no name");
    assert_eq!(error["field"], "savedRequest");

    // Saving the profile's settings again keeps its requests, and a restart finds them.
    t.invoke_with_settings("save_settings", valid())
        .expect("saved");
    let t = t.restart();
    let list = t.invoke("saved_requests", json!({})).expect("listed");
    assert_eq!(names(&list), ["echo"]);
    // Another profile has its own (none).
    t.invoke("switch_profile", json!({ "name": null }))
        .expect("no profile");
    t.invoke("save_profile", json!({ "name": "b" }))
        .expect("profile");
    assert_eq!(t.invoke("saved_requests", json!({})), Ok(json!([])));
}

#[test]
fn delete_saved_request_removes_it_from_the_current_profile_only() {
    let t = saved_app();
    let request = json!({ "method": "GET", "url": "http://127.0.0.1:5000/echo" });
    let error = t
        .invoke("delete_saved_request", json!({ "name": "x" }))
        .expect_err("no profile");
    assert_eq!(error["field"], "savedRequest");
    t.invoke("save_profile", json!({ "name": "a" }))
        .expect("profile");
    for name in ["one", "two"] {
        t.invoke("save_request", json!({ "name": name, "request": request }))
            .expect("saved");
    }
    let list = t
        .invoke("delete_saved_request", json!({ "name": "one" }))
        .expect("deleted");
    assert_eq!(names(&list), ["two"]);
    // Deleting what is not there is not an error.
    let list = t
        .invoke("delete_saved_request", json!({ "name": "one" }))
        .expect("no-op");
    assert_eq!(names(&list), ["two"]);
    let profiles = Profiles::at(t.dir().join("profiles.json"));
    let kept = profiles.get("a").expect("profile a").requests;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].name.as_deref(), Some("two"));
}

#[test]
fn a_ten_kilobyte_instance_is_refused_and_not_saved() {
    let t = saved_app();
    let before = t.read("settings.json");
    let mut long = valid();
    long["instance"] = json!(format!("https://{}.example.com", "a".repeat(10 * 1024)));
    let error = t
        .invoke_with_settings("save_settings", long)
        .expect_err("too long");
    assert_eq!(error["field"], "instance");
    assert_message_has(&error, "at most 2048");
    assert_eq!(t.read("settings.json"), before);
}

// --- set-up: from the API URL (RFC 9728), registration (RFC 7591) ---------------------

#[test]
fn set_up_from_api_with_a_bad_api_url_names_the_field_and_saves_nothing() {
    let (t, _, before) = started_with_saved_settings();
    let error = t
        .invoke_with_settings("set_up_from_api", only_the_api_url("notaurl"))
        .expect_err("notaurl is refused");
    assert_eq!(error["kind"], "invalid_setting", "{error}");
    assert_eq!(error["field"], "apiUrl", "{error}");
    assert_nothing_saved(&t, &before);
}

#[test]
fn set_up_from_an_api_that_says_nothing_about_sign_in_is_one_sentence_and_saves_nothing() {
    let error = refused_by_the_adversary("set_up_from_api", |adversary| {
        only_the_api_url(&adversary.api_url())
    });
    assert_eq!(error["kind"], "discovery", "{error}");
    assert_message_has(&error, "does not say how to sign in to it");
}

#[test]
fn register_client_without_a_registration_endpoint_names_the_client_id_and_saves_nothing() {
    let error = refused_by_the_adversary("register_client", |adversary| {
        let mut settings = valid();
        settings["instance"] = json!(adversary.issuer);
        settings["clientId"] = json!("");
        settings
    });
    assert_eq!(error["kind"], "invalid_setting", "{error}");
    assert_eq!(error["field"], "clientId", "{error}");
    assert_message_has(&error, "does not let apps register themselves");
}

#[test]
fn register_client_with_a_client_id_given_only_saves() {
    let t = start(None);
    let done = t
        .invoke_with_settings("register_client", valid())
        .expect("a given client ID needs no provider");
    assert_eq!(done["settings"]["clientId"], "abc123");
    assert_eq!(done["note"], Value::Null);
}

#[test]
fn a_registered_client_the_provider_forgot_is_registered_again_before_a_sign_in() {
    let sandbox = keyhole_sandbox::Sandbox::start().expect("the sandbox (Node)");
    let secrets = Arc::new(MemoryStore::default());
    let t = start_with_secrets(None, Arc::clone(&secrets) as Arc<dyn SecretStore>);
    let mut settings = valid();
    settings["instance"] = json!(sandbox.issuer);
    settings["clientId"] = json!("");
    settings["apiUrl"] = json!(sandbox.api.lax);
    let done = t
        .invoke_with_settings("register_client", settings)
        .expect("registered");
    let first = done["settings"]["clientId"]
        .as_str()
        .expect("a client ID")
        .to_owned();
    t.invoke("session", json!({})).expect("the page asked");

    provider_forgets(&secrets, &sandbox.issuer);
    let pending = pending_sign_in(&t, "the sign-in waits for the browser");
    let now = t.invoke("load_settings", json!({})).expect("loads");
    let second = now["clientId"].as_str().expect("a client ID");
    assert_ne!(second, first, "registered again, and saved");
    // The page hears it as a notice with the session state.
    let told =
        std::iter::from_fn(|| t.events.recv_timeout(Duration::from_secs(5)).ok()).any(|state| {
            state["notice"]
                .as_str()
                .is_some_and(|n| n.contains("registered again"))
        });
    assert!(told, "the user was told the client was registered again");
    t.invoke("cancel_sign_in", json!({}))
        .expect("cancel answers");
    let error = error_of(&pending, "a cancelled sign-in fails");
    assert_eq!(error["kind"], "cancelled");
}

#[test]
fn mcp_call_with_arguments_that_are_no_object_is_refused_before_anything_is_sent() {
    let (url, seen) = local_api(Some(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n",
    ));
    let t = saved_app();
    let error = t
        .invoke(
            "mcp_call",
            json!({ "url": format!("{url}/mcp"), "tool": "echo", "arguments": [1, 2] }),
        )
        .expect_err("arguments that are no object");
    assert_eq!(error["kind"], "invalid_setting");
    assert_eq!(error["field"], "arguments");
    assert_message_has(&error, "nothing was sent");
    assert!(
        seen.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing reached the server"
    );
}

#[test]
fn mcp_tools_of_something_that_is_no_url_names_the_url() {
    let t = saved_app();
    let error = t
        .invoke("mcp_tools", json!({ "url": "notaurl" }))
        .expect_err("not a URL");
    assert_eq!(error["kind"], "invalid_setting");
    assert_eq!(error["field"], "apiUrl");
    assert_message_has(&error, "notaurl");
}

#[test]
fn cancel_request_ends_a_pending_mcp_request_as_cancelled() {
    let (url, seen) = local_api(None);
    let t = saved_app();
    let started = Instant::now();
    let pending = t.invoke_in_background("mcp_tools", json!({ "url": format!("{url}/mcp") }));
    seen.recv_timeout(Duration::from_secs(10))
        .expect("the MCP request reached the server");
    t.invoke("cancel_request", json!({}))
        .expect("cancel answers");
    let error = error_of(&pending, "a cancelled MCP request fails");
    assert_eq!(error["kind"], "cancelled");
    assert_eq!(error["message"], "the call was cancelled");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn the_viewer_reads_a_tabs_answer_by_id_and_closing_frees_it() {
    let (api, _seen) = local_api(Some(OK_JSON));
    let t = saved_app();
    let request = json!({ "url": format!("{api}/echo"), "sendToken": false });
    let sent = t
        .invoke("send_request", json!({ "request": request, "tab": 3 }))
        .expect("the API answers");
    let answer = &sent["answer"];
    let id = answer["id"].as_u64().expect("an answer id");
    assert_eq!(answer["kind"], "json");
    assert_eq!(answer["size"], 11);
    assert_eq!(answer["truncated"], false);
    assert_eq!(answer["first"]["total"], 3, "{answer}");
    assert_eq!(
        answer["first"]["lines"][1]["spans"][0],
        json!(["key", "\"ok\""])
    );

    let raw = t
        .invoke(
            "answer_lines",
            json!({ "answerId": id, "mode": "raw", "from": 0, "count": 10 }),
        )
        .expect("lines");
    assert_eq!(raw["total"], 1);
    let found = t
        .invoke(
            "answer_search",
            json!({ "answerId": id, "mode": "pretty", "query": "TRUE" }),
        )
        .expect("searched");
    assert_eq!(found["count"], 1);
    assert_eq!(
        found["matches"][0],
        json!({ "line": 1, "column": 6, "length": 4 })
    );
    let bad = t
        .invoke(
            "answer_filter",
            json!({ "answerId": id, "expression": "ok[" }),
        )
        .expect_err("not JSONPath");
    assert_eq!(bad["kind"], "bad_filter");
    let filtered = t
        .invoke(
            "answer_filter",
            json!({ "answerId": id, "expression": "$.ok" }),
        )
        .expect("filtered");
    assert_eq!(filtered["first"]["total"], 3, "[ true ]: {filtered}");

    let file = t.dir().join("answer.json");
    let saved = t
        .invoke(
            "save_body",
            json!({ "answerId": id, "path": file.display().to_string() }),
        )
        .expect("saved");
    assert_eq!(saved["bytes"], 11);
    assert_eq!(saved["resent"], false);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"ok\":true}");
    t.invoke("answer_copy", json!({ "answerId": id, "mode": "pretty" }))
        .expect("copied");
    assert_eq!(
        t.copied.lock().unwrap().last().map(String::as_str),
        Some("{\n  \"ok\": true\n}")
    );

    t.invoke("drop_answer", json!({ "answerId": id }))
        .expect("dropped");
    let gone = t
        .invoke(
            "answer_lines",
            json!({ "answerId": id, "mode": "raw", "from": 0, "count": 10 }),
        )
        .expect_err("freed");
    assert_eq!(gone["kind"], "answer_gone");
}
