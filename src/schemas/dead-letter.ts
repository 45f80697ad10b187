// The dead-letter record: everything needed to see why input was refused and to replay it, and
// the one builder every stage uses to make one.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Timestamp } from './common.ts';
import { REASON_CODES, type ReasonCode } from './reasons.ts';

export const DeadLetter = z.object({
  v: z.literal(1),
  reason: z.enum(REASON_CODES),
  detail: z.string(),
  /** Which stage refused it. */
  stage: z.enum(['broker', 'worker', 'alerts', 'forecast']),
  /** The original bytes, base64, exactly as received (the first KiB only). */
  payloadBase64: z.string(),
  /** The whole payload's length and SHA-256 (hex), when `payloadBase64` may hold only its start. */
  payloadBytes: z.number().int().nonnegative().optional(),
  payloadSha256: z.string().optional(),
  brokerTime: Timestamp,
  mqttTopic: z.string().optional(),
  clientId: z.string().optional(),
  /** Where a worker read the record it could not process. */
  source: z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() }).optional(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** A dead letter keeps a payload's first KiB, its length and SHA-256: enough to read and match it,
 * never enough for one refused record to outgrow Kafka's record limit or crowd out valid readings
 * (keeping up to 64 KiB, as before, let a flood of refused publishes crowd Kafka's batches). */
export const DEAD_LETTER_KEPT_BYTES = 1024;

export interface DeadLetterInput extends Pick<DeadLetter, 'stage' | 'mqttTopic' | 'clientId' | 'source'> {
  reason: ReasonCode;
  detail: string;
  /** The refused bytes, whole: the builder keeps what a dead letter holds of them. */
  payload: Buffer;
  /** When it was refused; now by default. */
  at?: Date;
}

/** The dead letter of refused input, from any stage. */
export function deadLetter({ stage, reason, detail, payload, at, ...where }: DeadLetterInput): DeadLetter {
  const truncated = payload.length > DEAD_LETTER_KEPT_BYTES;
  return {
    v: 1,
    reason,
    detail: truncated
      ? `${detail} (payload truncated to ${DEAD_LETTER_KEPT_BYTES} of ${payload.length} bytes)`
      : detail,
    stage,
    ...keptPayload(payload),
    brokerTime: (at ?? new Date()).toISOString(),
    ...where,
  };
}

/** What a dead letter holds of a payload. */
function keptPayload(payload: Buffer): Pick<DeadLetter, 'payloadBase64' | 'payloadBytes' | 'payloadSha256'> {
  return {
    payloadBase64: payload.subarray(0, DEAD_LETTER_KEPT_BYTES).toString('base64'),
    payloadBytes: payload.length,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  };
}
