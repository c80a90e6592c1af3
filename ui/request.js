// The request editor, the answer, the history, copy as curl and profiles: their state and
// transitions. Pure, like state.js (which merges these handlers into its own). The engine checks
// requests and renders curl; this module only holds what the user typed and what came back.

import { historyStatus, httpErrorMessage } from "./format.js";

export const METHODS = Object.freeze(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);
export const BODY_KINDS = Object.freeze(["none", "json", "text", "form"]);
/** Where a request's parts are, as the engine names them in `{kind: "invalid_setting", field}`. */
export const REQUEST_FIELDS = Object.freeze(["method", "apiUrl", "query", "headers", "body", "timeout"]);
/** The list parts of a request: rows of { name, value, enabled }. */
export const LISTS = Object.freeze(["query", "headers", "form"]);
export const DEFAULT_TIMEOUT_SECS = 30;

/**
 * The kinds of token a request can carry, as the engine's `Credential` names them (kebab-case),
 * in the order the selector and the matrix list them. `held` says which signed-in state has one
 * (null: always available). A new kind ("api-key", "m2m") is one more line here.
 */
export const TOKEN_TYPES = Object.freeze([
  Object.freeze({ value: "session", label: "Session token", held: "clerk", sign: "a Clerk session token", missing: "not signed in", get: "once you sign in for one" }),
  Object.freeze({ value: "oauth", label: "OAuth token", held: "session", sign: "your OAuth access token", missing: "not signed in", get: "once you sign in for one" }),
  Object.freeze({ value: "api-key", label: "API key", held: "apiKey", sign: "the Clerk API key kept for this instance", missing: "not held", get: "once you keep one under Clerk keys" }),
  Object.freeze({ value: "m2m", label: "M2M token", held: "machineKey", sign: "an M2M token minted from the machine secret key", missing: "not held", get: "once you keep a machine secret key under Clerk keys" }),
  Object.freeze({ value: "none", label: "No token", held: null, sign: null, missing: null, get: null }),
]);
/** The Clerk keys kept for the instance (clerk_keys), as the engine names them. */
export const KEY_KINDS = Object.freeze(["secretKey", "apiKey", "machineKey"]);
const TOKEN_VALUES = TOKEN_TYPES.map((t) => t.value);

/** The entry of TOKEN_TYPES for `value` (an unknown kind from a newer engine gets a plain one). */
export function tokenTypeInfo(value) {
  return TOKEN_TYPES.find((t) => t.value === value)
    ?? { value, label: String(value), held: null, sign: `a ${value} token`, missing: "not held", get: "once you have one" };
}

/**
 * Whether the user holds a token of this kind now (a kind needing no sign-in always is). `held`
 * names a session in the state ("clerk", "session") or a Clerk key kept (state.keys.view).
 */
export function holdsTokenType(state, value) {
  const held = tokenTypeInfo(value).held;
  if (held == null) return true;
  return KEY_KINDS.includes(held) ? Boolean(state.keys?.view?.[held]) : Boolean(state[held]);
}

/**
 * The kind a new request sends: the OAuth token when signed in through the OAuth application,
 * else a session token when a Clerk session is held, else the OAuth token (the old default).
 */
export function defaultTokenType(state) {
  if (state.session) return "oauth";
  if (state.clerk) return "session";
  return "oauth";
}

/** The kind the editor's request sends: the one chosen, or the default for what is held. */
export function effectiveTokenType(state) {
  const chosen = state.request?.tokenType;
  return TOKEN_VALUES.includes(chosen) ? chosen : defaultTokenType(state);
}

/** The editor's request, with the kind of token it sends settled (what send_request takes). */
export function requestFor(state) {
  return toApiRequest(state.request, effectiveTokenType(state));
}

export const MATRIX_IDLE = Object.freeze({ status: "idle", result: null, message: null, startedAt: null, cancelling: false });

/** The engine's Matrix, kept to what the table shows (strings and booleans, checked). */
export function toMatrix(m) {
  const str = (v) => (typeof v === "string" && v.trim() ? v : null);
  return {
    target: str(m.target) ?? "",
    rows: m.rows.filter((r) => str(r?.credential)).map((r) => ({
      credential: r.credential,
      status: Number.isInteger(r.status) ? r.status : null,
      signedIn: typeof r.signedIn === "boolean" ? r.signedIn : null,
      tokenTypeSeen: str(r.tokenTypeSeen),
      fix: str(r.fix),
      error: str(r.error),
    })),
    missing: (Array.isArray(m.missing) ? m.missing : []).filter((k) => str(k?.credential))
      .map((k) => ({ credential: k.credential, how: str(k.how) ?? "" })),
  };
}

export const API_IDLE = Object.freeze({
  status: "idle", result: null, message: null, diagnosis: null, errorKind: null, startedAt: null, cancelling: false,
});

const row = (name = "", value = "", enabled = true) => ({ name, value, enabled });

/** A fresh editor for `url`: GET with the token, as the tutorial's component calls it. */
export function emptyDraft(url = "") {
  return withUrl({
    method: "GET", url: "", query: [], headers: [], bodyKind: "none", bodyText: "", form: [],
    // null: the default for what is held (defaultTokenType), until the user picks one.
    tokenType: null, timeoutSecs: String(DEFAULT_TIMEOUT_SECS),
  }, url);
}

// --- the URL and the query table, kept in sync -------------------------------------------------
// The URL field shows the whole URL; the table holds its parameters, decoded, plus the rows the
// URL cannot show (disabled or blank ones). The engine gets the URL without its query and every
// row, so nothing is sent twice.

/** `url` split at its query: what comes before "?", the query (null: none), and any "#…". */
export function splitUrl(url) {
  const text = String(url ?? "");
  const hash = text.indexOf("#");
  const head = hash < 0 ? text : text.slice(0, hash);
  const fragment = hash < 0 ? "" : text.slice(hash);
  const q = head.indexOf("?");
  return q < 0 ? { base: head, query: null, fragment } : { base: head.slice(0, q), query: head.slice(q + 1), fragment };
}

function decodePart(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text; // a stray "%": kept as typed
  }
}

// Percent-encode what would change the query's meaning, and leave readable what does not
// ({{variables}}, paths, e-mail addresses, lists).
function encodePart(text) {
  return encodeURIComponent(text).replace(/%(7B|7D|3A|2F|40|2C|24|21|27|28|29|2A|5B|5D|3B|3F|7C)/gi,
    (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** The rows of a query string ("a=1&b" → a=1, b=""), decoded, all enabled. */
export function parseQuery(query) {
  if (!query) return [];
  return query.split("&").filter((part) => part !== "").map((part) => {
    const eq = part.indexOf("=");
    return eq < 0 ? row(decodePart(part), "") : row(decodePart(part.slice(0, eq)), decodePart(part.slice(eq + 1)));
  });
}

const shown = (r) => r.enabled && (r.name !== "" || r.value !== "");

/** The URL with `rows` (the enabled, non-blank ones) as its query. */
export function urlWithQuery(url, rows) {
  const { base, fragment } = splitUrl(url);
  const query = rows.filter(shown).map((r) => (r.value === "" ? encodePart(r.name) : `${encodePart(r.name)}=${encodePart(r.value)}`)).join("&");
  return `${base}${query ? `?${query}` : ""}${fragment}`;
}

/** `draft` with the URL `url` as typed, its table following the URL's query. */
export function withUrl(draft, url) {
  const parsed = parseQuery(splitUrl(url).query);
  const kept = draft.query.filter((r) => !shown(r));
  const same = JSON.stringify(draft.query.filter(shown)) === JSON.stringify(parsed);
  return { ...draft, url, query: same ? draft.query : [...parsed, ...kept] };
}

/** `draft` with the table `query`, the URL following it. */
function withQuery(draft, query) {
  return { ...draft, query, url: urlWithQuery(draft.url, query) };
}

// --- a header line pasted into a name ----------------------------------------------------------

/**
 * "Name: value" lines (as copied from a browser's network panel or curl -v) as rows; null when
 * `text` holds none, so it stays as typed and the engine says what is wrong with it.
 */
export function headerLines(text) {
  const lines = String(text).split(/\r?\n/).map((l) => l.trim().replace(/^[<>] /, "")).filter(Boolean);
  const rowsFound = lines.map((line) => /^([^:\s][^:]*?)\s*:\s*(.*)$/.exec(line)).filter(Boolean)
    .map(([, name, value]) => row(name.trim(), value.trim()));
  return rowsFound.length ? rowsFound : null;
}

/**
 * The editor's draft as the engine's ApiRequest (camelCase, as send_request takes it). `fallback`
 * is the kind sent when the draft names none. `sendToken` goes along for readers that predate
 * `tokenType` (the engine reads `tokenType` first).
 */
export function toApiRequest(draft, fallback = "oauth") {
  const pairs = (rows) => rows.map((r) => ({ name: r.name, value: r.value, enabled: r.enabled }));
  let body = { kind: "none" };
  if (draft.bodyKind === "json" || draft.bodyKind === "text") body = { kind: draft.bodyKind, text: draft.bodyText };
  else if (draft.bodyKind === "form") body = { kind: "form", fields: pairs(draft.form) };
  const timeout = draft.timeoutSecs.trim();
  const tokenType = draft.tokenType ?? fallback;
  // The URL's query is the table's (withUrl): sent once, from the table.
  const { base, fragment } = splitUrl(draft.url);
  return {
    method: draft.method,
    url: `${base}${fragment}`,
    query: pairs(draft.query),
    headers: pairs(draft.headers),
    body,
    sendToken: tokenType !== "none",
    tokenType,
    // A non-number cannot cross IPC as a number: 0 makes the engine say the allowed range.
    timeoutSecs: timeout === "" ? null : (/^\d{1,6}$/.test(timeout) ? Number(timeout) : 0),
  };
}

/** An ApiRequest (from the history) back into an editable draft. */
export function fromApiRequest(request) {
  const rows = (list) => (Array.isArray(list) ? list : []).map((p) => row(String(p?.name ?? ""), String(p?.value ?? ""), p?.enabled !== false));
  const body = request?.body ?? { kind: "none" };
  const kind = BODY_KINDS.includes(body.kind) ? body.kind : "none";
  // A URL that came with its own query (saved elsewhere): its parameters join the table.
  const url = String(request?.url ?? "");
  const query = [...parseQuery(splitUrl(url).query), ...rows(request?.query)];
  return {
    method: METHODS.includes(request?.method) ? request.method : "GET",
    url: urlWithQuery(url, query),
    query,
    headers: rows(request?.headers),
    bodyKind: kind,
    bodyText: kind === "json" || kind === "text" ? String(body.text ?? "") : "",
    form: kind === "form" ? rows(body.fields) : [],
    // Saved before token types: sendToken alone said OAuth token or none.
    tokenType: TOKEN_VALUES.includes(request?.tokenType) ? request.tokenType : (request?.sendToken === false ? "none" : "oauth"),
    timeoutSecs: request?.timeoutSecs == null ? String(DEFAULT_TIMEOUT_SECS) : String(request.timeoutSecs),
  };
}

/** The Content-Type the engine sets for a body kind (unless a header says otherwise). */
export function contentTypeFor(kind) {
  return { json: "application/json", text: "text/plain; charset=utf-8", form: "application/x-www-form-urlencoded" }[kind] ?? null;
}

/** A short verdict (the first sentence) and the details (the rest) of the engine's diagnosis. */
export function splitDiagnosis(text) {
  if (typeof text !== "string" || !text.trim()) return null;
  const t = text.trim();
  const end = t.search(/[.!?](\s|$)/);
  if (end < 0 || end + 1 >= t.length) return { verdict: t, details: "" };
  return { verdict: t.slice(0, end + 1), details: t.slice(end + 1).trim() };
}

function patchDraft(s, patch) {
  return { ...s, request: { ...s.request, ...patch }, requestError: null };
}

/** `rows` as the draft's `list`; the query's rows rewrite the URL. */
function withRows(s, list, rows, requestError) {
  const request = list === "query" ? withQuery(s.request, rows) : { ...s.request, [list]: rows };
  return { ...s, request, requestError };
}

/** Header `index` replaced by the pasted `lines` (rows); main.js moves the focus to the last value. */
function headersPasted(s, index, lines) {
  const headers = [...s.request.headers.slice(0, index), ...lines, ...s.request.headers.slice(index + 1)];
  return { ...s, request: { ...s.request, headers }, requestError: null };
}

function canEdit(s) {
  return s.screen === "signedIn";
}

/** Messages for errors the request can end with, in plain words. */
function requestFailureMessage(error) {
  switch (error?.kind) {
    case "cancelled": return "Cancelled. Nothing was received.";
    // Said where the wait is set: the field is marked and focused too (request-view, main.js).
    case "api_timeout": return `Timed out: ${String(error.message).replace(/\.$/, "")}. To wait longer, raise Timeout (seconds) below.`;
    default: return error?.message ?? "unknown error";
  }
}

/** Which engine field (REQUEST_FIELDS) each typed part of the draft answers for. */
const EDITED_FIELDS = Object.freeze({ url: ["apiUrl", "query"], bodyText: ["body"], timeoutSecs: ["timeout"] });

/**
 * A notice about what was done before (an info: "Settings saved.", what set-up did) is stale
 * once a request goes out: it would sit above the Loading…, the error or the diagnosis.
 */
function freshNotice(notice) {
  return notice?.tone === "info" ? null : notice;
}

export const requestHandlers = {
  // --- editing ------------------------------------------------------------------------
  /** Text typed into the editor (no re-render: the input already shows it). */
  requestEdited(s, { part, value }) {
    if (!canEdit(s) || !["url", "bodyText", "timeoutSecs"].includes(part) || s.request[part] === value) return s;
    // The error about this part goes once it is edited (main.js re-renders when it does).
    const fixed = s.requestError && EDITED_FIELDS[part].includes(s.requestError.field);
    const request = part === "url" ? withUrl(s.request, value) : { ...s.request, [part]: value };
    return { ...s, request, requestError: fixed ? null : s.requestError };
  },
  methodChosen(s, { method }) {
    if (!canEdit(s) || !METHODS.includes(method) || s.request.method === method) return s;
    return patchDraft(s, { method });
  },
  bodyKindChosen(s, { kind }) {
    if (!canEdit(s) || !BODY_KINDS.includes(kind) || s.request.bodyKind === kind) return s;
    return patchDraft(s, { bodyKind: kind });
  },
  tokenTypeChosen(s, { tokenType }) {
    if (!canEdit(s) || !TOKEN_VALUES.includes(tokenType) || s.request.tokenType === tokenType) return s;
    return { ...patchDraft(s, { tokenType }), curl: null };
  },
  rowAdded(s, { list }) {
    if (!canEdit(s) || !LISTS.includes(list)) return s;
    return withRows(s, list, [...s.request[list], row()], null);
  },
  rowRemoved(s, { list, index }) {
    if (!canEdit(s) || !LISTS.includes(list) || !s.request[list][index]) return s;
    return withRows(s, list, s.request[list].filter((_, i) => i !== index), null);
  },
  /**
   * A row's name or value typed (no re-render), or its checkbox (re-render). A header name
   * typed or pasted as "Name: value" lines becomes that many rows (main.js re-renders then).
   */
  rowEdited(s, { list, index, key, value }) {
    if (!canEdit(s) || !LISTS.includes(list) || !s.request[list][index] || !["name", "value", "enabled"].includes(key)) return s;
    const v = key === "enabled" ? Boolean(value) : String(value);
    if (s.request[list][index][key] === v) return s;
    const lines = list === "headers" && key === "name" && /[:\n]/.test(v) ? headerLines(v) : null;
    if (lines) return headersPasted(s, index, lines);
    const rows = s.request[list].map((r, i) => (i === index ? { ...r, [key]: v } : r));
    return withRows(s, list, rows, s.requestError);
  },
  /** Text pasted into a header name: "Name: value" lines split into rows; else as typed. */
  headerPasted(s, { index, text }) {
    if (!canEdit(s) || !s.request.headers[index]) return s;
    const lines = headerLines(text);
    return lines ? headersPasted(s, index, lines) : requestHandlers.rowEdited(s, { list: "headers", index, key: "name", value: String(text) });
  },

  // --- sending --------------------------------------------------------------------------
  callApiClicked(s) {
    if (s.screen !== "signedIn" || s.api.status === "loading" || s.matrix.status === "loading") return s;
    return {
      ...s, requestError: null, curl: null, diagnosisCopy: null, notice: freshNotice(s.notice),
      api: { ...API_IDLE, status: "loading", startedAt: s.now },
    };
  },
  cancelRequestClicked(s) {
    // One cancel serves both waits: the matrix's requests are the engine's request in flight.
    if (s.matrix.status === "loading" && !s.matrix.cancelling) return { ...s, matrix: { ...s.matrix, cancelling: true } };
    if (s.api.status !== "loading" || s.api.cancelling) return s;
    return { ...s, api: { ...s.api, cancelling: true } };
  },
  apiAnswered(s, { result }) {
    if (s.api.status !== "loading") return s;
    const diagnosis = result.diagnosis ?? null;
    return result.ok
      ? { ...s, api: { ...API_IDLE, status: "data", result, diagnosis } }
      : { ...s, api: { ...API_IDLE, status: "error", result, message: httpErrorMessage(result), diagnosis } };
  },
  /** send_request failed before an answer. session_ended is handled by state.js. */
  apiFailed(s, { error }) {
    if (s.api.status !== "loading") return s;
    if (error?.kind === "invalid_setting" && REQUEST_FIELDS.includes(error.field)) {
      return { ...s, api: API_IDLE, requestError: { field: error.field, message: error.message } };
    }
    return {
      ...s,
      api: { ...API_IDLE, status: "error", message: requestFailureMessage(error), errorKind: error?.kind ?? "unknown" },
    };
  },
  // --- try every token type -------------------------------------------------------------------
  tryEveryClicked(s) {
    if (s.screen !== "signedIn" || s.api.status === "loading" || s.matrix.status === "loading") return s;
    return { ...s, requestError: null, notice: freshNotice(s.notice), matrix: { ...MATRIX_IDLE, status: "loading", startedAt: s.now } };
  },
  matrixAnswered(s, { matrix }) {
    if (s.matrix.status !== "loading") return s;
    if (!matrix || !Array.isArray(matrix.rows)) {
      return { ...s, matrix: { ...MATRIX_IDLE, status: "error", message: "The answer had no rows." } };
    }
    return { ...s, matrix: { ...MATRIX_IDLE, status: "data", result: toMatrix(matrix) } };
  },
  matrixFailed(s, { error }) {
    if (s.matrix.status !== "loading") return s;
    if (error?.kind === "invalid_setting" && REQUEST_FIELDS.includes(error.field)) {
      return { ...s, matrix: MATRIX_IDLE, requestError: { field: error.field, message: error.message } };
    }
    return { ...s, matrix: { ...MATRIX_IDLE, status: "error", message: requestFailureMessage(error) } };
  },
  matrixClosed(s) {
    return s.matrix.status === "idle" || s.matrix.status === "loading" ? s : { ...s, matrix: MATRIX_IDLE };
  },

  answerToggled(s, { part, open }) {
    if (!["headers", "body"].includes(part) || s.answerOpen[part] === Boolean(open)) return s;
    return { ...s, answerOpen: { ...s.answerOpen, [part]: Boolean(open) } };
  },

  // --- history --------------------------------------------------------------------------
  historyLoaded(s, { entries }) {
    if (!Array.isArray(entries) || JSON.stringify(entries) === JSON.stringify(s.history)) return s;
    return { ...s, history: entries };
  },
  historyOpened(s, { id }) {
    const entry = s.history.find((e) => e.id === id);
    if (!canEdit(s) || !entry || s.api.status === "loading") return s;
    // Its last answer's status line comes along; the body was never kept.
    return { ...s, request: fromApiRequest(entry.request), requestError: null, curl: null, api: { ...API_IDLE, restored: historyStatus(entry) } };
  },
  clearHistoryClicked(s) {
    return s.history.length ? { ...s, history: [] } : s;
  },

  // --- copy as curl -----------------------------------------------------------------------
  curlLiteralToggled(s, { on }) {
    return s.curlLiteral === Boolean(on) ? s : { ...s, curlLiteral: Boolean(on), curl: null };
  },
  copyCurlClicked(s) {
    if (!canEdit(s) || s.curl?.status === "pending") return s;
    const literal = s.curlLiteral && effectiveTokenType(s) !== "none";
    return { ...s, requestError: null, curl: { status: "pending", command: null, literal, message: null } };
  },
  curlCopied(s, { copy }) {
    if (s.curl?.status !== "pending") return s;
    return { ...s, curl: { status: "done", command: copy.command, literal: Boolean(copy.literalToken), message: null } };
  },
  curlFailed(s, { error }) {
    if (s.curl?.status !== "pending") return s;
    if (error?.kind === "invalid_setting" && REQUEST_FIELDS.includes(error.field)) {
      return { ...s, curl: null, requestError: { field: error.field, message: error.message } };
    }
    return { ...s, curl: { status: "failed", command: null, literal: false, message: error?.message ?? "unknown error" } };
  },

  // --- profiles ---------------------------------------------------------------------------
  profilesLoaded(s, { profiles }) {
    if (!profiles || !Array.isArray(profiles.names)) return s;
    return { ...s, profiles: { ...s.profiles, names: profiles.names, current: profiles.current ?? null, busy: false, error: null } };
  },
  profileNameEdited(s, { value }) {
    return s.profiles.draft === value ? s : { ...s, profiles: { ...s.profiles, draft: value } };
  },
  profileSwitchClicked(s, { name }) {
    const target = name || null;
    if (s.profiles.busy || target === s.profiles.current || !["signedIn", "signedOut"].includes(s.screen)) return s;
    return { ...s, profiles: { ...s.profiles, busy: true, error: null } };
  },
  saveProfileClicked(s) {
    if (s.profiles.busy || !["signedIn", "signedOut"].includes(s.screen)) return s;
    return { ...s, profiles: { ...s.profiles, busy: true, error: null } };
  },
  profileFailed(s, { error }) {
    return { ...s, profiles: { ...s.profiles, busy: false, error: error?.message ?? "unknown error" } };
  },

  // --- saved requests (in the current profile, shared with keyhole-cli --saved) -------------
  /** The current profile's saved requests, as the engine keeps them (ApiRequest + name). */
  savedLoaded(s, { requests }) {
    if (!Array.isArray(requests)) return s;
    const list = requests.filter((r) => typeof r?.name === "string" && r.name !== "");
    if (!s.saved.busy && !s.saved.error && JSON.stringify(list) === JSON.stringify(s.saved.list)) return s;
    return { ...s, saved: { ...s.saved, list, busy: false, error: null } };
  },
  savedNameEdited(s, { value }) {
    // Another name: the question about replacing the one typed before is moot.
    return s.saved.draft === value ? s : { ...s, saved: { ...s.saved, draft: value, confirm: null } };
  },
  /** A name already saved asks first: replace it, or cancel (savedReplaceClicked / Cancelled). */
  saveRequestClicked(s) {
    if (!canEdit(s) || s.saved.busy) return s;
    const name = s.saved.draft.trim();
    if (!name) return { ...s, saved: { ...s.saved, error: "Give the request a name to save it under." } };
    if (s.saved.list.some((r) => r.name === name)) return { ...s, saved: { ...s.saved, confirm: name, error: null } };
    return { ...s, saved: { ...s.saved, busy: true, error: null, confirm: null } };
  },
  savedReplaceClicked(s) {
    if (!canEdit(s) || s.saved.busy || !s.saved.confirm) return s;
    return { ...s, saved: { ...s.saved, busy: true, error: null, confirm: null } };
  },
  savedReplaceCancelled(s) {
    return s.saved.confirm ? { ...s, saved: { ...s.saved, confirm: null } } : s;
  },
  /**
   * A profile saved from the settings in force: it keeps its own session, so one signed in
   * before is told that the new profile starts signed out, and where that session still is.
   */
  profileSaved(s, { name, from, signedIn }) {
    if (!signedIn || !name) return s;
    const previous = from ? `profile ${from}` : "the settings without a profile";
    return {
      ...s,
      notice: { tone: "info", text: `Saved as profile ${name}. Each profile keeps its own session, so sign in again to use ${name}; your session stays in ${previous}.` },
    };
  },
  /** One click puts a saved request in the editor (its name in the box, to save over it). */
  savedOpened(s, { name }) {
    const found = s.saved.list.find((r) => r.name === name);
    if (!canEdit(s) || !found || s.api.status === "loading") return s;
    return {
      ...s, request: fromApiRequest(found), requestError: null, curl: null, api: API_IDLE,
      saved: { ...s.saved, draft: name, error: null },
    };
  },
  deleteSavedClicked(s, { name }) {
    if (s.saved.busy || !s.saved.list.some((r) => r.name === name)) return s;
    return { ...s, saved: { ...s.saved, busy: true, error: null } };
  },
  savedFailed(s, { error }) {
    return { ...s, saved: { ...s.saved, busy: false, error: error?.message ?? "unknown error" } };
  },
};

export function initialRequestState() {
  return {
    request: emptyDraft(""),
    requestError: null, // { field, message } from the engine's check
    api: API_IDLE,
    matrix: MATRIX_IDLE, // "Try every token type": { status, result: toMatrix(…), message, startedAt, cancelling }
    answerOpen: { headers: false, body: true },
    history: [], // newest first, from the backend
    curl: null, // { status: "pending" | "done" | "failed", command, literal, message }
    curlLiteral: false, // "include the token itself" (with a warning)
    profiles: { names: [], current: null, draft: "", busy: false, error: null },
    // The current profile's saved requests; `confirm`: a name already saved, asked to replace.
    saved: { list: [], draft: "", busy: false, error: null, confirm: null },
  };
}
