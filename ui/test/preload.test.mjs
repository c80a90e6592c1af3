// The page's modules are all fetched at once: index.html preloads every module main.js imports,
// directly or not, so none waits for the module importing it to be fetched and parsed first (each
// level of imports found late is one more round trip over the custom protocol before the first
// frame; bench/README.md, "First frame").
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (f) => readFileSync(join(ui, f), "utf8");

/** The relative modules `file` imports statically (single- or multi-line import statements). */
function importsOf(file) {
  const src = read(file).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"\.\/([^"]+)"/gm)].map((m) => m[1])
    .concat([...src.matchAll(/^\s*import\s+"\.\/([^"]+)"/gm)].map((m) => m[1]));
}

function graphFrom(entry) {
  const seen = new Set();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop();
    for (const dep of importsOf(file)) {
      assert.ok(existsSync(join(ui, dep)), `${file} imports ${dep}, which is not in ui/`);
      if (!seen.has(dep)) { seen.add(dep); todo.push(dep); }
    }
  }
  return seen;
}

test("index.html preloads every module main.js reaches, and nothing else", () => {
  const html = read("index.html");
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]));
  const [, entry] = html.match(/<script type="module" src="([^"]+)"><\/script>/) ?? [];
  assert.equal(entry, "main.js");
  const reached = graphFrom(entry);
  assert.ok(reached.size >= 10, `the import graph was read: ${[...reached]}`);
  const missing = [...reached].filter((f) => !preloaded.has(f)).sort();
  assert.deepEqual(missing, [], `imported but not preloaded: ${missing.join(", ")}`);
  const extra = [...preloaded].filter((f) => !reached.has(f)).sort();
  assert.deepEqual(extra, [], `preloaded but never imported: ${extra.join(", ")}`);
});
