// overview.js: the page the UI opens on (#/overview): what needs a human.
// Incidents that reached more than one host, then every alert above
// Informational, then the Informational alerts grouped by process image or
// registered domain (a count, the hosts, a daily sparkline), each group opened
// on demand as the alert list filtered to it. An organization's hundreds of
// Informational browser alerts are a few rows here, not the first page.

import { el } from './dom.js';
import { arr, fmtNum, num, obj, str } from './format.js';
import { api } from './api.js';
import { listHash, navigate } from './nav.js';
import { panel } from './widgets.js';
import { sparkline } from './chart.js';
import { alertRow } from './list.js';
import { incidentTable } from './incidents.js';

function alertsTable(records) {
  const heads = ['Time', 'Severity', 'Variation', 'Host', 'Process', 'Destination', 'Status'];
  const tbody = el('tbody');
  if (!records.length) tbody.appendChild(el('tr', null, el('td', { colspan: heads.length, class: 'empty' }, 'None above Informational.')));
  for (const r of records) tbody.appendChild(alertRow(obj(r)));
  return el('div', { class: 'table-wrap' },
    el('table', { id: 'overview-alerts', class: 'grid' }, el('thead', null, el('tr', null, heads.map((h) => el('th', { scope: 'col' }, h)))), tbody));
}

function groupTable(by, groups) {
  const filter = by === 'image' ? 'image' : 'domain';
  const tbody = el('tbody');
  if (!groups.length) tbody.appendChild(el('tr', null, el('td', { colspan: 5, class: 'empty' }, 'No Informational alerts.')));
  for (const g0 of groups) {
    const g = obj(g0);
    const key = str(g.key);
    const href = listHash({ severity: 'informational', [filter]: key });
    // The alerts of no known image or domain have no filter to open them by.
    const tr = el('tr', { class: key ? 'row-link' : '', dataset: { group: key } },
      el('td', { class: 'mono wrap' }, key ? el('a', { href }, key) : '(unknown)'),
      el('td', { class: 'num' }, fmtNum(num(g.alerts) || 0)),
      el('td', { class: 'num' }, fmtNum(num(g.open) || 0)),
      el('td', { class: 'num' }, fmtNum(num(g.hosts) || 0)),
      el('td', null, sparkline(g.daily, `${fmtNum(num(g.alerts) || 0)} alerts, daily over the last ${arr(g.daily).length} days`)));
    if (key) tr.addEventListener('click', (e) => { if (!e.target.closest('a')) navigate(href); });
    tbody.appendChild(tr);
  }
  return el('table', { id: 'info-groups', class: 'grid', dataset: { by } },
    el('thead', null, el('tr', null, [by === 'image' ? 'Process' : 'Domain', 'Alerts', 'Open', 'Hosts', 'Daily'].map((h) => el('th', { scope: 'col' }, h)))),
    tbody);
}

async function groupsPanel(by, isCurrent) {
  const body = el('div', { id: 'info-groups-body' }, el('p', { class: 'muted' }, 'Loading…'));
  const toggle = (value, label) => {
    const b = el('button', { type: 'button', id: `group-by-${value}`, class: value === by ? 'primary' : '' }, label);
    b.addEventListener('click', () => navigate(`#/overview?group=${value}`));
    return b;
  };
  const section = panel('Informational, grouped', 'overview-info',
    el('div', { class: 'filter-buttons' }, toggle('image', 'By process'), toggle('domain', 'By domain')), body);
  const data = obj(await api('GET', `/api/v1/alert-groups?by=${by}&severity=informational&limit=30`));
  if (isCurrent()) body.replaceChildren(el('div', { class: 'table-wrap' }, groupTable(by, arr(data.groups))));
  return section;
}

export async function renderOverview(view, query, isCurrent) {
  const by = query.get('group') === 'domain' ? 'domain' : 'image';
  view.replaceChildren(el('h1', { class: 'page-title' }, 'Overview'), el('p', { class: 'muted' }, 'Loading…'));
  const [incidents, alerts] = await Promise.all([
    api('GET', '/api/v1/incidents?min_hosts=2&limit=20'),
    api('GET', '/api/v1/alerts?min_severity=low&sort=-severity&limit=50'),
  ]);
  if (!isCurrent()) return;
  const alertPage = obj(alerts);
  const incidentPage = obj(incidents);
  const groups = await groupsPanel(by, isCurrent);
  if (!isCurrent()) return;
  view.replaceChildren(
    el('h1', { class: 'page-title' }, 'Overview'),
    panel(`Incidents on more than one host (${fmtNum(num(incidentPage.total) || 0)})`, 'overview-incidents',
      incidentTable('overview-incidents-table', incidentPage.incidents, 'No incident reached more than one host.'),
      el('p', null, el('a', { href: '#/incidents' }, 'All incidents'))),
    panel(`Alerts above Informational (${fmtNum(num(alertPage.total) || 0)})`, 'overview-above',
      alertsTable(arr(alertPage.alerts)),
      el('p', null, el('a', { href: listHash({ min_severity: 'low' }) }, 'All of them in the alert list'))),
    groups);
}
