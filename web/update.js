// The update form of the site card, made for one hand on a phone: the status as large buttons
// of the moves GET /api/meta says the role may make, progress as a slider that starts at the
// site's value with quick steps, note, reason where the rules ask for one, and a photo. A
// submit goes to the outbox (outbox.js), which sends it now or when the network returns.

import { el } from './dom.js';
import { num, statusLabel, t } from './i18n.js';
import { loadHistory, renderCard } from './card.js';
import { outboxView, renderOutbox } from './offline.js';
import { enqueue, flush } from './outbox.js';
import { loadStats } from './panels.js';
import { loadMine } from './session.js';
import { state, view } from './state.js';

/** Statuses offered to `role` for a site in `from`: its own, then the server's allowed moves. */
function statusChoices(from, role) {
  const moves = state.meta?.moves?.[role]?.[from] ?? [];
  return [from, ...moves.map((m) => m.to)];
}

/** Whether moving `from` → `to` (progress `was` → `prog`) needs a reason, by the server's rules. */
function needsReason(from, to, was, prog, role) {
  const move = (state.meta?.moves?.[role]?.[from] ?? []).find((m) => m.to === to);
  return (move?.reason ?? false) || (prog != null && prog < was);
}

function isDone(s) {
  return (state.meta?.statuses ?? []).find((x) => x.id === s)?.done === true;
}

/** Outbox entries of a site. */
export function siteEntries(id) {
  return outboxView.entries.filter((e) => e.site_id === id);
}

/**
 * The site as the user will see it once the outbox is sent: the server's fields with the
 * site's pending changes on top, in order. The form starts from this.
 */
export function effective(c) {
  const p = { ...c.feature.properties };
  for (const e of siteEntries(c.id)) {
    if (e.state !== 'pending') continue;
    for (const k of ['status', 'progress', 'note']) if (k in e.change) p[k] = e.change[k] === '' && k === 'note' ? null : e.change[k];
  }
  return p;
}

export function renderUpdateForm(c) {
  const p = effective(c);
  const draft = c.draft ?? { status: p.status, progress: String(p.progress), note: p.note ?? '', reason: '' };
  const role = state.me?.role;
  const field = role !== 'planner';
  let chosen = statusChoices(p.status, role).includes(draft.status) ? draft.status : p.status;
  const statusButtons = statusChoices(p.status, role).map((s) =>
    el('button', { type: 'button', class: 'status-choice', dataset: { status: s }, 'aria-pressed': String(s === chosen), text: statusLabel(s) }),
  );
  const statusBox = el('fieldset', { id: 'update-status', class: 'status-buttons' }, el('legend', { text: t('field_status') }), statusButtons);
  // The slider spans 0–100 so its thumb sits at the site's value; a field team cannot move it
  // below that value (lowering progress is a planner's, with a reason).
  const floor = field ? p.progress : 0;
  const start = draft.progress === '' ? String(p.progress) : draft.progress;
  const range = el('input', { type: 'range', min: '0', max: '100', step: '1', name: 'progress', id: 'update-progress', value: start, 'aria-label': t('field_progress') });
  const number = el('input', { type: 'number', min: String(floor), max: '100', step: '1', id: 'update-progress-number', value: draft.progress, 'aria-label': t('field_progress') });
  const note = el('textarea', { name: 'note', id: 'update-note', rows: '2', maxlength: String(state.meta?.limits?.max_note_chars ?? 2000) });
  note.value = draft.note;
  const reason = el('input', { type: 'text', name: 'reason', id: 'update-reason', maxlength: String(state.meta?.limits?.max_note_chars ?? 2000) });
  reason.value = draft.reason;
  const reasonLabel = el('span');
  const reasonRow = el('label', { id: 'update-reason-row' }, reasonLabel, reason);
  /** The progress typed, or null when the box is empty (then progress is not sent). */
  const progress = () => (number.value.trim() === '' ? null : Number(number.value));
  // A reason is asked for where it counts: required for a planner's backward move, resume or
  // lowered progress; offered when suspending.
  const showReason = () => {
    const required = !field && needsReason(p.status, chosen, p.progress, progress(), role);
    const offered = chosen === 'suspended' && p.status !== 'suspended';
    reasonRow.hidden = !required && !offered;
    reason.required = required;
    reasonLabel.textContent = t(required ? 'update_reason_required' : 'update_reason');
  };
  const setProgress = (v) => {
    const clamped = Math.max(floor, Math.min(100, Math.round(v)));
    number.value = range.value = String(clamped);
    showReason();
  };
  for (const b of statusButtons) {
    b.addEventListener('click', () => {
      chosen = b.dataset.status;
      for (const o of statusButtons) o.setAttribute('aria-pressed', String(o === b));
      // Finished works are at 100 %.
      if (isDone(chosen)) setProgress(100);
      showReason();
    });
  }
  range.addEventListener('input', () => {
    if (Number(range.value) < floor) range.value = String(floor);
    number.value = range.value;
    showReason();
  });
  number.addEventListener('input', () => {
    if (number.value.trim() !== '') range.value = number.value;
    showReason();
  });
  const current = () => progress() ?? p.progress;
  const steps = el(
    'div',
    { class: 'steps', role: 'group', 'aria-label': t('progress_steps') },
    el('button', { type: 'button', id: 'update-step-5', text: '+5', onclick: () => setProgress(current() + 5) }),
    el('button', { type: 'button', id: 'update-step-10', text: '+10', onclick: () => setProgress(current() + 10) }),
    el('button', { type: 'button', id: 'update-step-100', text: '100%', onclick: () => setProgress(100) }),
  );
  showReason();

  c.photos ??= [];
  const chosenPhotos = el('p', { class: 'muted', id: 'update-photos-chosen', text: c.photos.length ? t('photos_chosen', { n: c.photos.length }) : '' });
  const photo = el('input', { type: 'file', accept: 'image/*', capture: 'environment', id: 'update-photo', multiple: true });
  photo.addEventListener('change', () => {
    c.photos = [...c.photos, ...photo.files];
    chosenPhotos.textContent = t('photos_chosen', { n: c.photos.length });
  });
  const photoRow = state.photosApi
    ? el('label', { class: 'photo' }, el('span', { text: t('update_photo') }), photo, chosenPhotos)
    : null;
  const position = state.position && state.photosApi ? el('p', { class: 'muted', id: 'update-position', text: t('position_attached', { a: num(state.position.accuracy_m, 0) }) }) : null;

  const form = el(
    'form',
    { class: 'update', id: 'update-form' },
    el('h3', { text: t('update') }),
    statusBox,
    el('label', {}, el('span', { text: t('field_progress') }), el('span', { class: 'range' }, range, number)),
    steps,
    el('label', {}, el('span', { text: t('update_note') }), note),
    reasonRow,
    photoRow,
    position,
    el('button', { type: 'submit', class: 'primary', id: 'update-submit', text: t('update_submit') }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const mine = {};
    if (chosen !== p.status) mine.status = chosen;
    const prog = progress();
    if (prog != null && Number.isFinite(prog) && prog !== p.progress) mine.progress = prog;
    // A note is sent when it differs from the site's; emptying it sends "" (clears it).
    const text = note.value.trim();
    if (text !== (p.note ?? '').trim()) mine.note = text;
    if (!reasonRow.hidden && reason.value.trim()) mine.reason = reason.value.trim();
    c.draft = { status: chosen, progress: number.value, note: note.value, reason: reason.value };
    if (!('status' in mine || 'progress' in mine || 'note' in mine) && !c.photos.length) {
      c.message = { error: true, text: t('update_nothing') };
      renderCard();
      return;
    }
    submit(c, mine);
  });
  return form;
}

/** Puts the change in the outbox and sends it (now, or when the network is back). */
async function submit(c, change) {
  document.getElementById('update-submit')?.setAttribute('disabled', '');
  const photos = c.photos ?? [];
  await enqueue({
    siteId: c.id,
    siteName: c.feature.properties.name,
    change,
    ifMatch: String(c.version),
    photos,
    position: state.position && state.photosApi ? state.position : null,
  });
  c.photos = [];
  c.message = { pending: true, text: t(navigator.onLine ? 'outbox_sending' : 'outbox_queued') };
  renderCard();
  await flush();
  await renderOutbox();
  // Still in the outbox after the try: say so, and let the form start from the queued state.
  if (state.card !== c) return;
  if (siteEntries(c.id).some((e) => e.state === 'pending')) {
    c.draft = null;
    c.message = { pending: true, text: t('outbox_queued') };
    renderCard();
  } else if (c.message?.pending) {
    // Kept as a conflict or a refusal: the card shows it with the choices.
    c.message = null;
    renderCard();
  }
}

/** After a change: redraw the tiles, the figures, the team's list and the card's history. */
export async function refreshAfterChange(id) {
  view.map?.refreshTiles('renewal');
  await Promise.all([loadStats(), loadMine(), id ? loadHistory(id) : null]);
}
