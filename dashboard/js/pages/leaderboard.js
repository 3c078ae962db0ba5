// Every location of the range ranked: sortable columns, filters, verdicts, the interval of
// each mean drawn beside it, thin samples marked, and the same table as CSV.

import { h, announce, problemBox, mount } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { filterOptions, aggregateFields } from '../data.js';
import { aggregateQuery, ciBar, filterBar, rangeOf, scroller, thinMark, verdictBadge } from '../widgets.js';

const VERDICT_ORDER = { zero: 0, insufficient_data: 1, first: 2, second: 3 };
const COLUMNS = [
  { key: 'rank', label: '#', num: true, value: (r) => r.rank, first: 'asc' },
  { key: 'name', label: 'Location', value: (r) => r.location.name, first: 'asc' },
  { key: 'region', label: 'Region', value: (r) => r.location.region || '', first: 'asc' },
  { key: 'visits', label: 'Visits', num: true, value: (r) => r.figures.visits, server: 'visits' },
  { key: 'mean', label: 'Mean', num: true, value: (r) => r.figures.mean_score, server: 'mean_score' },
  { key: 'ci', label: '95% CI', sortable: false },
  { key: 'second', label: 'Second mile', num: true, value: (r) => r.figures.second_mile.rate, server: 'second_mile_rate' },
  { key: 'zero', label: 'Zero mile', num: true, value: (r) => r.figures.zero_mile.rate, server: 'zero_mile_rate' },
  { key: 'critical', label: 'Critical', num: true, value: (r) => r.figures.critical_failures.rate },
  { key: 'verdict', label: 'Verdict', value: (r) => VERDICT_ORDER[r.figures.verdict] },
];
const FILTERS = ['questionnaire_key', 'region', 'tag', 'min_visits'];

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return typeof a === 'string' ? a.localeCompare(b) : a - b;
}

export default async function leaderboard(ctx) {
  const { params, me } = ctx;
  const options = await filterOptions(me);
  const query = aggregateQuery(params, FILTERS);
  const { items, complete } = await api.all('aggregates/locations', query, 50);
  const state = {
    sort: COLUMNS.some((c) => c.key === params.get('sort')) ? params.get('sort') : 'rank',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  const tbody = h('tbody', {});
  const head = h('tr', {});
  const table = h('table', { class: 'grid', id: 'leaderboard' }, h('thead', {}, head), tbody);
  const count = h('p', { class: 'muted', id: 'row-count' });

  function draw() {
    const column = COLUMNS.find((c) => c.key === state.sort);
    const sign = state.dir === 'asc' ? 1 : -1;
    // Missing values (no scored visits) stay last in either direction.
    const rows = [...items].sort((a, b) => {
      const va = column.value(a);
      const vb = column.value(b);
      if (va === null || va === undefined || vb === null || vb === undefined) return compare(va, vb);
      return sign * compare(va, vb) || a.rank - b.rank;
    });
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
    count.textContent = `${fmt.int(items.length)} locations${complete ? '' : ' (the first ones only; narrow the filters)'}`;
  }

  function sortBy(column) {
    if (state.sort === column.key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
    else {
      state.sort = column.key;
      state.dir = column.first || 'desc';
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
      const column = COLUMNS.find((c) => c.key === state.sort);
      const csvQuery = { ...query, sort: column.server };
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
    scroller(table, 'Leaderboard'));
}

/** The range and questionnaire carried from a list to a location page. */
export function carry(params) {
  const out = {};
  for (const name of ['from', 'to', 'period', 'questionnaire_key']) if (params.get(name)) out[name] = params.get(name);
  return out;
}
