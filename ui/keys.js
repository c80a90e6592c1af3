// The Clerk keys panel: the secret key, the API key and the machine secret key kept for the
// instance (in the keychain, by the engine), an impersonated test session made with the secret
// key, and an API key created with it. Pure, like request.js (state.js merges these handlers).
// A pasted key lives here only until it is saved: the engine answers it masked, never back.

import { KEY_KINDS } from "./request.js";

export { KEY_KINDS };

/** What the panel shows and holds. `view`: clerk_keys' masked strings (or null: not read yet). */
export function initialKeysState() {
  return {
    view: null, // { secretKey, apiKey, machineKey }: "sk_test_…abcd" or null each
    drafts: { secretKey: "", apiKey: "", machineKey: "" }, // what is typed, until saved
    busy: null, // "save:<kind>" | "forget:<kind>" | "testSession" | "createApiKey"
    errors: {}, // { [kind | "testSession" | "createApiKey"]: message }
    actAs: "", // user_… for "Act as user"
    allowProduction: false,
    apiKeyFor: "", // user_… for "Create API key for"
    created: null, // the new API key, masked
  };
}

/** clerk_keys' answer, kept to masked strings (anything else: not kept). */
export function toKeysView(v) {
  const out = {};
  for (const kind of KEY_KINDS) {
    const value = v && typeof v === "object" ? v[kind] : null;
    out[kind] = typeof value === "string" && value.trim() ? value : null;
  }
  return out;
}

const TEXTS = ["actAs", "apiKeyFor"];

function patchKeys(s, patch) {
  return { ...s, keys: { ...s.keys, ...patch } };
}

/** The message for a failure, and under which row it shows (a field error names its key). */
function failed(s, error, where) {
  const field = KEY_KINDS.includes(error?.field) ? error.field : where;
  return patchKeys(s, { busy: null, errors: { ...s.keys.errors, [field]: error?.message ?? "unknown error" } });
}

/** A panel action starts only on the screens with the panel, and one at a time. */
function idle(s) {
  return s.keys.busy == null && ["signedOut", "signedIn"].includes(s.screen);
}

export const keysHandlers = {
  keysLoaded(s, { keys }) {
    const view = toKeysView(keys);
    if (JSON.stringify(view) === JSON.stringify(s.keys.view)) return s;
    return patchKeys(s, { view });
  },
  /** A key typed or pasted (no re-render: the input already shows it). */
  keyEdited(s, { kind, value }) {
    if (!KEY_KINDS.includes(kind) || s.keys.drafts[kind] === value) return s;
    return patchKeys(s, { drafts: { ...s.keys.drafts, [kind]: String(value) } });
  },
  /** Act as user / Create API key for, typed (no re-render). */
  keysTextEdited(s, { part, value }) {
    if (!TEXTS.includes(part) || s.keys[part] === value) return s;
    return patchKeys(s, { [part]: String(value) });
  },
  allowProductionToggled(s, { on }) {
    return s.keys.allowProduction === Boolean(on) ? s : patchKeys(s, { allowProduction: Boolean(on) });
  },
  keySaveClicked(s, { kind }) {
    if (!KEY_KINDS.includes(kind) || !idle(s)) return s;
    if (!s.keys.drafts[kind].trim()) {
      return patchKeys(s, { errors: { ...s.keys.errors, [kind]: "Paste the key first." } });
    }
    const { [kind]: _, ...errors } = s.keys.errors;
    return patchKeys(s, { busy: `save:${kind}`, errors });
  },
  /** Saved: the masked value shows, and what was typed is gone. */
  keySaved(s, { kind, keys }) {
    if (s.keys.busy !== `save:${kind}`) return s;
    return patchKeys(s, { busy: null, view: toKeysView(keys), drafts: { ...s.keys.drafts, [kind]: "" } });
  },
  keySaveFailed(s, { kind, error }) {
    if (s.keys.busy !== `save:${kind}`) return s;
    return failed(s, error, kind);
  },
  keyForgetClicked(s, { kind }) {
    if (!KEY_KINDS.includes(kind) || !idle(s) || !s.keys.view?.[kind]) return s;
    const { [kind]: _, ...errors } = s.keys.errors;
    return patchKeys(s, { busy: `forget:${kind}`, errors });
  },
  keyForgotten(s, { kind, keys }) {
    if (s.keys.busy !== `forget:${kind}`) return s;
    return patchKeys(s, { busy: null, view: toKeysView(keys) });
  },
  keyForgetFailed(s, { kind, error }) {
    if (s.keys.busy !== `forget:${kind}`) return s;
    return failed(s, error, kind);
  },

  // --- an impersonated test session (Backend API: a session made for the user, then a token) ---
  testSessionClicked(s) {
    if (!idle(s) || s.screen === "signingIn") return s;
    const { testSession: _, secretKey: __, ...errors } = s.keys.errors;
    if (!s.keys.actAs.trim()) return patchKeys(s, { errors: { ...errors, testSession: "Type the user ID (user_…) to act as." } });
    return patchKeys(s, { busy: "testSession", errors });
  },
  /** The Clerk session is the test one now: the explorer, sending its session tokens. */
  testSessionStarted(s, { session }) {
    if (s.keys.busy !== "testSession" || !session) return s;
    return { ...patchKeys(s, { busy: null }), screen: "signedIn", clerk: session, notice: null };
  },
  testSessionFailed(s, { error }) {
    if (s.keys.busy !== "testSession") return s;
    return failed(s, error, "testSession");
  },

  // --- an API key for a user (kept, then sent as the "API key" kind) ------------------------------
  createApiKeyClicked(s) {
    if (!idle(s)) return s;
    const { createApiKey: _, secretKey: __, ...errors } = s.keys.errors;
    if (!s.keys.apiKeyFor.trim()) return patchKeys(s, { errors: { ...errors, createApiKey: "Type the user ID (user_…) the key is for." } });
    return patchKeys(s, { busy: "createApiKey", errors, created: null });
  },
  apiKeyCreated(s, { masked }) {
    if (s.keys.busy !== "createApiKey") return s;
    return patchKeys(s, { busy: null, created: typeof masked === "string" ? masked : null });
  },
  createApiKeyFailed(s, { error }) {
    if (s.keys.busy !== "createApiKey") return s;
    return failed(s, error, "createApiKey");
  },
};
