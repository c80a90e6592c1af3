#!/usr/bin/env node
// End-to-end self-check of the sandbox, the way the app uses it:
// start sandbox.mjs, listen on a loopback callback, run the browser stand-in, exchange the code
// (PKCE S256), call the APIs, refresh (rotation + reuse), userinfo, revocation.
//
//   node selftest.mjs [--browser http|chromium]
//
// Prints one line per check to stderr; never prints a token. Exit 0 when all checks pass.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({ options: { browser: { type: 'string', default: 'http' } } });

let failures = 0;
const check = (ok, what, detail = '') => {
  if (!ok) failures += 1;
  console.error(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` — ${detail}` : ''}`);
};
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url'));
const decode = (jwt) => {
  const [h, p] = jwt.split('.');
  return { header: b64json(h), payload: b64json(p) };
};

const watchdog = setTimeout(() => {
  console.error('FAIL selftest timed out');
  process.exit(1);
}, 60_000);

// 1. sandbox
const t0 = performance.now();
const sb = spawn(process.execPath, [path.join(here, 'sandbox.mjs'), '--exit-on-stdin-close'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const ready = await new Promise((resolve, reject) => {
  let buf = '';
  sb.stdout.on('data', (d) => {
    buf += d;
    const nl = buf.indexOf('\n');
    if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
  });
  sb.on('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
});
check(true, `sandbox ready in ${Math.round(performance.now() - t0)} ms`, ready.issuer);

try {
  const disco = await (await fetch(`${ready.issuer}/.well-known/openid-configuration`)).json();
  check(disco.issuer === ready.issuer, 'discovery issuer is the listening URL');
  check(disco.authorization_endpoint === `${ready.issuer}/oauth/authorize`, 'authorize path /oauth/authorize');
  check(disco.token_endpoint === `${ready.issuer}/oauth/token`, 'token path /oauth/token');
  check(disco.revocation_endpoint === `${ready.issuer}/oauth/token/revoke`, 'revocation path /oauth/token/revoke');
  check(disco.jwks_uri === `${ready.issuer}/.well-known/jwks.json`, 'jwks path /.well-known/jwks.json');
  check(JSON.stringify(disco.code_challenge_methods_supported) === '["S256"]', 'PKCE S256 only');

  // 2. loopback callback listener (bound before the browser opens)
  let callbackQuery;
  const cb = http.createServer((req, res) => {
    callbackQuery = new URL(req.url, 'http://127.0.0.1').searchParams;
    res.setHeader('content-type', 'text/html');
    res.end('<html><body>Signed in to Keyhole. You can close this window.</body></html>');
  });
  await new Promise((r) => cb.listen(0, '127.0.0.1', r));
  const redirectUri = `http://127.0.0.1:${cb.address().port}/callback`;

  const runNode = (script, args) =>
    new Promise((resolve) => {
      const t = performance.now();
      const p = spawn(process.execPath, [path.join(here, script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
      p.on('exit', (code) => resolve({ code, ms: Math.round(performance.now() - t) }));
    });

  // Builds an authorize URL with a fresh PKCE pair and runs a browser stand-in against it.
  const signIn = async ({ script = `login-${opts.browser}.mjs`, extra = [], scope = 'openid profile email offline_access', params = {} } = {}) => {
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const state = crypto.randomBytes(12).toString('base64url');
    const url = new URL(disco.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: ready.client_id,
      redirect_uri: redirectUri,
      scope,
      state,
      nonce: 'selftest-nonce',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...params,
    }).toString();
    callbackQuery = undefined;
    const run = await runNode(script, [url.toString(), ...extra]);
    return { ...run, verifier, state, query: callbackQuery };
  };

  // 3. browser stand-in
  const login = await signIn({ extra: ['--login', 'user_2selftest'] });
  const { verifier, state } = login;
  check(login.code === 0, `login-${opts.browser} delivered the callback in ${login.ms} ms`);
  check(login.query?.get('state') === state, 'state round-trips');
  check(login.query?.get('iss') === ready.issuer, 'iss in the authorization response (RFC 9207)');
  const code = login.query?.get('code');

  // 4. code exchange
  const tokenReq = (form) =>
    fetch(disco.token_endpoint, { method: 'POST', body: new URLSearchParams(form) }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const tok = await tokenReq({ grant_type: 'authorization_code', client_id: ready.client_id, code, redirect_uri: redirectUri, code_verifier: verifier });
  check(tok.status === 200, 'code exchange 200', tok.status !== 200 ? JSON.stringify(tok.body) : '');
  const at = decode(tok.body.access_token);
  check(at.header.typ === 'at+jwt' && at.header.alg === 'RS256', 'access token header typ at+jwt, RS256', JSON.stringify(at.header));
  check(at.payload.sub === 'user_2selftest' && at.payload.azp === ready.client_id && at.payload.client_id === ready.client_id, 'access token sub/azp/client_id', Object.keys(at.payload).join(','));
  check(typeof tok.body.refresh_token === 'string', 'refresh token issued for offline_access');
  const idt = decode(tok.body.id_token);
  check(idt.payload.aud === ready.client_id && idt.payload.nonce === 'selftest-nonce' && idt.payload.email === 'user_2selftest@example.test', 'ID token aud/nonce/email');

  // 5. APIs
  const get = async (url, token, init = {}) => {
    const r = await fetch(url, { redirect: 'manual', ...init, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: r.status, text, json, headers: r.headers };
  };
  const lax = await get(ready.api.lax, tok.body.access_token);
  check(lax.status === 200 && lax.json?.isAuthenticated === true && lax.json?.userId === 'user_2selftest', 'lax API: authenticated auth object', `keys: ${Object.keys(lax.json ?? {}).join(',')}`);
  const laxAnon = await get(ready.api.lax);
  check(laxAnon.status === 200 && laxAnon.json?.isAuthenticated === false, 'lax API without token: signed out');
  const strictAnon = await get(ready.api.strict);
  check(strictAnon.status === 401 && strictAnon.text === 'Unauthenticated!', 'strict API without token: 401 Unauthenticated!');
  const strict = await get(ready.api.strict, tok.body.access_token);
  check(strict.status === 200 && strict.json?.subject === 'user_2selftest', 'strict API with token: 200');
  const tampered = await get(ready.api.strict, `${tok.body.access_token.slice(0, -4)}AAAA`);
  check(tampered.status === 401, 'strict API with a bad signature: 401');
  const sess = await get(ready.api.session_only, tok.body.access_token);
  check(sess.status === 200 && sess.json?.userId === null, 'session-only API reads the OAuth token as signed out', `tokenType ${sess.json?.tokenType}`);
  const plain = await get(ready.api.plain);
  check(plain.status === 200 && plain.headers.get('content-type').startsWith('text/plain'), '/plain is text/plain');
  const redir = await get(ready.api.redirect_elsewhere, tok.body.access_token);
  check(redir.status === 302 && redir.headers.get('location') === ready.api.session_only, '/redirect-elsewhere 302 to another origin');
  const slow = await get(`${ready.api.slow}?ms=200`);
  check(slow.status === 200 && slow.json?.slow === true, '/slow?ms=200');
  const big = await get(ready.api.big);
  check(big.status === 200 && big.text.length > 1_500_000, `/big is ${(big.text.length / 1e6).toFixed(2)} MB`);

  // 6. userinfo with the access token, like Clerk
  const ui = await get(disco.userinfo_endpoint, tok.body.access_token);
  check(ui.status === 200 && ui.json?.sub === 'user_2selftest' && ui.json?.email === 'user_2selftest@example.test', 'userinfo accepts the access token');

  // 7. refresh: works, rotates, reuse fails
  const r1 = await tokenReq({ grant_type: 'refresh_token', client_id: ready.client_id, refresh_token: tok.body.refresh_token });
  check(r1.status === 200 && r1.body.refresh_token && r1.body.refresh_token !== tok.body.refresh_token, 'refresh grant 200, refresh token rotated');
  const reuse = await tokenReq({ grant_type: 'refresh_token', client_id: ready.client_id, refresh_token: tok.body.refresh_token });
  check(reuse.status === 400 && reuse.body.error === 'invalid_grant', 'reusing the old refresh token → invalid_grant');
  const stats = await (await fetch(ready.stats)).json();
  check(stats.refresh_grants === 1 && stats.code_grants === 1, 'stats count grants', JSON.stringify(stats));

  const afterReuse = await tokenReq({ grant_type: 'refresh_token', client_id: ready.client_id, refresh_token: r1.body.refresh_token });
  check(afterReuse.status === 400 && afterReuse.body.error === 'invalid_grant', 'reuse revoked the whole grant (the rotated token fails too)');

  // 8. revocation (public client: client_id in the body), on a second sign-in
  {
    const again = await signIn({ script: 'login-http.mjs', extra: ['--login', 'user_2other'] });
    const t2 = await tokenReq({ grant_type: 'authorization_code', client_id: ready.client_id, code: again.query?.get('code'), redirect_uri: redirectUri, code_verifier: again.verifier });
    const rv = await fetch(disco.revocation_endpoint, {
      method: 'POST',
      body: new URLSearchParams({ token: t2.body.refresh_token, token_type_hint: 'refresh_token', client_id: ready.client_id }),
    });
    check(rv.status === 200, 'revocation 200');
    const after = await tokenReq({ grant_type: 'refresh_token', client_id: ready.client_id, refresh_token: t2.body.refresh_token });
    check(after.status === 400 && after.body.error === 'invalid_grant', 'revoked refresh token → invalid_grant');
  }

  // 8b. no offline_access → no refresh token
  {
    const on = await signIn({ script: 'login-http.mjs', scope: 'openid profile email' });
    const t3 = await tokenReq({ grant_type: 'authorization_code', client_id: ready.client_id, code: on.query?.get('code'), redirect_uri: redirectUri, code_verifier: on.verifier });
    check(t3.status === 200 && t3.body.refresh_token === undefined, 'without offline_access: no refresh token');
  }

  // 8c. deny → access_denied at the callback
  {
    const d = await signIn({ script: 'login-http.mjs', extra: ['--deny'] });
    check(d.code === 0 && d.query?.get('error') === 'access_denied' && d.query?.get('iss') === ready.issuer, '--deny → error=access_denied with iss');
  }

  // 8d. PKCE plain is refused
  {
    const p = await signIn({ script: 'login-http.mjs', params: { code_challenge_method: 'plain' } });
    check(p.query?.get('error') === 'invalid_request', 'code_challenge_method=plain → invalid_request', p.query?.get('error_description') ?? '');
  }

  // 9. a used authorization code is refused (and oidc-provider revokes what it issued)
  const again = await tokenReq({ grant_type: 'authorization_code', client_id: ready.client_id, code, redirect_uri: redirectUri, code_verifier: verifier });
  check(again.status === 400 && again.body.error === 'invalid_grant', 'code reuse → invalid_grant');

  // 10. Clerk's Frontend API (native mode) on the provider's origin: the native SSO flow.
  const fapi = async (method, p, { jwt, form, query = {}, headers = {}, native = true } = {}) => {
    const u = new URL(`${ready.fapi}/v1${p}`);
    if (native) u.searchParams.set('_is_native', '1');
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const h = { ...headers };
    if (jwt) h.authorization = `Bearer ${jwt}`;
    const r = await fetch(u, { method, headers: h, body: form ? new URLSearchParams(form) : undefined, redirect: 'manual' });
    const text = await r.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: r.status, json, jwt: r.headers.get('authorization') };
  };
  const env = await fapi('GET', '/environment');
  check(env.status === 200 && env.json?.user_settings?.social?.oauth_custom_sandbox?.authenticatable === true, 'FAPI /v1/environment lists oauth_custom_sandbox');
  const notNative = await fapi('GET', '/client', { native: false });
  check(notNative.status === 401 && notNative.json?.errors?.[0]?.code === 'authentication_invalid', 'FAPI without _is_native → 401 authentication_invalid');
  const created = await fapi('POST', '/client');
  const jwt1 = created.jwt;
  check(created.status === 200 && typeof jwt1 === 'string' && created.json?.client?.object === 'client', 'POST /v1/client → client JWT in authorization');
  const refused = await fapi('POST', '/client/sign_ins', { jwt: jwt1, form: { strategy: 'oauth_custom_sandbox', redirect_url: 'https://evil.example/callback' } });
  check(refused.status === 422 && refused.json?.errors?.[0]?.meta?.param_name === 'redirect_url', 'a redirect_url off the allowlist → 422 form_param_value_invalid (redirect_url)');
  const start = await fapi('POST', '/client/sign_ins', { jwt: jwt1, form: { strategy: 'oauth_custom_sandbox', redirect_url: `${redirectUri}?state=keyhole-state-1` } });
  const signInId = start.json?.response?.id;
  const ext = start.json?.response?.first_factor_verification?.external_verification_redirect_url;
  check(start.status === 200 && start.json?.response?.status === 'needs_first_factor' && ext?.startsWith(`${ready.issuer}/oauth/authorize?`), 'sign-in needs_first_factor, external URL is the provider authorize');
  callbackQuery = undefined;
  const sso = await runNode('login-http.mjs', [ext, '--login', 'user_2native']);
  const nonce = callbackQuery?.get('rotating_token_nonce');
  check(sso.code === 0 && nonce && callbackQuery?.get('state') === 'keyhole-state-1', `native SSO reached the loopback callback with rotating_token_nonce and the app's state (${sso.ms} ms)`);
  const done = await fapi('GET', `/client/sign_ins/${signInId}`, { jwt: jwt1, query: { rotating_token_nonce: nonce ?? '' } });
  const jwt2 = done.jwt;
  const sid = done.json?.response?.created_session_id;
  check(done.status === 200 && done.json?.response?.status === 'complete' && sid?.startsWith('sess_') && jwt2 && jwt2 !== jwt1, 'nonce → sign-in complete, created_session_id, client JWT rotated');
  const old = await fapi('GET', '/client', { jwt: jwt1 });
  check(old.status === 401 && old.json?.errors?.[0]?.code === 'authentication_invalid', 'the old client JWT → 401 authentication_invalid');
  const reused = await fapi('GET', `/client/sign_ins/${signInId}`, { jwt: jwt2, query: { rotating_token_nonce: nonce ?? '' } });
  check(reused.status === 400, 'a used rotating_token_nonce → 400');
  const mint = await fapi('POST', `/client/sessions/${sid}/tokens`, { jwt: jwt2 });
  const st = mint.json?.jwt;
  const std = st ? decode(st) : { header: {}, payload: {} };
  const jwks = await (await fetch(disco.jwks_uri)).json();
  check(mint.status === 200 && mint.json?.object === 'token' && std.header.typ === 'JWT' && std.header.alg === 'RS256' && jwks.keys.some((k) => k.kid === std.header.kid), 'session token: RS256, typ JWT, kid in the JWKS');
  check(std.payload.v === 2 && std.payload.sid === sid && std.payload.sub === 'user_2native' && std.payload.exp - std.payload.iat === 60 && std.payload.sts === 'active' && std.payload.azp === undefined, 'session token v2 claims', Object.keys(std.payload).join(','));
  {
    const jwk = jwks.keys.find((k) => k.kid === std.header.kid);
    const [h, p, sig] = st.split('.');
    const ok = crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url'));
    check(ok, 'session token verifies against /.well-known/jwks.json');
  }
  const withOrigin = await fapi('POST', `/client/sessions/${sid}/tokens`, { jwt: jwt2, headers: { origin: 'http://127.0.0.1:1420' } });
  check(decode(withOrigin.json.jwt).payload.azp === 'http://127.0.0.1:1420', 'azp = the Origin header');

  // 11. The tutorial's backend (@clerk/clerk-sdk-node 5.1.6) and the acceptsToken API.
  const tl = await get(ready.api.tutorial_lax, st);
  check(tl.status === 200 && tl.json?.userId === 'user_2native' && tl.json?.sessionId === sid && tl.json?.claims?.sid === sid && tl.json?.claims?.sub === 'user_2native', "the tutorial's ClerkExpressWithAuth() accepts the FAPI session token");
  const ts = await get(ready.api.tutorial_strict, st);
  check(ts.status === 200 && ts.json?.userId === 'user_2native', "the tutorial's ClerkExpressRequireAuth() → 200");
  const ta = await get(ready.api.tutorial_strict);
  check(ta.status === 401 && ta.text === 'Unauthenticated!', "the tutorial's strict route without a token → 401 Unauthenticated!");
  const tOauth = await get(ready.api.tutorial_lax, tok.body.access_token);
  check(tOauth.status === 200 && tOauth.json?.userId === null, 'the OAuth access token is signed out on the tutorial backend');
  const tOauthStrict = await get(ready.api.tutorial_strict, tok.body.access_token);
  check(tOauthStrict.status === 401, 'the OAuth access token → 401 on the tutorial strict route');
  const aSess = await get(`${ready.api.accepts}/session_token`, st);
  check(aSess.json?.isAuthenticated === true && aSess.json?.tokenType === 'session_token', '/accepts/session_token accepts the session token');
  const aOauth = await get(`${ready.api.accepts}/oauth_token`, st);
  check(aOauth.status === 200 && aOauth.json?.isAuthenticated === false, 'the session token is signed out on /accepts/oauth_token');
  const aOauthStrict = await get(`${ready.api.accepts_strict}/oauth_token`, st);
  check(aOauthStrict.status === 401, '/accepts-strict/oauth_token with a session token → 401');
  const aOauthOk = await get(`${ready.api.accepts}/oauth_token`, tok.body.access_token);
  check(aOauthOk.json?.isAuthenticated === true && aOauthOk.json?.tokenType === 'oauth_token', '/accepts/oauth_token accepts the OAuth access token');

  // 12. The Backend API stand-in, driven by Clerk's own @clerk/backend.
  process.env.CLERK_TELEMETRY_DISABLED = '1';
  const { createClerkClient } = await import('@clerk/backend');
  const bapi = createClerkClient({ secretKey: ready.secret_key, apiUrl: ready.bapi, publishableKey: ready.publishable_key });
  const userId = 'user_2selftestSelftestSelftest00'; // user_ + 27 word characters, as the BAPI spec wants
  const session = await bapi.sessions.createSession({ userId });
  check(session?.id?.startsWith('sess_') && session.userId === userId && session.status === 'active', '@clerk/backend sessions.createSession parses');
  const bt = await bapi.sessions.getToken(session.id);
  check(typeof bt?.jwt === 'string' && decode(bt.jwt).payload.sid === session.id, '@clerk/backend sessions.getToken parses');
  const bts = await get(ready.api.tutorial_strict, bt.jwt);
  check(bts.status === 200 && bts.json?.sessionId === session.id, 'a BAPI session token passes the tutorial strict route');
  const key = await bapi.apiKeys.create({ name: 'selftest key', subject: userId, scopes: ['read'] });
  check(key?.secret?.startsWith('ak_') && key.subject === userId, '@clerk/backend apiKeys.create parses (secret ak_…)');
  const aKey = await get(`${ready.api.accepts}/api_key`, key.secret);
  check(aKey.json?.isAuthenticated === true && aKey.json?.tokenType === 'api_key' && aKey.json?.userId === userId, '/accepts/api_key accepts the API key (verified through BAPI)');
  const aKeyArr = await get(`${ready.api.accepts}/session_token,api_key`, key.secret);
  check(aKeyArr.json?.isAuthenticated === true, '/accepts/session_token,api_key accepts the API key');
  const aKeySess = await get(`${ready.api.accepts}/session_token`, key.secret);
  check(aKeySess.json?.isAuthenticated === false, 'the API key is signed out on /accepts/session_token');
  const m2m = await bapi.m2m.createToken({ machineSecretKey: ready.machine_secret_key });
  check(m2m?.token?.startsWith('mt_') && m2m.subject === ready.machine_id, '@clerk/backend m2m.createToken parses (opaque mt_…)');
  const m2mv = await bapi.m2m.verify({ token: m2m.token, machineSecretKey: ready.machine_secret_key });
  check(m2mv?.id === m2m.id, '@clerk/backend m2m.verify parses');
  const aM2m = await get(`${ready.api.accepts}/m2m_token`, m2m.token);
  check(aM2m.json?.isAuthenticated === true && aM2m.json?.tokenType === 'm2m_token' && aM2m.json?.subject === ready.machine_id, '/accepts/m2m_token accepts the M2M token');
  const m2mJwt = await bapi.m2m.createToken({ machineSecretKey: ready.machine_secret_key, tokenFormat: 'jwt' });
  const aM2mJwt = await get(`${ready.api.accepts}/m2m_token`, m2mJwt?.token);
  check(aM2mJwt.json?.isAuthenticated === true, '/accepts/m2m_token accepts a JWT M2M token (token_format jwt, verified with CLERK_JWT_KEY)');
  const aAny = await get(`${ready.api.accepts}/any`, m2m.token);
  check(aAny.json?.isAuthenticated === true, '/accepts/any accepts the M2M token');
  const wrong = await createClerkClient({ secretKey: 'sk_test_wrong', apiUrl: ready.bapi }).sessions.createSession({ userId }).catch((e) => e);
  check(wrong?.status === 401 && wrong?.errors?.[0]?.code === 'clerk_key_invalid', 'a wrong secret key → 401 clerk_key_invalid');
  const wrongMachine = await bapi.m2m.createToken({ machineSecretKey: 'ak_wrong' }).catch((e) => e);
  check(wrongMachine?.status === 401 && wrongMachine?.errors?.[0]?.code === 'machine_secret_key_invalid', 'a wrong machine secret key → 401 machine_secret_key_invalid');

  // 13. Revoked at Clerk (BAPI) while Keyhole holds it: FAPI refuses new tokens; ending works.
  const before = (await (await fetch(ready.stats)).json()).fapi_requests?.['POST /v1/client/sessions/{id}/tokens'];
  await bapi.sessions.revokeSession(sid);
  const afterRevoke = await fapi('POST', `/client/sessions/${sid}/tokens`, { jwt: jwt2 });
  check(afterRevoke.status === 401 && afterRevoke.json?.errors?.[0]?.code === 'signed_out', 'after a BAPI revoke, FAPI tokens → 401 signed_out');
  const after = (await (await fetch(ready.stats)).json()).fapi_requests?.['POST /v1/client/sessions/{id}/tokens'];
  check(before === 2 && after === 3, 'stats count FAPI token mints per path', `${before} → ${after}`);
  const ended = await fapi('POST', `/client/sessions/${sid}/end`, { jwt: jwt2 });
  check(ended.status === 200 && ended.json?.response?.object === 'session', 'POST /v1/client/sessions/{id}/end answers the session');
  const hosted = await fapi('POST', '/client/hosted_auth', { jwt: jwt2 });
  check(hosted.status === 404, '/v1/client/hosted_auth (`{}` in the spec) is not served');

  const finalStats = await (await fetch(ready.stats)).json();
  check(finalStats.spec_checked > 20 && Array.isArray(finalStats.spec_violations) && finalStats.spec_violations.length === 0 && finalStats.spec_gaps?.length === 2, `no OpenAPI violations in ${finalStats.spec_checked} checked exchanges (${finalStats.spec_gaps?.length} known spec gaps)`, JSON.stringify(finalStats.spec_violations).slice(0, 3000));

  cb.close();
} catch (err) {
  check(false, `selftest crashed: ${err.message}`);
} finally {
  sb.stdin.end();
  await new Promise((r) => (sb.exitCode !== null ? r() : sb.on('exit', r)));
  clearTimeout(watchdog);
}
console.error(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
