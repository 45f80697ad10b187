// What the signs and the visitors' phone page both draw: level badges (colour + symbol + text, styled
// by levels.css), times in JST, staleness and the disaster notice in one language.
import { el } from '/assets/page.js';
import { wordWrapped } from './layout.js';

/** A level as colour, symbol and text; `text` is the level's word in the shown language. */
export function levelBadge(level, text) {
  const badge = el('div', { className: 'level' }, [
    el('span', { className: 'symbol', ariaHidden: 'true' }),
    el('span', { className: 'text', textContent: text }),
  ]);
  badge.dataset.level = level ?? 'unknown';
  return badge;
}

export const timeFormat = (lang) =>
  new Intl.DateTimeFormat(lang, {
    timeZone: 'Asia/Tokyo',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });

/** A congestion message is stale when it says so or when it is older than `staleS`. */
export const isStale = (msg, now, staleS) => msg.stale || now - Date.parse(msg.issuedAt) > staleS * 1000;

/**
 * A PublicNotice in `lang` (title, guidance, shelters), as a .notice-block. `t(key, lang)` reads the
 * messages; `shelterName(id, lang)` names a shelter; `areaShelters` stand in when it names none;
 * `heading` is the title's element, one level below the page's heading above it.
 */
export function noticeBlock(notice, lang, t, shelterName, areaShelters, heading = 'h3') {
  const key = `notice.${notice.noticeKey}`;
  const title = notice.noticeKey && t(key, lang) !== key ? key : 'notice.default';
  const ids = notice.shelters?.length > 0 ? notice.shelters : areaShelters;
  const shelters = ids.map((id) => shelterName(id, lang)).join(t('separator', lang));
  const guidance = notice.drill
    ? `${t('notice.drillNote', lang)} ${t('notice.guidance', lang)}`
    : t('notice.guidance', lang);
  const drill = notice.drill ? `【${t('notice.drill', lang)}】` : '';
  return el('div', { className: 'notice-block', lang }, [
    el(heading, {}, wordWrapped(`${drill}${t(title, lang)}`, lang)),
    el('p', {}, wordWrapped(guidance, lang)),
    el('p', { className: 'shelters' }, wordWrapped(`${t('notice.shelters', lang)}: ${shelters}`, lang)),
  ]);
}
