// The renewal map page: one ES module, no framework. It reads the service's own API (relative
// URLs only), builds the map from layers.js and renders every panel from API answers.
// Text from the data is always set with textContent, never parsed as HTML.

import {
  buildStyle,
  KIND_SOURCE_LAYER,
  LATE_COLOR,
  SITE_LAYER_IDS,
  STATUS_COLORS,
} from './layers.js';
import { kindLabel, lang, metres, num, setLang, statusLabel, t } from './i18n.js';

/* global maplibregl */

const LANG_KEY = 'renewal-map.lang';
const TOKEN_KEY = 'renewal-map.token';
/** Workflow order; a field team may only move a site forward along it (or suspend it). */
const WORKFLOW = ['planned', 'design', 'tendering', 'under_construction', 'completed', 'accepted'];
const DONE = new Set(['completed', 'accepted']);
/** Longest note or reason the server takes, in characters. */
const MAX_TEXT = 2000;
const LOCAL_FONTS =
  "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

const state = {
  config: {},
  tilejson: null,
  stats: null,
  filters: { kinds: new Set(), statuses: new Set(), subdistrict: '', late: false },
  token: null,
  me: null,
  mine: [],
  card: null, // { id, feature, version, history, conflict, message }
  selected: [], // feature-state targets of the selected site
  hovered: null,
  pickMode: false,
  nearest: null, // { lng, lat, open: [...], building: [...] }
};

let map;

// ---------------------------------------------------------------- helpers

/** Creates an element; children are nodes or text (never HTML). */
function el(tag, props = {}, ...children) {
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

const $ = (id) => document.getElementById(id);

/** Calls the service. Returns { status, ok, body, etag }; never throws for HTTP errors. */
async function api(path, { method = 'GET', headers = {}, body } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (state.token && !h.Authorization) h.Authorization = `Bearer ${state.token}`;
  let res;
  try {
    res = await fetch(path, { method, headers: h, body });
  } catch (e) {
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

function errorText(r) {
  const m = r.body && typeof r.body.message === 'string' ? r.body.message : '';
  return `${r.status || ''} ${m}`.trim();
}

function swatch(color, late = false) {
  return el('span', {
    class: 'swatch',
    style: { background: color, outline: late ? `2px solid ${LATE_COLOR}` : '' },
    'aria-hidden': 'true',
  });
}

function bar(percent) {
  const p = Math.max(0, Math.min(100, Number(percent) || 0));
  return el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { style: { width: `${p}%` } }));
}

// ---------------------------------------------------------------- i18n

function applyI18n() {
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of document.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t(e.dataset.i18nAria));
}

function switchLang() {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  localStorage.setItem(LANG_KEY, lang());
  renderAll();
}

/** Map labels follow the language where the data has an English name. */
function labelLanguage() {
  if (!map || !map.getLayer('subdistricts-label')) return;
  map.setLayoutProperty('subdistricts-label', 'text-field', ['get', lang() === 'en' ? 'name_en' : 'name']);
}

function renderAll() {
  applyI18n();
  labelLanguage();
  renderWho();
  renderProgress();
  renderFilters();
  renderLegend();
  renderNearest();
  renderMine();
  renderCard();
}

// ---------------------------------------------------------------- map

/**
 * A same-origin path for a link the server built as an absolute URL (from the Host header, so
 * possibly the wrong scheme or host behind a proxy): its path and query, relative to the page so
 * a sub-path prefix is kept.
 */
function pageRelative(href) {
  const u = new URL(href, document.baseURI);
  return `${u.pathname.replace(/^\/+/, '')}${u.search}`;
}

/** The vector tile URL template, relative to the page; `{z}` etc. stay literal. */
function tileTemplate() {
  return `${new URL('tiles/', document.baseURI).href}{z}/{x}/{y}.mvt`;
}

function tileUrls() {
  const f = state.filters;
  const q = new URLSearchParams();
  const kinds = allKinds();
  const statuses = allStatuses();
  if (f.kinds.size && f.kinds.size < kinds.length) q.set('kind', [...f.kinds].join(','));
  if (f.statuses.size && f.statuses.size < statuses.length) q.set('status', [...f.statuses].join(','));
  if (f.subdistrict) q.set('subdistrict', f.subdistrict);
  if (f.late) q.set('late', 'true');
  const qs = q.toString();
  const u = tileTemplate();
  return [qs ? `${u}?${qs}` : u];
}

function initMap() {
  const tj = state.tilejson;
  map = new maplibregl.Map({
    container: 'map',
    style: buildStyle({ tilejson: tj, tiles: tileUrls(), basemap: state.config.basemap }),
    bounds: tj.bounds,
    fitBoundsOptions: { padding: 16 },
    maxZoom: 19,
    localIdeographFontFamily: LOCAL_FONTS,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  window.__map = map;

  map.on('load', () => {
    // Start with the attribution folded; its button opens it.
    for (const a of document.querySelectorAll('.maplibregl-ctrl-attrib.maplibregl-compact')) a.classList.remove('maplibregl-compact-show');
    map.fitBounds(tj.bounds, { padding: viewPadding(16), duration: 0 });
    labelLanguage();
    loadSubdistrictLabels();
  });
  map.on('click', onMapClick);
  map.on('mousemove', onMapHover);
  map.on('mouseout', () => setHover(null));
  return new Promise((resolve) => map.once('load', resolve));
}

function siteFeaturesAt(point, pad = 0) {
  const box = pad ? [[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]] : point;
  return map.queryRenderedFeatures(box, { layers: SITE_LAYER_IDS }).filter((f) => f.properties.id);
}

function onMapClick(e) {
  if (state.pickMode) {
    setPickMode(false);
    findNearest(e.lngLat.lng, e.lngLat.lat);
    return;
  }
  // Exact hit first; then a finger-sized box for thin roads and small points.
  const hit = siteFeaturesAt(e.point)[0] ?? siteFeaturesAt(e.point, 8)[0];
  if (hit) openSite(hit.properties.id);
}

function onMapHover(e) {
  if (state.pickMode) return;
  const hit = siteFeaturesAt(e.point)[0];
  setHover(hit ?? null);
  map.getCanvas().style.cursor = hit ? 'pointer' : '';
}

function setHover(f) {
  if (state.hovered) map.setFeatureState(state.hovered, { hover: false });
  state.hovered = null;
  if (f && f.id != null) {
    state.hovered = { source: 'renewal', sourceLayer: f.sourceLayer, id: f.id };
    map.setFeatureState(state.hovered, { hover: true });
  }
}

function select(feature) {
  for (const target of state.selected) map.setFeatureState(target, { selected: false });
  state.selected = [];
  if (!feature) return;
  const fid = feature.properties.fid;
  const layer = KIND_SOURCE_LAYER[feature.properties.kind];
  if (fid == null || !layer) return;
  state.selected = [
    { source: 'renewal', sourceLayer: layer, id: fid },
    { source: 'renewal', sourceLayer: 'site_points', id: fid },
  ];
  for (const target of state.selected) map.setFeatureState(target, { selected: true });
}

function applyFilters() {
  const f = state.filters;
  // An empty choice means "show none": hide the site layers rather than ask for nothing.
  const none = f.kinds.size === 0 || f.statuses.size === 0;
  for (const id of SITE_LAYER_IDS) map.setLayoutProperty(id, 'visibility', none ? 'none' : 'visible');
  map.getSource('renewal').setTiles(tileUrls());
}

/** Bounds [[w,s],[e,n]] of GeoJSON geometries. */
function boundsOf(geoms) {
  const b = [[Infinity, Infinity], [-Infinity, -Infinity]];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0][0] = Math.min(b[0][0], c[0]);
      b[0][1] = Math.min(b[0][1], c[1]);
      b[1][0] = Math.max(b[1][0], c[0]);
      b[1][1] = Math.max(b[1][1], c[1]);
    } else c.forEach(walk);
  };
  for (const g of geoms) if (g && g.coordinates) walk(g.coordinates);
  return b;
}

/** A point to label a geometry with: the mean of its outer ring's vertices. */
function labelPoint(g) {
  if (!g) return null;
  if (g.type === 'Point') return g.coordinates;
  const ring =
    g.type === 'Polygon' ? g.coordinates[0] : g.type === 'MultiPolygon' ? g.coordinates[0][0] : g.type === 'LineString' ? g.coordinates : null;
  if (!ring || !ring.length) return null;
  const pts = g.type === 'LineString' ? ring : ring.slice(0, -1);
  const s = pts.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
  return [s[0] / pts.length, s[1] / pts.length];
}

/**
 * A point inside a polygon for its label: the middle of the widest inside stretch of the
 * horizontal line through the middle of its bounds (the centroid may fall outside).
 */
function interiorPoint(g) {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  let best = null;
  for (const rings of polys) {
    const [[, s], [, n]] = boundsOf([{ coordinates: rings }]);
    const y = (s + n) / 2;
    const xs = [];
    for (const ring of rings) {
      for (let i = 1; i < ring.length; i++) {
        const [x1, y1] = ring[i - 1];
        const [x2, y2] = ring[i];
        if ((y1 <= y) !== (y2 <= y)) xs.push(x1 + ((y - y1) * (x2 - x1)) / (y2 - y1));
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const w = xs[i + 1] - xs[i];
      if (!best || w > best.w) best = { w, p: [(xs[i] + xs[i + 1]) / 2, y] };
    }
  }
  return best ? best.p : null;
}

async function loadSubdistrictLabels() {
  const r = await api('ogc/collections/subdistricts/items?limit=1000');
  if (!r.ok) return;
  const features = r.body.features
    .map((f) => ({
      type: 'Feature',
      properties: { name: f.properties.name, name_en: f.properties.name_en ?? f.properties.name },
      geometry: { type: 'Point', coordinates: interiorPoint(f.geometry) },
    }))
    .filter((f) => f.geometry.coordinates);
  map.getSource('subdistrict-labels').setData({ type: 'FeatureCollection', features });
}

/** Padding for fitBounds: on phones the bottom sheet covers the lower map, so fit above it. */
function viewPadding(px) {
  const narrow = window.matchMedia('(max-width: 799px)').matches;
  const sheet = document.body.classList.contains('card-open') ? $('card') : $('panel');
  const covered = narrow ? Math.round(sheet.getBoundingClientRect().height) : 0;
  const wide = !narrow && document.body.classList.contains('card-open') ? $('card').getBoundingClientRect().width + 10 : 0;
  return { top: px, left: px, right: px + wide, bottom: px + covered };
}

// ---------------------------------------------------------------- progress panel

function allKinds() {
  return state.stats ? state.stats.kinds.map((k) => k.kind) : [];
}

/** Statuses the API counts, in workflow order (unknown ones last). */
function allStatuses() {
  if (!state.stats) return [];
  const known = Object.keys(STATUS_COLORS);
  const rank = (s) => (known.includes(s) ? known.indexOf(s) : known.length);
  return Object.keys(state.stats.totals.by_status).sort((a, b) => rank(a) - rank(b));
}

async function loadStats() {
  const r = await api('api/stats');
  if (!r.ok) {
    $('progress').replaceChildren(el('p', { class: 'error', text: errorText(r) }));
    return;
  }
  state.stats = r.body;
  renderProgress();
  renderLegend();
}

function renderProgress() {
  const s = state.stats;
  if (!s) return;
  const out = [];
  out.push(el('p', { class: 'muted' }, `${t('progress_as_of')} ${s.as_of} · ${s.district_name}`));

  out.push(el('h2', { text: t('progress_targets') }));
  const kinds = el('ul', { class: 'targets' });
  for (const k of s.kinds) {
    kinds.append(
      el(
        'li',
        { dataset: { kind: k.kind } },
        el('span', { class: 'label', text: kindLabel(k.kind) }),
        el('span', { class: 'figure' }, el('b', { text: num(k.completed, 0) }), ` / ${num(k.target, 0)}`),
        bar(k.percent_of_target),
        el(
          'span',
          { class: 'sub' },
          `${num(k.percent_of_target)}% · ${statusLabel('under_construction')} ${num(k.by_status.under_construction ?? 0, 0)}`,
          k.late ? el('span', { class: 'late', text: ` · ${t('late')} ${num(k.late, 0)}` }) : null,
        ),
      ),
    );
  }
  out.push(kinds);

  out.push(el('h2', { text: t('progress_investment') }));
  const tot = s.totals;
  out.push(
    el(
      'dl',
      { class: 'figures' },
      el('dt', { text: t('investment_total') }),
      el('dd', { text: num(tot.investment_wan) }),
      el('dt', { text: t('investment_done') }),
      el('dd', { text: num(tot.investment_completed_wan) }),
    ),
  );
  const progs = el('ul', { class: 'targets' });
  for (const p of s.programmes) {
    progs.append(
      el(
        'li',
        {},
        el('span', { class: 'label', text: t(`programme_${p.programme}`) }),
        el('span', { class: 'figure' }, el('b', { text: num(p.projects_completed, 0) }), ` / ${num(p.target_projects, 0)} ${t('projects')}`),
        el('span', { class: 'sub' }, `${num(p.investment_wan)} / ${num(p.target_investment_wan)} (${t('programme_target')})`),
      ),
    );
  }
  out.push(progs);

  const pa = s.park_access;
  out.push(el('h2', { text: t('park_access') }));
  const access = el('ul', { class: 'targets' });
  for (const r of pa.radii) {
    access.append(
      el(
        'li',
        { dataset: { radius: r.radius_m } },
        el('span', { class: 'label', text: t('within_m', { r: num(r.radius_m, 0) }) }),
        el('span', { class: 'figure' }, el('b', { text: `${num(r.households_percent)}%` }), ` ${t('households_share')}`),
        bar(r.households_percent),
        el(
          'span',
          { class: 'sub' },
          `${t('compounds_share')} ${num(r.compounds, 0)} / ${num(pa.compounds, 0)} (${num(r.compounds_percent)}%) · ${t('households_share')} ${num(r.households, 0)} / ${num(pa.households, 0)}`,
        ),
      ),
    );
  }
  out.push(access, el('p', { class: 'muted' }, `${t('open_parks')}: ${num(pa.open_parks, 0)}`));

  out.push(el('h2', { text: t('progress_sub') }));
  const table = el(
    'table',
    { class: 'subs' },
    el(
      'thead',
      {},
      el('tr', {}, el('th', { text: t('filter_subdistrict') }), el('th', { text: t('sites') }), el('th', { text: t('completed') }), el('th', { text: t('late') })),
    ),
  );
  const body = el('tbody');
  for (const d of s.subdistricts) {
    body.append(
      el(
        'tr',
        { dataset: { code: d.code } },
        el('td', {}, el('button', { type: 'button', class: 'link', text: d.name, onclick: () => filterSubdistrict(d.code) })),
        el('td', { text: num(d.sites, 0) }),
        el('td', {}, `${num(d.completed, 0)} (${num(d.percent_completed)}%)`),
        el('td', { class: d.late ? 'late' : '', text: num(d.late, 0) }),
      ),
    );
  }
  table.append(body);
  out.push(table);
  $('progress').replaceChildren(...out);
}

// ---------------------------------------------------------------- filters and legend

function filterSubdistrict(code) {
  state.filters.subdistrict = code;
  renderFilters();
  applyFilters();
  showTab('filters');
}

function renderFilters() {
  const s = state.stats;
  if (!s) return;
  const f = state.filters;
  const chip = (name, value, label, checked, color) =>
    el(
      'label',
      { class: 'chip' },
      el('input', { type: 'checkbox', name, value, checked }),
      color ? swatch(color) : null,
      el('span', { text: label }),
    );
  $('filter-kind').replaceChildren(...allKinds().map((k) => chip('kind', k, kindLabel(k), f.kinds.has(k))));
  $('filter-status').replaceChildren(
    ...allStatuses().map((st) => chip('status', st, statusLabel(st), f.statuses.has(st), STATUS_COLORS[st])),
  );
  const sel = $('filter-subdistrict');
  sel.replaceChildren(
    el('option', { value: '', text: t('all_subdistricts') }),
    ...s.subdistricts.map((d) => el('option', { value: d.code, text: d.name })),
  );
  sel.value = f.subdistrict;
  $('filter-late').checked = f.late;
}

function readFilters() {
  const form = $('filters');
  const f = state.filters;
  f.kinds = new Set([...form.querySelectorAll('input[name=kind]:checked')].map((i) => i.value));
  f.statuses = new Set([...form.querySelectorAll('input[name=status]:checked')].map((i) => i.value));
  f.subdistrict = $('filter-subdistrict').value;
  f.late = $('filter-late').checked;
  applyFilters();
}

function resetFilters() {
  state.filters.kinds = new Set(allKinds());
  state.filters.statuses = new Set(allStatuses());
  state.filters.subdistrict = '';
  state.filters.late = false;
}

function renderLegend() {
  const s = state.stats;
  if (!s) return;
  const items = allStatuses().map((st) =>
    el('li', { dataset: { status: st } }, swatch(STATUS_COLORS[st]), el('span', { text: statusLabel(st) }), el('span', { class: 'count', text: num(s.totals.by_status[st], 0) })),
  );
  items.push(
    el('li', { dataset: { status: 'late' } }, swatch('#fff', true), el('span', { text: t('legend_late') }), el('span', { class: 'count', text: num(s.totals.late, 0) })),
    el('li', {}, el('span', { class: 'swatch ramp', 'aria-hidden': 'true' }), el('span', { text: t('legend_progress') })),
  );
  $('legend').replaceChildren(...items);
}

// ---------------------------------------------------------------- site card

async function openSite(id) {
  state.card = { id, feature: null, version: null, history: null, conflict: null, message: null, loading: true };
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

function setCardFeature(feature, etag) {
  const v = feature.properties.version ?? (etag ? etag.replace(/^W\//, '').replace(/"/g, '') : null);
  state.card.feature = feature;
  state.card.version = v;
}

async function loadHistory(id) {
  const r = await api(`api/sites/${encodeURIComponent(id)}/history`);
  if (state.card?.id !== id) return;
  state.card.history = r.ok && r.body && Array.isArray(r.body.changes) ? r.body.changes : { unavailable: true };
  renderCard();
}

function closeCard() {
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
      return t(`programme_${v}`);
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

function renderCard() {
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
  $('card-title').textContent = p.name ?? c.id;
  card.dataset.site = c.id;
  card.dataset.kind = p.kind;
  const dl = el('dl', { class: 'fields' }, el('dt', { text: t('field_id') }), el('dd', { text: String(c.feature.id) }));
  const keys = [...FIELD_ORDER.filter((k) => k in p), ...Object.keys(p).filter((k) => !FIELD_ORDER.includes(k) && !HIDDEN_FIELDS.has(k))];
  for (const k of keys) {
    const label = t(`field_${k}`);
    dl.append(el('dt', { text: label }), el('dd', { dataset: { field: k }, class: k === 'late' && p.late ? 'late' : '' }, fieldValue(k, p[k], p)));
  }
  body.push(dl);
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

/**
 * Statuses offered to `role` for a site now in `from`: its own and the moves the server allows.
 * Field teams move forward only and suspend unfinished sites; leaving `suspended` and moving
 * back are a planner's (with a reason); a finished site is never suspended.
 */
function statusChoices(from, role) {
  const all = Object.keys(STATUS_COLORS);
  let out;
  if (role === 'planner') out = all.filter((s) => s === from || s !== 'suspended' || !DONE.has(from));
  else if (from === 'suspended') out = [from];
  else {
    const at = WORKFLOW.indexOf(from);
    out = at < 0 ? [from] : WORKFLOW.slice(at);
    if (!DONE.has(from)) out.push('suspended');
  }
  return out.includes(from) ? out : [from, ...out];
}

/** Whether moving from `from` to `to` (progress `was` → `prog`) needs a planner's reason. */
function needsReason(from, to, was, prog) {
  const a = WORKFLOW.indexOf(from);
  const b = WORKFLOW.indexOf(to);
  const back = a >= 0 && b >= 0 && b < a;
  const resume = from === 'suspended' && to !== 'suspended';
  return back || resume || (prog != null && prog < was);
}

function renderUpdateForm(c) {
  const p = c.feature.properties;
  const draft = c.draft ?? { status: p.status, progress: String(p.progress), note: p.note ?? '', reason: '' };
  const role = state.me?.role;
  const field = role !== 'planner';
  const statusSel = el(
    'select',
    { name: 'status', id: 'update-status' },
    statusChoices(p.status, role).map((s) => el('option', { value: s, text: statusLabel(s) })),
  );
  statusSel.value = draft.status;
  if (statusSel.value !== draft.status) statusSel.value = p.status;
  // Field teams only raise progress; planners may lower it with a reason.
  const min = field ? String(p.progress) : '0';
  const range = el('input', { type: 'range', min, max: '100', step: '1', name: 'progress', id: 'update-progress', value: draft.progress || String(p.progress) });
  const number = el('input', { type: 'number', min, max: '100', step: '1', id: 'update-progress-number', value: draft.progress, 'aria-label': t('field_progress') });
  const note = el('textarea', { name: 'note', id: 'update-note', rows: '2', maxlength: String(MAX_TEXT) });
  note.value = draft.note;
  const reason = el('input', { type: 'text', name: 'reason', id: 'update-reason', maxlength: String(MAX_TEXT) });
  reason.value = draft.reason;
  const reasonLabel = el('span');
  const reasonRow = el('label', { id: 'update-reason-row' }, reasonLabel, reason);
  /** The progress typed, or null when the box is empty (then progress is not sent). */
  const progress = () => (number.value.trim() === '' ? null : Number(number.value));
  // A reason is asked for where it counts: required for a planner's backward move, resume or
  // lowered progress; offered when suspending.
  const showReason = () => {
    const required = !field && needsReason(p.status, statusSel.value, p.progress, progress());
    const offered = statusSel.value === 'suspended' && p.status !== 'suspended';
    reasonRow.hidden = !required && !offered;
    reason.required = required;
    reasonLabel.textContent = t(required ? 'update_reason_required' : 'update_reason');
  };
  range.addEventListener('input', () => {
    number.value = range.value;
    showReason();
  });
  number.addEventListener('input', () => {
    if (number.value.trim() !== '') range.value = number.value;
    showReason();
  });
  statusSel.addEventListener('change', () => {
    // Finished works are at 100 %.
    if (DONE.has(statusSel.value)) number.value = range.value = '100';
    showReason();
  });
  showReason();
  const form = el(
    'form',
    { class: 'update', id: 'update-form' },
    el('h3', { text: t('update') }),
    el('label', {}, el('span', { text: t('field_status') }), statusSel),
    el('label', {}, el('span', { text: t('field_progress') }), el('span', { class: 'range' }, range, number)),
    el('label', {}, el('span', { text: t('update_note') }), note),
    reasonRow,
    el('button', { type: 'submit', class: 'primary', id: 'update-submit', text: t('update_submit') }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const mine = {};
    if (statusSel.value !== p.status) mine.status = statusSel.value;
    const prog = progress();
    if (prog != null && Number.isFinite(prog) && prog !== p.progress) mine.progress = prog;
    // A note is sent when it differs from the site's; emptying it sends "" (clears it).
    const text = note.value.trim();
    if (text !== (p.note ?? '').trim()) mine.note = text;
    if (!reasonRow.hidden && reason.value.trim()) mine.reason = reason.value.trim();
    c.draft = { status: statusSel.value, progress: number.value, note: note.value, reason: reason.value };
    if (!('status' in mine || 'progress' in mine || 'note' in mine)) {
      c.message = { error: true, text: t('update_nothing') };
      renderCard();
      return;
    }
    sendUpdate(mine);
  });
  return form;
}

async function sendUpdate(change) {
  const c = state.card;
  if (!c || !c.feature) return;
  const id = c.id;
  $('update-submit')?.setAttribute('disabled', '');
  const r = await api(`api/sites/${encodeURIComponent(id)}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', 'If-Match': `"${c.version}"` },
    body: JSON.stringify(change),
  });
  if (state.card !== c) return;
  if (r.ok && r.body && r.body.properties) {
    setCardFeature(r.body, r.etag);
    c.conflict = null;
    c.draft = null;
    c.message = { text: t('update_saved') };
    renderCard();
    $('card-body').querySelector('p.ok')?.scrollIntoView({ block: 'nearest' });
    select(r.body);
    await refreshAfterChange(id);
    return;
  }
  if (r.status === 412 && r.body && r.body.current) {
    // Someone else changed the site: show their change and keep ours for a retry.
    setCardFeature(r.body.current, null);
    c.conflict = { current: r.body.current, mine: change, last: null };
    c.message = null;
    renderCard();
    $('card-body').querySelector('.conflict')?.scrollIntoView({ block: 'nearest' });
    // The map and the figures are stale too.
    map.refreshTiles('renewal');
    loadStats();
    const h = await api(`api/sites/${encodeURIComponent(id)}/history`);
    if (state.card === c && h.ok && h.body && Array.isArray(h.body.changes)) {
      c.history = h.body.changes;
      if (c.conflict) c.conflict.last = h.body.changes[h.body.changes.length - 1] ?? null;
      renderCard();
    }
    return;
  }
  c.message = { error: true, text: `${t('update_failed')}: ${errorText(r)}` };
  renderCard();
  $('card-body').querySelector('p.error')?.scrollIntoView({ block: 'nearest' });
}

/** After a change: redraw the tiles, the figures, the team's list and the card's history. */
async function refreshAfterChange(id) {
  map.refreshTiles('renewal');
  await Promise.all([loadStats(), loadMine(), loadHistory(id)]);
}

// ---------------------------------------------------------------- pocket parks near me

function setPickMode(on) {
  state.pickMode = on;
  map.getCanvas().style.cursor = on ? 'crosshair' : '';
  $('parks-pick').setAttribute('aria-pressed', on ? 'true' : 'false');
  $('parks-status').textContent = on ? t('parks_pick_hint') : '';
  document.body.classList.toggle('picking', on);
}

function locate() {
  if (!navigator.geolocation) {
    $('parks-status').textContent = t('parks_geo_failed', { m: '–' });
    setPickMode(true);
    return;
  }
  $('parks-status').textContent = t('loading');
  navigator.geolocation.getCurrentPosition(
    (pos) => findNearest(pos.coords.longitude, pos.coords.latitude),
    (err) => {
      $('parks-status').textContent = t('parks_geo_failed', { m: err.message });
      setPickMode(true);
    },
    { timeout: 10000, maximumAge: 60000 },
  );
}

async function findNearest(lng, lat) {
  showTab('parks');
  $('parks-status').textContent = t('loading');
  const at = `lon=${lng.toFixed(6)}&lat=${lat.toFixed(6)}`;
  const [open, all] = await Promise.all([
    api(`api/parks/nearest?${at}&limit=5&include=open`),
    api(`api/parks/nearest?${at}&limit=5&include=all`),
  ]);
  if (!open.ok || !all.ok) {
    $('parks-status').textContent = errorText(open.ok ? all : open);
    return;
  }
  const openParks = open.body.features;
  const farthest = openParks.length ? openParks[openParks.length - 1].properties.distance_m : Infinity;
  // Parks being built that are nearer than the open ones listed: worth knowing about.
  const building = all.body.features.filter((f) => !f.properties.open && f.properties.distance_m <= farthest);
  state.nearest = { lng, lat, open: openParks, building };
  renderNearest();

  const features = [...openParks.map((f, i) => ({ ...f, properties: { ...f.properties, rank: i + 1 } })), ...building];
  map.getSource('nearest').setData({ type: 'FeatureCollection', features });
  map.getSource('nearest-origin').setData({ type: 'Feature', geometry: { type: 'Point', coordinates: [lng, lat] }, properties: {} });
  map.getSource('nearest-labels').setData({
    type: 'FeatureCollection',
    features: features
      .filter((f) => f.properties.rank)
      .map((f) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: labelPoint(f.geometry) }, properties: { rank: f.properties.rank } }))
      .filter((f) => f.geometry.coordinates),
  });
  if (features.length) {
    const b = boundsOf([...features.map((f) => f.geometry), { coordinates: [lng, lat] }]);
    map.fitBounds(b, { padding: viewPadding(50), maxZoom: 16.5, duration: 600 });
  }
}

function renderNearest() {
  const n = state.nearest;
  if (!n) return;
  $('parks-status').textContent = n.open.length ? '' : t('parks_none');
  const item = (f, rank) => {
    const p = f.properties;
    return el(
      'li',
      { dataset: { site: f.id, distance: p.distance_m } },
      el(
        'button',
        { type: 'button', class: 'row-button', onclick: () => openSite(f.id) },
        el('span', { class: rank ? 'rank' : 'rank none', text: rank ? String(rank) : '' }),
        el('span', { class: 'name', text: p.name }),
        el('span', { class: 'distance', text: metres(p.distance_m) }),
        el('span', { class: 'sub' }, p.open ? t('parks_open') : `${statusLabel(p.status)} · ${t('parks_opens', { d: p.opens ?? '–' })}`, p.area_m2 != null ? ` · ${num(p.area_m2, 0)} m²` : ''),
      ),
    );
  };
  $('parks-list').replaceChildren(...n.open.map((f, i) => item(f, i + 1)));
  $('parks-building').replaceChildren(...n.building.map((f) => item(f)));
  $('parks-building-title').hidden = n.building.length === 0;
}

// ---------------------------------------------------------------- field teams

function renderWho() {
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

function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

async function signIn(token, remember) {
  const r = await api('api/me', { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok || !r.body) return r;
  state.token = token;
  state.me = r.body;
  if (remember != null) storeToken(token, remember);
  renderWho();
  await loadMine();
  renderCard();
  return r;
}

function signOut() {
  state.token = null;
  state.me = null;
  state.mine = [];
  forgetToken();
  renderWho();
  renderMine();
  renderCard();
}

/** Lower sorts first: late, then suspended, then active work by due date; done sites last. */
function attention(p) {
  if (p.late) return 0;
  if (p.status === 'suspended') return 1;
  if (p.status === 'completed' || p.status === 'accepted') return 3;
  return 2;
}

async function loadMine() {
  const me = state.me;
  if (!me) return;
  if (!canEdit()) {
    state.mine = [];
    renderMine();
    return;
  }
  let url = 'ogc/collections/sites/items?limit=1000';
  const all = [];
  for (let page = 0; url && page < 20; page++) {
    const r = await api(url);
    if (!r.ok) break;
    all.push(...r.body.features);
    const next = (r.body.links ?? []).find((l) => l.rel === 'next')?.href;
    url = next ? pageRelative(next) : null;
  }
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
function canEdit() {
  const role = state.me?.role;
  return role === 'field' || role === 'planner';
}

function renderMine() {
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
          { type: 'button', class: 'row-button', onclick: () => focusSite(f) },
          swatch(STATUS_COLORS[p.status] ?? '#999', p.late),
          el('span', { class: 'name', text: p.name }),
          el('span', { class: 'distance', text: `${num(p.progress, 0)}%` }),
          el('span', { class: 'sub' }, `${kindLabel(p.kind)} · ${statusLabel(p.status)} · ${p.planned_finish}`, p.late ? el('span', { class: 'late', text: ` · ${t('late')}` }) : null),
        ),
      );
    }),
  );
}

function focusSite(f) {
  openSite(f.id);
  const b = boundsOf([f.geometry]);
  map.fitBounds(b, { padding: viewPadding(40), maxZoom: 17, duration: 500 });
}

// ---------------------------------------------------------------- layout

function showTab(name) {
  for (const b of document.querySelectorAll('[role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('.tab-body')) s.hidden = s.id !== `tab-${name}`;
  document.body.dataset.tab = name;
}

function wireUi() {
  $('lang').addEventListener('click', switchLang);
  for (const b of document.querySelectorAll('[role=tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('filters').addEventListener('change', readFilters);
  $('filters').addEventListener('reset', (e) => {
    e.preventDefault();
    resetFilters();
    renderFilters();
    applyFilters();
  });
  $('card-close').addEventListener('click', closeCard);
  $('parks-pick').addEventListener('click', () => setPickMode(!state.pickMode));
  $('parks-locate').addEventListener('click', locate);
  $('mine-search').addEventListener('input', renderMine);
  $('sign-out').addEventListener('click', signOut);
  const dlg = $('sign-in-dialog');
  $('sign-in').addEventListener('click', () => {
    $('sign-in-error').hidden = true;
    dlg.showModal();
  });
  $('sign-in-cancel').addEventListener('click', () => dlg.close());
  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    const r = await signIn(token, $('token-remember').checked);
    if (r.ok && state.me) {
      $('token').value = '';
      $('token-remember').checked = false;
      dlg.close();
      showTab('mine');
    } else {
      $('sign-in-error').hidden = false;
      $('sign-in-error').textContent = `${t('sign_in_failed')}: ${errorText(r)}`;
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.pickMode) setPickMode(false);
  });
}

async function main() {
  setLang(localStorage.getItem(LANG_KEY) ?? 'zh');
  applyI18n();
  wireUi();
  const [config, tj, stats] = await Promise.all([api('config.json'), api('tiles.json'), loadStats()]);
  void stats;
  state.config = config.ok && config.body ? config.body : {};
  if (!tj.ok) {
    $('map').replaceChildren(el('p', { class: 'error', text: errorText(tj) }));
    return;
  }
  state.tilejson = tj.body;
  resetFilters();
  renderAll();
  await initMap();
  const token = storedToken();
  if (token) {
    const r = await signIn(token);
    if (r.status === 401 || r.status === 403) forgetToken();
  }
  document.body.dataset.ready = 'true';
}

window.__app = { state, openSite, findNearest, showTab };
main();
