// The answer viewer: its pure state machine (viewer.js) and its DOM (viewer-view.js) against a
// stand-in for the engine's commands.
import { describe, test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { installDocument, byId } from "./fake-dom.mjs";
import * as V from "../viewer.js";

const line = (number, text, extra = {}) => ({ number, indent: 0, spans: [["plain", text]], fold: null, ...extra });
const windowOf = (from, texts, total = texts.length + from, complete = true) => ({
  from, lines: texts.map((t, i) => line(from + i, t)), total, complete,
});
const view = (over = {}) => ({
  id: 7, kind: "json", size: 40, kept: 40, truncated: false, sizeKnown: true,
  first: windowOf(0, ["{", "\"a\": 1", "}"]), ...over,
});

describe("viewer state", () => {
  test("starts pretty with the first window; Raw swaps the lines and clears the search", () => {
    let v = V.viewerInit(view());
    assert.equal(v.mode, "pretty");
    assert.equal(v.lines.get(1).spans[0][1], "\"a\": 1");
    v = V.viewerNext(v, { type: "searched", query: "a", matches: { count: 1, matches: [{ line: 1, column: 1, length: 1 }] }, window: windowOf(0, ["{", "\"a\": 1", "}"]) });
    assert.equal(V.matchLabel(v), "1 of 1");
    v = V.viewerNext(v, { type: "moded", mode: "raw", window: windowOf(0, ["{\"a\":1}"]) });
    assert.equal(v.mode, "raw");
    assert.equal(v.total, 1);
    assert.equal(v.matches, null);
    assert.equal(V.matchLabel(v), "");
    // A text answer has no pretty form: it stays raw.
    const text = V.viewerInit(view({ kind: "text" }));
    assert.equal(text.mode, "raw");
    assert.equal(V.viewerNext(text, { type: "moded", mode: "pretty", window: windowOf(0, ["x"]) }), text);
  });

  test("a window for another answer or mode (answered late) is dropped", () => {
    const v = V.viewerInit(view());
    assert.equal(V.viewerNext(v, { type: "window", id: 8, mode: "pretty", window: windowOf(0, ["x"]) }), v);
    assert.equal(V.viewerNext(v, { type: "window", id: 7, mode: "raw", window: windowOf(0, ["x"]) }), v);
    const grown = V.viewerNext(v, { type: "window", id: 7, mode: "pretty", window: windowOf(3, ["more"], 10, false) });
    assert.equal(grown.total, 10);
    assert.equal(grown.complete, false);
    assert.equal(grown.lines.get(3).spans[0][1], "more");
    assert.equal(grown.lines.get(0).spans[0][1], "{", "the lines before stay cached");
  });

  test("a fold replaces the cached lines with the window after it", () => {
    const long = view({ first: windowOf(0, ["{", "\"a\": [", "1", "2", "],", "\"b\": 2", "}"]) });
    let v = V.viewerInit(long);
    assert.equal(v.total, 7);
    v = V.viewerNext(v, { type: "folded", window: { from: 0, lines: [line(0, "{"), line(1, "\"a\": [", { fold: "folded" }), line(4, "],"), line(5, "\"b\": 2"), line(6, "}")], total: 5, complete: true } });
    assert.equal(v.total, 5);
    assert.equal(v.lines.get(2).number, 4, "visible line 2 is line 4: the fold hides lines 2 and 3");
    assert.equal(v.lines.get(1).fold, "folded");
  });

  test("search: next and previous go round, and each scrolls its match into sight", () => {
    const texts = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    let v = V.viewerInit(view({ first: windowOf(0, texts) }));
    const matches = { count: 3, matches: [{ line: 5, column: 0, length: 4 }, { line: 120, column: 0, length: 4 }, { line: 190, column: 0, length: 4 }] };
    v = V.viewerNext(v, { type: "searched", query: "line", matches, window: windowOf(0, texts) });
    assert.equal(v.current, 0);
    assert.equal(V.matchLabel(v), "1 of 3");
    v = V.viewerNext(v, { type: "stepped", dir: 1, height: 180 });
    assert.equal(v.current, 1);
    assert.ok(v.top <= 120 && 120 < v.top + V.pageSize(180), `match line 120 in sight from top ${v.top}`);
    v = V.viewerNext(v, { type: "stepped", dir: 1, height: 180 });
    v = V.viewerNext(v, { type: "stepped", dir: 1, height: 180 });
    assert.equal(v.current, 0, "next after the last is the first");
    v = V.viewerNext(v, { type: "stepped", dir: -1, height: 180 });
    assert.equal(V.matchLabel(v), "3 of 3", "previous before the first is the last");
    const none = V.viewerNext(v, { type: "searched", query: "zzz", matches: { count: 0, matches: [] }, window: windowOf(0, texts) });
    assert.equal(V.matchLabel(none), "No matches");
    assert.equal(V.viewerNext(none, { type: "stepped", dir: 1, height: 180 }), none);
    const many = V.viewerNext(v, { type: "searched", query: "e", matches: { count: 12345, matches: matches.matches }, window: windowOf(0, texts) });
    assert.match(V.matchLabel(many), /^\d of 12,345 \(first 3 listed\)$/);
  });

  test("the current match is marked within its spans", () => {
    const l = { number: 0, indent: 1, spans: [["key", "\"name\""], ["punctuation", ":"], ["plain", " "], ["string", "\"Ada\""]], fold: null };
    assert.deepEqual(V.lineParts(l, { line: 0, column: 3, length: 6 }), [
      ["key", "\"na", false], ["key", "me\"", true], ["punctuation", ":", true], ["plain", " ", true], ["string", "\"", true], ["string", "Ada\"", false],
    ]);
    assert.deepEqual(V.lineParts(l, null).map((p) => p[2]), [false, false, false, false]);
  });

  test("a filter shows its result as an answer of its own; an empty one shows the answer again", () => {
    let v = V.viewerInit(view());
    const result = view({ id: 9, size: 5, kept: 5, first: windowOf(0, ["[", "1", "]"]) });
    v = V.viewerNext(v, { type: "filtered", expression: "$.a", view: result });
    assert.equal(v.id, 9);
    assert.equal(v.base.id, 7, "the tab's answer stays the base");
    assert.equal(v.filter, "$.a");
    assert.equal(V.titleText(v.shown), "Body (JSON, 5 B)");
    v = V.viewerNext(v, { type: "filtered", expression: "", view: null });
    assert.equal(v.id, 7);
    assert.equal(v.filter, "");
  });

  test("a bad filter keeps the answer and says why in the engine's one sentence", () => {
    const v = V.viewerInit(view());
    const message = "“$.a[” is not a JSONPath expression (at position 4); write one such as $.items[0].name.";
    const bad = V.viewerNext(v, { type: "filterFailed", expression: "$.a[", message });
    assert.equal(bad.id, 7);
    assert.equal(bad.filterError, message);
    assert.equal(V.viewerNext(bad, { type: "filtered", expression: "$.a", view: view({ id: 10 }) }).filterError, null);
  });

  test("sizes: the true size, and past the cap the kept part of it", () => {
    assert.equal(V.sizeText({ size: 2_248_891, kept: 2_248_891, truncated: false }), "2.2 MB");
    assert.equal(V.sizeText({ size: 2_300_000_000, kept: 52_428_800, truncated: true, sizeKnown: true }), "first 52.4 MB of 2.3 GB");
    assert.equal(V.sizeText({ size: 60_000_000, kept: 52_428_800, truncated: true, sizeKnown: false }), "first 52.4 MB of at least 60.0 MB");
  });

  test("scrolling maps onto lines, linearly or (past 4,000,000 px) by proportion, and End reaches the last line", () => {
    const small = { ...V.viewerInit(view()), total: 1000 };
    assert.equal(V.topFor(small, 18 * 40, 360), 40);
    assert.equal(V.scrollTopFor(V.scrolledTo(small, 40, 360), 360), 720);
    const huge = { ...V.viewerInit(view()), total: 5_000_000 };
    const end = V.scrolledTo(huge, Number.MAX_SAFE_INTEGER, 360);
    assert.equal(end.top, 5_000_000 - 20);
    assert.equal(V.scrollTopFor(end, 360), V.MAX_SCROLL_PX - 360);
    assert.equal(V.topFor(huge, V.MAX_SCROLL_PX - 360, 360), end.top);
    assert.equal(V.spacerHeight(huge, 360), V.MAX_SCROLL_PX);
    assert.deepEqual(V.drawRange(end, 360), [end.top - V.MARGIN, 5_000_000]);
  });

  test("safe methods are GET, HEAD, OPTIONS and TRACE (RFC 9110 §9.2.1); every other one, or none, is not", () => {
    for (const m of ["GET", "head", "Options", "TRACE"]) assert.equal(V.isSafeMethod(m), true, m);
    for (const m of ["POST", "PUT", "PATCH", "DELETE", "CONNECT", "PURGE", "", undefined, null]) assert.equal(V.isSafeMethod(m), false, String(m));
  });

  test("Save body of a cut answer to a POST asks before sending it again; Cancel sends nothing", () => {
    const cut = view({ size: 60_000_000, kept: 52_428_800, truncated: true });
    let v = V.viewerInit(cut, "pretty", { method: "POST", url: "http://x/orders" });
    v = V.viewerNext(v, { type: "saveToggled" });
    assert.equal(v.save, "open");
    v = V.viewerNext(v, { type: "saveAsked" });
    assert.equal(v.save, "confirm", "asked, not saving");
    assert.deepEqual(V.resendQuestion(v), [
      "Saving all of it sends POST http://x/orders again.",
      "POST is not a safe method (RFC 9110 §9.2.1): the server may do again what it did the first time, such as create, change or delete something.",
    ]);
    assert.equal(V.viewerNext(v, { type: "saveAsked" }), v, "asking again while the question shows does not bypass it");
    const cancelled = V.viewerNext(v, { type: "saveCancelled" });
    assert.equal(cancelled.save, "open");
    assert.equal(cancelled.status, "Not sent again: nothing was saved.");
    v = V.viewerNext(v, { type: "saveConfirmed" });
    assert.equal(v.save, "saving");
    assert.equal(v.status, "Sending again and saving…");
    v = V.viewerNext(v, { type: "saveFailed", error: { kind: "cancelled", message: "Cancelled." } });
    assert.equal(v.save, "open");
    assert.equal(v.status, "Cancelled: nothing was saved.");
  });

  test("Save body goes straight on for a safe method, a kept answer, or a filter's result", () => {
    const cut = view({ size: 60_000_000, kept: 52_428_800, truncated: true });
    const ask = (answer, method, events = []) => {
      let v = V.viewerInit(answer, "pretty", { method, url: "http://x/a" });
      for (const e of [...events, { type: "saveToggled" }, { type: "saveAsked" }]) v = V.viewerNext(v, e);
      return v.save;
    };
    assert.equal(ask(cut, "GET"), "saving", "a GET is sent again without asking");
    assert.equal(ask(cut, "HEAD"), "saving");
    assert.equal(ask(view(), "DELETE"), "saving", "a kept answer is written from what is kept: nothing is sent");
    assert.equal(ask(cut, "POST", [{ type: "filtered", expression: "$.a", view: view({ id: 9 }) }]), "saving", "a filter's result is written as shown");
    assert.equal(ask(cut, "PUT"), "confirm");
    assert.equal(ask(cut, undefined), "confirm", "a method not known is asked about");
    let done = V.viewerInit(cut, "pretty", { method: "GET", url: "" });
    for (const e of [{ type: "saveToggled" }, { type: "saveAsked" }, { type: "saveDone", saved: { path: "/tmp/a", bytes: 60_000_000, resent: true } }]) done = V.viewerNext(done, e);
    assert.equal(done.save, "closed");
    assert.equal(done.status, "Saved 60,000,000 bytes to /tmp/a.");
  });

  test("a drawn row is kept while its line shows the same, and rebuilt when it or its match changes", () => {
    const a = line(4, "\"a\": 1", { indent: 1 });
    assert.equal(V.sameRow(a, null, a, null), true);
    assert.equal(V.sameRow(a, null, { ...a, spans: a.spans.map((s) => [...s]) }, null), true, "fetched again: equal, not the same object");
    assert.equal(V.sameRow(a, null, { ...a, spans: [["plain", "\"a\": 2"]] }, null), false);
    assert.equal(V.sameRow(a, null, { ...a, fold: "open" }, null), false);
    assert.equal(V.sameRow(a, null, { ...a, number: 5 }, null), false);
    assert.equal(V.sameRow(undefined, null, a, null), false, "a pending row is replaced once its line comes");
    const m = { line: 4, column: 0, length: 3 };
    assert.equal(V.sameRow(a, m, a, { ...m }), true);
    assert.equal(V.sameRow(a, null, a, m), false, "the current match moved onto it");
    assert.equal(V.sameRow(a, m, a, { ...m, column: 1 }), false);
  });

  test("the divider's keys move the split between 20 % and 80 %", () => {
    assert.equal(V.splitKey(0.45, "ArrowRight"), 0.5);
    assert.equal(V.splitKey(0.2, "ArrowLeft"), 0.2);
    assert.equal(V.splitKey(0.5, "End"), 0.8);
    assert.equal(V.splitKey(0.5, "a"), null);
    assert.equal(V.clampSplit(Number("x")), 0.45);
  });
});

describe("viewer view", () => {
  let calls;
  let replies;
  beforeEach(() => {
    installDocument();
    calls = [];
    replies = {};
    globalThis.window = {
      __TAURI__: {
        core: {
          invoke: async (cmd, args) => {
            calls.push([cmd, args]);
            const reply = replies[cmd];
            if (!reply) throw { kind: "unknown", message: `no ${cmd}` };
            return reply(args);
          },
        },
      },
    };
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  test("only the visible window of a long answer is in the DOM, highlighted by token kind", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const first = { from: 0, lines: Array.from({ length: 120 }, (_, i) => ({ number: i, indent: 1, spans: [["key", `"k${i}"`], ["punctuation", ":"], ["plain", " "], ["number", String(i)]], fold: null })), total: 120, complete: false };
    const el = viewerFor(view({ id: 21, size: 60_000_000, kept: 52_428_800, truncated: true, first }), "http://x/items");
    const rows = byId(el, "api-data").children;
    assert.equal(rows.length, V.pageSize(300) + V.MARGIN, "visible lines and a margin, not all 120");
    assert.equal(rows[3].textContent, "  \"k3\": 3\n");
    assert.deepEqual(rows[3].children.map((c) => c.getAttribute("class")), ["tok-key", "tok-punctuation", "tok-plain", "tok-number"]);
    assert.equal(byId(el, "answer-title").textContent, "Body (JSON, first 52.4 MB of 60.0 MB)");
    assert.match(byId(el, "save-body").textContent, /sends the request again/);
    assert.equal(byId(el, "save-path").value, "~/Downloads/items.json");
    assert.equal(viewerFor(view({ id: 21 }), "") , el, "the same answer keeps its node");
  });

  test("a key builds only the lines it brings in: the rows still in range stay the same nodes", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const texts = Array.from({ length: 300 }, (_, i) => `"k${i}": ${i}`);
    const el = viewerFor(view({ id: 31, first: windowOf(0, texts) }), "");
    const scroll = byId(el, "answer-scroll");
    const rows = () => byId(el, "api-data").children;
    const marks = () => byId(el, "answer-gutter").children;
    const page = V.pageSize(300) - 1;
    const range = () => [Math.max(0, Number(el.getAttribute("data-top")) - V.MARGIN), Number(el.getAttribute("data-top")) + V.pageSize(300) + V.MARGIN];
    const check = () => {
      const [first, end] = range();
      assert.equal(rows().length, end - first);
      assert.equal(marks().length, end - first);
      rows().forEach((r, k) => assert.equal(r.getAttribute("data-line"), String(first + k), "in order, none missing"));
    };
    for (const [key, top] of [["PageDown", page], ["PageDown", 2 * page], ["PageDown", 3 * page], ["PageUp", 2 * page], ["ArrowDown", 2 * page + 1]]) {
      const [oldFirst, oldEnd] = range();
      const before = new Map(rows().map((r) => [r.getAttribute("data-line"), r]));
      const beforeMarks = marks();
      scroll.fire("keydown", { key });
      assert.equal(el.getAttribute("data-top"), String(top), key);
      check();
      const [first, end] = range();
      let kept = 0;
      for (const r of rows()) {
        const n = Number(r.getAttribute("data-line"));
        if (n >= oldFirst && n < oldEnd) {
          assert.equal(r, before.get(String(n)), `${key}: line ${n} kept its node`);
          assert.ok(beforeMarks.includes(marks()[n - first]), `${key}: its gutter mark too`);
          kept += 1;
        }
      }
      assert.equal(kept, Math.min(end, oldEnd) - Math.max(first, oldFirst), key);
    }
    // Home goes back to the first lines.
    scroll.fire("keydown", { key: "Home" });
    check();
    assert.equal(rows()[0].textContent, "\"k0\": 0\n");
  });

  test("rows that leave the range are refilled for the lines coming in: scrolling makes no new nodes", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const lines = Array.from({ length: 400 }, (_, i) => line(i, `"k${i}": ${i}`, { indent: i % 3, fold: i % 10 === 0 ? "open" : null }));
    const el = viewerFor(view({ id: 32, first: { from: 0, lines, total: 400, complete: true } }), "");
    const scroll = byId(el, "answer-scroll");
    // Down to where the range has its full size (visible lines and a margin either side), so no
    // more rows are needed; past that, every key reuses the rows it scrolls out.
    for (const key of ["PageDown", "PageDown", "PageDown", "PageDown"]) scroll.fire("keydown", { key });
    let made = 0;
    const create = document.createElement;
    document.createElement = (tag) => { made += 1; return create(tag); };
    for (const key of ["PageDown", "PageDown", "PageDown", "PageDown", "PageUp", "ArrowDown", "PageDown"]) scroll.fire("keydown", { key });
    document.createElement = create;
    assert.ok(made <= 4, `${made} elements made while scrolling (at most a few fold buttons)`);
    const top = Number(el.getAttribute("data-top"));
    const first = Math.max(0, top - V.MARGIN);
    const rows = byId(el, "api-data").children;
    const marks = byId(el, "answer-gutter").children;
    assert.equal(rows.length, V.pageSize(300) + 2 * V.MARGIN);
    rows.forEach((r, k) => {
      const n = first + k;
      assert.equal(r.getAttribute("data-line"), String(n));
      assert.equal(r.textContent, `${"  ".repeat(n % 3)}"k${n}": ${n}\n`, `row ${n} refilled`);
      assert.equal(r.getAttribute("class"), "ln");
      const button = marks[k].querySelector("button");
      if (n % 10 === 0) {
        assert.equal(button?.getAttribute("data-line"), String(n), `line ${n}'s fold mark`);
        assert.equal(button.hidden, false);
      } else assert.ok(!button || button.hidden, `line ${n} shows no fold mark`);
    });
  });

  test("a bad filter shows the engine's sentence and keeps the lines; Save body reports what it wrote", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const el = viewerFor(view({ id: 22 }), "http://x/a");
    replies.answer_filter = async () => { throw { kind: "bad_filter", message: "“$.a[” is not a JSONPath expression; write one such as $.items[0].name." }; };
    const filter = byId(el, "answer-filter");
    filter.value = "$.a[";
    filter.fire("keydown", { key: "Enter" });
    await settle();
    assert.equal(byId(el, "filter-error").hidden, false);
    assert.match(byId(el, "filter-error").textContent, /^“\$\.a\[” is not a JSONPath expression/);
    assert.equal(filter.getAttribute("aria-invalid"), "true");
    assert.equal(byId(el, "api-data").children.length, 3, "the answer is still shown");

    replies.save_body = async ({ path }) => ({ path: path.replace("~", "/home/u"), bytes: 1234, resent: false });
    byId(el, "save-body").fire("click");
    assert.equal(byId(el, "save-row").hidden, false);
    byId(el, "save-confirm").fire("click");
    await settle();
    assert.deepEqual(calls.at(-1), ["save_body", { answerId: 22, path: "~/Downloads/a.json" }]);
    assert.equal(byId(el, "answer-status").textContent, "Saved 1,234 bytes to /home/u/Downloads/a.json.");
  });

  test("Save body of a cut POST answer asks in the page before save_body runs; Cancel keeps it unsent", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const el = viewerFor(view({ id: 24, size: 60_000_000, kept: 52_428_800, truncated: true }), "http://x/orders", "POST");
    replies.save_body = async ({ path }) => ({ path, bytes: 60_000_000, resent: true });
    assert.equal(byId(el, "save-resend").hidden, true);
    byId(el, "save-body").fire("click");
    byId(el, "save-confirm").fire("click");
    await settle();
    assert.equal(calls.filter(([c]) => c === "save_body").length, 0, "nothing sent before the user agrees");
    assert.equal(byId(el, "save-resend").hidden, false);
    assert.equal(byId(el, "save-resend-text").textContent,
      "Saving all of it sends POST http://x/orders again. POST is not a safe method (RFC 9110 §9.2.1): the server may do again what it did the first time, such as create, change or delete something.");
    assert.equal(byId(el, "save-resend-confirm").textContent, "Send POST again and save");
    assert.equal(document.activeElement, byId(el, "save-resend-cancel"), "the focus is on Cancel: Enter alone repeats nothing");
    byId(el, "save-path").fire("keydown", { key: "Enter" });
    byId(el, "save-resend").fire("keydown", { key: "Escape" });
    await settle();
    assert.equal(calls.filter(([c]) => c === "save_body").length, 0, "Enter in the path and Escape send nothing");
    assert.equal(byId(el, "save-resend").hidden, true);
    assert.equal(byId(el, "answer-status").textContent, "Not sent again: nothing was saved.");

    byId(el, "save-confirm").fire("click");
    byId(el, "save-resend-confirm").fire("click");
    assert.equal(byId(el, "save-cancel").hidden, false, "sending again can be cancelled");
    await settle();
    assert.deepEqual(calls.filter(([c]) => c === "save_body"), [["save_body", { answerId: 24, path: "~/Downloads/orders.json" }]]);
    assert.equal(byId(el, "answer-status").textContent, "Saved 60,000,000 bytes to ~/Downloads/orders.json.");
    assert.equal(byId(el, "save-row").hidden, true);
  });

  test("Save body of a cut GET answer sends it again without a question", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const el = viewerFor(view({ id: 25, size: 60_000_000, kept: 52_428_800, truncated: true }), "http://x/items", "GET");
    replies.save_body = async ({ path }) => ({ path, bytes: 60_000_000, resent: true });
    byId(el, "save-body").fire("click");
    byId(el, "save-confirm").fire("click");
    assert.equal(byId(el, "save-resend").hidden, true);
    await settle();
    assert.deepEqual(calls.filter(([c]) => c === "save_body"), [["save_body", { answerId: 25, path: "~/Downloads/items.json" }]]);
  });

  test("search asks the engine, then Enter steps to the next match and Shift+Enter back", async () => {
    const { viewerFor } = await import("../viewer-view.js");
    const el = viewerFor(view({ id: 23 }), "");
    replies.answer_search = async () => ({ count: 2, matches: [{ line: 0, column: 0, length: 1 }, { line: 2, column: 0, length: 1 }] });
    replies.answer_lines = async ({ from }) => ({ ...windowOf(0, ["{", "\"a\": 1", "}"]), from: 0, requested: from });
    const search = byId(el, "answer-search");
    search.value = "x";
    search.fire("keydown", { key: "Enter" });
    await settle();
    await settle();
    assert.equal(byId(el, "search-count").textContent, "1 of 2");
    assert.equal(el.getAttribute("data-current"), "0");
    assert.equal(byId(el, "api-data").children[0].querySelector("mark").textContent, "{");
    search.fire("keydown", { key: "Enter" });
    assert.equal(byId(el, "search-count").textContent, "2 of 2");
    search.fire("keydown", { key: "Enter", shiftKey: true });
    assert.equal(byId(el, "search-count").textContent, "1 of 2");
    byId(el, "search-next").fire("click");
    assert.equal(el.getAttribute("data-current"), "1");
  });

  test("a forgotten viewer that fetched many lines has them collected at once; a small one does not", async () => {
    const { COLLECT_AFTER_LINES, collecting, forgetViewers, viewerFor } = await import("../viewer-view.js");
    const many = Array.from({ length: 400 }, (_, i) => line(i, `"k${i}": ${i}`));
    const big = viewerFor(view({ id: 51, first: { from: 0, lines: many, total: 100_000, complete: false } }), "");
    viewerFor(view({ id: 52 }), "");
    // Scrolling fetches window after window: the viewer counts the lines that came.
    let asked = 0;
    replies.answer_lines = async ({ from }) => { asked += 1; return { ...windowOf(from, Array.from({ length: V.WINDOW }, (_, i) => `l${from + i}`), 100_000, false) }; };
    const scroll = byId(big, "answer-scroll");
    while (asked * V.WINDOW < COLLECT_AFTER_LINES) {
      scroll.fire("keydown", { key: "PageDown" });
      await settle();
    }
    forgetViewers(new Set([51, 52]));
    assert.deepEqual(collecting(), [], "both still held: nothing to collect");
    forgetViewers(new Set());
    assert.deepEqual(collecting(), [51], "only the one that fetched many lines");
  });
});
