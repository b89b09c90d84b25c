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

async function signIn(page, token, { remember = false, sites = true } = {}) {
  // The profile is shared by the scenarios of this file: start signed out.
  if (await page.isVisible('#sign-out')) await page.click('#sign-out');
  await page.click('#sign-in');
  await page.fill('#token', token);
  if (remember) {
    await page.check('#token-remember');
    await shot(page, '15-sign-in-remember');
  }
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#sign-out');
  if (sites) await page.waitForSelector('#mine-list li[data-site]');
}

/** The card's status buttons (the site's own status first, then the allowed moves). */
const statusOptions = (page) => page.$$eval('#update-status button[data-status]', (bs) => bs.map((b) => b.dataset.status));

/** Presses the status button of `status`. */
const chooseStatus = (page, status) => page.click(`#update-status button[data-status="${status}"]`);

/** Records the JSON bodies of the page's PATCH requests. */
function patches(page) {
  const out = [];
  page.on('request', (r) => {
    if (r.method() === 'PATCH') out.push(JSON.parse(r.postData()));
  });
  return out;
}

async function openCard(page, id) {
  await page.evaluate((i) => window.__app.openSite(i), id);
  await page.waitForSelector(`#card[data-site="${id}"] #card-body dl`);
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
  await chooseStatus(page, 'completed');
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
  await chooseStatus(page, 'completed');
  await page.click('#update-submit');
  await page.waitForSelector('#card .conflict');
  const text = await page.textContent('#card .conflict');
  assert.ok(text.includes('这个工地刚被别人更新过'), text);
  assert.ok(text.includes(`${theirs}%`), `conflict should show the other change (${theirs}%): ${text}`);
  assert.ok(text.includes('100%'), `conflict should show my change: ${text}`);
  assert.ok(text.includes('other team member'), `conflict should show the other user's note: ${text}`);
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

test('a field user is offered only the moves the server allows; the form\'s limits are the server\'s', async () => {
  const { token, me } = await requireWriteApi();
  const page = await openMap(browser.context);
  await signIn(page, token);
  const building = await mySiteWithStatus(page, 'under_construction');
  await openCard(page, building.id);
  assert.deepEqual(await statusOptions(page), ['under_construction', 'completed', 'suspended'], 'acceptance (已验收) is a planner\'s decision');
  assert.equal(await page.getAttribute('#update-note', 'maxlength'), '2000');
  assert.equal(await page.getAttribute('#update-reason', 'maxlength'), '2000');
  assert.equal(await page.isVisible('#update-reason'), false, 'no reason asked for a forward move');
  await chooseStatus(page, 'suspended');
  assert.ok(await page.isVisible('#update-reason'), 'suspending offers a reason');

  const byStatus = {};
  for (const id of me.sites) {
    const st = (await getJson(`api/sites/${id}`)).body.properties.status;
    byStatus[st] ??= id;
  }
  assert.ok(byStatus.suspended && byStatus.accepted, `the team needs a suspended and an accepted site: ${JSON.stringify(byStatus)}`);
  await openCard(page, byStatus.suspended);
  assert.deepEqual(await statusOptions(page), ['suspended'], 'resuming is a planner\'s');
  await openCard(page, byStatus.accepted);
  assert.deepEqual(await statusOptions(page), ['accepted'], 'a finished site is neither suspended nor moved back');
  assertNoProblems(page);
  await page.close();
});

test('an empty progress box sends no progress; emptying the note clears it', async () => {
  const { token } = await requireWriteApi();
  const page = await openMap(browser.context);
  const sent = patches(page);
  await signIn(page, token);
  const site = await mySiteWithStatus(page, 'design');
  assert.ok(site, 'no site in design in the team\'s list');
  await openCard(page, site.id);
  await page.fill('#update-progress-number', '');
  await page.fill('#update-note', '图纸已交 browser test');
  await page.click('#update-submit');
  await page.waitForSelector('#card p.ok');
  assert.deepEqual(sent.at(-1), { note: '图纸已交 browser test' });
  let now = (await getJson(`api/sites/${site.id}`)).body.properties;
  assert.equal(now.progress, site.properties.progress);
  assert.equal(now.note, '图纸已交 browser test');

  assert.equal(await page.inputValue('#update-note'), '图纸已交 browser test', 'the form starts from the site\'s note');
  await page.fill('#update-note', '');
  await page.click('#update-submit');
  await page.waitForFunction(() => document.querySelector('#card [data-field="note"]')?.textContent.trim() === '–');
  assert.deepEqual(sent.at(-1), { note: '' });
  now = (await getJson(`api/sites/${site.id}`)).body.properties;
  assert.equal(now.note ?? null, null);
  assertNoProblems(page);
  await page.close();
});

test('a planner moving a site back or resuming it must give a reason', async () => {
  const token = process.env.PLANNER_TOKEN;
  assert.ok(token, 'no planner token: `renewal-map token add --role planner` failed');
  const page = await openMap(browser.context);
  const sent = patches(page);
  await signIn(page, token);
  assert.equal(await page.$$eval('#mine-list li[data-site]', (l) => l.length), (await getJson('api/stats')).body.totals.sites, 'a planner\'s "my sites" is every site');
  const sites = (await getJson('ogc/collections/sites/items?limit=1000')).body.features;
  const done = sites.find((f) => f.properties.status === 'completed');
  const suspended = sites.find((f) => f.properties.status === 'suspended');

  await openCard(page, done.id);
  assert.ok(!(await statusOptions(page)).includes('suspended'), 'a completed site cannot be suspended');
  assert.equal(await page.isVisible('#update-reason'), false);
  await chooseStatus(page, 'under_construction');
  assert.ok(await page.isVisible('#update-reason'), 'moving back asks for a reason');
  assert.equal(await page.$eval('#update-reason', (i) => i.required), true);
  await page.fill('#update-progress-number', '90');
  await page.click('#update-submit');
  assert.equal(sent.length, 0, 'no PATCH without the reason');
  await page.fill('#update-reason', '验收发现问题 browser test');
  await page.click('#update-submit');
  await page.waitForSelector('#card p.ok');
  assert.deepEqual(sent.at(-1), { status: 'under_construction', progress: 90, reason: '验收发现问题 browser test' });

  await openCard(page, suspended.id);
  assert.equal(await page.isVisible('#update-reason'), false);
  await chooseStatus(page, 'design');
  assert.ok(await page.isVisible('#update-reason'), 'resuming asks for a reason');
  assert.equal(await page.$eval('#update-reason', (i) => i.required), true);
  await shot(page, '14-planner-resume-reason');
  assertNoProblems(page);
  await page.close();
});

test('an admin sees no sites to edit', async () => {
  const token = process.env.ADMIN_TOKEN;
  assert.ok(token, 'no admin token: `renewal-map token add --role admin` failed');
  const page = await openMap(browser.context);
  await signIn(page, token, { sites: false });
  await page.click('[data-tab="mine"]');
  assert.ok(await page.isVisible('#mine-admin'));
  assert.equal(await page.$$eval('#mine-list li', (l) => l.length), 0);
  const site = (await getJson('ogc/collections/sites/items?limit=1')).body.features[0];
  await openCard(page, site.id);
  assert.equal(await page.$('#update-form'), null);
  assert.match(await page.textContent('#update-admin'), /管理员/);
  assertNoProblems(page);
  await page.close();
});

test('the token is kept for the tab only, unless "remember on this device" is ticked', async () => {
  const { token } = await requireWriteApi();
  let page = await openMap(browser.context, { viewport: PHONE });
  await signIn(page, token);
  assert.deepEqual(
    await page.evaluate(() => [sessionStorage.getItem('renewal-map.token') != null, localStorage.getItem('renewal-map.token')]),
    [true, null],
  );
  await page.close();
  page = await openMap(browser.context, { viewport: PHONE });
  assert.ok(await page.isVisible('#sign-in'), 'a new tab starts signed out');
  await signIn(page, token, { remember: true });
  assert.equal(await page.evaluate(() => localStorage.getItem('renewal-map.token')), token);
  await page.close();
  page = await openMap(browser.context);
  await page.waitForSelector('#sign-out');
  await page.click('#sign-out');
  assert.deepEqual(
    await page.evaluate(() => [sessionStorage.getItem('renewal-map.token'), localStorage.getItem('renewal-map.token')]),
    [null, null],
  );
  assertNoProblems(page);
  await page.close();
});
