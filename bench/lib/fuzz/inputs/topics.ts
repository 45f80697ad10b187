// Publishing outside the ACL: another device's topic, an unknown device's, too deep, too long,
// invalid UTF-8 or odd. The device is disconnected and the attempt dead-lettered as NOT_AUTHORIZED.
import type { Device } from '../../../../src/registry/schema.ts';
import { TOPIC_ROOT, topics } from '../../../../src/schemas/topics.ts';
import { publishPacket } from '../../fuzz-packets.ts';
import { int, pick, slug, withBadUtf8 } from '../../fuzz-random.ts';
import { deviceTopic, encode, primary, topicKind, validReading } from './device.ts';
import type { Draft, FuzzContext } from './input.ts';

/** aedes closes the connection on PUBLISH topics deeper than this, before machi's hooks run. */
const AEDES_MAX_TOPIC_LEVELS = 100;

/** Topics aedes itself refuses in PUBLISH (closing the connection before machi's hooks run). */
export const protocolRefused = (topic: string) =>
  topic === '' || /[+#]/.test(topic) || topic.split('/').length > AEDES_MAX_TOPIC_LEVELS;

function foreignTopic(ctx: FuzzContext, family: string, d: Device): string | Buffer {
  const { rng } = ctx;
  const own = deviceTopic(d, primary(d));
  switch (family) {
    case 'foreign-topic': {
      const other = pick(
        rng,
        ctx.registry.filter((o) => o.id !== d.id),
      );
      return deviceTopic(other, rng.next() < 0.2 ? 'heartbeat' : primary(other));
    }
    case 'unknown-device-topic':
      return `${TOPIC_ROOT}/${topicKind(d)}/${pick(rng, ['fs-', 'pc-', ''])}${slug(rng, int(rng, 2, 20))}/${primary(d)}`;
    case 'deep-topic':
      return own + '/x'.repeat(int(rng, 1, 400));
    case 'long-topic':
      return `${TOPIC_ROOT}/${topicKind(d)}/${'a'.repeat(int(rng, 100, 60_000))}/${primary(d)}`;
    case 'invalid-utf8-topic':
      return withBadUtf8(rng, own, int(rng, 0, Buffer.byteLength(own)));
    default:
      return pick(rng, [
        '',
        '/',
        '//',
        '#',
        '+',
        `${TOPIC_ROOT}/flood/+/reading`,
        `${TOPIC_ROOT}/#`,
        `${own}/`,
        `/${own}`,
        own.replace('/v1/', '//v1/'),
        own.toUpperCase(),
        own.replace('takeo', '\uff54akeo'),
        `${own}\u0000`,
        `$SYS/broker/${d.id}`,
        topics.deviceConfig(topicKind(d), d.id),
        topics.deviceStatus(topicKind(d), d.id),
        topics.signageCongestion('city-hall'),
        topics.alertAck('takeo-town'),
        d.kind === 'flood-sensor' ? topics.crowdCount(d.id) : topics.floodReading(d.id),
      ]);
  }
}

export function notAuthorizedCase(ctx: FuzzContext, family: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const topic = foreignTopic(ctx, family, d);
  const text = topic.toString();
  const payload = encode(validReading(rng, d, primary(d), int(rng, 0, 60000), ctx.now), d);
  return {
    family,
    login: d.id,
    packets: [publishPacket({ topic, payload, qos: 1 })],
    // MQTT forbids U+0000 in topic names; aedes may drop the connection before the ACL sees it.
    expect: { kind: 'not-authorized', protocolError: protocolRefused(text) || text.includes('\u0000') },
    publish: { topic: text, payload },
  };
}
