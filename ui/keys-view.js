// The Clerk keys panel (keys.js): a collapsed <details>, so the first frame's layout does not
// depend on clerk_keys' answer. A kept key shows masked; what was pasted is never shown back.

import { h } from "./dom.js";

const ROWS = [
  { kind: "secretKey", id: "secret-key", label: "Secret key", placeholder: "sk_test_…", hint: "From API keys in the Clerk dashboard. It can act as any user: keep it to a development instance." },
  { kind: "apiKey", id: "api-key", label: "API key", placeholder: "ak_…", hint: "Sent as it is when the request sends API key." },
  { kind: "machineKey", id: "machine-key", label: "Machine secret key", placeholder: "ak_…", hint: "Mints an M2M token when the request sends M2M token." },
];

/** The panel, inside a card of its own; open state in state.expanded.keys. */
export function keysPanel(state, dispatch) {
  const k = state.keys;
  return h("section", { class: ["card", state.screen === "signedOut" && "narrow"], "aria-label": "Clerk keys" },
    h("details", {
      id: "clerk-keys", open: state.expanded.keys,
      onToggle: (e) => dispatch({ type: "sectionToggled", section: "keys", open: e.currentTarget.open }),
    },
    h("summary", { id: "clerk-keys-summary" }, "Clerk keys"),
    h("p", { class: "hint" }, "Kept in your system keychain for this instance, never in the settings file. Keyhole shows them masked."),
    ROWS.map((row) => [keyRow(row, k, dispatch), row.kind === "secretKey" ? secretKeyActions(k, dispatch) : null]),
    ),
  );
}

function keyRow(row, k, dispatch) {
  const kept = k.view?.[row.kind] ?? null;
  const error = k.errors[row.kind];
  const saving = k.busy === `save:${row.kind}`;
  const forgetting = k.busy === `forget:${row.kind}`;
  const inputId = `key-${row.id}`;
  const errorId = `error-${inputId}`;
  const hintId = `hint-${inputId}`;
  return h("div", { id: `key-row-${row.id}`, class: ["field", "wide", "key-row", error && "invalid"], "data-kept": kept ? "true" : "false" },
    h("label", { for: inputId }, row.label),
    h("p", { id: `kept-${row.id}`, class: kept ? "meta" : "muted" }, kept ? h("code", null, kept) : "None kept."),
    h("div", { class: "inline" },
      h("input", {
        id: inputId, name: row.kind, type: "password", autocomplete: "off", spellcheck: "false", autocapitalize: "off",
        placeholder: row.placeholder, value: k.drafts[row.kind],
        "aria-invalid": error ? "true" : null,
        "aria-describedby": error ? `${errorId} ${hintId}` : hintId,
        onInput: (e) => dispatch({ type: "keyEdited", kind: row.kind, value: e.target.value }),
        onKeydown: (e) => {
          if (e.key === "Enter") {
            e.preventDefault?.();
            dispatch({ type: "keySaveClicked", kind: row.kind });
          }
        },
      }),
      h("button", {
        id: `save-${inputId}`, type: "button", "aria-disabled": k.busy ? "true" : null,
        onClick: () => dispatch({ type: "keySaveClicked", kind: row.kind }),
      }, saving ? "Saving…" : "Save"),
      h("button", {
        id: `forget-${inputId}`, type: "button", "aria-disabled": k.busy || !kept ? "true" : null,
        onClick: () => dispatch({ type: "keyForgetClicked", kind: row.kind }),
      }, forgetting ? "Forgetting…" : "Forget"),
    ),
    error ? h("p", { id: errorId, class: "field-error", role: "alert" }, error) : null,
    h("p", { id: hintId, class: "hint" }, row.hint),
  );
}

/** Under the secret key: an impersonated test session, and an API key for a user. */
function secretKeyActions(k, dispatch) {
  const starting = k.busy === "testSession";
  const creating = k.busy === "createApiKey";
  return h("div", { id: "secret-key-actions", class: "key-actions" },
    h("div", { class: "field wide" },
      h("label", { for: "act-as-user" }, "Act as user"),
      h("div", { class: "inline" },
        userInput("act-as-user", "actAs", k, dispatch, "testSessionClicked"),
        h("button", {
          id: "start-test-session", type: "button", "aria-disabled": k.busy ? "true" : null,
          "aria-describedby": "hint-act-as-user",
          onClick: () => dispatch({ type: "testSessionClicked" }),
        }, starting ? "Starting…" : "Start a test session"),
      ),
      h("label", { class: "check" },
        h("input", {
          id: "allow-production", type: "checkbox", checked: k.allowProduction,
          onChange: (e) => dispatch({ type: "allowProductionToggled", on: e.target.checked }),
        }),
        " Allow a production key (sk_live_…)"),
      starting ? h("p", { id: "test-session-progress", class: "stage", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Starting a test session…") : null,
      k.errors.testSession ? h("p", { id: "test-session-error", class: "error-text", role: "alert" }, `Error: ${k.errors.testSession}`) : null,
      h("p", { id: "hint-act-as-user", class: "hint" },
        "Makes a Clerk session for this user with the secret key (no sign-in by the user), then sends its session tokens. An impersonated test session: for development instances."),
    ),
    h("div", { class: "field wide" },
      h("label", { for: "api-key-for" }, "Create API key for"),
      h("div", { class: "inline" },
        userInput("api-key-for", "apiKeyFor", k, dispatch, "createApiKeyClicked"),
        h("button", {
          id: "create-api-key", type: "button", "aria-disabled": k.busy ? "true" : null,
          onClick: () => dispatch({ type: "createApiKeyClicked" }),
        }, creating ? "Creating…" : "Create API key"),
      ),
      creating ? h("p", { id: "create-api-key-progress", class: "stage", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Creating an API key…") : null,
      k.errors.createApiKey ? h("p", { id: "create-api-key-error", class: "error-text", role: "alert" }, `Error: ${k.errors.createApiKey}`) : null,
      k.created ? h("p", { id: "created-api-key", class: "meta", role: "status" }, "Created and kept: ", h("code", null, k.created), ". Pick API key to send it.") : null,
    ),
  );
}

function userInput(id, part, k, dispatch, submit) {
  return h("input", {
    id, name: part, type: "text", value: k[part], placeholder: "user_…",
    autocomplete: "off", spellcheck: "false", autocapitalize: "off",
    onInput: (e) => dispatch({ type: "keysTextEdited", part, value: e.target.value }),
    onKeydown: (e) => {
      if (e.key === "Enter") {
        e.preventDefault?.();
        dispatch({ type: submit });
      }
    },
  });
}
