// Filters by kind, status, sub-district and lateness. They drive the tiles, the figures of
// the selection, the legend counts and the view (zoom to the selection).

import { allItems } from './api.js';
import { $, el, swatch } from './dom.js';
import { kindLabel, placeName, statusLabel, t } from './i18n.js';
import { STATUS_COLORS } from './layers.js';
import { allChoices, applyTileFilters, boundsOf, filterQuery, viewPadding } from './map.js';
import { renderLegend, renderNotice, renderSelection } from './panels.js';
import { state, view } from './state.js';

export function renderFilters() {
  if (!state.meta) return;
  const f = state.filters;
  const chip = (name, value, label, checked, color) =>
    el('label', { class: 'chip' }, el('input', { type: 'checkbox', name, value, checked }), color ? swatch(color) : null, el('span', { text: label }));
  const { kinds, statuses } = allChoices();
  $('filter-kind').replaceChildren(...kinds.map((k) => chip('kind', k, kindLabel(k), f.kinds.has(k))));
  $('filter-status').replaceChildren(...statuses.map((st) => chip('status', st, statusLabel(st), f.statuses.has(st), STATUS_COLORS[st])));
  const sel = $('filter-subdistrict');
  sel.replaceChildren(
    el('option', { value: '', text: t('all_subdistricts') }),
    ...state.meta.subdistricts.map((d) => el('option', { value: d.code, text: placeName(d.name) })),
  );
  sel.value = f.subdistrict;
  $('filter-late').checked = f.late;
}

export function readFilters() {
  const form = $('filters');
  const f = state.filters;
  f.kinds = new Set([...form.querySelectorAll('input[name=kind]:checked')].map((i) => i.value));
  f.statuses = new Set([...form.querySelectorAll('input[name=status]:checked')].map((i) => i.value));
  f.subdistrict = $('filter-subdistrict').value;
  f.late = $('filter-late').checked;
  applyFilters({ zoom: true });
}

export function resetFilters() {
  const { kinds, statuses } = allChoices();
  state.filters.kinds = new Set(kinds);
  state.filters.statuses = new Set(statuses);
  state.filters.subdistrict = '';
  state.filters.late = false;
}

export function filterSubdistrict(code) {
  state.filters.subdistrict = code;
  renderFilters();
  applyFilters({ zoom: true });
}

let generation = 0;

/**
 * Applies the filters: new tiles, then the figures and legend of the sites they select (OGC
 * items with the same query), then, when asked, the view zooms to them.
 */
export async function applyFilters({ zoom = false } = {}) {
  applyTileFilters();
  renderNotice();
  const mine = ++generation;
  const f = state.filters;
  if (f.kinds.size === 0 || f.statuses.size === 0) {
    state.selection = { features: [] };
  } else {
    const q = filterQuery({ all: allChoices() });
    q.set('limit', String(state.meta?.limits?.max_page ?? 1000));
    const r = await allItems(`ogc/collections/sites/items?${q}`);
    if (mine !== generation) return;
    state.selection = r.ok ? { features: r.features } : null;
  }
  renderSelection();
  renderLegend();
  const fs = state.selection?.features ?? [];
  if (zoom && fs.length && view.map) {
    view.map.fitBounds(boundsOf(fs.map((x) => x.geometry)), { padding: viewPadding(40), maxZoom: 16, duration: 0 });
  }
  document.body.dataset.selection = String(mine);
}
