// Signing in with a field team's token, and the team's list of sites ("my sites").

import { allItems, api, available } from './api.js';
import { $, el, swatch } from './dom.js';
import { kindLabel, num, statusLabel, t } from './i18n.js';
import { STATUS_COLORS } from './layers.js';
import { distanceText, distanceTo } from './location.js';
import { outboxView } from './offline.js';
import { kvGet, kvSet } from './outbox.js';
import { state } from './state.js';

const TOKEN_KEY = 'renewal-map.token';

/** Handlers installed by main.js: focus a site, redraw the card, the team's sites were listed. */
export const sessionHooks = { focusSite: () => {}, renderCard: () => {}, listed: () => {} };

export function renderWho() {
  const me = state.me;
  $('who').hidden = !me;
  const who = me ? `${me.name ?? ''}${me.team ? ` · ${me.team}` : ''}` : '';
  $('who').textContent = who;
  $('mine-who').textContent = who;
  $('mine-who').hidden = !me;
  $('sign-in').hidden = !!me;
  $('sign-out').hidden = !me;
}

/**
 * The token lives in sessionStorage (gone when the tab closes: phones are shared); only with
 * "remember on this device" in localStorage.
 */
function storeToken(token, remember) {
  forgetToken();
  (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

/** The key this device keeps an account's answer under: a digest, never the token. */
async function accountKey(token) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return `me:${[...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Signs in with `token`. With no network, the account's last answer kept on this device is
 * used (a field team reopening the app offline), so its sites and outbox stay at hand; the
 * server checks the token again with every upload.
 */
export async function signIn(token, remember) {
  let r = await api('api/me', { headers: { Authorization: `Bearer ${token}` } });
  const key = await accountKey(token);
  if (r.status === 0) {
    const kept = await kvGet(key);
    if (kept) r = { status: 200, ok: true, body: kept.me, offline: true };
    state.photosApi = kept?.photosApi ?? false;
  }
  if (!r.ok || !r.body) return r;
  state.token = token;
  state.me = r.body;
  if (remember != null) storeToken(token, remember);
  renderWho();
  await loadMine();
  if (!r.offline) {
    // Photos are another part of the service: offered when the server answers for them.
    const first = state.mine[0]?.id;
    state.photosApi = first ? await available(`api/sites/${encodeURIComponent(first)}/photos`) : false;
    await kvSet(key, { me: r.body, photosApi: state.photosApi });
  }
  sessionHooks.renderCard();
  sessionHooks.listed();
  return r;
}

export function signOut() {
  state.token = null;
  state.me = null;
  state.mine = [];
  forgetToken();
  renderWho();
  renderMine();
  sessionHooks.renderCard();
}

/** Lower sorts first: late, then suspended, then active work by due date; done sites last. */
function attention(p) {
  if (p.late) return 0;
  if (p.status === 'suspended') return 1;
  if (p.status === 'completed' || p.status === 'accepted') return 3;
  return 2;
}

export async function loadMine() {
  const me = state.me;
  if (!me) return;
  if (!canEdit()) {
    state.mine = [];
    renderMine();
    return;
  }
  const { features: all } = await allItems(`ogc/collections/sites/items?limit=${state.meta?.limits?.max_page ?? 1000}`);
  const ids = new Set((me.sites ?? []).map((s) => (typeof s === 'string' ? s : s?.id)));
  const subs = new Set(me.subdistricts ?? []);
  const mine = me.all_sites === true
    ? all
    : all.filter((f) => ids.has(f.id) || subs.has(f.properties.subdistrict) || subs.has(f.properties.subdistrict_code));
  state.mine = mine;
  sortMine();
  renderMine();
}

/** Nearest first once the device's position is known; else late, suspended, then due date. */
export function sortMine() {
  const away = new Map(state.mine.map((f) => [f.id, distanceTo(f.geometry)]));
  state.mine.sort((a, b) => {
    if (state.position) return away.get(a.id) - away.get(b.id);
    const pa = a.properties;
    const pb = b.properties;
    return attention(pa) - attention(pb) || String(pa.planned_finish).localeCompare(String(pb.planned_finish)) || pa.progress - pb.progress;
  });
}

/** Whether the signed-in account edits sites (field teams and planners; admins manage accounts). */
export function canEdit() {
  const role = state.me?.role;
  return role === 'field' || role === 'planner';
}

export function renderMine() {
  const signedIn = !!state.me;
  $('mine-intro').hidden = signedIn;
  $('mine-admin').hidden = !signedIn || canEdit();
  $('mine-search').hidden = !signedIn || !canEdit();
  if (!signedIn || !canEdit()) {
    $('mine-list').replaceChildren();
    return;
  }
  const q = $('mine-search').value.trim().toLowerCase();
  const shown = state.mine.filter((f) => !q || String(f.properties.name).toLowerCase().includes(q) || String(f.id).toLowerCase().includes(q));
  if (!shown.length) {
    $('mine-list').replaceChildren(el('li', { class: 'muted', text: t('mine_none') }));
    return;
  }
  const queued = new Set(outboxView.entries.map((e) => e.site_id));
  $('mine-list').replaceChildren(
    ...shown.map((f) => {
      const p = f.properties;
      const away = distanceTo(f.geometry);
      return el(
        'li',
        { dataset: { site: f.id, distance: away == null ? null : String(Math.round(away)) } },
        el(
          'button',
          { type: 'button', class: 'row-button', onclick: () => sessionHooks.focusSite(f) },
          swatch(STATUS_COLORS[p.status] ?? '#999', p.late),
          el('span', { class: 'name', text: p.name }),
          el('span', { class: 'distance', text: `${num(p.progress, 0)}%` }),
          el(
            'span',
            { class: 'sub' },
            `${kindLabel(p.kind)} · ${statusLabel(p.status)} · ${p.planned_finish}`,
            p.late ? el('span', { class: 'late', text: ` · ${t('late')}` }) : null,
            away != null ? el('span', { class: 'site-distance', text: ` · ${distanceText(away)}` }) : null,
            queued.has(f.id) ? el('span', { class: 'queued', text: ` · ${t('outbox_count', { n: outboxView.entries.filter((e) => e.site_id === f.id).length })}` }) : null,
          ),
        ),
      );
    }),
  );
}

