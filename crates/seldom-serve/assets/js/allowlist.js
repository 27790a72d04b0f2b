// allowlist.js: page 3, the allowlist. A table of entries with delete buttons
// and an add form; adding may resolve open alerts, and the count is reported
// back.

import { $, el } from './dom.js';
import { arr, fmtNum, fmtTime, num, obj, str } from './format.js';
import { api } from './api.js';
import { analystName, rememberAnalyst, showError } from './shell.js';
import { field, kindSelect } from './widgets.js';

export async function renderAllowlist(view, isCurrent) {
  const kind = kindSelect('al-kind', 'domain');
  const value = el('input', { id: 'al-value', type: 'text', class: 'mono', placeholder: 'example.com, 10.0.0.0/8, C:\\path\\tool.exe…', size: 30 });
  const reason = el('input', { id: 'al-reason', type: 'text', placeholder: 'why this is benign', size: 36 });
  const by = el('input', { id: 'al-by', type: 'text', value: analystName(), placeholder: 'your name', size: 14 });
  const result = el('p', { id: 'al-result', class: 'result', 'aria-live': 'polite' });
  const form = el('form', { id: 'al-form', class: 'panel', autocomplete: 'off' },
    el('h2', null, 'Add an entry'),
    el('div', { class: 'form-row' },
      field('Kind', kind), field('Value', value), field('Reason', reason), field('Analyst', by),
      el('button', { id: 'al-add', type: 'submit', class: 'primary' }, 'Add')),
    result);

  const tbody = el('tbody', null, el('tr', null, el('td', { colspan: 6, class: 'empty' }, 'Loading…')));
  const table = el('table', { id: 'allowlist-table', class: 'grid' },
    el('thead', null, el('tr', null, ['Kind', 'Value', 'Reason', 'Added', 'By', ''].map((h) => el('th', { scope: 'col' }, h)))),
    tbody);

  view.replaceChildren(el('h1', { class: 'page-title' }, 'Allowlist'), form, el('div', { class: 'table-wrap' }, table));

  async function load() {
    const data = obj(await api('GET', '/api/v1/allowlist'));
    if (!isCurrent()) return;
    const entries = arr(data.entries).map(obj);
    tbody.replaceChildren();
    if (!entries.length) tbody.appendChild(el('tr', null, el('td', { colspan: 6, class: 'empty' }, 'The allowlist is empty.')));
    for (const e of entries) {
      const del = el('button', { type: 'button', class: 'danger small al-delete', dataset: { entryId: str(e.id) }, 'aria-label': `Delete ${str(e.kind)} ${str(e.value)}` }, 'Delete');
      del.addEventListener('click', async () => {
        del.disabled = true;
        try {
          await api('DELETE', '/api/v1/allowlist/' + encodeURIComponent(str(e.id)));
          await load();
        } catch (err) {
          del.disabled = false;
          showError(err);
        }
      });
      tbody.appendChild(el('tr', { dataset: { entryId: str(e.id) } },
        el('td', null, el('span', { class: 'tag' }, str(e.kind))),
        el('td', { class: 'mono wrap' }, str(e.value)),
        el('td', { class: 'wrap' }, str(e.reason)),
        el('td', { class: 'nowrap' }, fmtTime(e.created_at)),
        el('td', null, str(e.created_by)),
        el('td', null, del)));
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.textContent = '';
    if (!value.value.trim()) { showError(new Error('The allowlist value is empty.')); return; }
    const name = by.value.trim();
    if (name) rememberAnalyst(name);
    const add = $('al-add');
    add.disabled = true;
    try {
      const res = obj(await api('POST', '/api/v1/allowlist', {
        kind: kind.value, value: value.value.trim(), reason: reason.value.trim(), by: name,
      }));
      if (!isCurrent()) return;
      result.textContent = `${fmtNum(num(res.resolved_alerts) ?? 0)} open alerts resolved`;
      value.value = '';
      reason.value = '';
      await load();
    } catch (err) {
      showError(err);
    } finally {
      add.disabled = false;
    }
  });

  await load();
}
