// main.js: the seldom analyst UI's entry point (index.html loads it as a
// module): the router that draws a page for the hash route, and the wiring of
// the static controls in index.html (CSP forbids inline handlers).
//
// The UI is vanilla ES2020 modules, no framework and no build step, embedded in
// the binary and served by `seldom serve` from /js/ under
// `Content-Security-Policy: default-src 'self'`. Everything the API returns is
// attacker-controlled: nodes are made only through dom.js, never from HTML.
//
// Import graph: each module imports only modules on the rows below its own,
// so there is no cycle (the Rust test `ui_assets::tests` checks this, and that
// every import is served). Pages reach the router through nav.js (navigate) and
// the API reaches the login form through a handler registered here, which is
// what keeps the arrows pointing down.
//
//   main       -> overview incidents list detail destination allowlist status shell nav api dom
//   overview   -> incidents list chart widgets nav api format dom
//   incidents  -> widgets nav api format dom
//   detail     -> destination chart triage widgets nav api format dom
//   destination -> chart widgets nav api format dom
//   list       -> widgets nav api format dom
//   allowlist  -> widgets shell api format dom
//   status     -> widgets shell api format dom
//   triage     -> widgets shell api format dom
//   chart      -> format dom
//   widgets    -> format dom
//   shell      -> api format dom
//   nav        -> format
//   api        -> format
//   format     -> (nothing)
//   dom        -> (nothing)

import { $, el } from './dom.js';
import { forgetToken, onAuthRequired, setToken } from './api.js';
import { clearError, hideLogin, loginShown, showError, showLogin, stopTimers, updateLogoutButton } from './shell.js';
import { onRender, parseHash, rememberListHash } from './nav.js';
import { renderAlertList } from './list.js';
import { renderOverview } from './overview.js';
import { renderIncident, renderIncidents } from './incidents.js';
import { renderAlertDetail } from './detail.js';
import { renderDestination } from './destination.js';
import { renderAllowlist } from './allowlist.js';
import { renderStatus } from './status.js';

let generation = 0;  // bumped on every render; late answers for old views are dropped

function setActiveNav(name) {
  for (const id of ['nav-overview', 'nav-incidents', 'nav-alerts', 'nav-allowlist', 'nav-status']) {
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

  if (parts[0] === 'overview') {
    setActiveNav('overview');
    renderOverview(view, query, isCurrent).catch(showError);
  } else if (parts[0] === 'incidents' && parts.length >= 2) {
    setActiveNav('incidents');
    renderIncident(view, parts.slice(1).join('/'), isCurrent).catch(showError);
  } else if (parts[0] === 'incidents') {
    setActiveNav('incidents');
    renderIncidents(view, isCurrent).catch(showError);
  } else if (parts[0] === 'destinations' && parts.length >= 2) {
    setActiveNav('alerts');
    renderDestination(view, parts.slice(1).join('/'), isCurrent).catch(showError);
  } else if (parts[0] === 'alerts' && parts.length >= 2) {
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
    rememberListHash(location.hash || '#/alerts');
    renderAlertList(view, query, isCurrent).catch(showError);
  } else {
    // Default route (also for unknown ones): what needs a human.
    location.replace('#/overview');
  }
}

function init() {
  onRender(render);
  onAuthRequired(showLogin);
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken($('token').value.trim());
    hideLogin();
    render();
  });
  $('logout').addEventListener('click', () => {
    forgetToken();
    updateLogoutButton();
    showLogin('Signed out.');
  });
  $('error-close').addEventListener('click', clearError);
  window.addEventListener('hashchange', () => { if (!loginShown()) render(); });
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    history.replaceState(null, '', '#/overview');  // no hashchange: render below
  }
  render();
}

// Module scripts run after the document is parsed; the check is for safety.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
