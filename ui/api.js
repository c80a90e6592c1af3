// The only module that touches window.__TAURI__ (and the shell's __KEYHOLE_INITIAL__). Every
// command is one async function; every failure is rethrown as a plain { kind, message, field?, neededScopes? } object
// (neededScopes: the scopes an MCP server's 403 insufficient_scope named, for the step-up).

/**
 * What the shell put on the page before its scripts ran (src-tauri `first_frame_script`):
 * `{settings, session: {session, restoring, notice}, clerk: {session} | null, about: {version,
 * commit}, tabs}`, or null. `clerk` is null when the launch's read of the Clerk session had not
 * answered when the window was built.
 */
export function initialState() {
  const initial = globalThis.window?.__KEYHOLE_INITIAL__;
  return initial && typeof initial === "object" && initial.settings ? initial : null;
}

function tauri() {
  const t = globalThis.window?.__TAURI__;
  if (!t?.core?.invoke) {
    throw { kind: "unavailable", message: "The Keyhole backend is not available (this page only works inside the app)." };
  }
  return t;
}

/** Normalize anything invoke can reject with (our error objects, plain strings, Errors). */
export function toError(e) {
  if (e && typeof e === "object" && typeof e.message === "string") {
    const out = { kind: typeof e.kind === "string" ? e.kind : "unknown", message: e.message };
    if (typeof e.field === "string") out.field = e.field;
    if (typeof e.neededScopes === "string") out.neededScopes = e.neededScopes;
    return out;
  }
  return { kind: "unknown", message: typeof e === "string" ? e : String(e) };
}

async function invoke(command, args) {
  try {
    return await tauri().core.invoke(command, args);
  } catch (e) {
    throw toError(e);
  }
}

export async function loadSettings() { return invoke("load_settings"); }
export async function saveSettings(settings) { return invoke("save_settings", { settings }); }
export async function setUpFromApi(settings) { return invoke("set_up_from_api", { settings }); }
export async function registerClient(settings) { return invoke("register_client", { settings }); }
/** With `settleMs`, the shell first waits (at most that long) for a restore running since launch. */
export async function session(settleMs) { return invoke("session", settleMs == null ? undefined : { settleMs }); }
/** `method`: "browser" (the system browser, loopback redirect) or "device" (a code, RFC 8628). */
export async function signIn(method = "browser") { return invoke("sign_in", { method }); }
export async function cancelSignIn() { return invoke("cancel_sign_in"); }
export async function openBrowserAgain() { return invoke("open_browser_again"); }
export async function signOut() { return invoke("sign_out"); }
export async function callApi() { return invoke("call_api"); }
export async function sendRequest(request, tab) { return invoke("send_request", tab == null ? { request } : { request, tab }); }
// The answer viewer: windows of lines, folds, search, filter, copy and save, by answer id.
export async function answerLines(answerId, mode, from, count) { return invoke("answer_lines", { answerId, mode, from, count }); }
export async function answerFold(answerId, mode, line, folded) { return invoke("answer_fold", { answerId, mode, line, folded }); }
export async function answerSearch(answerId, mode, query) { return invoke("answer_search", { answerId, mode, query }); }
export async function answerFilter(answerId, expression) { return invoke("answer_filter", { answerId, expression }); }
export async function answerCopy(answerId, mode) { return invoke("answer_copy", { answerId, mode }); }
export async function saveBody(answerId, path) { return invoke("save_body", { answerId, path }); }
export async function dropAnswer(answerId) { return invoke("drop_answer", { answerId }); }
export async function cancelRequest() { return invoke("cancel_request"); }
export async function clerkSession() { return invoke("clerk_session"); }
export async function tryEveryTokenType(request) { return invoke("try_every_token_type", { request }); }
export async function clerkKeys() { return invoke("clerk_keys"); }
export async function saveClerkKey(kind, value) { return invoke("save_clerk_key", { kind, value }); }
export async function forgetClerkKey(kind) { return invoke("forget_clerk_key", { kind }); }
export async function startTestSession(userId, allowProduction = false) { return invoke("start_test_session", { userId, allowProduction }); }
export async function createApiKey(subject) { return invoke("create_api_key", { subject }); }
export async function history() { return invoke("history"); }
export async function clearHistory() { return invoke("clear_history"); }
export async function copyCurl(request, literalToken) { return invoke("copy_curl", { request, literalToken }); }
export async function profiles() { return invoke("profiles"); }
export async function switchProfile(name) { return invoke("switch_profile", { name }); }
export async function saveProfile(name) { return invoke("save_profile", { name }); }
export async function savedRequests() { return invoke("saved_requests"); }
export async function saveRequest(name, request) { return invoke("save_request", { name, request }); }
export async function deleteSavedRequest(name) { return invoke("delete_saved_request", { name }); }
export async function tabs() { return invoke("tabs"); }
export async function saveTabs(tabs) { return invoke("save_tabs", { tabs }); }
export async function variables() { return invoke("variables"); }
export async function setVariable(name, value, secret) { return invoke("set_variable", { name, value, secret }); }
export async function forgetVariable(name) { return invoke("forget_variable", { name }); }
export async function importCurl(text) { return invoke("import_curl", { text }); }
/** `kind`: "openapi" or "postman"; `source`: a file path or an http(s) URL. */
export async function importDocument(kind, source) { return invoke("import_document", { kind, source }); }
/** The tools of the MCP server at `url` (every page), signing in when the server asks for it. */
export async function mcpTools(url) { return invoke("mcp_tools", { url }); }
/** Calls `tool` of the MCP server at `url` with `args` (an object); cancel_request cancels it. */
export async function mcpCall(url, tool, args) { return invoke("mcp_call", { url, tool, arguments: args }); }
/** The MCP server's resources: {server, offered, items: [{name, uri, description}]}; cancel_request cancels it. */
export async function mcpResources(url) { return invoke("mcp_resources", { url }); }
/** The MCP server's prompts, as mcpResources (no uri). */
export async function mcpPrompts(url) { return invoke("mcp_prompts", { url }); }
/** The MCP server's authorization report: {url, revision, issuer, checks: [{id, title, spec, verdict, detail}]}. */
/** `expiryWait`: seconds the check may wait for the access token to expire (0: not at all). */
export async function mcpCheck(url, expiryWait = 0) { return invoke("mcp_check", { url, expiryWait }); }
/** The step-up the user agreed to: signs in again asking also for `scopes`. */
export async function mcpStepUp(url, scopes) { return invoke("mcp_step_up", { url, scopes }); }

/** Subscribe to a backend event; resolves to the unlisten function (keep it). */
async function listen(name, handler) {
  try {
    return await tauri().event.listen(name, (event) => handler(event.payload));
  } catch (e) {
    throw toError(e);
  }
}

export async function onSignInProgress(handler) { return listen("sign-in-progress", handler); }
export async function onSessionChanged(handler) { return listen("session-changed", handler); }
