// One location: its figures, trend (week or month) with the band, the mile mix over time,
// section means, question pass rates with intervals, recent released reports and the
// moments worth recognising.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import { link } from '../route.js';
import { mileMixChart, trendChart } from '../charts.js';
import { carry } from './leaderboard.js';
import { aggregateQuery, ciBar, figureCards, filterBar, flagList, meter, mileBadge, rangeOf, scroller, section } from '../widgets.js';
import { filterOptions, questionnaireField } from '../data.js';

export default async function location(ctx) {
  const { params, me, arg: id } = ctx;
  const bucket = params.get('bucket') === 'month' ? 'month' : 'week';
  const options = await filterOptions(me);
  const query = aggregateQuery(params, ['questionnaire_key']);
  const readsReports = me.scopes.includes('reports:read');
  const [summary, trend, questions, moments, reports] = await Promise.all([
    api.get(`locations/${encodeURIComponent(id)}/summary`, query),
    api.get(`locations/${encodeURIComponent(id)}/trend`, { ...query, bucket }),
    api.get('aggregates/questions', { ...query, location_id: id }),
    api.get('aggregates/recognition', { ...query, location_id: id, limit: 10 }),
    readsReports
      ? api.get('reports', { location_id: id, status: 'approved', sort: 'newest', limit: 10, visit_from: query.from, visit_to: query.to, questionnaire_key: query.questionnaire_key })
      : null,
  ]);
  const loc = summary.location;
  const range = rangeOf(params);
  const here = carry(params);
  const bucketSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Trend period' },
    ['week', 'month'].map((b) => h('a', {
      href: link('location', id, { ...here, bucket: b }),
      'aria-current': b === bucket ? 'true' : null,
      id: `bucket-${b}`,
    }, b === 'week' ? 'Weekly' : 'Monthly')));

  const questionRows = questions.items.map((q) => h('tr', {},
    h('th', { scope: 'row' }, q.text, h('div', { class: 'muted small' }, q.key)),
    h('td', { class: 'num' }, fmt.int(q.n)),
    h('td', { class: 'num' }, fmt.pct(q.full_points.rate)),
    h('td', {}, ciBar(q.full_points.rate, q.full_points.ci95, 1))));

  const sectionRows = summary.sections.map((s) => h('tr', {},
    h('th', { scope: 'row' }, s.title),
    h('td', { class: 'num' }, fmt.int(s.n)),
    h('td', { class: 'num' }, fmt.score(s.mean_score)),
    h('td', {}, meter(s.mean_score, s.title))));

  let recent = null;
  if (reports) {
    const rows = reports.items.map((r) => h('tr', {},
      h('td', {}, fmt.date(r.visit_date)),
      h('td', {}, r.questionnaire_key),
      h('td', { class: 'num' }, fmt.score(r.score.overall)),
      h('td', {}, mileBadge(r.score.mile_level)),
      h('td', {}, flagList(r.flags))));
    const table = h('table', { class: 'grid', id: 'recent-reports' },
      h('thead', {}, h('tr', {}, ['Visit', 'Questionnaire', 'Score', 'Mile', 'Flags'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows));
    recent = section('Recent released reports', rows.length
      ? scroller(table, 'Recent reports')
      : h('p', { class: 'muted' }, 'No released report in this range.'));
  }

  const recognition = section('Moments worth recognising', moments.items.length
    ? h('ul', { class: 'moments', id: 'moments' }, moments.items.map((m) => h('li', {},
      h('div', { class: 'moment-head' }, h('strong', {}, fmt.date(m.visit_date)), ' · ', m.questionnaire_key, ' · score ', fmt.score(m.score),
        m.staff.length ? h('span', { class: 'staff' }, ' · ', m.staff.map((s) => (s.role ? `${s.first_name} (${s.role})` : s.first_name)).join(', ')) : null),
      m.highlights ? h('blockquote', {}, m.highlights) : null,
      h('ul', { class: 'behaviours' }, m.behaviours.map((b) => h('li', {}, b.text, b.comment ? h('span', { class: 'comment' }, ` “${b.comment}”`) : null))))))
    : h('p', { class: 'muted' }, 'No second-mile visit in this range yet.'));

  return h('div', { class: 'page' },
    h('p', { class: 'crumbs' }, h('a', { href: link('leaderboard', null, here) }, '← Leaderboard')),
    h('h1', { id: 'location-name' }, loc.name),
    h('p', { class: 'muted' }, `${loc.code}${loc.region ? ` · ${loc.region}` : ''} · ${fmt.date(range.from)} – ${fmt.date(range.to)}`,
      summary.last_visit_date ? ` · last visit ${fmt.date(summary.last_visit_date)}` : ''),
    filterBar(params, [questionnaireField(options)],
    (values) => { window.location.hash = link('location', id, { ...values, bucket: params.get('bucket') }); }),
    h('div', { id: 'location-figures' }, figureCards(summary.figures)),
    section('Trend', bucketSwitch, trendChart(trend.buckets, `Mean score per ${bucket} with its 95% confidence interval`)),
    section('Mile mix over time', mileMixChart(trend.buckets)),
    h('div', { class: 'columns' },
      section('Sections', scroller(h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Section', 'Visits', 'Mean', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, sectionRows)), 'Sections')),
      recognition),
    section('Questions: visits with full points', scroller(h('table', { class: 'grid', id: 'questions' },
      h('thead', {}, h('tr', {}, ['Question', 'Visits', 'Full points', '95% CI'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, questionRows)), 'Questions')),
    recent);
}
