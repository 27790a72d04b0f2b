// status.js: page 4, the service's status, refreshed every 5 s while the page
// is open (the timer is stopped on any route change). Activation shows how close
// each platform is to alerting: the baseline has to see activation_days days
// first.

import { el } from './dom.js';
import { arr, fmtDuration, fmtNum, num, obj, str, titleCase } from './format.js';
import { api } from './api.js';
import { clearError, every, loginShown, showError } from './shell.js';
import { dl, panel } from './widgets.js';

function countTable(id, data, keyLabel, valueLabel) {
  const entries = Object.entries(obj(data)).sort((a, b) => (num(b[1]) ?? 0) - (num(a[1]) ?? 0));
  if (!entries.length) return el('p', { class: 'muted', id }, 'None.');
  return el('table', { class: 'grid compact', id },
    el('thead', null, el('tr', null, el('th', null, keyLabel), el('th', { class: 'num' }, valueLabel))),
    el('tbody', null, entries.map(([k, v]) => el('tr', null, el('td', { class: 'mono' }, k), el('td', { class: 'num' }, fmtNum(v))))));
}

function activationList(items) {
  const list = el('ul', { class: 'plain activation', id: 'activation' });
  const rows = arr(items).map(obj);
  if (!rows.length) list.appendChild(el('li', { class: 'muted' }, 'No platform seen yet.'));
  for (const a of rows) {
    const platform = titleCase(a.platform) || 'Unknown';
    const seen = num(a.days_seen) ?? 0;
    const needed = num(a.activation_days) ?? 0;
    const active = a.active === true;
    const text = active
      ? `${platform}: active`
      : `${platform}: day ${fmtNum(Math.min(seen, needed || seen))} of ${fmtNum(needed)}`;
    const bar = el('progress', { max: Math.max(1, needed), value: active ? Math.max(1, needed) : Math.min(seen, needed) });
    bar.setAttribute('aria-label', text);
    list.appendChild(el('li', { class: active ? 'is-active' : 'is-learning', dataset: { platform: str(a.platform) } },
      el('span', { class: 'activation-text' }, text),
      bar,
      el('span', { class: 'muted small' }, active ? `${fmtNum(seen)} days seen; alerting` : 'learning the baseline, not alerting yet')));
  }
  return list;
}

function statusBody(s) {
  const depth = num(s.queue_depth);
  const capacity = num(s.queue_capacity);
  const queue = el('div', null,
    el('span', { id: 'queue-text' }, `${fmtNum(depth)} / ${fmtNum(capacity)}`),
    capacity ? el('progress', { id: 'queue-bar', max: capacity, value: Math.min(depth ?? 0, capacity) }) : null);

  return el('div', { class: 'status-grid' },
    panel('Service', 'status-service', dl([
      ['Version', el('span', { class: 'mono', id: 'status-version' }, str(s.version) || '—')],
      ['Uptime', fmtDuration(s.uptime_seconds)],
      ['Ingest rate', el('span', { id: 'status-rate' }, `${fmtNum(s.events_per_second, 1)} events/s`)],
      ['Queue', queue],
      ['Checkpoint age', el('span', { id: 'status-checkpoint' }, fmtDuration(s.checkpoint_age_seconds))],
      ['Baseline keys', el('span', { id: 'status-baseline' }, fmtNum(s.baseline_keys))],
    ])),
    panel('Activation', 'status-activation', activationList(s.activation)),
    panel('Events in, by format', 'status-events', countTable('events-in', s.events_in, 'format', 'events')),
    panel('Skipped, by reason', 'status-skipped', countTable('skipped', s.skipped, 'reason', 'records')),
    panel('Alerts by variation', 'status-alerts', countTable('alerts-by-variation', s.alerts_by_variation, 'variation', 'alerts')));
}

export async function renderStatus(view, isCurrent) {
  const body = el('div', { id: 'status-body' }, el('p', { class: 'muted' }, 'Loading…'));
  const updated = el('span', { id: 'status-updated', class: 'muted small' });
  view.replaceChildren(el('div', { class: 'title-row' }, el('h1', { class: 'page-title' }, 'Status'), updated), body);

  let busy = false;
  async function refresh() {
    if (busy || loginShown()) return;
    busy = true;
    try {
      const s = obj(await api('GET', '/api/v1/status'));
      if (!isCurrent()) return;
      body.replaceChildren(statusBody(s));
      updated.textContent = `updated ${new Date().toLocaleTimeString()} · refreshes every 5 s`;
      clearError();
    } finally {
      busy = false;
    }
  }
  every(5000, () => { refresh().catch(showError); });
  await refresh();
}
