// The explorer's MCP mode: a server's URL, its tools, a form from the chosen tool's input schema,
// the call and its result. Pure, like request.js (state.js merges these handlers into its own).
// The engine speaks MCP, signs in from the server's 401 and escapes what the server wrote;
// this module holds what the user typed and what came back.

import { allFields, argumentsFrom, checkArguments, formFor, initialValues, parseRaw, valuesFrom } from "./mcp-schema.js";

export const MODES = Object.freeze(["rest", "mcp"]);

/** A wait (listing the tools, or a call): Loading… / Error: … / Data, like the REST call. */
export const MCP_IDLE = Object.freeze({
  status: "idle", result: null, message: null, errorKind: null, startedAt: null, cancelling: false, stage: null, signInUrl: null, request: null,
  // The step-up: `neededScopes` in an error, the scopes a 403 insufficient_scope named (offered
  // as "Sign in again asking for …"); `stepUp` while that sign-in runs; `steppedUp` once done
  // (the refused operation is repeated once, so no second offer).
  neededScopes: null, stepUp: null, steppedUp: false,
});

/** A report's verdicts, as the engine names them, with the words the window shows. */
export const VERDICTS = Object.freeze({ pass: "PASS", fail: "FAIL", not_offered: "NOT OFFERED", not_checked: "NOT CHECKED" });

/** The engine's McpReport, checked: a check with an unknown verdict is "not checked". */
export function toReport(result) {
  const checks = Array.isArray(result?.checks) ? result.checks : [];
  return {
    url: str(result?.url) ?? "",
    revision: str(result?.revision),
    issuer: str(result?.issuer),
    checks: checks.map((c) => ({
      id: str(c?.id) ?? "",
      title: shownText(str(c?.title) ?? ""),
      spec: shownText(str(c?.spec) ?? ""),
      verdict: Object.hasOwn(VERDICTS, c?.verdict) ? c.verdict : "not_checked",
      detail: shownText(str(c?.detail) ?? ""),
    })),
  };
}

/** The report's summary line. */
export function reportSummary(report) {
  const count = (v) => report.checks.filter((c) => c.verdict === v).length;
  const failed = count("fail");
  if (failed) return `${failed} check${failed === 1 ? "" : "s"} failed`;
  const unchecked = count("not_checked");
  if (unchecked) return `No check failed; ${unchecked} ${unchecked === 1 ? "was" : "were"} not checked`;
  return "Every check passed or was not offered";
}

/** The report's wait for the token to expire: its default and its bounds (seconds), as the CLI's. */
export const EXPIRY_DEFAULT = 120;
export const EXPIRY_MAX = 3600;

/** The seconds typed, checked: {ok, seconds} or {ok: false, message}. */
export function expirySeconds(text) {
  const t = String(text ?? "").trim();
  const n = /^\d{1,5}$/.test(t) ? Number(t) : NaN;
  if (!(n >= 1 && n <= EXPIRY_MAX)) {
    return { ok: false, message: `Give the wait in whole seconds from 1 to ${EXPIRY_MAX}, like ${EXPIRY_DEFAULT}. Nothing was sent.` };
  }
  return { ok: true, seconds: n };
}

export function initialMcpState() {
  return {
    url: "",
    urlError: null, // a message about the URL (empty, or refused by the engine)
    tools: MCP_IDLE, // result: {server, tools, pages}, checked by toTools
    check: MCP_IDLE, // the authorization report; result: checked by toReport
    listing: MCP_IDLE, // the resources and prompts; result: checked by toListing
    // The report may wait for the access token to expire (mcp check --expiry-wait): whether,
    // and for at most how many seconds (as typed), with the field's error.
    expiry: { wait: false, seconds: String(EXPIRY_DEFAULT), error: null },
    selected: null, // the chosen tool's name
    form: null, // the chosen tool's arguments (argsForm)
    call: MCP_IDLE, // result: checked by toCallResult; `request`: what was sent
  };
}

const str = (v) => (typeof v === "string" ? v : null);

/** The engine's McpServer, kept to what the window shows. */
export function toServer(s) {
  return {
    url: str(s?.url) ?? "",
    revision: str(s?.revision) ?? "unknown",
    name: str(s?.name),
    version: str(s?.version),
  };
}

/** The engine's McpTools, checked (a tool without a name cannot be called, so it is dropped). */
export function toTools(result) {
  const tools = Array.isArray(result?.tools) ? result.tools : [];
  return {
    server: toServer(result?.server),
    pages: Number.isInteger(result?.pages) ? result.pages : null,
    tools: tools.filter((t) => typeof t?.name === "string" && t.name !== "").map((t) => ({
      name: t.name,
      title: str(t.title),
      description: str(t.description),
      inputSchema: t.inputSchema === undefined ? null : t.inputSchema,
    })),
  };
}

/**
 * `text` with control characters (but newline and tab) and bidirectional overrides as visible
 * \u{…} escapes, as the engine's shown_text does: done again here, so no text from a server
 * reaches the page unescaped whatever sent it. Idempotent.
 */
export function shownText(text) {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u{${c.codePointAt(0).toString(16).padStart(4, "0")}}`);
}

/** One kind of the engine's McpListing (resources or prompts), checked: an item needs a name. */
function toKind(listing) {
  const items = Array.isArray(listing?.items) ? listing.items : [];
  return {
    offered: listing?.offered === true,
    items: items.filter((i) => typeof i?.name === "string" && i.name !== "").map((i) => ({
      name: shownText(i.name),
      uri: str(i.uri) == null ? null : shownText(i.uri),
      description: str(i.description) == null ? null : shownText(i.description),
    })),
  };
}

/** The server's resources and prompts (two McpListing answers), checked. */
export function toListing({ resources, prompts } = {}) {
  return { server: toServer(resources?.server ?? prompts?.server), resources: toKind(resources), prompts: toKind(prompts) };
}

/** The engine's McpCallResult, checked. Text is shown as text (escaped by the engine and shownText). */
export function toCallResult(result) {
  const content = Array.isArray(result?.content) ? result.content : [];
  return {
    server: toServer(result?.server),
    tool: str(result?.tool) ?? "",
    content: content.map((c) => ({ kind: str(c?.kind) ?? "unknown", text: typeof c?.text === "string" ? shownText(c.text) : "" })),
    structured: result?.structured === undefined ? null : result.structured,
    isError: result?.isError === true,
    notifications: Number.isInteger(result?.notifications) ? result.notifications : 0,
    elapsedMs: Number.isFinite(result?.elapsedMs) ? result.elapsedMs : null,
  };
}

/** The arguments' editor for `tool`: the form from its schema, or raw JSON when it has none. */
export function argsForm(tool) {
  const schema = formFor(tool?.inputSchema);
  return {
    schema, // {ok, fields} or {ok: false, invalid, reason}
    mode: schema.ok ? "form" : "json",
    values: schema.ok ? initialValues(schema.fields) : {},
    raw: "{}",
    errors: {}, // by field id
    rawError: null,
  };
}

/** Whether an MCP wait runs (the engine sends one request at a time, REST or MCP). */
export function mcpBusy(s) {
  return s.mcp?.tools.status === "loading" || s.mcp?.call.status === "loading" || s.mcp?.check?.status === "loading"
    || s.mcp?.listing?.status === "loading";
}

function canUse(s) {
  return s.screen === "signedIn";
}

function patch(s, part) {
  return { ...s, mcp: { ...s.mcp, ...part } };
}

function patchForm(s, part) {
  return patch(s, { form: { ...s.mcp.form, ...part } });
}

/** In words, for an MCP wait that ended without an answer. */
function failureMessage(error) {
  if (error?.kind === "cancelled") return "Cancelled. Nothing was received.";
  return error?.message ?? "unknown error";
}

/** Which wait a sign-in's progress belongs to. */
export function waiting(s) {
  if (s.mcp.tools.status === "loading") return "tools";
  if (s.mcp.call.status === "loading") return "call";
  if (s.mcp.check.status === "loading") return "check";
  if (s.mcp.listing.status === "loading") return "listing";
  return null;
}

/** An MCP wait that ended without an answer: its error, the step-up offered when a 403 named scopes. */
function failedWait(wait, error) {
  const scopes = typeof error?.neededScopes === "string" && error.neededScopes.trim() ? error.neededScopes.trim() : null;
  return {
    ...MCP_IDLE, status: "error", message: failureMessage(error), errorKind: error?.kind ?? "unknown", request: wait.request,
    // Once: after a step-up the repeated operation's refusal is said, not offered again.
    neededScopes: wait.steppedUp ? null : scopes, steppedUp: wait.steppedUp,
  };
}

/**
 * Once the check ended: the engine's "Waiting N s for the access token to expire…", said while it
 * waited, is stale (the report says how it went), so it goes; any other notice stays.
 */
function afterWait(s) {
  const came = s.notice && s.notice !== s.mcp.check.noticeBefore;
  return came && /for the access token to expire/.test(s.notice.text ?? "") ? { ...s, notice: null } : s;
}

/** The URL an MCP wait is for. */
function urlOf(s) {
  return s.mcp.url.trim();
}

/** What the arguments' editor holds, checked: {ok, arguments} or the editor with its errors. */
function checkedArguments(form) {
  if (form.mode === "json") {
    const parsed = parseRaw(form.raw);
    if (!parsed.ok) return { ok: false, form: { ...form, rawError: parsed.message, errors: {} } };
    const errors = form.schema.ok ? checkArguments(form.schema.fields, parsed.arguments) : {};
    if (Object.keys(errors).length) return { ok: false, form: { ...form, rawError: null, errors } };
    return { ok: true, arguments: parsed.arguments };
  }
  const made = argumentsFrom(form.schema.fields, form.values);
  return made.ok ? { ok: true, arguments: made.arguments } : { ok: false, form: { ...form, errors: made.errors, rawError: null } };
}

export const mcpHandlers = {
  /** The explorer's mode switch: REST | MCP. */
  modeChosen(s, { mode }) {
    if (!canUse(s) || !MODES.includes(mode) || s.mode === mode) return s;
    return { ...s, mode };
  },
  /** Typing in the URL (no re-render, unless its error goes). */
  mcpUrlEdited(s, { value }) {
    if (!canUse(s) || typeof value !== "string" || s.mcp.url === value) return s;
    return patch(s, { url: value, urlError: null });
  },
  mcpListClicked(s) {
    if (!canUse(s) || mcpBusy(s)) return s;
    const url = s.mcp.url.trim();
    if (!url) return patch(s, { urlError: "Enter the MCP server's URL, like http://localhost:3000/mcp. Nothing was sent." });
    return patch(s, { urlError: null, tools: { ...MCP_IDLE, status: "loading", startedAt: s.now, request: { url } } });
  },
  mcpToolsAnswered(s, { result }) {
    if (s.mcp.tools.status !== "loading") return s;
    const tools = toTools(result);
    const kept = tools.tools.find((t) => t.name === s.mcp.selected);
    return patch(s, {
      tools: { ...MCP_IDLE, status: "data", result: tools },
      // The tool chosen before stays chosen if this server has it (its form afresh: the schema
      // may have changed); else none is.
      selected: kept ? kept.name : null,
      form: kept ? argsForm(kept) : null,
      call: kept ? s.mcp.call : MCP_IDLE,
    });
  },
  mcpToolsFailed(s, { error }) {
    if (s.mcp.tools.status !== "loading") return s;
    // The URL itself was refused (not a URL, or cleartext to another machine): said at the field.
    if (error?.kind === "invalid_setting" && ["apiUrl", "url"].includes(error.field)) {
      return patch(s, { tools: MCP_IDLE, urlError: error.message });
    }
    return patch(s, { tools: failedWait(s.mcp.tools, error) });
  },
  /** Resources and prompts: both lists of the server at the URL, one after the other (main.js). */
  mcpListingClicked(s) {
    if (!canUse(s) || mcpBusy(s)) return s;
    const url = urlOf(s);
    if (!url) return patch(s, { urlError: "Enter the MCP server's URL, like http://localhost:3000/mcp. Nothing was sent." });
    return patch(s, { urlError: null, listing: { ...MCP_IDLE, status: "loading", startedAt: s.now, request: { url } } });
  },
  mcpListingAnswered(s, { result }) {
    if (s.mcp.listing.status !== "loading") return s;
    return patch(s, { listing: { ...MCP_IDLE, status: "data", result: toListing(result) } });
  },
  mcpListingFailed(s, { error }) {
    if (s.mcp.listing.status !== "loading") return s;
    if (error?.kind === "invalid_setting" && ["apiUrl", "url"].includes(error.field)) {
      return patch(s, { listing: MCP_IDLE, urlError: error.message });
    }
    return patch(s, { listing: { ...failedWait(s.mcp.listing, error), neededScopes: null } });
  },
  /** Check authorization: the engine's report on the server at the URL (no tool is called). */
  mcpCheckClicked(s) {
    if (!canUse(s) || mcpBusy(s)) return s;
    const url = urlOf(s);
    if (!url) return patch(s, { urlError: "Enter the MCP server's URL, like http://localhost:3000/mcp. Nothing was sent." });
    // Waiting for the token to expire is allowed only for as long as the user said.
    const wait = s.mcp.expiry.wait ? expirySeconds(s.mcp.expiry.seconds) : { ok: true, seconds: 0 };
    if (!wait.ok) return patch(s, { expiry: { ...s.mcp.expiry, error: wait.message } });
    return patch(s, {
      urlError: null, expiry: { ...s.mcp.expiry, error: null },
      check: { ...MCP_IDLE, status: "loading", startedAt: s.now, request: { url, expiryWait: wait.seconds }, noticeBefore: s.notice },
    });
  },
  /** "Wait up to N s for the access token to expire" ticked or not (not while a check runs). */
  mcpExpiryToggled(s, { on }) {
    if (!canUse(s) || s.mcp.check.status === "loading" || typeof on !== "boolean" || s.mcp.expiry.wait === on) return s;
    return patch(s, { expiry: { ...s.mcp.expiry, wait: on, error: null } });
  },
  /** Typing the seconds (no re-render, unless its error goes). */
  mcpExpiryEdited(s, { value }) {
    if (!canUse(s) || typeof value !== "string" || s.mcp.expiry.seconds === value) return s;
    return patch(s, { expiry: { ...s.mcp.expiry, seconds: value, error: null } });
  },
  mcpCheckAnswered(s, { result }) {
    if (s.mcp.check.status !== "loading") return s;
    return patch(afterWait(s), { check: { ...MCP_IDLE, status: "data", result: toReport(result) } });
  },
  mcpCheckFailed(state, { error }) {
    if (state.mcp.check.status !== "loading") return state;
    const s = afterWait(state);
    if (error?.kind === "invalid_setting" && ["apiUrl", "url"].includes(error.field)) {
      return patch(s, { check: MCP_IDLE, urlError: error.message });
    }
    return patch(s, { check: { ...failedWait(s.mcp.check, error), neededScopes: null } });
  },
  /**
   * "Sign in again asking for …" pressed (the user's agreement to the step-up): the refused
   * operation waits again, through the sign-in, and is repeated once (main.js).
   */
  mcpStepUpClicked(s, { which }) {
    if (!canUse(s) || mcpBusy(s) || !["tools", "call"].includes(which)) return s;
    const wait = s.mcp[which];
    if (wait.status !== "error" || !wait.neededScopes || !wait.request) return s;
    return patch(s, { [which]: { ...MCP_IDLE, status: "loading", startedAt: s.now, request: wait.request, stepUp: wait.neededScopes, steppedUp: true } });
  },
  /** The step-up's sign-in is done: the refused operation goes again (still the same wait). */
  mcpSteppedUp(s) {
    const which = waiting(s);
    if (!which || !s.mcp[which].stepUp) return s;
    return patch(s, { [which]: { ...s.mcp[which], stepUp: null, stage: null, signInUrl: null } });
  },
  mcpToolChosen(s, { name }) {
    if (!canUse(s) || s.mcp.tools.status !== "data" || s.mcp.call.status === "loading") return s;
    const tool = s.mcp.tools.result.tools.find((t) => t.name === name);
    if (!tool || s.mcp.selected === name) return s;
    return patch(s, { selected: name, form: argsForm(tool), call: MCP_IDLE });
  },
  /** A form field typed or chosen (typing is not re-rendered, unless its error goes). */
  mcpArgEdited(s, { id, value }) {
    const form = s.mcp.form;
    if (!canUse(s) || !form?.schema.ok || !(id in form.values) || typeof value !== "string" || form.values[id] === value) return s;
    const errors = id in form.errors ? Object.fromEntries(Object.entries(form.errors).filter(([k]) => k !== id)) : form.errors;
    return patchForm(s, { values: { ...form.values, [id]: value }, errors });
  },
  mcpRawEdited(s, { value }) {
    const form = s.mcp.form;
    if (!canUse(s) || !form || typeof value !== "string" || form.raw === value) return s;
    // The errors about the JSON go as it is edited (the same objects when there were none, so
    // typing is not re-rendered).
    const errors = form.mode === "json" && Object.keys(form.errors).length ? {} : form.errors;
    return patchForm(s, { raw: value, rawError: null, errors });
  },
  /** Form | JSON: what one holds goes to the other. */
  mcpArgsModeChosen(s, { mode }) {
    const form = s.mcp.form;
    if (!canUse(s) || !form || !["form", "json"].includes(mode) || form.mode === mode) return s;
    if (mode === "form") {
      if (!form.schema.ok) return s;
      const parsed = parseRaw(form.raw);
      const values = parsed.ok ? { ...initialValues(form.schema.fields), ...valuesFrom(form.schema.fields, parsed.arguments) } : form.values;
      return patchForm(s, { mode, values, errors: {}, rawError: null });
    }
    const raw = form.schema.ok ? JSON.stringify(argumentsFrom(form.schema.fields, form.values).arguments, null, 2) : form.raw;
    return patchForm(s, { mode, raw, errors: {}, rawError: null });
  },
  /** Call: arguments that do not match the schema say which field, and nothing is sent. */
  mcpCallClicked(s) {
    if (!canUse(s) || mcpBusy(s) || !s.mcp.selected || !s.mcp.form || s.mcp.tools.status !== "data") return s;
    const checked = checkedArguments(s.mcp.form);
    if (!checked.ok) return patch(s, { form: checked.form });
    const request = { url: s.mcp.tools.result.server.url || s.mcp.tools.request?.url || s.mcp.url.trim(), tool: s.mcp.selected, arguments: checked.arguments };
    return patch(s, {
      form: { ...s.mcp.form, errors: {}, rawError: null },
      call: { ...MCP_IDLE, status: "loading", startedAt: s.now, request },
    });
  },
  mcpCallAnswered(s, { result }) {
    if (s.mcp.call.status !== "loading") return s;
    const r = toCallResult(result);
    if (r.isError) {
      // The tool ran and failed: an error state (its content says why), not data.
      return patch(s, { call: { ...MCP_IDLE, status: "error", result: r, errorKind: "tool_error", message: `The tool ${r.tool || s.mcp.call.request.tool} reported an error (isError).` } });
    }
    return patch(s, { call: { ...MCP_IDLE, status: "data", result: r } });
  },
  mcpCallFailed(s, { error }) {
    if (s.mcp.call.status !== "loading") return s;
    if (error?.kind === "invalid_setting" && error.field === "arguments") {
      return patch(s, { call: MCP_IDLE, form: { ...s.mcp.form, rawError: error.message } });
    }
    return patch(s, { call: failedWait(s.mcp.call, error) });
  },
  /** Cancel (or Esc): the engine's request in flight, or the sign-in the server's 401 started. */
  mcpCancelClicked(s) {
    const which = waiting(s);
    if (!which || s.mcp[which].cancelling) return s;
    return patch(s, { [which]: { ...s.mcp[which], cancelling: true } });
  },
  /** A sign-in's stage while an MCP wait runs (the server's 401 started it). */
  mcpSignInProgress(s, { progress }) {
    const which = waiting(s);
    if (!which || !progress?.stage) return s;
    // The sign-in URL stays known once sent (to open by hand when no browser came up).
    const signInUrl = typeof progress.url === "string" ? progress.url : s.mcp[which].signInUrl ?? null;
    return patch(s, { [which]: { ...s.mcp[which], stage: progress.stage, signInUrl } });
  },
};

/** The arguments' fields with their values and errors, for the view (ids in order). */
export function shownFields(form) {
  return form?.schema.ok ? allFields(form.schema.fields) : [];
}
