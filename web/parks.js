// Residents: the pocket parks nearest to where they are (browser location or a tap), by
// walking distance over the street network when the data set has one (else straight line,
// said so), the walking route to the first or chosen park, open status (late when the planned opening has passed), size, and
// navigation links to AMap and Baidu.

import { api, errorText } from './api.js';
import { $, el } from './dom.js';
import { metres, num, parkDistance, siteName, t, walkNetworkIllustrative } from './i18n.js';
import { boundsOf, labelPoint, viewPadding } from './map.js';
import { navLinks, openSite } from './card.js';
import { state, view } from './state.js';

/** Handlers installed by main.js. */
export const parksHooks = { showTab: () => {} };

export function setPickMode(on) {
  state.pickMode = on;
  if (view.map) view.map.getCanvas().style.cursor = on ? 'crosshair' : '';
  $('parks-pick').setAttribute('aria-pressed', on ? 'true' : 'false');
  $('parks-status').textContent = on ? t('parks_pick_hint') : '';
  document.body.classList.toggle('picking', on);
}

export function locate() {
  if (!navigator.geolocation) {
    $('parks-status').textContent = t('parks_geo_failed', { m: '–' });
    setPickMode(true);
    return;
  }
  $('parks-status').textContent = t('loading');
  navigator.geolocation.getCurrentPosition(
    (pos) => findNearest(pos.coords.longitude, pos.coords.latitude),
    (err) => {
      $('parks-status').textContent = t('parks_geo_failed', { m: err.message });
      setPickMode(true);
    },
    { timeout: 10000, maximumAge: 60000 },
  );
}

/** Whether a park not yet open has passed its planned opening (the server's `today`). */
function isLate(p) {
  const today = state.meta?.today;
  return !p.open && !!p.opens && !!today && p.opens < today;
}

export async function findNearest(lng, lat) {
  setPickMode(false);
  parksHooks.showTab('parks');
  $('parks-status').textContent = t('loading');
  const at = `lon=${lng.toFixed(6)}&lat=${lat.toFixed(6)}`;
  // Ordered by walking distance (the server falls back to the straight line where the
  // network does not reach), with the walking route of each open park.
  const [open, all] = await Promise.all([
    api(`api/parks/nearest?${at}&limit=5&include=open&order=walk&route=true`),
    api(`api/parks/nearest?${at}&limit=5&include=all&order=walk`),
  ]);
  if (!open.ok || !all.ok) {
    $('parks-status').textContent = errorText(open.ok ? all : open);
    return;
  }
  const openParks = open.body.features;
  const reach = (p) => p.walk_m ?? p.distance_m;
  const farthest = openParks.length ? reach(openParks[openParks.length - 1].properties) : Infinity;
  // Parks being built that are nearer than the open ones listed: worth knowing about.
  const building = all.body.features
    .filter((f) => !f.properties.open && reach(f.properties) <= farthest)
    .map((f) => ({ ...f, properties: { ...f.properties, late: isLate(f.properties) } }));
  state.nearest = { lng, lat, open: openParks, building, walkPerMin: open.body.walk_m_per_min };
  showRoute(openParks[0]);
  renderNearest();

  const map = view.map;
  const features = [...openParks.map((f, i) => ({ ...f, properties: { ...f.properties, rank: i + 1 } })), ...building];
  map.getSource('nearest').setData({ type: 'FeatureCollection', features });
  map.getSource('nearest-origin').setData({ type: 'Feature', geometry: { type: 'Point', coordinates: [lng, lat] }, properties: {} });
  map.getSource('nearest-labels').setData({
    type: 'FeatureCollection',
    features: features
      .filter((f) => f.properties.rank)
      .map((f) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: labelPoint(f.geometry) }, properties: { rank: f.properties.rank } }))
      .filter((f) => f.geometry.coordinates),
  });
  if (features.length) {
    const b = boundsOf([...features.map((f) => f.geometry), { coordinates: [lng, lat] }]);
    map.fitBounds(b, { padding: viewPadding(50), maxZoom: 16.5, duration: 0 });
  }
}

export function renderNearest() {
  const n = state.nearest;
  if (!n) return;
  // Walking distances over invented streets are illustrative too: say so above the list.
  const walked = n.open.some((f) => f.properties.walk_m != null);
  $('parks-status').textContent = !n.open.length ? t('parks_none') : walked && walkNetworkIllustrative() ? t('walk_illustrative') : '';
  const item = (f, rank) => {
    const p = f.properties;
    const late = isLate(p);
    const status = p.open ? t('parks_open') : late ? t('parks_late', { d: p.opens }) : t('parks_opens', { d: p.opens ?? '–' });
    return el(
      'li',
      { dataset: { site: f.id, distance: p.distance_m, walk: p.walk_m ?? '', late: String(late) } },
      el(
        'button',
        { type: 'button', class: 'row-button', onclick: () => openPark(f) },
        el('span', { class: rank ? 'rank' : 'rank none', text: rank ? String(rank) : '' }),
        el('span', { class: 'name', text: siteName(p) }),
        el('span', { class: 'distance', text: parkDistance(p) }),
        el(
          'span',
          { class: 'sub' },
          late ? el('span', { class: 'late', text: status }) : status,
          p.area_m2 != null ? ` · ${num(p.area_m2, 0)} m²` : '',
          p.walk_m != null ? ` · ${t('walk_straight', { d: metres(p.distance_m) })}` : '',
        ),
      ),
      navLinks(f.geometry, p.name),
    );
  };
  $('parks-list').replaceChildren(...n.open.map((f, i) => item(f, i + 1)));
  $('parks-building').replaceChildren(...n.building.map((f) => item(f)));
  $('parks-building-title').hidden = n.building.length === 0;
}

/** Draws the walking route to a park (from the nearest-parks answer), or clears it. */
function showRoute(f) {
  const route = f?.properties?.route;
  view.map?.getSource('nearest-route')?.setData(
    route ? { type: 'Feature', geometry: route, properties: { id: f.id } } : { type: 'FeatureCollection', features: [] },
  );
}

/** Opens a park's resident card (with its distance from the point asked about). */
async function openPark(f) {
  showRoute(state.nearest?.open.find((o) => o.id === f.id));
  await openSite(f.id, { resident: !state.me });
  if (state.card?.id === f.id) {
    state.card.distance = f.properties;
    const { renderCard } = await import('./card.js');
    renderCard();
  }
}
