// Lists the filters offer (regions, tags, questionnaires), read once per sign-in.

import * as api from './api.js';

let cached = null;
let cachedFor = null;

export async function filterOptions(me) {
  if (cached && cachedFor === me.id) return cached;
  const [locations, questionnaires] = await Promise.all([
    me.scopes.includes('locations:read') ? api.all('locations', { active: true }) : { items: [] },
    me.scopes.includes('questionnaires:read') ? api.all('questionnaires', { status: 'published' }) : { items: [] },
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
  for (const q of questionnaires.items) keys.set(q.key, q.title);
  const sorted = (set) => [...set].sort((a, b) => a.localeCompare(b)).map((v) => [v, v]);
  cached = {
    regions: sorted(regions),
    tags: sorted(tags),
    questionnaires: [...keys].sort((a, b) => a[1].localeCompare(b[1])),
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
