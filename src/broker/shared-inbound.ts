// Which records of the shared Kafka topics a broker delivers (several brokers, shared-state.ts).
// Kafka is trusted less than a login: a record is delivered only if it is one a broker could have
// written (its schema, a topic its publisher's role may publish, a payload within the MQTT limit),
// and other brokers' retained state is held within a byte budget, so garbage on the topic costs a
// log line and a metric, never the broker's memory or its life.
import { z } from 'zod';
import type { ReasonCode } from '../schemas/reasons.ts';
import { payloadOf, SharedMessage } from '../schemas/shared-state.ts';
import { topics } from '../schemas/topics.ts';
import { ACL, filterWithin } from './acl.ts';

/** What each publisher may have sent (as in the ACL); only a service's publishes are retained. */
const MAY_PUBLISH: Record<SharedMessage['publisher']['role'], string[]> = {
  service: ACL.service.publish({ role: 'service' }),
  office: [topics.alertAcks],
  signage: [topics.signageHeartbeat('+')],
};

/** Room for a record's fields around a payload at the limit, base64 taking 4/3 of it. */
const RECORD_OVERHEAD_BYTES = 4096;

export type SharedKind = 'retained' | 'event';

export type Inbound =
  | { deliver: true; message: SharedMessage; payload: Buffer }
  /** Written by this broker, which delivered it when it came in. */
  | { deliver: false; own: true }
  | { deliver: false; own: false; reason: ReasonCode; detail: string };

const refuse = (reason: ReasonCode, detail: string): Inbound => ({
  deliver: false,
  own: false,
  reason,
  detail,
});

export class SharedInbound {
  /** Bytes of each retained topic delivered from Kafka, and their sum. */
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(private readonly opts: { origin: string; maxPayloadBytes: number; retainedBytes: number }) {}

  get retainedBytes(): number {
    return this.total;
  }

  check(kind: SharedKind, value: Buffer | null): Inbound {
    if (!value) return refuse('RECORD_INVALID', 'no value');
    if (value.length > this.opts.maxPayloadBytes * 2 + RECORD_OVERHEAD_BYTES)
      return refuse('PAYLOAD_TOO_LARGE', `record of ${value.length} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(value.toString('utf8'));
    } catch (err) {
      return refuse('RECORD_INVALID', (err as Error).message.slice(0, 200));
    }
    const parsed = SharedMessage.safeParse(json);
    if (!parsed.success) return refuse('RECORD_INVALID', z.prettifyError(parsed.error).slice(0, 200));
    const message = parsed.data;
    if (message.origin === this.opts.origin) return { deliver: false, own: true };
    if (message.retain !== (kind === 'retained'))
      return refuse('RECORD_INVALID', `retain ${message.retain} on the ${kind} topic`);
    const { role } = message.publisher;
    const allowed = kind === 'retained' && role !== 'service' ? [] : MAY_PUBLISH[role];
    if (!allowed.some((f) => filterWithin(message.topic, f)))
      return refuse('NOT_AUTHORIZED', `${role} may not publish ${kind} ${message.topic}`);
    const payload = payloadOf(message);
    if (payload.length > this.opts.maxPayloadBytes)
      return refuse('PAYLOAD_TOO_LARGE', `payload of ${payload.length} bytes`);
    if (
      kind === 'retained' &&
      !this.hold(message.topic, payload.length && payload.length + message.topic.length)
    )
      return refuse('SHARED_STATE_FULL', `${this.total} bytes held`);
    return { deliver: true, message, payload };
  }

  /** Counts a retained topic's new payload and name (0: cleared); false when it would not fit. */
  private hold(topic: string, bytes: number): boolean {
    const before = this.held.get(topic) ?? 0;
    if (this.total - before + bytes > this.opts.retainedBytes) return false;
    this.total += bytes - before;
    if (bytes === 0) this.held.delete(topic);
    else this.held.set(topic, bytes);
    return true;
  }
}
