// Shared helpers for the scenarios: Debian's chromium through playwright-core, a page that
// records console errors, and small waits on the map. Started by run.mjs, which sets BASE_URL.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE_URL = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR ?? path.resolve('artifacts', 'screenshots');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/**
 * Launches chromium with a fresh profile. Returns { context, close }.
 * `options` go to the browser context (viewport, locale, geolocation, …).
 */
export async function launch(options = {}) {
  assert.ok(BASE_URL, 'BASE_URL is not set: run the scenarios with tests/browser/run.mjs');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'renewal-map-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: DESKTOP,
    locale: 'zh-CN',
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Launches chromium on the profile in `userDataDir` (kept: close and launch again on the same
 * directory to reopen the browser with its IndexedDB, caches and service worker).
 */
export async function launchProfile(userDataDir, options = {}) {
  assert.ok(BASE_URL, 'BASE_URL is not set: run the scenarios with tests/browser/run.mjs');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: DESKTOP,
    locale: 'zh-CN',
    ...options,
  });
}

/**
 * The page asks (HEAD) whether endpoints other branches add are there: live events, exports,
 * `as_of` on stats. Until they are merged those probes answer 4xx, which Chromium logs as a
 * console error; that is expected, nothing else is.
 */
export const OPTIONAL_PROBES = [
  /^console error: Failed to load resource: the server responded with a status of 40[045] .*\/api\/(events|export\/sites\.csv|stats\?as_of=[^ ]*|sites\/[^/ ]+\/photos)\)$/,
];

/**
 * Opens `base` + `path` and waits until the map has loaded and drawn. Console errors, page
 * errors, failed requests and requests outside `base` (another host, scheme or path prefix) are
 * collected in `page.problems`; call `assertNoProblems(page)` at the end.
 * `allow` lists regexes for messages the scenario expects (e.g. the 412 of a stale update).
 */
export async function openMap(context, { viewport, allow = [], path: at = '/', base = BASE_URL } = {}) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.problems = [];
  page.allowed = [...allow, ...OPTIONAL_PROBES];
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console error: ${m.text()} (${m.location()?.url ?? ''})`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Tile requests cancelled by MapLibre when the view moves are not failures.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${base.replace(/\/$/, '')}/`) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) {
      page.problems.push(`request outside ${base}: ${r.url()}`);
    }
  });
  await page.goto(`${base.replace(/\/$/, '')}${at}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 20000 });
  await mapIdle(page);
  return page;
}

/** Fails with every unexpected console error seen on the page. */
export function assertNoProblems(page) {
  const left = page.problems.filter((p) => !page.allowed.some((re) => re.test(p)));
  const hint = left.some((p) => p.includes('/history'))
    ? '\n(GET /api/sites/{id}/history is issue 3\'s API: merge the store branch)'
    : '';
  assert.deepEqual(left, [], `problems on the page:\n${left.join('\n')}${hint}`);
}

/** Waits until the map has no pending tiles and has rendered. */
export async function mapIdle(page, timeout = 15000) {
  await page.waitForFunction(
    () => window.__map && window.__map.loaded() && window.__map.areTilesLoaded() && !window.__map.isMoving(),
    null,
    { timeout, polling: 100 },
  );
  // One more frame so queryRenderedFeatures sees what was just drawn.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Rendered features of one style layer: [{ id, props }]. */
export async function rendered(page, layerId) {
  return page.evaluate(
    (l) => window.__map.queryRenderedFeatures({ layers: [l] }).map((f) => ({ id: f.id, props: f.properties })),
    layerId,
  );
}

/** Saves a screenshot to artifacts/screenshots/<name>.png. */
export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Moves the map and waits for it to draw. */
export async function jumpTo(page, center, zoom) {
  await page.evaluate(([c, z]) => window.__map.jumpTo({ center: c, zoom: z }), [center, zoom]);
  await mapIdle(page);
}

/** Pixel position, relative to the page, of a WGS84 point on the map. */
export async function pagePoint(page, lngLat) {
  return page.evaluate((ll) => {
    const p = window.__map.project(ll);
    const r = window.__map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, lngLat);
}

/** Fetches JSON from the server (outside the page). */
export async function getJson(p, init) {
  const r = await fetch(`${BASE_URL}/${p.replace(/^\//, '')}`, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

/** Whether the write API of issue 3 is there; fails the scenario with a clear reason if not. */
export async function requireWriteApi() {
  const token = process.env.FIELD_TOKEN;
  assert.ok(
    token,
    `the write API (issue 3) is not available: ${process.env.FIELD_TOKEN_ERROR || 'no field token'}. ` +
      'This scenario needs `renewal-map token add`, GET /api/me and PATCH /api/sites/{id}; merge the store branch.',
  );
  const me = await getJson('api/me', { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200, `GET /api/me answered ${me.status}: ${JSON.stringify(me.body)}; the write API (issue 3) is missing or broken`);
  return { token, me: me.body };
}
