// Home: what is on the phone and not yet with the server, reports returned for revision,
// the shopper's planned visits, open ones to claim, the stores the rules allow (nearest
// first), and what was sent.

import { h, mount, announce } from '/app/js/dom.js';
import * as api from '/app/js/api.js';
import * as db from './db.js';
import * as sync from './sync.js';
import { MILES, STATES, STATUSES, when, day } from './text.js';

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
  const parts = [STATES[record.state]];
  if (record.state === 'waiting' && record.last_error) parts.push(`(${record.last_error} Trying again ${record.next_at ? `at ${new Date(record.next_at).toLocaleTimeString()}` : 'soon'}.)`);
  if (record.answer && record.answer.mile_level) parts.push(`· ${record.answer.score}, ${MILES[record.answer.mile_level]}`);
  if (record.state === 'refused' && record.error) parts.push(`· ${record.error.message}`);
  return parts.join(' ');
}

function reportItem(record) {
  return h('li', { class: `item state-${record.state}`, 'data-report': record.id },
    h('a', { href: `#/report/${record.id}` }, sync.locationName(picture, record.location_id)),
    h('span', { class: 'muted' }, ` · ${record.title || ''} · ${record.kind === 'revise' ? 'revision · ' : ''}${when(record.queued_at || record.created_at)}`),
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
    id: 'store-filter', type: 'search', placeholder: 'Name, code or region', maxlength: 100, value: storeSearch.text,
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
          'aria-label': `Start: ${q.title} at ${l.name}`,
        }, q.title)))
        : h('p', { class: 'line muted' }, blocked(l)))),
    stores.length > shown.length ? h('li', { class: 'item' }, h('button', {
      type: 'button', id: 'all-stores', onclick: () => { storeSearch.all = true; showStores(); },
    }, `Show all ${stores.length} stores`)) : null);
  };
  filter.addEventListener('input', showStores);
  showStores();
  // Nearest first, when the shopper already lets the app know where the phone is.
  if (navigator.permissions && navigator.geolocation) {
    navigator.permissions.query({ name: 'geolocation' }).then((state) => {
      if (state.state !== 'granted') return;
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
    h('h1', {}, `Hello, ${me.name}`),
    h('p', { class: 'muted', id: 'synced' }, picture.synced_at
      ? `Up to date as of ${when(picture.checked_at || picture.synced_at)}.` : 'Not synced yet.',
    ' ', h('button', { type: 'button', id: 'sync-now', onclick: () => refreshPicture(true) }, 'Check for updates')),
    pending.length ? h('section', { class: 'panel', id: 'outbox' },
      h('h2', {}, `On this phone, not yet with the server (${pending.length})`),
      h('ul', { class: 'list' }, pending.map(reportItem))) : null,
    returned.length ? h('section', { class: 'panel', id: 'returned' },
      h('h2', {}, 'Returned for revision'),
      h('ul', { class: 'list' }, returned.map((r) => h('li', { class: 'item', 'data-report': r.id },
        h('strong', {}, sync.locationName(picture, r.location_id)), h('span', { class: 'muted' }, ` · visited ${day(r.visit_date)}`),
        h('blockquote', { class: 'note' }, (r.last_review && r.last_review.note) || ''),
        h('a', { class: 'button primary', href: `#/revise/${r.id}` }, 'Revise the report'))))) : null,
    h('section', { class: 'panel', id: 'assignments' },
      h('h2', {}, 'Your visits'),
      picture.assignments.length ? h('ul', { class: 'list' }, picture.assignments.map((a) => {
        const started = byAssignment.get(a.id);
        return h('li', { class: 'item', 'data-assignment': a.id },
          h('strong', {}, sync.locationName(picture, a.location_id)),
          h('span', { class: 'muted' }, ` · ${day(a.visit_from)}${a.visit_to !== a.visit_from ? ` to ${day(a.visit_to)}` : ''}${a.slot ? ` · ${a.slot}` : ''}`),
          a.instructions ? h('p', { class: 'line' }, a.instructions) : null,
          a.status === 'accepted' ? h('p', { class: 'line muted' }, 'Accepted') : null,
          h('div', { class: 'row wrap' },
            started ? h('a', { class: 'button', href: `#/report/${started.id}` }, started.state === 'draft' ? 'Continue the report' : 'Open the report')
              : h('a', { class: 'button primary', href: `#/new/${a.location_id}/${encodeURIComponent(a.questionnaire_key)}?assignment=${a.id}` }, 'Start the report'),
            a.status === 'assigned' && !started ? h('button', { type: 'button', onclick: (event) => answerAssignment(a, 'accept', event.target) }, 'Accept') : null,
            !started ? h('button', { type: 'button', onclick: (event) => answerAssignment(a, 'decline', event.target) }, 'Decline') : null));
      })) : h('p', { class: 'muted' }, 'No visit is planned for you. Claim an open one, or visit a store the rules allow.')),
    picture.claimable.length ? h('section', { class: 'panel', id: 'claimable' },
      h('h2', {}, 'Open visits you can claim'),
      h('ul', { class: 'list' }, picture.claimable.map((a) => h('li', { class: 'item' },
        h('strong', {}, sync.locationName(picture, a.location_id)),
        h('span', { class: 'muted' }, ` · ${day(a.visit_from)} to ${day(a.visit_to)}`),
        h('button', { type: 'button', onclick: (event) => claim(a, event.target) }, 'Claim'))))) : null,
    h('section', { class: 'panel', id: 'store-section' },
      h('h2', {}, 'Stores you may visit today'),
      h('label', { for: 'store-filter' }, 'Find a store'), filter,
      storeList),
    sent.length ? h('section', { class: 'panel', id: 'sent' },
      h('h2', {}, 'Sent'),
      h('ul', { class: 'list' }, sent.map(({ id, local: l, server: s }) => h('li', { class: 'item', 'data-report': id },
        h('a', { href: `#/report/${id}` }, sync.locationName(picture, (s || l).location_id)),
        h('span', { class: 'muted' }, ` · ${s ? day(s.visit_date) : when(l.sent_at)}`),
        h('p', { class: 'line' }, s ? `${STATUSES[s.status] || s.status}${s.score ? ` · ${s.score.overall}, ${MILES[s.score.mile_level]}` : ''}` : receiptLine(l)))))) : null);
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
    shopper_excluded: 'You are excluded from this store.',
    lockout_period: 'You visited recently.',
    yearly_visit_limit: 'You reached this year’s visits here.',
  }[l.blocked_by] || 'The rules do not allow a visit today.';
  return l.frees_on ? `${rule} Open to you again on ${day(l.frees_on)}.` : rule;
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
    announce(action === 'accept' ? 'Accepted.' : 'Declined: your coordinator is told why.', 'success');
    await refreshPicture(false);
  } catch (error) {
    announce(error.code === 'offline' ? 'This needs a connection.' : error.message, 'error');
    button.disabled = false;
  }
}

function askReason() {
  return new Promise((resolve) => {
    const text = h('textarea', { id: 'decline-reason', rows: 3, maxlength: 1000, required: true });
    const error = h('p', { class: 'field-error', id: 'decline-error', hidden: true }, 'Say why, in a few words.');
    text.setAttribute('aria-describedby', 'decline-error');
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'decline-title' },
      h('h2', { id: 'decline-title' }, 'Decline this visit'),
      h('label', { for: 'decline-reason' }, 'Why can you not make it?'), text, error,
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'primary',
          onclick: () => {
            if (!text.value.trim()) { error.hidden = false; text.focus(); return; }
            dialog.close('yes');
          },
        }, 'Decline'),
        h('button', { type: 'button', onclick: () => dialog.close('no') }, 'Keep it')));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'yes' ? text.value.trim() : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    text.focus();
  });
}

async function claim(assignment, button) {
  button.disabled = true;
  try {
    await api.call(`assignments/${assignment.id}/claim`, { method: 'POST' });
    announce('Claimed: the visit is yours.', 'success');
    await refreshPicture(false);
  } catch (error) {
    announce(error.code === 'offline' ? 'Claiming needs a connection.' : error.message, 'error');
    button.disabled = false;
  }
}

