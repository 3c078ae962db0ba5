// The shoppers' app: sign-in, home (what waits to be sent, what came back for revision, the
// visits to do, the open ones to claim, the stores the rules allow, what was sent), the visit
// form and each report's receipt. Works offline from what the last sync kept.

import { h, mount, announce, problemBox } from '/app/js/dom.js';
import * as api from '/app/js/api.js';
import * as db from './db.js';
import * as sync from './sync.js';
import * as outbox from './outbox.js';
import { render as renderForm, fileIds, uuid } from './form.js';
import { check, body, place, localNow } from './rules.js';
import { signInPage, confirmDialog } from './session.js';

const main = document.getElementById('main');
const net = document.getElementById('net');
let me = null;
let picture = null;
let sequence = 0;
let leaving = [];

const MILES = {
  zero: 'Zero mile: below the standard',
  first: 'First mile: the expected standard',
  second: 'Second mile: beyond expectations',
};
const STATES = {
  draft: 'Not finished',
  waiting: 'Waiting to be sent',
  uploading: 'Report received; sending its files',
  sent: 'Sent',
  refused: 'Not accepted: needs you',
};
const STATUSES = {
  submitted: 'Submitted, waiting for review',
  approved: 'Approved',
  returned: 'Returned for revision',
  rejected: 'Rejected',
};

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
}

function day(date) {
  return new Date(`${date}T12:00:00`).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' });
}

function showNetwork() {
  const offline = !navigator.onLine || api.isOffline();
  net.textContent = offline ? 'Offline: reports wait on this phone' : '';
  net.hidden = !offline;
}

// ---------------------------------------------------------------------------------------
// Home

async function localReports() {
  return (await db.all('reports')).sort((a, b) => (b.created_at || '').localeCompare(a.created_at || ''));
}

function receiptLine(record) {
  const parts = [STATES[record.state]];
  if (record.state === 'waiting' && record.last_error) parts.push(`(${record.last_error} Trying again ${record.next_at ? `at ${new Date(record.next_at).toLocaleTimeString()}` : 'soon'}.)`);
  if (record.answer && record.answer.mile_level) parts.push(`· ${record.answer.score}, ${MILES[record.answer.mile_level]}`);
  if (record.state === 'refused' && record.error) parts.push(`· ${record.error.message}`);
  return parts.join(' ');
}

function reportItem(record) {
  return h('li', { class: `item state-${record.state}`, 'data-report': record.id },
    h('a', { href: `#/report/${record.id}` }, sync.locationName(picture, record.location_id)),
    h('span', { class: 'muted' }, ` · ${record.title || ''} · ${record.kind === 'revise' ? 'revision · ' : ''}${when(record.queued_at || record.created_at)}`),
    h('p', { class: 'line' }, receiptLine(record)));
}

async function home() {
  const records = await localReports();
  const local = new Map(records.map((r) => [r.id, r]));
  const pending = records.filter((r) => r.state !== 'sent');
  const returned = Object.values(picture.reports).filter((r) => r.status === 'returned' && !(local.get(r.id) && local.get(r.id).state !== 'sent'));
  const byAssignment = new Map(records.filter((r) => r.assignment_id).map((r) => [r.assignment_id, r]));
  const questionnaires = sync.questionnaires(picture);
  // The search and the position outlive a redraw (a sync or a sent report draws home again).
  const filter = h('input', {
    id: 'store-filter', type: 'search', placeholder: 'Name, code or region', maxlength: 100, value: storeSearch.text,
  });
  const storeList = h('ul', { class: 'list', id: 'stores' });
  const showStores = () => {
    storeSearch.text = filter.value;
    const { here, all } = storeSearch;
    const wanted = filter.value.trim().toLowerCase();
    const away = (l) => (here && l.latitude !== null ? distance(here, l) : Infinity);
    const stores = picture.eligible
      .filter((l) => !wanted || `${l.name} ${l.code} ${l.region || ''}`.toLowerCase().includes(wanted))
      .sort((a, b) => Number(b.eligible) - Number(a.eligible) || away(a) - away(b) || a.name.localeCompare(b.name));
    const shown = all || wanted ? stores.slice(0, 100) : stores.slice(0, STORES_SHOWN);
    mount(storeList, shown.map((l) => h('li', { class: 'item', 'data-location': l.code },
      h('strong', {}, l.name), h('span', { class: 'muted' }, ` ${l.code}${l.region ? ` · ${l.region}` : ''}`),
      Number.isFinite(away(l)) ? h('span', { class: 'muted' }, ` · ${kilometres(away(l))}`) : null,
      l.eligible
        ? h('div', { class: 'row wrap' }, questionnaires.map((q) => h('a', {
          class: 'button', href: `#/new/${l.location_id}/${encodeURIComponent(q.key)}`,
          'aria-label': `Start: ${q.title} at ${l.name}`,
        }, q.title)))
        : h('p', { class: 'line muted' }, blocked(l)))),
    stores.length > shown.length ? h('li', { class: 'item' }, h('button', {
      type: 'button', id: 'all-stores', onclick: () => { storeSearch.all = true; showStores(); },
    }, `Show all ${stores.length} stores`)) : null);
  };
  filter.addEventListener('input', showStores);
  showStores();
  // Nearest first, when the shopper already lets the app know where the phone is.
  if (navigator.permissions && navigator.geolocation) {
    navigator.permissions.query({ name: 'geolocation' }).then((state) => {
      if (state.state !== 'granted') return;
      navigator.geolocation.getCurrentPosition((position) => {
        storeSearch.here = { latitude: position.coords.latitude, longitude: position.coords.longitude };
        showStores();
      }, () => {}, { maximumAge: 300000, timeout: 10000 });
    }).catch(() => {});
  }
  const sent = [
    ...records.filter((r) => r.state === 'sent' && !picture.reports[r.id]).map((r) => ({ id: r.id, local: r })),
    ...Object.values(picture.reports).filter((r) => r.status !== 'returned').map((r) => ({ id: r.id, server: r })),
  ].sort((a, b) => ((b.server && b.server.updated_at) || (b.local && b.local.sent_at) || '').localeCompare((a.server && a.server.updated_at) || (a.local && a.local.sent_at) || '')).slice(0, 20);

  return h('div', {},
    h('h1', {}, `Hello, ${me.name}`),
    h('p', { class: 'muted', id: 'synced' }, picture.synced_at
      ? `Up to date as of ${when(picture.checked_at || picture.synced_at)}.` : 'Not synced yet.',
    ' ', h('button', { type: 'button', id: 'sync-now', onclick: () => refreshPicture(true) }, 'Check for updates')),
    pending.length ? h('section', { class: 'panel', id: 'outbox' },
      h('h2', {}, `On this phone, not yet with the server (${pending.length})`),
      h('ul', { class: 'list' }, pending.map(reportItem))) : null,
    returned.length ? h('section', { class: 'panel', id: 'returned' },
      h('h2', {}, 'Returned for revision'),
      h('ul', { class: 'list' }, returned.map((r) => h('li', { class: 'item', 'data-report': r.id },
        h('strong', {}, sync.locationName(picture, r.location_id)), h('span', { class: 'muted' }, ` · visited ${day(r.visit_date)}`),
        h('blockquote', { class: 'note' }, (r.last_review && r.last_review.note) || ''),
        h('a', { class: 'button primary', href: `#/revise/${r.id}` }, 'Revise the report'))))) : null,
    h('section', { class: 'panel', id: 'assignments' },
      h('h2', {}, 'Your visits'),
      picture.assignments.length ? h('ul', { class: 'list' }, picture.assignments.map((a) => {
        const started = byAssignment.get(a.id);
        return h('li', { class: 'item', 'data-assignment': a.id },
          h('strong', {}, sync.locationName(picture, a.location_id)),
          h('span', { class: 'muted' }, ` · ${day(a.visit_from)}${a.visit_to !== a.visit_from ? ` to ${day(a.visit_to)}` : ''}${a.slot ? ` · ${a.slot}` : ''}`),
          a.instructions ? h('p', { class: 'line' }, a.instructions) : null,
          a.status === 'accepted' ? h('p', { class: 'line muted' }, 'Accepted') : null,
          h('div', { class: 'row wrap' },
            started ? h('a', { class: 'button', href: `#/report/${started.id}` }, started.state === 'draft' ? 'Continue the report' : 'Open the report')
              : h('a', { class: 'button primary', href: `#/new/${a.location_id}/${encodeURIComponent(a.questionnaire_key)}?assignment=${a.id}` }, 'Start the report'),
            a.status === 'assigned' && !started ? h('button', { type: 'button', onclick: (event) => answerAssignment(a, 'accept', event.target) }, 'Accept') : null,
            !started ? h('button', { type: 'button', onclick: (event) => answerAssignment(a, 'decline', event.target) }, 'Decline') : null));
      })) : h('p', { class: 'muted' }, 'No visit is planned for you. Claim an open one, or visit a store the rules allow.')),
    picture.claimable.length ? h('section', { class: 'panel', id: 'claimable' },
      h('h2', {}, 'Open visits you can claim'),
      h('ul', { class: 'list' }, picture.claimable.map((a) => h('li', { class: 'item' },
        h('strong', {}, sync.locationName(picture, a.location_id)),
        h('span', { class: 'muted' }, ` · ${day(a.visit_from)} to ${day(a.visit_to)}`),
        h('button', { type: 'button', onclick: (event) => claim(a, event.target) }, 'Claim'))))) : null,
    h('section', { class: 'panel', id: 'store-section' },
      h('h2', {}, 'Stores you may visit today'),
      h('label', { for: 'store-filter' }, 'Find a store'), filter,
      storeList),
    sent.length ? h('section', { class: 'panel', id: 'sent' },
      h('h2', {}, 'Sent'),
      h('ul', { class: 'list' }, sent.map(({ id, local: l, server: s }) => h('li', { class: 'item', 'data-report': id },
        h('a', { href: `#/report/${id}` }, sync.locationName(picture, (s || l).location_id)),
        h('span', { class: 'muted' }, ` · ${s ? day(s.visit_date) : when(l.sent_at)}`),
        h('p', { class: 'line' }, s ? `${STATUSES[s.status] || s.status}${s.score ? ` · ${s.score.overall}, ${MILES[s.score.mile_level]}` : ''}` : receiptLine(l)))))) : null);
}

const STORES_SHOWN = 8;
const storeSearch = { text: '', all: false, here: null };

/** Metres between two points (haversine). */
function distance(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(x));
}

function kilometres(metres) {
  return metres < 1000 ? `${Math.round(metres / 10) * 10} m` : `${(metres / 1000).toLocaleString([], { maximumFractionDigits: metres < 10000 ? 1 : 0 })} km`;
}

function blocked(l) {
  const rule = {
    shopper_excluded: 'You are excluded from this store.',
    lockout_period: 'You visited recently.',
    yearly_visit_limit: 'You reached this year’s visits here.',
  }[l.blocked_by] || 'The rules do not allow a visit today.';
  return l.frees_on ? `${rule} Open to you again on ${day(l.frees_on)}.` : rule;
}

/** Accepts a planned visit, or declines it with a reason (so it can be planned for another). */
async function answerAssignment(assignment, action, button) {
  let body;
  if (action === 'decline') {
    const reason = await askReason();
    if (reason === null) return;
    body = { reason };
  }
  button.disabled = true;
  try {
    await api.call(`assignments/${assignment.id}/${action}`, { method: 'POST', body });
    announce(action === 'accept' ? 'Accepted.' : 'Declined: your coordinator is told why.', 'success');
    await refreshPicture(false);
  } catch (error) {
    announce(error.code === 'offline' ? 'This needs a connection.' : error.message, 'error');
    button.disabled = false;
  }
}

function askReason() {
  return new Promise((resolve) => {
    const text = h('textarea', { id: 'decline-reason', rows: 3, maxlength: 1000, required: true });
    const error = h('p', { class: 'field-error', id: 'decline-error', hidden: true }, 'Say why, in a few words.');
    text.setAttribute('aria-describedby', 'decline-error');
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'decline-title' },
      h('h2', { id: 'decline-title' }, 'Decline this visit'),
      h('label', { for: 'decline-reason' }, 'Why can you not make it?'), text, error,
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'primary',
          onclick: () => {
            if (!text.value.trim()) { error.hidden = false; text.focus(); return; }
            dialog.close('yes');
          },
        }, 'Decline'),
        h('button', { type: 'button', onclick: () => dialog.close('no') }, 'Keep it')));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'yes' ? text.value.trim() : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    text.focus();
  });
}

async function claim(assignment, button) {
  button.disabled = true;
  try {
    await api.call(`assignments/${assignment.id}/claim`, { method: 'POST' });
    announce('Claimed: the visit is yours.', 'success');
    await refreshPicture(false);
  } catch (error) {
    announce(error.code === 'offline' ? 'Claiming needs a connection.' : error.message, 'error');
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------
// A report: start, revise, the form and its receipt

async function start(locationId, key, params) {
  const questionnaire = sync.questionnaireFor(picture, key);
  if (!questionnaire) throw new Error('This questionnaire is not on the phone yet: check for updates.');
  const record = {
    id: uuid(), kind: 'submit', state: 'draft',
    location_id: locationId, questionnaire_id: questionnaire.id, questionnaire_key: key, title: questionnaire.title,
    assignment_id: params.get('assignment') || null,
    answers: {}, narrative: '', staff: [], check_in: null, receipt: null, kept: [],
    started: localNow(), ended: '', created_at: new Date().toISOString(),
  };
  await db.put('reports', record);
  window.location.replace(`#/report/${record.id}`);
}

/** A returned report opened for its next revision, with what the shopper sent before. */
async function revise(id) {
  const report = picture.reports[id];
  if (!report) throw new Error('This report is not on the phone: check for updates.');
  const questionnaire = picture.questionnaires.find((q) => q.id === report.questionnaire_id);
  if (!questionnaire) throw new Error('Its questionnaire is no longer published: ask your coordinator.');
  const existing = await db.get('reports', id);
  if (!existing || existing.state === 'sent') {
    const local = (value) => (value ? value.slice(0, 16) : '');
    const answers = {};
    for (const a of report.answers) answers[a.question] = { value: a.value ?? null, na: Boolean(a.na), comment: a.comment || '' };
    const kept = report.answers.filter((a) => typeof a.value === 'string').map((a) => a.value);
    if (report.receipt) kept.push(report.receipt);
    await db.put('reports', {
      id, kind: 'revise', state: 'draft',
      location_id: report.location_id, questionnaire_id: report.questionnaire_id, questionnaire_key: report.questionnaire_key,
      title: questionnaire.title, assignment_id: report.assignment_id || null,
      answers, narrative: report.narrative || '', kept,
      staff: (report.staff_observed || []).map((p) => ({ description: p.description || '', role: p.role || '', first_name: p.first_name || '' })),
      check_in: report.check_in || null, receipt: report.receipt || null,
      started: local(toLocal(report.visit.started_at)), ended: local(toLocal(report.visit.ended_at)),
      note: report.last_review && report.last_review.note, revision: report.revision,
      created_at: new Date().toISOString(),
    });
  }
  window.location.replace(`#/report/${id}`);
}

/** An RFC 3339 time as this phone's `datetime-local` value. */
function toLocal(iso) {
  const at = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

function questionnaireOf(record) {
  return picture.questionnaires.find((q) => q.id === record.questionnaire_id) || record.questionnaire || null;
}

async function filesMap(id) {
  return new Map((await db.filesOf(id)).map((f) => [f.id, f]));
}

/** The server's problems of a refused report, placed on the questions they name. */
function serverProblems(record) {
  const placed = {};
  const rest = [];
  for (const v of (record.error && record.error.violations) || []) {
    const key = place(v.pointer, record.sent);
    if (key && !placed[key]) placed[key] = v.message;
    else rest.push(v);
  }
  return { placed, rest };
}

async function reportPage(id) {
  const record = await db.get('reports', id);
  if (!record) {
    const server = picture.reports[id];
    if (server) return serverReport(server);
    return h('section', { class: 'panel' }, h('h1', {}, 'Not on this phone'), h('p', {}, h('a', { href: '#/' }, 'Home')));
  }
  if (record.state === 'draft') return formPage(record, record.problems || {});
  return receipt(record);
}

function serverReport(report) {
  return h('section', { class: 'panel', id: 'receipt' },
    h('h1', {}, sync.locationName(picture, report.location_id)),
    h('p', {}, `Visited ${day(report.visit_date)} · revision ${report.revision}`),
    h('p', { class: 'big', id: 'receipt-status' }, STATUSES[report.status] || report.status),
    report.score ? h('p', { id: 'receipt-score' }, `Score ${report.score.overall} · ${MILES[report.score.mile_level]}`) : null,
    report.last_review && report.last_review.note ? h('blockquote', { class: 'note' }, report.last_review.note) : null,
    h('p', {}, h('a', { href: '#/' }, 'Home')));
}

async function formPage(record, problems) {
  const questionnaire = questionnaireOf(record);
  if (!questionnaire) {
    return h('section', { class: 'panel' }, h('h1', {}, 'Questionnaire missing'),
      h('p', {}, 'The questionnaire of this report is no longer on the phone. Check for updates; if it was retired, ask your coordinator.'));
  }
  // Kept with the record, so a report opens offline even if a later sync drops its version.
  if (!record.questionnaire) record.questionnaire = questionnaire;
  const files = await filesMap(record.id);
  let saving = null;
  const save = () => {
    clearTimeout(saving);
    saving = setTimeout(() => db.put('reports', record), 250);
  };
  const form = renderForm(record, questionnaire, files, problems, save);
  leaving.push(() => { clearTimeout(saving); db.put('reports', record); form.dispose(); });
  const listed = Object.entries(problems);
  const summary = listed.length ? h('div', { class: 'panel error', id: 'problems', role: 'alert', tabindex: -1 },
    h('p', {}, record.problems_from_server ? 'The server did not accept the report. Correct this and send it again:'
      : listed.length === 1 ? 'One thing to correct before sending:' : `${listed.length} things to correct before sending:`),
    h('ul', {}, listed.map(([key, message]) => h('li', {}, h('a', {
      href: `#${anchor(key)}`, onclick: (event) => { event.preventDefault(); jump(key); },
    }, `${labelOf(record, key)}: ${message}`))))) : null;
  const finish = h('button', { type: 'button', class: 'primary big', id: 'finish' }, record.kind === 'revise' ? 'Send the revision' : 'Finish and send');
  finish.addEventListener('click', async () => {
    const found = check(record, questionnaire, files);
    if (Object.keys(found).length) {
      record.problems = found;
      record.problems_from_server = false;
      await db.put('reports', record);
      await show(() => formPage(record, found));
      const box = document.getElementById('problems');
      if (box) box.focus();
      return;
    }
    record.problems = null;
    record.problems_from_server = false;
    record.sent = body(record, questionnaire, await appVersion());
    record.file_ids = fileIds(record, questionnaire);
    record.state = 'waiting';
    record.queued_at = new Date().toISOString();
    record.attempts = 0;
    record.next_at = 0;
    record.error = null;
    // Files no longer named (a replaced photo) leave the phone.
    for (const file of files.values()) if (!record.file_ids.includes(file.id)) await db.remove('files', file.id);
    await db.put('reports', record);
    clearTimeout(saving);
    leaving = [() => form.dispose()];
    announce(navigator.onLine ? 'Saved on the phone; sending.' : 'Saved on the phone; it is sent when the network returns.', 'success');
    // The form and its receipt share the address: drawn again, it shows the receipt.
    await route();
    outbox.flush(true);
  });
  const discard = h('button', { type: 'button', class: 'danger', id: 'discard' }, record.kind === 'revise' ? 'Discard this revision' : 'Delete this report');
  discard.addEventListener('click', async () => {
    if (!(await confirmDialog('Delete this report from the phone?', 'What you entered and its photos are deleted. Nothing was sent.', 'Delete it', 'Keep it'))) return;
    clearTimeout(saving);
    leaving = [() => form.dispose()];
    await db.removeReport(record.id);
    announce('Deleted.');
    window.location.hash = '#/';
  });
  return h('div', { 'data-report': record.id },
    h('h1', { lang: questionnaire.language }, questionnaire.title),
    h('p', { class: 'muted' }, sync.locationName(picture, record.location_id), record.assignment_id ? ' · planned visit' : ''),
    record.note ? h('div', { class: 'panel notice', id: 'review-note' }, h('strong', {}, 'The reviewer asks: '), record.note) : null,
    summary,
    form.element,
    h('div', { class: 'actions' }, finish, discard));
}

function anchor(key) {
  if (key === 'visit') return 'visit-box';
  if (key === 'check-in') return 'check-in';
  if (key === 'narrative') return 'narrative';
  if (key === 'receipt') return 'receipt-file';
  if (key.startsWith('staff-')) return key;
  return `q-${key}-box`;
}

function jump(key) {
  const target = document.getElementById(anchor(key));
  if (!target) return;
  target.scrollIntoView({ block: 'center' });
  const control = target.matches('input, textarea') ? target : target.querySelector('input, textarea, button');
  if (control) control.focus({ preventScroll: true });
}

async function receipt(record) {
  const files = await db.filesOf(record.id);
  const named = files.filter((f) => (record.file_ids || []).includes(f.id));
  const { placed, rest } = serverProblems(record);
  const editable = record.state === 'refused' && record.error && [413, 422].includes(record.error.status);
  const answer = record.answer;
  const actions = [];
  if (record.state === 'waiting' || record.state === 'uploading') {
    actions.push(h('button', { type: 'button', id: 'send-now', onclick: () => { announce('Sending…'); outbox.flush(true); } }, 'Send now'));
  }
  if (editable) {
    actions.push(h('button', {
      type: 'button', class: 'primary', id: 'correct',
      onclick: async () => {
        record.state = 'draft';
        record.problems = { ...placed };
        record.problems_from_server = true;
        await db.put('reports', record);
        route();
      },
    }, 'Correct the report'));
  }
  if (record.state === 'refused' && record.error && record.error.code === 'file_refused') {
    actions.push(h('button', {
      type: 'button', id: 'retry-files',
      onclick: async () => {
        for (const f of named) { f.error = null; await db.put('files', f); }
        record.state = 'uploading';
        await db.put('reports', record);
        outbox.flush(true);
      },
    }, 'Send the files again'));
  }
  if (record.state === 'refused' || record.state === 'sent') {
    actions.push(h('button', {
      type: 'button', class: 'danger', id: 'remove',
      onclick: async () => {
        const unsentNote = record.state === 'sent' ? 'It stays with the server; only this phone’s copy goes.' : 'It never reached the server: it is lost.';
        if (!(await confirmDialog('Remove this report from the phone?', unsentNote, 'Remove it', 'Keep it'))) return;
        await db.removeReport(record.id);
        window.location.hash = '#/';
      },
    }, 'Remove from this phone'));
  }
  return h('section', { class: 'panel', id: 'receipt', 'data-state': record.state },
    h('h1', {}, record.kind === 'revise' ? 'Revision' : 'Report', ': ', sync.locationName(picture, record.location_id)),
    h('p', { class: 'muted' }, `${record.title || ''} · finished ${when(record.queued_at)} · id `, h('code', { id: 'report-id' }, record.id)),
    h('p', { class: `big state-${record.state}`, id: 'receipt-status' }, STATES[record.state]),
    record.state === 'waiting' ? h('p', { id: 'waiting-why' }, record.last_error
      ? `Last try: ${record.last_error} The app tries again ${record.next_at ? `at ${new Date(record.next_at).toLocaleTimeString()}` : 'soon'}, and at once when the network returns.`
      : 'It is kept on this phone and sent as soon as the network allows, even after the app is closed and opened again.') : null,
    answer ? h('div', { id: 'server-answer' },
      h('p', {}, `The server received it${record.acknowledged_at ? ` at ${when(record.acknowledged_at)}` : ''}: revision ${answer.revision}, ${STATUSES[answer.status] || answer.status}.`),
      answer.mile_level ? h('p', { class: 'big', id: 'receipt-score' }, `Score ${answer.score} · ${MILES[answer.mile_level]}`) : null) : null,
    named.length ? h('div', {},
      h('h2', {}, 'Files'),
      h('ul', { class: 'list', id: 'receipt-files' }, named.map((f) => h('li', { 'data-file': f.id, 'data-uploaded': f.uploaded ? 'true' : 'false' },
        `${f.purpose === 'receipt' ? 'Receipt' : 'Photo'} (${Math.ceil(f.size / 1024)} KB): `,
        f.uploaded ? 'received by the server' : f.error ? `refused: ${f.error.message}` : answer ? 'sending' : 'sent after the report')))) : null,
    record.state === 'refused' && record.error ? h('div', { class: 'panel error', role: 'alert', id: 'refusal' },
      h('p', {}, refusalText(record.error)),
      Object.keys(placed).length || rest.length ? h('ul', {},
        Object.entries(placed).map(([key, message]) => h('li', {}, `${labelOf(record, key)}: ${message}`)),
        rest.map((v) => h('li', {}, `${v.pointer}: ${v.message}`))) : null) : null,
    h('div', { class: 'actions' }, actions, h('a', { href: '#/', class: 'button' }, 'Home')));
}

function refusalText(error) {
  if (error.status === 409) {
    const rules = {
      lockout_period: 'The programme’s rules do not allow this visit: you visited this store too recently.',
      yearly_visit_limit: 'The programme’s rules do not allow this visit: you reached this year’s visits to this store.',
      shopper_excluded: 'The programme’s rules do not allow this visit: you are excluded from this store.',
    };
    return `${rules[error.code] || error.message} The report stays on this phone; ask your coordinator before removing it.`;
  }
  if (error.status === 422) return 'The server did not accept the report. Correct what it names and send it again:';
  return error.message;
}

function labelOf(record, key) {
  const q = questionnaireOf(record);
  const found = q && q.sections.flatMap((s) => s.questions).find((x) => x.key === key);
  if (found) return found.text;
  if (key.startsWith('staff-')) return `Person ${Number(key.slice(6)) + 1} observed`;
  return { visit: 'Visit times', narrative: 'Narrative', 'check-in': 'Check-in', receipt: 'Receipt' }[key] || key;
}

// ---------------------------------------------------------------------------------------
// The shell

/** The version of the app's files this phone holds: the service worker's cache names it. */
async function appVersion() {
  const prefix = 'secondmile-shop-';
  const names = window.caches ? await caches.keys().catch(() => []) : [];
  const found = names.find((name) => name.startsWith(prefix));
  return found ? found.slice(prefix.length) : null;
}

async function refreshPicture(loud) {
  try {
    picture = await sync.pull();
    if (loud) announce('Up to date.', 'success');
  } catch (error) {
    if (loud) announce(error.code === 'offline' ? 'No connection: showing what the phone kept.' : error.message, 'error');
  }
  showNetwork();
  if (onHome()) route();
}

function onHome() {
  const hash = window.location.hash;
  return main.dataset.page === 'home' && (hash === '' || hash === '#/' || hash === '#');
}

async function show(build, page) {
  const token = ++sequence;
  const view = await build();
  if (token !== sequence) return;
  mount(main, view);
  if (page) main.dataset.page = page;
}

async function route() {
  for (const fn of leaving.splice(0)) fn();
  const token = ++sequence;
  if (!api.hasSession() || !me) {
    me = null;
    renderWho();
    mount(main, await signInPage(signedIn));
    main.dataset.page = 'sign-in';
    document.title = 'Sign in · secondmile shopper';
    return;
  }
  renderWho();
  if (!picture) picture = await sync.held();
  const [path, query] = (window.location.hash.slice(1) || '/').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  try {
    let view;
    let page;
    if (parts[0] === 'new' && parts.length === 3) {
      await start(parts[1], parts[2], params);
      return;
    } else if (parts[0] === 'revise' && parts[1]) {
      await revise(parts[1]);
      return;
    } else if (parts[0] === 'report' && parts[1]) {
      view = await reportPage(parts[1]);
      page = view.id === 'receipt' ? 'receipt' : 'form';
    } else {
      view = await home();
      page = 'home';
    }
    if (token !== sequence) return;
    mount(main, view);
    main.dataset.page = page;
    document.title = `${main.querySelector('h1') ? main.querySelector('h1').textContent : 'secondmile'} · secondmile shopper`;
    const heading = main.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  } catch (error) {
    if (token === sequence) mount(main, problemBox(error));
  }
}

function renderWho() {
  const who = document.getElementById('who');
  who.hidden = !me;
  if (!me) return;
  mount(who, h('span', {}, me.name), h('button', { type: 'button', class: 'quiet', id: 'sign-out', onclick: signOut }, 'Sign out'));
}

async function signedIn(user) {
  me = user;
  picture = await sync.held();
  await refreshPicture(false);
  window.location.hash = '#/';
  await route();
  outbox.flush(true);
}

/** Signing out leaves nothing of the shopper on the phone; unsent reports only when confirmed. */
async function signOut() {
  const waiting = await outbox.unsent();
  if (waiting && !(await confirmDialog(
    `${waiting === 1 ? 'One report has' : `${waiting} reports have`} not reached the server`,
    'Signing out deletes everything of yours on this phone, these reports too. Stay signed in to send them first.',
    'Delete them and sign out', 'Stay signed in',
  ))) return;
  db.seal();
  for (const fn of leaving.splice(0)) fn();
  await db.clear();
  await api.signOut();
  me = null;
  picture = null;
  Object.assign(storeSearch, { text: '', all: false, here: null });
  announce('Signed out. Nothing of yours is left on this phone.');
  window.location.hash = '#/';
  route();
}

outbox.onChange(async (record) => {
  const hash = window.location.hash;
  if (onHome() || (main.dataset.page === 'receipt' && hash === `#/report/${record.id}`)) route();
  if (record.state === 'sent') refreshPicture(false);
});

window.addEventListener('online', () => { showNetwork(); outbox.flush(true); refreshPicture(false); });
window.addEventListener('offline', showNetwork);
api.onConnection(showNetwork);
api.onSessionEnd(async () => {
  me = null;
  const waiting = await outbox.unsent();
  mount(main, await signInPage(signedIn, `Your session has ended; sign in again.${waiting ? ` ${waiting} unsent report${waiting === 1 ? '' : 's'} stay on this phone and are sent once you do.` : ''}`));
  main.dataset.page = 'sign-in';
  renderWho();
});
window.addEventListener('hashchange', route);

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js', { scope: './' }).catch((error) => console.warn('service worker', error));
}

(async () => {
  me = api.hasSession() ? (await db.get('meta', 'me')) || null : null;
  showNetwork();
  await route();
  if (me) {
    outbox.flush(true);
    refreshPicture(false);
  }
})();
