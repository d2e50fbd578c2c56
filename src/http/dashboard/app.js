// The cfg operations dashboard: plain DOM and SVG over the side port's JSON API. Every value from
// the server is set as text (never as HTML). The credential lives in sessionStorage only.


const KEY = 'cfg.credential';
const REFRESH_MS = 5000;
const $ = (sel) => document.querySelector(sel);
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

class AuthError extends Error {}

async function api(path, init = {}) {
  const credential = sessionStorage.getItem(KEY);
  const headers = { authorization: `Bearer ${credential}`, ...(init.body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(path, { ...init, headers });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) throw new AuthError(body.message || res.statusText);
  if (!res.ok) throw new Error(body.message || `${res.status} ${res.statusText}`);
  return body;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
function duration(seconds) {
  if (seconds == null) return '';
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}
const fill = (tbody, rows) => tbody.replaceChildren(...rows);

async function loadServers() {
  const { servers } = await api('/api/servers');
  fill($('#servers tbody'), servers.length ? servers.map((s) =>
    el('tr', {},
      el('td', {}, `${s.host} pid ${s.pid}`),
      el('td', {}, s.address),
      el('td', { class: s.status === 'down' ? 'status-down' : 'status-ok' }, s.status),
      el('td', { class: 'uptime' }, duration(s.uptimeSeconds)),
      el('td', {}, s.version),
      el('td', {}, when(s.lastHeartbeat)),
      el('td', {}, String(s.processes)),
      el('td', {}, String(s.subscribers)),
      el('td', { class: / down$/.test(s.channel) ? 'status-down' : '' }, s.channel || '-')),
  ) : [el('tr', {}, el('td', { colspan: 9 }, 'No server has reported yet.'))]);
}

async function loadServices() {
  const { services } = await api('/api/services');
  $('#services').replaceChildren(...services.filter((s) => !s.builtin).map((s) =>
    el('div', { class: 'service' },
      el('h3', {}, s.name, el('span', { class: 'tag' }, s.className)),
      el('ul', {}, ...s.methods.map((m) =>
        el('li', {}, m.name,
          m.kind === 'unary' ? '' : el('span', { class: 'tag' }, m.kind),
          el('span', { class: m.public ? 'tag' : 'tag private', title: m.public ? 'no token needed' : 'refused without the access named' }, m.access)))))));
}

function callsQuery() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('#calls-filter'))) if (String(v).trim() !== '') params.set(k, String(v).trim());
  return params.toString();
}

async function loadCalls() {
  const { calls } = await api(`/api/calls?${callsQuery()}`);
  fill($('#calls tbody'), calls.map((c) =>
    el('tr', { 'data-status': c.status },
      el('td', {}, when(c.createdAt)),
      el('td', {}, `${c.service}/${c.method}`),
      el('td', { class: c.code === 0 ? 'status-ok' : 'status-err' }, c.status),
      el('td', { class: 'num' }, c.durationMs.toFixed(2)),
      el('td', {}, c.username ?? (c.userId ?? '')),
      el('td', {}, c.peer ?? ''),
      el('td', {}, c.error ?? ''))));
}

/** Horizontal bars, one group per method; `series` = [{ key, cls, format }]. */
function barChart(container, methods, series, max) {
  const rowH = 14 * series.length + 8, labelW = 220, width = 560, barW = width - labelW - 70;
  const root = svg('svg', { width, height: Math.max(rowH * methods.length, 24), role: 'img' });
  if (methods.length === 0) root.append(svg('text', { x: 0, y: 16 }, 'No calls in this window.'));
  methods.forEach((m, i) => {
    const y = i * rowH;
    root.append(svg('text', { x: 0, y: y + 12 }, `${m.service.split('.').pop()}/${m.method}`));
    series.forEach((s, j) => {
      const v = m[s.key];
      const w = max > 0 ? Math.max(1, (v / max) * barW) : 1;
      const bar = svg('rect', { x: labelW, y: y + j * 14, width: w, height: 12, class: s.cls });
      bar.append(svg('title', {}, `${m.service}/${m.method} ${s.key}: ${s.format(v)}`));
      root.append(bar, svg('text', { x: labelW + w + 4, y: y + j * 14 + 10, class: 'value' }, s.format(v)));
    });
  });
  container.replaceChildren(root);
}

async function loadStats() {
  const { methods } = await api(`/api/stats?window=${encodeURIComponent($('#window').value)}`);
  barChart($('#chart-errors'), methods, [{ key: 'errorRate', cls: 'bar-err', format: (v) => `${(v * 100).toFixed(1)}%` }], 1);
  const maxMs = Math.max(0, ...methods.map((m) => m.p99Ms));
  barChart($('#chart-latency'), methods, [
    { key: 'p50Ms', cls: 'bar-p50', format: (v) => `${v.toFixed(1)} ms` },
    { key: 'p99Ms', cls: 'bar-p99', format: (v) => `${v.toFixed(1)} ms` },
  ], maxMs);
}

async function loadKeys() {
  const { keys } = await api('/api/keys');
  fill($('#keys tbody'), keys.map((k) =>
    el('tr', { 'data-key-id': k.id },
      el('td', {}, k.id), el('td', {}, k.name), el('td', {}, el('code', {}, k.prefix)), el('td', {}, k.username),
      el('td', { title: k.createdBy ? '' : 'made with database access (cfg apikey create or code)' }, k.createdBy ?? 'operator'),
      el('td', { class: k.isActive ? 'status-ok' : 'status-err' }, k.isActive ? 'yes' : 'revoked'),
      el('td', {}, when(k.createdAt)), el('td', {}, when(k.expiresAt)), el('td', {}, when(k.lastUsedAt)),
      el('td', {}, k.isActive ? el('button', { type: 'button', class: 'revoke', onclick: () => revoke(k) }, 'Revoke') : ''))));
}

async function revoke(key) {
  if (!confirm(`Revoke API key "${key.name}" (${key.prefix}…)? Calls using it will be refused.`)) return;
  await guard(async () => {
    await api(`/api/keys/${key.id}`, { method: 'DELETE' });
    await loadKeys();
  });
}

async function createKey(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { name: String(form.get('name')).trim() };
  if (String(form.get('username')).trim()) body.username = String(form.get('username')).trim();
  if (form.get('expiresAt')) body.expiresAt = new Date(String(form.get('expiresAt'))).toISOString();
  await guard(async () => {
    const { key } = await api('/api/keys', { method: 'POST', body: JSON.stringify(body) });
    $('#new-key-value').textContent = key;
    $('#new-key').hidden = false;
    event.target.reset();
    await loadKeys();
  });
}

/** Runs fn; an auth failure signs out, any other error is shown. */
async function guard(fn) {
  try {
    await fn();
    $('#error').textContent = '';
  } catch (err) {
    if (err instanceof AuthError) signOut(err.message);
    else $('#error').textContent = err.message;
  }
}

let timer;
const refresh = () => guard(() => Promise.all([loadServers(), loadCalls(), loadStats()]));

async function signIn() {
  let failure = '';
  try {
    const me = await api('/api/me');
    $('#who').textContent = `signed in as ${me.username}`;
    await Promise.all([loadServices(), loadServers(), loadCalls(), loadStats(), loadKeys()]);
  } catch (err) {
    if (err instanceof AuthError) return signOut(err.message);
    failure = err.message;
  }
  $('#login').hidden = true;
  $('#main').hidden = false;
  $('#logout').hidden = false;
  $('#error').textContent = failure;
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_MS);
}

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  clearInterval(timer);
  $('#who').textContent = '';
  $('#main').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
}

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('#credential').value.trim());
    $('#credential').value = '';
    void signIn();
  });
  $('#logout').addEventListener('click', () => signOut());
  $('#calls-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    void guard(loadCalls);
  });
  $('#window').addEventListener('change', () => void guard(loadStats));
  $('#key-form').addEventListener('submit', (e) => void createKey(e));
  if (sessionStorage.getItem(KEY)) void signIn();
  else signOut();
});
