// Behind a TLS proxy under a sub-path: the page must use URLs relative to itself, never the
// absolute links the server builds from Host and X-Forwarded-Proto (TileJSON `tiles`, OGC
// `next`). A small proxy serves the server at http://127.0.0.1:<port>/map/ and sends
// `X-Forwarded-Proto: https`, so every absolute link points at https://…/ without the prefix:
// following one is a failed request outside the page's base, which fails the scenario.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { BASE_URL, assertNoProblems, launch, openMap, rendered, requireWriteApi } from '../lib.mjs';

const PREFIX = '/map';
/** Sites per OGC page through the proxy: small, so "my sites" needs the `next` links. */
const PAGE = 40;

let browser;
let proxy;
let proxyBase;
/** Requests the proxy has open upstream (the page's event stream never ends by itself). */
const upstream = new Set();

before(async () => {
  browser = await launch();
  proxy = http.createServer((req, res) => {
    if (!req.url.startsWith(`${PREFIX}/`)) {
      res.writeHead(404).end();
      return;
    }
    const url = req.url
      .slice(PREFIX.length)
      .replace(/^(\/ogc\/collections\/sites\/items\?(?:[^#]*&)?limit=)\d+/, `$1${PAGE}`);
    const up = http.request(`${BASE_URL}${url}`, { method: req.method, headers: { ...req.headers, 'x-forwarded-proto': 'https' } }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    upstream.add(up);
    up.on('close', () => upstream.delete(up));
    up.on('error', () => res.headersSent ? res.destroy() : res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  proxyBase = `http://127.0.0.1:${proxy.address().port}${PREFIX}/`;
});
after(async () => {
  await browser?.close();
  // The page's event stream through the proxy never ends by itself: cut it.
  for (const up of upstream) up.destroy();
  proxy?.closeAllConnections();
  await new Promise((r) => (proxy ? proxy.close(r) : r()));
});

async function viaProxy(p, init) {
  const r = await fetch(new URL(p, proxyBase), init);
  return { status: r.status, body: await r.json() };
}

test('behind a TLS proxy under a sub-path, tiles and paging stay on the page\'s base', async () => {
  // The server's own links point elsewhere (https, no prefix): a page that used them would break.
  const tj = await viaProxy('tiles.json');
  assert.match(tj.body.tiles[0], /^https:\/\/127\.0\.0\.1:\d+\/tiles\/\{z\}/, `server TileJSON: ${tj.body.tiles[0]}`);
  const items = await viaProxy('ogc/collections/sites/items?limit=1000');
  const next = items.body.links.find((l) => l.rel === 'next');
  assert.ok(next && next.href.startsWith('https://') && !next.href.includes(PREFIX), `next link: ${JSON.stringify(next)}`);

  const page = await openMap(browser.context, { base: proxyBase });
  const source = await page.evaluate(() => window.__map.getSource('renewal').tiles);
  assert.equal(source.length, 1);
  // MVT or MLT, whichever TileJSON's sample says is smaller (web/api.js tileFormat).
  assert.ok(
    [`${proxyBase}tiles/{z}/{x}/{y}.mvt`, `${proxyBase}tiles/{z}/{x}/{y}.mlt`].some((t) => source[0].startsWith(t)),
    `tile source: ${source[0]}`,
  );
  assert.ok((await rendered(page, 'site-points')).length > 0, 'no site rendered through the proxy');

  // "My sites" follows the OGC `next` links (pages of PAGE) and lists every assigned site.
  const { token, me } = await requireWriteApi();
  await page.click('#sign-in');
  await page.fill('#token', token);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#mine-list li[data-site]');
  const listed = await page.$$eval('#mine-list li[data-site]', (lis) => lis.map((li) => li.dataset.site));
  assert.ok(items.body.numberMatched > PAGE, `more than one page of sites expected (${items.body.numberMatched})`);
  assert.deepEqual([...listed].sort(), [...me.sites].sort());
  assertNoProblems(page);
  await page.close();
});
