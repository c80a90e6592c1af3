// view(state, dispatch) -> Node: one function per screen. Handlers only dispatch events;
// main.js decides which commands to run. All text goes in as text nodes via h().

import { h } from "./dom.js";
import * as fmt from "./format.js";

const DESCRIPTION = "Sign in to your Clerk application and see what your protected API answers.";

const FORM_FIELDS = [
  {
    field: "instance", id: "instance", label: "Clerk instance", wide: true,
    hint: "Frontend API URL (https://…clerk.accounts.dev) or publishable key (pk_test_… / pk_live_…).",
    placeholder: "https://your-app.clerk.accounts.dev",
  },
  { field: "clientId", id: "client-id", label: "Client ID", wide: true, hint: "From the OAuth application in the Clerk dashboard." },
  { field: "scopes", id: "scopes", label: "Scopes", hint: "Space-separated, for example: openid profile email.", placeholder: "openid profile email" },
  {
    field: "redirectPort", id: "redirect-port", label: "Redirect port", inputmode: "numeric",
    hint: "0 = any free port; a fixed port must match the redirect URL registered in Clerk.", placeholder: "0",
  },
  { field: "apiUrl", id: "api-url", label: "API URL", wide: true, hint: "Keyhole calls it with your access token as a Bearer token.", placeholder: "http://localhost:3000/protected" },
];

export function view(state, dispatch) {
  const screen = SCREENS[state.screen] ?? loadingScreen;
  return h("div", { class: ["screen", `screen-${state.screen}`] }, noticeView(state.notice), screen(state, dispatch));
}

const SCREENS = {
  loading: loadingScreen, restoring: restoringScreen, signedOut: signedOutScreen, signingIn: signingInScreen, signedIn: signedInScreen,
};

function loadingScreen() {
  return h("p", { class: "muted" }, "Loading…");
}

function noticeView(notice) {
  if (!notice) return null;
  // role=alert is announced even though the node is new on every render.
  return h("p", { id: "notice", class: ["notice", `notice-${notice.tone}`], role: notice.tone === "info" ? "status" : "alert" }, notice.text);
}

/** Headings get focus when the screen changes, so keyboard and screen-reader users land on it. */
function screenTitle(text) {
  return h("h2", { id: "screen-title", tabindex: "-1", "data-autofocus": true }, text);
}

// --- restoring (launch, resuming the stored session in the background) ---------------------

function restoringScreen(state, dispatch) {
  return h("section", { class: "card narrow", "aria-labelledby": "screen-title", "aria-busy": "true" },
    screenTitle("Welcome back"),
    h("p", { id: "restore-stage", class: "stage", role: "status", "aria-live": "polite" },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      "Restoring your session…"),
    h("p", { id: "hint-skip-restore", class: "hint" },
      "Keyhole is renewing the sign-in saved in your system keychain. If this takes too long, sign in again."),
    h("div", { class: "actions" },
      h("button", {
        id: "skip-restore", type: "button",
        "aria-describedby": "hint-skip-restore",
        onClick: () => dispatch({ type: "skipRestoreClicked" }),
      }, "Sign in again"),
    ),
  );
}

// --- signed out ---------------------------------------------------------------------------

function signedOutScreen(state, dispatch) {
  const signIn = h("button", {
    id: "sign-in", type: "button", class: "primary",
    "aria-disabled": state.saving ? "true" : null,
    onClick: () => dispatch({ type: "signInClicked" }),
  }, "Sign in with Clerk");
  return h("section", { class: "card narrow", "aria-labelledby": "screen-title" },
    screenTitle("Sign in"),
    h("p", { class: "lead" }, DESCRIPTION),
    settingsForm(state, dispatch, signIn),
  );
}

function settingsForm(state, dispatch, primary) {
  const onSubmit = (e) => {
    e.preventDefault();
    dispatch({ type: "saveClicked" });
  };
  return h("form", { id: "settings-form", class: "settings", novalidate: true, onSubmit },
    FORM_FIELDS.map((f) => fieldRow(f, state, dispatch)),
    h("div", { class: "actions" },
      primary,
      h("button", { id: "save-settings", type: "submit", "aria-disabled": state.saving ? "true" : null },
        state.saving ? "Saving…" : "Save"),
    ),
  );
}

function fieldRow(f, state, dispatch) {
  const error = state.fieldErrors[f.field];
  const hintId = `hint-${f.id}`;
  const errorId = `error-${f.field}`;
  return h("div", { class: ["field", f.wide && "wide", error && "invalid"] },
    h("label", { for: f.id }, f.label),
    h("input", {
      id: f.id, name: f.field, type: "text", value: state.form[f.field],
      placeholder: f.placeholder, inputmode: f.inputmode,
      autocomplete: "off", spellcheck: "false", autocapitalize: "off",
      "aria-invalid": error ? "true" : null,
      "aria-describedby": error ? `${errorId} ${hintId}` : hintId,
      onInput: (e) => dispatch({ type: "fieldEdited", field: f.field, value: e.target.value }),
    }),
    error ? h("p", { id: errorId, class: "field-error" }, error) : null,
    h("p", { id: hintId, class: "hint" }, f.hint),
  );
}

// --- signing in ---------------------------------------------------------------------------

function signingInScreen(state, dispatch) {
  const s = state.signIn;
  return h("section", { class: "card narrow", "aria-labelledby": "screen-title", "aria-busy": "true" },
    screenTitle("Finish signing in in your browser…"),
    h("p", { id: "sign-in-stage", class: "stage" },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      s.cancelling ? "Cancelling…" : fmt.stageText(s.stage)),
    s.stage === "browser_failed" && s.message
      ? h("p", { id: "browser-error", class: ["notice", "notice-error"], role: "alert" }, s.message)
      : null,
    s.url ? urlBox(s, dispatch) : null,
    h("div", { class: "actions" },
      h("button", {
        id: "open-browser-again", type: "button", class: "primary",
        "aria-disabled": s.reopening || s.cancelling ? "true" : null,
        onClick: () => dispatch({ type: "reopenClicked" }),
      }, "Open the browser again"),
      h("button", {
        id: "cancel-sign-in", type: "button",
        "aria-disabled": s.cancelling ? "true" : null,
        onClick: () => dispatch({ type: "cancelClicked" }),
      }, "Cancel"),
    ),
  );
}

const COPY_FEEDBACK = {
  done: "Copied.",
  failed: "Could not copy. The URL is selected: press Ctrl+C.",
};

function urlBox(s, dispatch) {
  return h("div", { class: "field" },
    h("label", { for: "sign-in-url" }, "Sign-in URL"),
    h("p", { id: "hint-sign-in-url", class: "hint" }, "If no browser window appeared, open this URL in your browser."),
    h("div", { class: "inline" },
      h("input", {
        id: "sign-in-url", type: "text", readonly: true, value: s.url, spellcheck: "false",
        "aria-describedby": "hint-sign-in-url",
        onFocus: (e) => e.target.select(),
      }),
      h("button", { id: "copy-sign-in-url", type: "button", onClick: () => dispatch({ type: "copyUrlClicked" }) }, "Copy"),
    ),
    COPY_FEEDBACK[s.copy] ? h("p", { id: "copy-feedback", class: "hint", role: "status" }, COPY_FEEDBACK[s.copy]) : null,
  );
}

// --- signed in ----------------------------------------------------------------------------

function signedInScreen(state, dispatch) {
  return h("div", { class: "columns" },
    h("div", { class: "column" }, whoCard(state, dispatch), tokenCard(state, dispatch)),
    h("div", { class: "column" }, apiCard(state, dispatch), settingsPanel(state, dispatch)),
  );
}

function whoCard(state, dispatch) {
  const { session } = state;
  const who = fmt.identity(session);
  return h("section", { class: "card", "aria-labelledby": "screen-title" },
    h("div", { class: "card-head" },
      screenTitle("Signed in"),
      h("button", {
        id: "sign-out", type: "button",
        "aria-disabled": state.signingOut ? "true" : null,
        onClick: () => dispatch({ type: "signOutClicked" }),
      }, state.signingOut ? "Signing out…" : "Sign out"),
    ),
    h("dl", { class: "facts" },
      fact("Subject", h("code", { id: "subject" }, session.subject)),
      who ? fact("User", h("span", { id: "identity" }, who)) : null,
      fact("Issuer", h("code", { id: "issuer" }, session.issuer)),
      fact("Expiry", [expiryView(session.expiresAt, state.now), renewalView(session)]),
      fact("Scopes", scopesView(session.scopes)),
    ),
  );
}

function fact(term, value) {
  return [h("dt", null, term), h("dd", null, value)];
}

function expiryView(expiresAt, now) {
  const attrs = { id: "expires-in", class: ["countdown", fmt.isExpired(expiresAt, now) && "expired"] };
  if (expiresAt != null) {
    const at = new Date(expiresAt * 1000);
    attrs.datetime = at.toISOString();
    attrs.title = at.toLocaleString();
  }
  return h("time", attrs, fmt.countdown(expiresAt, now));
}

function renewalView(session) {
  const text = fmt.renewalHint(session);
  return text ? h("span", { id: "renewal", class: "renewal" }, text) : null;
}

/** Called every second instead of a full render, so text selection and scroll survive. */
export function updateClock(root, state) {
  const el = root.querySelector("#expires-in");
  if (!el || !state.session) return;
  const text = fmt.countdown(state.session.expiresAt, state.now);
  if (el.textContent !== text) el.textContent = text;
  el.classList.toggle("expired", fmt.isExpired(state.session.expiresAt, state.now));
}

function scopesView(scopes) {
  if (!scopes?.length) return h("span", { id: "session-scopes", class: "muted" }, "none");
  return h("ul", { id: "session-scopes", class: "chips" }, scopes.map((s) => h("li", null, s)));
}

function tokenCard(state, dispatch) {
  const { accessToken, idTokenClaims } = state.session;
  const jwt = accessToken?.kind === "jwt";
  return h("section", { class: "card", "aria-labelledby": "token-title" },
    h("h2", { id: "token-title" }, "Access token"),
    h("p", { id: "token-kind", class: jwt ? "meta" : "note" }, fmt.tokenSummary(accessToken)),
    jwt ? h("pre", { id: "access-token-claims", class: "json", tabindex: "0", "aria-label": "Access token claims" }, fmt.prettyJson(accessToken.claims)) : null,
    disclosure("idToken", "id-token", "ID token claims", state, dispatch,
      idTokenClaims
        ? h("pre", { id: "id-token-claims", class: "json", tabindex: "0", "aria-label": "ID token claims" }, fmt.prettyJson(idTokenClaims))
        : h("p", { class: "muted" }, "No ID token was returned (it needs the openid scope).")),
  );
}

/** <details> whose open state lives in state.expanded, so re-renders don't collapse it. */
function disclosure(section, id, title, state, dispatch, ...content) {
  return h("details", {
    id, open: state.expanded[section],
    onToggle: (e) => dispatch({ type: "sectionToggled", section, open: e.currentTarget.open }),
  }, h("summary", { id: `${id}-summary` }, title), ...content);
}

function apiCard(state, dispatch) {
  const url = state.settings?.apiUrl;
  return h("section", { class: "card", "aria-labelledby": "api-title" },
    h("div", { class: "card-head" },
      h("h2", { id: "api-title" }, "Protected API"),
      h("button", {
        id: "call-api", type: "button", class: "primary",
        "aria-disabled": state.api.status === "loading" ? "true" : null,
        onClick: () => dispatch({ type: "callApiClicked" }),
      }, "Call API"),
    ),
    h("p", { class: "url-line" }, h("span", { class: "muted" }, "URL "), h("code", { id: "api-url-shown" }, url || "(not set)")),
    apiResult(state.api),
  );
}

// Where the token went that the user should know about (the engine's destination warnings).
function destinationWarnings(result) {
  const warnings = Array.isArray(result?.warnings) ? result.warnings : [];
  if (warnings.length === 0) return null;
  return h(
    "p",
    { id: "api-warnings", class: ["note", "note-warning"], role: "note" },
    warnings.map((w) => `Warning: ${w.message}`).join(" "),
  );
}

function apiResult(api) {
  const box = (...children) => h("div", { id: "api-result", class: "api-result", "data-result": api.status }, ...children);
  switch (api.status) {
    case "loading":
      return box(h("p", null, "Loading..."));
    case "error":
      return box(
        h("p", { id: "api-error", class: "error-text" }, `Error: ${api.message}`),
        api.result ? h("p", { class: "meta" }, fmt.resultMeta(api.result)) : null,
        destinationWarnings(api.result),
        api.diagnosis ? h("p", { id: "diagnosis", class: "note" }, api.diagnosis) : null,
      );
    case "data": {
      const { result } = api;
      return box(
        h("h3", null, "Data from API"),
        h("p", { id: "api-meta", class: "meta" }, fmt.resultMeta(result)),
        destinationWarnings(result),
        api.diagnosis
          ? h("p", { id: "diagnosis", class: ["note", "note-warning"], role: "note" }, `Warning: ${api.diagnosis}`)
          : null,
        h("pre", { id: "api-data", class: "json", tabindex: "0", "aria-label": "API response body" }, fmt.bodyText(result.body)),
        result.body?.kind === "text" && result.body.truncated
          ? h("p", { class: "hint" }, "The body was truncated.")
          : null,
      );
    }
    default:
      return box(h("p", { class: "muted" }, "Not called yet. Call API sends your access token to this URL and shows the answer."));
  }
}

function settingsPanel(state, dispatch) {
  return h("section", { class: "card", "aria-label": "Settings" },
    disclosure("settings", "settings-panel", "Settings", state, dispatch, settingsForm(state, dispatch, null)));
}

/** The bits outside #app: the status live region and the sandbox badge. */
/** The About line: version and commit of this build (from the shell's initial state). */
export function updateAbout(el, about) {
  if (!el || !about?.version) return;
  el.textContent = `Keyhole ${about.version} · commit ${about.commit || "unknown"}`;
}

export function updateChrome(status, badge, state) {
  if (status) {
    const text = fmt.statusText(state);
    // Only touch the live region when something changed, or it gets re-announced.
    if (status.getAttribute("data-state") !== state.screen) status.setAttribute("data-state", state.screen);
    if (status.textContent !== text) status.textContent = text;
  }
  if (badge) badge.hidden = !state.settings?.sandbox;
}
