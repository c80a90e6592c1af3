//! The answer, whole and fast (issue 17 part 2), through the app's real window against the
//! sandbox's `/sized?bytes=N` (a JSON object of exactly N bytes): the split between the request
//! and the answer (stacked at 960x720 with the answer in sight without scrolling, side by side
//! from 1100 px), a body over 1 MiB with its true size and its end reached in the virtualised
//! view, search next/previous, the JSONPath filter, Save body (past 50 MB: sent again and
//! streamed whole), and a closed tab's answer freed.
//!
//! Run like window.rs: `cargo build -p keyhole -p keyhole-cli && DISPLAY=:99 cargo test -p
//! keyhole-e2e --test viewer -- --test-threads=1`.

mod common;

use common::{launch_signed_in, App, SIGN_IN_WAIT, WAIT};
use serde_json::{json, Value};

const ENTER: &str = "\u{E007}";
const SHIFT: &str = "\u{E008}";
const CONTROL: &str = "\u{E009}";
const END: &str = "\u{E010}";
const HOME: &str = "\u{E011}";
const RELEASE: &str = "\u{E000}";

/// The page rectangle of `css`: [left, top, right, bottom], with the page's scroll and size.
async fn rect(app: &App, css: &str) -> Value {
    app.execute(&format!(
        "const r = document.querySelector({}).getBoundingClientRect();\
         return {{ left: r.left, top: r.top, right: r.right, bottom: r.bottom, \
                   scrollY: window.scrollY, width: innerWidth, height: innerHeight }};",
        json!(css)
    ))
    .await
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Sends `GET <sized>?bytes=<bytes>` and waits for the data.
async fn send_sized(app: &App, sized: &str, bytes: u64) {
    app.fill("#request-url", &format!("{sized}?bytes={bytes}"))
        .await;
    app.call_api_for_data().await;
    app.wait_for("the viewer", "#answer-viewer #api-data .ln", WAIT)
        .await;
}

/// Focuses the viewer's scroll area (where its keys go).
async fn focus_body(app: &App) {
    app.execute("document.getElementById('answer-scroll').focus()")
        .await;
}

/// Types into the search box and presses Enter.
async fn search(app: &App, text: &str) {
    app.clear("#answer-search").await;
    app.fill("#answer-search", text).await;
    app.press(ENTER).await;
}

#[tokio::test]
async fn a_large_answer_fills_the_split_and_is_searched_filtered_saved_and_freed() {
    const TEST: &str = "viewer_split";
    let sandbox = keyhole_sandbox::shared();
    let sized = &sandbox.api.sized;
    let (app, profile) = launch_signed_in(TEST, "user_2e2e_viewer").await;

    // 960x720, the window's default: stacked, the answer in sight without scrolling the page.
    app.resize(960, 720).await;
    send_sized(&app, sized, 2_500_000).await;
    let editor = rect(&app, ".pane-editor").await;
    let answer = rect(&app, "#answer-scroll").await;
    assert_eq!(num(&answer, "scrollY"), 0.0, "{answer}");
    assert!(
        num(&answer, "top") >= num(&editor, "bottom"),
        "stacked: the answer below the request: {editor} {answer}"
    );
    assert!(
        num(&answer, "top") + 120.0 <= num(&answer, "height"),
        "at least 120 px of the body in sight without scrolling: {answer}"
    );
    assert!(
        num(&answer, "bottom") <= num(&answer, "height") + 1.0,
        "{answer}"
    );
    app.screenshot("stacked-960").await;

    // Over 1 MiB: the true size (it was cut at 1 MiB and shown as 1.0 MB), highlighted, and only
    // the visible window of its ~200,000 lines in the page.
    let title = app.text("#answer-title").await;
    assert_eq!(title, "Body (JSON, 2.5 MB)");
    assert!(app.exists("#api-data .tok-key").await);
    assert!(app.exists("#api-data .tok-number").await);
    let drawn = app
        .execute("return document.querySelectorAll('#api-data .ln').length")
        .await;
    assert!(
        drawn.as_u64().is_some_and(|n| n > 10 && n < 200),
        "{drawn} lines in the page"
    );

    // Its end, reached with the keyboard in the virtualised view.
    focus_body(&app).await;
    app.press(END).await;
    app.wait_text("#api-data", "\"end\": \"", WAIT).await;
    let last = app
        .execute("const l = [...document.querySelectorAll('#api-data .ln')]; return l[l.length - 1].textContent")
        .await;
    assert_eq!(last, "}\n", "the last line is the body's closing brace");
    assert_eq!(
        app.execute(
            "return document.getElementById('answer-viewer').getAttribute('data-complete')"
        )
        .await,
        "true"
    );
    app.press(HOME).await;
    app.wait_text("#api-data", "\"items\": [", WAIT).await;

    // Search: item_0000001 matches item_00000010 … 19; Enter is next, Shift+Enter previous.
    search(&app, "item_0000001").await;
    app.wait_text("#search-count", "1 of 10", WAIT).await;
    assert!(app.text(".ln-current").await.contains("item_00000010"));
    app.press(ENTER).await;
    app.wait_text("#search-count", "2 of 10", WAIT).await;
    assert!(app.text(".ln-current").await.contains("item_00000011"));
    app.press(&format!("{SHIFT}{ENTER}{RELEASE}")).await;
    app.wait_text("#search-count", "1 of 10", WAIT).await;
    app.click("#search-prev").await;
    app.wait_text("#search-count", "10 of 10", WAIT).await;
    assert!(app.text(".ln-current").await.contains("item_00000019"));
    app.click("#search-next").await;
    app.wait_text("#search-count", "1 of 10", WAIT).await;

    // The JSONPath filter; a bad one is one plain sentence and the answer stays.
    app.fill("#answer-filter", "$.items[3].id").await;
    app.press(ENTER).await;
    app.wait_text("#api-data", "\"item_00000003\"", WAIT).await;
    assert_eq!(app.answer_text("raw").await, r#"["item_00000003"]"#);
    app.clear("#answer-filter").await;
    app.fill("#answer-filter", "$.items[").await;
    app.press(ENTER).await;
    let error = app
        .wait_text("#filter-error", "is not a JSONPath expression", WAIT)
        .await;
    assert!(!error.contains('\n'), "{error}");
    app.clear("#answer-filter").await;
    app.press(ENTER).await;
    app.wait_text("#answer-title", "2.5 MB", WAIT).await;

    // Save body writes the whole body.
    let file = profile.path().join("answer.json");
    app.click("#save-body").await;
    app.clear("#save-path").await;
    app.fill("#save-path", &file.display().to_string()).await;
    app.click("#save-confirm").await;
    app.wait_text("#answer-status", "Saved 2,500,000 bytes", WAIT)
        .await;
    let saved = std::fs::read(&file).expect("the saved body");
    assert_eq!(saved.len(), 2_500_000);
    serde_json::from_slice::<Value>(&saved).expect("the whole body, valid JSON");

    // From 1100 px: side by side, with a highlighted answer (the README's screenshot).
    app.resize(1280, 800).await;
    send_sized(&app, sized, 60_000).await;
    let editor = rect(&app, ".pane-editor").await;
    let answer = rect(&app, ".pane-answer").await;
    assert!(
        num(&answer, "left") >= num(&editor, "right"),
        "side by side: {editor} {answer}"
    );
    assert!(
        num(&answer, "bottom") <= num(&answer, "height") + 1.0,
        "{answer}"
    );
    search(&app, "Ada Lovelace 3").await;
    app.wait_text("#search-count", "1 of ", WAIT).await;
    app.screenshot("split-1280").await;

    // Closing the tab frees its answer in the shell.
    let id: u64 = app
        .execute("return Number(document.getElementById('answer-viewer').getAttribute('data-answer-id'))")
        .await
        .as_u64()
        .expect("an answer id");
    app.click("#request-url").await;
    app.press(&format!("{CONTROL}w{RELEASE}")).await;
    app.wait_for("the empty tab", "#api-result[data-result=\"idle\"]", WAIT)
        .await;
    let gone = app
        .execute_async_json(
            "window.__TAURI__.core.invoke('answer_lines', { answerId: arguments[0], mode: 'raw', from: 0, count: 1 })",
            json!(id),
        )
        .await;
    assert_eq!(gone["err"]["kind"], "answer_gone", "{gone}");
    app.quit().await;
}

#[tokio::test]
async fn an_answer_past_50_mb_shows_its_true_size_and_save_body_streams_all_of_it() {
    const TEST: &str = "viewer_past_cap";
    let sandbox = keyhole_sandbox::shared();
    let (app, profile) = launch_signed_in(TEST, "user_2e2e_viewer_cap").await;
    let total: u64 = 53_000_000;
    send_sized(&app, &sandbox.api.sized, total).await;
    assert_eq!(
        app.text("#answer-title").await,
        "Body (JSON, first 52.4 MB of 53.0 MB)"
    );
    assert!(app
        .text("#save-body")
        .await
        .contains("sends the request again"));
    // The first screen is there, and scrolling to the end of the kept part answers.
    focus_body(&app).await;
    app.press(END).await;
    app.wait_for(
        "the end of the kept part",
        "#answer-viewer[data-complete=\"true\"]",
        // A debug build lexes the kept 52 MB to their end in some seconds.
        SIGN_IN_WAIT,
    )
    .await;

    let file = profile.path().join("whole.json");
    app.click("#save-body").await;
    app.clear("#save-path").await;
    app.fill("#save-path", &file.display().to_string()).await;
    app.click("#save-confirm").await;
    app.wait_text("#answer-status", "Saved 53,000,000 bytes", SIGN_IN_WAIT)
        .await;
    let saved = std::fs::metadata(&file).expect("the saved body").len();
    assert_eq!(saved, total);
    app.quit().await;
}
