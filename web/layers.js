// The map's style comes from the server (GET /style.json: sources and layers as data, the
// palette and the dashing of illustrative boundaries decided there). This module adapts it to
// the page: tile URLs relative to the page with the filters, an optional basemap from
// config.json, and the tables the rest of the page reads (status colours, site layers).

/** Colour of each status as sent by GET /api/meta (the server owns the palette). */
export const STATUS_COLORS = {};

/** The vector tile source-layer each kind of site is drawn in (from GET /api/meta). */
export const KIND_SOURCE_LAYER = {};

/** Ids of the style's site layers (metadata `renewal:site`), topmost first (for clicks). */
export const SITE_LAYER_IDS = [];

/** Installs the palette and kinds of GET /api/meta. */
export function setPalette(meta) {
  for (const s of meta.statuses) STATUS_COLORS[s.id] = s.color;
  for (const k of meta.kinds) KIND_SOURCE_LAYER[k.id] = k.source_layer;
}

/**
 * The style to give MapLibre: the server's, with `tiles` (page-relative, with the filters)
 * for the renewal source in `encoding` (`mvt` or `mlt`, MapLibre's source `encoding`) and the
 * optional raster `basemap` of config.json under everything.
 * The server's absolute tile URL is not used, so the page works under any proxy prefix.
 */
export function adaptStyle(style, { tiles, encoding = 'mvt', basemap }) {
  const s = structuredClone(style);
  s.sources.renewal.tiles = tiles;
  if (encoding === 'mlt') s.sources.renewal.encoding = 'mlt';
  else delete s.sources.renewal.encoding;
  SITE_LAYER_IDS.splice(0, SITE_LAYER_IDS.length, ...s.layers.filter((l) => l.metadata?.['renewal:site']).map((l) => l.id).reverse());
  if (basemap && basemap.tiles) {
    s.sources.basemap = { type: 'raster', tiles: basemap.tiles, tileSize: basemap.tileSize ?? 256, attribution: basemap.attribution ?? '' };
    s.layers.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap' });
    // Let the basemap show through the district fill.
    const fill = s.layers.find((l) => l.id === 'district-fill');
    if (fill) fill.paint['fill-opacity'] = 0.35;
  }
  return s;
}
