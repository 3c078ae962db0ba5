// The app's picture of the programme, from `GET /me/sync`: kept in IndexedDB so the app opens
// with it offline, and refreshed with the cursor (a 304 costs nothing when nothing changed).

import * as api from '/app/js/api.js';
import * as db from './db.js';

const EMPTY = {
  cursor: null, synced_at: null, questionnaires: [], assignments: [], claimable: [], eligible: [], reports: {},
};

export async function held() {
  return (await db.get('meta', 'sync')) || { ...EMPTY };
}

/** Asks the server what changed since the last sync; answers the picture (kept or new). */
export async function pull() {
  const kept = await held();
  let body;
  try {
    ({ data: body } = await api.call(api.withQuery('me/sync', { since: kept.cursor })));
  } catch (error) {
    if (error.status !== 304) throw error;
    kept.checked_at = new Date().toISOString();
    await db.put('meta', kept, 'sync');
    return kept;
  }
  const reports = { ...kept.reports };
  for (const report of body.reports.items) reports[report.id] = report;
  const next = {
    cursor: body.cursor,
    synced_at: body.synced_at,
    checked_at: new Date().toISOString(),
    questionnaires: body.questionnaires.items,
    // A section cut at its bound (a programme of thousands of stores) is read whole from its
    // list operation.
    assignments: body.assignments.complete ? body.assignments.items : (await whole('me/assignments', body.assignments.items))
      .filter((a) => a.status === 'assigned' || a.status === 'accepted')
      .sort((a, b) => a.visit_to.localeCompare(b.visit_to)),
    claimable: body.claimable.items,
    eligible: body.eligible_locations.complete ? body.eligible_locations.items : await whole('me/eligible-locations', body.eligible_locations.items),
    reports,
  };
  await db.put('meta', next, 'sync');
  return next;
}

/** Every page of a list the sync cut short (what the sync sent, if a page cannot be read). */
async function whole(path, first) {
  try {
    const { items } = await api.all(path, {}, 50);
    return items;
  } catch (error) {
    if (error.code === 'offline') return first;
    throw error;
  }
}

/** The version a new report of `key` answers: the latest published one. */
export function questionnaireFor(picture, key) {
  let best = null;
  for (const q of picture.questionnaires) {
    if (q.key === key && (!best || q.version > best.version)) best = q;
  }
  return best;
}

/** One entry per questionnaire key (its latest published version). */
export function questionnaires(picture) {
  const keys = [...new Set(picture.questionnaires.map((q) => q.key))];
  return keys.map((key) => questionnaireFor(picture, key));
}

export function locationName(picture, id) {
  const found = picture.eligible.find((l) => l.location_id === id);
  return found ? `${found.name} (${found.code})` : 'A store';
}
