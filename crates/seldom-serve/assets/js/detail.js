// detail.js: page 2, one alert. Read the story top-down: what (title,
// explanation), why (variation, chain, ATT&CK), where to (destination and its
// prevalence, chart.js), what to do (guidance, triage.js), and the raw evidence
// last.

import { el } from './dom.js';
import { arr, baseName, destinationKey, fmtNum, fmtTime, num, obj, str } from './format.js';
import { ApiError, api } from './api.js';
import { alertHref, incidentHref, lastListHash, listHash } from './nav.js';
import { dl, panel, sevBadge, statusBadge, textBlock } from './widgets.js';
import { contactTimeline, prevalenceChart } from './chart.js';
import { triagePanel } from './triage.js';
import { destinationHref } from './destination.js';

// What the alert is part of: its incident (every host the destination reached,
// alerted or spread), its beacon (contacts on a timer), or, for a digest, the
// alerts past the day's budget it stands for. Null when none applies.
function storyPanel(alert) {
  const rows = [];
  const incident = obj(alert.incident);
  if (str(incident.id)) {
    const hosts = arr(incident.hosts).map(str);
    rows.push(['Incident', el('span', null,
      el('a', { id: 'incident-link', href: incidentHref(incident.id) }, str(incident.id)),
      ` — ${hosts.length} host${hosts.length === 1 ? '' : 's'}: `, el('span', { class: 'mono' }, hosts.join(', ')))]);
  }
  const beacon = obj(alert.beacon);
  if (num(beacon.contacts) !== null) {
    rows.push(['Beacon', el('span', { id: 'beacon' },
      `${fmtNum(beacon.contacts)} contacts about every ${fmtNum(num(beacon.median_interval_seconds) || 0)} s ` +
      `(dispersion ${(num(beacon.dispersion) || 0).toFixed(2)}), ${fmtTime(beacon.first)} to ${fmtTime(beacon.last)}; ` +
      `raised from ${str(beacon.base_severity)}` +
      (num(beacon.bytes_median) !== null ? `; about ${fmtNum(beacon.bytes_median)} bytes each (dispersion ${(num(beacon.bytes_dispersion) || 0).toFixed(2)})` : ''))]);
    rows.push(['Contacts', contactTimeline(beacon.contact_times, 'beacon-timeline')]);
  }
  const digest = obj(alert.digest);
  if (num(digest.alerts) !== null) {
    const names = (list) => arr(list).map((p) => `${str(arr(p)[0])} (${fmtNum(arr(p)[1])})`).join(', ');
    rows.push(['Digest', `${fmtNum(digest.alerts)} alerts past the budget of ${fmtNum(digest.budget)} a day`]);
    rows.push(['Top destinations', el('span', { class: 'mono' }, names(digest.top_destinations))]);
    rows.push(['Top hosts', el('span', { class: 'mono' }, names(digest.top_hosts))]);
  }
  return rows.length ? panel('Incident and timing', 'story', dl(rows)) : null;
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
      ['Key', key ? el('span', null, el('span', { class: 'tag' }, key.type || 'key'), ' ', el('span', { class: 'mono wrap', id: 'dest-key' }, key.value), ' ',
        el('a', { id: 'dest-page-link', href: destinationHref(key.value) }, 'destination page')) : null],
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

export async function renderAlertDetail(view, id, isCurrent) {
  let record;
  try {
    record = obj(await api('GET', '/api/v1/alerts/' + encodeURIComponent(id)));
  } catch (e) {
    if (isCurrent()) {
      view.replaceChildren(el('a', { href: lastListHash(), class: 'back' }, '← Alerts'),
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
  const story = storyPanel(alert);

  view.replaceChildren(
    el('a', { href: lastListHash(), class: 'back' }, '← Alerts'),
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
        story,
        dest.node)),
    sourceEventsSection(record));

  if (dest.key) await fillDestinationStats(dest.stats, dest.key, alert, isCurrent);
}
