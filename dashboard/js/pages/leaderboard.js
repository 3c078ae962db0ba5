// Every location of the range ranked, worst first by default (the zero-mile rate, then the
// mean): columns sorted by the server (a page at a time, so 20,000 locations load no more
// than 40), filters (a verdict among them), verdicts with their rule, the interval of each
// mean and of each zero-mile rate drawn on a 0–100 scale with the verdict's line, the change
// against the previous period, thin samples marked, and the same table as CSV. Under 600
// pixels each row is a card that leads with the verdict and the zero-mile rate.

import { h, announce, problemBox, mount } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { filterOptions, aggregateFields, verdictRule } from '../data.js';
import * as explain from '../explain.js';
import { aggregateQuery, ciBar, filterBar, rangeOf, scaleHeader, scroller, thinMark, verdictBadge } from '../widgets.js';

// `server`: the API's `order_by` for the column.
const COLUMNS = [
  { key: 'pick', label: 'Compare', sortable: false },
  { key: 'rank', label: '#', num: true, server: 'rank', first: 'asc' },
  { key: 'name', label: 'Location', server: 'name', first: 'asc' },
  { key: 'verdict', label: 'Verdict', server: 'verdict', first: 'asc' },
  { key: 'zero', label: 'Zero mile', num: true, server: 'zero_mile_rate' },
  { key: 'zero_ci', label: 'Zero mile, 95% CI', sortable: false, scale: 'rate' },
  { key: 'mean', label: 'Mean', num: true, server: 'mean_score' },
  { key: 'ci', label: 'Mean, 95% CI', sortable: false, scale: 'score' },
  { key: 'change', label: 'Change', sortable: false },
  { key: 'visits', label: 'Visits', num: true, server: 'visits' },
  { key: 'second', label: 'Second mile', num: true, server: 'second_mile_rate' },
  { key: 'critical', label: 'Critical', num: true, server: 'critical_failure_rate' },
  { key: 'region', label: 'Region', server: 'region', first: 'asc' },
];
const FILTERS = ['questionnaire_key', 'region', 'tag', 'min_visits', 'verdict'];
const VERDICT_OPTIONS = [['zero', 'Zero mile'], ['first', 'First mile'], ['second', 'Second mile'], ['insufficient_data', 'Too few visits']];
const PAGE = 50;

export default async function leaderboard(ctx) {
  const { params, me } = ctx;
  const options = await filterOptions(me);
  const query = aggregateQuery(params, FILTERS);
  // Worst first unless the address says otherwise: the highest zero-mile rate, and among
  // equal rates the lowest mean (ties follow the rank, by mean, in the same direction).
  const chosen = COLUMNS.some((c) => c.key === params.get('sort') && c.sortable !== false);
  const state = {
    sort: chosen ? params.get('sort') : 'zero',
    dir: chosen ? (params.get('dir') === 'desc' ? 'desc' : 'asc') : 'desc',
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

  // The change of each listed location against the previous period, filled in as it comes.
  const changes = new Map();
  const rule = await verdictRule(me);
  function changeCell(m) {
    if (!m || m.low_sample || !m.mean_score) return h('span', { class: 'muted', title: 'Too few visits in one of the periods' }, '–');
    const c = m.mean_score;
    const arrow = c.difference > 0 ? '▲' : c.difference < 0 ? '▼' : '';
    const bad = explain.worse(c, 'mean_score');
    return h('span', { class: `delta${bad ? ' worse' : c.significant ? ' better' : ''}`, title: `Mean ${explain.change(c)}` },
      `${arrow} ${fmt.score(Math.abs(c.difference))}`, c.significant ? '' : h('span', { class: 'muted small' }, ' (chance?)'));
  }
  // One request for the rows not yet known (a page is at most the changes call's limit).
  async function fillChanges(rows) {
    const missing = rows.filter((r) => !changes.has(r.location.id)).map((r) => r.location.id);
    if (!missing.length) return;
    let found = new Map();
    try {
      const answer = await api.get('aggregates/changes', {
        from: query.from, to: query.to, questionnaire_key: query.questionnaire_key,
        location_ids: missing.join(','), limit: missing.length,
      });
      found = new Map(answer.items.map((item) => [item.location.id, item.changes]));
    } catch {
      // Left as unknown: the column says '–' and the rest of the board stands.
    }
    for (const id of missing) {
      const m = found.get(id) ?? null;
      changes.set(id, m);
      const target = tbody.querySelector(`td[data-change-for="${id}"]`);
      if (target) mount(target, changeCell(m));
    }
  }

  // Stores ticked for a comparison (two to four).
  const picked = new Set();
  const compareLink = h('a', { id: 'compare-picked', class: 'button', hidden: true }, 'Compare');
  function pick(id, on) {
    if (on && picked.size < 4) picked.add(id);
    else picked.delete(id);
    for (const box of tbody.querySelectorAll('input.pick')) {
      box.checked = picked.has(box.value);
      box.disabled = !box.checked && picked.size >= 4;
    }
    compareLink.hidden = picked.size < 2;
    compareLink.textContent = `Compare ${picked.size} stores`;
    compareLink.href = link('compare', null, { ...carry(params), ids: [...picked].join(',') });
  }

  function draw() {
    // The server lists the rows (missing values last in either direction).
    const rows = state.items;
    mount(head, COLUMNS.map((c) => {
      if (c.sortable === false) return h('th', { scope: 'col' }, c.scale ? scaleHeader(c.label, c.scale === 'rate') : c.label);
      const active = c.key === state.sort;
      return h('th', { scope: 'col', class: c.num ? 'num' : null, 'aria-sort': active ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'sort', dataset: { sort: c.key }, onclick: () => sortBy(c) },
          c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (state.dir === 'asc' ? ' ▲' : ' ▼') : '')));
    }));
    if (!rows.length) {
      mount(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No location has released visits for these filters.')));
    } else mount(tbody, rows.map((r) => {
      const f = r.figures;
      const cell = (key, attrs, ...content) => h(key === 'name' ? 'th' : 'td', { ...attrs, dataset: { ...(attrs.dataset || {}), label: COLUMNS.find((c) => c.key === key).label, col: key } }, ...content);
      return h('tr', { dataset: { location: r.location.id } },
        cell('pick', {}, h('input', { type: 'checkbox', class: 'pick', value: r.location.id, checked: picked.has(r.location.id),
          'aria-label': `Compare ${r.location.name}`, onchange: (event) => pick(r.location.id, event.target.checked) })),
        cell('rank', { class: 'num' }, fmt.int(r.rank)),
        cell('name', { scope: 'row' }, h('a', { href: link('location', r.location.id, carry(params)) }, r.location.name), h('div', { class: 'muted small' }, r.location.code)),
        cell('verdict', {}, verdictBadge(f.verdict)),
        cell('zero', { class: 'num' }, fmt.pct(f.zero_mile.rate)),
        cell('zero_ci', {}, ciBar(f.zero_mile.rate, f.zero_mile.ci95, 1, rule.zero_mile_lower_bound)),
        cell('mean', { class: 'num' }, fmt.score(f.mean_score)),
        cell('ci', {}, ciBar(f.mean_score, f.mean_ci95)),
        cell('change', { class: 'change-cell', dataset: { changeFor: r.location.id } }, changes.has(r.location.id) ? changeCell(changes.get(r.location.id)) : h('span', { class: 'muted' }, '…')),
        cell('visits', { class: 'num', dataset: { visits: f.visits } }, fmt.int(f.visits), ' ', thinMark(f)),
        cell('second', { class: 'num' }, fmt.pct(f.second_mile.rate)),
        cell('critical', { class: 'num' }, fmt.pct(f.critical_failures.rate)),
        cell('region', {}, r.location.region || h('span', { class: 'muted' }, '—')));
    }));
    fillChanges(rows);
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
    h('p', { class: 'muted' }, `${fmt.date(range.from)} – ${fmt.date(range.to)}, worst first. Each bar is a 95% confidence interval on a 0–100 scale; the red line on the zero-mile bars is the verdict's: a store whose whole interval lies past it is zero mile. The change is the mean's against the ${fmt.int((Date.parse(range.to) - Date.parse(range.from)) / 86400000 + 1)} days before. Locations with few visits are marked as thin samples.`),
    filterBar(params, aggregateFields(options).concat([
      { name: 'verdict', label: 'Verdict', options: VERDICT_OPTIONS },
      { name: 'min_visits', label: 'Min. visits', type: 'number', maxlength: 7 }]),
      (values) => { window.location.hash = link('leaderboard', null, { ...values, sort: state.sort, dir: state.dir }); }),
    h('div', { class: 'toolbar' }, count, h('span', { class: 'tools' }, compareLink, download)),
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
