// Acknowledgements from the office, as they arrive over MQTT or HTTP: checked before anything acts
// on them. A bad one is refused with a reason code; it never throws into a listener.
import { AlertAck } from '../schemas/alerts.ts';
import type { ReasonCode } from '../schemas/reasons.ts';
import { parseAlertAckTopic } from '../schemas/topics.ts';

/** An acknowledgement is a few fields; anything larger is not one. */
export const MAX_ACK_BYTES = 2048;

export type AckCheck = { ok: true; ack: AlertAck } | { ok: false; reason: ReasonCode; detail: string };

/**
 * An MQTT acknowledgement on `takeo/v1/alerts/<area>/ack`. Its time is machi's receive time, not
 * what the sender wrote: a console's clock does not decide when an alert was acknowledged.
 */
export function checkMqttAck(topic: string, payload: Buffer, now: Date): AckCheck {
  const areaId = parseAlertAckTopic(topic);
  if (!areaId) return { ok: false, reason: 'TOPIC_INVALID', detail: 'not an acknowledgement topic' };
  if (payload.length > MAX_ACK_BYTES)
    return {
      ok: false,
      reason: 'PAYLOAD_TOO_LARGE',
      detail: `${payload.length} bytes (max ${MAX_ACK_BYTES})`,
    };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    return {
      ok: false,
      reason: 'PAYLOAD_MALFORMED',
      detail: `not JSON text: ${(err as Error).message.slice(0, 120)}`,
    };
  }
  const parsed = AlertAck.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'SCHEMA_INVALID',
      detail: `${issue?.path.join('.') || '(payload)'}: ${issue?.message}`,
    };
  }
  if (parsed.data.areaId !== areaId)
    return {
      ok: false,
      reason: 'TOPIC_INVALID',
      detail: `names area ${parsed.data.areaId} on ${areaId}'s topic`,
    };
  return { ok: true, ack: { ...parsed.data, at: now.toISOString() } };
}
