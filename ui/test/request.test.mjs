// The request editor, answer, history, copy as curl and profiles: state transitions, views, and
// the commands main.js sends for them.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { byId, installDocument } from "./fake-dom.mjs";
import { NOW, answerOf, apiResult, session, sessionState, settings, shownText } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import { API_IDLE, contentTypeFor, emptyDraft, fromApiRequest, splitDiagnosis, toApiRequest } from "../request.js";
import * as fmt from "../format.js";

const run = (state, ...events) => events.reduce(next, state);
const signedIn = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) });
const signedOut = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null) });

describe("the request draft", () => {
  test("boots as GET of the settings' API URL with the token and the default timeout", () => {
    assert.deepEqual(signedIn().request, emptyDraft(settings.apiUrl));
    assert.deepEqual(toApiRequest(emptyDraft("http://x/")), {
      method: "GET", url: "http://x/", query: [], headers: [], body: { kind: "none" }, sendToken: true, tokenType: "oauth", timeoutSecs: 30,
    });
  });

  test("method, rows, body kind, token and timeout become the engine's ApiRequest", () => {
    const s = run(signedIn(),
      { type: "methodChosen", method: "POST" },
      { type: "requestEdited", part: "url", value: "http://127.0.0.1:5000/echo" },
      { type: "rowAdded", list: "headers" },
      { type: "rowEdited", list: "headers", index: 0, key: "name", value: "X-Trace" },
      { type: "rowEdited", list: "headers", index: 0, key: "value", value: "1" },
      { type: "rowAdded", list: "headers" },
      { type: "rowEdited", list: "headers", index: 1, key: "name", value: "X-Off" },
      { type: "rowEdited", list: "headers", index: 1, key: "enabled", value: false },
      { type: "rowAdded", list: "query" },
      { type: "rowEdited", list: "query", index: 0, key: "name", value: "a" },
      { type: "bodyKindChosen", kind: "json" },
      { type: "requestEdited", part: "bodyText", value: "{\"n\":1}" },
      { type: "tokenTypeChosen", tokenType: "none" },
      { type: "requestEdited", part: "timeoutSecs", value: "5" });
    assert.deepEqual(toApiRequest(s.request), {
      method: "POST", url: "http://127.0.0.1:5000/echo",
      query: [{ name: "a", value: "", enabled: true }],
      headers: [{ name: "X-Trace", value: "1", enabled: true }, { name: "X-Off", value: "", enabled: false }],
      body: { kind: "json", text: "{\"n\":1}" }, sendToken: false, tokenType: "none", timeoutSecs: 5,
    });
    const removed = next(s, { type: "rowRemoved", list: "headers", index: 0 });
    assert.deepEqual(removed.request.headers.map((r) => r.name), ["X-Off"]);
  });

  test("a form body sends its fields; a bad timeout goes to the engine as 0 (it names the range)", () => {
    const s = run(signedIn(), { type: "bodyKindChosen", kind: "form" }, { type: "rowAdded", list: "form" },
      { type: "rowEdited", list: "form", index: 0, key: "name", value: "q" }, { type: "requestEdited", part: "timeoutSecs", value: "soon" });
    assert.deepEqual(toApiRequest(s.request).body, { kind: "form", fields: [{ name: "q", value: "", enabled: true }] });
    assert.equal(toApiRequest(s.request).timeoutSecs, 0);
    assert.equal(contentTypeFor("form"), "application/x-www-form-urlencoded");
    assert.equal(contentTypeFor("none"), null);
  });

  test("an ApiRequest from the history round-trips into the editor", () => {
    const request = {
      method: "PATCH", url: "http://x/y", query: [{ name: "a", value: "1", enabled: false }], headers: [],
      body: { kind: "text", text: "hi" }, sendToken: true, tokenType: "session", timeoutSecs: 12,
    };
    assert.deepEqual(toApiRequest(fromApiRequest(request)), request);
    assert.equal(fromApiRequest({ method: "BREW", url: 3 }).method, "GET");
  });

  test("editing is ignored when not signed in, and unknown parts or lists are ignored", () => {
    const out = signedOut();
    assert.equal(next(out, { type: "methodChosen", method: "POST" }), out);
    const s = signedIn();
    assert.equal(next(s, { type: "requestEdited", part: "evil", value: "x" }), s);
    assert.equal(next(s, { type: "rowAdded", list: "cookies" }), s);
    assert.equal(next(s, { type: "methodChosen", method: "BREW" }), s);
  });

  test("saving settings with another API URL points the editor at it", () => {
    const s = run(signedIn(), { type: "settingsSaved", settings: { ...settings, apiUrl: "http://other/" }, quiet: false });
    assert.equal(s.request.url, "http://other/");
  });
});

describe("sending, waiting, cancelling", () => {
  test("loading remembers when it started; cancel is asked once; a cancel or timeout is said as such", () => {
    const loading = next({ ...signedIn(), now: NOW + 5000 }, { type: "callApiClicked" });
    assert.equal(loading.api.startedAt, NOW + 5000);
    const cancelling = next(loading, { type: "cancelRequestClicked" });
    assert.equal(cancelling.api.cancelling, true);
    assert.equal(next(cancelling, { type: "cancelRequestClicked" }), cancelling);
    const cancelled = next(cancelling, { type: "apiFailed", error: { kind: "cancelled", message: "the call was cancelled" } });
    assert.equal(cancelled.api.errorKind, "cancelled");
    assert.equal(cancelled.api.message, "Cancelled. Nothing was received.");
    const timedOut = run(signedIn(), { type: "callApiClicked" },
      { type: "apiFailed", error: { kind: "api_timeout", message: "the API did not answer within 1 s" } });
    assert.equal(timedOut.api.message, "Timed out: the API did not answer within 1 s. To wait longer, raise Timeout (seconds) below.");
    assert.equal(next(signedIn(), { type: "cancelRequestClicked" }).api.cancelling, false, "nothing to cancel");
  });

  test("the engine's request errors go next to their part, not into the answer", () => {
    const s = run(signedIn(), { type: "callApiClicked" },
      { type: "apiFailed", error: { kind: "invalid_setting", field: "body", message: "The JSON body is not valid at line 1, column 2; fix it or send it as text." } });
    assert.deepEqual(s.api, API_IDLE);
    assert.equal(s.requestError.field, "body");
    assert.equal(next(s, { type: "methodChosen", method: "PUT" }).requestError, null, "a change clears it");
  });
});

describe("history, curl, profiles", () => {
  const entry = { id: 7, at: NOW, method: "POST", url: "http://x/echo?a=1", status: 201, elapsedMs: 12, error: null, profile: null,
    request: { method: "POST", url: "http://x/echo", query: [{ name: "a", value: "1", enabled: true }], headers: [], body: { kind: "json", text: "{}" }, sendToken: true, timeoutSecs: null } };

  test("a history entry opens in the editor with one event; same entries change nothing", () => {
    const s = next(signedIn(), { type: "historyLoaded", entries: [entry] });
    assert.equal(next(s, { type: "historyLoaded", entries: [{ ...entry }] }), s);
    const opened = next(s, { type: "historyOpened", id: 7 });
    assert.equal(opened.request.method, "POST");
    assert.equal(opened.request.url, "http://x/echo?a=1", "the URL shows its query (the table's rows)");
    assert.equal(toApiRequest(opened.request).url, "http://x/echo", "sent once, from the table");
    assert.equal(opened.request.bodyKind, "json");
    assert.equal(next(s, { type: "historyOpened", id: 99 }), s);
    assert.equal(fmt.historyOutcome(entry), "201");
    assert.equal(fmt.historyOutcome({ error: "api_timeout" }), "timed out");
  });

  test("copy as curl: pending, then the command; the literal token only when chosen and sent", () => {
    let s = next(signedIn(), { type: "copyCurlClicked" });
    assert.equal(s.curl.literal, false);
    s = next(s, { type: "curlCopied", copy: { command: "curl -sS x", literalToken: false } });
    assert.equal(s.curl.command, "curl -sS x");
    s = run(s, { type: "curlLiteralToggled", on: true }, { type: "copyCurlClicked" });
    assert.equal(s.curl.literal, true);
    s = run(signedIn(), { type: "tokenTypeChosen", tokenType: "none" }, { type: "curlLiteralToggled", on: true }, { type: "copyCurlClicked" });
    assert.equal(s.curl.literal, false, "no token is sent, so none is copied");
  });

  test("profiles: loaded, switched (settings and editor follow), failures shown", () => {
    let s = next(signedOut(), { type: "profilesLoaded", profiles: { names: ["a", "b"], current: null } });
    assert.deepEqual(s.profiles.names, ["a", "b"]);
    s = next(s, { type: "profileSwitchClicked", name: "a" });
    assert.equal(s.profiles.busy, true);
    assert.equal(next(s, { type: "profileSwitchClicked", name: "b" }), s, "one switch at a time");
    s = next(s, { type: "profileSwitched", settings: { ...settings, apiUrl: "http://a/", profile: "a" } });
    assert.equal(s.profiles.current, "a");
    assert.equal(s.form.apiUrl, "http://a/");
    assert.equal(s.request.url, "http://a/");
    s = run(s, { type: "saveProfileClicked" }, { type: "profileFailed", error: { message: "\"\" is not a profile name" } });
    assert.equal(s.profiles.error, "\"\" is not a profile name");
  });
});

describe("saved requests", () => {
  const saved = [
    { name: "echo post", method: "POST", url: "http://x/echo", headers: [{ name: "Cookie", value: "", enabled: true }], body: { kind: "json", text: "{}" }, sendToken: false, timeoutSecs: 5 },
    { name: "list", method: "GET", url: "http://x/list" },
  ];
  const inProfile = () => run(signedIn(), { type: "profilesLoaded", profiles: { names: ["a"], current: "a" } }, { type: "savedLoaded", requests: saved });

  test("loaded lists keep named ones only; the same list again changes nothing", () => {
    const s = next(signedIn(), { type: "savedLoaded", requests: [...saved, { method: "GET", url: "http://x/unnamed" }] });
    assert.deepEqual(s.saved.list.map((r) => r.name), ["echo post", "list"]);
    assert.equal(next(s, { type: "savedLoaded", requests: saved }), s);
    assert.equal(next(s, { type: "savedLoaded", requests: null }), s);
  });

  test("one click opens a saved request into the editor, with its name ready to save over", () => {
    let s = run(inProfile(), { type: "requestEdited", part: "url", value: "http://typed/" });
    s = next(s, { type: "savedOpened", name: "echo post" });
    assert.equal(s.request.method, "POST");
    assert.equal(s.request.url, "http://x/echo");
    assert.equal(s.request.bodyKind, "json");
    assert.equal(s.request.tokenType, "none", "saved before token types: sendToken false is no token");
    assert.equal(s.request.timeoutSecs, "5");
    assert.equal(s.saved.draft, "echo post");
    assert.equal(s.api, API_IDLE);
    assert.equal(next(s, { type: "savedOpened", name: "nope" }), s, "unknown names are ignored");
    const loading = next(s, { type: "callApiClicked" });
    assert.equal(next(loading, { type: "savedOpened", name: "list" }), loading, "not while a request runs");
    assert.equal(next(signedOut(), { type: "savedOpened", name: "list" }).request.url, settings.apiUrl, "only when signed in");
  });

  test("save needs a name; one save at a time; the answer or the error comes back", () => {
    let s = inProfile();
    const unnamed = next(s, { type: "saveRequestClicked" });
    assert.equal(unnamed.saved.busy, false);
    assert.match(unnamed.saved.error, /name/);
    s = run(s, { type: "savedNameEdited", value: "mine" }, { type: "saveRequestClicked" });
    assert.equal(s.saved.busy, true);
    assert.equal(next(s, { type: "saveRequestClicked" }), s, "one at a time");
    const ok = next(s, { type: "savedLoaded", requests: saved });
    assert.equal(ok.saved.busy, false, "the same list still ends the busy state");
    const failed = next(s, { type: "savedFailed", error: { message: "Requests are saved in a profile" } });
    assert.deepEqual([failed.saved.busy, failed.saved.error], [false, "Requests are saved in a profile"]);
  });

  test("delete applies to a listed name, once at a time", () => {
    const s = next(inProfile(), { type: "deleteSavedClicked", name: "list" });
    assert.equal(s.saved.busy, true);
    assert.equal(next(inProfile(), { type: "deleteSavedClicked", name: "nope" }).saved.busy, false);
    assert.equal(next(s, { type: "savedLoaded", requests: saved.slice(0, 1) }).saved.list.length, 1);
  });
});

describe("rough edges", () => {
  test("a later edit clears \"Settings saved.\" but not other notices", () => {
    const saved = run(signedOut(), { type: "saveClicked" }, { type: "settingsSaved", settings, quiet: false });
    assert.equal(saved.notice.text, "Settings saved.");
    assert.equal(next(saved, { type: "fieldEdited", field: "scopes", value: "openid" }).notice, null);
    const warned = { ...signedOut(), notice: { tone: "warning", text: "No keychain." } };
    assert.deepEqual(next(warned, { type: "fieldEdited", field: "scopes", value: "openid" }).notice, warned.notice);
  });

  test("the diagnosis splits into a short verdict and the details", () => {
    assert.deepEqual(splitDiagnosis("The API refused (HTTP 401) a token. Clerk's SDKs read session tokens. Use acceptsToken."), {
      verdict: "The API refused (HTTP 401) a token.", details: "Clerk's SDKs read session tokens. Use acceptsToken.",
    });
    assert.deepEqual(splitDiagnosis("One sentence."), { verdict: "One sentence.", details: "" });
    assert.equal(splitDiagnosis(null), null);
  });

  test("a declined consent is said in plain words", () => {
    assert.equal(fmt.signInFailureNotice({ kind: "provider", message: "the provider refused: access_denied (End-User aborted interaction)" }).text,
      "You did not allow access in the browser. Sign in again and choose Allow to continue.");
  });

  test("sizes and waits read as people say them", () => {
    assert.equal(fmt.bytes(512), "512 B");
    assert.equal(fmt.bytes(1234), "1.2 kB");
    assert.equal(fmt.waited(NOW, NOW + 65_000), "1 min 5 s");
    assert.equal(fmt.resultMeta(apiResult({ ttfbMs: 12, size: 1234, reason: "OK" })), "200 OK · 35 ms · first byte 12 ms · 1.2 kB · application/json");
  });
});

describe("views", async () => {
  installDocument();
  const { view } = await import("../view.js");
  const dispatched = [];
  const render = (state) => {
    dispatched.length = 0;
    return view(state, (e) => dispatched.push(e));
  };
  const text = (root, id) => byId(root, id)?.textContent;

  test("Send is the first button of the request (after the tab strip); the shortcuts are listed", () => {
    const root = render(signedIn());
    const buttons = byId(root, "request-panel").querySelectorAll("button");
    assert.equal(buttons[0].id, "call-api");
    assert.match(text(root, "shortcuts"), /Enter sends · Esc cancels · Ctrl\+L/);
  });

  test("the token is shown masked, and the selector sends the request without it", () => {
    let root = render(run(signedIn(), { type: "sectionToggled", section: "headers", open: true }));
    assert.equal(text(root, "auth-header"), "Authorization: Bearer •••••••• oauth token, added by Keyhole");
    byId(root, "token-type").fire("change", { target: { value: "none" } });
    assert.deepEqual(dispatched, [{ type: "tokenTypeChosen", tokenType: "none" }]);
    root = render(run(signedIn(), { type: "tokenTypeChosen", tokenType: "none" }));
    assert.equal(byId(root, "auth-header"), null);
  });

  test("the whole answer: status, timing, size, every header, the body; the cap when hit", () => {
    const result = apiResult({
      reason: "OK", ttfbMs: 4, size: 20, headers: [["content-type", "application/json"], ["x-echo", "1"]],
    });
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result }));
    assert.match(text(root, "api-meta"), /^200 OK · 35 ms · first byte 4 ms · 20 B/);
    assert.deepEqual(byId(root, "api-headers-list").children.map((c) => c.textContent), ["content-type", "application/json", "x-echo", "1"]);
    assert.equal(text(root, "api-data"), shownText(JSON.stringify(result.body.value, null, 2)));
    assert.equal(text(root, "answer-title"), "Body (JSON, 20 B)");
    // Past the 50 MB cap the true size is shown, not the kept one (it was "1.0 MB" for 2.2 MB),
    // and Save body says it sends the request again to write all of it.
    const answer = { ...answerOf({ kind: "json", value: [1] }), size: 2_300_000_000, kept: 52_428_800, truncated: true };
    const big = apiResult({ body: { kind: "large" }, size: 2_300_000_000, answer });
    const cut = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: big }));
    assert.equal(text(cut, "answer-title"), "Body (JSON, first 52.4 MB of 2.3 GB)");
    assert.match(text(cut, "api-meta"), /2300\.0 MB/);
    assert.match(text(cut, "save-body"), /sends the request again/);
    assert.equal(text(cut, "api-data"), "[\n  1\n]\n");
  });

  test("while waiting: the time waited and Cancel", () => {
    const s = { ...next(signedIn(), { type: "callApiClicked" }), now: NOW + 3000 };
    const root = render(s);
    assert.equal(text(root, "api-elapsed"), "3 s");
    byId(root, "cancel-request").fire("click");
    assert.deepEqual(dispatched, [{ type: "cancelRequestClicked" }]);
  });

  test("the diagnosis is a verdict plus monospace details with a Copy button", () => {
    const result = apiResult({ status: 401, ok: false, diagnosis: "The API refused (HTTP 401) a token. Details here." });
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result }));
    assert.equal(text(root, "diagnosis-verdict"), "The API refused (HTTP 401) a token.");
    assert.equal(byId(root, "diagnosis-details").tagName, "PRE");
    assert.equal(text(root, "diagnosis-details"), "Details here.");
    byId(root, "copy-diagnosis").fire("click");
    assert.deepEqual(dispatched, [{ type: "diagnosisCopyClicked" }]);
  });

  test("history entries are one-click buttons; no scopes shows no empty pill", () => {
    const entry = { id: 3, at: NOW, method: "GET", url: "http://x/", status: 200, elapsedMs: 9, request: { url: "http://x/" } };
    const s = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session({ scopes: [""] })) }, { type: "historyLoaded", entries: [entry] });
    const root = render(s);
    byId(root, "history-3").fire("click");
    assert.deepEqual(dispatched, [{ type: "historyOpened", id: 3 }]);
    assert.equal(text(root, "session-scopes"), "none said by the provider");
  });

  test("a history URL is cut in its middle: its last 20 characters always show, the rest gives way", () => {
    const long = `http://127.0.0.1:5000/echo?padding=${"p".repeat(120)}&end=the-path-stays`;
    const short = "http://127.0.0.1:5000/a";
    const entries = [long, short].map((url, i) => ({ id: i, at: NOW, method: "GET", url, status: 200, request: { url } }));
    const root = render(run(signedIn(), { type: "historyLoaded", entries }));
    const parts = (id) => {
      const url = byId(root, id).children.find((c) => c.classList.contains("url"));
      return [url.getAttribute("title"), ...url.children.map((c) => c.textContent)];
    };
    assert.deepEqual(parts("history-0"), [long, long.slice(0, -20), "p&end=the-path-stays"]);
    // A short path stays whole behind its origin.
    assert.deepEqual(parts("history-1"), [short, "http://127.0.0.1:5000", "/a"]);
  });

  test("the literal-token choice shows a warning; a copied command is shown", () => {
    const s = run(signedIn(), { type: "curlLiteralToggled", on: true }, { type: "copyCurlClicked" },
      { type: "curlCopied", copy: { command: "curl -H 'Authorization: Bearer <access token>' x", literalToken: true } });
    const root = render(s);
    assert.match(text(root, "curl-warning"), /will contain your OAuth access token/);
    assert.equal(text(root, "curl-command"), "curl -H 'Authorization: Bearer <access token>' x");
  });

  test("profiles: a select of the names and Save as profile, on both screens", () => {
    const s = next(signedOut(), { type: "profilesLoaded", profiles: { names: ["a", "b"], current: "b" } });
    const root = render(s);
    const options = byId(root, "profile-select").children;
    assert.deepEqual(options.map((o) => o.textContent), ["(none)", "a", "b"]);
    assert.ok(options[2].hasAttribute("selected"));
    byId(root, "profile-select").fire("change", { target: { value: "a" } });
    assert.deepEqual(dispatched, [{ type: "profileSwitchClicked", name: "a" }]);
    assert.ok(byId(render(signedIn()), "profile-select"));
  });

  test("saved requests: without a profile the card says how to get one; with one, save, open and delete", () => {
    let root = render(signedIn());
    assert.match(text(root, "saved-needs-profile"), /save these settings as a profile/);
    assert.equal(byId(root, "save-request"), null);
    const s = run(signedIn(),
      { type: "profilesLoaded", profiles: { names: ["a"], current: "a" } },
      { type: "savedLoaded", requests: [{ name: "echo post", method: "POST", url: "http://x/echo" }] });
    root = render(s);
    assert.match(text(root, "saved-requests-summary"), /Saved requests in a \(1\)/);
    assert.equal(byId(root, "saved-0").textContent, "POSTecho posthttp://x/echo");
    byId(root, "saved-0").fire("click");
    byId(root, "saved-0-delete").fire("click");
    byId(root, "saved-name").fire("input", { target: { value: "new" } });
    assert.deepEqual(dispatched, [
      { type: "savedOpened", name: "echo post" },
      { type: "deleteSavedClicked", name: "echo post" },
      { type: "savedNameEdited", value: "new" },
    ]);
    root = render(next(next(s, { type: "savedNameEdited", value: "" }), { type: "saveRequestClicked" }));
    assert.match(text(root, "saved-error"), /Give the request a name/);
    assert.equal(byId(root, "saved-name").getAttribute("aria-invalid"), "true");
  });

  test("the sign-in form's first field is marked for focus at start", () => {
    const root = render(signedOut());
    assert.ok(byId(root, "instance").hasAttribute("data-initial-focus"));
  });
});
