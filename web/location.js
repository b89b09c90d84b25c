// "Locate me" for field teams: the device's position (navigator.geolocation), the distance from
// it to a site, and the position an update carries (never required).

import { $ } from './dom.js';
import { lang, metres, num, t } from './i18n.js';
import { labelPoint } from './map.js';
import { state } from './state.js';

/** Handlers main.js installs: the position changed (re-sort the list, redraw the card). */
export const locationHooks = { located: () => {} };

/** Mean Earth radius (m) of the spherical distance used to sort and label sites. */
const EARTH_RADIUS_M = 6371008.8;

/**
 * Great-circle distance in metres between two [lng, lat] points (haversine on the mean
 * sphere; within 0.5 % of the geodesic, enough to sort sites and say "about 300 m").
 */
export function distanceM([lng1, lat1], [lng2, lat2]) {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r;
  const dLng = (lng2 - lng1) * r;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance from the device to a site's label point, or null when the position is unknown. */
export function distanceTo(geometry) {
  const me = state.position;
  const at = labelPoint(geometry);
  if (!me || !at) return null;
  return distanceM([me.lon, me.lat], at);
}

/** A distance in words: metres below 1 km, else km. */
export function distanceText(m) {
  if (m == null) return '';
  if (m < 1000) return metres(m);
  return lang() === 'en' ? `${num(m / 1000, 1)} km` : `${num(m / 1000, 1)} 公里`;
}

/** Asks the device where it is; on success keeps { lon, lat, accuracy_m } in state.position. */
export function locateMe() {
  const status = $('locate-status');
  if (!navigator.geolocation) {
    status.textContent = t('locate_failed', { m: '–' });
    return;
  }
  status.textContent = t('locating');
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      state.position = {
        lon: Number(pos.coords.longitude.toFixed(7)),
        lat: Number(pos.coords.latitude.toFixed(7)),
        accuracy_m: Math.round(pos.coords.accuracy * 10) / 10,
      };
      renderLocation();
      locationHooks.located();
    },
    (err) => {
      status.textContent = t('locate_failed', { m: err.message });
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
}

/** The position line under "locate me". */
export function renderLocation() {
  const p = state.position;
  $('locate-status').textContent = p ? t('located', { a: num(p.accuracy_m, 0) }) : '';
}
