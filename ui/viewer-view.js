// The answer viewer's DOM: one persistent element per answer id (the app rebuilds its screen on
// most events; the same answer gets the same node back, with its scroll position and fetched
// lines), for as many answers as tabs hold. Virtualised: a spacer gives the scroll height, and
// only the visible lines plus a margin are in the DOM, fetched from the engine (answer_lines) in
// windows. Its state is viewer.js's machine; this module runs the commands (through api.js) and
// draws what the machine answers, building nodes with h() and text only as text.

import * as api from "./api.js";
import { collector } from "./collect.js";
import { h } from "./dom.js";
import * as V from "./viewer.js";

/** The live viewers, by the answer id they were made for. */
const live = new Map();

/** Frees the lines of forgotten viewers in the web process (collect.js). */
const collection = collector();
/**
 * A forgotten viewer that fetched at least this many lines has them collected at once: below it
 * the garbage is small and goes with the page's next allocations.
 */
export const COLLECT_AFTER_LINES = 5000;

/**
 * The viewer element for `answer` (send_request's `answer`) of the request `method` `url`,
 * reused while its id stays.
 */
export function viewerFor(answer, url, method) {
  let self = live.get(answer.id);
  if (!self) {
    self = createViewer(answer, url, method);
    live.set(answer.id, self);
  }
  return self.el;
}

/** After the screen was rebuilt: each shown viewer back where it was (re-inserting resets scrolling). */
export function viewerAttached() {
  for (const self of live.values()) if (self.el.isConnected) self.restore();
}

/** Forgets the viewers of answers no longer held (`keep`: the ids still in some tab). */
export function forgetViewers(keep) {
  for (const [id, self] of [...live]) {
    if (keep.has(id)) continue;
    live.delete(id);
    if (self.fetched >= COLLECT_AFTER_LINES) collection.soon(id);
  }
}

/** The ids of forgotten viewers whose lines are still being collected (for the tests). */
export function collecting() {
  return collection.waiting();
}

/** The shown viewer's state in short, for the end-to-end tests (also on the element's data-*). */
export function viewerState() {
  const self = [...live.values()].find((s) => s.el.isConnected);
  if (!self) return null;
  const { v } = self;
  return { id: v.id, baseId: v.base?.id, mode: v.mode, top: v.top, total: v.total, complete: v.complete, current: v.current };
}

/**
 * Puts `nodes` in `parent` in that order, where `parent` already holds some of them in that order
 * (the rows kept): each missing one is inserted at its place; anything after them is removed.
 */
export function placeRows(parent, nodes) {
  nodes.forEach((node, j) => {
    const at = parent.children[j] ?? null;
    if (at !== node) parent.insertBefore(node, at);
  });
  while (parent.children.length > nodes.length) parent.children[nodes.length].remove();
}

function createViewer(base, url, method) {
  const self = {
    v: V.viewerInit(base, "pretty", { method, url }), fetching: null, frame: 0, searchTimer: 0, settingScroll: false,
    // The rows in the DOM: the visible index of the first, and each one's line, match and nodes.
    drawn: { first: 0, entries: [] },
    // Rows and gutter marks that left the range, refilled for the lines coming in.
    pool: { rows: [], marks: [] },
    // Lines fetched so far, and the token whose collection says they were freed (collect.js).
    fetched: base.first?.lines?.length ?? 0,
    token: collection.token(base.id),
  };
  const dispatch = (event) => {
    self.fetched += event.window?.lines?.length ?? 0;
    const before = self.v;
    self.v = V.viewerNext(before, event);
    if (self.v === before) return;
    paint();
    saveMoved(before.save, self.v.save);
  };

  const title = h("span", { id: "answer-title", class: "viewer-title" });
  const pretty = h("button", { id: "view-pretty", type: "button", class: "small", onClick: () => setMode("pretty") }, "Pretty");
  const raw = h("button", { id: "view-raw", type: "button", class: "small", onClick: () => setMode("raw") }, "Raw");
  const search = h("input", {
    id: "answer-search", type: "search", placeholder: "Search", "aria-label": "Search the answer", autocomplete: "off", spellcheck: "false",
    onInput: () => {
      clearTimeout(self.searchTimer);
      self.searchTimer = setTimeout(runSearch, 250);
    },
    onKeydown: (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      if (self.v.query !== search.value) runSearch();
      else stepMatch(e.shiftKey ? -1 : 1);
    },
  });
  const count = h("span", { id: "search-count", class: "muted", "aria-live": "polite" });
  const prev = h("button", { id: "search-prev", type: "button", class: "small", "aria-label": "Previous match", title: "Previous match (Shift+Enter)", onClick: () => stepMatch(-1) }, "↑");
  const nextBtn = h("button", { id: "search-next", type: "button", class: "small", "aria-label": "Next match", title: "Next match (Enter)", onClick: () => stepMatch(1) }, "↓");
  const filter = h("input", {
    id: "answer-filter", type: "text", placeholder: "Filter: $.items[0].name", "aria-label": "JSONPath filter (Enter applies, empty shows all)",
    autocomplete: "off", spellcheck: "false",
    onKeydown: (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      runFilter();
    },
  });
  const filterError = h("p", { id: "filter-error", class: "field-error", role: "alert", hidden: true });
  const copy = h("button", { id: "copy-answer", type: "button", class: "small", title: "Copy the answer as shown (pretty or raw)", onClick: runCopy }, "Copy");
  const savePath = h("input", {
    id: "save-path", type: "text", value: V.defaultSavePath(base, url), "aria-label": "File to write", autocomplete: "off", spellcheck: "false",
    onKeydown: (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      dispatch({ type: "saveAsked" });
    },
  });
  const saveButton = h("button", { id: "save-confirm", type: "button", class: "small primary", onClick: () => dispatch({ type: "saveAsked" }) }, "Save");
  const saveCancel = h("button", { id: "save-cancel", type: "button", class: "small", hidden: true, onClick: runCancelSave }, "Cancel");
  // The question before a method that is not safe is sent again: its text is the state's.
  const questionText = h("p", { id: "save-resend-text" });
  const resendYes = h("button", { id: "save-resend-confirm", type: "button", class: "small", onClick: () => dispatch({ type: "saveConfirmed" }) });
  const resendNo = h("button", { id: "save-resend-cancel", type: "button", class: "small", onClick: () => dispatch({ type: "saveCancelled" }) }, "Cancel");
  const question = h("div", {
    id: "save-resend", class: ["note", "note-warning"], role: "alert", hidden: true,
    onKeydown: (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      e.stopPropagation?.();
      dispatch({ type: "saveCancelled" });
    },
  }, questionText, h("div", { class: "actions" }, resendYes, resendNo));
  const saveRow = h("div", { id: "save-row", class: "viewer-save", hidden: true },
    h("label", { for: "save-path" }, base.truncated ? "Send again and write all of it to" : "Write the whole body to"), savePath,
    saveButton, saveCancel);
  const save = h("button", {
    id: "save-body", type: "button", class: "small", "aria-expanded": "false", "aria-controls": "save-row",
    title: base.truncated ? "Only the first part is kept: Save body sends the request again and streams all of it to the file" : "Write the whole body to a file",
    onClick: () => dispatch({ type: "saveToggled" }),
  }, base.truncated ? "Save body… (sends the request again)" : "Save body…");
  const status = h("span", { id: "answer-status", class: "hint", role: "status" });

  const spacer = h("div", { class: "viewer-spacer" });
  const gutter = h("div", { id: "answer-gutter", class: "viewer-gutter", "aria-hidden": "true" });
  const lines = h("pre", { id: "api-data", class: "viewer-lines json", "aria-label": "API response body" });
  const scroller = h("div", {
    id: "answer-scroll", class: "viewer-scroll", tabindex: "0", role: "region",
    "aria-label": "Answer body (arrows, Page Up, Page Down, Home and End scroll)",
    onScroll: () => {
      if (self.settingScroll) {
        self.settingScroll = false;
        return;
      }
      self.v = V.scrolledTo(self.v, V.topFor(self.v, scroller.scrollTop, height()), height());
      schedule();
    },
    onKeydown: (e) => {
      if (e.ctrlKey || e.altKey || e.metaKey) return;
      const top = V.keyTop(self.v, e.key, height());
      if (top === null) return;
      e.preventDefault();
      if (e.key === "End" && !self.v.complete) {
        // The engine indexes to the end for this window; the top follows once it is known.
        toEnd();
        return;
      }
      scrollToTop(top);
    },
  }, spacer, gutter, lines);
  gutter.addEventListener("click", (e) => {
    const button = e.target?.closest?.("button[data-line]");
    if (button) toggleFold(Number(button.getAttribute("data-line")), button.getAttribute("data-fold") === "open");
  });

  const el = h("div", { id: "answer-viewer", class: "viewer", "data-answer-id": String(base.id) },
    h("div", { class: "viewer-bar" },
      title,
      h("span", { class: "seg", role: "group", "aria-label": "Show" }, pretty, raw),
      h("span", { class: "viewer-search" }, search, prev, nextBtn, count),
      base.kind === "json" ? filter : null,
      copy, save, status),
    filterError, saveRow, question, scroller);

  function height() {
    return scroller.clientHeight || 300;
  }

  function schedule() {
    if (self.frame) return;
    const frame = globalThis.requestAnimationFrame ?? ((fn) => setTimeout(fn, 16));
    self.frame = frame(() => {
      self.frame = 0;
      paint();
    });
  }

  function scrollToTop(top) {
    self.v = V.scrolledTo(self.v, top, height());
    syncScroll();
    paint();
  }

  function syncScroll() {
    const want = V.scrollTopFor(self.v, height());
    const before = scroller.scrollTop;
    if (before === want) return;
    self.settingScroll = true;
    scroller.scrollTop = want;
    // Clamped to where it was: no scroll event comes to clear the flag.
    if (scroller.scrollTop === before) self.settingScroll = false;
  }

  /** One answer_lines call at a time; the next missing window is asked for after it. */
  function fetchWindow(from) {
    if (self.fetching) return self.fetching;
    const { id, mode } = self.v;
    self.fetching = api.answerLines(id, mode, Math.max(0, from), V.WINDOW)
      .then((window) => {
        self.fetching = null;
        dispatch({ type: "window", id, mode, window });
      }, (error) => {
        self.fetching = null;
        dispatch({ type: "said", text: error?.message ?? String(error) });
      });
    return self.fetching;
  }

  async function toEnd() {
    await guard(async () => {
      const { id, mode } = self.v;
      const window = await api.answerLines(id, mode, Number.MAX_SAFE_INTEGER, V.WINDOW);
      dispatch({ type: "window", id, mode, window });
      scrollToTop(Number.MAX_SAFE_INTEGER);
    });
  }

  function paint() {
    const v = self.v;
    const hgt = height();
    spacer.style.height = `${V.spacerHeight(v, hgt)}px`;
    const [first, end] = V.drawRange(v, hgt);
    const gap = V.missing(v, first, end);
    if (gap !== -1) fetchWindow(Math.max(0, Math.min(gap, v.top - V.MARGIN)));
    else if (!v.complete && end >= v.total - V.MARGIN) fetchWindow(v.total);
    const linear = v.total * V.LINE_HEIGHT <= V.MAX_SCROLL_PX;
    // Linear: line i sits at i * LINE_HEIGHT. Mapped: the top line sits at the scroll position.
    const blockTop = linear ? first * V.LINE_HEIGHT : Math.max(0, scroller.scrollTop + (first - v.top) * V.LINE_HEIGHT);
    lines.style.transform = `translateY(${blockTop}px)`;
    gutter.style.transform = `translateY(${blockTop}px)`;
    drawRows(first, end, v);
    title.textContent = V.titleText(v.shown);
    pretty.setAttribute("aria-pressed", String(v.mode === "pretty"));
    raw.setAttribute("aria-pressed", String(v.mode === "raw"));
    if (v.shown?.kind !== "json") pretty.setAttribute("aria-disabled", "true");
    count.textContent = V.matchLabel(v);
    status.textContent = v.status;
    paintSave(v);
    filterError.hidden = !v.filterError;
    filterError.textContent = v.filterError ?? "";
    if (v.filterError) filter.setAttribute("aria-invalid", "true");
    else filter.removeAttribute("aria-invalid");
    el.setAttribute("data-mode", v.mode);
    el.setAttribute("data-shown-id", String(v.id));
    el.setAttribute("data-total", String(v.total));
    el.setAttribute("data-complete", String(v.complete));
    el.setAttribute("data-top", String(v.top));
    el.setAttribute("data-current", String(v.current));
  }

  /**
   * The rows of visible lines [first, end) and their gutter marks. A line still in range with the
   * same content and match keeps its nodes; the rows that left the range are refilled for the
   * lines coming in. A key or a scroll so writes only the lines it brings in (a page, not the ~110
   * of the whole range) and makes no new nodes: less to lay out, and no garbage left for
   * JavaScriptCore, which collects only when the page allocates again.
   */
  function drawRows(first, end, v) {
    const match = V.currentMatch(v);
    const before = self.drawn;
    const kept = new Set();
    const sameAt = (i, line, m) => {
      const old = before.entries[i - before.first];
      return old && V.sameRow(old.line, old.match, line, m) ? old : null;
    };
    for (let i = first; i < end; i += 1) {
      const line = v.lines.get(i);
      const old = sameAt(i, line, match && match.line === i ? match : null);
      if (old) kept.add(old);
    }
    const inPlace = lines.children.length === before.entries.length
      && before.entries.every((e, k) => lines.children[k] === e.row);
    for (const e of before.entries) {
      if (kept.has(e)) continue;
      e.row.remove();
      e.mark.remove();
      self.pool.rows.push(e.row);
      self.pool.marks.push(e.mark);
    }
    if (!inPlace) {
      lines.replaceChildren();
      gutter.replaceChildren();
      kept.clear();
    }
    const entries = [];
    for (let i = first; i < end; i += 1) {
      const line = v.lines.get(i);
      const m = match && match.line === i ? match : null;
      const old = sameAt(i, line, m);
      entries.push(old && kept.has(old) ? old : { line, match: m, row: rowFor(line, m), mark: markFor(line) });
    }
    placeRows(lines, entries.map((e) => e.row));
    placeRows(gutter, entries.map((e) => e.mark));
    self.drawn = { first, entries };
  }

  /** A row showing `line` (with `match`): a free one refilled, or a new one. */
  function rowFor(line, match) {
    const row = self.pool.rows.pop();
    if (!row) return lineNode(line, match);
    fillRow(row, line, match);
    return row;
  }

  /** A gutter mark for `line`: a free one refilled, or a new one. */
  function markFor(line) {
    const mark = self.pool.marks.pop();
    if (!mark) return gutterNode(line);
    const button = mark.children[0];
    // A line without a fold hides the mark's button (kept for the next line that has one).
    if (!line?.fold) {
      if (button) button.hidden = true;
    } else if (!button) {
      mark.replaceChildren(foldButton(line));
    } else {
      const open = line.fold === "open";
      button.hidden = false;
      button.setAttribute("data-line", String(line.number));
      button.setAttribute("data-fold", line.fold);
      button.setAttribute("title", open ? "Fold" : "Unfold");
      button.childNodes[0].data = open ? "▾" : "▸";
    }
    return mark;
  }

  /** Rewrites `row` to show `line`: its texts in place when it has the same spans, else anew. */
  function fillRow(row, line, match) {
    if (!line) {
      row.setAttribute("class", "ln ln-pending");
      row.removeAttribute("data-line");
      row.replaceChildren(document.createTextNode("\n"));
      return;
    }
    row.setAttribute("class", match ? "ln ln-current" : "ln");
    row.setAttribute("data-line", String(line.number));
    const parts = V.lineParts(line, match);
    const kids = row.childNodes;
    let same = !match && kids.length === parts.length + 2 && kids[0].nodeType === 3;
    for (let i = 0; same && i < parts.length; i += 1) same = kids[i + 1].tagName === "SPAN";
    if (!same) {
      row.replaceChildren(...rowChildren(line, match));
      return;
    }
    kids[0].data = "  ".repeat(line.indent);
    parts.forEach(([kind, text], i) => {
      const span = kids[i + 1];
      const cls = `tok-${kind}`;
      if (span.getAttribute("class") !== cls) span.setAttribute("class", cls);
      span.childNodes[0].data = text;
    });
  }

  function lineNode(line, match) {
    if (!line) return h("div", { class: ["ln", "ln-pending"] }, "\n");
    return h("div", { class: ["ln", match && "ln-current"], "data-line": String(line.number) }, rowChildren(line, match));
  }

  /** The indentation as text, the spans, a newline at the end: selecting lines copies them as shown. */
  function rowChildren(line, match) {
    return [
      document.createTextNode("  ".repeat(line.indent)),
      ...V.lineParts(line, match).map(([kind, text, marked]) => h(marked ? "mark" : "span", { class: `tok-${kind}` }, text)),
      document.createTextNode("\n"),
    ];
  }

  function gutterNode(line) {
    if (!line?.fold) return h("div", { class: "gl" });
    return h("div", { class: "gl" }, foldButton(line));
  }

  function foldButton(line) {
    const open = line.fold === "open";
    return h("button", {
      type: "button", class: "fold", tabindex: "-1", "data-line": String(line.number), "data-fold": line.fold,
      title: open ? "Fold" : "Unfold",
    }, open ? "▾" : "▸");
  }

  /** The window at the top line again (visible lines moved: a fold, a search). */
  async function windowAtTop(v = self.v) {
    return api.answerLines(v.id, v.mode, Math.max(0, v.top - V.MARGIN), V.WINDOW);
  }

  async function setMode(mode) {
    if (mode === self.v.mode || self.v.shown?.kind !== "json") return;
    await guard(async () => {
      const window = await api.answerLines(self.v.id, mode, 0, V.WINDOW);
      search.value = "";
      dispatch({ type: "moded", mode, window });
      syncScroll();
    });
  }

  async function toggleFold(line, fold) {
    await guard(async () => {
      await api.answerFold(self.v.id, self.v.mode, line, fold);
      dispatch({ type: "folded", window: await windowAtTop() });
      syncScroll();
    });
  }

  async function runSearch() {
    clearTimeout(self.searchTimer);
    const query = search.value;
    await guard(async () => {
      const matches = query ? await api.answerSearch(self.v.id, self.v.mode, query) : null;
      const window = await windowAtTop();
      dispatch({ type: "searched", query, matches, window });
      scrollToTop(V.topForMatch(self.v, height()));
    });
  }

  function stepMatch(dir) {
    dispatch({ type: "stepped", dir, height: height() });
    syncScroll();
    paint();
  }

  async function runFilter() {
    const expression = filter.value.trim();
    try {
      const view = expression ? await api.answerFilter(self.v.base.id, expression) : null;
      search.value = "";
      dispatch({ type: "filtered", expression, view });
      syncScroll();
    } catch (error) {
      dispatch({ type: "filterFailed", expression, message: error?.message ?? String(error) });
    }
  }

  async function runCopy() {
    await guard(async () => {
      const chars = await api.answerCopy(self.v.id, self.v.mode);
      dispatch({ type: "said", text: `Copied ${chars.toLocaleString("en-US")} characters.` });
    });
  }

  /** The save row and its question, from the state. */
  function paintSave(v) {
    saveRow.hidden = v.save === "closed";
    save.setAttribute("aria-expanded", String(v.save !== "closed"));
    const saving = v.save === "saving";
    flag(saveButton, "disabled", saving || v.save === "confirm");
    flag(savePath, "disabled", saving);
    // Sending again is a wait of its own: the engine's request in flight, cancelled like any.
    saveCancel.hidden = !(saving && V.resends(v));
    question.hidden = v.save !== "confirm";
    if (v.save === "confirm") {
      const [first, second] = V.resendQuestion(v);
      questionText.textContent = `${first} ${second}`;
      const m = String(v.sent?.method ?? "").trim().toUpperCase();
      resendYes.textContent = m ? `Send ${m} again and save` : "Send again and save";
    }
  }

  /** What a move of the save step starts: the question's focus, or the save_body command. */
  function saveMoved(from, to) {
    if (from === to) return;
    if (to === "confirm") resendNo.focus?.(); // Enter alone must not repeat a side effect
    else if (to === "open") savePath.focus?.(); // opened, not sent after all, or failed: the file
    else if (to === "saving") runSave();
  }

  async function runSave() {
    let saved;
    try {
      // A filter's result saves as shown; otherwise the whole answer.
      saved = await api.saveBody(self.v.id, savePath.value);
    } catch (error) {
      dispatch({ type: "saveFailed", error });
      return;
    }
    dispatch({ type: "saveDone", saved });
  }

  async function runCancelSave() {
    await guard(() => api.cancelRequest());
  }

  function flag(node, name, on) {
    if (on) node.setAttribute(name, "");
    else node.removeAttribute(name);
  }

  async function guard(work) {
    try {
      await work();
    } catch (error) {
      dispatch({ type: "said", text: error?.message ?? String(error) });
    }
  }

  self.el = el;
  self.restore = () => {
    syncScroll();
    paint();
  };
  paint();
  return self;
}
