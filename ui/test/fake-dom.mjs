// A deliberately tiny DOM stand-in: just what dom.js, view.js and main.js use, so the UI
// can be exercised under `node --test` without a browser. Not a general DOM.

class FakeText {
  constructor(data) {
    this.nodeType = 3;
    this.data = data;
    this.parentNode = null;
  }
  get textContent() { return this.data; }
}

class FakeElement {
  constructor(doc, tag) {
    this.ownerDocument = doc;
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.childNodes = [];
    this.listeners = {};
    this.parentNode = null;
    // CSSOM as the split and the viewer use it: properties and custom properties.
    this.style = { setProperty(k, v) { this[k] = v; } };
    this.scrollTop = 0;
    this.clientHeight = 0;
    const el = this;
    this.classList = {
      contains: (c) => (el.getAttribute("class") ?? "").split(/\s+/).includes(c),
      toggle(c, force) {
        const set = new Set((el.getAttribute("class") ?? "").split(/\s+/).filter(Boolean));
        if (force ?? !set.has(c)) set.add(c); else set.delete(c);
        el.setAttribute("class", [...set].join(" "));
      },
    };
  }
  /** Reflects the attribute, as in a browser. */
  get hidden() { return this.hasAttribute("hidden"); }
  set hidden(v) { if (v) this.setAttribute("hidden", ""); else this.removeAttribute("hidden"); }
  setAttribute(k, v) { this.attributes.set(k, String(v)); }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  hasAttribute(k) { return this.attributes.has(k); }
  removeAttribute(k) { this.attributes.delete(k); }
  get id() { return this.getAttribute("id") ?? ""; }
  get children() { return this.childNodes.filter((c) => c.nodeType === 1); }
  get isConnected() {
    let n = this;
    while (n.parentNode) n = n.parentNode;
    return n === this.ownerDocument.documentElement;
  }
  addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); }
  append(...nodes) {
    for (const n of nodes) {
      if (n.parentNode) n.parentNode.childNodes = n.parentNode.childNodes.filter((c) => c !== n);
      n.parentNode = this;
      this.childNodes.push(n);
    }
  }
  insertBefore(node, ref) {
    if (node.parentNode) node.parentNode.childNodes = node.parentNode.childNodes.filter((c) => c !== node);
    node.parentNode = this;
    const at = ref ? this.childNodes.indexOf(ref) : -1;
    if (at === -1) this.childNodes.push(node);
    else this.childNodes.splice(at, 0, node);
    return node;
  }
  remove() {
    if (!this.parentNode) return;
    this.parentNode.childNodes = this.parentNode.childNodes.filter((c) => c !== this);
    this.parentNode = null;
  }
  replaceChildren(...nodes) {
    for (const c of this.childNodes) c.parentNode = null;
    this.childNodes = [];
    this.append(...nodes);
  }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(""); }
  set textContent(v) { this.replaceChildren(new FakeText(String(v))); }
  contains(node) {
    for (let n = node; n; n = n.parentNode) if (n === this) return true;
    return false;
  }
  *walk() {
    yield this;
    for (const c of this.children) yield* c.walk();
  }
  /** Supports "#id", "[attr]" and "tag" selectors only. */
  querySelector(sel) { return this.querySelectorAll(sel)[0] ?? null; }
  querySelectorAll(sel) {
    const match = sel.startsWith("#") ? (e) => e.id === sel.slice(1)
      : sel.startsWith("[") ? (e) => e.hasAttribute(sel.slice(1, -1))
        : (e) => e.tagName === sel.toUpperCase();
    return [...this.walk()].filter((e) => e !== this && match(e));
  }
  focus() { this.ownerDocument.activeElement = this; }
  /** Supports "tag[attr]" and the selectors querySelector does. */
  closest(sel) {
    const m = /^(\w+)\[([\w-]+)\]$/.exec(sel);
    const match = m ? (e) => e.tagName === m[1].toUpperCase() && e.hasAttribute(m[2]) : (e) => e.parentNode?.querySelectorAll(sel).includes(e);
    for (let n = this; n && n.nodeType === 1; n = n.parentNode) if (match(n)) return n;
    return null;
  }
  select() { this.selected = true; }
  setSelectionRange(a, b) { this.selectionStart = a; this.selectionEnd = b; }
  /** Fire listeners like a user action would; returns the event object. */
  fire(type, extra = {}) {
    const event = { type, target: this, currentTarget: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...extra };
    for (const fn of this.listeners[type] ?? []) fn(event);
    return event;
  }
}

export function createDocument() {
  const doc = {
    createElement: (tag) => new FakeElement(doc, tag),
    createElementNS: (_ns, tag) => new FakeElement(doc, tag),
    createTextNode: (data) => new FakeText(data),
    getElementById: (id) => doc.documentElement.querySelector(`#${id}`),
  };
  doc.documentElement = new FakeElement(doc, "html");
  doc.body = new FakeElement(doc, "body");
  doc.documentElement.append(doc.body);
  doc.activeElement = doc.body;
  return doc;
}

/** Install a fresh fake document as globalThis.document and return it. */
export function installDocument() {
  const doc = createDocument();
  globalThis.document = doc;
  return doc;
}

export function byId(root, id) {
  return root.id === id ? root : root.querySelector(`#${id}`);
}

export function allElements(root) {
  return [...root.walk()];
}
