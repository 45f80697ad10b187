// One MQTT publish a broker passes on to every other broker through Kafka (several brokers, issue
// #24): retained state on a compacted topic keyed by the MQTT topic, events on a short-lived one.
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { Timestamp } from './common.ts';

/** A topic a broker may publish: no wildcards, no NUL; machi's own are far shorter than 1 KiB. */
const PublishTopic = z
  .string()
  .min(1)
  .max(1024)
  .refine((t) => !/[+#]/.test(t) && !t.includes('\0'), 'expected a topic without wildcards or NUL');

export const SharedMessage = z.object({
  v: z.literal(1),
  topic: PublishTopic,
  /** The payload as the receiving broker passed it on (an ack already stamped), as text when UTF-8. */
  payload: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  retain: z.boolean(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  /** Who published it, as the receiving broker authenticated them (an office user, a sign's site). */
  publisher: z.object({ role: z.enum(['service', 'office', 'signage']), user: z.string().optional() }),
  /** The broker process that received it: that one delivered it already and skips it. */
  origin: z.string().min(1),
  brokerTime: Timestamp,
});
export type SharedMessage = z.infer<typeof SharedMessage>;

export function sharedMessage(
  fields: Omit<SharedMessage, 'v' | 'payload' | 'encoding' | 'brokerTime'>,
  payload: Buffer,
  at = new Date(),
): SharedMessage {
  const text = isUtf8(payload);
  return {
    v: 1,
    ...fields,
    payload: payload.toString(text ? 'utf8' : 'base64'),
    encoding: text ? 'utf8' : 'base64',
    brokerTime: at.toISOString(),
  };
}

export function payloadOf(m: SharedMessage): Buffer {
  return Buffer.from(m.payload, m.encoding);
}
