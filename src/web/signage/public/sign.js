// The sign: subscribes to its site's retained congestion, nearby sites and its public notice over
// MQTT/WebSocket (mqtt.js, global `mqtt`), rotates languages, and reports itself with heartbeats.
// Every visible word comes from /signage/messages/<lang>.json; every topic from config.json.
import { $, el, mqttUrl, parsePayload } from '/assets/page.js';

const siteId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const cfg = await (await fetch(`/signage/${encodeURIComponent(siteId)}/config.json`)).json();
const messages = Object.fromEntries(
  await Promise.all(
    cfg.languages.map(async (lang) => [lang, await (await fetch(`/signage/messages/${lang}.json`)).json()]),
  ),
);

const state = {
  connected: false,
  lang: cfg.languages[0],
  congestion: undefined,
  nearby: {},
  notice: undefined,
  reportedMode: undefined,
};

const t = (key, lang = state.lang) => messages[lang][key] ?? messages.en[key] ?? key;

function levelBadge(level, lang, extra) {
  const badge = el('div', { className: 'level' }, [
    el('span', { className: 'symbol', ariaHidden: 'true' }),
    el('span', { className: 'text', textContent: t(`level.${level ?? 'unknown'}`, lang) }),
  ]);
  badge.dataset.level = level ?? 'unknown';
  if (extra) badge.append(extra);
  return badge;
}

const timeFormat = (lang) =>
  new Intl.DateTimeFormat(lang, {
    timeZone: 'Asia/Tokyo',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });

/** A congestion message is stale when it says so or when it is older than the configured time. */
function isStale(msg, now) {
  return msg.stale || now - Date.parse(msg.issuedAt) > cfg.staleS * 1000;
}

/** disaster (an active notice, kept even offline) > offline > stale (or nothing yet) > normal. */
function mode(now) {
  if (state.notice) return 'disaster';
  if (!state.connected) return 'offline';
  if (!state.congestion || isStale(state.congestion, now)) return 'stale';
  return 'normal';
}

function renderTourism(lang, current) {
  const c = state.congestion;
  const now = $('now-level');
  const level = current ? c.current.level : undefined;
  now.dataset.level = level ?? 'unknown';
  now.querySelector('.text').textContent = t(`level.${level ?? 'unknown'}`, lang);
  const fmt = timeFormat(lang);
  const bars = current
    ? c.next.map((step) => {
        const height = Math.min(100, Math.max(18, (step.forecast / c.capacity) * 100));
        const bar = levelBadge(step.level, lang);
        bar.classList.add('bar');
        bar.style.height = `${height}%`;
        return el('li', {}, [
          bar,
          el('div', { className: 'hour', textContent: fmt.format(new Date(step.start)) }),
        ]);
      })
    : [];
  $('next-bars').replaceChildren(...bars);
  $('nearby').replaceChildren(
    ...cfg.nearby.map((n) => {
      const msg = state.nearby[n.id];
      const fresh = current && msg && !isStale(msg, Date.now());
      return el('li', {}, [
        el('span', { textContent: n.name[lang] }),
        levelBadge(fresh ? msg.current.level : undefined, lang),
      ]);
    }),
  );
  $('updated').textContent = c ? fmt.format(new Date(c.issuedAt)) : '—';
}

function renderDisaster() {
  const n = state.notice;
  const drill = $('drill-banner');
  drill.hidden = !n.drill;
  drill.textContent = cfg.languages.map((l) => `${t('notice.drill', l)}`).join(' / ');
  const shelterIds = n.shelters.length > 0 ? n.shelters : cfg.areaShelters;
  $('notice-blocks').replaceChildren(
    ...cfg.languages.map((lang) => {
      const title =
        n.noticeKey && messages[lang][`notice.${n.noticeKey}`] ? `notice.${n.noticeKey}` : 'notice.default';
      const shelters = shelterIds.map((id) => cfg.shelters[id]?.[lang] ?? id).join('、');
      const block = el('div', { className: 'notice-block', lang }, [
        el('h3', { textContent: `${n.drill ? `【${t('notice.drill', lang)}】` : ''}${t(title, lang)}` }),
        el('p', {
          textContent: n.drill
            ? `${t('notice.drillNote', lang)} ${t('notice.guidance', lang)}`
            : t('notice.guidance', lang),
        }),
        el('p', { className: 'shelters', textContent: `${t('notice.shelters', lang)}: ${shelters}` }),
      ]);
      return block;
    }),
  );
}

function render() {
  const now = Date.now();
  const m = mode(now);
  // The office sees a change of mode at once, not at the next periodic heartbeat.
  if (m !== state.reportedMode && state.connected) {
    state.reportedMode = m;
    heartbeat();
  }
  const lang = state.lang;
  document.body.dataset.mode = m;
  document.body.dataset.lang = lang;
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll('[data-msg]')) node.textContent = t(node.dataset.msg);
  $('site-name').textContent =
    m === 'disaster' ? `${cfg.name[lang]} — ${t('notice.heading')}` : cfg.name[lang];
  $('language').textContent = t('language');
  $('clock').textContent = timeFormat(lang).format(new Date(now));

  const banner = $('banner');
  const status = !state.connected
    ? 'status.offline'
    : m === 'stale'
      ? state.congestion
        ? 'status.stale'
        : 'status.waiting'
      : undefined;
  banner.hidden = status === undefined;
  banner.dataset.status = status ?? '';
  banner.textContent = status ? t(status) : '';

  $('tourism').hidden = m === 'disaster';
  $('disaster').hidden = m !== 'disaster';
  if (m === 'disaster') renderDisaster();
  else renderTourism(lang, m === 'normal');
}

const client = mqtt.connect(mqttUrl(cfg.mqtt.path), {
  username: cfg.mqtt.username,
  password: cfg.mqtt.password,
  clientId: `sign-${siteId}-${Math.random().toString(16).slice(2, 10)}`,
  reconnectPeriod: 2000,
  connectTimeout: 5000,
});
const nearbyByTopic = new Map(cfg.nearby.map((n) => [n.topic, n.id]));

function heartbeat() {
  if (!state.connected) return;
  const beat = { v: 1, siteId, time: new Date().toISOString(), language: state.lang, mode: mode(Date.now()) };
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

setInterval(render, 1000);
setInterval(() => {
  const i = cfg.languages.indexOf(state.lang);
  state.lang = cfg.languages[(i + 1) % cfg.languages.length];
  render();
}, cfg.rotateS * 1000);
setInterval(heartbeat, cfg.heartbeatS * 1000);
render();
