// The MapLibre map: the server's style (adapted in layers.js), tile URLs with the filters, hover and selection by
// feature-state, clicks that open a site card, labels in the page's language.

/* global maplibregl */

import { api, tileFormat, tileTemplate } from './api.js';
import { $ } from './dom.js';
import { lang } from './i18n.js';
import { adaptStyle, KIND_SOURCE_LAYER, SITE_LAYER_IDS } from './layers.js';
import { state, view } from './state.js';

const LOCAL_FONTS =
  "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

/** Handlers other modules install: a site clicked, a point picked, the view moved. */
export const mapHooks = { openSite: () => {}, picked: () => {}, moved: () => {} };

/** Query string of the current filters (and the time slider), for tiles and items. */
export function filterQuery({ all = { kinds: [], statuses: [] } } = {}) {
  const f = state.filters;
  const q = new URLSearchParams();
  if (f.kinds.size && f.kinds.size < all.kinds.length) q.set('kind', [...f.kinds].join(','));
  if (f.statuses.size && f.statuses.size < all.statuses.length) q.set('status', [...f.statuses].join(','));
  if (f.subdistrict) q.set('subdistrict', f.subdistrict);
  if (f.late) q.set('late', 'true');
  if (state.asOf) q.set('as_of', state.asOf);
  return q;
}

/** Every kind and status the server knows (from /api/meta). */
export function allChoices() {
  return {
    kinds: (state.meta?.kinds ?? []).map((k) => k.id),
    statuses: (state.meta?.statuses ?? []).map((s) => s.id),
  };
}

function tileUrls() {
  const qs = filterQuery({ all: allChoices() }).toString();
  const u = tileTemplate(tileFormat(state.tilejson));
  return [qs ? `${u}?${qs}` : u];
}

/** Data-set layers whose geometry is illustrative (from the manifest's provenance). */
export function illustrativeLayers() {
  const g = state.meta?.illustrative?.geometry ?? {};
  return new Set(Object.entries(g).filter(([, v]) => v).map(([k]) => k));
}

/** Makes the map from the server's style; resolves once it has loaded. */
export function initMap(style) {
  const tj = state.tilejson;
  const map = new maplibregl.Map({
    container: 'map',
    style: adaptStyle(style, { tiles: tileUrls(), encoding: tileFormat(tj), basemap: state.config.basemap }),
    bounds: tj.bounds,
    fitBoundsOptions: { padding: 16 },
    maxZoom: 19,
    localIdeographFontFamily: LOCAL_FONTS,
    attributionControl: { compact: true },
    dragRotate: false,
    pitchWithRotate: false,
    preserveDrawingBuffer: true, // so the print layout and screenshots hold the map
  });
  view.map = map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  window.__map = map;

  map.on('load', () => {
    for (const a of document.querySelectorAll('.maplibregl-ctrl-attrib.maplibregl-compact')) a.classList.remove('maplibregl-compact-show');
    map.fitBounds(tj.bounds, { padding: viewPadding(16), duration: 0 });
    labelLanguage();
    loadSubdistrictLabels();
  });
  map.on('click', onMapClick);
  map.on('mousemove', onMapHover);
  map.on('mouseout', () => setHover(null));
  map.on('moveend', () => mapHooks.moved());
  map.on('idle', () => mapHooks.moved());
  return new Promise((resolve) => map.once('load', resolve));
}

/** Map labels follow the language where the data has an English name. */
export function labelLanguage() {
  const map = view.map;
  if (!map || !map.getLayer('subdistricts-label')) return;
  const field = ['coalesce', ['get', lang() === 'en' ? 'name_en' : 'name'], ['get', 'name']];
  map.setLayoutProperty('subdistricts-label', 'text-field', field);
  map.setLayoutProperty('landmarks-label', 'text-field', field);
}

function siteFeaturesAt(point, pad = 0) {
  const box = pad ? [[point.x - pad, point.y - pad], [point.x + pad, point.y + pad]] : point;
  return view.map.queryRenderedFeatures(box, { layers: SITE_LAYER_IDS }).filter((f) => f.properties.id);
}

function onMapClick(e) {
  if (state.pickMode) {
    mapHooks.picked(e.lngLat.lng, e.lngLat.lat);
    return;
  }
  // Exact hit first; then a finger-sized box for thin roads and small points.
  const hit = siteFeaturesAt(e.point)[0] ?? siteFeaturesAt(e.point, 8)[0];
  if (hit) mapHooks.openSite(hit.properties.id);
}

function onMapHover(e) {
  if (state.pickMode) return;
  const hit = siteFeaturesAt(e.point)[0];
  setHover(hit ?? null);
  view.map.getCanvas().style.cursor = hit ? 'pointer' : '';
}

function setHover(f) {
  const map = view.map;
  if (state.hovered) map.setFeatureState(state.hovered, { hover: false });
  state.hovered = null;
  if (f && f.id != null) {
    state.hovered = { source: 'renewal', sourceLayer: f.sourceLayer, id: f.id };
    map.setFeatureState(state.hovered, { hover: true });
  }
}

/** Marks a site (GeoJSON feature with `fid` and `kind`) as selected; null clears. */
export function select(feature) {
  const map = view.map;
  if (!map) return;
  for (const target of state.selected) map.setFeatureState(target, { selected: false });
  state.selected = [];
  if (!feature) return;
  const fid = feature.properties.fid;
  const layer = KIND_SOURCE_LAYER[feature.properties.kind];
  if (fid == null || !layer) return;
  state.selected = [
    { source: 'renewal', sourceLayer: layer, id: fid },
    { source: 'renewal', sourceLayer: 'site_points', id: fid },
  ];
  for (const target of state.selected) map.setFeatureState(target, { selected: true });
}

/** Sends the filters to the tile server (and hides the site layers for an empty choice). */
export function applyTileFilters() {
  const map = view.map;
  if (!map) return;
  const f = state.filters;
  const none = f.kinds.size === 0 || f.statuses.size === 0;
  for (const id of SITE_LAYER_IDS) map.setLayoutProperty(id, 'visibility', none ? 'none' : 'visible');
  map.getSource('renewal').setTiles(tileUrls());
}

/** Bounds [[w,s],[e,n]] of GeoJSON geometries. */
export function boundsOf(geoms) {
  const b = [[Infinity, Infinity], [-Infinity, -Infinity]];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0][0] = Math.min(b[0][0], c[0]);
      b[0][1] = Math.min(b[0][1], c[1]);
      b[1][0] = Math.max(b[1][0], c[0]);
      b[1][1] = Math.max(b[1][1], c[1]);
    } else c.forEach(walk);
  };
  for (const g of geoms) if (g && g.coordinates) walk(g.coordinates);
  return b;
}

/** A point to label a geometry with: the mean of its outer ring's vertices. */
export function labelPoint(g) {
  if (!g) return null;
  if (g.type === 'Point') return g.coordinates;
  const ring =
    g.type === 'Polygon' ? g.coordinates[0] : g.type === 'MultiPolygon' ? g.coordinates[0][0] : g.type === 'LineString' ? g.coordinates : null;
  if (!ring || !ring.length) return null;
  const pts = g.type === 'LineString' ? ring : ring.slice(0, -1);
  const s = pts.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
  return [s[0] / pts.length, s[1] / pts.length];
}

/**
 * A point inside a polygon for its label: the middle of the widest inside stretch of the
 * horizontal line through the middle of its bounds (the centroid may fall outside).
 */
function interiorPoint(g) {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
  let best = null;
  for (const rings of polys) {
    const [[, s], [, n]] = boundsOf([{ coordinates: rings }]);
    const y = (s + n) / 2;
    const xs = [];
    for (const ring of rings) {
      for (let i = 1; i < ring.length; i++) {
        const [x1, y1] = ring[i - 1];
        const [x2, y2] = ring[i];
        if ((y1 <= y) !== (y2 <= y)) xs.push(x1 + ((y - y1) * (x2 - x1)) / (y2 - y1));
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const w = xs[i + 1] - xs[i];
      if (!best || w > best.w) best = { w, p: [(xs[i] + xs[i + 1]) / 2, y] };
    }
  }
  return best ? best.p : null;
}

async function loadSubdistrictLabels() {
  const r = await api('ogc/collections/subdistricts/items?limit=1000');
  if (!r.ok) return;
  const features = r.body.features
    .map((f) => ({
      type: 'Feature',
      properties: { name: f.properties.name, name_en: f.properties.name_en ?? f.properties.name },
      geometry: { type: 'Point', coordinates: interiorPoint(f.geometry) },
    }))
    .filter((f) => f.geometry.coordinates);
  view.map.getSource('subdistrict-labels').setData({ type: 'FeatureCollection', features });
}

/** Padding for fitBounds: on phones the bottom sheet covers the lower map, so fit above it. */
export function viewPadding(px) {
  const narrow = window.matchMedia('(max-width: 799px)').matches;
  const sheet = document.body.classList.contains('card-open') ? $('card') : $('panel');
  const covered = narrow ? Math.round(sheet.getBoundingClientRect().height) : 0;
  const wide = !narrow && document.body.classList.contains('card-open') ? $('card').getBoundingClientRect().width + 10 : 0;
  return { top: px, left: px, right: px + wide, bottom: px + covered };
}

/** Site ids and names rendered in the current view, for the keyboard list (deduplicated). */
export function visibleSites(limit = 200) {
  const map = view.map;
  if (!map || !map.getLayer('site-points')) return [];
  const seen = new Map();
  for (const f of map.queryRenderedFeatures({ layers: ['site-points'] })) {
    const p = f.properties;
    if (p.id && !seen.has(p.id)) seen.set(p.id, p);
    if (seen.size >= limit) break;
  }
  return [...seen.values()];
}
