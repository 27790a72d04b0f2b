// seldom analyst UI: alert list, alert detail and triage, allowlist, service status.
//
// One file of vanilla ES2020, no framework and no build step, served by `seldom serve`
// under `Content-Security-Policy: default-src 'self'`: no inline script, no inline
// handler, no inline style attribute. Everything the API returns (command lines, host
// names, domains, users, notes, explanations...) is attacker-controlled, so this file
// never parses HTML: nodes are built with createElement / createElementNS, text goes
// through text nodes and values through attribute setters. Keep it that way.
'use strict';

(() => {
  const TOKEN_KEY = 'seldom-token';      // sessionStorage: the bearer token
  const ANALYST_KEY = 'seldom-analyst';  // localStorage: the analyst's name for triage
  const PAGE_SIZE = 50;
  const SEVERITIES = ['high', 'medium', 'low', 'informational'];
  const STATUSES = ['new', 'acknowledged', 'resolved', 'false_positive'];
  const ALLOW_KINDS = ['domain', 'ip', 'cidr', 'image', 'host', 'variation'];
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------------------
  // DOM helpers. These are the only way nodes get made, which is what keeps API
  // strings inert: children that are strings become text nodes, attributes go
  // through setAttribute, and `on*` attributes and non-local links are refused.
  // ---------------------------------------------------------------------------
  function setProps(node, props) {
    if (!props) return;
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (/^on/i.test(key)) throw new Error('refusing event-handler attribute ' + key);
      if (key === 'text') {
        node.textContent = String(value);
      } else if (key === 'dataset') {
        for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
      } else if (key === 'value' || key === 'checked' || key === 'disabled') {
        node[key] = value;
      } else if (key === 'href') {
        // Links are only ever built here, from local routes or a fixed ATT&CK prefix.
        const href = String(value);
        if (href.startsWith('#') || href.startsWith('https://attack.mitre.org/')) {
          node.setAttribute('href', href);
        }
      } else {
        node.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }

  function appendAll(node, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) appendAll(node, child);
      else if (child instanceof Node) node.appendChild(child);
      else node.appendChild(document.createTextNode(String(child)));
    }
    return node;
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    setProps(node, props);
    return appendAll(node, children);
  }

  function svg(tag, props, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setProps(node, props);
    return appendAll(node, children);
  }

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------
  // Defensive readers and formatters: any field of any record may be null,
  // missing or of an unexpected type, and the page must still render.
  // ---------------------------------------------------------------------------
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  const arr = (v) => (Array.isArray(v) ? v : []);
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

  function str(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    try { return JSON.stringify(v); } catch (_) { return String(v); }
  }

  function fmtNum(v, digits = 0) {
    const n = num(v);
    if (n === null) return '—';
    return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  }

  // Times are shown in UTC, like the telemetry they come from.
  function fmtTime(v) {
    const s = str(v);
    if (!s) return '—';
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return s;
    return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
  }

  function fmtDuration(seconds) {
    const n = num(seconds);
    if (n === null) return '—';
    if (n < 60) return n.toFixed(n < 10 ? 1 : 0) + ' s';
    const d = Math.floor(n / 86400);
    const h = Math.floor((n % 86400) / 3600);
    const m = Math.floor((n % 3600) / 60);
    if (d) return `${d} d ${h} h`;
    if (h) return `${h} h ${m} min`;
    return `${m} min ${Math.floor(n % 60)} s`;
  }

  // File name from a Windows or POSIX path.
  function baseName(path) {
    const s = str(path);
    const parts = s.split(/[\\/]/);
    return parts[parts.length - 1] || s;
  }

  function titleCase(s) {
    const t = str(s);
    const known = { windows: 'Windows', linux: 'Linux', macos: 'macOS' };
    if (known[t.toLowerCase()]) return known[t.toLowerCase()];
    return t ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  }

  const statusLabel = (s) => str(s).replace(/_/g, ' ') || 'unknown';

  // Badges take their colour from a class; the class name comes from a fixed list,
  // never from the API string itself.
  function sevBadge(severity) {
    const s = str(severity);
    const cls = SEVERITIES.includes(s) ? s : 'unknown';
    return el('span', { class: `badge sev sev-${cls}` }, s || 'unknown');
  }

  function statusBadge(status, id) {
    const s = str(status);
    const cls = STATUSES.includes(s) ? s.replace('_', '-') : 'unknown';
    return el('span', { class: `badge status st-${cls}`, id }, statusLabel(s));
  }

  const alertHref = (id) => '#/alerts/' + encodeURIComponent(str(id));

  function destinationLabel(dest) {
    const d = obj(dest);
    return str(d.forward_name) || str(d.registered_domain) || str(d.hostname) || str(d.ip);
  }

  function analystName() {
    try { return localStorage.getItem(ANALYST_KEY) || ''; } catch (_) { return ''; }
  }
  function rememberAnalyst(name) {
    try { localStorage.setItem(ANALYST_KEY, name); } catch (_) { /* storage disabled */ }
  }

  // ---------------------------------------------------------------------------
  // API access. One wrapper so every call carries the token, every 401 brings up
  // the login form, and every other failure becomes a readable message.
  // ---------------------------------------------------------------------------
  class AuthRequired extends Error {}
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    const token = getToken();
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, `${method} ${path}: cannot reach the server (${e && e.message})`);
    }
    if (res.status === 401) {
      showLogin(token ? 'The server rejected this token. Enter a valid one.' : 'This server needs an API token.');
      throw new AuthRequired('authentication required');
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = undefined; }
    }
    if (!res.ok) {
      const o = obj(data);
      const detail = str(o.error) || str(o.message) || (data === undefined ? text.slice(0, 300) : '') || res.statusText;
      throw new ApiError(res.status, `${method} ${path}: ${res.status} ${detail}`);
    }
    if (data === undefined) throw new ApiError(res.status, `${method} ${path}: the answer is not JSON`);
    return data;
  }

  // ---------------------------------------------------------------------------
  // Error banner and login form: both live in index.html, outside the view, so
  // they survive route changes. The banner only ever gets text.
  // ---------------------------------------------------------------------------
  function showError(err) {
    if (err instanceof AuthRequired) return;
    const msg = err && err.message ? err.message : str(err);
    $('error-text').textContent = msg;
    $('error').hidden = false;
  }
  function clearError() {
    $('error-text').textContent = '';
    $('error').hidden = true;
  }

  function showLogin(message) {
    stopTimers();
    $('login-msg').textContent = message;
    $('login-view').hidden = false;
    $('view').hidden = true;
    $('token').value = '';
    $('token').focus();
  }

  function hideLogin() {
    $('login-view').hidden = true;
    $('view').hidden = false;
  }

  function updateLogoutButton() {
    $('logout').hidden = !getToken();
  }

  // ---------------------------------------------------------------------------
  // Routing. Hash-based so the server only serves three static files. The alert
  // list keeps its filters, sort and page in the hash query, which makes the back
  // button and shared links restore exactly what the analyst was looking at.
  // ---------------------------------------------------------------------------
  let generation = 0;           // bumped on every render; late answers for old views are dropped
  let timers = [];
  let lastListHash = '#/alerts';

  function stopTimers() {
    for (const t of timers) clearInterval(t);
    timers = [];
  }

  function safeDecode(s) {
    try { return decodeURIComponent(s); } catch (_) { return s; }
  }

  function parseHash() {
    const raw = location.hash.replace(/^#/, '');
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    return { parts: path.split('/').filter(Boolean).map(safeDecode), query };
  }

  function navigate(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  function setActiveNav(name) {
    for (const id of ['nav-alerts', 'nav-allowlist', 'nav-status']) {
      const link = $(id);
      const on = id === 'nav-' + name;
      link.classList.toggle('active', on);
      if (on) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  }

  function render() {
    generation += 1;
    const gen = generation;
    stopTimers();
    clearError();
    updateLogoutButton();
    const { parts, query } = parseHash();
    const view = $('view');
    view.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    const isCurrent = () => gen === generation;

    if (parts[0] === 'alerts' && parts.length >= 2) {
      setActiveNav('alerts');
      renderAlertDetail(view, parts.slice(1).join('/'), isCurrent).catch(showError);
    } else if (parts[0] === 'allowlist') {
      setActiveNav('allowlist');
      renderAllowlist(view, isCurrent).catch(showError);
    } else if (parts[0] === 'status') {
      setActiveNav('status');
      renderStatus(view, isCurrent).catch(showError);
    } else if (parts[0] === 'alerts') {
      setActiveNav('alerts');
      lastListHash = location.hash || '#/alerts';
      renderAlertList(view, query, isCurrent).catch(showError);
    } else {
      // Default route (also for unknown ones).
      location.replace('#/alerts');
    }
  }

  // ---------------------------------------------------------------------------
  // Page 1: alert list. Filters, sort and offset come from the hash query; the
  // filter bar and header clicks write a new hash, and the hashchange re-renders.
  // ---------------------------------------------------------------------------
  const LIST_PARAMS = ['from', 'to', 'severity', 'variation', 'host', 'status', 'q', 'sort', 'offset'];
  const COLUMNS = [
    { label: 'Time', sort: 'time' },
    { label: 'Severity', sort: 'severity' },
    { label: 'Variation' },
    { label: 'Host' },
    { label: 'Process' },
    { label: 'Destination' },
    { label: 'Status' },
  ];

  function listHash(params) {
    const q = new URLSearchParams();
    for (const key of LIST_PARAMS) {
      const v = params[key];
      if (v !== undefined && v !== null && v !== '' && !(key === 'offset' && Number(v) === 0)) q.set(key, String(v));
    }
    const s = q.toString();
    return '#/alerts' + (s ? '?' + s : '');
  }

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

  function selectOf(id, options, current, anyLabel) {
    const select = el('select', { id, name: id });
    select.appendChild(el('option', { value: '' }, anyLabel));
    for (const o of options) select.appendChild(el('option', { value: o }, statusLabel(o)));
    select.value = options.includes(current) ? current : '';
    return select;
  }

  function kindSelect(id, current) {
    const select = el('select', { id, name: id }, ALLOW_KINDS.map((k) => el('option', { value: k }, k)));
    select.value = ALLOW_KINDS.includes(current) ? current : ALLOW_KINDS[0];
    return select;
  }

  function field(labelText, input) {
    return el('label', { class: 'field' }, el('span', { class: 'field-label' }, labelText), input);
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
      navigate(listHash({
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

  function alertRow(record) {
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

  async function renderAlertList(view, query, isCurrent) {
    const params = {};
    for (const key of LIST_PARAMS) if (query.get(key)) params[key] = query.get(key);
    const offset = Math.max(0, parseInt(params.offset || '0', 10) || 0);

    const apiQuery = new URLSearchParams();
    for (const key of ['from', 'to', 'severity', 'variation', 'host', 'status', 'q', 'sort']) {
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

    view.replaceChildren(el('h1', { class: 'page-title' }, 'Alerts'), filterBar, el('div', { class: 'table-wrap' }, table), pager);

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

  // ---------------------------------------------------------------------------
  // Page 2: alert detail. Read the story top-down: what (title, explanation),
  // why (variation, chain, ATT&CK), where to (destination and its prevalence),
  // what to do (guidance, triage), and the raw evidence last.
  // ---------------------------------------------------------------------------
  function panel(title, id, ...children) {
    return el('section', { class: 'panel', id }, el('h2', null, title), children);
  }

  function dl(rows) {
    const list = el('dl', { class: 'kv' });
    for (const [k, v] of rows) {
      if (v === null || v === undefined || v === '') continue;
      list.appendChild(el('dt', null, k));
      list.appendChild(el('dd', null, v));
    }
    return list;
  }

  function textBlock(value) {
    const s = str(value);
    return s ? el('p', { class: 'prose' }, s) : el('p', { class: 'muted' }, 'Not provided.');
  }

  // Causality chain: the oldest ancestor on top, the alerting process at the bottom,
  // each level nested (and so indented) inside its parent.
  function chainTree(alert) {
    const process = obj(alert.process);
    const ancestors = arr(alert.chain).map(obj);   // parent first, then grandparent...
    const levels = ancestors.slice().reverse().map((p, i, all) => ({ p, role: roleName(all.length - i) }));
    levels.push({ p: process, role: 'alerting process', current: true });

    const root = el('ul', { class: 'tree', id: 'chain' });
    let parentList = root;
    for (const { p, role, current } of levels) {
      const image = str(p.image);
      const cmd = el('code', { class: 'cmd', id: current ? 'cmdline' : null }, str(p.command_line));
      if (!str(p.command_line)) cmd.classList.add('missing');
      const ofn = str(p.original_file_name);
      const box = el('div', { class: 'proc' + (current ? ' current' : '') },
        el('div', { class: 'proc-head' },
          el('span', { class: 'proc-role' }, role),
          el('strong', { class: 'proc-name mono', title: image || null }, baseName(image) || 'unknown image'),
          p.pid !== undefined && p.pid !== null ? el('span', { class: 'muted mono' }, `pid ${str(p.pid)}`) : null,
          ofn && ofn.toLowerCase() !== baseName(image).toLowerCase() ? el('span', { class: 'tag', title: 'original file name' }, `PE name ${ofn}`) : null),
        image ? el('div', { class: 'proc-path mono muted' }, image) : null,
        cmd);
      const li = el('li', null, box);
      parentList.appendChild(li);
      const childList = el('ul');
      li.appendChild(childList);
      parentList = childList;
    }
    return root;
  }

  function roleName(depth) {
    if (depth === 1) return 'parent';
    if (depth === 2) return 'grandparent';
    return `ancestor ${depth}`;
  }

  function attackTable(alert) {
    const rows = arr(alert.attack).map(obj);
    if (!rows.length) return el('p', { class: 'muted' }, 'No ATT&CK mapping.');
    const table = el('table', { class: 'grid compact', id: 'attack' },
      el('thead', null, el('tr', null, el('th', null, 'Tactic'), el('th', null, 'Technique'))));
    const tbody = el('tbody');
    for (const t of rows) {
      const tech = str(t.technique);
      // Only well-formed technique ids become links; anything else stays text.
      const m = /^T(\d{4})(?:\.(\d{3}))?$/.exec(tech);
      const techNode = m
        ? el('a', { href: `https://attack.mitre.org/techniques/T${m[1]}/${m[2] ? m[2] + '/' : ''}`, target: '_blank', rel: 'noopener noreferrer' }, tech)
        : el('span', null, tech);
      tbody.appendChild(el('tr', null,
        el('td', null, el('span', { class: 'mono' }, str(t.tactic)), ' ', str(t.tactic_name)),
        el('td', null, techNode, ' ', str(t.technique_name))));
    }
    table.appendChild(tbody);
    return table;
  }

  function destinationKey(dest) {
    const d = obj(dest);
    const key = obj(d.key);
    if (str(key.value)) return { type: str(key.type), value: str(key.value) };
    if (str(d.registered_domain)) return { type: 'domain', value: str(d.registered_domain) };
    if (str(d.ip)) return { type: 'ip', value: str(d.ip) };
    return null;
  }

  // Prevalence timeline: one bar per day of the window, the number of hosts that
  // talked to the destination that day, with the rare threshold as a dashed line.
  // Inline SVG built node by node; the tooltips are SVG <title> elements.
  function prevalenceChart(destInfo, alert) {
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

  function destinationPanel(alert) {
    const d = obj(alert.destination);
    const p = obj(alert.prevalence);
    const key = destinationKey(d);
    const ipPort = str(d.ip) ? (d.port !== null && d.port !== undefined ? `${str(d.ip)}:${str(d.port)}` : str(d.ip)) : '';
    const hostsInWindow = num(p.hosts_in_window);
    const active = num(p.active_hosts);

    const stats = el('div', { id: 'dest-stats' }, el('p', { class: 'muted' }, key ? 'Loading prevalence…' : 'No destination key; no prevalence data.'));
    const body = panel('Destination', 'destination',
      dl([
        ['Address', ipPort ? el('span', { class: 'mono' }, ipPort) : null],
        ['Protocol', str(d.protocol)],
        ['Host name', str(d.hostname) ? el('span', { class: 'mono wrap' }, str(d.hostname)) : null],
        ['Forward name', str(d.forward_name) ? el('span', { class: 'mono wrap' }, str(d.forward_name)) : null],
        ['Registered domain', str(d.registered_domain) ? el('span', { class: 'mono wrap' }, str(d.registered_domain)) : null],
        ['Key', key ? el('span', null, el('span', { class: 'tag' }, key.type || 'key'), ' ', el('span', { class: 'mono wrap', id: 'dest-key' }, key.value)) : null],
        ['At alert time', hostsInWindow !== null
          ? `${fmtNum(hostsInWindow)} other host${hostsInWindow === 1 ? '' : 's'}${active !== null ? ` of ${fmtNum(active)} active` : ''} in ${fmtNum(num(p.window_days) ?? 30)} days` +
            (num(p.rare_threshold) !== null ? ` (rare: fewer than ${fmtNum(p.rare_threshold)})` : '')
          : null],
        ['First seen in org', p.first_seen_in_org ? fmtTime(p.first_seen_in_org) : null],
      ]),
      stats);
    return { node: body, stats, key };
  }

  async function fillDestinationStats(stats, key, alert, isCurrent) {
    let info;
    try {
      info = obj(await api('GET', '/api/v1/destinations/' + encodeURIComponent(key.value)));
    } catch (e) {
      if (!isCurrent()) return;
      if (e instanceof ApiError && e.status === 404) {
        stats.replaceChildren(el('p', { class: 'muted' }, 'The baseline has no record of this destination.'));
        return;
      }
      stats.replaceChildren(el('p', { class: 'muted' }, 'Prevalence unavailable.'));
      throw e;
    }
    if (!isCurrent()) return;
    const currentId = str(alert.id);
    const recentHosts = arr(info.recent_hosts).map(str).filter(Boolean);
    const alerts = arr(info.alerts).map(obj);

    const hostList = recentHosts.length
      ? el('span', { class: 'chips' }, recentHosts.map((h) => el('a', { class: 'chip mono', href: listHash({ host: h }) }, h)))
      : null;
    const alertList = el('ul', { class: 'plain', id: 'dest-alerts' });
    for (const a of alerts) {
      const same = str(a.id) === currentId;
      alertList.appendChild(el('li', null,
        sevBadge(a.severity), ' ',
        same ? el('span', { class: 'mono' }, str(a.host), ' (this alert)')
          : el('a', { href: alertHref(a.id), class: 'mono' }, str(a.host) || str(a.id)),
        ' ', el('span', { class: 'muted' }, fmtTime(a.first_seen)),
        a.status ? [' ', statusBadge(a.status)] : null));
    }

    stats.replaceChildren(
      el('h3', null, `Prevalence over ${fmtNum(num(info.window_days) ?? 30)} days`),
      prevalenceChart(info, alert),
      el('p', { class: 'legend muted' },
        el('span', { class: 'swatch bar' }), ' hosts per day  ',
        el('span', { class: 'swatch alert-day' }), ' ▲ alert day  ',
        el('span', { class: 'swatch threshold' }), ' rare threshold (distinct hosts over the whole window)'),
      dl([
        ['Hosts in window', fmtNum(info.hosts_in_window)],
        ['Connections', fmtNum(info.connections)],
        ['First seen', info.first_seen ? fmtTime(info.first_seen) : 'never before'],
        ['Recent hosts', hostList],
      ]),
      el('h3', null, 'Alerts for this destination'),
      alerts.length ? alertList : el('p', { class: 'muted' }, 'None.'));
  }

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

  function triagePanel(record, onUpdate) {
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

  function sourceEventsSection(record) {
    const alert = obj(record.alert);
    const refs = arr(alert.source_events).map(obj);
    const events = arr(record.source_events);
    const details = el('details', { id: 'source-events', class: 'panel' },
      el('summary', null, `Source events (${events.length})`));
    if (refs.length) {
      const list = el('ul', { class: 'plain mono small' });
      for (const r of refs) {
        const where = [str(r.source), r.line !== undefined && r.line !== null ? `line ${str(r.line)}` : '', r.record !== undefined && r.record !== null ? `record ${str(r.record)}` : '']
          .filter(Boolean).join(' · ');
        list.appendChild(el('li', null, where));
      }
      details.appendChild(el('h3', null, 'Read from'));
      details.appendChild(list);
    }
    events.forEach((ev, i) => {
      let text;
      try { text = JSON.stringify(ev, null, 2); } catch (_) { text = str(ev); }
      details.appendChild(el('h3', null, `Event ${i + 1}`));
      details.appendChild(el('pre', { class: 'json' }, text));
    });
    if (!events.length && !refs.length) details.appendChild(el('p', { class: 'muted' }, 'No source events returned.'));
    return details;
  }

  async function renderAlertDetail(view, id, isCurrent) {
    let record;
    try {
      record = obj(await api('GET', '/api/v1/alerts/' + encodeURIComponent(id)));
    } catch (e) {
      if (isCurrent()) {
        view.replaceChildren(el('a', { href: lastListHash, class: 'back' }, '← Alerts'),
          el('p', { class: 'muted' }, e instanceof ApiError && e.status === 404 ? 'No such alert.' : 'Could not load this alert.'));
      }
      throw e;
    }
    if (!isCurrent()) return;
    const alert = obj(record.alert);
    const triage = obj(record.triage);
    const alsoMatched = arr(alert.also_matched).map(str).filter(Boolean);

    const statusHolder = el('span', { id: 'alert-status-holder' }, statusBadge(triage.status, 'alert-status'));
    const triageUi = triagePanel(record, (updated) => {
      const u = obj(updated);
      statusHolder.replaceChildren(statusBadge(obj(u.triage).status, 'alert-status'));
      triageUi.update(u);
    });

    const meta = [
      ['variation', str(alert.variation)],
      ['host', str(alert.host)],
      ['user', str(alert.user)],
      ['platform', str(alert.platform)],
      ['first seen', alert.first_seen ? fmtTime(alert.first_seen) : ''],
      ['last seen', alert.last_seen && alert.last_seen !== alert.first_seen ? fmtTime(alert.last_seen) : ''],
      ['count', num(alert.count) !== null && alert.count !== 1 ? fmtNum(alert.count) : ''],
      ['id', str(alert.id)],
    ].filter(([, v]) => v);

    const dest = destinationPanel(alert);

    view.replaceChildren(
      el('a', { href: lastListHash, class: 'back' }, '← Alerts'),
      el('header', { class: 'detail-head' },
        el('div', { class: 'title-row' },
          sevBadge(alert.severity),
          el('h1', { id: 'alert-title' }, str(alert.name) || 'Alert'),
          statusHolder),
        el('p', { class: 'meta' }, meta.map(([k, v]) => el('span', { class: 'meta-item' }, el('span', { class: 'muted' }, k + ' '), el('span', { class: 'mono' }, v))))),
      el('section', { class: 'explanation', id: 'explanation' }, str(alert.explanation) || 'No explanation provided.'),
      el('div', { class: 'detail-grid' },
        el('div', { class: 'col' },
          panel('Process chain', 'chain-panel', chainTree(alert)),
          panel('Why this variation', 'why',
            textBlock(alert.matched_because),
            alsoMatched.length
              ? el('p', { id: 'also-matched' }, el('span', { class: 'muted' }, 'Also matched: '), alsoMatched.map((v) => el('span', { class: 'badge variation' }, v)))
              : null),
          panel('ATT&CK', 'attack-panel', attackTable(alert)),
          panel('Investigative actions', 'investigative-actions', textBlock(alert.investigative_actions)),
          panel('Attacker goals', 'attacker-goals', textBlock(alert.attacker_goals)),
          panel('Description', 'description', textBlock(alert.description))),
        el('div', { class: 'col' },
          triageUi.node,
          dest.node)),
      sourceEventsSection(record));

    if (dest.key) await fillDestinationStats(dest.stats, dest.key, alert, isCurrent);
  }

  // ---------------------------------------------------------------------------
  // Page 3: allowlist. A table of entries with delete buttons and an add form;
  // adding may resolve open alerts, and the count is reported back.
  // ---------------------------------------------------------------------------
  async function renderAllowlist(view, isCurrent) {
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

  // ---------------------------------------------------------------------------
  // Page 4: service status, refreshed every 5 s while the page is open (the timer
  // is stopped on any route change). Activation shows how close each platform is
  // to alerting: the baseline has to see activation_days days first.
  // ---------------------------------------------------------------------------
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

  async function renderStatus(view, isCurrent) {
    const body = el('div', { id: 'status-body' }, el('p', { class: 'muted' }, 'Loading…'));
    const updated = el('span', { id: 'status-updated', class: 'muted small' });
    view.replaceChildren(el('div', { class: 'title-row' }, el('h1', { class: 'page-title' }, 'Status'), updated), body);

    let busy = false;
    async function refresh() {
      if (busy || !$('login-view').hidden) return;
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
    timers.push(setInterval(() => { refresh().catch(showError); }, 5000));
    await refresh();
  }

  // ---------------------------------------------------------------------------
  // Wiring: static controls in index.html get their listeners here (CSP forbids
  // inline handlers), then the first render.
  // ---------------------------------------------------------------------------
  function init() {
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      try {
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        else sessionStorage.removeItem(TOKEN_KEY);
      } catch (_) { /* storage disabled: the token lives only until reload */ }
      hideLogin();
      render();
    });
    $('logout').addEventListener('click', () => {
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* ignore */ }
      updateLogoutButton();
      showLogin('Signed out.');
    });
    $('error-close').addEventListener('click', clearError);
    window.addEventListener('hashchange', () => { if ($('login-view').hidden) render(); });
    if (!location.hash || location.hash === '#' || location.hash === '#/') {
      history.replaceState(null, '', '#/alerts');  // no hashchange: render below
    }
    render();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
