// Against interfaces other parts of the service add: live refresh from GET /api/events
// (server-sent events), the time slider (`as_of` on tiles, stats and items) and export links.
// Each is offered only when the server answers for it, so the page works without them.

import { available } from './api.js';
import { $ } from './dom.js';
import { lang, t } from './i18n.js';
import { loadStats } from './panels.js';
import { state, view } from './state.js';

/** Handlers installed by main.js. */
export const liveHooks = { refreshFilters: () => {}, refreshCard: () => {} };

let source = null;
let quietTimer = null;

/** Opens the event stream when the server has one; refreshes tiles and figures on changes. */
export async function startLive() {
  if (!window.EventSource || !(await available('api/events'))) return;
  source = new EventSource('api/events');
  state.live.connected = true;
  document.body.dataset.live = 'true';
  const onChange = (e) => {
    let data = null;
    try {
      data = JSON.parse(e.data);
    } catch {
      return;
    }
    state.live.last = data;
    // Tiles are revalidated (ETag), so refreshing the source costs 304s outside the change.
    view.map?.refreshTiles('renewal');
    loadStats();
    liveHooks.refreshFilters();
    if (state.card?.id && state.card.id === data.site_id) liveHooks.refreshCard(data.site_id);
    const badge = $('live-status');
    badge.hidden = false;
    badge.textContent = t('updated_now');
    badge.dataset.seq = String(data.seq ?? '');
    clearTimeout(quietTimer);
    quietTimer = setTimeout(() => {
      badge.hidden = true;
    }, 8000);
  };
  source.addEventListener('message', onChange);
  for (const name of ['created', 'updated', 'retired', 'restored', 'change']) source.addEventListener(name, onChange);
}

/** Shows the export links when the export endpoint answers; `lang=en` in English. */
export async function setupExports() {
  const ok = await available('api/export/sites.csv');
  $('exports').hidden = !ok;
  renderExports();
}

export function renderExports() {
  const suffix = lang() === 'en' ? '?lang=en' : '';
  $('export-csv').href = `api/export/sites.csv${suffix}`;
  $('export-xlsx').href = `api/export/sites.xlsx${suffix}`;
}

/** Offers the time slider when the server takes `as_of` on stats. */
export async function setupTimeSlider() {
  const probe = `api/stats?as_of=${encodeURIComponent(new Date().toISOString().replace(/\.\d+Z$/, 'Z'))}`;
  if (!(await available(probe))) return;
  const box = $('as-of');
  box.hidden = false;
  const input = $('as-of-date');
  input.max = state.meta?.today ?? '';
  input.addEventListener('change', () => {
    state.asOf = input.value ? `${input.value}T23:59:59Z` : null;
    $('as-of-value').textContent = input.value || t('as_of_now');
    loadStats();
    liveHooks.refreshFilters();
  });
}
