// A Client ID Metadata Document for Keyhole, served over https on 127.0.0.1 (a certificate made
// at start with openssl, trusted only by the provider's fetch below), so the sandbox's provider
// (oidc-provider's clientIdMetadataDocument feature, draft-02) can take its URL as a client ID,
// the way Clerk's CIMD beta does: a public native client, redirect URIs matched exactly.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const DOCUMENT_PATH = '/keyhole/client.json';

/// A free loopback port, for the one redirect URI the document names.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export async function startCimd({ log, redirectPort }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyhole-cimd-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const tls = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
  fs.rmSync(dir, { recursive: true, force: true });
  const port = redirectPort || (await freePort());
  const stats = { document_fetches: 0 };

  let base;
  const server = https.createServer(tls, (req, res) => {
    if (req.method === 'GET' && req.url === DOCUMENT_PATH) {
      stats.document_fetches += 1;
      const document = {
        client_id: `${base}${DOCUMENT_PATH}`,
        client_name: 'Keyhole (sandbox Client ID Metadata Document)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      };
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end(JSON.stringify(document));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found"}');
  });
  await new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  base = `https://127.0.0.1:${server.address().port}`;

  /// The provider's fetch: its own https request (trusting this certificate) for the document,
  /// the platform's fetch (with oidc-provider's SSRF guard) for everything else.
  function providerFetch(url, options = {}) {
    if (!String(url).startsWith(`${base}/`)) return fetch(url, options);
    return new Promise((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(options.headers ?? {}));
      const req = https.request(String(url), { method: options.method ?? 'GET', headers, ca: tls.cert, signal: options.signal }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const flat = Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: flat }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  log(`Client ID Metadata Document ${base}${DOCUMENT_PATH} (redirect port ${port})`);
  return { server, base, url: `${base}${DOCUMENT_PATH}`, redirectPort: port, stats, fetch: providerFetch };
}
