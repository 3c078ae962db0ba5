// Every location of the range ranked: columns sorted by the server (a page at a time, so
// 20,000 locations load no more than 40), filters, verdicts, the interval of each mean drawn
// beside it, thin samples marked, and the same table as CSV.

import { h, announce, problemBox, mount } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { filterOptions, aggregateFields } from '../data.js';
import { aggregateQuery, ciBar, filterBar, rangeOf, scroller, thinMark, verdictBadge } from '../widgets.js';

// `server`: the API's `order_by` for the column.
const COLUMNS = [
  { key: 'rank', label: '#', num: true, server: 'rank', first: 'asc' },
  { key: 'name', label: 'Location', server: 'name', first: 'asc' },
  { key: 'region', label: 'Region', server: 'region', first: 'asc' },
  { key: 'visits', label: 'Visits', num: true, server: 'visits' },
  { key: 'mean', label: 'Mean', num: true, server: 'mean_score' },
  { key: 'ci', label: '95% CI', sortable: false },
  { key: 'second', label: 'Second mile', num: true, server: 'second_mile_rate' },
  { key: 'zero', label: 'Zero mile', num: true, server: 'zero_mile_rate' },
  { key: 'critical', label: 'Critical', num: true, server: 'critical_failure_rate' },
  { key: 'verdict', label: 'Verdict', server: 'verdict', first: 'asc' },
];
const FILTERS = ['questionnaire_key', 'region', 'tag', 'min_visits'];
const PAGE = 50;

export default async function leaderboard(ctx) {
  const { params, me } = ctx;
  const options = await filterOptions(me);
  const query = aggregateQuery(params, FILTERS);
  const state = {
    sort: COLUMNS.some((c) => c.key === params.get('sort') && c.sortable !== false) ? params.get('sort') : 'rank',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
    items: [],
    next: null,
  };
  const column = () => COLUMNS.find((c) => c.key === state.sort);
  async function fetchPage(cursor) {
    const page = await api.get('aggregates/locations', { ...query, order_by: column().server, dir: state.dir, limit: PAGE, cursor });
    state.items = cursor ? state.items.concat(page.items) : page.items;
    state.next = page.next_cursor;
  }
  await fetchPage(null);
  const tbody = h('tbody', {});
  const head = h('tr', {});
  const table = h('table', { class: 'grid', id: 'leaderboard' }, h('thead', {}, head), tbody);
  const count = h('p', { class: 'muted', id: 'row-count' });

  const more = h('button', { type: 'button', id: 'more-rows', hidden: true, onclick: async () => {
    more.disabled = true;
    mount(error);
    try {
      await fetchPage(state.next);
      draw();
    } catch (e) {
      mount(error, problemBox(e));
    } finally {
      more.disabled = false;
    }
  } }, `Show ${PAGE} more`);

  function draw() {
    // The server lists the rows (missing values last in either direction).
    const rows = state.items;
    mount(head, COLUMNS.map((c) => {
      if (c.sortable === false) return h('th', { scope: 'col' }, c.label);
      const active = c.key === state.sort;
      return h('th', { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': active ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'sort', dataset: { sort: c.key }, onclick: () => sortBy(c) },
          c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (state.dir === 'asc' ? ' ▲' : ' ▼') : '')));
    }));
    if (!rows.length) {
      mount(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No location has released visits for these filters.')));
    } else mount(tbody, rows.map((r) => h('tr', { dataset: { location: r.location.id } },
      h('td', { class: 'num' }, fmt.int(r.rank)),
      h('th', { scope: 'row' }, h('a', { href: link('location', r.location.id, carry(params)) }, r.location.name), h('div', { class: 'muted small' }, r.location.code)),
      h('td', {}, r.location.region || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'num', dataset: { visits: r.figures.visits } }, fmt.int(r.figures.visits), ' ', thinMark(r.figures)),
      h('td', { class: 'num' }, fmt.score(r.figures.mean_score)),
      h('td', {}, ciBar(r.figures.mean_score, r.figures.mean_ci95)),
      h('td', { class: 'num' }, fmt.pct(r.figures.second_mile.rate)),
      h('td', { class: 'num' }, fmt.pct(r.figures.zero_mile.rate)),
      h('td', { class: 'num' }, fmt.pct(r.figures.critical_failures.rate)),
      h('td', {}, verdictBadge(r.figures.verdict)))));
    count.textContent = state.next
      ? `The first ${fmt.int(rows.length)} locations in this order`
      : `${fmt.int(rows.length)} locations`;
    more.hidden = !state.next;
  }

  async function sortBy(column) {
    if (state.sort === column.key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
    else {
      state.sort = column.key;
      state.dir = column.first || 'desc';
    }
    mount(error);
    try {
      await fetchPage(null);
    } catch (e) {
      mount(error, problemBox(e));
      return;
    }
    draw();
    // The sort is kept in the address without reloading the page.
    const current = Object.fromEntries(params);
    history.replaceState(null, '', link('leaderboard', null, { ...current, sort: state.sort, dir: state.dir }));
    announce(`Sorted by ${column.label}, ${state.dir === 'asc' ? 'ascending' : 'descending'}.`);
    head.querySelector(`button[data-sort="${column.key}"]`).focus();
  }

  const error = h('div', {});
  const download = h('button', { type: 'button', id: 'download-csv', onclick: async () => {
    download.disabled = true;
    mount(error);
    try {
      const csvQuery = { ...query, order_by: column().server, dir: state.dir };
      const { data } = await api.call(api.withQuery('aggregates/locations.csv', csvQuery), { as: 'blob' });
      const url = URL.createObjectURL(data);
      const a = h('a', { href: url, download: `leaderboard-${query.from}-${query.to}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      announce('The CSV file was downloaded.');
    } catch (e) {
      mount(error, problemBox(e));
    } finally {
      download.disabled = false;
    }
  } }, 'Download CSV');

  draw();
  const range = rangeOf(params);
  return h('div', { class: 'page' },
    h('h1', {}, 'Leaderboard'),
    h('p', { class: 'muted' }, `${fmt.date(range.from)} – ${fmt.date(range.to)}. The bar shows each mean's 95% confidence interval; locations with few visits are marked as thin samples.`),
    filterBar(params, aggregateFields(options).concat([{ name: 'min_visits', label: 'Min. visits', type: 'number', maxlength: 7 }]),
      (values) => { window.location.hash = link('leaderboard', null, { ...values, sort: state.sort, dir: state.dir }); }),
    h('div', { class: 'toolbar' }, count, download),
    error,
    scroller(table, 'Leaderboard'),
    more);
}

/** The range and questionnaire carried from a list to a location page. */
export function carry(params) {
  const out = {};
  for (const name of ['from', 'to', 'period', 'questionnaire_key']) if (params.get(name)) out[name] = params.get(name);
  return out;
}
