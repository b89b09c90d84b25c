// axe-core (npm, injected by playwright) on the page at desktop and phone sizes, with a card
// open and in English: no serious or critical violations.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';

import { assertNoProblems, launch, openMap } from '../lib.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

let browser;
before(async () => {
  browser = await launch({ viewport: { width: 1440, height: 900 } });
});
after(async () => {
  await browser?.close();
});

async function serious(page) {
  // Evaluated through the DevTools protocol: the page's CSP refuses injected script tags.
  await page.evaluate(fs.readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

for (const [name, viewport, lang] of [
  ['desktop zh', { width: 1440, height: 900 }, 'zh'],
  ['phone en', { width: 375, height: 812 }, 'en'],
]) {
  test(`axe-core finds no serious issue (${name}, card open)`, async () => {
    const page = await openMap(browser.context, { viewport, path: '/?mode=map' });
    if (lang === 'en') await page.click('#lang');
    assert.deepEqual(await serious(page), []);
    await page.evaluate(() => window.__app.openSite('park-001'));
    await page.waitForSelector('#card:not([hidden]) dl.fields');
    assert.deepEqual(await serious(page), []);
    if (lang === 'en') await page.click('#lang');
    assertNoProblems(page);
    await page.close();
  });
}
