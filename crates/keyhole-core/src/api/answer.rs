//! The answer viewer's engine: an API answer's raw bytes served as lines, in windows, for a
//! virtualised view. Nothing here parses the whole body into a `serde_json::Value` (a 50 MB
//! answer would take several times its size); lines are produced by a small JSON lexer from
//! checkpoints taken every [`BLOCK`] lines, so the first window of a 50 MB answer is served after
//! reading only its first lines, and any later window after at most [`BLOCK`] lines of lexing
//! from the nearest checkpoint. Only the JSONPath filter parses, bounded by the body cap.
//!
//! Two modes: `pretty` (JSON re-indented, one value, key or bracket per line) and `raw` (the
//! bytes as received, split at newlines and wrapped every [`RAW_WRAP`] bytes). Each line comes
//! as spans with a token kind, for highlighting: data, not markup.

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Lines between two checkpoints of the index.
pub const BLOCK: usize = 128;
/// Raw lines longer than this many bytes are wrapped (a minified 50 MB body is one line).
pub const RAW_WRAP: usize = 4096;
/// Bytes of one line shown; the rest is named, not shown (Copy and Save body keep all of it).
pub const LINE_SHOWN: usize = 10_000;
/// Largest window of lines served at once.
pub const MAX_WINDOW: usize = 2_000;
/// Search positions returned (the count counts them all).
pub const MAX_MATCHES: usize = 10_000;
/// Bodies up to this size may be sniffed as JSON by parsing (a scalar such as `42`).
const SNIFF_PARSE: usize = 1024 * 1024;

/// How the body is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// JSON re-indented (text bodies: as raw).
    #[default]
    Pretty,
    /// The bytes as received.
    Raw,
}

/// What the body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    /// Starts like JSON (or parses as JSON): shown pretty or raw, filterable.
    Json,
    /// Text: shown as lines.
    Text,
    /// Not text (a NUL byte or invalid UTF-8 near the start): not shown.
    Binary,
    /// No body.
    Empty,
}

/// A token's kind, for highlighting (the UI's CSS class `tok-<kind>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Token {
    /// An object key.
    Key,
    /// A string value.
    String,
    /// A number.
    Number,
    /// `true`, `false`, `null`.
    Literal,
    /// `{ } [ ] : ,`.
    Punctuation,
    /// Anything else (text bodies, whitespace, what does not lex).
    Plain,
}

/// A run of one token kind: serialized as `[kind, text]` to keep windows small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span(pub Token, pub String);

/// Whether a line opens a node that folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fold {
    /// Opens an object or array, shown open.
    Open,
    /// Opens an object or array, folded to its closing line.
    Folded,
}

/// One line of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// Its number among all lines of the mode (0-based), folds aside.
    pub number: usize,
    /// Indentation depth (pretty mode; the UI indents by it).
    pub indent: u32,
    /// The tokens.
    pub spans: Vec<Span>,
    /// Set on lines that open an object or array (pretty mode).
    pub fold: Option<Fold>,
}

/// A window of visible lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// The first visible line served (clamped: past the end serves the last lines).
    pub from: usize,
    /// The lines.
    pub lines: Vec<Line>,
    /// Visible lines known so far (all of them when `complete`).
    pub total: usize,
    /// True when the whole body has been indexed, so `total` is final.
    pub complete: bool,
}

/// Where a search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    /// The line (visible index: search unfolds everything).
    pub line: usize,
    /// Character offset in the line's text (indentation not counted).
    pub column: usize,
    /// Characters matched.
    pub length: usize,
}

/// A search's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Matches {
    /// All matches.
    pub count: usize,
    /// The first [`MAX_MATCHES`], in order.
    pub matches: Vec<Match>,
}

/// Where a line starts: byte offset and nesting depth there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Mark {
    pos: usize,
    depth: u32,
}

/// One step of the line walker.
#[derive(Debug, Clone, Copy)]
struct Step {
    next: Mark,
    indent: u32,
    opens: bool,
}

/// The checkpoints of one mode, extended as lines are asked for.
#[derive(Debug, Default)]
struct Index {
    marks: Vec<Mark>,
    /// Smallest indent of each block's lines (finds a closing line without lexing deeper blocks).
    min_indent: Vec<u32>,
    frontier: Mark,
    scanned: usize,
    done: bool,
    /// Folded openers → their closing line.
    folds: BTreeMap<usize, usize>,
}

/// An answer's body, ready for the viewer.
#[derive(Debug)]
pub struct Answer {
    bytes: Bytes,
    kind: Kind,
    pretty: Mutex<Index>,
    raw: Mutex<Index>,
}

impl Answer {
    /// The viewer over `bytes`, sniffed with the answer's `Content-Type`.
    pub fn new(bytes: Bytes, content_type: Option<&str>) -> Answer {
        let kind = sniff(&bytes, content_type);
        Answer {
            bytes,
            kind,
            pretty: Mutex::default(),
            raw: Mutex::default(),
        }
    }

    /// What the body is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The raw bytes (shared, not copied).
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The mode actually used: only JSON has a pretty form.
    fn effective(&self, mode: Mode) -> Mode {
        if self.kind == Kind::Json {
            mode
        } else {
            Mode::Raw
        }
    }

    fn index(&self, mode: Mode) -> std::sync::MutexGuard<'_, Index> {
        let index = match self.effective(mode) {
            Mode::Pretty => &self.pretty,
            Mode::Raw => &self.raw,
        };
        // A panic while lexing cannot leave the index half-written in a harmful way: use it.
        index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn walker(&self, mode: Mode) -> Walker<'_> {
        Walker {
            bytes: &self.bytes,
            kind: self.kind,
            mode: self.effective(mode),
        }
    }

    /// Indexes up to `lines` more lines of `mode`; true when the whole body is indexed. Called in
    /// steps by a background task so the index completes without holding the lock for long.
    pub fn index_more(&self, mode: Mode, lines: usize) -> bool {
        let walker = self.walker(mode);
        let mut index = self.index(mode);
        let until = index.scanned.saturating_add(lines);
        index.advance(&walker, until);
        index.done
    }

    /// `count` visible lines of `mode` from visible line `from` (clamped to the end).
    pub fn lines(&self, mode: Mode, from: usize, count: usize) -> Window {
        let walker = self.walker(mode);
        let mut index = self.index(mode);
        let count = count.min(MAX_WINDOW);
        let hidden_before = |index: &Index| index.hidden();
        // Enough lines to serve the window (folds hide some: map through them).
        let want = from.saturating_add(count);
        let mut actual_end = index.actual(want);
        index.advance(&walker, actual_end.saturating_add(1));
        // Folds may lie past what was scanned; recompute after advancing.
        actual_end = index.actual(want);
        index.advance(&walker, actual_end.saturating_add(1));
        let total = index.scanned.saturating_sub(hidden_before(&index));
        let from = if index.done {
            from.min(total.saturating_sub(count))
        } else {
            from.min(total)
        };
        let mut lines = Vec::with_capacity(count);
        let mut visible = from;
        while lines.len() < count && visible < total {
            let number = index.actual(visible);
            let Some(mark) = index.mark_of(&walker, number) else {
                break;
            };
            let mut spans = Vec::new();
            let Some(step) = walker.line(mark, Some(&mut spans)) else {
                break;
            };
            let fold = step.opens.then(|| {
                if index.folds.contains_key(&number) {
                    Fold::Folded
                } else {
                    Fold::Open
                }
            });
            lines.push(Line {
                number,
                indent: step.indent,
                spans,
                fold,
            });
            visible += 1;
        }
        Window {
            from,
            lines,
            total,
            complete: index.done,
        }
    }

    /// Folds (or unfolds) the node opened on line `number` (not a visible index) of `mode`; a
    /// line that opens nothing changes nothing. Answers the visible lines after it.
    pub fn fold(&self, mode: Mode, number: usize, folded: bool) -> usize {
        let walker = self.walker(mode);
        let mut index = self.index(mode);
        if folded {
            if let Some(close) = index.closing_line(&walker, number) {
                index.folds.insert(number, close);
            }
        } else {
            index.folds.remove(&number);
        }
        index.scanned.saturating_sub(index.hidden())
    }

    /// Every line of `mode` searched for `query`, ignoring case; unfolds everything so each match
    /// has a visible line. An empty query matches nothing.
    pub fn search(&self, mode: Mode, query: &str) -> Matches {
        let walker = self.walker(mode);
        let mut index = self.index(mode);
        index.folds.clear();
        let mut found = Matches {
            count: 0,
            matches: Vec::new(),
        };
        if query.is_empty() || matches!(self.kind, Kind::Binary | Kind::Empty) {
            return found;
        }
        let needle = query.to_lowercase();
        let mut mark = Mark::default();
        let mut number = 0;
        let mut spans = Vec::new();
        while let Some(step) = walker.line(mark, Some(&mut spans)) {
            let text: String = spans.iter().map(|s| s.1.as_str()).collect();
            spans.clear();
            let hay = text.to_lowercase();
            // Lowercasing may change byte lengths only outside ASCII; columns count characters.
            let mut start = 0;
            while let Some(at) = hay[start..].find(&needle) {
                let byte = start + at;
                found.count += 1;
                if found.matches.len() < MAX_MATCHES {
                    found.matches.push(Match {
                        line: number,
                        column: hay[..byte].chars().count(),
                        length: needle.chars().count(),
                    });
                }
                start = byte + needle.len().max(1);
            }
            mark = step.next;
            number += 1;
        }
        index.advance(&walker, number);
        found
    }

    /// The whole text of `mode` (pretty: re-indented with two spaces), for Copy.
    pub fn text(&self, mode: Mode) -> String {
        let walker = self.walker(mode);
        match (self.kind, walker.mode) {
            (Kind::Binary | Kind::Empty, _) | (_, Mode::Raw) => {
                String::from_utf8_lossy(&self.bytes).into_owned()
            }
            (_, Mode::Pretty) => {
                let mut out = String::with_capacity(self.bytes.len() * 2);
                let mut mark = Mark::default();
                let mut spans = Vec::new();
                while let Some(step) = walker.line_full(mark, &mut spans) {
                    if mark.pos != 0 || !out.is_empty() {
                        out.push('\n');
                    }
                    for _ in 0..step.indent {
                        out.push_str("  ");
                    }
                    for span in spans.drain(..) {
                        out.push_str(&span.1);
                    }
                    mark = step.next;
                }
                out
            }
        }
    }

    /// The nodes `expression` (JSONPath, RFC 9535) selects, as a JSON array: a new answer. A bad
    /// expression or a body that is not JSON is an [`Error::BadFilter`] that names it.
    pub fn filter(&self, expression: &str) -> Result<Answer> {
        let path = serde_json_path::JsonPath::parse(expression.trim()).map_err(|e| {
            Error::BadFilter(format!(
                "“{}” is not a JSONPath expression ({e}); write one such as $.items[0].name.",
                expression.trim()
            ))
        })?;
        if self.kind != Kind::Json {
            return Err(Error::BadFilter(
                "This answer is not JSON, so there is nothing to filter.".into(),
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(&self.bytes).map_err(|_| {
            Error::BadFilter(
                "This answer is not whole, valid JSON (it may have been cut at 50 MB), so it cannot be filtered.".into(),
            )
        })?;
        let nodes: Vec<&serde_json::Value> = path.query(&value).all();
        let out = serde_json::to_vec(&nodes).map_err(|e| {
            Error::BadFilter(format!("The filter's result could not be written: {e}."))
        })?;
        Ok(Answer::new(Bytes::from(out), Some("application/json")))
    }
}

impl Index {
    /// Lexes lines until `until` lines are known or the body ends.
    fn advance(&mut self, walker: &Walker<'_>, until: usize) {
        while !self.done && self.scanned < until {
            match walker.line(self.frontier, None) {
                None => self.done = true,
                Some(step) => {
                    let block = self.scanned / BLOCK;
                    if self.scanned.is_multiple_of(BLOCK) {
                        self.marks.push(self.frontier);
                        self.min_indent.push(u32::MAX);
                    }
                    if let Some(min) = self.min_indent.get_mut(block) {
                        *min = (*min).min(step.indent);
                    }
                    self.frontier = step.next;
                    self.scanned += 1;
                }
            }
        }
    }

    /// Where line `number` starts, lexing from its block's checkpoint.
    fn mark_of(&mut self, walker: &Walker<'_>, number: usize) -> Option<Mark> {
        self.advance(walker, number.saturating_add(1));
        if number >= self.scanned {
            return None;
        }
        let mut mark = *self.marks.get(number / BLOCK)?;
        for _ in 0..number % BLOCK {
            mark = walker.line(mark, None)?.next;
        }
        Some(mark)
    }

    /// The folds that take effect (a fold inside a folded node is hidden with it), in order. A
    /// fold keeps its opening and closing lines visible and hides those between.
    fn effective_folds(&self) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (&start, &end) in &self.folds {
            if out.last().is_some_and(|&(_, e)| start < e) {
                continue;
            }
            out.push((start, end));
        }
        out
    }

    fn hidden(&self) -> usize {
        self.effective_folds().iter().map(|(s, e)| e - s - 1).sum()
    }

    /// The line number of visible line `visible`.
    fn actual(&self, visible: usize) -> usize {
        let mut actual = visible;
        for (start, end) in self.effective_folds() {
            if start < actual {
                actual = actual.saturating_add(end - start - 1);
            } else {
                break;
            }
        }
        actual
    }

    /// The closing line of the node line `number` opens.
    fn closing_line(&mut self, walker: &Walker<'_>, number: usize) -> Option<usize> {
        let mark = self.mark_of(walker, number)?;
        let step = walker.line(mark, None)?;
        if !step.opens {
            return None;
        }
        let indent = step.indent;
        let mut line = number + 1;
        let mut mark = step.next;
        loop {
            if line.is_multiple_of(BLOCK) {
                // Skip whole blocks whose lines are all deeper than the opener.
                self.advance(walker, line.saturating_add(BLOCK));
                while self
                    .min_indent
                    .get(line / BLOCK)
                    .is_some_and(|&min| min > indent)
                    && line + BLOCK < self.scanned
                {
                    line += BLOCK;
                    self.advance(walker, line.saturating_add(BLOCK));
                }
                mark = *self.marks.get(line / BLOCK)?;
            }
            let step = walker.line(mark, None)?;
            if step.indent <= indent {
                return Some(line);
            }
            mark = step.next;
            line += 1;
        }
    }
}

/// Produces one line at a time from a mark.
#[derive(Clone, Copy)]
struct Walker<'a> {
    bytes: &'a [u8],
    kind: Kind,
    mode: Mode,
}

impl Walker<'_> {
    /// The line at `mark` (its spans into `spans` when given, cut at [`LINE_SHOWN`] bytes).
    fn line(&self, mark: Mark, spans: Option<&mut Vec<Span>>) -> Option<Step> {
        let mut out = spans.map(|spans| Out {
            spans,
            shown: 0,
            limit: LINE_SHOWN,
            cut: 0,
        });
        let step = self.step(mark, out.as_mut());
        if let Some(out) = out {
            out.finish();
        }
        step
    }

    /// The line at `mark` with nothing cut (Copy).
    fn line_full(&self, mark: Mark, spans: &mut Vec<Span>) -> Option<Step> {
        let mut out = Out {
            spans,
            shown: 0,
            limit: usize::MAX,
            cut: 0,
        };
        self.step(mark, Some(&mut out))
    }

    fn step(&self, mark: Mark, out: Option<&mut Out<'_>>) -> Option<Step> {
        match (self.kind, self.mode) {
            (Kind::Empty, _) => None,
            (Kind::Binary, _) => (mark.pos == 0).then(|| {
                if let Some(out) = out {
                    out.push(
                        Token::Plain,
                        format!(
                            "Binary body ({} bytes): not shown. Save body… writes it to a file.",
                            self.bytes.len()
                        )
                        .as_bytes(),
                    );
                }
                Step {
                    next: Mark {
                        pos: self.bytes.len(),
                        depth: 0,
                    },
                    indent: 0,
                    opens: false,
                }
            }),
            (Kind::Json, Mode::Pretty) => pretty_line(self.bytes, mark, out),
            (Kind::Json, Mode::Raw) => raw_line(self.bytes, mark.pos, out, true),
            (Kind::Text, _) => raw_line(self.bytes, mark.pos, out, false),
        }
    }
}

/// Spans being built, cut at a byte budget.
struct Out<'a> {
    spans: &'a mut Vec<Span>,
    shown: usize,
    limit: usize,
    cut: usize,
}

impl Out<'_> {
    fn push(&mut self, kind: Token, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let room = self.limit.saturating_sub(self.shown);
        let taken = if bytes.len() > room {
            let mut end = room;
            while end > 0 && (bytes[end] & 0xc0) == 0x80 {
                end -= 1;
            }
            self.cut += bytes.len() - end;
            &bytes[..end]
        } else {
            bytes
        };
        self.shown += taken.len();
        if taken.is_empty() {
            return;
        }
        let mut text = String::from_utf8_lossy(taken).into_owned();
        // Control characters (only in invalid JSON or text) would break the fixed line height.
        if text.chars().any(|c| c.is_control()) {
            text = text
                .chars()
                .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                .collect();
        }
        match self.spans.last_mut() {
            Some(last) if last.0 == kind => last.1.push_str(&text),
            _ => self.spans.push(Span(kind, text)),
        }
    }

    fn finish(self) {
        if self.cut > 0 {
            self.spans.push(Span(
                Token::Plain,
                format!(" … {} more bytes (Copy or Save body… keeps them)", self.cut),
            ));
        }
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && is_ws(bytes[pos]) {
        pos += 1;
    }
    pos
}

/// The end of the string starting at `pos` (a `"`): after its closing quote, or the end.
fn string_end(bytes: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of a bare word (number, literal, or what does not lex).
fn word_end(bytes: &[u8], pos: usize) -> usize {
    let mut i = pos;
    while i < bytes.len() && !is_ws(bytes[i]) && !b"{}[]:,\"".contains(&bytes[i]) {
        i += 1;
    }
    i.max(pos + 1).min(bytes.len())
}

fn word_kind(word: &[u8]) -> Token {
    match word.first() {
        Some(b'-' | b'0'..=b'9') => Token::Number,
        _ if matches!(word, b"true" | b"false" | b"null") => Token::Literal,
        _ => Token::Plain,
    }
}

fn emit(out: &mut Option<&mut Out<'_>>, kind: Token, bytes: &[u8]) {
    if let Some(out) = out {
        out.push(kind, bytes);
    }
}

/// One pretty line: `[key: ]value[,]`, `[key: ]{` (opens), `[key: ]{}[,]`, or `}[,]`.
fn pretty_line(bytes: &[u8], mark: Mark, mut out: Option<&mut Out<'_>>) -> Option<Step> {
    let mut p = skip_ws(bytes, mark.pos);
    if p >= bytes.len() {
        return None;
    }
    let mut depth = mark.depth;
    let mut indent = depth;
    match bytes[p] {
        b'}' | b']' => {
            indent = depth.saturating_sub(1);
            depth = indent;
            emit(&mut out, Token::Punctuation, &bytes[p..p + 1]);
            p += 1;
        }
        b':' | b',' => {
            // Stray punctuation (invalid JSON): a line of its own.
            emit(&mut out, Token::Punctuation, &bytes[p..p + 1]);
            return Some(Step {
                next: Mark { pos: p + 1, depth },
                indent,
                opens: false,
            });
        }
        _ => {
            if bytes[p] == b'"' {
                let end = string_end(bytes, p);
                let after = skip_ws(bytes, end);
                if after < bytes.len() && bytes[after] == b':' {
                    emit(&mut out, Token::Key, &bytes[p..end]);
                    emit(&mut out, Token::Punctuation, b":");
                    emit(&mut out, Token::Plain, b" ");
                    p = skip_ws(bytes, after + 1);
                }
            }
            if p < bytes.len() {
                match bytes[p] {
                    open @ (b'{' | b'[') => {
                        let close = if open == b'{' { b'}' } else { b']' };
                        let inner = skip_ws(bytes, p + 1);
                        if inner < bytes.len() && bytes[inner] == close {
                            emit(&mut out, Token::Punctuation, &[open, close]);
                            p = inner + 1;
                        } else {
                            emit(&mut out, Token::Punctuation, &[open]);
                            return Some(Step {
                                next: Mark {
                                    pos: p + 1,
                                    depth: depth + 1,
                                },
                                indent,
                                opens: true,
                            });
                        }
                    }
                    b'"' => {
                        let end = string_end(bytes, p);
                        emit(&mut out, Token::String, &bytes[p..end]);
                        p = end;
                    }
                    b'}' | b']' | b':' | b',' => {}
                    _ => {
                        let end = word_end(bytes, p);
                        emit(&mut out, word_kind(&bytes[p..end]), &bytes[p..end]);
                        p = end;
                    }
                }
            }
        }
    }
    let after = skip_ws(bytes, p);
    if after < bytes.len() && bytes[after] == b',' {
        emit(&mut out, Token::Punctuation, b",");
        p = after + 1;
    }
    Some(Step {
        next: Mark { pos: p, depth },
        indent,
        opens: false,
    })
}

/// One raw line: up to a newline, wrapped at [`RAW_WRAP`] bytes; lexed as JSON when `json`.
fn raw_line(bytes: &[u8], pos: usize, out: Option<&mut Out<'_>>, json: bool) -> Option<Step> {
    if pos >= bytes.len() {
        return None;
    }
    let limit = (pos + RAW_WRAP).min(bytes.len());
    let (end, next) = match bytes[pos..limit].iter().position(|&b| b == b'\n') {
        Some(at) => (pos + at, pos + at + 1),
        None => {
            let mut end = limit;
            // Wrap on a character boundary.
            while end < bytes.len() && end > pos + 1 && (bytes[end] & 0xc0) == 0x80 {
                end -= 1;
            }
            (end, end)
        }
    };
    let mut line = &bytes[pos..end];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    if let Some(out) = out {
        if json {
            lex_segment(line, out);
        } else {
            out.push(Token::Plain, line);
        }
    }
    Some(Step {
        next: Mark {
            pos: next,
            depth: 0,
        },
        indent: 0,
        opens: false,
    })
}

/// Highlights a piece of raw JSON on its own (a wrap may cut a string: it lexes on).
fn lex_segment(seg: &[u8], out: &mut Out<'_>) {
    let mut i = 0;
    while i < seg.len() {
        let b = seg[i];
        if is_ws(b) {
            let end = seg[i..]
                .iter()
                .position(|&c| !is_ws(c))
                .map_or(seg.len(), |n| i + n);
            out.push(Token::Plain, &seg[i..end]);
            i = end;
        } else if b"{}[]:,".contains(&b) {
            out.push(Token::Punctuation, &seg[i..i + 1]);
            i += 1;
        } else if b == b'"' {
            let end = string_end(seg, i);
            let after = skip_ws(seg, end);
            let kind = if after < seg.len() && seg[after] == b':' {
                Token::Key
            } else {
                Token::String
            };
            out.push(kind, &seg[i..end]);
            i = end;
        } else {
            let end = word_end(seg, i);
            out.push(word_kind(&seg[i..end]), &seg[i..end]);
            i = end;
        }
    }
}

/// JSON when it starts like a JSON object or array (or, when small, parses) and the content
/// type does not say otherwise; binary when a NUL or invalid UTF-8 shows near the start.
fn sniff(bytes: &[u8], content_type: Option<&str>) -> Kind {
    if bytes.is_empty() {
        return Kind::Empty;
    }
    let head = &bytes[..bytes.len().min(8192)];
    let utf8_ok = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A character cut by the 8 KiB window is fine.
        Err(e) => e.error_len().is_none(),
    };
    if !utf8_ok || head.contains(&0) {
        return Kind::Binary;
    }
    let says_json = content_type.is_none_or(|ct| {
        let ct = ct.to_ascii_lowercase();
        ct.contains("json") || ct.starts_with("text/plain")
    });
    if says_json {
        let first = skip_ws(bytes, 0);
        if first < bytes.len() && matches!(bytes[first], b'{' | b'[') {
            return Kind::Json;
        }
        if bytes.len() <= SNIFF_PARSE
            && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
        {
            return Kind::Json;
        }
    }
    Kind::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Answer {
        Answer::new(Bytes::from(text.to_owned()), Some("application/json"))
    }

    fn texts(window: &Window) -> Vec<String> {
        window
            .lines
            .iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.1.as_str()).collect();
                format!("{}{}", "  ".repeat(l.indent as usize), text)
            })
            .collect()
    }

    #[test]
    fn pretty_lines_reindent_and_highlight() {
        let a = answer(r#"{"a":1,"b":[true,null,"x"],"c":{},"d":[]}"#);
        let w = a.lines(Mode::Pretty, 0, 100);
        assert!(w.complete);
        assert_eq!(
            texts(&w),
            vec![
                "{",
                r#"  "a": 1,"#,
                r#"  "b": ["#,
                "    true,",
                "    null,",
                r#"    "x""#,
                "  ],",
                r#"  "c": {},"#,
                r#"  "d": []"#,
                "}",
            ]
        );
        assert_eq!(
            w.lines[1].spans,
            vec![
                Span(Token::Key, "\"a\"".into()),
                Span(Token::Punctuation, ":".into()),
                Span(Token::Plain, " ".into()),
                Span(Token::Number, "1".into()),
                Span(Token::Punctuation, ",".into()),
            ]
        );
        assert_eq!(w.lines[0].fold, Some(Fold::Open));
        assert_eq!(w.lines[2].fold, Some(Fold::Open));
        assert_eq!(w.lines[7].fold, None, "an empty object does not fold");
        assert_eq!(a.text(Mode::Pretty), texts(&w).join("\n"));
    }

    #[test]
    fn windows_past_the_end_serve_the_last_lines() {
        let body = format!(
            "[{}]",
            (0..1000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let a = answer(&body);
        let first = a.lines(Mode::Pretty, 0, 10);
        assert!(
            !first.complete,
            "the first window does not index the whole body"
        );
        let end = a.lines(Mode::Pretty, usize::MAX, 10);
        assert!(end.complete);
        assert_eq!(end.total, 1002);
        assert_eq!(end.from, 992);
        assert_eq!(texts(&end).last().map(String::as_str), Some("]"));
        assert_eq!(texts(&end)[0], "  991,");
        let middle = a.lines(Mode::Pretty, 500, 2);
        assert_eq!(texts(&middle), vec!["  499,", "  500,"]);
    }

    #[test]
    fn folds_hide_a_node_down_to_its_closing_line() {
        let inner = (0..300)
            .map(|i| format!("{{\"n\":{i}}}"))
            .collect::<Vec<_>>()
            .join(",");
        let a = answer(&format!(r#"{{"list":[{inner}],"after":true}}"#));
        let all = a.lines(Mode::Pretty, usize::MAX, 1).total;
        // Line 1 is `"list": [`; its closing `],` comes after 300 objects of 3 lines each.
        let total = a.fold(Mode::Pretty, 1, true);
        assert_eq!(total, all - 900);
        let w = a.lines(Mode::Pretty, 0, 5);
        assert_eq!(
            texts(&w),
            vec!["{", "  \"list\": [", "  ],", "  \"after\": true", "}"]
        );
        assert_eq!(w.lines[1].fold, Some(Fold::Folded));
        assert_eq!(w.lines[2].number, 902);
        // A fold inside a folded node is hidden with it; unfolding the outer one shows it.
        a.fold(Mode::Pretty, 2, true);
        assert_eq!(a.fold(Mode::Pretty, 1, false), all - 1);
        let w = a.lines(Mode::Pretty, 2, 2);
        assert_eq!(texts(&w), vec!["    {", "    },"]);
        assert_eq!(w.lines[1].number, 4);
        // A line that opens nothing folds nothing.
        assert_eq!(a.fold(Mode::Pretty, 3, true), all - 1);
    }

    #[test]
    fn search_ignores_case_and_gives_positions() {
        let a = answer(r#"{"Name":"Ada","other":"ada lovelace ADA"}"#);
        a.fold(Mode::Pretty, 0, true);
        let found = a.search(Mode::Pretty, "ada");
        assert_eq!(found.count, 3);
        assert_eq!(
            found.matches,
            vec![
                Match {
                    line: 1,
                    column: 9,
                    length: 3
                },
                Match {
                    line: 2,
                    column: 10,
                    length: 3
                },
                Match {
                    line: 2,
                    column: 23,
                    length: 3
                },
            ]
        );
        assert_eq!(a.lines(Mode::Pretty, 0, 10).total, 4, "search unfolds");
        assert_eq!(
            a.search(Mode::Raw, "ADA").matches[0],
            Match {
                line: 0,
                column: 9,
                length: 3
            }
        );
        assert_eq!(a.search(Mode::Pretty, "").count, 0);
    }

    #[test]
    fn filters_select_nodes_and_bad_expressions_say_so() {
        let a = answer(r#"{"items":[{"id":1,"name":"a"},{"id":2,"name":"b"}]}"#);
        let names = a.filter("$.items[*].name").unwrap();
        assert_eq!(names.bytes().as_ref(), br#"["a","b"]"#);
        let bad = a.filter("$.items[").unwrap_err();
        assert!(matches!(bad, Error::BadFilter(_)), "{bad:?}");
        assert!(
            bad.to_string().contains("is not a JSONPath expression"),
            "{bad}"
        );
        let cut = answer(r#"{"items":[1,2"#).filter("$.items").unwrap_err();
        assert!(cut.to_string().contains("not whole, valid JSON"), "{cut}");
    }

    #[test]
    fn raw_text_and_binary_bodies() {
        let text = Answer::new(Bytes::from_static(b"one\r\ntwo\n"), Some("text/html"));
        assert_eq!(text.kind(), Kind::Text);
        let w = text.lines(Mode::Pretty, 0, 10);
        assert_eq!(texts(&w), vec!["one", "two"]);
        let long = Answer::new(
            Bytes::from(vec![b'x'; RAW_WRAP * 2 + 5]),
            Some("text/plain"),
        );
        assert_eq!(long.lines(Mode::Raw, 0, 10).total, 3, "long lines wrap");
        let binary = Answer::new(Bytes::from_static(&[0x89, b'P', b'N', b'G', 0, 1]), None);
        assert_eq!(binary.kind(), Kind::Binary);
        let w = binary.lines(Mode::Pretty, 0, 10);
        assert!(
            texts(&w)[0].starts_with("Binary body (6 bytes)"),
            "{:?}",
            texts(&w)
        );
        let raw = answer(r#"{"a": [1, "b"]}"#).lines(Mode::Raw, 0, 10);
        assert_eq!(raw.lines[0].spans[1], Span(Token::Key, "\"a\"".into()));
        assert_eq!(answer("42").kind(), Kind::Json);
        assert_eq!(
            Answer::new(Bytes::new(), None).lines(Mode::Raw, 0, 5).total,
            0
        );
    }

    #[test]
    fn a_long_line_is_cut_for_display_and_kept_for_copy() {
        let value = "y".repeat(LINE_SHOWN * 2);
        let a = answer(&format!(r#"["{value}"]"#));
        let w = a.lines(Mode::Pretty, 1, 1);
        let shown: usize = w.lines[0].spans.iter().map(|s| s.1.len()).sum();
        assert!(shown < LINE_SHOWN + 100, "{shown}");
        assert!(w.lines[0].spans.last().unwrap().1.contains("more bytes"));
        assert!(a.text(Mode::Pretty).contains(&value));
    }
}
