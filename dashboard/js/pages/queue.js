// The review queue: submitted reports oldest first with their flags; a report opened with its
// answers, and approved, returned or rejected with a note (sent with If-Match, so a report
// that changed meanwhile is not decided blind). Keyboard: j/k move, Enter opens; in a report
// a approves, r returns, x rejects, n writes the note, Esc goes back.

import { h, mount, announce, problemBox } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { filterOptions } from '../data.js';
import { flagList, mileBadge, scroller, section } from '../widgets.js';
import { answerSections, languageNote, questionnairesOf, questionText } from '../answers.js';
import { listKeys, shortcuts, typing } from '../keys.js';

// The queue's order as last listed, so a decision can move on to the next report.
let order = [];

function locationName(options, id) {
  const loc = options.locations.get(id);
  return loc ? `${loc.name} (${loc.code})` : id;
}

export async function queue(ctx) {
  const { me } = ctx;
  const options = await filterOptions(me);
  const page = await api.get('reports', { status: 'submitted', sort: 'oldest', limit: 200 });
  order = page.items.map((r) => r.id);
  const row = (r) => h('tr', { dataset: { report: r.id } },
    h('td', {}, h('a', { href: link('queue', r.id), class: 'open' }, fmt.date(r.visit_date))),
    h('td', {}, locationName(options, r.location_id)),
    h('td', {}, r.questionnaire_key),
    h('td', { class: 'num' }, fmt.score(r.score.overall)),
    h('td', {}, mileBadge(r.score.mile_level)),
    h('td', {}, fmt.age(r.created_at)),
    h('td', {}, flagList(r.flags)));
  const tbody = h('tbody', {}, page.items.map(row));
  let cursor = page.next_cursor;
  const countFlagged = (items) => items.filter((r) => r.flags.length).length;
  let flagged = countFlagged(page.items);
  const more = h('button', { type: 'button', id: 'more-reports', onclick: async () => {
    more.disabled = true;
    try {
      const next = await api.get('reports', { status: 'submitted', sort: 'oldest', limit: 200, cursor });
      order.push(...next.items.map((r) => r.id));
      tbody.append(...next.items.map(row));
      cursor = next.next_cursor;
      flagged += countFlagged(next.items);
      more.hidden = !cursor;
      count.textContent = summary();
    } catch (e) {
      more.after(problemBox(e));
    } finally {
      more.disabled = false;
    }
  } }, 'Show more');
  more.hidden = !cursor;
  const summary = () => `${fmt.int(order.length)}${cursor ? '+' : ''} submitted reports, oldest first; ${fmt.int(flagged)} flagged. Keys: j / k to move, Enter to open.`;
  const count = h('p', { class: 'muted' }, page.items.length ? summary() : 'Nothing is waiting for review.');
  listKeys(ctx, '#queue a.open');
  return h('div', { class: 'page' },
    h('h1', {}, 'Review queue'),
    count,
    page.items.length ? scroller(h('table', { class: 'grid', id: 'queue' },
      h('thead', {}, h('tr', {}, ['Visit', 'Location', 'Questionnaire', 'Score', 'Mile', 'Submitted', 'Flags'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody), 'Submitted reports') : null,
    more);
}

export async function reviewReport(ctx) {
  const { me, arg: id } = ctx;
  const options = await filterOptions(me);
  const { data: report, headers } = await api.call(`reports/${encodeURIComponent(id)}`);
  const etag = headers.get('etag');
  const [questionnaire, theirs] = await questionnairesOf(report);
  const sections = answerSections(report, questionnaire, theirs);

  const note = h('textarea', { id: 'note', name: 'note', rows: 3, maxlength: 4000, 'aria-describedby': 'note-help' });
  const result = h('div', { id: 'review-result' });
  const buttons = [];
  async function decide(action) {
    const text = note.value.trim();
    if (action !== 'approve' && !text) {
      mount(result, problemBox({ message: 'Returning or rejecting a report needs a note for the shopper.' }));
      note.focus();
      return;
    }
    for (const b of buttons) b.disabled = true;
    try {
      await api.call(`reports/${encodeURIComponent(id)}/review`, {
        method: 'POST',
        headers: { 'if-match': etag },
        body: { action, note: text || null },
      });
      const verb = { approve: 'Approved', return: 'Returned', reject: 'Rejected' }[action];
      announce(`${verb}: ${locationName(options, report.location_id)}, visit of ${fmt.date(report.visit_date)}.`, 'success');
      const next = order[order.indexOf(id) + 1];
      order = order.filter((o) => o !== id);
      window.location.hash = next ? link('queue', next) : link('queue');
    } catch (e) {
      if (e.status === 412 || e.status === 409) {
        mount(result, problemBox({ message: `${e.message} The report changed since it was opened; reload it to see the current version.` }));
      } else {
        mount(result, problemBox(e));
      }
      for (const b of buttons) b.disabled = false;
    }
  }
  for (const [action, label, key] of [['approve', 'Approve', 'a'], ['return', 'Return to shopper', 'r'], ['reject', 'Reject', 'x']]) {
    buttons.push(h('button', { type: 'button', class: action === 'approve' ? 'primary' : action === 'reject' ? 'danger' : null, id: `${action}-report`, 'aria-keyshortcuts': key, onclick: () => decide(action) },
      label, h('kbd', {}, key)));
  }
  const at = order.indexOf(id);
  const waiting = report.status === 'submitted';
  shortcuts(ctx, (event) => {
    if (event.key === 'Escape') {
      if (typing(event)) event.target.blur();
      else window.location.hash = link('queue');
      return;
    }
    if (typing(event)) return;
    const keys = { a: 'approve', r: 'return', x: 'reject' };
    if (keys[event.key] && waiting) {
      event.preventDefault();
      decide(keys[event.key]);
    } else if (event.key === 'n') {
      event.preventDefault();
      note.focus();
    } else if (event.key === 'j' && at >= 0 && order[at + 1]) {
      window.location.hash = link('queue', order[at + 1]);
    } else if (event.key === 'k' && at > 0) {
      window.location.hash = link('queue', order[at - 1]);
    }
  });

  const visit = report.visit
    ? `${fmt.dateTime(report.visit.started_at)}, ${fmt.int(Math.round((Date.parse(report.visit.ended_at) - Date.parse(report.visit.started_at)) / 60000))} minutes`
    : fmt.date(report.visit_date);
  const staff = report.staff_observed.map((s) => [s.first_name, s.role, s.description].filter(Boolean).join(' · '));
  return h('div', { class: 'page review' },
    h('p', { class: 'crumbs' }, h('a', { href: link('queue') }, '← Review queue'),
      at >= 0 ? h('span', { class: 'muted' }, ` · ${fmt.int(at + 1)} of ${fmt.int(order.length)}`) : null),
    h('h1', {}, locationName(options, report.location_id)),
    h('p', { class: 'muted' }, `${report.questionnaire_key} · visit ${visit} · submitted ${fmt.dateTime(report.created_at)} · revision ${report.revision}`,
      ' · ', h('a', { href: link('location', report.location_id), id: 'location-link' }, 'location figures')),
    languageNote(report, theirs),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Score'), h('div', { class: 'value' }, fmt.score(report.score.overall))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Mile'), h('div', { class: 'value' }, mileBadge(report.score.mile_level))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'First tier'), h('div', { class: 'value' }, fmt.score(report.score.first_tier))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Second tier'), h('div', { class: 'value' }, fmt.score(report.score.second_tier)))),
    report.flags.length ? section('Flags', flagList(report.flags)) : null,
    report.score.critical_failures.length ? section('Critical failures', h('ul', {}, report.score.critical_failures.map((c) => h('li', {}, questionText(questionnaire, c))))) : null,
    report.status !== 'submitted' ? h('section', { class: 'panel', id: 'decided' },
      h('h2', {}, 'Decision'),
      h('p', {}, `This report is ${report.status}`, report.last_review ? ` (${fmt.dateTime(report.last_review.at)})` : '', '; nothing is waiting for a decision.'),
      report.last_review && report.last_review.note ? h('blockquote', {}, report.last_review.note) : null) : h('section', { class: 'panel decide' },
      h('h2', {}, 'Decision'),
      h('label', { for: 'note' }, 'Note for the shopper'),
      note,
      h('p', { class: 'muted small', id: 'note-help' }, 'Required to return or reject. Keys: a approve, r return, x reject, n note, j / k next / previous, Esc back.'),
      h('div', { class: 'actions' }, buttons),
      result),
    report.narrative ? section('Narrative', h('p', { class: 'narrative', lang: report.language || null }, report.narrative)) : null,
    staff.length ? section('Staff observed', h('ul', {}, staff.map((s) => h('li', {}, s)))) : null,
    sections);
}
