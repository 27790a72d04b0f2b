// shell.js: what lives around the views and survives route changes. The error
// banner and the login form (both in index.html, outside the view; the banner
// only ever gets text), the sign-out button, the page's refresh timers (stopped
// on every route change and at sign-in), and the analyst's name for triage.

import { $ } from './dom.js';
import { str } from './format.js';
import { AuthRequired, getToken } from './api.js';

const ANALYST_KEY = 'seldom-analyst';  // localStorage: the analyst's name for triage

let timers = [];

export function showError(err) {
  if (err instanceof AuthRequired) return;
  const msg = err && err.message ? err.message : str(err);
  $('error-text').textContent = msg;
  $('error').hidden = false;
}
export function clearError() {
  $('error-text').textContent = '';
  $('error').hidden = true;
}

export function showLogin(message) {
  stopTimers();
  $('login-msg').textContent = message;
  $('login-view').hidden = false;
  $('view').hidden = true;
  $('token').value = '';
  $('token').focus();
}

export function hideLogin() {
  $('login-view').hidden = true;
  $('view').hidden = false;
}

export function loginShown() {
  return !$('login-view').hidden;
}

export function updateLogoutButton() {
  $('logout').hidden = !getToken();
}

/** Runs `fn` every `ms` until the next route change (or sign-in). */
export function every(ms, fn) {
  timers.push(setInterval(fn, ms));
}

export function stopTimers() {
  for (const t of timers) clearInterval(t);
  timers = [];
}

export function analystName() {
  try { return localStorage.getItem(ANALYST_KEY) || ''; } catch (_) { return ''; }
}
export function rememberAnalyst(name) {
  try { localStorage.setItem(ANALYST_KEY, name); } catch (_) { /* storage disabled */ }
}
