// The organization at a glance: its figures, the verdicts of its locations, the trend of the
// mean with its confidence band, and the regions.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { trendChart } from '../charts.js';
import { filterOptions, aggregateFields } from '../data.js';
import { aggregateQuery, ciBar, figureCards, meter, filterBar, rangeOf, scroller, section, thinMark, verdictBadge } from '../widgets.js';

/** Weeks for a range up to about three months, calendar months beyond. */
function unitFor(from, to) {
  const days = (Date.parse(to) - Date.parse(from)) / 86400000 + 1;
  return days <= 100 ? 'week' : 'month';
}

export default async function overview(ctx) {
  const { params, me } = ctx;
  const options = await filterOptions(me);
  const query = aggregateQuery(params, ['questionnaire_key', 'region', 'tag']);
  const { from, to } = rangeOf(params);
  const unit = unitFor(from, to);
  // The whole trend in one request, whatever the number of buckets.
  const [summary, regions, trend] = await Promise.all([
    api.get('aggregates/overview', query),
    api.get('aggregates/regions', aggregateQuery(params, ['questionnaire_key', 'tag'])),
    api.get('aggregates/trend', { ...query, bucket: unit }).then((t) => t.buckets),
  ]);
  const v = summary.verdicts;
  const verdicts = h('ul', { class: 'verdicts', id: 'verdict-counts' },
    [['second', v.second], ['first', v.first], ['zero', v.zero], ['insufficient_data', v.insufficient_data]]
      .map(([name, count]) => h('li', {}, verdictBadge(name), h('strong', {}, fmt.int(count)), ' locations')));
  const regionRows = regions.items.map((r) => h('tr', {},
    h('td', { class: 'num' }, fmt.int(r.rank)),
    h('th', { scope: 'row' }, r.region
      ? h('a', { href: link('leaderboard', null, { region: r.region, from: params.get('from'), to: params.get('to'), period: params.get('period') }) }, r.region)
      : h('span', { class: 'muted' }, 'No region')),
    h('td', { class: 'num' }, fmt.int(r.locations)),
    h('td', { class: 'num' }, fmt.int(r.figures.visits), ' ', thinMark(r.figures)),
    h('td', { class: 'num' }, fmt.score(r.figures.mean_score)),
    h('td', {}, ciBar(r.figures.mean_score, r.figures.mean_ci95)),
    h('td', { class: 'num' }, fmt.pct(r.figures.second_mile.rate)),
    h('td', { class: 'num' }, fmt.pct(r.figures.zero_mile.rate)),
    h('td', {}, verdictBadge(r.figures.verdict))));
  const sections = summary.sections.map((s) => h('tr', {},
    h('th', { scope: 'row' }, s.title),
    h('td', { class: 'num' }, fmt.int(s.n)),
    h('td', { class: 'num' }, fmt.score(s.mean_score)),
    h('td', {}, meter(s.mean_score, s.title))));
  return h('div', { class: 'page' },
    h('h1', {}, me.role === 'manager' ? 'Your locations' : me.organization.name),
    h('p', { class: 'muted' }, `${fmt.date(summary.range.from)} – ${fmt.date(summary.range.to)}, released visits only`),
    filterBar(params, aggregateFields(options), (values) => { window.location.hash = link('overview', null, values); }),
    figureCards(summary.figures),
    section('Verdicts of the locations', verdicts),
    section('Trend', trendChart(trend, `Mean score per ${unit} with its 95% confidence interval`)),
    section('Regions', scroller(h('table', { class: 'grid', id: 'regions' },
      h('thead', {}, h('tr', {}, ['#', 'Region', 'Locations', 'Visits', 'Mean', '95% CI', 'Second mile', 'Zero mile', 'Verdict'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, regionRows)), 'Regions')),
    section('Sections', scroller(h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['Section', 'Visits', 'Mean', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, sections)), 'Section means')));
}
