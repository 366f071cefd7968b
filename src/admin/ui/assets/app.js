// gatewatch live alerts page. Plain DOM, no framework, no HTML built from strings: every
// value from an alert is attacker-influenced and goes in as text.

const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const BUCKET_MS = 10_000;
const BUCKETS = 60;
const MAX_ALERTS = 500;

const $ = (id) => document.getElementById(id);
const state = {
  alerts: new Map(), // id -> alert (kept updated by "update" messages)
  order: [], // ids, newest first
  resolved: new Set(),
  selected: undefined,
  categories: new Set(['credential', 'anomaly', 'exfiltration']),
  minSeverity: 'info',
  text: '',
  alertTimes: [], // receipt times, for the alerts chart
  requestSeries: [], // [time, cumulative requests]
};

// The token: from ?token= (then dropped from the address bar) or this tab's session.
const token = (() => {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('gatewatch.token', fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem('gatewatch.token') || undefined;
})();
const authHeaders = token ? { authorization: `Bearer ${token}` } : {};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

function timeOf(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour12: false });
}

function identityOf(a) {
  const i = a.identity || {};
  return i.key_fingerprint || i.user || i.client_ip || '';
}

function routeOf(a) {
  const r = a.request || {};
  return [r.method, r.path].filter(Boolean).join(' ');
}

function safeSeverity(s) {
  return SEVERITIES.includes(s) ? s : 'info';
}

function visible(a) {
  if (!state.categories.has(a.category)) return false;
  if (SEVERITIES.indexOf(safeSeverity(a.severity)) < SEVERITIES.indexOf(state.minSeverity)) return false;
  if (state.text) {
    const hay = [a.detector, a.title, identityOf(a), routeOf(a), a.request?.model, a.identity?.user, a.identity?.team].join(' ').toLowerCase();
    if (!hay.includes(state.text)) return false;
  }
  return true;
}

function row(a) {
  const sev = safeSeverity(a.severity);
  const tr = el(
    'tr',
    { class: `alert sev-${sev}`, tabindex: '0', dataset: { id: a.id, detector: a.detector, category: a.category, severity: sev } },
    el('td', { class: 'time' }, timeOf(a.last_seen || a.time)),
    el('td', {}, el('span', { class: `sev sev-${sev}` }, sev)),
    el('td', { class: 'detector' }, el('div', { class: 'det-id' }, a.detector), el('div', { class: 'det-title' }, a.title)),
    el('td', { class: 'mono' }, identityOf(a)),
    el('td', { class: 'mono' }, routeOf(a)),
    el('td', { class: 'model' }, a.request?.model || ''),
    el('td', { class: 'num' }, a.count ?? 1),
  );
  if (state.resolved.has(a.id)) tr.classList.add('resolved');
  if (state.selected === a.id) tr.classList.add('selected');
  return tr;
}

function renderFeed() {
  const body = $('feed');
  const rows = [];
  for (const id of state.order) {
    const a = state.alerts.get(id);
    if (a && visible(a)) rows.push(row(a));
  }
  body.replaceChildren(...rows);
  $('empty').hidden = rows.length > 0;
  $('empty').textContent = state.order.length === 0 ? 'Waiting for alerts…' : 'No alert matches the filters.';
  $('shown-count').textContent = `${rows.length} of ${state.order.length} shown`;
}

function safeLink(href) {
  if (!href) return undefined;
  try {
    const url = new URL(href, location.origin);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

function renderDetail() {
  const a = state.selected && state.alerts.get(state.selected);
  $('detail').hidden = !a;
  if (!a) return;
  const sev = safeSeverity(a.severity);
  const badge = $('d-severity');
  badge.className = `sev sev-${sev}`;
  badge.textContent = sev;
  $('d-title').textContent = a.title;
  $('d-summary').textContent = a.summary || '';
  const i = a.identity || {};
  const r = a.request || {};
  const fields = [
    ['Detector', a.detector],
    ['Category', a.category],
    ['Key', [i.key_type, i.key_fingerprint].filter(Boolean).join(' ')],
    ['User / team', [i.user, i.team].filter(Boolean).join(' / ')],
    ['Client IP', i.client_ip],
    ['Request', [r.method, r.path].filter(Boolean).join(' ')],
    ['Provider / model', [r.provider, r.model].filter(Boolean).join(' / ')],
    ['Direction', r.direction],
    ['Count', String(a.count ?? 1)],
    ['First seen', a.first_seen],
    ['Last seen', a.last_seen],
    ['Trace', r.trace_id],
    ['Alert id', a.id],
  ].filter(([, v]) => v);
  $('d-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  const evidence = (a.evidence || []).map((e) =>
    el('tr', {}, el('td', { class: 'mono' }, e.location), el('td', {}, e.kind), el('td', { class: 'mono' }, e.fingerprint || ''), el('td', { class: 'mono' }, e.preview || '')),
  );
  $('d-evidence').replaceChildren(...(evidence.length ? evidence : [el('tr', {}, el('td', { colspan: '4', class: 'muted' }, 'no evidence recorded'))]));
  const link = $('d-runbook');
  const href = safeLink(a.runbook);
  link.hidden = !href;
  if (href) {
    link.href = href;
    link.textContent = `Runbook: ${a.runbook}`;
  }
}

function select(id) {
  state.selected = id;
  renderFeed();
  renderDetail();
}

function addAlert(a, countForChart) {
  if (!a || typeof a.id !== 'string') return;
  if (!state.alerts.has(a.id)) {
    state.order.unshift(a.id);
    if (countForChart) state.alertTimes.push(Date.now());
    if (state.order.length > MAX_ALERTS) state.alerts.delete(state.order.pop());
  }
  state.alerts.set(a.id, a);
}

function onMessage(data) {
  let m;
  try {
    m = JSON.parse(data);
  } catch {
    return;
  }
  if (!m || !m.alert) return;
  if (m.type === 'resolved') state.resolved.add(m.alert.id);
  else addAlert(m.alert, m.type === 'firing');
  $('alert-total').textContent = String(state.order.length);
  renderFeed();
  if (state.selected === m.alert.id) renderDetail();
  renderCharts();
}

function setStatus(kind, text) {
  $('status').dataset.state = kind;
  $('status-text').textContent = text;
}

function connect(attempt = 0) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const b64 = token ? btoa(String.fromCharCode(...new TextEncoder().encode(token))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : '';
  const ws = token
    ? new WebSocket(`${scheme}//${location.host}/ui/stream`, [`gatewatch.token.${b64}`])
    : new WebSocket(`${scheme}//${location.host}/api/alerts/stream`);
  ws.addEventListener('open', () => setStatus('live', 'live'));
  ws.addEventListener('message', (e) => onMessage(e.data));
  ws.addEventListener('close', () => {
    setStatus('down', 'reconnecting…');
    setTimeout(() => connect(attempt + 1), Math.min(10_000, 500 * 2 ** attempt));
  });
}

async function loadRecent() {
  const res = await fetch('/api/alerts?limit=200', { headers: authHeaders, cache: 'no-store' });
  if (res.status === 401) {
    setStatus('down', 'unauthorized: open the page with ?token=…');
    return false;
  }
  const list = await res.json();
  for (const a of list.slice().reverse()) addAlert(a, false);
  $('alert-total').textContent = String(state.order.length);
  renderFeed();
  return true;
}

// Requests: the sum of gatewatch_requests_total from /metrics, polled.
async function pollRequests() {
  try {
    const text = await (await fetch('/metrics', { cache: 'no-store' })).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('gatewatch_requests_total')) total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
    }
    state.requestSeries.push([Date.now(), total]);
    if (state.requestSeries.length > BUCKETS * 3) state.requestSeries.shift();
    $('req-total').textContent = String(total);
    renderCharts();
  } catch {
    // the next poll tries again
  }
}

function buckets(now) {
  const start = now - BUCKETS * BUCKET_MS;
  return { start, index: (t) => Math.floor((t - start) / BUCKET_MS) };
}

function requestBuckets(now) {
  const out = new Array(BUCKETS).fill(0);
  const { index } = buckets(now);
  const s = state.requestSeries;
  for (let i = 1; i < s.length; i++) {
    const b = index(s[i][0]);
    if (b >= 0 && b < BUCKETS) out[b] += Math.max(0, s[i][1] - s[i - 1][1]);
  }
  return out;
}

function alertBuckets(now) {
  const out = new Array(BUCKETS).fill(0);
  const { index } = buckets(now);
  for (const t of state.alertTimes) {
    const b = index(t);
    if (b >= 0 && b < BUCKETS) out[b]++;
  }
  return out;
}

const SVG = 'http://www.w3.org/2000/svg';
function drawBars(svg, values, cls) {
  const max = Math.max(1, ...values);
  const w = 600 / values.length;
  const bars = values.map((v, i) => {
    const h = v === 0 ? 0 : Math.max(2, (v / max) * 84);
    const r = document.createElementNS(SVG, 'rect');
    r.setAttribute('x', String(i * w + 1));
    r.setAttribute('y', String(90 - h));
    r.setAttribute('width', String(Math.max(1, w - 2)));
    r.setAttribute('height', String(h));
    r.setAttribute('class', cls);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = String(v);
    r.append(title);
    return r;
  });
  const base = document.createElementNS(SVG, 'line');
  base.setAttribute('x1', '0');
  base.setAttribute('x2', '600');
  base.setAttribute('y1', '89.5');
  base.setAttribute('y2', '89.5');
  base.setAttribute('class', 'axis');
  svg.replaceChildren(base, ...bars);
}

function renderCharts() {
  const now = Date.now();
  drawBars($('chart-requests'), requestBuckets(now), 'bar req');
  drawBars($('chart-alerts'), alertBuckets(now), 'bar alert');
}

function bindControls() {
  for (const chip of document.querySelectorAll('#filter-category .chip')) {
    chip.addEventListener('click', () => {
      const c = chip.dataset.category;
      const on = chip.getAttribute('aria-pressed') !== 'true';
      chip.setAttribute('aria-pressed', String(on));
      if (on) state.categories.add(c);
      else state.categories.delete(c);
      renderFeed();
    });
  }
  $('filter-severity').addEventListener('change', (e) => {
    state.minSeverity = safeSeverity(e.target.value);
    renderFeed();
  });
  $('filter-text').addEventListener('input', (e) => {
    state.text = e.target.value.trim().toLowerCase();
    renderFeed();
  });
  const pick = (e) => {
    const tr = e.target.closest('tr.alert');
    if (tr) select(tr.dataset.id);
  };
  $('feed').addEventListener('click', pick);
  $('feed').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') pick(e);
  });
  $('d-close').addEventListener('click', () => select(undefined));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') select(undefined);
  });
}

bindControls();
renderCharts();
loadRecent().then((ok) => {
  if (!ok) return;
  connect();
  pollRequests();
  setInterval(pollRequests, 5_000);
  setInterval(renderCharts, BUCKET_MS / 2);
});
