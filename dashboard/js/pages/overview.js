// The organization at a glance: what needs attention (zero-mile stores, significant
// declines, overdue action plans, open appeals) and what shines (second-mile stores, the
// latest moments worth recognising), its figures with their change against the previous
// period in words, the verdicts of its locations (each a link to those locations), the trend
// of the mean with its confidence band, and the regions.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import * as explain from '../explain.js';
import { link } from '../route.js';
import { trendChart } from '../charts.js';
import { filterOptions, aggregateFields } from '../data.js';
import { aggregateQuery, ciBar, figureCards, meter, filterBar, rangeOf, scaleHeader, scroller, section, thinMark, verdictBadge } from '../widgets.js';

/** Weeks for a range up to about three months, calendar months beyond. */
function unitFor(from, to) {
  const days = (Date.parse(to) - Date.parse(from)) / 86400000 + 1;
  return days <= 100 ? 'week' : 'month';
}

const SHORT = 6;

/** A short named list, or a line saying there is nothing in it. */
function named(id, title, items, empty, more) {
  return h('div', { class: 'named', id },
    h('h3', {}, title, items.length ? h('span', { class: 'count' }, ` ${fmt.int(items.length)}${more ? '+' : ''}`) : null),
    items.length ? h('ul', {}, items) : h('p', { class: 'muted' }, empty));
}

export default async function overview(ctx) {
  const { params, me } = ctx;
  const options = await filterOptions(me);
  const filters = ['questionnaire_key', 'region', 'tag'];
  const query = aggregateQuery(params, filters);
  const { from, to } = rangeOf(params);
  const unit = unitFor(from, to);
  const here = {};
  for (const name of ['from', 'to', 'period', ...filters]) if (params.get(name)) here[name] = params.get(name);
  const readsPlans = me.scopes.includes('actions:read');
  const readsAppeals = ['admin', 'reviewer', 'manager'].includes(me.role);
  const [summary, regions, trend, changes, zero, second, plans, appeals, moments] = await Promise.all([
    api.get('aggregates/overview', query),
    api.get('aggregates/regions', aggregateQuery(params, ['questionnaire_key', 'tag'])),
    api.get('aggregates/trend', { ...query, bucket: unit }).then((t) => t.buckets),
    api.get('aggregates/changes', { ...query, only_significant: true, measure: 'mean_score', direction: 'decline', limit: SHORT }),
    api.get('aggregates/locations', { ...query, verdict: 'zero', order_by: 'zero_mile_rate', dir: 'desc', limit: SHORT }),
    api.get('aggregates/locations', { ...query, verdict: 'second', order_by: 'mean_score', dir: 'desc', limit: SHORT }),
    readsPlans ? api.get('action-plans', { overdue: true, limit: SHORT }) : null,
    // Reviewers and admins: the queue; a manager: their own appeals and how they ended.
    readsAppeals ? api.get('appeals', me.role === 'manager' ? { limit: 50 } : { status: 'open', limit: SHORT }) : null,
    api.get('aggregates/recognition', { ...query, limit: 3 }),
  ]);
  explain.setRule(summary.verdict_rule);
  const storeLink = (location, extra = null) => [h('a', { href: link('location', location.id, here) }, location.name),
    extra ? h('span', { class: 'muted' }, ` · ${extra}`) : null];

  const attention = [
    named('attention-zero', 'Zero-mile stores', zero.items.map((r) => h('li', {},
      storeLink(r.location, `${fmt.pct(r.figures.zero_mile.rate)} of visits below standard`))),
    'No store is zero mile in this range.', Boolean(zero.next_cursor)),
    named('attention-declines', 'Significant declines', changes.items.map((r) => h('li', {},
      storeLink(r.location, `mean ${explain.change(r.changes.mean_score, 'points')}`))),
    'No store\'s mean fell by more than chance would explain.', Boolean(changes.next_cursor)),
  ];
  if (plans) {
    attention.push(named('attention-plans', 'Overdue action plans', plans.items.map((p) => h('li', {},
      h('a', { href: link('plan', p.id) }, p.location.name),
      h('span', { class: 'muted' }, ` · ${p.actions.filter((a) => a.overdue).length} overdue of ${p.actions.length} actions`))),
    'No action is overdue.', Boolean(plans.next_cursor)));
  }
  if (appeals && me.role === 'manager') {
    const names = options.locations;
    const latest = appeals.items.slice(-SHORT).reverse();
    const OUTCOME = { open: 'waiting for a reviewer', upheld: 'upheld: the report stands', amended: 'amended: the report was corrected' };
    attention.push(named('attention-appeals', 'Your appeals', latest.map((a) => h('li', {},
      h('a', { href: link('report', a.report_id) }, (names.get(a.location_id) || {}).name || 'A store'),
      h('span', { class: 'muted' }, ` · ${OUTCOME[a.status] || a.status}, opened ${fmt.age(a.opened_at)}`))),
    'You have not appealed a report.', appeals.items.length > SHORT));
  } else if (appeals) {
    const names = options.locations;
    attention.push(named('attention-appeals', 'Open appeals', appeals.items.map((a) => h('li', {},
      h('a', { href: link('appeal', a.id) }, (names.get(a.location_id) || {}).name || 'A store'),
      h('span', { class: 'muted' }, ` · ${a.questions.length} answer${a.questions.length === 1 ? '' : 's'} disputed, ${fmt.age(a.opened_at)}`))),
    'No appeal waits for a decision.', Boolean(appeals.next_cursor)));
  }
  const stars = [
    named('stars-second', 'Second-mile stores', second.items.map((r) => h('li', {},
      storeLink(r.location, `mean ${fmt.score(r.figures.mean_score)}`))),
    'No store is second mile in this range yet.', Boolean(second.next_cursor)),
    named('stars-moments', 'Latest moments worth recognising', moments.items.map((m) => h('li', {},
      h('a', { href: link('location', m.location.id, here) }, m.location.name),
      h('span', { class: 'muted' }, ` · ${fmt.date(m.visit_date)}`),
      m.highlights ? h('div', { class: 'quote' }, `“${m.highlights}”`) : null)),
    'No second-mile visit in this range yet.', false),
  ];

  const v = summary.verdicts;
  const verdicts = h('ul', { class: 'verdicts', id: 'verdict-counts' },
    [['second', v.second], ['first', v.first], ['zero', v.zero], ['insufficient_data', v.insufficient_data]]
      .map(([name, count]) => h('li', {}, verdictBadge(name),
        h('a', { href: link('leaderboard', null, { ...here, verdict: name }), dataset: { verdict: name } },
          h('strong', {}, fmt.int(count)), count === 1 ? ' location' : ' locations'))));
  const regionRows = regions.items.map((r) => h('tr', {},
    h('td', { class: 'num' }, fmt.int(r.rank)),
    h('th', { scope: 'row' }, r.region
      ? h('a', { href: link('leaderboard', null, { ...here, region: r.region }) }, r.region)
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
    h('p', { class: 'muted' }, `${fmt.date(summary.range.from)} – ${fmt.date(summary.range.to)}, released visits only; changes against the ${fmt.int((Date.parse(to) - Date.parse(from)) / 86400000 + 1)} days before`),
    filterBar(params, aggregateFields(options), (values) => { window.location.hash = link('overview', null, values); }),
    h('div', { class: 'columns attention' },
      h('section', { class: 'panel needs', id: 'needs-attention' }, h('h2', {}, 'Needs attention'), attention),
      h('section', { class: 'panel stars', id: 'stars' }, h('h2', {}, 'Stars'), stars)),
    figureCards(summary.figures, changes.organization.changes),
    section('Verdicts of the locations', verdicts,
      h('p', { class: 'muted small' }, 'Each count opens those locations in the leaderboard. Hover or focus a verdict for its rule.')),
    section('Trend', trendChart(trend, `Mean score (0–100) per ${unit} with its 95% confidence interval`, summary.verdict_rule.min_visits)),
    section('Regions', scroller(h('table', { class: 'grid', id: 'regions' },
      h('thead', {}, h('tr', {}, ['#', 'Region', 'Locations', 'Visits', 'Mean', scaleHeader('95% CI of the mean'), 'Second mile', 'Zero mile', 'Verdict'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, regionRows)), 'Regions')),
    section('Sections', scroller(h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['Section', 'Visits', 'Mean', scaleHeader('Mean (0–100)')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, sections)), 'Section means')));
}
