// Payloads that parse but say the wrong thing: a time outside the accepted window, an interval that
// runs backwards, another device's id, the other message kind's record.
import type { DeviceMessage } from '../../../../src/schemas/topics.ts';
import { int, pick } from '../../fuzz-random.ts';
import { encode, isoSeconds, primary, validReading } from './device.ts';
import { dead, type PayloadFamilies } from './input.ts';
import { csvWith, jsonWith } from './vendor-formats.ts';

export const READING_PAYLOADS: PayloadFamilies = {
  'time-out-of-window': ({ rng, d, message, ctx }) => {
    const future = rng.next() < 0.5;
    const time = future
      ? ctx.now + int(rng, 25 * 3600, 60 * 365 * 86400) * 1000
      : ctx.now - int(rng, 8 * 86400, 50 * 365 * 86400) * 1000;
    return {
      payload: encode(validReading(rng, d, message, int(rng, 0, 60000), time), d),
      expect: dead(future ? 'TIME_IN_FUTURE' : 'TIME_TOO_OLD'),
    };
  },
  'interval-backwards': ({ rng, d, ctx }) => {
    const r = validReading(rng, d, 'count', int(rng, 0, 60000), ctx.now);
    if (r.kind !== 'crowd') throw new Error(`${d.id} is not a people counter`);
    // lpwa-hex carries a duration, so the closest it gets to backwards is zero length.
    const end =
      d.vendor === 'lpwa-hex'
        ? r.intervalStart
        : isoSeconds(Date.parse(r.intervalStart) - int(rng, 1, 3600) * 1000);
    return {
      payload: encode({ ...r, intervalEnd: end }, d),
      expect: dead('INTERVAL_INVALID'),
      message: 'count',
    };
  },
  'device-mismatch': (own) => {
    const other = pick(
      own.rng,
      own.ctx.registry.filter((o) => o.id !== own.d.id),
    ).id;
    return own.d.vendor === 'machi-json'
      ? { payload: jsonWith(own, 'deviceId', JSON.stringify(other)), expect: dead('DEVICE_MISMATCH') }
      : { payload: csvWith(own, 1, other), expect: dead('DEVICE_MISMATCH') };
  },
  'wrong-record': (own) => {
    // The other message kind's payload on this topic. machi-json has no record type: a flood reading
    // on a heartbeat topic is a valid heartbeat with extra fields, so only the other way is wrong.
    const other: DeviceMessage = own.message === 'heartbeat' ? primary(own.d) : 'heartbeat';
    const payload = encode(validReading(own.rng, own.d, other, own.reading.seq ?? 0, own.ctx.now), own.d);
    if (own.d.vendor === 'machi-json')
      return {
        payload,
        expect: own.message === 'heartbeat' ? { kind: 'processed' } : dead('SCHEMA_INVALID'),
      };
    return { payload, expect: dead('TOPIC_INVALID') };
  },
};
