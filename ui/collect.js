// Gives the web process's memory back after a large answer's viewer is forgotten (its tab closed,
// a newer answer in its place). The viewer and what it fetched while the user scrolled are
// garbage then, but JavaScriptCore frees garbage only when the page next allocates enough to
// start a collection (a full one, for a viewer that lived long enough to be old), not on a
// timer, and WebKitGTK 4.1 gives the app no call to start one (bench/README.md, "Answer viewer").
// So the page allocates short-lived objects in short slices, between which it stays responsive,
// until a token made with the viewer has been collected (a FinalizationRegistry says so) or a
// bound is reached. The token lives exactly as long as the viewer, so its collection means the
// viewer was collected too. That first full collection does not yet give the memory back to the
// system (measured: the web process stays ~45 MiB up until the next one), so the wait goes on
// until a second token, made then and held until it is old, has been collected as well.

/** Work per slice, and the pause after it (the page handles input and paints in between). */
export const SLICE_MS = 4;
export const PAUSE_MS = 50;
/** At most this many slices per forgotten viewer: ~0.8 s of allocation spread over ~11 s. */
export const MAX_SLICES = 200;
/**
 * The second token is held for this many slices: each allocates megabytes, so a young
 * collection promotes it meanwhile, and only a full collection can then free it.
 */
export const HOLD_SLICES = 10;

/**
 * A collector over `env` ({ FinalizationRegistry, setTimeout, now }; the page's own by default,
 * a fake one in the unit tests). Without a FinalizationRegistry it does nothing: it could not tell
 * when to stop.
 */
export function collector(env = globalThis) {
  const now = env.now ?? (() => globalThis.performance.now());
  // viewer id → { left: slices left, second: null | { token, hold: slices it is still held } }
  const waiting = new Map();
  const ended = new Map(); // viewer id → "collected" | "gave up", the last few
  // The last RING slices' objects (churn): dropped once nothing is waiting any more.
  const kept = [];
  const end = (id, how) => {
    if (!waiting.delete(id)) return;
    ended.set(id, how);
    if (ended.size > 16) ended.delete(ended.keys().next().value);
    if (waiting.size === 0) kept.length = 0;
  };
  // The viewer's token was collected (a first full collection): wait for a second token's.
  const waitForSecond = (id) => {
    const wait = waiting.get(id);
    if (!wait || wait.second) return;
    const token = { after: id };
    registry.register(token, { id, second: true });
    wait.second = { token, hold: HOLD_SLICES };
  };
  let timer = null;
  const registry = env.FinalizationRegistry
    ? new env.FinalizationRegistry(({ id, second }) => (second ? end(id, "collected") : waitForSecond(id)))
    : null;

  const schedule = () => {
    if (timer === null && waiting.size > 0) timer = env.setTimeout(slice, PAUSE_MS);
  };
  const slice = () => {
    timer = null;
    kept.push(churn(now() + SLICE_MS, now));
    if (kept.length > RING) kept.shift();
    for (const [id, wait] of waiting) {
      if (wait.second && wait.second.hold > 0 && --wait.second.hold === 0) wait.second.token = null;
      if (wait.left <= 1) end(id, "gave up");
      else wait.left -= 1;
    }
    schedule();
  };

  return {
    /** A token for the viewer `id`: keep it on the viewer, and nowhere else. */
    token(id) {
      const token = { viewer: id };
      registry?.register(token, { id, second: false });
      return token;
    },
    /** The viewer `id` was forgotten: allocate until it and a second token are collected (or MAX_SLICES). */
    soon(id) {
      if (!registry || waiting.has(id)) return;
      waiting.set(id, { left: MAX_SLICES, second: null });
      schedule();
    },
    /** The viewers still waiting to be collected (for the tests). */
    waiting: () => [...waiting.keys()],
    /** How the wait for `id` ended: "collected", "gave up" (MAX_SLICES), or undefined. */
    ended: (id) => ended.get(id),
  };
}

/**
 * Slices whose objects are kept: they outlive the young generation's collections and fill the
 * old one, for only a full collection frees a viewer that lived long, and objects that die young
 * never start one.
 */
const RING = 4;

/** Small objects that escape into an array (so the JIT cannot elide them), made until `until`. */
function churn(until, now) {
  const made = [];
  do {
    for (let i = 0; i < 2048; i++) made.push({ i, of: made.length });
  } while (now() < until);
  return made;
}
