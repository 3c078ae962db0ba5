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
export function aggregateFields(options, { region = true } = {}) {
  const fields = [];
  if (options.questionnaires.length) fields.push({ name: 'questionnaire_key', label: 'Questionnaire', options: options.questionnaires });
  else fields.push({ name: 'questionnaire_key', label: 'Questionnaire key', type: 'text', maxlength: 64 });
  if (region) fields.push({ name: 'region', label: 'Region', options: options.regions });
  fields.push({ name: 'tag', label: 'Tag', options: options.tags });
  return fields;
}
