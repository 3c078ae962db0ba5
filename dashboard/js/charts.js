// Charts drawn with uPlot (vendored). Each chart is created once its container has a width,
// follows the container's size, and keeps a data table beside it for screen readers.

import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h } from './dom.js';
import * as fmt from './fmt.js';

const COLOURS = {
  mean: '#0b5394',
  band: 'rgba(11, 83, 148, 0.16)',
  zero: '#b42318',
  first: '#8a6d1f',
  second: '#067647',
};

const dayOf = (iso) => Date.parse(`${iso}T00:00:00Z`) / 1000;
/** A chart's x value (seconds) as the local calendar date it stands for. */
const dayText = (seconds, style) => fmt.date(new Date(seconds * 1000).toISOString().slice(0, 10), style);
/** The x series: each period by its first day. */
const FROM = { label: 'From', value: (u, v) => (v === null ? '' : dayText(v)) };

/** Mounts a uPlot chart in a figure once it is laid out; `build(width)` answers the options. */
function chart(figure, build, data, label) {
  const holder = h('div', { class: 'chart', role: 'img', 'aria-label': label });
  figure.querySelector('figcaption').after(holder);
  let plot = null;
  const observer = new ResizeObserver((entries) => {
    const width = Math.floor(entries[0].contentRect.width);
    if (width <= 0) return;
    if (!plot) {
      plot = new uPlot(build(width), data, holder);
      figure.dataset.drawn = String(data[0].length);
    } else {
      plot.setSize({ width, height: plot.height });
    }
  });
  observer.observe(holder);
  return holder;
}

function axes(yLabel, yFormat, xLabel) {
  return [
    { stroke: '#344054', grid: { stroke: '#eaecf0' }, ticks: { stroke: '#d0d5dd' }, space: 56, label: xLabel, labelSize: 20,
      values: (u, splits) => splits.map((s) => dayText(s, 'short')) },
    { stroke: '#344054', grid: { stroke: '#eaecf0' }, ticks: { stroke: '#d0d5dd' }, label: yLabel, size: 56,
      values: (u, splits) => splits.map(yFormat) },
  ];
}

/**
 * The x range both charts of a page share: from a day before the first period to the end of
 * the last, so the trend and the mile mix line up.
 */
function xRange(x) {
  const step = x.length > 1 ? x[1] - x[0] : 7 * 86400;
  return () => (x.length ? [x[0] - 86400, x[x.length - 1] + step] : [0, 1]);
}

/** The x axis's name for a run of buckets: weeks or months, each by its first day. */
function periodLabel(buckets) {
  if (buckets.length > 1 && Date.parse(buckets[1].start) - Date.parse(buckets[0].start) > 20 * 86400000) return 'Month starting';
  return 'Week starting';
}

/**
 * The mean score per bucket with its 95% confidence band. A period with fewer visits than
 * `minVisits` is drawn as a hollow point without an interval: too few to say much.
 */
export function trendChart(buckets, title = 'Mean score (0–100) with its 95% confidence interval', minVisits = 5) {
  const x = buckets.map((b) => dayOf(b.start));
  const enough = buckets.map((b) => b.figures.visits >= minVisits);
  const mean = buckets.map((b) => b.figures.mean_score);
  const solid = mean.map((m, i) => (enough[i] ? m : null));
  const hollow = mean.map((m, i) => (enough[i] || m === null ? null : m));
  // A score cannot leave 0–100, so neither is its interval drawn beyond.
  const lo = buckets.map((b, i) => (enough[i] && b.figures.mean_ci95 ? Math.max(0, b.figures.mean_ci95[0]) : null));
  const hi = buckets.map((b, i) => (enough[i] && b.figures.mean_ci95 ? Math.min(100, b.figures.mean_ci95[1]) : null));
  const figure = h('figure', { class: 'chart-figure', id: 'trend-chart' },
    h('figcaption', {}, title),
    h('p', { class: 'legend-note' },
      h('span', { class: 'key solid', 'aria-hidden': 'true' }), ' mean, ',
      h('span', { class: 'key band', 'aria-hidden': 'true' }), ' its 95% interval, ',
      h('span', { class: 'key hollow', 'aria-hidden': 'true' }), ` fewer than ${fmt.int(minVisits)} visits (no interval)`),
    dataTable(['Period', 'Visits', 'Mean', '95% CI'], buckets.map((b) => [
      `${fmt.date(b.start)} – ${fmt.date(b.end)}`, fmt.int(b.figures.visits), fmt.score(b.figures.mean_score), fmt.scoreInterval(b.figures.mean_ci95)])));
  const dense = buckets.every((b, i) => lo[i] !== null && hi[i] !== null);
  // The score axis spans the band with some room, within 0–100, so a change is visible.
  const known = lo.concat(hi, mean).filter((v) => v !== null);
  const bottom = known.length ? Math.max(0, Math.floor((Math.min(...known) - 5) / 10) * 10) : 0;
  const top = known.length ? Math.min(100, Math.ceil((Math.max(...known) + 5) / 10) * 10) : 100;
  const none = () => null;
  chart(figure, (width) => ({
    width,
    height: 260,
    legend: { live: false },
    scales: { x: { time: true, range: xRange(x) }, y: { range: [bottom, top] } },
    axes: axes('Score (0–100)', (v) => fmt.score(v, 0), periodLabel(buckets)),
    series: [
      FROM,
      { label: 'Mean', stroke: COLOURS.mean, width: 2, points: { show: false }, spanGaps: true },
      { label: 'CI low', stroke: dense ? 'rgba(11, 83, 148, 0.35)' : 'transparent', width: 1, points: { show: false } },
      { label: 'CI high', stroke: dense ? 'rgba(11, 83, 148, 0.35)' : 'transparent', width: 1, points: { show: false } },
      { label: `${fmt.int(minVisits)}+ visits`, stroke: COLOURS.mean, fill: COLOURS.mean, paths: none, points: { show: true, size: 7, fill: COLOURS.mean } },
      { label: `Fewer than ${fmt.int(minVisits)} visits`, stroke: COLOURS.mean, paths: none, points: { show: true, size: 8, width: 2, fill: '#ffffff' } },
    ],
    // A continuous band where every period has an interval; otherwise each period's
    // interval as an error bar, so gaps and thin periods do not draw misleading shapes.
    bands: dense ? [{ series: [3, 2], fill: COLOURS.band }] : [],
    hooks: { draw: dense ? [] : [(u) => whiskers(u, x, lo, hi)] },
  }), [x, mean, lo, hi, solid, hollow], `${title}: ${buckets.length} periods`);
  return figure;
}

/** The share of zero-, first- and second-mile visits per bucket, stacked to 100%. */
export function mileMixChart(buckets) {
  const x = buckets.map((b) => dayOf(b.start));
  const rate = (b, key) => (b.figures.visits ? b.figures[key].rate * 100 : null);
  const zero = buckets.map((b) => rate(b, 'zero_mile'));
  const first = buckets.map((b) => rate(b, 'first_mile'));
  const second = buckets.map((b) => rate(b, 'second_mile'));
  // Stacked from the bottom: zero, then zero + first, then all three (100%).
  const zeroFirst = zero.map((z, i) => (z === null ? null : z + first[i]));
  const total = zeroFirst.map((zf, i) => (zf === null ? null : zf + second[i]));
  const own = { 1: second, 2: first, 3: zero };
  const figure = h('figure', { class: 'chart-figure', id: 'mix-chart' },
    h('figcaption', {}, 'Mile mix: share of visits in each mile'),
    dataTable(['Period', 'Zero mile', 'First mile', 'Second mile'], buckets.map((b) => [
      `${fmt.date(b.start)} – ${fmt.date(b.end)}`, fmt.pct(b.figures.zero_mile.rate), fmt.pct(b.figures.first_mile.rate), fmt.pct(b.figures.second_mile.rate)])));
  // Bars drawn tallest first, each over the previous, so the three read as one stacked bar.
  const bars = uPlot.paths.bars({ size: [0.7, 48], align: 1 });
  const value = (u, v, si, i) => (i === null || own[si][i] === null ? '' : fmt.pct(own[si][i] / 100));
  chart(figure, (width) => ({
    width,
    height: 220,
    legend: { live: false },
    scales: { x: { time: true, range: xRange(x) }, y: { range: [0, 100] } },
    axes: axes('% of visits', (v) => fmt.pct(v / 100), periodLabel(buckets)),
    series: [
      FROM,
      { label: 'Second mile', stroke: COLOURS.second, fill: 'rgba(6, 118, 71, 0.75)', width: 1, value, paths: bars },
      { label: 'First mile', stroke: COLOURS.first, fill: 'rgba(233, 196, 106, 0.95)', width: 1, value, paths: bars },
      { label: 'Zero mile', stroke: COLOURS.zero, fill: 'rgba(180, 35, 24, 0.85)', width: 1, value, paths: bars },
    ],
  }), [x, total, zeroFirst, zero], `Mile mix over ${buckets.length} periods`);
  return figure;
}

function whiskers(u, x, lo, hi) {
  const { ctx } = u;
  const ratio = window.devicePixelRatio || 1;
  ctx.save();
  const { left, top, width, height } = u.bbox;
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.strokeStyle = 'rgba(11, 83, 148, 0.6)';
  ctx.lineWidth = 1.5 * ratio;
  ctx.beginPath();
  for (let i = 0; i < x.length; i += 1) {
    if (lo[i] === null || hi[i] === null) continue;
    const cx = u.valToPos(x[i], 'x', true);
    const y0 = u.valToPos(lo[i], 'y', true);
    const y1 = u.valToPos(hi[i], 'y', true);
    const cap = 4 * ratio;
    ctx.moveTo(cx, y0);
    ctx.lineTo(cx, y1);
    ctx.moveTo(cx - cap, y0);
    ctx.lineTo(cx + cap, y0);
    ctx.moveTo(cx - cap, y1);
    ctx.lineTo(cx + cap, y1);
  }
  ctx.stroke();
  ctx.restore();
}

function dataTable(head, rows) {
  return h('details', { class: 'data' },
    h('summary', {}, 'Data'),
    h('table', {},
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}
