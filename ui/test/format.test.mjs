import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fmt from "../format.js";
import { initialState, next } from "../state.js";
import { NOW, apiResult, session, sessionState, settings, unauthorized } from "./fixtures.mjs";

const at = (secondsFromNow) => NOW / 1000 + secondsFromNow;

describe("countdown", () => {
  const cases = [
    [3552, "expires in 59 min 12 s"],
    [60, "expires in 1 min 0 s"],
    [59, "expires in 59 s"],
    [1, "expires in 1 s"],
    [0, "expired"],
    [-30, "expired"],
    [2 * 3600 + 3 * 60 + 9, "expires in 2 h 3 min"],
    [3 * 86400 + 4 * 3600, "expires in 3 d 4 h"],
  ];
  for (const [left, text] of cases) {
    test(`${left} s left reads "${text}"`, () => assert.equal(fmt.countdown(at(left), NOW), text));
  }
  test("a fraction of a second left still counts as not expired", () => {
    assert.equal(fmt.countdown(at(1), NOW + 500), "expires in 1 s");
    assert.equal(fmt.countdown(at(1), NOW + 1000), "expired");
  });
  test("no expiry", () => assert.equal(fmt.countdown(null, NOW), "no expiry given"));
  test("isExpired agrees with the text", () => {
    assert.equal(fmt.isExpired(at(1), NOW), false);
    assert.equal(fmt.isExpired(at(0), NOW), true);
    assert.equal(fmt.isExpired(null, NOW), false);
  });
});

describe("API answers", () => {
  test("HTTP error message is status, reason and body excerpt", () => {
    assert.equal(fmt.httpErrorMessage(unauthorized()), "401 Unauthorized — Unauthenticated!");
  });
  test("JSON error bodies are excerpted compactly; empty bodies give just the status", () => {
    assert.equal(fmt.httpErrorMessage(apiResult({ status: 403, ok: false, body: { kind: "json", value: { error: "forbidden" } } })),
      '403 Forbidden — {"error":"forbidden"}');
    assert.equal(fmt.httpErrorMessage(apiResult({ status: 500, ok: false, body: { kind: "empty" } })), "500 Internal Server Error");
    assert.equal(fmt.httpErrorMessage(apiResult({ status: 599, ok: false, body: { kind: "json", value: "down" } })), "599 — down");
  });
  test("long or multi-line bodies become one short line", () => {
    const text = `<html>\n  <body>${"x".repeat(500)}</body>\n</html>`;
    const msg = fmt.httpErrorMessage(apiResult({ status: 502, ok: false, body: { kind: "text", text, truncated: true } }));
    assert.ok(!msg.includes("\n"));
    assert.ok(msg.length < 230, msg.length);
    assert.ok(msg.endsWith("…"));
  });
  test("data is pretty-printed exactly like JSON.stringify(value, null, 2)", () => {
    const value = { a: [1, { b: null }], "<script>": "</pre>" };
    assert.equal(fmt.bodyText({ kind: "json", value }), JSON.stringify(value, null, 2));
    assert.equal(fmt.bodyText({ kind: "text", text: "plain", truncated: false }), "plain");
    assert.equal(fmt.bodyText({ kind: "empty" }), "(empty body)");
  });
  test("meta line shows status, elapsed time and content type", () => {
    assert.equal(fmt.resultMeta(apiResult({ elapsedMs: 35.4 })), "200 OK · 35 ms · application/json");
    assert.equal(fmt.resultMeta(apiResult({ status: 204, contentType: null, elapsedMs: 2 })), "204 No Content · 2 ms");
  });
  test("prettyJson never throws", () => {
    const cyclic = {};
    cyclic.self = cyclic;
    assert.equal(typeof fmt.prettyJson(cyclic), "string");
    assert.equal(fmt.prettyJson(undefined), "");
  });
});

describe("session text", () => {
  test("token summary names the JWT header, or explains an opaque token", () => {
    assert.equal(fmt.tokenSummary(session().accessToken), "JWT · alg RS256 · kid ins_1 · typ JWT");
    assert.equal(fmt.tokenSummary({ kind: "opaque" }), "Opaque token — it cannot be decoded; it is sent as-is.");
  });
  test("identity combines name and email when present", () => {
    assert.equal(fmt.identity(session()), "Ada Lovelace <ada@example.com>");
    assert.equal(fmt.identity(session({ name: null })), "ada@example.com");
    assert.equal(fmt.identity(session({ name: null, email: null })), null);
  });
  test("every sign-in stage has its own text", () => {
    const texts = ["opening_browser", "waiting", "browser_failed", "exchanging", null].map(fmt.stageText);
    assert.equal(new Set(texts).size, texts.length);
  });
});

describe("notices and status", () => {
  test("cancel is a quiet info note, other failures are errors with the message", () => {
    assert.deepEqual(fmt.signInFailureNotice({ kind: "cancelled", message: "x" }), { tone: "info", text: "Sign-in cancelled." });
    assert.deepEqual(fmt.signInFailureNotice({ kind: "timeout", message: "no callback in 5 min" }), { tone: "error", text: "Sign-in failed: no callback in 5 min" });
  });
  test("sign-out notice", () => {
    assert.equal(fmt.signOutNotice({ revoked: true, message: null }).text, "Signed out.");
    assert.equal(fmt.signOutNotice({ revoked: false, message: "timeout" }).text, "Signed out on this computer. Revocation could not be confirmed: timeout");
  });
  test("backend notices are warnings; blank ones are no notice", () => {
    assert.deepEqual(fmt.backendNotice("No system keychain is available."), { tone: "warning", text: "No system keychain is available." });
    assert.equal(fmt.backendNotice("your session ended: invalid_grant. Sign in again.").text, "Your session ended: invalid_grant. Sign in again.");
    assert.equal(fmt.backendNotice(null), null);
    assert.equal(fmt.backendNotice(" "), null);
  });
  test("a session_ended rejection reads as a sentence", () => {
    assert.deepEqual(fmt.sessionEndedNotice({ kind: "session_ended", message: "your session ended: invalid_grant. Sign in again." }),
      { tone: "warning", text: "Your session ended: invalid_grant. Sign in again." });
    assert.equal(fmt.sessionEndedNotice({ kind: "session_ended" }).text, "Your session ended. Sign in again.");
  });
  test("renewal hint only for refreshable sessions", () => {
    assert.equal(fmt.renewalHint(session({ refreshable: true })), "renews automatically");
    assert.equal(fmt.renewalHint(session({ refreshable: false })), null);
    assert.equal(fmt.renewalHint(session()), null);
  });
  test("status text follows the screen and the API sub-state", () => {
    let s = initialState(NOW);
    assert.equal(fmt.statusText(s), "Loading…");
    assert.equal(fmt.statusText({ ...s, screen: "restoring" }), "Restoring your session…");
    s = next(s, { type: "booted", settings, sessionState: sessionState(session()) });
    assert.equal(fmt.statusText(s), "Signed in");
    s = next(s, { type: "callApiClicked" });
    assert.equal(fmt.statusText(s), "Signed in · calling the API…");
    s = next(s, { type: "apiAnswered", result: unauthorized() });
    assert.equal(fmt.statusText(s), "Signed in · API call failed");
  });
});
