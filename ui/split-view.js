// The explorer's split: the request editor and the answer, side by side from 1100 px wide and
// stacked below, with a divider dragged by pointer or moved with the arrow keys. The fraction
// lives here (and in localStorage) so the app's full re-render keeps it; dragging only sets a
// CSS variable, no re-render.

import { h } from "./dom.js";
import { clampSplit, splitKey } from "./viewer.js";

const KEY = "keyhole.split";
let fraction = clampSplit(Number(globalThis.localStorage?.getItem(KEY) ?? 0.45));

function remember(value, bench) {
  fraction = clampSplit(value);
  bench.style.setProperty("--split", `${(fraction * 100).toFixed(1)}%`);
  bench.querySelector(".divider")?.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
  try {
    globalThis.localStorage?.setItem(KEY, String(fraction));
  } catch {
    // No storage: the split lasts until the window closes.
  }
}

function sideBySide(bench) {
  return getComputedStyle(bench).gridTemplateColumns.split(" ").length > 1;
}

/** The split with `editor` and `answer` in its panes. */
export function workbench(editor, answer) {
  const divider = h("div", {
    id: "split-divider", class: "divider", role: "separator", tabindex: "0",
    "aria-label": "Resize the request and the answer", "aria-valuemin": "20", "aria-valuemax": "80",
    "aria-valuenow": String(Math.round(fraction * 100)),
    onKeydown: (e) => {
      const value = splitKey(fraction, e.key);
      if (value === null) return;
      e.preventDefault();
      remember(value, bench);
    },
    onPointerdown: (e) => {
      e.preventDefault();
      divider.setPointerCapture(e.pointerId);
      const rect = bench.getBoundingClientRect();
      const across = sideBySide(bench);
      const move = (m) => remember(across ? (m.clientX - rect.left) / rect.width : (m.clientY - rect.top) / rect.height, bench);
      const up = () => {
        divider.removeEventListener("pointermove", move);
        divider.removeEventListener("pointerup", up);
      };
      divider.addEventListener("pointermove", move);
      divider.addEventListener("pointerup", up);
    },
  });
  const bench = h("div", { id: "workbench", class: "workbench" },
    h("div", { class: "pane pane-editor" }, editor), divider, h("div", { class: "pane pane-answer" }, answer));
  bench.style.setProperty("--split", `${(fraction * 100).toFixed(1)}%`);
  return bench;
}
