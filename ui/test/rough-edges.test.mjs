// Issue 17's rough edges in the window that need no real window to show: each test here failed
// before its fix.
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { allElements, byId, installDocument } from "./fake-dom.mjs";
import { NOW, apiResult, session, sessionState, settings } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import { headerLines, toApiRequest } from "../request.js";
import { view } from "../view.js";

const run = (state, ...events) => events.reduce(next, state);
const signedIn = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) });
const signedOut = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null) });

let dispatched;
const dispatch = (e) => dispatched.push(e);
beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("notices and errors do not go stale", () => {
  test("Settings saved. goes when a request is sent, so it never sits above Loading… or an error", () => {
    const saved = run(signedIn(), { type: "saveClicked" }, { type: "settingsSaved", settings, quiet: false });
    assert.equal(saved.notice.text, "Settings saved.");
    const sending = next(saved, { type: "callApiClicked" });
    assert.equal(sending.notice, null);
    assert.equal(next(saved, { type: "tryEveryClicked" }).notice, null);
    // A warning the backend gave (no keychain, say) is not about the last action: it stays.
    const warned = { ...saved, notice: { tone: "warning", text: "No system keychain." } };
    assert.deepEqual(next(warned, { type: "callApiClicked" }).notice, warned.notice);
  });

  test("a field's error goes as soon as that field is edited; another field's stays", () => {
    const refused = run(signedOut(), { type: "saveClicked" },
      { type: "settingsRejected", error: { kind: "invalid_setting", field: "apiUrl", message: "API URL x is not a valid URL." } });
    assert.deepEqual(Object.keys(refused.fieldErrors), ["apiUrl"]);
    assert.deepEqual(next(refused, { type: "fieldEdited", field: "scopes", value: "openid" }).fieldErrors, refused.fieldErrors);
    const fixed = next(refused, { type: "fieldEdited", field: "apiUrl", value: "http://127.0.0.1:5000/protected" });
    assert.deepEqual(fixed.fieldErrors, {});
  });

  test("a request part's error goes when that part is edited", () => {
    const refused = run(signedIn(), { type: "callApiClicked" },
      { type: "apiFailed", error: { kind: "invalid_setting", field: "timeout", message: "Timeout must be from 1 to 600 seconds." } });
    assert.equal(refused.requestError.field, "timeout");
    assert.equal(next(refused, { type: "requestEdited", part: "url", value: "http://x/" }).requestError.field, "timeout");
    assert.equal(next(refused, { type: "requestEdited", part: "timeoutSecs", value: "5" }).requestError, null);
  });
});

describe("the URL and the query table stay in sync", () => {
  test("a query typed in the URL fills the table, decoded; it is sent once", () => {
    const s = next(signedIn(), { type: "requestEdited", part: "url", value: "http://x/p?a=1&b=two%20words&flag#top" });
    assert.deepEqual(s.request.query.map((r) => [r.name, r.value, r.enabled]), [["a", "1", true], ["b", "two words", true], ["flag", "", true]]);
    const sent = toApiRequest(s.request);
    assert.equal(sent.url, "http://x/p#top");
    assert.deepEqual(sent.query.map((r) => r.name), ["a", "b", "flag"]);
    const root = view(s, dispatch);
    assert.equal(byId(root, "request-query-summary").textContent, "Query parameters (3)");
  });

  test("editing, adding, disabling and removing rows rewrites the URL; a disabled row stays in the table only", () => {
    let s = next(signedIn(), { type: "requestEdited", part: "url", value: "http://x/p?a=1" });
    s = run(s, { type: "rowEdited", list: "query", index: 0, key: "value", value: "2" });
    assert.equal(s.request.url, "http://x/p?a=2");
    s = run(s, { type: "rowAdded", list: "query" });
    assert.equal(s.request.url, "http://x/p?a=2", "a blank row shows nothing");
    s = run(s, { type: "rowEdited", list: "query", index: 1, key: "name", value: "q" },
      { type: "rowEdited", list: "query", index: 1, key: "value", value: "{{user}} & co" });
    assert.equal(s.request.url, "http://x/p?a=2&q={{user}}%20%26%20co");
    s = next(s, { type: "rowEdited", list: "query", index: 0, key: "enabled", value: false });
    assert.equal(s.request.url, "http://x/p?q={{user}}%20%26%20co");
    // Typing in the URL again keeps the disabled row.
    s = next(s, { type: "requestEdited", part: "url", value: "http://x/p?q=z" });
    assert.deepEqual(s.request.query.map((r) => [r.name, r.value, r.enabled]), [["q", "z", true], ["a", "2", false]]);
    s = next(s, { type: "rowRemoved", list: "query", index: 0 });
    assert.equal(s.request.url, "http://x/p");
  });

  test("a saved request whose URL carries its own query opens with it in the table", () => {
    const s = { ...signedIn(), saved: { list: [{ name: "q", method: "GET", url: "http://x/p?a=1", query: [{ name: "b", value: "2", enabled: true }], headers: [], body: { kind: "none" } }], draft: "", busy: false, error: null } };
    const opened = next(s, { type: "savedOpened", name: "q" });
    assert.equal(opened.request.url, "http://x/p?a=1&b=2");
    assert.deepEqual(toApiRequest(opened.request).query.map((r) => r.name), ["a", "b"]);
  });
});

describe("a pasted header line", () => {
  const withHeader = () => run(signedIn(), { type: "rowAdded", list: "headers" });

  test("'Name: value' in a name is split into name and value", () => {
    const s = next(withHeader(), { type: "rowEdited", list: "headers", index: 0, key: "name", value: "X-Trace: abc: def" });
    assert.deepEqual(s.request.headers, [{ name: "X-Trace", value: "abc: def", enabled: true }]);
  });

  test("several lines become several rows, through the paste handler (a text field drops line breaks)", () => {
    const root = view(withHeader(), dispatch);
    let prevented = false;
    byId(root, "headers-0-name").fire("paste", {
      clipboardData: { getData: () => "Accept: application/json\r\n> X-Trace: 1\n\nCookie:" },
      preventDefault: () => { prevented = true; },
    });
    assert.equal(prevented, true);
    assert.deepEqual(dispatched, [{ type: "headerPasted", index: 0, text: "Accept: application/json\r\n> X-Trace: 1\n\nCookie:" }]);
    const s = next(withHeader(), dispatched[0]);
    assert.deepEqual(s.request.headers.map((r) => [r.name, r.value]), [["Accept", "application/json"], ["X-Trace", "1"], ["Cookie", ""]]);
  });

  test("a paste with no header line in it is left as typed", () => {
    assert.equal(headerLines("just-a-name"), null);
    assert.equal(headerLines(": no name"), null);
    const s = next(withHeader(), { type: "headerPasted", index: 0, text: "X-Plain" });
    assert.equal(s.request.headers[0].name, "X-Plain");
  });
});

describe("small words and marks", () => {
  test("no ASCII '...' in any text the window shows: Loading… is an ellipsis", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const dir = new URL("../", import.meta.url);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
      const source = readFileSync(new URL(file, dir), "utf8");
      // Text ending in three dots before its closing quote ("Loading... "); spread syntax is not.
      const found = [...source.matchAll(/[A-Za-z]\.\.\. ?["'`]/g)].map((m) => m[0]);
      assert.deepEqual(found, [], `${file}: ${found.join(", ")}`);
    }
  });

  test("the scopes say what was granted and what the access token carries, apart", () => {
    const root = view(signedIn(), dispatch);
    assert.deepEqual(byId(root, "session-scopes").children.map((li) => li.textContent), ["openid", "profile", "email"]);
    assert.equal(byId(root, "token-scopes").textContent, "none in the token");
    const terms = allElements(root).filter((el) => el.tagName === "DT" || el.tag === "dt").map((el) => el.textContent);
    assert.ok(terms.includes("Scopes granted") && terms.includes("Access token scopes"), terms.join(" | "));
    const withClaim = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session({
      accessToken: { kind: "jwt", header: {}, claims: { sub: "u", scope: "read write" } },
    })) });
    assert.deepEqual(byId(view(withClaim, dispatch), "token-scopes").children.map((li) => li.textContent), ["read", "write"]);
  });

  test("an e-mail address and a claim wrap at @ and . (wbr), not mid-word", () => {
    const root = view(signedIn(), dispatch);
    const identity = byId(root, "identity");
    const pieces = identity.childNodes.map((c) => (c.tagName ?? c.tag ?? "#text").toString().toLowerCase() === "wbr" ? "|" : c.textContent).join("");
    assert.equal(pieces, "Ada Lovelace <ada@|example|.com>");
    const claims = byId(root, "id-token-claims");
    assert.ok(claims.childNodes.some((c) => String(c.tagName ?? c.tag).toLowerCase() === "wbr"));
    assert.equal(claims.textContent, JSON.stringify(session().idTokenClaims, null, 2), "the text itself is unchanged");
  });

  test("a timeout marks the Timeout field and its error names it", () => {
    const s = run(signedIn(), { type: "callApiClicked" },
      { type: "apiFailed", error: { kind: "api_timeout", message: "the API at http://x/slow did not answer within 1 s (the call's timeout); try again or allow it more time" } });
    assert.match(s.api.message, /raise Timeout \(seconds\) below\.$/);
    const field = byId(view(s, dispatch), "request-timeout");
    assert.equal(field.getAttribute("aria-invalid"), "true");
    assert.equal(field.getAttribute("aria-describedby"), "api-error");
    const refused = run(signedIn(), { type: "callApiClicked" },
      { type: "apiFailed", error: { kind: "invalid_setting", field: "timeout", message: "Timeout must be from 1 to 600 seconds." } });
    const marked = byId(view(refused, dispatch), "request-timeout");
    assert.equal(marked.getAttribute("aria-invalid"), "true");
    assert.equal(marked.getAttribute("aria-describedby"), "request-error-timeout");
  });
});

describe("the device code counts down", () => {
  const progress = { stage: "device_code", verification_uri: "http://127.0.0.1:4010/d", user_code: "BCDF-GHJK", expires_in: 300, qr: null };
  const signingIn = () => run(signedOut(), { type: "deviceSignInClicked" }, { type: "signInStarted", method: "device" });

  test("'Code expires in 4:59' a second after it came, ticking with the clock, then expired", async () => {
    const { updateClock } = await import("../view.js");
    let s = run(signingIn(), { type: "signInProgress", progress, at: NOW }, { type: "tick", now: NOW + 1000 });
    const root = view(s, dispatch);
    assert.equal(byId(root, "device-expiry").textContent, "Code expires in 4:59");
    s = next(s, { type: "tick", now: NOW + 61_500 });
    updateClock(root, s);
    assert.equal(byId(root, "device-expiry").textContent, "Code expires in 3:59");
    s = next(s, { type: "tick", now: NOW + 300_000 });
    updateClock(root, s);
    assert.match(byId(root, "device-expiry").textContent, /^The code has expired/);
    assert.equal(byId(root, "device-expiry").getAttribute("data-expired"), "true");
  });
});

describe("one primary action on the sign-in form", () => {
  test("while Set up from this API is offered it is the only primary button; after it, the sign-in is", () => {
    const onlyApi = run(signedOut(), { type: "fieldEdited", field: "instance", value: "" }, { type: "fieldEdited", field: "clientId", value: "" });
    const primaries = (root) => allElements(root).filter((el) => el.classList?.contains("primary") && !el.hasAttribute("hidden")).map((el) => el.id);
    assert.deepEqual(primaries(view(onlyApi, dispatch)), ["set-up-from-api"]);
    assert.deepEqual(primaries(view(signedOut(), dispatch)), ["sign-in"]);
  });
});

describe("saving over a saved request asks first", () => {
  const inProfile = () => ({
    ...signedIn(),
    profiles: { names: ["p"], current: "p", draft: "", busy: false, error: null },
    saved: { list: [{ name: "echo", method: "GET", url: "http://x/" }], draft: "", busy: false, error: null, confirm: null },
  });

  test("a name already saved asks: Replace saves, Cancel keeps the old one", () => {
    const asked = run(inProfile(), { type: "savedNameEdited", value: "echo" }, { type: "saveRequestClicked" });
    assert.equal(asked.saved.busy, false, "nothing is saved yet");
    assert.equal(asked.saved.confirm, "echo");
    const root = view(asked, dispatch);
    assert.match(byId(root, "saved-confirm").textContent, /A request named echo is already saved in p\. Replace it/);
    byId(root, "saved-replace").fire("click");
    assert.deepEqual(dispatched, [{ type: "savedReplaceClicked" }]);
    const replacing = next(asked, dispatched[0]);
    assert.equal(replacing.saved.busy, true);
    assert.equal(replacing.saved.confirm, null);
    const cancelled = next(asked, { type: "savedReplaceCancelled" });
    assert.equal(cancelled.saved.busy, false);
    assert.equal(cancelled.saved.confirm, null);
    // A new name saves at once.
    assert.equal(run(inProfile(), { type: "savedNameEdited", value: "other" }, { type: "saveRequestClicked" }).saved.busy, true);
  });

  test("saving the settings as a new profile while signed in says it starts signed out, before and after", () => {
    const root = view(inProfile(), dispatch);
    assert.match(byId(root, "hint-profiles").textContent, /a new profile starts signed out/);
    const told = next(inProfile(), { type: "profileSaved", name: "beta", from: "p", signedIn: true });
    assert.equal(told.notice.text, "Saved as profile beta. Each profile keeps its own session, so sign in again to use beta; your session stays in profile p.");
    assert.equal(next(inProfile(), { type: "profileSaved", name: "beta", from: "p", signedIn: false }).notice, null);
  });
});
