// Signing in with a field team's token, and the team's list of sites ("my sites").

import { allItems, api } from './api.js';
import { $, el, swatch } from './dom.js';
import { kindLabel, num, statusLabel, t } from './i18n.js';
import { STATUS_COLORS } from './layers.js';
import { state } from './state.js';

const TOKEN_KEY = 'renewal-map.token';

/** Handlers installed by main.js. */
export const sessionHooks = { focusSite: () => {}, renderCard: () => {} };

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

export async function signIn(token, remember) {
  const r = await api('api/me', { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok || !r.body) return r;
  state.token = token;
  state.me = r.body;
  if (remember != null) storeToken(token, remember);
  renderWho();
  await loadMine();
  sessionHooks.renderCard();
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
  mine.sort((a, b) => {
    const pa = a.properties;
    const pb = b.properties;
    return attention(pa) - attention(pb) || String(pa.planned_finish).localeCompare(String(pb.planned_finish)) || pa.progress - pb.progress;
  });
  state.mine = mine;
  renderMine();
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
  $('mine-list').replaceChildren(
    ...shown.map((f) => {
      const p = f.properties;
      return el(
        'li',
        { dataset: { site: f.id } },
        el(
          'button',
          { type: 'button', class: 'row-button', onclick: () => sessionHooks.focusSite(f) },
          swatch(STATUS_COLORS[p.status] ?? '#999', p.late),
          el('span', { class: 'name', text: p.name }),
          el('span', { class: 'distance', text: `${num(p.progress, 0)}%` }),
          el('span', { class: 'sub' }, `${kindLabel(p.kind)} · ${statusLabel(p.status)} · ${p.planned_finish}`, p.late ? el('span', { class: 'late', text: ` · ${t('late')}` }) : null),
        ),
      );
    }),
  );
}

