// The renewal map page: wires the modules together. No framework, no bundler: native ES
// modules by concern (api, map and layers, panels, filters, site card, update form, parks,
// session, i18n, live). Labels, statuses, allowed moves, limits and the palette come from
// GET /api/meta; every number shown comes from an API answer.

import { api, errorText } from './api.js';
import { closeCard, openSite, renderCard } from './card.js';
import { $, el } from './dom.js';
import { applyFilters, filterSubdistrict, readFilters, renderFilters, resetFilters } from './filters.js';
import { date, lang, setLang, setMeta, t } from './i18n.js';
import { setPalette } from './layers.js';
import { liveHooks, renderExports, setupExports, setupTimeSlider, startLive } from './live.js';
import { boundsOf, initMap, labelLanguage, labelPoint, mapHooks, viewPadding } from './map.js';
import { loadStats, panelHooks, renderLegend, renderNotice, renderProgress, renderSelection, renderVisible } from './panels.js';
import { findNearest, locate, parksHooks, renderNearest, setPickMode } from './parks.js';
import { forgetToken, renderMine, renderWho, sessionHooks, signIn, signOut, storedToken } from './session.js';
import { state, view } from './state.js';
import { loadHistory, setCardFeature } from './card.js';
import { loadTimeline, renderTimeline, wireTimeline } from './chart.js';
import { locateMe, locationHooks, renderLocation } from './location.js';
import { prepareOffline, registerWorker, renderOffline, renderOutbox, wireOffline } from './offline.js';
import { entries, flush, outboxHooks } from './outbox.js';
import { refreshAfterChange, siteEntries } from './update.js';
import { select } from './map.js';
import { sortMine } from './session.js';

const LANG_KEY = 'renewal-map.lang';

function applyI18n() {
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of document.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t(e.dataset.i18nAria));
  $('print-date').textContent = `${t('print_date')}: ${date(new Date().toISOString())}`;
}

function switchLang() {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  localStorage.setItem(LANG_KEY, lang());
  renderAll();
}

function renderAll() {
  applyI18n();
  labelLanguage();
  renderWho();
  renderProgress();
  renderFilters();
  renderSelection();
  renderLegend();
  renderNotice();
  renderNearest();
  renderMine();
  renderCard();
  renderExports();
  renderVisible();
  renderTimeline();
  renderOffline();
  renderLocation();
  renderOutbox();
}

/** Opens a site's card, then fits the site into the map left above the card (phones). */
async function focusSite(f) {
  await openSite(f.id);
  view.map.fitBounds(boundsOf([f.geometry]), { padding: viewPadding(40), maxZoom: 17, duration: 500 });
}

/** A tapped site stays in sight: if the card now covers it, the map moves it above the card. */
async function openTapped(id) {
  await openSite(id);
  const g = state.card?.id === id ? state.card.feature?.geometry : null;
  const at = g && labelPoint(g);
  if (!at || !window.matchMedia('(max-width: 799px)').matches) return;
  const p = view.map.project(at);
  const mapBox = $('map').getBoundingClientRect();
  const cardTop = $('card').getBoundingClientRect().top - mapBox.top;
  if (p.y > cardTop - 24) view.map.panBy([0, p.y - cardTop / 2], { duration: 300 });
}

function showTab(name) {
  for (const b of document.querySelectorAll('[role=tab]')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('.tab-body')) s.hidden = s.id !== `tab-${name}`;
  document.body.dataset.tab = name;
}

/** Residents first: `?mode=parks`, or a phone with no one signed in. */
function residentMode() {
  const mode = new URLSearchParams(location.search).get('mode');
  if (mode === 'parks') return true;
  if (mode) return false;
  return window.matchMedia('(max-width: 799px)').matches && !storedToken();
}

function wireUi() {
  $('lang').addEventListener('click', switchLang);
  for (const b of document.querySelectorAll('[role=tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('filters').addEventListener('change', readFilters);
  $('filters').addEventListener('reset', (e) => {
    e.preventDefault();
    resetFilters();
    renderFilters();
    applyFilters({ zoom: true });
  });
  $('card-close').addEventListener('click', closeCard);
  $('parks-pick').addEventListener('click', () => setPickMode(!state.pickMode));
  $('parks-locate').addEventListener('click', locate);
  $('mine-search').addEventListener('input', renderMine);
  $('locate-me').addEventListener('click', locateMe);
  wireOffline(
    () => {
      if (navigator.onLine) applyFilters();
    },
    () => {
      closeCard();
      showTab('mine');
    },
  );
  $('sign-out').addEventListener('click', signOut);
  $('print').addEventListener('click', () => window.print());
  $('visible-sites').addEventListener('toggle', renderVisible);
  const dlg = $('sign-in-dialog');
  $('sign-in').addEventListener('click', () => {
    $('sign-in-error').hidden = true;
    dlg.showModal();
  });
  $('sign-in-cancel').addEventListener('click', () => dlg.close());
  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    const r = await signIn(token, $('token-remember').checked);
    if (r.ok && state.me) {
      $('token').value = '';
      $('token-remember').checked = false;
      dlg.close();
      showTab('mine');
    } else {
      $('sign-in-error').hidden = false;
      $('sign-in-error').textContent = `${t('sign_in_failed')}: ${errorText(r)}`;
    }
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || dlg.open) return;
    if (state.pickMode) setPickMode(false);
    else if (state.card) {
      closeCard();
      $('panel').querySelector('[aria-selected=true]')?.focus();
    }
  });
}

function installHooks() {
  mapHooks.openSite = (id) => openTapped(id);
  mapHooks.picked = (lng, lat) => findNearest(lng, lat);
  let pending = false;
  mapHooks.moved = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      renderVisible();
    });
  };
  panelHooks.filterSubdistrict = (code) => {
    filterSubdistrict(code);
    showTab('filters');
  };
  panelHooks.openSite = (id) => openSite(id);
  parksHooks.showTab = showTab;
  sessionHooks.focusSite = focusSite;
  sessionHooks.renderCard = renderCard;
  // A field team's sites are listed: store the map around them and send what waits.
  sessionHooks.listed = () => {
    renderOffline();
    if (state.me?.role === 'field') prepareOffline();
    flush();
  };
  locationHooks.located = () => {
    sortMine();
    renderMine();
    if (!document.getElementById('update-form')) renderCard();
  };
  outboxHooks.changed = async () => {
    const id = state.card?.id;
    const before = id ? JSON.stringify(siteEntries(id).map((e) => [e.seq, e.state])) : '';
    await renderOutbox();
    renderMine();
    // Redraw the card only when its site's part of the outbox changed (it holds the form).
    if (id && JSON.stringify(siteEntries(id).map((e) => [e.seq, e.state])) !== before) renderCard();
  };
  outboxHooks.applied = async (entry, feature) => {
    const c = state.card;
    const open = c?.id === entry.site_id && c.feature;
    if (open) {
      setCardFeature(feature, null);
      c.draft = null;
      c.message = { text: t('update_saved') };
      renderCard();
      $('card-body').querySelector('p.ok')?.scrollIntoView({ block: 'nearest' });
      select(feature);
    }
    await refreshAfterChange(open ? entry.site_id : null);
  };
  liveHooks.refreshFilters = () => Promise.all([applyFilters(), loadTimeline()]);
  liveHooks.refreshCard = async (id) => {
    // An open update form keeps the version it was made against: refreshing it under the
    // user would rebase their edit silently; the submit's 412 shows both changes instead.
    if (document.getElementById('update-form')) return;
    const r = await api(`api/sites/${encodeURIComponent(id)}`);
    if (r.ok && state.card?.id === id && !state.card.conflict) {
      state.card.feature = r.body;
      state.card.version = r.body.properties.version ?? state.card.version;
      renderCard();
      loadHistory(id);
    }
  };
}

async function main() {
  setLang(localStorage.getItem(LANG_KEY) ?? 'zh');
  applyI18n();
  registerWorker();
  await renderOutbox();
  installHooks();
  wireUi();
  wireTimeline();
  // On phones the legend starts folded so it does not cover the map.
  if (window.matchMedia('(max-width: 799px)').matches) $('map-legend').open = false;
  if (residentMode()) {
    document.body.classList.add('resident');
    showTab('parks');
  }
  const [config, tj, meta, style] = await Promise.all([api('config.json'), api('tiles.json'), api('api/meta'), api('style.json')]);
  state.config = config.ok && config.body ? config.body : {};
  const failed = [tj, meta, style].find((r) => !r.ok);
  if (failed) {
    $('map').replaceChildren(el('p', { class: 'error', text: errorText(failed) }));
    return;
  }
  state.tilejson = tj.body;
  state.meta = meta.body;
  setMeta(meta.body);
  setPalette(meta.body);
  resetFilters();
  await loadStats();
  renderAll();
  await initMap(style.body);
  await Promise.all([applyFilters(), loadTimeline()]);
  const token = storedToken();
  if (token) {
    const r = await signIn(token);
    if (r.status === 401 || r.status === 403) forgetToken();
  }
  await Promise.all([setupExports(), setupTimeSlider(), startLive()]);
  document.body.dataset.ready = 'true';
}

window.__app = { state, openSite, findNearest, showTab, outbox: { entries, flush } };
main();
