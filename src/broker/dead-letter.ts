// Builds the dead-letter record for a refused publish: raw bytes, where it came from, why.
import type { DeadLetter } from '../schemas/dead-letter.ts';
import type { ReasonCode } from '../schemas/reasons.ts';

/** Kafka's default record limit is 1 MiB; an oversized payload is kept only in part. */
const MAX_KEPT_BYTES = 64 * 1024;

export function brokerDeadLetter(opts: {
  reason: ReasonCode;
  detail: string;
  payload: Buffer;
  mqttTopic: string;
  clientId: string;
  brokerTime: Date;
}): DeadLetter {
  const truncated = opts.payload.length > MAX_KEPT_BYTES;
  return {
    v: 1,
    reason: opts.reason,
    detail: truncated ? `${opts.detail} (payload truncated to ${MAX_KEPT_BYTES} bytes)` : opts.detail,
    stage: 'broker',
    payloadBase64: opts.payload.subarray(0, MAX_KEPT_BYTES).toString('base64'),
    brokerTime: opts.brokerTime.toISOString(),
    mqttTopic: opts.mqttTopic,
    clientId: opts.clientId,
  };
}
