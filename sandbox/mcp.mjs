// MCP servers for Keyhole's tests, on one port (sandbox.mjs --mcp-port), all behind the sandbox's
// provider:
//
//   /mcp           the official TypeScript SDK (@modelcontextprotocol/sdk, which speaks up to
//                  2025-11-25: initialize, Mcp-Session-Id, SSE answers) behind Clerk's
//                  @clerk/mcp-tools (mcpAuthClerk over @clerk/express with an audience, and its
//                  protected-resource metadata handler)
//   /mcp-2026      a small 2026-07-28 server written from the spec (server/discover, _meta,
//                  Mcp-Method / Mcp-Name), every message checked against the spec's schema.json
//                  (mcp-schema/), behind the same Clerk middleware
//   /no-prm/mcp, /wrong-prm/mcp, /any-audience/mcp, /error-500/mcp, /no-verify/mcp,
//   /bare-403/mcp  the SDK server with one authorization fault each (for the report)
//   /compliant/mcp the SDK server with a challenge on every 401 (Clerk's middleware sends none
//                  when it refuses a token): the reference for the authorization report
//   /scoped/mcp    the SDK server needing a scope no sandbox token has (403 insufficient_scope)
//   /faults/*      no MCP at all: HTML, 404, JSON that is not JSON-RPC, a stream that never ends,
//                  100 MB
//
// Tools everywhere: echo, whoami (the auth object's user), slow (sleeps ms), markup (HTML and
// control characters), fail (an isError result). tools/list pages two at a time.

import crypto from 'node:crypto';
import fs from 'node:fs';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  isInitializeRequest,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';
import { mcpAuthClerk, protectedResourceHandler } from '@clerk/mcp-tools/express';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const MODERN = '2026-07-28';
const SERVER_INFO = { name: 'keyhole-sandbox-mcp', version: '1.0.0' };
const PAGE = 2;
const MAX_SLOW_MS = 30000;

const TOOLS = [
  {
    name: 'echo',
    description: 'Says back the text it is given.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  {
    name: 'whoami',
    description: 'The signed-in user, as the server verified the token.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'slow',
    description: `Sleeps ms milliseconds (at most ${MAX_SLOW_MS}), then answers.`,
    inputSchema: { type: 'object', properties: { ms: { type: 'integer', minimum: 0 } } },
  },
  {
    name: 'markup',
    description: 'Answers with HTML and control characters, which a client must show as text.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'fail',
    description: 'Always fails (isError: true).',
    inputSchema: { type: 'object', properties: {} },
  },
];
const RESOURCES = [{ uri: 'sandbox://readme', name: 'readme', mimeType: 'text/plain', description: 'What this server is.' }];
const PROMPTS = [{ name: 'greet', description: 'A greeting.', arguments: [{ name: 'who', required: false }] }];
const MARKUP = '<script>alert("x")</script><b>bold</b>\u0007\u001b[31mred\u001b[0m\u0000end';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// One page of `items` from `cursor` (an offset as text); a bad cursor is invalid params.
function page(items, cursor) {
  let start = 0;
  if (cursor !== undefined) {
    start = /^\d+$/.test(String(cursor)) ? Number(cursor) : -1;
    if (start < 0 || start > items.length) throw new McpError(ErrorCode.InvalidParams, `Invalid cursor: ${cursor}`);
  }
  const next = start + PAGE < items.length ? String(start + PAGE) : undefined;
  return { items: items.slice(start, start + PAGE), next };
}

/// A tool call's result; `auth` is what mcpAuthClerk put on the request (never the token).
async function callTool(name, args, auth) {
  const text = (t) => ({ content: [{ type: 'text', text: t }] });
  switch (name) {
    case 'echo':
      if (typeof args?.text !== 'string') throw new McpError(ErrorCode.InvalidParams, 'echo needs a text argument (a string)');
      return { ...text(args.text), structuredContent: { text: args.text } };
    case 'whoami': {
      const who = { userId: auth?.extra?.userId ?? null, clientId: auth?.clientId ?? null, scopes: auth?.scopes ?? [] };
      return { ...text(JSON.stringify(who)), structuredContent: who };
    }
    case 'slow': {
      const ms = Math.max(0, Math.min(Number.isInteger(args?.ms) ? args.ms : 1000, MAX_SLOW_MS));
      await sleep(ms);
      return text(`slept ${ms} ms`);
    }
    case 'markup':
      return text(MARKUP);
    case 'fail':
      return { ...text('this tool always fails'), isError: true };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  }
}

// --- the SDK server (2025-11-25 and older) --------------------------------------------------

function sdkServer() {
  const server = new Server(SERVER_INFO, { capabilities: { tools: {}, resources: {}, prompts: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (req) => {
    const { items, next } = page(TOOLS, req.params?.cursor);
    return { tools: items, ...(next ? { nextCursor: next } : {}) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) =>
    callTool(req.params.name, req.params.arguments, extra.authInfo),
  );
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  return server;
}

/// Stateful Streamable HTTP as the SDK's own example does it: a transport (and server) per
/// session, found again by Mcp-Session-Id; an unknown session is 404 (so the client must
/// initialize again).
function sdkEndpoint(stats) {
  const sessions = new Map();
  const handler = async (req, res) => {
    stats.sdk_requests += 1;
    const sid = req.get('mcp-session-id');
    if (sid !== undefined) {
      const transport = sessions.get(sid);
      if (!transport) {
        res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
        return;
      }
      await transport.handleRequest(req, res, req.body);
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(req.body)) {
      stats.initializes += 1;
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await sdkServer().connect(transport);
      await transport.handleRequest(req, res, req.body);
      return;
    }
    res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
  };
  const expire = () => {
    const n = sessions.size;
    for (const transport of sessions.values()) transport.close().catch(() => {});
    sessions.clear();
    return n;
  };
  return { handler, expire };
}

// --- the 2026-07-28 server, checked against the spec's schema --------------------------------

function schemaChecker() {
  const url = new URL('./mcp-schema/2026-07-28/schema.json', import.meta.url);
  const schema = JSON.parse(fs.readFileSync(url, 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(schema, 'mcp');
  const cache = new Map();
  return (def, value) => {
    if (!cache.has(def)) cache.set(def, ajv.getSchema(`mcp#/$defs/${def}`));
    const validate = cache.get(def);
    if (!validate) return [`no definition ${def} in the schema`];
    return validate(value) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
  };
}

const REQUEST_DEFS = {
  'server/discover': ['DiscoverRequest', 'DiscoverResultResponse'],
  'tools/list': ['ListToolsRequest', 'ListToolsResultResponse'],
  'tools/call': ['CallToolRequest', 'CallToolResultResponse'],
  'resources/list': ['ListResourcesRequest', 'ListResourcesResultResponse'],
  'prompts/list': ['ListPromptsRequest', 'ListPromptsResultResponse'],
};
const NAMED = { 'tools/call': 'name', 'resources/read': 'uri', 'prompts/get': 'name' };

/// The value of an Mcp-Name / Mcp-Param header, decoded from the =?base64?…?= sentinel.
function headerValue(raw) {
  const m = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(raw ?? '');
  return m ? Buffer.from(m[1], 'base64').toString('utf8') : raw;
}

function modernEndpoint(stats) {
  const check = schemaChecker();
  const violation = (where, def, errors) => {
    if (errors.length === 0) return;
    stats.schema_violations.push({ where, def, errors: errors.slice(0, 5) });
  };
  const send = (res, status, message) => {
    const def = message.error ? 'JSONRPCErrorResponse' : null;
    if (def) violation('response', def, check(def, message));
    stats.schema_checked += 1;
    res.status(status).json(message);
  };
  const error = (res, status, id, code, message, data) =>
    send(res, status, { jsonrpc: '2.0', ...(id === undefined ? {} : { id }), error: { code, message, ...(data ? { data } : {}) } });

  const meta = (extra = {}) => ({ _meta: { 'io.modelcontextprotocol/serverInfo': SERVER_INFO }, resultType: 'complete', ...extra });
  const cacheable = (scope) => ({ ttlMs: 60000, cacheScope: scope });

  async function result(method, params, auth) {
    switch (method) {
      case 'server/discover':
        return meta({ supportedVersions: [MODERN], capabilities: { tools: {}, resources: {}, prompts: {} }, ...cacheable('public') });
      case 'tools/list': {
        const { items, next } = page(TOOLS, params.cursor);
        return meta({ tools: items, ...(next ? { nextCursor: next } : {}), ...cacheable('public') });
      }
      case 'tools/call':
        return meta(await callTool(params.name, params.arguments, auth));
      case 'resources/list':
        return meta({ resources: RESOURCES, ...cacheable('public') });
      case 'prompts/list':
        return meta({ prompts: PROMPTS, ...cacheable('public') });
      default:
        return undefined;
    }
  }

  return async (req, res) => {
    stats.modern_requests += 1;
    if (req.method !== 'POST') {
      res.status(405).set('allow', 'POST').end();
      return;
    }
    const body = req.body;
    const id = body && typeof body === 'object' ? body.id : undefined;
    if (!body || typeof body !== 'object' || body.jsonrpc !== '2.0' || typeof body.method !== 'string') {
      error(res, 400, null, -32600, 'Invalid Request: the body must be one JSON-RPC 2.0 request');
      return;
    }
    if (body.method === 'initialize') {
      // Versioning §Backward Compatibility: a modern-only server names its versions.
      error(res, 400, id, -32022, `Unsupported protocol version: this server speaks only ${MODERN} (no initialize)`, {
        supported: [MODERN],
        requested: body.params?.protocolVersion ?? null,
      });
      return;
    }
    const headerVersion = req.get('mcp-protocol-version');
    const bodyVersion = body.params?._meta?.['io.modelcontextprotocol/protocolVersion'];
    if (headerVersion === undefined) {
      error(res, 400, id, -32020, 'Header mismatch: the MCP-Protocol-Version header is missing');
      return;
    }
    if (headerVersion !== MODERN) {
      error(res, 400, id, -32022, 'Unsupported protocol version', { supported: [MODERN], requested: headerVersion });
      return;
    }
    if (bodyVersion !== headerVersion) {
      error(res, 400, id, -32020, `Header mismatch: MCP-Protocol-Version ${headerVersion} does not match _meta's ${bodyVersion}`);
      return;
    }
    if (req.get('mcp-method') !== body.method) {
      error(res, 400, id, -32020, `Header mismatch: Mcp-Method ${req.get('mcp-method') ?? '(missing)'} does not match ${body.method}`);
      return;
    }
    const named = NAMED[body.method];
    if (named && headerValue(req.get('mcp-name')) !== body.params?.[named]) {
      error(res, 400, id, -32020, `Header mismatch: Mcp-Name does not match params.${named}`);
      return;
    }
    const defs = REQUEST_DEFS[body.method];
    if (!defs) {
      error(res, 404, id, -32601, `Method not found: ${body.method}`);
      return;
    }
    const requestErrors = check(defs[0], body);
    violation('request', defs[0], requestErrors);
    stats.schema_checked += 1;
    if (requestErrors.length > 0) {
      error(res, 400, id, -32602, `Invalid params: ${requestErrors[0]}`);
      return;
    }
    stats.modern_methods[body.method] = (stats.modern_methods[body.method] ?? 0) + 1;
    let answer;
    try {
      answer = { jsonrpc: '2.0', id, result: await result(body.method, body.params, req.auth) };
    } catch (err) {
      const code = err instanceof McpError ? err.code : -32603;
      error(res, 200, id, code, err instanceof McpError ? err.message.replace(/^MCP error -?\d+: /, '') : 'Internal error');
      return;
    }
    violation('response', defs[1], check(defs[1], answer));
    stats.schema_checked += 1;
    // A slow call answers as an SSE stream: a progress notification first when asked for one.
    const wantsStream = String(req.get('accept') ?? '').includes('text/event-stream');
    if (body.method === 'tools/call' && body.params.name === 'slow' && wantsStream) {
      res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
      const token = body.params._meta?.progressToken;
      if (token !== undefined) {
        const note = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 1 } };
        res.write(`event: message\ndata: ${JSON.stringify(note)}\n\n`);
      }
      res.write(`: the answer follows\n\nevent: message\ndata: ${JSON.stringify(answer)}\n\n`);
      res.end();
      return;
    }
    res.status(200).json(answer);
  };
}

// --- faults -------------------------------------------------------------------------------------

/// Streams `total` bytes of `head` + filler (+ `tail`), honouring backpressure; stops when the
/// client goes away. Never holds more than one chunk.
async function stream(res, head, total, tail = '') {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  res.write(head);
  let sent = head.length;
  while (!closed && sent < total) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    sent += chunk.length;
  }
  if (!closed) res.end(tail);
}

function faults(app) {
  app.all('/faults/html', (_req, res) => {
    res.status(200).type('text/html').send('<!doctype html><html><head><title>Welcome</title></head><body><h1>A web page, not MCP</h1></body></html>');
  });
  app.all('/faults/not-jsonrpc', (_req, res) => {
    res.status(200).json({ hello: 'world' });
  });
  app.all('/faults/forever', (_req, res) => {
    res.status(200).set({ 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    const note = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'still here' } };
    const timer = setInterval(() => res.write(`: keep-alive\n\nevent: message\ndata: ${JSON.stringify(note)}\n\n`), 50);
    res.on('close', () => clearInterval(timer));
  });
  const HUNDRED_MB = 100 * 1024 * 1024;
  app.all('/faults/huge', (_req, res) => {
    res.status(200).type('application/json');
    stream(res, '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"', HUNDRED_MB, '"}]}}');
  });
  app.all('/faults/huge-sse', (_req, res) => {
    res.status(200).set({ 'content-type': 'text/event-stream' });
    stream(res, 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"x":"', HUNDRED_MB, '"}}\n\n');
  });
}

// --- the app ------------------------------------------------------------------------------------

/// The Express app for the MCP port. `clerkMiddleware` and `clerkOptions` are the sandbox's
/// (networkless verification with CLERK_JWT_KEY); `issuer` is the provider's.
export function buildMcpApp({ express, clerkMiddleware, clerkOptions, issuer, base, log }) {
  const stats = {
    sdk_requests: 0,
    modern_requests: 0,
    initializes: 0,
    expired_sessions: 0,
    modern_methods: {},
    schema_checked: 0,
    schema_violations: [],
  };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '1mb' }));

  // Test helpers, unprotected.
  app.get('/sandbox/mcp/stats', (_req, res) => res.json({ ...stats, sdk_versions: SUPPORTED_PROTOCOL_VERSIONS }));
  const sdk = sdkEndpoint(stats);
  app.post('/sandbox/mcp/expire-sessions', (_req, res) => {
    const n = sdk.expire();
    stats.expired_sessions += n;
    res.json({ expired: n });
  });
  faults(app);

  const prm = protectedResourceHandler({ authServerUrl: issuer, properties: { scopes_supported: ['openid', 'profile', 'email', 'offline_access'], resource_name: 'Keyhole sandbox MCP server' } });
  // Each protected path: its own audience (RFC 8707: a token for another resource is refused).
  const guard = (path, { audience = true } = {}) => [
    clerkMiddleware({ ...clerkOptions, ...(audience ? { audience: `${base}${path}` } : {}) }),
    mcpAuthClerk,
  ];

  app.get('/.well-known/oauth-protected-resource/mcp', prm);
  app.all('/mcp', ...guard('/mcp'), sdk.handler);

  app.get('/.well-known/oauth-protected-resource/mcp-2026', prm);
  app.all('/mcp-2026', ...guard('/mcp-2026'), modernEndpoint(stats));

  // Broken on purpose, one fault each (for the authorization report).
  app.all('/no-prm/mcp', ...guard('/no-prm/mcp'), sdk.handler);
  app.get(
    '/.well-known/oauth-protected-resource/wrong-prm/mcp',
    protectedResourceHandler({ authServerUrl: issuer, properties: { resource: `${base}/mcp` } }),
  );
  app.all('/wrong-prm/mcp', ...guard('/wrong-prm/mcp'), sdk.handler);
  app.get('/.well-known/oauth-protected-resource/any-audience/mcp', prm);
  app.all('/any-audience/mcp', ...guard('/any-audience/mcp', { audience: false }), sdk.handler);
  app.get('/.well-known/oauth-protected-resource/error-500/mcp', prm);
  app.all(
    '/error-500/mcp',
    (req, res, next) => (req.get('authorization') ? next() : res.status(500).json({ error: 'internal_error' })),
    ...guard('/error-500/mcp'),
    sdk.handler,
  );

  // Clerk's middleware (0.6.0) answers a token it refuses with a bare 401; MCP's authorization
  // spec and RFC 6750 §3 want the WWW-Authenticate challenge on every 401. This one is the SDK
  // server with that fixed, the way a server author would: the reference that passes every check.
  const challengeOn401 = (path) => (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (status, ...rest) {
      if (status === 401 && !res.getHeader('www-authenticate')) {
        res.setHeader('www-authenticate', `Bearer error="invalid_token", resource_metadata="${base}/.well-known/oauth-protected-resource${path}"`);
      }
      return writeHead.call(this, status, ...rest);
    };
    next();
  };
  app.get('/.well-known/oauth-protected-resource/compliant/mcp', prm);
  app.all('/compliant/mcp', challengeOn401('/compliant/mcp'), ...guard('/compliant/mcp'), sdk.handler);

  // Lets in any bearer token without verifying it (so expired and wrongly signed ones too).
  const unverified = (path) => (req, res, next) => {
    if (/^Bearer \S+$/i.test(req.get('authorization') ?? '')) {
      req.auth = { token: 'unverified', clientId: null, scopes: [], extra: {} };
      next();
      return;
    }
    res
      .status(401)
      .set('www-authenticate', `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource${path}"`)
      .json({ error: 'invalid_token' });
  };
  app.get('/.well-known/oauth-protected-resource/no-verify/mcp', prm);
  app.all('/no-verify/mcp', unverified('/no-verify/mcp'), sdk.handler);
  // Needs a scope no sandbox token carries: 403 insufficient_scope naming it (RFC 6750 §3.1),
  // or, broken, a bare 403 that names nothing.
  const needsScope = (scope, { named }) => (req, res, next) => {
    if ((req.auth?.scopes ?? []).includes(scope)) {
      next();
      return;
    }
    if (named) res.set('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}", error_description="needs ${scope}"`);
    res.status(403).json({ error: 'insufficient_scope' });
  };
  app.get('/.well-known/oauth-protected-resource/scoped/mcp', prm);
  app.all('/scoped/mcp', ...guard('/scoped/mcp'), needsScope('mcp:admin', { named: true }), sdk.handler);
  app.get('/.well-known/oauth-protected-resource/bare-403/mcp', prm);
  app.all('/bare-403/mcp', ...guard('/bare-403/mcp'), needsScope('mcp:admin', { named: false }), sdk.handler);

  // eslint-disable-next-line no-unused-vars
  app.use((err, _req, res, _next) => {
    log(`MCP server: ${err.message}`);
    res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
  });
  return app;
}
