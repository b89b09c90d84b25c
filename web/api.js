// The API client: relative URLs only, so the page works behind a proxy and under a sub-path.

import { state } from './state.js';
import { t } from './i18n.js';

/** Calls the service. Returns { status, ok, body, etag }; never throws for HTTP errors. */
export async function api(path, { method = 'GET', headers = {}, body } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (state.token && !h.Authorization) h.Authorization = `Bearer ${state.token}`;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body });
  } catch {
    return { status: 0, ok: false, body: { error: 'network', message: t('network_error') }, etag: null };
  }
  const text = await res.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  return { status: res.status, ok: res.ok, body: parsed, etag: res.headers.get('ETag') };
}

/** "status message" of a failed answer. */
export function errorText(r) {
  const m = r.body && typeof r.body.message === 'string' ? r.body.message : '';
  return `${r.status || ''} ${m}`.trim();
}

/**
 * A same-origin path for a link the server built as an absolute URL (from the Host header, so
 * possibly the wrong scheme or host behind a proxy): its path and query, relative to the page.
 */
export function pageRelative(href) {
  const u = new URL(href, document.baseURI);
  return `${u.pathname.replace(/^\/+/, '')}${u.search}`;
}

/**
 * The tile format the page uses: `mlt` (MapLibre Tiles) when the server's TileJSON says MLT
 * is the smaller over its sample of the data set's tiles (`formats.smaller`), else `mvt`.
 * `?tiles=mvt` or `?tiles=mlt` in the page's address chooses one (to compare the two).
 */
export function tileFormat(tilejson) {
  const asked = new URLSearchParams(location.search).get('tiles');
  if (asked === 'mvt' || asked === 'mlt') return asked;
  return tilejson?.formats?.smaller === 'mlt' ? 'mlt' : 'mvt';
}

/** The vector tile URL template in `format` (`mvt` or `mlt`), relative to the page; `{z}` etc. stay literal. */
export function tileTemplate(format = 'mvt') {
  return `${new URL('tiles/', document.baseURI).href}{z}/{x}/{y}.${format}`;
}

/**
 * Whether an endpoint another part of the service may not have yet answers (HEAD, status
 * below 400). Used for live events, the time slider and exports, which the page only offers
 * when the server has them.
 */
export async function available(path) {
  try {
    const r = await fetch(path, { method: 'HEAD' });
    return r.status < 400;
  } catch {
    return false;
  }
}

/** Every feature of an OGC items URL, following `next` links (at most `pages` pages). */
export async function allItems(url, pages = 20) {
  const all = [];
  for (let page = 0; url && page < pages; page++) {
    const r = await api(url);
    if (!r.ok) return { ok: false, r, features: all };
    all.push(...r.body.features);
    const next = (r.body.links ?? []).find((l) => l.rel === 'next')?.href;
    url = next ? pageRelative(next) : null;
  }
  return { ok: true, features: all };
}
