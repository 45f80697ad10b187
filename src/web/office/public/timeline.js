// The alert timeline: every transition from the audit trail, per area, newest first; real alerts
// and drills in separate sections. Text only ever goes in through textContent.
import { el } from '/assets/page.js';

export const LEVELS = { watch: '注意 watch', warning: '警報 warning', emergency: '緊急 emergency' };
const TRANSITIONS = {
  raised: '発生 / raised',
  escalated: '引き上げ / escalated',
  'de-escalated': '引き下げ / de-escalated',
  acknowledged: '確認 / acknowledged',
  're-notified': '再通知 / re-notified',
  cleared: '解除 / cleared',
};
const OFFICE_ACTOR = 'office:';

/** Sensor ids, comma-separated, each kept on one line (ids break badly at their hyphens). */
export const sensorList = (ids) =>
  ids.flatMap((id, i) => [i > 0 ? ', ' : '', el('span', { className: 'sensor', textContent: id })]);

function entry(e, time) {
  const byOffice = e.actor.startsWith(OFFICE_ACTOR);
  const sensors = [...new Set(e.cause.map((c) => c.deviceId))];
  const detail = byOffice
    ? [`確認者 / by ${e.actor.slice(OFFICE_ACTOR.length)}`]
    : [e.rule, ...(sensors.length > 0 ? [' · ', ...sensorList(sensors)] : [])];
  const level = el('span', { className: 'level', textContent: LEVELS[e.level] ?? e.level });
  level.dataset.level = e.level;
  const li = el('li', {}, [
    el('time', { dateTime: e.time, textContent: time(e.time) }),
    level,
    el('span', { className: 'transition', textContent: TRANSITIONS[e.transition] ?? e.transition }),
    el('span', { className: byOffice ? 'actor' : 'detail' }, detail),
  ]);
  Object.assign(li.dataset, { transition: e.transition, level: e.level, alertId: e.alertId });
  return li;
}

/** Fills `section` (its .areas) with one block per area that has events, in the console's area order. */
export function renderTimeline(section, events, areas, time) {
  const byArea = Map.groupBy(events, (e) => e.areaId);
  const known = areas.filter((a) => byArea.has(a.id));
  const unknown = [...byArea.keys()].filter((id) => !areas.some((a) => a.id === id));
  const blocks = [...known, ...unknown.map((id) => ({ id, name: id }))].map((area) => {
    const block = el('section', { className: 'area-timeline' }, [
      el('h4', { textContent: `${area.name} (${area.id})` }),
      el(
        'ol',
        {},
        byArea
          .get(area.id)
          .toReversed()
          .map((e) => entry(e, time)),
      ),
    ]);
    block.dataset.area = area.id;
    return block;
  });
  section
    .querySelector('.areas')
    .replaceChildren(
      ...(blocks.length > 0 ? blocks : [el('p', { className: 'empty', textContent: 'No events.' })]),
    );
}
