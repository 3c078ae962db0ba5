// One released report, read by whoever may read it: its score and mile, the answers by
// section, the narrative, the photos the reader may see, its appeals; admins and reviewers
// also see its history. A manager appeals it from here: the disputed answers, why, and an
// optional file (a receipt, a rota).

import { h, mount, announce, problemBox } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { filterOptions } from '../data.js';
import { flagList, mileBadge, section } from '../widgets.js';
import { answerSections, answerText, languageNote, questionnairesOf, questionText } from '../answers.js';

const APPEAL_STATUS = { open: 'Waiting for a reviewer', upheld: 'Upheld: the report stands', amended: 'Amended: the report was corrected' };

/** The files of the report the reader may see, each loaded as it is shown. */
async function photos(report) {
  const status = await api.get(`reports/${encodeURIComponent(report.id)}/attachments`);
  if (!status.received.length) return null;
  const list = h('ul', { class: 'photos', id: 'photos' });
  for (const file of status.received) {
    const item = h('li', {}, h('span', { class: 'muted' }, `${file.media_type}, ${fmt.bytes(file.size)}`));
    list.append(item);
    api.call(`attachments/${encodeURIComponent(file.id)}`, { as: 'blob' }).then(({ data }) => {
      const url = URL.createObjectURL(data);
      mount(item, file.media_type.startsWith('image/')
        ? h('img', { src: url, alt: `Photo ${file.id}`, loading: 'lazy' })
        : h('a', { href: url, download: `${file.id}.pdf` }, 'Receipt (PDF)'));
    }).catch((e) => {
      mount(item, h('span', { class: 'muted' }, e.code === 'staff_privacy' ? 'A photo that may show staff: reviewers and admins only.' : e.message));
    });
  }
  return section('Photos and receipts', list);
}

/** The appeal form of a manager: which answers, why, and a file. */
function appealForm(report, questionnaire, done) {
  const texts = new Map();
  if (questionnaire) for (const s of questionnaire.sections) for (const q of s.questions) texts.set(q.key, q);
  const result = h('div', { id: 'appeal-result' });
  const reason = h('textarea', { id: 'appeal-reason', name: 'reason', rows: 3, maxlength: 2000, required: true });
  const file = h('input', { id: 'appeal-file', name: 'file', type: 'file', accept: 'image/jpeg,image/png,image/heic,image/webp,application/pdf' });
  const boxes = report.answers.map((a) => {
    const q = texts.get(a.question);
    const id = `dispute-${a.question}`;
    return h('li', {}, h('input', { type: 'checkbox', id, name: 'questions', value: a.question }),
      h('label', { for: id }, q ? q.text : a.question, h('span', { class: 'muted' }, ` · answered ${a.na ? 'not applicable' : answerText(a.value, q)}`)));
  });
  const form = h('form', { class: 'panel appeal-form', id: 'appeal-form', novalidate: true },
    h('h2', {}, 'Appeal this report'),
    h('p', { class: 'muted small' }, 'Pick the answers you dispute and say why. A reviewer upholds the report or corrects those answers; the shopper never learns who appealed.'),
    h('fieldset', {}, h('legend', {}, 'Disputed answers'), h('ul', { class: 'checks' }, boxes)),
    h('label', { for: 'appeal-reason' }, 'Why'),
    reason,
    h('label', { for: 'appeal-file' }, 'Evidence (optional): a receipt or a rota, JPEG, PNG, HEIC, WebP or PDF'),
    file,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'appeal-submit' }, 'Send the appeal')),
    result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const questions = [...form.querySelectorAll('input[name=questions]:checked')].map((c) => c.value);
    const problems = [];
    if (!questions.length) problems.push({ pointer: '/questions', message: 'pick at least one answer' });
    if (!reason.value.trim()) problems.push({ pointer: '/reason', message: 'say why' });
    if (problems.length) {
      mount(result, problemBox({ message: 'The appeal is not complete.', violations: problems }));
      return;
    }
    const button = form.querySelector('#appeal-submit');
    button.disabled = true;
    try {
      const { data: appeal } = await api.call(`reports/${encodeURIComponent(report.id)}/appeals`, {
        method: 'POST', body: { questions, reason: reason.value.trim() },
      });
      if (file.files.length) {
        await api.call(`appeals/${encodeURIComponent(appeal.id)}/evidence`, {
          method: 'PUT', raw: file.files[0], headers: { 'content-type': file.files[0].type || 'application/octet-stream' },
        });
      }
      announce('The appeal was sent; a reviewer will decide.', 'success');
      done();
    } catch (e) {
      mount(result, problemBox(e));
      button.disabled = false;
    }
  });
  return form;
}

export default async function reportPage(ctx) {
  const { me, arg: id } = ctx;
  const options = await filterOptions(me);
  const report = await api.get(`reports/${encodeURIComponent(id)}`);
  const [questionnaire, theirs] = await questionnairesOf(report);
  const manager = me.role === 'manager';
  const seesHistory = me.role === 'admin' || me.role === 'reviewer';
  const [history, appeals, files] = await Promise.all([
    seesHistory ? api.get(`reports/${encodeURIComponent(id)}/history`) : null,
    manager ? api.all('appeals', { location_id: report.location_id }).then((a) => a.items.filter((x) => x.report_id === id)) : null,
    photos(report),
  ]);
  const appealed = history ? history.appeals : (appeals || []);
  const location = options.locations.get(report.location_id);
  const open = appealed.some((a) => a.status === 'open');
  const appealPanel = appealed.length
    ? section('Appeals', h('ul', { class: 'appeals', id: 'report-appeals' }, appealed.map((a) => h('li', { dataset: { status: a.status } },
      h('strong', {}, APPEAL_STATUS[a.status] || a.status), ` · ${a.questions.map((k) => questionText(questionnaire, k)).join('; ')}`,
      a.decision_note ? h('blockquote', {}, a.decision_note) : null,
      a.id && !manager ? h('a', { href: link('appeal', a.id) }, 'Open the appeal') : null))))
    : null;
  const visit = report.visit
    ? `${fmt.dateTime(report.visit.started_at)}, ${fmt.int(Math.round((Date.parse(report.visit.ended_at) - Date.parse(report.visit.started_at)) / 60000))} minutes`
    : fmt.date(report.visit_date);
  return h('div', { class: 'page report' },
    h('p', { class: 'crumbs' }, h('a', { href: link('location', report.location_id) }, `← ${location ? location.name : 'Location'}`)),
    h('h1', { id: 'report-title' }, `Visit of ${fmt.date(report.visit_date)}`, location ? ` · ${location.name}` : ''),
    h('p', { class: 'muted' }, `${questionnaire.title} · ${visit} · ${report.status} · revision ${report.revision}`),
    languageNote(report, theirs),
    h('div', { class: 'cards' },
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Score (0–100)'), h('div', { class: 'value' }, fmt.score(report.score.overall))),
      h('div', { class: 'card' }, h('div', { class: 'label' }, 'Mile'), h('div', { class: 'value' }, mileBadge(report.score.mile_level)))),
    report.flags && report.flags.length ? section('Flags', flagList(report.flags)) : null,
    report.score.critical_failures.length ? section('Critical failures', h('ul', {}, report.score.critical_failures.map((c) => h('li', {}, questionText(questionnaire, c))))) : null,
    appealPanel,
    manager && report.status === 'approved' && !open ? appealForm(report, questionnaire, () => ctx.refresh()) : null,
    report.narrative ? section('Narrative', h('p', { class: 'narrative', lang: report.language || null }, report.narrative)) : null,
    files,
    answerSections(report, questionnaire, theirs),
    history ? section('History', h('ol', { class: 'history', id: 'history' }, history.items.map((t) => h('li', {},
      `${fmt.dateTime(t.at)}: ${t.action.replaceAll('_', ' ')}, ${t.from_status ? `${t.from_status} → ` : ''}${t.to_status}, revision ${t.revision}`,
      t.actor_role ? h('span', { class: 'muted' }, ` · by the ${t.actor_role}`) : null,
      t.note ? h('span', { class: 'muted' }, ` · ${t.note}`) : null)))) : null);
}
