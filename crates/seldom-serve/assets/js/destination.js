// destination.js: one destination (#/destinations/KEY): what the baseline knows
// of it (hosts per day over the window, the hosts, first seen), and the alerts
// on it, a beacon's contacts on a time line each. Reached from an alert's
// destination panel.

import { el } from './dom.js';
import { arr, fmtNum, fmtTime, num, obj, str } from './format.js';
import { api } from './api.js';
import { alertHref, listHash } from './nav.js';
import { dl, panel, sevBadge } from './widgets.js';
import { contactTimeline, prevalenceChart } from './chart.js';

export const destinationHref = (key) => '#/destinations/' + encodeURIComponent(str(key));

export async function renderDestination(view, key, isCurrent) {
  const [info0, page0] = await Promise.all([
    api('GET', '/api/v1/destinations/' + encodeURIComponent(key)),
    api('GET', `/api/v1/alerts?domain=${encodeURIComponent(key)}&sort=time&limit=200`),
  ]);
  if (!isCurrent()) return;
  const info = obj(info0);
  const alerts = arr(obj(page0).alerts).map((r) => obj(obj(r).alert));
  // The chart marks the latest alert's day and its threshold.
  const latest = alerts.length ? alerts[alerts.length - 1] : { prevalence: {} };
  const rows = el('ul', { class: 'plain', id: 'dest-page-alerts' });
  for (const a of alerts) {
    const beacon = obj(a.beacon);
    rows.appendChild(el('li', null,
      sevBadge(a.severity), ' ',
      el('a', { class: 'mono', href: alertHref(a.id) }, str(a.host)), ' ',
      el('span', { class: 'muted' }, `${fmtTime(a.first_seen)} · ${str(a.variation)} · ${fmtNum(num(a.count) || 1)} contacts`),
      num(beacon.contacts) !== null
        ? el('div', { class: 'beacon-row' }, el('span', { class: 'tag beacon' }, 'beacon'), ' ',
          `every ${fmtNum(num(beacon.median_interval_seconds) || 0)} s`, ' ', contactTimeline(beacon.contact_times))
        : null));
  }
  view.replaceChildren(
    el('h1', { class: 'page-title' }, 'Destination ', el('span', { class: 'mono', id: 'dest-page-key' }, str(info.key) || key)),
    panel(`Hosts over ${fmtNum(num(info.window_days) ?? 30)} days`, 'dest-page-baseline',
      el('div', { id: 'dest-page-chart' }, prevalenceChart(info, latest)),
      dl([
        ['Hosts in window', fmtNum(info.hosts_in_window)],
        ['Recent hosts', arr(info.recent_hosts).map(str).join(', ')],
        ['Connections', fmtNum(info.connections)],
        ['First seen', info.first_seen ? fmtTime(info.first_seen) : 'never before'],
      ])),
    panel(`Alerts on it (${alerts.length})`, 'dest-page-alerts-panel', rows,
      el('p', null, el('a', { href: listHash({ domain: key }) }, 'In the alert list'))));
}
