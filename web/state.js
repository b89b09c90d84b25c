// The page's one state object and the map handle, shared by the modules.

/** Everything the page knows; every figure in it came from an API answer. */
export const state = {
  config: {},
  meta: null, // GET /api/meta: labels, palette, moves, limits, provenance
  tilejson: null,
  stats: null,
  selection: null, // figures of the filtered sites: { features, byStatus, ... }
  filters: { kinds: new Set(), statuses: new Set(), subdistrict: '', late: false },
  asOf: null, // RFC 3339 instant of the time slider, or null for now
  token: null,
  me: null,
  mine: [],
  card: null, // { id, feature, version, history, conflict, message, resident }
  selected: [],
  hovered: null,
  pickMode: false,
  nearest: null, // { lng, lat, open: [...], building: [...] }
  live: { connected: false, last: null },
  position: null, // { lon, lat, accuracy_m } after "locate me"
  photosApi: false, // whether the server takes photos (POST /api/sites/{id}/photos)
};

/** The MapLibre map, once made. */
export const view = { map: null };
