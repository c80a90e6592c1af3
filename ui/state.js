// The whole UI state and its one transition function. Pure: no DOM, no Tauri, no timers.
// Rule used by main.js: an event that `next` ignores returns the SAME object, so nothing
// re-renders and no command runs (e.g. a second "Call API" click while one is loading).

import { httpErrorMessage, signInFailureNotice, signOutNotice } from "./format.js";

/** Settings fields, as the backend names them in `{kind: "invalid_setting", field}`. */
export const FIELDS = ["instance", "clientId", "scopes", "redirectPort", "apiUrl"];

const API_IDLE = Object.freeze({ status: "idle", result: null, message: null, diagnosis: null });

export function initialState(now = 0) {
  return {
    screen: "loading", // "loading" | "signedOut" | "signingIn" | "signedIn"
    now, // ms since epoch, advanced by "tick"
    settings: null, // last Settings the backend loaded or saved
    form: formFromSettings(null), // what the user typed; strings only
    fieldErrors: {}, // { [field]: message }
    saving: false,
    notice: null, // { tone: "info" | "warning" | "error", text }
    session: null,
    signIn: null, // while signingIn: { stage, url, message, cancelling, reopening, copy }
    signingOut: false,
    api: API_IDLE, // { status: "idle" | "loading" | "error" | "data", result, message, diagnosis }
    expanded: { settings: false, idToken: false }, // <details> open state survives re-renders
  };
}

export function formFromSettings(settings) {
  return {
    instance: settings?.instance ?? "",
    clientId: settings?.clientId ?? "",
    scopes: settings?.scopes ?? "",
    redirectPort: settings?.redirectPort == null ? "" : String(settings.redirectPort),
    apiUrl: settings?.apiUrl ?? "",
  };
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
      scopes: form.scopes,
      redirectPort: port === "" ? 0 : Number(port),
      apiUrl: form.apiUrl,
      sandbox: Boolean(saved?.sandbox), // not user-editable; sent back unchanged
    },
  };
}

function signedOut(state, notice) {
  return {
    ...state, screen: "signedOut", session: null, signIn: null,
    signingOut: false, api: API_IDLE, notice,
  };
}

function signedIn(state, session) {
  const sameUser = state.session?.subject === session.subject;
  return {
    ...state, screen: "signedIn", session, signIn: null,
    api: sameUser ? state.api : API_IDLE,
  };
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
  booted(s, { settings, session, error }) {
    const base = {
      ...s,
      settings: settings ?? null,
      form: settings ? formFromSettings(settings) : s.form,
    };
    const notice = error ? { tone: "error", text: `Keyhole could not load: ${error.message}` } : null;
    return session ? { ...signedIn(base, session), notice } : signedOut(base, notice);
  },
  tick(s, { now }) {
    return now === s.now ? s : { ...s, now };
  },

  // --- settings form ----------------------------------------------------------------
  fieldEdited(s, { field, value }) {
    if (!FIELDS.includes(field) || s.form[field] === value) return s;
    // Field errors stay until the next save: clearing them would re-render mid-typing.
    return { ...s, form: { ...s.form, [field]: value } };
  },
  saveClicked(s) {
    if (s.saving || s.screen === "loading" || s.screen === "signingIn") return s;
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  settingsSaved(s, { settings, quiet }) {
    return {
      ...s, saving: false, settings, form: formFromSettings(settings), fieldErrors: {},
      notice: quiet ? s.notice : { tone: "info", text: "Settings saved." },
    };
  },
  settingsRejected(s, { error }) {
    return settingsError(s, error);
  },
  sectionToggled(s, { section, open }) {
    if (!(section in s.expanded) || s.expanded[section] === Boolean(open)) return s;
    return { ...s, expanded: { ...s.expanded, [section]: Boolean(open) } };
  },

  // --- sign-in ----------------------------------------------------------------------
  signInClicked(s) {
    if (s.screen !== "signedOut" || s.saving) return s;
    return { ...s, saving: true, fieldErrors: {}, notice: null };
  },
  signInStarted(s) {
    return {
      ...s, screen: "signingIn", saving: false, notice: null,
      signIn: { stage: null, url: null, message: null, cancelling: false, reopening: false, copy: null },
    };
  },
  signInProgress(s, { progress }) {
    if (s.screen !== "signingIn" || !progress) return s;
    return patchSignIn(s, {
      stage: progress.stage ?? s.signIn.stage,
      url: progress.url ?? s.signIn.url, // the URL stays known once sent
      message: progress.stage === "browser_failed" ? (progress.message ?? null) : s.signIn.message,
    });
  },
  signInSucceeded(s, { session }) {
    return session ? { ...signedIn(s, session), notice: null } : s;
  },
  signInFailed(s, { error }) {
    if (s.screen !== "signingIn") return s; // e.g. a session-changed already moved us on
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

  // --- signed in --------------------------------------------------------------------
  sessionChanged(s, { session }) {
    if (session) return s.screen === "loading" ? { ...s, session } : signedIn(s, session);
    if (s.screen !== "signedIn") return s.screen === "loading" ? { ...s, session: null } : s;
    // While our own sign-out runs, its outcome sets the notice; don't say "ended" first.
    const out = signedOut(s, s.signingOut ? s.notice : { tone: "info", text: "Your session ended." });
    return { ...out, signingOut: s.signingOut };
  },
  callApiClicked(s) {
    if (s.screen !== "signedIn" || s.api.status === "loading") return s;
    return { ...s, api: { ...API_IDLE, status: "loading" } };
  },
  apiAnswered(s, { result }) {
    if (s.api.status !== "loading") return s;
    const diagnosis = result.diagnosis ?? null;
    return result.ok
      ? { ...s, api: { status: "data", result, message: null, diagnosis } }
      : { ...s, api: { status: "error", result, message: httpErrorMessage(result), diagnosis } };
  },
  apiFailed(s, { error }) {
    if (s.api.status !== "loading") return s;
    return { ...s, api: { status: "error", result: null, message: error?.message ?? "unknown error", diagnosis: null } };
  },
  signOutClicked(s) {
    if (s.screen !== "signedIn" || s.signingOut) return s;
    return { ...s, signingOut: true, notice: null };
  },
  signedOut(s, { outcome }) {
    return signedOut(s, signOutNotice(outcome));
  },
  signOutFailed(s, { error }) {
    return { ...s, signingOut: false, notice: { tone: "error", text: `Sign-out failed: ${error?.message}` } };
  },

  // A bug in a side effect should surface, not vanish into the console.
  unexpectedError(s, { error }) {
    return { ...s, saving: false, notice: { tone: "error", text: `Something went wrong: ${error?.message ?? error}` } };
  },
};

/** The state after `event`; the same object when the event does not apply. */
export function next(state, event) {
  const handler = Object.hasOwn(handlers, event?.type) ? handlers[event.type] : null;
  return handler ? handler(state, event) : state;
}

export const EVENT_TYPES = Object.freeze(Object.keys(handlers));
