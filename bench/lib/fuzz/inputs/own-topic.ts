// A logged-in device publishes a broken payload on its own topic: the payload families
// (./payload-bytes.ts, ./payload-fields.ts, ./payload-readings.ts), whole or trickled byte by byte.
import type { Device } from '../../../../src/registry/schema.ts';
import type { DeviceMessage } from '../../../../src/schemas/topics.ts';
import { publishPacket } from '../../fuzz-packets.ts';
import { int, pick } from '../../fuzz-random.ts';
import { deviceTopic, encode, primary, validReading } from './device.ts';
import type { Draft, FuzzContext, Maker, Own, PayloadFamilies } from './input.ts';
import { BYTE_PAYLOADS } from './payload-bytes.ts';
import { FIELD_PAYLOADS } from './payload-fields.ts';
import { READING_PAYLOADS } from './payload-readings.ts';

const PAYLOAD_FAMILIES: PayloadFamilies = { ...BYTE_PAYLOADS, ...FIELD_PAYLOADS, ...READING_PAYLOADS };

/** Families that only some devices can produce. */
const FITS: Record<string, (d: Device) => boolean> = {
  'interval-backwards': (d) => d.kind === 'people-counter',
  'device-mismatch': (d) => d.vendor !== 'lpwa-hex',
};

export function ownTopicCase(ctx: FuzzContext, family: string): Draft {
  const rng = ctx.rng;
  const fits = FITS[family];
  const d = pick(rng, fits ? ctx.devices.filter(fits) : ctx.devices);
  const message: DeviceMessage = rng.next() < 0.25 ? 'heartbeat' : primary(d);
  const reading = validReading(rng, d, message, int(rng, 0, 60000), ctx.now - int(rng, 0, 3600) * 1000);
  const own: Own = { rng, d, message, reading, valid: encode(reading, d), ctx };
  const breakPayload = PAYLOAD_FAMILIES[family];
  if (!breakPayload) throw new Error(`no payload family ${family}`);
  const made = breakPayload(own);
  const topic = deviceTopic(d, made.message ?? message);
  return {
    family,
    login: d.id,
    // Some at QoS 2: the hand-off runs before PUBREC, which the runner counts as the acknowledgement.
    packets: [publishPacket({ topic, payload: made.payload, qos: rng.next() < 0.1 ? 2 : 1 })],
    expect: made.expect,
    publish: { topic, payload: made.payload },
  };
}

/** One of the value families, written a byte at a time. */
export const trickledCase: Maker = (ctx) => ({
  ...ownTopicCase(ctx, pick(ctx.rng, ['nan-string', 'wrong-type', 'huge-number', 'mutated'])),
  family: 'trickled-bytes',
  trickle: true,
});
