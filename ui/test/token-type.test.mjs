// The token selector (session / oauth / none), the Clerk session beside the OAuth one, and the
// "Try every token type" matrix: state transitions and what the views show.
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { byId, installDocument } from "./fake-dom.mjs";
import { NOW, clerkSession, oauthOnlyMatrix, session, sessionState, settings } from "./fixtures.mjs";
import { initialState, next } from "../state.js";
import {
  MATRIX_IDLE, TOKEN_TYPES, defaultTokenType, effectiveTokenType, emptyDraft, fromApiRequest, requestFor, toApiRequest,
} from "../request.js";
import { view } from "../view.js";

const run = (state, ...events) => events.reduce(next, state);
const booted = (s) => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(s) });
const oauthOnly = () => booted(session());
const clerkOnly = () => run(booted(null), { type: "clerkLoaded", clerk: clerkSession() });
const both = () => run(oauthOnly(), { type: "clerkLoaded", clerk: clerkSession() });

let dispatched;
const dispatch = (e) => dispatched.push(e);
const render = (state) => view(state, dispatch);
const text = (root, id) => byId(root, id)?.textContent;

beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("the token selector's state", () => {
  test("one list names every kind, in the engine's order", () => {
    assert.deepEqual(TOKEN_TYPES.map((t) => t.value), ["session", "oauth", "api-key", "m2m", "none"]);
  });

  test("the default: oauth with an OAuth session, else session with a Clerk session, else oauth", () => {
    assert.equal(defaultTokenType(oauthOnly()), "oauth");
    assert.equal(defaultTokenType(both()), "oauth");
    assert.equal(defaultTokenType(clerkOnly()), "session");
    assert.equal(defaultTokenType(booted(null)), "oauth");
    assert.equal(requestFor(clerkOnly()).tokenType, "session");
    assert.equal(requestFor(clerkOnly()).sendToken, true);
  });

  test("a chosen kind is kept in the draft and sent; none sends no token", () => {
    let s = next(both(), { type: "tokenTypeChosen", tokenType: "session" });
    assert.equal(s.request.tokenType, "session");
    assert.equal(effectiveTokenType(s), "session");
    assert.equal(requestFor(s).tokenType, "session");
    s = next(s, { type: "tokenTypeChosen", tokenType: "none" });
    assert.deepEqual([requestFor(s).tokenType, requestFor(s).sendToken], ["none", false]);
    assert.equal(next(s, { type: "tokenTypeChosen", tokenType: "cookie" }), s, "unknown kinds are ignored");
    assert.equal(next(s, { type: "tokenTypeChosen", tokenType: "none" }), s, "the same kind changes nothing");
  });

  test("saved and history requests keep their kind; old ones with only sendToken still open", () => {
    assert.equal(fromApiRequest({ url: "http://x/", tokenType: "session", sendToken: true }).tokenType, "session");
    assert.equal(fromApiRequest({ url: "http://x/", sendToken: false }).tokenType, "none");
    assert.equal(fromApiRequest({ url: "http://x/", sendToken: true }).tokenType, "oauth");
    assert.equal(fromApiRequest({ url: "http://x/" }).tokenType, "oauth");
    const saved = { name: "s", method: "GET", url: "http://x/", tokenType: "session" };
    const s = run(clerkOnly(), { type: "savedLoaded", requests: [saved] }, { type: "savedOpened", name: "s" });
    assert.equal(requestFor(s).tokenType, "session");
    const entry = { id: 1, at: NOW, method: "GET", url: "http://x/", request: { url: "http://x/", tokenType: "none", sendToken: false } };
    const h = run(both(), { type: "historyLoaded", entries: [entry] }, { type: "historyOpened", id: 1 });
    assert.equal(effectiveTokenType(h), "none");
    assert.equal(toApiRequest(emptyDraft("http://x/"), "session").tokenType, "session");
  });

  test("copy as curl asks for the literal token only when the kind sends one", () => {
    const s = run(clerkOnly(), { type: "curlLiteralToggled", on: true }, { type: "copyCurlClicked" });
    assert.equal(s.curl.literal, true);
    const none = run(clerkOnly(), { type: "tokenTypeChosen", tokenType: "none" }, { type: "curlLiteralToggled", on: true }, { type: "copyCurlClicked" });
    assert.equal(none.curl.literal, false);
  });
});

describe("the token selector's view", () => {
  test("sits next to Send and shows the kind sent; kinds not held say so", () => {
    const root = render(clerkOnly());
    const select = byId(root, "token-type");
    assert.equal(select.parentNode, byId(root, "call-api").parentNode, "in the URL bar, beside Send");
    const options = select.children;
    assert.deepEqual(options.map((o) => o.value), ["session", "oauth", "api-key", "m2m", "none"]);
    assert.deepEqual(options.map((o) => o.textContent),
      ["Session token", "OAuth token (not signed in)", "API key (not held)", "M2M token (not held)", "No token"]);
    assert.ok(options[0].hasAttribute("selected"));
    select.fire("change", { target: { value: "oauth" } });
    assert.deepEqual(dispatched, [{ type: "tokenTypeChosen", tokenType: "oauth" }]);
    assert.equal(byId(root, "send-token"), null, "the old checkbox is gone");
  });

  test("the masked Authorization line names the kind, and goes with No token", () => {
    const open = { type: "sectionToggled", section: "headers", open: true };
    let root = render(run(both(), open, { type: "tokenTypeChosen", tokenType: "session" }));
    assert.equal(text(root, "auth-header"), "Authorization: Bearer •••••••• session token, added by Keyhole");
    assert.equal(byId(root, "auth-header").getAttribute("data-token-type"), "session");
    assert.match(text(root, "token-hint"), /a Clerk session token/);
    root = render(run(both(), open, { type: "tokenTypeChosen", tokenType: "none" }));
    assert.equal(byId(root, "auth-header"), null);
    assert.match(text(root, "token-hint"), /signed-out caller/);
  });

  test("the literal-curl warning names the session token and its keyhole-cli command", () => {
    const root = render(run(clerkOnly(), { type: "curlLiteralToggled", on: true }));
    assert.match(text(root, "curl-warning"), /will contain a Clerk session token/);
    assert.match(text(root, "curl-warning"), /keyhole-cli token --token-type session/);
  });
});

describe("the Clerk session", () => {
  test("a Clerk sign-in from the form opens the explorer with the Clerk card, no OAuth facts", () => {
    let s = run(booted(null), { type: "clerkSignInClicked" });
    assert.equal(s.saving, true);
    s = run(s, { type: "settingsSaved", settings, quiet: true }, { type: "signInStarted", method: "clerk" });
    assert.equal(s.screen, "signingIn");
    assert.equal(s.signIn.method, "clerk");
    s = next(s, { type: "signInSucceeded", session: clerkSession() });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.session, null, "the OAuth session is not the Clerk one");
    const root = render(s);
    assert.equal(text(root, "clerk-subject"), "user_2clerk");
    assert.equal(text(root, "clerk-session-id"), "sess_2abc");
    assert.match(text(root, "session-token-claims"), /"sid": "sess_2abc"/);
    assert.equal(byId(root, "subject"), null);
    assert.equal(byId(root, "token-title"), null, "no OAuth access token card");
    assert.ok(byId(root, "sign-in-oauth"), "the OAuth sign-in is offered beside it");
  });

  test("the signing-in screen says it is Clerk's own sign-in; a cancel goes back to the explorer", () => {
    let s = run(oauthOnly(), { type: "clerkSignInClicked" }, { type: "settingsSaved", settings, quiet: true }, { type: "signInStarted", method: "clerk" });
    assert.match(text(render(s), "sign-in-kind"), /session token/);
    assert.ok(byId(render(s), "cancel-sign-in"));
    s = next(s, { type: "signInFailed", error: { kind: "cancelled", message: "cancelled" } });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.session.subject, "user_2abc", "the OAuth session stays");
  });

  test("with both sessions, each card says which token it sends", () => {
    const root = render(both());
    assert.equal(text(root, "subject"), "user_2abc");
    assert.match(text(root, "oauth-title"), /OAuth access token/);
    assert.match(text(root, "clerk-title"), /session tokens/);
    assert.equal(text(root, "token-title"), "OAuth access token");
    assert.equal(byId(root, "sign-in-clerk"), null, "held: not offered again");
  });

  test("the explorer offers the Clerk sign-in when only the OAuth session is held", () => {
    const root = render(oauthOnly());
    assert.equal(text(root, "sign-in-clerk"), "Sign in with Clerk (session token)");
    byId(root, "sign-in-clerk").fire("click");
    assert.deepEqual(dispatched, [{ type: "clerkSignInClicked" }]);
    assert.equal(next(oauthOnly(), { type: "clerkSignInClicked" }).saving, true);
    const s = both();
    assert.equal(next(s, { type: "clerkSignInClicked" }), s, "a Clerk session is held already");
  });

  test("the OAuth session ending keeps the explorer while a Clerk session is held; sign-out clears both", () => {
    let s = next(both(), { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.session, null);
    assert.equal(s.clerk.sessionId, "sess_2abc");
    const clerk = clerkOnly();
    assert.equal(next(clerk, { type: "sessionChanged", state: sessionState(null) }), clerk, "no OAuth session to lose");
    s = run(both(), { type: "signOutClicked" }, { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedIn", "until the sign-out answers");
    s = next(s, { type: "signedOut", outcome: { revoked: true, message: null } });
    assert.equal(s.screen, "signedOut");
    assert.equal(s.clerk, null);
    assert.equal(s.session, null);
  });

  test("a Clerk-only explorer hears no 'session ended' when the OAuth side has nothing", () => {
    const s = next(clerkOnly(), { type: "sessionChanged", state: sessionState(null) });
    assert.equal(s.screen, "signedIn");
    assert.equal(s.notice, null);
  });

  test("a Clerk session gone (another instance) with no OAuth session goes back to the form", () => {
    const s = next(clerkOnly(), { type: "clerkLoaded", clerk: null });
    assert.equal(s.screen, "signedOut");
    const same = clerkOnly();
    assert.equal(next(same, { type: "clerkLoaded", clerk: clerkSession() }), same, "the same session changes nothing");
  });
});

describe("try every token type", () => {
  const loading = () => next(both(), { type: "tryEveryClicked" });

  test("Loading… with the time waited and a Cancel; Send and a second try wait for it", () => {
    const s = { ...loading(), now: NOW + 2000 };
    assert.equal(s.matrix.status, "loading");
    assert.equal(next(s, { type: "tryEveryClicked" }), s);
    assert.equal(next(s, { type: "callApiClicked" }), s, "Send would cancel the matrix's requests");
    const root = render(s);
    assert.equal(byId(root, "matrix-result").getAttribute("data-result"), "loading");
    assert.match(text(root, "matrix-result"), /Loading… 2 s/);
    byId(root, "cancel-matrix").fire("click");
    assert.deepEqual(dispatched, [{ type: "cancelRequestClicked" }]);
    assert.equal(next(s, { type: "cancelRequestClicked" }).matrix.cancelling, true);
    assert.equal(byId(root, "call-api").getAttribute("aria-disabled"), "true");
  });

  test("the matrix: one row per kind with status, signed in and the fix; oauth yes, session no", () => {
    const s = next(loading(), { type: "matrixAnswered", matrix: oauthOnlyMatrix() });
    assert.equal(s.matrix.status, "data");
    const root = render(s);
    const table = byId(root, "token-matrix");
    assert.equal(table.tagName, "TABLE");
    const rows = table.querySelectorAll("tr").slice(1);
    assert.deepEqual(rows.map((r) => r.getAttribute("data-credential")), ["session", "oauth", "none"]);
    const cells = (id) => byId(root, id).children.map((c) => c.textContent);
    const session = cells("matrix-session");
    assert.deepEqual(session.slice(0, 3), ["Session token", "401", "no"]);
    assert.match(session[3], /acceptsToken: 'session_token'/);
    assert.deepEqual(cells("matrix-oauth").slice(0, 3), ["OAuth token", "200", "yes"]);
    assert.equal(byId(root, "matrix-oauth").getAttribute("data-signed-in"), "true");
    assert.equal(byId(root, "matrix-session").getAttribute("data-signed-in"), "false");
    assert.equal(text(root, "matrix-target"), "GET http://127.0.0.1:5000/accepts/oauth_token");
    assert.equal(byId(root, "token-matrix-missing"), null);
  });

  test("a kind that could not be tried shows its error; kinds not held are listed with how", () => {
    const matrix = {
      target: "GET http://x/",
      rows: [
        { credential: "session", status: null, signedIn: null, tokenTypeSeen: null, fix: null, error: "Clerk refused to mint a session token" },
        { credential: "none", status: 200, signedIn: true, tokenTypeSeen: null, fix: null, error: null },
      ],
      missing: [{ credential: "oauth", how: "sign in through the OAuth application (keyhole-cli sign-in)" }],
    };
    const root = render(run(clerkOnly(), { type: "tryEveryClicked" }, { type: "matrixAnswered", matrix }));
    const cells = byId(root, "matrix-session").children.map((c) => c.textContent);
    assert.deepEqual(cells.slice(1, 3), ["—", "unclear"]);
    assert.equal(cells[3], "Error: Clerk refused to mint a session token");
    assert.equal(text(root, "token-matrix-missing"), "OAuth token: not tried. To try it, sign in through the OAuth application (keyhole-cli sign-in).");
  });

  test("a failure as a whole is Error: message; cancelled says nothing was received; Close hides it", () => {
    let s = next(loading(), { type: "matrixFailed", error: { kind: "api_unreachable", message: "connection refused" } });
    assert.equal(s.matrix.status, "error");
    assert.equal(text(render(s), "matrix-error"), "Error: connection refused");
    s = next(loading(), { type: "matrixFailed", error: { kind: "cancelled", message: "x" } });
    assert.match(text(render(s), "matrix-error"), /Cancelled/);
    s = next(s, { type: "matrixClosed" });
    assert.equal(s.matrix, MATRIX_IDLE);
    assert.equal(byId(render(s), "matrix-result"), null);
    const bad = next(loading(), { type: "matrixFailed", error: { kind: "invalid_setting", field: "headers", message: "bad header" } });
    assert.equal(bad.matrix, MATRIX_IDLE);
    assert.equal(bad.requestError.field, "headers");
  });

  test("results that arrive when nothing waits are ignored; no token value is ever shown", () => {
    const s = both();
    assert.equal(next(s, { type: "matrixAnswered", matrix: oauthOnlyMatrix() }), s);
    const root = render(next(loading(), { type: "matrixAnswered", matrix: oauthOnlyMatrix() }));
    assert.doesNotMatch(root.textContent, /eyJ/);
  });

  test("signing out forgets the matrix", () => {
    const s = run(both(), { type: "tryEveryClicked" }, { type: "matrixAnswered", matrix: oauthOnlyMatrix() },
      { type: "signOutClicked" }, { type: "signedOut", outcome: { revoked: true } });
    assert.equal(s.matrix, MATRIX_IDLE);
  });
});
