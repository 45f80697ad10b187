// The disaster office console: active alerts (retained per area), acknowledgements as the office
// user, sensor states on a map, and which signs are alive. Plain DOM + Leaflet + mqtt.js.
//
// Payloads (src/schemas): ActiveAlerts retained on takeo/v1/alerts/<areaId>/active (an empty payload
// or alerts: [] means none), AlertAck published to takeo/v1/alerts/<areaId>/ack, DeviceStatus
// retained on takeo/v1/<kind>/<id>/status, SignHeartbeat on takeo/v1/signage/<siteId>/heartbeat.

import { $, el, mqttUrl, parsePayload } from '/assets/page.js';

const cfg = await (await fetch('/office/config.json')).json();
const fmt = new Intl.DateTimeFormat('ja-JP', {
  timeZone: 'Asia/Tokyo',
  dateStyle: 'short',
  timeStyle: 'medium',
});
const time = (iso) => (iso ? fmt.format(new Date(iso)) : '—');

const alertsByArea = new Map();
const heartbeats = new Map();
const markers = new Map();
let client;

// Map: a plain coordinate view (no tiles needed offline); a tile layer only when configured.
const map = L.map('map', { attributionControl: Boolean(cfg.tileUrl) });
if (cfg.tileUrl) L.tileLayer(cfg.tileUrl, { maxZoom: 19 }).addTo(map);
const points = [...cfg.devices, ...cfg.signs, ...cfg.areas].map((p) => [p.lat, p.lon]);
map.fitBounds(points, { padding: [20, 20] });
for (const area of cfg.areas) {
  L.marker([area.lat, area.lon], { opacity: 0 })
    .bindTooltip(area.name, { permanent: true, direction: 'center' })
    .addTo(map);
  for (const s of area.shelters)
    L.circleMarker([s.lat, s.lon], { radius: 5, color: '#1565c0' })
      .bindTooltip(`避難所 ${s.name}`)
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
  }).bindTooltip(`${d.id} (${d.place}): no status`);
  marker.addTo(map);
  markers.set(d.id, marker);
}

function renderAlerts() {
  const rows = [...alertsByArea.values()].flat();
  $('no-alerts').hidden = rows.length > 0;
  $('alerts')
    .querySelector('tbody')
    .replaceChildren(
      ...rows.map((a) => {
        const acked = Boolean(a.acknowledgedAt);
        const button = el('button', {
          type: 'button',
          textContent: acked ? `acked ${time(a.acknowledgedAt)}` : '確認 / Acknowledge',
          disabled: acked,
        });
        button.dataset.alertId = a.id;
        button.addEventListener('click', () => acknowledge(a, button));
        const row = el('tr', {}, [
          el('td', { textContent: `${a.level}${a.drill ? ' (訓練 DRILL)' : ''}` }),
          el('td', { textContent: a.areaId }),
          el('td', { textContent: a.sensors.join(', ') }),
          el('td', { textContent: time(a.openedAt) }),
          el('td', { textContent: time(a.updatedAt) }),
          el('td', {}, [button]),
        ]);
        row.dataset.level = a.level;
        row.dataset.acked = String(acked);
        row.dataset.alertId = a.id;
        return row;
      }),
    );
}

function renderSigns() {
  const now = Date.now();
  $('signs').replaceChildren(
    ...cfg.signs.map((s) => {
      const beat = heartbeats.get(s.id);
      const alive = beat !== undefined && now - Date.parse(beat.time) < cfg.signAliveS * 1000;
      const li = el('li', {
        textContent: `${s.name}: ${alive ? `alive (${beat.mode}, ${beat.language})` : 'no heartbeat'}`,
      });
      li.dataset.site = s.id;
      li.dataset.alive = String(alive);
      signMarkers.get(s.id)?.getElement()?.setAttribute('data-alive', String(alive));
      return li;
    }),
  );
}

function acknowledge(alert, button) {
  const areaId = alert.areaId;
  const ack = {
    v: 1,
    alertId: alert.id,
    areaId,
    by: cfg.mqtt.username,
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
  } else if (kind === 'signage' && leaf === 'heartbeat') {
    if (msg?.time) heartbeats.set(id, msg);
    renderSigns();
  } else if (leaf === 'status' && markers.has(id)) {
    const state = msg?.state ?? 'unknown';
    const marker = markers.get(id);
    marker.setStyle({ fillColor: COLOURS[state] ?? COLOURS.unknown });
    marker.setTooltipContent(`${id}: ${state}${msg?.batteryV !== undefined ? `, ${msg.batteryV} V` : ''}`);
  }
}

function connect(password) {
  client?.end(true);
  client = mqtt.connect(mqttUrl(cfg.mqtt.path), {
    username: cfg.mqtt.username,
    password,
    clientId: `office-${Math.random().toString(16).slice(2, 10)}`,
    reconnectPeriod: 2000,
  });
  client.on('connect', () => {
    document.body.dataset.connection = 'connected';
    $('connection').textContent = 'connected';
    sessionStorage.setItem('machi-office-password', password);
    client.subscribe([cfg.topics.alertsActive, cfg.topics.signHeartbeat, ...cfg.topics.deviceStatus], {
      qos: 1,
    });
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
  connect($('password').value);
});
const saved = sessionStorage.getItem('machi-office-password');
if (saved) connect(saved);
$('connection').textContent = 'disconnected';
renderAlerts();
renderSigns();
setInterval(renderSigns, 5000);
