// api.js: the client of seldom's REST API. One wrapper, so that every call
// carries the bearer token, every 401 brings up the login form (through the
// handler main.js registers: this module knows no page), and every other
// failure becomes an ApiError with a readable message.

import { obj, str } from './format.js';

const TOKEN_KEY = 'seldom-token';  // sessionStorage: the bearer token

export class AuthRequired extends Error {}
export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

let authRequired = () => {};

/** What to do when the server answers 401 (given the message to show). */
export function onAuthRequired(handler) {
  authRequired = handler;
}

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
}

/** Keeps the token for this tab (an empty one is forgotten). */
export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) { /* storage disabled: the token lives only until reload */ }
}

export function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* ignore */ }
}

export async function api(method, path, body) {
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
    authRequired(token ? 'The server rejected this token. Enter a valid one.' : 'This server needs an API token.');
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
