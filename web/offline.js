// Offline use of the field app: the service worker (sw.js), the map tiles around the team's
// sites stored for offline use (with a size cap), the "available offline" state, and the
// outbox's badge and list ("待上传 N", each change with its state and the user's choices).

import { $, el } from './dom.js';
import { bytes, dateTime, num, statusLabel, t } from './i18n.js';
import { boundsOf } from './map.js';
import { drop, entries, keepMine, outboxStatus, sendNow, tryAgain } from './outbox.js';
import { tileFormat, tileTemplate } from './api.js';
import { state } from './state.js';

/** Zooms stored around each assigned site. */
export const SITE_ZOOMS = [12, 13, 14, 15, 16, 17];
/** Zooms stored over the whole data set's bounds (the start view). */
export const OVERVIEW_ZOOMS = [8, 9, 10, 11];
/** Margin around a site's bounds, in degrees (about 150 m). */
export const SITE_MARGIN_DEG = 0.0015;
/** At most this many tiles are stored for offline use. */
export const MAX_OFFLINE_TILES = 3000;
/** At most this many bytes of tiles are stored for offline use (40 MiB). */
export const MAX_OFFLINE_BYTES = 40 * 1024 * 1024;
/** The tile cache the service worker answers from (its name in sw.js). */
const TILES = 'renewal-map-tiles-v1';
const STATE_KEY = 'renewal-map.offline';
/** Tiles fetched at once while preparing. */
const PARALLEL = 4;

/** Registers the service worker (same directory as the page, so its scope is the page's). */
export async function registerWorker() {
  if (!('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('sw.js');
  } catch {
    return null;
  }
}

/** Tile x, y at zoom z of a WGS84 point (Web Mercator, clamped to the world). */
export function tileOf(lng, lat, z) {
  const n = 2 ** z;
  const rad = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
  const x = Math.floor(((lng + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return [Math.min(n - 1, Math.max(0, x)), Math.min(n - 1, Math.max(0, y))];
}

function tilesOver([[w, s], [e, n]], zooms, out) {
  for (const z of zooms) {
    const [x0, y0] = tileOf(w, n, z);
    const [x1, y1] = tileOf(e, s, z);
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.add(`${z}/${x}/${y}`);
  }
}

/** URLs of the tiles to store: the overview of the data set and z12–17 around each site. */
export function offlineTiles(features, datasetBounds) {
  const keys = new Set();
  if (datasetBounds) tilesOver([[datasetBounds[0], datasetBounds[1]], [datasetBounds[2], datasetBounds[3]]], OVERVIEW_ZOOMS, keys);
  for (const f of features) {
    const [[w, s], [e, n]] = boundsOf([f.geometry]);
    if (!Number.isFinite(w)) continue;
    const m = SITE_MARGIN_DEG;
    tilesOver([[w - m, s - m], [e + m, n + m]], SITE_ZOOMS, keys);
  }
  // The format the map asks for, so the service worker answers the map's own requests.
  const template = tileTemplate(tileFormat(state.tilejson));
  return [...keys].map((k) => {
    const [z, x, y] = k.split('/');
    return template.replace('{z}', z).replace('{x}', x).replace('{y}', y);
  });
}

/** What is stored: { sites, tiles, bytes, capped, at } (kept in localStorage), or null. */
export function offlineState() {
  try {
    return JSON.parse(localStorage.getItem(STATE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

let preparing = null;

/** The data cache the service worker answers from (its name in sw.js). */
const DATA = 'renewal-map-data-v1';

/** Data answers the page reads on opening, refreshed for offline use. */
export function offlineData() {
  return [
    'api/meta',
    'api/stats',
    'style.json',
    'tiles.json',
    `ogc/collections/sites/items?limit=${state.meta?.limits?.max_page ?? 1000}`,
    'ogc/collections/subdistricts/items?limit=1000',
    ...state.mine.map((f) => `api/sites/${encodeURIComponent(f.id)}`),
  ];
}

/**
 * Stores the answers the page needs to open offline: the page may have read them before the
 * worker controlled it, so they are fetched again into the worker's data cache.
 */
async function storeData() {
  const cache = await caches.open(DATA);
  for (const path of offlineData()) {
    const url = new URL(path, document.baseURI).href;
    try {
      const res = await fetch(url, { cache: 'no-cache', headers: { Accept: 'application/json' } });
      if (res.ok) await cache.put(url, res);
    } catch {
      return;
    }
  }
}

/**
 * Stores the tiles around the team's sites (the site data itself is kept by the service
 * worker as the page reads it). Tiles already stored are not fetched again; the service worker
 * refreshes them whenever the map shows them online. Stops at the size cap and says so.
 */
export function prepareOffline() {
  if (preparing || !('caches' in window) || !navigator.onLine || !state.mine.length) return preparing;
  preparing = (async () => {
    await storeData();
    const urls = offlineTiles(state.mine, state.tilejson?.bounds);
    const cache = await caches.open(TILES);
    const progress = { done: 0, total: urls.length };
    let total = 0;
    let count = 0;
    let capped = false;
    let next = 0;
    const worker = async () => {
      while (next < urls.length && !capped) {
        const url = urls[next++];
        let res = await cache.match(url, { ignoreVary: true });
        if (!res) {
          try {
            res = await fetch(url);
          } catch {
            return;
          }
          if (!res.ok) continue;
          const size = (await res.clone().arrayBuffer()).byteLength;
          if (count + 1 > MAX_OFFLINE_TILES || total + size > MAX_OFFLINE_BYTES) {
            capped = true;
            return;
          }
          await cache.put(url, res);
          total += size;
        } else {
          total += (await res.arrayBuffer()).byteLength;
        }
        count += 1;
        progress.done += 1;
        if (progress.done % 25 === 0) renderOffline(progress);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const s = { sites: state.mine.length, tiles: count, bytes: total, capped, at: new Date().toISOString() };
    localStorage.setItem(STATE_KEY, JSON.stringify(s));
    renderOffline();
  })().finally(() => {
    preparing = null;
  });
  return preparing;
}

/** The "available offline" line (with what is stored and its size) and the network state. */
export function renderOffline(progress = null) {
  const box = $('offline-state');
  if (!box) return;
  document.body.dataset.online = String(navigator.onLine);
  $('offline-now').hidden = navigator.onLine;
  if (!state.me) {
    $('field-bar').hidden = true;
    return;
  }
  $('field-bar').hidden = false;
  if (!('serviceWorker' in navigator) || !('caches' in window)) {
    box.textContent = t('offline_unavailable');
    return;
  }
  const s = offlineState();
  if (progress && progress.done < progress.total) {
    box.dataset.ready = 'false';
    box.textContent = t('offline_preparing', { done: progress.done, total: progress.total });
    return;
  }
  if (!s) {
    box.dataset.ready = 'false';
    box.textContent = '';
    return;
  }
  box.dataset.ready = 'true';
  box.dataset.tiles = String(s.tiles);
  box.dataset.bytes = String(s.bytes);
  box.replaceChildren(
    el('b', { text: t('offline_ready') }),
    ` · ${t('offline_detail', { n: num(s.sites, 0), tiles: num(s.tiles, 0), size: bytes(s.bytes) })}`,
    s.capped ? el('span', { class: 'late', text: ` · ${t('offline_capped', { cap: `${num(MAX_OFFLINE_TILES, 0)} / ${bytes(MAX_OFFLINE_BYTES)}` })}` }) : '',
  );
}

/** A change in words: status, progress, note, photos. */
export function changeWords(ch) {
  const parts = [];
  if (ch.status != null) parts.push(statusLabel(ch.status));
  if (ch.progress != null) parts.push(`${num(ch.progress, 0)}%`);
  if (ch.note) parts.push(ch.note);
  else if (ch.note === '') parts.push(t('note_cleared'));
  if (ch.reason) parts.push(ch.reason);
  return parts.join(' · ');
}

/** Entries of the outbox, for the card (by site) and the list; refreshed by renderOutbox. */
export const outboxView = { entries: [] };

/** The badge ("待上传 N") and the outbox list with each entry's state and choices. */
export async function renderOutbox() {
  const list = await entries();
  outboxView.entries = list;
  const n = list.length;
  const badge = $('outbox-badge');
  badge.hidden = n === 0;
  badge.textContent = t('outbox_count', { n });
  badge.dataset.count = String(n);
  $('outbox').hidden = n === 0;
  $('outbox-send').hidden = n === 0;
  const status = $('outbox-status');
  status.textContent = outboxStatus.needsSignIn
    ? t('outbox_sign_in')
    : outboxStatus.sending
      ? t('outbox_sending')
      : outboxStatus.retryAt
        ? t('outbox_retry_in', { s: Math.max(1, Math.round((outboxStatus.retryAt - Date.now()) / 1000)) })
        : n === 0 && state.me
          ? t('outbox_empty')
          : '';
  $('outbox-list').replaceChildren(
    ...list.map((e) => {
      const photos = e.photos.length ? ` · ${t('history_photos', { n: e.photos.length })}` : '';
      const li = el(
        'li',
        { dataset: { seq: String(e.seq), site: e.site_id, state: e.state } },
        el('div', {}, el('b', { text: e.site_name ?? e.site_id }), ` · ${changeWords(e.change)}${photos}`),
        el('div', { class: 'muted', text: `${t('outbox_made_at', { t: dateTime(e.made_at) })}${e.after != null ? ` · ${t('outbox_waiting')}` : ''}` }),
      );
      if (e.state === 'failed') {
        li.append(
          el('p', { class: 'error', text: `${t('outbox_failed')}: ${e.error ?? ''}` }),
          el('div', { class: 'buttons' },
            el('button', { type: 'button', class: 'outbox-again', text: t('outbox_try_again'), onclick: () => tryAgain(e.seq) }),
            el('button', { type: 'button', class: 'outbox-drop', text: t('outbox_drop'), onclick: () => drop(e.seq) })),
        );
      }
      if (e.state === 'conflict') li.append(conflictBox(e));
      return li;
    }),
  );
}

/**
 * A conflict in words: the other change (the site now, and who made its last change when)
 * and mine, with the two choices. Used in the outbox list and in the site's card.
 */
export function conflictBox(e, { ids = false } = {}) {
  const cur = e.conflict.current?.properties ?? {};
  const last = e.conflict.last;
  const when = last ? ` (${t('by')} ${last.actor ?? ''} ${dateTime(last.at)})` : cur.updated_at ? ` (${dateTime(cur.updated_at)})` : '';
  return el(
    'div',
    { class: 'conflict', role: 'alert', dataset: { seq: String(e.seq) } },
    el('h3', { text: t('conflict_title') }),
    el('p', {}, el('b', { text: t('conflict_theirs') }), `${statusLabel(cur.status)} · ${num(cur.progress, 0)}%`, cur.note ? ` · ${cur.note}` : '', when),
    el('p', {}, el('b', { text: t('conflict_yours') }), changeWords(e.change), ` (${t('outbox_made_at', { t: dateTime(e.made_at) })})`),
    el(
      'div',
      { class: 'buttons' },
      el('button', { type: 'button', id: ids ? 'conflict-retry' : null, class: 'primary conflict-keep', text: t('conflict_keep_mine'), onclick: () => keepMine(e.seq) }),
      el('button', { type: 'button', id: ids ? 'conflict-discard' : null, class: 'conflict-drop', text: t('conflict_drop_mine'), onclick: () => drop(e.seq) }),
    ),
  );
}

/** Wires the outbox buttons (the badge also shows the list: `onBadge`) and the network events. */
export function wireOffline(onNetwork, onBadge) {
  $('outbox-send').addEventListener('click', () => sendNow());
  $('outbox-badge').addEventListener('click', () => {
    onBadge();
    sendNow();
  });
  const changed = () => {
    renderOffline();
    onNetwork();
  };
  window.addEventListener('online', changed);
  window.addEventListener('offline', changed);
  // The retry countdown in the status line.
  setInterval(() => {
    if (outboxStatus.retryAt) renderOutbox();
  }, 1000);
}
