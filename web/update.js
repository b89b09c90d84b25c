// The update form of the site card: status (only the moves GET /api/meta says the role may
// make), progress, note and reason, sent as PATCH /api/sites/{id} with If-Match.

import { api, errorText } from './api.js';
import { el } from './dom.js';
import { num, statusLabel, t } from './i18n.js';
import { loadHistory, renderCard, setCardFeature } from './card.js';
import { select, } from './map.js';
import { loadStats } from './panels.js';
import { loadMine } from './session.js';
import { state, view } from './state.js';

const $ = (id) => document.getElementById(id);

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

export function renderUpdateForm(c) {
  const p = c.feature.properties;
  const draft = c.draft ?? { status: p.status, progress: String(p.progress), note: p.note ?? '', reason: '' };
  const role = state.me?.role;
  const field = role !== 'planner';
  const statusSel = el(
    'select',
    { name: 'status', id: 'update-status' },
    statusChoices(p.status, role).map((s) => el('option', { value: s, text: statusLabel(s) })),
  );
  statusSel.value = draft.status;
  if (statusSel.value !== draft.status) statusSel.value = p.status;
  // Field teams only raise progress; planners may lower it with a reason.
  const min = field ? String(p.progress) : '0';
  const range = el('input', { type: 'range', min, max: '100', step: '1', name: 'progress', id: 'update-progress', value: draft.progress || String(p.progress) });
  const number = el('input', { type: 'number', min, max: '100', step: '1', id: 'update-progress-number', value: draft.progress, 'aria-label': t('field_progress') });
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
    const required = !field && needsReason(p.status, statusSel.value, p.progress, progress(), role);
    const offered = statusSel.value === 'suspended' && p.status !== 'suspended';
    reasonRow.hidden = !required && !offered;
    reason.required = required;
    reasonLabel.textContent = t(required ? 'update_reason_required' : 'update_reason');
  };
  range.addEventListener('input', () => {
    number.value = range.value;
    showReason();
  });
  number.addEventListener('input', () => {
    if (number.value.trim() !== '') range.value = number.value;
    showReason();
  });
  statusSel.addEventListener('change', () => {
    // Finished works are at 100 %.
    if (isDone(statusSel.value)) number.value = range.value = '100';
    showReason();
  });
  showReason();
  const form = el(
    'form',
    { class: 'update', id: 'update-form' },
    el('h3', { text: t('update') }),
    el('label', {}, el('span', { text: t('field_status') }), statusSel),
    el('label', {}, el('span', { text: t('field_progress') }), el('span', { class: 'range' }, range, number)),
    el('label', {}, el('span', { text: t('update_note') }), note),
    reasonRow,
    el('button', { type: 'submit', class: 'primary', id: 'update-submit', text: t('update_submit') }),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const mine = {};
    if (statusSel.value !== p.status) mine.status = statusSel.value;
    const prog = progress();
    if (prog != null && Number.isFinite(prog) && prog !== p.progress) mine.progress = prog;
    // A note is sent when it differs from the site's; emptying it sends "" (clears it).
    const text = note.value.trim();
    if (text !== (p.note ?? '').trim()) mine.note = text;
    if (!reasonRow.hidden && reason.value.trim()) mine.reason = reason.value.trim();
    c.draft = { status: statusSel.value, progress: number.value, note: note.value, reason: reason.value };
    if (!('status' in mine || 'progress' in mine || 'note' in mine)) {
      c.message = { error: true, text: t('update_nothing') };
      renderCard();
      return;
    }
    sendUpdate(mine);
  });
  return form;
}

export async function sendUpdate(change) {
  const c = state.card;
  if (!c || !c.feature) return;
  const id = c.id;
  $('update-submit')?.setAttribute('disabled', '');
  const r = await api(`api/sites/${encodeURIComponent(id)}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', 'If-Match': `"${c.version}"` },
    body: JSON.stringify(change),
  });
  if (state.card !== c) return;
  if (r.ok && r.body && r.body.properties) {
    setCardFeature(r.body, r.etag);
    c.conflict = null;
    c.draft = null;
    c.message = { text: t('update_saved') };
    renderCard();
    $('card-body').querySelector('p.ok')?.scrollIntoView({ block: 'nearest' });
    select(r.body);
    await refreshAfterChange(id);
    return;
  }
  if (r.status === 412 && r.body && r.body.current) {
    // Someone else changed the site: show their change and keep ours for a retry.
    setCardFeature(r.body.current, null);
    c.conflict = { current: r.body.current, mine: change, last: null };
    c.message = null;
    renderCard();
    $('card-body').querySelector('.conflict')?.scrollIntoView({ block: 'nearest' });
    // The map and the figures are stale too.
    view.map.refreshTiles('renewal');
    loadStats();
    const h = await api(`api/sites/${encodeURIComponent(id)}/history`);
    if (state.card === c && h.ok && h.body && Array.isArray(h.body.changes)) {
      c.history = h.body.changes;
      if (c.conflict) c.conflict.last = h.body.changes[h.body.changes.length - 1] ?? null;
      renderCard();
    }
    return;
  }
  c.message = { error: true, text: `${t('update_failed')}: ${errorText(r)}` };
  renderCard();
  $('card-body').querySelector('p.error')?.scrollIntoView({ block: 'nearest' });
}

/** After a change: redraw the tiles, the figures, the team's list and the card's history. */
export async function refreshAfterChange(id) {
  view.map.refreshTiles('renewal');
  await Promise.all([loadStats(), loadMine(), loadHistory(id)]);
}

