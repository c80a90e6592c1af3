// Boot, the dispatch loop, and the side effects (commands) that user intents trigger.

import * as api from "./api.js";
import { initialState, next, settingsFromForm } from "./state.js";
import { updateAbout, updateChrome, updateClock, view } from "./view.js";

const root = document.getElementById("app");
const statusEl = document.getElementById("status");
const badgeEl = document.getElementById("sandbox-badge");
const aboutEl = document.getElementById("about");
const INPUT_IDS = { instance: "instance", clientId: "client-id", scopes: "scopes", redirectPort: "redirect-port", apiUrl: "api-url" };

let state = initialState(Date.now());

function dispatch(event) {
  const prev = state;
  state = next(prev, event);
  if (state === prev) return; // ignored by the state machine: no render, no command
  if (event.type === "tick") updateClock(root, state);
  // The input already shows what was typed; re-rendering would break IME and undo.
  else if (event.type !== "fieldEdited") render();
  const effect = effects[event.type];
  if (effect) effect(event).catch((error) => dispatch({ type: "unexpectedError", error }));
}

let renderedScreen = state.screen;

function render() {
  const active = document.activeElement;
  const focusWasInside = Boolean(active) && root.contains(active);
  const focusId = focusWasInside ? active.id : "";
  const selection = focusId && typeof active.selectionStart === "number"
    ? [active.selectionStart, active.selectionEnd] : null;
  const screenChanged = state.screen !== renderedScreen && renderedScreen !== "loading";
  renderedScreen = state.screen;

  root.replaceChildren(view(state, dispatch));
  updateChrome(statusEl, badgeEl, state);

  // Keep focus on "the same" control across the rebuild (ids are stable)...
  const again = focusId ? document.getElementById(focusId) : null;
  if (again) {
    again.focus({ preventScroll: true });
    if (selection) {
      try { again.setSelectionRange(...selection); } catch { /* not a text control */ }
    }
    return;
  }
  // ...and when it vanished or the screen changed, land on the new screen's heading
  // rather than dropping focus on <body>.
  if (focusWasInside || screenChanged) root.querySelector("[data-autofocus]")?.focus();
}

function focusField(field) {
  const el = field && document.getElementById(INPUT_IDS[field]);
  if (el) el.focus();
}

/** Save the form; returns the normalized settings, or null after showing the error. */
async function saveForm({ quiet }) {
  const checked = settingsFromForm(state.form, state.settings);
  let settings;
  try {
    if (!checked.ok) throw checked.error;
    settings = await api.saveSettings(checked.settings);
  } catch (error) {
    dispatch({ type: "settingsRejected", error });
    focusField(error.field);
    return null;
  }
  dispatch({ type: "settingsSaved", settings, quiet });
  return settings;
}

/** Await a command, then dispatch exactly one result event (kept outside the try, so a
 *  render bug is not mistaken for a command failure). */
async function settle(promise, ok, fail) {
  let value;
  try {
    value = await promise;
  } catch (error) {
    dispatch(fail(error));
    return;
  }
  dispatch(ok(value));
}

const effects = {
  async saveClicked() {
    await saveForm({ quiet: false });
  },
  async signInClicked() {
    if (!(await saveForm({ quiet: true }))) return;
    // A background restore may have signed us in while the settings were saving.
    if (state.screen !== "signedOut") return;
    dispatch({ type: "signInStarted" });
    await settle(api.signIn(), (session) => ({ type: "signInSucceeded", session }), (error) => ({ type: "signInFailed", error }));
  },
  async cancelClicked() {
    // Success needs no event: the pending sign_in rejects with kind "cancelled".
    await settle(api.cancelSignIn(), () => ({ type: "noop" }), (error) => ({ type: "cancelFailed", error }));
  },
  async reopenClicked() {
    await settle(api.openBrowserAgain(), () => ({ type: "browserReopened" }), (error) => ({ type: "browserReopenFailed", error }));
  },
  async copyUrlClicked() {
    const url = state.signIn?.url;
    let ok = false;
    try {
      await navigator.clipboard.writeText(url);
      ok = true;
    } catch {
      // Clipboard access can be denied in a webview; selecting the text is the fallback.
    }
    dispatch({ type: "urlCopied", ok });
    if (!ok) document.getElementById("sign-in-url")?.select();
  },
  async callApiClicked() {
    await settle(api.callApi(), (result) => ({ type: "apiAnswered", result }), (error) => ({ type: "apiFailed", error }));
  },
  async signOutClicked() {
    await settle(api.signOut(), (outcome) => ({ type: "signedOut", outcome }), (error) => ({ type: "signOutFailed", error }));
  },
};

/** index.html hides the page until its first real render (styles.css, html[data-booting]). */
function reveal() {
  document.documentElement?.removeAttribute("data-booting");
}

async function boot() {
  // The shell injects the settings and whether a session is being restored before this page
  // loads, so the first render is the final layout and no command is awaited before it.
  const initial = api.initialState();
  if (initial) {
    updateAbout(aboutEl, initial.about);
    dispatch({ type: "booted", settings: initial.settings, sessionState: initial.session, error: null });
    reveal();
  }

  const unlisten = [];
  let listenError = null;
  try {
    // Subscribe before reading the session so no session-changed slips between the two.
    unlisten.push(await api.onSignInProgress((progress) => dispatch({ type: "signInProgress", progress })));
    // Payload: SessionState {session, restoring, notice} — restore done, refresh, ended, sign-in/out.
    unlisten.push(await api.onSessionChanged((sessionState) => dispatch({ type: "sessionChanged", state: sessionState })));
  } catch (error) {
    listenError = error;
  }
  window.addEventListener("pagehide", () => unlisten.forEach((stop) => stop()));

  if (initial) {
    // Now that the page listens: what changed since the shell's snapshot (a restore that has
    // already ended) and the notices it holds for the page, which are said once.
    if (listenError) dispatch({ type: "unexpectedError", error: listenError });
    await settle(api.session(), (state) => ({ type: "sessionChanged", state }), (error) => ({ type: "unexpectedError", error }));
  } else {
    // Without the shell's state (an older shell, or KEYHOLE_FIRST_FRAME=commands): the page stays
    // hidden until these answer, so its first frame is still final. session() answers at once: a
    // restore from the keychain runs in the background and ends with a session-changed.
    const [settings, sessionState] = await Promise.allSettled([api.loadSettings(), api.session()]);
    const error = listenError
      ?? (settings.status === "rejected" ? settings.reason : null)
      ?? (sessionState.status === "rejected" ? sessionState.reason : null);
    dispatch({
      type: "booted",
      settings: settings.status === "fulfilled" ? settings.value : null,
      sessionState: sessionState.status === "fulfilled" ? sessionState.value : null,
      error,
    });
    reveal();
  }

  setInterval(() => dispatch({ type: "tick", now: Date.now() }), 1000);
}

boot();
