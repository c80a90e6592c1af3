// Clerk Frontend API (native mode) and Backend API stand-ins, checked against Clerk's OpenAPI
// specs (openapi-check.mjs). One store: a session revoked through BAPI is revoked for FAPI too.
//
// FAPI lives on the OIDC provider's origin (like real Clerk, where the OAuth server is on the
// Frontend API domain); BAPI on its own port. Only the endpoints listed in README.md are served;
// everything else (including the spec's `{}` operations such as /v1/client/hosted_auth) is 404.
// No token, key or nonce value is ever logged.

import crypto from 'node:crypto';

const BODY_LIMIT = 64 * 1024;
const now = () => Date.now();
const sec = () => Math.floor(Date.now() / 1000);
const rand = (n = 16) => crypto.randomBytes(n).toString('hex');
// Clerk-looking ids: prefix + 27 base62-ish characters (the BAPI spec's `\w{27}`).
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const id27 = (prefix) => `${prefix}_2${Array.from(crypto.randomBytes(26), (b) => ALNUM[b % 62]).join('')}`;
const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export const JWT_CATEGORY_SESSION_TOKEN = 'cl_B7d4PD111AAA'; // @clerk/backend src/tokens/jwtCategories.ts
export const JWT_CATEGORY_M2M_TOKEN = 'cl_B7d4PD333AAA';

function clerkError(status, code, message, longMessage, meta) {
  const e = { message, long_message: longMessage ?? message, code };
  if (meta) e.meta = meta;
  return { status, body: { errors: [e], clerk_trace_id: rand(8) } };
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      const err = new Error('request entity too large');
      err.tooLarge = true;
      throw err;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw, contentType) {
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!raw) return undefined;
  if (ct === 'application/json') return JSON.parse(raw);
  if (ct === 'application/x-www-form-urlencoded' || !ct) {
    const out = {};
    for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
    return out;
  }
  return raw;
}

export function createClerkStandin(opts) {
  const {
    issuer,
    bapiOrigin,
    privateKey,
    kid,
    recordIssued,
    checker, // Promise<spec checker>
    nativeApiDisabled = false,
    nativeRedirectPort = null,
    rotateOnMint = false, // stricter than Clerk is known to be: a new client JWT with every minted token
    secretKeys, // accepted BAPI secret keys
    machineSecretKey,
    machineId,
    oauthClient, // { client_id, client_secret } registered at the oidc-provider
    log,
  } = opts;
  const clientJwtSecret = crypto.randomBytes(32);
  const instanceCreated = now();

  const clients = new Map();
  const signIns = new Map();
  const sessions = new Map();
  const nonces = new Map(); // nonce → { signInId, used }
  const oauthStates = new Map(); // state → signInId
  const apiKeys = new Map(); // secret → record
  const m2mTokens = new Map(); // token → record
  const fapiRequests = {};
  const bapiRequests = {};

  const sign = (header, payload) => {
    const input = `${b64u(header)}.${b64u(payload)}`;
    return `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
  };

  // --- client JWTs (the native "__client" token) ---------------------------------------------
  function issueClientJwt(client) {
    client.rotatingToken = rand(20);
    const input = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u({ id: client.id, rotating_token: client.rotatingToken, iat: sec() })}`;
    client.jwt = `${input}.${crypto.createHmac('sha256', clientJwtSecret).update(input).digest('base64url')}`;
    client.updatedAt = now();
    recordIssued(client.jwt, client.rotatingToken);
    return client.jwt;
  }
  function newClient() {
    const client = { id: id27('client'), signInId: null, lastActiveSessionId: null, lastStrategy: null, createdAt: now(), updatedAt: now() };
    clients.set(client.id, client);
    issueClientJwt(client);
    return client;
  }
  // undefined: none sent; null: sent but not valid (refused); else the client.
  function clientFromAuthorization(header) {
    if (!header) return undefined;
    const jwt = header.replace(/^Bearer\s+/i, '').trim();
    const parts = jwt.split('.');
    if (parts.length !== 3) return null;
    const mac = crypto.createHmac('sha256', clientJwtSecret).update(`${parts[0]}.${parts[1]}`).digest();
    let sig;
    try {
      sig = Buffer.from(parts[2], 'base64url');
    } catch {
      return null;
    }
    if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) return null;
    let payload;
    try {
      payload = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch {
      return null;
    }
    const client = clients.get(payload.id);
    if (!client || client.jwt !== jwt) return null; // rotated away
    return client;
  }

  // --- JSON shapes (FAPI) -----------------------------------------------------------------------
  const userName = (userId) => ({ first_name: 'Test', last_name: `User ${userId}` });
  function publicUserData(userId) {
    return { ...userName(userId), image_url: '', has_image: false, identifier: `${userId}@example.test`, user_id: userId };
  }
  function sessionJson(s) {
    return {
      object: 'session',
      id: s.id,
      status: s.status,
      expire_at: s.expireAt,
      abandon_at: s.abandonAt,
      last_active_at: s.lastActiveAt,
      last_active_token: null,
      actor: null,
      last_active_organization_id: null,
      public_user_data: publicUserData(s.userId),
      factor_verification_age: [Math.floor((now() - s.createdAt) / 60000), -1],
      created_at: s.createdAt,
      updated_at: s.updatedAt,
    };
  }
  function signInJson(si) {
    return {
      object: 'sign_in_attempt',
      id: si.id,
      status: si.status,
      supported_identifiers: [],
      // The spec's SignInFactor.strategy enum has no custom oauth_custom_* values (only oauth_custom_mock).
      supported_first_factors: [],
      supported_second_factors: null,
      first_factor_verification: {
        object: 'verification_oauth',
        status: si.verificationStatus,
        strategy: si.strategy,
        external_verification_redirect_url: si.verificationStatus === 'unverified' ? si.externalUrl : null,
        error: si.error ?? null,
        expire_at: si.expireAt,
        attempts: null,
      },
      second_factor_verification: null,
      identifier: si.userId ? `${si.userId}@example.test` : null,
      user_data: si.userId ? { ...userName(si.userId), image_url: '', has_image: false } : null,
      created_session_id: si.createdSessionId,
      abandon_at: si.abandonAt,
    };
  }
  function clientJson(c) {
    if (!c) return null;
    const own = [...sessions.values()].filter((s) => s.clientId === c.id && s.status === 'active');
    const si = c.signInId ? signIns.get(c.signInId) : null;
    return {
      object: 'client',
      id: c.id,
      sessions: own.map(sessionJson),
      sign_in: si && si.status !== 'complete' ? signInJson(si) : null,
      sign_up: null,
      last_active_session_id: c.lastActiveSessionId,
      last_authentication_strategy: c.lastStrategy,
      cookie_expires_at: null,
      captcha_bypass: false,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
    };
  }
  const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);
  const merge = (base, over) => {
    if (!isObj(base) || !isObj(over)) return over;
    const out = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
    return out;
  };
  let environmentCache;
  // The spec's minimal Client.Environment with what this sandbox means laid over it.
  function environmentJson(spec) {
    environmentCache ??= merge(spec.sample('fapi', 'Client.Environment'), environmentOverlay());
    return environmentCache;
  }
  function environmentOverlay() {
    return {
      auth_config: {
        object: 'auth_config',
        id: 'aac_sandbox',
        first_name: 'off',
        last_name: 'off',
        email_address: 'off',
        phone_number: 'off',
        username: 'off',
        password: 'off',
        identification_requirements: [],
        identification_strategies: [],
        first_factors: ['oauth_custom_sandbox'],
        second_factors: [],
        email_address_verification_strategies: [],
        single_session_mode: false,
        enhanced_email_deliverability: false,
        test_mode: false,
        cookieless_dev: false,
        url_based_session_syncing: false,
        claimed_at: null,
        reverification: false,
        native_settings: { object: 'native_settings', api_enabled: !nativeApiDisabled, trusted_device_sign_in_enabled: false, trusted_device_enrollment_prompt_after_sign_in_enabled: false, trusted_device_enrollment_prompt_after_sign_up_enabled: false },
      },
      display_config: { object: 'display_config', id: 'display_config_sandbox', instance_environment_type: 'production', application_name: 'Keyhole sandbox', home_url: issuer },
      user_settings: {
        social: {
          oauth_custom_sandbox: {
            enabled: true,
            required: false,
            authenticatable: true,
            block_email_subaddresses: false,
            strategy: 'oauth_custom_sandbox',
            not_selectable: false,
            deprecated: false,
            name: 'Sandbox OIDC',
            logo_url: null,
          },
        },
      },
      organization_settings: { enabled: false },
      maintenance_mode: false,
    };
  }

  // --- sessions (shared by FAPI and BAPI) -----------------------------------------------------
  function createSession(userId, clientId) {
    const t = now();
    const s = { id: id27('sess'), userId, clientId, status: 'active', createdAt: t, updatedAt: t, lastActiveAt: t, expireAt: t + 7 * 24 * 3600e3, abandonAt: t + 30 * 24 * 3600e3 };
    sessions.set(s.id, s);
    return s;
  }
  function mintSessionToken(s, origin) {
    const iat = sec();
    const claims = {};
    if (origin) claims.azp = origin;
    Object.assign(claims, {
      exp: iat + 60,
      fva: [Math.floor((now() - s.createdAt) / 60000), -1],
      iat,
      iss: issuer,
      jti: rand(10),
      nbf: iat - 10,
      sid: s.id,
      sub: s.userId,
      v: 2,
      pla: 'u:free_user',
      fea: 'u:sandbox',
      sts: 'active',
    });
    const jwt = sign({ alg: 'RS256', typ: 'JWT', kid, cat: JWT_CATEGORY_SESSION_TOKEN }, claims);
    recordIssued(jwt);
    s.lastActiveAt = now();
    return jwt;
  }

  // --- the redirect_url allowlist ---------------------------------------------------------------
  function redirectAllowed(raw) {
    let u;
    try {
      u = new URL(raw);
    } catch {
      return false;
    }
    if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1' || u.pathname !== '/callback' || u.username || u.password || u.hash) return false;
    if (nativeRedirectPort !== null) return u.port === String(nativeRedirectPort);
    return u.port !== '';
  }

  const notFound = () => clerkError(404, 'resource_not_found', 'not found', 'The requested resource could not be found.');
  const authInvalid = () => clerkError(401, 'authentication_invalid', 'Invalid authentication', 'Unable to authenticate the request, you need to supply an active session');

  // --- FAPI routes: keyed by the spec's method + path template ---------------------------------
  const fapiRoutes = {
    'GET /v1/environment': (ctx) => ({ status: 200, body: environmentJson(ctx.spec), bare: true }),
    'GET /v1/client': ({ client }) => ({ status: 200, body: null }),
    'POST /v1/client': (ctx) => {
      ctx.client = newClient();
      return { status: 200, body: null };
    },
    'POST /v1/client/sign_ins': (ctx) => {
      const { form, headers } = ctx;
      if (form?.strategy !== 'oauth_custom_sandbox') {
        return clerkError(422, 'form_param_value_invalid', 'is invalid', 'strategy must be oauth_custom_sandbox (the only strategy this sandbox serves)', { param_name: 'strategy' });
      }
      if (!form.redirect_url || !redirectAllowed(form.redirect_url)) {
        return clerkError(422, 'form_param_value_invalid', 'is invalid', nativeRedirectPort !== null
          ? `redirect_url must be http://127.0.0.1:${nativeRedirectPort}/callback (the allowlist for mobile SSO redirect)`
          : 'redirect_url must be http://127.0.0.1:<port>/callback (the allowlist for mobile SSO redirect)', { param_name: 'redirect_url' });
      }
      if (!ctx.client) ctx.client = newClient();
      const verifier = crypto.randomBytes(32).toString('base64url');
      const state = rand(16);
      const si = {
        id: id27('sia'),
        clientId: ctx.client.id,
        status: 'needs_first_factor',
        strategy: 'oauth_custom_sandbox',
        redirectUrl: form.redirect_url,
        verifier,
        state,
        verificationStatus: 'unverified',
        createdSessionId: null,
        userId: null,
        expireAt: now() + 600e3,
        abandonAt: now() + 24 * 3600e3,
        origin: headers.origin ?? null,
      };
      const q = new URLSearchParams({
        response_type: 'code',
        client_id: oauthClient.client_id,
        redirect_uri: `${issuer}/v1/oauth_callback`,
        scope: 'openid profile email',
        state,
        code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
      si.externalUrl = `${issuer}/oauth/authorize?${q}`;
      recordIssued(verifier, state);
      signIns.set(si.id, si);
      oauthStates.set(state, si.id);
      ctx.client.signInId = si.id;
      ctx.client.updatedAt = now();
      return { status: 200, body: signInJson(si) };
    },
    'GET /v1/client/sign_ins/{sign_in_id}': (ctx) => {
      const si = signIns.get(ctx.params.sign_in_id);
      const nonce = ctx.query.get('rotating_token_nonce');
      if (!si) return notFound();
      if (nonce !== null) {
        const entry = nonces.get(nonce);
        if (!entry || entry.used || entry.signInId !== si.id || (ctx.client && ctx.client.id !== si.clientId)) {
          return clerkError(400, 'form_param_value_invalid', 'is invalid', 'rotating_token_nonce is invalid, already used, or not for this sign-in', { param_name: 'rotating_token_nonce' });
        }
        entry.used = true;
        const client = clients.get(si.clientId);
        issueClientJwt(client); // the old client JWT is refused from now on
        ctx.client = client;
        return { status: 200, body: signInJson(si) };
      }
      if (!ctx.client || ctx.client.id !== si.clientId) return notFound();
      return { status: 200, body: signInJson(si) };
    },
    'POST /v1/client/sessions/{session_id}/tokens': (ctx) => {
      const s = sessions.get(ctx.params.session_id);
      if (!s || !ctx.client || s.clientId !== ctx.client.id) return notFound();
      if (s.status !== 'active') return clerkError(401, 'signed_out', 'Signed out', 'You are signed out');
      const jwt = mintSessionToken(s, ctx.headers.origin);
      if (rotateOnMint) issueClientJwt(ctx.client); // the one this answer carries is the only valid one
      return { status: 200, body: { object: 'token', jwt }, bare: true };
    },
    'POST /v1/client/sessions/{session_id}/end': (ctx) => {
      const s = sessions.get(ctx.params.session_id);
      if (!s || !ctx.client || s.clientId !== ctx.client.id) return notFound();
      if (s.status === 'active') {
        s.status = 'ended';
        s.updatedAt = now();
      }
      if (ctx.client.lastActiveSessionId === s.id) ctx.client.lastActiveSessionId = null;
      return { status: 200, body: sessionJson(s) };
    },
  };

  async function oauthCallback(query) {
    const state = query.get('state');
    const siId = state ? oauthStates.get(state) : undefined;
    const si = siId ? signIns.get(siId) : undefined;
    if (!si || si.status !== 'needs_first_factor') {
      return clerkError(400, 'form_param_value_invalid', 'is invalid', 'state is unknown or the sign-in is no longer waiting for it', { param_name: 'state' });
    }
    oauthStates.delete(state);
    const back = new URL(si.redirectUrl);
    if (query.get('error')) {
      si.verificationStatus = 'failed';
      si.error = { code: 'oauth_access_denied', message: 'access denied', long_message: 'You did not grant access to your Sandbox OIDC account' };
      return { status: 303, location: back.toString() };
    }
    const res = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${oauthClient.client_id}:${oauthClient.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: `${issuer}/v1/oauth_callback`, code_verifier: si.verifier }),
    });
    const tok = await res.json().catch(() => ({}));
    if (res.status !== 200 || !tok.id_token) {
      log(`FAPI oauth_callback: code exchange failed (${res.status} ${tok.error ?? ''})`);
      si.verificationStatus = 'failed';
      return clerkError(400, 'oauth_token_exchange_error', 'OAuth token exchange failed', 'The sandbox could not exchange the code at its own OAuth server');
    }
    const sub = JSON.parse(Buffer.from(tok.id_token.split('.')[1], 'base64url')).sub;
    const s = createSession(sub, si.clientId);
    si.userId = sub;
    si.status = 'complete';
    si.verificationStatus = 'verified';
    si.createdSessionId = s.id;
    const client = clients.get(si.clientId);
    client.lastActiveSessionId = s.id;
    client.lastStrategy = si.strategy;
    client.updatedAt = now();
    const nonce = rand(24);
    nonces.set(nonce, { signInId: si.id, used: false });
    recordIssued(nonce);
    back.searchParams.append('rotating_token_nonce', nonce);
    return { status: 303, location: back.toString() };
  }

  // --- BAPI -------------------------------------------------------------------------------------
  function bapiSession(s) {
    return {
      object: 'session',
      id: s.id,
      user_id: s.userId,
      client_id: s.clientId ?? id27('client'),
      actor: null,
      status: s.status,
      last_active_organization_id: null,
      last_active_at: s.lastActiveAt,
      latest_activity: null,
      expire_at: s.expireAt,
      abandon_at: s.abandonAt,
      updated_at: s.updatedAt,
      created_at: s.createdAt,
    };
  }
  function apiKeyJson(k, withSecret) {
    const out = {
      object: 'api_key',
      id: k.id,
      type: k.type,
      subject: k.subject,
      name: k.name,
      description: k.description,
      claims: k.claims,
      scopes: k.scopes,
      revoked: k.revoked,
      revocation_reason: null,
      expired: k.expiration !== null && k.expiration <= now(),
      expiration: k.expiration,
      created_by: k.createdBy,
      last_used_at: k.lastUsedAt,
      created_at: k.createdAt,
      updated_at: k.createdAt,
    };
    if (withSecret) out.secret = k.secret;
    return out;
  }
  function m2mJson(t, withToken) {
    const out = {
      object: 'machine_to_machine_token',
      id: t.id,
      subject: t.subject,
      claims: t.claims,
      scopes: t.scopes,
      revoked: false,
      revocation_reason: null,
      expired: t.expiration !== null && t.expiration <= now(),
      expiration: t.expiration,
      last_used_at: null,
      created_at: t.createdAt,
      updated_at: t.createdAt,
    };
    if (withToken) out.token = t.token;
    return out;
  }
  const keyInvalid = () => clerkError(401, 'clerk_key_invalid', 'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.');
  const machineKeyInvalid = () => clerkError(401, 'machine_secret_key_invalid', 'The provided Machine Secret Key is invalid. Make sure that your Machine Secret Key is correct.');
  const bearer = (h) => /^Bearer\s+(\S+)$/i.exec(h ?? '')?.[1];
  const isSecretKey = (k) => secretKeys.includes(k);

  const bapiRoutes = {
    'POST /sessions': ({ json, key }) => {
      if (!isSecretKey(key)) return keyInvalid();
      if (!json?.user_id) return clerkError(422, 'form_param_missing', 'is missing', 'user_id must be included.', { param_name: 'user_id' });
      return { status: 200, body: bapiSession(createSession(json.user_id, null)) };
    },
    'POST /sessions/{session_id}/tokens': ({ params, key, headers }) => {
      if (!isSecretKey(key)) return keyInvalid();
      const s = sessions.get(params.session_id);
      if (!s || s.status !== 'active') return notFound();
      return { status: 200, body: { object: 'token', jwt: mintSessionToken(s, headers.origin) } };
    },
    'POST /sessions/{session_id}/revoke': ({ params, key }) => {
      if (!isSecretKey(key)) return keyInvalid();
      const s = sessions.get(params.session_id);
      if (!s) return notFound();
      s.status = 'revoked';
      s.updatedAt = now();
      return { status: 200, body: bapiSession(s) };
    },
    'POST /api_keys': ({ json, key }) => {
      if (!isSecretKey(key)) return keyInvalid();
      if (!json?.name || !json?.subject) return clerkError(422, 'form_param_missing', 'is missing', 'name and subject must be included.', { param_name: !json?.name ? 'name' : 'subject' });
      const k = {
        id: `ak_${rand(16)}`,
        secret: `ak_${rand(16)}`,
        type: json.type ?? 'api_key',
        subject: json.subject,
        name: json.name,
        description: json.description ?? null,
        claims: json.claims ?? null,
        scopes: json.scopes ?? [],
        revoked: false,
        expiration: json.seconds_until_expiration ? now() + json.seconds_until_expiration * 1000 : null,
        createdBy: json.created_by ?? null,
        lastUsedAt: null,
        createdAt: now(),
      };
      apiKeys.set(k.secret, k);
      recordIssued(k.secret);
      return { status: 200, body: apiKeyJson(k, true) };
    },
    'POST /api_keys/verify': ({ json, key }) => {
      if (!isSecretKey(key)) return keyInvalid();
      const k = apiKeys.get(json?.secret ?? '');
      if (!k || k.revoked || (k.expiration !== null && k.expiration <= now())) return clerkError(404, 'resource_not_found', 'not found', 'API key not found');
      k.lastUsedAt = now();
      return { status: 200, body: apiKeyJson(k, false) };
    },
    'POST /m2m_tokens': ({ json, key }) => {
      if (key !== machineSecretKey) return machineKeyInvalid();
      const ttl = typeof json?.seconds_until_expiration === 'number' ? json.seconds_until_expiration : 3600;
      const t = { id: `mt_${rand(16)}`, subject: machineId, claims: json?.claims ?? null, scopes: [], createdAt: now(), expiration: now() + ttl * 1000 };
      if (json?.token_format === 'jwt') {
        const iat = sec();
        const extra = t.claims && typeof t.claims === 'object' ? t.claims : {};
        t.token = sign({ alg: 'RS256', typ: 'JWT', kid, cat: JWT_CATEGORY_M2M_TOKEN }, { ...extra, iss: issuer, sub: machineId, jti: t.id, iat, nbf: iat, exp: iat + ttl });
      } else {
        t.token = `mt_${rand(16)}`;
        m2mTokens.set(t.token, t);
      }
      recordIssued(t.token);
      return { status: 201, body: m2mJson(t, true) };
    },
    'POST /m2m_tokens/verify': ({ json, key }) => {
      if (key !== machineSecretKey && !isSecretKey(key)) return machineKeyInvalid();
      const t = m2mTokens.get(json?.token ?? '');
      if (!t || t.expiration <= now()) return clerkError(404, 'resource_not_found', 'not found', 'M2M token not found');
      return { status: 200, body: m2mJson(t, false) };
    },
  };

  // --- the one HTTP path for both APIs ---------------------------------------------------------
  const counterKey = (method, template) => `${method} ${template.replace(/\{[^}]+\}/g, '{id}')}`;

  async function serve(api, req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const headers = req.headers;
    let raw = '';
    let body;
    const send = (status, payload, extra = {}) => {
      const text = payload === undefined ? '' : JSON.stringify(payload);
      res.writeHead(status, { 'cache-control': 'no-store', ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...extra });
      res.end(text);
    };
    try {
      raw = await readBody(req);
      body = parseBody(raw, headers['content-type']);
    } catch (err) {
      const e = err.tooLarge ? clerkError(413, 'request_body_too_large', 'Request body too large') : clerkError(400, 'malformed_request_body', 'Malformed request body');
      send(e.status, e.body);
      return;
    }
    let method = req.method;
    // clerk-js tunnels PUT/PATCH/DELETE (and GET on POST /v1/client) as POST with _method.
    const tunnelled = url.searchParams.get('_method') ?? (body && typeof body === 'object' ? body._method : undefined);
    if (api === 'fapi' && method === 'POST' && tunnelled) {
      method = String(tunnelled).toUpperCase();
      if (body && typeof body === 'object') delete body._method;
    }
    const spec = await checker;
    const prefix = api === 'bapi' ? (url.pathname.startsWith('/v1/') ? '/v1' : '') : '';
    const found = spec.find(api, method, url.pathname);
    const template = found?.template;
    const routeKey = template ? `${method} ${template}` : null;
    const routes = api === 'fapi' ? fapiRoutes : bapiRoutes;
    const isCallback = api === 'fapi' && routeKey === 'GET /v1/oauth_callback';
    if (!found || !found.op || (!routes[routeKey] && !isCallback)) {
      const e = notFound();
      send(e.status, e.body);
      return;
    }
    const counters = api === 'fapi' ? fapiRequests : bapiRequests;
    const ck = counterKey(method, `${prefix}${template}`);
    counters[ck] = (counters[ck] ?? 0) + 1;
    const reqInfo = { method, path: url.pathname, query: url.searchParams, contentType: headers['content-type'], body, rawLength: raw.length };

    let out;
    let client;
    if (isCallback) {
      out = await oauthCallback(url.searchParams);
    } else if (api === 'fapi') {
      const isNative = ['1', 'true'].includes(url.searchParams.get('_is_native') ?? '');
      if (nativeApiDisabled) {
        out = clerkError(400, 'native_api_disabled', 'The Native API is disabled for this instance.', 'The Native API is disabled for this instance. Go to Clerk Dashboard > Configure > Native applications to enable it.');
      } else if (!isNative) {
        out = clerkError(401, 'authentication_invalid', 'Invalid authentication', 'This sandbox serves the Frontend API in native mode only: send _is_native=1 and the client JWT in the Authorization header.');
      } else {
        client = clientFromAuthorization(headers.authorization);
        if (client === null) out = authInvalid();
        else {
          const ctx = { client, params: found.params, query: url.searchParams, form: body, headers, spec };
          out = routes[routeKey](ctx);
          client = ctx.client;
          // The FAPI envelope: {response, client}; a few answers are bare (environment, tokens).
          if (out.status < 300 && !out.bare) out = { status: out.status, body: { response: out.body, client: clientJson(client) } };
        }
      }
    } else {
      out = routes[routeKey]({ params: found.params, query: url.searchParams, json: body, headers, key: bearer(headers.authorization) });
    }
    try {
      spec.check(api, reqInfo, { status: out.status, body: out.body });
    } catch (err) {
      log(`openapi-check failed on ${method} ${template}: ${err.message}`);
      spec.violations.push({ api, method, path: template, where: 'checker', message: err.message });
    }
    const extra = {};
    if (client?.jwt) extra.authorization = client.jwt;
    if (api === 'fapi') extra['access-control-expose-headers'] = 'authorization';
    if (out.location) extra.location = out.location;
    send(out.status, out.body, extra);
  }

  return {
    fapi: (req, res) => serve('fapi', req, res).catch((err) => {
      log(`FAPI error: ${err.message}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(clerkError(500, 'internal_clerk_error', 'Oops, an unexpected error occurred').body));
      }
    }),
    bapi: (req, res) => serve('bapi', req, res).catch((err) => {
      log(`BAPI error: ${err.message}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(clerkError(500, 'internal_clerk_error', 'Oops, an unexpected error occurred').body));
      }
    }),
    stats: async () => {
      const spec = await checker;
      return { fapi_requests: { ...fapiRequests }, bapi_requests: { ...bapiRequests }, spec_checked: spec.checked, spec_violations: [...spec.violations], spec_gaps: [...spec.gaps] };
    },
    bapiOrigin,
  };
}
