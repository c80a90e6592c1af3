// Tiny element builder. It only sets attributes, a few properties and text nodes,
// so untrusted strings can never be parsed as HTML.

const PROPERTIES = new Set(["value"]); // live state an attribute would not update

/**
 * h("button", { id: "x", class: "primary", onClick: fn, disabled: true }, "Label", child)
 * - `on<Event>` functions become listeners; `class` may be an array (falsy entries dropped).
 * - true → empty attribute (except aria-*, which want "true"); false/null/undefined → omitted.
 * - Children: nodes, strings/numbers (as text nodes), arrays, and null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (/html/i.test(key)) throw new Error(`h(): refusing to set ${key}`);
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(key)) {
      el[key] = value;
    } else if (key === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else {
      el.setAttribute(key, value === true && !key.startsWith("aria-") ? "" : String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child == null || child === false || child === true) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (typeof child === "string" || typeof child === "number") el.append(document.createTextNode(String(child)));
    else el.append(child);
  }
}

/**
 * `text` with line-break opportunities (<wbr>) after "@" and "/" and before "." and "?", so an
 * e-mail address, a URL or a claim wraps at a sensible point instead of mid-word.
 */
export function breakable(text) {
  const parts = String(text ?? "").split(/(?<=[@/])|(?=[.?])/);
  return parts.flatMap((part, i) => (i === 0 ? [part] : [document.createElement("wbr"), part]));
}
