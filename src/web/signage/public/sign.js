// The sign: subscribes to its site's retained congestion, nearby sites and its public notice over
// MQTT/WebSocket (mqtt.js, global `mqtt`), rotates languages, and reports itself with heartbeats.
// Every visible word comes from /signage/messages/<lang>.json; every topic from config.json.
// Landscape or portrait follows the screen's aspect ratio unless the URL says ?orientation=portrait.
import { $, el, mqttUrl, parsePayload } from '/assets/page.js';
import qrcode from '/vendor/qrcode.mjs';
import { isStale, levelBadge, noticeBlock, timeFormat } from './common.js';
import { forecastColumns } from './forecast.js';
import { setWrapped, shrinkToFit, wordWrapped } from './layout.js';

const siteId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const cfg = await (await fetch(`/signage/${encodeURIComponent(siteId)}/config.json`)).json();
const messages = Object.fromEntries(
  await Promise.all(
    cfg.languages.map(async (lang) => [lang, await (await fetch(`/signage/messages/${lang}.json`)).json()]),
  ),
);
const orientationParam = new URLSearchParams(location.search).get('orientation');
const portraitScreen = matchMedia('(orientation: portrait)');

const state = {
  connected: false,
  lang: cfg.languages[0],
  congestion: undefined,
  nearby: {},
  notice: undefined,
  reported: undefined,
};

const t = (key, lang = state.lang) => messages[lang][key] ?? messages.en[key] ?? key;

const badge = (level, lang) => levelBadge(level, t(`level.${level ?? 'unknown'}`, lang));

const fresh = (msg, now) => msg !== undefined && !isStale(msg, now, cfg.staleS);

/** The messages the sign's content is built from: its own, or (no counter) its area's sites'. */
const sources = () => (cfg.counted ? [state.congestion] : cfg.nearby.map((n) => state.nearby[n.id]));

/** disaster (an active notice, kept even offline) > offline > stale (or nothing yet) > normal. */
function mode(now) {
  if (state.notice) return 'disaster';
  if (!state.connected) return 'offline';
  return sources().some((msg) => fresh(msg, now)) ? 'normal' : 'stale';
}

/** The visitor page in the shown language as a QR code (SVG data URL), made once per language. */
const qrCodes = new Map();
function qrCode(lang) {
  if (!qrCodes.has(lang)) {
    const url = new URL(`${cfg.visitUrl}?lang=${encodeURIComponent(lang)}`, location.href).href;
    // Level M survives a smudge or a reflection; type 0 picks the smallest version that holds the URL.
    const qr = qrcode(0, 'M');
    qr.addData(url);
    qr.make();
    const svg = qr.createSvgTag({ cellSize: 1, margin: 4, scalable: true });
    qrCodes.set(lang, { url, src: `data:image/svg+xml,${encodeURIComponent(svg)}` });
  }
  return qrCodes.get(lang);
}

/** Draws the visitor page's QR code in `img`; only on a change: assigning src reloads the image. */
function showQr(img, lang) {
  const code = qrCode(lang);
  if (img.dataset.url === code.url) return;
  Object.assign(img, { src: code.src, alt: code.url });
  img.dataset.url = code.url;
}

/**
 * The forecast's columns: the layout's most (CSS --columns), fewer when the card is too narrow for
 * them at --column-min-rem each (a square screen forced to landscape).
 */
function columnsThatFit(bars) {
  const style = getComputedStyle(bars);
  const rem = Number.parseFloat(getComputedStyle(document.documentElement).fontSize);
  const fit = Math.floor(bars.clientWidth / (Number(style.getPropertyValue('--column-min-rem')) * rem));
  return Math.max(1, Math.min(Number(style.getPropertyValue('--columns')), fit));
}

function renderOwn(lang, current) {
  const c = state.congestion;
  const now = $('now-level');
  const level = current ? c.current.level : undefined;
  now.dataset.level = level ?? 'unknown';
  now.querySelector('.text').textContent = t(`level.${level ?? 'unknown'}`, lang);
  const fmt = timeFormat(lang);
  const bars = $('next-bars');
  const columns = current ? forecastColumns(c.next, columnsThatFit(bars)) : [];
  bars.replaceChildren(
    ...columns.map((column) => {
      const bar = badge(column.level, lang);
      bar.classList.add('bar');
      bar.style.height = `${Math.min(100, (column.forecast / c.capacity) * 100)}%`;
      return el('li', {}, [
        el('div', { className: 'track' }, [bar]),
        el('time', { className: 'hour', textContent: fmt.format(new Date(column.start)) }),
      ]);
    }),
  );
}

function renderTourism(lang, current) {
  if (cfg.counted) renderOwn(lang, current);
  $('nearby').replaceChildren(
    ...cfg.nearby.map((n) => {
      const msg = state.nearby[n.id];
      const name = el('span', { className: 'name' }, wordWrapped(n.name[lang], lang));
      return el('li', {}, [
        name,
        badge(current && fresh(msg, Date.now()) ? msg.current.level : undefined, lang),
      ]);
    }),
  );
  showQr($('qr'), lang);
  const issued = sources().flatMap((msg) => (msg ? [Date.parse(msg.issuedAt)] : []));
  $('updated').textContent = issued.length > 0 ? timeFormat(lang).format(new Date(Math.max(...issued))) : '—';
}

function renderDisaster(lang) {
  const n = state.notice;
  // The visitor page shows the notice too, in the language now on the sign.
  showQr($('notice-qr'), lang);
  const drill = $('drill-banner');
  drill.hidden = !n.drill;
  drill.textContent = cfg.languages.map((l) => `${t('notice.drill', l)}`).join(' / ');
  const shelterName = (id, lang) => cfg.shelters[id]?.[lang] ?? id;
  $('notice-blocks').replaceChildren(
    ...cfg.languages.map((lang) => noticeBlock(n, lang, t, shelterName, cfg.areaShelters, 'h2')),
  );
}

function render() {
  const now = Date.now();
  const m = mode(now);
  // The office sees a change of mode or notice at once, not at the next periodic heartbeat.
  const report = `${m}|${state.notice?.level}|${state.notice?.drill}`;
  if (report !== state.reported && state.connected) {
    state.reported = report;
    heartbeat();
  }
  const lang = state.lang;
  const body = document.body;
  body.dataset.mode = m;
  body.dataset.lang = lang;
  body.dataset.orientation = ['portrait', 'landscape'].includes(orientationParam)
    ? orientationParam
    : portraitScreen.matches
      ? 'portrait'
      : 'landscape';
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll('[data-msg]')) setWrapped(node, t(node.dataset.msg), lang);
  setWrapped(
    $('site-name'),
    m === 'disaster' ? `${cfg.name[lang]} — ${t('notice.heading')}` : cfg.name[lang],
    lang,
  );
  $('language').textContent = t('language');
  $('clock').textContent = timeFormat(lang).format(new Date(now));

  const banner = $('banner');
  const status = !state.connected
    ? 'status.offline'
    : m === 'stale'
      ? sources().some(Boolean)
        ? 'status.stale'
        : 'status.waiting'
      : undefined;
  banner.hidden = status === undefined;
  banner.dataset.status = status ?? '';
  setWrapped(banner, status ? t(status) : '', lang);

  $('tourism').hidden = m === 'disaster';
  $('disaster').hidden = m !== 'disaster';
  if (m === 'disaster') renderDisaster(lang);
  else renderTourism(lang, m === 'normal');
  for (const box of document.querySelectorAll('.fit')) shrinkToFit(box);
}

// The sign's own token (`machi signs add`): opened once as /signage/<site>#token=..., then kept
// in this browser and taken out of the address bar, so it never reaches a server log or a photo.
const tokenKey = `machi-sign-token:${siteId}`;
const fragmentToken = new URLSearchParams(location.hash.slice(1)).get('token');
if (fragmentToken) {
  localStorage.setItem(tokenKey, fragmentToken);
  history.replaceState(null, '', location.pathname + location.search);
}
const client = mqtt.connect(mqttUrl(cfg.mqtt.path), {
  username: cfg.mqtt.username,
  password: localStorage.getItem(tokenKey) ?? '',
  clientId: `sign-${siteId}-${Math.random().toString(16).slice(2, 10)}`,
  reconnectPeriod: 2000,
  connectTimeout: 5000,
});
const nearbyByTopic = new Map(cfg.nearby.map((n) => [n.topic, n.id]));

function heartbeat() {
  if (!state.connected) return;
  const n = state.notice;
  // What the sign shows, for the office: its mode, language and the notice on screen (none: omitted).
  const notice = n && { level: n.level, drill: n.drill, noticeKey: n.noticeKey, alertId: n.alertId };
  const beat = {
    v: 1,
    siteId,
    time: new Date().toISOString(),
    language: state.lang,
    mode: mode(Date.now()),
    notice,
  };
  client.publish(cfg.topics.heartbeat, JSON.stringify(beat), { qos: 0, retain: true });
}

client.on('connect', () => {
  state.connected = true;
  client.subscribe([cfg.topics.congestion, cfg.topics.notice, ...nearbyByTopic.keys()], { qos: 1 });
  heartbeat();
  render();
});
for (const event of ['close', 'offline']) {
  client.on(event, () => {
    state.connected = false;
    render();
  });
}
client.on('message', (topic, payload) => {
  const body = parsePayload(payload);
  const msg = body?.v === 1 ? body : undefined;
  if (topic === cfg.topics.congestion) state.congestion = msg?.siteId === siteId ? msg : undefined;
  else if (topic === cfg.topics.notice) state.notice = msg?.active ? { shelters: [], ...msg } : undefined;
  else if (nearbyByTopic.has(topic)) state.nearby[nearbyByTopic.get(topic)] = msg;
  render();
});

document.body.dataset.layout = cfg.counted ? 'site' : 'area';
document.body.dataset.nearby = String(cfg.nearby.length);
$('nearby-heading').dataset.msg = cfg.counted ? 'nearby' : 'areaSites';
portraitScreen.addEventListener('change', render);
setInterval(render, 1000);
setInterval(() => {
  const i = cfg.languages.indexOf(state.lang);
  state.lang = cfg.languages[(i + 1) % cfg.languages.length];
  render();
}, cfg.rotateS * 1000);
setInterval(heartbeat, cfg.heartbeatS * 1000);
render();
