#!/usr/bin/env node
// "System browser" stand-in through real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): open the authorize URL, sign in with any name, consent, and wait until the
// browser has loaded the app's loopback callback page.
//
//   node login-chromium.mjs <authorize-url> [--login NAME] [--password PW] [--deny]
//   node login-chromium.mjs <verification-uri-complete> --device [--login NAME] [--deny]
//
// With --device (RFC 8628): confirm the user code, sign in, consent; exit 0 on the provider's
// success page (or, with --deny, once the request was aborted).
//
// Exit 0 when the callback page loaded, non-zero otherwise. The browser may only reach
// 127.0.0.1: every other request is aborted. Never prints codes or tokens.
// Env: KEYHOLE_CHROMIUM (default /usr/bin/chromium).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const OVERALL_TIMEOUT_MS = 45_000;
const STEP_TIMEOUT_MS = 15_000;
const EXECUTABLE = process.env.KEYHOLE_CHROMIUM || '/usr/bin/chromium';

const say = (msg) => console.error(`[login-chromium] ${msg}`);

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      login: { type: 'string', default: 'user_2test' },
      password: { type: 'string', default: 'any-password' },
      deny: { type: 'boolean', default: false },
      device: { type: 'boolean', default: false },
    },
  });
} catch (err) {
  say(`${err.message}\nusage: node login-chromium.mjs <authorize-url> [--login NAME] [--deny]`);
  process.exit(2);
}
const { values: opts, positionals } = parsed;
if (positionals.length !== 1) {
  say('usage: node login-chromium.mjs <authorize-url> [--login NAME] [--deny]');
  process.exit(2);
}

const isLoopback = (u) => ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
let start;
try {
  start = new URL(positionals[0]);
} catch {
  say(`not a URL: ${positionals[0]}`);
  process.exit(2);
}
if (!isLoopback(start)) {
  say(`refusing to open ${start.host}: the sandbox only talks to 127.0.0.1`);
  process.exit(2);
}
if (!fs.existsSync(EXECUTABLE)) {
  say(`FAILED: no Chromium at ${EXECUTABLE} (apt-get install chromium, or set KEYHOLE_CHROMIUM)`);
  process.exit(5);
}

const providerOrigin = start.origin;
const isCallback = (u) => {
  const url = typeof u === 'string' ? new URL(u) : u;
  return url.protocol === 'http:' && isLoopback(url) && url.origin !== providerOrigin;
};
const redact = (u) => {
  const url = new URL(u);
  for (const k of ['code', 'state', 'rotating_token_nonce']) if (url.searchParams.has(k)) url.searchParams.set(k, 'REDACTED');
  return url.toString();
};

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyhole-chromium-'));
let context;
let exitCode = 1;

async function cleanup() {
  try {
    await context?.close();
  } catch {
    // already gone
  }
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

const overall = setTimeout(async () => {
  say(`FAILED: gave up after ${OVERALL_TIMEOUT_MS / 1000} s`);
  await cleanup();
  process.exit(124);
}, OVERALL_TIMEOUT_MS);

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, async () => {
    await cleanup();
    process.exit(130);
  });
}

const t0 = performance.now();
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: EXECUTABLE,
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // Belt and braces: nothing but loopback resolves.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if ((url.protocol === 'http:' || url.protocol === 'https:') && !isLoopback(url)) {
      say(`blocked a request to ${url.origin}`);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });

  const page = context.pages()[0] ?? (await context.newPage());
  let callbackFailure;
  page.on('requestfailed', (req) => {
    try {
      if (req.isNavigationRequest() && isCallback(req.url())) callbackFailure = req.failure()?.errorText ?? 'failed';
    } catch {
      // non-URL
    }
  });

  await page.goto(start.toString(), { waitUntil: 'load' });
  let acted = { login: false, consent: false, device: false };
  let deviceDone = false;
  for (let step = 0; step < 8; step += 1) {
    if (isCallback(page.url())) break;
    if (callbackFailure) break;
    const deviceWaits = opts.device
      ? [
          page.waitForSelector('form[id="op.deviceConfirmForm"]', { state: 'attached' }).then(() => 'device-confirm'),
          page.waitForFunction(() => document.title === 'Sign-in Success').then(() => 'device-done'),
          page.waitForSelector('text=was interrupted', { state: 'attached' }).then(() => 'device-aborted'),
        ]
      : [];
    const which = await Promise.race([
      ...deviceWaits,
      page.waitForSelector('input[name=login]', { state: 'visible' }).then(() => 'login'),
      page.waitForSelector('input[name=prompt][value=consent]', { state: 'attached' }).then(() => 'consent'),
      page.waitForURL(isCallback, { waitUntil: 'load' }).then(() => 'callback'),
      page.waitForSelector('text=oops! something went wrong', { state: 'attached' }).then(() => 'error'),
    ].map((p) => p.catch(() => 'timeout')));
    if (which === 'callback') break;
    if (which === 'device-done' || which === 'device-aborted') {
      say(which === 'device-done' ? 'the provider says the device sign-in succeeded' : 'the device sign-in was aborted');
      deviceDone = true;
      break;
    }
    if (which === 'error') {
      const detail = ((await page.innerText('body').catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
      throw new Error(`the provider showed an error page: ${detail}`);
    }
    if (which === 'timeout') throw new Error(`nothing to do at ${page.url()}`);
    const before = page.url();
    const navigated = page.waitForURL((u) => u.toString() !== before, { waitUntil: 'load' }).catch(() => {});
    if (which === 'device-confirm') {
      if (acted.device) throw new Error('the device confirmation came back');
      acted.device = true;
      if (opts.deny) {
        say('aborting at the device confirmation page');
        opts.deny = false;
        await page.click('button[name=abort]');
      } else {
        say('confirming the device code');
        await page.click('button[autofocus]');
      }
    } else if (opts.deny) {
      say(`cancelling at the ${which} page`);
      await page.click('a:has-text("Cancel")');
    } else if (which === 'login') {
      if (acted.login) throw new Error('the login form came back after signing in');
      acted.login = true;
      say(`signing in as ${opts.login}`);
      await page.fill('input[name=login]', opts.login);
      await page.fill('input[name=password]', opts.password);
      await page.click('button[type=submit]');
    } else {
      if (acted.consent) throw new Error('the consent form came back after consenting');
      acted.consent = true;
      say('consenting');
      await page.click('button[type=submit]');
    }
    await navigated;
  }

  if (deviceDone) {
    exitCode = 0;
    throw Object.assign(new Error('done'), { done: true });
  }
  if (callbackFailure) throw new Error(`the browser could not load the app's loopback callback: ${callbackFailure}`);
  if (!isCallback(page.url())) {
    await page.waitForURL(isCallback, { waitUntil: 'load' });
  }
  await page.waitForLoadState('load');
  if (callbackFailure) throw new Error(`the browser could not load the app's loopback callback: ${callbackFailure}`);
  const text = ((await page.innerText('body').catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
  say(`callback page ${redact(page.url())} loaded in ${Math.round(performance.now() - t0)} ms: ${text.slice(0, 300)}`);
  exitCode = 0;
} catch (err) {
  if (err.done) {
    exitCode = 0;
  } else {
    say(`FAILED: ${err.message.split('\n')[0]}`);
    exitCode = 1;
  }
} finally {
  clearTimeout(overall);
  await cleanup();
}
process.exit(exitCode);
