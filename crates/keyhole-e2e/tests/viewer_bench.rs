//! scripts/bench's answer viewer figures (issue 17, "Speed and memory") through the app's real
//! window, against the sandbox's `/sized?bytes=N` (a JSON object of exactly N bytes). Not a test:
//! it is `#[ignore]`d, asserts nothing about the figures (only that each could be measured), and
//! prints them with their ratios; scripts/bench runs it against the release app. In one run:
//!
//! - **Memory** (first, on a fresh app after one 100 KB warm-up send): PSS of the app and all its
//!   descendants (WebKit's processes) settled before the send, with the 50 MB answer shown, after
//!   scrolling it end to end, and after closing its tab (sampled until it has fallen back, at
//!   most BENCH_VIEWER_FALL_BACK_SECONDS); the peak sampled all along. Then the same with a
//!   second 50 MB answer: "falls back" is judged on it, for what the first one leaves behind is
//!   the page's first use, which a second does not add to (bench/README.md, "Falls back").
//! - **Scrolling** the 50 MB answer end to end with the keyboard (Home, PageDown × N, End,
//!   PageUp × N, Home) and with the scrollbar (its whole height in 60 steps, one per frame): every
//!   frame's duration in the page (`requestAnimationFrame` deltas).
//! - **Last byte → first painted screen**, alternating 100 KB and 50 MB sends: from the engine's
//!   wall-clock time of the body's last byte (`keyhole_core::timing` in the app's log) to the
//!   start of the page's second animation frame after the viewer's lines entered the DOM (the
//!   first frame that drew them has then been rendered).
//!
//! Run: `KEYHOLE_E2E_APP=target/release/keyhole cargo test -p keyhole-e2e --test viewer_bench --
//! --ignored --nocapture` with DISPLAY and the session bus set (scripts/bench does it). Knobs:
//! BENCH_VIEWER_RUNS (sends of each size, default 5), BENCH_VIEWER_PAGES (PageDown presses, 300),
//! BENCH_VIEWER_SETTLE_SECONDS (3), BENCH_VIEWER_FALL_BACK_SECONDS (20), BENCH_VIEWER_JSON (where
//! the JSON goes, default `<target>/bench/viewer.json`; a text summary goes beside it as
//! viewer.txt).

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{launch_signed_in, target_dir, App, WAIT};
use serde_json::{json, Value};

const SMALL: u64 = 100_000;
/// The engine's timing events (keyhole_core::timing).
const LAST_BYTE: &str = "answer body: last byte";
const KEPT: &str = "answer kept: first window ready";
const LARGE: u64 = 50_000_000;
const CONTROL: &str = "\u{E009}";
const RELEASE: &str = "\u{E000}";
const PAGE_UP: &str = "\u{E00E}";
const PAGE_DOWN: &str = "\u{E00F}";
const END: &str = "\u{E010}";
const HOME: &str = "\u{E011}";
/// The viewer's goals (issue 17).
const PAINT_RATIO_GOAL: f64 = 2.0;
const FRAME_GOAL_MS: f64 = 50.0;
const PSS_GROWTH_GOAL: f64 = 3.0;
/// "Falls back": after closing the tab, at most this share of the body's size is left over.
const FALL_BACK_SHARE: f64 = 0.25;
/// The 50 MB body in KiB, the unit of the memory figures.
const BODY_KIB: f64 = LARGE as f64 / 1024.0;
const TEST: &str = "viewer_bench";

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number (got {text:?})")),
        Err(_) => default,
    }
}

// --- memory ---------------------------------------------------------------------------------------

/// PSS and USS (KiB) of `root` and all its descendants, by process name (`comm`), and the
/// WebKit processes on the machine outside that tree (which share libraries, lowering PSS).
struct Memory {
    pss: HashMap<String, u64>,
    uss: u64,
    /// Anonymous pages (heaps), by process name: not moved by other processes sharing libraries.
    anon: HashMap<String, u64>,
    outside_webkit: usize,
}

/// PSS (KiB) of `root` and all its descendants, by process name (`comm`).
fn pss_tree(root: u32) -> HashMap<String, u64> {
    memory(root).pss
}

fn memory(root: u32) -> Memory {
    let mut parent = HashMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent.insert(pid, ppid);
            }
        }
    }
    let mut tree = vec![root];
    loop {
        let before = tree.len();
        for (pid, ppid) in &parent {
            if tree.contains(ppid) && !tree.contains(pid) {
                tree.push(*pid);
            }
        }
        if tree.len() == before {
            break;
        }
    }
    let outside_webkit = parent
        .keys()
        .filter(|pid| !tree.contains(pid))
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with("WebKit"))
        })
        .count();
    let mut by_name: HashMap<String, u64> = HashMap::new();
    let mut uss = 0;
    let mut anon: HashMap<String, u64> = HashMap::new();
    for pid in tree {
        let Ok(rollup) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let field = |name: &str| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let kib = field("Pss:");
        uss += field("Private_Clean:") + field("Private_Dirty:");
        let name = if pid == root {
            "app".to_owned()
        } else {
            fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim().to_owned())
                .unwrap_or_else(|_| "other".to_owned())
        };
        *anon.entry(name.clone()).or_default() += field("Anonymous:");
        *by_name.entry(name).or_default() += kib;
    }
    Memory {
        pss: by_name,
        uss,
        anon,
        outside_webkit,
    }
}

fn total(parts: &HashMap<String, u64>) -> u64 {
    parts.values().sum()
}

/// The app's main process (the one tauri-driver's WebKitWebDriver started).
fn app_pid(app: &App) -> u32 {
    let pids = app.app_pids();
    assert_eq!(pids.len(), 1, "one app process expected: {pids:?}");
    pids[0]
}

/// Samples the tree's PSS every 200 ms on a thread, keeping the highest total.
struct PeakSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<Mutex<u64>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakSampler {
    fn start(root: u32) -> PeakSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let now = total(&pss_tree(root));
                if let Ok(mut peak) = p.lock() {
                    *peak = (*peak).max(now);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        PeakSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.peak.lock().map_or(0, |p| *p)
    }
}

// --- the page -------------------------------------------------------------------------------------

/// Watches for the next answer's viewer: the time (wall clock, ms) its first real lines are in
/// the DOM, and the starts of the two animation frames after.
const WATCH_PAINT: &str = r#"
const shown = document.getElementById('answer-viewer');
const b = { before: shown ? shown.getAttribute('data-answer-id') : null, done: false };
window.__benchPaint = b;
const ready = () => {
  const v = document.getElementById('answer-viewer');
  return v && v.getAttribute('data-answer-id') !== b.before && v.querySelector('#api-data .ln:not(.ln-pending)') ? v : null;
};
const seen = () => {
  const v = ready();
  if (b.dom || !v) return;
  b.dom = Date.now();
  b.id = v.getAttribute('data-answer-id');
  b.lines = v.querySelectorAll('#api-data .ln').length;
  b.title = v.querySelector('#answer-title')?.textContent ?? '';
  observer.disconnect();
  requestAnimationFrame(() => {
    b.frame = Date.now();
    requestAnimationFrame(() => { b.next = Date.now(); b.done = true; });
  });
};
const observer = new MutationObserver(seen);
observer.observe(document.body, { childList: true, subtree: true, attributes: true });
"#;

/// Starts recording every animation frame's duration (ms, from the frames' timestamps), when it
/// ended, and each key's handling (when it began, how long the page's handlers took, which key).
const RECORD_FRAMES: &str = r#"
const f = { deltas: [], ends: [], last: null, run: true, keys: [], start: performance.now(), keyAt: null };
window.__benchFrames = f;
f.before = () => { f.keyAt = performance.now(); };
f.after = (e) => {
  if (f.keyAt !== null) f.keys.push([f.keyAt - f.start, performance.now() - f.keyAt, e.key]);
  f.keyAt = null;
};
document.addEventListener('keydown', f.before, true);
window.addEventListener('keydown', f.after, false);
const tick = (t) => {
  if (f.last !== null) { f.deltas.push(t - f.last); f.ends.push(t - f.start); }
  f.last = t;
  if (f.run) requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"#;

/// Stops the recording; answers the deltas, and the frames over 33 ms with the keys handled in
/// them: [frame end (ms after the start), duration, keys, their handlers' ms].
const STOP_FRAMES: &str = r#"
const f = window.__benchFrames;
f.run = false;
document.removeEventListener('keydown', f.before, true);
window.removeEventListener('keydown', f.after, false);
const long = [];
f.deltas.forEach((d, i) => {
  if (d <= 33.4) return;
  const end = f.ends[i];
  const keys = f.keys.filter(([at]) => at > end - d && at <= end);
  long.push([Math.round(end), Math.round(d * 10) / 10, keys.map((k) => k[2]).join(' '),
             Math.round(keys.reduce((s, k) => s + k[1], 0) * 10) / 10]);
});
const handlers = f.keys.map((k) => k[1]);
return { deltas: f.deltas, long, keys: f.keys.length, handlerMax: handlers.length ? Math.max(...handlers) : 0 };
"#;

/// One send's figures.
struct Paint {
    bytes: u64,
    /// Last byte → the engine's first window ready (the rest is the IPC and the page), → lines
    /// in the DOM, → first frame's start, → the next frame's start (ms).
    engine_ms: f64,
    dom_ms: f64,
    frame_ms: f64,
    painted_ms: f64,
    lines_in_dom: u64,
}

/// The `unix_us` of the last `message` line (a `keyhole_core::timing` event) for a body of
/// `bytes` in the log after `offset`.
fn timing_us(log: &Path, offset: usize, message: &str, bytes: u64) -> Option<u64> {
    let text = fs::read(log).ok()?;
    let text = String::from_utf8_lossy(text.get(offset..)?).into_owned();
    let wanted = format!("bytes={bytes}");
    text.lines()
        .map(strip_ansi)
        .filter(|l| l.contains(message) && l.split_whitespace().any(|w| w == wanted))
        .filter_map(|clean| {
            let at = clean.split("unix_us=").nth(1)?;
            at.split_whitespace().next()?.parse::<u64>().ok()
        })
        .next_back()
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Sends `GET <sized>?bytes=<bytes>` with Send and measures last byte → first painted screen.
async fn timed_send(app: &App, sized: &str, bytes: u64) -> Paint {
    app.fill("#request-url", &format!("{sized}?bytes={bytes}"))
        .await;
    let log = app.driver_log_path();
    let offset = fs::metadata(&log).map_or(0, |m| m.len() as usize);
    app.execute(WATCH_PAINT).await;
    app.click("#call-api").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let watched = loop {
        let b = app.execute("return window.__benchPaint").await;
        if b["done"] == json!(true) {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "the viewer did not show the {bytes}-byte answer within 120 s: {b}{}",
            app.context().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The log line is written before the answer leaves the engine; allow the pipe a moment.
    let mut last = None;
    for _ in 0..50 {
        last = timing_us(&log, offset, LAST_BYTE, bytes);
        if last.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = last.unwrap_or_else(|| {
        panic!(
            "no `answer body: last byte … bytes={bytes}` line in {} (KEYHOLE_E2E_LOG must enable keyhole_core::timing=debug); its end:\n{}",
            log.display(),
            fs::read_to_string(&log).map(|t| t.lines().rev().take(15).collect::<Vec<_>>().join("\n")).unwrap_or_default()
        )
    }) as f64
        / 1000.0;
    let at = |key: &str| {
        watched[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {watched}"))
            - last
    };
    let kept = timing_us(&log, offset, KEPT, bytes).map_or(f64::NAN, |us| us as f64 / 1000.0);
    Paint {
        bytes,
        engine_ms: kept - last,
        dom_ms: at("dom"),
        frame_ms: at("frame"),
        painted_ms: at("next"),
        lines_in_dom: watched["lines"].as_u64().unwrap_or(0),
    }
}

/// The text of the last line in the DOM and of the first.
async fn edge_lines(app: &App) -> (String, String) {
    let v = app
        .execute(
            "const l = [...document.querySelectorAll('#api-data .ln:not(.ln-pending)')];\
             return [l.length ? l[0].textContent : '', l.length ? l[l.length - 1].textContent : ''];",
        )
        .await;
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_str().unwrap_or_default().to_owned(),
    )
}

/// Waits until the viewer's top line is `top` (or, with `None`, stops moving) and the DOM holds
/// no pending line.
async fn wait_settled(app: &App, top: Option<u64>) {
    let deadline = Instant::now() + WAIT;
    let mut previous = None;
    loop {
        let state = app
            .execute(
                "const v = document.getElementById('answer-viewer');\
                 return [Number(v.getAttribute('data-top')), document.querySelectorAll('#api-data .ln-pending').length];",
            )
            .await;
        let now = state[0].as_u64();
        let pending = state[1].as_u64().unwrap_or(1);
        let arrived = match top {
            Some(top) => now == Some(top),
            None => now.is_some() && now == previous,
        };
        if arrived && pending == 0 {
            return;
        }
        previous = now;
        assert!(
            Instant::now() < deadline,
            "the viewer did not settle (top {now:?}, wanted {top:?}, {pending} pending lines)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Frames {
    deltas: Vec<f64>,
    seconds: f64,
    /// The frames over 33 ms: [end, duration, keys handled in them, their handlers' ms].
    long: Value,
    keys: u64,
    handler_max_ms: f64,
}

impl Frames {
    fn max(&self) -> f64 {
        self.deltas.iter().copied().fold(0.0, f64::max)
    }
    fn quantile(&self, q: f64) -> f64 {
        quantile(&self.deltas, q)
    }
    fn over(&self, ms: f64) -> usize {
        self.deltas.iter().filter(|d| **d > ms).count()
    }
    fn json(&self) -> Value {
        json!({
            "frames": self.deltas.len(),
            "seconds": round(self.seconds, 2),
            "max_ms": round(self.max(), 1),
            "p99_ms": round(self.quantile(0.99), 1),
            "p50_ms": round(self.quantile(0.5), 1),
            "over_50_ms": self.over(FRAME_GOAL_MS),
            "over_33_ms": self.over(33.4),
            "keys_handled": self.keys,
            "key_handler_max_ms": round(self.handler_max_ms, 1),
            "long_frames": self.long,
        })
    }
}

async fn stop_frames(app: &App, started: Instant) -> Frames {
    let recorded = app.execute(STOP_FRAMES).await;
    let deltas: Vec<f64> = recorded["deltas"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    assert!(!deltas.is_empty(), "no animation frame was recorded");
    Frames {
        deltas,
        seconds: started.elapsed().as_secs_f64(),
        long: recorded["long"].clone(),
        keys: recorded["keys"].as_u64().unwrap_or(0),
        handler_max_ms: recorded["handlerMax"].as_f64().unwrap_or(0.0),
    }
}

/// Home, PageDown × `pages`, End, PageUp × `pages`, Home on the focused viewer, frames recorded.
/// The keys go through WebDriver's input actions ([`App::type_keys`]), which hold no handle to
/// the viewer's scroll area: one would keep the closed viewer alive for the memory figure.
async fn keyboard_scroll(app: &App, pages: usize) -> Frames {
    app.execute("document.getElementById('answer-scroll').focus()")
        .await;
    app.type_keys(HOME).await;
    wait_settled(app, Some(0)).await;
    app.execute(RECORD_FRAMES).await;
    let started = Instant::now();
    // In bursts of 20 presses (one WebDriver command each), as a held key repeats.
    for _ in 0..pages.div_ceil(20) {
        app.type_keys(&PAGE_DOWN.repeat(20)).await;
    }
    app.type_keys(END).await;
    wait_settled(app, None).await;
    let (_, last) = edge_lines(app).await;
    assert_eq!(last, "}\n", "End shows the body's closing brace");
    for _ in 0..pages.div_ceil(20) {
        app.type_keys(&PAGE_UP.repeat(20)).await;
    }
    app.type_keys(HOME).await;
    wait_settled(app, Some(0)).await;
    let (first, _) = edge_lines(app).await;
    assert_eq!(first, "{\n", "Home shows the body's opening brace");
    stop_frames(app, started).await
}

/// The scroll area's whole height in `steps` steps, one per animation frame, then back to the top.
async fn scrollbar_sweep(app: &App, steps: u32) -> Frames {
    app.execute(RECORD_FRAMES).await;
    let started = Instant::now();
    // One scrollTop step per animation frame, as a scrollbar dragged from top to bottom.
    let sweep = "new Promise((resolve) => {\
          const s = document.getElementById('answer-scroll');\
          const steps = arguments[0];\
          let i = 0;\
          const step = () => {\
            i += 1;\
            s.scrollTop = Math.round((s.scrollHeight - s.clientHeight) * i / steps);\
            if (i < steps) requestAnimationFrame(step); else resolve(s.scrollTop);\
          };\
          requestAnimationFrame(step);\
        })";
    let swept = app.execute_async_json(sweep, json!(steps)).await;
    assert!(swept.get("ok").is_some(), "the sweep failed: {swept}");
    wait_settled(app, None).await;
    let (_, last) = edge_lines(app).await;
    assert_eq!(last, "}\n", "the sweep reached the body's end");
    app.execute("document.getElementById('answer-scroll').scrollTop = 0")
        .await;
    wait_settled(app, Some(0)).await;
    stop_frames(app, started).await
}

// --- figures --------------------------------------------------------------------------------------

fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = (q * (v.len() - 1) as f64).round() as usize;
    v[rank.min(v.len() - 1)]
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn pss_json(m: &Memory) -> Value {
    let mut by: Vec<(&String, &u64)> = m.pss.iter().collect();
    by.sort();
    json!({
        "pss_kib": total(&m.pss),
        "pss_by_process_kib": by.into_iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "uss_kib": m.uss,
        "anonymous_kib": total(&m.anon),
        "anonymous_by_process_kib": m.anon.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "other_webkit_processes_on_machine": m.outside_webkit,
    })
}

fn out_path() -> PathBuf {
    std::env::var_os("BENCH_VIEWER_JSON")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("bench/viewer.json"))
}

/// One 50 MB answer's memory in an app already warm: settled before the send, shown, after the
/// keyboard scroll and the scrollbar sweep (whose frames it keeps), and after closing its tab,
/// sampled every 500 ms until at most FALL_BACK_SHARE of the body is left over what was there
/// before it, or `fall_back_limit` has passed.
struct Round {
    before: Memory,
    shown: Memory,
    scrolled: Memory,
    closed: Memory,
    /// The highest total PSS sampled from the send to after scrolling, and after closing.
    peak: u64,
    closing_peak: u64,
    fell_back_after: Option<Duration>,
    keys: Frames,
    sweep: Frames,
}

impl Round {
    /// What is left after closing over what was there before the send, in units of the body.
    fn left(&self) -> f64 {
        left_of(&self.before, &self.closed)
    }
}

fn left_of(before: &Memory, now: &Memory) -> f64 {
    (total(&now.pss) as f64 - total(&before.pss) as f64) / BODY_KIB
}

async fn memory_round(
    app: &App,
    pid: u32,
    sized: &str,
    pages: usize,
    settle: Duration,
    fall_back_limit: Duration,
) -> Round {
    let before = memory(pid);
    let sampler = PeakSampler::start(pid);
    let shown_at = timed_send(app, sized, LARGE).await;
    eprintln!(
        "[{TEST}] 50 MB shown, painted {:.1} ms after the last byte",
        shown_at.painted_ms
    );
    tokio::time::sleep(settle).await;
    let shown = memory(pid);
    let keys = keyboard_scroll(app, pages).await;
    eprintln!(
        "[{TEST}] keyboard scroll: {} frames, max {:.1} ms, p99 {:.1} ms",
        keys.deltas.len(),
        keys.max(),
        keys.quantile(0.99)
    );
    let sweep = scrollbar_sweep(app, 60).await;
    eprintln!(
        "[{TEST}] scrollbar sweep: {} frames, max {:.1} ms, p99 {:.1} ms",
        sweep.deltas.len(),
        sweep.max(),
        sweep.quantile(0.99)
    );
    tokio::time::sleep(settle).await;
    let scrolled = memory(pid);
    let peak = sampler.finish();
    app.click("#request-url").await;
    app.press(&format!("{CONTROL}w{RELEASE}")).await;
    app.wait_for("the empty tab", "#api-result[data-result=\"idle\"]", WAIT)
        .await;
    // The page frees the closed viewer in slices (ui/collect.js) and JavaScriptCore gives the
    // pages back when it collects: sampled until at most FALL_BACK_SHARE is left.
    let closed_at = Instant::now();
    let mut closing_peak = 0;
    let (closed, fell_back_after) = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = memory(pid);
        closing_peak = closing_peak.max(total(&now.pss));
        if left_of(&before, &now) <= FALL_BACK_SHARE {
            break (now, Some(closed_at.elapsed()));
        }
        if closed_at.elapsed() >= fall_back_limit {
            break (now, None);
        }
    };
    eprintln!(
        "[{TEST}] tab closed: {:.2}× the body left after {:.1} s",
        left_of(&before, &closed),
        closed_at.elapsed().as_secs_f64()
    );
    Round {
        before,
        shown,
        scrolled,
        closed,
        peak,
        closing_peak,
        fell_back_after,
        keys,
        sweep,
    }
}

#[tokio::test]
#[ignore = "a benchmark, run by scripts/bench against the release app"]
async fn answer_viewer_speed_and_memory_through_the_real_window() {
    let runs = env_number("BENCH_VIEWER_RUNS", 5).max(1) as usize;
    let pages = env_number("BENCH_VIEWER_PAGES", 300).max(1) as usize;
    let settle = Duration::from_secs(env_number("BENCH_VIEWER_SETTLE_SECONDS", 3));
    let sandbox = keyhole_sandbox::shared();
    let sized = &sandbox.api.sized;
    let binary = common::app_binary();
    let (app, _profile) = launch_signed_in(TEST, "user_2e2e_viewer_bench").await;
    let pid = app_pid(&app);
    let load = || {
        fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let load_before = load();
    let size = app.execute("return [innerWidth, innerHeight]").await;
    eprintln!(
        "[{TEST}] driving {} (pid {pid}), page {size}",
        binary.display()
    );

    // --- memory, with the scrolls on the same 50 MB answer -----------------------------------
    let warm = timed_send(&app, sized, SMALL).await;
    eprintln!(
        "[{TEST}] warm-up 100 KB: painted {:.1} ms after the last byte",
        warm.painted_ms
    );
    let fall_back_limit = Duration::from_secs(env_number("BENCH_VIEWER_FALL_BACK_SECONDS", 20));
    tokio::time::sleep(settle).await;
    let first = memory_round(&app, pid, sized, pages, settle, fall_back_limit).await;
    // The same again in the same app: what the first answer left and a second does not add to
    // is the page's first use, not an answer's.
    tokio::time::sleep(settle).await;
    let again = memory_round(&app, pid, sized, pages, settle, fall_back_limit).await;
    let (before, shown, scrolled, closed) =
        (&first.before, &first.shown, &first.scrolled, &first.closed);
    let (keys, sweep, peak) = (&first.keys, &first.sweep, first.peak);

    // --- last byte → first painted screen, alternating sizes ---------------------------------
    let mut small = Vec::new();
    let mut large = Vec::new();
    // One of each first, not counted (the 100 KB one above warmed the small path already).
    let _ = timed_send(&app, sized, LARGE).await;
    for round in 0..runs {
        let order = if round % 2 == 0 {
            [SMALL, LARGE]
        } else {
            [LARGE, SMALL]
        };
        for bytes in order {
            let paint = timed_send(&app, sized, bytes).await;
            eprintln!(
                "[{TEST}] round {} {:>8} B: engine {:5.1} ms, lines in the DOM {:6.1} ms, first frame {:6.1} ms, painted {:6.1} ms after the last byte ({} lines in the DOM)",
                round + 1,
                paint.bytes,
                paint.engine_ms,
                paint.dom_ms,
                paint.frame_ms,
                paint.painted_ms,
                paint.lines_in_dom
            );
            if bytes == SMALL {
                small.push(paint);
            } else {
                large.push(paint);
            }
        }
    }
    app.quit().await;
    let load_after = load();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);

    // --- report -----------------------------------------------------------------------------
    let figures = |v: &[Paint], f: fn(&Paint) -> f64| v.iter().map(f).collect::<Vec<f64>>();
    let small_painted = figures(&small, |p| p.painted_ms);
    let large_painted = figures(&large, |p| p.painted_ms);
    let ratio = median(&large_painted) / median(&small_painted);
    let grown = total(&shown.pss).max(total(&scrolled.pss)) as f64 - total(&before.pss) as f64;
    let growth = grown / BODY_KIB;
    let peak_growth = (peak.max(total(&shown.pss)) as f64 - total(&before.pss) as f64) / BODY_KIB;
    let left = first.left();
    let left_again = again.left();
    // USS (private pages) is not moved by other processes sharing libraries, as PSS is.
    let uss_growth = (shown.uss.max(scrolled.uss) as f64 - before.uss as f64) / BODY_KIB;
    let uss_left = (closed.uss as f64 - before.uss as f64) / BODY_KIB;
    let anon_growth = (total(&shown.anon).max(total(&scrolled.anon)) as f64
        - total(&before.anon) as f64)
        / BODY_KIB;
    let anon_left = (total(&closed.anon) as f64 - total(&before.anon) as f64) / BODY_KIB;
    // Per process: the app's (the engine's copy of the body) and the web page's.
    let anon_of = |m: &Memory, name: &str| m.anon.get(name).copied().unwrap_or(0) as f64 / 1024.0;
    let anon_app = [before, shown, scrolled, closed].map(|m| anon_of(m, "app"));
    let anon_web = [before, shown, scrolled, closed].map(|m| anon_of(m, "WebKitWebProces"));
    let outside = [
        before,
        shown,
        scrolled,
        closed,
        &again.before,
        &again.closed,
    ]
    .iter()
    .map(|m| m.outside_webkit)
    .max()
    .unwrap_or(0);
    let fell_back_text = |round: &Round| match round.fell_back_after {
        Some(after) => format!("yes, {:.1} s after closing", after.as_secs_f64()),
        None => format!("no, within {} s", fall_back_limit.as_secs()),
    };
    let frame_max = keys.max();

    let build = if binary.to_string_lossy().contains("/release/") {
        "release build"
    } else {
        "debug build"
    };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "answer viewer (real window, {}), last byte → first painted screen, median of {runs}: 100 KB {:.1} ms, 50 MB {:.1} ms; ratio 50 MB / 100 KB {:.2} (goal: at most {PAINT_RATIO_GOAL}: {}); of which the engine (last byte → first window ready) 100 KB {:.2} ms, 50 MB {:.2} ms; lines in the DOM 100 KB {:.1} ms, 50 MB {:.1} ms",
        build,
        median(&small_painted),
        median(&large_painted),
        ratio,
        met(ratio <= PAINT_RATIO_GOAL),
        median(&figures(&small, |p| p.engine_ms)),
        median(&figures(&large, |p| p.engine_ms)),
        median(&figures(&small, |p| p.dom_ms)),
        median(&figures(&large, |p| p.dom_ms)),
    );
    let _ = writeln!(
        text,
        "answer viewer, scrolling 50 MB end to end with the keyboard (Home, {pages}×PageDown, End, {pages}×PageUp, Home): {} frames in {:.1} s, max {:.1} ms, p99 {:.1} ms, {} over {FRAME_GOAL_MS} ms (goal: every frame under {FRAME_GOAL_MS} ms: {}); scrollbar sweep top to end in 60 steps: max {:.1} ms, p99 {:.1} ms, {} over {FRAME_GOAL_MS} ms",
        keys.deltas.len(),
        keys.seconds,
        frame_max,
        keys.quantile(0.99),
        keys.over(FRAME_GOAL_MS),
        met(frame_max < FRAME_GOAL_MS),
        sweep.max(),
        sweep.quantile(0.99),
        sweep.over(FRAME_GOAL_MS)
    );
    let _ = writeln!(
        text,
        "answer viewer, PSS (app + WebKit): before {:.1} MiB, 50 MB shown {:.1} MiB, after scrolling {:.1} MiB, peak sampled {:.1} MiB, tab closed {:.1} MiB (peak while it falls back {:.1} MiB); growth {:.2}× the body (goal: at most {PSS_GROWTH_GOAL}×: {}; peak {:.2}×), left after closing {:.2}× the body ({}, at most {FALL_BACK_SHARE}× left); USS growth {:.2}×, left {:.2}×; anonymous memory (heaps, unmoved by sharing) growth {:.2}×, left {:.2}× — app process {:.0} → {:.0} → {:.0} → {:.0} MiB, web process {:.0} → {:.0} → {:.0} → {:.0} MiB (before, shown, scrolled, closed){}",
        mib(total(&before.pss)),
        mib(total(&shown.pss)),
        mib(total(&scrolled.pss)),
        mib(peak),
        mib(total(&closed.pss)),
        mib(first.closing_peak),
        growth,
        met(growth <= PSS_GROWTH_GOAL),
        peak_growth,
        left,
        fell_back_text(&first),
        uss_growth,
        uss_left,
        anon_growth,
        anon_left,
        anon_app[0],
        anon_app[1],
        anon_app[2],
        anon_app[3],
        anon_web[0],
        anon_web[1],
        anon_web[2],
        anon_web[3],
        if outside > 0 {
            format!(" (up to {outside} other WebKit processes on the machine: their shared libraries move PSS)")
        } else {
            String::new()
        }
    );
    let fell_back = left_again <= FALL_BACK_SHARE;
    let _ = writeln!(
        text,
        "answer viewer, falls back after closing the tab (goal: at most {FALL_BACK_SHARE}× the body left over what was there before the answer): the first 50 MB answer left {:.2}× ({}: the page's first use, kept whatever comes after); a second 50 MB answer, shown, scrolled and closed the same way in the same app, {:.1} → {:.1} MiB → closed {:.1} MiB (peak while it falls back {:.1} MiB): {:.2}× left ({}): {}",
        left,
        fell_back_text(&first),
        mib(total(&again.before.pss)),
        mib(total(&again.shown.pss).max(total(&again.scrolled.pss))),
        mib(total(&again.closed.pss)),
        mib(again.closing_peak),
        left_again,
        fell_back_text(&again),
        met(fell_back),
    );
    let _ = writeln!(
        text,
        "answer viewer: load average before/after {load_before} / {load_after} on {cores} cores (frames and times are noisy on a busy machine)"
    );
    print!("{text}");

    let paints = |v: &[Paint]| {
        json!({
            "painted_ms": v.iter().map(|p| round(p.painted_ms, 1)).collect::<Vec<_>>(),
            "first_frame_ms": v.iter().map(|p| round(p.frame_ms, 1)).collect::<Vec<_>>(),
            "lines_in_dom_ms": v.iter().map(|p| round(p.dom_ms, 1)).collect::<Vec<_>>(),
            "engine_ms": v.iter().map(|p| round(p.engine_ms, 2)).collect::<Vec<_>>(),
            "median_engine_ms": round(median(&figures(v, |p| p.engine_ms)), 2),
            "lines_in_dom": v.iter().map(|p| p.lines_in_dom).collect::<Vec<_>>(),
            "median_painted_ms": round(median(&figures(v, |p| p.painted_ms)), 1),
            "median_first_frame_ms": round(median(&figures(v, |p| p.frame_ms)), 1),
            "median_lines_in_dom_ms": round(median(&figures(v, |p| p.dom_ms)), 1),
        })
    };
    let report = json!({
        "binary": binary.display().to_string(),
        "window": size,
        "runs": runs,
        "load_average": { "before": load_before, "after": load_after, "cores": cores },
        "definitions": {
            "last_byte": "the engine's wall-clock time when the body's last chunk was read (keyhole_core::timing, `answer body: last byte` in the app's log)",
            "engine": "the engine's wall-clock time when the kept answer's first window is ready (`answer kept: first window ready`), after the last byte",
            "lines_in_dom": "Date.now() in the page when a MutationObserver first sees the new answer's viewer with a fetched line in the DOM",
            "first_frame": "the start of the first requestAnimationFrame callback after that (the frame that lays out and draws them)",
            "painted": "the start of the animation frame after that one: the frame that drew the lines has been rendered (its presentation to the X server by WebKit's compositor is not included)",
            "frames": "requestAnimationFrame timestamp deltas in the page while scrolling",
            "pss": "Pss from /proc/<pid>/smaps_rollup summed over the app process and all its descendants, each settled for BENCH_VIEWER_SETTLE_SECONDS, and after closing the tab sampled every 500 ms until at most fell_back_share of the body is left (at most BENCH_VIEWER_FALL_BACK_SECONDS); peak sampled every 200 ms from before the send to after scrolling, and while falling back (closing_peak_pss_kib); `again`: a second 50 MB answer the same way in the same app, its `before` after the first one's tab was closed; `fell_back` (the goal) is judged on it, the first answer's left-over being the page's first use",
        },
        "paint": {
            "small_bytes": SMALL,
            "large_bytes": LARGE,
            "small": paints(&small),
            "large": paints(&large),
            "ratio": round(ratio, 2),
            "goal": PAINT_RATIO_GOAL,
            "met": ratio <= PAINT_RATIO_GOAL,
        },
        "scroll": {
            "keyboard": keys.json(),
            "keyboard_pages": pages,
            "scrollbar_sweep": sweep.json(),
            "goal_ms": FRAME_GOAL_MS,
            "met": frame_max < FRAME_GOAL_MS,
        },
        "memory": {
            "body_bytes": LARGE,
            "settle_seconds": settle.as_secs(),
            "before": pss_json(before),
            "shown": pss_json(shown),
            "scrolled": pss_json(scrolled),
            "peak_total_kib": peak,
            "closed": pss_json(closed),
            "growth_times_body": round(growth, 2),
            "peak_growth_times_body": round(peak_growth, 2),
            "left_after_close_times_body": round(left, 2),
            "goal_times_body": PSS_GROWTH_GOAL,
            "met": growth <= PSS_GROWTH_GOAL,
            "fell_back_share": FALL_BACK_SHARE,
            "fell_back_after_seconds": first.fell_back_after.map(|after| round(after.as_secs_f64(), 1)),
            "fall_back_wait_limit_seconds": fall_back_limit.as_secs(),
            "closing_peak_pss_kib": first.closing_peak,
            "again": {
                "before": pss_json(&again.before),
                "shown": pss_json(&again.shown),
                "scrolled": pss_json(&again.scrolled),
                "closed": pss_json(&again.closed),
                "peak_total_kib": again.peak,
                "closing_peak_pss_kib": again.closing_peak,
                "left_after_close_times_body": round(left_again, 2),
                "fell_back_after_seconds": again.fell_back_after.map(|after| round(after.as_secs_f64(), 1)),
            },
            "fell_back": fell_back,
            "uss_growth_times_body": round(uss_growth, 2),
            "uss_left_after_close_times_body": round(uss_left, 2),
            "anonymous_growth_times_body": round(anon_growth, 2),
            "anonymous_left_after_close_times_body": round(anon_left, 2),
        },
    });
    let out = out_path();
    if let Some(dir) = out.parent() {
        fs::create_dir_all(dir).expect("create the bench folder");
    }
    fs::write(
        &out,
        serde_json::to_string_pretty(&report).expect("JSON") + "\n",
    )
    .expect("write the viewer JSON");
    fs::write(out.with_file_name("viewer.txt"), &text).expect("write the viewer summary");
    eprintln!("[{TEST}] wrote {}", out.display());
}
