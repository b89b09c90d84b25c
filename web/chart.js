// The progress-over-time chart: completed sites per kind by month against the plan's finish
// dates and target, from GET /api/stats/timeline, drawn with uPlot (npm, served by us).

import uPlot from './node_modules/uplot/dist/uPlot.esm.js';

import { api, errorText } from './api.js';
import { $, el } from './dom.js';
import { kindLabel, t } from './i18n.js';
import { STATUS_COLORS } from './layers.js';

let plot = null;
let timeline = null;

/** Loads the timeline and draws the chart of the chosen kind. */
export async function loadTimeline() {
  const r = await api('api/stats/timeline');
  if (!r.ok) {
    $('timeline-chart').replaceChildren(el('p', { class: 'error', text: errorText(r) }));
    return;
  }
  timeline = r.body;
  renderTimeline();
}

/** The data uPlot draws: x (unix seconds of month ends), completed, planned, target. */
export function series(tl, kind) {
  const k = tl.kinds.find((x) => x.kind === kind);
  if (!k) return null;
  const xs = tl.month_ends.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  return [xs, k.completed, k.planned, xs.map(() => k.target)];
}

export function renderTimeline() {
  const tl = timeline;
  if (!tl) return;
  const sel = $('timeline-kind');
  const chosen = sel.value || (tl.kinds.find((k) => k.kind === 'compound') ?? tl.kinds[0])?.kind;
  sel.replaceChildren(...tl.kinds.map((k) => el('option', { value: k.kind, text: kindLabel(k.kind) })));
  sel.value = chosen;
  const data = series(tl, chosen);
  const box = $('timeline-chart');
  if (plot) {
    plot.destroy();
    plot = null;
  }
  box.replaceChildren();
  if (!data) return;
  const width = Math.max(240, Math.min(box.getBoundingClientRect().width || 320, 560));
  plot = new uPlot(
    {
      width,
      height: 180,
      scales: { x: { time: true } },
      axes: [{ stroke: '#4a4740' }, { stroke: '#4a4740', size: 40 }],
      series: [
        {},
        { label: t('timeline_done'), stroke: STATUS_COLORS.completed ?? '#286648', width: 2.5, spanGaps: false },
        { label: t('field_planned_finish'), stroke: '#6b675c', width: 1.5, dash: [6, 4] },
        { label: t('timeline_target'), stroke: '#000', width: 1, dash: [2, 3], points: { show: false } },
      ],
      legend: { live: false },
    },
    data,
    box,
  );
  window.__chart = plot; // for the browser tests
  box.dataset.kind = chosen;
  box.dataset.points = String(data[0].length);
}

/** The chart follows the kind chosen. */
export function wireTimeline() {
  $('timeline-kind').addEventListener('change', renderTimeline);
}


