// Subscriptions outside the ACL: SUBACK 0x80 and the connection stays up; the device's own config
// topic is the one filter granted.
import { TOPIC_ROOT, topics } from '../../../../src/schemas/topics.ts';
import { subscribePacket } from '../../fuzz-packets.ts';
import { pick } from '../../fuzz-random.ts';
import { deviceTopic, primary, topicKind } from './device.ts';
import type { Draft, FuzzContext } from './input.ts';

export function subscribeCase(ctx: FuzzContext, family: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const ownConfig = topics.deviceConfig(topicKind(d), d.id);
  const other = pick(
    rng,
    ctx.registry.filter((o) => o.id !== d.id),
  );
  const filter = pick(rng, [
    '#',
    '+/#',
    '$SYS/#',
    `${TOPIC_ROOT}/#`,
    `${TOPIC_ROOT}/+/+/config`,
    `${TOPIC_ROOT}/+/${d.id}/+`,
    `${ownConfig}/#`,
    topics.deviceConfig(topicKind(other), other.id),
    topics.deviceStatus(topicKind(d), d.id),
    deviceTopic(other, primary(other)),
    topics.alertsActive('takeo-town'),
    ownConfig,
  ]);
  return {
    family,
    login: d.id,
    packets: [subscribePacket([{ filter, qos: 1 }])],
    expect: { kind: 'subscribe', granted: filter === ownConfig },
  };
}
