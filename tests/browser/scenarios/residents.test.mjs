// Issue 12, residents: /?mode=parks and phones signed out start on the park finder; the list
// says walking distance and minutes (straight line beside it), open or late with the date, size, and hands off to AMap and
// Baidu with converted coordinates; the park card is a resident's; the page fits 320–375 px
// in both languages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { wgs84ToBd09, wgs84ToGcj02 } from '../../../web/crs.js';
import { assertNoProblems, getJson, launch, mapIdle, openMap, shot } from '../lib.mjs';

const PHONE = { width: 375, height: 812 };

let browser;
before(async () => {
  browser = await launch({ viewport: PHONE });
});
after(async () => {
  await browser?.close();
});

/** Mean of a polygon's outer ring without the closing point (the page's labelPoint). */
function labelPoint(g) {
  const ring = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates[0][0];
  const pts = ring.slice(0, -1);
  const s = pts.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
  return [s[0] / pts.length, s[1] / pts.length];
}

for (const lang of ['zh', 'en']) {
  test(`resident flow at 375 px (${lang}): parks first, nearest from my location, links, park card`, async () => {
    const here = { longitude: 123.42, latitude: 41.85 };
    await browser.context.grantPermissions(['geolocation']);
    await browser.context.setGeolocation(here);
    const page = await openMap(browser.context, { path: '/?mode=parks' });
    if (lang === 'en') await page.click('#lang');
    assert.equal(await page.evaluate(() => document.body.dataset.tab), 'parks');
    const tabs = await page.$$eval('[role=tab]', (bs) => bs.map((b) => ({ tab: b.dataset.tab, x: b.getBoundingClientRect().x })));
    assert.equal(tabs.sort((a, b) => a.x - b.x)[0].tab, 'parks', 'the parks tab is not first');
    await page.click('#parks-locate');
    await page.waitForSelector('#parks-list li');
    await mapIdle(page);
    const answer = await getJson(`api/parks/nearest?lon=${here.longitude.toFixed(6)}&lat=${here.latitude.toFixed(6)}&limit=5&include=open&order=walk&route=true`);
    const items = await page.$$eval('#parks-list li', (lis) =>
      lis.map((li) => ({ id: li.dataset.site, text: li.textContent, amap: li.querySelector('a.nav-amap')?.href, baidu: li.querySelector('a.nav-baidu')?.href })),
    );
    assert.deepEqual(items.map((i) => i.id), answer.body.features.map((f) => f.id));
    const first = answer.body.features[0];
    // Walking distance and minutes over the street network (which the default data set has),
    // the straight line beside it, and the network's basis said above the list.
    assert.ok(first.properties.walk_m != null, 'the default data set has a walking network');
    const metres = (v) => Math.round(v).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB');
    assert.match(items[0].text, lang === 'zh' ? /步行 [\d,]+ 米 · 约 \d+ 分钟/ : /walk [\d,]+ m · about \d+ min/);
    assert.ok(items[0].text.includes(metres(first.properties.walk_m)), items[0].text);
    assert.ok(items[0].text.includes(`${Math.round(first.properties.walk_min)} ${lang === "zh" ? "分钟" : "min"}`), items[0].text);
    assert.match(items[0].text, lang === 'zh' ? /直线 [\d,]+ 米/ : /straight-line [\d,]+ m/);
    assert.match(await page.textContent('#parks-status'), lang === 'zh' ? /示意路网/ : /illustrative street network/);
    // The walking route to the first park is drawn: the route source holds the API's route.
    const drawn = await page.evaluate(() => window.__map.getSource('nearest-route').serialize().data);
    assert.equal(drawn.properties?.id, first.id);
    assert.deepEqual(drawn.geometry, first.properties.route);
    // The links carry the park's label point converted to GCJ-02 (AMap) and BD-09 (Baidu).
    const at = labelPoint(first.geometry);
    const [glng, glat] = new URL(items[0].amap).searchParams.get('position').split(',').map(Number);
    const want = wgs84ToGcj02(at);
    assert.ok(Math.abs(glng - want[0]) < 1e-5 && Math.abs(glat - want[1]) < 1e-5, `${glng},${glat} vs ${want}`);
    assert.ok(Math.abs(glng - at[0]) > 1e-3, 'AMap link is not converted');
    const [blat, blng] = new URL(items[0].baidu).searchParams.get('location').split(',').map(Number);
    const bw = wgs84ToBd09(at);
    assert.ok(Math.abs(blng - bw[0]) < 1e-5 && Math.abs(blat - bw[1]) < 1e-5, `${blng},${blat} vs ${bw}`);
    // Late parks being built say so, with the date.
    const today = (await getJson('api/meta')).body.today;
    for (const li of await page.$$eval('#parks-building li', (lis) => lis.map((l) => ({ late: l.dataset.late, text: l.textContent })))) {
      const opens = li.text.match(/\d{4}-\d{2}-\d{2}/)?.[0];
      assert.equal(li.late, String(opens < today), li.text);
      if (opens < today) assert.match(li.text, lang === 'zh' ? /逾期/ : /Late/);
    }
    const layout = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(layout <= PHONE.width, `page is ${layout}px wide`);
    await shot(page, `23-resident-list-${lang}`);

    // The park card: name, open status, size, distance; no investment or project numbers.
    await page.click('#parks-list li:first-child .row-button');
    await page.waitForSelector('#card:not([hidden]) [data-field="open"]');
    assert.equal(await page.getAttribute('#card', 'data-resident'), 'true');
    // Place names in the page's language: the data set's pinyin in English.
    const name = lang === 'en' ? first.properties.name_en : first.properties.name;
    assert.ok(name, 'the nearest park has a name in this language');
    if (lang === 'en') assert.match(name, /^[\x20-\x7e]+$/);
    assert.ok(items[0].text.includes(name), `${items[0].text} lacks ${name}`);
    assert.equal((await page.textContent('#card-title')).trim(), name);
    const card = await page.textContent('#card-body');
    assert.match(card, new RegExp(Math.round(first.properties.area_m2).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-GB')));
    assert.match(card, new RegExp(metres(first.properties.walk_m)));
    assert.match(card, lang === 'zh' ? /步行距离/ : /walking distance/);
    assert.equal(await page.$('#card [data-field="investment_wan"]'), null, 'investment on a resident card');
    assert.equal(await page.$('#card [data-field="project_id"]'), null);
    assert.ok(await page.$('#card a.nav-amap'));
    await shot(page, `24-resident-card-${lang}`);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#card', { state: 'hidden' });
    if (lang === 'en') await page.click('#lang');
    assertNoProblems(page);
    await page.close();
  });
}

test('a phone with no one signed in starts on the park finder; ?mode=map does not', async () => {
  let page = await openMap(browser.context);
  assert.equal(await page.evaluate(() => document.body.dataset.tab), 'parks');
  await page.close();
  page = await openMap(browser.context, { path: '/?mode=map' });
  assert.equal(await page.evaluate(() => document.body.dataset.tab ?? 'progress'), 'progress');
  assertNoProblems(page);
  await page.close();
});

for (const width of [320, 375]) {
  for (const lang of ['zh', 'en']) {
    test(`no overflow at ${width} px in ${lang}`, async () => {
      const page = await openMap(browser.context, { viewport: { width, height: 740 }, path: '/?mode=map' });
      if (lang === 'en') await page.click('#lang');
      for (const tab of ['progress', 'filters', 'parks', 'mine']) {
        await page.click(`[data-tab="${tab}"]`);
        const over = await page.evaluate((w) => {
          const bad = [...document.querySelectorAll('body *')]
            .filter((e) => e.offsetParent !== null && !e.closest('.maplibregl-canvas-container'))
            .map((e) => ({ e, r: e.getBoundingClientRect() }))
            .filter(({ r }) => r.width > 0 && (r.right > w + 0.5 || r.left < -0.5))
            .map(({ e, r }) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} ${Math.round(r.left)}–${Math.round(r.right)}`);
          return { scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 5) };
        }, width);
        assert.ok(over.scroll <= width, `${tab}: page ${over.scroll}px wide`);
        assert.deepEqual(over.bad, [], `${tab}: elements outside ${width}px`);
      }
      const langBtn = await page.locator('#lang').boundingBox();
      assert.ok(langBtn.x + langBtn.width <= width, 'language button clipped');
      await shot(page, `25-width-${width}-${lang}`);
      if (lang === 'en') await page.click('#lang');
      assertNoProblems(page);
      await page.close();
    });
  }
}

