// Builds the dead-letter record for a refused publish: where it came from, why, and what a reader
// needs of the payload: its first KiB, its length and its SHA-256. Keeping up to 64 KiB, as before,
// let a flood of refused publishes crowd Kafka's batches (and a few of them exceed a batch's limit).
import { DEAD_LETTER_KEPT_BYTES, type DeadLetter, keptPayload } from '../schemas/dead-letter.ts';
import type { ReasonCode } from '../schemas/reasons.ts';

export function brokerDeadLetter(opts: {
  reason: ReasonCode;
  detail: string;
  payload: Buffer;
  mqttTopic: string;
  clientId: string;
  brokerTime: Date;
}): DeadLetter {
  const truncated = opts.payload.length > DEAD_LETTER_KEPT_BYTES;
  return {
    v: 1,
    reason: opts.reason,
    detail: truncated
      ? `${opts.detail} (payload truncated to ${DEAD_LETTER_KEPT_BYTES} of ${opts.payload.length} bytes)`
      : opts.detail,
    stage: 'broker',
    ...keptPayload(opts.payload),
    brokerTime: opts.brokerTime.toISOString(),
    mqttTopic: opts.mqttTopic,
    clientId: opts.clientId,
  };
}
