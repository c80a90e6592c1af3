import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { EVENT_TYPES, FIELDS, formFromSettings, initialState, needsRegistration, next, offersSetUp, settingsFromForm, toSessionState } from "../state.js";
import { API_IDLE } from "../request.js";
import { KEYCHAIN_MISSING, NOW, RESTORE_FAILED, SESSION_ENDED, apiResult, session, sessionState, settings, unauthorized } from "./fixtures.mjs";

const run = (state, ...events) => events.reduce(next, state);
const signedOut = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null) });
const signedIn = (s = session()) => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(s) });
const signingIn = () => run(signedOut(), { type: "signInClicked" }, { type: "settingsSaved", settings, quiet: true }, { type: "signInStarted" });

/** Deep-freeze so any in-place mutation inside `next` throws in strict-mode modules. */
function frozen(value) {
  if (value && typeof value === "object") {
    Object.values(value).forEach(frozen);
    Object.freeze(value);
  }
  return value;
}

describe("initial state and boot", () => {
  test("starts loading with an empty form and idle API", () => {
    const s = initialState(NOW);
    assert.equal(s.screen, "loading");
    assert.equal(s.now, NOW);
    assert.deepEqual(s.form, { instance: "", clientId: "", clientMetadataUrl: "", scopes: "", redirectPort: "", apiUrl: "", resource: "" });
    assert.equal(s.api.status, "idle");
    assert.equal(s.session, null);
  });

  test("booted without a session shows signedOut with the form filled from settings", () => {
    const s = signedOut();
    assert.equal(s.screen, "signedOut");
    assert.deepEqual(s.settings, settings);
    assert.equal(s.form.redirectPort, "0");
    assert.equal(s.form.apiUrl, settings.apiUrl);
    assert.equal(s.notice, null);
  });

  test("booted with a restored session goes straight to signedIn", () => {
    const s = signedIn();
    assert.equal(s.screen, "signedIn");
    assert.equal(s.session.subject, "user_2abc");
  });

  test("a boot error is shown as an error notice, and the app still lands signedOut", () => {
    const s = next(initialState(NOW), { type: "booted", settings: null, sessionState: null, error: { kind: "unavailable", message: "no backend" } });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.notice.tone, "error");
    assert.match(s.notice.text, /no backend/);
  });

  test("tick advances now, and a tick with the same time changes nothing", () => {
    const s = signedIn();
    assert.equal(next(s, { type: "tick", now: NOW + 1000 }).now, NOW + 1000);
    assert.equal(next(s, { type: "tick", now: NOW }), s);
  });

  test("unknown events and prototype names return the same state", () => {
    const s = signedOut();
    assert.equal(next(s, { type: "nope" }), s);
    assert.equal(next(s, { type: "toString" }), s);
    assert.equal(next(s, {}), s);
  });

  test("next never mutates its input, for every event type", () => {
    const samples = {
      booted: { settings, sessionState: sessionState(session()) }, tick: { now: NOW + 5 }, fieldEdited: { field: "scopes", value: "x" },
      settingsSaved: { settings }, settingsRejected: { error: { kind: "invalid_setting", field: "apiUrl", message: "bad" } },
      sectionToggled: { section: "idToken", open: true }, signInProgress: { progress: { stage: "waiting", url: "u" } },
      signInSucceeded: { session: session() }, signInFailed: { error: { kind: "timeout", message: "t" } },
      cancelFailed: { error: { message: "x" } }, browserReopenFailed: { error: { message: "x" } }, urlCopied: { ok: true },
      sessionChanged: { state: sessionState(null, { notice: SESSION_ENDED }) }, skipRestoreClicked: {}, apiAnswered: { result: apiResult() }, apiFailed: { error: { message: "x" } },
      signedOut: { outcome: { revoked: true, message: null } }, signOutFailed: { error: { message: "x" } },
      unexpectedError: { error: { message: "x" } },
      setUpDone: { result: { settings, note: "n" }, from: "api" }, setUpFailed: { error: { kind: "discovery", message: "x" } },
    };
    const restoring = next(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null, { restoring: true }) });
    for (const start of [initialState(NOW), restoring, signedOut(), signingIn(), run(signedIn(), { type: "callApiClicked" })]) {
      const snapshot = JSON.stringify(start);
      frozen(start);
      for (const type of EVENT_TYPES) next(start, { type, ...samples[type] });
      assert.equal(JSON.stringify(start), snapshot);
    }
  });
});

describe("settings form", () => {
  test("fieldEdited keeps what the user typed, as a string", () => {
    const s = next(signedOut(), { type: "fieldEdited", field: "redirectPort", value: "80a" });
    assert.equal(s.form.redirectPort, "80a");
  });

  test("fieldEdited ignores unknown fields and unchanged values", () => {
    const s = signedOut();
    assert.equal(next(s, { type: "fieldEdited", field: "sandbox", value: "true" }), s);
    assert.equal(next(s, { type: "fieldEdited", field: "scopes", value: s.form.scopes }), s);
  });

  test("saveClicked marks saving and clears old field errors and notices; a second click is ignored", () => {
    const withError = next(signedOut(), { type: "settingsRejected", error: { kind: "invalid_setting", field: "instance", message: "bad" } });
    const s = next(withError, { type: "saveClicked" });
    assert.equal(s.saving, true);
    assert.deepEqual(s.fieldErrors, {});
    assert.equal(next(s, { type: "saveClicked" }), s);
  });

  test("settingsSaved stores the normalized settings, refreshes the form, and says so", () => {
    const typed = run(signedOut(), { type: "fieldEdited", field: "scopes", value: "  openid  " }, { type: "saveClicked" });
    const normalized = { ...settings, scopes: "openid" };
    const s = next(typed, { type: "settingsSaved", settings: normalized });
    assert.equal(s.saving, false);
    assert.equal(s.form.scopes, "openid");
    assert.deepEqual(s.settings, normalized);
    assert.deepEqual(s.notice, { tone: "info", text: "Settings saved." });
  });

  test("a quiet settingsSaved (before sign-in) adds no notice", () => {
    const s = next(run(signedOut(), { type: "signInClicked" }), { type: "settingsSaved", settings, quiet: true });
    assert.equal(s.notice, null);
  });

  for (const field of FIELDS) {
    test(`invalid_setting for ${field} maps to that field's error and keeps the typed values`, () => {
      const typed = run(signedOut(), { type: "fieldEdited", field: "instance", value: "not a url" }, { type: "saveClicked" });
      const s = next(typed, { type: "settingsRejected", error: { kind: "invalid_setting", field, message: `${field} is wrong` } });
      assert.deepEqual(s.fieldErrors, { [field]: `${field} is wrong` });
      assert.equal(s.form.instance, "not a url");
      assert.equal(s.saving, false);
      assert.equal(s.notice, null);
    });
  }

  test("a settings error without a known field becomes a notice", () => {
    const s = next(run(signedOut(), { type: "saveClicked" }), { type: "settingsRejected", error: { kind: "io", message: "disk full" } });
    assert.deepEqual(s.fieldErrors, {});
    assert.equal(s.notice.tone, "error");
    assert.match(s.notice.text, /disk full/);
  });

  test("a settings error while signed in opens the Settings panel so the error is visible", () => {
    const s = next(signedIn(), { type: "settingsRejected", error: { kind: "invalid_setting", field: "apiUrl", message: "bad" } });
    assert.equal(s.expanded.settings, true);
    assert.equal(s.screen, "signedIn");
  });

  test("sectionToggled records open state and ignores no-op toggles (details fire toggle on creation)", () => {
    const s = next(signedIn(), { type: "sectionToggled", section: "idToken", open: true });
    assert.equal(s.expanded.idToken, true);
    assert.equal(next(s, { type: "sectionToggled", section: "idToken", open: true }), s);
    assert.equal(next(s, { type: "sectionToggled", section: "bogus", open: true }), s);
  });

  test("settingsFromForm sends the Backend API back as loaded (the sandbox's stand-in survives a save)", () => {
    const saved = { ...settings, sandbox: true, backendApi: "http://127.0.0.1:4001" };
    const out = settingsFromForm({ ...formFromSettings(saved), apiUrl: "http://127.0.0.1:5000/other" }, saved);
    assert.equal(out.settings.backendApi, "http://127.0.0.1:4001");
    assert.equal(settingsFromForm(formFromSettings(settings), settings).settings.backendApi, "");
  });

  test("the Client ID Metadata Document URL is kept when loaded and sent as typed; an older payload without it sends empty", () => {
    const doc = "https://keyhole.example/oauth/client.json";
    const loaded = { ...settings, clientId: "", clientMetadataUrl: doc };
    assert.equal(formFromSettings(loaded).clientMetadataUrl, doc);
    assert.equal(settingsFromForm(formFromSettings(loaded), loaded).settings.clientMetadataUrl, doc);
    const s = run(initialState(NOW), { type: "booted", settings: loaded, sessionState: sessionState(null) }, { type: "fieldEdited", field: "clientMetadataUrl", value: "https://other.example/c.json" });
    assert.equal(settingsFromForm(s.form, loaded).settings.clientMetadataUrl, "https://other.example/c.json");
    const { clientMetadataUrl: _, ...older } = settings;
    assert.equal(settingsFromForm(formFromSettings(older), older).settings.clientMetadataUrl, "");
  });

  test("formFromSettings and settingsFromForm round-trip, keeping sandbox", () => {
    const back = settingsFromForm(formFromSettings({ ...settings, sandbox: true, redirectPort: 8765 }), { sandbox: true });
    assert.deepEqual(back, { ok: true, settings: { ...settings, sandbox: true, redirectPort: 8765 } });
  });

  test("an empty redirect port means 0 (any free port)", () => {
    const r = settingsFromForm({ ...formFromSettings(settings), redirectPort: " " }, settings);
    assert.equal(r.settings.redirectPort, 0);
  });

  for (const bad of ["80a", "-1", "65536", "1.5", "999999"]) {
    test(`settingsFromForm rejects redirect port ${JSON.stringify(bad)} against the redirectPort field`, () => {
      const r = settingsFromForm({ ...formFromSettings(settings), redirectPort: bad }, settings);
      assert.equal(r.ok, false);
      assert.equal(r.error.kind, "invalid_setting");
      assert.equal(r.error.field, "redirectPort");
    });
  }
});

describe("sign-in", () => {
  test("signInClicked only from signedOut, marks saving, clears the old notice", () => {
    const out = { ...signedOut(), notice: { tone: "info", text: "Signed out." } };
    const s = next(out, { type: "signInClicked" });
    assert.equal(s.saving, true);
    assert.equal(s.notice, null);
    assert.equal(next(s, { type: "signInClicked" }), s, "double click ignored");
    assert.equal(next(signedIn(), { type: "signInClicked" }).screen, "signedIn");
  });

  test("a settings rejection before sign-in stays signedOut with the field error", () => {
    const s = next(run(signedOut(), { type: "signInClicked" }), { type: "settingsRejected", error: { kind: "invalid_setting", field: "clientId", message: "Client ID is required." } });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.fieldErrors.clientId, "Client ID is required.");
  });

  test("signInStarted shows signingIn with no stage or URL yet", () => {
    const s = signingIn();
    assert.equal(s.screen, "signingIn");
    assert.equal(s.saving, false);
    assert.deepEqual(s.signIn, { method: "browser", stage: null, url: null, message: null, cancelling: false, reopening: false, copy: null, device: null, codeCopy: null });
  });

  test("progress stages advance, and the URL stays once known", () => {
    const url = "https://happy-hen-42.clerk.accounts.dev/oauth/authorize?x=1";
    let s = next(signingIn(), { type: "signInProgress", progress: { stage: "opening_browser" } });
    assert.equal(s.signIn.stage, "opening_browser");
    assert.equal(s.signIn.url, null);
    s = next(s, { type: "signInProgress", progress: { stage: "waiting", url } });
    assert.equal(s.signIn.url, url);
    s = next(s, { type: "signInProgress", progress: { stage: "exchanging" } });
    assert.equal(s.signIn.stage, "exchanging");
    assert.equal(s.signIn.url, url);
  });

  test("browser_failed carries its message until the browser is reopened", () => {
    let s = next(signingIn(), { type: "signInProgress", progress: { stage: "browser_failed", message: "xdg-open not found", url: "u" } });
    assert.equal(s.signIn.stage, "browser_failed");
    assert.equal(s.signIn.message, "xdg-open not found");
    assert.equal(s.signIn.url, "u");
    s = next(s, { type: "signInProgress", progress: { stage: "exchanging" } });
    assert.equal(s.signIn.message, "xdg-open not found", "message kept until the browser is reopened");
    s = next(s, { type: "browserReopened" });
    assert.equal(s.signIn.message, null);
  });

  test("progress outside signingIn is ignored", () => {
    const s = signedOut();
    assert.equal(next(s, { type: "signInProgress", progress: { stage: "waiting" } }), s);
  });

  test("signInSucceeded lands signedIn with the session and an idle API result", () => {
    const s = next(signingIn(), { type: "signInSucceeded", session: session() });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.signIn, null);
    assert.equal(s.session.subject, "user_2abc");
    assert.equal(s.api.status, "idle");
  });

  for (const kind of ["provider", "timeout", "network", "verification", "browser"]) {
    test(`sign-in failure (${kind}) returns to signedOut with the message as an error notice`, () => {
      const s = next(signingIn(), { type: "signInFailed", error: { kind, message: `${kind} went wrong` } });
      assert.equal(s.screen, "signedOut");
      assert.equal(s.signIn, null);
      assert.deepEqual(s.notice, { tone: "error", text: `Sign-in failed: ${kind} went wrong` });
    });
  }

  test("an invalid_setting sign-in failure also marks the field", () => {
    const s = next(signingIn(), { type: "signInFailed", error: { kind: "invalid_setting", field: "instance", message: "Not a Clerk instance." } });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.fieldErrors.instance, "Not a Clerk instance.");
    assert.match(s.notice.text, /Not a Clerk instance/);
  });

  test("cancel: cancelClicked marks cancelling once; the cancelled rejection shows a quiet note", () => {
    let s = next(signingIn(), { type: "cancelClicked" });
    assert.equal(s.signIn.cancelling, true);
    assert.equal(next(s, { type: "cancelClicked" }), s);
    assert.equal(next(s, { type: "reopenClicked" }), s, "no reopening while cancelling");
    s = next(s, { type: "signInFailed", error: { kind: "cancelled", message: "cancelled by user" } });
    assert.equal(s.screen, "signedOut");
    assert.deepEqual(s.notice, { tone: "info", text: "Sign-in cancelled." });
  });

  test("cancelFailed un-marks cancelling and reports the error", () => {
    const s = run(signingIn(), { type: "cancelClicked" }, { type: "cancelFailed", error: { kind: "unknown", message: "nope" } });
    assert.equal(s.screen, "signingIn");
    assert.equal(s.signIn.cancelling, false);
    assert.match(s.notice.text, /nope/);
  });

  test("a late sign-in failure after the session already arrived is ignored", () => {
    const s = next(signingIn(), { type: "sessionChanged", state: sessionState(session()) });
    assert.equal(s.screen, "signedIn");
    assert.equal(next(s, { type: "signInFailed", error: { kind: "cancelled", message: "x" } }), s);
  });

  test("open the browser again: success returns a failed stage to waiting", () => {
    let s = next(signingIn(), { type: "signInProgress", progress: { stage: "browser_failed", message: "m" } });
    s = next(s, { type: "reopenClicked" });
    assert.equal(s.signIn.reopening, true);
    assert.equal(next(s, { type: "reopenClicked" }), s);
    s = next(s, { type: "browserReopened" });
    assert.equal(s.signIn.reopening, false);
    assert.equal(s.signIn.stage, "waiting");
  });

  test("open the browser again: failure shows browser_failed with the message", () => {
    const s = run(signingIn(), { type: "signInProgress", progress: { stage: "waiting", url: "u" } }, { type: "reopenClicked" },
      { type: "browserReopenFailed", error: { kind: "browser", message: "no browser" } });
    assert.equal(s.signIn.stage, "browser_failed");
    assert.equal(s.signIn.message, "no browser");
    assert.equal(s.signIn.reopening, false);
  });

  test("copy: needs a URL, then records success or failure", () => {
    const noUrl = signingIn();
    assert.equal(next(noUrl, { type: "copyUrlClicked" }), noUrl);
    let s = run(noUrl, { type: "signInProgress", progress: { stage: "waiting", url: "u" } }, { type: "copyUrlClicked" });
    assert.equal(s.signIn.copy, "pending");
    assert.equal(next(s, { type: "urlCopied", ok: true }).signIn.copy, "done");
    s = next(s, { type: "urlCopied", ok: false });
    assert.equal(s.signIn.copy, "failed");
  });
});

describe("session-changed", () => {
  test("a session arriving while signed out restores signedIn", () => {
    assert.equal(next(signedOut(), { type: "sessionChanged", state: sessionState(session()) }).screen, "signedIn");
  });

  test("a refreshed session for the same user keeps the API result", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult() });
    const refreshed = next(s, { type: "sessionChanged", state: sessionState(session({ expiresAt: 1_700_007_200 })) });
    assert.equal(refreshed.session.expiresAt, 1_700_007_200);
    assert.equal(refreshed.api.status, "data");
  });

  test("a different user resets the API result", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult() });
    assert.equal(next(s, { type: "sessionChanged", state: sessionState(session({ subject: "user_other" })) }).api.status, "idle");
  });

  test("null while signed in ends the session with a note", () => {
    const s = next(signedIn(), { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.session, null);
    assert.deepEqual(s.notice, { tone: "info", text: "Your session ended." });
  });

  test("null while signing in or signed out changes nothing", () => {
    const a = signingIn();
    const b = signedOut();
    assert.equal(next(a, { type: "sessionChanged", state: sessionState(null) }), a);
    assert.equal(next(b, { type: "sessionChanged", state: sessionState(null) }), b);
  });

  test("a refresh (same user, later expiry) updates the session in place: API result, notice and open panels stay", () => {
    const s = run(signedIn(session({ refreshable: true })), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult() },
      { type: "sectionToggled", section: "idToken", open: true }, { type: "saveClicked" }, { type: "settingsSaved", settings });
    const refreshed = next(s, { type: "sessionChanged", state: sessionState(session({ refreshable: true, expiresAt: 1_700_007_200 })) });
    assert.equal(refreshed.screen, "signedIn");
    assert.equal(refreshed.session.expiresAt, 1_700_007_200);
    assert.equal(refreshed.api, s.api);
    assert.deepEqual(refreshed.notice, { tone: "info", text: "Settings saved." });
    assert.equal(refreshed.expanded.idToken, true);
  });

  test("a refresh while the API call is loading (401 → refresh → retry) still lets the answer land", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "sessionChanged", state: sessionState(session({ expiresAt: 1_700_007_200 })) });
    assert.equal(s.api.status, "loading");
    assert.equal(next(s, { type: "apiAnswered", result: apiResult() }).api.status, "data");
  });

  test("a notice with a session is shown (e.g. signed in, but the keychain could not keep it)", () => {
    const s = next(signedIn(), { type: "sessionChanged", state: sessionState(session(), { notice: KEYCHAIN_MISSING }) });
    assert.equal(s.screen, "signedIn");
    assert.deepEqual(s.notice, { tone: "warning", text: KEYCHAIN_MISSING });
  });

  test("a notice with no session while signing in or signed out is shown without changing the screen", () => {
    const a = next(signingIn(), { type: "sessionChanged", state: sessionState(null, { notice: RESTORE_FAILED }) });
    assert.equal(a.screen, "signingIn");
    assert.equal(a.notice.text, RESTORE_FAILED);
    const b = next(signedOut(), { type: "sessionChanged", state: sessionState(null, { notice: RESTORE_FAILED }) });
    assert.equal(b.screen, "signedOut");
    assert.equal(next(b, { type: "sessionChanged", state: sessionState(null, { notice: RESTORE_FAILED }) }), b, "same notice again: same state");
  });

  test("during boot it only records the session state (boot decides the screen)", () => {
    const s = next(initialState(NOW), { type: "sessionChanged", state: sessionState(session()) });
    assert.equal(s.screen, "loading");
    assert.equal(s.early.session.subject, "user_2abc");
  });
});

describe("restoring a stored session (launch)", () => {
  const restoring = (notice = null) => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null, { restoring: true, notice }) });

  test("booted while the backend restores shows the restoring screen, with the form ready behind it", () => {
    const s = restoring();
    assert.equal(s.screen, "restoring");
    assert.equal(s.session, null);
    assert.equal(s.notice, null);
    assert.equal(s.form.instance, settings.instance);
  });

  test("restoring → restored: session-changed with a session lands signedIn", () => {
    const s = next(restoring(), { type: "sessionChanged", state: sessionState(session({ refreshable: true })) });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.session.refreshable, true);
    assert.equal(s.api.status, "idle");
    assert.equal(s.notice, null);
  });

  test("restoring → signedOut with the backend's notice (warning) when the provider refused the saved sign-in", () => {
    const s = next(restoring(), { type: "sessionChanged", state: sessionState(null, { notice: SESSION_ENDED }) });
    assert.equal(s.screen, "signedOut");
    assert.deepEqual(s.notice, { tone: "warning", text: SESSION_ENDED });
  });

  test("restoring → signedOut with no notice when the restore simply found nothing", () => {
    const s = next(restoring(), { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.notice, null);
  });

  test("a notice given at boot stays through the restore outcome unless the outcome brings its own", () => {
    const s = next(restoring(KEYCHAIN_MISSING), { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.notice.text, KEYCHAIN_MISSING);
    const t = next(restoring(KEYCHAIN_MISSING), { type: "sessionChanged", state: sessionState(null, { notice: RESTORE_FAILED }) });
    assert.equal(t.notice.text, RESTORE_FAILED);
  });

  test("a still-restoring session-changed changes nothing; one with a notice shows it", () => {
    const s = restoring();
    assert.equal(next(s, { type: "sessionChanged", state: sessionState(null, { restoring: true }) }), s);
    const t = next(s, { type: "sessionChanged", state: sessionState(null, { restoring: true, notice: KEYCHAIN_MISSING }) });
    assert.equal(t.screen, "restoring");
    assert.equal(t.notice.text, KEYCHAIN_MISSING);
  });

  test("user intents of other screens are ignored while restoring", () => {
    const s = restoring();
    for (const type of ["signInClicked", "callApiClicked", "signOutClicked", "cancelClicked", "reopenClicked", "saveClicked"]) {
      assert.equal(next(s, { type }), s, type);
    }
  });

  test("skip-restore goes to signedOut without waiting; ignored on other screens", () => {
    const s = next(restoring(), { type: "skipRestoreClicked" });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.form.clientId, settings.clientId);
    const out = signedOut();
    assert.equal(next(out, { type: "skipRestoreClicked" }), out);
    const inside = signedIn();
    assert.equal(next(inside, { type: "skipRestoreClicked" }), inside);
  });

  test("after skip-restore, a late restore outcome still applies: session → signedIn, failure → its notice", () => {
    const skipped = next(restoring(), { type: "skipRestoreClicked" });
    assert.equal(next(skipped, { type: "sessionChanged", state: sessionState(session()) }).screen, "signedIn");
    const failed = next(skipped, { type: "sessionChanged", state: sessionState(null, { notice: RESTORE_FAILED }) });
    assert.equal(failed.screen, "signedOut");
    assert.deepEqual(failed.notice, { tone: "warning", text: RESTORE_FAILED });
    assert.equal(next(skipped, { type: "sessionChanged", state: sessionState(null, { restoring: true }) }), skipped);
  });

  test("no keychain: booted not restoring with a notice shows signedOut with it until a user action replaces it", () => {
    let s = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null, { notice: KEYCHAIN_MISSING }) });
    assert.equal(s.screen, "signedOut");
    assert.deepEqual(s.notice, { tone: "warning", text: KEYCHAIN_MISSING });
    s = run(s, { type: "fieldEdited", field: "scopes", value: "openid" }, { type: "tick", now: NOW + 1000 },
      { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.notice.text, KEYCHAIN_MISSING, "typing, ticks and notice-less events keep it");
    assert.equal(next(s, { type: "signInClicked" }).notice, null, "Sign in replaces it");
  });

  test("booted with a session and a notice shows both", () => {
    const s = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session(), { notice: KEYCHAIN_MISSING }) });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.notice.text, KEYCHAIN_MISSING);
  });

  test("a boot error wins over the backend's notice", () => {
    const s = next(initialState(NOW), { type: "booted", settings: null, sessionState: sessionState(null, { notice: KEYCHAIN_MISSING }), error: { kind: "unknown", message: "store unreadable" } });
    assert.equal(s.notice.tone, "error");
    assert.match(s.notice.text, /store unreadable/);
  });

  test("a restore that finished before session() answered is not lost (event seen while loading)", () => {
    const early = next(initialState(NOW), { type: "sessionChanged", state: sessionState(session()) });
    const s = next(early, { type: "booted", settings, sessionState: sessionState(null, { restoring: true }) });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.early, null);
    const ended = next(initialState(NOW), { type: "sessionChanged", state: sessionState(null, { notice: SESSION_ENDED }) });
    const t = next(ended, { type: "booted", settings, sessionState: sessionState(null, { restoring: true }) });
    assert.equal(t.screen, "signedOut");
    assert.equal(t.notice.text, SESSION_ENDED);
  });

  test("an event seen while loading does not override a settled session() answer, but its notice is kept", () => {
    const early = next(initialState(NOW), { type: "sessionChanged", state: sessionState(null, { restoring: true }) });
    assert.equal(next(early, { type: "booted", settings, sessionState: sessionState(session()) }).screen, "signedIn");
    const failed = next(initialState(NOW), { type: "sessionChanged", state: sessionState(session(), { notice: KEYCHAIN_MISSING }) });
    const s = next(failed, { type: "booted", settings: null, sessionState: null, error: { kind: "unknown", message: "x" } });
    assert.equal(s.screen, "signedIn", "session() failed: the event is all we know");
  });
});

describe("restoring after a settings change (another instance or client)", () => {
  test("while signed in: the restoring screen, keeping the notice; then the restored session or signedOut", () => {
    const saved = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult() },
      { type: "saveClicked" }, { type: "settingsSaved", settings: { ...settings, clientId: "client_other" } });
    const s = next(saved, { type: "sessionChanged", state: sessionState(null, { restoring: true }) });
    assert.equal(s.screen, "restoring");
    assert.equal(s.session, null);
    assert.equal(s.api.status, "idle");
    assert.deepEqual(s.notice, { tone: "info", text: "Settings saved." });
    assert.equal(next(s, { type: "sessionChanged", state: sessionState(session({ subject: "user_other" })) }).screen, "signedIn");
    assert.equal(next(s, { type: "sessionChanged", state: sessionState(null) }).screen, "signedOut");
  });

  test("while signed out or signing in nothing moves: the form and a running sign-in stay", () => {
    const a = signedOut();
    const b = signingIn();
    assert.equal(next(a, { type: "sessionChanged", state: sessionState(null, { restoring: true }) }), a);
    assert.equal(next(b, { type: "sessionChanged", state: sessionState(null, { restoring: true }) }), b);
  });
});

describe("SessionState payloads", () => {
  test("toSessionState keeps the three fields and drops blank notices", () => {
    assert.deepEqual(toSessionState(sessionState(session(), { notice: "n" })), { session: session(), restoring: false, notice: "n" });
    assert.deepEqual(toSessionState({ session: null, restoring: true, notice: "  " }), { session: null, restoring: true, notice: null });
  });

  test("toSessionState accepts the older Session|null payload", () => {
    assert.deepEqual(toSessionState(session()), { session: session(), restoring: false, notice: null });
    assert.deepEqual(toSessionState(null), { session: null, restoring: false, notice: null });
    assert.deepEqual(toSessionState(undefined), { session: null, restoring: false, notice: null });
  });
});

describe("session ended by the provider (refresh refused)", () => {
  const loading = () => next(signedIn(), { type: "callApiClicked" });
  const rejected = { type: "apiFailed", error: { kind: "session_ended", message: "your session ended: the token endpoint refused the request: invalid_grant. Sign in again." } };
  const event = { type: "sessionChanged", state: sessionState(null, { notice: SESSION_ENDED }) };

  test("session-changed(null + notice) while signedIn → signedOut showing the backend's notice", () => {
    const s = next(signedIn(), event);
    assert.equal(s.screen, "signedOut");
    assert.equal(s.session, null);
    assert.deepEqual(s.notice, { tone: "warning", text: SESSION_ENDED });
  });

  test("call_api rejecting with session_ended → signedOut with the message as a sentence", () => {
    const s = next(loading(), rejected);
    assert.equal(s.screen, "signedOut");
    assert.equal(s.api.status, "idle");
    assert.deepEqual(s.notice, { tone: "warning", text: "Your session ended: the token endpoint refused the request: invalid_grant. Sign in again." });
  });

  test("rejection then event, or event then rejection: the same single signedOut state", () => {
    const a = run(loading(), rejected, event);
    const b = run(loading(), event, rejected);
    assert.deepEqual(a, b);
    assert.equal(a.screen, "signedOut");
    assert.deepEqual(a.notice, { tone: "warning", text: SESSION_ENDED });
    const settled = run(loading(), event);
    assert.equal(next(settled, rejected), settled, "the late rejection is ignored");
    assert.equal(next(settled, event), settled, "a repeated event changes nothing");
  });

  test("a session_ended rejection during our own sign-out leaves the notice to the sign-out outcome", () => {
    const s = run(loading(), { type: "signOutClicked" }, rejected);
    assert.equal(s.screen, "signedOut");
    assert.equal(s.signingOut, true);
    assert.equal(next(s, { type: "signedOut", outcome: { revoked: true, message: null } }).notice.text, "Signed out.");
  });
});

describe("call API", () => {
  test("callApiClicked → loading; a second click is ignored; only when signed in", () => {
    const s = next(signedIn(), { type: "callApiClicked" });
    assert.equal(s.api.status, "loading");
    assert.equal(next(s, { type: "callApiClicked" }), s);
    const out = signedOut();
    assert.equal(next(out, { type: "callApiClicked" }), out);
  });

  test("loading → data on a 2xx answer", () => {
    const result = apiResult();
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result });
    assert.deepEqual(s.api, { ...API_IDLE, status: "data", result });
  });

  test("a 2xx with a diagnosis keeps both data and diagnosis", () => {
    const result = apiResult({ diagnosis: "The auth object is signed out." });
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result });
    assert.equal(s.api.status, "data");
    assert.equal(s.api.diagnosis, "The auth object is signed out.");
  });

  test("loading → error on a non-2xx answer, with status, body excerpt and diagnosis", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: unauthorized() });
    assert.equal(s.api.status, "error");
    assert.equal(s.api.message, "401 Unauthorized — Unauthenticated!");
    assert.match(s.api.diagnosis, /did not accept/);
  });

  test("loading → error on a rejection (transport)", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiFailed", error: { kind: "transport", message: "connection refused" } });
    assert.deepEqual(s.api, { ...API_IDLE, status: "error", message: "connection refused", errorKind: "transport" });
  });

  test("answers that arrive when nothing is loading are ignored", () => {
    const s = signedIn();
    assert.equal(next(s, { type: "apiAnswered", result: apiResult() }), s);
    assert.equal(next(s, { type: "apiFailed", error: { message: "x" } }), s);
  });

  test("calling again after a result goes back to loading", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: unauthorized() }, { type: "callApiClicked" });
    assert.equal(s.api.status, "loading");
    assert.equal(s.api.message, null);
  });
});

describe("sign-out", () => {
  test("signOutClicked marks signingOut once", () => {
    const s = next(signedIn(), { type: "signOutClicked" });
    assert.equal(s.signingOut, true);
    assert.equal(next(s, { type: "signOutClicked" }), s);
  });

  test("a confirmed revocation says 'Signed out.'", () => {
    const s = run(signedIn(), { type: "signOutClicked" }, { type: "signedOut", outcome: { revoked: true, message: null } });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.session, null);
    assert.equal(s.signingOut, false);
    assert.deepEqual(s.notice, { tone: "info", text: "Signed out." });
  });

  test("an unconfirmed revocation warns with the backend's message", () => {
    const s = run(signedIn(), { type: "signOutClicked" }, { type: "signedOut", outcome: { revoked: false, message: "revocation endpoint unreachable" } });
    assert.deepEqual(s.notice, { tone: "warning", text: "Signed out on this computer. Revocation could not be confirmed: revocation endpoint unreachable" });
  });

  test("session-changed(null) during our own sign-out does not say 'session ended'; the outcome notice wins", () => {
    let s = run(signedIn(), { type: "signOutClicked" }, { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.notice, null);
    s = next(s, { type: "signedOut", outcome: { revoked: true, message: null } });
    assert.equal(s.notice.text, "Signed out.");
  });

  test("sign-out failure stays signed in and reports it", () => {
    const s = run(signedIn(), { type: "signOutClicked" }, { type: "signOutFailed", error: { kind: "unknown", message: "boom" } });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.signingOut, false);
    assert.match(s.notice.text, /boom/);
  });

  test("signing in again after sign-out starts clean", () => {
    const s = run(signedIn(), { type: "callApiClicked" }, { type: "apiAnswered", result: apiResult() },
      { type: "signOutClicked" }, { type: "signedOut", outcome: { revoked: true, message: null } },
      { type: "signInClicked" }, { type: "settingsSaved", settings, quiet: true }, { type: "signInStarted" },
      { type: "signInSucceeded", session: session() });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.api.status, "idle");
  });
});

test("unexpectedError surfaces as an error notice and clears saving", () => {
  const s = next(run(signedOut(), { type: "saveClicked" }), { type: "unexpectedError", error: new Error("bug") });
  assert.equal(s.saving, false);
  assert.match(s.notice.text, /bug/);
});

describe("device sign-in (RFC 8628)", () => {
  const progress = {
    stage: "device_code",
    verification_uri: "http://127.0.0.1:4010/oauth/device",
    verification_uri_complete: "http://127.0.0.1:4010/oauth/device?user_code=BCDF-GHJK",
    user_code: "BCDF-GHJK",
    expires_in: 600,
    qr: { size: 2, modules: [true, false, false, true] },
  };

  test("the code, its URL and QR matrix reach the signing-in state", () => {
    const s = run(signingIn(), { type: "signInProgress", progress });
    assert.equal(s.signIn.stage, "device_code");
    assert.equal(s.signIn.url, progress.verification_uri_complete);
    assert.deepEqual(s.signIn.device, {
      userCode: "BCDF-GHJK",
      verificationUri: progress.verification_uri,
      qr: { size: 2, modules: [true, false, false, true] },
      expiresAt: NOW + 600_000, // expires_in from when it came (the state's clock, without `at`)
    });
    // Later stages keep the code on screen.
    const later = run(s, { type: "signInProgress", progress: { stage: "exchanging" } });
    assert.equal(later.signIn.device.userCode, "BCDF-GHJK");
  });

  test("a malformed QR matrix is dropped, the code kept", () => {
    const s = run(signingIn(), { type: "signInProgress", progress: { ...progress, qr: { size: 3, modules: [true] } } });
    assert.equal(s.signIn.device.qr, null);
    assert.equal(s.signIn.device.userCode, "BCDF-GHJK");
  });

  test("copying the code reports back", () => {
    const s = run(signingIn(), { type: "signInProgress", progress }, { type: "codeCopied", ok: true });
    assert.equal(s.signIn.codeCopy, "done");
  });

  test("a declined or expired code ends on the signed-out screen with the engine's sentence", () => {
    const s = run(signingIn(), { type: "signInProgress", progress }, {
      type: "signInFailed",
      error: { kind: "denied", message: "The sign-in was declined on the device where the code was entered, so nothing was stored; start again if that was a mistake." },
    });
    assert.equal(s.screen, "signedOut");
    assert.match(s.notice.text, /declined/);
  });
});

describe("no set-up: from the API URL, and registration before a sign-in", () => {
  const onlyApi = () => run(signedOut(), { type: "fieldEdited", field: "instance", value: " " }, { type: "fieldEdited", field: "clientId", value: "" });
  const setUp = {
    ...settings, instance: "http://127.0.0.1:4000", clientId: "kh_registered", apiUrl: "http://127.0.0.1:5010/api", resource: "http://127.0.0.1:5010/api",
  };

  test("Set up from this API is offered only when the API URL alone is filled in", () => {
    assert.equal(offersSetUp(formFromSettings(settings)), false);
    assert.equal(offersSetUp(onlyApi().form), true);
    assert.equal(offersSetUp({ ...onlyApi().form, apiUrl: "  " }), false);
    assert.equal(offersSetUp({ ...onlyApi().form, clientId: "abc" }), false);
    assert.equal(needsRegistration({ ...formFromSettings(settings), clientId: " " }), true);
    assert.equal(needsRegistration(onlyApi().form), false);
    assert.equal(needsRegistration(formFromSettings(settings)), false);
  });

  test("setUpClicked is ignored unless offered and idle; it clears errors and notices", () => {
    const full = signedOut();
    assert.equal(next(full, { type: "setUpClicked" }), full);
    const s = next({ ...onlyApi(), notice: { tone: "error", text: "x" }, fieldErrors: { apiUrl: "bad" } }, { type: "setUpClicked" });
    assert.equal(s.saving, true);
    assert.equal(s.notice, null);
    assert.deepEqual(s.fieldErrors, {});
    assert.equal(next(s, { type: "setUpClicked" }), s);
  });

  test("setUpDone fills the form (resource too) and says where to sign in and that Keyhole registered", () => {
    const note = "Keyhole registered itself as a client with http://127.0.0.1:4000 (no client ID was given) and will reuse it.";
    const s = run(onlyApi(), { type: "setUpClicked" }, { type: "setUpDone", result: { settings: setUp, note }, from: "api" });
    assert.equal(s.saving, false);
    assert.equal(s.form.instance, "http://127.0.0.1:4000");
    assert.equal(s.form.clientId, "kh_registered");
    assert.equal(s.form.resource, "http://127.0.0.1:5010/api");
    assert.equal(s.settings, setUp);
    assert.equal(s.notice.tone, "info");
    assert.equal(s.notice.text, `Set up from the API: sign in at http://127.0.0.1:4000 for http://127.0.0.1:5010/api. ${note}`);
    assert.equal(offersSetUp(s.form), false);
  });

  test("after set-up and sign-in the editor holds the API URL set up from (not an empty URL)", () => {
    const blank = run(initialState(NOW), { type: "booted", settings: { ...settings, instance: "", clientId: "", apiUrl: "" }, sessionState: sessionState(null) });
    assert.equal(blank.request.url, "");
    const s = run(blank, { type: "fieldEdited", field: "apiUrl", value: setUp.apiUrl }, { type: "setUpClicked" },
      { type: "setUpDone", result: { settings: setUp, note: null }, from: "api" },
      { type: "signInClicked" }, { type: "settingsSaved", settings: setUp, quiet: true },
      { type: "signInStarted" }, { type: "signInSucceeded", session: session() });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.request.url, setUp.apiUrl);
    assert.equal(s.profiles.current, null);
  });

  test("a refused set-up is one sentence: next to its field, or as an error notice; the form keeps what was typed", () => {
    const started = run(onlyApi(), { type: "setUpClicked" });
    const field = next(started, { type: "setUpFailed", error: { kind: "invalid_setting", field: "apiUrl", message: "API URL x is not a valid URL." } });
    assert.deepEqual(field.fieldErrors, { apiUrl: "API URL x is not a valid URL." });
    assert.equal(field.saving, false);
    const message = "The API at http://127.0.0.1:5010 does not say how to sign in to it: …; give the instance and client ID instead.";
    const other = next(started, { type: "setUpFailed", error: { kind: "discovery", message } });
    assert.deepEqual(other.notice, { tone: "error", text: message });
    assert.equal(other.form.instance, " ");
    assert.equal(other.settings, started.settings, "nothing saved");
  });

  test("the registration note stays through the sign-in; a reused client says nothing", () => {
    const note = "Keyhole registered itself as a client with https://x (no client ID was given) and will reuse it.";
    const registered = run(signedOut(), { type: "signInClicked" }, { type: "setUpDone", result: { settings: setUp, note }, from: "registration" });
    assert.equal(registered.notice.text, note);
    const signing = next(registered, { type: "signInStarted" });
    assert.equal(signing.notice.text, note);
    assert.equal(next(signing, { type: "signInSucceeded", session: session() }).notice.text, note);
    const reused = run(signedOut(), { type: "signInClicked" }, { type: "setUpDone", result: { settings: setUp, note: null }, from: "registration" });
    assert.equal(reused.notice, null);
    // Other notices do not survive a sign-in.
    const failed = run(signingIn(), { type: "cancelFailed", error: { message: "x" } }, { type: "signInSucceeded", session: session() });
    assert.equal(failed.notice, null);
  });
});
