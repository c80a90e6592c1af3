// The Variables panel, the Import control and the curl paste: state transitions and what the
// views show (a secret value never shown back, the notice after a pasted curl command).
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { allElements, byId, installDocument } from "./fake-dom.mjs";
import { NOW, session, sessionState, settings } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import { requestFor } from "../request.js";
import { view } from "../view.js";
import { importSummary, looksLikeCurl } from "../variables.js";

const run = (state, ...events) => events.reduce(next, state);
const inProfile = () => run(initialState(NOW),
  { type: "booted", settings, sessionState: sessionState(session()) },
  { type: "profilesLoaded", profiles: { names: ["work"], current: "work" } },
  { type: "sectionToggled", section: "variables", open: true });
const SECRET = "s3cret-value-typed";
const MASK = "••••••••";

let dispatched;
const dispatch = (e) => dispatched.push(e);
const render = (state) => view(state, dispatch);

beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("variables", () => {
  test("a secret is typed, saved, and then only its mask is shown; the draft forgets it", () => {
    let s = run(inProfile(),
      { type: "variableEdited", part: "name", value: "key" },
      { type: "variableEdited", part: "value", value: SECRET },
      { type: "variableSecretToggled", on: true });
    assert.equal(byId(render(s), "variable-value").getAttribute("type"), "password");
    s = next(s, { type: "variableSaveClicked" });
    assert.equal(s.variables.busy, "save");
    s = next(s, { type: "variableSaved", variables: [{ name: "key", value: MASK, secret: true }, { name: "base", value: "http://h", secret: false }] });
    assert.equal(s.variables.draft.value, "", "the typed secret is not kept");
    const root = render(s);
    assert.equal(byId(root, "variable-0-value").textContent, MASK);
    assert.equal(byId(root, "variable-1-value").textContent, "http://h");
    assert.ok(!JSON.stringify(s).includes(SECRET), "no state holds the secret once saved");
    assert.ok(!allElements(root).some((e) => (e.textContent ?? "").includes(SECRET) || e.value === SECRET));
    // Editing a secret never brings its value back: it is retyped.
    s = next(s, { type: "variableEditClicked", name: "key" });
    assert.deepEqual(s.variables.draft, { name: "key", value: "", secret: true });
    assert.equal(next(s, { type: "variableSaveClicked" }).variables.error, "Type the secret value (it is never shown back).");
  });

  test("a nameless variable is refused here; the engine's refusal shows as the panel's error", () => {
    let s = next(inProfile(), { type: "variableSaveClicked" });
    assert.equal(s.variables.error, "Give the variable a name.");
    s = run(s, { type: "variableEdited", part: "name", value: "1x" }, { type: "variableSaveClicked" },
      { type: "variableFailed", error: { kind: "invalid_setting", field: "variable", message: "\"1x\" is not a variable name; …" } });
    assert.match(byId(render(s), "variable-error").textContent, /not a variable name/);
    s = next(s, { type: "variablesLoaded", variables: [{ name: "a", value: "1", secret: false }] });
    s = next(s, { type: "variableForgetClicked", name: "a" });
    assert.equal(s.variables.busy, "forget:a");
    s = next(s, { type: "variableForgotten", variables: [] });
    assert.deepEqual(s.variables.list, []);
  });

  test("without a profile the panel says variables need one", () => {
    const s = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) },
      { type: "sectionToggled", section: "variables", open: true });
    assert.ok(byId(render(s), "variables-need-profile"));
    assert.equal(byId(render(s), "variable-form"), null);
  });
});

describe("import", () => {
  test("an import reports what was saved and skipped; no source is refused", () => {
    let s = next(inProfile(), { type: "importClicked" });
    assert.match(s.variables.import.error, /file path or the URL/);
    s = run(s, { type: "importEdited", part: "source", value: "http://127.0.0.1:5000/openapi.json" }, { type: "importClicked" });
    assert.equal(s.variables.import.busy, true);
    s = next(s, { type: "importDone", report: { saved: ["echoGet", "echoPost"], variables: [], skipped: ["TRACE /x: Keyhole does not send TRACE requests."], notes: [] } });
    const lines = [...byId(render(s), "import-report").children].map((p) => p.textContent);
    assert.deepEqual(lines, ["Imported 2 requests into the saved requests.", "Skipped: TRACE /x: Keyhole does not send TRACE requests."]);
    assert.deepEqual(importSummary({ saved: ["a"], variables: ["base"] }), ["Imported 1 request into the saved requests.", "Added variables: base."]);
  });
});

describe("a curl command in the URL field", () => {
  test("is imported instead of sent; the notice says the token was replaced", () => {
    assert.ok(looksLikeCurl("  curl -X POST https://x"));
    assert.ok(!looksLikeCurl("curly.example.com"));
    let s = run(inProfile(), { type: "requestEdited", part: "url", value: "curl -H 'Authorization: Bearer x' https://api.test/a" });
    s = next(s, { type: "curlPasted", text: s.request.url });
    assert.deepEqual(s.curlImport, { busy: true });
    s = next(s, { type: "curlImported", imported: {
      request: { method: "PUT", url: "https://api.test/a", query: [], headers: [{ name: "X-Trace", value: "t", enabled: true }], body: { kind: "json", text: "{}" }, sendToken: true },
      notes: ["The bearer token in what you pasted was replaced by Keyhole's own; it was not kept."],
    } });
    assert.equal(s.request.method, "PUT");
    assert.equal(s.request.url, "https://api.test/a");
    assert.equal(s.request.bodyKind, "json");
    assert.equal(s.notice.tone, "warning");
    assert.match(s.notice.text, /replaced by Keyhole's own/);
    assert.equal(requestFor(s).headers[0].name, "X-Trace");
    const failed = run(inProfile(), { type: "curlPasted", text: "curl --bogus https://x" },
      { type: "curlImportFailed", error: { kind: "invalid_setting", field: "import", message: "curl's --bogus is not something Keyhole imports; …" } });
    assert.equal(failed.requestError.field, "apiUrl");
    assert.match(failed.requestError.message, /--bogus/);
  });
});
