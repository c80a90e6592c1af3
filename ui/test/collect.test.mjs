// collect.js: after a large viewer is forgotten, the page allocates in short slices until the
// viewer's token and then a second token have been collected, or a bound is reached.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { MAX_SLICES, PAUSE_MS, SLICE_MS, collector } from "../collect.js";

/** A page clock, timers run by the test, and a registry the test collects from. */
function fakeEnv({ registry = true } = {}) {
  let clock = 0;
  const timers = [];
  const registries = [];
  const env = {
    // Each reading of the clock moves it on, as allocating does.
    now: () => (clock += 0.5),
    setTimeout: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
  };
  if (registry) {
    env.FinalizationRegistry = class {
      constructor(callback) { this.callback = callback; this.held = new Map(); registries.push(this); }
      register(token, held) { this.held.set(token, held); }
    };
  }
  return {
    env,
    timers,
    /**
     * The GC collects the viewer `id`'s token (`second`: the token made after it was collected),
     * if that token is registered; its callback runs, as a task would. Answers whether it was.
     */
    collect: (id, { second = false } = {}) => {
      for (const r of registries) {
        for (const [token, held] of r.held) {
          if ((second ? token.after : token.viewer) !== id) continue;
          r.held.delete(token);
          r.callback(held);
          return true;
        }
      }
      return false;
    },
    /** Runs the next pending slice; false if none is pending. */
    step: () => { const t = timers.shift(); if (!t) return false; t.fn(); return true; },
    elapsed: () => clock,
  };
}

describe("collecting a forgotten viewer", () => {
  test("slices run, paused between, until the viewer's token and a second one are collected, then stop", () => {
    const fake = fakeEnv();
    const c = collector(fake.env);
    c.token(7);
    c.soon(7);
    assert.deepEqual(c.waiting(), [7]);
    assert.equal(fake.timers.length, 1);
    assert.equal(fake.timers[0].ms, PAUSE_MS, "the page gets its turn before the first slice");
    const before = fake.elapsed();
    assert.ok(fake.step());
    assert.ok(fake.elapsed() - before >= SLICE_MS, "a slice allocates for SLICE_MS");
    assert.ok(fake.step(), "not collected yet: another slice");
    assert.equal(fake.collect(7, { second: true }), false, "no second token before the viewer's is collected");
    assert.ok(fake.collect(7));
    assert.deepEqual(c.waiting(), [7], "the viewer is collected, its memory not yet given back: on");
    assert.equal(c.ended(7), undefined);
    assert.ok(fake.step(), "another slice");
    assert.ok(fake.collect(7, { second: true }), "a second token was made when the viewer's was collected");
    assert.deepEqual(c.waiting(), []);
    assert.equal(c.ended(7), "collected");
    assert.ok(fake.step(), "the slice already scheduled runs");
    assert.equal(fake.timers.length, 0, "and no other is scheduled");
  });

  test("a token never collected stops after MAX_SLICES", () => {
    const fake = fakeEnv();
    const c = collector(fake.env);
    c.token(3);
    c.soon(3);
    let slices = 0;
    while (fake.step()) slices += 1;
    assert.equal(slices, MAX_SLICES);
    assert.deepEqual(c.waiting(), []);
    assert.equal(c.ended(3), "gave up");
  });

  test("asking twice for the same viewer runs one set of slices; two viewers share them", () => {
    const fake = fakeEnv();
    const c = collector(fake.env);
    c.token(1);
    c.token(2);
    c.soon(1);
    c.soon(1);
    c.soon(2);
    assert.equal(fake.timers.length, 1, "one slice pending for both");
    fake.collect(1);
    fake.collect(1, { second: true });
    assert.ok(fake.step());
    assert.deepEqual(c.waiting(), [2]);
    fake.collect(2);
    fake.collect(2, { second: true });
    assert.ok(fake.step());
    assert.equal(fake.timers.length, 0);
  });

  test("another viewer's token collected does not stop the wait", () => {
    const fake = fakeEnv();
    const c = collector(fake.env);
    c.token(1);
    c.token(2);
    c.soon(1);
    fake.collect(2);
    assert.equal(fake.collect(2, { second: true }), false, "2 was not waited for: no second token");
    assert.deepEqual(c.waiting(), [1]);
    assert.equal(c.ended(2), undefined, "2 was not waited for");
  });

  test("without a FinalizationRegistry nothing runs: it could not tell when to stop", () => {
    const fake = fakeEnv({ registry: false });
    const c = collector(fake.env);
    c.token(5);
    c.soon(5);
    assert.equal(fake.timers.length, 0);
    assert.deepEqual(c.waiting(), []);
  });

  test("with the engine's own collector: the forgotten token is collected before the bound", async () => {
    // Node's V8 stands in for JavaScriptCore here: a real registry, real timers, real allocation.
    const c = collector();
    let viewer = { token: c.token(9), lines: Array.from({ length: 10_000 }, (_, i) => ({ text: `line ${i}` })) };
    assert.equal(viewer.lines.length, 10_000);
    viewer = null;
    c.soon(9);
    const started = Date.now();
    while (c.waiting().length > 0 && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 20));
    // "collected" needs the second token too: made once the viewer's went, held HOLD_SLICES, then
    // freed by a later collection (were it never let go, this would be "gave up").
    assert.equal(c.ended(9), "collected", "the registry said so before MAX_SLICES ran out");
  });
});
