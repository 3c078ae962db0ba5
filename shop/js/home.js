// Home: what is on the phone and not yet with the server, reports returned for revision,
// the shopper's planned visits, open ones to claim, the stores the rules allow (nearest
// first), and what was sent.

import { h, mount, announce } from '/app/js/dom.js';
import * as api from '/app/js/api.js';
import * as db from './db.js';
import * as sync from './sync.js';
import { modal } from './session.js';
import { mile, state, status, when, day, time } from './text.js';
import { t } from './words.js';

let picture = null;
let me = null;
let refreshPicture = null;

/** The home page for `context` ({ picture, me, refresh(loud) }). */
export function home(context) {
  ({ picture, me, refresh: refreshPicture } = context);
  return view();
}

/** Forgets the search and the position (sign-out). */
export function forgetSearch() {
  Object.assign(storeSearch, { text: '', all: false, here: null });
}

async function localReports() {
  return (await db.all('reports')).sort((a, b) => (b.created_at || '').localeCompare(a.created_at || ''));
}

function receiptLine(record) {
  const parts = [state(record.state)];
  if (record.state === 'waiting' && record.last_error) parts.push(`(${t(record.last_error)} ${record.next_at ? t('Trying again at {time}.', { time: time(record.next_at) }) : t('Trying again soon.')})`);
  if (record.answer && record.answer.mile_level) parts.push(`· ${record.answer.score}, ${mile(record.answer.mile_level)}`);
  if (record.state === 'refused' && record.error) parts.push(`· ${t(record.error.message)}`);
  return parts.join(' ');
}

function reportItem(record) {
  return h('li', { class: `item state-${record.state}`, 'data-report': record.id },
    h('a', { href: `#/report/${record.id}` }, sync.locationName(picture, record.location_id)),
    h('span', { class: 'muted' }, ` · ${record.title || ''} · ${record.kind === 'revise' ? `${t('revision')} · ` : ''}${when(record.queued_at || record.created_at)}`),
    h('p', { class: 'line' }, receiptLine(record)));
}

async function view() {
  const records = await localReports();
  const local = new Map(records.map((r) => [r.id, r]));
  const pending = records.filter((r) => r.state !== 'sent');
  const returned = Object.values(picture.reports).filter((r) => r.status === 'returned' && !(local.get(r.id) && local.get(r.id).state !== 'sent'));
  const byAssignment = new Map(records.filter((r) => r.assignment_id).map((r) => [r.assignment_id, r]));
  const questionnaires = sync.questionnaires(picture);
  // The search and the position outlive a redraw (a sync or a sent report draws home again).
  const filter = h('input', {
    id: 'store-filter', type: 'search', placeholder: t('Name, code or region'), maxlength: 100, value: storeSearch.text,
  });
  const storeList = h('ul', { class: 'list', id: 'stores' });
  const showStores = () => {
    storeSearch.text = filter.value;
    const { here, all } = storeSearch;
    const wanted = filter.value.trim().toLowerCase();
    const away = (l) => (here && l.latitude !== null ? distance(here, l) : Infinity);
    const stores = picture.eligible
      .filter((l) => !wanted || `${l.name} ${l.code} ${l.region || ''}`.toLowerCase().includes(wanted))
      .sort((a, b) => Number(b.eligible) - Number(a.eligible) || away(a) - away(b) || a.name.localeCompare(b.name));
    const shown = all || wanted ? stores.slice(0, 100) : stores.slice(0, STORES_SHOWN);
    mount(storeList, shown.map((l) => h('li', { class: 'item', 'data-location': l.code },
      h('strong', {}, l.name), h('span', { class: 'muted' }, ` ${l.code}${l.region ? ` · ${l.region}` : ''}`),
      Number.isFinite(away(l)) ? h('span', { class: 'muted' }, ` · ${kilometres(away(l))}`) : null,
      l.eligible
        ? h('div', { class: 'row wrap' }, questionnaires.map((q) => h('a', {
          class: 'button', href: `#/new/${l.location_id}/${encodeURIComponent(q.key)}`,
          'aria-label': t('Start: {questionnaire} at {store}', { questionnaire: q.title, store: l.name }),
        }, q.title)))
        : h('p', { class: 'line muted' }, blocked(l)))),
    stores.length > shown.length ? h('li', { class: 'item' }, h('button', {
      type: 'button', id: 'all-stores', onclick: () => { storeSearch.all = true; showStores(); },
    }, t('Show all {n} stores', { n: stores.length }))) : null);
  };
  filter.addEventListener('input', showStores);
  showStores();
  // Nearest first, when the shopper already lets the app know where the phone is.
  if (navigator.permissions && navigator.geolocation) {
    navigator.permissions.query({ name: 'geolocation' }).then((permission) => {
      if (permission.state !== 'granted') return;
      navigator.geolocation.getCurrentPosition((position) => {
        storeSearch.here = { latitude: position.coords.latitude, longitude: position.coords.longitude };
        showStores();
      }, () => {}, { maximumAge: 300000, timeout: 10000 });
    }).catch(() => {});
  }
  const sent = [
    ...records.filter((r) => r.state === 'sent' && !picture.reports[r.id]).map((r) => ({ id: r.id, local: r })),
    ...Object.values(picture.reports).filter((r) => r.status !== 'returned').map((r) => ({ id: r.id, server: r })),
  ].sort((a, b) => ((b.server && b.server.updated_at) || (b.local && b.local.sent_at) || '').localeCompare((a.server && a.server.updated_at) || (a.local && a.local.sent_at) || '')).slice(0, 20);

  return h('div', {},
    h('h1', {}, t('Hello, {name}', { name: me.name })),
    h('p', { class: 'muted', id: 'synced' }, picture.synced_at
      ? t('Up to date as of {time}.', { time: when(picture.checked_at || picture.synced_at) }) : t('Not synced yet.'),
    ' ', h('button', { type: 'button', id: 'sync-now', onclick: () => refreshPicture(true) }, t('Check for updates'))),
    pending.length ? h('section', { class: 'panel', id: 'outbox' },
      h('h2', {}, t('On this phone, not yet with the server ({n})', { n: pending.length })),
      h('ul', { class: 'list' }, pending.map(reportItem))) : null,
    returned.length ? h('section', { class: 'panel', id: 'returned' },
      h('h2', {}, t('Returned for revision')),
      h('ul', { class: 'list' }, returned.map((r) => h('li', { class: 'item', 'data-report': r.id },
        h('strong', {}, sync.locationName(picture, r.location_id)), h('span', { class: 'muted' }, ` · ${t('visited {day}', { day: day(r.visit_date) })}`),
        h('blockquote', { class: 'note' }, (r.last_review && r.last_review.note) || ''),
        h('a', { class: 'button primary', href: `#/revise/${r.id}` }, t('Revise the report')))))) : null,
    h('section', { class: 'panel', id: 'assignments' },
      h('h2', {}, t('Your visits')),
      picture.assignments.length ? h('ul', { class: 'list' }, picture.assignments.map((a) => {
        const started = byAssignment.get(a.id);
        return h('li', { class: 'item', 'data-assignment': a.id },
          h('strong', {}, sync.locationName(picture, a.location_id)),
          h('span', { class: 'muted' }, ` · ${day(a.visit_from)}${a.visit_to !== a.visit_from ? ` – ${day(a.visit_to)}` : ''}${a.slot ? ` · ${t(a.slot)}` : ''}`),
          a.instructions ? h('p', { class: 'line' }, a.instructions) : null,
          a.status === 'accepted' ? h('p', { class: 'line muted' }, t('Accepted')) : null,
          h('div', { class: 'row wrap' },
            started ? h('a', { class: 'button', href: `#/report/${started.id}` }, started.state === 'draft' ? t('Continue the report') : t('Open the report'))
              : h('a', { class: 'button primary', href: `#/new/${a.location_id}/${encodeURIComponent(a.questionnaire_key)}?assignment=${a.id}` }, t('Start the report')),
            a.status === 'assigned' && !started ? h('button', { type: 'button', onclick: (event) => answerAssignment(a, 'accept', event.target) }, t('Accept')) : null,
            !started ? h('button', { type: 'button', onclick: (event) => answerAssignment(a, 'decline', event.target) }, t('Decline')) : null));
      })) : h('p', { class: 'muted' }, t('No visit is planned for you. Claim an open one, or visit a store the rules allow.'))),
    picture.claimable.length ? h('section', { class: 'panel', id: 'claimable' },
      h('h2', {}, t('Open visits you can claim')),
      h('ul', { class: 'list' }, picture.claimable.map((a) => h('li', { class: 'item' },
        h('strong', {}, sync.locationName(picture, a.location_id)),
        h('span', { class: 'muted' }, ` · ${day(a.visit_from)} – ${day(a.visit_to)}`),
        h('button', { type: 'button', onclick: (event) => claim(a, event.target) }, t('Claim')))))) : null,
    h('section', { class: 'panel', id: 'store-section' },
      h('h2', {}, t('Stores you may visit today')),
      h('label', { for: 'store-filter' }, t('Find a store')), filter,
      storeList),
    sent.length ? h('section', { class: 'panel', id: 'sent' },
      h('h2', {}, t('Sent')),
      h('ul', { class: 'list' }, sent.map(({ id, local: l, server: s }) => h('li', { class: 'item', 'data-report': id },
        h('a', { href: `#/report/${id}` }, sync.locationName(picture, (s || l).location_id)),
        h('span', { class: 'muted' }, ` · ${s ? day(s.visit_date) : when(l.sent_at)}`),
        h('p', { class: 'line' }, s ? `${status(s.status)}${s.score ? ` · ${s.score.overall}, ${mile(s.score.mile_level)}` : ''}` : receiptLine(l)))))) : null);
}

const STORES_SHOWN = 8;
const storeSearch = { text: '', all: false, here: null };

/** Metres between two points (haversine). */
function distance(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(x));
}

function kilometres(metres) {
  return metres < 1000 ? `${Math.round(metres / 10) * 10} m` : `${(metres / 1000).toLocaleString([], { maximumFractionDigits: metres < 10000 ? 1 : 0 })} km`;
}

function blocked(l) {
  const rule = {
    shopper_excluded: t('You are excluded from this store.'),
    lockout_period: t('You visited recently.'),
    yearly_visit_limit: t('You reached this year’s visits here.'),
  }[l.blocked_by] || t('The rules do not allow a visit today.');
  return l.frees_on ? `${rule} ${t('Open to you again on {day}.', { day: day(l.frees_on) })}` : rule;
}

/** Accepts a planned visit, or declines it with a reason (so it can be planned for another). */
async function answerAssignment(assignment, action, button) {
  let body;
  if (action === 'decline') {
    const reason = await askReason();
    if (reason === null) return;
    body = { reason };
  }
  button.disabled = true;
  try {
    await api.call(`assignments/${assignment.id}/${action}`, { method: 'POST', body });
    announce(action === 'accept' ? t('Accepted.') : t('Declined: your coordinator is told why.'), 'success');
    await refreshPicture(false);
  } catch (error) {
    announce(error.code === 'offline' ? t('This needs a connection.') : error.message, 'error');
    button.disabled = false;
  }
}

async function askReason() {
  const text = h('textarea', { id: 'decline-reason', rows: 3, maxlength: 1000, required: true, 'aria-describedby': 'decline-error' });
  const error = h('p', { class: 'field-error', id: 'decline-error', hidden: true }, t('Say why, in a few words.'));
  const chosen = await modal({
    id: 'decline',
    title: t('Decline this visit'),
    content: [h('label', { for: 'decline-reason' }, t('Why can you not make it?')), text, error],
    choices: [
      {
        value: 'decline', label: t('Decline'), kind: 'primary',
        ready: () => {
          error.hidden = Boolean(text.value.trim());
          if (!error.hidden) text.focus();
          return error.hidden;
        },
      },
      { value: 'keep', label: t('Keep it') },
    ],
    focus: text,
  });
  return chosen === 'decline' ? text.value.trim() : null;
}

async function claim(assignment, button) {
  button.disabled = true;
  try {
    await api.call(`assignments/${assignment.id}/claim`, { method: 'POST' });
    announce(t('Claimed: the visit is yours.'), 'success');
    await refreshPicture(false);
  } catch (error) {
    announce(error.code === 'offline' ? t('Claiming needs a connection.') : error.message, 'error');
    button.disabled = false;
  }
}

