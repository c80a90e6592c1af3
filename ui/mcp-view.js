// The explorer's MCP mode and the REST | MCP switch. Like the other views: handlers only
// dispatch, and everything a server wrote (names, descriptions, schemas, results) goes in as
// text nodes via h(), never parsed as HTML.

import { h } from "./dom.js";
import * as fmt from "./format.js";
import { VERDICTS, reportSummary, shownFields, shownText } from "./mcp.js";

const MODE_LABELS = { rest: "REST", mcp: "MCP" };
export const MCP_SHORTCUTS = "Enter lists the tools · Ctrl+Enter calls · Esc cancels";

/** REST | MCP, above the editor (it is in the first frame, so nothing moves later). */
export function modeSwitch(state, dispatch) {
  return h("div", { id: "explorer-mode", class: "mode-switch", role: "group", "aria-label": "Explorer mode" },
    ["rest", "mcp"].map((mode) => h("button", {
      id: `mode-${mode}`, type: "button", class: ["small", state.mode === mode && "active"],
      "aria-pressed": state.mode === mode ? "true" : "false",
      title: mode === "rest" ? "A request to a REST API" : "An MCP server's tools",
      onClick: () => dispatch({ type: "modeChosen", mode }),
    }, MODE_LABELS[mode])));
}

/** Loading… with the time waited, the sign-in's stage when the server's 401 started one, Cancel. */
function waitingView(wait, state, dispatch, prefix) {
  const signingIn = wait.stage != null;
  return [
    h("p", { class: "stage" }, h("span", { class: "spinner", "aria-hidden": "true" }),
      wait.stepUp && !signingIn ? `Signing in again asking for ${shownText(wait.stepUp)}… ` : null,
      signingIn ? `Signing in for the MCP server: ${fmt.stageText(wait.stage)} ` : (wait.stepUp ? null : "Loading… "),
      h("span", { id: `${prefix}-elapsed`, class: "muted" }, fmt.waited(wait.startedAt, state.now))),
    signingIn && wait.signInUrl
      ? h("div", { class: "field" },
        h("label", { for: `${prefix}-sign-in-url` }, "Sign-in URL"),
        h("input", { id: `${prefix}-sign-in-url`, type: "text", readonly: true, value: wait.signInUrl, spellcheck: "false", onFocus: (e) => e.target.select() }))
      : null,
    h("div", { class: "actions" },
      h("button", { id: `${prefix}-cancel`, type: "button", onClick: () => dispatch({ type: "mcpCancelClicked" }) },
        wait.cancelling ? "Cancelling…" : "Cancel"),
      h("span", { class: "hint" }, "or press Esc")),
  ];
}

/** "MCP 2025-11-25 · keyhole-sandbox-mcp 1.0.0": the revision spoken and who answered. */
function serverLine(server) {
  const who = [server.name, server.version].filter(Boolean).join(" ");
  return `MCP ${server.revision}${who ? ` · ${who}` : ""}`;
}

export function mcpCard(state, dispatch) {
  const m = state.mcp;
  const busy = [m.tools, m.call, m.check, m.listing].some((w) => w.status === "loading");
  const onSubmit = (e) => {
    e.preventDefault();
    dispatch({ type: "mcpListClicked" });
  };
  return h("section", { id: "mcp-panel", class: ["card", "request-card", "mcp-card"], "aria-labelledby": "mcp-title" },
    h("h2", { id: "mcp-title", class: "sr-title" }, "MCP server"),
    h("form", { id: "mcp-url-form", class: "request", novalidate: true, onSubmit },
      h("div", { class: "url-bar" },
        h("label", { for: "mcp-url", class: "visually-hidden" }, "MCP server URL"),
        h("input", {
          id: "mcp-url", name: "mcpUrl", type: "text", value: m.url, placeholder: "http://localhost:3000/mcp",
          autocomplete: "off", spellcheck: "false", autocapitalize: "off",
          // Restarted in the MCP mode: the URL has the focus at start, as the REST URL has.
          "data-initial-focus": true,
          "aria-invalid": m.urlError ? "true" : null, "aria-describedby": m.urlError ? "mcp-url-error" : "mcp-hint",
          onInput: (e) => dispatch({ type: "mcpUrlEdited", value: e.target.value }),
        }),
        h("button", {
          id: "mcp-list", type: "submit", class: "primary", "aria-disabled": busy ? "true" : null,
          onClick: (e) => {
            e.preventDefault();
            dispatch({ type: "mcpListClicked" });
          },
        }, "List tools"),
        h("button", {
          id: "mcp-listing-button", type: "button", "aria-disabled": busy ? "true" : null,
          title: "List the server's resources and prompts, where it offers them",
          onClick: () => dispatch({ type: "mcpListingClicked" }),
        }, "Resources & prompts"),
        h("button", {
          id: "mcp-check-button", type: "button", "aria-disabled": busy ? "true" : null,
          title: "Grade the server and its provider against the MCP authorization rules (no tool is called)",
          onClick: () => dispatch({ type: "mcpCheckClicked" }),
        }, "Check authorization")),
      m.urlError ? h("p", { id: "mcp-url-error", class: "field-error", role: "alert" }, m.urlError) : null,
      expiryOption(state, dispatch),
      h("p", { id: "mcp-hint", class: "hint" },
        "MCP 2026-07-28, or 2025-11-25 / 2025-06-18 with older servers. A 401 leads through the server's metadata (RFC 9728) to a sign-in for it; the token is never shown."),
      h("p", { id: "mcp-shortcuts", class: "hint" }, MCP_SHORTCUTS)),
    checkView(state, dispatch),
    toolsView(state, dispatch),
    listingView(state, dispatch),
    m.selected && m.form ? toolForm(state, dispatch) : null,
    resultView(state, dispatch));
}

function toolsView(state, dispatch) {
  const t = state.mcp.tools;
  const box = (...children) => h("div", { id: "mcp-tools", class: "api-result", "data-result": t.status, "data-error-kind": t.errorKind ?? null }, ...children);
  switch (t.status) {
    case "loading":
      return box(...waitingView(t, state, dispatch, "mcp-tools"));
    case "error":
      return box(h("p", { id: "mcp-tools-error", class: "error-text", role: "alert" }, `Error: ${t.message}`), stepUpOffer(t, "tools", dispatch));
    case "data": {
      const { server, tools, pages } = t.result;
      const count = `${tools.length} tool${tools.length === 1 ? "" : "s"}${pages > 1 ? ` (${pages} pages)` : ""}`;
      return box(
        h("p", { id: "mcp-revision", class: "meta", "data-revision": server.revision }, `${serverLine(server)} · ${count}`),
        tools.length === 0
          ? h("p", { class: "muted" }, "The server lists no tools.")
          : h("ul", { id: "mcp-tool-list", class: "mcp-tools", "aria-label": "Tools" },
            tools.map((tool, index) => h("li", null, h("button", {
              id: `mcp-tool-${index}`, type: "button", class: ["mcp-tool", state.mcp.selected === tool.name && "active"],
              "data-tool": tool.name, "aria-pressed": state.mcp.selected === tool.name ? "true" : "false",
              title: tool.description ?? tool.name,
              onClick: () => dispatch({ type: "mcpToolChosen", name: tool.name }),
            },
            h("span", { class: "mcp-tool-name" }, tool.name),
            tool.title && tool.title !== tool.name ? h("span", { class: "mcp-tool-title" }, tool.title) : null,
            h("span", { class: "mcp-tool-description muted" }, tool.description ?? ""))))));
    }
    default:
      return box(h("p", { class: "muted" }, "Enter an MCP server's URL and list its tools: each one's name, description and input schema, and a form to call it."));
  }
}

/** The step-up a 403 naming scopes offers: pressing it is the user's agreement to sign in again. */
function stepUpOffer(wait, which, dispatch) {
  if (!wait.neededScopes) return null;
  return h("div", { class: "actions mcp-step-up" },
    h("button", {
      id: `mcp-${which}-step-up`, type: "button", class: "primary", "data-scopes": shownText(wait.neededScopes),
      onClick: () => dispatch({ type: "mcpStepUpClicked", which }),
    }, `Sign in again asking for ${shownText(wait.neededScopes)}`),
    h("span", { class: "hint" }, "The server needs these scopes; the refused request goes again once after the sign-in."));
}

/**
 * The report's option to wait for the access token to expire (the CLI's --expiry-wait): without
 * it, "an expired token is refused" is not checked unless the token is already that old.
 */
function expiryOption(state, dispatch) {
  const e = state.mcp.expiry;
  const locked = state.mcp.check.status === "loading";
  return h("div", { id: "mcp-check-options", class: ["mcp-check-options", e.error && "invalid"] },
    h("label", { class: "choice", for: "mcp-expiry-wait" },
      h("input", {
        id: "mcp-expiry-wait", type: "checkbox", checked: e.wait, disabled: locked,
        onChange: (ev) => dispatch({ type: "mcpExpiryToggled", on: ev.target.checked }),
      }),
      " Check authorization waits up to "),
    h("input", {
      id: "mcp-expiry-seconds", type: "text", inputmode: "numeric", size: "5", value: e.seconds, disabled: locked || !e.wait,
      autocomplete: "off", spellcheck: "false", "aria-label": "Seconds to wait for the access token to expire",
      "aria-invalid": e.error ? "true" : null, "aria-describedby": e.error ? "mcp-expiry-error" : "mcp-expiry-hint",
      onInput: (ev) => dispatch({ type: "mcpExpiryEdited", value: ev.target.value }),
    }),
    h("label", { for: "mcp-expiry-seconds" }, " s for the access token to expire"),
    e.error
      ? h("p", { id: "mcp-expiry-error", class: "field-error", role: "alert" }, e.error)
      : h("p", { id: "mcp-expiry-hint", class: "hint" }, "Then it sends the expired token and checks that the server refuses it (RFC 6750 §3.1); without the wait that check says Not checked."));
}

/** The authorization report: a summary, then one row per check (verdict, title, spec, detail). */
function checkView(state, dispatch) {
  const c = state.mcp.check;
  if (c.status === "idle") return null;
  const box = (...children) => h("div", { id: "mcp-check", class: "api-result mcp-check", "data-result": c.status, "data-error-kind": c.errorKind ?? null },
    h("h3", { id: "mcp-check-title" }, "Authorization report"), ...children);
  switch (c.status) {
    case "loading":
      return box(...waitingView(c, state, dispatch, "mcp-check"),
        c.request?.expiryWait > 0
          ? h("p", { id: "mcp-check-expiry", class: "hint" },
            `If the access token expires within ${c.request.expiryWait} s, the report waits for it, then sends it expired; Cancel stops the wait.`)
          : null);
    case "error":
      return box(h("p", { id: "mcp-check-error", class: "error-text", role: "alert" }, `Error: ${c.message}`));
    default: {
      const r = c.result;
      const failed = r.checks.some((x) => x.verdict === "fail");
      return box(
        h("p", { id: "mcp-check-summary", class: ["meta", failed ? "verdict-fail" : "verdict-pass"], tabindex: "-1", "data-failed": String(r.checks.filter((x) => x.verdict === "fail").length) },
          reportSummary(r)),
        h("p", { id: "mcp-check-meta", class: "muted" }, [r.url, r.issuer && `provider ${r.issuer}`, r.revision && `MCP ${r.revision}`].filter(Boolean).join(" · ")),
        h("ol", { id: "mcp-checks", class: "mcp-checks", "aria-label": "Checks" },
          r.checks.map((x) => h("li", { id: `mcp-check-${x.id}`, class: ["mcp-check-row", `verdict-${x.verdict}`], "data-check": x.id, "data-verdict": x.verdict },
            h("span", { class: ["verdict", `verdict-${x.verdict}`] }, VERDICTS[x.verdict]),
            " ",
            h("span", { class: "mcp-check-title" }, x.title),
            " ",
            h("span", { class: "mcp-check-spec muted" }, x.spec),
            x.detail ? h("p", { class: "mcp-check-detail hint" }, x.detail) : null))));
    }
  }
}

/** The resources and prompts: each kind listed (name, URI, description), or "not offered". */
function listingView(state, dispatch) {
  const l = state.mcp.listing;
  if (l.status === "idle") return null;
  const box = (...children) => h("div", { id: "mcp-listing", class: "api-result mcp-listing", "data-result": l.status, "data-error-kind": l.errorKind ?? null },
    h("h3", { id: "mcp-listing-title" }, "Resources and prompts"), ...children);
  switch (l.status) {
    case "loading":
      return box(...waitingView(l, state, dispatch, "mcp-listing"));
    case "error":
      return box(h("p", { id: "mcp-listing-error", class: "error-text", role: "alert" }, `Error: ${l.message}`));
    default: {
      const { server, resources, prompts } = l.result;
      return box(
        h("p", { id: "mcp-listing-meta", class: "meta" }, serverLine(server)),
        kindView("resources", "Resources", resources),
        kindView("prompts", "Prompts", prompts));
    }
  }
}

function kindView(kind, title, listing) {
  const heading = h("h4", { id: `mcp-${kind}-title` }, listing.offered ? `${title} (${listing.items.length})` : title);
  if (!listing.offered) {
    return h("section", { id: `mcp-${kind}`, "data-offered": "false" }, heading,
      h("p", { id: `mcp-${kind}-none`, class: "muted" }, `Not offered: the server does not list ${kind} (no ${kind} capability).`));
  }
  if (!listing.items.length) {
    return h("section", { id: `mcp-${kind}`, "data-offered": "true" }, heading,
      h("p", { id: `mcp-${kind}-none`, class: "muted" }, `The server offers ${kind} but lists none.`));
  }
  return h("section", { id: `mcp-${kind}`, "data-offered": "true" }, heading,
    h("ul", { id: `mcp-${kind}-list`, class: "mcp-items", "aria-labelledby": `mcp-${kind}-title` },
      listing.items.map((item, index) => h("li", { id: `mcp-${kind}-${index}`, "data-name": item.name },
        h("span", { class: "mcp-item-name" }, item.name),
        item.uri ? [" ", h("code", { class: "mcp-item-uri" }, item.uri)] : null,
        item.description ? h("span", { class: "mcp-item-description muted" }, item.description) : null))));
}

function selectedTool(state) {
  return state.mcp.tools.result?.tools.find((t) => t.name === state.mcp.selected) ?? null;
}

function toolForm(state, dispatch) {
  const tool = selectedTool(state);
  const form = state.mcp.form;
  const busy = state.mcp.call.status === "loading" || state.mcp.tools.status === "loading";
  const onSubmit = (e) => {
    e.preventDefault();
    dispatch({ type: "mcpCallClicked" });
  };
  return h("div", { id: "mcp-tool", class: "mcp-tool-panel", "data-tool": tool?.name ?? "" },
    // The tool's name with Form | JSON beside it, so the result stays in sight below.
    h("div", { class: "mcp-tool-head" },
      h("h3", { id: "mcp-tool-title" }, tool?.name ?? ""),
      form.schema.ok
        ? h("div", { class: "choices", role: "radiogroup", "aria-label": "Arguments as" },
          [["form", "Form"], ["json", "JSON"]].map(([mode, text]) => h("label", { class: "choice" },
            h("input", {
              id: `mcp-args-${mode}`, type: "radio", name: "mcp-args-mode", value: mode, checked: form.mode === mode,
              onChange: () => dispatch({ type: "mcpArgsModeChosen", mode }),
            }), text)))
        : null),
    tool?.description ? h("p", { id: "mcp-tool-description", class: "hint" }, tool.description) : null,
    h("details", { id: "mcp-schema" },
      h("summary", { id: "mcp-schema-summary" }, "Input schema"),
      h("pre", { id: "mcp-schema-json", class: "json", tabindex: "0" }, tool?.inputSchema == null ? "(none)" : fmt.prettyJson(tool.inputSchema))),
    form.schema.ok
      ? null
      : h("p", { id: "mcp-schema-fallback", class: ["note", "note-warning"], role: "note", "data-invalid": String(form.schema.invalid) },
        `${form.schema.reason} Give the arguments as a JSON object.`),
    h("form", { id: "mcp-args", class: "mcp-args", novalidate: true, onSubmit },
      form.mode === "form" ? fieldsView(form, dispatch) : rawView(form, dispatch),
      h("div", { class: "actions" },
        h("button", {
          id: "mcp-call", type: "submit", class: "primary", "aria-disabled": busy ? "true" : null,
          onClick: (e) => {
            e.preventDefault();
            dispatch({ type: "mcpCallClicked" });
          },
        }, "Call"))));
}

function fieldsView(form, dispatch) {
  const fields = shownFields(form);
  if (!fields.length) return h("p", { id: "mcp-no-args", class: "muted" }, "This tool takes no arguments.");
  return h("div", { id: "mcp-fields", class: "mcp-fields" }, fields.map((f) => fieldView(f, form, dispatch)));
}

function fieldLabel(f) {
  return [
    f.label,
    f.required ? h("span", { class: "required", "aria-hidden": "true", title: "required" }, " *") : null,
    h("span", { class: "muted kind" }, ` ${f.kind}`),
  ];
}

function fieldView(f, form, dispatch) {
  const depth = f.path.length - 1;
  if (f.kind === "object") {
    return h("p", { id: f.id, class: ["mcp-object", `depth-${Math.min(depth, 3)}`] }, h("strong", null, fieldLabel(f)),
      f.description ? h("span", { class: "hint" }, ` ${f.description}`) : null);
  }
  const error = form.errors[f.id];
  const errorId = `${f.id}-error`;
  const hintId = `${f.id}-hint`;
  const described = [error && errorId, f.description && hintId].filter(Boolean).join(" ") || null;
  const common = {
    id: f.id, "data-name": f.label, "aria-invalid": error ? "true" : null, "aria-describedby": described,
    "aria-required": f.required ? "true" : null,
  };
  const value = form.values[f.id] ?? "";
  let control;
  if (f.kind === "enum" || f.kind === "boolean") {
    const options = f.kind === "enum" ? f.options.map((o, i) => [String(i), JSON.stringify(o)]) : [["true", "true"], ["false", "false"]];
    control = h("select", { ...common, onChange: (e) => dispatch({ type: "mcpArgEdited", id: f.id, value: e.target.value }) },
      h("option", { value: "", selected: value === "" }, f.required ? "(choose one)" : "(not sent)"),
      options.map(([v, text]) => h("option", { value: v, selected: value === v }, text)));
  } else {
    control = h("input", {
      ...common, type: "text", value, autocomplete: "off", spellcheck: "false",
      inputmode: f.kind === "integer" ? "numeric" : (f.kind === "number" ? "decimal" : null),
      placeholder: f.required ? null : "(not sent when empty)",
      onInput: (e) => dispatch({ type: "mcpArgEdited", id: f.id, value: e.target.value }),
    });
  }
  return h("div", { class: ["field", "mcp-field", `depth-${Math.min(depth, 3)}`, error && "invalid"], "data-field": f.label },
    h("label", { for: f.id }, fieldLabel(f)),
    control,
    error ? h("p", { id: errorId, class: "field-error", role: "alert" }, error) : null,
    f.description ? h("p", { id: hintId, class: "hint" }, f.description) : null);
}

function rawView(form, dispatch) {
  const errors = Object.values(form.errors);
  return [
    h("label", { for: "mcp-args-raw", class: "visually-hidden" }, "Arguments (JSON)"),
    h("textarea", {
      id: "mcp-args-raw", class: "mono", rows: "6", spellcheck: "false", value: form.raw,
      "aria-invalid": form.rawError || errors.length ? "true" : null,
      "aria-describedby": form.rawError || errors.length ? "mcp-args-error" : null,
      onInput: (e) => dispatch({ type: "mcpRawEdited", value: e.target.value }),
    }),
    form.rawError ? h("p", { id: "mcp-args-error", class: "field-error", role: "alert" }, form.rawError) : null,
    !form.rawError && errors.length
      ? h("ul", { id: "mcp-args-error", class: ["field-error", "mcp-errors"], role: "alert" }, errors.map((e) => h("li", null, e)))
      : null,
  ];
}

function contentView(content) {
  if (!content.length) return h("p", { id: "mcp-content", class: "muted" }, "No content items.");
  return h("ol", { id: "mcp-content", class: "mcp-content" },
    content.map((c, index) => h("li", { id: `mcp-content-${index}`, "data-kind": c.kind },
      c.kind === "text" ? null : h("span", { class: "muted kind" }, `${c.kind}: `),
      // Text only: HTML a tool sends is shown as the characters it is.
      h("pre", { class: ["json", "raw", "mcp-text"], tabindex: "0" }, c.text))));
}

function resultMeta(r) {
  return [
    serverLine(r.server),
    r.elapsedMs != null ? `${Math.round(r.elapsedMs)} ms` : null,
    r.notifications ? `${r.notifications} notification${r.notifications === 1 ? "" : "s"} before the result` : null,
  ].filter(Boolean).join(" · ");
}

function resultView(state, dispatch) {
  const c = state.mcp.call;
  if (!state.mcp.selected && c.status === "idle") return null;
  const box = (...children) => h("div", { id: "mcp-result", class: "api-result", "data-result": c.status, "data-error-kind": c.errorKind ?? null }, ...children);
  switch (c.status) {
    case "loading":
      return box(...waitingView(c, state, dispatch, "mcp-call"));
    case "error":
      return box(
        h("p", { id: "mcp-error", class: "error-text", role: "alert" }, `Error: ${c.message}`),
        stepUpOffer(c, "call", dispatch),
        c.result ? [h("p", { id: "mcp-meta", class: "meta" }, resultMeta(c.result)), contentView(c.result.content), structuredView(c.result)] : null);
    case "data": {
      const r = c.result;
      return box(
        h("h3", null, `Result of ${r.tool}`),
        h("p", { id: "mcp-meta", class: "meta" }, resultMeta(r)),
        contentView(r.content),
        structuredView(r));
    }
    default:
      return box(h("p", { class: "muted" }, "Not called yet. Call shows the tool's result: its content items, and structured content when it sends some."));
  }
}

function structuredView(r) {
  if (r.structured == null) return null;
  return [
    h("h4", { class: "mcp-structured-title" }, "Structured content"),
    h("pre", { id: "mcp-structured", class: "json", tabindex: "0", "aria-label": "Structured content" }, fmt.prettyJson(r.structured)),
  ];
}

/** Called every second while waiting, instead of a full render. */
export function updateMcpWaiting(root, state) {
  for (const [id, wait] of [["#mcp-tools-elapsed", state.mcp?.tools], ["#mcp-call-elapsed", state.mcp?.call], ["#mcp-check-elapsed", state.mcp?.check], ["#mcp-listing-elapsed", state.mcp?.listing]]) {
    const el = root.querySelector(id);
    if (!el || wait?.status !== "loading") continue;
    const text = fmt.waited(wait.startedAt, state.now);
    if (el.textContent !== text) el.textContent = text;
  }
}
