// A report's answers as the shopper gave them, section by section with the points each
// earned, choices by their labels; the reviewer's and the reader's view share it.

import { h } from './dom.js';
import * as fmt from './fmt.js';
import { section } from './widgets.js';

export function answerText(value, question) {
  if (value === null || value === undefined) return fmt.DASH;
  // A choice is shown by its label, as the shopper saw it.
  const options = (question && question.options) || [];
  const label = (v) => (options.find((o) => o.value === v) || {}).label || v;
  if (options.length && Array.isArray(value)) return value.map(label).join(', ');
  if (options.length && typeof value === 'string') return label(value);
  if (value === true) return 'Yes';
  if (value === false) return 'No';
  if (typeof value === 'number') return fmt.score(value, Number.isInteger(value) ? 0 : 1);
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The text of question `key` in `questionnaire` (the key itself when it is not there). */
export function questionText(questionnaire, key) {
  for (const s of (questionnaire && questionnaire.sections) || []) {
    const q = s.questions.find((x) => x.key === key);
    if (q) return q.text;
  }
  return key;
}

/** The answers of `report`, by the sections of its questionnaire (or as stored without it). */
export function answerSections(report, questionnaire) {
  const answers = new Map(report.answers.map((a) => [a.question, a]));
  const points = new Map(report.score.questions.map((q) => [q.key, q]));
  const sectionScores = new Map(report.score.sections.map((s) => [s.key, s]));

  return questionnaire
    ? questionnaire.sections.map((s) => {
      const score = sectionScores.get(s.key);
      return h('section', { class: 'panel answers' },
        h('h2', {}, s.title, score && score.score !== null ? h('span', { class: 'muted' }, ` · ${fmt.score(score.score)}`) : null),
        h('dl', {}, s.questions.map((q) => {
          const a = answers.get(q.key);
          const p = points.get(q.key);
          return [
            h('dt', {}, q.text),
            h('dd', {}, a ? (a.na ? 'Not applicable' : answerText(a.value, q)) : h('span', { class: 'muted' }, 'not answered'),
              p && p.counted && p.possible > 0 ? h('span', { class: 'muted' }, ` · ${fmt.score(p.earned, 0)} / ${fmt.score(p.possible, 0)} points`) : null,
              a && a.comment ? h('div', { class: 'comment' }, `“${a.comment}”`) : null),
          ];
        })));
    })
    : [section('Answers', h('dl', {}, report.answers.map((a) => [h('dt', {}, a.question), h('dd', {}, a.na ? 'Not applicable' : answerText(a.value))])))];
}
