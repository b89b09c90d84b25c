// Small DOM helpers. Text from the data is always set with textContent, never parsed as HTML.

/** Creates an element; children are nodes or text (never HTML). `on…` props add listeners. */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'style') Object.assign(e.style, v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** The element with id `id`. */
export const $ = (id) => document.getElementById(id);

/** A colour swatch; a late site's swatch gets the dashed ring the map draws. */
export function swatch(color, late = false) {
  return el('span', { class: late ? 'swatch late-ring' : 'swatch', style: { background: color }, 'aria-hidden': 'true' });
}

/** A 0–100 bar. */
export function bar(percent) {
  const p = Math.max(0, Math.min(100, Number(percent) || 0));
  return el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { style: { width: `${p}%` } }));
}
