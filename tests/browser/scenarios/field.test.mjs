// Field-team scenarios: sign in with a token, update a site, meet a stale update.
// They need issue 3's write API (token CLI, /api/me, PATCH /api/sites/{id}); without it they
// fail and say so, rather than pass.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { PHONE, assertNoProblems, getJson, launch, mapIdle, openMap, requireWriteApi, shot } from '../lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function signIn(page, token) {
  // The profile is shared by the scenarios of this file: start signed out.
  if (await page.isVisible('#sign-out')) await page.click('#sign-out');
  await page.click('#sign-in');
  await page.fill('#token', token);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#sign-out');
  await page.waitForSelector('#mine-list li[data-site]');
}

/** The first site in "my sites" whose status is `status`, as listed (id, name). */
async function mySiteWithStatus(page, status) {
  const ids = await page.$$eval('#mine-list li[data-site]', (lis) => lis.map((li) => li.dataset.site));
  for (const id of ids) {
    const s = await getJson(`api/sites/${id}`);
    if (s.body.properties.status === status && s.body.properties.progress < 100) return s.body;
  }
  return null;
}

test('a field user updates a site: the card, the map and the progress panel change', async () => {
  const { token, me } = await requireWriteApi();
  const page = await openMap(browser.context, { viewport: PHONE });
  await signIn(page, token);
  assert.ok((await page.textContent('#mine-who')).includes(me.name));
  assert.ok(await page.isVisible('#mine-search'), 'my sites can be searched');
  await shot(page, '10-field-my-sites');

  const site = await mySiteWithStatus(page, 'under_construction');
  assert.ok(site, 'no site under construction in the team\'s list');
  const kind = site.properties.kind;
  const before = (await getJson('api/stats')).body.kinds.find((k) => k.kind === kind);
  const figure = () => page.textContent(`#progress li[data-kind="${kind}"] .figure b`);
  assert.equal((await figure()).trim(), String(before.completed));

  await page.click(`#mine-list li[data-site="${site.id}"] button`);
  await page.waitForSelector('#update-form');
  await mapIdle(page);
  await page.selectOption('#update-status', 'completed');
  await page.fill('#update-progress-number', '100');
  await page.fill('#update-note', '竣工 browser test');
  await shot(page, '11-field-update-form');
  await page.click('#update-submit');
  await page.waitForSelector('#card p.ok');
  assert.equal((await page.textContent('#card [data-field="status"]')).trim(), '已完工');
  assert.match(await page.textContent('#card [data-field="progress"]'), /100%/);

  // The server agrees, the map recolours without a reload, and the panel counts it.
  const after = await getJson(`api/sites/${site.id}`);
  assert.equal(after.body.properties.status, 'completed');
  await page.waitForFunction((fid) => {
    const f = window.__map.queryRenderedFeatures({ layers: ['site-points'] }).find((x) => x.id === fid);
    return f && f.properties.status === 'completed' && f.properties.progress === 100;
  }, site.properties.fid, { timeout: 15000 });
  await page.click('#card-close');
  await page.click('[data-tab="progress"]');
  await page.waitForFunction(
    ([k, n]) => document.querySelector(`#progress li[data-kind="${k}"] .figure b`)?.textContent.trim() === String(n),
    [kind, before.completed + 1],
    { timeout: 10000 },
  );
  const stats = (await getJson('api/stats')).body.kinds.find((k) => k.kind === kind);
  assert.equal(stats.completed, before.completed + 1);
  await shot(page, '12-field-after-update');
  assertNoProblems(page);
  await page.close();
});

test('a stale update shows the other change and can be retried', async () => {
  const { token } = await requireWriteApi();
  const other = process.env.FIELD_TOKEN_2 || token;
  const page = await openMap(browser.context, { allow: [/status of 412/] });
  await signIn(page, token);
  const site = await mySiteWithStatus(page, 'under_construction');
  assert.ok(site, 'no site under construction in the team\'s list');
  await page.click(`#mine-list li[data-site="${site.id}"] button`);
  await page.waitForSelector('#update-form');

  // Someone else changes the site after the card was opened.
  const theirs = Math.min(99, site.properties.progress + 1);
  const r = await getJson(`api/sites/${site.id}`, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${other}`, 'If-Match': `"${site.properties.version}"`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ progress: theirs, note: 'other team member' }),
  });
  assert.equal(r.status, 200, `PATCH by the other user answered ${r.status}: ${JSON.stringify(r.body)}`);

  await page.fill('#update-progress-number', '100');
  await page.selectOption('#update-status', 'completed');
  await page.click('#update-submit');
  await page.waitForSelector('#card .conflict');
  const text = await page.textContent('#card .conflict');
  assert.ok(text.includes('这个工地刚被别人更新过'), text);
  assert.ok(text.includes(`${theirs}%`), `conflict should show the other change (${theirs}%): ${text}`);
  assert.ok(text.includes('100%'), `conflict should show my change: ${text}`);
  await page.waitForSelector('#card .conflict :text("other team member")', { timeout: 5000 }).catch(() => {});
  await shot(page, '13-stale-conflict');

  await page.click('#conflict-retry');
  await page.waitForSelector('#card p.ok');
  assert.equal(await page.$('#card .conflict'), null);
  const now = await getJson(`api/sites/${site.id}`);
  assert.equal(now.body.properties.status, 'completed');
  assert.equal(now.body.properties.progress, 100);
  assertNoProblems(page);
  await page.close();
});
