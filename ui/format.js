// Pure text helpers shared by state.js and view.js. No DOM, no Tauri, so node --test covers them.

const REASONS = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
  301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict",
  410: "Gone", 415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout",
};

/** "401 Unauthorized", or just "599" for codes without a well-known name. */
export function statusWithReason(status) {
  const reason = REASONS[status];
  return reason ? `${status} ${reason}` : String(status);
}

/** Pretty JSON for claims and API bodies; never throws (cycles cannot come from IPC, but be safe). */
export function prettyJson(value) {
  try {
    const text = JSON.stringify(value, null, 2);
    return text === undefined ? "" : text;
  } catch {
    return String(value);
  }
}

/** Collapse whitespace and cut to `max` characters so an error line stays one readable line. */
export function excerpt(text, max = 200) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A short excerpt of an API body for the "Error: …" line. */
export function bodyExcerpt(body, max = 200) {
  if (!body || body.kind === "empty") return "";
  if (body.kind === "text") return excerpt(body.text ?? "", max);
  if (body.kind === "json") {
    const v = body.value;
    if (typeof v === "string") return excerpt(v, max);
    return excerpt(JSON.stringify(v) ?? "", max);
  }
  return "";
}

/** Message for a non-2xx answer, as the tutorial shows it: "401 Unauthorized — Unauthenticated!". */
export function httpErrorMessage(result) {
  const head = statusWithReason(result.status);
  const tail = bodyExcerpt(result.body);
  return tail ? `${head} — ${tail}` : head;
}

/** What goes in the "Data from API" <pre>. */
export function bodyText(body) {
  if (!body || body.kind === "empty") return "(empty body)";
  if (body.kind === "json") return prettyJson(body.value);
  return String(body.text ?? "");
}

/** "200 OK", with the reason the API sent (or the well-known one). */
export function statusLine(result) {
  const reason = typeof result.reason === "string" && result.reason.trim() ? result.reason.trim() : null;
  return reason ? `${result.status} ${reason}` : statusWithReason(result.status);
}

/** "200 OK · 35 ms · first byte 12 ms · 1.2 kB · application/json" */
export function resultMeta(result) {
  const parts = [statusLine(result)];
  if (Number.isFinite(result.elapsedMs)) parts.push(`${Math.round(result.elapsedMs)} ms`);
  if (Number.isFinite(result.ttfbMs)) parts.push(`first byte ${Math.round(result.ttfbMs)} ms`);
  if (Number.isFinite(result.size)) parts.push(bytes(result.size));
  if (result.contentType) parts.push(result.contentType);
  return parts.join(" · ");
}

/** "512 B", "1.2 kB", "3.4 MB" (powers of 1000, like curl and browsers' network panels). */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** Seconds waited so far: "0 s", "12 s", "1 min 5 s". */
export function waited(startedAt, nowMs) {
  const secs = Math.max(0, Math.floor((nowMs - (startedAt ?? nowMs)) / 1000));
  return secs < 60 ? `${secs} s` : `${Math.floor(secs / 60)} min ${secs % 60} s`;
}

/** When a history entry was sent: the time today, else the date and time. */
export function when(atMs, nowMs) {
  const at = new Date(atMs);
  const now = new Date(nowMs);
  const pad = (n) => String(n).padStart(2, "0");
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  if (at.toDateString() === now.toDateString()) return time;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/**
 * A history entry's outcome as a status line, as its tab shows it when reopened (the body is
 * not kept): "200 OK · 35 ms · 1.2 kB", or "No answer: timed out".
 */
export function historyStatus(entry) {
  if (Number.isInteger(entry?.status)) {
    return [statusLine({ status: entry.status, reason: entry.reason }), Number.isFinite(entry.elapsedMs) ? `${entry.elapsedMs} ms` : null,
      Number.isFinite(entry.size) ? bytes(entry.size) : null].filter(Boolean).join(" · ");
  }
  return `No answer: ${historyOutcome(entry ?? {})}`;
}

/** A history entry's outcome: "200", "timed out", "cancelled", "failed". */
export function historyOutcome(entry) {
  if (Number.isInteger(entry.status)) return String(entry.status);
  return { api_timeout: "timed out", cancelled: "cancelled", api_unreachable: "unreachable" }[entry.error] ?? "failed";
}

/** Live countdown text. expiresAt is unix seconds (from the backend), nowMs is Date.now(). */
export function countdown(expiresAt, nowMs) {
  if (expiresAt == null) return "no expiry given";
  // Round up: never call a token expired while it still has a fraction of a second left.
  const left = Math.ceil(expiresAt - nowMs / 1000);
  if (left <= 0) return "expired";
  const d = Math.floor(left / 86400);
  const h = Math.floor((left % 86400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  // Two units are enough precision for a human; seconds only matter in the last hour.
  if (d > 0) return `expires in ${d} d ${h} h`;
  if (h > 0) return `expires in ${h} h ${m} min`;
  if (m > 0) return `expires in ${m} min ${s} s`;
  return `expires in ${s} s`;
}

export function isExpired(expiresAt, nowMs) {
  return expiresAt != null && expiresAt - nowMs / 1000 <= 0;
}

/** One line describing the access token's form. */
export function tokenSummary(accessToken) {
  if (!accessToken || accessToken.kind !== "jwt") {
    return "Opaque token — it cannot be decoded; it is sent as-is.";
  }
  const header = accessToken.header ?? {};
  const parts = ["JWT"];
  if (typeof header.alg === "string") parts.push(`alg ${header.alg}`);
  if (typeof header.kid === "string") parts.push(`kid ${header.kid}`);
  if (typeof header.typ === "string") parts.push(`typ ${header.typ}`);
  return parts.join(" · ");
}

/** "Jane Doe <jane@example.com>", or null when the token carries neither. */
export function identity(session) {
  const { name, email } = session;
  if (name && email) return `${name} <${email}>`;
  return name || email || null;
}

const STAGES = {
  opening_browser: "Opening your browser…",
  waiting: "Waiting for you to finish in the browser…",
  browser_failed: "Still waiting: open the sign-in URL below in a browser yourself.",
  exchanging: "Exchanging the authorization code for tokens…",
  device_code: "Waiting for you to enter the code on another device…",
};

export function stageText(stage) {
  return STAGES[stage] ?? "Starting sign-in…";
}

export function signInFailureNotice(error) {
  if (error?.kind === "cancelled") return { tone: "info", text: "Sign-in cancelled." };
  const plain = plainSignInError(error);
  if (plain) return { tone: "warning", text: plain };
  return { tone: "error", text: `Sign-in failed: ${error?.message ?? "unknown error"}` };
}

export function signOutNotice(outcome) {
  if (outcome?.message) {
    // The local tokens (and the keychain copy) are gone either way; the provider may still honour them.
    return { tone: "warning", text: `Signed out on this computer. Revocation could not be confirmed: ${outcome.message}` };
  }
  return { tone: "info", text: "Signed out." };
}

/** Errors whose wording is a protocol's: said as what happened and what to do. */
function plainSignInError(error) {
  const text = String(error?.message ?? "");
  if (/access_denied|aborted interaction/i.test(text)) {
    return "You did not allow access in the browser. Sign in again and choose Allow to continue.";
  }
  return null;
}

/** Upper-case the first letter: the backend words some notices as error texts ("your session ended: …"). */
function sentence(text) {
  const t = text.trim();
  return t && t[0].toUpperCase() + t.slice(1);
}

/** A one-off message from the backend (SessionState.notice): keychain missing, session ended, … */
export function backendNotice(text) {
  return typeof text === "string" && text.trim() ? { tone: "warning", text: sentence(text) } : null;
}

/** call_api rejected with kind "session_ended": the backend's message, as a sentence. */
export function sessionEndedNotice(error) {
  const message = typeof error?.message === "string" ? sentence(error.message) : "";
  return { tone: "warning", text: message || "Your session ended. Sign in again." };
}

/** Next to the expiry when the backend holds a refresh token; null otherwise. */
export function renewalHint(session) {
  return session?.refreshable ? "renews automatically" : null;
}

/** Short text for the #status live region; kept terse because screen readers read every change. */
export function statusText(state) {
  switch (state.screen) {
    case "restoring": return "Restoring your session…";
    case "signedOut": return "Signed out";
    case "signingIn": return "Signing in…";
    case "signedIn": {
      const api = state.api?.status;
      if (api === "loading") return "Signed in · calling the API…";
      if (api === "data") return `Signed in · API answered ${state.api.result.status}`;
      if (api === "error") return "Signed in · API call failed";
      return "Signed in";
    }
    default: return "Loading…";
  }
}

/** A device code's time left, "Code expires in 4:59", or that it has expired (RFC 8628). */
export function codeExpiry(expiresAt, nowMs) {
  const left = Math.ceil((expiresAt - nowMs) / 1000);
  if (left <= 0) return "The code has expired: cancel, then sign in with a code again for a new one.";
  return `Code expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}
