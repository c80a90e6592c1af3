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
