// Two to four stores side by side: their figures, their trends, and how often each misses
// each question of one questionnaire. The stores are in the address (`ids=a,b,c`), so a
// comparison is shared by sending its URL.

import { h, mount } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { trendChart } from '../charts.js';
import { filterOptions, verdictRule } from '../data.js';
import { aggregateQuery, ciBar, filterBar, rangeOf, scaleHeader, scroller, section, verdictBadge } from '../widgets.js';

const MAX = 4;

export default async function compare(ctx) {
  const { params, me } = ctx;
  const options = await filterOptions(me);
  const rule = await verdictRule(me);
  const ids = [...new Set((params.get('ids') || '').split(',').filter(Boolean))].slice(0, MAX);
  const query = aggregateQuery(params, ['questionnaire_key']);
  // The questionnaire compared: the chosen one, else the one with the most visits at the
  // first store.
  const drivers = (key, id) => api.get('aggregates/drivers', {
    from: query.from, to: query.to, questionnaire_key: key, location_id: id, min_visits: Math.max(1, rule.min_visits),
  });
  let key = params.get('questionnaire_key');
  if (!key && ids.length) {
    const tried = await Promise.all(options.questionnaires.map(([k]) => drivers(k, ids[0]).then((d) => [k, d.visits])));
    key = tried.reduce((best, next) => (!best || next[1] > best[1] ? next : best), null)?.[0] || null;
  }
  const stores = await Promise.all(ids.map(async (id) => {
    const [summary, trend, questions] = await Promise.all([
      api.get(`locations/${encodeURIComponent(id)}/summary`, query),
      api.get(`locations/${encodeURIComponent(id)}/trend`, { ...query, bucket: 'month' }),
      key ? drivers(key, id) : null,
    ]);
    return { id, summary, trend, drivers: questions };
  }));
  const here = {};
  for (const name of ['from', 'to', 'period', 'questionnaire_key']) if (params.get(name)) here[name] = params.get(name);
  const go = (list) => link('compare', null, { ...here, ids: list.join(',') });

  const candidates = [...options.locations.values()].filter((l) => !ids.includes(l.id)).sort((a, b) => a.name.localeCompare(b.name));
  const adder = h('form', { class: 'filters', id: 'compare-add' },
    h('span', { class: 'field' }, h('label', { for: 'add-store' }, 'Add a store'),
      h('select', { id: 'add-store', name: 'store', disabled: ids.length >= MAX },
        candidates.map((l) => h('option', { value: l.id }, `${l.name} (${l.code})`)))),
    h('button', { type: 'submit', disabled: ids.length >= MAX }, 'Add'));
  adder.addEventListener('submit', (event) => {
    event.preventDefault();
    window.location.hash = go(ids.concat(adder.elements.store.value));
  });

  const head = h('tr', {}, h('th', { scope: 'col' }, 'Figure'), stores.map((s) => h('th', { scope: 'col' },
    h('a', { href: link('location', s.id, here) }, s.summary.location.name),
    ' ', h('a', { href: go(ids.filter((x) => x !== s.id)), class: 'remove', 'aria-label': `Remove ${s.summary.location.name}` }, '×'))));
  const row = (label, cell) => h('tr', {}, h('th', { scope: 'row' }, label), stores.map((s) => h('td', {}, cell(s.summary.figures))));
  const figures = h('table', { class: 'grid compare', id: 'compare-figures' }, h('thead', {}, head), h('tbody', {},
    row('Verdict', (f) => verdictBadge(f.verdict)),
    row('Visits', (f) => fmt.int(f.visits)),
    row('Mean (0–100)', (f) => fmt.score(f.mean_score)),
    row(scaleHeader('Mean, 95% CI'), (f) => ciBar(f.mean_score, f.mean_ci95)),
    row('Zero mile', (f) => fmt.pct(f.zero_mile.rate)),
    row(scaleHeader('Zero mile, 95% CI', true), (f) => ciBar(f.zero_mile.rate, f.zero_mile.ci95, 1, rule.zero_mile_lower_bound)),
    row('Second mile', (f) => fmt.pct(f.second_mile.rate)),
    row('Critical failures', (f) => fmt.pct(f.critical_failures.rate))));

  // Each question's missed rate at each store, worst (at any store) first.
  let questions = null;
  if (key && stores.length) {
    const byKey = new Map();
    stores.forEach((s, i) => {
      for (const q of s.drivers.keeps_out_of_zero_mile.concat(s.drivers.too_few_visits)) {
        if (!byKey.has(q.key)) byKey.set(q.key, { text: q.text, missed: new Array(stores.length).fill(null) });
        byKey.get(q.key).missed[i] = !q.pass_rate || q.pass_rate.rate === null ? null : 1 - q.pass_rate.rate;
      }
    });
    const worst = (e) => Math.max(...e.missed.map((m) => m ?? -1));
    const rows = [...byKey.values()].sort((a, b) => worst(b) - worst(a)).map((e) => h('tr', {},
      h('th', { scope: 'row' }, e.text), e.missed.map((m) => h('td', { class: 'num' }, m === null ? fmt.DASH : fmt.pct(m)))));
    questions = section('Missed in how many visits', scroller(h('table', { class: 'grid compare', id: 'compare-questions' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Question'), stores.map((s) => h('th', { scope: 'col' }, s.summary.location.name)))),
      h('tbody', {}, rows)), 'Questions compared'));
  }
  const trends = h('div', { class: 'trends' }, stores.map((s) => h('div', { class: 'trend-cell' },
    trendChart(s.trend.buckets, `${s.summary.location.name}: mean score (0–100) per month`, rule.min_visits))));
  // Each chart keeps its own id in a comparison.
  trends.querySelectorAll('#trend-chart').forEach((el, i) => { el.id = `trend-chart-${i}`; });
  const range = rangeOf(params);
  const page = h('div', { class: 'page' },
    h('h1', {}, 'Compare stores'),
    h('p', { class: 'muted' }, `${fmt.date(range.from)} – ${fmt.date(range.to)}. ${ids.length < 2 ? 'Add a second store to compare.' : 'Share this comparison by its address.'}`),
    filterBar(params, [{ name: 'questionnaire_key', label: 'Questionnaire', options: options.questionnaires }],
      (values) => { window.location.hash = link('compare', null, { ...values, ids: ids.join(',') }); }),
    adder,
    stores.length ? section('Figures', scroller(figures, 'Figures compared')) : null,
    stores.length ? section('Trends', trends) : null,
    questions);
  if (!stores.length) mount(page.querySelector('.muted'), 'Pick two to four stores: add them below, or tick them in the leaderboard.');
  return page;
}
