// Read-only scenarios: planners and residents. Each asserts on what the map rendered
// (queryRenderedFeatures through window.__map) and on numbers the API answered.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  PHONE,
  assertNoProblems,
  getJson,
  jumpTo,
  launch,
  mapIdle,
  openMap,
  pagePoint,
  rendered,
  shot,
} from '../lib.mjs';

const LAYER_FOR_SOURCE_LAYER = {
  district: 'district-line',
  subdistricts: 'subdistricts-line',
  streets: 'streets-line',
  compounds: 'compounds-fill',
  parks: 'parks-fill',
  plazas: 'plazas-fill',
  roads: 'roads-line',
  landmarks: 'landmarks-circle',
  site_points: 'site-points',
};

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** WGS84 position of a rendered site point whose properties match `pred` (source is a string). */
async function sitePointWhere(page, pred) {
  return page.evaluate((src) => {
    const f = window.__map
      .queryRenderedFeatures({ layers: ['site-points'] })
      .find((x) => new Function('p', `return ${src}`)(x.properties));
    return f ? { lngLat: f.geometry.coordinates, props: f.properties } : null;
  }, pred);
}

test('the map loads from TileJSON bounds and renders every layer', async () => {
  const page = await openMap(browser.context);
  const tj = await getJson('tiles.json');
  const bounds = await page.evaluate(() => window.__map.getBounds().toArray());
  // The start view holds the district's bounds (fitBounds may add margin, never crop).
  const [[w, s], [e, n]] = bounds;
  const [bw, bs, be, bn] = tj.body.bounds;
  assert.ok(w <= bw + 1e-6 && s <= bs + 1e-6 && e >= be - 1e-6 && n >= bn - 1e-6, `view ${bounds} does not hold ${tj.body.bounds}`);

  const counts = {};
  for (const [sourceLayer, layer] of Object.entries(LAYER_FOR_SOURCE_LAYER)) {
    counts[sourceLayer] = (await rendered(page, layer)).length;
  }
  for (const [sourceLayer, n] of Object.entries(counts)) {
    assert.ok(n > 0, `layer ${sourceLayer} rendered no feature at the start view: ${JSON.stringify(counts)}`);
  }
  // Sites carry their tags into the rendered features.
  const points = await rendered(page, 'site-points');
  const stats = await getJson('api/stats');
  assert.equal(points.length > 0 && points.every((f) => typeof f.props.status === 'string' && f.id > 0), true);
  assert.ok(new Set(points.map((f) => f.props.id)).size <= stats.body.totals.sites);

  // The progress panel shows the API's figures.
  const compound = stats.body.kinds.find((k) => k.kind === 'compound');
  const figure = await page.textContent('#progress li[data-kind="compound"] .figure');
  assert.match(figure.replace(/\s/g, ''), new RegExp(`^${compound.completed}/${compound.target}$`));
  const late = await page.textContent('#legend li[data-status="late"] .count');
  assert.equal(late.trim(), String(stats.body.totals.late));
  await shot(page, '01-desktop-start');
  assertNoProblems(page);
  await page.close();
});

test('MapLibre Tiles render the same features as MVT', async () => {
  // The page takes the format TileJSON says is smaller; ?tiles= forces one to compare.
  const tj = await getJson('tiles.json');
  const smaller = tj.body.formats.smaller;
  assert.ok(smaller === 'mlt' || smaller === 'mvt', `formats.smaller: ${smaller}`);
  const seen = {};
  for (const format of ['mvt', 'mlt']) {
    const page = await openMap(browser.context, { path: `/?tiles=${format}` });
    const urls = [];
    page.on('request', (r) => {
      if (r.url().includes('/tiles/')) urls.push(r.url());
    });
    // One move so tile requests are seen here too, then back to the start view.
    const start = await page.evaluate(() => ({ center: window.__map.getCenter().toArray(), zoom: window.__map.getZoom() }));
    await jumpTo(page, start.center, start.zoom + 1);
    await jumpTo(page, start.center, start.zoom);
    const encoding = await page.evaluate(() => window.__map.getStyle().sources.renewal.encoding ?? 'mvt');
    assert.equal(encoding, format);
    assert.ok(urls.length > 0 && urls.every((u) => new URL(u).pathname.endsWith(`.${format}`)), `${format}: ${urls.slice(0, 3)}`);
    const counts = {};
    for (const [sourceLayer, layer] of Object.entries(LAYER_FOR_SOURCE_LAYER)) {
      const ids = await page.evaluate(
        (sl) => window.__map.querySourceFeatures('renewal', { sourceLayer: sl }).map((f) => `${f.id}:${f.properties.name ?? ''}:${f.properties.status ?? ''}`),
        sourceLayer,
      );
      counts[sourceLayer] = { n: ids.length, ids: [...new Set(ids)].sort() };
      counts[sourceLayer].rendered = (await rendered(page, layer)).length;
    }
    seen[format] = counts;
    assertNoProblems(page);
    await page.close();
  }
  for (const sourceLayer of Object.keys(LAYER_FOR_SOURCE_LAYER)) {
    const [a, b] = [seen.mvt[sourceLayer], seen.mlt[sourceLayer]];
    assert.ok(a.n > 0, `${sourceLayer}: MVT has features`);
    assert.equal(b.n, a.n, `${sourceLayer}: querySourceFeatures count, MLT ${b.n} vs MVT ${a.n}`);
    assert.deepEqual(b.ids, a.ids, `${sourceLayer}: the same features (id, name, status)`);
    assert.equal(b.rendered, a.rendered, `${sourceLayer}: rendered count`);
  }
  // Without ?tiles= the page follows TileJSON.
  const page = await openMap(browser.context);
  const used = await page.evaluate(() => window.__map.getStyle().sources.renewal.encoding ?? 'mvt');
  assert.equal(used, smaller);
  await page.close();
});

test('a filter changes what is rendered', async () => {
  const page = await openMap(browser.context);
  await page.click('[data-tab="filters"]');
  const before = await rendered(page, 'site-points');
  assert.ok(before.some((f) => f.props.kind !== 'pocket_park'), 'expected other kinds than parks before filtering');

  // Keep only pocket parks.
  for (const box of await page.$$('#filter-kind input[type=checkbox]')) {
    const value = await box.getAttribute('value');
    if (value !== 'pocket_park') await box.uncheck();
  }
  await page.waitForFunction(() => {
    const f = window.__map.queryRenderedFeatures({ layers: ['site-points'] });
    return f.length > 0 && f.every((x) => x.properties.kind === 'pocket_park');
  }, null, { timeout: 15000 });
  await mapIdle(page);
  const parks = await rendered(page, 'site-points');
  assert.ok(parks.length > 0 && parks.length < before.length, `${parks.length} parks of ${before.length} points`);
  assert.equal((await rendered(page, 'compounds-fill')).length, 0, 'compounds still drawn after filtering to parks');
  assert.ok((await rendered(page, 'district-line')).length > 0, 'the base map must stay');
  await shot(page, '02-filter-parks');

  // Late only: every site drawn is late, and the count matches the API's.
  await page.click('#filter-reset');
  await page.check('#filter-late');
  await page.waitForFunction(() => {
    const f = window.__map.queryRenderedFeatures({ layers: ['site-points'] });
    return f.length > 0 && f.every((x) => x.properties.late === true);
  }, null, { timeout: 15000 });
  await mapIdle(page);
  const late = await rendered(page, 'site-points');
  const stats = await getJson('api/stats');
  assert.equal(new Set(late.map((f) => f.props.id)).size, stats.body.totals.late, 'late sites drawn vs /api/stats totals.late');
  await shot(page, '03-filter-late');

  // A sub-district: only its sites.
  await page.click('#filter-reset');
  const sub = stats.body.subdistricts.find((d) => d.sites > 0);
  await page.selectOption('#filter-subdistrict', sub.code);
  await page.waitForFunction((name) => {
    const f = window.__map.queryRenderedFeatures({ layers: ['site-points'] });
    return f.length > 0 && f.every((x) => x.properties.subdistrict === name);
  }, sub.name, { timeout: 15000 });
  await mapIdle(page);
  assert.equal(new Set((await rendered(page, 'site-points')).map((f) => f.props.id)).size, sub.sites);
  assertNoProblems(page);
  await page.close();
});

test('clicking a park opens its card with every field and its history', async () => {
  const page = await openMap(browser.context);
  const park = await sitePointWhere(page, "p.kind === 'pocket_park'");
  assert.ok(park, 'no park point rendered');
  const history = await getJson(`api/sites/${park.props.id}/history`);
  assert.equal(
    history.status,
    200,
    `GET /api/sites/${park.props.id}/history answered ${history.status}: the site card shows history from issue 3's API; merge the store branch`,
  );
  await jumpTo(page, park.lngLat, 17);
  const at = await pagePoint(page, park.lngLat);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#card:not([hidden]) dl.fields');
  assert.equal(await page.getAttribute('#card', 'data-site'), park.props.id);
  assert.equal((await page.textContent('#card-title')).trim(), park.props.name);
  const site = await getJson(`api/sites/${park.props.id}`);
  const p = site.body.properties;
  assert.equal((await page.textContent('#card [data-field="kind"]')).trim(), '口袋公园');
  assert.match(await page.textContent('#card [data-field="progress"]'), new RegExp(`${p.progress}%`));
  assert.equal((await page.textContent('#card [data-field="planned_finish"]')).trim(), p.planned_finish);
  for (const key of ['status', 'subdistrict', 'investment_wan', 'area_m2', 'open', 'version']) {
    assert.ok(await page.$(`#card [data-field="${key}"]`), `card lacks ${key}`);
  }
  await page.waitForSelector('#card .history li, #card .history p:not(:has-text("加载中"))');
  // The selected park is outlined through feature-state.
  const selected = await page.evaluate((fid) => window.__map.getFeatureState({ source: 'renewal', sourceLayer: 'parks', id: fid }), p.fid);
  assert.equal(selected.selected, true);
  await shot(page, '04-park-card');
  assertNoProblems(page);
  await page.close();
});

test('pocket parks near a tapped point are listed in walking order and drawn', async () => {
  const page = await openMap(browser.context);
  await page.click('[data-tab="parks"]');
  await page.click('#parks-pick');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.45);
  await page.waitForSelector('#parks-list li');
  await mapIdle(page);
  const asked = await page.evaluate(() => ({ lng: window.__app.state.nearest.lng, lat: window.__app.state.nearest.lat }));
  const items = await page.$$eval('#parks-list li', (lis) => lis.map((li) => ({ id: li.dataset.site, d: Number(li.dataset.walk || li.dataset.distance), text: li.textContent })));
  assert.ok(items.length > 0, 'no park listed');
  for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].d <= items[i].d, `not in walking order: ${items.map((x) => x.d)}`);
  const answer = await getJson(`api/parks/nearest?lon=${asked.lng.toFixed(6)}&lat=${asked.lat.toFixed(6)}&limit=5&include=open&order=walk`);
  assert.deepEqual(items.map((x) => x.id), answer.body.features.map((f) => f.id));
  assert.ok(answer.body.features.every((f) => f.properties.open));
  // The distances shown are the API's, in metres: the walk and the straight line.
  assert.ok(items[0].text.includes(`${Math.round(answer.body.features[0].properties.distance_m).toLocaleString('zh-CN')} 米`), items[0].text);
  // Parks being built are marked as such, with their opening date; late ones (the planned
  // opening before the server's today) say 逾期 with the date.
  const today = (await getJson('api/meta')).body.today;
  for (const li of await page.$$eval('#parks-building li', (lis) => lis.map((l) => ({ text: l.textContent, late: l.dataset.late, walk: l.dataset.walk })))) {
    const opens = li.text.match(/(\d{4}-\d{2}-\d{2})/)?.[1];
    assert.ok(opens, li.text);
    if (opens < today) {
      assert.equal(li.late, 'true', li.text);
      assert.match(li.text, /逾期：原计划 \d{4}-\d{2}-\d{2} 开放/);
    } else assert.match(li.text, /预计 \d{4}-\d{2}-\d{2} 开放/);
    // Walking distance where the network reaches the park, else the straight line, said so.
    assert.match(li.text, li.walk ? /步行 [\d,]+ 米 · 约 \d+ 分钟/ : /直线距离/);
  }
  const drawn = await rendered(page, 'nearest-fill');
  assert.ok(drawn.length >= items.length, `${drawn.length} nearest parks drawn for ${items.length} listed`);
  assert.equal((await rendered(page, 'nearest-origin')).length, 1);
  await shot(page, '05-nearest-parks');

  // From the browser's location: the same list for that point.
  const here = { longitude: answer.body.features[0].geometry.coordinates[0][0][0] + 0.002, latitude: asked.lat };
  await browser.context.grantPermissions(['geolocation'], { origin: new URL(page.url()).origin });
  await browser.context.setGeolocation(here);
  await page.click('#parks-locate');
  await page.waitForFunction((lng) => Math.abs(window.__app.state.nearest.lng - lng) < 1e-9, here.longitude);
  const fromHere = await getJson(`api/parks/nearest?lon=${here.longitude.toFixed(6)}&lat=${here.latitude.toFixed(6)}&limit=5&include=open&order=walk`);
  await page.waitForFunction(
    (ids) => JSON.stringify([...document.querySelectorAll('#parks-list li')].map((li) => li.dataset.site)) === JSON.stringify(ids),
    fromHere.body.features.map((f) => f.id),
  );
  assertNoProblems(page);
  await page.close();
});

test('the English switch translates the page and keeps the numbers', async () => {
  const page = await openMap(browser.context);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-Hans');
  assert.equal((await page.textContent('[data-tab="progress"]')).trim(), '进度');
  const zhFigure = await page.textContent('#progress li[data-kind="pocket_park"] .figure');
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal((await page.textContent('[data-tab="progress"]')).trim(), 'Progress');
  assert.equal((await page.textContent('h1')).trim(), 'Huanggu urban renewal map');
  assert.equal((await page.textContent('#progress li[data-kind="pocket_park"] .label')).trim(), 'Pocket park');
  assert.equal((await page.textContent('#progress li[data-kind="pocket_park"] .figure')).replace(/\s/g, ''), zhFigure.replace(/\s/g, ''));
  await page.click('[data-tab="filters"]');
  assert.ok((await page.textContent('#legend')).includes('Under construction'));
  await shot(page, '06-english');
  // The choice is remembered.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  assert.equal((await page.textContent('[data-tab="progress"]')).trim(), 'Progress');
  await page.click('#lang');
  assert.equal((await page.textContent('[data-tab="progress"]')).trim(), '进度');
  assertNoProblems(page);
  await page.close();
});

test('at phone width (375×740) the page fits, the map shows and a site card opens', async () => {
  const page = await openMap(browser.context, { viewport: PHONE });
  const layout = await page.evaluate(() => {
    const r = (sel) => document.querySelector(sel).getBoundingClientRect().toJSON();
    return { scrollWidth: document.documentElement.scrollWidth, map: r('#map canvas'), panel: r('#panel'), tabs: [...document.querySelectorAll('[role=tab]')].map((b) => b.getBoundingClientRect().toJSON()) };
  });
  assert.ok(layout.scrollWidth <= PHONE.width, `page is ${layout.scrollWidth}px wide`);
  assert.ok(layout.map.height > 300 && layout.map.width === PHONE.width, JSON.stringify(layout.map));
  assert.ok(layout.tabs.every((t) => t.right <= PHONE.width && t.height >= 36), 'tabs must fit and be tappable');
  assert.ok((await rendered(page, 'site-points')).length > 0);
  await shot(page, '07-phone-start');

  const site = await sitePointWhere(page, "p.kind === 'compound'");
  // The panel covers the lower part of the map: centre the site above it, then tap it.
  await page.evaluate((ll) => {
    const bottom = document.querySelector('#panel').getBoundingClientRect().height;
    window.__map.jumpTo({ center: ll, zoom: 16.5, padding: { top: 0, left: 0, right: 0, bottom } });
  }, site.lngLat);
  await mapIdle(page);
  const canvas = await page.locator('#map').boundingBox();
  const at = await pagePoint(page, site.lngLat);
  assert.ok(at.y < canvas.y + canvas.height * 0.6);
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#card:not([hidden]) dl.fields');
  const card = await page.evaluate(() => document.querySelector('#card').getBoundingClientRect().toJSON());
  assert.ok(card.left >= 0 && card.right <= PHONE.width, JSON.stringify(card));
  const close = await page.locator('#card-close').boundingBox();
  assert.ok(close.width >= 40 && close.height >= 40, 'close button must be tappable');
  await shot(page, '08-phone-card');
  await page.click('#card-close');
  await page.click('[data-tab="filters"]');
  await shot(page, '09-phone-filters');
  assertNoProblems(page);
  await page.close();
});
