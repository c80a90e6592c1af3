// Shared sample payloads shaped like the backend contract.

export const settings = Object.freeze({
  instance: "https://happy-hen-42.clerk.accounts.dev",
  clientId: "client_abc",
  clientMetadataUrl: "",
  scopes: "openid profile email",
  redirectPort: 0,
  apiUrl: "http://localhost:3000/protected",
  resource: "",
  sandbox: false,
  backendApi: "",
});

export function session(overrides = {}) {
  return {
    subject: "user_2abc",
    name: "Ada Lovelace",
    email: "ada@example.com",
    issuer: "https://happy-hen-42.clerk.accounts.dev",
    expiresAt: 1_700_003_600,
    scopes: ["openid", "profile", "email"],
    accessToken: { kind: "jwt", header: { alg: "RS256", kid: "ins_1", typ: "JWT" }, claims: { sub: "user_2abc", exp: 1_700_003_600 } },
    idTokenClaims: { sub: "user_2abc", email: "ada@example.com" },
    ...overrides,
  };
}

export function apiResult(overrides = {}) {
  const result = {
    status: 200,
    ok: true,
    elapsedMs: 35,
    url: "http://localhost:3000/protected",
    contentType: "application/json",
    body: { kind: "json", value: { userId: "user_2abc", message: "hello" } },
    diagnosis: null,
    ...overrides,
  };
  // The engine's answer view (send_request's `answer`), made from the body unless given.
  if (!("answer" in overrides)) result.answer = answerOf(result.body, overrides.size);
  return result;
}

let answerIds = 100;

/**
 * An answer view as the engine sends it: pretty lines of a JSON body (one plain span per line,
 * indented as JSON.stringify(value, null, 2) does), a text body's lines, or none.
 */
export function answerOf(body, size) {
  const text = body?.kind === "json" ? JSON.stringify(body.value, null, 2) : body?.kind === "text" ? body.text : "";
  const rows = text ? text.split("\n") : [];
  const lines = rows.map((row, number) => {
    const indent = body.kind === "json" ? (/^ */.exec(row)[0].length / 2) : 0;
    const rest = body.kind === "json" ? row.trimStart() : row;
    return { number, indent, spans: rest ? [["plain", rest]] : [], fold: /[[{]$/.test(rest) && body.kind === "json" ? "open" : null };
  });
  const bytes = new TextEncoder().encode(text).length;
  answerIds += 1;
  return {
    id: answerIds, kind: body?.kind === "json" ? "json" : body?.kind === "text" ? "text" : "empty",
    size: size ?? bytes, kept: size ?? bytes, truncated: false, sizeKnown: true,
    first: { from: 0, lines, total: lines.length, complete: true },
  };
}

/** The text the viewer shows for these lines (#api-data): each line and its newline. */
export function shownText(text) {
  return text ? `${text}\n` : "";
}

export const unauthorized = () => apiResult({
  status: 401, ok: false, contentType: "text/html; charset=utf-8",
  body: { kind: "text", text: "Unauthenticated!", truncated: false },
  diagnosis: "The API did not accept the token: check that it verifies tokens from this Clerk instance.",
});

/** 2023-11-14T22:13:20Z in ms, i.e. one hour before session().expiresAt. */
export const NOW = 1_700_000_000_000;

/** The payload of session() and of session-changed: { session, restoring, notice }. */
export function sessionState(current = null, { restoring = false, notice = null } = {}) {
  return { session: current, restoring, notice };
}

export const KEYCHAIN_MISSING = "No system keychain is available (org.freedesktop.secrets was not provided by any .service files). You will stay signed in only until Keyhole closes.";
export const SESSION_ENDED = "Your session ended: the provider no longer accepts the saved sign-in (invalid_grant: grant request is invalid). Sign in again.";
export const RESTORE_FAILED = "Could not restore your session: could not reach the discovery document at https://happy-hen-42.clerk.accounts.dev/.well-known/openid-configuration: connection refused. You can sign in again.";

/** A Clerk session (sign_in("clerk"), clerk_session): its token is the last session token minted. */
export function clerkSession(overrides = {}) {
  return {
    subject: "user_2clerk",
    issuer: "https://happy-hen-42.clerk.accounts.dev",
    expiresAt: 1_700_000_060,
    scopes: [],
    accessToken: { kind: "jwt", header: { alg: "RS256", kid: "ins_1", typ: "JWT" }, claims: { sub: "user_2clerk", sid: "sess_2abc", v: 2 } },
    refreshable: true,
    credential: "session",
    sessionId: "sess_2abc",
    ...overrides,
  };
}

/** try_every_token_type against a route that accepts only OAuth tokens. */
export function oauthOnlyMatrix() {
  return {
    target: "GET http://127.0.0.1:5000/accepts/oauth_token",
    rows: [
      { credential: "session", status: 401, signedIn: false, tokenTypeSeen: "oauth_token", fix: "To let a session token in, the backend must accept it: getAuth(req, { acceptsToken: 'session_token' }) (or an array that includes 'session_token', or 'any').", error: null },
      { credential: "oauth", status: 200, signedIn: true, tokenTypeSeen: "oauth_token", fix: null, error: null },
      { credential: "none", status: 401, signedIn: false, tokenTypeSeen: null, fix: null, error: null },
    ],
    missing: [],
  };
}
