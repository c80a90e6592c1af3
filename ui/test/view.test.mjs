import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { allElements, byId, installDocument } from "./fake-dom.mjs";
import { initialState, next } from "../state.js";
import { updateChrome, updateClock, view } from "../view.js";
import { h } from "../dom.js";
import { KEYCHAIN_MISSING, NOW, apiResult, session, sessionState, settings, shownText, unauthorized } from "./fixtures.mjs";

const run = (state, ...events) => events.reduce(next, state);
const signedOut = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null) });
const signedIn = (s = session()) => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(s) });
const signingIn = () => run(signedOut(), { type: "signInClicked" }, { type: "signInStarted" });

let dispatched;
const dispatch = (e) => dispatched.push(e);
const render = (state) => view(state, dispatch);
const text = (root, id) => byId(root, id)?.textContent;

beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("dom.h", () => {
  test("sets attributes, properties, listeners and text children", () => {
    const clicks = [];
    const el = h("button", { id: "b", class: ["x", false, "y"], disabled: true, hidden: false, "aria-invalid": true, onClick: () => clicks.push(1) }, "Go", 1, null, ["!"]);
    assert.equal(el.getAttribute("class"), "x y");
    assert.equal(el.getAttribute("disabled"), "");
    assert.equal(el.hasAttribute("hidden"), false);
    assert.equal(el.getAttribute("aria-invalid"), "true");
    assert.equal(el.textContent, "Go1!");
    el.fire("click");
    assert.deepEqual(clicks, [1]);
    assert.equal(h("input", { value: "typed" }).value, "typed");
  });
  test("refuses any *HTML property", () => {
    assert.throws(() => h("div", { ["inner" + "HTML"]: "<b>x</b>" }));
  });
});

describe("restoring", () => {
  const restoring = (notice = null) => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null, { restoring: true, notice }) });

  test("shows 'Restoring your session…' with a spinner in a status live region, and a Sign in again button", () => {
    const root = render(restoring());
    const stage = byId(root, "restore-stage");
    assert.equal(stage.textContent, "Restoring your session…");
    assert.equal(stage.getAttribute("role"), "status");
    assert.equal(stage.getAttribute("aria-live"), "polite");
    assert.ok(stage.querySelector("span").classList.contains("spinner"));
    assert.equal(text(root, "skip-restore"), "Sign in again");
    assert.ok(byId(root, "screen-title").hasAttribute("data-autofocus"));
    assert.equal(byId(root, "settings-form"), null, "no settings form while restoring");
    assert.equal(byId(root, "sign-in"), null);
  });

  test("Sign in again dispatches skipRestoreClicked", () => {
    byId(render(restoring()), "skip-restore").fire("click");
    assert.deepEqual(dispatched, [{ type: "skipRestoreClicked" }]);
  });

  test("a notice shows above the restoring card with the warning tone", () => {
    const notice = byId(render(restoring(KEYCHAIN_MISSING)), "notice");
    assert.equal(notice.textContent, KEYCHAIN_MISSING);
    assert.ok(notice.classList.contains("notice-warning"));
    assert.equal(notice.getAttribute("role"), "alert");
  });
});

describe("signedOut", () => {
  test("shows the description, all labelled settings inputs with their values, Save and Sign in", () => {
    const root = render(signedOut());
    assert.match(root.textContent, /Sign in to your Clerk application and see what your protected API answers\./);
    for (const [id, value] of [["instance", settings.instance], ["client-id", "client_abc"], ["scopes", "openid profile email"], ["redirect-port", "0"], ["api-url", settings.apiUrl]]) {
      const input = byId(root, id);
      assert.equal(input.value, value, id);
      assert.ok(root.querySelectorAll("label").some((l) => l.getAttribute("for") === id), `label for ${id}`);
    }
    assert.equal(text(root, "sign-in"), "Sign in with Clerk");
    assert.equal(byId(root, "save-settings").getAttribute("type"), "submit");
  });

  test("a field error is shown next to its field with aria-invalid and aria-describedby", () => {
    const s = next(signedOut(), { type: "settingsRejected", error: { kind: "invalid_setting", field: "clientId", message: "Client ID is required." } });
    const root = render(s);
    assert.equal(text(root, "error-clientId"), "Client ID is required.");
    const input = byId(root, "client-id");
    assert.equal(input.getAttribute("aria-invalid"), "true");
    assert.ok(input.getAttribute("aria-describedby").split(" ").includes("error-clientId"));
    assert.equal(byId(root, "instance").getAttribute("aria-invalid"), null);
  });

  test("the Client ID Metadata Document URL: beside the client ID with its hint; the engine's clientMetadataUrl error is at it", () => {
    const root = render(signedOut());
    assert.equal(byId(root, "client-metadata-url").getAttribute("name"), "clientMetadataUrl");
    assert.equal(text(root, "hint-client-metadata-url"), "An https URL of a Client ID Metadata Document you host: with no client ID, providers that accept such documents take it as the client ID. Set the redirect port its redirect_uris name.");
    const message = "“http://keyhole.example/c.json” cannot be a Client ID Metadata Document's URL: it must be an https URL.";
    const s = next(run(signedOut(), { type: "saveClicked" }), { type: "settingsRejected", error: { kind: "invalid_setting", field: "clientMetadataUrl", message } });
    const refused = render(s);
    assert.equal(text(refused, "error-clientMetadataUrl"), message);
    const input = byId(refused, "client-metadata-url");
    assert.equal(input.getAttribute("aria-invalid"), "true");
    assert.ok(input.getAttribute("aria-describedby").split(" ").includes("error-clientMetadataUrl"));
    input.value = "https://keyhole.example/c.json";
    input.fire("input");
    assert.deepEqual(dispatched.at(-1), { type: "fieldEdited", field: "clientMetadataUrl", value: "https://keyhole.example/c.json" });
  });

  test("typing dispatches fieldEdited; submit and Sign in dispatch their intents", () => {
    const root = render(signedOut());
    const input = byId(root, "api-url");
    input.value = "http://x";
    input.fire("input");
    byId(root, "sign-in").fire("click");
    const submit = byId(root, "settings-form").fire("submit");
    assert.equal(submit.defaultPrevented, true);
    assert.deepEqual(dispatched, [
      { type: "fieldEdited", field: "apiUrl", value: "http://x" },
      { type: "signInClicked" },
      { type: "saveClicked" },
    ]);
  });

  test("notices render with their tone; errors as alerts", () => {
    const s = next(run(signedOut(), { type: "saveClicked" }), { type: "settingsRejected", error: { kind: "io", message: "disk full" } });
    const notice = byId(render(s), "notice");
    assert.equal(notice.getAttribute("role"), "alert");
    assert.match(notice.textContent, /disk full/);
  });
});

describe("signingIn", () => {
  test("shows the heading, stage, Cancel and Open the browser again; no URL box before the URL is known", () => {
    const root = render(signingIn());
    assert.match(root.textContent, /Finish in your browser…/);
    assert.ok(byId(root, "cancel-sign-in"));
    assert.ok(byId(root, "open-browser-again"));
    assert.equal(byId(root, "sign-in-url"), null);
  });

  test("shows the URL read-only with a Copy button once known", () => {
    const url = "https://x.clerk.accounts.dev/oauth/authorize?client_id=c";
    const root = render(next(signingIn(), { type: "signInProgress", progress: { stage: "waiting", url } }));
    const field = byId(root, "sign-in-url");
    assert.equal(field.value, url);
    assert.equal(field.hasAttribute("readonly"), true);
    byId(root, "copy-sign-in-url").fire("click");
    assert.deepEqual(dispatched, [{ type: "copyUrlClicked" }]);
    assert.match(text(root, "sign-in-stage"), /Waiting/);
  });

  test("browser_failed shows its message prominently", () => {
    const root = render(next(signingIn(), { type: "signInProgress", progress: { stage: "browser_failed", message: "xdg-open: not found", url: "u" } }));
    const alert = byId(root, "browser-error");
    assert.equal(alert.getAttribute("role"), "alert");
    assert.match(alert.textContent, /xdg-open: not found/);
  });

  test("buttons dispatch cancel and reopen; busy buttons are aria-disabled but still focusable", () => {
    const root = render(next(signingIn(), { type: "cancelClicked" }));
    byId(root, "open-browser-again").fire("click");
    byId(root, "cancel-sign-in").fire("click");
    assert.deepEqual(dispatched.map((e) => e.type), ["reopenClicked", "cancelClicked"]);
    assert.equal(byId(root, "cancel-sign-in").getAttribute("aria-disabled"), "true");
    assert.equal(byId(root, "cancel-sign-in").hasAttribute("disabled"), false);
  });
});

describe("signedIn", () => {
  test("shows who, issuer, expiry countdown, scopes and pretty access-token claims", () => {
    const root = render(signedIn());
    assert.equal(text(root, "subject"), "user_2abc");
    assert.equal(text(root, "identity"), "Ada Lovelace <ada@example.com>");
    assert.equal(text(root, "issuer"), session().issuer);
    assert.equal(text(root, "expires-in"), "expires in 1 h 0 min");
    assert.deepEqual(byId(root, "session-scopes").children.map((li) => li.textContent), ["openid", "profile", "email"]);
    assert.equal(text(root, "access-token-claims"), JSON.stringify(session().accessToken.claims, null, 2));
    assert.ok(byId(root, "call-api"));
    assert.ok(byId(root, "sign-out"));
    assert.equal(byId(root, "api-result").getAttribute("data-result"), "idle");
    assert.equal(byId(root, "request-url").value, settings.apiUrl);
    assert.equal(byId(root, "request-method").value ?? "GET", "GET");
  });

  test("an opaque token is explained instead of decoded; missing name/email are omitted", () => {
    const root = render(signedIn(session({ accessToken: { kind: "opaque" }, name: null, email: null, idTokenClaims: null })));
    assert.equal(text(root, "token-kind"), "Opaque token — it cannot be decoded; it is sent as-is.");
    assert.equal(byId(root, "access-token-claims"), null);
    assert.equal(byId(root, "identity"), null);
    assert.equal(byId(root, "id-token-claims"), null);
  });

  test("ID-token claims and Settings sit in details whose open state comes from state", () => {
    let root = render(signedIn());
    assert.equal(byId(root, "id-token").hasAttribute("open"), false);
    assert.equal(byId(root, "settings-panel").hasAttribute("open"), false);
    assert.ok(byId(root, "save-settings"), "settings form reachable");
    root = render(run(signedIn(), { type: "sectionToggled", section: "idToken", open: true }));
    const details = byId(root, "id-token");
    assert.equal(details.hasAttribute("open"), true);
    details.open = false;
    details.fire("toggle");
    assert.deepEqual(dispatched, [{ type: "sectionToggled", section: "idToken", open: false }]);
  });

  test("API loading shows 'Loading…' (an ellipsis, not three dots)", () => {
    const root = render(next(signedIn(), { type: "callApiClicked" }));
    assert.equal(byId(root, "api-result").getAttribute("data-result"), "loading");
    assert.match(text(root, "api-result"), /^Loading… 0 s/);
    assert.ok(byId(root, "cancel-request"), "a Cancel button while waiting");
  });

  test("API HTTP error shows 'Error: …' and the diagnosis", () => {
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: unauthorized() }));
    assert.equal(byId(root, "api-result").getAttribute("data-result"), "error");
    assert.equal(text(root, "api-error"), "Error: 401 Unauthorized — Unauthenticated!");
    assert.match(text(root, "diagnosis"), /did not accept/);
    assert.equal(text(root, "api-data"), shownText("Unauthenticated!"), "the body of an error answer is shown raw");
  });

  test("API rejection shows 'Error: <message>' without a diagnosis", () => {
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiFailed", error: { kind: "transport", message: "connection refused" } }));
    assert.equal(text(root, "api-error"), "Error: connection refused");
    assert.equal(byId(root, "diagnosis"), null);
  });

  test("API data shows 'Data from API', the pretty JSON, status and time", () => {
    const result = apiResult();
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result }));
    assert.equal(byId(root, "api-result").getAttribute("data-result"), "data");
    assert.ok(root.querySelectorAll("h3").some((el) => el.textContent === "Data from API"));
    assert.equal(byId(root, "api-data").tagName, "PRE");
    assert.equal(text(root, "api-data"), shownText(JSON.stringify(result.body.value, null, 2)));
    assert.equal(text(root, "api-meta"), "200 OK · 35 ms · application/json");
    assert.equal(byId(root, "diagnosis"), null);
  });

  test("the engine's destination warnings are shown with the answer, and nothing when there are none", () => {
    const warnings = [{ kind: "audience", message: "The access token's audience does not name http://api.example.test." }];
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult({ warnings }) }));
    assert.equal(text(root, "api-warnings"), "Warning: The access token's audience does not name http://api.example.test.");
    assert.ok(byId(root, "api-warnings").classList.contains("note-warning"));
    const plain = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult() }));
    assert.equal(byId(plain, "api-warnings"), null);
  });

  test("2xx with a diagnosis shows both the data and a visible warning", () => {
    const root = render(run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult({ diagnosis: "auth object is signed out" }) }));
    assert.ok(byId(root, "api-data"));
    assert.match(text(root, "diagnosis"), /auth object is signed out/);
    assert.ok(byId(root, "diagnosis").classList.contains("note-warning"));
  });

  test("a refreshable session says it renews automatically next to the expiry", () => {
    let root = render(signedIn(session({ refreshable: true })));
    assert.equal(text(root, "renewal"), "renews automatically");
    assert.equal(byId(root, "expires-in").parentNode, byId(root, "renewal").parentNode, "in the same Expiry cell");
    root = render(signedIn(session({ refreshable: false })));
    assert.equal(byId(root, "renewal"), null);
  });

  test("after a refresh the countdown shows the new expiry", () => {
    const s = next(signedIn(session({ refreshable: true })), { type: "sessionChanged", state: sessionState(session({ refreshable: true, expiresAt: NOW / 1000 + 7200 })) });
    assert.equal(text(render(s), "expires-in"), "expires in 2 h 0 min");
  });

  test("a backend notice on the signed-out screen renders as #notice (warning)", () => {
    const s = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null, { notice: KEYCHAIN_MISSING }) });
    const notice = byId(render(s), "notice");
    assert.equal(notice.textContent, KEYCHAIN_MISSING);
    assert.ok(notice.classList.contains("notice-warning"));
  });

  test("buttons dispatch their intents", () => {
    const root = render(signedIn());
    byId(root, "call-api").fire("click");
    byId(root, "sign-out").fire("click");
    assert.deepEqual(dispatched, [{ type: "callApiClicked" }, { type: "signOutClicked" }]);
  });
});

test("untrusted strings only ever become text nodes", () => {
  const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
  const s = run(signedIn(session({ name: evil, subject: evil, accessToken: { kind: "jwt", header: { alg: evil }, claims: { evil } } })),
    { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult({ status: 500, ok: false, body: { kind: "text", text: evil }, diagnosis: evil }) });
  const root = render({ ...s, notice: { tone: "error", text: evil } });
  const tags = new Set(allElements(root).map((e) => e.tagName));
  assert.equal(tags.has("IMG"), false);
  assert.equal(tags.has("SCRIPT"), false);
  assert.ok(root.textContent.includes(evil));
});

test("updateClock rewrites only the countdown and flags expiry", () => {
  let s = signedIn();
  const root = render(s);
  s = next(s, { type: "tick", now: NOW + 48 * 60 * 1000 });
  updateClock(root, s);
  assert.equal(text(root, "expires-in"), "expires in 12 min 0 s");
  s = next(s, { type: "tick", now: NOW + 3600 * 1000 });
  updateClock(root, s);
  assert.equal(text(root, "expires-in"), "expired");
  assert.ok(byId(root, "expires-in").classList.contains("expired"));
});

test("updateChrome exposes the state name on #status and shows the sandbox badge", () => {
  const status = document.createElement("p");
  const badge = document.createElement("span");
  updateChrome(status, badge, signedIn());
  assert.equal(status.getAttribute("data-state"), "signedIn");
  assert.equal(status.textContent, "Signed in");
  assert.equal(badge.hidden, true);
  updateChrome(status, badge, run(initialState(NOW), { type: "booted", settings: { ...settings, sandbox: true }, sessionState: sessionState(null) }));
  assert.equal(status.getAttribute("data-state"), "signedOut");
  assert.equal(badge.hidden, false);
  updateChrome(status, badge, run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null, { restoring: true }) }));
  assert.equal(status.getAttribute("data-state"), "restoring");
  assert.equal(status.textContent, "Restoring your session…");
});

describe("device sign-in view", () => {
  test("shows the code large, a copy button and the QR code drawn as SVG rectangles", async () => {
    const { view } = await import("../view.js");
    const { initialState, next } = await import("../state.js");
    const fx = await import("./fixtures.mjs");
    const events = [];
    let s = initialState(fx.NOW);
    for (const e of [
      { type: "booted", settings: fx.settings, sessionState: fx.sessionState(null) },
      { type: "signInClicked" },
      { type: "settingsSaved", settings: fx.settings, quiet: true },
      { type: "signInStarted" },
      { type: "signInProgress", progress: { stage: "device_code", verification_uri: "http://127.0.0.1:1/d", verification_uri_complete: "http://127.0.0.1:1/d?user_code=BCDF-GHJK", user_code: "BCDF-GHJK", expires_in: 600, qr: { size: 2, modules: [true, false, false, true] } } },
    ]) s = next(s, e);
    const root = view(s, (e) => events.push(e));
    document.body.replaceChildren(root);
    assert.equal(document.getElementById("device-user-code").textContent, "BCDF-GHJK");
    const qr = document.getElementById("device-qr");
    assert.ok(qr);
    assert.equal(qr.children.length, 1 + 2); // background + two dark modules
    document.getElementById("copy-user-code").fire("click");
    assert.deepEqual(events, [{ type: "copyCodeClicked" }]);
  });
});
