// Builds the dead-letter record for a refused publish: where it came from, why, and what a reader
// needs of the payload: its first KiB, its length and its SHA-256. Keeping up to 64 KiB, as before,
// let a flood of refused publishes crowd Kafka's batches (and a few of them exceed a batch's limit).
import { createHash } from 'node:crypto';
import type { DeadLetter } from '../schemas/dead-letter.ts';
import type { ReasonCode } from '../schemas/reasons.ts';

export const DEAD_LETTER_KEPT_BYTES = 1024;

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
    payloadBase64: opts.payload.subarray(0, DEAD_LETTER_KEPT_BYTES).toString('base64'),
    payloadBytes: opts.payload.length,
    payloadSha256: createHash('sha256').update(opts.payload).digest('hex'),
    brokerTime: opts.brokerTime.toISOString(),
    mqttTopic: opts.mqttTopic,
    clientId: opts.clientId,
  };
}
