// nav.js: where the analyst is, and how to go elsewhere. Routing is hash-based,
// so the server serves only static files. The alert list keeps its filters, sort
// and page in the hash query, which makes the back button and shared links
// restore exactly what the analyst was looking at. main.js registers the render
// function; pages call navigate(), so no page imports main.js.

import { str } from './format.js';

// The last four are set by the overview and incident pages (a group, an
// incident, "above Informational"), not by the filter bar, which keeps them.
const LIST_PARAMS = ['from', 'to', 'severity', 'variation', 'host', 'status', 'q', 'sort', 'offset',
  'min_severity', 'image', 'domain', 'incident'];
export const KEPT_PARAMS = ['min_severity', 'image', 'domain', 'incident'];

let rerender = () => {};
let lastList = '#/alerts';

/** The function that draws the current route (main.js's). */
export function onRender(render) {
  rerender = render;
}

export const alertHref = (id) => '#/alerts/' + encodeURIComponent(str(id));
export const incidentHref = (id) => '#/incidents/' + encodeURIComponent(str(id));

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch (_) { return s; }
}

export function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { parts: path.split('/').filter(Boolean).map(safeDecode), query };
}

/** Goes to `hash`; the same hash again draws the view afresh (no hashchange). */
export function navigate(hash) {
  if (location.hash === hash) rerender();
  else location.hash = hash;
}

/** The alert list's filters, sort and offset, from the hash query. */
export function listParams(query) {
  const params = {};
  for (const key of LIST_PARAMS) if (query.get(key)) params[key] = query.get(key);
  return params;
}

export function listHash(params) {
  const q = new URLSearchParams();
  for (const key of LIST_PARAMS) {
    const v = params[key];
    if (v !== undefined && v !== null && v !== '' && !(key === 'offset' && Number(v) === 0)) q.set(key, String(v));
  }
  const s = q.toString();
  return '#/alerts' + (s ? '?' + s : '');
}

/** The alert list as last shown, for the detail page's way back. */
export function lastListHash() {
  return lastList;
}
export function rememberListHash(hash) {
  lastList = hash;
}
