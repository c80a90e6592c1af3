//! The answers a front end keeps for its viewer: the last answer of each tab, as an [`Answer`]
//! over the raw bytes, reached by id. Keeping a new answer in a tab frees the one before; closing
//! a tab frees its answer ([`Answers::drop_answer`]). The policy lives here, not in the shell:
//! what the first screen carries, when the index completes in the background, what a filter
//! result is, and what Save body does with an answer longer than the kept 50 MB (sends the
//! request again and streams it whole into the file, [`Service::save_body`]).
//!
//! Bodies can hold secrets: they stay in memory only, are never logged and never stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde::Serialize;

use crate::api::answer::{Answer, Kind, Matches, Mode, Window};
use crate::api::request::ApiRequest;
use crate::engine::ApiResult;
use crate::error::{Error, Result};
use crate::service::Service;

/// Lines sent with the answer, so the viewer paints its first screen without asking.
pub const FIRST_WINDOW: usize = 120;
/// Lines indexed per step of the background indexer (each step holds the index's lock).
const INDEX_STEP: usize = 20_000;

/// What a window learns of an answer: enough to paint the viewer's first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerView {
    /// The id the viewer's calls take.
    pub id: u64,
    /// `json`, `text`, `binary` or `empty`.
    pub kind: Kind,
    /// The true size in bytes (a lower bound when `size_known` is false).
    pub size: u64,
    /// Bytes kept (at most 50 MB).
    pub kept: u64,
    /// True when only the first `kept` bytes were kept.
    pub truncated: bool,
    /// False when counting past the cap ran out of time.
    pub size_known: bool,
    /// The first lines, pretty.
    pub first: Window,
}

/// A saved body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// Where it went.
    pub path: String,
    /// Bytes written.
    pub bytes: u64,
    /// True when the request was sent again to stream all of it (an answer past 50 MB).
    pub resent: bool,
}

struct Entry {
    tab: u64,
    answer: Arc<Answer>,
    /// The request that got it (the template: `{{variables}}` unresolved, no token), for Save
    /// body of an answer longer than what is kept.
    request: ApiRequest,
    /// The last filter's result, with its own id.
    filtered: Option<(u64, Arc<Answer>)>,
    truncated: bool,
}

/// The answers kept, one per tab.
#[derive(Default)]
pub struct Answers {
    next: AtomicU64,
    entries: Mutex<HashMap<u64, Entry>>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("kept", &lock(&self.entries).len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn gone() -> Error {
    Error::AnswerGone
}

impl Answers {
    fn new_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Keeps `result`'s body as the answer of `tab` (replacing, and freeing, the one before);
    /// answers its view. The pretty index completes in the background when a tokio runtime runs.
    pub fn keep(&self, tab: u64, request: &ApiRequest, result: &ApiResult) -> AnswerView {
        let response = &result.response;
        let answer = Arc::new(Answer::new(
            response.raw.clone(),
            response.content_type.as_deref(),
        ));
        let id = self.new_id();
        let view = AnswerView {
            id,
            kind: answer.kind(),
            size: response.size,
            kept: response.kept,
            truncated: response.truncated,
            size_known: response.size_known,
            first: answer.lines(Mode::Pretty, 0, FIRST_WINDOW),
        };
        if !view.first.complete {
            index_in_background(Arc::downgrade(&answer));
        }
        log_kept(response.kept);
        let entry = Entry {
            tab,
            answer,
            request: request.without_credentials(),
            filtered: None,
            truncated: response.truncated,
        };
        let mut entries = lock(&self.entries);
        entries.retain(|_, e| e.tab != tab);
        entries.insert(id, entry);
        view
    }

    /// The answer (or filter result) with `id`.
    fn get(&self, id: u64) -> Result<Arc<Answer>> {
        let entries = lock(&self.entries);
        if let Some(entry) = entries.get(&id) {
            return Ok(entry.answer.clone());
        }
        entries
            .values()
            .find_map(|e| {
                e.filtered
                    .as_ref()
                    .filter(|(fid, _)| *fid == id)
                    .map(|(_, a)| a.clone())
            })
            .ok_or_else(gone)
    }

    /// How many answers are kept (filter results aside).
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A window of visible lines of answer `id`.
    pub fn lines(&self, id: u64, mode: Mode, from: usize, count: usize) -> Result<Window> {
        Ok(self.get(id)?.lines(mode, from, count))
    }

    /// Folds or unfolds line `line`; the visible line count after.
    pub fn fold(&self, id: u64, mode: Mode, line: usize, folded: bool) -> Result<usize> {
        Ok(self.get(id)?.fold(mode, line, folded))
    }

    /// Searches the whole answer, ignoring case.
    pub fn search(&self, id: u64, mode: Mode, query: &str) -> Result<Matches> {
        Ok(self.get(id)?.search(mode, query))
    }

    /// Filters answer `id` (a tab's answer, not a previous filter's result) with a JSONPath
    /// expression; the result, a new answer with its own id, replaces the previous filter's.
    pub fn filter(&self, id: u64, expression: &str) -> Result<AnswerView> {
        let answer = lock(&self.entries)
            .get(&id)
            .map(|e| e.answer.clone())
            .ok_or_else(gone)?;
        let filtered = Arc::new(answer.filter(expression)?);
        let fid = self.new_id();
        let size = filtered.bytes().len() as u64;
        let view = AnswerView {
            id: fid,
            kind: filtered.kind(),
            size,
            kept: size,
            truncated: false,
            size_known: true,
            first: filtered.lines(Mode::Pretty, 0, FIRST_WINDOW),
        };
        if !view.first.complete {
            index_in_background(Arc::downgrade(&filtered));
        }
        let mut entries = lock(&self.entries);
        let entry = entries.get_mut(&id).ok_or_else(gone)?;
        entry.filtered = Some((fid, filtered));
        Ok(view)
    }

    /// The text of `mode` (pretty: re-indented), for Copy.
    pub fn text(&self, id: u64, mode: Mode) -> Result<String> {
        Ok(self.get(id)?.text(mode))
    }

    /// Writes the whole body of answer `id` (or of a filter result) to `path` (`~/` is the home
    /// folder): the kept bytes, or, for an answer longer than the kept 50 MB, all of it, sent again
    /// through `service` and streamed into the file as it comes.
    pub async fn save(&self, id: u64, path: &str, service: &Service) -> Result<Saved> {
        let path = save_path(path)?;
        let (answer, resend) = {
            let entries = lock(&self.entries);
            match entries.get(&id) {
                Some(entry) => (
                    entry.answer.clone(),
                    entry.truncated.then(|| entry.request.clone()),
                ),
                None => (
                    entries
                        .values()
                        .find_map(|e| e.filtered.as_ref().filter(|(fid, _)| *fid == id))
                        .map(|(_, a)| a.clone())
                        .ok_or_else(gone)?,
                    None,
                ),
            }
        };
        let shown = path.display().to_string();
        if let Some(request) = resend {
            let (_, bytes) = service.save_body(&request, &path).await?;
            return Ok(Saved {
                path: shown,
                bytes,
                resent: true,
            });
        }
        let bytes = answer.bytes().clone();
        let target = path.clone();
        let write = move || std::fs::write(&target, &bytes);
        let outcome = match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::spawn_blocking(write)
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string()))),
            Err(_) => write(),
        };
        outcome.map_err(|e| {
            Error::SaveBody(format!(
                "Could not write {shown}: {e}. Choose another file."
            ))
        })?;
        Ok(Saved {
            path: shown,
            bytes: answer.bytes().len() as u64,
            resent: false,
        })
    }

    /// Frees answer `id` (with its filter result); an unknown id changes nothing.
    pub fn drop_answer(&self, id: u64) {
        lock(&self.entries).remove(&id);
    }

    /// Frees the answer of `tab`, if any (the tab was closed).
    pub fn drop_tab(&self, tab: u64) {
        lock(&self.entries).retain(|_, e| e.tab != tab);
    }
}

/// Logs when a kept answer's first window is ready for the window, at debug level under
/// `keyhole_core::timing` with the wall clock in microseconds (scripts/bench's viewer figures
/// split "last byte → first painted screen" at it into the engine's part and the window's).
fn log_kept(bytes: u64) {
    let unix_us = crate::timing::unix_micros(std::time::SystemTime::now());
    tracing::debug!(target: "keyhole_core::timing", unix_us, bytes, "answer kept: first window ready");
}

/// An absolute path (`~/` expanded) whose folder exists.
fn save_path(path: &str) -> Result<PathBuf> {
    let path = path.trim();
    let expanded = match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    };
    if path.is_empty() || !expanded.is_absolute() {
        return Err(Error::SaveBody(
            "Enter the full path of the file to write, such as ~/Downloads/answer.json.".into(),
        ));
    }
    if !expanded.parent().is_some_and(Path::is_dir) {
        return Err(Error::SaveBody(format!(
            "The folder of {} does not exist: choose an existing folder.",
            expanded.display()
        )));
    }
    if expanded.is_dir() {
        return Err(Error::SaveBody(format!(
            "{} is a folder: add a file name, such as answer.json.",
            expanded.display()
        )));
    }
    Ok(expanded)
}

/// The background indexer's thread name (it runs at the lowest CPU priority).
pub const INDEX_THREAD: &str = "keyhole-index";

/// Completes the pretty index off the caller's path, so End and the scrollbar know every line;
/// stops when the answer is dropped. Without a tokio runtime the index grows as lines are asked.
///
/// On a thread of its own at the lowest CPU priority (nice 19), not on tokio's blocking pool:
/// right after the answer is kept, the window sends, receives and paints the first screen, and
/// on a machine with few cores a 50 MB index taking a core at normal priority delays that paint
/// (scripts/bench's viewer figures). It still gets every core nobody else wants.
fn index_in_background(answer: Weak<Answer>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name(INDEX_THREAD.to_owned())
        .spawn(move || {
            lowest_priority();
            while let Some(answer) = answer.upgrade() {
                if answer.index_more(Mode::Pretty, INDEX_STEP) {
                    break;
                }
            }
        });
    if let Err(error) = spawned {
        // The index then grows as lines are asked, as without a runtime.
        tracing::warn!(%error, "could not start the answer indexer");
    }
}

/// Lowers the calling thread's CPU priority to nice 19 (Linux: the nice value is per thread).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority(2) with PRIO_PROCESS and 0 changes only the calling thread on Linux;
    // a failure leaves the priority as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::probe::{ApiResponse, Body};

    fn result(body: &str, truncated: bool) -> ApiResult {
        ApiResult {
            response: ApiResponse {
                method: "GET".into(),
                status: 200,
                ok: true,
                reason: "OK".into(),
                url: "http://127.0.0.1:1/a".into(),
                elapsed_ms: 1,
                ttfb_ms: 1,
                size: body.len() as u64 + u64::from(truncated),
                kept: body.len() as u64,
                truncated,
                size_known: true,
                raw: bytes::Bytes::from(body.to_owned()),
                content_type: Some("application/json".into()),
                headers: vec![],
                body: Body::Empty,
                blocked_redirect: None,
            },
            diagnosis: None,
            warnings: vec![],
        }
    }

    fn request() -> ApiRequest {
        ApiRequest::get(&"http://127.0.0.1:1/a".parse().unwrap())
    }

    #[test]
    fn a_new_answer_in_a_tab_frees_the_one_before_and_closing_the_tab_frees_it() {
        let answers = Answers::default();
        let first = answers.keep(1, &request(), &result(r#"{"a":1}"#, false));
        let other = answers.keep(2, &request(), &result("[1,2]", false));
        assert_eq!(first.first.lines.len(), 3);
        assert_eq!(answers.len(), 2);
        let second = answers.keep(1, &request(), &result("[]", false));
        assert_ne!(first.id, second.id);
        assert_eq!(answers.len(), 2);
        assert_eq!(
            answers
                .lines(first.id, Mode::Pretty, 0, 10)
                .unwrap_err()
                .kind(),
            "answer_gone"
        );
        answers.drop_tab(2);
        assert_eq!(
            answers
                .lines(other.id, Mode::Raw, 0, 10)
                .unwrap_err()
                .kind(),
            "answer_gone",
            "a closed tab's answer is freed"
        );
        answers.drop_answer(second.id);
        assert!(answers.is_empty());
    }

    #[test]
    fn a_filter_result_is_an_answer_of_its_own_freed_with_its_base() {
        let answers = Answers::default();
        let base = answers.keep(
            1,
            &request(),
            &result(r#"{"items":[{"n":"a"},{"n":"b"}]}"#, false),
        );
        let filtered = answers.filter(base.id, "$.items[*].n").unwrap();
        assert_eq!(
            answers.text(filtered.id, Mode::Raw).unwrap(),
            r#"["a","b"]"#
        );
        let bad = answers.filter(base.id, "items[").unwrap_err();
        assert_eq!(bad.kind(), "bad_filter");
        assert!(!bad.to_string().contains('\n'), "one sentence: {bad}");
        answers.drop_answer(base.id);
        assert_eq!(
            answers.text(filtered.id, Mode::Raw).unwrap_err().kind(),
            "answer_gone",
            "the filter result goes with its base"
        );
    }

    /// The nice value of this process's thread named `name`, if one runs.
    #[cfg(target_os = "linux")]
    fn thread_nice(name: &str) -> Option<i64> {
        for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let path = task.path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            if comm.trim() != name {
                continue;
            }
            let stat = std::fs::read_to_string(path.join("stat")).ok()?;
            // After "pid (comm) ": state is field 3, nice field 19.
            let rest = stat.rsplit_once(')')?.1;
            return rest.split_whitespace().nth(16)?.parse().ok();
        }
        None
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_large_answer_is_indexed_in_the_background_at_the_lowest_priority() {
        // ~25 MB of lines: indexing it takes long enough to see the indexer running.
        let item = r#"{"id":"item_00000000","n":1},"#;
        let mut body = String::from("[");
        while body.len() < 25_000_000 {
            body.push_str(item);
        }
        body.push_str("0]");
        let answers = Answers::default();
        let view = answers.keep(1, &request(), &result(&body, false));
        assert!(!view.first.complete);
        let mut seen = None;
        for _ in 0..200 {
            seen = thread_nice(INDEX_THREAD);
            if seen.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(
            seen,
            Some(19),
            "the indexer runs on its own thread at nice 19"
        );
        assert_eq!(
            thread_nice("tokio-runtime-worker").unwrap_or(0),
            0,
            "tokio's own threads keep their priority"
        );
        // It ends once the index is complete (the answer is still kept).
        for _ in 0..600 {
            if thread_nice(INDEX_THREAD).is_none() {
                assert_eq!(answers.len(), 1);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the background indexer did not finish within 30 s");
    }

    #[test]
    fn save_paths_are_full_and_in_a_folder_that_exists() {
        for relative in ["answer.json", ""] {
            let err = save_path(relative).unwrap_err();
            assert_eq!(err.kind(), "save_body", "{relative:?}");
            assert!(
                err.to_string().contains("Enter the full path"),
                "{relative:?}: {err}"
            );
        }
        assert!(save_path("/no/such/folder/answer.json")
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
        assert!(save_path("/tmp")
            .unwrap_err()
            .to_string()
            .contains("is a folder"));
        assert_eq!(
            save_path(" /tmp/a.json ").unwrap(),
            PathBuf::from("/tmp/a.json")
        );
    }
}
