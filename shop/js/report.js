// A report: started for a store (or a planned visit), a returned one opened as its next
// revision, the form while it is a draft, and its receipt once finished: what waits, what the
// server answered, and what it refused.

import { h, announce } from '/app/js/dom.js';
import * as db from './db.js';
import * as sync from './sync.js';
import * as outbox from './outbox.js';
import { render as renderForm, fileIds, uuid } from './form.js';
import { check, body, place, localNow, localValue } from './rules.js';
import { confirmDialog } from './session.js';
import { mile, state, status, when, day, time, about } from './text.js';
import { t } from './words.js';

let picture = null;
let route = null;
let show = null;
let onLeave = null;

/** What the pages need from the shell: { picture, route(), show(build), onLeave(fn) }. */
export function use(context) {
  ({ picture, route, show, onLeave } = context);
}

export async function start(locationId, key, params) {
  const questionnaire = sync.questionnaireFor(picture, key);
  if (!questionnaire) throw new Error(t('This questionnaire is not on the phone yet: check for updates.'));
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
export async function revise(id) {
  const report = picture.reports[id];
  if (!report) throw new Error(t('This report is not on the phone: check for updates.'));
  const questionnaire = picture.questionnaires.find((q) => q.id === report.questionnaire_id);
  if (!questionnaire) throw new Error(t('Its questionnaire is no longer published: ask your coordinator.'));
  const existing = await db.get('reports', id);
  if (!existing || existing.state === 'sent') {
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
      started: localValue(new Date(report.visit.started_at)), ended: localValue(new Date(report.visit.ended_at)),
      note: report.last_review && report.last_review.note, revision: report.revision,
      created_at: new Date().toISOString(),
    });
  }
  window.location.replace(`#/report/${id}`);
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

export async function reportPage(id) {
  const record = await db.get('reports', id);
  if (!record) {
    const server = picture.reports[id];
    if (server) return serverReport(server);
    return h('section', { class: 'panel' }, h('h1', {}, t('Not on this phone')), h('p', {}, h('a', { href: '#/' }, t('Home'))));
  }
  if (record.state === 'draft') return formPage(record, record.problems || {});
  return receipt(record);
}

function serverReport(report) {
  return h('section', { class: 'panel', id: 'receipt' },
    h('h1', {}, sync.locationName(picture, report.location_id)),
    h('p', {}, t('Visited {day} · revision {revision}', { day: day(report.visit_date), revision: report.revision })),
    h('p', { class: 'big', id: 'receipt-status' }, status(report.status)),
    report.score ? h('p', { id: 'receipt-score' }, `${t('Score {score}', { score: report.score.overall })} · ${mile(report.score.mile_level)}`) : null,
    report.last_review && report.last_review.note ? h('blockquote', { class: 'note' }, report.last_review.note) : null,
    h('p', {}, h('a', { href: '#/' }, t('Home'))));
}

async function formPage(record, problems) {
  const questionnaire = questionnaireOf(record);
  if (!questionnaire) {
    return h('section', { class: 'panel' }, h('h1', {}, t('Questionnaire missing')),
      h('p', {}, t('The questionnaire of this report is no longer on the phone. Check for updates; if it was retired, ask your coordinator.')));
  }
  // Kept with the record, so a report opens offline even if a later sync drops its version.
  if (!record.questionnaire) record.questionnaire = questionnaire;
  const files = await filesMap(record.id);
  let saving = null;
  // Once finished or deleted, leaving the page writes nothing back.
  let settled = false;
  const save = () => {
    clearTimeout(saving);
    saving = setTimeout(() => db.put('reports', record), 250);
  };
  const form = renderForm(record, questionnaire, files, problems, save);
  onLeave(() => {
    clearTimeout(saving);
    if (!settled) db.put('reports', record);
    form.dispose();
  });
  const listed = Object.entries(problems);
  const summary = listed.length ? h('div', { class: 'panel error', id: 'problems', role: 'alert', tabindex: -1 },
    h('p', {}, record.problems_from_server ? t('The server did not accept the report. Correct this and send it again:')
      : listed.length === 1 ? t('One thing to correct before sending:') : t('{n} things to correct before sending:', { n: listed.length })),
    h('ul', {}, listed.map(([key, message]) => h('li', {}, h('a', {
      href: `#${anchor(key)}`, onclick: (event) => { event.preventDefault(); jump(key); },
    }, about(labelOf(record, key), message)))))) : null;
  const finish = h('button', { type: 'button', class: 'primary big', id: 'finish' }, record.kind === 'revise' ? t('Send the revision') : t('Finish and send'));
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
    settled = true;
    clearTimeout(saving);
    announce(navigator.onLine ? t('Saved on the phone; sending.') : t('Saved on the phone; it is sent when the network returns.'), 'success');
    // The form and its receipt share the address: drawn again, it shows the receipt.
    await route();
    outbox.flush(true);
  });
  const discard = h('button', { type: 'button', class: 'danger', id: 'discard' }, record.kind === 'revise' ? t('Discard this revision') : t('Delete this report'));
  discard.addEventListener('click', async () => {
    if (!(await confirmDialog(t('Delete this report from the phone?'), t('What you entered and its photos are deleted. Nothing was sent.'), t('Delete it'), t('Keep it')))) return;
    settled = true;
    clearTimeout(saving);
    await db.removeReport(record.id);
    announce(t('Deleted.'));
    window.location.hash = '#/';
  });
  return h('div', { 'data-report': record.id },
    h('h1', { lang: questionnaire.language }, questionnaire.title),
    h('p', { class: 'muted' }, sync.locationName(picture, record.location_id), record.assignment_id ? ' · planned visit' : ''),
    record.note ? h('div', { class: 'panel notice', id: 'review-note' }, h('strong', {}, t('The reviewer asks: ')), record.note) : null,
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
    actions.push(h('button', { type: 'button', id: 'send-now', onclick: () => { announce(t('Sending…')); outbox.flush(true); } }, t('Send now')));
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
    }, t('Correct the report')));
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
    }, t('Send the files again')));
  }
  if (record.state === 'refused' || record.state === 'sent') {
    actions.push(h('button', {
      type: 'button', class: 'danger', id: 'remove',
      onclick: async () => {
        const unsentNote = record.state === 'sent' ? t('It stays with the server; only this phone’s copy goes.') : t('It never reached the server: it is lost.');
        if (!(await confirmDialog(t('Remove this report from the phone?'), unsentNote, t('Remove it'), t('Keep it')))) return;
        await db.removeReport(record.id);
        window.location.hash = '#/';
      },
    }, t('Remove from this phone')));
  }
  return h('section', { class: 'panel', id: 'receipt', 'data-state': record.state },
    h('h1', {}, record.kind === 'revise' ? t('Revision') : t('Report'), ': ', sync.locationName(picture, record.location_id)),
    h('p', { class: 'muted' }, `${record.title || ''} · finished ${when(record.queued_at)} · id `, h('code', { id: 'report-id' }, record.id)),
    h('p', { class: `big state-${record.state}`, id: 'receipt-status' }, state(record.state)),
    record.state === 'waiting' ? h('p', { id: 'waiting-why' }, record.last_error
      ? `${t('Last try: {error}', { error: t(record.last_error) })} ${record.next_at ? t('The app tries again at {time}, and at once when the network returns.', { time: time(record.next_at) }) : t('The app tries again soon, and at once when the network returns.')}`
      : t('It is kept on this phone and sent as soon as the network allows, even after the app is closed and opened again.')) : null,
    answer ? h('div', { id: 'server-answer' },
      h('p', {}, t('The server received it at {time}: revision {revision}, {status}.', { time: when(record.acknowledged_at), revision: answer.revision, status: status(answer.status) })),
      answer.mile_level ? h('p', { class: 'big', id: 'receipt-score' }, `${t('Score {score}', { score: answer.score })} · ${mile(answer.mile_level)}`) : null) : null,
    named.length ? h('div', {},
      h('h2', {}, t('Files')),
      h('ul', { class: 'list', id: 'receipt-files' }, named.map((f) => h('li', { 'data-file': f.id, 'data-uploaded': f.uploaded ? 'true' : 'false' },
        `${f.purpose === 'receipt' ? t('Receipt') : t('Photo')} (${Math.ceil(f.size / 1024)} KB): `,
        f.uploaded ? t('received by the server') : f.error ? t('refused: {reason}', { reason: f.error.message }) : answer ? t('sending') : t('sent after the report'))))) : null,
    record.state === 'refused' && record.error ? h('div', { class: 'panel error', role: 'alert', id: 'refusal' },
      h('p', {}, refusalText(record.error)),
      Object.keys(placed).length || rest.length ? h('ul', {},
        Object.entries(placed).map(([key, message]) => h('li', {}, about(labelOf(record, key), message))),
        rest.map((v) => h('li', {}, `${v.pointer}: ${v.message}`))) : null) : null,
    h('div', { class: 'actions' }, actions, h('a', { href: '#/', class: 'button' }, t('Home'))));
}

function refusalText(error) {
  if (error.status === 409) {
    const rules = {
      lockout_period: t('The programme’s rules do not allow this visit: you visited this store too recently.'),
      yearly_visit_limit: t('The programme’s rules do not allow this visit: you reached this year’s visits to this store.'),
      shopper_excluded: t('The programme’s rules do not allow this visit: you are excluded from this store.'),
    };
    return `${rules[error.code] || error.message} ${t('The report stays on this phone; ask your coordinator before removing it.')}`;
  }
  if (error.status === 422) return t('The server did not accept the report. Correct what it names and send it again:');
  return t(error.message);
}

function labelOf(record, key) {
  const q = questionnaireOf(record);
  const found = q && q.sections.flatMap((s) => s.questions).find((x) => x.key === key);
  if (found) return found.text;
  if (key.startsWith('staff-')) return t('Person {n} observed', { n: Number(key.slice(6)) + 1 });
  return { visit: t('Visit times'), narrative: t('Narrative'), 'check-in': t('Check-in'), receipt: t('Receipt') }[key] || key;
}

/** The version of the app's files this phone holds: the service worker's cache names it. */
async function appVersion() {
  const prefix = 'secondmile-shop-';
  const names = window.caches ? await caches.keys().catch(() => []) : [];
  const found = names.find((name) => name.startsWith(prefix));
  return found ? found.slice(prefix.length) : null;
}
