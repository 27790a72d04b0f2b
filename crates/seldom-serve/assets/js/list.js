// list.js: page 1, the alert list. Filters, sort and offset come from the hash
// query (see nav.js); the filter bar, the sortable headers and the pager write a
// new hash, and the hashchange draws the list again. Rows open the alert.

import { $, el } from './dom.js';
import { arr, baseName, destinationLabel, fmtNum, fmtTime, num, obj, str } from './format.js';
import { api } from './api.js';
import { KEPT_PARAMS, alertHref, listHash, listParams, navigate } from './nav.js';
import { SEVERITIES, STATUSES, field, selectOf, sevBadge, statusBadge } from './widgets.js';

const PAGE_SIZE = 50;
const COLUMNS = [
  { label: 'Time', sort: 'time' },
  { label: 'Severity', sort: 'severity' },
  { label: 'Variation' },
  { label: 'Host' },
  { label: 'Process' },
  { label: 'Destination' },
  { label: 'Status' },
];

// <input type="datetime-local"> has no zone; the UI reads and writes it as UTC
// so it matches the times shown in the table.
function localInputToRfc3339(value) {
  if (!value) return '';
  const withSeconds = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? value + ':00' : value;
  return withSeconds + 'Z';
}
function rfc3339ToLocalInput(value) {
  const d = new Date(value || '');
  if (!value || Number.isNaN(d.getTime())) return '';
  return d.toISOString().slice(0, 16);  // minute precision, as the input shows
}

function buildFilterBar(params) {
  const form = el('form', { class: 'filters', id: 'filters', autocomplete: 'off', novalidate: true },
    field('Severity', selectOf('f-severity', SEVERITIES, params.severity, 'any')),
    field('Status', selectOf('f-status', STATUSES, params.status, 'any')),
    field('Variation', el('input', { id: 'f-variation', type: 'text', value: params.variation || '', placeholder: 'e.g. msbuild', size: 10 })),
    field('Host', el('input', { id: 'f-host', type: 'text', value: params.host || '', placeholder: 'host name', size: 10 })),
    field('Search', el('input', { id: 'f-q', type: 'search', value: params.q || '', placeholder: 'command line, domain…', size: 15 })),
    field('From (UTC)', el('input', { id: 'f-from', type: 'datetime-local', value: rfc3339ToLocalInput(params.from) })),
    field('To (UTC)', el('input', { id: 'f-to', type: 'datetime-local', value: rfc3339ToLocalInput(params.to) })),
    el('div', { class: 'filter-buttons' },
      el('button', { id: 'f-apply', type: 'submit', class: 'primary' }, 'Apply'),
      el('button', { id: 'f-reset', type: 'button' }, 'Reset')));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const kept = {};
    for (const key of KEPT_PARAMS) if (params[key]) kept[key] = params[key];
    navigate(listHash({
      ...kept,
      severity: $('f-severity').value,
      status: $('f-status').value,
      variation: $('f-variation').value.trim(),
      host: $('f-host').value.trim(),
      q: $('f-q').value.trim(),
      from: localInputToRfc3339($('f-from').value),
      to: localInputToRfc3339($('f-to').value),
      sort: params.sort,
      offset: 0,
    }));
  });
  form.querySelector('#f-reset').addEventListener('click', () => navigate('#/alerts'));
  return form;
}

function sortHeader(col, params) {
  if (!col.sort) return el('th', { scope: 'col' }, col.label);
  const current = params.sort || '-time';
  const active = current.replace(/^-/, '') === col.sort;
  const descending = current.startsWith('-');
  const th = el('th', { scope: 'col', class: 'sortable' + (active ? ' sorted' : '') });
  if (active) th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
  const button = el('button', { type: 'button', class: 'sort-button', dataset: { sort: col.sort } },
    col.label, el('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, active ? (descending ? ' ▼' : ' ▲') : ' ↕'));
  button.addEventListener('click', () => {
    // First click on a column sorts newest / most severe first; a second click flips it.
    const next = active ? (descending ? col.sort : '-' + col.sort) : '-' + col.sort;
    navigate(listHash(Object.assign({}, params, { sort: next, offset: 0 })));
  });
  th.appendChild(button);
  return th;
}

export function alertRow(record) {
  const a = obj(record.alert);
  const t = obj(record.triage);
  const p = obj(a.process);
  const d = obj(a.destination);
  const id = str(a.id);
  const image = str(p.image);
  const destText = destinationLabel(d);
  const destTitle = [str(d.ip) && d.port !== undefined && d.port !== null ? `${str(d.ip)}:${str(d.port)}` : str(d.ip), str(d.protocol)]
    .filter(Boolean).join(' ');

  const tr = el('tr', { class: 'row-link', dataset: { alertId: id } },
    el('td', { class: 'nowrap' }, el('a', { href: alertHref(id), title: str(a.first_seen) }, fmtTime(a.first_seen))),
    el('td', null, sevBadge(a.severity)),
    el('td', null, str(a.variation)),
    el('td', { class: 'mono' }, str(a.host)),
    el('td', { class: 'mono', title: image || null }, baseName(image) || '—'),
    el('td', { class: 'mono wrap', title: destTitle || null }, destText || '—'),
    el('td', null, statusBadge(t.status)));
  tr.addEventListener('click', (e) => {
    // The whole row opens the alert, except when the analyst is selecting text or clicked the link itself.
    if (e.target.closest('a')) return;
    const sel = window.getSelection && window.getSelection();
    if (sel && sel.toString()) return;
    location.hash = alertHref(id);
  });
  return tr;
}

export async function renderAlertList(view, query, isCurrent) {
  const params = listParams(query);
  const offset = Math.max(0, parseInt(params.offset || '0', 10) || 0);

  const apiQuery = new URLSearchParams();
  for (const key of ['from', 'to', 'severity', 'variation', 'host', 'status', 'q', 'sort', ...KEPT_PARAMS]) {
    if (params[key]) apiQuery.set(key, params[key]);
  }
  if (!params.sort) apiQuery.set('sort', '-time');
  apiQuery.set('limit', String(PAGE_SIZE));
  apiQuery.set('offset', String(offset));

  const filterBar = buildFilterBar(params);
  const table = el('table', { id: 'alerts-table', class: 'grid' },
    el('thead', null, el('tr', null, COLUMNS.map((c) => sortHeader(c, params)))));
  const tbody = el('tbody');
  table.appendChild(tbody);
  const info = el('span', { id: 'page-info', class: 'page-info' }, 'Loading…');
  const prev = el('button', { id: 'page-prev', type: 'button', disabled: true }, '‹ Prev');
  const next = el('button', { id: 'page-next', type: 'button', disabled: true }, 'Next ›');
  const pager = el('div', { class: 'pager' }, prev, info, next);

  const kept = KEPT_PARAMS.filter((k) => params[k]).map((k) => `${k.replace('_', ' ')} ${params[k]}`);
  const scope = kept.length
    ? el('p', { id: 'list-scope', class: 'muted' }, `Only alerts with ${kept.join(', ')}. `,
      el('a', { href: '#/alerts' }, 'Show all'))
    : null;
  view.replaceChildren(el('h1', { class: 'page-title' }, 'Alerts'), scope, filterBar, el('div', { class: 'table-wrap' }, table), pager);

  const data = obj(await api('GET', '/api/v1/alerts?' + apiQuery.toString()));
  if (!isCurrent()) return;
  const records = arr(data.alerts);
  const total = num(data.total) ?? records.length;

  if (records.length === 0) {
    tbody.appendChild(el('tr', null, el('td', { colspan: COLUMNS.length, class: 'empty' }, 'No alerts match these filters.')));
  }
  for (const r of records) tbody.appendChild(alertRow(obj(r)));

  info.textContent = records.length
    ? `${fmtNum(offset + 1)}–${fmtNum(offset + records.length)} of ${fmtNum(total)}`
    : `0 of ${fmtNum(total)}`;
  prev.disabled = offset === 0;
  next.disabled = offset + records.length >= total || records.length === 0;
  prev.addEventListener('click', () => navigate(listHash(Object.assign({}, params, { offset: Math.max(0, offset - PAGE_SIZE) }))));
  next.addEventListener('click', () => navigate(listHash(Object.assign({}, params, { offset: offset + PAGE_SIZE }))));
}
