// Boot, the dispatch loop, and the side effects (commands) that user intents trigger.

import * as api from "./api.js";
import { defaultTokenType, requestFor } from "./request.js";
import { tabsShown, tabsSnapshot } from "./tabs.js";
import { mcpBusy, waiting } from "./mcp.js";
import { initialState, needsRegistration, next, settingsFromForm } from "./state.js";
import { updateAbout, updateChrome, updateClock, updateSetUpOffer, view } from "./view.js";
import { forgetViewers, viewerAttached } from "./viewer-view.js";

const root = document.getElementById("app");
const statusEl = document.getElementById("status");
const badgeEl = document.getElementById("sandbox-badge");
const aboutEl = document.getElementById("about");
const INPUT_IDS = { instance: "instance", clientId: "client-id", clientMetadataUrl: "client-metadata-url", scopes: "scopes", redirectPort: "redirect-port", apiUrl: "api-url", resource: "resource" };

let state = initialState(Date.now());

/** Typing: the input already shows it, and re-rendering would break IME and undo. */
const TYPING = new Set(["fieldEdited", "requestEdited", "profileNameEdited", "savedNameEdited", "keyEdited", "keysTextEdited", "variableEdited", "importEdited", "mcpUrlEdited", "mcpArgEdited", "mcpRawEdited", "mcpExpiryEdited"]);

let lastEventType = "";

function dispatch(event) {
  const prev = state;
  state = next(prev, event);
  if (state === prev) return; // ignored by the state machine: no render, no command
  freeAnswers(prev, event);
  keepTabs();
  lastEventType = event.type;
  if (event.type === "tick") updateClock(root, state);
  // The input already shows what was typed; re-rendering would break IME and undo.
  else if (!(TYPING.has(event.type) || (event.type === "rowEdited" && event.key !== "enabled")) || typedChangedMore(prev, state, event)) renderOrHold();
  else if (event.type === "fieldEdited") updateSetUpOffer(root, state);
  // Typing in the query table rewrites the URL: that field alone follows, the row keeps focus.
  if (event.type === "rowEdited" && event.list === "query" && prev.request.url !== state.request.url) updateUrlField();
  if (headerSplit(prev, state, event)) {
    // "Name: value" went into a name: on to the value of the last row it made.
    const added = state.request.headers.length - prev.request.headers.length;
    document.getElementById(`headers-${event.index + added}-value`)?.focus();
  }
  const effect = effects[event.type];
  if (effect) effect(event).catch((error) => dispatch({ type: "unexpectedError", error }));
}

/**
 * Typing is not re-rendered, unless it changed more than the input shows: a notice or an error
 * that goes, or a row the state rewrote (a pasted "Name: value" header line split in two).
 */
function typedChangedMore(prev, now, event) {
  if (prev.notice !== now.notice || prev.fieldErrors !== now.fieldErrors || prev.requestError !== now.requestError) return true;
  if (prev.mcp.urlError !== now.mcp.urlError || prev.mcp.form?.errors !== now.mcp.form?.errors || prev.mcp.form?.rawError !== now.mcp.form?.rawError) return true;
  if (prev.mcp.expiry.error !== now.mcp.expiry.error) return true;
  // Typing in the URL may change the query table: it is redrawn (the URL keeps its caret).
  if (prev.request?.query !== now.request?.query && event.type === "requestEdited") return true;
  if (event.type !== "rowEdited") return false;
  const rows = now.request?.[event.list];
  return rows?.length !== prev.request?.[event.list]?.length || rows?.[event.index]?.[event.key] !== event.value;
}

function headerSplit(prev, now, event) {
  const typed = event.type === "rowEdited" && event.list === "headers" && event.key === "name";
  if (!typed && event.type !== "headerPasted") return false;
  return prev.request.headers !== now.request.headers && now.request.headers[event.index]?.name !== (event.value ?? event.text);
}

function updateUrlField() {
  const url = document.getElementById("request-url");
  if (url && url.value !== state.request.url) url.value = state.request.url;
}

/** The ids of the answers some tab holds (the shell keeps their bodies for the viewer). */
function heldAnswers(s) {
  if (!s.tabs) return new Set();
  return new Set(tabsShown(s).map((t) => t.api?.result?.answer?.id).filter((id) => id != null));
}

/**
 * An answer no tab holds any more (its tab closed, a newer answer in its place, signed out, or
 * an answer that came back for a tab closed since) is freed where the shell keeps it.
 */
function freeAnswers(prev, event) {
  const before = heldAnswers(prev);
  const arrived = event.result?.answer?.id;
  if (arrived != null) before.add(arrived);
  const now = heldAnswers(state);
  const gone = [...before].filter((id) => !now.has(id));
  if (gone.length === 0) return;
  forgetViewers(now);
  for (const id of gone) api.dropAnswer(id).catch(() => {});
}

let savedTabs = null;
let unsavedTabs = null;

/**
 * The tabs are kept for the next launch (save_tabs) on the clock's next tick after they change
 * (flushTabs), not on every key: drafts and status lines only. The shell blanks credential
 * headers; no answer body ever goes.
 */
function keepTabs() {
  if (state.screen !== "signedIn") return;
  const snapshot = JSON.stringify(tabsSnapshot(state, defaultTokenType(state)));
  if (snapshot !== savedTabs) unsavedTabs = snapshot;
}

function flushTabs() {
  if (unsavedTabs == null) return;
  savedTabs = unsavedTabs;
  unsavedTabs = null;
  api.saveTabs(JSON.parse(savedTabs)).catch((error) => dispatch({ type: "unexpectedError", error }));
}

let renderedScreen = state.screen;

/**
 * While the first frame's events go in (boot), renders wait and one render follows them: each
 * render rebuilds the screen and may lay it out (focus does), and only the last one is seen.
 */
let held = null; // null: render at once; false/true: holding, and whether a render is owed

function renderOrHold() {
  if (held === null) render();
  else held = true;
}

/** Dispatches `events` in order with one render after them, if any of them asked for one. */
function dispatchAll(events) {
  held = false;
  try {
    events.forEach(dispatch);
  } finally {
    const owed = held;
    held = null;
    if (owed) render();
  }
}

function render() {
  const active = document.activeElement;
  const focusWasInside = Boolean(active) && root.contains(active);
  const focusId = focusWasInside ? active.id : "";
  const selection = focusId && typeof active.selectionStart === "number"
    ? [active.selectionStart, active.selectionEnd] : null;
  const screenChanged = state.screen !== renderedScreen && renderedScreen !== "loading";
  // Out of the start-up screens by themselves (the first frame may show a restore that then
  // ends): the first field to type in takes the focus, as at a cold start. A user's own way out
  // of the restoring screen lands on the heading like any other screen change.
  // The tabs and mode kept from the last run come in the first frame too: the field to type in
  // is the one of the mode restored (the MCP URL, or the request's URL).
  const booted = lastEventType === "tabsRestored" || (state.screen !== renderedScreen
    && (renderedScreen === "loading" || (renderedScreen === "restoring" && lastEventType === "sessionChanged")));
  renderedScreen = state.screen;

  root.replaceChildren(view(state, dispatch));
  viewerAttached();
  updateChrome(statusEl, badgeEl, state);

  if (booted) {
    // At start (and when a restore running at start ends), on the first field to type in.
    (root.querySelector("[data-initial-focus]") ?? root.querySelector("[data-autofocus]"))?.focus();
    return;
  }
  // Keep focus on "the same" control across the rebuild (ids are stable)...
  const again = focusId ? document.getElementById(focusId) : null;
  if (again) {
    again.focus({ preventScroll: true });
    if (selection) {
      try { again.setSelectionRange(...selection); } catch { /* not a text control */ }
    }
    return;
  }
  // ...and when it vanished or the screen changed, land on the new screen's heading rather
  // than dropping focus on <body>.
  // Signed in, the heading is below the split: focused without scrolling the split away.
  if (focusWasInside || screenChanged) root.querySelector("[data-autofocus]")?.focus({ preventScroll: state.screen === "signedIn" });
}

/** The request's parts, by the engine's field names, and the inputs that hold them. */
const REQUEST_INPUTS = { apiUrl: "request-url", query: "request-url", method: "request-method", timeout: "request-timeout", body: "request-body" };

/** After a refused or timed-out request: to the field it is about (its error names it). */
function focusRequestError() {
  const field = state.requestError?.field ?? (state.api.errorKind === "api_timeout" ? "timeout" : null);
  const el = field && document.getElementById(REQUEST_INPUTS[field]);
  if (el) el.focus();
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

/** Runs a set-up command on the form; returns the saved settings, or null after showing why not. */
async function setUp(command, from) {
  const checked = settingsFromForm(state.form, state.settings);
  let result;
  try {
    if (!checked.ok) throw checked.error;
    result = await command(checked.settings);
  } catch (error) {
    dispatch({ type: "setUpFailed", error });
    focusField(error.field);
    return null;
  }
  dispatch({ type: "setUpDone", result, from });
  return result.settings;
}

/** Before a sign-in: save the form, registering Keyhole first when there is no client ID. */
function saveForSignIn() {
  return needsRegistration(state.form) ? setUp(api.registerClient, "registration") : saveForm({ quiet: true });
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

const toRequestError = async () => focusRequestError();
const toUrl = async () => document.getElementById("request-url")?.focus();
const toActiveTab = async () => document.getElementById(`tab-${state.tabs.active}`)?.focus();

const effects = {
  async saveClicked() {
    // Another instance may keep another Clerk session (or none), and other keys.
    if (await saveForm({ quiet: false })) await Promise.all([loadClerk(), loadKeys()]);
  },
  async setUpClicked() {
    // The set-up button hides once done: the focus goes to what comes next, not to <body>.
    if (await setUp(api.setUpFromApi, "api")) document.getElementById("sign-in")?.focus();
  },
  async signInClicked() {
    await signIn("browser", saveForSignIn);
  },
  async deviceSignInClicked() {
    await signIn("device", saveForSignIn);
  },
  async clerkSignInClicked() {
    // Clerk's own sign-in needs only the instance: no client ID, so no registration.
    await signIn("clerk", () => saveForm({ quiet: true }));
  },
  async copyCodeClicked() {
    let ok = false;
    try {
      await navigator.clipboard.writeText(state.signIn?.device?.userCode ?? "");
      ok = true;
    } catch {
      // Clipboard access can be denied in a webview: the code is large enough to type.
    }
    dispatch({ type: "codeCopied", ok });
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
    const request = requestFor(state);
    const tab = state.tabs.active; // the answer goes to this tab, in front or not by then
    await settle(api.sendRequest(request, tab), (result) => ({ type: "apiAnswered", result, tab }), (error) => ({ type: "apiFailed", error, tab }));
    await loadHistory();
    // A session token was minted for it: the Clerk card shows the newest one's claims.
    if (request.tokenType === "session") await loadClerk();
  },
  async tryEveryClicked() {
    const tab = state.tabs.active;
    await settle(api.tryEveryTokenType(requestFor(state)), (matrix) => ({ type: "matrixAnswered", matrix, tab }), (error) => ({ type: "matrixFailed", error, tab }));
    await loadClerk();
  },
  async cancelRequestClicked() {
    // Success needs no event: the pending send_request rejects with kind "cancelled".
    await settle(api.cancelRequest(), () => ({ type: "noop" }), (error) => ({ type: "unexpectedError", error }));
  },
  // Where the focus goes after these (every effect answers a promise: dispatch catches it).
  apiFailed: toRequestError,
  matrixFailed: toRequestError,
  curlFailed: toRequestError,
  historyOpened: toUrl,
  historyOpenedInTab: toUrl,
  tabNew: toUrl,
  tabChosen: toActiveTab,
  tabStepped: toActiveTab,
  tabMoved: toActiveTab,
  tabClosed: toActiveTab,
  // --- the MCP mode: the engine speaks MCP and signs in from the server's 401 -----------------
  async modeChosen() {
    document.getElementById(state.mode === "mcp" ? "mcp-url" : "request-url")?.focus();
  },
  async mcpListClicked() {
    if (state.mcp.tools.status !== "loading") {
      document.getElementById("mcp-url")?.focus(); // an empty URL: said at the field
      return;
    }
    await settle(api.mcpTools(state.mcp.tools.request.url), (result) => ({ type: "mcpToolsAnswered", result }), (error) => ({ type: "mcpToolsFailed", error }));
    if (state.mcp.urlError) document.getElementById("mcp-url")?.focus();
  },
  async mcpCallClicked() {
    const call = state.mcp.call;
    if (call.status !== "loading") {
      // Not sent: to the first field the form says is wrong (or the JSON).
      const first = Object.keys(state.mcp.form?.errors ?? {})[0];
      document.getElementById(state.mcp.form?.mode === "json" ? "mcp-args-raw" : first)?.focus();
      return;
    }
    const { url, tool, arguments: args } = call.request;
    await settle(api.mcpCall(url, tool, args), (result) => ({ type: "mcpCallAnswered", result }), (error) => ({ type: "mcpCallFailed", error }));
  },
  async mcpListingClicked() {
    const wait = state.mcp.listing;
    if (wait.status !== "loading") {
      document.getElementById("mcp-url")?.focus(); // an empty URL: said at the field
      return;
    }
    // One after the other: the engine sends one request at a time (a second cancels the first).
    const { url } = wait.request;
    let resources;
    let prompts;
    try {
      resources = await api.mcpResources(url);
      // Cancelled between the two: nothing was in flight to cancel, so the second is not sent.
      if (state.mcp.listing.cancelling) throw { kind: "cancelled", message: "Cancelled." };
      prompts = await api.mcpPrompts(url);
    } catch (error) {
      dispatch({ type: "mcpListingFailed", error });
      if (state.mcp.urlError) document.getElementById("mcp-url")?.focus();
      return;
    }
    dispatch({ type: "mcpListingAnswered", result: { resources, prompts } });
  },
  async mcpCheckClicked() {
    if (state.mcp.check.status !== "loading") {
      // Not sent: to the field that says why (the seconds to wait, or an empty URL).
      document.getElementById(state.mcp.expiry.error ? "mcp-expiry-seconds" : "mcp-url")?.focus();
      return;
    }
    const { url, expiryWait } = state.mcp.check.request;
    await settle(api.mcpCheck(url, expiryWait), (result) => ({ type: "mcpCheckAnswered", result }), (error) => ({ type: "mcpCheckFailed", error }));
    if (state.mcp.urlError) document.getElementById("mcp-url")?.focus();
    else document.getElementById("mcp-check-summary")?.focus();
  },
  async mcpStepUpClicked() {
    // The user agreed: the step-up's sign-in, then the refused operation once more.
    const which = waiting(state);
    const wait = which ? state.mcp[which] : null;
    if (!wait?.stepUp) return;
    const failed = (error) => ({ type: which === "tools" ? "mcpToolsFailed" : "mcpCallFailed", error });
    try {
      await api.mcpStepUp(wait.request.url, wait.stepUp);
    } catch (error) {
      dispatch(failed(error));
      return;
    }
    dispatch({ type: "mcpSteppedUp" });
    if (state.mcp[which].status !== "loading") return; // cancelled meanwhile
    const { url, tool, arguments: args } = wait.request;
    if (which === "tools") await settle(api.mcpTools(url), (result) => ({ type: "mcpToolsAnswered", result }), failed);
    else await settle(api.mcpCall(url, tool, args), (result) => ({ type: "mcpCallAnswered", result }), failed);
  },
  async mcpCancelClicked() {
    // Success needs no event: the pending mcp_tools / mcp_call rejects with kind "cancelled".
    await settle(api.cancelRequest(), () => ({ type: "noop" }), (error) => ({ type: "unexpectedError", error }));
  },
  async clearHistoryClicked() {
    await api.clearHistory();
  },
  async copyCurlClicked() {
    await settle(api.copyCurl(requestFor(state), state.curl.literal), (copy) => ({ type: "curlCopied", copy }), (error) => ({ type: "curlFailed", error }));
  },
  async diagnosisCopyClicked() {
    let ok = false;
    try {
      await navigator.clipboard.writeText(state.api.diagnosis);
      ok = true;
    } catch {
      // Clipboard access can be denied in a webview; selecting the text is the fallback.
    }
    dispatch({ type: "diagnosisCopied", ok });
    if (!ok) selectText(document.getElementById("diagnosis-details"));
  },
  async profileSwitchClicked(event) {
    await settle(api.switchProfile(event.name || null), (settings) => ({ type: "profileSwitched", settings }), (error) => ({ type: "profileFailed", error }));
    // The history is the profile's own too.
    await Promise.all([loadProfiles(), loadSaved(), loadClerk(), loadKeys(), loadHistory(), loadVariables()]);
  },
  async saveProfileClicked() {
    const name = state.profiles.draft.trim();
    const from = state.profiles.current;
    const signedIn = Boolean(state.session);
    await settle(api.saveProfile(name), (profiles) => ({ type: "profilesLoaded", profiles }), (error) => ({ type: "profileFailed", error }));
    if (state.profiles.current === name) {
      dispatch({ type: "profileNameEdited", value: "" });
      await settle(api.loadSettings(), (settings) => ({ type: "profileSwitched", settings }), (error) => ({ type: "profileFailed", error }));
      // After the switch, which clears the notices of the profile left behind.
      if (name !== from) dispatch({ type: "profileSaved", name, from, signedIn });
    }
    await Promise.all([loadSaved(), loadHistory(), loadVariables()]);
  },
  async savedReplaceClicked() {
    await effects.saveRequestClicked();
  },
  async saveRequestClicked() {
    // A name already saved: the question takes the focus (Replace, or Cancel next to it).
    if (state.saved.confirm) document.getElementById("saved-replace")?.focus();
    if (!state.saved.busy) return; // no name, or a name to confirm: the state said so
    const request = requestFor(state);
    await settle(api.saveRequest(state.saved.draft.trim(), request), (requests) => ({ type: "savedLoaded", requests }), (error) => ({ type: "savedFailed", error }));
  },
  async savedOpened() {
    document.getElementById("request-url")?.focus();
  },
  async deleteSavedClicked(event) {
    await settle(api.deleteSavedRequest(event.name), (requests) => ({ type: "savedLoaded", requests }), (error) => ({ type: "savedFailed", error }));
  },
  // --- the Clerk keys panel: what was typed goes to the engine, which answers it masked ---------
  async keySaveClicked({ kind }) {
    const value = state.keys.drafts[kind];
    // keySaved empties the draft: the re-rendered input is empty, and the value is not kept.
    await settle(api.saveClerkKey(kind, value), (keys) => ({ type: "keySaved", kind, keys }), (error) => ({ type: "keySaveFailed", kind, error }));
  },
  async keyForgetClicked({ kind }) {
    await settle(api.forgetClerkKey(kind), (keys) => ({ type: "keyForgotten", kind, keys }), (error) => ({ type: "keyForgetFailed", kind, error }));
  },
  async testSessionClicked() {
    const { actAs, allowProduction } = state.keys;
    await settle(api.startTestSession(actAs.trim(), allowProduction), (session) => ({ type: "testSessionStarted", session }), (error) => ({ type: "testSessionFailed", error }));
  },
  async createApiKeyClicked() {
    await settle(api.createApiKey(state.keys.apiKeyFor.trim()), (masked) => ({ type: "apiKeyCreated", masked }), (error) => ({ type: "createApiKeyFailed", error }));
    await loadKeys(); // the new key is kept: the API key row and the selector show it
  },
  // --- variables and import: a secret value goes to the engine, which answers it masked ----------
  async variableSaveClicked() {
    const { name, value, secret } = state.variables.draft;
    await settle(api.setVariable(name.trim(), value, secret), (variables) => ({ type: "variableSaved", variables }), (error) => ({ type: "variableFailed", error }));
  },
  async variableForgetClicked({ name }) {
    await settle(api.forgetVariable(name), (variables) => ({ type: "variableForgotten", variables }), (error) => ({ type: "variableFailed", error }));
  },
  async importClicked() {
    const { kind, source } = state.variables.import;
    await settle(api.importDocument(kind, source.trim()), (report) => ({ type: "importDone", report }), (error) => ({ type: "importFailed", error }));
    await Promise.all([loadSaved(), loadVariables()]);
  },
  async curlPasted({ text }) {
    await settle(api.importCurl(text), (imported) => ({ type: "curlImported", imported }), (error) => ({ type: "curlImportFailed", error }));
    document.getElementById("request-url")?.focus();
  },
  async signOutClicked() {
    await settle(api.signOut(), (outcome) => ({ type: "signedOut", outcome }), (error) => ({ type: "signOutFailed", error }));
  },
};

function selectText(el) {
  const selection = window.getSelection?.();
  if (!el || !selection) return;
  const range = document.createRange();
  range.selectNodeContents(el);
  selection.removeAllRanges();
  selection.addRange(range);
}

/** A sign-in of `method` after `save` (the form); back where it was when saving failed. */
async function signIn(method, save) {
  const from = state.screen;
  if (!(await save())) {
    dispatch({ type: "signInAborted" });
    return;
  }
  // A background restore may have signed us in (or a Clerk session come) while the settings
  // were saving: then this kind is held, or the screen moved on, and no sign-in starts.
  const held = method === "clerk" ? state.clerk : state.session;
  if (state.screen !== from || held) return;
  dispatch({ type: "signInStarted", method });
  await settle(api.signIn(method), (session) => ({ type: "signInSucceeded", session }), (error) => ({ type: "signInFailed", error }));
}

/** The Clerk session kept for the instance (none, or an instance not set: null). */
async function loadClerk() {
  await settle(api.clerkSession(), (clerk) => ({ type: "clerkLoaded", clerk }), () => ({ type: "noop" }));
}

/** The Clerk keys kept for the instance, masked. */
async function loadKeys() {
  await settle(api.clerkKeys(), (keys) => ({ type: "keysLoaded", keys }), () => ({ type: "noop" }));
}

async function loadHistory() {
  await settle(api.history(), (entries) => ({ type: "historyLoaded", entries }), () => ({ type: "noop" }));
}

/** The current profile's variables, secret values masked. */
async function loadVariables() {
  await settle(api.variables(), (variables) => ({ type: "variablesLoaded", variables }), () => ({ type: "noop" }));
}

async function loadSaved() {
  await settle(api.savedRequests(), (requests) => ({ type: "savedLoaded", requests }), (error) => ({ type: "savedFailed", error }));
}

async function loadProfiles() {
  await settle(api.profiles(), (profiles) => ({ type: "profilesLoaded", profiles }), (error) => ({ type: "profileFailed", error }));
}

/** The tab keys: Ctrl+T, Ctrl+W, Ctrl+PageUp/PageDown (switch), with Shift (move). */
function tabKey(e) {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || state.screen !== "signedIn" || state.mode !== "rest") return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (key === "t" && !e.shiftKey) return { type: "tabNew" };
  if (key === "w" && !e.shiftKey) return { type: "tabClosed", id: state.tabs.active };
  const by = { PageUp: -1, PageDown: 1 }[key];
  if (!by) return null;
  return e.shiftKey ? { type: "tabMoved", by } : { type: "tabStepped", by };
}

/**
 * Esc cancels the request (or MCP wait) in flight; Ctrl/Cmd+L goes to the URL; Ctrl/Cmd+Enter
 * sends (in the MCP mode: calls the tool).
 */
function onKeyDown(e) {
  const tab = tabKey(e);
  if (tab) {
    e.preventDefault();
    dispatch(tab);
    return;
  }
  const mcp = state.mode === "mcp";
  if (e.key === "Escape" && mcpBusy(state)) {
    e.preventDefault();
    dispatch({ type: "mcpCancelClicked" });
  } else if (e.key === "Escape" && (state.api.status === "loading" || state.matrix.status === "loading")) {
    e.preventDefault();
    dispatch({ type: "cancelRequestClicked" });
  } else if ((e.ctrlKey || e.metaKey) && (e.key === "l" || e.key === "L")) {
    const url = document.getElementById(mcp ? "mcp-url" : "request-url");
    if (url) {
      e.preventDefault();
      url.focus();
      url.select?.();
    }
  } else if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && state.screen === "signedIn") {
    e.preventDefault();
    dispatch({ type: mcp ? "mcpCallClicked" : "callApiClicked" });
  }
}

/** index.html hides the page until its first real render (styles.css, html[data-booting]). */
function reveal() {
  const html = document.documentElement;
  // What the first frame showed, kept for the end-to-end tests (a restore's end, not "restoring").
  if (html?.hasAttribute("data-booting")) html.setAttribute("data-first-screen", state.screen);
  html?.removeAttribute("data-booting");
  // A hidden page cannot take the focus: the first field gets it now that it shows.
  if (!root.contains(document.activeElement)) {
    (root.querySelector("[data-initial-focus]") ?? root.querySelector("[data-autofocus]"))?.focus();
  }
}

/**
 * How long the first frame may wait for the restore and the Clerk session (beforeFirstFrame): a
 * restore that only reads the keychain ends well within it; one that renews over the network may
 * not, and the page then shows "Restoring…" until it does.
 */
const FIRST_FRAME_WAIT_MS = 1000;
const LATE = Symbol("late");

/**
 * The session once a restore running since launch has ended, and the Clerk session, each as it
 * answers within FIRST_FRAME_WAIT_MS; what did not answer by then stays as in the shell's snapshot
 * (and arrives later, as before). Usually the snapshot has both (the restore ended and the Clerk
 * session was read before the window was built), and nothing is asked: the first frame is then
 * rendered as soon as this module runs.
 */
async function beforeFirstFrame(initial) {
  const snapshot = initial.session;
  const clerkRead = initial.clerk && typeof initial.clerk === "object" ? initial.clerk : null;
  if (!snapshot?.restoring && clerkRead) return { sessionState: snapshot, clerk: clerkRead.session ?? null };
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, FIRST_FRAME_WAIT_MS + 50, LATE); });
  const within = (promise) => Promise.race([promise, late]);
  const [sessionState, clerk] = await Promise.all([
    snapshot?.restoring ? within(api.session(FIRST_FRAME_WAIT_MS).catch(() => LATE)) : snapshot,
    clerkRead ? clerkRead.session ?? null : within(api.clerkSession().catch(() => null)),
  ]);
  clearTimeout(timer);
  return { sessionState: sessionState === LATE ? snapshot : sessionState, clerk: clerk === LATE ? null : clerk };
}

/** Resolves once the frame rendered now has been painted (two animation frames later). */
function afterNextPaint() {
  const frame = globalThis.requestAnimationFrame ?? ((callback) => setTimeout(callback, 16));
  return new Promise((resolve) => frame(() => frame(() => resolve())));
}

async function boot() {
  // The shell injects the settings and whether a session is being restored before this page
  // loads, so the first render is the final layout and no command is awaited before it.
  const initial = api.initialState();
  if (initial) {
    updateAbout(aboutEl, initial.about);
    // The shell's snapshot was taken as the window was built; the restore from the keychain and
    // the Clerk session's read, both started at launch, have usually ended by then and are in it.
    // What has not is waited for (bounded), so the first frame is the final layout instead of a
    // "Restoring…" or signed-out frame that a few milliseconds later turns into another screen.
    const early = initial.settings?.instance ? await beforeFirstFrame(initial) : null;
    // The session, the Clerk session and the tabs kept from the last run: one first frame.
    dispatchAll([
      { type: "booted", settings: initial.settings, sessionState: early?.sessionState ?? initial.session, error: null },
      ...(early?.clerk ? [{ type: "clerkLoaded", clerk: early.clerk }] : []),
      ...(initial.tabs ? [{ type: "tabsRestored", saved: initial.tabs }] : []),
    ]);
    reveal();
    // Let that frame reach the screen before anything else runs: what follows starts commands,
    // which the shell answers on the thread that also puts the frame on screen, and re-renders.
    await afterNextPaint();
  }

  const unlisten = [];
  let listenError = null;
  try {
    // Subscribe before reading the session so no session-changed slips between the two.
    unlisten.push(await api.onSignInProgress((progress) => dispatch({ type: "signInProgress", progress, at: Date.now() })));
    // Payload: SessionState {session, restoring, notice} — restore done, refresh, ended, sign-in/out.
    unlisten.push(await api.onSessionChanged((sessionState) => dispatch({ type: "sessionChanged", state: sessionState })));
  } catch (error) {
    listenError = error;
  }
  window.addEventListener("pagehide", () => {
    flushTabs();
    unlisten.forEach((stop) => stop());
  });
  window.addEventListener("keydown", onKeyDown);

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
    await settle(api.tabs(), (saved) => ({ type: "tabsRestored", saved }), () => ({ type: "noop" }));
    reveal();
  }

  await Promise.all([loadHistory(), loadProfiles(), loadSaved(), loadVariables(), loadClerk(), loadKeys()]);
  setInterval(() => {
    dispatch({ type: "tick", now: Date.now() });
    flushTabs();
  }, 1000);
}

boot();
