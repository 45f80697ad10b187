// Malformed MQTT: garbage, bad CONNECTs, broken lengths, reserved types and flags, PUBLISH before
// CONNECT, QoS 3, a second CONNECT, packet id 0, bad SUBSCRIBEs and mutated packets. The broker must
// not crash or accept them, and where the spec says so must drop the connection.
import { topics } from '../../../../src/schemas/topics.ts';
import { connectPacket, packet, publishPacket, subscribePacket } from '../../fuzz-packets.ts';
import { int, pick, randomBytes, slug } from '../../fuzz-random.ts';
import { deviceTopic, encode, primary, topicKind, validReading } from './device.ts';
import type { Draft, FuzzContext } from './input.ts';
import { mutate } from './mutate.ts';

export function malformedCase(ctx: FuzzContext, family: string, clientId: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const topic = deviceTopic(d, primary(d));
  const valid = encode(validReading(rng, d, primary(d), int(rng, 0, 60000), ctx.now), d);
  const malformed = (mustClose: boolean, packets: Buffer[], login?: string): Draft => ({
    family,
    login,
    packets,
    expect: { kind: 'malformed', mustClose },
  });
  switch (family) {
    case 'garbage':
      return malformed(false, [randomBytes(rng, int(rng, 1, 256))]);
    case 'bad-protocol':
      return malformed(true, [
        connectPacket({
          clientId,
          username: d.id,
          ...pick(rng, [
            { protocolName: 'MQIsdp', level: 4 },
            { protocolName: 'HTTP', level: 4 },
            { protocolName: 'MQTT', level: 7 },
            { protocolName: 'MQTT', level: 0 },
          ]),
        }),
      ]);
    case 'reserved-connect-flag':
      return malformed(true, [connectPacket({ clientId, username: d.id, flags: 0x83 })]);
    case 'truncated-connect': {
      const whole = connectPacket({ clientId, username: d.id, password: slug(rng, 24) });
      return malformed(false, [whole.subarray(0, int(rng, 1, whole.length - 1))]);
    }
    case 'bad-remaining-length':
      return malformed(true, [Buffer.from([pick(rng, [0x10, 0x30, 0x82]), 0xff, 0xff, 0xff, 0xff, 0x7f])]);
    case 'huge-remaining-length':
      return malformed(true, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), randomBytes(rng, 16)]);
    case 'publish-before-connect':
      return malformed(true, [publishPacket({ topic, payload: valid, qos: 1 })]);
    case 'reserved-packet-type':
      return malformed(
        true,
        [packet(pick(rng, [0x00, 0xf0]), randomBytes(rng, int(rng, 0, 8)))],
        pick(rng, [d.id, undefined]),
      );
    case 'qos-3':
      return malformed(true, [publishPacket({ topic, payload: valid, qos: 3 })], d.id);
    case 'second-connect':
      return malformed(true, [connectPacket({ clientId: `${clientId}b`, username: d.id })], d.id);
    case 'topic-length-overflow':
      return malformed(
        true,
        [packet(0x32, Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from(topic)]))],
        d.id,
      );
    case 'zero-packet-id':
      return {
        ...malformed(false, [publishPacket({ topic, payload: valid, qos: 1, packetId: 0 })], d.id),
        publish: { topic, payload: valid },
      };
    case 'malformed-subscribe':
      return malformed(
        false,
        [
          pick(rng, [
            subscribePacket([{ filter: pick(rng, ['', 'a/#/b', 'a+', '#/a']), qos: 1 }]),
            subscribePacket([{ filter: topics.deviceConfig(topicKind(d), d.id), qos: 3 }]),
            packet(0x82, Buffer.from([0, 1])),
            packet(0x80, subscribePacket([{ filter: '#', qos: 0 }]).subarray(2)),
          ]),
        ],
        d.id,
      );
    default:
      // mutated-packet: a well-formed QoS 1 PUBLISH of a valid reading with random edits anywhere.
      return malformed(false, [mutate(rng, publishPacket({ topic, payload: valid, qos: 1 }))], d.id);
  }
}
