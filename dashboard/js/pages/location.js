// One location: what's wrong here and whether it is getting better. Its figures with their
// change in words, the trend (week or month) with its band, the mile mix over time; for one
// questionnaire at a time, its questions ranked by how often they are missed (each beside
// its peers' rate, each opening the visits that missed it) and what makes the second mile
// here; its action plans; section means; recent released reports (each opening the report)
// and the moments worth recognising.

import { h } from '../dom.js';
import * as api from '../api.js';
import * as fmt from '../fmt.js';
import * as explain from '../explain.js';
import { link } from '../route.js';
import { mileMixChart, trendChart } from '../charts.js';
import { carry } from './leaderboard.js';
import { aggregateQuery, ciBar, figureCards, filterBar, flagList, meter, mileBadge, rangeOf, scaleHeader, scroller, section } from '../widgets.js';
import { filterOptions, verdictRule } from '../data.js';

const READERS = ['admin', 'reviewer', 'analyst', 'manager'];
const PLAN_STATUS = { open: 'open', planned: 'planned', done: 'done, to verify', verified: 'verified', reopened: 'reopened' };

/**
 * What to train here, for one questionnaire: the chosen one, else the published one with the
 * most visits at this store. A question is rated from as few visits as a verdict needs.
 * Answers [key, drivers] (both null without a questionnaire).
 */
async function driversOf(id, params, options, range, minVisits) {
  const chosen = params.get('questionnaire_key');
  const keys = chosen ? [chosen] : options.questionnaires.map(([key]) => key);
  const all = await Promise.all(keys.map((key) => api.get('aggregates/drivers', {
    from: range.from, to: range.to, questionnaire_key: key, location_id: id, min_visits: Math.max(1, minVisits),
  }).then((drivers) => [key, drivers])));
  return all.reduce((best, next) => (!best || next[1].visits > best[1].visits ? next : best), null) || [null, null];
}

/** A rate missed: one minus the rate passed, its interval turned round. */
function missed(p) {
  if (!p || p.rate === null || p.rate === undefined) return { rate: null, ci95: null };
  return { rate: 1 - p.rate, ci95: p.ci95 ? [1 - p.ci95[1], 1 - p.ci95[0]] : null };
}

function questionsPanel(id, drivers, here, key, title, tiers, whole) {
  // The expected standard: a second-tier question (beyond expectations) is not missed.
  const rows = drivers.keeps_out_of_zero_mile.concat(drivers.too_few_visits)
    .filter((q) => tiers.get(q.key) !== 'second')
    .map((q) => ({ q, miss: missed(q.pass_rate), peers: missed(q.peer_pass_rate) }))
    .sort((a, b) => (b.miss.rate ?? -1) - (a.miss.rate ?? -1));
  const peers = drivers.peers ? (drivers.peers.region ? `its region's ${fmt.int(drivers.peers.locations)} other stores` : `the other ${fmt.int(drivers.peers.locations)} stores`) : null;
  const body = rows.map(({ q, miss, peers: theirs }, i) => h('tr', { dataset: { question: q.key } },
    h('th', { scope: 'row' },
      miss.rate === null
        ? h('span', { class: 'muted' }, `Too few visits to rate (${fmt.int(q.visits)})`)
        : h('span', { class: 'problem' }, `Missed in ${fmt.pct(miss.rate)} of visits`),
      h('div', {}, q.text)),
    h('td', { class: 'num' }, fmt.int(q.visits)),
    h('td', {}, ciBar(miss.rate, miss.ci95, 1)),
    peers ? h('td', { class: 'num' }, theirs.rate === null ? fmt.DASH : fmt.pct(theirs.rate)) : null,
    whole ? h('td', { class: 'num' }, whole.has(q.key) ? fmt.pct(whole.get(q.key)) : fmt.DASH) : null,
    h('td', {}, miss.rate ? h('a', { href: link('visits', id, { ...here, questionnaire_key: key, missed: q.key }), id: i === 0 ? 'worst-question-visits' : null }, 'the visits') : null)));
  return section(`What is missed here${title ? `: ${title}` : ''}`,
    h('p', { class: 'muted small' }, `The questions of the expected standard. A visit misses one when it does not earn its full points (a question expecting "no" is missed on "yes"). Worst first, with the 95% interval of the rate${peers ? `, the rate at ${peers}` : ''} and the rate of every store you may see together.`),
    rows.length ? scroller(h('table', { class: 'grid', id: 'questions' },
      h('thead', {}, h('tr', {}, ['Question', 'Visits', scaleHeader('Missed, 95% CI', true), peers ? 'Peers' : null, whole ? (drivers.peers ? 'Organization' : 'All your stores') : null, ''].filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, body)), 'Questions') : h('p', { class: 'muted' }, 'No scored question in this range.'));
}

function secondMilePanel(drivers, tiers) {
  const lifts = drivers.makes_second_mile.filter((q) => q.second_mile_lift && q.second_mile_lift.significant);
  const beyond = drivers.keeps_out_of_zero_mile.filter((q) => tiers.get(q.key) === 'second' && q.pass_rate)
    .sort((a, b) => b.pass_rate.rate - a.pass_rate.rate);
  return section('What makes the second mile here',
    beyond.length ? h('ul', { class: 'drivers', id: 'beyond-expectations' }, beyond.map((q) => h('li', {}, q.text,
      h('span', { class: 'muted' }, ` · in ${fmt.pct(q.pass_rate.rate)} of visits`,
        q.peer_pass_rate && q.peer_pass_rate.rate !== null ? ` (peers ${fmt.pct(q.peer_pass_rate.rate)})` : '')))) : null,
    lifts.length
      ? h('p', { id: 'second-mile-drivers' }, 'Visits that did these were second mile more often: ',
        lifts.slice(0, 5).map((q) => `${q.text} (+${fmt.pct(q.second_mile_lift.difference)})`).join('; '), '.')
      : h('p', { class: 'muted' }, 'No question is clearly linked to second-mile visits here yet (too few visits, or none stands out).'));
}

function plansPanel(plans) {
  return section('Action plans', plans.items.length
    ? h('ul', { class: 'plans', id: 'location-plans' }, plans.items.map((p) => h('li', {},
      h('a', { href: link('plan', p.id) }, p.summary || p.cause.replaceAll('_', ' ')),
      h('span', { class: 'muted' }, ` · ${PLAN_STATUS[p.status] || p.status} · ${p.actions.filter((a) => a.done_at).length} of ${p.actions.length} actions done`),
      p.overdue ? h('span', { class: 'flag' }, ' overdue') : null,
      p.status === 'verified' || !p.actions.length ? null : h('ul', { class: 'plan-steps' }, p.actions.map((a) => h('li', {},
        a.description, h('span', { class: 'muted' }, ` · ${a.owner}, due ${fmt.date(a.due_on)}${a.done_at ? ', done' : a.overdue ? ', overdue' : ''}`)))))))
    : h('p', { class: 'muted' }, 'No action plan for this store.'));
}

export default async function location(ctx) {
  const { params, me, arg: id } = ctx;
  const bucket = params.get('bucket') === 'month' ? 'month' : 'week';
  const options = await filterOptions(me);
  const query = aggregateQuery(params, ['questionnaire_key']);
  const readsReports = READERS.includes(me.role);
  const [summary, trend, changes, [key, drivers], plans, moments, reports] = await Promise.all([
    api.get(`locations/${encodeURIComponent(id)}/summary`, query),
    api.get(`locations/${encodeURIComponent(id)}/trend`, { ...query, bucket }),
    api.get(`locations/${encodeURIComponent(id)}/changes`, query),
    verdictRule(me).then((rule) => driversOf(id, params, options, query, rule.min_visits)),
    api.get(`locations/${encodeURIComponent(id)}/action-plans`, { limit: 20 }),
    api.get('aggregates/recognition', { ...query, location_id: id, limit: 10 }),
    readsReports
      ? api.get('reports', { location_id: id, status: 'approved', sort: 'newest', limit: 10, visit_from: query.from, visit_to: query.to, questionnaire_key: query.questionnaire_key })
      : null,
  ]);
  explain.setRule(summary.verdict_rule);
  // Each question's tier (first: the expected standard; second: beyond it), and the same
  // questions over every store the reader may see (the organization for HQ): read together.
  const tiers = new Map();
  let whole = null;
  const questionnaireId = key && options.questionnaireIds.get(key);
  const [version, everywhere] = await Promise.all([
    questionnaireId ? api.get(`questionnaires/${encodeURIComponent(questionnaireId)}`) : null,
    key ? api.get('aggregates/drivers', { from: query.from, to: query.to, questionnaire_key: key, min_visits: Math.max(1, summary.verdict_rule.min_visits) }) : null,
  ]);
  if (version) for (const s of version.sections) for (const x of s.questions) tiers.set(x.key, x.tier || null);
  if (everywhere) {
    whole = new Map(everywhere.keeps_out_of_zero_mile.filter((q) => q.pass_rate && q.pass_rate.rate !== null).map((q) => [q.key, 1 - q.pass_rate.rate]));
  }
  const loc = summary.location;
  const range = rangeOf(params);
  const here = carry(params);
  const bucketSwitch = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Trend period' },
    ['week', 'month'].map((b) => h('a', {
      href: link('location', id, { ...here, bucket: b }),
      'aria-current': b === bucket ? 'true' : null,
      id: `bucket-${b}`,
    }, b === 'week' ? 'Weekly' : 'Monthly')));

  const sectionRows = summary.sections.map((s) => h('tr', {},
    h('th', { scope: 'row' }, s.title),
    h('td', { class: 'num' }, fmt.int(s.n)),
    h('td', { class: 'num' }, fmt.score(s.mean_score)),
    h('td', {}, meter(s.mean_score, s.title))));

  let recent = null;
  if (reports) {
    const rows = reports.items.map((r) => h('tr', {},
      h('td', {}, h('a', { href: link('report', r.id), class: 'open-report' }, fmt.date(r.visit_date))),
      h('td', {}, r.questionnaire_key),
      h('td', { class: 'num' }, fmt.score(r.score.overall)),
      h('td', {}, mileBadge(r.score.mile_level)),
      h('td', {}, flagList(r.flags || []))));
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

  const shifts = changes.verdict_changes.length
    ? h('p', { class: 'muted', id: 'verdict-changes' }, 'Verdict changes in this range: ', changes.verdict_changes.map((v) => `${v.from.replaceAll('_', ' ')} → ${v.to.replaceAll('_', ' ')} (${fmt.date(v.visit_date)})`).join('; '))
    : null;
  const questionnaires = options.questionnaires.length > 1
    ? { name: 'questionnaire_key', label: 'Questionnaire', options: options.questionnaires, any: 'The most visited' }
    : { name: 'questionnaire_key', label: 'Questionnaire', options: options.questionnaires };
  return h('div', { class: 'page' },
    h('p', { class: 'crumbs' }, h('a', { href: link('leaderboard', null, here) }, '← Leaderboard'),
      ' · ', h('a', { href: link('compare', null, { ...here, ids: id }) }, 'Compare with other stores')),
    h('h1', { id: 'location-name' }, loc.name),
    h('p', { class: 'muted' }, `${loc.code}${loc.region ? ` · ${loc.region}` : ''} · ${fmt.date(range.from)} – ${fmt.date(range.to)}`,
      summary.last_visit_date ? ` · last visit ${fmt.date(summary.last_visit_date)}` : '', ` · changes against ${fmt.date(changes.compared_with.from)} – ${fmt.date(changes.compared_with.to)}`),
    filterBar(params, [questionnaires],
      (values) => { window.location.hash = link('location', id, { ...values, bucket: params.get('bucket') }); }),
    h('div', { id: 'location-figures' }, figureCards(summary.figures, changes.changes)),
    shifts,
    drivers ? h('div', { class: 'columns' }, questionsPanel(id, drivers, here, key, (options.questionnaires.find(([k]) => k === key) || [])[1], tiers, whole), h('div', {}, secondMilePanel(drivers, tiers), plansPanel(plans))) : plansPanel(plans),
    section('Trend', bucketSwitch, trendChart(trend.buckets, `Mean score (0–100) per ${bucket} with its 95% confidence interval`, summary.verdict_rule.min_visits)),
    section('Mile mix over time', mileMixChart(trend.buckets)),
    h('div', { class: 'columns' },
      section('Sections', scroller(h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Section', 'Visits', 'Mean', scaleHeader('Mean (0–100)')].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, sectionRows)), 'Sections')),
      recognition),
    recent);
}

/** The visits of a location that missed one question, each opening its report. */
export async function missedVisits(ctx) {
  const { params, arg: id } = ctx;
  const query = aggregateQuery(params, ['questionnaire_key']);
  const question = params.get('missed');
  const [summary, listed] = await Promise.all([
    api.get(`locations/${encodeURIComponent(id)}/summary`, query),
    api.all('reports', { location_id: id, status: 'approved', sort: 'newest', visit_from: query.from, visit_to: query.to, questionnaire_key: query.questionnaire_key }, 10),
  ]);
  const missedIt = listed.items.filter((r) => r.score.questions.some((q) => q.key === question && q.counted && q.earned < q.possible));
  let text = question;
  if (listed.items.length) {
    const q = await api.get(`questionnaires/${encodeURIComponent(listed.items[0].questionnaire_id)}`);
    for (const s of q.sections) for (const x of s.questions) if (x.key === question) text = x.text;
  }
  const here = carry(params);
  const rows = missedIt.map((r) => h('tr', {},
    h('td', {}, h('a', { href: link('report', r.id), class: 'open-report' }, fmt.date(r.visit_date))),
    h('td', { class: 'num' }, fmt.score(r.score.overall)),
    h('td', {}, mileBadge(r.score.mile_level))));
  return h('div', { class: 'page' },
    h('p', { class: 'crumbs' }, h('a', { href: link('location', id, here) }, `← ${summary.location.name}`)),
    h('h1', {}, `Visits that missed: ${text}`),
    h('p', { class: 'muted' }, `${fmt.int(missedIt.length)} of ${fmt.int(listed.items.length)}${listed.complete ? '' : '+'} released visits at ${summary.location.name}, ${fmt.date(query.from)} – ${fmt.date(query.to)}, newest first.`),
    rows.length ? scroller(h('table', { class: 'grid', id: 'missed-visits' },
      h('thead', {}, h('tr', {}, ['Visit', 'Score', 'Mile'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)), 'Visits') : h('p', { class: 'muted' }, 'No visit missed it in this range.'));
}
