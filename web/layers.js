// The map's sources and layers, declared as data. map.js builds the style from these and
// never adds a layer of its own; tests and the legend read the same tables. Colours come
// from GET /api/meta (setPalette), dashing of illustrative boundaries from its provenance.
//
// Tile layer names and tags are those of src/tiles/encode.rs. Every site feature carries
// id, name, kind, status, progress, late, subdistrict, investment_wan, planned_finish and a
// numeric feature id (fid) that feature-state uses for hover and selection.

/** Colour of each status as sent by GET /api/meta (the server owns the palette). */
export const STATUS_COLORS = {};
/** Outline of late sites (from /api/meta); drawn dashed, so lateness never rests on colour. */
export let LATE_COLOR = '#000';

/** Installs the palette of GET /api/meta; call before buildStyle. */
export function setPalette(meta) {
  for (const k of Object.keys(STATUS_COLORS)) delete STATUS_COLORS[k];
  for (const s of meta.statuses) STATUS_COLORS[s.id] = s.color;
  LATE_COLOR = meta.palette.late_outline;
  BACKGROUND = meta.palette.background;
  DISTRICT_FILL = meta.palette.district_fill;
}

let BACKGROUND = '#f3f0e8';
let DISTRICT_FILL = '#fffdf7';

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

const statusColor = () => ['match', ['get', 'status'], ...Object.entries(STATUS_COLORS).flat(), '#999'];
// Progress is never drawn as opacity (it would weaken every status colour): fills are even,
// progress is in the labels and the card.
const FILL_OPACITY = 0.8;
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
    paint: { 'fill-color': statusColor(), 'fill-opacity': FILL_OPACITY },
  };
}

/** Late sites: a dashed black ring outside the status colour (the second channel). */
function siteLate(id, sourceLayer) {
  return {
    id: `${id}-late`,
    type: 'line',
    source: 'renewal',
    'source-layer': sourceLayer,
    filter: late,
    paint: { 'line-color': LATE_COLOR, 'line-width': 2.5, 'line-dasharray': [2, 1.5], 'line-offset': -1.5 },
  };
}

function siteOutline(id, sourceLayer) {
  return {
    id: `${id}-outline`,
    type: 'line',
    source: 'renewal',
    'source-layer': sourceLayer,
    paint: {
      'line-color': ['case', selected, '#111', statusColor()],
      'line-width': ['case', selected, 3.5, hovered, 2, 1],
    },
  };
}

/**
 * Layers in drawing order. `site: true` marks layers whose features are renewal sites.
 * `dashed` lists data-set layers whose geometry is illustrative (their lines are dashed).
 */
export function layers(dashed = new Set()) {
  return [
  { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } },
  {
    id: 'district-fill',
    type: 'fill',
    source: 'renewal',
    'source-layer': 'district',
    paint: { 'fill-color': DISTRICT_FILL, 'fill-opacity': 0.85 },
  },
  {
    id: 'subdistricts-line',
    type: 'line',
    source: 'renewal',
    'source-layer': 'subdistricts',
    // Illustrative boundaries are dashed; real ones solid.
    paint: { 'line-color': '#6b675c', 'line-width': 1.2, ...(dashed.has('subdistricts') ? { 'line-dasharray': [3, 2] } : {}) },
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
    paint: { 'line-color': '#4a4740', 'line-width': 2.5, ...(dashed.has('district') ? { 'line-dasharray': [3, 2] } : {}) },
  },
  { ...siteFill('compounds', 'compounds'), site: true },
  { ...siteOutline('compounds', 'compounds'), site: true },
  { ...siteLate('compounds', 'compounds'), site: true },
  { ...siteFill('parks', 'parks'), site: true },
  { ...siteOutline('parks', 'parks'), site: true },
  { ...siteLate('parks', 'parks'), site: true },
  { ...siteFill('plazas', 'plazas'), site: true },
  { ...siteOutline('plazas', 'plazas'), site: true },
  { ...siteLate('plazas', 'plazas'), site: true },
  {
    id: 'roads-late',
    type: 'line',
    source: 'renewal',
    'source-layer': 'roads',
    filter: late,
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    // A dashed black casing around late roads.
    paint: {
      'line-color': LATE_COLOR,
      'line-width': ['interpolate', ['linear'], ['zoom'], 11, 6, 15, 11, 18, 17],
      'line-dasharray': [1.2, 0.8],
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
      'line-color': ['case', selected, '#111', statusColor()],
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
    // Late sites' points sit on a larger black ring with a white gap: a shape cue, not a hue.
    id: 'site-points-late',
    type: 'circle',
    source: 'renewal',
    'source-layer': 'site_points',
    filter: late,
    paint: {
      'circle-color': '#fff',
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 7.5, 15, 10.5],
      'circle-stroke-color': LATE_COLOR,
      'circle-stroke-width': 2,
      'circle-opacity': ['interpolate', ['linear'], ['zoom'], 14, 1, 16.5, 0.35],
      'circle-stroke-opacity': ['interpolate', ['linear'], ['zoom'], 14, 1, 16.5, 0.5],
    },
    site: true,
  },
  {
    id: 'site-points',
    type: 'circle',
    source: 'renewal',
    'source-layer': 'site_points',
    paint: {
      'circle-color': statusColor(),
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 4, 15, 6],
      'circle-stroke-color': ['case', selected, '#111', '#fff'],
      'circle-stroke-width': ['case', selected, 3, 1],
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
    paint: { 'fill-color': ['case', ['get', 'open'], STATUS_COLORS.completed ?? '#286648', STATUS_COLORS.under_construction ?? '#c24f00'], 'fill-opacity': 0.55 },
  },
  {
    id: 'nearest-outline',
    type: 'line',
    source: 'nearest',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'line-color': '#0b5d2a', 'line-width': 3, 'line-dasharray': [2, 1] },
  },
  {
    // Parks whose planned opening has passed: a dashed black ring, as late sites.
    id: 'nearest-late',
    type: 'line',
    source: 'nearest',
    filter: ['all', ['==', ['geometry-type'], 'Polygon'], ['==', ['get', 'late'], true]],
    paint: { 'line-color': LATE_COLOR, 'line-width': 2.5, 'line-dasharray': [1, 1], 'line-offset': -3 },
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
}

/** Ids of the layers whose features are renewal sites, topmost first (for clicks). */
export const SITE_LAYER_IDS = layers().filter((l) => l.site).map((l) => l.id).reverse();

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * The MapLibre style for a TileJSON answer. `tiles` are the tile URLs to use (the TileJSON's,
 * with filter parameters); `basemap` is an optional raster XYZ URL from config.json.
 * There is no `glyphs` URL: labels are drawn locally, so the style references no remote host.
 */
export function buildStyle({ tilejson, tiles, basemap, dashed }) {
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
  const list = layers(dashed).map(({ site, ...layer }) => layer);
  if (basemap && basemap.tiles) {
    sources.basemap = {
      type: 'raster',
      tiles: basemap.tiles,
      tileSize: basemap.tileSize ?? 256,
      attribution: basemap.attribution ?? '',
    };
    list.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap' });
    // Let the basemap show through the district fill.
    list.find((l) => l.id === 'district-fill').paint['fill-opacity'] = 0.35;
  }
  return { version: 8, sources, layers: list };
}
