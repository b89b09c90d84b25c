// The progress panel (/api/stats), the figures of the current selection (filters), the
// legend on the map with counts for what is shown, the data notice and the keyboard list of
// the sites in view. Every number comes from an API answer.

import { api, errorText } from './api.js';
import { $, bar, el, swatch } from './dom.js';
import { kindLabel, lang, notice, num, placeName, programmeLabel, siteName, statusLabel, t } from './i18n.js';
import { STATUS_COLORS } from './layers.js';
import { illustrativeLayers, visibleSites } from './map.js';
import { state } from './state.js';

/** Handlers installed by main.js (to avoid import cycles with filters and the card). */
export const panelHooks = { filterSubdistrict: () => {}, openSite: () => {} };

/** Loads /api/stats (as of the time slider's date when set) and redraws what shows it. */
export async function loadStats() {
  const r = await api(state.asOf ? `api/stats?as_of=${encodeURIComponent(state.asOf)}` : 'api/stats');
  if (!r.ok) {
    $('progress').replaceChildren(el('p', { class: 'error', text: errorText(r) }));
    return;
  }
  state.stats = r.body;
  renderProgress();
  renderLegend();
}

/** Marks a figure whose inputs are illustrative (from the manifest). */
function basisMark(fields) {
  const ill = state.meta?.illustrative?.site_fields ?? [];
  return fields.some((f) => ill.includes(f)) ? el('span', { class: 'basis', text: t('basis_illustrative') }) : null;
}

export function renderProgress() {
  const s = state.stats;
  if (!s) return;
  const out = [];
  out.push(el('p', { class: 'muted' }, `${t('progress_as_of')} ${s.as_of} · ${placeName(s.district_name)}`));

  out.push(el('h2', {}, t('progress_targets'), ' ', basisMark(['status'])));
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

  out.push(el('h2', {}, t('progress_investment'), ' ', basisMark(['investment_wan'])));
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
        el('span', { class: 'label', text: programmeLabel(p.programme) }),
        el('span', { class: 'figure' }, el('b', { text: num(p.projects_completed, 0) }), ` / ${num(p.target_projects, 0)} ${t('projects')}`),
        el('span', { class: 'sub' }, `${num(p.investment_wan)} / ${num(p.target_investment_wan)} (${t('programme_target')})`),
      ),
    );
  }
  out.push(progs);

  const pa = s.park_access;
  out.push(el('h2', {}, t('park_access'), ' ', basisMark(['status'])));
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
        el('td', {}, el('button', { type: 'button', class: 'link', text: placeName(d.name), onclick: () => panelHooks.filterSubdistrict(d.code) })),
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

/**
 * The figures of the filtered sites (from the OGC items answer for the same filters):
 * how many are shown, done, late, and their investment.
 */
export function renderSelection() {
  const sel = state.selection;
  const box = $('selection');
  if (!sel) {
    box.replaceChildren();
    return;
  }
  const fs = sel.features;
  const done = fs.filter((f) => f.properties.status === 'completed' || f.properties.status === 'accepted').length;
  const late = fs.filter((f) => f.properties.late).length;
  const inv = fs.reduce((a, f) => a + (Number(f.properties.investment_wan) || 0), 0);
  box.replaceChildren(
    el('h2', {}, t('selection_title'), ' ', basisMark(['status', 'investment_wan'])),
    el(
      'dl',
      { class: 'figures' },
      el('dt', { text: t('selection_sites') }),
      el('dd', { id: 'selection-count', text: num(fs.length, 0) }),
      el('dt', { text: t('selection_done') }),
      el('dd', { id: 'selection-done', text: num(done, 0) }),
      el('dt', { text: t('selection_late') }),
      el('dd', { id: 'selection-late', text: num(late, 0) }),
      el('dt', { text: t('selection_investment') }),
      el('dd', { id: 'selection-investment', text: num(inv) }),
    ),
  );
}

/** The legend on the map: counts by status of the sites shown (the selection). */
export function renderLegend() {
  const counts = {};
  let late = 0;
  const fs = state.selection?.features;
  if (fs) {
    for (const f of fs) {
      counts[f.properties.status] = (counts[f.properties.status] ?? 0) + 1;
      if (f.properties.late) late++;
    }
  } else if (state.stats) {
    Object.assign(counts, state.stats.totals.by_status);
    late = state.stats.totals.late;
  }
  const items = (state.meta?.statuses ?? []).map((st) =>
    el(
      'li',
      { dataset: { status: st.id } },
      swatch(STATUS_COLORS[st.id]),
      el('span', { text: statusLabel(st.id) }),
      el('span', { class: 'count', text: num(counts[st.id] ?? 0, 0) }),
    ),
  );
  items.push(
    el('li', { dataset: { status: 'late' } }, swatch('#fff', true), el('span', { text: t('legend_late_ring') }), el('span', { class: 'count', text: num(late, 0) })),
    el('li', { class: 'muted' }, el('span', { text: t('legend_progress_label') })),
  );
  if (illustrativeLayers().has('subdistricts')) {
    items.push(el('li', { class: 'muted' }, el('span', { class: 'swatch dashed', 'aria-hidden': 'true' }), el('span', { text: t('legend_boundary_illustrative') })));
  }
  $('legend').replaceChildren(...items);
  $('legend-title').textContent = `${t('legend_toggle')} (${t('legend_shown')} ${num(fs ? fs.length : state.stats?.totals?.sites ?? 0, 0)})`;
}

/**
 * The data notice: shown while illustrative figures (site layers) or illustrative shapes
 * (boundaries) are on screen, in the page's language, text from the data set's manifest.
 */
export function renderNotice() {
  const text = notice();
  const f = state.filters;
  const sitesShown = !(f.kinds.size === 0 || f.statuses.size === 0);
  const ill = state.meta?.illustrative ?? {};
  const onScreen = (sitesShown && (ill.site_fields ?? []).length > 0) || illustrativeLayers().size > 0;
  const box = $('data-notice');
  box.hidden = !(text && onScreen);
  box.lang = lang() === 'en' ? 'en' : 'zh-Hans';
  $('data-notice-text').textContent = text ?? '';
  $('print-notice').textContent = text && onScreen ? text : '';
}

/** The keyboard-reachable list of sites drawn in the current view. */
export function renderVisible() {
  const list = $('visible-list');
  if (!list || !$('visible-sites').open) return;
  const sites = visibleSites();
  if (!sites.length) {
    list.replaceChildren(el('li', { class: 'muted', text: t('visible_none') }));
    return;
  }
  list.replaceChildren(
    ...sites.map((p) =>
      el(
        'li',
        { dataset: { site: p.id } },
        el(
          'button',
          { type: 'button', class: 'row-button', onclick: () => panelHooks.openSite(p.id) },
          swatch(STATUS_COLORS[p.status] ?? '#999', p.late === true || p.late === 'true'),
          el('span', { class: 'name', text: siteName(p) }),
          el('span', { class: 'sub', text: `${kindLabel(p.kind)} · ${statusLabel(p.status)}` }),
        ),
      ),
    ),
  );
}
