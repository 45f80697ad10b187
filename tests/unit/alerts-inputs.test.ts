// The alert service's inputs: acknowledgements checked before use, the audit trail read back, and
// the start-up replay's progress.
import { describe, expect, it } from 'vitest';
import { checkMqttAck, MAX_ACK_BYTES } from '../../src/alerts/acks.ts';
import { AuditTrail } from '../../src/alerts/trail.ts';
import { ReplayProgress } from '../../src/bus/replay-progress.ts';
import type { AlertEvent } from '../../src/schemas/alerts.ts';
import { topics } from '../../src/schemas/topics.ts';

const now = new Date('2026-12-06T00:00:00Z');
const ack = { v: 1, alertId: 'takeo-town-1', areaId: 'takeo-town', by: 'tanaka', at: '2020-01-01T00:00:00Z' };
const on = topics.alertAck('takeo-town');

describe('MQTT acknowledgements', () => {
  it.each([
    ['not JSON', on, Buffer.from('not json{'), 'PAYLOAD_MALFORMED'],
    ['invalid UTF-8', on, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'PAYLOAD_MALFORMED'],
    ['empty', on, Buffer.alloc(0), 'PAYLOAD_MALFORMED'],
    ['JSON null', on, Buffer.from('null'), 'SCHEMA_INVALID'],
    ['an array', on, Buffer.from('[1,2]'), 'SCHEMA_INVALID'],
    ['a missing field', on, Buffer.from(JSON.stringify({ ...ack, alertId: undefined })), 'SCHEMA_INVALID'],
    [
      'a 10 KB name',
      on,
      Buffer.from(JSON.stringify({ ...ack, by: 'x'.repeat(10_000) })),
      'PAYLOAD_TOO_LARGE',
    ],
    ['a long name', on, Buffer.from(JSON.stringify({ ...ack, by: 'x'.repeat(65) })), 'SCHEMA_INVALID'],
    [
      'another area on the topic',
      topics.alertAck('kitagata'),
      Buffer.from(JSON.stringify(ack)),
      'TOPIC_INVALID',
    ],
    ['a non-ack topic', topics.alertsActive('takeo-town'), Buffer.from(JSON.stringify(ack)), 'TOPIC_INVALID'],
  ])('refuses %s with a reason', (_name, topic, payload, reason) => {
    expect(checkMqttAck(topic, payload, now)).toMatchObject({ ok: false, reason });
  });

  it('takes a valid one, timed by machi and not by the sender', () => {
    const checked = checkMqttAck(on, Buffer.from(JSON.stringify(ack)), now);
    expect(checked).toEqual({ ok: true, ack: { ...ack, at: now.toISOString() } });
    expect(MAX_ACK_BYTES).toBeGreaterThan(JSON.stringify(ack).length);
  });
});

const event = (fields: Partial<AlertEvent>): AlertEvent => ({
  v: 1,
  alertId: 'a1',
  areaId: 'takeo-town',
  level: 'warning',
  transition: 'raised',
  time: '2026-12-06T00:00:00.000Z',
  rule: 'corroborated',
  cause: [],
  actor: 'machi-rules',
  drill: false,
  acknowledged: false,
  ...fields,
});

describe('audit trail', () => {
  it('follows an episode through escalation and acknowledgement, and forgets it when cleared', () => {
    const trail = new AuditTrail();
    trail.observe(event({}));
    trail.observe(event({ transition: 'escalated', level: 'emergency', time: '2026-12-06T00:05:00.000Z' }));
    trail.observe(
      event({
        transition: 'acknowledged',
        level: 'emergency',
        actor: 'office:tanaka',
        acknowledged: true,
        time: '2026-12-06T00:06:00.000Z',
      }),
    );
    expect(trail.openAlert('takeo-town', false)).toEqual({
      alertId: 'a1',
      level: 'emergency',
      openedAt: Date.parse('2026-12-06T00:00:00Z'),
      acknowledgedAt: Date.parse('2026-12-06T00:06:00Z'),
      acknowledgedBy: 'tanaka',
    });
    expect(trail.openAlert('takeo-town', true)).toBeUndefined();
    trail.observe(event({ transition: 'cleared' }));
    expect(trail.openAlert('takeo-town', false)).toBeUndefined();
  });
});

describe('replay progress', () => {
  it('is done once every partition with history has been read to its end; later offsets are live', () => {
    const progress = new ReplayProgress([
      {
        highs: new Map([
          ['t:0', 10n],
          ['t:1', 5n],
          ['t:2', 0n],
        ]),
        seeks: [
          { topic: 't', partition: 0, offset: '7' },
          { topic: 't', partition: 1, offset: '5' }, // nothing since the replay window began
          { topic: 't', partition: 2, offset: '0' },
        ],
      },
    ]);
    expect(progress.done).toBe(false);
    expect(progress.isLive('t', 0, '9')).toBe(false);
    expect(progress.isLive('t', 0, '10')).toBe(true);
    expect(progress.read('t', 0, '8')).toBe(false);
    expect(progress.read('t', 0, '9')).toBe(true);
    expect(progress.done).toBe(true);
  });
});
