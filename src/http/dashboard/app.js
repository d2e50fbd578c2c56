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
  const d = Math.floor(seconds / 86400),
    h = Math.floor((seconds % 86400) / 3600),
    m = Math.floor((seconds % 3600) / 60),
    s = seconds % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}
const fill = (tbody, rows) => tbody.replaceChildren(...rows);

const serverRow = (s) =>
  el(
    'tr',
    {},
    el('td', {}, `${s.host} pid ${s.pid}`),
    el('td', {}, s.address),
    el('td', { class: s.status === 'serving' ? 'status-ok' : 'status-down' }, s.status),
    el('td', { class: 'uptime' }, duration(s.uptimeSeconds)),
    el('td', {}, s.version),
    el('td', {}, when(s.lastHeartbeat)),
    el('td', {}, String(s.processes)),
    el('td', {}, String(s.subscribers)),
    el('td', { class: / down$/.test(s.channel) ? 'status-down' : '' }, s.channel || '-'),
  );

/** Live servers first; stopped and down ones folded under them (a day of restarts leaves dozens). */
async function loadServers() {
  const { servers } = await api('/api/servers');
  const live = servers.filter((s) => s.status === 'serving');
  const past = servers.filter((s) => s.status !== 'serving');
  fill(
    $('#servers tbody'),
    live.length
      ? live.map(serverRow)
      : [el('tr', {}, el('td', { colspan: 9 }, servers.length ? 'No server is serving now.' : 'No server has reported yet.'))],
  );
  $('#servers-past').hidden = past.length === 0;
  $('#servers-past summary').textContent = `${past.length} stopped or down server${past.length === 1 ? '' : 's'}`;
  fill($('#servers-past tbody'), past.map(serverRow));
}

async function loadServices() {
  const { services } = await api('/api/services');
  $('#services').replaceChildren(
    ...services
      .filter((s) => !s.builtin)
      .map((s) =>
        el(
          'div',
          { class: 'service' },
          el('h3', {}, s.name, el('span', { class: 'tag' }, s.className)),
          el(
            'ul',
            {},
            ...s.methods.map((m) =>
              el(
                'li',
                {},
                m.name,
                m.kind === 'unary' ? '' : el('span', { class: 'tag' }, m.kind),
                el(
                  'span',
                  { class: m.public ? 'tag' : 'tag private', title: m.public ? 'no token needed' : 'refused without the access named' },
                  m.access,
                ),
              ),
            ),
          ),
        ),
      ),
  );
}

function callsQuery() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('#calls-filter'))) if (String(v).trim() !== '') params.set(k, String(v).trim());
  return params.toString();
}

async function loadCalls() {
  const { calls } = await api(`/api/calls?${callsQuery()}`);
  fill(
    $('#calls tbody'),
    calls.map((c) =>
      el(
        'tr',
        { 'data-status': c.status },
        el('td', {}, when(c.createdAt)),
        el('td', {}, `${c.service}/${c.method}`),
        el('td', { class: c.code === 0 ? 'status-ok' : 'status-err' }, c.status),
        el('td', { class: 'num' }, c.durationMs.toFixed(2)),
        el('td', {}, c.username ?? c.userId ?? ''),
        el('td', {}, c.peer ?? ''),
        el('td', {}, c.error ?? ''),
      ),
    ),
  );
}

/** Horizontal bars, one group per method; `series` = [{ key, cls, format }]. */
function barChart(container, methods, series, max) {
  const rowH = 14 * series.length + 8,
    labelW = 220,
    width = 560,
    barW = width - labelW - 70;
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
  barChart(
    $('#chart-latency'),
    methods,
    [
      { key: 'p50Ms', cls: 'bar-p50', format: (v) => `${v.toFixed(1)} ms` },
      { key: 'p99Ms', cls: 'bar-p99', format: (v) => `${v.toFixed(1)} ms` },
    ],
    maxMs,
  );
}

/** Per method, a small chart: calls per second (blue) and p99 ms (orange), each on its own scale. */
async function loadSeries() {
  const { methods, bucketSeconds } = await api(`/api/stats/series?window=${encodeURIComponent($('#window').value)}`);
  const width = 240,
    height = 60;
  const line = (points, key, cls) => {
    const max = Math.max(...points.map((p) => p[key]), 0);
    const xy = points.map(
      (p, i) =>
        `${((i / Math.max(1, points.length - 1)) * width).toFixed(1)},${(height - (max > 0 ? (p[key] / max) * (height - 4) : 0) - 2).toFixed(1)}`,
    );
    return { node: svg('polyline', { points: xy.join(' '), class: cls }), max };
  };
  $('#chart-series').replaceChildren(
    ...(methods.length
      ? methods.map((m) => {
          const rate = line(m.points, 'callsPerSecond', 'line-rate');
          const p99 = line(m.points, 'p99Ms', 'line-p99');
          const chart = svg('svg', { width, height, role: 'img', 'data-method': `${m.service}/${m.method}` });
          chart.append(
            svg(
              'title',
              {},
              `${m.service}/${m.method}: up to ${rate.max.toFixed(2)} calls/s, p99 up to ${p99.max.toFixed(1)} ms (${bucketSeconds}s steps)`,
            ),
            rate.node,
            p99.node,
          );
          return el(
            'figure',
            {},
            el('figcaption', {}, `${m.service.split('.').pop()}/${m.method}: ≤ ${rate.max.toFixed(1)}/s, p99 ≤ ${p99.max.toFixed(1)} ms`),
            chart,
          );
        })
      : [el('p', {}, 'No calls in this window.')]),
  );
}

async function loadKeys() {
  const { keys } = await api('/api/keys');
  fill(
    $('#keys tbody'),
    keys.map((k) =>
      el(
        'tr',
        { 'data-key-id': k.id },
        el('td', {}, k.id),
        el('td', {}, k.name),
        el('td', {}, el('code', {}, k.prefix)),
        el('td', {}, k.username),
        el('td', { title: k.createdBy ? '' : 'made with database access (cfg apikey create or code)' }, k.createdBy ?? 'operator'),
        el('td', { class: k.isActive ? 'status-ok' : 'status-err' }, k.isActive ? 'yes' : 'revoked'),
        el('td', {}, when(k.createdAt)),
        el('td', {}, when(k.expiresAt)),
        el('td', {}, when(k.lastUsedAt)),
        el('td', {}, k.isActive ? el('button', { type: 'button', class: 'revoke', onclick: () => revoke(k) }, 'Revoke') : ''),
      ),
    ),
  );
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

// --- Request console: a form from the request message's fields (or raw JSON), sent through the
// web listener by the side port (/api/console/call/...), the reply read as NDJSON as it comes.
let consoleMethods = [];
let consoleAbort;

function currentMethod() {
  return consoleMethods.find((m) => m.path === $('#console-method').value);
}

function fieldInput(f) {
  const id = `console-field-${f.name}`;
  let input;
  if (f.kind === 'scalar' && f.type === 'bool') input = el('input', { id, type: 'checkbox', 'data-field': f.name });
  else if (f.kind === 'enum') input = el('select', { id, 'data-field': f.name }, ...f.values.map((v) => el('option', { value: v }, v)));
  else if (f.kind === 'scalar') input = el('input', { id, 'data-field': f.name, placeholder: f.type, size: 16 });
  else
    input = el('textarea', {
      id,
      'data-field': f.name,
      rows: 2,
      cols: 30,
      placeholder: f.kind === 'map' ? '{}' : f.kind === 'list' ? '[]' : '{}',
    });
  return el('label', { for: id }, `${f.name} (${f.kind === 'scalar' ? f.type : f.kind === 'enum' ? 'enum' : f.kind})`, input);
}

/** The request as JSON from the form: empty fields left out (their defaults). */
function formRequest() {
  const m = currentMethod();
  const out = {};
  for (const f of m.fields) {
    const input = document.querySelector(`[data-field="${CSS.escape(f.name)}"]`);
    if (f.kind === 'scalar' && f.type === 'bool') {
      if (input.checked) out[f.name] = true;
    } else if (f.kind === 'enum') {
      if (input.selectedIndex > 0) out[f.name] = input.value;
    } else if (input.value.trim() !== '') {
      if (f.kind !== 'scalar') out[f.name] = JSON.parse(input.value);
      else if (/^(int32|uint32|sint32|fixed32|sfixed32|float|double)$/.test(f.type)) out[f.name] = Number(input.value);
      else out[f.name] = input.value;
    }
  }
  return out;
}

function showMethod() {
  const m = currentMethod();
  $('#console-fields').replaceChildren(...(m ? m.fields.map(fieldInput) : []));
  $('#console-raw').value = '{}';
}

async function loadConsole() {
  const { web, methods } = await api('/api/console');
  consoleMethods = methods;
  $('#console-off').hidden = web;
  $('#console-form').hidden = !web;
  $('#console-method').replaceChildren(
    ...methods.map((m) => el('option', { value: m.path }, `${m.path.slice(1)}${m.kind === 'unary' ? '' : ` [${m.kind}]`}`)),
  );
  showMethod();
}

function consoleShow({ status, time, headers, trailers }) {
  if (status !== undefined) $('#console-status').textContent = status;
  if (time !== undefined) $('#console-time').textContent = time;
  if (headers !== undefined) $('#console-headers').textContent = JSON.stringify(headers, null, 2);
  if (trailers !== undefined) $('#console-trailers').textContent = JSON.stringify(trailers, null, 2);
}

async function consoleSend(event) {
  event.preventDefault();
  const m = currentMethod();
  let request;
  try {
    request = $('#console-raw-toggle').checked ? JSON.parse($('#console-raw').value || '{}') : formRequest();
  } catch (err) {
    consoleShow({ status: `not sent: the request is not JSON (${err.message})`, time: '' });
    return;
  }
  consoleAbort?.abort();
  const abort = (consoleAbort = new AbortController());
  $('#console-reply').textContent = '';
  $('#console-messages').replaceChildren();
  consoleShow({ status: 'sending…', time: '', headers: {}, trailers: {} });
  $('#console-cancel').disabled = false;
  const as = $('#console-as').value;
  const headers = {
    authorization: `Bearer ${sessionStorage.getItem(KEY)}`,
    'content-type': 'application/json',
    'x-cfg-console-as': as === 'other' ? 'credential' : as,
  };
  if (as === 'other') headers['x-cfg-console-credential'] = $('#console-credential').value.trim();
  const started = performance.now();
  try {
    const res = await fetch(`/api/console/call${m.path}`, { method: 'POST', headers, body: JSON.stringify(request), signal: abort.signal });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.message || `${res.status} ${res.statusText}`);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const event = JSON.parse(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (event.headers) consoleShow({ headers: event.headers, status: m.kind === 'unary' ? 'waiting for the reply…' : 'streaming…' });
        if (event.message !== undefined) {
          if (m.kind === 'unary') $('#console-reply').textContent = JSON.stringify(event.message, null, 2);
          else $('#console-messages').append(el('li', {}, JSON.stringify(event.message)));
        }
        if (event.status) {
          consoleShow({
            status: event.status.message ? `${event.status.name}: ${event.status.message}` : event.status.name,
            time: `${event.ms.toFixed(1)} ms`,
            trailers: event.trailers ?? {},
          });
        }
      }
    }
  } catch (err) {
    if (abort.signal.aborted) consoleShow({ status: 'CANCELLED (by you)', time: `${(performance.now() - started).toFixed(1)} ms` });
    else consoleShow({ status: `not sent: ${err.message}`, time: '' });
  } finally {
    if (consoleAbort === abort) $('#console-cancel').disabled = true;
  }
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
const refresh = () => guard(() => Promise.all([loadServers(), loadCalls(), loadStats(), loadSeries()]));

async function signIn() {
  let failure = '';
  try {
    const me = await api('/api/me');
    $('#who').textContent = `signed in as ${me.username}`;
    await Promise.all([loadServices(), loadServers(), loadCalls(), loadStats(), loadSeries(), loadKeys(), loadConsole()]);
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
  $('#window').addEventListener('change', () => void guard(() => Promise.all([loadStats(), loadSeries()])));
  $('#key-form').addEventListener('submit', (e) => void createKey(e));
  $('#console-method').addEventListener('change', showMethod);
  $('#console-as').addEventListener('change', () => ($('#console-credential').hidden = $('#console-as').value !== 'other'));
  $('#console-raw-toggle').addEventListener('change', () => {
    const raw = $('#console-raw-toggle').checked;
    if (raw) {
      try {
        $('#console-raw').value = JSON.stringify(formRequest(), null, 2);
      } catch {
        /* keep what the raw box holds */
      }
    }
    $('#console-raw').hidden = !raw;
    $('#console-fields').hidden = raw;
  });
  $('#console-form').addEventListener('submit', (e) => void consoleSend(e));
  $('#console-cancel').addEventListener('click', () => consoleAbort?.abort());
  if (sessionStorage.getItem(KEY)) void signIn();
  else signOut();
});
