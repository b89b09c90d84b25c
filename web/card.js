// The site card: every field of a site with the basis of each figure (from the data set's
// manifest), its history and, for a signed-in team, the update form. Residents opening a
// park get a park card instead: name, open since or planned opening, size, distance.

import { api, errorText } from './api.js';
import { navigationLinks } from './crs.js';
import { $, bar, el, swatch } from './dom.js';
import { kindLabel, num, parkDistance, placeName, programmeLabel, siteName, statusLabel, t, walkNetworkIllustrative } from './i18n.js';
import { STATUS_COLORS } from './layers.js';
import { labelPoint, select } from './map.js';
import { canEdit } from './session.js';
import { state } from './state.js';
import { renderUpdateForm, sendUpdate } from './update.js';

/**
 * The manifest's basis of a site field when it is not real: set as data attributes on the
 * field's value, which the stylesheet shows as a small mark after it.
 */
function basisOf(field) {
  const key = field === 'late' ? 'planned_finish' : field;
  const basis = state.meta?.provenance?.layers?.sites?.fields?.[key]?.basis;
  if (!basis || basis === 'real') return {};
  return { basis, basisLabel: t(`basis_${basis}`) };
}

/** One line under the fields saying where the site and its figures come from. */
function basisNote(p) {
  const layer = state.meta?.provenance?.layers?.sites;
  if (!layer) return null;
  const geometry = p.geometry_basis ?? layer.geometry;
  return el(
    'p',
    { class: 'muted basis-note', id: 'card-basis' },
    `${t('card_basis')}: ${t('card_basis_geometry')} ${t(`basis_${geometry}`) ?? geometry} · ${layer.source}`,
  );
}

/** Navigation links (AMap, Baidu) for a place, coordinates converted from WGS84. */
export function navLinks(geometry, name) {
  const at = labelPoint(geometry);
  if (!at) return null;
  const links = navigationLinks(at, name);
  return el(
    'p',
    { class: 'nav-links' },
    el('span', { text: `${t('navigate')}: ` }),
    el('a', { href: links.amap, class: 'nav-amap', target: '_blank', rel: 'noopener noreferrer', text: t('nav_amap') }),
    ' · ',
    el('a', { href: links.baidu, class: 'nav-baidu', target: '_blank', rel: 'noopener noreferrer', text: t('nav_baidu') }),
  );
}

/** What a resident wants to know about a pocket park. */
function residentCard(feature, distance) {
  // `distance`: the nearest-parks answer's properties for this park (distance_m, walk_m, walk_min).
  const p = feature.properties;
  const today = state.meta?.today;
  const open = p.status === 'completed' || p.status === 'accepted';
  const late = !open && p.planned_finish && today && p.planned_finish < today;
  const status = open
    ? t('parks_open_since', { d: String(p.updated_at ?? '').slice(0, 10) })
    : late
      ? t('parks_late', { d: p.planned_finish })
      : t('parks_opens', { d: p.planned_finish });
  const dl = el(
    'dl',
    { class: 'fields' },
    el('dt', { text: t('field_status') }),
    el('dd', { dataset: { field: 'open' }, class: late ? 'late' : '' }, status),
    el('dt', { text: t('park_size') }),
    el('dd', { dataset: { field: 'area_m2' } }, p.area_m2 != null ? `${num(p.area_m2, 0)} m²` : '–'),
  );
  const walked = distance?.walk_m != null;
  if (distance?.distance_m != null) {
    dl.append(el('dt', { text: t(walked ? 'walk_distance' : 'distance') }), el('dd', { dataset: { field: 'distance' }, text: parkDistance(distance) }));
  }
  const hint = walked
    ? `${t('resident_card_hint_walk', { v: num(state.nearest?.walkPerMin ?? 60, 0) })}${walkNetworkIllustrative() ? ` (${t('walk_illustrative')})` : ''}`
    : t('resident_card_hint');
  return [dl, navLinks(feature.geometry, p.name), el('p', { class: 'muted', text: hint }), basisNote(p)];
}

export async function openSite(id, { resident = false } = {}) {
  state.card = { id, feature: null, version: null, history: null, conflict: null, message: null, loading: true, resident };
  renderCard();
  const r = await api(`api/sites/${encodeURIComponent(id)}`);
  if (state.card?.id !== id) return;
  if (!r.ok) {
    state.card = { id, feature: null, message: { error: true, text: r.status === 404 ? t('site_missing') : errorText(r) } };
    renderCard();
    return;
  }
  setCardFeature(r.body, r.etag);
  state.card.loading = false;
  renderCard();
  select(r.body);
  loadHistory(id);
}

export function setCardFeature(feature, etag) {
  const v = feature.properties.version ?? (etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null);
  state.card.feature = feature;
  state.card.version = v;
}

export async function loadHistory(id) {
  const r = await api(`api/sites/${encodeURIComponent(id)}/history`);
  if (state.card?.id !== id) return;
  state.card.history = r.ok && r.body && Array.isArray(r.body.changes) ? r.body.changes : { unavailable: true };
  renderCard();
}

export function closeCard() {
  state.card = null;
  select(null);
  renderCard();
}

/** Fields of a site in the order the card shows them; any other field follows. */
const FIELD_ORDER = [
  'kind', 'status', 'progress', 'late', 'subdistrict', 'investment_wan', 'programme', 'project_id',
  'planned_start', 'planned_finish', 'updated_at', 'version', 'note', 'area_m2', 'length_m', 'open',
  'households', 'built_year', 'community', 'geometry_basis',
];
const HIDDEN_FIELDS = new Set(['name', 'fid', 'kind_label', 'status_label', 'subdistrict_code', 'community_code']);

function fieldValue(key, v, p) {
  if (v == null || v === '') return '–';
  switch (key) {
    case 'kind':
      return kindLabel(v);
    case 'status':
      return el('span', {}, swatch(STATUS_COLORS[v] ?? '#999', p.late), ` ${statusLabel(v)}`);
    case 'progress':
      return el('span', { class: 'progress-value' }, bar(v), ` ${num(v, 0)}%`);
    case 'programme':
      return programmeLabel(v);
    case 'subdistrict':
    case 'community':
      return placeName(v);
    case 'late':
    case 'open':
      return v ? t('yes') : t('no');
    case 'built_year':
    case 'version':
      return String(v);
    default:
      return typeof v === 'number' ? num(v, 1) : String(v);
  }
}

export function renderCard() {
  const card = $('card');
  const c = state.card;
  if (!c) {
    card.hidden = true;
    document.body.classList.remove('card-open');
    return;
  }
  card.hidden = false;
  document.body.classList.add('card-open');
  const body = [];
  if (c.loading) body.push(el('p', { class: 'muted', text: t('loading') }));
  if (!c.feature) {
    $('card-title').textContent = c.id;
    if (c.message) body.push(el('p', { class: c.message.error ? 'error' : 'ok', text: c.message.text }));
    $('card-body').replaceChildren(...body);
    return;
  }
  const p = c.feature.properties;
  $('card-title').textContent = siteName({ ...p, id: c.id });
  card.dataset.site = c.id;
  card.dataset.kind = p.kind;
  card.dataset.resident = c.resident && p.kind === 'pocket_park' ? 'true' : 'false';
  if (card.dataset.resident === 'true') {
    $('card-body').replaceChildren(...residentCard(c.feature, c.distance));
    return;
  }
  const dl = el('dl', { class: 'fields' }, el('dt', { text: t('field_id') }), el('dd', { text: String(c.feature.id) }));
  const keys = [...FIELD_ORDER.filter((k) => k in p), ...Object.keys(p).filter((k) => !FIELD_ORDER.includes(k) && !HIDDEN_FIELDS.has(k))];
  for (const k of keys) {
    const label = t(`field_${k}`);
    dl.append(el('dt', { text: label }), el('dd', { dataset: { field: k, ...basisOf(k) }, class: k === 'late' && p.late ? 'late' : '' }, fieldValue(k, p[k], p)));
  }
  body.push(dl, basisNote(p));
  if (c.message) body.push(el('p', { class: c.message.error ? 'error' : 'ok', role: 'status', text: c.message.text }));
  if (c.conflict) body.push(renderConflict(c));
  if (state.me) body.push(canEdit() ? renderUpdateForm(c) : el('p', { class: 'muted', id: 'update-admin', text: t('admin_no_edit') }));
  body.push(renderHistory(c.history));
  $('card-body').replaceChildren(...body);
}

function changeSummary(ch) {
  const parts = [];
  if (ch.status != null) parts.push(statusLabel(ch.status));
  if (ch.progress != null) parts.push(`${num(ch.progress, 0)}%`);
  if (ch.note) parts.push(ch.note);
  else if (ch.note === '') parts.push(t('note_cleared'));
  if (ch.reason) parts.push(ch.reason);
  return parts.join(' · ');
}

function renderHistory(h) {
  const box = el('section', { class: 'history' }, el('h3', { text: t('history') }));
  if (h == null) box.append(el('p', { class: 'muted', text: t('loading') }));
  else if (h.unavailable) box.append(el('p', { class: 'muted', text: t('history_unavailable') }));
  else if (!h.length) box.append(el('p', { class: 'muted', text: t('history_none') }));
  else {
    const ol = el('ol', { class: 'list' });
    for (const ch of [...h].reverse()) {
      const from = ch.from ?? {};
      const to = ch.to ?? {};
      ol.append(
        el(
          'li',
          {},
          el('div', { class: 'muted' }, `${ch.at ?? ''} · ${ch.actor ?? ''}${ch.role ? ` (${ch.role})` : ''}`),
          el('div', {}, `${statusLabel(from.status)} ${num(from.progress, 0)}% → ${statusLabel(to.status)} ${num(to.progress, 0)}%`),
          ch.note ? el('div', { text: ch.note }) : null,
          ch.reason ? el('div', { class: 'muted', text: ch.reason }) : null,
        ),
      );
    }
    box.append(ol);
  }
  return box;
}

function renderConflict(c) {
  const cur = c.conflict.current?.properties ?? {};
  const last = c.conflict.last;
  return el(
    'div',
    { class: 'conflict', role: 'alert' },
    el('h3', { text: t('conflict_title') }),
    el(
      'p',
      {},
      el('b', { text: t('conflict_theirs') }),
      `${statusLabel(cur.status)} · ${num(cur.progress, 0)}%`,
      cur.note ? ` · ${cur.note}` : '',
      last ? ` (${t('by')} ${last.actor ?? ''} ${last.at ?? ''})` : cur.updated_at ? ` (${cur.updated_at})` : '',
    ),
    el('p', {}, el('b', { text: t('conflict_yours') }), changeSummary(c.conflict.mine)),
    el(
      'div',
      { class: 'buttons' },
      el('button', { type: 'button', id: 'conflict-retry', class: 'primary', text: t('conflict_retry'), onclick: () => sendUpdate(c.conflict.mine) }),
      el('button', {
        type: 'button',
        id: 'conflict-discard',
        text: t('conflict_discard'),
        onclick: () => {
          c.conflict = null;
          c.draft = null;
          renderCard();
        },
      }),
    ),
  );
}

