// chart.js: the prevalence timeline of the alert detail page, one bar per day of
// the baseline window: how many hosts talked to the destination that day, the
// alert's day marked, the rare threshold as a dashed line. Inline SVG built node
// by node through dom.js (the tooltips are SVG <title> elements, text only).

import { svg } from './dom.js';
import { arr, num, obj, str } from './format.js';

/** A small bar sparkline of daily counts (oldest first), with its total as the tooltip. */
export function sparkline(counts, label) {
  const values = arr(counts).map((v) => num(v) || 0);
  const W = 84, H = 18, n = Math.max(1, values.length);
  const max = Math.max(1, ...values);
  const bar = W / n;
  const root = svg('svg', { class: 'sparkline', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': str(label) },
    svg('title', null, str(label)));
  values.forEach((v, i) => {
    const h = v === 0 ? 0 : Math.max(1, (v / max) * (H - 1));
    root.appendChild(svg('rect', { x: (i * bar + 0.5).toFixed(1), y: (H - h).toFixed(1), width: Math.max(1, bar - 1).toFixed(1), height: h.toFixed(1) }));
  });
  return root;
}

/** A beacon's contacts on one time line, a tick each, first and last labelled. */
export function contactTimeline(times, id) {
  const ms = arr(times).map((t) => Date.parse(str(t))).filter((t) => Number.isFinite(t));
  const W = 420, H = 34, L = 6, R = 6;
  const root = svg('svg', { id: id || null, class: 'timeline', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `${ms.length} contacts` }, svg('title', null, `${ms.length} contacts`));
  if (!ms.length) return root;
  const first = Math.min(...ms), last = Math.max(...ms), span = Math.max(1, last - first);
  root.appendChild(svg('line', { x1: L, x2: W - R, y1: 12, y2: 12, class: 'axis' }));
  for (const t of ms) {
    const x = (L + ((t - first) / span) * (W - L - R)).toFixed(1);
    root.appendChild(svg('line', { x1: x, x2: x, y1: 4, y2: 20, class: 'tick' }));
  }
  root.appendChild(svg('text', { x: L, y: 32, class: 'label' }, new Date(first).toISOString().slice(11, 19)));
  root.appendChild(svg('text', { x: W - R, y: 32, class: 'label', 'text-anchor': 'end' }, new Date(last).toISOString().slice(11, 19) + ' UTC'));
  return root;
}

export function prevalenceChart(destInfo, alert) {
  const prevalence = obj(alert.prevalence);
  const threshold = num(prevalence.rare_threshold);
  const windowDays = Math.min(400, Math.max(1, num(destInfo.window_days) ?? num(prevalence.window_days) ?? 30));
  const DAY = 86400000;
  const dayOf = (s) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(str(s));
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : null;
  };

  const counts = new Map();
  for (const entry of arr(destInfo.daily).map(obj)) {
    const day = dayOf(entry.day);
    if (day !== null) counts.set(day, (counts.get(day) || 0) + (num(entry.hosts) || 0));
  }
  // The window ends on the later of the last recorded day and the alert's day.
  const alertDay = dayOf(alert.last_seen) ?? dayOf(alert.first_seen);
  const known = [...counts.keys()];
  let end = Math.max(...known, alertDay ?? -Infinity);
  if (!Number.isFinite(end)) end = dayOf(new Date().toISOString());
  let start = end - (windowDays - 1) * DAY;
  if (known.length) start = Math.max(end - 399 * DAY, Math.min(start, ...known));
  const days = [];
  for (let t = start; t <= end; t += DAY) days.push(t);

  const W = 640, H = 200;
  const M = { left: 40, right: 12, top: 14, bottom: 30 };
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const maxCount = Math.max(1, threshold ?? 0, ...days.map((d) => counts.get(d) || 0));
  const yMax = maxCount <= 5 ? maxCount : Math.ceil(maxCount / 5) * 5;
  const y = (v) => M.top + plotH - (v / yMax) * plotH;
  const slot = plotW / days.length;
  const barW = Math.max(1, slot * 0.8);
  const iso = (t) => new Date(t).toISOString().slice(0, 10);

  const chart = svg('svg', {
    id: 'prevalence-chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `Hosts per day contacting this destination over ${days.length} days`,
  });
  chart.appendChild(svg('title', null, 'Hosts per day contacting this destination'));

  // Y axis: gridlines and labels at 0, half and max.
  const ticks = [...new Set([0, Math.round(yMax / 2), yMax])];
  for (const v of ticks) {
    chart.appendChild(svg('line', { class: 'gridline', x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
    chart.appendChild(svg('text', { class: 'axis-label', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  chart.appendChild(svg('text', { class: 'axis-title', x: 10, y: M.top + plotH / 2, transform: `rotate(-90 10 ${M.top + plotH / 2})`, 'text-anchor': 'middle' }, 'hosts'));

  // Bars, each with a full-height hover target so empty days have a tooltip too.
  days.forEach((day, i) => {
    const count = counts.get(day) || 0;
    const x = M.left + i * slot;
    const group = svg('g', { class: 'day' },
      svg('title', null, `${iso(day)}: ${count} host${count === 1 ? '' : 's'}${day === alertDay ? ' (alert day)' : ''}`),
      svg('rect', { class: 'hit', x, y: M.top, width: slot, height: plotH }));
    if (count > 0) {
      const top = y(count);
      group.appendChild(svg('rect', { class: 'bar' + (day === alertDay ? ' alert-day' : ''), x: x + (slot - barW) / 2, y: top, width: barW, height: Math.max(1, M.top + plotH - top) }));
    }
    if (day === alertDay) {
      group.appendChild(svg('path', { class: 'alert-marker', d: `M${x + slot / 2} ${M.top + plotH + 2} l-4 7 h8 z` }));
    }
    chart.appendChild(group);
  });

  // Rare threshold: fewer hosts than this in the window makes a destination rare.
  if (threshold !== null) {
    const ty = y(threshold);
    chart.appendChild(svg('g', { class: 'threshold' },
      svg('title', null, `rare threshold: fewer than ${threshold} hosts in the window`),
      svg('line', { x1: M.left, x2: W - M.right, y1: ty, y2: ty }),
      svg('text', { class: 'threshold-label', x: W - M.right - 2, y: ty - 4, 'text-anchor': 'end' }, `rare < ${threshold}`)));
  }

  // X axis: baseline and first / middle / last dates.
  chart.appendChild(svg('line', { class: 'axis', x1: M.left, x2: W - M.right, y1: M.top + plotH, y2: M.top + plotH }));
  const labelIdx = [...new Set([0, Math.floor((days.length - 1) / 2), days.length - 1])];
  for (const i of labelIdx) {
    const anchor = i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle';
    const x = i === 0 ? M.left : i === days.length - 1 ? W - M.right : M.left + (i + 0.5) * slot;
    chart.appendChild(svg('text', { class: 'axis-label', x, y: H - 8, 'text-anchor': anchor }, iso(days[i])));
  }
  if (!counts.size) {
    chart.appendChild(svg('text', { class: 'axis-label', x: M.left + plotW / 2, y: M.top + plotH / 2, 'text-anchor': 'middle' }, 'no connections recorded in the window'));
  }
  return chart;
}
