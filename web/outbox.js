// The outbox: every update of the form is first stored in IndexedDB (through `idb`, npm,
// served by us), then sent. It survives reloads and closing the browser and is sent in order
// when the network returns (the `online` event, then retries with backoff) or on demand.
//
// Each entry keeps the version it was made against (`If-Match`) and an `Idempotency-Key` made
// here once (crypto.randomUUID): a network error or a lost answer is retried with the SAME key,
// so the server applies it once. A 412 makes the entry a conflict, kept until the user chooses:
// keep mine (a new update against the site's current version, with a NEW key) or drop it.
// Any other refusal is kept too, with the server's message. Nothing leaves the outbox unasked
// except by being applied.
//
// Photos are stored as blobs in the entry and uploaded first (POST /api/sites/{id}/photos, raw
// bytes); the PATCH then carries their ids.

import { openDB } from './node_modules/idb/build/index.js';
import { api, errorText } from './api.js';
import { state } from './state.js';

const DB_NAME = 'renewal-map';
const DB_VERSION = 1;
const OUTBOX = 'outbox';
const KV = 'kv';

/** Retry delays after network errors: 2 s, doubling, at most MAX_RETRY_MS. */
export const FIRST_RETRY_MS = 2000;
/** Longest wait between two retries. */
export const MAX_RETRY_MS = 60000;

let dbPromise = null;
function db() {
  dbPromise ??= openDB(DB_NAME, DB_VERSION, {
    upgrade(d) {
      d.createObjectStore(OUTBOX, { keyPath: 'seq', autoIncrement: true });
      d.createObjectStore(KV);
    },
  });
  return dbPromise;
}

/** A value kept on this device (the last account answer, offline state). */
export async function kvGet(key) {
  return (await db()).get(KV, key);
}

/** Keeps a value on this device. */
export async function kvSet(key, value) {
  return (await db()).put(KV, value, key);
}

/** Handlers main.js installs: an entry was applied (with the site as it now is), the outbox changed. */
export const outboxHooks = { applied: () => {}, changed: () => {} };

/** What the outbox is doing, for the badge: { sending, retryAt, needsSignIn }. */
export const outboxStatus = { sending: false, retryAt: null, needsSignIn: false };

/** Every entry, oldest first. */
export async function entries() {
  return (await db()).getAll(OUTBOX);
}

async function put(entry) {
  await (await db()).put(OUTBOX, entry);
}

/**
 * Stores an update of `siteId`: `change` is the PATCH body without photos; `ifMatch` the
 * version it was made against, or null when it follows another entry of the same site (it
 * then gets the version that entry leaves). `photos` are Blobs. Returns the entry.
 */
export async function enqueue({ siteId, siteName, change, ifMatch, photos = [], position = null }) {
  const all = await entries();
  const before = all.filter((e) => e.site_id === siteId).at(-1);
  const entry = {
    site_id: siteId,
    site_name: siteName,
    change,
    if_match: before ? null : ifMatch,
    after: before ? before.seq : null,
    key: crypto.randomUUID(),
    photos: photos.map((blob) => ({ blob, type: blob.type, id: null })),
    position,
    made_at: new Date().toISOString(),
    state: 'pending',
    attempts: 0,
    error: null,
    conflict: null,
  };
  const seq = await (await db()).add(OUTBOX, entry);
  entry.seq = seq;
  outboxHooks.changed();
  return entry;
}

/** The change as sent: the form's fields, the uploaded photos' ids, the position if known. */
function body(entry) {
  const b = { ...entry.change };
  if (entry.photos.length) b.photos = entry.photos.map((p) => p.id);
  if (entry.position) b.position = entry.position;
  return b;
}

/** Later entries of the same site made on top of `entry`: they take the version it leaves. */
async function passVersion(entry, version) {
  for (const e of await entries()) {
    if (e.after === entry.seq) {
      e.after = null;
      e.if_match = version;
      await put(e);
    }
  }
}

/** The next entry that may be sent: pending, and no unresolved entry of its site before it. */
async function nextToSend() {
  const blocked = new Set();
  for (const e of await entries()) {
    if (e.state === 'pending' && !blocked.has(e.site_id) && e.if_match != null) return e;
    blocked.add(e.site_id);
  }
  return null;
}

const retryable = (r) => r.status === 0 || r.status === 429 || r.status >= 500;

/** Sends one entry. Returns 'done', 'stop' (network or sign-in: try again later) or 'kept'. */
async function send(entry) {
  const site = encodeURIComponent(entry.site_id);
  for (const p of entry.photos) {
    if (p.id) continue;
    const r = await api(`api/sites/${site}/photos`, { method: 'POST', headers: { 'Content-Type': p.type || 'application/octet-stream' }, body: p.blob });
    if (retryable(r)) return 'stop';
    if (r.status === 401) return signInNeeded();
    if (!r.ok || !r.body?.id) return refuse(entry, r);
    p.id = r.body.id;
    await put(entry);
  }
  const r = await api(`api/sites/${site}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', 'If-Match': `"${entry.if_match}"`, 'Idempotency-Key': entry.key },
    body: JSON.stringify(body(entry)),
  });
  if (retryable(r)) return 'stop';
  if (r.status === 401) return signInNeeded();
  if (r.ok && r.body?.properties) {
    await (await db()).delete(OUTBOX, entry.seq);
    await passVersion(entry, String(r.body.properties.version));
    outboxHooks.applied(entry, r.body);
    return 'done';
  }
  if (r.status === 412 && r.body?.current) {
    const h = await api(`api/sites/${site}/history`);
    const last = h.ok && Array.isArray(h.body?.changes) ? h.body.changes.at(-1) ?? null : null;
    entry.state = 'conflict';
    entry.conflict = { current: r.body.current, last };
    await put(entry);
    return 'kept';
  }
  return refuse(entry, r);
}

function signInNeeded() {
  outboxStatus.needsSignIn = true;
  return 'stop';
}

async function refuse(entry, r) {
  entry.state = 'failed';
  entry.error = errorText(r);
  await put(entry);
  return 'kept';
}

let running = null;
let again = false;
let retryTimer = null;
let retries = 0;

/** Sends what can be sent, in order. Resolves when the outbox has nothing more to send now. */
export function flush() {
  if (running) {
    again = true;
    return running;
  }
  clearTimeout(retryTimer);
  outboxStatus.retryAt = null;
  running = (async () => {
    do {
      again = false;
      if (!state.token) {
        outboxStatus.needsSignIn = (await entries()).length > 0;
        break;
      }
      outboxStatus.needsSignIn = false;
      outboxStatus.sending = true;
      outboxHooks.changed();
      for (let e = await nextToSend(); e; e = await nextToSend()) {
        const how = await send(e);
        outboxHooks.changed();
        if (how === 'stop') {
          if (!outboxStatus.needsSignIn) scheduleRetry();
          again = false;
          break;
        }
        retries = 0;
      }
    } while (again);
    outboxStatus.sending = false;
    outboxHooks.changed();
  })().finally(() => {
    running = null;
  });
  return running;
}

function scheduleRetry() {
  const ms = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retries);
  retries += 1;
  outboxStatus.retryAt = Date.now() + ms;
  retryTimer = setTimeout(flush, ms);
}

/** Keep mine: send the conflicting entry again on the site's current version, with a new key. */
export async function keepMine(seq) {
  const e = await (await db()).get(OUTBOX, seq);
  if (!e || e.state !== 'conflict') return;
  e.if_match = String(e.conflict.current.properties.version);
  e.key = crypto.randomUUID();
  e.state = 'pending';
  e.conflict = null;
  await put(e);
  outboxHooks.changed();
  await flush();
}

/** Try a refused entry again (same key: a refused request stored none). */
export async function tryAgain(seq) {
  const e = await (await db()).get(OUTBOX, seq);
  if (!e || e.state !== 'failed') return;
  e.state = 'pending';
  e.error = null;
  await put(e);
  outboxHooks.changed();
  await flush();
}

/**
 * Drops an entry, on the user's word only. An entry made on top of it keeps the version the
 * dropped one was made against, so the server's check still sees any change in between.
 */
export async function drop(seq) {
  const d = await db();
  const e = await d.get(OUTBOX, seq);
  if (!e) return;
  await d.delete(OUTBOX, seq);
  for (const f of await entries()) {
    if (f.after === seq) {
      f.after = e.after;
      f.if_match = e.if_match;
      await put(f);
    }
  }
  outboxHooks.changed();
  await flush();
}

/** Resets the backoff and sends now (the network is back, or the user asked). */
export function sendNow() {
  retries = 0;
  return flush();
}

window.addEventListener('online', sendNow);
