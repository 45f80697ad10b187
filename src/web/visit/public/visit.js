// The visitors' phone page. /visit/<siteId>: the level now and the forecast, nearby sites least
// crowded first with their walking distance, today's events; an active disaster notice for the
// site's area replaces all of it. /visit: every site with its level. Live data arrives as
// server-sent events from machi (EventSource reconnects by itself); every word comes from the signs'
// messages files, in the language of ?lang=, else the browser's, switchable without a reload.
import { $, el } from '/assets/page.js';
import { isStale, levelBadge, noticeBlock, timeFormat } from '/signage/assets/common.js';
import { forecastColumns } from '/signage/assets/forecast.js';

const RANK = { 'not-crowded': 0, 'somewhat-crowded': 1, crowded: 2 };
/** Forecast rows on a phone: the next six columns (hours) are what a visitor plans with. */
const FORECAST_ROWS = 6;

const siteId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const base = siteId ? `/visit/${encodeURIComponent(siteId)}` : '/visit';
const languageLinks = [...document.querySelectorAll('#languages a')];
const supported = languageLinks.map((a) => a.lang);

/** ?lang= when it names a supported language, else the browser's first supported one, else English. */
function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (supported.includes(asked)) return asked;
  for (const tag of navigator.languages.map((l) => l.toLowerCase())) {
    // zh-TW, zh-HK and zh-MO read Traditional characters; every other zh Simplified.
    if (tag.startsWith('zh')) return /-(hant|tw|hk|mo)\b/.test(tag) ? 'zh-Hant' : 'zh-Hans';
    const found = supported.find((l) => l === tag.split('-')[0]);
    if (found) return found;
  }
  return 'en';
}

const messages = {};
const loadMessages = async (lang) => {
  messages[lang] ??= await (await fetch(`/signage/messages/${lang}.json`)).json();
};
/** `connection`: connecting (first load), open, or lost (EventSource is retrying). */
const state = { lang: chooseLanguage(), connection: 'connecting', own: undefined, levels: {}, notices: {} };
const [cfg] = await Promise.all([(await fetch(`${base}/config.json`)).json(), loadMessages(state.lang)]);

const t = (key, lang = state.lang) => messages[lang]?.[key] ?? key;
const fill = (key, values) => t(key).replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
const fresh = (msg) => msg != null && !isStale(msg, Date.now(), cfg.staleS);
const levelOf = (msg) => (fresh(msg) ? msg.current.level : undefined);
const badge = (level) => levelBadge(level, t(`level.${level ?? 'unknown'}`));
const siteLink = (id, name) =>
  el('a', { href: `/visit/${encodeURIComponent(id)}?lang=${state.lang}`, textContent: name });

function renderStatus() {
  const own = state.own;
  const status =
    state.connection === 'lost'
      ? 'status.offline'
      : cfg.counted && own && !fresh(own)
        ? 'status.stale'
        : cfg.counted && !own
          ? 'status.waiting'
          : undefined;
  $('status').hidden = status === undefined;
  $('status').textContent = status ? t(status) : '';
}

function renderSite() {
  const own = state.own;
  const level = levelOf(own);
  $('now-level').hidden = !cfg.counted;
  $('no-counter').hidden = cfg.counted;
  $('forecast').hidden = !cfg.counted;
  $('now-level').replaceChildren(badge(level));
  const fmt = timeFormat(state.lang);
  const issued = cfg.counted ? own?.issuedAt : undefined;
  $('updated').textContent = issued ? fmt.format(new Date(issued)) : '—';
  const columns = level ? forecastColumns(own.next, FORECAST_ROWS) : [];
  $('forecast-list').replaceChildren(
    ...columns.map((c) => {
      const bar = el('span', { className: 'bar', ariaHidden: 'true' });
      bar.style.width = `${Math.min(100, (c.forecast / own.capacity) * 100)}%`;
      bar.dataset.level = c.level;
      return el('li', {}, [el('time', { textContent: fmt.format(new Date(c.start)) }), badge(c.level), bar]);
    }),
  );
  // Least crowded first (no data last), then nearest: the page spreads visitors out.
  const rank = (id) => RANK[levelOf(state.levels[id])] ?? 3;
  const nearby = [...cfg.nearby].sort((a, b) => rank(a.id) - rank(b.id) || a.distanceM - b.distanceM);
  $('nearby').hidden = nearby.length === 0;
  $('nearby-list').replaceChildren(
    ...nearby.map((n) =>
      el('li', {}, [
        siteLink(n.id, n.name[state.lang]),
        badge(levelOf(state.levels[n.id])),
        el('span', {
          className: 'walk',
          textContent: fill('visit.walk', { m: n.distanceM, min: n.walkMin }),
        }),
      ]),
    ),
  );
  $('no-events').hidden = cfg.events.length > 0;
  $('events-list').replaceChildren(
    ...cfg.events.map((e) =>
      el('li', {}, [
        el('strong', { textContent: e.name[state.lang] }),
        el('span', {
          textContent: `${fmt.format(new Date(e.from))}–${fmt.format(new Date(e.to))} · ${e.sites.map((s) => s.name[state.lang]).join(t('separator'))}`,
        }),
      ]),
    ),
  );
  $('all-sites').href = `/visit?lang=${state.lang}`;
}

function renderNotice(notice) {
  $('drill-banner').hidden = !notice.drill;
  $('drill-banner').textContent = t('notice.drill');
  const shelterName = (id, lang) => cfg.shelters[id]?.[lang] ?? id;
  $('notice').replaceChildren(noticeBlock(notice, state.lang, t, shelterName, cfg.areaShelters));
}

function renderList() {
  $('list-sites').replaceChildren(
    ...cfg.sites.map((s) => {
      const marker = state.notices[s.areaId]
        ? el('span', { className: 'alert', textContent: t('notice.heading') })
        : s.counted
          ? badge(levelOf(state.levels[s.id]))
          : '';
      return el('li', {}, [siteLink(s.id, s.name[state.lang]), marker]);
    }),
  );
}

function render() {
  const lang = state.lang;
  document.documentElement.lang = lang;
  $('languages').ariaLabel = t('visit.languages');
  for (const a of languageLinks) {
    if (a.lang === lang) a.setAttribute('aria-current', 'true');
    else a.removeAttribute('aria-current');
  }
  for (const node of document.querySelectorAll('[data-msg]')) node.textContent = t(node.dataset.msg);
  const notice = siteId ? state.notices[cfg.areaId] : undefined;
  document.body.dataset.mode = notice ? 'disaster' : siteId ? 'site' : 'list';
  const name = siteId ? cfg.name[lang] : t('visit.title');
  $('title').textContent = name;
  document.title = siteId ? `${name} — ${t('visit.title')}` : name;
  $('site').hidden = !siteId || notice !== undefined;
  $('list').hidden = Boolean(siteId);
  $('disaster').hidden = notice === undefined;
  renderStatus();
  if (notice) renderNotice(notice);
  else if (siteId) renderSite();
  else renderList();
}

function apply(event) {
  if (event.type === 'congestion') state.own = event.message ?? undefined;
  else if (event.type === 'level') state.levels[event.siteId] = event.level ?? undefined;
  else if (event.type === 'notice') state.notices[event.areaId] = event.notice ?? undefined;
}

function connect() {
  const source = new EventSource(`${base}/events`);
  source.onopen = () => {
    state.connection = 'open';
    render();
  };
  source.onmessage = (e) => {
    apply(JSON.parse(e.data));
    render();
  };
  source.onerror = () => {
    state.connection = 'lost';
    render();
    // A refusal (machi answers 503 when it serves too many phones) ends the source: retry later.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 30_000);
  };
}

for (const a of languageLinks) {
  a.addEventListener('click', async (e) => {
    e.preventDefault();
    await loadMessages(a.lang);
    state.lang = a.lang;
    history.replaceState(null, '', `?lang=${a.lang}`);
    render();
  });
}
connect();
// Data ages even when nothing arrives: re-render so a forecast that went stale says so.
setInterval(render, 30_000);
render();
