#!/usr/bin/env node
// Keyhole's offline test sandbox: one process, everything on 127.0.0.1.
//
//   provider      oidc-provider configured like Clerk's Frontend API (paths, PKCE S256,
//                 public native client, JWT access tokens with typ at+jwt, rotating refresh tokens,
//                 RFC 8628 device authorization, RFC 7591 open registration for loopback clients)
//   oauth API     Express + @clerk/express, getAuth(req, { acceptsToken: 'oauth_token' })
//                 plus test helpers (/plain, /redirect-elsewhere, /slow, /big, /sized), RFC 9728
//                 protected-resource metadata and `WWW-Authenticate: Bearer resource_metadata=…`
//   session API   Express + @clerk/express, plain getAuth(req) (session tokens only)
//
// stdout carries exactly one line: the ready JSON. Everything else goes to stderr.
// No token, code or key value is ever logged.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { startCimd } from './cimd.mjs';

// --- stdout is reserved for the ready line -------------------------------------------------
// oidc-provider prints notices with console.info (stdout); route all console output to stderr.
const writeReadyLine = process.stdout.write.bind(process.stdout);
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => console.error(...args);
}

const log = (...args) => console.error('[sandbox]', ...args);

function die(message, code = 1) {
  console.error(`[sandbox] ERROR: ${message}`);
  process.exit(code);
}

// --- no traffic leaves 127.0.0.1 ------------------------------------------------------------
function isLoopbackHost(host) {
  if (!host) return true; // net defaults to localhost
  const h = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  return h === '127.0.0.1' || h === 'localhost' || h === '::1' || h.startsWith('127.');
}

function blocked(what) {
  const err = new Error(`keyhole sandbox: blocked outbound connection to ${what} (only 127.0.0.1 is allowed)`);
  console.error(`[sandbox] ${err.message}`);
  return err;
}

{
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    let url;
    try {
      url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    } catch {
      throw blocked(String(input));
    }
    if (!isLoopbackHost(url.hostname)) throw blocked(url.host);
    return realFetch(input, init);
  };
  for (const fn of ['connect', 'createConnection']) {
    const real = net[fn];
    net[fn] = function guardedConnect(...args) {
      const a = args[0];
      const host = typeof a === 'object' && a !== null ? (a.path ? 'localhost' : a.host) : (typeof args[1] === 'string' ? args[1] : undefined);
      if (!isLoopbackHost(host)) throw blocked(host);
      return real.apply(this, args);
    };
  }
}

// --- flags ----------------------------------------------------------------------------------
const USAGE = `usage: node sandbox.mjs [options]
  --provider-port N        port of the Clerk stand-in (default 0 = any free port)
  --api-port N             port of the oauth API (default 0)
  --session-api-port N     port of the session-only API (default 0)
  --bapi-port N            port of the Clerk Backend API stand-in (default 0)
  --tutorial-api-port N    port of the tutorial's @clerk/clerk-sdk-node API (default 0)
  --accepts-api-port N     port of the @clerk/express acceptsToken API (default 0)
  --mcp-port N             port of the MCP servers (mcp.mjs; default 0)
  --native-redirect-port N FAPI native SSO: allow only http://127.0.0.1:N/callback as redirect_url
                           (default: any port)
  --native-api-disabled    FAPI answers every /v1 request with native_api_disabled
  --rotate-client-on-mint  FAPI rotates the client JWT with every session token it mints (the
                           old one is refused at once), to test processes sharing one client
  --client-id ID           the public client's id (default keyhole-sandbox)
  --access-token-ttl SECS  access token lifetime (default 3600)
  --id-token-ttl SECS      ID token lifetime (default 3600)
  --device-interval SECS   RFC 8628 polling interval announced and enforced (default 5)
  --state-file PATH        also write the ready JSON to PATH (atomically)
  --exit-on-stdin-close    exit when stdin reaches EOF
  --verbose                also show oidc-provider's development notices`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'provider-port': { type: 'string', default: '0' },
      'api-port': { type: 'string', default: '0' },
      'session-api-port': { type: 'string', default: '0' },
      'bapi-port': { type: 'string', default: '0' },
      'tutorial-api-port': { type: 'string', default: '0' },
      'accepts-api-port': { type: 'string', default: '0' },
      'mcp-port': { type: 'string', default: '0' },
      'native-redirect-port': { type: 'string' },
      'native-api-disabled': { type: 'boolean', default: false },
      'rotate-client-on-mint': { type: 'boolean', default: false },
      'client-id': { type: 'string', default: 'keyhole-sandbox' },
      'access-token-ttl': { type: 'string', default: '3600' },
      'id-token-ttl': { type: 'string', default: '3600' },
      'refresh-delay-ms': { type: 'string', default: '0' },
      'device-interval': { type: 'string', default: '5' },
      'state-file': { type: 'string' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (err) {
  die(`${err.message}\n${USAGE}`, 2);
}
if (args.help) {
  console.error(USAGE);
  process.exit(0);
}

function intFlag(name, min, max) {
  const raw = args[name];
  if (!/^\d+$/.test(raw)) die(`--${name} must be an integer, got ${JSON.stringify(raw)}`, 2);
  const n = Number(raw);
  if (n < min || n > max) die(`--${name} must be between ${min} and ${max}, got ${n}`, 2);
  return n;
}

const PROVIDER_PORT = intFlag('provider-port', 0, 65535);
const API_PORT = intFlag('api-port', 0, 65535);
const SESSION_API_PORT = intFlag('session-api-port', 0, 65535);
const BAPI_PORT = intFlag('bapi-port', 0, 65535);
const TUTORIAL_API_PORT = intFlag('tutorial-api-port', 0, 65535);
const ACCEPTS_API_PORT = intFlag('accepts-api-port', 0, 65535);
const MCP_PORT = intFlag('mcp-port', 0, 65535);
const NATIVE_REDIRECT_PORT = args['native-redirect-port'] === undefined ? null : intFlag('native-redirect-port', 1, 65535);
const NATIVE_API_DISABLED = args['native-api-disabled'];
const ACCESS_TOKEN_TTL = intFlag('access-token-ttl', 1, 10 * 365 * 24 * 3600);
// For race tests: hold each refresh grant's answer this long after it was issued, so a refresh
// is "in flight" (new tokens issued, not yet received) for a while.
const REFRESH_DELAY_MS = intFlag('refresh-delay-ms', 0, 60_000);
const ID_TOKEN_TTL = intFlag('id-token-ttl', 1, 10 * 365 * 24 * 3600);
const DEVICE_INTERVAL = intFlag('device-interval', 1, 60);
const CLIENT_ID = args['client-id'];
if (!CLIENT_ID) die('--client-id must not be empty', 2);
const RESOURCE = 'urn:keyhole:sandbox-api';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SCOPES = ['openid', 'profile', 'email', 'offline_access'];

if (!args.verbose) {
  // oidc-provider's "development-only feature" notices are expected here; keep stderr readable.
  const realError = console.error;
  const quiet = /^(\x1b\[[0-9;]*m)?oidc-provider (NOTICE|WARNING): /;
  console.error = (...a) => {
    if (typeof a[0] === 'string' && quiet.test(a[0])) return;
    realError(...a);
  };
  console.warn = console.error;
  for (const name of ['log', 'info', 'debug']) console[name] = console.error;
} else {
  console.warn = (...a) => console.error(...a);
}

// --- listen first, so the issuer is the real URL ---------------------------------------------
const servers = [];

function listen(port, label) {
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end('starting');
  };
  const server = http.createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 5000;
  servers.push(server);
  return new Promise((resolve) => {
    server.once('error', (err) => {
      if (err.code === 'EADDRINUSE') {
        die(`${label}: port ${port} on 127.0.0.1 is busy (EADDRINUSE). Stop whatever listens there or pass a different port (0 = any free port).`, 3);
      }
      die(`${label}: cannot listen on 127.0.0.1:${port}: ${err.message}`, 3);
    });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      resolve({
        server,
        port: server.address().port,
        setHandler(h) {
          handler = h;
        },
      });
    });
  });
}

const [prov, oauthApi, sessionApi, bapiServer, tutorialApi, acceptsApi, mcpServer] = [
  await listen(PROVIDER_PORT, 'provider (--provider-port)'),
  await listen(API_PORT, 'oauth API (--api-port)'),
  await listen(SESSION_API_PORT, 'session-only API (--session-api-port)'),
  await listen(BAPI_PORT, 'Backend API stand-in (--bapi-port)'),
  await listen(TUTORIAL_API_PORT, 'tutorial API (--tutorial-api-port)'),
  await listen(ACCEPTS_API_PORT, 'acceptsToken API (--accepts-api-port)'),
  await listen(MCP_PORT, 'MCP servers (--mcp-port)'),
];
const ISSUER = `http://127.0.0.1:${prov.port}`;
const API_BASE = `http://127.0.0.1:${oauthApi.port}`;
const SESSION_API_BASE = `http://127.0.0.1:${sessionApi.port}`;
const BAPI_BASE = `http://127.0.0.1:${bapiServer.port}`;
const TUTORIAL_API_BASE = `http://127.0.0.1:${tutorialApi.port}`;
const ACCEPTS_API_BASE = `http://127.0.0.1:${acceptsApi.port}`;
const MCP_BASE = `http://127.0.0.1:${mcpServer.port}`;
const cimd = await startCimd({ log });
servers.push(cimd.server);

// --- Clerk SDK environment: set before @clerk/express is imported ---------------------------
const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicExponent: 65537,
});
const KID = `ins_sandbox_${crypto.randomBytes(6).toString('hex')}`;
const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' });
const PUBLISHABLE_KEY = `pk_live_${Buffer.from('clerk.sandbox.keyhole.test$').toString('base64')}`;
const SECRET_KEY = `sk_live_sandbox${crypto.randomBytes(16).toString('hex')}`;
// For Keyhole's tests: a development secret key, the machine secret key for M2M tokens, and a
// development publishable key that encodes the FAPI host (this provider's host:port).
const TEST_SECRET_KEY = `sk_test_sandbox${crypto.randomBytes(16).toString('hex')}`;
const MACHINE_SECRET_KEY = `ak_${crypto.randomBytes(16).toString('hex')}`;
const MACHINE_ID = `mch_2${crypto.randomBytes(13).toString('hex')}`;
const TEST_PUBLISHABLE_KEY = `pk_test_${Buffer.from(`127.0.0.1:${prov.port}$`).toString('base64')}`;
const FAPI_CLIENT = { client_id: 'clerk-fapi-standin', client_secret: crypto.randomBytes(24).toString('hex') };

Object.assign(process.env, {
  CLERK_JWT_KEY: PUBLIC_PEM,
  CLERK_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
  CLERK_SECRET_KEY: SECRET_KEY,
  CLERK_TELEMETRY_DISABLED: '1',
  // @clerk/backend (and @clerk/clerk-sdk-node) call the Backend API here: API keys and M2M tokens.
  CLERK_API_URL: BAPI_BASE,
});

const [{ default: Provider, errors: oidcErrors }, { default: express }, clerk, clerkSdkNode, { createSpecChecker }, { createClerkStandin }] = await Promise.all([
  import('oidc-provider'),
  import('express'),
  import('@clerk/express'),
  import('@clerk/clerk-sdk-node'),
  import('./openapi-check.mjs'),
  import('./clerk-standin.mjs'),
]);
// After the Clerk environment is set: @clerk/mcp-tools loads @clerk/express too.
const { buildMcpApp } = await import('./mcp.mjs');
const { clerkMiddleware, getAuth } = clerk;
// Clerk's OpenAPI specs, loaded once (a JSON cache of the YAML); checks every FAPI/BAPI exchange.
const specChecker = createSpecChecker();
specChecker.catch((err) => die(`cannot load Clerk's OpenAPI specs: ${err.message}`));

// --- the Clerk stand-in -----------------------------------------------------------------------
const stats = {
  refresh_grants: 0,
  code_grants: 0,
  refresh_errors: 0,
  code_errors: 0,
  requests: 0,
  device_grants: 0,
  device_polls: 0,
  registrations: 0,
  slow_downs: 0,
};
const devicePolls = new Map();

// The oauth API (or the MCP servers) as an RFC 8707 resource: its origin, or its origin plus a
// path it serves.
const MCP_EXTRA_SCOPES = ['mcp:admin'];

function isMcpResource(indicator) {
  try {
    return new URL(indicator).origin === MCP_BASE;
  } catch {
    return false;
  }
}

function isApiResource(indicator) {
  try {
    const u = new URL(indicator);
    return (u.origin === API_BASE || u.origin === MCP_BASE) && !u.search && !u.hash;
  } catch {
    return false;
  }
}

// RFC 7591 open registration, but only for native apps with loopback redirects (RFC 8252 §7.3).
function loopbackRedirectsOnly(uris) {
  if (!Array.isArray(uris) || uris.length === 0) return 'redirect_uris must list at least one loopback URI';
  for (const uri of uris) {
    let u;
    try {
      u = new URL(uri);
    } catch {
      return `redirect_uris: ${JSON.stringify(String(uri))} is not a URL`;
    }
    if (u.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(u.hostname)) {
      return 'only loopback redirect URIs (http://127.0.0.1/… or http://[::1]/…) may be registered here';
    }
  }
  return null;
}

async function readRaw(req, limit = 56 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
// Grants that can still be refreshed: added by a code grant, removed when revoked (by the
// revocation endpoint, or by the reuse of a rotated refresh token).
const liveGrants = new Set();

function accountClaims(login) {
  return {
    sub: login,
    name: `Test User ${login}`,
    given_name: 'Test',
    family_name: `User ${login}`,
    preferred_username: login,
    email: `${login}@example.test`,
    email_verified: true,
  };
}

const provider = new Provider(ISSUER, {
  fetch: cimd.fetch,
  clients: [
    {
      client_id: CLIENT_ID,
      client_name: 'Keyhole (sandbox)',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
      response_types: ['code'],
    },
    {
      // The FAPI stand-in's own connection ("custom OIDC provider" oauth_custom_sandbox).
      client_id: FAPI_CLIENT.client_id,
      client_secret: FAPI_CLIENT.client_secret,
      client_name: 'Clerk (sandbox Frontend API)',
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [`${ISSUER}/v1/oauth_callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [privateJwk] },
  cookies: {
    keys: ['keyhole-sandbox-cookie-key-not-a-secret'],
  },
  routes: {
    authorization: '/oauth/authorize',
    token: '/oauth/token',
    userinfo: '/oauth/userinfo',
    jwks: '/.well-known/jwks.json',
    revocation: '/oauth/token/revoke',
    registration: '/oauth/register',
    device_authorization: '/oauth/device_authorization',
    code_verification: '/oauth/device',
  },
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    introspection: { enabled: false },
    rpInitiatedLogout: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    dPoP: { enabled: false },
    // RFC 8628. The verification pages are oidc-provider's own (login-*.mjs --device completes them).
    deviceFlow: { enabled: true, charset: 'base-20', mask: '****-****' },
    // RFC 7591, open like Clerk's dashboard toggle; only loopback redirect URIs are accepted
    // (checked in the middleware below). RFC 7592 lets a client (or a test) read or delete itself.
    registration: { enabled: true, initialAccessToken: false },
    // A Client ID Metadata Document's URL as the client ID (Clerk's CIMD beta; MCP 2025-11-25),
    // fetched only from the sandbox's own document server.
    clientIdMetadataDocument: {
      enabled: true,
      ack: 'draft-02',
      allowFetch: async (_ctx, clientId) => clientId.startsWith(`${cimd.base}/`),
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, indicator) {
        // The default resource, or the oauth API itself as its protected-resource metadata
        // names it (RFC 8707 / RFC 9728): its origin, or origin + path.
        if (indicator !== RESOURCE && !isApiResource(indicator)) throw new oidcErrors.InvalidTarget();
        return {
          // An MCP server may also be granted mcp:admin, when asked for (a step-up).
          scope: [...SCOPES, ...(isMcpResource(indicator) ? MCP_EXTRA_SCOPES : [])].join(' '),
          audience: indicator,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  issueRefreshToken: async (_ctx, client, code) =>
    client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  // Registered clients: public native clients unless they say otherwise.
  clientDefaults: {
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  },
  extraTokenClaims: async (_ctx, token) => {
    if (token.kind !== 'AccessToken') return undefined;
    const sid = crypto.createHash('sha256').update(String(token.grantId ?? token.sessionUid ?? '')).digest('hex').slice(0, 24);
    return { azp: token.clientId, sid: `sess_${sid}` };
  },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => accountClaims(id),
  }),
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ACCESS_TOKEN_TTL,
    IdToken: ID_TOKEN_TTL,
    AuthorizationCode: 600,
    RefreshToken: 30 * 24 * 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 30 * 24 * 3600,
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>oops! something went wrong</title></head><body><h1>oops! something went wrong</h1>${Object.entries(out)
      .map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`)
      .join('')}</body></html>`;
  },
});

// For the test run's leak check only: KEYHOLE_SANDBOX_TOKEN_LOG names a file that receives every
// token and code value issued, one per line, so scripts/test can prove none of them reached any
// output. Never set outside tests.
const tokenLog = process.env.KEYHOLE_SANDBOX_TOKEN_LOG;
const recordIssued = (...values) => {
  const lines = values.filter((v) => typeof v === 'string' && v.length >= 16);
  if (tokenLog && lines.length) fs.appendFileSync(tokenLog, `${lines.join('\n')}\n`, { mode: 0o600 });
};
recordIssued(SECRET_KEY, TEST_SECRET_KEY, MACHINE_SECRET_KEY, FAPI_CLIENT.client_secret);
provider.on('authorization_code.saved', (code) => recordIssued(code.jti));
provider.on('device_code.saved', (code) => recordIssued(code.jti));
provider.on('registration_create.success', (ctx) => {
  stats.registrations += 1;
  recordIssued(ctx.body?.registration_access_token);
});
provider.on('grant.revoked', (_ctx, grantId) => liveGrants.delete(grantId));

provider.on('grant.success', (ctx) => {
  recordIssued(ctx.body?.access_token, ctx.body?.refresh_token, ctx.body?.id_token);
  // The FAPI stand-in's own code exchanges are not Keyhole's grants.
  if (ctx.oidc.client?.clientId === FAPI_CLIENT.client_id) return;
  const gt = ctx.oidc.params?.grant_type;
  if (gt === 'refresh_token') stats.refresh_grants += 1;
  else if (gt === DEVICE_GRANT) {
    stats.device_grants += 1;
    const grantId = ctx.oidc.entities?.DeviceCode?.grantId;
    if (grantId) liveGrants.add(grantId);
  } else if (gt === 'authorization_code') {
    stats.code_grants += 1;
    const grantId = ctx.oidc.entities?.AuthorizationCode?.grantId;
    if (grantId) liveGrants.add(grantId);
  }
});
provider.on('grant.error', (ctx, err) => {
  const gt = ctx.oidc?.params?.grant_type;
  // A device-code poll before the user finished is the normal course of RFC 8628, not a failure.
  if (gt === DEVICE_GRANT && err.error === 'authorization_pending') return;
  if (gt === 'refresh_token') stats.refresh_errors += 1;
  else if (gt === 'authorization_code') stats.code_errors += 1;
  log(`token endpoint: ${gt ?? '?'} grant failed: ${err.error ?? err.name}${err.error_description ? ` (${err.error_description})` : ''}`);
});
provider.on('server_error', (_ctx, err) => log(`provider server_error: ${err.message}`));
provider.on('authorization.error', (_ctx, err) =>
  log(`authorization error: ${err.error ?? err.name}${err.error_description ? ` (${err.error_description})` : ''}`),
);

// Verify one of our own JWT access tokens (RS256, typ at+jwt, our kid, not expired, our issuer).
function verifyAccessToken(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  let header;
  let payload;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url'));
  } catch {
    return null;
  }
  if (header.alg !== 'RS256' || header.kid !== KID || !['at+jwt', 'application/at+jwt'].includes(header.typ)) return null;
  const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'));
  if (!ok) return null;
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number' || payload.exp <= now) return null;
  if (payload.iss !== ISSUER || typeof payload.sub !== 'string') return null;
  return payload;
}

provider.use(async (ctx, next) => {
  // Test observable.
  if (ctx.path === '/sandbox/stats' && ctx.method === 'GET') {
    ctx.set('cache-control', 'no-store');
    ctx.body = { ...stats, live_grants: liveGrants.size, cimd_document_fetches: cimd.stats.document_fetches, ...(await clerkStandin.stats()) };
    return;
  }
  stats.requests += 1;
  if (REFRESH_DELAY_MS > 0 && ctx.path === '/oauth/token' && ctx.method === 'POST') {
    await next();
    if (ctx.oidc?.params?.grant_type === 'refresh_token') {
      await new Promise((r) => setTimeout(r, REFRESH_DELAY_MS));
    }
    return;
  }
  // Clerk issues a refresh token whenever offline_access is asked for. oidc-provider drops
  // offline_access from an authorization request unless prompt contains consent (before any
  // issueRefreshToken hook can see it), so add consent to the prompt here. The consent screen
  // is shown anyway, like Clerk's default.
  if (ctx.path === '/oauth/authorize' && ctx.method === 'GET') {
    const q = new URLSearchParams(ctx.querystring);
    const scopes = (q.get('scope') ?? '').split(' ');
    const prompts = (q.get('prompt') ?? '').split(' ').filter(Boolean);
    if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none') && q.getAll('prompt').length <= 1) {
      q.set('prompt', [...prompts, 'consent'].join(' '));
      ctx.querystring = q.toString();
    }
  }
  if (ctx.path === '/oauth/token' && ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
    // Count device-code polls (answered authorization_pending, slow_down or tokens).
    const raw = await readRaw(ctx.req);
    ctx.req.body = raw;
    const form = new URLSearchParams(raw);
    if (form.get('grant_type') === DEVICE_GRANT) {
      stats.device_polls += 1;
      // RFC 8628 §3.5: a client polling faster than its interval is told to slow down, and its
      // interval grows by 5 s. (oidc-provider itself never answers slow_down.)
      const key = form.get('device_code') ?? '';
      const now = Date.now();
      const seen = devicePolls.get(key) ?? { last: 0, interval: DEVICE_INTERVAL };
      if (seen.last && now - seen.last < seen.interval * 1000 - 250) {
        seen.interval += 5;
        seen.last = now;
        devicePolls.set(key, seen);
        stats.slow_downs += 1;
        ctx.status = 400;
        ctx.set('cache-control', 'no-store');
        ctx.body = { error: 'slow_down', error_description: 'polling too fast' };
        return;
      }
      seen.last = now;
      devicePolls.set(key, seen);
    }
  }
  if (ctx.path === '/oauth/register' && ctx.method === 'POST') {
    const raw = await readRaw(ctx.req);
    let metadata;
    try {
      metadata = JSON.parse(raw);
    } catch {
      metadata = null;
    }
    const problem = metadata && typeof metadata === 'object' ? loopbackRedirectsOnly(metadata.redirect_uris) : 'the body is not a JSON object';
    if (problem) {
      ctx.status = 400;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_redirect_uri', error_description: problem };
      return;
    }
    ctx.req.body = raw;
  }
  if (ctx.path === '/oauth/device_authorization' && ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
    // As at /oauth/authorize: a refresh token whenever offline_access is asked for.
    const form = new URLSearchParams(await readRaw(ctx.req));
    const scopes = (form.get('scope') ?? '').split(' ');
    if (scopes.includes('offline_access') && !form.has('prompt')) form.set('prompt', 'consent');
    ctx.req.body = form.toString();
    await next();
    // RFC 8628 §3.2: announce the polling interval (oidc-provider leaves it out, meaning 5 s).
    if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') ctx.body = { ...ctx.body, interval: DEVICE_INTERVAL };
    return;
  }
  // Clerk also serves RFC 8414 metadata.
  if (ctx.path === '/.well-known/oauth-authorization-server') {
    ctx.path = '/.well-known/openid-configuration';
  }
  // Clerk's userinfo accepts the OAuth access token (a JWT for the API). oidc-provider's own
  // userinfo rejects resource-server tokens, so answer it here the way Clerk does.
  if (ctx.path === '/oauth/userinfo' && (ctx.method === 'GET' || ctx.method === 'POST')) {
    ctx.set('cache-control', 'no-store');
    const m = /^Bearer ([^\s]+)$/i.exec(ctx.get('authorization') || '');
    const claims = m ? verifyAccessToken(m[1]) : null;
    if (!claims) {
      ctx.status = 401;
      ctx.set('www-authenticate', m ? 'Bearer realm="clerk", error="invalid_token", error_description="invalid access token"' : 'Bearer realm="clerk"');
      ctx.body = m
        ? { error: 'invalid_token', error_description: 'invalid access token' }
        : { error: 'invalid_request', error_description: 'no access token provided' };
      return;
    }
    const scopes = new Set(String(claims.scope ?? '').split(' '));
    const all = accountClaims(claims.sub);
    const out = { sub: claims.sub, user_id: claims.sub };
    if (scopes.has('profile')) {
      for (const k of ['name', 'given_name', 'family_name', 'preferred_username']) out[k] = all[k];
    }
    if (scopes.has('email')) {
      out.email = all.email;
      out.email_verified = all.email_verified;
    }
    ctx.body = out;
    return;
  }
  await next();
  // The dev interaction pages @import a Google font: strip it so no browser ever leaves 127.0.0.1.
  if (typeof ctx.body === 'string' && ctx.body.includes('fonts.googleapis.com')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
});

// The Clerk Frontend API (native mode) on the same origin as the OAuth server, like real Clerk.
const clerkStandin = createClerkStandin({
  issuer: ISSUER,
  bapiOrigin: BAPI_BASE,
  privateKey,
  kid: KID,
  recordIssued,
  checker: specChecker,
  nativeApiDisabled: NATIVE_API_DISABLED,
  rotateOnMint: args['rotate-client-on-mint'],
  nativeRedirectPort: NATIVE_REDIRECT_PORT,
  secretKeys: [SECRET_KEY, TEST_SECRET_KEY],
  machineSecretKey: MACHINE_SECRET_KEY,
  machineId: MACHINE_ID,
  oauthClient: FAPI_CLIENT,
  log,
});
{
  const providerCallback = provider.callback();
  prov.setHandler((req, res) => (req.url.startsWith('/v1/') ? clerkStandin.fapi(req, res) : providerCallback(req, res)));
}
bapiServer.setHandler(clerkStandin.bapi);

// --- the protected APIs -----------------------------------------------------------------------
const clerkOptions = { jwtKey: PUBLIC_PEM, publishableKey: PUBLISHABLE_KEY, secretKey: SECRET_KEY, apiUrl: BAPI_BASE };

let bigBody;
function big() {
  if (!bigBody) {
    const items = [];
    for (let i = 0; i < 20000; i += 1) {
      items.push({ i, id: `item_${String(i).padStart(6, '0')}`, text: 'x'.repeat(72) });
    }
    bigBody = JSON.stringify(items);
  }
  return bigBody;
}

// /sized?bytes=N: a JSON object of exactly N bytes (at least 21, at most 3 GiB), the same every
// time, streamed in 64 KiB pieces with backpressure: the answer viewer's large answers.
const SIZED_MAX = 3 * 1024 ** 3;
function* sizedBody(total) {
  const head = '{"items":[';
  const tail = ['],"end":"', '"}'];
  let used = head.length + tail[0].length + tail[1].length;
  let piece = head;
  for (let i = 0; ; i += 1) {
    const item = `${i ? ',' : ''}{"i":${i},"id":"item_${String(i).padStart(8, '0')}","name":"Ada Lovelace ${i % 97}","ok":${i % 3 === 0},"score":${(i % 1000) / 8},"tags":["a","b${i % 7}"],"note":null}`;
    if (used + item.length > total) break;
    used += item.length;
    piece += item;
    if (piece.length >= 65536) {
      yield piece;
      piece = '';
    }
  }
  piece += tail[0];
  let pad = total - used;
  while (pad > 0) {
    const n = Math.min(pad, 65536);
    piece += 'z'.repeat(n);
    pad -= n;
    yield piece;
    piece = '';
  }
  yield `${piece}${tail[1]}`;
}

function buildOauthApi() {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  // Test helpers (not protected).
  app.get('/plain', (_req, res) => {
    res.type('text/plain').send('hello from a non-JSON endpoint');
  });
  app.get('/redirect-elsewhere', (_req, res) => {
    res.redirect(302, `${SESSION_API_BASE}/protected-endpoint`);
  });
  app.get('/slow', (req, res) => {
    let ms = Number.parseInt(String(req.query.ms ?? '1000'), 10);
    if (!Number.isFinite(ms) || ms < 0) ms = 0;
    ms = Math.min(ms, 30000);
    const timer = setTimeout(() => {
      if (!res.writableEnded) res.json({ slow: true, ms });
    }, ms);
    res.on('close', () => clearTimeout(timer));
  });
  app.get('/big', (_req, res) => {
    res.type('application/json').send(big());
  });
  app.get('/sized', async (req, res) => {
    const asked = Number.parseInt(String(req.query.bytes ?? '102400'), 10);
    const total = Math.min(Math.max(Number.isFinite(asked) ? asked : 102400, 21), SIZED_MAX);
    res.type('application/json');
    res.setHeader('content-length', String(total));
    let closed = false;
    res.on('close', () => { closed = true; });
    for (const piece of sizedBody(total)) {
      if (closed) return;
      if (!res.write(piece)) {
        await new Promise((resolve) => {
          const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
          res.once('drain', done).once('close', done);
        });
      }
    }
    res.end();
  });


  // RFC 9728 protected-resource metadata, as Clerk's MCP tooling serves it: at the root for the
  // whole origin, and with a resource's path appended (§3.1) for that resource.
  const resourceMetadata = (resource) => ({
    resource,
    authorization_servers: [ISSUER],
    bearer_methods_supported: ['header'],
    scopes_supported: SCOPES,
    resource_name: 'Keyhole sandbox API',
  });
  app.get('/.well-known/oauth-protected-resource', (_req, res) => {
    res.set('cache-control', 'no-store').json(resourceMetadata(API_BASE));
  });
  app.get(/^\/\.well-known\/oauth-protected-resource(\/.+)$/, (req, res) => {
    const path = req.params[0];
    if (!['/protected-endpoint', '/protected-auth-required'].includes(path)) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    res.set('cache-control', 'no-store').json(resourceMetadata(`${API_BASE}${path}`));
  });

  // The API's own OpenAPI 3 document, for "import from URL" (its server is relative: the origin
  // it is fetched from).
  app.get('/openapi.json', (_req, res) => {
    res.json(sandboxOpenapi());
  });
  // The tutorial's backend, adapted to accept the desktop app's OAuth access tokens.
  app.use(clerkMiddleware(clerkOptions));
  // Echo: what the API received (Authorization masked) and who Clerk's middleware says you are,
  // for every method. For tests, and for users trying the request editor.
  app.all('/echo', express.text({ type: () => true, limit: '1mb' }), (req, res) => {
    const headers = { ...req.headers };
    if (headers.authorization) headers.authorization = headers.authorization.replace(/^(\S+\s+)?.*$/, (_m, scheme) => `${scheme ?? ''}…masked`);
    const auth = getAuth(req, { acceptsToken: 'oauth_token' });
    res.json({
      method: req.method,
      path: req.path,
      query: req.query,
      headers,
      body: typeof req.body === 'string' ? req.body : '',
      userId: auth.userId ?? null,
      isAuthenticated: auth.isAuthenticated ?? false,
    });
  });
  app.get('/protected-endpoint', (req, res) => {
    res.json(getAuth(req, { acceptsToken: 'oauth_token' }));
  });
  app.get('/protected-auth-required', (req, res, next) => {
    const auth = getAuth(req, { acceptsToken: 'oauth_token' });
    if (!auth.isAuthenticated) {
      next(new Error('Unauthenticated'));
      return;
    }
    res.json(auth);
  });
  // The tutorial's error handler, plus RFC 9728 §5.1: where to learn how to get a token.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, _next) => {
    log(`oauth API: ${err.message}`);
    const metadata = `${API_BASE}/.well-known/oauth-protected-resource${req.path}`;
    res.set('www-authenticate', `Bearer resource_metadata="${metadata}"`);
    res.status(401).send('Unauthenticated!');
  });
  return app;
}

function buildSessionOnlyApi() {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(clerkMiddleware(clerkOptions));
  // What users hit when they forget acceptsToken: OAuth tokens read as signed out.
  app.get('/protected-endpoint', (req, res) => {
    res.json(getAuth(req));
  });
  // eslint-disable-next-line no-unused-vars
  app.use((err, _req, res, _next) => {
    log(`session-only API: ${err.message}`);
    res.status(401).send('Unauthenticated!');
  });
  return app;
}

// The tutorial's backend, as the Clerk + Express tutorial writes it (@clerk/clerk-sdk-node 5.1.6,
// env CLERK_SECRET_KEY / CLERK_JWT_KEY / CLERK_PUBLISHABLE_KEY / CLERK_API_URL).
function buildTutorialApi() {
  const { ClerkExpressWithAuth, ClerkExpressRequireAuth } = clerkSdkNode;
  const app = express();
  app.disable('x-powered-by');
  app.get('/protected-endpoint', ClerkExpressWithAuth(), (req, res) => {
    res.json(req.auth);
  });
  app.get('/protected-auth-required', ClerkExpressRequireAuth(), (req, res) => {
    res.json(req.auth);
  });
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    log(`tutorial API: ${err.message}`);
    res.status(401).send('Unauthenticated!');
  });
  return app;
}

// One @clerk/express route per acceptsToken value: /accepts/<value> answers
// getAuth(req, { acceptsToken }) as JSON; /accepts-strict/<value> is 401 Unauthenticated! when
// that is not authenticated. `session_token,api_key` is the array form.
const ACCEPTS = ['session_token', 'oauth_token', 'api_key', 'm2m_token', 'any', 'session_token,api_key'];
function buildAcceptsApi() {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(clerkMiddleware(clerkOptions));
  const acceptsToken = (value) => (value.includes(',') ? value.split(',') : value);
  app.get('/accepts/:value', (req, res, next) => {
    if (!ACCEPTS.includes(req.params.value)) return next();
    res.json(getAuth(req, { acceptsToken: acceptsToken(req.params.value) }));
  });
  app.get('/accepts-strict/:value', (req, res, next) => {
    if (!ACCEPTS.includes(req.params.value)) return next();
    const auth = getAuth(req, { acceptsToken: acceptsToken(req.params.value) });
    if (!auth.isAuthenticated) return next(new Error('Unauthenticated'));
    res.json(auth);
  });
  // eslint-disable-next-line no-unused-vars
  app.use((err, _req, res, _next) => {
    log(`acceptsToken API: ${err.message}`);
    res.status(401).send('Unauthenticated!');
  });
  return app;
}

oauthApi.setHandler(buildOauthApi());
tutorialApi.setHandler(buildTutorialApi());
acceptsApi.setHandler(buildAcceptsApi());
sessionApi.setHandler(buildSessionOnlyApi());
mcpServer.setHandler(buildMcpApp({ express, clerkMiddleware, clerkOptions, issuer: ISSUER, base: MCP_BASE, log }));

// --- lifecycle ----------------------------------------------------------------------------------
let shuttingDown = false;
function shutdown(reason, code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`shutting down (${reason})`);
  for (const s of servers) {
    s.close();
    s.closeAllConnections?.();
  }
  if (args['state-file']) {
    try {
      fs.unlinkSync(args['state-file']);
    } catch {
      // already gone
    }
  }
  setTimeout(() => process.exit(code), 50).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
if (args['exit-on-stdin-close']) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

/** The sandbox API as OpenAPI 3.0: a few of its routes, with examples, for the import tests. */
function sandboxOpenapi() {
  return {
  openapi: '3.0.3',
  info: { title: 'Keyhole sandbox API', version: '1.0.0' },
  servers: [{ url: '/' }],
  paths: {
    '/echo': {
      get: {
        operationId: 'echoGet',
        summary: 'What the API received',
        parameters: [
          { name: 'page', in: 'query', schema: { type: 'integer' }, example: 1 },
          { name: 'X-Trace', in: 'header', schema: { type: 'string' }, example: 'from-openapi' },
        ],
        responses: { 200: { description: 'The request as received' } },
      },
      post: {
        operationId: 'echoPost',
        requestBody: {
          content: { 'application/json': { example: { hello: 'openapi' } } },
        },
        responses: { 200: { description: 'The request as received' } },
      },
    },
    '/protected-endpoint': {
      get: { responses: { 200: { description: 'The auth object' } } },
    },
  },
  };
}

const ready = {
  issuer: ISSUER,
  client_id: CLIENT_ID,
  api: {
    lax: `${API_BASE}/protected-endpoint`,
    strict: `${API_BASE}/protected-auth-required`,
    plain: `${API_BASE}/plain`,
    redirect_elsewhere: `${API_BASE}/redirect-elsewhere`,
    slow: `${API_BASE}/slow`,
    echo: `${API_BASE}/echo`,
    big: `${API_BASE}/big`,
    sized: `${API_BASE}/sized`,
    session_only: `${SESSION_API_BASE}/protected-endpoint`,
    tutorial_lax: `${TUTORIAL_API_BASE}/protected-endpoint`,
    tutorial_strict: `${TUTORIAL_API_BASE}/protected-auth-required`,
    accepts: `${ACCEPTS_API_BASE}/accepts`,
    accepts_strict: `${ACCEPTS_API_BASE}/accepts-strict`,
  },
  mcp: {
    sdk: `${MCP_BASE}/mcp`,
    modern: `${MCP_BASE}/mcp-2026`,
    no_prm: `${MCP_BASE}/no-prm/mcp`,
    wrong_prm: `${MCP_BASE}/wrong-prm/mcp`,
    any_audience: `${MCP_BASE}/any-audience/mcp`,
    error_500: `${MCP_BASE}/error-500/mcp`,
    no_verify: `${MCP_BASE}/no-verify/mcp`,
    compliant: `${MCP_BASE}/compliant/mcp`,
    scoped: `${MCP_BASE}/scoped/mcp`,
    bare_403: `${MCP_BASE}/bare-403/mcp`,
    html: `${MCP_BASE}/faults/html`,
    not_found: `${MCP_BASE}/faults/not-found`,
    not_jsonrpc: `${MCP_BASE}/faults/not-jsonrpc`,
    forever: `${MCP_BASE}/faults/forever`,
    huge: `${MCP_BASE}/faults/huge`,
    huge_sse: `${MCP_BASE}/faults/huge-sse`,
    expire_sessions: `${MCP_BASE}/sandbox/mcp/expire-sessions`,
    stats: `${MCP_BASE}/sandbox/mcp/stats`,
  },
  fapi: ISSUER,
  bapi: BAPI_BASE,
  secret_key: TEST_SECRET_KEY,
  machine_secret_key: MACHINE_SECRET_KEY,
  machine_id: MACHINE_ID,
  publishable_key: TEST_PUBLISHABLE_KEY,
  native_sso_strategy: 'oauth_custom_sandbox',
  native_redirect_port: NATIVE_REDIRECT_PORT,
  native_api_disabled: NATIVE_API_DISABLED,
  registration_endpoint: `${ISSUER}/oauth/register`,
  cimd: { url: cimd.url, redirect_port: cimd.redirectPort },
  device_authorization_endpoint: `${ISSUER}/oauth/device_authorization`,
  stats: `${ISSUER}/sandbox/stats`,
  access_token_ttl: ACCESS_TOKEN_TTL,
  pid: process.pid,
};
const line = `${JSON.stringify(ready)}\n`;

if (args['state-file']) {
  const target = path.resolve(args['state-file']);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(tmp, line);
    fs.renameSync(tmp, target);
  } catch (err) {
    die(`cannot write --state-file ${target}: ${err.message}`, 4);
  }
}

await specChecker;
log(`provider + FAPI ${ISSUER} (client ${CLIENT_ID}), BAPI ${BAPI_BASE}, oauth API ${API_BASE}, session-only API ${SESSION_API_BASE}, tutorial API ${TUTORIAL_API_BASE}, acceptsToken API ${ACCEPTS_API_BASE}, MCP ${MCP_BASE}`);
writeReadyLine(line);
