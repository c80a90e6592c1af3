// view(state, dispatch) -> Node: one function per screen. Handlers only dispatch events;
// main.js decides which commands to run. All text goes in as text nodes via h().

import { breakable, h } from "./dom.js";
import * as fmt from "./format.js";
import { keysPanel } from "./keys-view.js";
import { mcpCard, modeSwitch, updateMcpWaiting } from "./mcp-view.js";
import { variablesPanel } from "./variables-view.js";
import { answerCard, historyCard, profilesBar, requestCard, savedCard, updateWaiting } from "./request-view.js";
import { workbench } from "./split-view.js";
import { offersSetUp } from "./state.js";
import { tabsBar } from "./tabs-view.js";

const DESCRIPTION = "Sign in to your Clerk application and see what your protected API answers.";

const FORM_FIELDS = [
  {
    field: "instance", id: "instance", label: "Clerk instance", wide: true,
    hint: "Frontend API URL (https://…clerk.accounts.dev) or publishable key (pk_test_… / pk_live_…).",
    placeholder: "https://your-app.clerk.accounts.dev",
  },
  { field: "clientId", id: "client-id", label: "Client ID", wide: true, hint: "From the OAuth application in the Clerk dashboard. Empty: Keyhole registers itself, if the instance allows it." },
  {
    field: "clientMetadataUrl", id: "client-metadata-url", label: "Client ID Metadata Document URL", wide: true,
    hint: "An https URL of a Client ID Metadata Document you host: with no client ID, providers that accept such documents take it as the client ID. Set the redirect port its redirect_uris name.",
    placeholder: "https://example.com/oauth/client.json",
  },
  { field: "scopes", id: "scopes", label: "Scopes", hint: "Space-separated, for example: openid profile email.", placeholder: "openid profile email" },
  {
    field: "redirectPort", id: "redirect-port", label: "Redirect port", inputmode: "numeric",
    hint: "0 = any free port; a fixed port must match the redirect URL registered in Clerk.", placeholder: "0",
  },
  { field: "apiUrl", id: "api-url", label: "API URL", wide: true, hint: "Keyhole calls it with your access token as a Bearer token. Alone, it is enough: Set up from this API asks it where to sign in.", placeholder: "http://localhost:3000/protected" },
  {
    field: "resource", id: "resource", label: "Resource", wide: true,
    hint: "The API the token is asked for (RFC 8707); Set up from this API fills it in. Empty for none.",
  },
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
  // One primary action: Set up from this API while it is offered, else the sign-in.
  const signIn = h("button", {
    id: "sign-in", type: "button", class: offersSetUp(state.form) ? null : "primary",
    "aria-disabled": state.saving ? "true" : null,
    onClick: () => dispatch({ type: "signInClicked" }),
  }, "Sign in with Clerk");
  const withCode = h("button", {
    id: "sign-in-device", type: "button",
    "aria-disabled": state.saving ? "true" : null,
    onClick: () => dispatch({ type: "deviceSignInClicked" }),
  }, "Sign in with a code");
  const clerkSignIn = clerkSignInButton(state, dispatch, false);
  // Shown while only the API URL is filled in (updateSetUpOffer follows the typing).
  const setUp = h("button", {
    id: "set-up-from-api", type: "button", class: "primary",
    hidden: !offersSetUp(state.form),
    "aria-disabled": state.saving ? "true" : null,
    onClick: () => dispatch({ type: "setUpClicked" }),
  }, "Set up from this API");
  return [h("section", { class: "card narrow", "aria-labelledby": "screen-title" },
    screenTitle("Sign in"),
    h("p", { class: "lead" }, DESCRIPTION),
    profilesBar(state, dispatch),
    settingsForm(state, dispatch, [setUp, signIn, withCode, clerkSignIn]),
    h("p", { id: "hint-sign-in-kinds", class: "hint" },
      "Sign in with Clerk goes through your OAuth application and gives an OAuth access token. Sign in with Clerk (session token) uses Clerk's own sign-in, with only the instance: its session tokens are what ClerkExpressWithAuth() and getAuth(req) read by default."),
  ), keysPanel(state, dispatch)];
}

/** Clerk's own sign-in (a Clerk session, for session tokens), on the form and in the explorer. */
function clerkSignInButton(state, dispatch, small) {
  return h("button", {
    id: "sign-in-clerk", type: "button", class: small ? "small" : null,
    "aria-disabled": state.saving ? "true" : null,
    onClick: () => dispatch({ type: "clerkSignInClicked" }),
  }, "Sign in with Clerk (session token)");
}

/** After typing (which does not re-render): show "Set up from this API" when it applies. */
export function updateSetUpOffer(root, state) {
  const button = root.querySelector("#set-up-from-api");
  if (!button) return;
  const offered = offersSetUp(state.form);
  if (offered) button.removeAttribute("hidden");
  else button.setAttribute("hidden", "");
  root.querySelector("#sign-in")?.classList.toggle("primary", !offered);
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

/** The longest text a settings field takes; the engine says so in words past it. */
const MAX_FIELD = 2048;

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
      // The first field of the sign-in form takes the focus when the window opens.
      "data-initial-focus": f.field === "instance" && state.screen === "signedOut" ? true : null,
      // Far past the limit is cut while pasting; the engine still refuses anything over it.
      maxlength: String(MAX_FIELD * 4),
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
    screenTitle(s.device ? "Enter this code on another device" : "Finish in your browser…"),
    s.method === "clerk"
      ? h("p", { id: "sign-in-kind", class: "hint" }, "Signing in with Clerk's own sign-in, for a session token.")
      : null,
    s.device ? deviceBox(s, dispatch, state.now) : null,
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
      }, s.device ? "Open the browser" : "Open the browser again"),
      h("button", {
        id: "cancel-sign-in", type: "button",
        "aria-disabled": s.cancelling ? "true" : null,
        onClick: () => dispatch({ type: "cancelClicked" }),
      }, "Cancel"),
    ),
  );
}

// RFC 8628: the user code, large, with a copy button and a QR code of the URL.
function deviceBox(s, dispatch, now) {
  const d = s.device;
  return h("div", { class: "device" },
    h("p", { class: "hint" }, "Go to ", h("span", { id: "device-verification-uri" }, d.verificationUri), " and enter:"),
    h("div", { class: "inline" },
      h("output", { id: "device-user-code", class: "user-code", "aria-live": "polite" }, d.userCode),
      h("button", { id: "copy-user-code", type: "button", onClick: () => dispatch({ type: "copyCodeClicked" }) }, "Copy code"),
    ),
    d.expiresAt != null ? deviceExpiry(d.expiresAt, now) : null,
    s.codeCopy ? h("p", { id: "code-copy-feedback", class: "hint", role: "status" }, s.codeCopy === "done" ? "Copied." : "Could not copy: type the code instead.") : null,
    d.qr ? qrView(d.qr) : null,
  );
}

function deviceExpiry(expiresAt, now) {
  const expired = expiresAt - now <= 0;
  return h("p", { id: "device-expiry", class: ["countdown", "hint", expired && "expired"], "data-expired": String(expired) }, fmt.codeExpiry(expiresAt, now));
}

/** Draws a QR matrix as SVG rectangles, built node by node (no markup from strings). */
function qrView(qr) {
  const NS = "http://www.w3.org/2000/svg";
  const quiet = 4;
  const side = qr.size + 2 * quiet;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("id", "device-qr");
  svg.setAttribute("viewBox", `0 0 ${side} ${side}`);
  svg.setAttribute("width", "176");
  svg.setAttribute("height", "176");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code of the sign-in URL");
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(NS, "rect");
  background.setAttribute("width", String(side));
  background.setAttribute("height", String(side));
  background.setAttribute("fill", "#fff");
  svg.append(background);
  for (let y = 0; y < qr.size; y += 1) {
    for (let x = 0; x < qr.size; x += 1) {
      if (!qr.modules[y * qr.size + x]) continue;
      const cell = document.createElementNS(NS, "rect");
      cell.setAttribute("x", String(x + quiet));
      cell.setAttribute("y", String(y + quiet));
      cell.setAttribute("width", "1");
      cell.setAttribute("height", "1");
      cell.setAttribute("fill", "#000");
      svg.append(cell);
    }
  }
  return svg;
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
  // The request comes first, so Send is in sight at the smallest window size. The split first:
  // the request and its answer fill the window; the rest is below it. REST | MCP sits beside the
  // tabs: the MCP mode takes the split's place (its result is in its own card).
  const mcp = state.mode === "mcp";
  const head = h("div", { class: "explorer-head" }, modeSwitch(state, dispatch), mcp ? null : tabsBar(state, dispatch));
  return h("div", { class: "explorer" },
    mcp
      ? h("div", { class: "column", "data-mode": "mcp" }, head, mcpCard(state, dispatch))
      : workbench([head, requestCard(state, dispatch)], answerCard(state, dispatch)),
    h("div", { class: "columns" },
      h("div", { class: "column" }, whoCard(state, dispatch), clerkCard(state, dispatch), savedCard(state, dispatch), variablesPanel(state, dispatch)),
      h("div", { class: "column" }, historyCard(state, dispatch),
        state.session ? tokenCard(state, dispatch) : null, settingsPanel(state, dispatch), keysPanel(state, dispatch))),
  );
}

function whoCard(state, dispatch) {
  const { session } = state;
  const who = session ? fmt.identity(session) : null;
  return h("section", { class: "card", "aria-labelledby": "screen-title" },
    h("div", { class: "card-head" },
      screenTitle("Signed in"),
      h("button", {
        id: "sign-out", type: "button",
        "aria-disabled": state.signingOut ? "true" : null,
        onClick: () => dispatch({ type: "signOutClicked" }),
      }, state.signingOut ? "Signing out…" : "Sign out"),
    ),
    h("h3", { id: "oauth-title", class: "kind-title" }, "OAuth session", h("span", { class: "muted" }, " · sends the OAuth access token")),
    session
      ? h("dl", { class: "facts" },
        fact("Subject", h("code", { id: "subject" }, session.subject)),
        who ? fact("User", h("span", { id: "identity" }, breakable(who))) : null,
        fact("Issuer", h("code", { id: "issuer" }, breakable(session.issuer))),
        fact("Expiry", [expiryView(session.expiresAt, state.now), renewalView(session)]),
        fact("Scopes granted", scopesView(session.scopes, "session-scopes", "none said by the provider")),
        fact("Access token scopes", tokenScopesView(session.accessToken)),
      )
      : h("div", { id: "oauth-none" },
        h("p", { class: "muted" }, "Not signed in through the OAuth application: requests can send a session token, or none."),
        h("div", { class: "actions" },
          h("button", {
            id: "sign-in-oauth", type: "button", class: "small", "aria-disabled": state.saving ? "true" : null,
            onClick: () => dispatch({ type: "signInClicked" }),
          }, "Sign in with Clerk (OAuth)"))),
  );
}

/** The Clerk session (Frontend API): who, which session, and the last session token's claims. */
function clerkCard(state, dispatch) {
  const c = state.clerk;
  const token = c?.accessToken;
  return h("section", { id: "clerk-session", class: "card", "aria-labelledby": "clerk-title", "data-held": c ? "true" : "false" },
    h("h2", { id: "clerk-title" }, "Clerk session", h("span", { class: "muted" }, " · sends session tokens")),
    c
      ? [
        c.impersonated === true
          ? h("p", { id: "impersonated-banner", class: ["notice", "notice-warning", "banner"], role: "note" },
            h("strong", null, "Impersonated test session"), " — made with the secret key, not the user's own sign-in")
          : null,
        h("dl", { class: "facts" },
          fact("User ID", h("code", { id: "clerk-subject" }, c.subject ?? "")),
          fact("Session ID", h("code", { id: "clerk-session-id" }, c.sessionId ?? "")),
          c.issuer ? fact("Frontend API", h("code", { id: "clerk-issuer" }, c.issuer)) : null,
        ),
        h("p", { class: "hint" }, "Keyhole mints a short-lived session token for each request that sends one, as getToken() does in the tutorial's React client. The last one minted:"),
        token?.kind === "jwt"
          ? h("pre", { id: "session-token-claims", class: "json", tabindex: "0", "aria-label": "Session token claims" }, breakable(fmt.prettyJson(token.claims)))
          : h("p", { id: "session-token-claims", class: "muted" }, "None minted yet."),
      ]
      : [
        h("p", { class: "muted" }, "No Clerk session: sign in with Clerk's own sign-in to send session tokens (what ClerkExpressWithAuth() reads)."),
        h("div", { class: "actions" }, clerkSignInButton(state, dispatch, true)),
      ],
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
  updateWaiting(root, state);
  updateMcpWaiting(root, state);
  const code = root.querySelector("#device-expiry");
  const expiresAt = state.signIn?.device?.expiresAt;
  if (code && expiresAt != null) {
    const text = fmt.codeExpiry(expiresAt, state.now);
    if (code.textContent !== text) code.textContent = text;
    const expired = expiresAt - state.now <= 0;
    code.classList.toggle("expired", expired);
    code.setAttribute("data-expired", String(expired));
  }
  const el = root.querySelector("#expires-in");
  if (!el || !state.session) return;
  const text = fmt.countdown(state.session.expiresAt, state.now);
  if (el.textContent !== text) el.textContent = text;
  el.classList.toggle("expired", fmt.isExpired(state.session.expiresAt, state.now));
}

function scopesView(all, id, none) {
  const scopes = (Array.isArray(all) ? all : []).filter((s) => typeof s === "string" && s.trim());
  if (!scopes.length) return h("span", { id, class: "muted" }, none);
  return h("ul", { id, class: "chips" }, scopes.map((s) => h("li", null, s)));
}

/** What the access token itself carries (its scope or scp claim), apart from what was granted. */
function tokenScopesView(accessToken) {
  if (accessToken?.kind !== "jwt") return h("span", { id: "token-scopes", class: "muted" }, "unknown: the token is opaque");
  const claim = accessToken.claims?.scope ?? accessToken.claims?.scp;
  const scopes = typeof claim === "string" ? claim.split(/\s+/) : (Array.isArray(claim) ? claim : []);
  return scopesView(scopes, "token-scopes", "none in the token");
}

function tokenCard(state, dispatch) {
  const { accessToken, idTokenClaims } = state.session;
  const jwt = accessToken?.kind === "jwt";
  return h("section", { class: "card", "aria-labelledby": "token-title" },
    h("h2", { id: "token-title" }, "OAuth access token"),
    h("p", { id: "token-kind", class: jwt ? "meta" : "note" }, fmt.tokenSummary(accessToken)),
    jwt ? h("pre", { id: "access-token-claims", class: "json", tabindex: "0", "aria-label": "Access token claims" }, breakable(fmt.prettyJson(accessToken.claims))) : null,
    disclosure("idToken", "id-token", "ID token claims", state, dispatch,
      idTokenClaims
        ? h("pre", { id: "id-token-claims", class: "json", tabindex: "0", "aria-label": "ID token claims" }, breakable(fmt.prettyJson(idTokenClaims)))
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

function settingsPanel(state, dispatch) {
  return h("section", { class: "card", "aria-label": "Settings" },
    disclosure("settings", "settings-panel", "Settings", state, dispatch, profilesBar(state, dispatch), settingsForm(state, dispatch, null)));
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
