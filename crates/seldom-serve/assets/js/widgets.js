// widgets.js: small pieces several pages share, built with dom.js: severity and
// status badges, form fields and selects, panels, key-value lists. Badge colours
// come from a class picked from a fixed list, never from the API string itself.

import { el } from './dom.js';
import { str, statusLabel } from './format.js';

export const SEVERITIES = ['high', 'medium', 'low', 'informational'];
export const STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'];
const ALLOW_KINDS = ['domain', 'ip', 'cidr', 'image', 'host', 'variation'];

export function sevBadge(severity) {
  const s = str(severity);
  const cls = SEVERITIES.includes(s) ? s : 'unknown';
  return el('span', { class: `badge sev sev-${cls}` }, s || 'unknown');
}

export function statusBadge(status, id) {
  const s = str(status);
  const cls = STATUSES.includes(s) ? s.replace('_', '-') : 'unknown';
  return el('span', { class: `badge status st-${cls}`, id }, statusLabel(s));
}

export function selectOf(id, options, current, anyLabel) {
  const select = el('select', { id, name: id });
  select.appendChild(el('option', { value: '' }, anyLabel));
  for (const o of options) select.appendChild(el('option', { value: o }, statusLabel(o)));
  select.value = options.includes(current) ? current : '';
  return select;
}

export function kindSelect(id, current) {
  const select = el('select', { id, name: id }, ALLOW_KINDS.map((k) => el('option', { value: k }, k)));
  select.value = ALLOW_KINDS.includes(current) ? current : ALLOW_KINDS[0];
  return select;
}

export function field(labelText, input) {
  return el('label', { class: 'field' }, el('span', { class: 'field-label' }, labelText), input);
}

export function panel(title, id, ...children) {
  return el('section', { class: 'panel', id }, el('h2', null, title), children);
}

export function dl(rows) {
  const list = el('dl', { class: 'kv' });
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === '') continue;
    list.appendChild(el('dt', null, k));
    list.appendChild(el('dd', null, v));
  }
  return list;
}

export function textBlock(value) {
  const s = str(value);
  return s ? el('p', { class: 'prose' }, s) : el('p', { class: 'muted' }, 'Not provided.');
}
