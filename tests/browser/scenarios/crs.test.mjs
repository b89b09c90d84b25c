// web/crs.js against points known in both systems (data/sources/huanggu-anchor-points.csv):
// Shenyang Normal University, published as BD-09 (123.4152600, 41.9087810) and converted to
// WGS84 (123.40248, 41.90064); AMap's district centre, GCJ-02 (123.405677, 41.822336) and
// WGS84 (123.399528, 41.819889). No browser needed.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bd09ToGcj02, gcj02ToBd09, gcj02ToWgs84, navigationLinks, wgs84ToBd09, wgs84ToGcj02 } from '../../../web/crs.js';

/** Metres between two [lng, lat] points (equirectangular; fine at these distances). */
function metres(a, b) {
  const k = Math.PI / 180;
  const x = (b[0] - a[0]) * k * Math.cos(((a[1] + b[1]) / 2) * k);
  const y = (b[1] - a[1]) * k;
  return Math.hypot(x, y) * 6371008.8;
}

test('WGS84 → GCJ-02 matches AMap\'s published centre within 2 m', () => {
  const gcj = wgs84ToGcj02([123.399528, 41.819889]);
  assert.ok(metres(gcj, [123.405677, 41.822336]) < 2, `${gcj}`);
  // The offset here is hundreds of metres, so a no-op conversion would fail.
  assert.ok(metres([123.399528, 41.819889], [123.405677, 41.822336]) > 300);
});

test('WGS84 → BD-09 matches the published Baidu point within 2 m', () => {
  const bd = wgs84ToBd09([123.40248, 41.90064]);
  assert.ok(metres(bd, [123.41526, 41.908781]) < 2, `${bd}`);
});

test('round trips are under 0.5 m', () => {
  const p = [123.42, 41.85];
  assert.ok(metres(gcj02ToWgs84(wgs84ToGcj02(p)), p) < 0.5);
  assert.ok(metres(bd09ToGcj02(gcj02ToBd09(p)), p) < 0.5);
});

test('outside China nothing is shifted', () => {
  assert.deepEqual(wgs84ToGcj02([2.35, 48.85]), [2.35, 48.85]);
});

test('navigation links carry the converted coordinates', () => {
  const links = navigationLinks([123.40248, 41.90064], '沈阳师范大学');
  const amap = new URL(links.amap);
  assert.equal(amap.host, 'uri.amap.com');
  const [glng, glat] = amap.searchParams.get('position').split(',').map(Number);
  assert.ok(metres([glng, glat], wgs84ToGcj02([123.40248, 41.90064])) < 0.2);
  assert.equal(amap.searchParams.get('name'), '沈阳师范大学');
  const baidu = new URL(links.baidu);
  assert.equal(baidu.searchParams.get('coord_type'), 'bd09ll');
  const [blat, blng] = baidu.searchParams.get('location').split(',').map(Number);
  assert.ok(metres([blng, blat], [123.41526, 41.908781]) < 2);
});
