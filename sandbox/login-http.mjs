#!/usr/bin/env node
// "System browser" stand-in over plain HTTP for the sandbox's Clerk stand-in (oidc-provider
// devInteractions): open the authorize URL, sign in with any name, consent, and deliver the
// redirect to the app's loopback callback.
//
//   node login-http.mjs <authorize-url> [--login NAME] [--password PW] [--deny]
//   node login-http.mjs <verification-uri-complete> --device [--login NAME] [--deny]
//   --forge NAME=VALUE  replace that query parameter of the redirect before delivering it (a
//                       forged rotating_token_nonce, for refusal tests)
//
// Exit 0 when the callback was delivered (whatever it answered), non-zero otherwise.
// With --device (RFC 8628, on another "device"): confirm the user code, sign in, consent, and exit
// 0 on the provider's success page (or, with --deny, once the request was aborted).
// Only talks to 127.0.0.1. Never prints codes or tokens.

import { parseArgs } from 'node:util';

const OVERALL_TIMEOUT_MS = 30_000;
const MAX_STEPS = 25;

const say = (msg) => console.error(`[login-http] ${msg}`);
function fail(msg, code = 1) {
  say(`FAILED: ${msg}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      login: { type: 'string', default: 'user_2test' },
      password: { type: 'string', default: 'any-password' },
      deny: { type: 'boolean', default: false },
      device: { type: 'boolean', default: false },
      forge: { type: 'string' },
    },
  });
} catch (err) {
  fail(`${err.message}\nusage: node login-http.mjs <authorize-url> [--login NAME] [--deny]`, 2);
}
const { values: opts, positionals } = parsed;
if (positionals.length !== 1) fail('usage: node login-http.mjs <authorize-url> [--login NAME] [--deny]', 2);

const timer = setTimeout(() => fail(`gave up after ${OVERALL_TIMEOUT_MS / 1000} s`, 124), OVERALL_TIMEOUT_MS);
timer.unref();
const signal = AbortSignal.timeout(OVERALL_TIMEOUT_MS);

function isLoopback(url) {
  return url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
}

function redact(url) {
  const u = new URL(url);
  for (const k of ['code', 'state', 'iss', 'rotating_token_nonce']) {
    if (u.searchParams.has(k)) u.searchParams.set(k, k === 'iss' ? u.searchParams.get(k) : 'REDACTED');
  }
  return u.toString();
}

let start;
try {
  start = new URL(positionals[0]);
} catch {
  fail(`not a URL: ${positionals[0]}`, 2);
}
if (!isLoopback(start)) fail(`refusing to contact ${start.host}: the sandbox only talks to 127.0.0.1`, 2);
const providerOrigin = start.origin;

// --- a minimal cookie jar (one origin, latest value per name) --------------------------------
const jar = new Map();
function storeCookies(res) {
  for (const sc of res.headers.getSetCookie()) {
    const [pair, ...attrs] = sc.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let expired = value === '';
    for (const a of attrs) {
      const [k, v] = a.trim().split('=');
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
}
function cookieHeader() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

async function request(url, { method = 'GET', form } = {}) {
  const headers = { 'user-agent': 'keyhole-sandbox-login-http/1', accept: 'text/html,*/*' };
  if (url.origin === providerOrigin && jar.size) headers.cookie = cookieHeader();
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual', signal });
  if (url.origin === providerOrigin) storeCookies(res);
  return res;
}

function decodeEntities(s) {
  return s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

function pageErrorText(html) {
  const pres = [...html.matchAll(/<pre>([\s\S]*?)<\/pre>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').trim());
  if (pres.length) return decodeEntities(pres.join('; '));
  return decodeEntities(html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()).slice(0, 300);
}

async function deliverCallback(url) {
  if (!isLoopback(url)) fail(`the provider redirected to ${url.origin}, which is not a loopback address; not following`);
  if (opts.forge) {
    const [name, ...rest] = opts.forge.split('=');
    url = new URL(url);
    url.searchParams.set(name, rest.join('='));
    say(`forged ${name} in the redirect`);
  }
  say(`delivering redirect to ${redact(url.toString())}`);
  let res;
  try {
    res = await fetch(url, { redirect: 'manual', signal, headers: { 'user-agent': 'keyhole-sandbox-login-http/1', accept: 'text/html,*/*' } });
  } catch (err) {
    fail(`could not deliver the redirect to the app's loopback listener at ${url.origin}${url.pathname}: ${err.cause?.code ?? err.message}`, 3);
  }
  const text = await res.text().catch(() => '');
  say(`callback answered ${res.status} ${res.statusText}${text ? `: ${text.replace(/\s+/g, ' ').trim().slice(0, 200)}` : ''}`);
  const u = new URL(url);
  if (u.searchParams.has('error')) say(`(the redirect carried error=${u.searchParams.get('error')})`);
  clearTimeout(timer);
  process.exit(0);
}

// --- RFC 8628 device verification pages (oidc-provider's own) -------------------------------
function hiddenInputs(formHtml) {
  const inputs = {};
  for (const m of formHtml.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) {
    inputs[m[1]] = decodeEntities(m[2]);
  }
  return inputs;
}

let deviceDenied = false;
// Handles one device page; returns the next URL, or null when the page is not a device page.
async function deviceStep(url, html) {
  if (/<title>Sign-in Success<\/title>/.test(html)) {
    say('the provider says the device sign-in succeeded');
    clearTimeout(timer);
    process.exit(0);
  }
  if (/was interrupted/.test(html) && deviceDenied) {
    say('the device sign-in was aborted');
    clearTimeout(timer);
    process.exit(0);
  }
  let form = /<form[^>]*id="op.deviceConfirmForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  let confirmPage = true;
  if (!form && /<title>Submitting Callback<\/title>/.test(html)) {
    // The auto-submitting form that carries user_code from verification_uri_complete.
    form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html);
    confirmPage = false;
  }
  if (!form) return null;
  const inputs = hiddenInputs(form[2]);
  if (confirmPage && opts.deny) {
    delete inputs.confirm;
    inputs.abort = 'yes';
    deviceDenied = true;
    opts.deny = false;
    say('aborting at the device confirmation page');
  } else if (confirmPage) {
    say('confirming the device code');
  }
  const target = new URL(decodeEntities(form[1]), url);
  const res = await request(target, { method: 'POST', form: inputs });
  if (res.status >= 300 && res.status < 400) return new URL(res.headers.get('location'), target);
  const body = await res.text();
  const again = await deviceStep(target, body);
  if (again) return again;
  fail(`unexpected device page after POST ${target.pathname} (${res.status}): ${pageErrorText(body)}`);
}

const t0 = performance.now();
let url = start;
let sentLogin = false;
let sentConsent = false;
for (let step = 0; step < MAX_STEPS; step += 1) {
  if (url.origin !== providerOrigin) {
    await deliverCallback(url);
  }
  let res;
  try {
    res = await request(url);
  } catch (err) {
    fail(`GET ${url.origin}${url.pathname}: ${err.cause?.code ?? err.message}`);
  }
  if (res.status >= 300 && res.status < 400) {
    const loc = res.headers.get('location');
    if (!loc) fail(`${res.status} without Location at ${url.pathname}`);
    url = new URL(loc, url);
    continue;
  }
  const html = await res.text();
  if (res.status !== 200) {
    fail(`the provider answered ${res.status} at ${url.pathname}: ${pageErrorText(html)}`);
  }
  if (opts.device) {
    const next = await deviceStep(url, html);
    if (next) {
      url = next;
      continue;
    }
  }
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const prompt = /<input[^>]*name="prompt"[^>]*value="([^"]+)"/.exec(html)?.[1];
  const abort = /<a href="([^"]+)">\[ Cancel \]<\/a>/.exec(html)?.[1];
  if (!action || !prompt) fail(`unexpected page at ${url.pathname}: ${pageErrorText(html)}`);

  if (opts.deny) {
    if (!abort) fail(`no cancel link on the ${prompt} page`);
    say(`cancelling at the ${prompt} page`);
    url = new URL(decodeEntities(abort), url);
    opts.deny = false; // the abort redirect leads to the callback
    continue;
  }

  let post;
  if (prompt === 'login') {
    if (sentLogin) fail('the login form came back after signing in');
    sentLogin = true;
    say(`signing in as ${opts.login}`);
    post = await request(new URL(decodeEntities(action), url), {
      method: 'POST',
      form: { prompt: 'login', login: opts.login, password: opts.password },
    });
  } else if (prompt === 'consent') {
    if (sentConsent) fail('the consent form came back after consenting');
    sentConsent = true;
    say('consenting');
    post = await request(new URL(decodeEntities(action), url), { method: 'POST', form: { prompt: 'consent' } });
  } else {
    fail(`unknown interaction prompt ${prompt}`);
  }
  if (post.status < 300 || post.status >= 400) {
    fail(`form POST answered ${post.status}: ${pageErrorText(await post.text())}`);
  }
  url = new URL(post.headers.get('location'), url);
}
fail(`too many steps (last at ${url.origin}${url.pathname}); took ${Math.round(performance.now() - t0)} ms`);
