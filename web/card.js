// The site card: every field of a site with the basis of each figure (from the data set's
// manifest), its history and, for a signed-in team, the update form. Residents opening a
// park get a park card instead: name, open since or planned opening, size, distance.

import { api, errorText, pageRelative } from './api.js';
import { navigationLinks } from './crs.js';
import { $, bar, el, swatch } from './dom.js';
import { dateTime, kindLabel, num, parkDistance, placeName, programmeLabel, roleLabel, siteName, statusLabel, t, walkNetworkIllustrative } from './i18n.js';
import { STATUS_COLORS } from './layers.js';
import { distanceText, distanceTo } from './location.js';
import { labelPoint, select } from './map.js';
import { changeWords, conflictBox } from './offline.js';
import { drop, tryAgain } from './outbox.js';
import { canEdit } from './session.js';
import { state } from './state.js';
import { renderUpdateForm, siteEntries } from './update.js';

/** Phones: the update form comes first and the site's details fold below it. */
const PHONE_FORM = '(max-width: 600px)';

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
  let r = await api(`api/sites/${encodeURIComponent(id)}`);
  if (state.card?.id !== id) return;
  // No network and this site not read before: the team's list (kept offline) has it.
  const listed = r.status === 0 ? state.mine.find((f) => f.id === id) : null;
  if (listed) r = { ok: true, status: 200, body: listed, etag: null };
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
    case 'updated_at':
      return dateTime(v);
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
  const away = distanceTo(c.feature.geometry);
  if (away != null) dl.append(el('dt', { text: t('distance_to_site') }), el('dd', { dataset: { field: 'distance' }, text: distanceText(away) }));
  const status = [];
  if (c.message) status.push(el('p', { class: c.message.error ? 'error' : c.message.pending ? 'muted pending' : 'ok', role: 'status', text: c.message.text }));
  status.push(...outboxNotes(c));
  const editing = state.me && canEdit();
  const form = state.me ? (editing ? renderUpdateForm(c) : el('p', { class: 'muted', id: 'update-admin', text: t('admin_no_edit') })) : null;
  if (editing && window.matchMedia(PHONE_FORM).matches) {
    // One hand on a phone: what to change first, the details folded below.
    const head = away != null ? el('p', { class: 'muted', id: 'card-distance', text: `${t('distance_to_site')} ${distanceText(away)}` }) : null;
    const details = el('details', { id: 'card-details', class: 'card-details' }, el('summary', { text: t('card_details') }), dl, basisNote(p));
    body.push(head, ...status, form, details, renderHistory(c.history));
  } else {
    body.push(dl, basisNote(p), ...status, form, renderHistory(c.history));
  }
  $('card-body').replaceChildren(...body.filter(Boolean));
}

/** What the outbox holds for this site: queued changes, conflicts (with the choice), refusals. */
function outboxNotes(c) {
  const out = [];
  const mine = siteEntries(c.id);
  const pending = mine.filter((e) => e.state === 'pending');
  if (pending.length) {
    out.push(el('p', { class: 'pending-note', id: 'card-pending' }, el('b', { text: `${t('outbox_pending_site')}: ` }), pending.map((e) => changeWords(e.change)).join('; ')));
  }
  let first = true;
  for (const e of mine) {
    if (e.state === 'conflict') {
      out.push(conflictBox(e, { ids: first }));
      first = false;
    } else if (e.state === 'failed') {
      out.push(
        el(
          'div',
          { class: 'refused', role: 'alert', dataset: { seq: String(e.seq) } },
          el('p', { class: 'error', text: `${t('update_failed')}: ${e.error ?? ''}` }),
          el('p', {}, el('b', { text: t('conflict_yours') }), changeWords(e.change)),
          el('div', { class: 'buttons' },
            el('button', { type: 'button', class: 'outbox-again', text: t('outbox_try_again'), onclick: () => tryAgain(e.seq) }),
            el('button', { type: 'button', class: 'outbox-drop', text: t('outbox_drop'), onclick: () => drop(e.seq) })),
        ),
      );
    }
  }
  return out;
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
          el('div', { class: 'muted' }, el('time', { datetime: ch.at ?? '', text: dateTime(ch.at) }), ` · ${ch.actor ?? ''}${ch.role ? ` (${roleLabel(ch.role)})` : ''}`),
          el('div', {}, `${statusLabel(from.status)} ${num(from.progress, 0)}% → ${statusLabel(to.status)} ${num(to.progress, 0)}%`),
          ch.note ? el('div', { text: ch.note }) : null,
          ch.reason ? el('div', { class: 'muted', text: ch.reason }) : null,
          historyPhotos(ch.photos),
          ch.position ? el('div', { class: 'muted history-position', text: t('history_position', { a: num(ch.position.accuracy_m, 0) }) }) : null,
        ),
      );
    }
    box.append(ol);
  }
  return box;
}

/** A change's photos: thumbnails when the history gives records, else how many. */
function historyPhotos(photos) {
  if (!Array.isArray(photos) || !photos.length) return null;
  const withUrls = photos.filter((ph) => ph && typeof ph === 'object' && ph.thumbnail_url);
  if (!withUrls.length) return el('div', { class: 'muted history-photos', text: t('history_photos', { n: photos.length }) });
  return el(
    'div',
    { class: 'history-photos' },
    withUrls.map((ph) =>
      el('a', { href: pageRelative(ph.url), target: '_blank', rel: 'noopener' }, el('img', { src: pageRelative(ph.thumbnail_url), alt: t('update_photo'), loading: 'lazy', width: '72', height: '72' })),
    ),
  );
}
