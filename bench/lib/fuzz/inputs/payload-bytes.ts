// Payloads broken as bytes, whatever the vendor format: mutated, random, oversized, invalid UTF-8
// and empty.
import { maxPacketBytes } from '../../../../src/broker/packet-guard.ts';
import { int, pick, randomBytes, withBadUtf8 } from '../../fuzz-random.ts';
import { dead, type Expectation, type PayloadFamilies } from './input.ts';
import { mutate } from './mutate.ts';

export const BYTE_PAYLOADS: PayloadFamilies = {
  mutated: (own) => ({ payload: mutate(own.rng, own.valid), expect: { kind: 'processed' } }),
  'random-bytes': (own) => ({
    payload: randomBytes(own.rng, int(own.rng, 1, 300)),
    expect: { kind: 'processed' },
  }),
  oversized: ({ rng, ctx }) => {
    // Above the wire limit the connection is dropped unread; below it the payload is dead-lettered.
    const limit = maxPacketBytes(ctx.maxPayloadBytes);
    const [size, expect]: [number, Expectation] =
      rng.next() < 0.15
        ? [int(rng, limit + 1, 2 * limit), { kind: 'packet-too-large' }]
        : [int(rng, ctx.maxPayloadBytes + 1, limit - 128 * 1024), dead('PAYLOAD_TOO_LARGE')];
    return { payload: Buffer.alloc(size, pick(rng, ['x', '{', '7', '\u00ff'])), expect };
  },
  'invalid-utf8': ({ rng, valid }) => ({
    payload: withBadUtf8(rng, valid, int(rng, 0, valid.length)),
    expect: dead('PAYLOAD_NOT_UTF8'),
  }),
  empty: () => ({ payload: Buffer.alloc(0), expect: dead('PAYLOAD_MALFORMED') }),
};
