// The numbers put in words: what an interval says, whether a change is likely to be chance,
// and the rule that gave a location its verdict (the server's, read with the figures).

import * as fmt from './fmt.js';

// What the server applies unless a page has read its rule yet (its defaults).
let rule = { min_visits: 5, zero_mile_lower_bound: 0.1, second_mile_lower_bound: 0.5 };

/** Keeps the verdict rule an overview or summary answered with. */
export function setRule(r) {
  if (r) rule = r;
}

/** The verdict rule in words, for a badge of `verdict`. */
export function verdictRule(verdict) {
  const zero = fmt.pct(rule.zero_mile_lower_bound);
  const second = fmt.pct(rule.second_mile_lower_bound);
  switch (verdict) {
    case 'zero':
      return `Zero mile: even the low end of the zero-mile rate's 95% interval is ${zero} or more, so at least ${zero} of visits fall below standard.`;
    case 'second':
      return `Second mile: no visit fell below standard, and even the low end of the second-mile rate's 95% interval is ${second} or more.`;
    case 'first':
      return `First mile: the expected standard. Below-standard visits are not frequent enough to be sure they reach ${zero}, and beyond-expectation ones not enough to be sure they reach ${second} without a single zero-mile visit.`;
    case 'insufficient_data':
      return `Too few visits: a verdict needs at least ${fmt.int(rule.min_visits)} released visits in the range.`;
    default:
      return '';
  }
}

/** One sentence for a mean's 95% interval. */
export function meanInterval(ci) {
  if (!ci || ci.length !== 2) return 'Too few scored visits for an interval.';
  return `The true mean is very likely between ${fmt.score(ci[0], 0)} and ${fmt.score(ci[1], 0)}.`;
}

/** One sentence for a rate's 95% interval. */
export function rateInterval(ci) {
  if (!ci || ci.length !== 2) return 'Too few visits for an interval.';
  return `The true rate is very likely between ${fmt.pct(ci[0])} and ${fmt.pct(ci[1])}.`;
}

/**
 * A change in words: "down 6.2 points, unlikely to be chance". `kind` is 'points' (a mean
 * score) or 'rate' (a difference of proportions, said in percentage points).
 */
export function change(measure, kind = 'points') {
  if (!measure) return 'nothing to compare with';
  const d = measure.difference;
  const size = kind === 'rate' ? Math.abs(d) * 100 : Math.abs(d);
  const unit = kind === 'rate' ? 'percentage points' : 'points';
  const amount = `${fmt.score(size)} ${size === 1 ? unit.replace(/s$/, '') : unit}`;
  const way = d > 0 ? `up ${amount}` : d < 0 ? `down ${amount}` : 'unchanged';
  return `${way}, ${measure.significant ? 'unlikely to be chance' : 'could be chance'}`;
}

/** Whether a change is bad news for the store: a lower mean, more zero-mile visits… */
export function worse(measure, name) {
  if (!measure || !measure.significant) return false;
  const higherIsWorse = name === 'zero_mile_rate' || name === 'critical_failure_rate';
  return higherIsWorse ? measure.difference > 0 : measure.difference < 0;
}
