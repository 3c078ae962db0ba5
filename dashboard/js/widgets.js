// Pieces several pages share: badges, interval bars, figure cards, the filter bar.

import { h } from './dom.js';
import * as fmt from './fmt.js';
import * as explain from './explain.js';

const VERDICTS = {
  zero: ['Zero mile', 'Below the expected standard'],
  first: ['First mile', 'Meets the expected standard'],
  second: ['Second mile', 'Goes beyond expectations'],
  insufficient_data: ['Too few visits', 'Too few visits for a verdict'],
};

/** A verdict, its rule in words on hover and on focus (and for screen readers). */
export function verdictBadge(verdict) {
  const [label, title] = VERDICTS[verdict] || [verdict, verdict];
  const rule = explain.verdictRule(verdict) || title;
  return h('span', { class: `badge v-${verdict}`, title: rule, tabindex: 0, 'aria-label': `${label}. ${rule}`, dataset: { rule } }, label);
}



/** A mile level of one visit (no rule: a visit's level is its score's). */
export function mileBadge(level) {
  const [label, title] = VERDICTS[level] || [level, level];
  return h('span', { class: `badge v-${level}`, title }, label);
}

/**
 * The mean (a tick) and its 95% interval (a bar) on a drawn 0–100 scale (gridlines at 25, 50
 * and 75). `max` is 1 for rates; `threshold` marks a verdict's boundary on the scale.
 */
export function ciBar(mean, ci, max = 100, threshold = null) {
  const bar = h('span', { class: 'cibar scaled', role: 'img' });
  const at = (v) => `${Math.max(0, Math.min(100, (v / max) * 100))}%`;
  const text = (v) => (max === 1 ? fmt.pct(v) : fmt.score(v));
  if (threshold !== null) {
    bar.append(h('span', { class: 'threshold', style: { left: at(threshold) } }));
  }
  if (mean === null || mean === undefined || !ci) {
    bar.setAttribute('aria-label', 'no scored visits');
    return bar;
  }
  const interval = max === 1 ? fmt.rateInterval(ci) : fmt.scoreInterval(ci);
  const mark = threshold === null ? '' : `; the verdict's line at ${text(threshold)}`;
  bar.setAttribute('aria-label', `${text(mean)}, 95% interval ${interval}${mark}`);
  bar.title = `${max === 1 ? explain.rateInterval(ci) : explain.meanInterval(ci)}${mark}`;
  bar.append(
    h('span', { class: 'ci', style: { left: at(ci[0]), width: `calc(${at(ci[1])} - ${at(ci[0])})` } }),
    h('span', { class: 'mean', style: { left: at(mean) } }));
  return bar;
}

/** The scale of the bars in a column's header: 0, 50, 100 (or 0%, 50%, 100%). */
export function scaleHeader(label, rate = false) {
  return h('span', { class: 'scale-head' }, label,
    h('span', { class: 'scale-ticks', 'aria-hidden': 'true' },
      h('span', {}, rate ? '0%' : '0'), h('span', {}, rate ? '50%' : '50'), h('span', {}, rate ? '100%' : '100')));
}

/** A plain 0–100 bar, for a mean without an interval. */
export function meter(value, label) {
  const bar = h('span', { class: 'cibar meter', role: 'img', 'aria-label': `${label || 'mean'} ${fmt.score(value)}` });
  if (value !== null && value !== undefined) bar.append(h('span', { class: 'fill', style: { width: `${Math.max(0, Math.min(100, value))}%` } }));
  return bar;
}

/** A report's flags (short visit, far check-in…), each explained on hover. */
export function flagList(flags) {
  return flags.length
    ? h('ul', { class: 'flags' }, flags.map((f) => h('li', { class: 'flag', title: f.message }, f.code.replaceAll('_', ' '))))
    : null;
}

export function thinMark(figures) {
  return figures.low_sample
    ? h('span', { class: 'thin', title: 'Few visits: the interval is wide and the verdict is withheld or tentative' }, 'thin sample')
    : null;
}

/**
 * The cards of a Figures object: visits, mean with interval, the mile mix, critical failures.
 * `changes` (a MeasureChanges against the previous period) adds each card's change in words.
 */
export function figureCards(f, changes = null) {
  const moved = (name, kind) => {
    if (!changes || changes.low_sample || !changes[name]) return null;
    const m = changes[name];
    const bad = explain.worse(m, name);
    const good = m.significant && !bad;
    return h('div', { class: `change${bad ? ' worse' : ''}${good ? ' better' : ''}`, dataset: { change: name } },
      `${explain.change(m, kind)} against the previous period`);
  };
  const card = (label, value, detail, id, extra = null) => h('div', { class: 'card', dataset: id ? { figure: id } : {} },
    h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), detail ? h('div', { class: 'detail' }, detail) : null, extra);
  return h('div', { class: 'cards' },
    card('Visits', fmt.int(f.visits), f.low_sample ? 'thin sample' : `${fmt.int(f.scored_visits)} scored`, 'visits'),
    card('Mean score (0–100)', fmt.score(f.mean_score), `95% CI ${fmt.scoreInterval(f.mean_ci95)}`, 'mean',
      [h('div', { class: 'detail explain' }, explain.meanInterval(f.mean_ci95)), moved('mean_score', 'points')]),
    card('Verdict', verdictBadge(f.verdict), null, 'verdict', h('div', { class: 'detail explain' }, explain.verdictRule(f.verdict))),
    card('Second mile', fmt.pct(f.second_mile.rate), `${fmt.int(f.second_mile.count)} visits · ${fmt.rateInterval(f.second_mile.ci95)}`, 'second', moved('second_mile_rate', 'rate')),
    card('First mile', fmt.pct(f.first_mile.rate), `${fmt.int(f.first_mile.count)} visits · ${fmt.rateInterval(f.first_mile.ci95)}`, 'first'),
    card('Zero mile', fmt.pct(f.zero_mile.rate), `${fmt.int(f.zero_mile.count)} visits · ${fmt.rateInterval(f.zero_mile.ci95)}`, 'zero', moved('zero_mile_rate', 'rate')),
    card('Critical failures', fmt.pct(f.critical_failures.rate), `${fmt.int(f.critical_failures.count)} visits`, 'critical', moved('critical_failure_rate', 'rate')));
}

/** The range a page shows: explicit from/to, or the last `period` days (90 by default). */
export function rangeOf(params) {
  const from = params.get('from');
  const to = params.get('to');
  if (from && to) return { from, to, period: 'custom' };
  const period = ['30', '90', '182', '365'].includes(params.get('period')) ? params.get('period') : '90';
  const today = fmt.isoDay(new Date());
  return { from: fmt.addDays(today, -(Number(period) - 1)), to: today, period };
}

/**
 * A filter bar. `fields` are {name, label, options: [[value, text]]} (a select) or
 * {name, label, type: 'text'|'date'}; submitting calls `apply(values)`.
 */
export function filterBar(params, fields, apply) {
  const range = rangeOf(params);
  const period = h('select', { id: 'f-period', name: 'period' },
    [['30', 'Last 30 days'], ['90', 'Last 90 days'], ['182', 'Last 6 months'], ['365', 'Last 12 months'], ['custom', 'Dates…']]
      .map(([v, t]) => h('option', { value: v, selected: v === range.period }, t)));
  const from = h('input', { type: 'date', id: 'f-from', name: 'from', value: range.from });
  const to = h('input', { type: 'date', id: 'f-to', name: 'to', value: range.to });
  const dates = h('span', { class: 'dates' }, h('label', { for: 'f-from' }, 'From'), from, h('label', { for: 'f-to' }, 'to'), to);
  dates.hidden = range.period !== 'custom';
  period.addEventListener('change', () => { dates.hidden = period.value !== 'custom'; });
  const controls = fields.map((field) => {
    const id = `f-${field.name}`;
    const value = params.get(field.name) || '';
    const input = field.options
      ? h('select', { id, name: field.name }, [['', field.any || 'All']].concat(field.options)
        .map(([v, t]) => h('option', { value: v, selected: v === value }, t)))
      : h('input', { id, name: field.name, type: field.type || 'text', value, maxlength: field.maxlength || 100, list: field.list || null });
    return h('span', { class: 'field' }, h('label', { for: id }, field.label), input);
  });
  const form = h('form', { class: 'filters', role: 'search' },
    h('span', { class: 'field' }, h('label', { for: 'f-period' }, 'Period'), period), dates, controls,
    h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = {};
    for (const field of fields) values[field.name] = form.elements[field.name].value.trim();
    if (period.value === 'custom') {
      values.from = from.value;
      values.to = to.value;
    } else if (period.value !== '90') {
      values.period = period.value;
    }
    apply(values);
  });
  return form;
}

/** Query parameters for the aggregates from a page's parameters. */
export function aggregateQuery(params, names = []) {
  const { from, to } = rangeOf(params);
  const query = { from, to };
  for (const name of names) if (params.get(name)) query[name] = params.get(name);
  return query;
}

export function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

/** Wraps a wide table so it scrolls sideways on a phone instead of the page. */
export function scroller(table, label) {
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': label }, table);
}
