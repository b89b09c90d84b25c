// The map's sources and layers, declared as data. main.js builds the style from these and
// never adds a layer of its own; tests and the legend read the same tables.
//
// Tile layer names and tags are those of src/tiles/encode.rs. Every site feature carries
// id, name, kind, status, progress, late, subdistrict, investment_wan, planned_finish and a
// numeric feature id (fid) that feature-state uses for hover and selection.

/** Colour of each renewal status, in the order of the workflow. */
export const STATUS_COLORS = {
  planned: '#9aa1ab',
  design: '#8a63c9',
  tendering: '#2f7fd0',
  under_construction: '#f08c00',
  completed: '#37a24b',
  accepted: '#146b34',
  suspended: '#7b4a2a',
};

/** Outline colour of sites past their planned finish and not done. */
export const LATE_COLOR = '#e0182d';

/** The vector tile source-layer each kind of site is drawn in (site_layer in encode.rs). */
export const KIND_SOURCE_LAYER = {
  compound: 'compounds',
  pocket_park: 'parks',
  plaza: 'plazas',
  road: 'roads',
  road_opening: 'roads',
  logistics_road: 'roads',
  alley: 'roads',
};

/** Source-layers that hold renewal sites (their features open a site card when clicked). */
export const SITE_SOURCE_LAYERS = ['compounds', 'parks', 'plazas', 'roads', 'site_points'];

const statusColor = ['match', ['get', 'status'], ...Object.entries(STATUS_COLORS).flat(), '#999'];
// Progress shows as opacity: a planned site is faint, a finished one solid.
const progressOpacity = ['interpolate', ['linear'], ['to-number', ['get', 'progress'], 0], 0, 0.3, 100, 0.9];
const selected = ['boolean', ['feature-state', 'selected'], false];
const hovered = ['boolean', ['feature-state', 'hover'], false];
const late = ['==', ['get', 'late'], true];

/** Font stack for labels: no glyph server; MapLibre draws the text with the local font. */
const TEXT_FONT = ['sans-serif'];

function siteFill(id, sourceLayer) {
  return {
    id: `${id}-fill`,
    type: 'fill',
    source: 'renewal',
    'source-layer': sourceLayer,
    paint: { 'fill-color': statusColor, 'fill-opacity': progressOpacity },
  };
}

function siteOutline(id, sourceLayer) {
  return {
    id: `${id}-outline`,
    type: 'line',
    source: 'renewal',
    'source-layer': sourceLayer,
    paint: {
      'line-color': ['case', selected, '#111', late, LATE_COLOR, statusColor],
      'line-width': ['case', selected, 3.5, late, 2.5, hovered, 2, 1],
    },
  };
}

/** Layers in drawing order. `site: true` marks layers whose features are renewal sites. */
export const LAYERS = [
  { id: 'background', type: 'background', paint: { 'background-color': '#f3f0e8' } },
  {
    id: 'district-fill',
    type: 'fill',
    source: 'renewal',
    'source-layer': 'district',
    paint: { 'fill-color': '#fffdf7', 'fill-opacity': 0.85 },
  },
  {
    id: 'subdistricts-line',
    type: 'line',
    source: 'renewal',
    'source-layer': 'subdistricts',
    paint: { 'line-color': '#8d8a80', 'line-width': 1, 'line-dasharray': [3, 2] },
  },
  {
    id: 'streets-line',
    type: 'line',
    source: 'renewal',
    'source-layer': 'streets',
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: {
      'line-color': '#d3cdbd',
      'line-width': ['interpolate', ['linear'], ['zoom'], 11, 1, 14, 3, 17, 8],
    },
  },
  {
    id: 'district-line',
    type: 'line',
    source: 'renewal',
    'source-layer': 'district',
    paint: { 'line-color': '#4a4740', 'line-width': 2.5 },
  },
  { ...siteFill('compounds', 'compounds'), site: true },
  { ...siteOutline('compounds', 'compounds'), site: true },
  { ...siteFill('parks', 'parks'), site: true },
  { ...siteOutline('parks', 'parks'), site: true },
  { ...siteFill('plazas', 'plazas'), site: true },
  { ...siteOutline('plazas', 'plazas'), site: true },
  {
    id: 'roads-late',
    type: 'line',
    source: 'renewal',
    'source-layer': 'roads',
    filter: late,
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: {
      'line-color': LATE_COLOR,
      'line-width': ['interpolate', ['linear'], ['zoom'], 11, 5, 15, 10, 18, 16],
    },
    site: true,
  },
  {
    id: 'roads-line',
    type: 'line',
    source: 'renewal',
    'source-layer': 'roads',
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: {
      'line-color': ['case', selected, '#111', statusColor],
      'line-opacity': ['case', selected, 1, progressOpacity],
      'line-width': ['interpolate', ['linear'], ['zoom'], 11, 2.5, 15, 6, 18, 11],
    },
    site: true,
  },
  {
    id: 'landmarks-circle',
    type: 'circle',
    source: 'renewal',
    'source-layer': 'landmarks',
    paint: {
      'circle-radius': 4,
      'circle-color': '#fff',
      'circle-stroke-color': '#4a4740',
      'circle-stroke-width': 1.5,
    },
  },
  {
    id: 'site-points',
    type: 'circle',
    source: 'renewal',
    'source-layer': 'site_points',
    paint: {
      'circle-color': statusColor,
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, ['case', late, 4.5, 3.5], 15, ['case', late, 7, 5.5]],
      'circle-stroke-color': ['case', selected, '#111', late, LATE_COLOR, '#fff'],
      'circle-stroke-width': ['case', selected, 3, late, 2.5, 1],
      // Points mark where sites are at district scale and fade as the shapes become visible.
      'circle-opacity': ['interpolate', ['linear'], ['zoom'], 14, 1, 16.5, 0.35],
      'circle-stroke-opacity': ['interpolate', ['linear'], ['zoom'], 14, 1, 16.5, 0.5],
    },
    site: true,
  },
  {
    // One label per sub-district, at an interior point main.js computes from the OGC API
    // (labels from tiled polygons would repeat in every tile).
    id: 'subdistricts-label',
    type: 'symbol',
    source: 'subdistrict-labels',
    minzoom: 10.5,
    maxzoom: 15.5,
    layout: {
      'text-field': ['get', 'name'],
      'text-font': TEXT_FONT,
      'text-size': ['interpolate', ['linear'], ['zoom'], 11, 12, 14, 15],
    },
    paint: { 'text-color': '#6b675c', 'text-halo-color': '#fffdf7', 'text-halo-width': 1.5 },
  },
  {
    id: 'landmarks-label',
    type: 'symbol',
    source: 'renewal',
    'source-layer': 'landmarks',
    minzoom: 13,
    layout: {
      'text-field': ['get', 'name'],
      'text-font': TEXT_FONT,
      'text-size': 11,
      'text-offset': [0, 0.9],
      'text-anchor': 'top',
      'text-max-width': 9,
    },
    paint: { 'text-color': '#4a4740', 'text-halo-color': '#fff', 'text-halo-width': 1.2 },
  },
  {
    id: 'site-labels',
    type: 'symbol',
    source: 'renewal',
    'source-layer': 'site_points',
    minzoom: 15,
    layout: {
      'text-field': ['concat', ['get', 'name'], ' ', ['to-string', ['get', 'progress']], '%'],
      'text-font': TEXT_FONT,
      'text-size': 11,
      'text-offset': [0, 1],
      'text-anchor': 'top',
      'text-max-width': 10,
    },
    paint: { 'text-color': '#222', 'text-halo-color': '#fff', 'text-halo-width': 1.5 },
    site: true,
  },
  // Answer of "pocket parks near me": the parks, the point asked about, and rank numbers.
  {
    id: 'nearest-fill',
    type: 'fill',
    source: 'nearest',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'fill-color': ['case', ['get', 'open'], '#37a24b', '#f08c00'], 'fill-opacity': 0.55 },
  },
  {
    id: 'nearest-outline',
    type: 'line',
    source: 'nearest',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'line-color': '#0b5d2a', 'line-width': 3, 'line-dasharray': [2, 1] },
  },
  {
    id: 'nearest-origin',
    type: 'circle',
    source: 'nearest-origin',
    paint: {
      'circle-radius': 7,
      'circle-color': '#1c7ed6',
      'circle-stroke-color': '#fff',
      'circle-stroke-width': 3,
    },
  },
  {
    id: 'nearest-rank-circle',
    type: 'circle',
    source: 'nearest-labels',
    paint: { 'circle-radius': 11, 'circle-color': '#0b5d2a', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 },
  },
  {
    id: 'nearest-rank',
    type: 'symbol',
    source: 'nearest-labels',
    layout: {
      'text-field': ['to-string', ['get', 'rank']],
      'text-font': TEXT_FONT,
      'text-size': 13,
      'text-allow-overlap': true,
      'text-ignore-placement': true,
    },
    paint: { 'text-color': '#fff' },
  },
];

/** Ids of the layers whose features are renewal sites, topmost first (for clicks). */
export const SITE_LAYER_IDS = LAYERS.filter((l) => l.site).map((l) => l.id).reverse();

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * The MapLibre style for a TileJSON answer. `tiles` are the tile URLs to use (the TileJSON's,
 * with filter parameters); `basemap` is an optional raster XYZ URL from config.json.
 * There is no `glyphs` URL: labels are drawn locally, so the style references no remote host.
 */
export function buildStyle({ tilejson, tiles, basemap }) {
  const sources = {
    renewal: {
      type: 'vector',
      tiles,
      minzoom: tilejson.minzoom ?? 0,
      maxzoom: tilejson.maxzoom ?? 16,
      bounds: tilejson.bounds,
      attribution: tilejson.attribution,
    },
    nearest: { type: 'geojson', data: EMPTY },
    'nearest-origin': { type: 'geojson', data: EMPTY },
    'nearest-labels': { type: 'geojson', data: EMPTY },
    'subdistrict-labels': { type: 'geojson', data: EMPTY },
  };
  const layers = LAYERS.map(({ site, ...layer }) => layer);
  if (basemap && basemap.tiles) {
    sources.basemap = {
      type: 'raster',
      tiles: basemap.tiles,
      tileSize: basemap.tileSize ?? 256,
      attribution: basemap.attribution ?? '',
    };
    layers.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap' });
    // Let the basemap show through the district fill.
    layers.find((l) => l.id === 'district-fill').paint['fill-opacity'] = 0.35;
  }
  return { version: 8, sources, layers };
}
