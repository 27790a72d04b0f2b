// triage.js: the triage panel of the alert detail page. The current triage,
// the status buttons (acknowledge, resolve, false positive, reopen) with a note
// and the analyst's name, and "Allowlist…", a form prefilled from the alert
// whose entry may resolve this very alert.

import { el } from './dom.js';
import { destinationKey, fmtNum, fmtTime, num, obj, statusLabel, str } from './format.js';
import { api } from './api.js';
import { analystName, rememberAnalyst, showError } from './shell.js';
import { dl, field, kindSelect, panel, statusBadge } from './widgets.js';

function triageSummary(triage) {
  const t = obj(triage);
  return el('div', { id: 'triage-current' },
    dl([
      ['Status', statusBadge(t.status)],
      ['By', str(t.by)],
      ['At', t.at ? fmtTime(t.at) : null],
      ['Note', str(t.note) ? el('span', { class: 'prose', id: 'triage-note' }, str(t.note)) : null],
      ['Reason', str(t.reason) ? el('span', { class: 'prose', id: 'triage-reason' }, str(t.reason)) : null],
    ]));
}

export function triagePanel(record, onUpdate) {
  const alert = obj(record.alert);
  const id = str(alert.id);
  const current = el('div', null, triageSummary(record.triage));
  const note = el('textarea', { id: 'note', rows: 3, placeholder: 'Note (optional): what you checked, what you found' });
  const by = el('input', { id: 'by', type: 'text', value: analystName(), placeholder: 'your name', autocomplete: 'off' });
  const saved = el('span', { id: 'triage-result', class: 'muted', 'aria-live': 'polite' });

  const actions = [
    ['ack', 'Acknowledge', 'acknowledged'],
    ['resolve', 'Resolve', 'resolved'],
    ['false-positive', 'False positive', 'false_positive'],
    ['reopen', 'Reopen', 'new'],
  ];
  const buttons = actions.map(([bid, label, status]) => {
    const b = el('button', { id: bid, type: 'button', dataset: { status } }, label);
    b.addEventListener('click', async () => {
      const name = by.value.trim();
      if (name) rememberAnalyst(name);
      const body = { status };
      if (note.value.trim()) body.note = note.value.trim();
      if (name) body.by = name;
      for (const x of buttons) x.disabled = true;
      saved.textContent = 'Saving…';
      try {
        const updated = obj(await api('PATCH', '/api/v1/alerts/' + encodeURIComponent(id), body));
        note.value = '';
        saved.textContent = `Saved: ${statusLabel(obj(updated.triage).status)}.`;
        onUpdate(updated);
      } catch (e) {
        saved.textContent = '';
        showError(e);
      } finally {
        for (const x of buttons) x.disabled = false;
      }
    });
    return b;
  });

  const allowForm = allowlistFromAlertForm(alert, by, onUpdate);
  const allowButton = el('button', { id: 'allowlist-this', type: 'button', 'aria-expanded': 'false' }, 'Allowlist…');
  allowButton.addEventListener('click', () => {
    allowForm.hidden = !allowForm.hidden;
    allowButton.setAttribute('aria-expanded', String(!allowForm.hidden));
    if (!allowForm.hidden) allowForm.querySelector('#ad-reason').focus();
  });

  const node = panel('Triage', 'triage',
    current,
    el('div', { class: 'triage-form' },
      field('Analyst', by),
      field('Note', note),
      el('div', { class: 'button-row' }, buttons, allowButton),
      saved),
    allowForm);
  return {
    node,
    update(rec) { current.replaceChildren(triageSummary(rec.triage)); },
  };
}

// "Allowlist…" on an alert: prefilled with the destination key, and a reason that
// names the alert so the entry can be traced back.
function allowlistFromAlertForm(alert, byInput, onUpdate) {
  const key = destinationKey(alert.destination);
  const kind = kindSelect('ad-kind', key && key.type === 'ip' ? 'ip' : 'domain');
  const value = el('input', { id: 'ad-value', type: 'text', value: key ? key.value : '', class: 'mono' });
  const reason = el('input', {
    id: 'ad-reason', type: 'text', size: 40,
    value: `Benign destination, seen in alert ${str(alert.id)} (${str(alert.variation)} on ${str(alert.host)})`,
  });
  const result = el('span', { id: 'ad-result', class: 'result', 'aria-live': 'polite' });
  const form = el('form', { id: 'allowlist-form', class: 'subform', hidden: true },
    el('h3', null, 'Add to allowlist'),
    el('div', { class: 'form-row' },
      field('Kind', kind), field('Value', value), field('Reason', reason),
      el('button', { id: 'ad-add', type: 'submit', class: 'primary' }, 'Add')),
    result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.textContent = '';
    if (!value.value.trim()) { showError(new Error('The allowlist value is empty.')); return; }
    const name = byInput.value.trim();
    if (name) rememberAnalyst(name);
    try {
      const res = obj(await api('POST', '/api/v1/allowlist', {
        kind: kind.value, value: value.value.trim(), reason: reason.value.trim(), by: name,
      }));
      result.textContent = `${fmtNum(num(res.resolved_alerts) ?? 0)} open alerts resolved`;
      // The allowlist may have resolved this very alert: show its new triage.
      const fresh = obj(await api('GET', '/api/v1/alerts/' + encodeURIComponent(str(alert.id))));
      onUpdate(fresh);
    } catch (err) {
      showError(err);
    }
  });
  return form;
}
