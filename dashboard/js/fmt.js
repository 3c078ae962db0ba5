// Numbers and dates in the browser's own locale.

const locale = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
const cache = new Map();
function nf(options) {
  const key = JSON.stringify(options);
  if (!cache.has(key)) cache.set(key, new Intl.NumberFormat(locale, options));
  return cache.get(key);
}

export const DASH = '–';

/** A score out of 100, one decimal. */
export function score(v, digits = 1) {
  return v === null || v === undefined ? DASH : nf({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
}

export function int(v) {
  return v === null || v === undefined ? DASH : nf({ maximumFractionDigits: 0 }).format(v);
}

/** A rate in [0, 1] as a percentage. */
export function pct(rate, digits = 0) {
  return rate === null || rate === undefined ? DASH
    : nf({ style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(rate);
}

/** A confidence interval of scores, "95% CI 78.3–79.6". */
export function scoreInterval(ci) {
  return ci && ci.length === 2 ? `${score(ci[0])}–${score(ci[1])}` : DASH;
}

export function rateInterval(ci) {
  return ci && ci.length === 2 ? `${pct(ci[0])}–${pct(ci[1])}` : DASH;
}

/** A local calendar date (YYYY-MM-DD) shown as written in the locale. */
export function date(iso, style = 'medium') {
  if (!iso) return DASH;
  const d = new Date(`${iso}T00:00:00Z`);
  return new Intl.DateTimeFormat(locale, { dateStyle: style, timeZone: 'UTC' }).format(d);
}

export function dateTime(iso) {
  if (!iso) return DASH;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** Days between a timestamp and now, as "3 days ago". */
export function age(iso) {
  const days = Math.floor((Date.now() - new Date(iso).getTime()) / 86400000);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (days >= 1) return rtf.format(-days, 'day');
  const hours = Math.floor((Date.now() - new Date(iso).getTime()) / 3600000);
  return rtf.format(-hours, 'hour');
}

/** YYYY-MM-DD of a Date, in UTC. */
export function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

export function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return isoDay(d);
}

/** A file's size: bytes, KB or MB. */
export function bytes(n) {
  if (n < 1024) return `${int(n)} bytes`;
  if (n < 1024 * 1024) return `${score(n / 1024, 0)} KB`;
  return `${score(n / (1024 * 1024), 1)} MB`;
}
