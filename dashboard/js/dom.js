// Building elements without markup strings: text is always set as text, never parsed as HTML.

/** h('a', {href: '#/x', class: 'y', onclick: fn}, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'style') Object.assign(el.style, value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A short message in the live region (read out by screen readers). */
export function announce(text, kind = 'info') {
  const status = document.getElementById('status');
  status.className = `status ${kind}`;
  status.textContent = text;
  announce.at = text ? Date.now() : 0;
  if (text) {
    clearTimeout(announce.timer);
    announce.timer = setTimeout(() => { status.textContent = ''; status.className = 'status'; }, 8000);
  }
}

/** An error box listing every problem the API reported. */
export function problemBox(error) {
  const items = (error.violations || []).map((v) => h('li', {}, `${v.pointer}: ${v.message}`));
  return h('div', { class: 'panel error', role: 'alert' },
    h('p', {}, error.message || 'Something went wrong.'),
    items.length ? h('ul', {}, items) : null);
}
