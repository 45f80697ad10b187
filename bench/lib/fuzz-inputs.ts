// The fuzzer's bad input for the broker, generated from a seed so any failing case can be replayed
// with --seed. Each input says what the broker must do with it. Pure: devices and the clock come in,
// bytes and expectations go out. Start here: FAMILIES lists every family, its weight in the mix and
// the module that makes it (bench/lib/fuzz/inputs/):
//   own-topic.ts      a device's own topic with a broken payload: payload-bytes.ts (bytes),
//                     payload-fields.ts (one field, per vendor-formats.ts), payload-readings.ts (meaning)
//   topics.ts         topics outside the ACL            logins.ts         logins that must be refused
//   subscriptions.ts  filters outside the ACL           last-will.ts      wills outside the ACL or bad
//   mqtt-packets.ts   malformed MQTT packets
// and input.ts says what an input is; device.ts what a real device sends, which the families break.
import { Rng } from '../../src/simulators/prng.ts';
import type { FuzzContext, FuzzInput, Maker } from './fuzz/inputs/input.ts';
import { willCase } from './fuzz/inputs/last-will.ts';
import { connectCase, takeoverCase } from './fuzz/inputs/logins.ts';
import { malformedCase } from './fuzz/inputs/mqtt-packets.ts';
import { ownTopicCase, trickledCase } from './fuzz/inputs/own-topic.ts';
import { subscribeCase } from './fuzz/inputs/subscriptions.ts';
import { notAuthorizedCase } from './fuzz/inputs/topics.ts';
import { weighted } from './fuzz-random.ts';

export { deviceTopic, encode, topicKind, validReading } from './fuzz/inputs/device.ts';
export type { Expectation, FuzzContext, FuzzInput } from './fuzz/inputs/input.ts';
export { mutate } from './fuzz/inputs/mutate.ts';

/** Family, weight, maker. Payload families dominate; each protocol family is a few percent. */
export const FAMILIES: ReadonlyArray<readonly [string, number, Maker]> = [
  ['mutated', 16, ownTopicCase],
  ['random-bytes', 5, ownTopicCase],
  ['oversized', 3, ownTopicCase],
  ['invalid-utf8', 5, ownTopicCase],
  ['wrong-type', 6, ownTopicCase],
  ['huge-number', 6, ownTopicCase],
  ['nan-string', 6, ownTopicCase],
  ['deep-nesting', 2, ownTopicCase],
  ['time-out-of-window', 4, ownTopicCase],
  ['bad-date', 3, ownTopicCase],
  ['interval-backwards', 2, ownTopicCase],
  ['device-mismatch', 2, ownTopicCase],
  ['wrong-record', 2, ownTopicCase],
  ['empty', 1, ownTopicCase],
  ['prototype-keys', 1, ownTopicCase],
  ['trickled-bytes', 1, trickledCase],
  ['foreign-topic', 3, notAuthorizedCase],
  ['unknown-device-topic', 2, notAuthorizedCase],
  ['deep-topic', 2, notAuthorizedCase],
  ['long-topic', 1, notAuthorizedCase],
  ['invalid-utf8-topic', 2, notAuthorizedCase],
  ['odd-topic', 3, notAuthorizedCase],
  ['unknown-device', 3, connectCase],
  ['wrong-secret', 1, connectCase],
  ['anonymous', 1, connectCase],
  ['odd-username', 2, connectCase],
  ['client-id-takeover', 2, takeoverCase],
  ['subscribe', 4, subscribeCase],
  ['last-will', 2, willCase],
  ['garbage', 3, malformedCase],
  ['bad-protocol', 1, malformedCase],
  ['reserved-connect-flag', 1, malformedCase],
  ['truncated-connect', 2, malformedCase],
  ['bad-remaining-length', 1, malformedCase],
  ['huge-remaining-length', 1, malformedCase],
  ['publish-before-connect', 1, malformedCase],
  ['reserved-packet-type', 1, malformedCase],
  ['qos-3', 1, malformedCase],
  ['second-connect', 1, malformedCase],
  ['topic-length-overflow', 1, malformedCase],
  ['zero-packet-id', 1, malformedCase],
  ['malformed-subscribe', 1, malformedCase],
  ['mutated-packet', 4, malformedCase],
];

export interface FuzzOptions extends Omit<FuzzContext, 'rng'> {
  seed: number;
  /** Client ids are this prefix plus the input's index (keep it short: ids are capped at 23 chars). */
  clientPrefix: string;
}

export const fuzzClientId = (prefix: string, index: number) => `${prefix}${index}`;

/** An endless, reproducible stream of bad input; the caller bounds it by count and time. */
export function* fuzzInputs(opts: FuzzOptions): Generator<FuzzInput & { clientId: string }> {
  const ctx: FuzzContext = { ...opts, rng: new Rng(opts.seed) };
  const total = FAMILIES.reduce((sum, [, weight]) => sum + weight, 0);
  for (let index = 0; ; index++) {
    const [family, , make] = weighted(FAMILIES, ctx.rng.next() * total);
    const clientId = fuzzClientId(opts.clientPrefix, index);
    const made = make(ctx, family, clientId);
    // The fuzzer's own logins use client ids that name the device (the broker binds them).
    yield { index, clientId: made.login ? `${made.login}-${clientId}` : clientId, ...made };
  }
}
