// The Clerk keys panel, the API key and M2M token kinds in the selector, and the banner of an
// impersonated test session: state transitions and what the views show.
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { allElements, byId, installDocument } from "./fake-dom.mjs";
import { NOW, clerkSession, session, sessionState, settings } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import { holdsTokenType, requestFor } from "../request.js";
import { view } from "../view.js";

const run = (state, ...events) => events.reduce(next, state);
const booted = (s) => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(s) });
const oauthOnly = () => booted(session());
const NONE = { secretKey: null, apiKey: null, machineKey: null };
const SECRET = "sk_test_abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const masked = (kind) => ({ secretKey: "sk_test_…ABCD", apiKey: "ak_…wxyz", machineKey: "ak_…m2m9" })[kind];

let dispatched;
const dispatch = (e) => dispatched.push(e);
const render = (state) => view(state, dispatch);
const text = (root, id) => byId(root, id)?.textContent;
const options = (root) => byId(root, "token-type").children.map((o) => o.textContent);

beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("API key and M2M token in the selector", () => {
  test("not held until clerk_keys shows the key kept; then chosen and sent as api-key / m2m", () => {
    let s = run(oauthOnly(), { type: "keysLoaded", keys: NONE });
    assert.equal(holdsTokenType(s, "api-key"), false);
    assert.deepEqual(options(render(s)).slice(2, 4), ["API key (not held)", "M2M token (not held)"]);
    s = next(s, { type: "keysLoaded", keys: { ...NONE, apiKey: masked("apiKey") } });
    assert.deepEqual(options(render(s)).slice(2, 4), ["API key", "M2M token (not held)"]);
    s = next(s, { type: "keysLoaded", keys: { ...NONE, apiKey: masked("apiKey"), machineKey: masked("machineKey") } });
    assert.deepEqual(options(render(s)).slice(2, 4), ["API key", "M2M token"]);
    s = next(s, { type: "tokenTypeChosen", tokenType: "api-key" });
    assert.deepEqual([requestFor(s).tokenType, requestFor(s).sendToken], ["api-key", true]);
    assert.match(text(render(s), "token-hint"), /the Clerk API key kept for this instance/);
    s = next(s, { type: "tokenTypeChosen", tokenType: "m2m" });
    assert.equal(requestFor(s).tokenType, "m2m");
    assert.match(text(render(s), "token-hint"), /M2M token minted from the machine secret key/);
  });

  test("a kind not held says where to get one; the matrix names the new kinds", () => {
    const s = run(oauthOnly(), { type: "tokenTypeChosen", tokenType: "m2m" });
    assert.match(text(render(s), "token-hint"), /once you keep a machine secret key under Clerk keys/);
    const matrix = {
      target: "GET http://x/",
      rows: [{ credential: "api-key", status: 200, signedIn: true, tokenTypeSeen: "api_key", fix: null, error: null }],
      missing: [{ credential: "m2m", how: "keep a machine secret key (keyhole-cli keys set machine-key)" }],
    };
    const root = render(run(oauthOnly(), { type: "tryEveryClicked" }, { type: "matrixAnswered", matrix }));
    assert.equal(byId(root, "matrix-api-key").children[0].textContent, "API key");
    assert.match(text(root, "token-matrix-missing"), /^M2M token: not tried\./);
  });
});

describe("the Clerk keys panel", () => {
  test("collapsed at first on both screens, with three password rows that never autocomplete", () => {
    for (const s of [booted(null), oauthOnly()]) {
      const root = render(s);
      const panel = byId(root, "clerk-keys");
      assert.equal(panel.tagName, "DETAILS");
      assert.equal(panel.hasAttribute("open"), false, "no layout jump: closed until opened");
      for (const id of ["key-secret-key", "key-api-key", "key-machine-key"]) {
        const input = byId(root, id);
        assert.equal(input.getAttribute("type"), "password");
        assert.equal(input.getAttribute("autocomplete"), "off");
      }
      assert.equal(text(root, "kept-secret-key"), "None kept.");
    }
  });

  test("Save: Saving…, then the masked value shows and the input is empty; the value is never rendered", () => {
    let s = run(oauthOnly(), { type: "keysLoaded", keys: NONE }, { type: "keyEdited", kind: "secretKey", value: SECRET });
    s = next(s, { type: "keySaveClicked", kind: "secretKey" });
    assert.equal(s.keys.busy, "save:secretKey");
    let root = render(s);
    assert.equal(text(root, "save-key-secret-key"), "Saving…");
    assert.equal(byId(root, "save-key-api-key").getAttribute("aria-disabled"), "true", "one at a time");
    assert.equal(next(s, { type: "keySaveClicked", kind: "apiKey" }), s);
    s = next(s, { type: "keySaved", kind: "secretKey", keys: { ...NONE, secretKey: masked("secretKey") } });
    root = render(s);
    assert.equal(text(root, "kept-secret-key"), "sk_test_…ABCD");
    assert.equal(byId(root, "key-row-secret-key").getAttribute("data-kept"), "true");
    assert.equal(byId(root, "key-secret-key").value, "", "the input is cleared");
    assert.equal(s.keys.drafts.secretKey, "", "nothing typed is kept");
    assert.ok(!JSON.stringify(s).includes(SECRET));
    for (const el of allElements(root)) {
      assert.ok(!String(el.value ?? "").includes(SECRET) && ![...el.attributes.values()].some((v) => v.includes(SECRET)));
    }
    assert.doesNotMatch(root.textContent, /abcdefghijklmnop/);
  });

  test("typing does not re-render but survives one; an empty Save says so without a command", () => {
    const s = run(oauthOnly(), { type: "keyEdited", kind: "apiKey", value: "ak_x" });
    assert.equal(byId(render(s), "key-api-key").value, "ak_x", "a re-render while typing keeps it");
    const empty = next(oauthOnly(), { type: "keySaveClicked", kind: "machineKey" });
    assert.equal(empty.keys.busy, null);
    assert.equal(text(render(empty), "error-key-machine-key"), "Paste the key first.");
  });

  test("a refused key shows its field error inline, on that row, and keeps what was typed", () => {
    let s = run(oauthOnly(), { type: "keyEdited", kind: "apiKey", value: "pk_test_oops" }, { type: "keySaveClicked", kind: "apiKey" });
    s = next(s, { type: "keySaveFailed", kind: "apiKey", error: { kind: "invalid_setting", field: "apiKey", message: "That is a publishable key, not an API key." } });
    const root = render(s);
    assert.equal(text(root, "error-key-api-key"), "That is a publishable key, not an API key.");
    assert.equal(byId(root, "key-api-key").getAttribute("aria-invalid"), "true");
    assert.match(byId(root, "key-api-key").getAttribute("aria-describedby"), /error-key-api-key/);
    assert.equal(byId(root, "error-key-secret-key"), null);
    assert.equal(s.keys.drafts.apiKey, "pk_test_oops", "to fix it");
    s = run(s, { type: "keySaveClicked", kind: "apiKey" });
    assert.equal(byId(render(s), "error-key-api-key"), null, "a new try clears it");
  });

  test("Forget: only for a kept key; Forgetting…, then None kept", () => {
    const kept = run(oauthOnly(), { type: "keysLoaded", keys: { ...NONE, machineKey: masked("machineKey") } });
    assert.equal(byId(render(kept), "forget-key-api-key").getAttribute("aria-disabled"), "true");
    const none = next(kept, { type: "keyForgetClicked", kind: "apiKey" });
    assert.equal(none, kept, "nothing kept to forget");
    let s = next(kept, { type: "keyForgetClicked", kind: "machineKey" });
    assert.equal(text(render(s), "forget-key-machine-key"), "Forgetting…");
    s = next(s, { type: "keyForgotten", kind: "machineKey", keys: NONE });
    assert.equal(text(render(s), "kept-machine-key"), "None kept.");
    assert.deepEqual(options(render(s)).slice(3, 4), ["M2M token (not held)"]);
  });

  test("the view's buttons dispatch the panel's events", () => {
    const root = render(oauthOnly());
    byId(root, "key-secret-key").fire("input", { target: { value: "sk_test_x" } });
    byId(root, "save-key-secret-key").fire("click");
    byId(root, "forget-key-api-key").fire("click");
    byId(root, "act-as-user").fire("input", { target: { value: "user_2x" } });
    byId(root, "allow-production").fire("change", { target: { checked: true } });
    byId(root, "start-test-session").fire("click");
    byId(root, "api-key-for").fire("input", { target: { value: "user_2y" } });
    byId(root, "create-api-key").fire("click");
    assert.deepEqual(dispatched, [
      { type: "keyEdited", kind: "secretKey", value: "sk_test_x" },
      { type: "keySaveClicked", kind: "secretKey" },
      { type: "keyForgetClicked", kind: "apiKey" },
      { type: "keysTextEdited", part: "actAs", value: "user_2x" },
      { type: "allowProductionToggled", on: true },
      { type: "testSessionClicked" },
      { type: "keysTextEdited", part: "apiKeyFor", value: "user_2y" },
      { type: "createApiKeyClicked" },
    ]);
  });
});

describe("act as user and create an API key", () => {
  const impersonated = () => clerkSession({ subject: "user_2abcdefghijklmnopqrstuvwxyz", sessionId: "sess_test", impersonated: true });

  test("Act as user from the form: Starting…, then the explorer with the Clerk card and its banner", () => {
    let s = run(booted(null), { type: "keysTextEdited", part: "actAs", value: " user_2abcdefghijklmnopqrstuvwxyz " }, { type: "testSessionClicked" });
    assert.equal(s.keys.busy, "testSession");
    assert.equal(text(render(s), "start-test-session"), "Starting…");
    assert.match(text(render(s), "test-session-progress"), /Starting a test session/);
    s = next(s, { type: "testSessionStarted", session: impersonated() });
    assert.equal(s.screen, "signedIn");
    const root = render(s);
    assert.equal(text(root, "clerk-subject"), "user_2abcdefghijklmnopqrstuvwxyz");
    const banner = byId(root, "impersonated-banner");
    assert.equal(banner.textContent, "Impersonated test session — made with the secret key, not the user's own sign-in");
    assert.match(banner.getAttribute("class"), /notice-warning/);
    assert.equal(banner.parentNode, byId(root, "clerk-session"), "on the Clerk session card");
    assert.equal(requestFor(s).tokenType, "session");
  });

  test("a Clerk session of the user's own sign-in has no banner", () => {
    const root = render(run(oauthOnly(), { type: "clerkLoaded", clerk: clerkSession() }));
    assert.ok(byId(root, "clerk-subject"));
    assert.equal(byId(root, "impersonated-banner"), null);
    const notTrue = render(run(oauthOnly(), { type: "clerkLoaded", clerk: clerkSession({ impersonated: false }) }));
    assert.equal(byId(notTrue, "impersonated-banner"), null);
  });

  test("no user ID: says so, no command; a refused production key shows on the secret key's row", () => {
    const empty = next(oauthOnly(), { type: "testSessionClicked" });
    assert.equal(empty.keys.busy, null);
    assert.match(text(render(empty), "test-session-error"), /^Error: Type the user ID/);
    let s = run(oauthOnly(), { type: "keysTextEdited", part: "actAs", value: "user_2x" }, { type: "testSessionClicked" });
    s = next(s, { type: "testSessionFailed", error: { kind: "invalid_setting", field: "secretKey", message: "This is a production key (sk_live_…): tick Allow a production key to use it." } });
    const root = render(s);
    assert.match(text(root, "error-key-secret-key"), /production key/);
    assert.equal(byId(root, "test-session-error"), null);
    s = run(s, { type: "testSessionClicked" }, { type: "testSessionFailed", error: { kind: "clerk_api", message: "user not found" } });
    assert.equal(text(render(s), "test-session-error"), "Error: user not found");
    assert.equal(s.screen, "signedIn");
  });

  test("Create API key: Creating…, then the masked key; a failure is Error: …", () => {
    let s = run(oauthOnly(), { type: "keysTextEdited", part: "apiKeyFor", value: "user_2x" }, { type: "createApiKeyClicked" });
    assert.equal(text(render(s), "create-api-key"), "Creating…");
    s = next(s, { type: "apiKeyCreated", masked: "ak_…wxyz" });
    assert.match(text(render(s), "created-api-key"), /Created and kept: ak_…wxyz/);
    s = run(s, { type: "createApiKeyClicked" }, { type: "createApiKeyFailed", error: { kind: "clerk_api", message: "no secret key kept" } });
    assert.equal(text(render(s), "create-api-key-error"), "Error: no secret key kept");
    assert.equal(byId(render(s), "created-api-key"), null);
  });
});
