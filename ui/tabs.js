// Tabs: several requests open at once, each with its own editor and last answer. Pure, like
// request.js. The tab in front keeps its parts where every other handler reads them
// (state.request, state.api, state.matrix, …); the others wait in state.tabs.list and are
// swapped in when chosen. An answer that comes back for a tab no longer in front goes to that
// tab (its event names it: `tab`).

import { bytes, historyStatus, statusLine } from "./format.js";
import { API_IDLE, MATRIX_IDLE, emptyDraft, fromApiRequest, splitUrl, toApiRequest } from "./request.js";
import { MODES } from "./mcp.js";

/** What each tab has of its own. */
export const TAB_PARTS = Object.freeze(["request", "api", "matrix", "requestError", "curl"]);
/** As many as the shell keeps (tabs_ext.rs TABS_LIMIT). */
export const MAX_TABS = 50;

function partsOf(s) {
  return Object.fromEntries(TAB_PARTS.map((k) => [k, s[k]]));
}

function freshParts(url) {
  return { request: emptyDraft(url), api: API_IDLE, matrix: MATRIX_IDLE, requestError: null, curl: null };
}

export function initialTabsState() {
  return { list: [{ id: 1 }], active: 1, nextId: 2 };
}

/** The tabs as shown: the one in front with the state's own parts. */
export function tabsShown(s) {
  return s.tabs.list.map((t) => (t.id === s.tabs.active ? { ...t, ...partsOf(s) } : t));
}

/** `text` cut to `max` characters in its middle, so both ends stay ("http://12…/a/b/c"). */
export function middleEllipsis(text, max) {
  const t = String(text ?? "");
  if (t.length <= max) return t;
  const keep = max - 1;
  const tail = Math.ceil(keep / 2);
  return `${t.slice(0, keep - tail)}…${t.slice(t.length - tail)}`;
}

/** A tab's title: the method and the URL's path (no origin, no query), its middle cut. */
export function tabTitle(request) {
  const { base } = splitUrl(request?.url ?? "");
  const path = base.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "") || (base ? "/" : "");
  return `${request?.method ?? "GET"} ${path ? middleEllipsis(path, 28) : "New request"}`;
}

/** The status line of a tab's last answer ("200 OK · 35 ms · 1.2 kB"), kept over a restart. */
export function lastStatus(api) {
  if (api?.status === "data" || (api?.status === "error" && api.result)) {
    const r = api.result;
    return [statusLine(r), Number.isFinite(r.elapsedMs) ? `${Math.round(r.elapsedMs)} ms` : null, Number.isFinite(r.size) ? bytes(r.size) : null]
      .filter(Boolean).join(" · ");
  }
  if (api?.status === "error") return `Error: ${api.message}`;
  return api?.restored ?? null;
}

/**
 * What the shell keeps of the tabs (save_tabs): each draft as a request, and its status line;
 * the explorer's mode (REST | MCP) and the MCP server's URL as typed (a URL: never a token).
 */
export function tabsSnapshot(s, fallback) {
  const shown = tabsShown(s);
  return {
    tabs: shown.map((t) => ({ request: toApiRequest(t.request, fallback), status: lastStatus(t.api) })),
    active: Math.max(0, shown.findIndex((t) => t.id === s.tabs.active)),
    mode: s.mode === "mcp" ? "mcp" : "rest",
    mcpUrl: typeof s.mcp?.url === "string" ? s.mcp.url : "",
  };
}

/** The mode and MCP URL kept from the last run (a value not known: as at a first start). */
function restoredMode(s, saved) {
  const mode = MODES.includes(saved?.mode) ? saved.mode : s.mode;
  const url = typeof saved?.mcpUrl === "string" ? saved.mcpUrl : s.mcp.url;
  if (mode === s.mode && url === s.mcp.url) return s;
  return { ...s, mode, mcp: { ...s.mcp, url } };
}

/** `s` with tab `id` in front (its parts swapped in, the others' stored). */
function activate(s, id) {
  if (id === s.tabs.active) return s;
  const target = s.tabs.list.find((t) => t.id === id);
  if (!target) return s;
  const list = s.tabs.list.map((t) => {
    if (t.id === s.tabs.active) return { id: t.id, ...partsOf(s) };
    if (t.id === id) return { id: t.id };
    return t;
  });
  return { ...s, ...partsOf(target), tabs: { ...s.tabs, list, active: id } };
}

/**
 * Runs `fn` on the state as if tab `id` were in front, and puts the result back in that tab; the
 * tab in front, and what is not a tab's own, stay as they were unless `fn` changed them.
 */
export function inTab(s, id, fn) {
  if (id === s.tabs.active) return fn(s);
  const tab = s.tabs.list.find((t) => t.id === id);
  if (!tab) return s; // closed since: its answer has nowhere to go
  const swapped = { ...s, ...partsOf(tab) };
  const out = fn(swapped);
  if (out === swapped) return s;
  const list = s.tabs.list.map((t) => (t.id === id ? { id, ...partsOf(out) } : t));
  return { ...out, ...partsOf(s), tabs: { ...s.tabs, list } };
}

/** Whether any tab's request (or matrix) is waiting: the engine sends one at a time. */
export function anyLoading(s) {
  return tabsShown(s).some((t) => t.api?.status === "loading" || t.matrix?.status === "loading");
}

function canUseTabs(s) {
  return s.screen === "signedIn";
}

function moveTo(list, from, to) {
  const out = [...list];
  const [tab] = out.splice(from, 1);
  out.splice(to, 0, tab);
  return out;
}

/** A new tab after the one in front, holding `parts`, brought to the front. */
function opened(s, parts) {
  if (s.tabs.list.length >= MAX_TABS) return s;
  const id = s.tabs.nextId;
  const at = s.tabs.list.findIndex((t) => t.id === s.tabs.active) + 1;
  const list = [...s.tabs.list.slice(0, at), { id, ...parts }, ...s.tabs.list.slice(at)];
  return activate({ ...s, tabs: { ...s.tabs, list, nextId: id + 1 } }, id);
}

export const tabsHandlers = {
  /** Ctrl+T or +: an empty request for the settings' API URL. */
  tabNew(s) {
    if (!canUseTabs(s)) return s;
    return opened(s, freshParts(s.settings?.apiUrl ?? ""));
  },
  tabChosen(s, { id }) {
    if (!canUseTabs(s)) return s;
    return activate(s, id);
  },
  /** Ctrl+PageDown / Ctrl+PageUp: the next or previous tab, round. */
  tabStepped(s, { by }) {
    if (!canUseTabs(s) || s.tabs.list.length < 2) return s;
    const n = s.tabs.list.length;
    const at = s.tabs.list.findIndex((t) => t.id === s.tabs.active);
    return activate(s, s.tabs.list[(((at + by) % n) + n) % n].id);
  },
  /**
   * Ctrl+W or ×. A tab whose request is waiting is not closed (Cancel first: its answer would
   * have nowhere to go); the last tab closed leaves an empty one.
   */
  tabClosed(s, { id }) {
    if (!canUseTabs(s)) return s;
    const at = s.tabs.list.findIndex((t) => t.id === id);
    if (at < 0) return s;
    const tab = tabsShown(s)[at];
    if (tab.api?.status === "loading" || tab.matrix?.status === "loading") return s;
    if (s.tabs.list.length === 1) {
      return { ...s, ...freshParts(s.settings?.apiUrl ?? ""), tabs: { ...s.tabs, list: [{ id: s.tabs.nextId }], active: s.tabs.nextId, nextId: s.tabs.nextId + 1 } };
    }
    const next = id === s.tabs.active ? activate(s, s.tabs.list[at + 1]?.id ?? s.tabs.list[at - 1].id) : s;
    return { ...next, tabs: { ...next.tabs, list: next.tabs.list.filter((t) => t.id !== id) } };
  },
  /** Dragged onto another tab's place, or Ctrl+Shift+PageUp/PageDown (`by`: -1 / +1). */
  tabMoved(s, { id, to, by }) {
    if (!canUseTabs(s)) return s;
    const from = s.tabs.list.findIndex((t) => t.id === (id ?? s.tabs.active));
    if (from < 0) return s;
    const target = Number.isInteger(to) ? to : from + (by ?? 0);
    if (target < 0 || target >= s.tabs.list.length || target === from) return s;
    return { ...s, tabs: { ...s.tabs, list: moveTo(s.tabs.list, from, target) } };
  },
  /** A history entry in a new tab (the current one keeps its request and answer). */
  historyOpenedInTab(s, { id }) {
    const entry = s.history.find((e) => e.id === id);
    if (!canUseTabs(s) || !entry) return s;
    return opened(s, { ...freshParts(""), request: fromApiRequest(entry.request), api: { ...API_IDLE, restored: historyStatus(entry) } });
  },
  /**
   * The tabs kept from the last run (the shell's first frame, or the tabs command), with the
   * mode and MCP URL they were left in.
   */
  tabsRestored(state, { saved }) {
    const s = restoredMode(state, saved);
    const tabs = Array.isArray(saved?.tabs) ? saved.tabs.slice(0, MAX_TABS) : [];
    if (!tabs.length) return s;
    const list = tabs.map((t, i) => ({
      id: i + 1,
      ...freshParts(""),
      request: fromApiRequest(t.request),
      api: typeof t.status === "string" && t.status ? { ...API_IDLE, restored: t.status } : API_IDLE,
    }));
    const active = Number.isInteger(saved.active) && saved.active >= 0 && saved.active < list.length ? saved.active : 0;
    const front = list[active];
    return {
      ...s, ...partsOf(front),
      tabs: { list: list.map((t) => (t.id === front.id ? { id: t.id } : t)), active: front.id, nextId: list.length + 1 },
    };
  },
};

/**
 * Routes an event that names its tab (an answer, a failure) to that tab when it is no longer
 * in front; everything else goes to `handler` as it is.
 */
export function routed(state, event, handler) {
  if (event?.tab != null && state.tabs && event.tab !== state.tabs.active) return inTab(state, event.tab, (s) => handler(s, event));
  return handler(state, event);
}
