// A form from a tool's JSON Schema (its inputSchema), and the arguments the form's values make.
// Pure: no DOM. Only the window needs this (the CLI takes --args JSON), so it lives here and not
// in the engine.
//
// What the form shows: an object schema whose properties are string, number, integer, boolean,
// enum (of strings, numbers, booleans or null) or object (nested, with its own properties),
// each with its required mark and the constraints checked before anything is sent (minimum,
// maximum, exclusiveMinimum/Maximum, minLength, maxLength, pattern). Anything else (arrays,
// anyOf / oneOf / allOf / $ref, a type list, a property with no type) cannot be shown as fields:
// then, and for a schema that is not valid JSON Schema at all, the arguments are raw JSON.
// Nothing here throws on what a server sends.

/** Nested objects deeper than this are edited as raw JSON. */
export const MAX_DEPTH = 4;

const SIMPLE = new Set(["string", "number", "integer", "boolean", "object"]);
/** Keywords whose meaning the form cannot show: a schema using one is edited as raw JSON. */
const UNSHOWN = ["anyOf", "oneOf", "allOf", "not", "$ref", "$dynamicRef", "if", "then", "else", "patternProperties", "dependentSchemas", "const"];
const NUMERIC = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const LENGTHS = ["minLength", "maxLength"];

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isPrimitive = (v) => v === null || ["string", "number", "boolean"].includes(typeof v);

class Invalid extends Error {}
class Unshown extends Error {}

/** The JSON Schema rules the form relies on, checked on one schema object (not its children). */
function checkKeywords(schema, where) {
  if ("type" in schema && typeof schema.type !== "string" && !(Array.isArray(schema.type) && schema.type.every((t) => typeof t === "string"))) {
    throw new Invalid(`${where}: type is neither a type name nor a list of them`);
  }
  if ("properties" in schema && !isObject(schema.properties)) throw new Invalid(`${where}: properties is not an object`);
  if ("required" in schema && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === "string"))) {
    throw new Invalid(`${where}: required is not a list of property names`);
  }
  if ("enum" in schema && !Array.isArray(schema.enum)) throw new Invalid(`${where}: enum is not a list`);
  for (const k of NUMERIC) if (k in schema && typeof schema[k] !== "number") throw new Invalid(`${where}: ${k} is not a number`);
  for (const k of LENGTHS) if (k in schema && !(Number.isInteger(schema[k]) && schema[k] >= 0)) throw new Invalid(`${where}: ${k} is not a whole number`);
  if ("pattern" in schema && typeof schema.pattern !== "string") throw new Invalid(`${where}: pattern is not a string`);
}

function fieldsOf(schema, path, depth) {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const names = Object.keys(properties);
  for (const r of required) {
    if (!names.includes(r)) throw new Unshown(`${label([...path, r])} is required but has no schema`);
  }
  // Ids come from positions, not names (a property may be called anything): set by withId.
  return names.map((name) => fieldOf(properties[name], [...path, name], "", required.has(name), depth));
}

function fieldOf(schema, path, id, required, depth) {
  const where = label(path);
  if (typeof schema === "boolean") throw new Unshown(`${where} is a boolean schema`);
  if (!isObject(schema)) throw new Invalid(`${where}: its schema is not an object`);
  checkKeywords(schema, where);
  const used = UNSHOWN.find((k) => k in schema);
  if (used) throw new Unshown(`${where} uses ${used}`);
  const base = {
    id, path, name: path[path.length - 1], label: where, required,
    title: typeof schema.title === "string" ? schema.title : null,
    description: typeof schema.description === "string" ? schema.description : null,
  };
  if (Array.isArray(schema.enum)) {
    if (schema.enum.length === 0) throw new Invalid(`${where}: enum is empty`);
    if (!schema.enum.every(isPrimitive)) throw new Unshown(`${where} has enum values that are not plain values`);
    return { ...base, kind: "enum", options: schema.enum, initial: initialOption(schema) };
  }
  if (Array.isArray(schema.type)) throw new Unshown(`${where} may be one of several types (${schema.type.join(", ")})`);
  if (schema.type === undefined) throw new Unshown(`${where} has no type`);
  if (!SIMPLE.has(schema.type)) {
    if (["array", "null"].includes(schema.type)) throw new Unshown(`${where} is of type ${schema.type}`);
    throw new Invalid(`${where}: ${JSON.stringify(schema.type)} is not a JSON Schema type`);
  }
  if (schema.type === "object") {
    if (depth >= MAX_DEPTH) throw new Unshown(`${where} is nested too deep`);
    return { ...base, kind: "object", fields: fieldsOf(schema, path, depth + 1).map(renumber(id)) };
  }
  const constraints = Object.fromEntries([...NUMERIC, ...LENGTHS, "pattern"].filter((k) => k in schema).map((k) => [k, schema[k]]));
  return { ...base, kind: schema.type, constraints, initial: initialText(schema) };
}

/** Nested fields' ids under their parent's. */
function renumber(parent) {
  return (f, index) => withId(f, `${parent}-${index}`);
}

function withId(f, id) {
  return f.kind === "object" ? { ...f, id, fields: f.fields.map(renumber(id)) } : { ...f, id };
}

function initialText(schema) {
  const d = schema.default;
  if (schema.type === "boolean") return typeof d === "boolean" ? String(d) : "";
  if (schema.type === "string") return typeof d === "string" ? d : "";
  return typeof d === "number" ? String(d) : "";
}

function initialOption(schema) {
  const at = schema.enum.findIndex((v) => v === schema.default);
  return at < 0 ? "" : String(at);
}

/** "a.b" for the path ["a", "b"]. */
export function label(path) {
  return path.join(".");
}

/**
 * The form for `schema`: `{ok: true, fields}`, or `{ok: false, invalid, reason}` when the
 * arguments must be raw JSON (`invalid`: the schema is not valid JSON Schema; otherwise the form
 * cannot show it). Never throws.
 */
export function formFor(schema) {
  try {
    if (!isObject(schema)) throw new Invalid("it is not a JSON object");
    checkKeywords(schema, "the schema");
    const used = UNSHOWN.find((k) => k in schema);
    if (used) throw new Unshown(`it uses ${used}`);
    if (schema.type !== undefined && schema.type !== "object") {
      if (typeof schema.type === "string" && ![...SIMPLE, "array", "null"].includes(schema.type)) {
        throw new Invalid(`${JSON.stringify(schema.type)} is not a JSON Schema type`);
      }
      throw new Invalid(`its type is ${JSON.stringify(schema.type)}, and a tool's arguments are an object`);
    }
    const fields = fieldsOf(schema, [], 0).map((f, index) => withId(f, `mcp-arg-${index}`));
    return { ok: true, fields };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, invalid: true, reason: `The tool's input schema is not valid JSON Schema (${error.message}).` };
    if (error instanceof Unshown) return { ok: false, invalid: false, reason: `The form cannot show this tool's input schema (${error.message}).` };
    return { ok: false, invalid: true, reason: "The tool's input schema could not be read." };
  }
}

/** Every field, nested ones included, in order. */
export function allFields(fields) {
  return fields.flatMap((f) => (f.kind === "object" ? [f, ...allFields(f.fields)] : [f]));
}

/** The values a new form starts with: each field's default, or nothing. */
export function initialValues(fields) {
  return Object.fromEntries(allFields(fields).filter((f) => f.kind !== "object").map((f) => [f.id, f.initial]));
}

// --- the form's values as arguments -----------------------------------------------------------

function checkNumber(f, text) {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) return [null, `${f.label} must be a number, like 3 or 2.5.`];
  if (f.kind === "integer" && !Number.isInteger(n)) return [null, `${f.label} must be a whole number.`];
  return [n, checkRange(f, n)];
}

function checkRange(f, n) {
  const c = f.constraints ?? {};
  if (typeof c.minimum === "number" && n < c.minimum) return `${f.label} must be at least ${c.minimum}.`;
  if (typeof c.maximum === "number" && n > c.maximum) return `${f.label} must be at most ${c.maximum}.`;
  if (typeof c.exclusiveMinimum === "number" && n <= c.exclusiveMinimum) return `${f.label} must be more than ${c.exclusiveMinimum}.`;
  if (typeof c.exclusiveMaximum === "number" && n >= c.exclusiveMaximum) return `${f.label} must be less than ${c.exclusiveMaximum}.`;
  return null;
}

function checkString(f, text) {
  const c = f.constraints ?? {};
  const length = [...text].length;
  if (Number.isInteger(c.minLength) && length < c.minLength) return `${f.label} must be at least ${c.minLength} character${c.minLength === 1 ? "" : "s"} long.`;
  if (Number.isInteger(c.maxLength) && length > c.maxLength) return `${f.label} must be at most ${c.maxLength} character${c.maxLength === 1 ? "" : "s"} long.`;
  if (typeof c.pattern === "string") {
    let re = null;
    try {
      re = new RegExp(c.pattern, "u");
    } catch {
      // A pattern this engine cannot read is left to the server.
    }
    if (re && !re.test(text)) return `${f.label} must match the pattern ${c.pattern}.`;
  }
  return null;
}

/** One field's value from its text: [value, error]; value undefined = not given. */
function fieldValue(f, text) {
  const t = typeof text === "string" ? text : "";
  if (t === "" || (f.kind !== "string" && t.trim() === "")) {
    return [undefined, f.required ? `${f.label} is required.` : null];
  }
  switch (f.kind) {
    case "string": return [t, checkString(f, t)];
    case "number":
    case "integer": return checkNumber(f, t);
    case "boolean": return t === "true" || t === "false" ? [t === "true", null] : [undefined, `${f.label} must be true or false.`];
    case "enum": {
      const at = Number(t);
      return Number.isInteger(at) && at >= 0 && at < f.options.length ? [f.options[at], null] : [undefined, `${f.label} must be one of the choices.`];
    }
    default: return [undefined, null];
  }
}

function collect(fields, values, errors) {
  const out = {};
  for (const f of fields) {
    if (f.kind === "object") {
      const inner = collect(f.fields, values, {});
      const given = Object.keys(inner.value).length > 0;
      if (given || f.required) {
        const checked = collect(f.fields, values, errors);
        out[f.name] = checked.value;
      }
      continue;
    }
    const [value, error] = fieldValue(f, values[f.id]);
    if (error) errors[f.id] = error;
    if (value !== undefined) out[f.name] = value;
  }
  return { value: out };
}

/**
 * The arguments the form's `values` make: `{ok: true, arguments}`, or `{ok: false, errors,
 * arguments}` with one message per field that is wrong (by field id; `arguments` is what could
 * be read, for the JSON view). An optional field left empty is not sent.
 */
export function argumentsFrom(fields, values) {
  const errors = {};
  const { value } = collect(fields, values ?? {}, errors);
  return Object.keys(errors).length ? { ok: false, errors, arguments: value } : { ok: true, arguments: value };
}

// --- raw JSON ----------------------------------------------------------------------------------

/** Raw JSON arguments: `{ok: true, arguments}` (an object) or `{ok: false, message}`. */
export function parseRaw(text) {
  const t = String(text ?? "").trim();
  if (t === "") return { ok: true, arguments: {} };
  let value;
  try {
    value = JSON.parse(t);
  } catch (error) {
    return { ok: false, message: `The arguments are not JSON: ${error.message}. Nothing was sent.` };
  }
  if (!isObject(value)) return { ok: false, message: "The arguments must be a JSON object, like {\"text\": \"hello\"}. Nothing was sent." };
  return { ok: true, arguments: value };
}

function typeOk(f, v) {
  switch (f.kind) {
    case "string": return typeof v === "string";
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "integer": return Number.isInteger(v);
    case "boolean": return typeof v === "boolean";
    case "object": return isObject(v);
    case "enum": return f.options.some((o) => o === v);
    default: return true;
  }
}

const KIND_WORDS = { string: "a string", number: "a number", integer: "a whole number", boolean: "true or false", object: "an object", enum: "one of the choices" };

/** `args` (parsed raw JSON) checked against the form's fields: messages by field id. */
export function checkArguments(fields, args) {
  const errors = {};
  const walk = (list, obj) => {
    for (const f of list) {
      const has = isObject(obj) && Object.hasOwn(obj, f.name);
      if (!has) {
        if (f.required) errors[f.id] = `${f.label} is required.`;
        continue;
      }
      const v = obj[f.name];
      if (!typeOk(f, v)) {
        errors[f.id] = `${f.label} must be ${KIND_WORDS[f.kind]}.`;
        continue;
      }
      if (f.kind === "object") walk(f.fields, v);
      else if (f.kind === "string") {
        const e = checkString(f, v);
        if (e) errors[f.id] = e;
      } else if (f.kind === "number" || f.kind === "integer") {
        const e = checkRange(f, v);
        if (e) errors[f.id] = e;
      }
    }
  };
  walk(fields, args);
  return errors;
}

/** The form's values for `args` (raw JSON going back to the form); fields it lacks stay empty. */
export function valuesFrom(fields, args) {
  const out = {};
  const walk = (list, obj) => {
    for (const f of list) {
      const v = isObject(obj) ? obj[f.name] : undefined;
      if (f.kind === "object") walk(f.fields, v);
      else if (f.kind === "enum") {
        const at = f.options.findIndex((o) => o === v);
        out[f.id] = at < 0 ? "" : String(at);
      } else if (v === undefined || v === null) out[f.id] = "";
      else out[f.id] = typeof v === "string" ? v : (typeOk(f, v) ? String(v) : JSON.stringify(v));
    }
  };
  walk(fields, args);
  return out;
}
