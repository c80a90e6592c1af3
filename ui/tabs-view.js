// The tab strip above the request editor. Like the other views: handlers only dispatch, text
// only goes in as text nodes via h().

import { h } from "./dom.js";
import { tabTitle, tabsShown } from "./tabs.js";

export const TAB_SHORTCUTS = "Ctrl+T new tab · Ctrl+W closes it · Ctrl+PageUp/PageDown switch · with Shift: move";

/** role=tablist: one tab per request (drag one onto another's place to move it), × and +. */
export function tabsBar(state, dispatch) {
  const shown = tabsShown(state);
  return h("div", { id: "tabs", class: "tabs", role: "tablist", "aria-label": "Requests", title: TAB_SHORTCUTS },
    shown.map((t, index) => {
      const active = t.id === state.tabs.active;
      const waiting = t.api?.status === "loading" || t.matrix?.status === "loading";
      const full = `${t.request.method} ${t.request.url || "(no URL yet)"}`;
      return h("div", {
        class: ["tab", active && "active"], "data-tab": String(t.id), "data-index": String(index),
        onDragover: (e) => e.preventDefault(),
        onDrop: (e) => {
          e.preventDefault();
          const id = Number(e.dataTransfer?.getData("text/x-keyhole-tab"));
          if (Number.isInteger(id) && id > 0) dispatch({ type: "tabMoved", id, to: index });
        },
      },
      h("button", {
        id: `tab-${t.id}`, type: "button", role: "tab", class: "tab-title",
        "aria-selected": active ? "true" : "false", "aria-controls": "request-panel",
        // Only the tab in front is in the Tab order; Ctrl+PageUp/PageDown reach the others.
        tabindex: active ? "0" : "-1", draggable: "true", title: full,
        onClick: () => dispatch({ type: "tabChosen", id: t.id }),
        onDragstart: (e) => {
          e.dataTransfer?.setData("text/x-keyhole-tab", String(t.id));
          if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
        },
      },
      waiting ? h("span", { class: "spinner", "aria-hidden": "true" }) : null,
      tabTitle(t.request)),
      h("button", {
        id: `tab-${t.id}-close`, type: "button", class: "tab-close", tabindex: active ? "0" : "-1",
        "aria-label": `Close ${tabTitle(t.request)}`, title: waiting ? "Cancel its request first" : "Close (Ctrl+W)",
        "aria-disabled": waiting ? "true" : null,
        onClick: () => dispatch({ type: "tabClosed", id: t.id }),
      }, "×"));
    }),
    h("button", { id: "tab-new", type: "button", class: "tab-new", "aria-label": "New tab", title: "New tab (Ctrl+T)", onClick: () => dispatch({ type: "tabNew" }) }, "+"));
}
