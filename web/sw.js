// The service worker of the field app: the page opens with no network.
//
// - The app shell (the page, its modules, MapLibre, uPlot, idb, the manifest) is stored at
//   install; a file missing from SHELL_FILES fails the install, so the list cannot drift quietly.
// - Every GET in the page's scope is asked of the network first (so an edit shows at once when
//   there is signal) and answered from the caches when the network fails: the shell, the data
//   the page reads (DATA_PATHS: meta, style, TileJSON, the sites' items, one site and its
//   history, stats) and the vector tiles the page stored for offline use (offline.js fills the
//   tile cache, with its size cap; this worker only refreshes tiles already in it).
// - Writes (PATCH, POST) and the event stream are never touched: the outbox (outbox.js) owns
//   every write, so a write is never answered from a cache.

const SHELL = 'renewal-map-shell-v1';
const DATA = 'renewal-map-data-v1';
const TILES = 'renewal-map-tiles-v1';

const SHELL_FILES = [
  './',
  'index.html',
  'style.css',
  'config.json',
  'manifest.webmanifest',
  'icon.svg',
  'main.js',
  'api.js',
  'card.js',
  'chart.js',
  'crs.js',
  'dom.js',
  'filters.js',
  'i18n.js',
  'i18n-field.js',
  'layers.js',
  'live.js',
  'location.js',
  'map.js',
  'offline.js',
  'outbox.js',
  'panels.js',
  'parks.js',
  'session.js',
  'state.js',
  'update.js',
  'node_modules/maplibre-gl/dist/maplibre-gl.js',
  'node_modules/maplibre-gl/dist/maplibre-gl.css',
  'node_modules/uplot/dist/uPlot.esm.js',
  'node_modules/uplot/dist/uPlot.min.css',
  'node_modules/idb/build/index.js',
];

/** Paths (relative to the scope) of the data answers kept for offline use. */
const DATA_PATHS = [
  /^api\/meta$/,
  /^api\/stats$/,
  /^api\/stats\/timeline$/,
  /^api\/sites\/[^/]+$/,
  /^api\/sites\/[^/]+\/history$/,
  /^api\/sites\/[^/]+\/photos$/,
  /^style\.json$/,
  /^tiles\.json$/,
  /^ogc\/collections\/(sites|subdistricts)\/items$/,
];

const scope = new URL(self.registration.scope).pathname;

self.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(SHELL)
      .then((c) => c.addAll(SHELL_FILES.map((f) => new Request(f, { cache: 'no-cache' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (e) => {
  const keep = new Set([SHELL, DATA, TILES]);
  e.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('renewal-map-') && !keep.has(n)).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

/** Which cache a GET of `rel` (path relative to the scope) belongs to, or null for none. */
function cacheFor(rel) {
  // Vector tiles as MVT or MLT (the page uses the smaller; see tileFormat in api.js).
  if (rel.startsWith('tiles/') && (rel.endsWith('.mvt') || rel.endsWith('.mlt'))) return TILES;
  // DATA_PATHS are public reads, the same with or without a token; the account's own answer
  // (api/me) is not among them (the page keeps it itself, under a digest of the token).
  if (DATA_PATHS.some((re) => re.test(rel))) return DATA;
  if (rel === '' || SHELL_FILES.includes(rel)) return SHELL;
  return null;
}

async function networkFirst(req, cacheName, { navigate = false } = {}) {
  const cache = await caches.open(cacheName);
  try {
    const res = await fetch(req);
    // Tiles: only refresh what the offline store already holds (its size cap is the page's).
    const keep = res.ok && (cacheName !== TILES || (await cache.match(req, { ignoreVary: true })));
    if (keep) await cache.put(navigate ? 'index.html' : req, res.clone());
    return res;
  } catch (err) {
    // ignoreVary: answers vary on Accept (OGC's HTML pages) and the page asks with its own.
    const hit = navigate ? await cache.match('index.html') : await cache.match(req, { ignoreVary: true });
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(scope)) return;
  if (req.mode === 'navigate') {
    e.respondWith(networkFirst(req, SHELL, { navigate: true }));
    return;
  }
  const name = cacheFor(url.pathname.slice(scope.length));
  if (name) e.respondWith(networkFirst(req, name));
});
