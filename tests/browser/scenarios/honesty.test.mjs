// Issue 12, honesty from the data: the notice on the default (illustrative) data set and none
// on a copy marked real; illustrative boundaries dashed; the basis of card figures; no
// reference points drawn as places; straight-line wording; palette distances computed here.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  differenceCiede2000,
  filterDeficiencyDeuter,
  filterDeficiencyProt,
  parse,
  wcagContrast,
} from 'culori';

import { assertNoProblems, getJson, launch, openMap, rendered, shot } from '../lib.mjs';
import { startServer } from '../server.mjs';

const DESKTOP = { width: 1440, height: 900 };

let browser;
before(async () => {
  browser = await launch({ viewport: DESKTOP });
});
after(async () => {
  await browser?.close();
});

test('the default data set shows the translated notice; its text is the manifest\'s', async () => {
  const meta = (await getJson('api/meta')).body;
  const page = await openMap(browser.context);
  assert.equal(await page.isVisible('#data-notice'), true, 'notice hidden on illustrative data');
  assert.equal((await page.textContent('#data-notice-text')).trim(), meta.provenance.notice.zh);
  assert.match(meta.provenance.notice.zh, /^示意数据：状态、进度、投资为演示用生成数据/);
  await shot(page, '20-notice-zh');
  await page.click('#lang');
  assert.equal((await page.textContent('#data-notice-text')).trim(), meta.provenance.notice.en);
  await page.click('#lang');
  // Illustrative sub-district cells are dashed; the real outline is not.
  const dash = await page.evaluate(() => ({
    sub: window.__map.getPaintProperty('subdistricts-line', 'line-dasharray'),
    district: window.__map.getPaintProperty('district-line', 'line-dasharray'),
  }));
  assert.ok(Array.isArray(dash.sub) && dash.sub.length === 2, `subdistricts not dashed: ${JSON.stringify(dash)}`);
  assert.equal(dash.district, undefined);
  // Reference points (the centroid, AMap's center attribute) are not drawn as places.
  const names = (await rendered(page, 'landmarks-circle')).map((f) => f.props.name);
  assert.ok(names.length > 0, 'no landmark drawn');
  assert.ok(!names.some((n) => /几何中心|center 属性/.test(n)), names.join(', '));
  // Park access says straight line, not walk.
  const within = await page.textContent('#progress li[data-radius="300"] .label');
  assert.match(within, /直线/);
  assert.doesNotMatch(await page.textContent('#progress'), /步行/);
  assertNoProblems(page);
  await page.close();
});

test('the card says the basis of every figure', async () => {
  const meta = (await getJson('api/meta')).body;
  const page = await openMap(browser.context);
  await page.evaluate(() => window.__app.openSite('compound-001'));
  await page.waitForSelector('#card:not([hidden]) dl.fields');
  const fields = await page.$$eval('#card dd[data-field]', (dds) => dds.map((d) => ({ field: d.dataset.field, basis: d.dataset.basis ?? null })));
  const byField = Object.fromEntries(fields.map((f) => [f.field, f.basis]));
  for (const f of ['status', 'progress', 'investment_wan', 'planned_finish']) {
    assert.equal(byField[f], meta.provenance.layers.sites.fields[f].basis, `${f}: ${JSON.stringify(byField)}`);
  }
  assert.equal(byField.subdistrict, null, 'a real field is not marked');
  assert.match(await page.textContent('#card-basis'), new RegExp(meta.provenance.layers.sites.source.slice(0, 20).replace(/[()]/g, '.')));
  await shot(page, '21-card-basis');
  assertNoProblems(page);
  await page.close();
});

test('a data set marked real shows no notice and solid boundaries', async () => {
  const second = await startServer(async (dir) => {
    const file = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const layer of Object.values(m.provenance.layers)) {
      layer.geometry = 'real';
      for (const f of Object.values(layer.fields)) f.basis = 'real';
    }
    delete m.provenance.notice;
    fs.writeFileSync(file, JSON.stringify(m));
  });
  try {
    const page = await openMap(browser.context, { base: second.base });
    assert.equal(await page.isVisible('#data-notice'), false, 'notice shown on real data');
    const dash = await page.evaluate(() => window.__map.getPaintProperty('subdistricts-line', 'line-dasharray'));
    assert.equal(dash, undefined);
    await page.evaluate(() => window.__app.openSite('compound-001'));
    await page.waitForSelector('#card:not([hidden]) dl.fields');
    assert.equal(await page.$$eval('#card dd[data-basis]', (d) => d.length), 0);
    await shot(page, '22-real-data-no-notice');
    assertNoProblems(page);
    await page.close();
  } finally {
    await second.stop();
  }
});

test('status colours: ≥ 3:1 on the background, CIEDE2000 ≥ 10 apart under deuteranopia and protanopia', async () => {
  const meta = (await getJson('api/meta')).body;
  const de = differenceCiede2000();
  const sims = { normal: (c) => c, deuteranopia: filterDeficiencyDeuter(1), protanopia: filterDeficiencyProt(1) };
  const colours = meta.statuses.map((s) => [s.id, parse(s.color)]);
  assert.equal(colours.length, 7);
  const report = [];
  for (const [id, c] of colours) {
    for (const bg of [meta.palette.background, meta.palette.district_fill]) {
      const ratio = wcagContrast(c, bg);
      assert.ok(ratio >= 3, `${id} has ${ratio.toFixed(2)}:1 against ${bg}`);
    }
  }
  let min = Infinity;
  for (const [name, sim] of Object.entries(sims)) {
    for (let i = 0; i < colours.length; i++) {
      for (let j = i + 1; j < colours.length; j++) {
        const d = de(sim(colours[i][1]), sim(colours[j][1]));
        min = Math.min(min, d);
        report.push(`${name} ${colours[i][0]}/${colours[j][0]} ${d.toFixed(1)}`);
        assert.ok(d >= 10, `${name}: ${colours[i][0]} and ${colours[j][0]} differ by CIEDE2000 ${d.toFixed(1)}`);
      }
    }
  }
  console.log(`smallest CIEDE2000 between status colours (normal, deuteranopia, protanopia): ${min.toFixed(1)}`);
});

test('late is drawn by a second channel and progress is not opacity', async () => {
  const page = await openMap(browser.context);
  const style = await page.evaluate(() => {
    const m = window.__map;
    return {
      lateDash: m.getPaintProperty('compounds-late', 'line-dasharray'),
      lateRing: m.getLayer('site-points-late') ? m.getPaintProperty('site-points-late', 'circle-stroke-width') : null,
      fillOpacity: m.getPaintProperty('compounds-fill', 'fill-opacity'),
      roadOpacity: m.getPaintProperty('roads-line', 'line-opacity'),
    };
  });
  assert.ok(Array.isArray(style.lateDash), 'late outline is not dashed');
  assert.ok(style.lateRing > 0, 'late points have no ring');
  assert.equal(typeof style.fillOpacity, 'number', `fill opacity varies: ${JSON.stringify(style.fillOpacity)}`);
  assert.ok(style.roadOpacity === undefined || typeof style.roadOpacity === 'number');
  assert.ok((await rendered(page, 'site-points-late')).length > 0, 'no late ring drawn');
  assertNoProblems(page);
  await page.close();
});
