// Lists the filters offer (regions, tags, questionnaires), read once per sign-in.

import * as api from './api.js';
import * as explain from './explain.js';

let cached = null;
let cachedFor = null;
let rule = null;
let ruleFor = null;

/**
 * The server's verdict rule, read once per sign-in (with the figures of one day, the
 * cheapest read that carries it) and handed to the words that explain verdicts.
 */
export async function verdictRule(me) {
  if (!rule || ruleFor !== me.id) {
    const today = new Date().toISOString().slice(0, 10);
    rule = (await api.get('aggregates/overview', { from: today, to: today })).verdict_rule;
    ruleFor = me.id;
  }
  explain.setRule(rule);
  return rule;
}

export async function filterOptions(me) {
  if (cached && cachedFor === me.id) return cached;
  const [locations, questionnaires] = await Promise.all([
    me.scopes.includes('locations:read') ? api.all('locations', { active: true }) : { items: [] },
    // Every signed-in user reads the questionnaires (a client needs the scope).
    me.kind === 'user' || me.scopes.includes('questionnaires:read') ? api.all('questionnaires', { status: 'published' }) : { items: [] },
  ]);
  const regions = new Set();
  const tags = new Set();
  const names = new Map();
  for (const location of locations.items) {
    if (location.region) regions.add(location.region);
    for (const tag of location.tags) tags.add(tag);
    names.set(location.id, location);
  }
  const keys = new Map();
  const ids = new Map();
  for (const q of questionnaires.items) {
    keys.set(q.key, q.title);
    ids.set(q.key, q.id);
  }
  const sorted = (set) => [...set].sort((a, b) => a.localeCompare(b)).map((v) => [v, v]);
  cached = {
    regions: sorted(regions),
    tags: sorted(tags),
    questionnaires: [...keys].sort((a, b) => a[1].localeCompare(b[1])),
    // The published version of each key.
    questionnaireIds: ids,
    locations: names,
  };
  cachedFor = me.id;
  return cached;
}

/** The filter fields of the aggregate pages. */
export function aggregateFields(options) {
  return [
    questionnaireField(options),
    { name: 'region', label: 'Region', options: options.regions },
    { name: 'tag', label: 'Tag', options: options.tags },
  ];
}

/** The questionnaire filter: a list where the caller may read questionnaires, else the key. */
export function questionnaireField(options) {
  return options.questionnaires.length
    ? { name: 'questionnaire_key', label: 'Questionnaire', options: options.questionnaires }
    : { name: 'questionnaire_key', label: 'Questionnaire key', type: 'text', maxlength: 64 };
}
