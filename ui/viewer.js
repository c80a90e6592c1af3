// The answer viewer's state machine, pure (no DOM, no commands): which answer is shown (the tab's
// answer or a filter's result), the mode, the top line, the cache of windows fetched from the
// engine (answer_lines), the search and its current match, the filter and its error, a status
// sentence. `viewerNext(v, event)` returns the next state; viewer-view.js runs the commands and
// draws the state it gets back. Sizes and labels in words are here too, so they are tested once.

import { bytes } from "./format.js";

/** Fixed line height (px): the virtualised list places line i at i * LINE_HEIGHT. */
export const LINE_HEIGHT = 18;
/** Lines kept in the DOM beyond the visible ones, above and below. */
export const MARGIN = 30;
/** Lines asked for per answer_lines call. */
export const WINDOW = 200;
/** Tallest scroll area (px) WebKit handles well; longer answers map the scrollbar onto lines. */
export const MAX_SCROLL_PX = 4_000_000;
/** Cached lines past which the cache starts again from the window just fetched. */
const CACHE_LIMIT = 4 * WINDOW;

const EMPTY_WINDOW = Object.freeze({ from: 0, lines: [], total: 0, complete: true });

/**
 * A viewer for an answer view (send_request's `answer`); `sent` is the request that got it,
 * {method, url} (Save body of a cut answer sends it again).
 */
export function viewerInit(answer, mode = "pretty", sent = null) {
  const first = answer?.first ?? EMPTY_WINDOW;
  return {
    base: answer ?? null,
    sent: sent ?? null,
    shown: answer ?? null,
    id: answer?.id ?? 0,
    mode: answer?.kind === "json" ? mode : "raw",
    top: 0,
    lines: mode === "pretty" || answer?.kind !== "json" ? cacheFrom(first) : new Map(),
    total: first.total,
    complete: first.complete,
    query: "",
    matches: null,
    current: -1,
    filter: "",
    filterError: null,
    status: "",
    save: "closed",
  };
}

/** A window (answer_lines' answer) as a Map of visible index → line. */
export function cacheFrom(window) {
  const cache = new Map();
  (window?.lines ?? []).forEach((line, i) => cache.set(window.from + i, line));
  return cache;
}

function merged(v, window) {
  const lines = v.lines.size > CACHE_LIMIT ? new Map() : new Map(v.lines);
  (window?.lines ?? []).forEach((line, i) => lines.set(window.from + i, line));
  return { ...v, lines, total: window.total, complete: window.complete };
}

function fresh(v, window, changes = {}) {
  return { ...v, ...changes, lines: cacheFrom(window), total: window.total, complete: window.complete };
}

/**
 * The next state. Events (each one the outcome of a command or a user's move):
 * - window {id, mode, window}: lines fetched; dropped when the answer or mode moved on since.
 * - scrolled {top, height}: the top line after a scroll or a key.
 * - moded {mode, window}: Pretty or Raw chosen; the search is cleared (lines are not the same).
 * - folded {window}: a node folded or unfolded; visible lines moved.
 * - searched {query, matches, window}: a search's matches (search unfolds everything).
 * - stepped {dir, height}: next (1) or previous (-1) match, round, scrolled into sight.
 * - filtered {expression, view}: a filter's result shown; an empty expression shows the answer.
 * - filterFailed {expression, message}: the engine's one plain sentence, the answer kept.
 * - said {text}: a status sentence (copied, saved, a failure).
 * - saveToggled: Save body… opens or closes the file row (not while saving).
 * - saveAsked: the row's Save. Saving sends the request again when only the first part was kept
 *   (resends); for a method that is not safe that could repeat its side effect, so the viewer
 *   asks first ("confirm") instead of saving; otherwise it saves at once ("saving").
 * - saveConfirmed / saveCancelled: the answer to that question.
 * - saveDone {saved} / saveFailed {error}: the save_body command's outcome.
 */
export function viewerNext(v, event) {
  switch (event.type) {
    case "window":
      if (event.id !== v.id || event.mode !== v.mode) return v;
      return merged(v, event.window);
    case "scrolled":
      return scrolledTo(v, event.top, event.height);
    case "moded":
      if (event.mode === v.mode || v.shown?.kind !== "json") return v;
      return fresh(v, event.window, { mode: event.mode, top: 0, query: "", matches: null, current: -1 });
    case "folded":
      return fresh(v, event.window);
    case "searched":
      return fresh(withMatches(v, event.query, event.matches), event.window);
    case "stepped": {
      const stepped = stepMatch(v, event.dir);
      return stepped === v ? v : scrolledTo(stepped, topForMatch(stepped, event.height), event.height);
    }
    case "filtered": {
      const shown = event.view ?? v.base;
      const next = viewerInit(shown, v.mode, v.sent);
      return { ...next, base: v.base, save: v.save, id: shown?.id ?? 0, filter: event.view ? event.expression : "", filterError: null };
    }
    case "filterFailed":
      return { ...v, filter: event.expression, filterError: event.message };
    case "said":
      return { ...v, status: event.text };
    case "saveToggled":
      if (v.save === "saving") return v;
      return { ...v, save: v.save === "closed" ? "open" : "closed" };
    case "saveAsked":
      if (v.save !== "open") return v;
      if (resends(v) && !isSafeMethod(v.sent?.method)) return { ...v, save: "confirm", status: "" };
      return { ...v, save: "saving", status: resends(v) ? "Sending again and saving…" : "Saving…" };
    case "saveConfirmed":
      if (v.save !== "confirm") return v;
      return { ...v, save: "saving", status: "Sending again and saving…" };
    case "saveCancelled":
      if (v.save !== "confirm") return v;
      return { ...v, save: "open", status: "Not sent again: nothing was saved." };
    case "saveDone":
      if (v.save !== "saving") return v;
      return { ...v, save: "closed", status: `Saved ${event.saved.bytes.toLocaleString("en-US")} bytes to ${event.saved.path}.` };
    case "saveFailed":
      if (v.save !== "saving") return v;
      return {
        ...v, save: "open",
        status: event.error?.kind === "cancelled" ? "Cancelled: nothing was saved." : (event.error?.message ?? String(event.error)),
      };
    default:
      return v;
  }
}

/** RFC 9110 §9.2.1: the safe methods. Any other (and an unknown one) may change something when sent. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/** True for GET, HEAD, OPTIONS and TRACE (any case); false for every other method or none. */
export function isSafeMethod(method) {
  return typeof method === "string" && SAFE_METHODS.has(method.trim().toUpperCase());
}

/** True when Save body sends the request again: the answer shown is a cut one (not a filter's). */
export function resends(v) {
  return Boolean(v.shown?.truncated) && v.shown?.id === v.base?.id;
}

/** The question asked before sending a request that is not safe again, in one sentence each. */
export function resendQuestion(v) {
  const method = String(v.sent?.method ?? "").trim().toUpperCase() || "The request";
  const target = v.sent?.url ? `${method} ${v.sent.url}` : method;
  return [
    `Saving all of it sends ${target} again.`,
    `${method === "The request" ? "Its method" : method} is not a safe method (RFC 9110 §9.2.1): the server may do again what it did the first time, such as create, change or delete something.`,
  ];
}

/** Lines that fit in `height` px. */
export function pageSize(height) {
  return Math.max(1, Math.floor(height / LINE_HEIGHT));
}

/** The highest top line. */
export function maxTop(v, height) {
  return Math.max(0, v.total - pageSize(height));
}

/** The viewer scrolled to top line `top` (clamped). */
export function scrolledTo(v, top, height) {
  const t = Math.max(0, Math.min(Math.round(top), maxTop(v, height)));
  return t === v.top ? v : { ...v, top: t };
}

/** Height (px) of the scroll area's spacer. */
export function spacerHeight(v, height) {
  return Math.min(v.total * LINE_HEIGHT, Math.max(MAX_SCROLL_PX, height));
}

/** scrollTop (px) for the viewer's top line: linear unless the answer is too tall. */
export function scrollTopFor(v, height) {
  const full = v.total * LINE_HEIGHT;
  if (full <= MAX_SCROLL_PX) return v.top * LINE_HEIGHT;
  const room = MAX_SCROLL_PX - height;
  const max = maxTop(v, height);
  return max === 0 ? 0 : Math.round((v.top / max) * room);
}

/** The top line for a scrollTop (px), the inverse of scrollTopFor. */
export function topFor(v, scrollTop, height) {
  const full = v.total * LINE_HEIGHT;
  if (full <= MAX_SCROLL_PX) return Math.floor(scrollTop / LINE_HEIGHT);
  const room = Math.max(1, MAX_SCROLL_PX - height);
  return Math.round((scrollTop / room) * maxTop(v, height));
}

/** The visible indexes to draw: [first, end). */
export function drawRange(v, height) {
  const first = Math.max(0, v.top - MARGIN);
  const end = Math.min(v.total, v.top + pageSize(height) + MARGIN);
  return [first, end];
}

/** The first index of [first, end) missing from the cache, or -1. */
export function missing(v, first, end) {
  for (let i = first; i < end; i += 1) if (!v.lines.has(i)) return i;
  return -1;
}

/** What a key does to the top line: a new top, or null (not a scrolling key). */
export function keyTop(v, key, height) {
  const page = pageSize(height);
  switch (key) {
    case "ArrowDown": return v.top + 1;
    case "ArrowUp": return v.top - 1;
    case "PageDown": case " ": return v.top + page - 1;
    case "PageUp": return v.top - page + 1;
    case "Home": return 0;
    case "End": return Number.MAX_SAFE_INTEGER;
    default: return null;
  }
}

/**
 * True when a drawn row (its line and current match) shows the same as `line` with `match`: the
 * same number, indentation, fold mark and spans (a window fetched again brings equal lines as new
 * objects), and the same match or none. A line not fetched yet is never the same.
 */
export function sameRow(line, match, nextLine, nextMatch) {
  if (!line || !nextLine) return false;
  if (line !== nextLine) {
    if (line.number !== nextLine.number || line.indent !== nextLine.indent || line.fold !== nextLine.fold) return false;
    const a = line.spans ?? [];
    const b = nextLine.spans ?? [];
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
  }
  if (!match || !nextMatch) return !match && !nextMatch;
  return match.line === nextMatch.line && match.column === nextMatch.column && match.length === nextMatch.length;
}

/** The viewer with a search's matches (answer_search), on the first at or after the top. */
export function withMatches(v, query, matches) {
  const list = matches?.matches ?? [];
  const at = list.findIndex((m) => m.line >= v.top);
  return { ...v, query, matches: query ? matches : null, current: list.length === 0 ? -1 : (at === -1 ? 0 : at) };
}

/** The next (dir 1) or previous (dir -1) match, round. */
export function stepMatch(v, dir) {
  const n = v.matches?.matches?.length ?? 0;
  if (n === 0) return v;
  return { ...v, current: (v.current + dir + n) % n };
}

/** The current match, or null. */
export function currentMatch(v) {
  return v.matches?.matches?.[v.current] ?? null;
}

/** The top line that shows the current match about a third down the screen. */
export function topForMatch(v, height) {
  const m = currentMatch(v);
  if (!m) return v.top;
  if (m.line >= v.top && m.line < v.top + pageSize(height)) return v.top;
  return m.line - Math.floor(pageSize(height) / 3);
}

/** "3 of 12", "No matches", "1 of 12,345 (first 10,000 listed)". */
export function matchLabel(v) {
  if (!v.matches || !v.query) return "";
  const { count, matches } = v.matches;
  if (count === 0) return "No matches";
  const shown = matches.length < count ? ` (first ${matches.length.toLocaleString("en-US")} listed)` : "";
  return `${v.current + 1} of ${count.toLocaleString("en-US")}${shown}`;
}

/** The size line: "2.2 MB", "first 52.4 MB of 53.4 MB", "first 52.4 MB of at least 1.2 GB". */
export function sizeText(answer) {
  if (!answer) return "";
  const size = bytesText(answer.size);
  if (!answer.truncated) return size;
  return `first ${bytesText(answer.kept)} of ${answer.sizeKnown === false ? "at least " : ""}${size}`;
}

/** Bytes in words (format.js's units), with GB for answers past 1000 MB. */
export function bytesText(n) {
  if (Number.isFinite(n) && n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  return bytes(n);
}

/** "Body (JSON, 2.2 MB)". */
export function titleText(answer) {
  const kind = { json: "JSON", text: "text", binary: "binary", empty: "empty" }[answer?.kind] ?? String(answer?.kind ?? "");
  return `Body (${kind}, ${sizeText(answer)})`;
}

/** A default file for Save body…: the URL's last path segment under ~/Downloads. */
export function defaultSavePath(answer, url) {
  let name = "answer";
  try {
    const last = new URL(url).pathname.split("/").filter(Boolean).pop();
    if (last && /^[\w.-]{1,60}$/.test(last)) name = last;
  } catch {
    // Not a URL: the plain default.
  }
  const ext = answer?.kind === "json" && !name.endsWith(".json") ? ".json" : "";
  return `~/Downloads/${name}${ext}`;
}

/** The split's fraction after a key on the divider (null: not a divider key). */
export function splitKey(fraction, key) {
  const step = { ArrowLeft: -0.05, ArrowUp: -0.05, ArrowRight: 0.05, ArrowDown: 0.05 }[key];
  if (key === "Home") return 0.2;
  if (key === "End") return 0.8;
  if (step === undefined) return null;
  return clampSplit(fraction + step);
}

/** A split fraction kept between 20 % and 80 % (a bad stored value is the default 45 %). */
export function clampSplit(fraction) {
  return Math.min(0.8, Math.max(0.2, Number.isFinite(fraction) ? fraction : 0.45));
}

/**
 * A line's spans split where the current match covers them: [kind, text, marked] triples. The
 * match's column counts characters of the line's text (indentation aside), as the engine's does.
 */
export function lineParts(line, match) {
  const out = [];
  let at = 0;
  for (const [kind, text] of line?.spans ?? []) {
    const chars = [...text];
    const start = at;
    at += chars.length;
    if (!match || match.column >= at || match.column + match.length <= start) {
      out.push([kind, text, false]);
      continue;
    }
    const a = Math.max(0, match.column - start);
    const b = Math.min(chars.length, match.column + match.length - start);
    if (a > 0) out.push([kind, chars.slice(0, a).join(""), false]);
    out.push([kind, chars.slice(a, b).join(""), true]);
    if (b < chars.length) out.push([kind, chars.slice(b).join(""), false]);
  }
  return out;
}
