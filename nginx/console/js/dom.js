// dom.js - the one way the console puts anything on the page: elements made
// with createElement, text set as text. Nothing here (or anywhere in the
// console) uses innerHTML, outerHTML, insertAdjacentHTML or document.write,
// so what a function returned, a server answered or a user typed is shown as
// text and can never become markup or script (SPEC §15).

export const $ = (sel, root = document) => root.querySelector(sel);

// el('td', {class: 'x', title: t}, child, 'text', ...): attribute names come
// from the console's own code; values and children are text.
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled') e[k] = true;
    else e.setAttribute(k, String(v));
  }
  add(e, children);
  return e;
}

// Appends children; strings and numbers become text nodes.
export function add(parent, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(c instanceof Node ? c : String(c));
  }
  return parent;
}

// Replaces an element's content with text (or nothing).
export function text(e, s) {
  e.textContent = s === null || s === undefined ? '' : String(s);
}

export function show(e, visible) {
  e.hidden = !visible;
}

export function bytes(n) {
  if (typeof n !== 'number' || !isFinite(n)) return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

// Seconds since the epoch as local "YYYY-MM-DD HH:MM:SS".
export function when(seconds) {
  if (typeof seconds !== 'number') return '';
  const d = new Date(seconds * 1000);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
