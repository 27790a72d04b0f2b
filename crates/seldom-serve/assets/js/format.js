// format.js: defensive readers and formatters. Any field of any record the API
// returns may be null, missing or of an unexpected type, and the page must still
// render: values are read through obj / arr / num / str and shown through the
// formatters, which never throw. Pure functions; no DOM.

export const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
export const arr = (v) => (Array.isArray(v) ? v : []);
export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function str(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try { return JSON.stringify(v); } catch (_) { return String(v); }
}

export function fmtNum(v, digits = 0) {
  const n = num(v);
  if (n === null) return '—';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

// Times are shown in UTC, like the telemetry they come from.
export function fmtTime(v) {
  const s = str(v);
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

export function fmtDuration(seconds) {
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
export function baseName(path) {
  const s = str(path);
  const parts = s.split(/[\\/]/);
  return parts[parts.length - 1] || s;
}

export function titleCase(s) {
  const t = str(s);
  const known = { windows: 'Windows', linux: 'Linux', macos: 'macOS' };
  if (known[t.toLowerCase()]) return known[t.toLowerCase()];
  return t ? t.charAt(0).toUpperCase() + t.slice(1) : t;
}

export const statusLabel = (s) => str(s).replace(/_/g, ' ') || 'unknown';

export function destinationLabel(dest) {
  const d = obj(dest);
  return str(d.forward_name) || str(d.registered_domain) || str(d.hostname) || str(d.ip);
}

export function destinationKey(dest) {
  const d = obj(dest);
  const key = obj(d.key);
  if (str(key.value)) return { type: str(key.type), value: str(key.value) };
  if (str(d.registered_domain)) return { type: 'domain', value: str(d.registered_domain) };
  if (str(d.ip)) return { type: 'ip', value: str(d.ip) };
  return null;
}
