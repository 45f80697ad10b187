// The fuzzer's acknowledgement families: what the office role may publish on
// takeo/v1/alerts/<area>/ack, broken every way the alert service must survive. Each input says what
// the service must do: dead-letter it (stage `alerts`) with a reason from src/alerts/acks.ts, or,
// for a well-formed acknowledgement that names no open alert, take no action and log
// "acknowledgement for no open, unacknowledged alert" with its id (src/alerts/component.ts).
// Retained ones are published with the retain flag, which the broker clears on ack topics.
// Pure: areas and the clock come in, topics, bytes and expectations go out.

import type { ReasonCode } from '../../src/schemas/reasons.ts';
import { TOPIC_ROOT, topics } from '../../src/schemas/topics.ts';
import type { Rng } from '../../src/simulators/prng.ts';
import { int, pick, randomBytes, slug, withBadUtf8 } from './fuzz-random.ts';

/** src/alerts/acks.ts MAX_ACK_BYTES: larger is refused as PAYLOAD_TOO_LARGE. */
const MAX_ACK_BYTES = 2048;

export type AckExpect =
  /** A dead letter from the alert service (stage `alerts`, this topic) with one of these reasons. */
  | { kind: 'ack-refused'; reasons: readonly ReasonCode[] }
  /** Well-formed, but no open unacknowledged alert has this id: no action, one log line naming it. */
  | { kind: 'ack-ignored'; alertId: string };

export interface AckInput {
  family: string;
  topic: string;
  payload: Buffer;
  retain: boolean;
  expect: AckExpect;
}

interface Ctx {
  rng: Rng;
  areas: readonly string[];
  now: number;
}

const refused = (...reasons: ReasonCode[]): AckExpect => ({ kind: 'ack-refused', reasons });

/** An alert id that is never open: an area's id format on a day long past, or made up. */
function fakeAlertId(ctx: Ctx, area: string): string {
  return ctx.rng.next() < 0.5
    ? `${area}-2001${String(int(ctx.rng, 1, 12)).padStart(2, '0')}${String(int(ctx.rng, 10, 28))}T000000Z`
    : `fz-${slug(ctx.rng, int(ctx.rng, 4, 30))}`;
}

/** A well-formed acknowledgement for `area` that names no open alert; `by` makes it unique. */
function wellFormed(ctx: Ctx, area: string) {
  return {
    v: 1,
    alertId: fakeAlertId(ctx, area),
    areaId: area,
    by: `fz-${slug(ctx.rng, 10)}`,
    at: new Date(ctx.now - int(ctx.rng, 0, 3600) * 1000).toISOString(),
  };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function ownArea(ctx: Ctx): { area: string; topic: string } {
  const area = pick(ctx.rng, ctx.areas);
  return { area, topic: topics.alertAck(area) };
}

type Case = Omit<AckInput, 'family' | 'retain'>;

const NOT_JSON = [
  'not json{',
  'NaN',
  'undefined',
  "{'v':1}",
  '{"v":1,}',
  '<ack/>',
  'v=1&alertId=x',
  '{"v":1}}',
  '[',
  '"',
];

/** No `by`: the broker overwrites it with the login, so whatever the sender put there is moot. */
const WRONG_VALUES: Record<string, unknown[]> = {
  v: ['1', 2, 0, null, true, 1.5],
  alertId: [7, '', null, [], {}],
  areaId: ['TAKEO-TOWN', 'a', 7, '', 'x y', '-x-', null],
  at: ['yesterday', 1764000000, '2026-02-30T00:00:00Z', '2026-11-24T06:00:00', null, ''],
};

const MAKERS: Record<string, (ctx: Ctx) => Case> = {
  'ack-not-json': (ctx) => {
    const { area, topic } = ownArea(ctx);
    const text = JSON.stringify(wellFormed(ctx, area));
    // Any proper prefix of a JSON object is not JSON; so is text after its end, or none of it.
    const payload =
      ctx.rng.next() < 0.6
        ? Buffer.from(text.slice(0, int(ctx.rng, 0, text.length - 1)))
        : ctx.rng.next() < 0.5
          ? Buffer.from(`${text}${pick(ctx.rng, ['}', ',', 'x', ' {}', '\u0000'])}`)
          : Buffer.from(pick(ctx.rng, NOT_JSON));
    return { topic, payload, expect: refused('PAYLOAD_MALFORMED') };
  },
  'ack-random-bytes': (ctx) => {
    const { topic } = ownArea(ctx);
    // Whatever random bytes turn out to be (not UTF-8, not JSON, JSON of no ack's shape), refused.
    return {
      topic,
      payload: randomBytes(ctx.rng, int(ctx.rng, 8, 1500)),
      expect: refused('PAYLOAD_MALFORMED', 'SCHEMA_INVALID'),
    };
  },
  'ack-invalid-utf8': (ctx) => {
    const { area, topic } = ownArea(ctx);
    const text = JSON.stringify(wellFormed(ctx, area));
    // Inside the `by` string, so the bytes are the only thing wrong.
    const at = text.indexOf('"by":"fz-') + 9;
    return { topic, payload: withBadUtf8(ctx.rng, text, at), expect: refused('PAYLOAD_MALFORMED') };
  },
  'ack-huge': (ctx) => {
    const { area, topic } = ownArea(ctx);
    const size =
      ctx.rng.next() < 0.9 ? int(ctx.rng, MAX_ACK_BYTES + 1, 64 * 1024) : int(ctx.rng, 64 * 1024, 900 * 1024);
    const base = JSON.stringify({ ...wellFormed(ctx, area), note: '' });
    const payload =
      ctx.rng.next() < 0.5
        ? Buffer.from(`${base.slice(0, -2)}${'x'.repeat(Math.max(0, size - base.length))}"}`)
        : Buffer.concat([
            Buffer.from(base.slice(0, 40)),
            Buffer.alloc(size, pick(ctx.rng, ['x', '{', ' ', '\u00ff'])),
          ]);
    return { topic, payload, expect: refused('PAYLOAD_TOO_LARGE') };
  },
  'ack-wrong-type': (ctx) => {
    const { area, topic } = ownArea(ctx);
    const ack: Record<string, unknown> = wellFormed(ctx, area);
    const r = ctx.rng.next();
    if (r < 0.15)
      return {
        topic,
        payload: Buffer.from(pick(ctx.rng, ['null', '[]', '7', '"ack"', 'true', '[{}]', '{}'])),
        expect: refused('SCHEMA_INVALID'),
      };
    const field = pick(ctx.rng, Object.keys(WRONG_VALUES));
    if (r < 0.3) delete ack[field];
    else ack[field] = pick(ctx.rng, WRONG_VALUES[field] as unknown[]);
    return { topic, payload: json(ack), expect: refused('SCHEMA_INVALID') };
  },
  'ack-wrong-area': (ctx) => {
    const { area, topic } = ownArea(ctx);
    const others = ctx.areas.filter((a) => a !== area);
    const named = ctx.rng.next() < 0.7 && others.length ? pick(ctx.rng, others) : `fz-${slug(ctx.rng, 8)}`;
    return {
      topic,
      payload: json({ ...wellFormed(ctx, area), areaId: named }),
      expect: refused('TOPIC_INVALID'),
    };
  },
  'ack-bad-topic': (ctx) => {
    const level = pick(ctx.rng, [
      '',
      'TAKEO-TOWN',
      '\u6a58\u753a',
      'a b',
      'x'.repeat(int(ctx.rng, 65, 400)),
      '-',
      'a.b',
      '%00',
    ]);
    const topic = `${TOPIC_ROOT}/alerts/${level}/ack`;
    // Naming that same level in the payload fails the schema (areas are slugs); a real area, the topic.
    if (level !== '' && ctx.rng.next() < 0.4)
      return {
        topic,
        payload: json({ ...wellFormed(ctx, pick(ctx.rng, ctx.areas)), areaId: level }),
        expect: refused('SCHEMA_INVALID'),
      };
    return {
      topic,
      payload: json(wellFormed(ctx, pick(ctx.rng, ctx.areas))),
      expect: refused('TOPIC_INVALID'),
    };
  },
  'ack-unknown-alert': (ctx) => {
    // A known area, or a slug no area has (the topic tree and the schema allow it).
    const area = ctx.rng.next() < 0.8 ? pick(ctx.rng, ctx.areas) : `fz-${slug(ctx.rng, 6)}`;
    const ack = wellFormed(ctx, area);
    return {
      topic: topics.alertAck(area),
      payload: json(ack),
      expect: { kind: 'ack-ignored', alertId: ack.alertId },
    };
  },
  'ack-prototype-keys': (ctx) => {
    const { area, topic } = ownArea(ctx);
    const ack = wellFormed(ctx, area);
    const extra = pick(ctx.rng, [
      '"__proto__":{"alertId":"x","v":2}',
      '"constructor":{"prototype":{"polluted":true}}',
      '"__proto__":null',
      '"toString":1',
    ]);
    return {
      topic,
      payload: Buffer.from(`{${extra},${JSON.stringify(ack).slice(1)}`),
      expect: { kind: 'ack-ignored', alertId: ack.alertId },
    };
  },
};

/** Family, weight (within the ack channel). `ack-retained` is any other ack with the retain flag. */
export const ACK_FAMILIES: ReadonlyArray<readonly [string, number]> = [
  ['ack-not-json', 4],
  ['ack-random-bytes', 2],
  ['ack-invalid-utf8', 3],
  ['ack-huge', 2],
  ['ack-wrong-type', 4],
  ['ack-wrong-area', 2],
  ['ack-bad-topic', 2],
  ['ack-unknown-alert', 3],
  ['ack-prototype-keys', 1],
  ['ack-retained', 2],
];

export function ackInput(rng: Rng, areas: readonly string[], now: number, family: string): AckInput {
  const ctx: Ctx = { rng, areas, now };
  if (family === 'ack-retained') {
    const made = MAKERS[pick(rng, Object.keys(MAKERS))] as (c: Ctx) => Case;
    return { family, retain: true, ...made(ctx) };
  }
  const make = MAKERS[family];
  if (!make) throw new Error(`no ack family ${family}`);
  return { family, retain: false, ...make(ctx) };
}
