// Boots the real main.js against the fake DOM and a scripted fake backend, to check how
// user intents map to commands and how results come back on screen.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { byId, installDocument } from "./fake-dom.mjs";
import { KEYCHAIN_MISSING, NOW, RESTORE_FAILED, SESSION_ENDED, apiResult, session, sessionState, settings, unauthorized } from "./fixtures.mjs";

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const flush = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };

let instance = 0;

/** Fresh document, fake backend and a fresh copy of main.js (query string = new module). */
async function boot({ loaded = settings, current = sessionState(null), handlers = {}, clipboard = async () => {}, tauri = true, initial = undefined } = {}) {
  const doc = installDocument();
  doc.documentElement.setAttribute("data-booting", "");
  for (const [tag, id] of [["p", "status"], ["span", "sandbox-badge"], ["main", "app"], ["p", "about"]]) {
    const el = doc.createElement(tag);
    el.setAttribute("id", id);
    doc.body.append(el);
  }
  const calls = [];
  const listeners = {};
  const backend = {
    load_settings: async () => loaded,
    session: async () => current,
    save_settings: async ({ settings: s }) => s,
    ...handlers,
  };
  globalThis.window = {
    addEventListener() {},
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
  const timers = [];
  globalThis.setInterval = (fn) => { timers.push(fn); return timers.length; };
  const realNow = Date.now;
  Date.now = () => NOW;
  await import(`../main.js?instance=${++instance}`);
  await flush();
  Date.now = realNow;

  const app = doc.getElementById("app");
  return {
    doc, calls, backend, timers,
    $: (id) => doc.getElementById(id),
    emit: async (name, payload) => { listeners[name]({ event: name, id: 0, payload }); await flush(); },
    click: async (id) => { const el = doc.getElementById(id); assert.ok(el, `#${id} exists`); el.focus(); el.fire("click"); await flush(); },
    type: (id, value) => { const el = doc.getElementById(id); el.focus(); el.value = value; el.fire("input"); },
    state: () => doc.getElementById("status").getAttribute("data-state"),
    commands: () => calls.map(([c]) => c).filter((c) => !c.startsWith("listen:")),
    app,
  };
}

describe("boot", () => {
  test("subscribes to both events before reading settings and session, then shows signedOut", async () => {
    const ui = await boot();
    assert.deepEqual(ui.calls.slice(0, 2).map(([c]) => c), ["listen:sign-in-progress", "listen:session-changed"]);
    assert.deepEqual(ui.commands().sort(), ["load_settings", "session"]);
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

  test("the first render is the final screen: no command is awaited before it, load_settings is never called", async () => {
    const ui = await boot({
      initial: { settings: { ...settings, sandbox: true }, session: sessionState(null), about },
      handlers: { session: never, load_settings: never },
    });
    assert.equal(ui.state(), "signedOut", "rendered while session() has not answered");
    assert.equal(ui.$("instance").value, settings.instance);
    assert.equal(ui.$("sandbox-badge").hidden, false);
    assert.equal(ui.$("about").textContent, "Keyhole 0.1.0 · commit 0123456789");
    assert.equal(ui.doc.documentElement.hasAttribute("data-booting"), false, "the page is shown");
    assert.deepEqual(ui.commands(), ["session"], "asked once it listens, for what changed since");
    assert.deepEqual(ui.calls.slice(0, 2).map(([c]) => c), ["listen:sign-in-progress", "listen:session-changed"]);
  });

  test("a restore in progress shows the restoring screen at once; session() then brings its end and the notice", async () => {
    const answer = deferred();
    const ui = await boot({
      initial: { settings, session: sessionState(null, { restoring: true }), about },
      handlers: { session: () => answer.promise },
    });
    assert.equal(ui.state(), "restoring");
    assert.equal(ui.$("restore-stage").textContent, "Restoring your session…");
    answer.resolve(sessionState(null, { restoring: false, notice: RESTORE_FAILED }));
    await flush();
    assert.equal(ui.state(), "signedOut");
    assert.match(ui.$("notice").textContent, /Could not restore/);
  });

  test("a malformed initial state falls back to asking the backend", async () => {
    const ui = await boot({ initial: { about } });
    assert.deepEqual(ui.commands().sort(), ["load_settings", "session"]);
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
    assert.equal(ui.$("notice").textContent, "Sign-in failed: access_denied");
  });
});

describe("signed in", () => {
  test("Call API shows Loading..., then the data; a second click while loading sends nothing", async () => {
    const pending = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { call_api: () => pending.promise } });
    await ui.click("call-api");
    await ui.click("call-api");
    assert.equal(ui.commands().filter((c) => c === "call_api").length, 1);
    assert.equal(ui.$("api-result").getAttribute("data-result"), "loading");
    assert.equal(ui.$("api-result").textContent, "Loading...");
    pending.resolve(apiResult());
    await flush();
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("api-data").textContent, JSON.stringify(apiResult().body.value, null, 2));
  });

  test("a 401 shows Error: … and the diagnosis", async () => {
    const ui = await boot({ current: sessionState(session()), handlers: { call_api: async () => unauthorized() } });
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

  test("boot while restoring shows the restoring screen; the restore result lands signedIn with focus on the heading", async () => {
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
    assert.equal(ui.doc.activeElement.id, "screen-title");
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
    const ui = await boot({ current: sessionState(session({ refreshable: true })), handlers: { call_api: async () => apiResult() } });
    await ui.click("call-api");
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("expires-in").textContent, "expires in 1 h 0 min");
    await ui.emit("session-changed", sessionState(session({ refreshable: true, expiresAt: NOW / 1000 + 7200 })));
    assert.equal(ui.state(), "signedIn");
    assert.equal(ui.$("expires-in").textContent, "expires in 2 h 0 min");
    assert.equal(ui.$("api-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("api-data").textContent, JSON.stringify(apiResult().body.value, null, 2));
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

  test("call_api rejects session_ended, then session-changed arrives: one signedOut with the backend's notice", async () => {
    const call = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { call_api: () => call.promise } });
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
    const ui = await boot({ current: sessionState(session()), handlers: { call_api: () => call.promise } });
    await ui.click("call-api");
    call.reject(rejection);
    await flush();
    const screen = ui.app.children[0];
    await ui.emit("session-changed", sessionState(null, { notice: rejection.message }));
    assert.equal(ui.app.children[0], screen, "no re-render");
    assert.equal(ui.$("notice").textContent, "Your session ended: the token endpoint refused the request: invalid_grant. Sign in again.");
  });

  test("session-changed arrives first, then call_api rejects session_ended: the rejection changes nothing", async () => {
    const call = deferred();
    const ui = await boot({ current: sessionState(session()), handlers: { call_api: () => call.promise } });
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
