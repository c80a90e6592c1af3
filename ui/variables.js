// The Variables panel (per profile: {{name}} in the URL, query, headers and body, resolved by the
// engine when it sends), the Import control (OpenAPI or Postman into the saved requests) and the
// curl paste in the URL field. Pure, like keys.js (state.js merges these handlers). A secret
// value lives here only until it is saved: the engine answers it masked, never back.

import { fromApiRequest } from "./request.js";

export const IMPORT_KINDS = ["openapi", "postman"];

/** What the panel and the import control show and hold. */
export function initialVariablesState() {
  return {
    list: [], // [{ name, value, secret }] from the engine: a secret value is the mask
    draft: { name: "", value: "", secret: false }, // the row being added or edited
    editing: null, // the name being edited, or null for a new one
    busy: null, // "save" | "forget:<name>"
    error: null,
    import: { kind: "openapi", source: "", busy: false, error: null, report: null },
  };
}

/** True when `text` is a curl command (what the URL field imports instead of sending). */
export function looksLikeCurl(text) {
  return typeof text === "string" && /^\s*curl(\s|\\)/.test(text);
}

/** The engine's variables, kept to the three fields (anything else: dropped). */
export function toVariables(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((v) => typeof v?.name === "string" && v.name !== "")
    .map((v) => ({ name: v.name, value: typeof v.value === "string" ? v.value : "", secret: v.secret === true }));
}

function patch(s, p) {
  return { ...s, variables: { ...s.variables, ...p } };
}

function patchImport(s, p) {
  return patch(s, { import: { ...s.variables.import, ...p } });
}

const EMPTY = { name: "", value: "", secret: false };

/** The report of an import, in a few plain lines. */
export function importSummary(report) {
  const saved = Array.isArray(report?.saved) ? report.saved : [];
  const lines = [`Imported ${saved.length} request${saved.length === 1 ? "" : "s"} into the saved requests.`];
  if (report?.variables?.length) lines.push(`Added variables: ${report.variables.join(", ")}.`);
  for (const why of report?.skipped ?? []) lines.push(`Skipped: ${why}`);
  for (const note of report?.notes ?? []) lines.push(note);
  return lines;
}

export const variablesHandlers = {
  variablesLoaded(s, { variables }) {
    const list = toVariables(variables);
    if (JSON.stringify(list) === JSON.stringify(s.variables.list)) return s;
    return patch(s, { list });
  },
  /** Name or value typed (no re-render: the input already shows it). */
  variableEdited(s, { part, value }) {
    if (!["name", "value"].includes(part) || s.variables.draft[part] === value) return s;
    return patch(s, { draft: { ...s.variables.draft, [part]: String(value) } });
  },
  variableSecretToggled(s, { on }) {
    return patch(s, { draft: { ...s.variables.draft, secret: Boolean(on) } });
  },
  /** Edit: the row's name and kind in the draft; a secret value is never shown, so retype it. */
  variableEditClicked(s, { name }) {
    const found = s.variables.list.find((v) => v.name === name);
    if (!found || s.variables.busy) return s;
    return patch(s, { editing: name, error: null, draft: { name, value: found.secret ? "" : found.value, secret: found.secret } });
  },
  variableCancelClicked(s) {
    return patch(s, { editing: null, error: null, draft: EMPTY });
  },
  variableSaveClicked(s) {
    if (s.variables.busy) return s;
    const { name, value, secret } = s.variables.draft;
    if (!name.trim()) return patch(s, { error: "Give the variable a name." });
    if (secret && !value) return patch(s, { error: "Type the secret value (it is never shown back)." });
    return patch(s, { busy: "save", error: null });
  },
  /** Saved: the list shows it (masked when secret), and what was typed is gone. */
  variableSaved(s, { variables }) {
    if (s.variables.busy !== "save") return s;
    return patch(s, { busy: null, editing: null, draft: EMPTY, list: toVariables(variables) });
  },
  variableForgetClicked(s, { name }) {
    if (s.variables.busy || !s.variables.list.some((v) => v.name === name)) return s;
    return patch(s, { busy: `forget:${name}`, error: null });
  },
  variableForgotten(s, { variables }) {
    if (!String(s.variables.busy).startsWith("forget:")) return s;
    return patch(s, { busy: null, list: toVariables(variables) });
  },
  variableFailed(s, { error }) {
    return patch(s, { busy: null, error: error?.message ?? "unknown error" });
  },

  // --- import ---------------------------------------------------------------------------------
  importEdited(s, { part, value }) {
    if (part === "kind" && IMPORT_KINDS.includes(value)) return patchImport(s, { kind: value });
    if (part === "source" && s.variables.import.source !== value) return patchImport(s, { source: String(value) });
    return s;
  },
  importClicked(s) {
    const imp = s.variables.import;
    if (imp.busy) return s;
    if (!imp.source.trim()) return patchImport(s, { error: "Give the file path or the URL of the document.", report: null });
    return patchImport(s, { busy: true, error: null, report: null });
  },
  importDone(s, { report }) {
    if (!s.variables.import.busy) return s;
    return patchImport(s, { busy: false, report: importSummary(report) });
  },
  importFailed(s, { error }) {
    return patchImport(s, { busy: false, error: error?.message ?? "unknown error", report: null });
  },

  // --- a curl command pasted into the URL field -------------------------------------------------
  curlPasted(s, { text }) {
    if (!looksLikeCurl(text) || s.api?.status === "loading") return s;
    return { ...s, curlImport: { busy: true } };
  },
  /** The editor holds the command's request; the notice says what was dropped (the token). */
  curlImported(s, { imported }) {
    if (!s.curlImport?.busy || !imported?.request) return s;
    const notes = Array.isArray(imported.notes) ? imported.notes : [];
    return {
      ...s,
      curlImport: null,
      // The token kind stays the user's choice; a command with its own Authorization sends none.
      request: { ...fromApiRequest(imported.request), tokenType: imported.request.sendToken === false ? "none" : s.request.tokenType },
      requestError: null,
      curl: null,
      notice: { tone: notes.length ? "warning" : "info", text: ["Imported the curl command.", ...notes].join(" ") },
    };
  },
  curlImportFailed(s, { error }) {
    return { ...s, curlImport: null, requestError: { field: "apiUrl", message: error?.message ?? "unknown error" } };
  },
};
