// The whole UI state and its one transition function. Pure: no DOM, no Tauri, no timers.
// Rule used by main.js: an event that `next` ignores returns the SAME object, so nothing
// re-renders and no command runs (e.g. a second "Call API" click while one is loading).

import { backendNotice, sessionEndedNotice, signInFailureNotice, signOutNotice } from "./format.js";
import { initialKeysState, keysHandlers } from "./keys.js";
import { initialMcpState, mcpBusy, mcpHandlers } from "./mcp.js";
import { API_IDLE, MATRIX_IDLE, emptyDraft, initialRequestState, requestHandlers, withUrl } from "./request.js";
import { anyLoading, initialTabsState, routed, tabsHandlers } from "./tabs.js";
import { initialVariablesState, variablesHandlers } from "./variables.js";

/** Settings fields, as the backend names them in `{kind: "invalid_setting", field}`. */
export const FIELDS = ["instance", "clientId", "clientMetadataUrl", "scopes", "redirectPort", "apiUrl", "resource"];

const SAVED = "Settings saved.";

export function initialState(now = 0) {
  return {
    screen: "loading", // "loading" | "restoring" | "signedOut" | "signingIn" | "signedIn"
    now, // ms since epoch, advanced by "tick"
    settings: null, // last Settings the backend loaded or saved
    form: formFromSettings(null), // what the user typed; strings only
    fieldErrors: {}, // { [field]: message }
    saving: false,
    notice: null, // { tone: "info" | "warning" | "error", text }
    session: null, // the OAuth session (its access token: token type "oauth")
    clerk: null, // the Clerk session (Frontend API; its session tokens: token type "session")
    signIn: null, // while signingIn: { method, stage, url, message, cancelling, reopening, copy }
    signingOut: false,
    // api: { status: "idle" | "loading" | "error" | "data", result, message, diagnosis, … }
    ...initialRequestState(),
    keys: initialKeysState(), // the Clerk keys panel (keys.js)
    // The tabs (tabs.js): the one in front has its parts above (request, api, matrix, …).
    tabs: initialTabsState(),
    variables: initialVariablesState(), // the Variables panel and Import (variables.js)
    mode: "rest", // the explorer's mode: "rest" (the request editor) | "mcp" (an MCP server, mcp.js)
    mcp: initialMcpState(),
    curlImport: null, // { busy } while a pasted curl command is read
    // <details> open state survives re-renders
    expanded: { settings: false, keys: false, idToken: false, query: false, headers: false, body: false, history: true, saved: true, variables: false },
    diagnosisCopy: null, // "done" | "failed" after Copy details
    early: null, // a SessionState from session-changed that arrived while still loading
  };
}

/** The editor follows the settings' API URL when it changes (and at boot). */
function withSettings(state, settings) {
  const urlChanged = settings?.apiUrl !== state.settings?.apiUrl;
  return {
    ...state,
    settings,
    form: formFromSettings(settings),
    request: urlChanged ? withUrl(state.request, settings?.apiUrl ?? "") : state.request,
    profiles: { ...state.profiles, current: settings?.profile ?? null },
  };
}

/**
 * The backend's SessionState `{session, restoring, notice}`, normalized. Also accepts the
 * older payload (a Session summary or null), so a backend that lags behind still works.
 */
export function toSessionState(payload) {
  if (payload && typeof payload === "object" && ("session" in payload || "restoring" in payload || "notice" in payload)) {
    return {
      session: payload.session && typeof payload.session === "object" ? payload.session : null,
      restoring: payload.restoring === true,
      notice: typeof payload.notice === "string" && payload.notice.trim() ? payload.notice : null,
    };
  }
  return { session: payload && typeof payload === "object" ? payload : null, restoring: false, notice: null };
}

export function formFromSettings(settings) {
  return {
    instance: settings?.instance ?? "",
    clientId: settings?.clientId ?? "",
    clientMetadataUrl: settings?.clientMetadataUrl ?? "",
    scopes: settings?.scopes ?? "",
    redirectPort: settings?.redirectPort == null ? "" : String(settings.redirectPort),
    apiUrl: settings?.apiUrl ?? "",
    resource: settings?.resource ?? "",
  };
}

/** "Set up from this API" is offered when only the API URL is filled in. */
export function offersSetUp(form) {
  return form.apiUrl.trim() !== "" && form.instance.trim() === "" && form.clientId.trim() === "";
}

/** Signing in with an instance but no client ID registers Keyhole first (RFC 7591). */
export function needsRegistration(form) {
  return form.instance.trim() !== "" && form.clientId.trim() === "";
}

/**
 * Turn the form into the Settings the backend expects. The port is checked here because a
 * non-number would fail IPC deserialization with no field to point at.
 */
export function settingsFromForm(form, saved) {
  const port = form.redirectPort.trim();
  if (!/^\d{0,5}$/.test(port) || Number(port) > 65535) {
    return {
      ok: false,
      error: {
        kind: "invalid_setting",
        field: "redirectPort",
        message: "Redirect port must be a whole number from 0 to 65535 (0 picks any free port).",
      },
    };
  }
  return {
    ok: true,
    settings: {
      instance: form.instance,
      clientId: form.clientId,
      clientMetadataUrl: form.clientMetadataUrl,
      scopes: form.scopes,
      redirectPort: port === "" ? 0 : Number(port),
      apiUrl: form.apiUrl,
      resource: form.resource,
      sandbox: Boolean(saved?.sandbox), // not user-editable; sent back unchanged
      // Not on the form either: Clerk's Backend API (test sessions, API keys, M2M tokens), kept
      // as loaded, so a save does not put it back to https://api.clerk.com (empty).
      backendApi: typeof saved?.backendApi === "string" ? saved.backendApi : "",
    },
  };
}

/**
 * No OAuth session (any more). With a Clerk session still held, the explorer stays, sending
 * session tokens; only a sign-out (which ends both) goes back to the sign-in form.
 */
function signedOut(state, notice) {
  const base = { ...state, session: null, signIn: null, signingOut: false, notice };
  if (state.clerk) return { ...base, screen: "signedIn", api: state.session ? API_IDLE : state.api };
  return { ...base, screen: "signedOut", api: API_IDLE, matrix: MATRIX_IDLE };
}

/** Whether the explorer has anything to send with: an OAuth or a Clerk session. */
export function holdsSession(state) {
  return Boolean(state.session || state.clerk);
}

/** The screens a sign-in starts from: the form, or the explorer (to add the other kind). */
function canStartSignIn(s) {
  return (s.screen === "signedOut" && !s.saving) || (s.screen === "signedIn" && !s.signingOut && !s.saving);
}

function signedIn(state, session) {
  const sameUser = state.session?.subject === session.subject;
  return {
    ...state, screen: "signedIn", session, signIn: null,
    api: sameUser ? state.api : API_IDLE,
  };
}

function sameNotice(a, b) {
  return a === b || (a != null && b != null && a.tone === b.tone && a.text === b.text);
}

/** Show `notice` (when there is one and it is not already shown); otherwise the same state. */
function withNotice(state, notice) {
  return notice && !sameNotice(state.notice, notice) ? { ...state, notice } : state;
}

const SESSION_ENDED = Object.freeze({ tone: "info", text: "Your session ended." });

/** The session ended under us (provider refused a refresh, or signed out elsewhere). */
function sessionEnded(state, notice) {
  // While our own sign-out runs, its outcome sets the notice; don't say "ended" first.
  const out = signedOut(state, notice ?? (state.signingOut ? state.notice : SESSION_ENDED));
  return { ...out, signingOut: state.signingOut };
}

function patchSignIn(state, patch) {
  return { ...state, signIn: { ...state.signIn, ...patch } };
}

function settingsError(state, error) {
  if (FIELDS.includes(error?.field)) {
    return {
      ...state, saving: false, notice: null,
      fieldErrors: { [error.field]: error.message },
      expanded: { ...state.expanded, settings: true }, // so the error is visible when signed in
    };
  }
  return {
    ...state, saving: false,
    notice: { tone: "error", text: `Could not save settings: ${error?.message ?? "unknown error"}` },
  };
}

const handlers = {
  // --- boot and clock ---------------------------------------------------------------
  booted(s, { settings, sessionState, error }) {
    const base = settings
      ? { ...withSettings(s, settings), request: emptyDraft(settings.apiUrl ?? ""), early: null }
      : { ...s, settings: null, early: null };
    let current = sessionState == null ? null : toSessionState(sessionState);
    // A session-changed that came in while booting is newer than a "still restoring" (or a
    // failed) answer: restoring only ever goes from true to false.
    if (s.early && (!current || (current.restoring && !s.early.restoring))) {
      current = { ...s.early, notice: s.early.notice ?? current?.notice ?? null };
    }
    const { session, restoring, notice: text } = current ?? toSessionState(null);
    const notice = error ? { tone: "error", text: `Keyhole could not load: ${error.message}` } : backendNotice(text);
    if (session) return { ...signedIn(base, session), notice };
    if (restoring) return { ...base, screen: "restoring", session: null, notice };
    return signedOut(base, notice);
  },
  tick(s, { now }) {
    return now === s.now ? s : { ...s, now };
  },

  // --- settings form ----------------------------------------------------------------
  fieldEdited(s, { field, value }) {
    if (!FIELDS.includes(field) || s.form[field] === value) return s;
    // The field's own error goes once it is edited, and a "Settings saved." would be stale now
    // (main.js re-renders when either changes, keeping the caret where it was).
    const notice = s.notice?.text === SAVED ? null : s.notice;
    const fieldErrors = field in s.fieldErrors ? withoutKey(s.fieldErrors, field) : s.fieldErrors;
    return { ...s, form: { ...s.form, [field]: value }, notice, fieldErrors };
  },
  saveClicked(s) {
    if (s.saving || !["signedOut", "signedIn"].includes(s.screen)) return s; // the screens with the form
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  settingsSaved(s, { settings, quiet }) {
    return {
      ...withSettings(s, settings), saving: false, fieldErrors: {},
      notice: quiet ? s.notice : { tone: "info", text: SAVED },
    };
  },
  settingsRejected(s, { error }) {
    return settingsError(s, error);
  },
  // "Set up from this API" (RFC 9728), and the registration that precedes a sign-in without a
  // client ID (RFC 7591): the engine fills the settings in and the backend saves them.
  setUpClicked(s) {
    if (s.screen !== "signedOut" || s.saving || !offersSetUp(s.form)) return s;
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  setUpDone(s, { result, from }) {
    const settings = result?.settings;
    if (!settings) return s;
    const text = setUpNotice(settings, result.note, from);
    // withSettings: the editor follows the API URL set up from, as a save would.
    return {
      ...withSettings(s, settings), saving: false, fieldErrors: {},
      notice: text ? { tone: "info", text, setUp: true } : null,
    };
  },
  setUpFailed(s, { error }) {
    if (FIELDS.includes(error?.field)) return settingsError(s, error);
    return { ...s, saving: false, notice: { tone: "error", text: error?.message ?? "unknown error" } };
  },
  sectionToggled(s, { section, open }) {
    if (!(section in s.expanded) || s.expanded[section] === Boolean(open)) return s;
    return { ...s, expanded: { ...s.expanded, [section]: Boolean(open) } };
  },

  // --- sign-in ----------------------------------------------------------------------
  signInClicked(s) {
    if (!canStartSignIn(s) || s.session) return s;
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  deviceSignInClicked(s) {
    if (!canStartSignIn(s) || s.session) return s;
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  /** Clerk's own sign-in (Frontend API, native client): a Clerk session, for session tokens. */
  clerkSignInClicked(s) {
    if (!canStartSignIn(s) || s.clerk) return s;
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  signInStarted(s, { method = "browser" } = {}) {
    return {
      ...s, screen: "signingIn", saving: false, notice: keptNotice(s.notice),
      signIn: { method, stage: null, url: null, message: null, cancelling: false, reopening: false, copy: null, device: null, codeCopy: null },
    };
  },
  /** A sign-in did not start after all (the settings did not save): where it was, unchanged. */
  signInAborted(s) {
    return s.saving ? { ...s, saving: false } : s;
  },
  signInProgress(s, { progress, at }) {
    // A sign-in an MCP server's 401 started (the engine's): its stage shows in the MCP wait.
    if (s.screen === "signedIn" && mcpBusy(s)) return mcpHandlers.mcpSignInProgress(s, { progress });
    if (s.screen !== "signingIn" || !progress) return s;
    return patchSignIn(s, {
      stage: progress.stage ?? s.signIn.stage,
      url: progress.url ?? deviceUrl(progress) ?? s.signIn.url, // the URL stays known once sent
      message: progress.stage === "browser_failed" ? (progress.message ?? null) : s.signIn.message,
      device: progress.stage === "device_code" ? deviceView(progress, Number.isFinite(at) ? at : s.now) : (s.signIn.device ?? null),
    });
  },
  codeCopied(s, { ok }) {
    if (s.screen !== "signingIn" || !s.signIn.device) return s;
    return patchSignIn(s, { codeCopy: ok ? "done" : "failed" });
  },
  signInSucceeded(s, { session }) {
    if (!session) return s;
    // A Clerk session (credential "session") sits beside the OAuth one; it never replaces it.
    if (session.credential === "session") {
      return { ...s, screen: "signedIn", clerk: session, signIn: null, saving: false, notice: keptNotice(s.notice) };
    }
    return { ...signedIn(s, session), notice: keptNotice(s.notice) };
  },
  signInFailed(s, { error }) {
    if (s.screen !== "signingIn") return s; // e.g. a session-changed already moved us on
    if (holdsSession(s)) {
      // Adding the other kind failed: back to the explorer, with what was held before.
      return { ...s, screen: "signedIn", signIn: null, saving: false, notice: signInFailureNotice(error) };
    }
    const out = signedOut(s, signInFailureNotice(error));
    return error?.kind === "invalid_setting" && FIELDS.includes(error.field)
      ? { ...settingsError(out, error), notice: out.notice }
      : out;
  },
  cancelClicked(s) {
    if (s.screen !== "signingIn" || s.signIn.cancelling) return s;
    return patchSignIn(s, { cancelling: true });
  },
  cancelFailed(s, { error }) {
    if (s.screen !== "signingIn") return s;
    return { ...patchSignIn(s, { cancelling: false }), notice: { tone: "error", text: `Could not cancel: ${error?.message}` } };
  },
  reopenClicked(s) {
    if (s.screen !== "signingIn" || s.signIn.reopening || s.signIn.cancelling) return s;
    return patchSignIn(s, { reopening: true });
  },
  browserReopened(s) {
    if (s.screen !== "signingIn") return s;
    const failed = s.signIn.stage === "browser_failed";
    return patchSignIn(s, { reopening: false, stage: failed ? "waiting" : s.signIn.stage, message: null });
  },
  browserReopenFailed(s, { error }) {
    if (s.screen !== "signingIn") return s;
    return patchSignIn(s, { reopening: false, stage: "browser_failed", message: error?.message ?? null });
  },
  copyUrlClicked(s) {
    if (s.screen !== "signingIn" || !s.signIn.url || s.signIn.copy === "pending") return s;
    return patchSignIn(s, { copy: "pending" });
  },
  urlCopied(s, { ok }) {
    if (s.screen !== "signingIn") return s;
    return patchSignIn(s, { copy: ok ? "done" : "failed" });
  },

  // --- restoring a stored session (launch) ---------------------------------------------
  skipRestoreClicked(s) {
    if (s.screen !== "restoring") return s;
    // The restore keeps running in the backend; if it still succeeds, session-changed signs us in.
    return signedOut(s, s.notice);
  },

  // --- signed in --------------------------------------------------------------------
  /**
   * `state` is the SessionState payload. Backend events never clear a notice (only user
   * actions do); a notice they carry replaces the current one.
   */
  sessionChanged(s, { state: payload }) {
    const { session, restoring, notice: text } = toSessionState(payload);
    const notice = backendNotice(text);
    if (s.screen === "loading") {
      // Boot decides the screen; keep this for it.
      return { ...s, early: { session, restoring, notice: text ?? s.early?.notice ?? null } };
    }
    // Signed in, restored, refreshed (same user: the API result stays) or signed in elsewhere.
    if (session) return { ...signedIn(s, session), notice: notice ?? s.notice };
    // An MCP server's 401 has the engine switch to the settings for that server and sign in:
    // the session it leaves (or the restore it starts) is no reason to leave the explorer.
    if (s.screen === "signedIn" && mcpBusy(s)) return withNotice(s.session ? { ...s, session: null } : s, notice);
    switch (s.screen) {
      case "restoring":
        return restoring ? withNotice(s, notice) : signedOut(s, notice ?? s.notice);
      case "signedIn":
        // Only a Clerk session is held: "no OAuth session" is no news.
        if (!s.session) return withNotice(s, notice);
        // Settings now name another instance/client: its stored session is being restored.
        if (restoring && !s.signingOut && !s.clerk) return { ...signedOut(s, notice ?? s.notice), screen: "restoring" };
        return sessionEnded(s, notice);
      default: // signedOut, signingIn: already not signed in; a restore (instance switched) may
        // still bring a session, but the form and a running sign-in stay where they are.
        return withNotice(s, notice);
    }
  },
  ...requestHandlers,
  ...keysHandlers,
  ...variablesHandlers,
  ...tabsHandlers,
  ...mcpHandlers,
  // The engine sends one request at a time (a second cancels the first): while a tab or an
  // MCP call waits, the others do not send.
  callApiClicked(s, event) {
    return anyLoading(s) || mcpBusy(s) ? s : requestHandlers.callApiClicked(s, event);
  },
  tryEveryClicked(s, event) {
    return anyLoading(s) || mcpBusy(s) ? s : requestHandlers.tryEveryClicked(s, event);
  },
  mcpListClicked(s, event) {
    return anyLoading(s) ? s : mcpHandlers.mcpListClicked(s, event);
  },
  mcpCallClicked(s, event) {
    return anyLoading(s) ? s : mcpHandlers.mcpCallClicked(s, event);
  },
  mcpCheckClicked(s, event) {
    return anyLoading(s) ? s : mcpHandlers.mcpCheckClicked(s, event);
  },
  mcpListingClicked(s, event) {
    return anyLoading(s) ? s : mcpHandlers.mcpListingClicked(s, event);
  },
  mcpStepUpClicked(s, event) {
    return anyLoading(s) ? s : mcpHandlers.mcpStepUpClicked(s, event);
  },
  apiFailed(s, event) {
    if (s.api.status !== "loading") return s;
    // The backend's refresh was refused. It also emits session-changed(null + notice); whichever
    // comes first signs us out, and that notice (the backend's own words) wins when it follows.
    if (event.error?.kind === "session_ended") return sessionEnded(s, sessionEndedNotice(event.error));
    return requestHandlers.apiFailed(s, event);
  },
  profileSwitched(s, { settings }) {
    if (!settings) return s;
    const next = withSettings(s, settings);
    return { ...next, fieldErrors: {}, notice: null, profiles: { ...next.profiles, busy: false, error: null } };
  },
  diagnosisCopyClicked(s) {
    return s.api.diagnosis ? { ...s, diagnosisCopy: null } : s;
  },
  diagnosisCopied(s, { ok }) {
    return { ...s, diagnosisCopy: ok ? "done" : "failed" };
  },
  signOutClicked(s) {
    if (s.screen !== "signedIn" || s.signingOut) return s;
    return { ...s, signingOut: true, notice: null };
  },
  signedOut(s, { outcome }) {
    // Sign-out ends the Clerk session too (the engine's sign_out).
    return signedOut({ ...s, clerk: null }, signOutNotice(outcome));
  },
  /**
   * The Clerk session the backend keeps for the instance (clerk_session: at boot, after a
   * settings change, after each send, which mints a new session token), or null.
   */
  clerkLoaded(s, { clerk }) {
    const c = clerk && typeof clerk === "object" ? clerk : null;
    if (JSON.stringify(c) === JSON.stringify(s.clerk)) return s;
    if (c) {
      // Kept from an earlier run: the explorer opens, with session tokens to send.
      if (s.screen === "signedOut" && !s.saving) return { ...s, screen: "signedIn", clerk: c };
      return { ...s, clerk: c };
    }
    if (s.screen === "signedIn" && !s.session) return signedOut({ ...s, clerk: null }, s.notice);
    return { ...s, clerk: null };
  },
  signOutFailed(s, { error }) {
    return { ...s, signingOut: false, notice: { tone: "error", text: `Sign-out failed: ${error?.message}` } };
  },

  // A bug in a side effect should surface, not vanish into the console.
  unexpectedError(s, { error }) {
    return { ...s, saving: false, notice: { tone: "error", text: `Something went wrong: ${error?.message ?? error}` } };
  },
};

function withoutKey(object, key) {
  const { [key]: _gone, ...rest } = object;
  return rest;
}

/** What set-up did, in one or two plain sentences. */
function setUpNotice(settings, note, from) {
  const first = from === "api"
    ? `Set up from the API: sign in at ${settings.instance}${settings.resource ? ` for ${settings.resource}` : ""}.`
    : "";
  return [first, note ?? ""].filter(Boolean).join(" ");
}

/** A sign-in keeps an info notice from just before it (what the set-up did); errors go. */
function keptNotice(notice) {
  return notice?.tone === "info" && notice.setUp ? notice : null;
}

/** The state after `event`; the same object when the event does not apply. */
export function next(state, event) {
  const handler = Object.hasOwn(handlers, event?.type) ? handlers[event.type] : null;
  // An answer names the tab it was sent from: it goes there, in front or not.
  return handler ? routed(state, event, handler) : state;
}

export const EVENT_TYPES = Object.freeze(Object.keys(handlers));

/** RFC 8628: the URL to open for a device code (with the code in it, when offered). */
function deviceUrl(progress) {
  if (progress.stage !== "device_code") return null;
  return progress.verification_uri_complete ?? progress.verification_uri ?? null;
}

/**
 * What the window shows of a device code; a QR matrix is kept only when well formed. `at`: when
 * it came (ms), so the code's expiry (RFC 8628 expires_in) counts down on the clock's ticks.
 */
function deviceView(p, at) {
  const qr = p.qr;
  const size = Number.isInteger(qr?.size) ? qr.size : 0;
  const ok = size > 0 && size <= 177 && Array.isArray(qr.modules) && qr.modules.length === size * size;
  return {
    userCode: typeof p.user_code === "string" ? p.user_code : "",
    verificationUri: typeof p.verification_uri === "string" ? p.verification_uri : "",
    qr: ok ? { size, modules: qr.modules.map(Boolean) } : null,
    expiresAt: Number.isFinite(p.expires_in) && p.expires_in > 0 ? at + p.expires_in * 1000 : null,
  };
}
