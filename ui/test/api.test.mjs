import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as api from "../api.js";

let calls;
let reply;
let listeners;

beforeEach(() => {
  calls = [];
  reply = async () => null;
  listeners = {};
  globalThis.window = {
    __TAURI__: {
      core: { invoke: (cmd, args) => { calls.push([cmd, args]); return reply(cmd, args); } },
      event: { listen: async (name, cb) => { listeners[name] = cb; return () => delete listeners[name]; } },
    },
  };
});

test("each function invokes its snake_case command with camelCase args", async () => {
  const settings = { instance: "i", clientId: "c", scopes: "s", redirectPort: 0, apiUrl: "u", sandbox: false };
  await api.loadSettings();
  await api.saveSettings(settings);
  await api.session();
  await api.signIn();
  await api.signIn("device");
  await api.cancelSignIn();
  await api.openBrowserAgain();
  await api.signOut();
  await api.callApi();
  assert.deepEqual(calls, [
    ["load_settings", undefined], ["save_settings", { settings }], ["session", undefined], ["sign_in", { method: "browser" }], ["sign_in", { method: "device" }],
    ["cancel_sign_in", undefined], ["open_browser_again", undefined], ["sign_out", undefined], ["call_api", undefined],
  ]);
});

test("results pass through unchanged", async () => {
  reply = async () => ({ revoked: true, message: null });
  assert.deepEqual(await api.signOut(), { revoked: true, message: null });
});

test("backend errors are rethrown as {kind, message, field}", async () => {
  reply = async () => { throw { kind: "invalid_setting", field: "apiUrl", message: "API URL must be http(s)", extra: 1 }; };
  await assert.rejects(api.saveSettings({}), { kind: "invalid_setting", field: "apiUrl", message: "API URL must be http(s)" });
  reply = async () => { throw { kind: "cancelled", message: "Sign-in cancelled" }; };
  await assert.rejects(api.signIn(), (e) => { assert.deepEqual(e, { kind: "cancelled", message: "Sign-in cancelled" }); return true; });
});

test("string and Error rejections (e.g. unknown command) are normalized", async () => {
  reply = async () => { throw "command call_api not found"; };
  await assert.rejects(api.callApi(), { kind: "unknown", message: "command call_api not found" });
  reply = async () => { throw new TypeError("boom"); };
  await assert.rejects(api.callApi(), { kind: "unknown", message: "boom" });
  reply = () => { throw "sync throw"; };
  await assert.rejects(api.session(), { kind: "unknown", message: "sync throw" });
});

test("without window.__TAURI__ every call rejects with kind unavailable", async () => {
  globalThis.window = {};
  await assert.rejects(api.loadSettings(), { kind: "unavailable" });
  await assert.rejects(api.onSessionChanged(() => {}), { kind: "unavailable" });
});

test("event subscriptions deliver the payload and return the unlisten function", async () => {
  const seen = [];
  const stop = await api.onSignInProgress((p) => seen.push(p));
  await api.onSessionChanged((s) => seen.push(s));
  listeners["sign-in-progress"]({ event: "sign-in-progress", id: 1, payload: { stage: "waiting", url: "u" } });
  listeners["session-changed"]({ event: "session-changed", id: 2, payload: null });
  assert.deepEqual(seen, [{ stage: "waiting", url: "u" }, null]);
  stop();
  assert.equal(listeners["sign-in-progress"], undefined);
});
