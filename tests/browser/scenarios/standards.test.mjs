// Issue 10, as other clients see the service: the served style.json is valid under MapLibre's
// own style-spec validator, and a MapLibre page on another origin (a page of someone else's,
// served here from a second port) loads our MapLibre build, our style and our tiles across
// origins and draws sites.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';

import { BASE_URL, getJson, launch, shot } from '../lib.mjs';

let browser;
/** The other origin: one HTML page that uses the service cross-origin. */
let other;
let otherBase;

/** Someone else's page: MapLibre, style and tiles all from the service at `api`. */
function foreignPage(api) {
  return `<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="${api}node_modules/maplibre-gl/dist/maplibre-gl.css">
<script src="${api}node_modules/maplibre-gl/dist/maplibre-gl.js"></script>
<style>html,body,#map{margin:0;height:100%}</style></head>
<body><div id="map"></div><script>
  window.__map = new maplibregl.Map({ container: 'map', style: '${api}style.json', center: [123.42, 41.83], zoom: 13 });
  window.__map.on('error', (e) => { (window.__errors ||= []).push(String(e.error?.message ?? e.error)); });
</script></body></html>`;
}

before(async () => {
  browser = await launch();
  other = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(foreignPage(BASE_URL.endsWith('/') ? BASE_URL : `${BASE_URL}/`));
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  // `localhost` is a different origin from the service's `127.0.0.1`.
  otherBase = `http://localhost:${other.address().port}/`;
});
after(async () => {
  await browser?.close();
  await new Promise((r) => (other ? other.close(r) : r()));
});

test('style.json is a valid MapLibre style (spec v8) with absolute URLs', async () => {
  const { status, body: style } = await getJson('style.json');
  assert.equal(status, 200);
  const errors = validateStyleMin(style);
  assert.deepEqual(errors.map((e) => e.message), [], 'style-spec validator');
  assert.equal(style.version, 8);
  for (const [id, source] of Object.entries(style.sources)) {
    for (const url of [source.url, ...(source.tiles ?? [])].filter(Boolean)) {
      assert.match(url, /^https?:\/\//, `source ${id}: ${url} is not absolute`);
    }
  }
  // A broken style is caught by the same validator (the check can fail).
  const broken = { ...style, layers: [{ id: 'x', type: 'no-such-type', source: 'nowhere' }] };
  assert.ok(validateStyleMin(broken).length > 0, 'validator accepted a broken style');
});

test('a MapLibre page on another origin loads the style and draws the tiles', async () => {
  const page = await browser.context.newPage();
  const failed = [];
  const crossOrigin = [];
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') failed.push(`${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('console', (m) => m.type() === 'error' && failed.push(`console: ${m.text()}`));
  page.on('response', (r) => {
    if (r.url().startsWith(BASE_URL) && /\.mvt|style\.json|tiles\.json/.test(r.url())) crossOrigin.push(r);
  });
  await page.goto(otherBase);
  await page.waitForFunction(() => window.__map?.loaded() && window.__map.isStyleLoaded(), null, { timeout: 20000 });
  await page.waitForFunction(() => window.__map.queryRenderedFeatures().some((f) => f.sourceLayer === 'site_points' || f.sourceLayer === 'parks'), null, { timeout: 20000 });
  const drawn = await page.evaluate(() => window.__map.queryRenderedFeatures().length);
  assert.ok(drawn > 0, 'nothing drawn');
  assert.deepEqual(failed, [], 'failed requests or console errors on the foreign page');
  assert.deepEqual(await page.evaluate(() => window.__errors ?? []), [], 'MapLibre errors');
  // Every cross-origin answer the map used carried the CORS header for reads.
  assert.ok(crossOrigin.length > 0, 'the page fetched nothing from the service');
  for (const r of crossOrigin) {
    const allow = r.headers()['access-control-allow-origin'];
    assert.ok(allow === '*' || allow === otherBase.replace(/\/$/, ''), `${r.url()}: access-control-allow-origin ${allow}`);
  }
  await shot(page, '40-foreign-origin-map');
  await page.close();
});
