// A report's answers as the shopper gave them, section by section with the points each
// earned, choices by their labels; the reviewer's and the reader's view share it.

import * as api from './api.js';
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

/** The primary subtag of a language tag, lower case (`ja` of `ja-JP`). */
function primary(tag) {
  return String(tag || '').split('-')[0].toLowerCase();
}

/**
 * The questionnaire of `report` in the reader's language (the server picks it from the
 * browser's languages or the user's preference) and, when the shopper answered in another
 * language the version has, the same version as the shopper read it (else null).
 */
export async function questionnairesOf(report) {
  const path = `questionnaires/${encodeURIComponent(report.questionnaire_id)}`;
  const mine = await api.get(path);
  if (!report.language || primary(report.language) === primary(mine.language)) return [mine, null];
  const theirs = await api.get(path, { language: report.language });
  return [mine, theirs.language !== mine.language ? theirs : null];
}

/** Question key → text in `questionnaire` (empty without one). */
function textsOf(questionnaire) {
  const texts = new Map();
  for (const s of (questionnaire && questionnaire.sections) || []) for (const q of s.questions) texts.set(q.key, q.text);
  return texts;
}

/** A question's text, with the shopper's wording beside it when they read another language. */
export function questionLabel(q, original) {
  const theirs = original && original.texts.get(q.key);
  if (!theirs || theirs === q.text) return q.text;
  return [q.text, h('span', { class: 'original', lang: original.language }, theirs)];
}

/** What `questionLabel` needs of the shopper's version. */
export function originalOf(theirs) {
  return theirs ? { language: theirs.language, texts: textsOf(theirs) } : null;
}

/** The line saying which language the shopper answered in (null when it is the reader's). */
export function languageNote(report, theirs) {
  if (!report.language) return null;
  let name = report.language;
  try {
    name = new Intl.DisplayNames([navigator.language || 'en'], { type: 'language' }).of(report.language) || name;
  } catch (_) { /* an unknown tag stays as it is */ }
  return h('p', { class: 'muted small', id: 'report-language' }, `Answered in ${name} (${report.language})`,
    theirs ? '; each question shows the shopper\'s wording under yours.' : '.');
}

/** The answers of `report`, by the sections of its questionnaire (or as stored without it). */
export function answerSections(report, questionnaire, theirs = null) {
  const original = originalOf(theirs);
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
            h('dt', {}, questionLabel(q, original)),
            h('dd', {}, a ? (a.na ? 'Not applicable' : answerText(a.value, q)) : h('span', { class: 'muted' }, 'not answered'),
              p && p.counted && p.possible > 0 ? h('span', { class: 'muted' }, ` · ${fmt.score(p.earned, 0)} / ${fmt.score(p.possible, 0)} points`) : null,
              a && a.comment ? h('div', { class: 'comment' }, `“${a.comment}”`) : null),
          ];
        })));
    })
    : [section('Answers', h('dl', {}, report.answers.map((a) => [h('dt', {}, a.question), h('dd', {}, a.na ? 'Not applicable' : answerText(a.value))])))];
}
