// Coordinate conversions for handing a place to Chinese navigation apps: WGS84 (our data,
// RFC 7946) → GCJ-02 (AMap, Tencent) → BD-09 (Baidu). The GCJ-02 offset is the published
// obfuscation polynomial; outside China it is not applied. Pure functions, tested in
// tests/browser/scenarios/crs.test.mjs against points whose coordinates are known in both
// systems (data/sources). All positions are [lng, lat] in degrees.

const A = 6378245.0; // Krasovsky 1940 semi-major axis, metres
const EE = 0.006693421622965943; // its eccentricity squared
const X_PI = (Math.PI * 3000.0) / 180.0;

/** Whether a WGS84 point lies outside the rough box where GCJ-02 differs from WGS84. */
export function outOfChina([lng, lat]) {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function offsetLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function offsetLng(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

/** WGS84 → GCJ-02. */
export function wgs84ToGcj02([lng, lat]) {
  if (outOfChina([lng, lat])) return [lng, lat];
  let dLat = offsetLat(lng - 105, lat - 35);
  let dLng = offsetLng(lng - 105, lat - 35);
  const radLat = (lat / 180) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLng = (dLng * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lng + dLng, lat + dLat];
}

/** GCJ-02 → WGS84, by fixed-point iteration of the forward offset (well under 1 m). */
export function gcj02ToWgs84([lng, lat]) {
  let w = [lng, lat];
  for (let i = 0; i < 6; i++) {
    const g = wgs84ToGcj02(w);
    w = [w[0] - (g[0] - lng), w[1] - (g[1] - lat)];
  }
  return w;
}

/** GCJ-02 → BD-09. */
export function gcj02ToBd09([lng, lat]) {
  const z = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * X_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

/** BD-09 → GCJ-02. */
export function bd09ToGcj02([lng, lat]) {
  const x = lng - 0.0065;
  const y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
  return [z * Math.cos(theta), z * Math.sin(theta)];
}

/** WGS84 → BD-09. */
export function wgs84ToBd09(p) {
  return gcj02ToBd09(wgs84ToGcj02(p));
}

const fix = (v) => v.toFixed(6);

/**
 * Navigation links for a WGS84 point: AMap's URI API (GCJ-02) and Baidu's (BD-09, marked
 * `coord_type=bd09ll`). Names are URL-encoded; nothing is sent anywhere until tapped.
 */
export function navigationLinks([lng, lat], name) {
  const [gl, ga] = wgs84ToGcj02([lng, lat]);
  const [bl, ba] = wgs84ToBd09([lng, lat]);
  const n = encodeURIComponent(name ?? '');
  return {
    amap: `https://uri.amap.com/marker?position=${fix(gl)},${fix(ga)}&name=${n}&coordinate=gaode&callnative=1&src=renewal-map`,
    baidu: `https://api.map.baidu.com/marker?location=${fix(ba)},${fix(bl)}&title=${n}&content=${n}&output=html&coord_type=bd09ll&src=renewal-map`,
    gcj02: [gl, ga],
    bd09: [bl, ba],
  };
}
