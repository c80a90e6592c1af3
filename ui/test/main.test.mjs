// Boots the real main.js against the fake DOM and a scripted fake backend, to check how
// user intents map to commands and how results come back on screen.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { byId, installDocument } from "./fake-dom.mjs";
import { KEYCHAIN_MISSING, NOW, RESTORE_FAILED, SESSION_ENDED, apiResult, clerkSession, oauthOnlyMatrix, session, sessionState, settings, shownText, unauthorized } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import { tabsSnapshot } from "../tabs.js";

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const flush = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };

let instance = 0;

/** Fresh document, fake backend and a fresh copy of main.js (query string = new module). */
async function boot({ loaded = settings, current = sessionState(null), handlers = {}, clipboard = async () => {}, tauri = true, initial = undefined, holdFrames = false } = {}) {
  const doc = installDocument();
  doc.documentElement.setAttribute("data-booting", "");
  let renders = 0;
  for (const [tag, id] of [["p", "status"], ["span", "sandbox-badge"], ["main", "app"], ["p", "about"]]) {
    const el = doc.createElement(tag);
    el.setAttribute("id", id);
    doc.body.append(el);
    if (id === "app") {
      // Each render rebuilds the screen with one replaceChildren on #app: counted.
      const replace = el.replaceChildren.bind(el);
      el.replaceChildren = (...nodes) => { renders += 1; return replace(...nodes); };
    }
  }
  const calls = [];
  const listeners = {};
  const backend = {
    load_settings: async () => loaded,
    session: async () => current,
    save_settings: async ({ settings: s }) => s,
    history: async () => [],
    profiles: async () => ({ names: [], current: null }),
    saved_requests: async () => [],
    tabs: async () => ({ tabs: [], active: 0 }),
    save_tabs: async ({ tabs }) => tabs,
    ...handlers,
  };
  const windowListeners = {};
  globalThis.window = {
    addEventListener(type, fn) { windowListeners[type] = fn; },
    __TAURI__: {
      core: {
        invoke: async (cmd, args) => {
          calls.push(args === undefined ? [cmd] : [cmd, args]);
          if (!backend[cmd]) throw { kind: "unknown", message: `no fake for ${cmd}` };
          return backend[cmd](args);
        },
      },
      event: {
        listen: async (name, cb) => {
          calls.push([`listen:${name}`]);
          listeners[name] = cb;
          return () => {};
        },
      },
    },
  };
  if (!tauri) delete globalThis.window.__TAURI__;
  if (initial !== undefined) globalThis.window.__KEYHOLE_INITIAL__ = initial;
  Object.defineProperty(globalThis, "navigator", { value: { clipboard: { writeText: clipboard } }, configurable: true, writable: true });
  // Animation frames: run at once, or (holdFrames) only when the test calls ui.paint().
  const frames = [];
  globalThis.requestAnimationFrame = holdFrames ? (cb) => frames.push(cb) : (cb) => setImmediate(cb);
  const timers = [];
  globalThis.setInterval = (fn) => { timers.push(fn); return timers.length; };
  const realNow = Date.now;
  Date.now = () => NOW;
  await import(`../main.js?instance=${++instance}`);
  await flush();
  Date.now = realNow;

  const app = doc.getElementById("app");
  return {
    paint: async () => { while (frames.length) { frames.shift()(); await flush(); } },
    renders: () => renders,
    doc, calls, backend, timers,
    $: (id) => doc.getElementById(id),
    emit: async (name, payload) => { listeners[name]({ event: name, id: 0, payload }); await flush(); },
    click: async (id) => { const el = doc.getElementById(id); assert.ok(el, `#${id} exists`); el.focus(); el.fire("click"); await flush(); },
    type: (id, value) => { const el = doc.getElementById(id); el.focus(); el.value = value; el.fire("input"); },
    state: () => doc.getElementById("status").getAttribute("data-state"),
    commands: () => calls.map(([c]) => c).filter((c) => !c.startsWith("listen:")),
    key: async (init) => {
      const event = { ctrlKey: false, metaKey: false, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...init };
      windowListeners.keydown(event);
      await flush();
      return event;
    },
    app,
  };
}

describe("boot", () => {
  test("subscribes to both events before reading settings and session, then shows signedOut", async () => {
    const ui = await boot();
    assert.deepEqual(ui.calls.slice(0, 2).map(([c]) => c), ["listen:sign-in-progress", "listen:session-changed"]);
    assert.deepEqual(ui.commands().slice(0, 2).sort(), ["load_settings", "session"]);
    assert.deepEqual(ui.commands().slice(2).sort(), ["clerk_keys", "clerk_session", "history", "profiles", "saved_requests", "tabs", "variables"]);
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("instance").value, settings.instance);
    assert.equal(ui.timers.length, 1, "one countdown timer");
  });

  test("a restored session boots signedIn; the sandbox flag shows the badge", async () => {
    const ui = await boot({ loaded: { ...settings, sandbox: true }, current: sessionState(session()) });
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("subject").textContent, "user_2abc");
    assert.equal(ui.$("sandbox-badge").hidden, false);
  });

  test("without a backend it still renders signedOut with an error notice", async () => {
    const ui = await boot({ tauri: false });
    assert.equal(ui.state(), "signedOut");
    assert.match(ui.$("notice").textContent, /only works inside the app/);
    assert.ok(ui.$("sign-in"));
  });
});

describe("first frame from the shell's initial state (__KEYHOLE_INITIAL__)", () => {
  const about = { version: "0.1.0", commit: "0123456789" };
  const never = () => new Promise(() => {});

  test("the first render is the final screen: only the Clerk session is asked before it, load_settings never", async () => {
    const ui = await boot({
      initial: { settings: { ...settings, sandbox: true }, session: sessionState(null), about },
      handlers: { session: never, load_settings: never },
      holdFrames: true,
    });
    assert.equal(ui.state(), "signedOut", "rendered while session() has not answered");
    assert.equal(ui.$("instance").value, settings.instance);
    assert.equal(ui.$("sandbox-badge").hidden, false);
    assert.equal(ui.$("about").textContent, "Keyhole 0.1.0 · commit 0123456789");
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), false, "the page is shown");
    assert.deepEqual(ui.calls, [["clerk_session"]], "no restore runs: only the Clerk session is read before the first frame");
    await ui.paint();
    assert.deepEqual(ui.commands(), ["clerk_session", "session"], "asked once it listens, for what changed since");
    assert.deepEqual(ui.calls.slice(1, 3).map(([c]) => c), ["listen:sign-in-progress", "listen:session-changed"]);
  });

  test("a restore that ends as the page loads is never shown: the first frame is signed in, with the Clerk session", async () => {
    const ui = await boot({
      initial: { settings, session: sessionState(null, { restoring: true }), about },
      handlers: {
        session: async (args) => (args?.settleMs > 0 ? sessionState(session(), { restoring: false }) : never()),
        clerk_session: async () => clerkSession(),
      },
      holdFrames: true,
    });
    assert.deepEqual(ui.calls.map(([c]) => c).sort(), ["clerk_session", "session"]);
    assert.equal(ui.calls.find(([c]) => c === "session")[1].settleMs, 1000, "the shell is asked to wait for the restore's end");
    assert.equal(ui.state(), "signedIn", "the first frame, not painted yet");
    assert.equal(ui.$("subject").textContent, "user_2abc");
    assert.equal(ui.$("clerk-session").getAttribute("data-held"), "true", "the Clerk session is in the first frame too");
    assert.equal(ui.$("restore-stage"), null);
  });

  test("with the restore ended and the Clerk session read at launch in the snapshot, nothing is asked before the first frame", async () => {
    const ui = await boot({
      initial: { settings, session: sessionState(session(), { restoring: false }), clerk: { session: clerkSession() }, about },
      handlers: { session: never, clerk_session: never },
      holdFrames: true,
    });
    assert.deepEqual(ui.calls, [], "no command before the first frame");
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("clerk-session").getAttribute("data-held"), "true", "the Clerk session is in the first frame");
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), false, "the page is shown");
  });

  test("the session, the Clerk session and the tabs kept from the last run make one first render, not one each", async () => {
    const before = (events) => events.reduce(next, initialState(NOW));
    const s = before([
      { type: "booted", settings, sessionState: sessionState(session()) },
      { type: "requestEdited", part: "url", value: "http://x/kept" },
    ]);
    const ui = await boot({
      initial: { settings, session: sessionState(session(), { restoring: false }), clerk: { session: clerkSession() }, tabs: tabsSnapshot(s, "oauth"), about },
      handlers: { session: never, clerk_session: never },
      holdFrames: true,
    });
    assert.equal(ui.renders(), 1, "one render before the first frame");
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("clerk-session").getAttribute("data-held"), "true", "the Clerk session is in it");
    assert.equal(ui.$("request-url").value, "http://x/kept", "and the tab kept from the last run");
    assert.equal(ui.doc.activeElement, ui.$("request-url"), "the restored tab's URL has the focus, as before");
  });

  test("a launch read that found no Clerk session is used as such: the first frame is signed out, nothing asked", async () => {
    const ui = await boot({
      initial: { settings, session: sessionState(null), clerk: { session: null }, about },
      handlers: { session: never, clerk_session: never },
      holdFrames: true,
    });
    assert.deepEqual(ui.calls, []);
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), false);
  });

  test("a restore still running waits for its end even when the Clerk session is in the snapshot", async () => {
    const ui = await boot({
      initial: { settings, session: sessionState(null, { restoring: true }), clerk: { session: null }, about },
      handlers: { session: async (args) => (args?.settleMs > 0 ? sessionState(session(), { restoring: false }) : never()), clerk_session: never },
      holdFrames: true,
    });
    assert.deepEqual(ui.calls.map(([c]) => c), ["session"], "only the restore's end is asked");
    assert.equal(ui.state(), "signedIn");
  });

  test("a restore still running after the wait shows the restoring screen; session() then brings its end and the notice", async () => {
    const answer = deferred();
    const ui = await boot({
      initial: { settings, session: sessionState(null, { restoring: true }), about },
      handlers: { session: () => answer.promise },
    });
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), true, "not shown while it waits");
    await new Promise((r) => setTimeout(r, 1100));
    await flush();
    assert.equal(ui.state(), "restoring");
    assert.equal(ui.$("restore-stage").textContent, "Restoring your session…");
    answer.resolve(sessionState(null, { restoring: false, notice: RESTORE_FAILED }));
    await flush();
    assert.equal(ui.state(), "signedOut");
    assert.match(ui.$("notice").textContent, /Could not restore/);
  });

  test("a malformed initial state falls back to asking the backend", async () => {
    const ui = await boot({ initial: { about } });
    // History, profiles, saved requests and the Clerk session are read after the first frame in any case.
    assert.deepEqual(ui.commands().sort(), ["clerk_keys", "clerk_session", "history", "load_settings", "profiles", "saved_requests", "session", "tabs", "variables"]);
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("about").textContent, "");
  });
});

describe("sign-in", () => {
  test("Sign in saves the typed settings first, then calls sign_in, follows progress, and lands signedIn", async () => {
    const pending = deferred();
    const ui = await boot({ handlers: { sign_in: () => pending.promise } });
    ui.type("redirect-port", "8765");
    ui.type("scopes", "openid email");
    await ui.click("sign-in");
    assert.deepEqual(ui.calls.find(([c]) => c === "save_settings")[1], {
      settings: { ...settings, scopes: "openid email", redirectPort: 8765 },
    });
    assert.deepEqual(ui.commands().slice(-2), ["save_settings", "sign_in"]);
    assert.equal(ui.state(), "signingIn");
    assert.equal(ui.doc.activeElement.id, "screen-title", "focus lands on the new screen's heading");

    await ui.emit("sign-in-progress", { stage: "waiting", url: "https://x/authorize?a=1" });
    assert.equal(ui.$("sign-in-url").value, "https://x/authorize?a=1");

    pending.resolve(session());
    await ui.emit("session-changed", sessionState(session()));
    await flush();
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("subject").textContent, "user_2abc");
  });

  test("an invalid_setting from save_settings shows next to the field, keeps typing, focuses it, and does not sign in", async () => {
    const ui = await boot({
      handlers: { save_settings: async () => { throw { kind: "invalid_setting", field: "apiUrl", message: "API URL must start with http:// or https://" }; } },
    });
    ui.type("api-url", "ftp://nope");
    await ui.click("sign-in");
    assert.equal(ui.$("error-apiUrl").textContent, "API URL must start with http:// or https://");
    assert.equal(ui.$("api-url").value, "ftp://nope");
    assert.equal(ui.$("api-url").getAttribute("aria-invalid"), "true");
    assert.equal(ui.doc.activeElement.id, "api-url");
    assert.ok(!ui.commands().includes("sign_in"));
    assert.equal(ui.state(), "signedOut");
  });

  test("a non-numeric port is caught before any command runs", async () => {
    const ui = await boot();
    ui.type("redirect-port", "eighty");
    ui.$("settings-form").fire("submit"); // the fake DOM has no implicit submit on click
    await flush();
    assert.ok(!ui.commands().includes("save_settings"));
    assert.match(ui.$("error-redirectPort").textContent, /0 to 65535/);
  });

  test("Cancel calls cancel_sign_in; the cancelled rejection returns to signedOut with a quiet note", async () => {
    const pending = deferred();
    const ui = await boot({ handlers: { sign_in: () => pending.promise, cancel_sign_in: async () => { pending.reject({ kind: "cancelled", message: "cancelled" }); } } });
    await ui.click("sign-in");
    await ui.click("cancel-sign-in");
    assert.ok(ui.commands().includes("cancel_sign_in"));
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, "Sign-in cancelled.");
  });

  test("Open the browser again calls open_browser_again and shows its failure", async () => {
    const ui = await boot({
      handlers: { sign_in: () => new Promise(() => {}), open_browser_again: async () => { throw { kind: "browser", message: "no browser found" }; } },
    });
    await ui.click("sign-in");
    await ui.click("open-browser-again");
    assert.ok(ui.commands().includes("open_browser_again"));
    assert.match(ui.$("browser-error").textContent, /no browser found/);
    assert.equal(ui.doc.activeElement.id, "open-browser-again", "focus stays on the button across re-render");
  });

  test("Copy falls back to selecting the URL when the clipboard refuses", async () => {
    const ui = await boot({ handlers: { sign_in: () => new Promise(() => {}) }, clipboard: async () => { throw new Error("denied"); } });
    await ui.click("sign-in");
    await ui.emit("sign-in-progress", { stage: "waiting", url: "https://x/authorize" });
    await ui.click("copy-sign-in-url");
    assert.match(ui.$("copy-feedback").textContent, /Could not copy/);
    assert.equal(ui.$("sign-in-url").selected, true);
  });

  test("a provider failure shows the error on the signed-out screen", async () => {
    const ui = await boot({ handlers: { sign_in: async () => { throw { kind: "provider", message: "access_denied" }; } } });
    await ui.click("sign-in");
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, "You did not allow access in the browser. Sign in again and choose Allow to continue.");
  });
});

describe("signed in", () => {
  test("Call API shows Loading…, then the data; a second click while loading sends nothing", async () => {
    const pending = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: () => pending.promise } });
    await ui.click("call-api");
    await ui.click("call-api");
    assert.equal(ui.commands().filter((c) => c === "send_request").length, 1);
    assert.deepEqual(ui.calls.find(([c]) => c === "send_request")[1].request, {
      method: "GET", url: settings.apiUrl, query: [], headers: [], body: { kind: "none" }, sendToken: true, tokenType: "oauth", timeoutSecs: 30,
    });
    assert.equal(ui.$("api-result").getAttribute("data-result"), "loading");
    assert.match(ui.$("api-result").textContent, /^Loading… 0 s/);
    pending.resolve(apiResult());
    await flush();
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("api-data").textContent, shownText(JSON.stringify(apiResult().body.value, null, 2)));
  });

  test("a 401 shows Error: … and the diagnosis", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: async () => unauthorized() } });
    await ui.click("call-api");
    assert.equal(ui.$("api-error").textContent, "Error: 401 Unauthorized — Unauthenticated!");
    assert.ok(ui.$("diagnosis"));
  });

  test("Sign out shows the revocation warning", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { sign_out: async () => ({ revoked: false, message: "endpoint unreachable" }) } });
    await ui.click("sign-out");
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, "Signed out on this computer. Revocation could not be confirmed: endpoint unreachable");
  });

  test("the timer tick only rewrites the countdown (nodes survive, so selection does too)", async () => {
    const ui = await boot({ current: sessionState(session()) });
    const subject = ui.$("subject");
    Date.now = () => NOW + 90_000;
    ui.timers[0]();
    Date.now = () => new Date().getTime();
    assert.equal(ui.$("expires-in").textContent, "expires in 58 min 30 s");
    assert.equal(ui.$("subject"), subject);
  });

  test("focus and caret survive a re-render caused by a backend event", async () => {
    const ui = await boot({ current: sessionState(session()) });
    ui.type("scopes", "openid profile");
    ui.$("scopes").setSelectionRange(3, 3);
    await ui.emit("session-changed", sessionState(session({ expiresAt: NOW / 1000 + 7200 })));
    assert.equal(ui.doc.activeElement.id, "scopes");
    assert.equal(ui.$("scopes").value, "openid profile", "typed value kept in state");
    assert.equal(ui.$("scopes").selectionStart, 3);
  });

  test("session-changed(null) signs the window out", async () => {
    const ui = await boot({ current: sessionState(session()) });
    await ui.emit("session-changed", sessionState(null));
    assert.equal(ui.state(), "signedOut");
  });
});

describe("restoring a stored session at launch", () => {
  const restoring = (notice = null) => sessionState(null, { restoring: true, notice });

  test("boot while restoring shows the restoring screen; the restore result lands signedIn with focus where a cold start puts it", async () => {
    const ui = await boot({ current: restoring() });
    assert.equal(ui.state(), "restoring");
    assert.equal(ui.$("status").textContent, "Restoring your session…");
    assert.equal(ui.$("restore-stage").textContent, "Restoring your session…");
    assert.ok(ui.$("skip-restore"));
    assert.equal(ui.$("notice"), null);
    await ui.emit("session-changed", sessionState(session({ refreshable: true })));
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("subject").textContent, "user_2abc");
    assert.equal(ui.$("renewal").textContent, "renews automatically");
    // The restore ended by itself: as at a cold start, on the first field to type in.
    assert.equal(ui.doc.activeElement.id, "request-url");
  });

  test("a restore that ends signed out puts the focus on the first field, as at a cold start", async () => {
    const ui = await boot({ current: restoring() });
    await ui.emit("session-changed", sessionState(null));
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.doc.activeElement.id, "instance");
  });

  test("a failed restore lands signedOut with the backend's notice", async () => {
    const ui = await boot({ current: restoring() });
    await ui.emit("session-changed", sessionState(null, { notice: SESSION_ENDED }));
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, SESSION_ENDED);
    assert.ok(ui.$("notice").classList.contains("notice-warning"));
    assert.ok(ui.$("sign-in"));
  });

  test("no keychain: boot not restoring, with a notice → signedOut showing #notice", async () => {
    const ui = await boot({ current: sessionState(null, { notice: KEYCHAIN_MISSING }) });
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, KEYCHAIN_MISSING);
  });

  test("Sign in again leaves the restoring screen without calling the backend; a late failure notice still shows", async () => {
    const ui = await boot({ current: restoring() });
    const before = ui.commands().length;
    await ui.click("skip-restore");
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.commands().length, before, "no command");
    assert.equal(ui.$("instance").value, settings.instance);
    assert.equal(ui.doc.activeElement.id, "screen-title");
    await ui.emit("session-changed", sessionState(null, { notice: RESTORE_FAILED }));
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, RESTORE_FAILED);
  });

  test("if the skipped restore succeeds while Sign in is saving the settings, no sign-in starts", async () => {
    const saving = deferred();
    const ui = await boot({ current: restoring(), handlers: { save_settings: () => saving.promise, sign_in: () => new Promise(() => {}) } });
    await ui.click("skip-restore");
    await ui.click("sign-in");
    await ui.emit("session-changed", sessionState(session()));
    saving.resolve(settings);
    await flush();
    assert.equal(ui.state(), "signedIn");
    assert.ok(!ui.commands().includes("sign_in"));
  });

  test("a settings change that starts a restore while Sign in saves does not stop the sign-in", async () => {
    let ui;
    ui = await boot({
      handlers: {
        save_settings: async ({ settings: s }) => { await ui.emit("session-changed", sessionState(null, { restoring: true })); return s; },
        sign_in: () => new Promise(() => {}),
      },
    });
    ui.type("client-id", "client_other");
    await ui.click("sign-in");
    assert.equal(ui.state(), "signingIn");
    assert.ok(ui.commands().includes("sign_in"));
  });

  test("a restore that finishes before session() answers is not lost", async () => {
    const answer = deferred();
    const ui = await boot({ handlers: { session: () => answer.promise } });
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), true, "hidden until the commands answer");
    await ui.emit("session-changed", sessionState(session()));
    answer.resolve(restoring());
    await flush();
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), false);
  });

  test("an older backend's payloads (Session|null) still work", async () => {
    const ui = await boot({ current: session() });
    assert.equal(ui.state(), "signedIn");
    await ui.emit("session-changed", null);
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, "Your session ended.");
  });
});

describe("refresh and the provider ending the session", () => {
  test("a refresh while signed in updates the expiry in place and keeps the API result on screen", async () => {
    const ui = await boot({ current: sessionState(session({ refreshable: true })), handlers: { send_request: async () => apiResult() } });
    await ui.click("call-api");
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("expires-in").textContent, "expires in 1 h 0 min");
    await ui.emit("session-changed", sessionState(session({ refreshable: true, expiresAt: NOW / 1000 + 7200 })));
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("expires-in").textContent, "expires in 2 h 0 min");
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("api-data").textContent, shownText(JSON.stringify(apiResult().body.value, null, 2)));
    assert.equal(ui.doc.activeElement.id, "call-api", "focus stays put");
  });

  test("session-changed(null + notice) while signed in → signedOut with the notice", async () => {
    const ui = await boot({ current: sessionState(session()) });
    await ui.emit("session-changed", sessionState(null, { notice: SESSION_ENDED }));
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, SESSION_ENDED);
    assert.equal(ui.$("call-api"), null);
  });

  const rejection = { kind: "session_ended", message: "your session ended: the token endpoint refused the request: invalid_grant. Sign in again." };

  test("send_request rejects session_ended, then session-changed arrives: one signedOut with the backend's notice", async () => {
    const call = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: () => call.promise } });
    await ui.click("call-api");
    call.reject(rejection);
    await flush();
    assert.equal(ui.state(), "signedOut");
    assert.match(ui.$("notice").textContent, /^Your session ended: the token endpoint refused/);
    await ui.emit("session-changed", sessionState(null, { notice: SESSION_ENDED }));
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.app.querySelectorAll("[id]").filter((e) => e.id === "notice").length, 1);
    assert.equal(ui.$("notice").textContent, SESSION_ENDED);
  });

  test("the backend's real wording (the error text, in both the rejection and the notice) shows once, capitalized, with no re-render", async () => {
    const call = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: () => call.promise } });
    await ui.click("call-api");
    call.reject(rejection);
    await flush();
    const screen = ui.app.children[0];
    await ui.emit("session-changed", sessionState(null, { notice: rejection.message }));
    assert.equal(ui.app.children[0], screen, "no re-render");
    assert.equal(ui.$("notice").textContent, "Your session ended: the token endpoint refused the request: invalid_grant. Sign in again.");
  });

  test("session-changed arrives first, then send_request rejects session_ended: the rejection changes nothing", async () => {
    const call = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: () => call.promise } });
    await ui.click("call-api");
    await ui.emit("session-changed", sessionState(null, { notice: SESSION_ENDED }));
    const screen = ui.app.children[0];
    call.reject(rejection);
    await flush();
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, SESSION_ENDED);
    assert.equal(ui.app.children[0], screen, "no re-render");
  });
});

describe("the request explorer's commands and keys", () => {
  test("Esc cancels the request in flight through cancel_request; the answer says cancelled", async () => {
    const pending = deferred();
    const ui = await boot({
      current: sessionState(session()),
      handlers: { send_request: () => pending.promise, cancel_request: async () => { pending.reject({ kind: "cancelled", message: "the call was cancelled" }); } },
    });
    await ui.click("call-api");
    assert.equal(ui.$("api-result").getAttribute("data-result"), "loading");
    const esc = await ui.key({ key: "Escape" });
    assert.ok(esc.defaultPrevented);
    assert.ok(ui.commands().includes("cancel_request"));
    assert.equal(ui.$("api-result").getAttribute("data-error-kind"), "cancelled");
    assert.ok(ui.commands().filter((c) => c === "history").length >= 2, "the history is read again after a send");
  });

  test("Ctrl+L focuses the URL; Ctrl+Enter sends", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: async () => apiResult() } });
    const l = await ui.key({ key: "l", ctrlKey: true });
    assert.ok(l.defaultPrevented);
    assert.equal(ui.doc.activeElement.id, "request-url");
    await ui.key({ key: "Enter", metaKey: true });
    assert.ok(ui.commands().includes("send_request"));
  });

  test("Copy as curl sends the draft and the literal choice to copy_curl and shows the command", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { copy_curl: async ({ literalToken }) => ({ command: literalToken ? "curl <access token>" : "curl $(keyhole-cli token)", literalToken }) } });
    await ui.click("copy-curl");
    const [, args] = ui.calls.find(([c]) => c === "copy_curl");
    assert.equal(args.literalToken, false);
    assert.equal(args.request.url, settings.apiUrl);
    assert.equal(ui.$("curl-command").textContent, "curl $(keyhole-cli token)");
  });

  test("switching profile calls switch_profile and re-reads the profiles", async () => {
    const ui = await boot({
      handlers: {
        profiles: async () => ({ names: ["a"], current: null }),
        switch_profile: async ({ name }) => ({ ...settings, apiUrl: "http://a/", profile: name }),
      },
    });
    ui.$("profile-select").fire("change", { target: { value: "a" } });
    await flush();
    assert.deepEqual(ui.calls.find(([c]) => c === "switch_profile")[1], { name: "a" });
    assert.equal(ui.$("api-url").value, "http://a/");
  });
});

describe("saved requests", () => {
  const list = [{ name: "echo post", method: "POST", url: "http://x/echo", body: { kind: "json", text: "{}" } }];

  test("Save request sends the name and the draft to save_request; opening one fills the editor; Delete calls delete_saved_request", async () => {
    const ui = await boot({
      current: sessionState(session()),
      handlers: {
        profiles: async () => ({ names: ["a"], current: "a" }),
        save_request: async () => list,
        delete_saved_request: async () => [],
      },
    });
    assert.ok(ui.commands().includes("saved_requests"), "read at boot");
    ui.type("saved-name", " echo post ");
    await ui.click("save-request");
    const [, args] = ui.calls.find(([c]) => c === "save_request");
    assert.equal(args.name, "echo post");
    assert.equal(args.request.url, settings.apiUrl);
    assert.equal("name" in args.request, false);
    await ui.click("saved-0");
    assert.equal(ui.$("request-url").value, "http://x/echo");
    assert.equal(ui.doc.activeElement.id, "request-url");
    await ui.click("saved-0-delete");
    assert.deepEqual(ui.calls.find(([c]) => c === "delete_saved_request")[1], { name: "echo post" });
    assert.equal(ui.$("saved-0"), null);
  });

  test("switching profile reads that profile's saved requests", async () => {
    const ui = await boot({
      handlers: {
        profiles: async () => ({ names: ["a"], current: null }),
        switch_profile: async ({ name }) => ({ ...settings, profile: name }),
      },
    });
    const before = ui.commands().filter((c) => c === "saved_requests").length;
    ui.$("profile-select").fire("change", { target: { value: "a" } });
    await flush();
    assert.equal(ui.commands().filter((c) => c === "saved_requests").length, before + 1);
  });
});

describe("no set-up", () => {
  const filled = {
    ...settings, instance: "http://127.0.0.1:4000", clientId: "kh_registered", apiUrl: "http://127.0.0.1:5010/api", resource: "http://127.0.0.1:5010/api",
  };
  const note = "Keyhole registered itself as a client with http://127.0.0.1:4000 (no client ID was given) and will reuse it.";

  test("clearing instance and client ID offers Set up from this API; it fills and saves the settings", async () => {
    const ui = await boot({ handlers: { set_up_from_api: async () => ({ settings: filled, note }) } });
    assert.ok(ui.$("set-up-from-api").hasAttribute("hidden"), "not offered with full settings");
    ui.type("instance", "");
    ui.type("client-id", "");
    ui.type("api-url", "http://127.0.0.1:5010/api");
    assert.ok(!ui.$("set-up-from-api").hasAttribute("hidden"), "offered while typing, without a re-render");
    await ui.click("set-up-from-api");
    assert.deepEqual(ui.calls.find(([c]) => c === "set_up_from_api")[1], {
      settings: { ...settings, instance: "", clientId: "", apiUrl: "http://127.0.0.1:5010/api" },
    });
    assert.equal(ui.$("instance").value, "http://127.0.0.1:4000");
    assert.equal(ui.$("client-id").value, "kh_registered");
    assert.equal(ui.$("resource").value, "http://127.0.0.1:5010/api");
    assert.match(ui.$("notice").textContent, /^Set up from the API: sign in at http:\/\/127\.0\.0\.1:4000 .*registered itself/);
    assert.ok(ui.$("set-up-from-api").hasAttribute("hidden"));
    assert.ok(!ui.commands().includes("save_settings") && !ui.commands().includes("sign_in"));
    assert.equal(ui.state(), "signedOut");
  });

  test("a refused set-up shows its one sentence and keeps the form", async () => {
    const message = "The API at http://127.0.0.1:5010 does not say how to sign in to it; give the instance and client ID instead.";
    const ui = await boot({ handlers: { set_up_from_api: async () => { throw { kind: "discovery", message }; } } });
    ui.type("instance", "");
    ui.type("client-id", "");
    await ui.click("set-up-from-api");
    assert.equal(ui.$("notice").textContent, message);
    assert.equal(ui.$("instance").value, "");
    assert.ok(!ui.$("set-up-from-api").hasAttribute("hidden"), "still offered");
  });

  test("Sign in with an instance but no client ID registers first, says so, then signs in", async () => {
    const pending = deferred();
    const ui = await boot({ handlers: { register_client: async () => ({ settings: filled, note }), sign_in: () => pending.promise } });
    ui.type("client-id", "");
    await ui.click("sign-in");
    assert.deepEqual(ui.commands().slice(-2), ["register_client", "sign_in"]);
    assert.equal(ui.calls.find(([c]) => c === "register_client")[1].settings.clientId, "");
    assert.equal(ui.state(), "signingIn");
    assert.equal(ui.$("notice").textContent, note);
    pending.resolve(session());
    await flush();
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("notice").textContent, note);
  });

  test("a provider without registration: the client ID field says what to do and no sign-in starts", async () => {
    const message = "The provider at https://x does not let apps register themselves and no client ID was given; create an OAuth application in its dashboard (or turn on dynamic client registration) and give its client ID.";
    const ui = await boot({ handlers: { register_client: async () => { throw { kind: "invalid_setting", field: "clientId", message }; } } });
    ui.type("client-id", "");
    await ui.click("sign-in-device");
    assert.equal(ui.$("error-clientId").textContent, message);
    assert.equal(ui.doc.activeElement.id, "client-id");
    assert.ok(!ui.commands().includes("sign_in"));
    assert.equal(ui.state(), "signedOut");
  });
});

describe("session tokens", () => {
  test("Sign in with Clerk (session token) saves the form (no registration), signs in with method clerk, shows the Clerk card", async () => {
    const pending = deferred();
    const ui = await boot({ loaded: { ...settings, clientId: "" }, handlers: { sign_in: () => pending.promise } });
    await ui.click("sign-in-clerk");
    assert.deepEqual(ui.commands().slice(-2), ["save_settings", "sign_in"]);
    assert.deepEqual(ui.calls.at(-1), ["sign_in", { method: "clerk" }]);
    assert.equal(ui.state(), "signingIn");
    await ui.emit("sign-in-progress", { stage: "waiting", url: "https://x/oauth/authorize" });
    assert.ok(ui.$("cancel-sign-in"));
    pending.resolve(clerkSession());
    await flush();
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("clerk-session-id").textContent, "sess_2abc");
    assert.equal(ui.$("token-type").children.find((o) => o.hasAttribute("selected")).value, "session");
  });

  test("a Clerk session kept from an earlier run opens the explorer; Send carries tokenType session", async () => {
    const ui = await boot({ handlers: { clerk_session: async () => clerkSession(), send_request: async () => apiResult() } });
    assert.equal(ui.state(), "signedIn");
    await ui.click("call-api");
    assert.equal(ui.calls.find(([c]) => c === "send_request")[1].request.tokenType, "session");
    assert.ok(ui.commands().filter((c) => c === "clerk_session").length >= 2, "re-read after a mint");
  });

  test("Try every token type sends the editor's request and renders the matrix; Esc cancels it", async () => {
    const pending = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { clerk_session: async () => clerkSession(), try_every_token_type: () => pending.promise, cancel_request: async () => null } });
    await ui.click("try-every-token-type");
    assert.equal(ui.calls.find(([c]) => c === "try_every_token_type")[1].request.url, settings.apiUrl);
    assert.equal(ui.$("matrix-result").getAttribute("data-result"), "loading");
    const esc = await ui.key({ key: "Escape" });
    assert.equal(esc.defaultPrevented, true);
    assert.ok(ui.commands().includes("cancel_request"));
    pending.resolve(oauthOnlyMatrix());
    await flush();
    assert.equal(ui.$("matrix-oauth").getAttribute("data-signed-in"), "true");
    assert.equal(ui.$("matrix-session").getAttribute("data-signed-in"), "false");
  });

  test("Sign out ends both: back to the form", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { clerk_session: async () => clerkSession(), sign_out: async () => ({ revoked: true, message: null }) } });
    assert.ok(ui.$("clerk-session-id"));
    await ui.click("sign-out");
    assert.equal(ui.state(), "signedOut");
  });
});

describe("the Clerk keys panel's commands", () => {
  const NONE = { secretKey: null, apiKey: null, machineKey: null };

  test("Save sends what was typed to save_clerk_key; the masked view shows and the input is empty; Forget calls forget_clerk_key", async () => {
    let kept = NONE;
    const ui = await boot({
      current: sessionState(session()),
      handlers: {
        clerk_keys: async () => kept,
        save_clerk_key: async ({ kind, value }) => {
          if (!value.startsWith("sk_")) throw { kind: "invalid_setting", field: kind, message: "Not a secret key (sk_test_… or sk_live_…)." };
          kept = { ...kept, [kind]: "sk_test_…ABCD" };
          return kept;
        },
        forget_clerk_key: async ({ kind }) => { kept = { ...kept, [kind]: null }; return kept; },
      },
    });
    assert.ok(ui.commands().includes("clerk_keys"), "read at boot");
    ui.type("key-secret-key", "pk_test_wrong");
    await ui.click("save-key-secret-key");
    assert.equal(ui.$("error-key-secret-key").textContent, "Not a secret key (sk_test_… or sk_live_…).");
    ui.type("key-secret-key", "sk_test_0123456789abcdefABCD");
    await ui.click("save-key-secret-key");
    assert.deepEqual(ui.calls.filter(([c]) => c === "save_clerk_key").at(-1), ["save_clerk_key", { kind: "secretKey", value: "sk_test_0123456789abcdefABCD" }]);
    assert.equal(ui.$("kept-secret-key").textContent, "sk_test_…ABCD");
    assert.equal(ui.$("key-secret-key").value, "");
    assert.equal(ui.$("error-key-secret-key"), null);
    assert.doesNotMatch(ui.app.textContent, /0123456789abcdef/);
    await ui.click("forget-key-secret-key");
    assert.deepEqual(ui.calls.at(-1), ["forget_clerk_key", { kind: "secretKey" }]);
    assert.equal(ui.$("kept-secret-key").textContent, "None kept.");
  });

  test("Act as user from the sign-in form calls start_test_session and opens the explorer with the banner", async () => {
    const ui = await boot({
      handlers: {
        clerk_keys: async () => ({ ...NONE, secretKey: "sk_test_…ABCD" }),
        start_test_session: async ({ userId }) => clerkSession({ subject: userId, sessionId: "sess_test", impersonated: true }),
      },
    });
    assert.equal(ui.state(), "signedOut");
    ui.type("act-as-user", "user_2abcdefghijklmnopqrstuvwxyz");
    await ui.click("start-test-session");
    assert.deepEqual(ui.calls.at(-1), ["start_test_session", { userId: "user_2abcdefghijklmnopqrstuvwxyz", allowProduction: false }]);
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("impersonated-banner").textContent, "Impersonated test session — made with the secret key, not the user's own sign-in");
    assert.equal(ui.$("token-type").children.find((o) => o.hasAttribute("selected")).value, "session");
  });

  test("Create API key calls create_api_key, then re-reads the keys: API key is held in the selector", async () => {
    let kept = { ...NONE, secretKey: "sk_test_…ABCD" };
    const ui = await boot({
      current: sessionState(session()),
      handlers: {
        clerk_keys: async () => kept,
        create_api_key: async () => { kept = { ...kept, apiKey: "ak_…wxyz" }; return "ak_…wxyz"; },
        send_request: async () => apiResult(),
      },
    });
    assert.equal(ui.$("token-type").children.find((o) => o.value === "api-key").textContent, "API key (not held)");
    ui.type("api-key-for", "user_2x");
    await ui.click("create-api-key");
    assert.ok(ui.calls.some(([c, a]) => c === "create_api_key" && a.subject === "user_2x"));
    assert.match(ui.$("created-api-key").textContent, /ak_…wxyz/);
    assert.equal(ui.$("kept-api-key").textContent, "ak_…wxyz");
    const select = ui.$("token-type");
    assert.equal(select.children.find((o) => o.value === "api-key").textContent, "API key");
    select.fire("change", { target: { value: "api-key" } });
    await flush();
    await ui.click("call-api");
    assert.equal(ui.calls.find(([c]) => c === "send_request")[1].request.tokenType, "api-key");
  });
});

describe("tabs (issue 17)", () => {
  test("Ctrl+T, Ctrl+PageUp and Ctrl+W drive the tabs; the tabs are saved on the next tick, with no answer body", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { send_request: async () => apiResult({ answerId: 7 }), drop_answer: async () => null } });
    await ui.click("call-api");
    const t = await ui.key({ key: "t", ctrlKey: true });
    assert.equal(t.defaultPrevented, true);
    assert.equal(ui.app.querySelectorAll("[role]").filter((el) => el.getAttribute("role") === "tab").length, 2);
    await ui.key({ key: "PageUp", ctrlKey: true });
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data", "the first tab's answer");
    ui.timers[0]();
    await flush();
    const saved = ui.calls.filter(([c]) => c === "save_tabs").at(-1)[1].tabs;
    assert.equal(saved.tabs.length, 2);
    assert.equal(saved.active, 0);
    assert.equal(saved.tabs[0].status, "200 OK · 35 ms");
    assert.ok(!JSON.stringify(saved).includes("userId"), "no body");
    await ui.key({ key: "w", ctrlKey: true });
    assert.equal(ui.app.querySelectorAll("[role]").filter((el) => el.getAttribute("role") === "tab").length, 1);
  });
});
