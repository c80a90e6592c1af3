// Tabs (issue 17 part 3): several requests at once, each with its own editor and last answer.
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { byId, installDocument } from "./fake-dom.mjs";
import { NOW, apiResult, session, sessionState, settings } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import { middleEllipsis, tabTitle, tabsShown, tabsSnapshot } from "../tabs.js";
import { view } from "../view.js";

const run = (state, ...events) => events.reduce(next, state);
const signedIn = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) });
const url = (s) => s.request.url;

let dispatched;
const dispatch = (e) => dispatched.push(e);
beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("tabs", () => {
  test("a new tab has its own editor and answer; switching swaps them, the front tab's stay at state.request / state.api", () => {
    const one = run(signedIn(), { type: "requestEdited", part: "url", value: "http://x/one" }, { type: "callApiClicked" },
      { type: "apiAnswered", result: apiResult({ status: 201 }) });
    const two = run(one, { type: "tabNew" });
    assert.equal(two.tabs.list.length, 2);
    assert.equal(url(two), settings.apiUrl, "a new tab starts at the settings' API URL");
    assert.equal(two.api.status, "idle");
    const edited = run(two, { type: "requestEdited", part: "url", value: "http://x/two" });
    const back = next(edited, { type: "tabChosen", id: one.tabs.active });
    assert.equal(url(back), "http://x/one");
    assert.equal(back.api.result.status, 201);
    const again = next(back, { type: "tabStepped", by: 1 });
    assert.equal(url(again), "http://x/two");
    assert.equal(next(again, { type: "tabStepped", by: 1 }).request.url, "http://x/one", "round");
  });

  test("an answer goes to the tab it was sent from, even when another is in front; the others do not send meanwhile", () => {
    const sent = run(signedIn(), { type: "requestEdited", part: "url", value: "http://x/slow" }, { type: "callApiClicked" });
    const from = sent.tabs.active;
    const other = next(sent, { type: "tabNew" });
    assert.equal(next(other, { type: "callApiClicked" }), other, "one request at a time");
    const answered = next(other, { type: "apiAnswered", result: apiResult({ status: 202 }), tab: from });
    assert.equal(answered.api.status, "idle", "the tab in front is untouched");
    const shown = tabsShown(answered).find((t) => t.id === from);
    assert.equal(shown.api.result.status, 202);
    assert.equal(next(answered, { type: "tabChosen", id: from }).api.result.status, 202);
  });

  test("close (× / Ctrl+W) brings the neighbour to the front; the last one closed leaves an empty tab; a waiting one stays", () => {
    let s = run(signedIn(), { type: "requestEdited", part: "url", value: "http://x/a" }, { type: "tabNew" },
      { type: "requestEdited", part: "url", value: "http://x/b" }, { type: "tabNew" }, { type: "requestEdited", part: "url", value: "http://x/c" });
    const [a, b] = s.tabs.list.map((t) => t.id);
    s = next(s, { type: "tabChosen", id: b });
    s = next(s, { type: "tabClosed", id: b });
    assert.deepEqual(tabsShown(s).map((t) => t.request.url), ["http://x/a", "http://x/c"]);
    assert.equal(url(s), "http://x/c");
    s = run(s, { type: "tabClosed", id: s.tabs.active }, { type: "tabClosed", id: a });
    assert.equal(s.tabs.list.length, 1);
    assert.equal(url(s), settings.apiUrl);
    const waiting = next(s, { type: "callApiClicked" });
    assert.equal(next(waiting, { type: "tabClosed", id: waiting.tabs.active }), waiting);
  });

  test("reorder: dragged to a place, or Ctrl+Shift+PageUp/PageDown moves the front tab", () => {
    let s = run(signedIn(), { type: "requestEdited", part: "url", value: "http://x/a" }, { type: "tabNew" },
      { type: "requestEdited", part: "url", value: "http://x/b" }, { type: "tabNew" }, { type: "requestEdited", part: "url", value: "http://x/c" });
    const order = (st) => tabsShown(st).map((t) => t.request.url.slice(-1)).join("");
    assert.equal(order(s), "abc");
    s = next(s, { type: "tabMoved", by: -1 });
    assert.equal(order(s), "acb");
    assert.equal(url(s), "http://x/c", "the moved tab stays in front");
    s = next(s, { type: "tabMoved", id: s.tabs.list[2].id, to: 0 });
    assert.equal(order(s), "bac");
    assert.equal(next(s, { type: "tabMoved", by: -5 }), s);
  });

  test("what is kept over a restart: drafts and status lines, never a body; restored as they were", () => {
    const s = run(signedIn(), { type: "requestEdited", part: "url", value: "http://x/a?q=1" }, { type: "callApiClicked" },
      { type: "apiAnswered", result: apiResult({ status: 200, reason: "OK", size: 1234 }) }, { type: "tabNew" },
      { type: "requestEdited", part: "url", value: "http://x/b" });
    const snapshot = tabsSnapshot(s, "oauth");
    assert.equal(snapshot.active, 1);
    assert.deepEqual(snapshot.tabs.map((t) => t.status), ["200 OK · 35 ms · 1.2 kB", null]);
    assert.equal(snapshot.tabs[0].request.url, "http://x/a");
    assert.deepEqual(snapshot.tabs[0].request.query, [{ name: "q", value: "1", enabled: true }]);
    assert.ok(!JSON.stringify(snapshot).includes("userId"), "no answer body");
    const restored = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) }, { type: "tabsRestored", saved: snapshot });
    assert.equal(url(restored), "http://x/b");
    const first = next(restored, { type: "tabChosen", id: restored.tabs.list[0].id });
    assert.equal(url(first), "http://x/a?q=1");
    const root = view(first, dispatch);
    assert.equal(byId(root, "api-restored").textContent, "Last answer: 200 OK · 35 ms · 1.2 kB");
    assert.match(byId(root, "api-result").textContent, /not kept, because answers can hold secrets/);
  });

  test("the mode (REST | MCP) and the MCP server's URL are kept over a restart; an older or odd snapshot leaves them as at a first start", () => {
    const s = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: "http://127.0.0.1:5000/mcp" });
    const snapshot = tabsSnapshot(s, "oauth");
    assert.equal(snapshot.mode, "mcp");
    assert.equal(snapshot.mcpUrl, "http://127.0.0.1:5000/mcp");
    assert.equal(tabsSnapshot(signedIn(), "oauth").mode, "rest");
    const boot = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) });
    const restored = next(boot(), { type: "tabsRestored", saved: JSON.parse(JSON.stringify(snapshot)) });
    assert.equal(restored.mode, "mcp");
    assert.equal(restored.mcp.url, "http://127.0.0.1:5000/mcp");
    assert.equal(restored.tabs.list.length, 1, "the REST tab comes back too");
    const root = view(restored, dispatch);
    assert.equal(byId(root, "mode-mcp").getAttribute("aria-pressed"), "true");
    assert.equal(byId(root, "mcp-url").value, "http://127.0.0.1:5000/mcp");
    assert.equal(byId(root, "mcp-url").hasAttribute("data-initial-focus"), true, "the URL takes the focus at start");
    const older = next(boot(), { type: "tabsRestored", saved: { tabs: snapshot.tabs, active: 0 } });
    assert.equal(older.mode, "rest");
    assert.equal(older.mcp.url, "");
    const odd = next(boot(), { type: "tabsRestored", saved: { ...snapshot, mode: "graphql", mcpUrl: 7 } });
    assert.equal(odd.mode, "rest");
    assert.equal(odd.mcp.url, "");
  });

  test("titles: the method and the URL's path, cut in the middle; the strip has a tab per request, × and +", () => {
    assert.equal(tabTitle({ method: "POST", url: "http://127.0.0.1:5000/echo?x=1" }), "POST /echo");
    assert.equal(tabTitle({ method: "GET", url: "" }), "GET New request");
    assert.equal(tabTitle({ method: "GET", url: "http://h/a/very/long/path/to/some/resource/id" }), `GET ${middleEllipsis("/a/very/long/path/to/some/resource/id", 28)}`);
    assert.equal(middleEllipsis("abcdefghij", 5), "ab…ij");
    const s = run(signedIn(), { type: "tabNew" });
    const root = view(s, dispatch);
    const [a, b] = s.tabs.list.map((t) => t.id);
    assert.equal(byId(root, `tab-${b}`).getAttribute("aria-selected"), "true");
    assert.equal(byId(root, `tab-${a}`).getAttribute("aria-selected"), "false");
    byId(root, `tab-${a}`).fire("click");
    byId(root, `tab-${a}-close`).fire("click");
    byId(root, "tab-new").fire("click");
    let data = null;
    byId(root, `tab-${b}`).fire("dragstart", { dataTransfer: { setData: (_, v) => { data = v; } } });
    root.querySelectorAll("div").find((d) => d.getAttribute("data-tab") === String(a))
      .fire("drop", { dataTransfer: { getData: () => data } });
    assert.deepEqual(dispatched, [{ type: "tabChosen", id: a }, { type: "tabClosed", id: a }, { type: "tabNew" }, { type: "tabMoved", id: b, to: 0 }]);
  });

  test("a history entry opens in a new tab with its last status line", () => {
    const entry = { id: 9, at: NOW, method: "GET", url: "http://x/h", status: 401, reason: "Unauthorized", elapsedMs: 7, size: 12, tokenType: "none", request: { method: "GET", url: "http://x/h", query: [], headers: [], body: { kind: "none" }, tokenType: "none" } };
    const s = run(signedIn(), { type: "historyLoaded", entries: [entry] }, { type: "historyOpenedInTab", id: 9 });
    assert.equal(s.tabs.list.length, 2);
    assert.equal(url(s), "http://x/h");
    assert.equal(s.api.restored, "401 Unauthorized · 7 ms · 12 B");
  });
});
