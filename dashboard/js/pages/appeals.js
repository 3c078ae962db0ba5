// Managers' appeals for reviewers: the open ones oldest first (the same keys as the review
// queue: j / k move, Enter opens), and one appeal with the disputed answers as the report
// has them, the manager's reason and evidence, and the decision: uphold with a note, or
// amend with the corrected answers (u upholds, m amends, n writes the note, Esc goes back).

import { h, mount, announce, problemBox } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { filterOptions } from '../data.js';
import { scroller, section } from '../widgets.js';
import { answerText, originalOf, questionLabel, questionnairesOf } from '../answers.js';
import { listKeys, shortcuts, typing } from '../keys.js';

const STATUS = { open: 'open', upheld: 'upheld', amended: 'amended' };
let order = [];

function storeName(options, id) {
  const loc = options.locations.get(id);
  return loc ? `${loc.name} (${loc.code})` : id;
}

export async function appealQueue(ctx) {
  const { me, params } = ctx;
  const options = await filterOptions(me);
  const status = STATUS[params.get('status')] || 'open';
  const page = await api.get('appeals', { status, limit: 200 });
  if (status === 'open') order = page.items.map((a) => a.id);
  listKeys(ctx, '#appeals a.open');
  const rows = page.items.map((a) => h('tr', { dataset: { appeal: a.id } },
    h('td', {}, h('a', { href: link('appeal', a.id), class: 'open' }, fmt.dateTime(a.opened_at))),
    h('td', {}, storeName(options, a.location_id)),
    h('td', {}, a.questions.join(', ')),
    h('td', {}, a.evidence ? 'yes' : h('span', { class: 'muted' }, 'no')),
    h('td', {}, a.status)));
  const tabs = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Appeals shown' },
    ['open', 'upheld', 'amended'].map((s) => h('a', { href: link('appeals', null, { status: s }), 'aria-current': s === status ? 'true' : null }, s)));
  return h('div', { class: 'page' },
    h('h1', {}, 'Appeals'),
    tabs,
    h('p', { class: 'muted' }, page.items.length
      ? `${fmt.int(page.items.length)}${page.next_cursor ? '+' : ''} ${status} appeals, oldest first. Keys: j / k to move, Enter to open.`
      : `No ${status} appeal.`),
    page.items.length ? scroller(h('table', { class: 'grid', id: 'appeals' },
      h('thead', {}, h('tr', {}, ['Opened', 'Location', 'Disputed answers', 'Evidence', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), 'Appeals') : null);
}

/** An input for the corrected answer to `q`, holding `value`. */
function answerInput(q, value) {
  const id = `correct-${q.key}`;
  let input;
  if (q.type === 'yes_no') {
    input = h('select', { id, name: q.key, dataset: { kind: 'bool' } },
      h('option', { value: 'true', selected: value === true }, 'Yes'), h('option', { value: 'false', selected: value === false }, 'No'));
  } else if (q.type === 'single_choice') {
    input = h('select', { id, name: q.key, dataset: { kind: 'text' } }, (q.options || []).map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
  } else if (['scale', 'number', 'duration_seconds'].includes(q.type)) {
    input = h('input', { id, name: q.key, type: 'number', min: q.min, max: q.max, step: q.type === 'number' ? 'any' : 1, value: value ?? '', dataset: { kind: 'number' } });
  } else {
    input = h('input', { id, name: q.key, type: 'text', maxlength: q.max_length || 2000, value: value ?? '', dataset: { kind: 'text' } });
  }
  return h('div', { class: 'field' }, h('label', { for: id }, q.text), input);
}

function valueOf(input) {
  if (input.dataset.kind === 'bool') return input.value === 'true';
  if (input.dataset.kind === 'number') return input.value === '' ? null : Number(input.value);
  return input.value;
}

export async function appealPage(ctx) {
  const { me, arg: id } = ctx;
  const options = await filterOptions(me);
  const appeal = await api.get(`appeals/${encodeURIComponent(id)}`);
  const report = await api.get(`reports/${encodeURIComponent(appeal.report_id)}`);
  const [questionnaire, theirs] = await questionnairesOf(report);
  const original = originalOf(theirs);
  const questions = new Map();
  for (const s of questionnaire.sections) for (const q of s.questions) questions.set(q.key, q);
  const answers = new Map(report.answers.map((a) => [a.question, a]));
  const deciding = appeal.status === 'open' && ['admin', 'reviewer'].includes(me.role);
  const disputed = appeal.questions.map((key) => {
    const q = questions.get(key) || { key, text: key, type: 'text' };
    const a = answers.get(key);
    return { q, a };
  });
  const note = h('textarea', { id: 'appeal-note', name: 'note', rows: 3, maxlength: 2000 });
  const result = h('div', { id: 'appeal-decision-result' });
  const fields = h('div', { class: 'corrections', id: 'corrections' }, disputed.map(({ q, a }) => answerInput(q, a ? a.value : null)));
  const buttons = [];
  async function decide(decision) {
    if (!note.value.trim()) {
      mount(result, problemBox({ message: 'A decision needs a note: the manager and the shopper read it.' }));
      note.focus();
      return;
    }
    const body = { decision, note: note.value.trim() };
    if (decision === 'amend') {
      body.answers = [...fields.querySelectorAll('select, input')].map((input) => ({ question: input.name, value: valueOf(input) }));
    }
    for (const b of buttons) b.disabled = true;
    try {
      await api.call(`appeals/${encodeURIComponent(id)}/decision`, { method: 'POST', body });
      announce(decision === 'amend'
        ? `Amended: the report of ${storeName(options, appeal.location_id)} was re-scored.`
        : `Upheld: the report of ${storeName(options, appeal.location_id)} stands.`, 'success');
      const next = order[order.indexOf(id) + 1];
      order = order.filter((o) => o !== id);
      window.location.hash = next ? link('appeal', next) : link('appeals');
    } catch (e) {
      mount(result, problemBox(e));
      for (const b of buttons) b.disabled = false;
    }
  }
  for (const [decision, label, key] of [['uphold', 'Uphold the report', 'u'], ['amend', 'Amend the answers', 'm']]) {
    buttons.push(h('button', { type: 'button', id: `${decision}-appeal`, class: decision === 'amend' ? 'primary' : null, 'aria-keyshortcuts': key, onclick: () => decide(decision) },
      label, h('kbd', {}, key)));
  }
  shortcuts(ctx, (event) => {
    if (event.key === 'Escape') {
      if (typing(event)) event.target.blur();
      else window.location.hash = link('appeals');
      return;
    }
    if (typing(event) || !deciding) return;
    if (event.key === 'u' || event.key === 'm') {
      event.preventDefault();
      decide(event.key === 'u' ? 'uphold' : 'amend');
    } else if (event.key === 'n') {
      event.preventDefault();
      note.focus();
    }
  });
  let evidence = null;
  if (appeal.evidence) {
    const download = h('button', { type: 'button', id: 'evidence-download', onclick: async () => {
      try {
        const { data } = await api.call(`appeals/${encodeURIComponent(id)}/evidence`, { as: 'blob' });
        const url = URL.createObjectURL(data);
        window.open(url, '_blank', 'noopener');
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (e) {
        download.after(problemBox(e));
      }
    } }, 'Open the evidence');
    evidence = h('p', {}, `Evidence: ${appeal.evidence.media_type}, ${fmt.bytes(appeal.evidence.size)}, attached ${fmt.dateTime(appeal.evidence.attached_at)}. `, download);
  }
  return h('div', { class: 'page' },
    h('p', { class: 'crumbs' }, h('a', { href: link('appeals') }, '← Appeals')),
    h('h1', {}, `Appeal: ${storeName(options, appeal.location_id)}`),
    h('p', { class: 'muted' }, `Visit of ${fmt.date(report.visit_date)} · opened ${fmt.dateTime(appeal.opened_at)} · ${appeal.status} · `,
      h('a', { href: link('report', appeal.report_id), id: 'appealed-report' }, 'the whole report')),
    section('The manager says', h('blockquote', { id: 'appeal-reason' }, appeal.reason), evidence),
    section('Disputed answers', h('dl', { class: 'answers-list' }, disputed.map(({ q, a }) => [
      h('dt', {}, questionLabel(q, original)), h('dd', {}, a ? (a.na ? 'Not applicable' : answerText(a.value, q)) : h('span', { class: 'muted' }, 'not answered'),
        a && a.comment ? h('div', { class: 'comment' }, `“${a.comment}”`) : null)]))),
    deciding ? h('section', { class: 'panel decide' },
      h('h2', {}, 'Decision'),
      h('p', { class: 'muted small' }, 'Amend corrects the answers below and re-scores the report as a new revision; its store\'s figures move with it.'),
      fields,
      h('label', { for: 'appeal-note' }, 'Note for the manager and the shopper'),
      note,
      h('p', { class: 'muted small' }, 'Keys: u uphold, m amend, n note, Esc back.'),
      h('div', { class: 'actions' }, buttons),
      result)
      : section('Decision', h('p', { id: 'appeal-outcome' }, appeal.status === 'open' ? 'Waiting for a reviewer.' : `${appeal.status} on ${fmt.dateTime(appeal.decided_at)}`,
        appeal.amended_revision ? ` (revision ${appeal.amended_revision})` : ''),
      appeal.decision_note ? h('blockquote', {}, appeal.decision_note) : null));
}
