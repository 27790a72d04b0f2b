// End-to-end test of `seldom serve`'s web UI in a real headless Chromium.
//
//   node tests/browser/ui.mjs BASE_URL TOKEN SCREENSHOT.png
//
// Run by crates/seldom-cli/tests/serve_browser.rs against a server it fed with
// simulated telemetry plus two alerts of its own: powershell.exe on two Windows
// hosts connecting to 203.0.113.77, with markup in the command line. Signs in
// to the overview (incidents on several hosts, alerts above Informational,
// Informational groups with sparklines), opens the simulation's spread as an
// incident (every host, the spread ones marked) and its alerts, opens a group
// as the filtered list, checks that every ES module of the UI loaded (each
// import fetched with 200 and a JavaScript type, no console error), finds and opens one of those
// alerts, checks the markup is shown as text and nothing of it runs,
// acknowledges the alert, allowlists its destination, reads the status page,
// and saves a full-page screenshot of the alert.
// Exits 0 when every step passed; otherwise prints `FAIL: ...` and exits 1.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CMDLINE = 'powershell.exe -c "<script>alert(1)</script><img src=x onerror=alert(2)>"';
const MARKUP = '<script>alert(1)</script>';
const DESTINATION = '203.0.113.77';
const NOTE = 'Checked by the browser test: the markup in the command line is shown as text.';
const ANALYST = 'browser-test';

const [base0, token, screenshot] = process.argv.slice(2);
if (!base0 || !token || !screenshot) {
  console.error('usage: node ui.mjs BASE_URL TOKEN SCREENSHOT.png');
  process.exit(2);
}
const base = base0.replace(/\/+$/, '');

const dialogs = [];
const pageErrors = [];
const consoleErrors = [];
/** Script responses by URL: status, content type, and the body (a promise). */
const scripts = new Map();
const failedRequests = [];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function step(message) {
  console.log(`ok: ${message}`);
}

function noDialogs() {
  check(dialogs.length === 0, `a dialog was opened: ${JSON.stringify(dialogs)}`);
  check(pageErrors.length === 0, `uncaught error in the page: ${pageErrors.join(' | ')}`);
}

/** The modules a module's source imports statically, resolved against its URL. */
function importsOf(url, source) {
  // `import ... from '...'`, `import '...'` and `export ... from '...'`; the
  // clauses hold no quote or semicolon, so a match cannot run into the code.
  const statements = [
    /^\s*import\s+(?:[^'";]*?\sfrom\s*)?['"]([^'"\n]+)['"]/gm,
    /^\s*export\s+[^'";]*?\sfrom\s*['"]([^'"\n]+)['"]/gm,
  ];
  const found = [];
  for (const statement of statements) {
    for (const m of source.matchAll(statement)) found.push(new URL(m[1], url).href);
  }
  return found;
}

/**
 * Every module main.js imports, directly or not, was fetched with 200 and a
 * JavaScript content type, and the browser reported no failure about any of
 * them: one missing or mistyped module stops the whole UI.
 */
async function modulesLoaded() {
  const main = base + '/js/main.js';
  const seen = new Set();
  const queue = [main];
  while (queue.length) {
    const url = queue.pop();
    if (seen.has(url)) continue;
    seen.add(url);
    const script = scripts.get(url);
    check(script, `${url} is imported but was never fetched (fetched: ${JSON.stringify([...scripts.keys()])})`);
    check(script.status === 200, `${url}: ${script.status}`);
    check(/^text\/javascript\b/.test(script.type), `${url} is served as ${JSON.stringify(script.type)}`);
    queue.push(...importsOf(url, await script.body));
  }
  check(seen.size > 1, `main.js imports no module: ${JSON.stringify([...seen])}`);
  const failed = failedRequests.filter((r) => r.type === 'script');
  check(failed.length === 0, `module fetches failed: ${JSON.stringify(failed)}`);
  // Expected, and logged by Chromium: the API's 401 before signing in, and
  // the 404 of the browser's own favicon probe (the UI has none). Any other
  // console error is not.
  const expected = (e) => (e.url.includes('/api/') && e.text.includes('401')) ||
    (new URL(e.url || base).pathname === '/favicon.ico' && e.text.includes('404'));
  const errors = consoleErrors.filter((e) => !expected(e));
  check(errors.length === 0, `console errors: ${JSON.stringify(errors)}`);
  check(pageErrors.length === 0, `uncaught error in the page: ${pageErrors.join(' | ')}`);
  return [...seen].map((url) => new URL(url).pathname);
}

/** The API, straight from Node with the bearer token (not through the page). */
async function api(path) {
  const res = await fetch(base + path, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  const text = await res.text();
  check(res.ok, `GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The overview, its incidents, an incident with its spread, and a group of Informational alerts. */
async function overview(page) {
  // Incidents on more than one host: the simulation's spread is one of them.
  const incidentRows = page.locator('#overview-incidents-table tbody tr.row-link');
  await incidentRows.first().waitFor();
  const incidents = await page.$$eval('#overview-incidents-table tbody tr.row-link', (trs) =>
    trs.map((tr) => ({ id: tr.dataset.incidentId, hosts: Number(tr.children[3].textContent), spread: tr.children[4].textContent })));
  const spread = incidents.find((i) => i.hosts >= 5 && i.spread !== '—');
  check(spread, `no incident of 5 hosts with a spread on the overview: ${JSON.stringify(incidents)}`);
  const apiIncident = await api('/api/v1/incidents/' + encodeURIComponent(spread.id));
  check(apiIncident.spread.length >= 1 && apiIncident.alerted_hosts.length >= 1, `the API's incident: ${JSON.stringify(apiIncident)}`);
  // Above Informational only, in its own table.
  const severities = await page.$$eval('#overview-alerts tbody tr.row-link', (trs) => trs.map((tr) => tr.children[1].textContent));
  check(severities.length >= 1 && severities.every((s) => s !== 'informational'), `the overview's alerts: ${JSON.stringify(severities)}`);
  // Informational alerts as groups, each with its sparkline.
  const groups = page.locator('#info-groups tbody tr.row-link');
  await groups.first().waitFor();
  check(await page.locator('#info-groups tbody tr.row-link svg.sparkline').count() === await groups.count(), 'a group has no sparkline');
  step(`overview: ${incidents.length} incident(s) on several hosts, ${severities.length} alert(s) above Informational, ${await groups.count()} Informational group(s)`);

  // The incident page lists every host, alerted and spread, and opens its alerts.
  await page.click(`#overview-incidents-table tbody tr[data-incident-id="${spread.id}"] a`);
  await page.waitForFunction((id) => location.hash === '#/incidents/' + encodeURIComponent(id), spread.id);
  await page.locator('#incident-hosts li').first().waitFor();
  const listed = await page.$$eval('#incident-hosts li', (lis) => lis.map((li) => li.className));
  check(listed.length === apiIncident.hosts.length, `the page lists ${listed.length} hosts, the API ${apiIncident.hosts.length}`);
  check(listed.filter((c) => c === 'spread').length === apiIncident.spread.length, `spread hosts on the page: ${JSON.stringify(listed)}`);
  await page.click('#incident-alerts-link');
  await page.waitForFunction(() => location.hash.includes('incident='));
  await page.locator('#alerts-table tbody tr.row-link').first().waitFor();
  const alertIds = await page.$$eval('#alerts-table tbody tr.row-link', (trs) => trs.map((tr) => tr.dataset.alertId));
  check(alertIds.length === apiIncident.alerts.length && alertIds.every((id) => apiIncident.alerts.includes(id)),
    `the incident's alert list shows ${JSON.stringify(alertIds)}, not ${JSON.stringify(apiIncident.alerts)}`);
  step(`incident ${spread.id}: ${listed.length} hosts (${apiIncident.spread.length} spread), its ${alertIds.length} alerts listed`);

  // A group of Informational alerts opens as the list filtered to it.
  await page.click('#nav-overview');
  await groups.first().waitFor();
  const group = await page.$eval('#info-groups tbody tr.row-link', (tr) => ({ key: tr.dataset.group, alerts: Number(tr.children[1].textContent.replace(/,/g, '')) }));
  await page.click('#info-groups tbody tr.row-link a');
  await page.waitForFunction(() => location.hash.includes('image='));
  await page.locator('#list-scope').waitFor();
  await page.waitForFunction(() => { const i = document.getElementById('page-info'); return i && i.textContent !== 'Loading…'; });
  const shown = await page.$$eval('#alerts-table tbody tr.row-link', (trs) => trs.map((tr) => [tr.children[1].textContent, tr.children[4].textContent.toLowerCase()]));
  check(shown.length === Math.min(group.alerts, 50) && shown.every(([sev, image]) => sev === 'informational' && image === group.key),
    `group ${group.key} (${group.alerts}) opened as ${JSON.stringify(shown.slice(0, 5))}…`);
  noDialogs();
  step(`group ${group.key}: its ${group.alerts} Informational alerts listed`);

  // The simulation's beacon: escalated, its contacts on a time line.
  const all = (await api('/api/v1/alerts?limit=1000')).alerts.map((r) => r.alert);
  const beacon = all.find((a) => a.beacon);
  check(beacon, 'no alert carries a beacon');
  await page.goto(base + '/#/alerts/' + encodeURIComponent(beacon.id));
  await page.locator('#beacon-timeline').waitFor();
  const ticks = await page.locator('#beacon-timeline line.tick').count();
  check(ticks === beacon.beacon.contact_times.length && ticks >= 8, `${ticks} ticks for ${beacon.beacon.contact_times.length} contacts`);
  check(await page.locator('#incident-link').count() === 1, 'the beacon alert shows no incident link');
  // Its destination's page: hosts over time, and the beacon's contacts again.
  await page.click('#dest-page-link');
  await page.waitForFunction(() => location.hash.startsWith('#/destinations/'));
  await page.locator('#dest-page-chart svg').waitFor();
  await page.locator('#dest-page-alerts svg.timeline').first().waitFor();
  const onPage = await page.locator('#dest-page-alerts svg.timeline line.tick').count();
  check(onPage === beacon.beacon.contact_times.length, `the destination page shows ${onPage} contacts`);
  noDialogs();
  step(`beacon ${beacon.id}: ${beacon.severity} (from ${beacon.beacon.base_severity}), ${ticks} contacts on its time line`);
}

async function main(page) {
  // a. The UI asks for the token, then opens on the overview.
  await page.goto(base + '/');
  await page.locator('#login-view').waitFor({ state: 'visible' });
  check(await page.locator('#view').isHidden(), 'the view is shown beside the login form');
  step('the login form is shown');
  await page.fill('#token', token);
  await page.click('#login');
  await page.locator('#overview-incidents').waitFor().catch(async (err) => {
    if (await page.locator('#login-view').isVisible()) {
      throw new Error(`the token was not accepted: ${await page.locator('#login-msg').textContent()}`);
    }
    throw err;
  });
  check(await page.locator('#login-view').isHidden(), 'the login form is still shown after signing in');
  step('signed in; the overview is shown');
  await overview(page);
  await page.click('#nav-alerts');
  await page.locator('#alerts-table tbody tr').first().waitFor();
  const modules = await modulesLoaded();
  step(`${modules.length} modules loaded, no console error: ${modules.join(' ')}`);

  // b. Free-text search for `script`, then open the alert.
  // Mark the unfiltered table, so the wait below cannot read it before the new one replaces it.
  await page.$eval('#alerts-table', (table) => { table.dataset.stale = 'yes'; });
  await page.fill('#f-q', 'script');
  await page.click('#f-apply');
  await page.waitForFunction(() => {
    const info = document.getElementById('page-info');
    return location.hash.includes('q=script') && !document.querySelector('#alerts-table[data-stale]') &&
      info && info.textContent !== 'Loading…';
  });
  const rows = page.locator('#alerts-table tbody tr.row-link');
  const count = await rows.count();
  check(count >= 1, `no alert listed for q=script (${await page.locator('#page-info').textContent()})`);
  // The list shows the image's name; the command line is checked on the detail page.
  const listed = await page.$$eval('#alerts-table tbody tr.row-link', (trs) =>
    trs.map((tr) => ({ id: tr.dataset.alertId, process: tr.children[4].textContent, dest: tr.children[5].textContent })));
  const candidates = [];
  for (const row of listed) {
    const record = await api('/api/v1/alerts/' + encodeURIComponent(row.id));
    if (record.alert.process.command_line === CMDLINE) candidates.push(row);
  }
  check(candidates.length >= 1, `no listed alert has the command line ${CMDLINE}: ${JSON.stringify(listed)}`);
  const target = candidates[0];
  check(target.process === 'powershell.exe', `the list shows the process as ${JSON.stringify(target.process)}`);
  step(`${count} alert(s) for q=script; opening ${target.id}`);
  await page.locator(`#alerts-table tbody tr[data-alert-id="${target.id}"] td`).nth(2).click();
  await page.waitForFunction((id) => location.hash === '#/alerts/' + id, target.id);

  // c. The markup is text, and nothing of it runs or renders.
  await page.locator('#cmdline').waitFor();
  const cmdline = await page.locator('#cmdline').textContent();
  check(cmdline.includes(MARKUP), `#cmdline lacks the literal ${MARKUP}: ${JSON.stringify(cmdline)}`);
  check(cmdline === CMDLINE, `#cmdline is ${JSON.stringify(cmdline)}, not ${JSON.stringify(CMDLINE)}`);
  // Let the destination panel finish (it fetches the prevalence) before looking for stray nodes.
  await page.waitForFunction(() => {
    const stats = document.getElementById('dest-stats');
    return stats && !stats.textContent.includes('Loading');
  });
  const elements = await page.$$eval('script', (list) => list.map((s) => s.getAttribute('src') || `inline: ${s.textContent.slice(0, 80)}`));
  check(elements.length === 1 && elements[0] === '/js/main.js', `the page has <script> elements other than main.js: ${JSON.stringify(elements)}`);
  const images = await page.$$eval('img', (list) => list.map((i) => i.outerHTML));
  check(images.length === 0, `the page has <img> elements: ${JSON.stringify(images)}`);
  noDialogs();
  step('the command line is shown as text; no injected <script> or <img>, no dialog');

  // d. Acknowledge with a note.
  await page.fill('#by', ANALYST);
  await page.fill('#note', NOTE);
  await page.click('#ack');
  await page.locator('#alert-status', { hasText: 'acknowledged' }).waitFor();
  await page.locator('#triage-result', { hasText: 'Saved: acknowledged.' }).waitFor();
  await page.locator('#triage-note', { hasText: NOTE }).waitFor();
  const acked = await api('/api/v1/alerts/' + encodeURIComponent(target.id));
  check(acked.triage.status === 'acknowledged', `the API says the status is ${acked.triage.status}, not acknowledged`);
  check(acked.triage.note === NOTE, `the API has the note ${JSON.stringify(acked.triage.note)}`);
  check(acked.triage.by === ANALYST, `the API has the analyst ${JSON.stringify(acked.triage.by)}`);
  noDialogs();
  step('acknowledged, in the page and in the API');

  // g. The screenshot of the alert, acknowledged. Reloaded first: the page shows
  // what the server kept (the destination panel's alert list is not refreshed
  // by a triage change), and still needs no new sign-in (the token is in
  // sessionStorage).
  await page.reload();
  await page.locator('#alert-status', { hasText: 'acknowledged' }).waitFor();
  await page.locator('#triage-note', { hasText: NOTE }).waitFor();
  await page.waitForFunction(() => {
    const stats = document.getElementById('dest-stats');
    return stats && !stats.textContent.includes('Loading');
  });
  check(await page.locator('#login-view').isHidden(), 'a reload asks for the token again');
  noDialogs();
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  step(`screenshot saved to ${screenshot}`);

  // e. Allowlist the destination from the allowlist page.
  const destination = acked.alert.destination;
  check(destination.ip === DESTINATION, `the alert's destination is ${destination.ip}, not ${DESTINATION}`);
  await page.click('#nav-allowlist');
  await page.waitForFunction(() => location.hash === '#/allowlist');
  await page.locator('#al-form').waitFor();
  await page.locator('#allowlist-table tbody td').first().waitFor();
  await page.selectOption('#al-kind', 'ip');
  await page.fill('#al-value', DESTINATION);
  await page.fill('#al-reason', 'Documentation address used by the browser test');
  await page.click('#al-add');
  await page.locator('#al-result', { hasText: 'open alerts resolved' }).waitFor();
  const result = await page.locator('#al-result').textContent();
  const resolved = Number((/^([\d,]+) open alerts resolved/.exec(result) || [])[1]?.replace(/,/g, ''));
  check(resolved >= 1, `#al-result says ${JSON.stringify(result)}`);
  await page.locator('#allowlist-table tbody td', { hasText: DESTINATION }).first().waitFor();
  const entries = (await api('/api/v1/allowlist')).entries.filter((e) => e.value === DESTINATION);
  check(entries.length === 1, `the API lists ${entries.length} allowlist entries for ${DESTINATION}`);
  const entry = entries[0];
  const forDestination = (await api(`/api/v1/alerts?q=${encodeURIComponent(DESTINATION)}&limit=1000`)).alerts
    .filter((r) => r.alert.destination.ip === DESTINATION);
  const others = forDestination.filter((r) => r.alert.id !== target.id);
  check(others.length >= 1, `no other alert for ${DESTINATION}: ${forDestination.map((r) => r.alert.id)}`);
  for (const r of others) {
    check(r.triage.status === 'resolved', `alert ${r.alert.id} (${r.alert.host}) is ${r.triage.status}, not resolved`);
    const reason = r.triage.reason || '';
    check(reason.includes(`allowlist entry ${entry.id}`), `alert ${r.alert.id} has the reason ${JSON.stringify(reason)}, which names no allowlist entry ${entry.id}`);
  }
  noDialogs();
  step(`${result}; ${others.length} other alert(s) for ${DESTINATION} resolved by allowlist entry ${entry.id}`);

  // f. The status page shows the activation of each platform.
  await page.click('#nav-status');
  await page.locator('#activation .activation-text').first().waitFor();
  const activation = await page.$$eval('#activation .activation-text', (spans) => spans.map((s) => s.textContent));
  const windows = activation.find((line) => /^Windows: (active|day [\d,]+ of [\d,]+)$/.test(line));
  check(windows, `no "Windows: ..." activation line: ${JSON.stringify(activation)}`);
  noDialogs();
  step(`status page: ${activation.join('; ')}`);
}

let browser;
let page;
let failed = false;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => pageErrors.push(String(err && err.message)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push({ text: msg.text(), url: msg.location().url || '' });
  });
  page.on('response', (res) => {
    if (res.request().resourceType() !== 'script') return;
    scripts.set(res.url(), { status: res.status(), type: res.headers()['content-type'] || '', body: res.text().catch(() => '') });
  });
  page.on('requestfailed', (req) => {
    failedRequests.push({ url: req.url(), type: req.resourceType(), error: req.failure() && req.failure().errorText });
  });
  await main(page);
  noDialogs();
  console.log('ui.mjs: every step passed');
} catch (err) {
  failed = true;
  console.error(`FAIL: ${err && err.message ? err.message : err}`);
  if (consoleErrors.length) console.error(`browser console errors:\n  ${consoleErrors.map((e) => `${e.text} (${e.url})`).join('\n  ')}`);
  if (page) {
    const banner = await page.locator('#error-text').textContent().catch(() => null);
    if (banner) console.error(`UI error banner: ${banner}`);
    const at = screenshot.replace(/(\.png)?$/, '.failure.png');
    try {
      mkdirSync(dirname(at), { recursive: true });
      await page.screenshot({ path: at, fullPage: true });
      console.error(`page at the failure: ${at} (${page.url()})`);
    } catch (_) { /* the page is gone */ }
  }
} finally {
  if (browser) await browser.close().catch(() => {});
}
process.exit(failed ? 1 : 0);
