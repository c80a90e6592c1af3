// Boots the real main.js against the fake DOM and a scripted fake backend, to check how
// user intents map to commands and how results come back on screen.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { byId, installDocument } from "./fake-dom.mjs";
import { NOW, apiResult, session, settings, unauthorized } from "./fixtures.mjs";

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const flush = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };

let instance = 0;

/** Fresh document, fake backend and a fresh copy of main.js (query string = new module). */
async function boot({ loaded = settings, current = null, handlers = {}, clipboard = async () => {}, tauri = true } = {}) {
  const doc = installDocument();
  for (const [tag, id] of [["p", "status"], ["span", "sandbox-badge"], ["main", "app"]]) {
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
    const ui = await boot({ loaded: { ...settings, sandbox: true }, current: session() });
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
    await ui.emit("session-changed", session());
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
    const ui = await boot({ current: session(), handlers: { call_api: () => pending.promise } });
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
    const ui = await boot({ current: session(), handlers: { call_api: async () => unauthorized() } });
    await ui.click("call-api");
    assert.equal(ui.$("api-error").textContent, "Error: 401 Unauthorized — Unauthenticated!");
    assert.ok(ui.$("diagnosis"));
  });

  test("Sign out shows the revocation warning", async () => {
    const ui = await boot({ current: session(), handlers: { sign_out: async () => ({ revoked: false, message: "endpoint unreachable" }) } });
    await ui.click("sign-out");
    assert.equal(ui.state(), "signedOut");
    assert.equal(ui.$("notice").textContent, "Signed out. Revocation could not be confirmed: endpoint unreachable");
  });

  test("the timer tick only rewrites the countdown (nodes survive, so selection does too)", async () => {
    const ui = await boot({ current: session() });
    const subject = ui.$("subject");
    Date.now = () => NOW + 90_000;
    ui.timers[0]();
    Date.now = () => new Date().getTime();
    assert.equal(ui.$("expires-in").textContent, "expires in 58 min 30 s");
    assert.equal(ui.$("subject"), subject);
  });

  test("focus and caret survive a re-render caused by a backend event", async () => {
    const ui = await boot({ current: session() });
    ui.type("scopes", "openid profile");
    ui.$("scopes").setSelectionRange(3, 3);
    await ui.emit("session-changed", session({ expiresAt: NOW / 1000 + 7200 }));
    assert.equal(ui.doc.activeElement.id, "scopes");
    assert.equal(ui.$("scopes").value, "openid profile", "typed value kept in state");
    assert.equal(ui.$("scopes").selectionStart, 3);
  });

  test("session-changed(null) signs the window out", async () => {
    const ui = await boot({ current: session() });
    await ui.emit("session-changed", null);
    assert.equal(ui.state(), "signedOut");
  });
});
