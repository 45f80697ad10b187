// Several brokers sharing through Kafka: when it is on, how a publish is written down, and what a
// broker takes from the shared topics (src/broker/shared-inbound.ts): other brokers' publishes as
// written, never its own, never garbage, within the byte budget.
import { describe, expect, it } from 'vitest';
import { SharedInbound } from '../../src/broker/shared-inbound.ts';
import { loadConfig } from '../../src/config/config.ts';
import { payloadOf, type SharedMessage, sharedMessage } from '../../src/schemas/shared-state.ts';
import { topics } from '../../src/schemas/topics.ts';

const inbound = (retainedBytes = 10_000) =>
  new SharedInbound({ origin: 'me.1', maxPayloadBytes: 100, retainedBytes });

const notice = topics.signageNotice('city-hall');
const record = (over: Partial<SharedMessage> = {}, payload = Buffer.from('{"level":"warning"}')) =>
  Buffer.from(
    JSON.stringify({
      ...sharedMessage(
        { topic: notice, retain: true, qos: 1, publisher: { role: 'service' }, origin: 'other.2' },
        payload,
      ),
      ...over,
    }),
  );

it('is on once a broker id is set or when asked for, and off by default', () => {
  const enabled = (env: Record<string, string>) =>
    loadConfig({ MACHI_MODE: 'demo', ...env }).mqtt.shared.enabled;
  expect(enabled({})).toBe(false);
  expect(enabled({ MACHI_BROKER_ID: 'broker-a' })).toBe(true);
  expect(enabled({ MACHI_BROKER_SHARED_STATE: 'true' })).toBe(true);
  expect(enabled({ MACHI_BROKER_ID: 'broker-a', MACHI_BROKER_SHARED_STATE: 'false' })).toBe(false);
});

describe('shared records', () => {
  it('carry text as text and anything else as base64, byte for byte', () => {
    const text = sharedMessage(
      { topic: notice, retain: true, qos: 1, publisher: { role: 'service' }, origin: 'a' },
      Buffer.from('{"ok":"武雄"}'),
    );
    expect(text.encoding).toBe('utf8');
    expect(payloadOf(text).toString()).toBe('{"ok":"武雄"}');
    const bytes = Buffer.from([0xff, 0x00, 0xc3]);
    const binary = sharedMessage(
      { topic: notice, retain: true, qos: 1, publisher: { role: 'service' }, origin: 'a' },
      bytes,
    );
    expect(binary.encoding).toBe('base64');
    expect(payloadOf(binary)).toEqual(bytes);
  });

  it("delivers another broker's retained state and acks, and skips its own", () => {
    const i = inbound();
    const got = i.check('retained', record());
    expect(got).toMatchObject({ deliver: true, message: { topic: notice, retain: true } });
    expect(i.check('retained', record({ origin: 'me.1' }))).toEqual({ deliver: false, own: true });
    const ack = record({
      topic: topics.alertAck('takeo-town'),
      retain: false,
      publisher: { role: 'office', user: 'office/tanaka' },
    });
    expect(i.check('event', ack)).toMatchObject({ deliver: true });
  });

  it.each([
    ['no value', null, 'RECORD_INVALID'],
    ['not JSON', Buffer.from('garbage {'), 'RECORD_INVALID'],
    ['not the schema', Buffer.from('{"v":1,"topic":"x"}'), 'RECORD_INVALID'],
    ['a wildcard topic', record({ topic: topics.signageNotice('+') }), 'RECORD_INVALID'],
    ['a topic outside the tree', record({ topic: 'elsewhere/notice' }), 'NOT_AUTHORIZED'],
    ['a device topic', record({ topic: topics.floodReading('fs-takeo-001') }), 'NOT_AUTHORIZED'],
    [
      'an office user retaining',
      record({ topic: topics.alertAck('a'), publisher: { role: 'office' } }),
      'NOT_AUTHORIZED',
    ],
    ['an event on the retained topic', record({ retain: false }), 'RECORD_INVALID'],
    ['a payload over the limit', record({}, Buffer.alloc(101, 'x')), 'PAYLOAD_TOO_LARGE'],
    ['a huge record', Buffer.alloc(10_000, 'x'), 'PAYLOAD_TOO_LARGE'],
  ])('skips %s', (_what, value, reason) => {
    expect(inbound().check('retained', value)).toMatchObject({ deliver: false, own: false, reason });
  });

  it('holds no more retained bytes than its budget; a cleared topic frees its room', () => {
    const i = inbound(200);
    const at = (site: string, payload: string) =>
      i.check('retained', record({ topic: topics.signageNotice(site) }, Buffer.from(payload)));
    expect(at('a-site', 'x'.repeat(90))).toMatchObject({ deliver: true });
    // The same topic again replaces its bytes rather than adding to them.
    expect(at('a-site', 'y'.repeat(90))).toMatchObject({ deliver: true });
    expect(at('b-site', 'z'.repeat(90))).toMatchObject({ deliver: false, reason: 'SHARED_STATE_FULL' });
    expect(at('a-site', '')).toMatchObject({ deliver: true });
    expect(i.retainedBytes).toBe(0);
    expect(at('b-site', 'z'.repeat(90))).toMatchObject({ deliver: true });
  });
});
