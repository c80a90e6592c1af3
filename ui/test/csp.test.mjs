// Static checks for the rules the CSP and the CI grep enforce, so they fail here first.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = readdirSync(ui).filter((f) => /\.(js|html|css)$/.test(f));
const read = (f) => readFileSync(join(ui, f), "utf8");
// Spelled in pieces so this file does not trip the same grep it mirrors.
const FORBIDDEN = ["inner" + "HTML", "outer" + "HTML", "insertAdjacent" + "HTML", "document" + ".write", "eval" + "(", "new " + "Function"];

test("no HTML-parsing or eval APIs in ui/", () => {
  for (const file of sources) {
    for (const word of FORBIDDEN) assert.ok(!read(file).includes(word), `${file} uses ${word}`);
  }
});

test("only api.js touches window.__TAURI__", () => {
  for (const file of sources.filter((f) => f !== "api.js")) {
    assert.ok(!read(file).includes("__TAURI__"), `${file} touches __TAURI__`);
  }
});

test("state.js and format.js stay pure (no DOM, no timers)", () => {
  for (const file of ["state.js", "format.js"]) {
    const src = read(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    for (const word of ["document", "window", "setInterval", "setTimeout", "Date.now"]) {
      assert.ok(!src.includes(word), `${file} uses ${word}`);
    }
  }
});

test("index.html fits the CSP: external module script and stylesheet, no inline script/style/handlers", () => {
  const html = read("index.html");
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length > 0);
  for (const [, attrs, body] of scripts) {
    assert.match(attrs, /type="module"/);
    assert.match(attrs, /src="[^"]+"/);
    assert.equal(body.trim(), "");
  }
  assert.ok(!/<style\b/i.test(html), "no <style> blocks");
  assert.ok(!/\sstyle=/i.test(html), "no style attributes");
  assert.ok(!/\son[a-z]+=/i.test(html), "no inline event handlers");
  assert.match(html, /<link rel="stylesheet" href="styles.css">/);
});

test("JS never writes inline style attributes", () => {
  for (const file of sources.filter((f) => f.endsWith(".js"))) {
    assert.ok(!/setAttribute\(\s*["']style["']/.test(read(file)), file);
    assert.ok(!/\bstyle:\s/.test(read(file)), `${file} passes a style attribute to h()`);
  }
});

test("the ids the end-to-end test relies on are present in the UI source", () => {
  const all = sources.map(read).join("\n");
  for (const id of ["sign-in", "cancel-sign-in", "open-browser-again", "sign-in-url", "sign-out", "call-api", "save-settings",
    "status", "subject", "api-result", "notice", "skip-restore", "api-error", "api-data", "diagnosis", "instance", "client-id", "scopes", "redirect-port", "api-url",
    "mcp-url", "mcp-list", "mcp-tools", "mcp-revision", "mcp-tool-list", "mcp-call", "mcp-result", "mcp-error", "mcp-structured"]) {
    assert.ok(all.includes(`"${id}"`), id);
  }
});
