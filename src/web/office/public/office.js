// The disaster office console: active alerts (retained per area; real and drill apart),
// acknowledgements as the office user, sensor states on a map, what each sign shows, the alert
// timeline and CSV export from the audit trail, and a sensor's water depth over the last hours.
// Plain DOM + Leaflet + uPlot + mqtt.js.
//
// Payloads (src/schemas): ActiveAlerts retained on takeo/v1/alerts/<areaId>/active (an empty payload
// or alerts: [] means none), AlertAck published to takeo/v1/alerts/<areaId>/ack, DeviceStatus
// retained on takeo/v1/<kind>/<id>/status, SignHeartbeat on takeo/v1/signage/<siteId>/heartbeat;
// HistoryAnswer and SeriesAnswer from the office API (src/schemas/office.ts).

import { $, el, mqttUrl, parsePayload } from '/assets/page.js';
import { officeApi } from './api.js';
import { drawChart } from './chart.js';
import { LEVELS, renderTimeline, sensorList } from './timeline.js';

const cfg = await (await fetch('/office/config.json')).json();
const api = officeApi(cfg.api.header);
const fmt = new Intl.DateTimeFormat('ja-JP', {
  timeZone: 'Asia/Tokyo',
  dateStyle: 'short',
  timeStyle: 'medium',
});
const time = (iso) => (iso ? fmt.format(new Date(iso)) : '—');
/** Leaflet sets a string tooltip as HTML: every tooltip is an element with text in it instead. */
const tip = (text) => el('span', { textContent: text });

const alertsByArea = new Map();
const heartbeats = new Map();
const markers = new Map();
const floodSensors = cfg.devices.filter((d) => d.kind === 'flood-sensor');
let client;
let chart;

// Map: a plain coordinate view (no tiles needed offline); a tile layer only when configured.
const map = L.map('map', { attributionControl: Boolean(cfg.tileUrl) });
if (cfg.tileUrl) L.tileLayer(cfg.tileUrl, { maxZoom: 19 }).addTo(map);
const points = [...cfg.devices, ...cfg.signs, ...cfg.areas].map((p) => [p.lat, p.lon]);
map.fitBounds(points, { padding: [20, 20] });
for (const area of cfg.areas) {
  L.marker([area.lat, area.lon], { opacity: 0 })
    .bindTooltip(tip(area.name), { permanent: true, direction: 'center' })
    .addTo(map);
  for (const s of area.shelters)
    L.circleMarker([s.lat, s.lon], { radius: 5, color: '#1565c0' })
      .bindTooltip(tip(`避難所 ${s.name}`))
      .addTo(map);
}
const COLOURS = {
  ok: '#1e7b34',
  'low-battery': '#f2c200',
  offline: '#c62828',
  silent: '#c62828',
  unknown: '#78909c',
};
// Signs: squares, green while their heartbeat is fresh, red otherwise.
const signMarkers = new Map(
  cfg.signs.map((s) => [
    s.id,
    L.marker([s.lat, s.lon], {
      icon: L.divIcon({ className: `sign-marker sign-${s.id}`, iconSize: [16, 16] }),
      title: s.name,
    }).addTo(map),
  ]),
);
for (const d of cfg.devices) {
  const marker = L.circleMarker([d.lat, d.lon], {
    radius: d.kind === 'flood-sensor' ? 7 : 9,
    weight: 2,
    color: '#000',
    fillColor: COLOURS.unknown,
    fillOpacity: 0.9,
    className: `device device-${d.id}`,
  }).bindTooltip(tip(`${d.id} (${d.place}): no status`));
  // A flood sensor on the map is one click from its depth chart.
  if (d.kind === 'flood-sensor')
    marker.on('click', () => {
      $('sensor').value = d.id;
      loadChart();
    });
  marker.addTo(map);
  markers.set(d.id, marker);
}

// The chart's pickers: flood sensors by area, and ranges up to the API's limit.
$('sensor').replaceChildren(
  el('option', { value: '', textContent: '—' }),
  ...cfg.areas.map((a) =>
    el(
      'optgroup',
      { label: a.name },
      floodSensors
        .filter((d) => d.place === a.id)
        .map((d) => el('option', { value: d.id, textContent: d.id })),
    ),
  ),
);
$('hours').replaceChildren(
  ...[1, 3, 6, 12, 24, 48, 72]
    .filter((h) => h <= cfg.api.maxSeriesHours)
    .map((h) => el('option', { value: String(h), textContent: String(h), selected: h === 6 })),
);

/** One active alert as a table row, with its Acknowledge button. */
function alertRow(a) {
  const acked = Boolean(a.acknowledgedAt);
  const button = el('button', {
    type: 'button',
    textContent: acked ? `acked ${time(a.acknowledgedAt)}` : '確認 / Acknowledge',
    disabled: acked,
  });
  button.dataset.alertId = a.id;
  button.addEventListener('click', () => acknowledge(a, button));
  const row = el('tr', {}, [
    el('td', { textContent: LEVELS[a.level] ?? a.level }),
    el('td', { textContent: a.areaId }),
    el('td', { className: 'sensors' }, sensorList(a.sensors)),
    el('td', { textContent: time(a.openedAt) }),
    el('td', { textContent: time(a.updatedAt) }),
    el('td', {}, [button]),
  ]);
  Object.assign(row.dataset, { level: a.level, acked: String(acked), alertId: a.id, drill: String(a.drill) });
  return row;
}

/** Real alerts and drills in tables of their own: a drill never sits among real alerts. */
function renderAlerts() {
  const rows = [...alertsByArea.values()].flat();
  for (const [table, empty, drill] of [
    ['alerts', 'no-alerts', false],
    ['drill-alerts', 'no-drill-alerts', true],
  ]) {
    const mine = rows.filter((a) => a.drill === drill);
    $(empty).hidden = mine.length > 0;
    $(table)
      .querySelector('tbody')
      .replaceChildren(...mine.map(alertRow));
  }
}

/** What each sign last said it shows: mode, notice, language; silent once its heartbeat is old. */
function renderSigns() {
  const now = Date.now();
  $('signs')
    .querySelector('tbody')
    .replaceChildren(
      ...cfg.signs.map((s) => {
        const beat = heartbeats.get(s.id);
        const alive = beat !== undefined && now - beat.receivedAt < cfg.signAliveS * 1000;
        const n = beat?.notice;
        const notice = n ? `${LEVELS[n.level] ?? n.level ?? ''}${n.drill ? ' (訓練 DRILL)' : ''}` : '—';
        const row = el('tr', {}, [
          el('td', { className: 'sign-name', textContent: s.name }),
          el('td', { textContent: beat ? `${beat.mode}${alive ? '' : ' (silent)'}` : 'no heartbeat' }),
          el('td', { textContent: beat ? notice : '—' }),
          el('td', { textContent: beat?.language ?? '—' }),
          el('td', { textContent: beat ? time(beat.time) : '—' }),
        ]);
        Object.assign(row.dataset, {
          site: s.id,
          alive: String(alive),
          mode: beat?.mode ?? '',
          drill: String(Boolean(n?.drill)),
        });
        signMarkers.get(s.id)?.getElement()?.setAttribute('data-alive', String(alive));
        return row;
      }),
    );
}

const sinceIso = () => new Date(Date.now() - Number($('window').value) * 3_600_000).toISOString();

async function loadHistory() {
  try {
    const res = await api.get(`${cfg.api.history}?${new URLSearchParams({ since: sinceIso() })}`);
    const body = await res.json();
    const partial = Date.parse(body.heldSince) > Date.parse(body.since);
    $('history-status').textContent =
      `${body.events.length} events since ${time(body.since)}` +
      (partial ? ` — older events not held (from ${time(body.heldSince)})` : '');
    renderTimeline(
      $('timeline-real'),
      body.events.filter((e) => !e.drill),
      cfg.areas,
      time,
    );
    renderTimeline(
      $('timeline-drill'),
      body.events.filter((e) => e.drill),
      cfg.areas,
      time,
    );
    document.body.dataset.history = 'loaded';
  } catch (err) {
    $('history-status').textContent = `history unavailable: ${err.message}`;
  }
}

// A transition reaches the retained state first and the audit trail a moment later: wait a little.
let historyTimer;
function scheduleHistory() {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, 1500);
}

async function downloadCsv() {
  try {
    const res = await api.get(
      `${cfg.api.history}?${new URLSearchParams({ since: sinceIso(), format: 'csv' })}`,
    );
    const href = URL.createObjectURL(await res.blob());
    const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '');
    el('a', { href, download: `machi-alert-events-${stamp}.csv` }).click();
    setTimeout(() => URL.revokeObjectURL(href), 60_000);
  } catch (err) {
    $('history-status').textContent = `CSV export failed: ${err.message}`;
  }
}

// Requests overlap (a picker change beside the 30 s refresh); only the newest may draw, or a
// slow answer for the old range would replace the one the user just asked for.
let chartRequest = 0;
async function loadChart() {
  const id = $('sensor').value;
  if (!id || document.body.dataset.connection !== 'connected') return;
  const hours = $('hours').value;
  const query = new URLSearchParams({ hours, drill: $('chart-drill').checked ? '1' : '0' });
  const request = ++chartRequest;
  try {
    const res = await api.get(`${cfg.api.sensorsPrefix}${encodeURIComponent(id)}/series?${query}`);
    const series = await res.json();
    if (request !== chartRequest) return;
    chart?.destroy();
    chart = drawChart($('chart'), series);
    $('chart').dataset.hours = hours;
    const limits = series.depthThresholdsCm
      ? `, watch ${series.depthThresholdsCm.watch} cm, warning ${series.depthThresholdsCm.warning} cm`
      : series.stagesCm.length > 0
        ? `, floats at ${series.stagesCm.join(' / ')} cm`
        : '';
    $('chart-status').textContent =
      `${id} (${series.areaId})${series.drill ? ' 訓練 DRILL data' : ''}: ${series.points.length} readings` +
      `${series.truncated ? ' (newest only)' : ''}${limits}`;
  } catch (err) {
    if (request === chartRequest) $('chart-status').textContent = `${id}: ${err.message}`;
  }
}

function acknowledge(alert, button) {
  const areaId = alert.areaId;
  const ack = {
    v: 1,
    alertId: alert.id,
    areaId,
    by: user, // the broker records the logged-in user whatever this says
    at: new Date().toISOString(),
  };
  button.disabled = true;
  client.publish(cfg.topics.alertAck[areaId], JSON.stringify(ack), { qos: 1 }, (err) => {
    button.textContent = err ? `failed: ${err.message}` : 'sent';
    button.dataset.sent = String(!err);
    if (err) button.disabled = false;
  });
}

function onMessage(topic, payload) {
  const [, , kind, id, leaf] = topic.split('/');
  const msg = parsePayload(payload);
  if (kind === 'alerts' && leaf === 'active') {
    alertsByArea.set(id, msg?.alerts ?? []);
    renderAlerts();
    scheduleHistory();
  } else if (kind === 'signage' && leaf === 'heartbeat') {
    // Judged by when it arrived: a sign's clock (or a forged time) does not keep it alive.
    if (msg?.time) heartbeats.set(id, { ...msg, receivedAt: Date.now() });
    renderSigns();
  } else if (leaf === 'status' && markers.has(id)) {
    const state = msg?.state ?? 'unknown';
    const marker = markers.get(id);
    marker.setStyle({ fillColor: COLOURS[state] ?? COLOURS.unknown });
    marker.setTooltipContent(
      tip(`${id}: ${state}${msg?.batteryV !== undefined ? `, ${msg.batteryV} V` : ''}`),
    );
  }
}

let user = '';

/** Staff log in with their own name; the demo's shared `office` login when the name is left empty. */
function connect(name, password) {
  client?.end(true);
  user = name || cfg.mqtt.demoUser || '';
  api.login(user, password);
  client = mqtt.connect(mqttUrl(cfg.mqtt.path), {
    username: user === cfg.mqtt.demoUser ? user : `${cfg.mqtt.userPrefix}${user}`,
    password,
    clientId: `office-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 2000,
  });
  client.on('connect', () => {
    document.body.dataset.connection = 'connected';
    $('connection').textContent = 'connected';
    sessionStorage.setItem('machi-office-login', JSON.stringify([name, password]));
    client.subscribe([cfg.topics.alertsActive, cfg.topics.signHeartbeat, ...cfg.topics.deviceStatus], {
      qos: 1,
    });
    loadHistory();
    loadChart();
  });
  let refused = false;
  client.on('close', () => {
    document.body.dataset.connection = 'disconnected';
    if (!refused) $('connection').textContent = 'disconnected — reconnecting';
  });
  // A refused CONNECT (wrong password) would be retried forever: stop and say so.
  client.on('error', (err) => {
    refused = true;
    $('connection').textContent = `error: ${err.message}`;
    client.end(true);
  });
  client.on('message', onMessage);
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  connect($('user').value.trim(), $('password').value);
});
for (const id of ['sensor', 'hours', 'chart-drill']) $(id).addEventListener('change', loadChart);
$('window').addEventListener('change', loadHistory);
$('csv').addEventListener('click', downloadCsv);
addEventListener('resize', () => chart?.setSize({ width: $('chart').clientWidth, height: 300 }));
const saved = JSON.parse(sessionStorage.getItem('machi-office-login') ?? 'null');
if (saved) connect(...saved);
$('connection').textContent = 'disconnected';
renderAlerts();
renderSigns();
setInterval(renderSigns, 5000);
// New readings and transitions arrive all the time on a flood night: both panels follow them.
setInterval(() => {
  if (document.body.dataset.connection !== 'connected') return;
  loadHistory();
  loadChart();
}, 30_000);
