// incidents.js: the incidents list (#/incidents) and one incident
// (#/incidents/ID). An incident is the alerts that share a destination within
// the incident window, with every host it reached: those whose own contact
// alerted, and the spread (hosts that contacted it once it was no longer rare).

import { el } from './dom.js';
import { arr, fmtNum, fmtTime, num, obj, str } from './format.js';
import { api } from './api.js';
import { incidentHref, listHash } from './nav.js';
import { dl, panel, sevBadge } from './widgets.js';

/** One row of an incidents table (the overview uses it too). */
export function incidentRow(incident) {
  const i = obj(incident);
  const spread = arr(i.spread).map(str);
  return el('tr', { class: 'row-link', dataset: { incidentId: str(i.id) } },
    el('td', { class: 'nowrap' }, el('a', { href: incidentHref(i.id) }, fmtTime(i.first_seen))),
    el('td', null, sevBadge(i.severity)),
    el('td', { class: 'mono wrap' }, str(i.destination)),
    el('td', { class: 'num' }, fmtNum(arr(i.hosts).length)),
    el('td', { class: 'mono wrap' }, spread.length ? spread.join(', ') : '—'),
    el('td', null, arr(i.variations).map(str).join(', ')),
    el('td', null, i.beacon ? el('span', { class: 'tag beacon' }, 'beacon') : ''),
    el('td', { class: 'num' }, `${fmtNum(num(i.open_alerts) || 0)} / ${fmtNum(arr(i.alerts).length)}`));
}

export function incidentTable(id, incidents, empty) {
  const heads = ['First seen', 'Severity', 'Destination', 'Hosts', 'Spread to', 'Variations', '', 'Open / alerts'];
  const tbody = el('tbody');
  const rows = arr(incidents);
  if (!rows.length) tbody.appendChild(el('tr', null, el('td', { colspan: heads.length, class: 'empty' }, empty)));
  for (const incident of rows) {
    const tr = incidentRow(incident);
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a')) return;
      location.hash = incidentHref(obj(incident).id);
    });
    tbody.appendChild(tr);
  }
  return el('div', { class: 'table-wrap' },
    el('table', { id, class: 'grid' }, el('thead', null, el('tr', null, heads.map((h) => el('th', { scope: 'col' }, h)))), tbody));
}

export async function renderIncidents(view, isCurrent) {
  view.replaceChildren(el('h1', { class: 'page-title' }, 'Incidents'), el('p', { class: 'muted' }, 'Loading…'));
  const page = obj(await api('GET', '/api/v1/incidents?limit=200'));
  if (!isCurrent()) return;
  view.replaceChildren(
    el('h1', { class: 'page-title' }, 'Incidents'),
    el('p', { class: 'muted' }, `${fmtNum(num(page.total) || 0)} incidents, the most severe, widest and latest first.`),
    incidentTable('incidents-table', page.incidents, 'No incidents.'));
}

export async function renderIncident(view, id, isCurrent) {
  const incident = obj(await api('GET', '/api/v1/incidents/' + encodeURIComponent(id)));
  if (!isCurrent()) return;
  const alerted = arr(incident.alerted_hosts).map(str);
  const hosts = el('ul', { id: 'incident-hosts', class: 'host-list' },
    arr(incident.hosts).map(str).map((h) => el('li', { class: alerted.includes(h) ? 'alerted' : 'spread' },
      el('span', { class: 'mono' }, h), ' ',
      el('span', { class: 'tag' }, alerted.includes(h) ? 'alerted' : 'spread'))));
  view.replaceChildren(
    el('p', null, el('a', { href: '#/incidents' }, '‹ Incidents')),
    el('h1', { class: 'page-title' }, 'Incident ', el('span', { class: 'mono' }, str(incident.id))),
    panel('What', 'incident-what', dl([
      ['Destination', el('span', { class: 'mono' }, str(incident.destination))],
      ['Severity', sevBadge(incident.severity)],
      ['First seen', fmtTime(incident.first_seen)],
      ['Last seen', fmtTime(incident.last_seen)],
      ['Variations', arr(incident.variations).map(str).join(', ')],
      ['Beacon', incident.beacon ? 'one of its alerts contacts the destination on a timer' : null],
    ])),
    panel(`Hosts (${arr(incident.hosts).length}: ${alerted.length} alerted, ${arr(incident.spread).length} spread)`, 'incident-hosts-panel', hosts),
    panel('Alerts', 'incident-alerts', el('p', null,
      el('a', { id: 'incident-alerts-link', href: listHash({ incident: str(incident.id) }) }, `Open its ${arr(incident.alerts).length} alerts`))));
}
