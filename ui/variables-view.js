// The Variables panel and the Import control (variables.js). A secret value shows masked (the
// engine never sends it back); its input is a password field and is emptied once saved.

import { h } from "./dom.js";
import { IMPORT_KINDS } from "./variables.js";

/** The panel, a card of its own; open state in state.expanded.variables. */
export function variablesPanel(state, dispatch) {
  const v = state.variables;
  const profile = state.profiles?.current;
  const d = v.draft;
  const onSave = (e) => {
    e.preventDefault?.();
    dispatch({ type: "variableSaveClicked" });
  };
  return h("section", { class: "card", "aria-label": "Variables" },
    h("details", {
      id: "variables", open: state.expanded?.variables ?? false,
      onToggle: (e) => dispatch({ type: "sectionToggled", section: "variables", open: e.currentTarget.open }),
    },
    h("summary", { id: "variables-summary" }, profile ? `Variables in ${profile} (${v.list.length})` : "Variables"),
    profile
      ? h("p", { class: "hint" }, "Use them as {{name}} in the URL, query, headers and body. A secret one is kept in your system keychain only and shown masked; copy as curl reads it with keyhole-cli var get.")
      : h("p", { id: "variables-need-profile", class: "muted" }, "Variables belong to a profile: save these settings as a profile (Settings, Profile) first."),
    v.list.length
      ? h("ul", { id: "variables-list", class: "saved" }, v.list.map((item, index) => h("li", { class: "saved-row", "data-name": item.name },
        h("code", { id: `variable-${index}-name` }, `{{${item.name}}}`),
        h("span", { id: `variable-${index}-value`, class: item.secret ? "muted" : "meta", "data-secret": item.secret ? "true" : "false" },
          item.secret ? (item.value ? item.value : "(lost: set it again)") : item.value),
        h("button", {
          id: `variable-${index}-edit`, type: "button", class: "small", "aria-label": `Edit ${item.name}`,
          onClick: () => dispatch({ type: "variableEditClicked", name: item.name }),
        }, "Edit"),
        h("button", {
          id: `variable-${index}-delete`, type: "button", class: "small", "aria-label": `Delete ${item.name}`,
          "aria-disabled": v.busy ? "true" : null,
          onClick: () => dispatch({ type: "variableForgetClicked", name: item.name }),
        }, "Delete"),
      )))
      : null,
    profile
      ? h("form", { id: "variable-form", class: "inline", novalidate: true, onSubmit: onSave },
        h("label", { for: "variable-name", class: "visually-hidden" }, "Variable name"),
        h("input", {
          id: "variable-name", type: "text", value: d.name, placeholder: "name", maxlength: "64",
          autocomplete: "off", spellcheck: "false", autocapitalize: "off", readonly: v.editing ? true : null,
          onInput: (e) => dispatch({ type: "variableEdited", part: "name", value: e.target.value }),
        }),
        h("label", { for: "variable-value", class: "visually-hidden" }, "Variable value"),
        h("input", {
          id: "variable-value", type: d.secret ? "password" : "text", value: d.value,
          placeholder: d.secret ? "secret value" : "value", autocomplete: "off", spellcheck: "false", autocapitalize: "off",
          onInput: (e) => dispatch({ type: "variableEdited", part: "value", value: e.target.value }),
        }),
        h("label", { class: "check" },
          h("input", {
            id: "variable-secret", type: "checkbox", checked: d.secret,
            onChange: (e) => dispatch({ type: "variableSecretToggled", on: e.target.checked }),
          }), " Secret"),
        h("button", { id: "variable-save", type: "submit", class: "small", "aria-disabled": v.busy ? "true" : null, onClick: onSave },
          v.busy === "save" ? "Saving…" : (v.editing ? "Save" : "Add")),
        v.editing ? h("button", { id: "variable-cancel", type: "button", class: "small", onClick: () => dispatch({ type: "variableCancelClicked" }) }, "Cancel") : null,
      )
      : null,
    v.error ? h("p", { id: "variable-error", class: "field-error", role: "alert" }, v.error) : null,
    ),
  );
}

/** Import into the saved requests: a file path or URL, and the kind of document. */
export function importControl(state, dispatch) {
  const imp = state.variables.import;
  if (!state.profiles?.current) return null;
  const onImport = (e) => {
    e.preventDefault?.();
    dispatch({ type: "importClicked" });
  };
  return h("form", { id: "import-form", class: "import", novalidate: true, onSubmit: onImport },
    h("div", { class: "inline" },
      h("label", { for: "import-kind", class: "visually-hidden" }, "Kind of document"),
      h("select", { id: "import-kind", onChange: (e) => dispatch({ type: "importEdited", part: "kind", value: e.target.value }) },
        IMPORT_KINDS.map((k) => h("option", { value: k, selected: imp.kind === k }, k === "openapi" ? "OpenAPI 3" : "Postman v2.1"))),
      h("label", { for: "import-source", class: "visually-hidden" }, "File path or URL to import"),
      h("input", {
        id: "import-source", type: "text", value: imp.source, placeholder: "file path or https://…/openapi.json",
        autocomplete: "off", spellcheck: "false", autocapitalize: "off", "aria-invalid": imp.error ? "true" : null,
        onInput: (e) => dispatch({ type: "importEdited", part: "source", value: e.target.value }),
      }),
      h("button", { id: "import-document", type: "submit", class: "small", "aria-disabled": imp.busy ? "true" : null, onClick: onImport },
        imp.busy ? "Importing…" : "Import"),
    ),
    imp.error ? h("p", { id: "import-error", class: "field-error", role: "alert" }, imp.error) : null,
    imp.report ? h("div", { id: "import-report", role: "status" }, imp.report.map((line) => h("p", { class: "meta" }, line))) : null,
  );
}
