// Checks the Clerk stand-in's traffic against Clerk's published OpenAPI specs (vendored in
// clerk-openapi/, MIT, from github.com/clerk/openapi-specs at 7987d1b).
//
// For each request: does the path + method exist in the spec, do path/query params and the body
// (form-urlencoded or JSON) validate against the operation's schemas; for each answer: is the
// status one the operation lists, does the JSON body validate against that response's schema.
// Violations are kept in memory as { api, method, path (the spec's template), where, message } —
// never a value from the request or answer (tokens stay out).
//
// OpenAPI 3.0 schemas are converted to JSON Schema first: `nullable: true` becomes
// anyOf [null, schema], boolean exclusiveMinimum/Maximum become numbers, `example` etc. are
// ignored by ajv (strict: false). The YAML is parsed once and cached as JSON in
// node_modules/.cache (parsing 1.3 MB of YAML takes ~2 s, the JSON ~20 ms).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_FILES = {
  fapi: path.join(here, 'clerk-openapi', 'fapi-2026-05-12.yml'),
  bapi: path.join(here, 'clerk-openapi', 'bapi-2026-05-12.yml'),
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

async function loadSpec(file) {
  const text = fs.readFileSync(file);
  const hash = crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
  const cacheDir = path.join(here, 'node_modules', '.cache', 'keyhole-openapi');
  const cache = path.join(cacheDir, `${path.basename(file)}.${hash}.json`);
  try {
    return JSON.parse(fs.readFileSync(cache, 'utf8'));
  } catch {
    // not cached yet
  }
  const { default: YAML } = await import('yaml');
  const doc = YAML.parse(text.toString('utf8'), { maxAliasCount: -1 });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cache}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(doc));
    fs.renameSync(tmp, cache);
  } catch {
    // a read-only tree: parse again next time
  }
  return doc;
}

// OpenAPI 3.0 schema → JSON Schema (draft-07 as ajv reads it), recursively, in a copy.
function convert(node) {
  if (Array.isArray(node)) return node.map(convert);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'examples' || k === 'discriminator' || k === 'xml' || k === 'externalDocs') continue;
    out[k] = k === 'properties' || k === 'patternProperties' || k === 'definitions'
      ? Object.fromEntries(Object.entries(v ?? {}).map(([pk, pv]) => [pk, convert(pv)]))
      : convert(v);
  }
  if (out.exclusiveMinimum === true && typeof out.minimum === 'number') {
    out.exclusiveMinimum = out.minimum;
    delete out.minimum;
  } else if (typeof out.exclusiveMinimum === 'boolean') delete out.exclusiveMinimum;
  if (out.exclusiveMaximum === true && typeof out.maximum === 'number') {
    out.exclusiveMaximum = out.maximum;
    delete out.maximum;
  } else if (typeof out.exclusiveMaximum === 'boolean') delete out.exclusiveMaximum;
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [{ type: 'null' }, out] };
  }
  delete out.nullable;
  return out;
}

function pathRegex(template) {
  const names = [];
  const src = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name) => {
    names.push(name);
    return '([^/]+)';
  });
  return { re: new RegExp(`^${src}$`), names };
}

// Answers Clerk's own code shows but the spec does not list for that operation. They are kept
// apart (spec_gaps) instead of counting as violations; each names where the behaviour is seen.
export const KNOWN_GAPS = [
  {
    api: 'bapi',
    status: 401,
    code: 'machine_secret_key_invalid',
    reason: "clerk/javascript packages/backend/src/api/__tests__/M2MTokenApi.test.ts answers a bad machine secret key with 401 machine_secret_key_invalid; the spec's POST /m2m_tokens lists 201/400/409 only",
  },
  {
    api: 'fapi',
    status: 401,
    code: 'authentication_invalid',
    reason: 'clerk-js Base.ts handles a 401 on any FAPI request (handleUnauthenticated); not every operation lists 401',
  },
  {
    api: 'fapi',
    code: 'native_api_disabled',
    reason: "@clerk/expo createClerkInstance.ts reads native_api_disabled from any FAPI answer; the status is not documented and most operations don't list it",
  },
  {
    api: 'fapi',
    path: '/v1/environment',
    strip: ['user_settings', 'social', 'oauth_custom_sandbox'],
    reason: "the spec's UserSettings.Socials is closed (additionalProperties: false) to Clerk's built-in providers plus oauth_custom_mock, so no custom OIDC connection (oauth_custom_<key>, which Clerk serves) validates; checked without it",
  },
];

export async function createSpecChecker({ prefixes = { fapi: '', bapi: '/v1' } } = {}) {
  const [{ default: Ajv }, { default: addFormats }] = await Promise.all([import('ajv'), import('ajv-formats')]);
  const docs = {};
  const routes = {};
  const ajvs = {};
  for (const [api, file] of Object.entries(SPEC_FILES)) {
    const raw = await loadSpec(file);
    const doc = { components: convert(raw.components ?? {}), paths: raw.paths ?? {} };
    docs[api] = doc;
    const list = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      const { re, names } = pathRegex(template);
      list.push({ template, re, names, item: item ?? {} });
    }
    // Literal segments win over templated ones.
    list.sort((a, b) => a.names.length - b.names.length);
    routes[api] = list;
    for (const coerce of [false, true]) {
      const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false, coerceTypes: coerce ? 'array' : false, useDefaults: false });
      addFormats(ajv);
      for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(f, true);
      ajv.addSchema({ $id: `${api}.json`, components: doc.components }, `${api}.json`);
      ajvs[`${api}:${coerce}`] = ajv;
    }
  }

  const compiled = new Map();
  const validator = (api, schema, coerce, key) => {
    const k = `${api}:${coerce}:${key}`;
    let v = compiled.get(k);
    if (!v) {
      // Rewrite local refs to point into the registered document.
      const fixed = JSON.parse(JSON.stringify(convert(schema)).replaceAll('"$ref":"#/', `"$ref":"${api}.json#/`));
      v = ajvs[`${api}:${coerce}`].compile(fixed);
      compiled.set(k, v);
    }
    return v;
  };
  const deref = (api, obj) => {
    let o = obj;
    for (let i = 0; o && o.$ref && i < 10; i += 1) {
      const parts = o.$ref.replace(/^#\//, '').split('/');
      let cur = { components: docs[api].components };
      for (const p of parts) cur = cur?.[p];
      // responses/parameters/requestBodies are not schemas: convert() may have wrapped them; fine.
      o = cur;
    }
    return o;
  };

  const violations = [];
  const gaps = [];
  let checked = 0;

  // Finds the operation for an actual request path (with the API's mount prefix, e.g. /v1 for
  // BAPI). Returns { template, op, params } or null (no such path) or { template, op: null }
  // (path exists but not this method, or the spec lists it as {}).
  function find(api, method, actualPath) {
    const prefix = prefixes[api] ?? '';
    let p = actualPath;
    if (prefix && p.startsWith(`${prefix}/`)) p = p.slice(prefix.length);
    for (const r of routes[api]) {
      const m = r.re.exec(p);
      if (!m) continue;
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      const op = r.item[method.toLowerCase()];
      return { template: r.template, op: op && typeof op === 'object' ? op : null, params, pathItem: r.item };
    }
    return null;
  }

  function record(api, method, template, where, message) {
    violations.push({ api, method: method.toUpperCase(), path: template, where, message });
    console.error(`[openapi-check] ${api} ${method.toUpperCase()} ${template}: ${where}: ${message}`);
  }

  const ajvMessage = (v) => (v.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}${e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`).join('; ');

  // req: { method, path, query (URLSearchParams), contentType, body (object | undefined) }
  // res: { status, contentType, body (parsed JSON or undefined) }
  function check(api, req, res) {
    checked += 1;
    const found = find(api, req.method, req.path);
    if (!found) {
      record(api, req.method, req.path.replace(/\/(sess|sia|client|user|ak|mt|ins)_[A-Za-z0-9]+/g, '/{id}'), 'path', 'not in the spec');
      return;
    }
    const { template, op, params: pathParams, pathItem } = found;
    const method = req.method;
    if (!op) {
      record(api, method, template, 'method', Object.keys(pathItem).length === 0 ? 'the spec lists this path as {} (no operations)' : 'method not in the spec');
      return;
    }
    const key = `${method} ${template}`;
    // Parameters (operation-level and path-level).
    const params = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(api, p)).filter(Boolean);
    for (const p of params) {
      let value;
      if (p.in === 'path') value = pathParams[p.name];
      else if (p.in === 'query') value = req.query.getAll(p.name).length > 1 ? req.query.getAll(p.name) : req.query.get(p.name) ?? undefined;
      else continue; // headers/cookies: not checked
      if (value === undefined) {
        if (p.required) record(api, method, template, `${p.in} ${p.name}`, 'required parameter missing');
        continue;
      }
      if (!p.schema) continue;
      const holder = { v: value };
      const v = validator(api, { type: 'object', properties: { v: p.schema } }, true, `${key}:param:${p.in}:${p.name}`);
      if (!v(holder)) record(api, method, template, `${p.in} ${p.name}`, ajvMessage(v));
    }
    // Body.
    const rb = deref(api, op.requestBody);
    if (rb && rb.content) {
      const ct = (req.contentType ?? '').split(';')[0].trim().toLowerCase();
      const hasBody = req.body !== undefined && !(typeof req.body === 'object' && req.body !== null && Object.keys(req.body).length === 0 && !req.rawLength);
      if (!hasBody) {
        if (rb.required) record(api, method, template, 'body', 'required request body missing');
      } else {
        const media = rb.content[ct];
        if (!media) {
          record(api, method, template, 'body', `content type ${ct || '(none)'} not in the spec (${Object.keys(rb.content).join(', ')})`);
        } else if (media.schema) {
          const coerce = ct === 'application/x-www-form-urlencoded';
          const v = validator(api, media.schema, coerce, `${key}:body:${ct}`);
          const copy = JSON.parse(JSON.stringify(req.body));
          if (!v(copy)) record(api, method, template, 'body', ajvMessage(v));
        }
      }
    }
    // Answer.
    const responses = op.responses ?? {};
    const entry = responses[String(res.status)] ?? responses[`${String(res.status)[0]}XX`] ?? responses.default;
    const code = res.body?.errors?.[0]?.code;
    const gap = KNOWN_GAPS.find((g) => g.api === api && (g.status === undefined || g.status === res.status) && g.code === code);
    if (gap && (!entry || gap.code === 'native_api_disabled')) {
      gaps.push({ api, method: method.toUpperCase(), path: template, status: res.status, code, reason: gap.reason });
      return;
    }
    if (!entry) {
      record(api, method, template, `response ${res.status}`, `status not listed (${Object.keys(responses).join(', ')})`);
      return;
    }
    const resp = deref(api, entry);
    const media = resp?.content?.['application/json'];
    if (media?.schema && res.body !== undefined) {
      let body = res.body;
      for (const g of KNOWN_GAPS) {
        if (g.api !== api || g.path !== template || !g.strip) continue;
        const parent = g.strip.slice(0, -1).reduce((o, k) => o?.[k], body);
        const last = g.strip[g.strip.length - 1];
        if (parent && typeof parent === 'object' && last in parent) {
          body = JSON.parse(JSON.stringify(body));
          delete g.strip.slice(0, -1).reduce((o, k) => o[k], body)[last];
          gaps.push({ api, method: method.toUpperCase(), path: template, status: res.status, field: g.strip.join('.'), reason: g.reason });
        }
      }
      const v = validator(api, media.schema, false, `${key}:response:${res.status}`);
      if (!v(body)) record(api, method, template, `response ${res.status}`, ajvMessage(v));
    }
  }

  // A minimal instance of a component schema: required properties only, null where nullable,
  // the first enum value, 0 / false / '' / []. The stand-in overlays what it really means.
  function sample(api, name) {
    const seen = new Set();
    const gen = (schema, depth) => {
      if (!schema || depth > 40) return null;
      if (schema.$ref) {
        if (seen.has(schema.$ref) && depth > 20) return null;
        seen.add(schema.$ref);
        return gen(deref(api, { $ref: schema.$ref }), depth + 1);
      }
      if (schema.anyOf) {
        if (schema.anyOf.some((x) => x.type === 'null')) return null;
        return gen(schema.anyOf[0], depth + 1);
      }
      if (schema.oneOf) return gen(schema.oneOf[0], depth + 1);
      if (schema.allOf) return Object.assign({}, ...schema.allOf.map((x) => gen(x, depth + 1)));
      if (schema.enum) return schema.enum[0];
      const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
      if (type === 'object' || schema.properties) {
        const out = {};
        // An object that requires nothing (Client.Environment) gets all its properties.
        const keys = schema.required ?? (depth < 3 ? Object.keys(schema.properties ?? {}) : []);
        for (const r of keys) out[r] = gen(schema.properties?.[r] ?? {}, depth + 1);
        return out;
      }
      if (type === 'array') return [];
      if (type === 'integer' || type === 'number') return schema.minimum ?? 0;
      if (type === 'boolean') return false;
      if (type === 'string') return '';
      return null;
    };
    return gen({ $ref: `#/components/schemas/${name}` }, 0);
  }

  return {
    check,
    find,
    sample,
    get violations() {
      return violations;
    },
    get gaps() {
      return gaps;
    },
    get checked() {
      return checked;
    },
  };
}
