// The request editor, the answer, the history and the profiles bar. Like view.js: handlers only
// dispatch, text only goes in as text nodes via h().

import { h } from "./dom.js";
import * as fmt from "./format.js";
import {
  BODY_KINDS, METHODS, TOKEN_TYPES, contentTypeFor, effectiveTokenType, holdsTokenType, splitDiagnosis, tokenTypeInfo,
} from "./request.js";
import { anyLoading } from "./tabs.js";
import { looksLikeCurl } from "./variables.js";
import { importControl } from "./variables-view.js";
import { viewerFor } from "./viewer-view.js";

const BODY_LABELS = { none: "No body", json: "JSON", text: "Text", form: "Form" };
const ADD_LABELS = { query: "Add parameter", headers: "Add header", form: "Add field" };
export const SHORTCUTS = "Enter sends · Esc cancels · Ctrl+L (⌘L) goes to the URL";

/** <details> whose open state lives in state.expanded. */
function section(key, id, title, state, dispatch, ...content) {
  return h("details", {
    id, open: state.expanded[key],
    onToggle: (e) => dispatch({ type: "sectionToggled", section: key, open: e.currentTarget.open }),
  }, h("summary", { id: `${id}-summary` }, title), ...content);
}

/**
 * A field the last error is about (the engine's `field`, or the timeout for a request that ran
 * out of it): marked invalid and described by that error, so it is found and announced.
 */
function pointedAt(state, field, errorId) {
  if (state.requestError?.field === field) return { "aria-invalid": "true", "aria-describedby": errorId };
  if (field === "timeout" && state.api.errorKind === "api_timeout") return { "aria-invalid": "true", "aria-describedby": "api-error" };
  return {};
}

function errorFor(state, ...fields) {
  const e = state.requestError;
  return e && fields.includes(e.field) ? h("p", { id: `request-error-${e.field}`, class: "field-error", role: "alert" }, e.message) : null;
}

// --- the request -------------------------------------------------------------------------------

export function requestCard(state, dispatch) {
  const r = state.request;
  const loading = state.api.status === "loading";
  // Another tab's request waiting counts too: the engine sends one at a time.
  const busy = loading || state.matrix.status === "loading" || anyLoading(state);
  const tokenType = effectiveTokenType(state);
  const onSubmit = (e) => {
    e.preventDefault();
    dispatch(looksLikeCurl(r.url) ? { type: "curlPasted", text: r.url } : { type: "callApiClicked" });
  };
  return h("section", { id: "request-panel", class: ["card", "request-card"], role: "tabpanel", "aria-labelledby": `tab-${state.tabs.active}` },
    h("h2", { id: "api-title", class: "sr-title" }, "Request"),
    h("form", { id: "request-form", class: "request", novalidate: true, onSubmit },
      // The URL first, then the method: the URL has the focus at start, and Tab goes on from
      // it in the order things are read (the method was reachable only with Shift+Tab).
      h("div", { class: "url-bar" },
        h("label", { for: "request-url", class: "visually-hidden" }, "URL"),
        h("input", {
          id: "request-url", name: "url", type: "text", value: r.url, placeholder: "http://localhost:3000/protected",
          autocomplete: "off", spellcheck: "false", autocapitalize: "off",
          "aria-invalid": ["apiUrl", "query"].includes(state.requestError?.field) ? "true" : null,
          "data-initial-focus": true,
          onInput: (e) => dispatch({ type: "requestEdited", part: "url", value: e.target.value }),
          // A pasted curl command becomes the request (variables.js), not a URL.
          onPaste: (e) => {
            const text = e.clipboardData?.getData("text") ?? "";
            if (!looksLikeCurl(text)) return;
            e.preventDefault();
            dispatch({ type: "curlPasted", text });
          },
        }),
        h("label", { for: "request-method", class: "visually-hidden" }, "Method"),
        h("select", {
          id: "request-method", name: "method",
          onChange: (e) => dispatch({ type: "methodChosen", method: e.target.value }),
        }, METHODS.map((m) => h("option", { value: m, selected: m === r.method }, m))),
        loading
          ? h("button", { id: "cancel-request", type: "button", onClick: () => dispatch({ type: "cancelRequestClicked" }) },
            state.api.cancelling ? "Cancelling…" : "Cancel")
          : null,
        // Enter in a field "clicks" the form's submit button, so this one handler serves both.
        h("button", {
          id: "call-api", type: "submit", class: "primary", "aria-disabled": busy ? "true" : null,
          onClick: (e) => {
            e.preventDefault();
            dispatch(looksLikeCurl(r.url) ? { type: "curlPasted", text: r.url } : { type: "callApiClicked" });
          },
        }, "Send"),
        tokenSelect(state, dispatch, tokenType),
        h("button", {
          id: "try-every-token-type", type: "button", "aria-disabled": busy ? "true" : null,
          title: "Send this request once with each kind of token you hold, and see which ones the API lets in",
          onClick: () => dispatch({ type: "tryEveryClicked" }),
        }, "Try every token type"),
      ),
      errorFor(state, "apiUrl", "method"),
      h("p", { id: "shortcuts", class: "hint" }, SHORTCUTS),
      tokenHint(state, tokenType),
      section("query", "request-query", `Query parameters (${r.query.length})`, state, dispatch,
        rows("query", r.query, dispatch), errorFor(state, "query")),
      section("headers", "request-headers", `Headers (${r.headers.length + (tokenType !== "none" ? 1 : 0)})`, state, dispatch,
        tokenType !== "none" ? h("p", { id: "auth-header", class: "masked-header", "data-token-type": tokenType },
          h("code", null, "Authorization: Bearer ••••••••"),
          h("span", { class: "hint" }, ` ${tokenTypeInfo(tokenType).label.toLowerCase()}, added by Keyhole`)) : null,
        rows("headers", r.headers, dispatch), errorFor(state, "headers")),
      section("body", "request-body-section", `Body (${BODY_LABELS[r.bodyKind]})`, state, dispatch,
        bodyEditor(state, dispatch), errorFor(state, "body")),
      h("div", { class: "field timeout" },
        h("label", { for: "request-timeout" }, "Timeout (seconds)"),
        h("input", {
          id: "request-timeout", type: "text", inputmode: "numeric", value: r.timeoutSecs,
          ...pointedAt(state, "timeout", "request-error-timeout"),
          onInput: (e) => dispatch({ type: "requestEdited", part: "timeoutSecs", value: e.target.value }),
        }),
        errorFor(state, "timeout"),
      ),
      curlRow(state, dispatch),
    ),
  );
}

/** The answer side of the split: the answer (or what stands for it) and the token matrix. */
export function answerCard(state, dispatch) {
  return h("section", { id: "answer-panel", class: ["card", "answer-card"], "aria-label": "Answer" },
    apiResult(state, dispatch),
    matrixView(state, dispatch));
}

/** Which kind of token Send carries (TOKEN_TYPES; one not held says so in its label). */
function tokenSelect(state, dispatch, tokenType) {
  return [
    h("label", { for: "token-type", class: "visually-hidden" }, "Token to send"),
    h("select", {
      id: "token-type", name: "tokenType",
      onChange: (e) => dispatch({ type: "tokenTypeChosen", tokenType: e.target.value }),
    }, TOKEN_TYPES.map((t) => h("option", { value: t.value, selected: t.value === tokenType },
      holdsTokenType(state, t.value) ? t.label : `${t.label} (${t.missing})`))),
  ];
}

function tokenHint(state, tokenType) {
  const info = tokenTypeInfo(tokenType);
  let text;
  if (tokenType === "none") text = "No token: the API sees a signed-out caller.";
  else if (!holdsTokenType(state, tokenType)) text = `Sends ${info.sign} as Authorization: Bearer …, ${info.get}.`;
  else text = `Sends ${info.sign} as Authorization: Bearer ….`;
  return h("p", { id: "token-hint", class: "hint" }, text);
}

function rows(list, items, dispatch) {
  return h("div", { class: "rows" },
    items.map((item, index) => h("div", { class: "row", "data-row": `${list}-${index}` },
      h("input", {
        id: `${list}-${index}-enabled`, type: "checkbox", checked: item.enabled, "aria-label": "Send this one",
        onChange: (e) => dispatch({ type: "rowEdited", list, index, key: "enabled", value: e.target.checked }),
      }),
      h("input", {
        id: `${list}-${index}-name`, type: "text", value: item.name, placeholder: "name", "aria-label": "Name",
        autocomplete: "off", spellcheck: "false",
        onInput: (e) => dispatch({ type: "rowEdited", list, index, key: "name", value: e.target.value }),
        // A text field drops the line breaks of a paste: the header lines are read before it does.
        onPaste: list === "headers" ? (e) => {
          const text = e.clipboardData?.getData("text") ?? "";
          if (!/[:\n]/.test(text)) return;
          e.preventDefault();
          dispatch({ type: "headerPasted", index, text });
        } : null,
      }),
      h("input", {
        id: `${list}-${index}-value`, type: "text", value: item.value, placeholder: "value", "aria-label": "Value",
        autocomplete: "off", spellcheck: "false",
        onInput: (e) => dispatch({ type: "rowEdited", list, index, key: "value", value: e.target.value }),
      }),
      h("button", {
        id: `${list}-${index}-remove`, type: "button", class: "small", "aria-label": "Remove",
        onClick: () => dispatch({ type: "rowRemoved", list, index }),
      }, "×"),
    )),
    h("button", { id: `add-${list}`, type: "button", class: "small", onClick: () => dispatch({ type: "rowAdded", list }) },
      ADD_LABELS[list]),
  );
}

function bodyEditor(state, dispatch) {
  const r = state.request;
  const type = contentTypeFor(r.bodyKind);
  return h("div", { class: "body-editor" },
    h("div", { class: "choices", role: "radiogroup", "aria-label": "Body kind" },
      BODY_KINDS.map((kind) => h("label", { class: "choice" },
        h("input", {
          id: `body-kind-${kind}`, type: "radio", name: "body-kind", value: kind, checked: r.bodyKind === kind,
          onChange: () => dispatch({ type: "bodyKindChosen", kind }),
        }),
        BODY_LABELS[kind]))),
    r.bodyKind === "json" || r.bodyKind === "text"
      ? h("textarea", {
        id: "request-body", class: "mono", rows: "6", spellcheck: "false", value: r.bodyText,
        "aria-label": "Body",
        onInput: (e) => dispatch({ type: "requestEdited", part: "bodyText", value: e.target.value }),
      })
      : null,
    r.bodyKind === "form" ? rows("form", r.form, dispatch) : null,
    type ? h("p", { id: "content-type", class: "hint" }, `Content-Type: ${type} (unless a header sets it)`) : null,
  );
}

function curlRow(state, dispatch) {
  const c = state.curl;
  const tokenType = effectiveTokenType(state);
  const literal = state.curlLiteral && tokenType !== "none";
  return h("div", { class: "curl" },
    h("div", { class: "actions" },
      h("button", {
        id: "copy-curl", type: "button", "aria-disabled": c?.status === "pending" ? "true" : null,
        onClick: () => dispatch({ type: "copyCurlClicked" }),
      }, "Copy as curl"),
      h("span", { class: "check" },
        h("input", {
          id: "curl-literal", type: "checkbox", checked: state.curlLiteral,
          onChange: (e) => dispatch({ type: "curlLiteralToggled", on: e.target.checked }),
        }),
        h("label", { for: "curl-literal" }, "with the token itself")),
    ),
    literal
      ? h("p", { id: "curl-warning", class: ["note", "note-warning"], role: "note" },
        `Warning: the copied command will contain ${tokenTypeInfo(tokenType).sign}. Anyone who sees it can call the API as you until it expires. Without this, the command gets the token from keyhole-cli token --token-type ${tokenType}.`)
      : null,
    c?.status === "done"
      ? h("div", { id: "curl-copied" },
        h("p", { class: "hint", role: "status" }, c.literal ? "Copied, with your token (shown masked here)." : "Copied. It gets the token from keyhole-cli when run."),
        h("pre", { id: "curl-command", class: "json wrap", tabindex: "0" }, c.command))
      : null,
    c?.status === "failed" ? h("p", { id: "curl-error", class: "field-error", role: "alert" }, `Could not copy: ${c.message}`) : null,
  );
}

// --- the answer --------------------------------------------------------------------------------

/** Called every second while waiting, instead of a full render. */
export function updateWaiting(root, state) {
  for (const [id, wait] of [["#api-elapsed", state.api], ["#matrix-elapsed", state.matrix]]) {
    const el = root.querySelector(id);
    if (!el || wait.status !== "loading") continue;
    const text = fmt.waited(wait.startedAt, state.now);
    if (el.textContent !== text) el.textContent = text;
  }
}

// --- try every token type ----------------------------------------------------------------------

const yesNo = (v) => (v === true ? "yes" : v === false ? "no" : "unclear");

/** "Try every token type": Loading… / Error: … / the matrix (#token-matrix), one row per kind. */
export function matrixView(state, dispatch) {
  const m = state.matrix;
  if (m.status === "idle") return null;
  const box = (...children) => h("div", { id: "matrix-result", class: "api-result", "data-result": m.status },
    h("h3", { id: "matrix-title" }, "Every token type"), ...children);
  switch (m.status) {
    case "loading":
      return box(
        h("p", { class: "stage" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Loading… ",
          h("span", { id: "matrix-elapsed", class: "muted" }, fmt.waited(m.startedAt, state.now))),
        h("div", { class: "actions" },
          h("button", { id: "cancel-matrix", type: "button", onClick: () => dispatch({ type: "cancelRequestClicked" }) },
            m.cancelling ? "Cancelling…" : "Cancel"),
          h("span", { class: "hint" }, "or press Esc")));
    case "error":
      return box(
        h("p", { id: "matrix-error", class: "error-text", role: "alert" }, `Error: ${m.message}`),
        closeMatrix(dispatch));
    default: {
      const { result } = m;
      return box(
        h("p", { id: "matrix-target", class: "meta" }, result.target),
        h("table", { id: "token-matrix", class: "matrix" },
          h("thead", null, h("tr", null,
            h("th", { scope: "col" }, "Token"), h("th", { scope: "col" }, "Status"),
            h("th", { scope: "col" }, "Signed in"), h("th", { scope: "col" }, "What would let it in"))),
          h("tbody", null, result.rows.map((r) => h("tr", {
            id: `matrix-${r.credential}`, "data-credential": r.credential,
            "data-signed-in": r.signedIn == null ? "unclear" : String(r.signedIn),
          },
          h("th", { scope: "row" }, tokenTypeInfo(r.credential).label),
          h("td", { class: "matrix-status" }, r.status == null ? "—" : String(r.status)),
          h("td", { class: ["matrix-signed-in", r.signedIn === true && "good", r.signedIn === false && "bad"] }, yesNo(r.signedIn)),
          h("td", { class: "matrix-fix" },
            r.error ? h("span", { class: "error-text" }, `Error: ${r.error}`) : (r.fix ?? (r.signedIn ? "Let in." : "")),
            r.tokenTypeSeen && !r.fix ? h("span", { class: "muted" }, ` (it saw ${r.tokenTypeSeen})`) : null))))),
        result.missing.length
          ? h("ul", { id: "token-matrix-missing", class: "missing" },
            result.missing.map((k) => h("li", { "data-credential": k.credential },
              h("strong", null, `${tokenTypeInfo(k.credential).label}: not tried.`), ` To try it, ${k.how}.`)))
          : null,
        closeMatrix(dispatch));
    }
  }
}

function closeMatrix(dispatch) {
  return h("div", { class: "actions" },
    h("button", { id: "close-matrix", type: "button", class: "small", onClick: () => dispatch({ type: "matrixClosed" }) }, "Close"));
}

function destinationWarnings(result) {
  const warnings = Array.isArray(result?.warnings) ? result.warnings : [];
  if (warnings.length === 0) return null;
  return h("p", { id: "api-warnings", class: ["note", "note-warning"], role: "note" },
    warnings.map((w) => `Warning: ${w.message}`).join(" "));
}

function diagnosisView(state, dispatch, warning) {
  const parts = splitDiagnosis(state.api.diagnosis);
  if (!parts) return null;
  const feedback = { done: "Copied.", failed: "Could not copy: select the text and press Ctrl+C." }[state.diagnosisCopy];
  return h("div", { id: "diagnosis", class: ["note", warning && "note-warning"], role: "note" },
    h("p", { id: "diagnosis-verdict", class: "verdict" }, warning ? `Warning: ${parts.verdict}` : parts.verdict),
    parts.details ? h("pre", { id: "diagnosis-details", class: ["json", "wrap"], tabindex: "0" }, parts.details) : null,
    h("div", { class: "actions" },
      h("button", { id: "copy-diagnosis", type: "button", class: "small", onClick: () => dispatch({ type: "diagnosisCopyClicked" }) }, "Copy details"),
      feedback ? h("span", { class: "hint", role: "status" }, feedback) : null),
  );
}

function headersView(result, state, dispatch) {
  const headers = Array.isArray(result.headers) ? result.headers : [];
  return h("details", {
    id: "api-headers", open: state.answerOpen.headers,
    onToggle: (e) => dispatch({ type: "answerToggled", part: "headers", open: e.currentTarget.open }),
  },
  h("summary", { id: "api-headers-summary" }, `Response headers (${headers.length})`),
  h("dl", { id: "api-headers-list", class: "headers" },
    headers.map(([name, value]) => [h("dt", null, name), h("dd", null, value)])));
}

function bodyView(result) {
  // The viewer: one persistent node per answer, its lines fetched from the engine as they show.
  if (result.answer) return viewerFor(result.answer, result.url, result.method);
  // A result without the engine's answer (an older shell): nothing to show lines from.
  return h("p", { id: "api-body-missing", class: "muted" }, `Body: ${fmt.bytes(result.size ?? 0)}, not shown.`);
}

function apiResult(state, dispatch) {
  const api = state.api;
  const box = (...children) => h("div", {
    id: "api-result", class: "api-result", "data-result": api.status, "data-error-kind": api.errorKind ?? null,
  }, ...children);
  switch (api.status) {
    case "loading":
      return box(
        h("p", { class: "stage" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Loading… ",
          h("span", { id: "api-elapsed", class: "muted" }, fmt.waited(api.startedAt, state.now))),
        h("div", { class: "actions" },
          h("button", { id: "cancel-request-answer", type: "button", onClick: () => dispatch({ type: "cancelRequestClicked" }) },
            api.cancelling ? "Cancelling…" : "Cancel"),
          h("span", { class: "hint" }, "or press Esc")));
    case "error":
      return box(
        h("p", { id: "api-error", class: "error-text" }, `Error: ${api.message}`),
        api.result ? h("p", { id: "api-meta", class: "meta" }, fmt.resultMeta(api.result)) : null,
        destinationWarnings(api.result),
        diagnosisView(state, dispatch, false),
        api.result ? headersView(api.result, state, dispatch) : null,
        api.result ? bodyView(api.result) : null,
      );
    case "data": {
      const { result } = api;
      return box(
        h("h3", null, "Data from API"),
        h("p", { id: "api-meta", class: "meta" }, fmt.resultMeta(result)),
        destinationWarnings(result),
        diagnosisView(state, dispatch, true),
        headersView(result, state, dispatch),
        bodyView(result),
      );
    }
    default:
      // A tab kept over a restart, or a history entry reopened: its last status line only.
      return api.restored
        ? box(h("p", { id: "api-restored", class: "meta" }, `Last answer: ${api.restored}`),
          h("p", { class: "muted" }, BODY_NOT_KEPT))
        : box(h("p", { class: "muted" }, "Not sent yet. Send shows the API's whole answer: status, headers, timing and body."));
  }
}

// --- history -----------------------------------------------------------------------------------

const BODY_NOT_KEPT = "Its body is not kept, because answers can hold secrets: Send to see it again.";

/** How many of a URL's last characters always show (the path's end, where requests differ). */
const URL_TAIL_CHARS = 20;

/**
 * A URL cut in its middle: the start gives way with an ellipsis as the space shrinks (CSS), the
 * last URL_TAIL_CHARS characters always show, so two URLs that differ only at the end look apart.
 */
function urlView(url) {
  const text = String(url ?? "");
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(text)?.[0] ?? "";
  const cut = Math.max(origin.length, text.length - URL_TAIL_CHARS);
  return h("span", { class: "url", title: text },
    h("span", { class: "url-head" }, text.slice(0, cut)),
    h("span", { class: "url-tail" }, text.slice(cut) || "/"));
}

export function historyCard(state, dispatch) {
  const entries = state.history;
  return h("section", { class: "card", "aria-label": "History" },
    section("history", "history", `History (${entries.length})`, state, dispatch,
      h("p", { id: "history-note", class: "hint" },
        state.profiles.current ? `Sent from profile ${state.profiles.current}. ` : "Sent without a profile. ",
        "Each entry keeps the request and its status line, never a token or an answer's body: answers can hold secrets."),
      entries.length === 0
        ? h("p", { class: "muted" }, "Requests you send appear here.")
        : h("ol", { id: "history-list", class: "history" },
          entries.map((e) => h("li", { class: "history-row" }, h("button", {
            id: `history-${e.id}`, type: "button", class: "history-item", title: e.url,
            "data-token-type": e.tokenType ?? "unknown",
            onClick: () => dispatch({ type: "historyOpened", id: e.id }),
          },
          h("span", { class: "method" }, e.method),
          h("span", { class: ["outcome", Number.isInteger(e.status) && e.status < 400 ? "good" : "bad"] }, fmt.historyOutcome(e)),
          urlView(e.url),
          h("span", { class: "token-kind" }, e.tokenType ? tokenTypeInfo(e.tokenType).label : ""),
          h("span", { class: "when muted" }, [
            Number.isFinite(e.elapsedMs) ? `${e.elapsedMs} ms` : null,
            Number.isFinite(e.size) ? fmt.bytes(e.size) : null,
            fmt.when(e.at, state.now),
          ].filter(Boolean).join(" · "))),
          h("button", {
            id: `history-${e.id}-tab`, type: "button", class: "small history-tab", "aria-label": `Open ${e.method} ${e.url} in a new tab`,
            title: "Open in a new tab", onClick: () => dispatch({ type: "historyOpenedInTab", id: e.id }),
          }, "↗")))),
      entries.length
        ? h("button", { id: "clear-history", type: "button", class: "small", onClick: () => dispatch({ type: "clearHistoryClicked" }) }, "Clear history")
        : null,
    ));
}

// --- saved requests ----------------------------------------------------------------------------

/** The current profile's saved requests: save the editor's request by name, open one, delete. */
export function savedCard(state, dispatch) {
  const p = state.profiles.current;
  const saved = state.saved;
  const onSubmit = (e) => e.preventDefault();
  const title = p ? `Saved requests in ${p} (${saved.list.length})` : "Saved requests";
  return h("section", { class: "card", "aria-label": "Saved requests" },
    section("saved", "saved-requests", title, state, dispatch,
      p
        ? h("form", { id: "save-request-form", class: "save-request", novalidate: true, onSubmit },
          h("label", { for: "saved-name", class: "visually-hidden" }, "Name to save the request under"),
          h("input", {
            id: "saved-name", type: "text", value: saved.draft, placeholder: "name, e.g. echo post", maxlength: "100",
            autocomplete: "off", spellcheck: "false", "aria-invalid": saved.error ? "true" : null,
            onInput: (e) => dispatch({ type: "savedNameEdited", value: e.target.value }),
          }),
          // Enter in the name "clicks" this submit button, so the click handler serves both.
          h("button", {
            id: "save-request", type: "submit", class: "small", "aria-disabled": saved.busy ? "true" : null,
            onClick: (e) => {
              e.preventDefault();
              dispatch({ type: "saveRequestClicked" });
            },
          }, "Save request"))
        : h("p", { id: "saved-needs-profile", class: "muted" },
          "Requests are saved in a profile: save these settings as a profile (Settings, Profile) to keep requests in it."),
      saved.error ? h("p", { id: "saved-error", class: "field-error", role: "alert" }, saved.error) : null,
      saved.confirm
        ? h("div", { id: "saved-confirm", class: ["note", "note-warning"], role: "alert" },
          h("p", null, `A request named ${saved.confirm} is already saved in ${p}. Replace it with this one?`),
          h("div", { class: "actions" },
            h("button", { id: "saved-replace", type: "button", class: "small", onClick: () => dispatch({ type: "savedReplaceClicked" }) }, "Replace"),
            h("button", { id: "saved-replace-cancel", type: "button", class: "small", onClick: () => dispatch({ type: "savedReplaceCancelled" }) }, "Cancel")))
        : null,
      p && saved.list.length === 0
        ? h("p", { class: "muted" }, "None yet. The request is saved without any token or cookie; keyhole-cli call --saved NAME sends it too.")
        : null,
      saved.list.length
        ? h("ul", { id: "saved-list", class: "saved" },
          saved.list.map((r, index) => h("li", { class: "saved-row" },
            h("button", {
              id: `saved-${index}`, type: "button", class: "history-item saved-item", title: r.url,
              "data-name": r.name,
              onClick: () => dispatch({ type: "savedOpened", name: r.name }),
            },
            h("span", { class: "method" }, r.method ?? "GET"),
            h("span", { class: "name" }, r.name),
            h("span", { class: "url" }, r.url)),
            h("button", {
              id: `saved-${index}-delete`, type: "button", class: "small", "aria-label": `Delete ${r.name}`,
              "aria-disabled": saved.busy ? "true" : null,
              onClick: () => dispatch({ type: "deleteSavedClicked", name: r.name }),
            }, "Delete"))))
        : null,
      importControl(state, dispatch),
    ));
}

// --- profiles ----------------------------------------------------------------------------------

export function profilesBar(state, dispatch) {
  const p = state.profiles;
  const onSubmit = (e) => {
    e.preventDefault();
    dispatch({ type: "saveProfileClicked" });
  };
  return h("form", { id: "profiles", class: "profiles", novalidate: true, onSubmit, "aria-label": "Profiles" },
    h("label", { for: "profile-select" }, "Profile"),
    h("select", {
      id: "profile-select", "aria-disabled": p.busy ? "true" : null,
      onChange: (e) => dispatch({ type: "profileSwitchClicked", name: e.target.value }),
    },
    h("option", { value: "", selected: p.current == null }, "(none)"),
    p.names.map((name) => h("option", { value: name, selected: name === p.current }, name))),
    h("input", {
      id: "profile-name", type: "text", value: p.draft, placeholder: "new profile name", "aria-label": "New profile name",
      autocomplete: "off", spellcheck: "false",
      onInput: (e) => dispatch({ type: "profileNameEdited", value: e.target.value }),
    }),
    h("button", { id: "save-profile", type: "submit", class: "small", "aria-disabled": p.busy ? "true" : null, "aria-describedby": "hint-profiles" }, "Save as profile"),
    p.error ? h("p", { id: "profile-error", class: "field-error", role: "alert" }, p.error) : null,
    h("p", { id: "hint-profiles", class: "hint" },
      state.session
        ? "Each profile has its own session: a new profile starts signed out (you sign in again in it), and switching keeps the others signed in. keyhole-cli --profile NAME uses the same profiles."
        : "Each profile has its own session: switching keeps the others signed in. keyhole-cli --profile NAME uses the same profiles."),
  );
}
