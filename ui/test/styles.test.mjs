// Static checks of styles.css for what the first frame depends on (bench/README.md, "First frame").
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "styles.css"), "utf8")
  .replace(/\/\*[\s\S]*?\*\//g, "");
const GENERIC = new Set(["serif", "sans-serif", "monospace", "cursive", "fantasy", "inherit"]);

/** The family list of a `font` shorthand or `font-family` value: what follows the size (and line height). */
function families(property, value) {
  const list = property === "font" ? value.replace(/^.*?\d(?:px|rem|em|%)(?:\/[\d.]+\w*)?\s+/, "") : value;
  return list.split(",").map((f) => f.trim());
}

test("every font family is a generic one or a variable that is (a named family costs fontconfig lookups before the first paint)", () => {
  const vars = Object.fromEntries([...css.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map(([, k, v]) => [k, v.trim()]));
  const resolve = (f) => (f.startsWith("var(") ? vars[f.slice(4, -1)] : f);
  let checked = 0;
  for (const [, property, value] of css.matchAll(/(?:^|[\s;{])(font-family|font)\s*:\s*([^;}]+)/g)) {
    if (value.trim() === "inherit") continue;
    for (const family of families(property, value.trim())) {
      const resolved = resolve(family);
      assert.ok(resolved !== undefined, `${family} is not defined`);
      for (const f of resolved.split(",").map((x) => x.trim())) {
        assert.ok(GENERIC.has(f), `"${property}: ${value.trim()}" names the font family ${f}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 5, `found the font declarations (${checked})`);
});

test("the page draws its own scrollbar (WebKit's overlay one fades in and out after load)", () => {
  assert.match(css, /::-webkit-scrollbar\s*\{[^}]*width:\s*\d+px/);
  assert.match(css, /::-webkit-scrollbar-thumb\s*\{[^}]*background/);
});
