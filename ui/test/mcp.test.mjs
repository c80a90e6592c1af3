// The explorer's MCP mode: schema → form (and its fallback), the state machine (Loading / Error /
// Data, isError, cancel, the sign-in a 401 starts), the view (markup shown as text) and main.js's
// commands (mcp_tools, mcp_call, cancel_request; nothing sent when the arguments are wrong).
import { test, describe, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { allElements, byId, installDocument } from "./fake-dom.mjs";
import { argumentsFrom, checkArguments, formFor, initialValues, parseRaw, valuesFrom } from "../mcp-schema.js";
import { MCP_IDLE, mcpBusy, reportSummary, shownText, toCallResult, toReport } from "../mcp.js";
import { initialState, next } from "../state.js";
import { toError } from "../api.js";
import { updateClock, view } from "../view.js";
import { NOW, session, sessionState, settings } from "./fixtures.mjs";

const run = (state, ...events) => events.reduce(next, state);
const signedIn = () => run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(session()) });

const URL = "http://127.0.0.1:5050/mcp";
const MARKUP = "<script>alert(\"x\")</script><b>bold</b>\\u{0007}\\u{001b}[31mred\\u{001b}[0m\\u{0000}end";
const SERVER = { url: URL, revision: "2025-11-25", name: "keyhole-sandbox-mcp", version: "1.0.0", capabilities: {}, instructions: null };
const TOOLS = {
  server: SERVER,
  pages: 3,
  tools: [
    { name: "echo", title: null, description: "Says back the text it is given.", inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } },
    { name: "slow", title: null, description: "Sleeps ms milliseconds.", inputSchema: { type: "object", properties: { ms: { type: "integer", minimum: 0 } } } },
    { name: "markup", title: null, description: "<b>HTML</b> in a description", inputSchema: { type: "object", properties: {} } },
    { name: "fail", title: null, description: "Always fails (isError: true).", inputSchema: { type: "object", properties: {} } },
    { name: "broken", title: null, description: "A schema that is not JSON Schema.", inputSchema: { type: "object", properties: [1, 2] } },
  ],
};
const callResult = (overrides = {}) => ({
  server: SERVER, tool: "echo", content: [{ kind: "text", text: "hi" }], structured: { text: "hi" },
  isError: false, notifications: 0, elapsedMs: 12, ...overrides,
});

/** Signed in, in the MCP mode, with the sandbox's tools listed. */
const listed = () => run(signedIn(),
  { type: "modeChosen", mode: "mcp" },
  { type: "mcpUrlEdited", value: URL },
  { type: "mcpListClicked" },
  { type: "mcpToolsAnswered", result: TOOLS });
const chosen = (name) => run(listed(), { type: "mcpToolChosen", name });

let dispatched;
const dispatch = (e) => dispatched.push(e);
beforeEach(() => {
  installDocument();
  dispatched = [];
});

describe("schema → form", () => {
  test("string, number, integer, boolean, enum and object properties become fields with required marks", () => {
    const form = formFor({
      type: "object",
      properties: {
        text: { type: "string", description: "What to say" },
        ratio: { type: "number" },
        count: { type: "integer", minimum: 1, maximum: 5, default: 2 },
        loud: { type: "boolean" },
        colour: { enum: ["red", "green", 3] },
        where: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
      required: ["text", "colour"],
    });
    assert.equal(form.ok, true);
    const [text, ratio, count, loud, colour, where] = form.fields;
    assert.deepEqual(form.fields.map((f) => [f.name, f.kind, f.required]), [
      ["text", "string", true], ["ratio", "number", false], ["count", "integer", false],
      ["loud", "boolean", false], ["colour", "enum", true], ["where", "object", false],
    ]);
    assert.equal(text.description, "What to say");
    assert.deepEqual(colour.options, ["red", "green", 3]);
    assert.equal(where.fields[0].label, "where.city");
    assert.equal(where.fields[0].required, true);
    assert.equal(initialValues(form.fields)[count.id], "2", "a default fills the field");
    assert.ok([text, ratio, count, loud, colour, where].every((f) => f.id.startsWith("mcp-arg-")));
    assert.equal(new Set([text, ratio, count, loud, colour, where, where.fields[0]].map((f) => f.id)).size, 7, "ids are unique");
  });

  test("a schema that is not valid JSON Schema falls back to raw JSON and says why, never throwing", () => {
    for (const [schema, why] of [
      [null, "it is not a JSON object"],
      ["{\"type\":\"object\"}", "it is not a JSON object"],
      [[1, 2], "it is not a JSON object"],
      [{ type: "object", properties: [1, 2] }, "the schema: properties is not an object"],
      [{ type: "object", required: "text" }, "the schema: required is not a list of property names"],
      [{ type: 42 }, "the schema: type is neither a type name nor a list of them"],
      [{ type: "strnig" }, "\"strnig\" is not a JSON Schema type"],
      [{ type: "object", properties: { a: { type: "texte" } } }, "a: \"texte\" is not a JSON Schema type"],
      [{ type: "object", properties: { a: "string" } }, "a: its schema is not an object"],
      [{ type: "object", properties: { a: { type: "integer", minimum: "0" } } }, "a: minimum is not a number"],
      [{ type: "object", properties: { a: { enum: [] } } }, "a: enum is empty"],
    ]) {
      const form = formFor(schema);
      assert.equal(form.ok, false, JSON.stringify(schema));
      assert.equal(form.invalid, true, JSON.stringify(schema));
      assert.equal(form.reason, `The tool's input schema is not valid JSON Schema (${why}).`);
    }
  });

  test("a valid schema the form cannot show falls back to raw JSON too, saying what it cannot show", () => {
    for (const [schema, why] of [
      [{ type: "object", properties: { tags: { type: "array", items: { type: "string" } } } }, "tags is of type array"],
      [{ type: "object", properties: { a: { anyOf: [{ type: "string" }, { type: "number" }] } } }, "a uses anyOf"],
      [{ type: "object", properties: { a: { type: ["string", "null"] } } }, "a may be one of several types (string, null)"],
      [{ type: "object", properties: { a: {} } }, "a has no type"],
      [{ $ref: "#/$defs/x" }, "it uses $ref"],
      [{ type: "object", required: ["ghost"] }, "ghost is required but has no schema"],
    ]) {
      const form = formFor(schema);
      assert.equal(form.ok, false, JSON.stringify(schema));
      assert.equal(form.invalid, false, JSON.stringify(schema));
      assert.equal(form.reason, `The form cannot show this tool's input schema (${why}).`);
    }
    // No schema properties at all is a form with no fields (whoami, markup, fail).
    assert.deepEqual(formFor({ type: "object", properties: {} }), { ok: true, fields: [] });
    assert.deepEqual(formFor({ type: "object" }), { ok: true, fields: [] });
  });

  test("the values become typed arguments; empty optional fields are not sent", () => {
    const { fields } = formFor({
      type: "object",
      properties: { text: { type: "string" }, n: { type: "number" }, i: { type: "integer" }, b: { type: "boolean" }, e: { enum: ["x", 7] }, o: { type: "object", properties: { c: { type: "string" } } } },
    });
    const [text, n, i, b, e, o] = fields;
    assert.deepEqual(argumentsFrom(fields, { [text.id]: "hi", [n.id]: "2.5", [i.id]: " 3 ", [b.id]: "false", [e.id]: "1", [o.fields[0].id]: "Paris" }),
      { ok: true, arguments: { text: "hi", n: 2.5, i: 3, b: false, e: 7, o: { c: "Paris" } } });
    assert.deepEqual(argumentsFrom(fields, initialValues(fields)), { ok: true, arguments: {} });
    // A string keeps its spaces: "  " is a value.
    assert.deepEqual(argumentsFrom(fields, { [text.id]: "  " }).arguments, { text: "  " });
  });

  test("arguments that do not match the schema say which field, one message each", () => {
    const { fields } = formFor({
      type: "object",
      properties: {
        text: { type: "string", minLength: 2, pattern: "^[a-z]+$" },
        n: { type: "number" },
        ms: { type: "integer", minimum: 0, maximum: 30000 },
        where: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
      required: ["text", "where"],
    });
    const [text, n, ms, where] = fields;
    const city = where.fields[0];
    const out = argumentsFrom(fields, { [text.id]: "", [n.id]: "many", [ms.id]: "1.5", [city.id]: "" });
    assert.equal(out.ok, false);
    assert.deepEqual(out.errors, {
      [text.id]: "text is required.",
      [n.id]: "n must be a number, like 3 or 2.5.",
      [ms.id]: "ms must be a whole number.",
      [city.id]: "where.city is required.",
    });
    assert.equal(argumentsFrom(fields, { [text.id]: "a", [city.id]: "x" }).errors[text.id], "text must be at least 2 characters long.");
    assert.equal(argumentsFrom(fields, { [text.id]: "AB", [city.id]: "x" }).errors[text.id], "text must match the pattern ^[a-z]+$.");
    assert.equal(argumentsFrom(fields, { [text.id]: "ab", [ms.id]: "-1", [city.id]: "x" }).errors[ms.id], "ms must be at least 0.");
    assert.equal(argumentsFrom(fields, { [text.id]: "ab", [ms.id]: "30001", [city.id]: "x" }).errors[ms.id], "ms must be at most 30000.");
  });

  test("raw JSON: not JSON, or not an object, is refused saying so; checked against the schema's fields", () => {
    assert.equal(parseRaw("{oops").ok, false);
    assert.match(parseRaw("{oops").message, /^The arguments are not JSON: .*Nothing was sent\.$/);
    assert.equal(parseRaw("[1, 2]").message, "The arguments must be a JSON object, like {\"text\": \"hello\"}. Nothing was sent.");
    assert.deepEqual(parseRaw("  "), { ok: true, arguments: {} });
    const { fields } = formFor(TOOLS.tools[0].inputSchema);
    assert.deepEqual(checkArguments(fields, {}), { [fields[0].id]: "text is required." });
    assert.deepEqual(checkArguments(fields, { text: 3 }), { [fields[0].id]: "text must be a string." });
    assert.deepEqual(checkArguments(fields, { text: "hi", extra: true }), {});
    assert.deepEqual(valuesFrom(fields, { text: "hi" }), { [fields[0].id]: "hi" });
  });
});

describe("the MCP state machine", () => {
  test("REST | MCP: the mode switches only in the explorer", () => {
    assert.equal(signedIn().mode, "rest");
    assert.equal(run(signedIn(), { type: "modeChosen", mode: "mcp" }).mode, "mcp");
    const s = signedIn();
    assert.equal(next(s, { type: "modeChosen", mode: "soap" }), s);
    const out = run(initialState(NOW), { type: "booted", settings, sessionState: sessionState(null) });
    assert.equal(next(out, { type: "modeChosen", mode: "mcp" }), out, "signed out: no explorer");
  });

  test("an empty URL is said at the field and nothing is sent", () => {
    const s = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpListClicked" });
    assert.equal(s.mcp.tools.status, "idle");
    assert.equal(s.mcp.urlError, "Enter the MCP server's URL, like http://localhost:3000/mcp. Nothing was sent.");
    assert.equal(run(s, { type: "mcpUrlEdited", value: "h" }).mcp.urlError, null, "typing clears it");
  });

  test("listing: Loading… then Data with the revision spoken and every tool; the engine's URL error goes to the field", () => {
    const loading = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: ` ${URL} ` }, { type: "mcpListClicked" });
    assert.equal(loading.mcp.tools.status, "loading");
    assert.deepEqual(loading.mcp.tools.request, { url: URL });
    assert.ok(mcpBusy(loading));
    assert.equal(next(loading, { type: "mcpListClicked" }), loading, "one at a time");
    assert.equal(next(loading, { type: "callApiClicked" }), loading, "the REST Send waits too");
    const data = next(loading, { type: "mcpToolsAnswered", result: TOOLS });
    assert.equal(data.mcp.tools.status, "data");
    assert.equal(data.mcp.tools.result.server.revision, "2025-11-25");
    assert.deepEqual(data.mcp.tools.result.tools.map((t) => t.name), ["echo", "slow", "markup", "fail", "broken"]);

    const refused = next(loading, { type: "mcpToolsFailed", error: { kind: "invalid_setting", field: "apiUrl", message: "“nope” is not a valid URL" } });
    assert.equal(refused.mcp.tools.status, "idle");
    assert.equal(refused.mcp.urlError, "“nope” is not a valid URL");
    const failed = next(loading, { type: "mcpToolsFailed", error: { kind: "mcp", message: "http://127.0.0.1:5050 is not an MCP server: it answers with an HTML page." } });
    assert.equal(failed.mcp.tools.status, "error");
    assert.equal(failed.mcp.tools.errorKind, "mcp");
  });

  test("choosing a tool builds its form; a schema that is not JSON Schema gets the raw JSON editor", () => {
    const echo = chosen("echo");
    assert.equal(echo.mcp.selected, "echo");
    assert.equal(echo.mcp.form.mode, "form");
    const broken = chosen("broken");
    assert.equal(broken.mcp.form.mode, "json");
    assert.equal(broken.mcp.form.schema.invalid, true);
    assert.equal(next(broken, { type: "mcpArgsModeChosen", mode: "form" }), broken, "no form to go back to");
  });

  test("Call with a required field empty says which field and sends nothing", () => {
    const s = next(chosen("echo"), { type: "mcpCallClicked" });
    const id = s.mcp.form.schema.fields[0].id;
    assert.equal(s.mcp.call.status, "idle", "nothing sent");
    assert.deepEqual(s.mcp.form.errors, { [id]: "text is required." });
    const typed = next(s, { type: "mcpArgEdited", id, value: "hello" });
    assert.deepEqual(typed.mcp.form.errors, {}, "the field's error goes as it is fixed");
    const calling = next(typed, { type: "mcpCallClicked" });
    assert.equal(calling.mcp.call.status, "loading");
    assert.deepEqual(calling.mcp.call.request, { url: URL, tool: "echo", arguments: { text: "hello" } });
  });

  test("the JSON editor: what the form held goes along, and bad JSON is refused before sending", () => {
    let s = chosen("echo");
    const id = s.mcp.form.schema.fields[0].id;
    s = run(s, { type: "mcpArgEdited", id, value: "hi" }, { type: "mcpArgsModeChosen", mode: "json" });
    assert.equal(s.mcp.form.raw, "{\n  \"text\": \"hi\"\n}");
    const bad = run(s, { type: "mcpRawEdited", value: "{oops" }, { type: "mcpCallClicked" });
    assert.equal(bad.mcp.call.status, "idle");
    assert.match(bad.mcp.form.rawError, /^The arguments are not JSON/);
    const missing = run(s, { type: "mcpRawEdited", value: "{}" }, { type: "mcpCallClicked" });
    assert.equal(missing.mcp.call.status, "idle");
    assert.deepEqual(Object.values(missing.mcp.form.errors), ["text is required."]);
    const back = run(s, { type: "mcpRawEdited", value: "{\"text\": \"from json\"}" }, { type: "mcpArgsModeChosen", mode: "form" });
    assert.equal(back.mcp.form.values[id], "from json");
  });

  test("a result with isError is an error state, not data; its content still shows why", () => {
    const calling = run(chosen("fail"), { type: "mcpCallClicked" });
    const s = next(calling, { type: "mcpCallAnswered", result: callResult({ tool: "fail", content: [{ kind: "text", text: "this tool always fails" }], structured: null, isError: true }) });
    assert.equal(s.mcp.call.status, "error");
    assert.equal(s.mcp.call.errorKind, "tool_error");
    assert.equal(s.mcp.call.message, "The tool fail reported an error (isError).");
    assert.equal(s.mcp.call.result.content[0].text, "this tool always fails");
    const ok = next(run(chosen("echo"), { type: "mcpArgEdited", id: "mcp-arg-0", value: "hi" }, { type: "mcpCallClicked" }), { type: "mcpCallAnswered", result: callResult() });
    assert.equal(ok.mcp.call.status, "data");
  });

  test("cancel marks the wait; the engine's cancelled error says nothing was received", () => {
    const calling = run(chosen("slow"), { type: "mcpCallClicked" });
    const cancelling = next(calling, { type: "mcpCancelClicked" });
    assert.equal(cancelling.mcp.call.cancelling, true);
    assert.equal(next(cancelling, { type: "mcpCancelClicked" }), cancelling);
    const s = next(cancelling, { type: "mcpCallFailed", error: { kind: "cancelled", message: "the call was cancelled" } });
    assert.equal(s.mcp.call.status, "error");
    assert.equal(s.mcp.call.message, "Cancelled. Nothing was received.");
    assert.equal(s.mcp.call.errorKind, "cancelled");
  });

  test("the sign-in a 401 starts shows its stage in the wait, and its session changes keep the explorer", () => {
    const loading = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: URL }, { type: "mcpListClicked" });
    const waiting = next(loading, { type: "signInProgress", progress: { stage: "waiting", url: "http://127.0.0.1:4000/oauth/authorize?x" }, at: NOW });
    assert.equal(waiting.screen, "signedIn");
    assert.equal(waiting.mcp.tools.stage, "waiting");
    assert.equal(waiting.mcp.tools.signInUrl, "http://127.0.0.1:4000/oauth/authorize?x");
    // The engine switched settings for the server and restores its session: no sign-out screen.
    const restoring = next(waiting, { type: "sessionChanged", state: sessionState(null, { restoring: true }) });
    assert.equal(restoring.screen, "signedIn");
    assert.equal(restoring.mcp.tools.status, "loading");
    const back = next(restoring, { type: "sessionChanged", state: sessionState(session({ subject: "user_2mcp" })) });
    assert.equal(back.screen, "signedIn");
    assert.equal(back.session.subject, "user_2mcp");
  });

  test("text from a server is escaped again: control characters and bidi overrides become visible escapes", () => {
    assert.equal(shownText("a\u0007b\u001b[31m\u202e\nc\td"), "a\\u{0007}b\\u{001b}[31m\\u{202e}\nc\td");
    assert.equal(shownText(MARKUP), MARKUP, "idempotent on the engine's escapes");
    assert.deepEqual(toCallResult({ content: "nope" }).content, []);
    assert.equal(toCallResult(null).isError, false);
  });
});

describe("the MCP view", () => {
  const render = (state) => view(state, dispatch);

  test("the mode switch is in the explorer's first frame; MCP shows its URL field in the editor's place", () => {
    const rest = render(signedIn());
    assert.equal(byId(rest, "mode-rest").getAttribute("aria-pressed"), "true");
    assert.ok(byId(rest, "request-url"));
    assert.equal(byId(rest, "mcp-url"), null);
    byId(rest, "mode-mcp").fire("click");
    assert.deepEqual(dispatched, [{ type: "modeChosen", mode: "mcp" }]);
    const mcp = render(run(signedIn(), { type: "modeChosen", mode: "mcp" }));
    assert.ok(byId(mcp, "mcp-url"));
    assert.equal(byId(mcp, "request-url"), null);
    assert.equal(byId(mcp, "tabs"), null);
    assert.equal(byId(mcp, "mcp-tools").getAttribute("data-result"), "idle");
  });

  test("the tool list: revision spoken, names and descriptions as text", () => {
    const root = render(listed());
    assert.equal(byId(root, "mcp-revision").textContent, "MCP 2025-11-25 · keyhole-sandbox-mcp 1.0.0 · 5 tools (3 pages)");
    assert.equal(byId(root, "mcp-tool-0").getAttribute("data-tool"), "echo");
    const markup = byId(root, "mcp-tool-2");
    assert.match(markup.textContent, /<b>HTML<\/b> in a description/);
    assert.ok(!allElements(markup).some((e) => e.tagName === "B"), "no element from the description");
    markup.fire("click");
    assert.deepEqual(dispatched, [{ type: "mcpToolChosen", name: "markup" }]);
  });

  test("the form: labelled fields with required marks; an error is at its field, marked invalid", () => {
    const s = next(chosen("echo"), { type: "mcpCallClicked" });
    const root = render(s);
    const input = byId(root, "mcp-arg-0");
    assert.equal(input.getAttribute("aria-invalid"), "true");
    assert.equal(input.getAttribute("aria-required"), "true");
    assert.equal(byId(root, "mcp-arg-0-error").textContent, "text is required.");
    assert.match(root.querySelectorAll("label").find((l) => l.getAttribute("for") === "mcp-arg-0").textContent, /^text \* string$/);
    assert.match(byId(root, "mcp-schema-json").textContent, /"required": \[\n\s+"text"\n\s+\]/);
    input.value = "hi";
    input.fire("input");
    assert.deepEqual(dispatched, [{ type: "mcpArgEdited", id: "mcp-arg-0", value: "hi" }]);
  });

  test("an invalid schema: the note says why, and the arguments are a JSON textarea", () => {
    const root = render(chosen("broken"));
    assert.equal(byId(root, "mcp-schema-fallback").getAttribute("data-invalid"), "true");
    assert.match(byId(root, "mcp-schema-fallback").textContent, /not valid JSON Schema \(the schema: properties is not an object\)\. Give the arguments as a JSON object\./);
    assert.ok(byId(root, "mcp-args-raw"));
    assert.equal(byId(root, "mcp-args-form"), null, "no Form | JSON choice");
  });

  test("Loading… with the time waited and Cancel; the clock updates it in place", () => {
    const s = run(chosen("slow"), { type: "mcpCallClicked" });
    const root = render(s);
    assert.equal(byId(root, "mcp-result").getAttribute("data-result"), "loading");
    assert.match(byId(root, "mcp-result").textContent, /Loading… 0 s/);
    byId(root, "mcp-call-cancel").fire("click");
    assert.deepEqual(dispatched, [{ type: "mcpCancelClicked" }]);
    updateClock(root, next(s, { type: "tick", now: NOW + 3000 }));
    assert.equal(byId(root, "mcp-call-elapsed").textContent, "3 s");
  });

  test("a result: content items as text, structured content pretty; markup is shown as the characters it is", () => {
    const calling = run(chosen("markup"), { type: "mcpCallClicked" });
    const s = next(calling, { type: "mcpCallAnswered", result: callResult({ tool: "markup", content: [{ kind: "text", text: MARKUP }, { kind: "image", text: "image/png, 1.2 kB" }], structured: { a: [1, 2] } }) });
    const root = render(s);
    const box = byId(root, "mcp-result");
    assert.equal(box.getAttribute("data-result"), "data");
    const item = byId(root, "mcp-content-0");
    assert.equal(item.textContent, MARKUP);
    assert.ok(!allElements(box).some((e) => ["SCRIPT", "B"].includes(e.tagName)), "no element from the tool's HTML");
    assert.equal(byId(root, "mcp-content-1").textContent, "image: image/png, 1.2 kB");
    assert.equal(byId(root, "mcp-structured").textContent, "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    assert.equal(byId(root, "mcp-meta").textContent, "MCP 2025-11-25 · keyhole-sandbox-mcp 1.0.0 · 12 ms");
  });

  test("isError shows as an error (Error: …, data-result error) with the tool's words below", () => {
    const calling = run(chosen("fail"), { type: "mcpCallClicked" });
    const s = next(calling, { type: "mcpCallAnswered", result: callResult({ tool: "fail", content: [{ kind: "text", text: "this tool always fails" }], structured: null, isError: true }) });
    const root = render(s);
    const box = byId(root, "mcp-result");
    assert.equal(box.getAttribute("data-result"), "error");
    assert.equal(box.getAttribute("data-error-kind"), "tool_error");
    assert.equal(byId(root, "mcp-error").textContent, "Error: The tool fail reported an error (isError).");
    assert.equal(byId(root, "mcp-content-0").textContent, "this tool always fails");
  });
});

// --- main.js: the commands ------------------------------------------------------------------------

const flush = async () => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };
let instance = 0;

async function boot(handlers = {}) {
  const doc = installDocument();
  for (const [tag, id] of [["p", "status"], ["span", "sandbox-badge"], ["main", "app"], ["p", "about"]]) {
    const el = doc.createElement(tag);
    el.setAttribute("id", id);
    doc.body.append(el);
  }
  const calls = [];
  const backend = {
    load_settings: async () => settings,
    session: async () => sessionState(session()),
    history: async () => [],
    profiles: async () => ({ names: [], current: null }),
    saved_requests: async () => [],
    tabs: async () => ({ tabs: [], active: 0 }),
    save_tabs: async () => null,
    ...handlers,
  };
  const keys = {};
  globalThis.window = {
    addEventListener(type, fn) { keys[type] = fn; },
    __TAURI__: {
      core: {
        invoke: async (cmd, args) => {
          calls.push(args === undefined ? [cmd] : [cmd, args]);
          if (!backend[cmd]) throw { kind: "unknown", message: `no fake for ${cmd}` };
          return backend[cmd](args);
        },
      },
      event: { listen: async () => () => {} },
    },
  };
  globalThis.requestAnimationFrame = (cb) => setImmediate(cb);
  globalThis.setInterval = () => 1;
  await import(`../main.js?mcp=${++instance}`);
  await flush();
  const $ = (id) => doc.getElementById(id);
  return {
    $, calls,
    commands: () => calls.map(([c]) => c),
    click: async (id) => { assert.ok($(id), `#${id} exists`); $(id).focus(); $(id).fire("click"); await flush(); },
    type: async (id, value) => { $(id).focus(); $(id).value = value; $(id).fire("input"); await flush(); },
    key: async (init) => { keys.keydown({ ctrlKey: false, metaKey: false, preventDefault() {}, ...init }); await flush(); },
    doc,
  };
}

describe("main.js: the MCP commands", () => {
  test("List tools → mcp_tools(url); a tool, its form, Call → mcp_call(url, tool, arguments)", async () => {
    const ui = await boot({
      mcp_tools: async () => TOOLS,
      mcp_call: async ({ tool, arguments: args }) => callResult({ tool, content: [{ kind: "text", text: args.text }], structured: args }),
    });
    await ui.click("mode-mcp");
    assert.equal(ui.doc.activeElement, ui.$("mcp-url"), "the URL takes the focus");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-list");
    assert.deepEqual(ui.calls.find(([c]) => c === "mcp_tools"), ["mcp_tools", { url: URL }]);
    assert.equal(ui.$("mcp-tools").getAttribute("data-result"), "data");
    await ui.click("mcp-tool-0");
    await ui.type("mcp-arg-0", "hello from the form");
    await ui.click("mcp-call");
    assert.deepEqual(ui.calls.find(([c]) => c === "mcp_call"), ["mcp_call", { url: URL, tool: "echo", arguments: { text: "hello from the form" } }]);
    assert.equal(ui.$("mcp-result").getAttribute("data-result"), "data");
    assert.equal(ui.$("mcp-content-0").textContent, "hello from the form");
  });

  test("arguments that do not match: nothing is sent, and the focus goes to the field", async () => {
    const ui = await boot({ mcp_tools: async () => TOOLS });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-list");
    await ui.click("mcp-tool-0");
    await ui.click("mcp-call");
    assert.ok(!ui.commands().includes("mcp_call"), "nothing sent");
    assert.equal(ui.$("mcp-arg-0-error").textContent, "text is required.");
    assert.equal(ui.doc.activeElement, ui.$("mcp-arg-0"));
  });

  test("Esc cancels an MCP wait through cancel_request; the rejection shows as cancelled", async () => {
    let reject;
    const ui = await boot({
      mcp_tools: async () => TOOLS,
      mcp_call: () => new Promise((_, r) => { reject = r; }),
      cancel_request: async () => { reject({ kind: "cancelled", message: "the call was cancelled" }); },
    });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-list");
    await ui.click("mcp-tool-1");
    await ui.click("mcp-call");
    assert.equal(ui.$("mcp-result").getAttribute("data-result"), "loading");
    await ui.key({ key: "Escape" });
    assert.ok(ui.commands().includes("cancel_request"));
    assert.equal(ui.$("mcp-result").getAttribute("data-result"), "error");
    assert.equal(ui.$("mcp-result").getAttribute("data-error-kind"), "cancelled");
    assert.equal(ui.$("mcp-error").textContent, "Error: Cancelled. Nothing was received.");
  });

  test("Check authorization → mcp_check(url); the report's rows show", async () => {
    const ui = await boot({ mcp_check: async () => REPORT });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-check-button");
    assert.deepEqual(ui.calls.find(([c]) => c === "mcp_check"), ["mcp_check", { url: URL, expiryWait: 0 }]);
    assert.equal(ui.$("mcp-check").getAttribute("data-result"), "data");
    assert.equal(ui.$("mcp-check-summary").textContent, "1 check failed");
  });

  test("the step-up: mcp_step_up(url, scopes) only once pressed, then the refused list goes again once", async () => {
    let lists = 0;
    const ui = await boot({
      mcp_tools: async () => { lists += 1; if (lists === 1) throw FORBIDDEN; return TOOLS; },
      mcp_step_up: async () => session(),
    });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-list");
    assert.equal(ui.$("mcp-tools").getAttribute("data-result"), "error");
    assert.ok(!ui.commands().includes("mcp_step_up"), "not without the user's agreement");
    await ui.click("mcp-tools-step-up");
    assert.deepEqual(ui.calls.find(([c]) => c === "mcp_step_up"), ["mcp_step_up", { url: URL, scopes: "files:write" }]);
    assert.equal(lists, 2);
    assert.equal(ui.$("mcp-tools").getAttribute("data-result"), "data");
  });

  test("a step-up the provider refuses is the list's error, with no second offer", async () => {
    const ui = await boot({
      mcp_tools: async () => { throw FORBIDDEN; },
      mcp_step_up: async () => { throw { kind: "mcp", message: "The provider did not grant files:write although Keyhole asked for it" }; },
    });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-list");
    await ui.click("mcp-tools-step-up");
    assert.equal(ui.commands().filter((c) => c === "mcp_tools").length, 1, "not repeated");
    assert.match(ui.$("mcp-tools-error").textContent, /^Error: The provider did not grant files:write/);
    assert.equal(ui.$("mcp-tools-step-up"), null);
  });

  test("an engine error is Error: its message (a URL that is no MCP server)", async () => {
    const ui = await boot({ mcp_tools: async () => { throw { kind: "mcp", message: "http://127.0.0.1:5050/faults/html is not an MCP server: it answers with an HTML page." }; } });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", "http://127.0.0.1:5050/faults/html");
    await ui.click("mcp-list");
    assert.equal(ui.$("mcp-tools").getAttribute("data-result"), "error");
    assert.match(ui.$("mcp-tools-error").textContent, /^Error: .* is not an MCP server/);
  });
});

const REPORT = {
  url: URL, revision: null, issuer: "http://127.0.0.1:6060",
  checks: [
    { id: "missing_token_refused", title: "Refuses a request without a token", spec: "MCP authorization §2.6; RFC 6750 §3", verdict: "fail", detail: "Without a token it answered otherwise than 401: <b>500</b>" },
    { id: "metadata_served", title: "Serves protected-resource metadata", spec: "RFC 9728 §3", verdict: "pass", detail: "Served." },
    { id: "insufficient_scope", title: "A 403 names the scopes", spec: "RFC 6750 §3.1", verdict: "not_offered", detail: "" },
    { id: "expired_refused", title: "Refuses an expired token", spec: "RFC 7519 §4.1.4", verdict: "not_checked", detail: "Not checked: no wait." },
  ],
};
const FORBIDDEN = { kind: "mcp", message: "The MCP server refused the token: it needs the scope files:write (403 insufficient_scope).", neededScopes: "files:write" };
const checking = () => run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: URL }, { type: "mcpCheckClicked" });
const refusedList = () => run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: URL }, { type: "mcpListClicked" }, { type: "mcpToolsFailed", error: FORBIDDEN });

describe("the authorization report", () => {
  test("Check authorization: Loading… (one MCP wait at a time), then one row per check; an empty URL is said at the field", () => {
    const empty = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpCheckClicked" });
    assert.equal(empty.mcp.check.status, "idle");
    assert.match(empty.mcp.urlError, /^Enter the MCP server's URL/);
    const loading = checking();
    assert.equal(loading.mcp.check.status, "loading");
    assert.deepEqual(loading.mcp.check.request, { url: URL, expiryWait: 0 }, "no wait for the token to expire unless allowed");
    assert.ok(mcpBusy(loading));
    assert.equal(next(loading, { type: "mcpListClicked" }), loading, "the tools wait");
    assert.equal(next(loading, { type: "callApiClicked" }), loading, "the REST Send waits");
    assert.equal(next(loading, { type: "mcpCancelClicked" }).mcp.check.cancelling, true);
    const data = next(loading, { type: "mcpCheckAnswered", result: REPORT });
    assert.equal(data.mcp.check.status, "data");
    assert.deepEqual(data.mcp.check.result.checks.map((c) => c.verdict), ["fail", "pass", "not_offered", "not_checked"]);
    const cancelled = next(loading, { type: "mcpCheckFailed", error: { kind: "cancelled", message: "x" } });
    assert.equal(cancelled.mcp.check.message, "Cancelled. Nothing was received.");
    const refused = next(loading, { type: "mcpCheckFailed", error: { kind: "invalid_setting", field: "apiUrl", message: "notaurl is not a URL" } });
    assert.equal(refused.mcp.check.status, "idle");
    assert.equal(refused.mcp.urlError, "notaurl is not a URL");
  });

  test("the summary counts the failures; an unknown verdict is not checked; text is escaped", () => {
    assert.equal(reportSummary(toReport(REPORT)), "1 check failed");
    const two = { ...REPORT, checks: REPORT.checks.map((c) => ({ ...c, verdict: "fail" })) };
    assert.equal(reportSummary(toReport(two)), "4 checks failed");
    const good = { ...REPORT, checks: REPORT.checks.map((c, i) => ({ ...c, verdict: i % 2 ? "pass" : "not_offered" })) };
    assert.equal(reportSummary(toReport(good)), "Every check passed or was not offered");
    const unchecked = { ...REPORT, checks: [{ ...REPORT.checks[1] }, { ...REPORT.checks[3] }] };
    assert.equal(reportSummary(toReport(unchecked)), "No check failed; 1 was not checked");
    const odd = toReport({ checks: [{ id: "x", title: "t\u001b[31m", spec: "s", verdict: "great", detail: "d" }] });
    assert.equal(odd.checks[0].verdict, "not_checked");
    assert.equal(toReport({ checks: [{ id: "x", title: "t\u001b", verdict: "pass" }] }).checks[0].title, "t\\u{001b}");
  });

  test("the view: the button beside List tools, the rows with verdict text and class, the summary, as text nodes", () => {
    const idle = view(run(signedIn(), { type: "modeChosen", mode: "mcp" }), dispatch);
    assert.equal(byId(idle, "mcp-check-button").textContent, "Check authorization");
    assert.equal(byId(idle, "mcp-check-button").parentNode, byId(idle, "mcp-list").parentNode, "beside List tools");
    assert.equal(byId(idle, "mcp-check"), null);
    byId(idle, "mcp-check-button").fire("click");
    assert.deepEqual(dispatched, [{ type: "mcpCheckClicked" }]);

    const loading = view(checking(), dispatch);
    assert.equal(byId(loading, "mcp-check").getAttribute("data-result"), "loading");
    assert.match(byId(loading, "mcp-check").textContent, /Loading…/);
    byId(loading, "mcp-check-cancel").fire("click");
    assert.deepEqual(dispatched.at(-1), { type: "mcpCancelClicked" });
    assert.equal(byId(loading, "mcp-check-button").getAttribute("aria-disabled"), "true");

    const root = view(next(checking(), { type: "mcpCheckAnswered", result: REPORT }), dispatch);
    assert.equal(byId(root, "mcp-check-summary").textContent, "1 check failed");
    assert.match(byId(root, "mcp-check-summary").getAttribute("class"), /\bverdict-fail\b/);
    const row = byId(root, "mcp-check-missing_token_refused");
    assert.equal(row.getAttribute("data-verdict"), "fail");
    assert.match(row.getAttribute("class"), /\bverdict-fail\b/);
    assert.match(row.textContent, /^FAIL Refuses a request without a token MCP authorization §2\.6; RFC 6750 §3Without a token it answered otherwise than 401: <b>500<\/b>$/);
    assert.ok(!allElements(row).some((e) => e.tagName === "B"), "no element from the detail");
    assert.match(byId(root, "mcp-check-metadata_served").textContent, /^PASS /);
    assert.match(byId(root, "mcp-check-insufficient_scope").textContent, /^NOT OFFERED /);
    assert.match(byId(root, "mcp-check-expired_refused").textContent, /^NOT CHECKED /);
  });
});

describe("the report's wait for the token to expire", () => {
  const inMcp = () => run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: URL });

  test("ticked, Check authorization may wait the seconds given; bad seconds are said at the field and nothing is sent", () => {
    assert.deepEqual(inMcp().mcp.expiry, { wait: false, seconds: "120", error: null });
    const allowed = run(inMcp(), { type: "mcpExpiryToggled", on: true }, { type: "mcpExpiryEdited", value: " 45 " }, { type: "mcpCheckClicked" });
    assert.deepEqual(allowed.mcp.check.request, { url: URL, expiryWait: 45 });
    assert.equal(next(allowed, { type: "mcpExpiryToggled", on: false }), allowed, "not changed while the check runs");
    for (const bad of ["0", "3601", "1.5", "", "ten", "-3"]) {
      const refused = run(inMcp(), { type: "mcpExpiryToggled", on: true }, { type: "mcpExpiryEdited", value: bad }, { type: "mcpCheckClicked" });
      assert.equal(refused.mcp.check.status, "idle", `“${bad}”: nothing sent`);
      assert.equal(refused.mcp.expiry.error, "Give the wait in whole seconds from 1 to 3600, like 120. Nothing was sent.", bad);
      assert.equal(next(refused, { type: "mcpExpiryEdited", value: "30" }).mcp.expiry.error, null, "typing clears it");
    }
    const unticked = run(inMcp(), { type: "mcpExpiryEdited", value: "ten" }, { type: "mcpCheckClicked" });
    assert.deepEqual(unticked.mcp.check.request, { url: URL, expiryWait: 0 }, "unticked, the seconds are not read");
  });

  test("the view: the checkbox and seconds by the buttons, locked while the check waits, which says it may wait and offers Cancel", () => {
    const root = view(inMcp(), dispatch);
    assert.equal(byId(root, "mcp-expiry-wait").hasAttribute("checked"), false);
    assert.equal(byId(root, "mcp-expiry-seconds").hasAttribute("disabled"), true, "the seconds wait for the tick");
    byId(root, "mcp-expiry-wait").fire("change", { target: { checked: true } });
    assert.deepEqual(dispatched.at(-1), { type: "mcpExpiryToggled", on: true });
    const waiting = run(inMcp(), { type: "mcpExpiryToggled", on: true }, { type: "mcpExpiryEdited", value: "30" }, { type: "mcpCheckClicked" });
    const busy = view(waiting, dispatch);
    assert.equal(byId(busy, "mcp-expiry-wait").hasAttribute("disabled"), true);
    assert.equal(byId(busy, "mcp-check-expiry").textContent, "If the access token expires within 30 s, the report waits for it, then sends it expired; Cancel stops the wait.");
    assert.ok(byId(busy, "mcp-check-cancel"), "Cancel");
    assert.ok(byId(busy, "mcp-check-elapsed"), "the time waited");
    const bad = view(run(inMcp(), { type: "mcpExpiryToggled", on: true }, { type: "mcpExpiryEdited", value: "0" }, { type: "mcpCheckClicked" }), dispatch);
    assert.equal(byId(bad, "mcp-expiry-seconds").getAttribute("aria-invalid"), "true");
    assert.match(byId(bad, "mcp-expiry-error").textContent, /^Give the wait in whole seconds/);
    assert.equal(byId(view(checking(), dispatch), "mcp-check-expiry"), null, "no wait allowed: not said");
  });

  test("the engine's notice that it waits shows while it waits and goes when the report comes; other notices stay", () => {
    const waiting = run(inMcp(), { type: "mcpExpiryToggled", on: true }, { type: "mcpCheckClicked" },
      { type: "sessionChanged", state: { session: session(), restoring: false, notice: "Waiting 12 s for the access token to expire, to check that the server refuses it…" } });
    assert.match(waiting.notice.text, /^Waiting 12 s for the access token to expire/);
    assert.equal(byId(view(waiting, dispatch), "notice").textContent, waiting.notice.text);
    assert.equal(next(waiting, { type: "mcpCheckAnswered", result: REPORT }).notice, null);
    assert.equal(next(waiting, { type: "mcpCheckFailed", error: { kind: "cancelled", message: "x" } }).notice, null);
    const other = run(inMcp(), { type: "mcpCheckClicked" }, { type: "sessionChanged", state: { session: session(), restoring: false, notice: "Renewed in the background." } });
    assert.equal(next(other, { type: "mcpCheckAnswered", result: REPORT }).notice.text, "Renewed in the background.");
  });

  test("main.js: mcp_check(url, expiryWait); Esc while it waits cancels through cancel_request", async () => {
    let reject;
    const ui = await boot({
      mcp_check: () => new Promise((_, r) => { reject = r; }),
      cancel_request: async () => { reject({ kind: "cancelled", message: "cancelled" }); },
    });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    ui.$("mcp-expiry-wait").fire("change", { target: { checked: true } });
    await flush();
    await ui.type("mcp-expiry-seconds", "0");
    await ui.click("mcp-check-button");
    assert.ok(!ui.commands().includes("mcp_check"), "bad seconds: nothing sent");
    assert.equal(ui.doc.activeElement, ui.$("mcp-expiry-seconds"), "the focus goes to the seconds");
    await ui.type("mcp-expiry-seconds", "20");
    await ui.click("mcp-check-button");
    assert.deepEqual(ui.calls.find(([c]) => c === "mcp_check"), ["mcp_check", { url: URL, expiryWait: 20 }]);
    assert.equal(ui.$("mcp-check").getAttribute("data-result"), "loading");
    await ui.key({ key: "Escape" });
    assert.ok(ui.commands().includes("cancel_request"));
    assert.equal(ui.$("mcp-check").getAttribute("data-error-kind"), "cancelled");
  });
});

describe("the step-up", () => {
  test("api.js keeps an error's neededScopes (and nothing else it does not know)", () => {
    assert.deepEqual(toError({ ...FORBIDDEN, token: "eyJ" }), FORBIDDEN);
    assert.deepEqual(toError({ kind: "mcp", message: "m", neededScopes: 3 }), { kind: "mcp", message: "m" });
  });

  test("a 403 naming scopes is offered as a step-up; pressing it waits again for the same request, once", () => {
    const refused = refusedList();
    assert.equal(refused.mcp.tools.status, "error");
    assert.equal(refused.mcp.tools.neededScopes, "files:write");
    const up = next(refused, { type: "mcpStepUpClicked", which: "tools" });
    assert.equal(up.mcp.tools.status, "loading");
    assert.equal(up.mcp.tools.stepUp, "files:write");
    assert.deepEqual(up.mcp.tools.request, { url: URL });
    assert.ok(mcpBusy(up));
    const again = run(up, { type: "mcpSteppedUp" });
    assert.equal(again.mcp.tools.stepUp, null);
    assert.equal(again.mcp.tools.status, "loading");
    // Refused again after the step-up: said, not offered a second time.
    const still = next(again, { type: "mcpToolsFailed", error: FORBIDDEN });
    assert.equal(still.mcp.tools.neededScopes, null);
    assert.equal(next(still, { type: "mcpStepUpClicked", which: "tools" }), still);
    // Other errors offer nothing.
    const other = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: URL }, { type: "mcpListClicked" }, { type: "mcpToolsFailed", error: { kind: "mcp", message: "500" } });
    assert.equal(other.mcp.tools.neededScopes, null);
    assert.equal(next(other, { type: "mcpStepUpClicked", which: "tools" }), other);
    // A refused call keeps what was sent, for its repeat.
    const call = run(chosen("echo"), { type: "mcpArgEdited", id: "mcp-arg-0", value: "hi" }, { type: "mcpCallClicked" }, { type: "mcpCallFailed", error: FORBIDDEN });
    const callUp = next(call, { type: "mcpStepUpClicked", which: "call" });
    assert.deepEqual(callUp.mcp.call.request, { url: URL, tool: "echo", arguments: { text: "hi" } });
  });

  test("the view: the button names the scopes; the wait says it signs in again", () => {
    const root = view(refusedList(), dispatch);
    const button = byId(root, "mcp-tools-step-up");
    assert.equal(button.textContent, "Sign in again asking for files:write");
    button.fire("click");
    assert.deepEqual(dispatched, [{ type: "mcpStepUpClicked", which: "tools" }]);
    const waiting = view(next(refusedList(), { type: "mcpStepUpClicked", which: "tools" }), dispatch);
    assert.match(byId(waiting, "mcp-tools").textContent, /^Signing in again asking for files:write… /);
    assert.equal(byId(waiting, "mcp-tools-step-up"), null);
  });
});

const RESOURCES = { server: SERVER, offered: true, items: [{ name: "readme", uri: "sandbox://readme", description: "What <b>this</b> server is.\u202e" }, { name: "", uri: "x://nameless", description: null }] };
const PROMPTS = { server: SERVER, offered: true, items: [{ name: "greet", uri: null, description: "A greeting." }] };
const NONE = { server: SERVER, offered: false, items: [] };
const listingData = (resources, prompts) => run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: URL },
  { type: "mcpListingClicked" }, { type: "mcpListingAnswered", result: { resources, prompts } });

describe("resources and prompts", () => {
  test("Resources & prompts: one MCP wait, then both lists checked (an item needs a name; text escaped); not offered is said as such", () => {
    const empty = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpListingClicked" });
    assert.equal(empty.mcp.listing.status, "idle");
    assert.match(empty.mcp.urlError, /^Enter the MCP server's URL/);
    const loading = run(signedIn(), { type: "modeChosen", mode: "mcp" }, { type: "mcpUrlEdited", value: ` ${URL} ` }, { type: "mcpListingClicked" });
    assert.equal(loading.mcp.listing.status, "loading");
    assert.deepEqual(loading.mcp.listing.request, { url: URL });
    assert.ok(mcpBusy(loading), "one MCP wait at a time");
    assert.equal(next(loading, { type: "mcpListClicked" }), loading);
    assert.equal(next(loading, { type: "callApiClicked" }), loading, "nor a REST call");
    const data = next(loading, { type: "mcpListingAnswered", result: { resources: RESOURCES, prompts: NONE } });
    assert.equal(data.mcp.listing.status, "data");
    assert.deepEqual(data.mcp.listing.result.resources, { offered: true, items: [{ name: "readme", uri: "sandbox://readme", description: "What <b>this</b> server is.\\u{202e}" }] });
    assert.deepEqual(data.mcp.listing.result.prompts, { offered: false, items: [] });
    const cancelled = run(loading, { type: "mcpCancelClicked" }, { type: "mcpListingFailed", error: { kind: "cancelled", message: "x" } });
    assert.equal(cancelled.mcp.listing.status, "error");
    assert.equal(cancelled.mcp.listing.message, "Cancelled. Nothing was received.");
    const refused = next(loading, { type: "mcpListingFailed", error: { kind: "invalid_setting", field: "url", message: "“nope” is not a valid URL" } });
    assert.equal(refused.mcp.listing.status, "idle");
    assert.equal(refused.mcp.urlError, "“nope” is not a valid URL");
  });

  test("the view: name, URI and description of each, as text nodes; 'Not offered' where the server offers none", () => {
    const root = view(listingData(RESOURCES, NONE), dispatch);
    assert.equal(byId(root, "mcp-listing").getAttribute("data-result"), "data");
    assert.equal(byId(root, "mcp-resources-title").textContent, "Resources (1)");
    const item = byId(root, "mcp-resources-0");
    assert.equal(item.getAttribute("data-name"), "readme");
    assert.equal(item.querySelector("code").textContent, "sandbox://readme");
    assert.match(item.textContent, /What <b>this<\/b> server is\./);
    assert.equal(allElements(item).filter((e) => e.tagName === "B").length, 0, "markup stays text");
    assert.equal(byId(root, "mcp-prompts").getAttribute("data-offered"), "false");
    assert.equal(byId(root, "mcp-prompts-none").textContent, "Not offered: the server does not list prompts (no prompts capability).");
    assert.equal(byId(root, "mcp-prompts-list"), null);
    const offeredEmpty = view(listingData({ ...NONE, offered: true }, PROMPTS), dispatch);
    assert.equal(byId(offeredEmpty, "mcp-resources-none").textContent, "The server offers resources but lists none.");
    assert.equal(byId(offeredEmpty, "mcp-prompts-0").getAttribute("data-name"), "greet");
    byId(offeredEmpty, "mcp-listing-button").fire("click");
    assert.deepEqual(dispatched.at(-1), { type: "mcpListingClicked" });
  });

  test("main.js: mcp_resources then mcp_prompts for the URL; Cancel between the two sends no second", async () => {
    const ui = await boot({ mcp_resources: async () => RESOURCES, mcp_prompts: async () => PROMPTS });
    await ui.click("mode-mcp");
    await ui.type("mcp-url", URL);
    await ui.click("mcp-listing-button");
    assert.deepEqual(ui.calls.filter(([c]) => c.startsWith("mcp_")), [["mcp_resources", { url: URL }], ["mcp_prompts", { url: URL }]]);
    assert.equal(ui.$("mcp-listing").getAttribute("data-result"), "data");
    assert.equal(ui.$("mcp-prompts-title").textContent, "Prompts (1)");

    let release;
    const slow = await boot({
      mcp_resources: () => new Promise((resolve) => { release = () => resolve(RESOURCES); }),
      mcp_prompts: async () => PROMPTS,
      cancel_request: async () => null,
    });
    await slow.click("mode-mcp");
    await slow.type("mcp-url", URL);
    await slow.click("mcp-listing-button");
    assert.equal(slow.$("mcp-listing").getAttribute("data-result"), "loading");
    assert.ok(slow.$("mcp-listing-cancel"), "Cancel while it waits");
    await slow.click("mcp-listing-cancel");
    release();
    await flush();
    assert.ok(!slow.commands().includes("mcp_prompts"), "cancelled: the prompts are not asked for");
    assert.equal(slow.$("mcp-listing").getAttribute("data-error-kind"), "cancelled");
  });
});

test("MCP_IDLE is frozen", () => {
  assert.ok(Object.isFrozen(MCP_IDLE));
});
