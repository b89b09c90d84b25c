// Issue 12, planners at 1440×900: legend on the map with counts of what is shown; filters
// drive the figures, the legend and the view; Esc closes the card; a keyboard list of the
// sites in view; the A4 print layout; and, once the other branches are merged, live refresh
// through /api/events and export links (skipped with a reason while they answer 404).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { assertNoProblems, BASE_URL, getJson, launch, mapIdle, openMap, shot } from '../lib.mjs';

const DESKTOP = { width: 1440, height: 900 };

let browser;
before(async () => {
  browser = await launch({ viewport: DESKTOP });
});
after(async () => {
  await browser?.close();
});

async function waitSelection(page, after) {
  await page.waitForFunction((n) => Number(document.body.dataset.selection ?? 0) > n, after);
  await mapIdle(page);
}

test('filters drive the figures, the legend counts and the view', async () => {
  const page = await openMap(browser.context);
  assert.ok(await page.isVisible('#map-legend'), 'legend not on the map');
  const all = await getJson('ogc/collections/sites/items?limit=1000');
  const total = all.body.features.length;
  assert.equal((await page.textContent('#selection-count')).trim(), String(total));
  const startView = await page.evaluate(() => window.__map.getBounds().toArray());

  // Only parks, only late: the figures and the legend are those of the API's answer.
  const before = Number(await page.evaluate(() => document.body.dataset.selection));
  await page.click('[data-tab="filters"]');
  for (const k of ['road', 'road_opening', 'logistics_road', 'alley', 'compound', 'plaza']) await page.uncheck(`#filter-kind input[value="${k}"]`);
  await waitSelection(page, before + 5);
  const want = await getJson('ogc/collections/sites/items?limit=1000&kind=pocket_park');
  const parks = want.body.features;
  assert.equal((await page.textContent('#selection-count')).trim(), String(parks.length));
  const done = parks.filter((f) => ['completed', 'accepted'].includes(f.properties.status)).length;
  assert.equal((await page.textContent('#selection-done')).trim(), String(done));
  const late = parks.filter((f) => f.properties.late).length;
  assert.equal((await page.textContent('#legend li[data-status="late"] .count')).trim(), String(late));
  const uc = parks.filter((f) => f.properties.status === 'under_construction').length;
  assert.equal((await page.textContent('#legend li[data-status="under_construction"] .count')).trim(), String(uc));

  // A sub-district: the view zooms to its sites.
  const sel = Number(await page.evaluate(() => document.body.dataset.selection));
  await page.selectOption('#filter-subdistrict', '210105001');
  await waitSelection(page, sel);
  const sub = await getJson('ogc/collections/sites/items?limit=1000&kind=pocket_park&subdistrict=210105001');
  assert.equal((await page.textContent('#selection-count')).trim(), String(sub.body.features.length));
  const zoomed = await page.evaluate(() => window.__map.getBounds().toArray());
  const area = (b) => (b[1][0] - b[0][0]) * (b[1][1] - b[0][1]);
  assert.ok(area(zoomed) < area(startView) * 0.6, `view did not zoom to the selection: ${JSON.stringify(zoomed)}`);
  for (const f of sub.body.features) {
    // The `sites` collection gives every site at its label point.
    assert.equal(f.geometry.type, 'Point', `${f.id}: ${f.geometry.type}`);
    const [lng, lat] = f.geometry.coordinates;
    assert.ok(lng >= zoomed[0][0] && lng <= zoomed[1][0] && lat >= zoomed[0][1] && lat <= zoomed[1][1], `${f.id} outside the view`);
  }
  await shot(page, '26-planner-filtered');
  assertNoProblems(page);
  await page.close();
});

test('the progress chart draws the API\'s timeline per kind', async () => {
  const tl = (await getJson('api/stats/timeline')).body;
  const page = await openMap(browser.context);
  await page.waitForFunction(() => window.__chart && document.querySelector('#timeline-chart').dataset.kind);
  for (const kind of ['compound', 'pocket_park']) {
    await page.selectOption('#timeline-kind', kind);
    await page.waitForFunction((k) => document.querySelector('#timeline-chart').dataset.kind === k, kind);
    const drawn = await page.evaluate(() => window.__chart.data.map((s) => [...s]));
    const k = tl.kinds.find((x) => x.kind === kind);
    assert.equal(drawn[0].length, tl.months.length);
    assert.deepEqual(drawn[1], k.completed, `${kind} completed`);
    assert.deepEqual(drawn[2], k.planned, `${kind} planned`);
    assert.ok(drawn[3].every((v) => v === k.target), `${kind} target line`);
  }
  assert.ok(await page.$('#timeline-chart canvas'), 'no chart canvas');
  assertNoProblems(page);
  await page.close();
});

test('keyboard: the list of sites in view opens a card, Esc closes it', async () => {
  const page = await openMap(browser.context);
  await page.click('#visible-sites summary');
  await page.waitForSelector('#visible-list li[data-site] button');
  const shown = await page.$$eval('#visible-list li[data-site]', (lis) => lis.map((l) => l.dataset.site));
  const onMap = await page.evaluate(() => new Set(window.__map.queryRenderedFeatures({ layers: ['site-points'] }).map((f) => f.properties.id)).size);
  assert.equal(shown.length, Math.min(onMap, 200));
  await page.focus('#visible-list li[data-site] button');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#card:not([hidden]) dl.fields');
  assert.equal(await page.getAttribute('#card', 'data-site'), shown[0]);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#card', { state: 'hidden' });
  assertNoProblems(page);
  await page.close();
});

test('the print layout puts the map, figures, legend, date and notice on one A4 page', async () => {
  const page = await openMap(browser.context);
  await page.emulateMedia({ media: 'print' });
  const layout = await page.evaluate(() => {
    const r = (s) => document.querySelector(s)?.getBoundingClientRect().toJSON();
    const shown = (s) => {
      const e = document.querySelector(s);
      return !!e && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().height > 0;
    };
    return {
      map: r('#map'),
      shown: Object.fromEntries(['#map', '#progress', '#legend', '#print-date', '#print-notice', '#data-notice'].map((s) => [s, shown(s)])),
      tabs: shown('.tabs'),
      notice: document.querySelector('#print-notice').textContent,
    };
  });
  for (const [s, v] of Object.entries(layout.shown)) assert.ok(v, `${s} not in the print layout`);
  assert.equal(layout.tabs, false);
  assert.match(layout.notice, /示意数据/);
  const pdfPath = path.join(os.tmpdir(), `renewal-map-report-${process.pid}.pdf`);
  await page.pdf({ path: pdfPath, format: 'A4', printBackground: true });
  const pdf = fs.readFileSync(pdfPath, 'latin1');
  const pages = (pdf.match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  fs.rmSync(pdfPath);
  assert.ok(pdf.startsWith('%PDF'));
  // The map and the figures are on the first page; the report may run to a second page.
  assert.ok(pages >= 1 && pages <= 2, `${pages} pages`);
  const mapBottomMm = ((layout.map.y + layout.map.height) / 96) * 25.4;
  assert.ok(mapBottomMm < 297 - 24, `map ends at ${mapBottomMm.toFixed(0)} mm`);
  await page.setViewportSize({ width: 794, height: 1123 });
  await shot(page, '27-print-layout');
  await page.emulateMedia({ media: 'screen' });
  assertNoProblems(page);
  await page.close();
});

test('export buttons link the export API', async (t) => {
  const probe = await fetch(`${BASE_URL}/api/export/sites.csv`, { method: 'HEAD' });
  if (probe.status === 404) {
    t.skip('GET /api/export/sites.csv answers 404 on this branch: the data-export issue is not merged');
    return;
  }
  const page = await openMap(browser.context);
  await page.waitForSelector('#exports:not([hidden])');
  assert.match(await page.getAttribute('#export-csv', 'href'), /^api\/export\/sites\.csv$/);
  assert.match(await page.getAttribute('#export-xlsx', 'href'), /^api\/export\/sites\.xlsx$/);
  await page.click('#lang');
  assert.match(await page.getAttribute('#export-csv', 'href'), /lang=en/);
  await page.click('#lang');
  assertNoProblems(page);
  await page.close();
});

test('a change in a second browser shows on the planner\'s page within 2 s through /api/events', async (t) => {
  const probe = await fetch(`${BASE_URL}/api/events`, { method: 'HEAD' });
  if (probe.status === 404) {
    t.skip('GET /api/events answers 404 on this branch: the live-map issue is not merged');
    return;
  }
  const token = process.env.PLANNER_TOKEN;
  assert.ok(token, 'no planner token (the write API is missing)');
  const page = await openMap(browser.context);
  await page.waitForFunction(() => document.body.dataset.live === 'true');
  const beforeStats = (await getJson('api/stats')).body;
  const site = (await getJson('ogc/collections/sites/items?limit=1000&status=design')).body.features[0];
  // The second context is the field edit: a PATCH from another client.
  const other = await launch();
  try {
    const p2 = await other.context.newPage();
    // Same origin as the service, so the PATCH needs no CORS.
    await p2.goto(`${BASE_URL}/health`);
    const got = await getJson(`api/sites/${site.id}`);
    const r = await p2.evaluate(
      async ({ base, id, etag, token }) => {
        const res = await fetch(`${base}/api/sites/${id}`, {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${token}`, 'If-Match': etag, 'Content-Type': 'application/json' },
          body: JSON.stringify({ status: 'completed' }),
        });
        return res.status;
      },
      { base: BASE_URL, id: site.id, etag: got.headers.get('etag'), token },
    );
    assert.equal(r, 200);
    const t0 = Date.now();
    await page.waitForSelector('#live-status:not([hidden])', { timeout: 2000 });
    const want = beforeStats.totals.by_status.completed + 1;
    await page.waitForFunction((n) => window.__app.state.stats?.totals?.by_status?.completed === n, want, { timeout: 2000 - (Date.now() - t0) });
    assert.match(await page.textContent('#live-status'), /刚刚更新/);
  } finally {
    await other.close();
  }
  assertNoProblems(page);
  await page.close();
});
