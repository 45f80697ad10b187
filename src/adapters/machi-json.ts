// machi's own JSON format: the canonical reading's fields; `kind` comes from the topic and
// `deviceId` may be omitted (the topic names the device).
import { Rejection } from '../schemas/reasons.ts';
import type { VendorAdapter } from './adapter.ts';
import { kindOf } from './kinds.ts';

export const machiJson: VendorAdapter = {
  format: 'machi-json',
  text: true,
  decode(payload, ctx) {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw new Rejection('PAYLOAD_MALFORMED', `not JSON: ${(err as Error).message.slice(0, 80)}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Rejection('SCHEMA_INVALID', 'expected a JSON object');
    }
    return { deviceId: ctx.device.id, ...value, kind: kindOf(ctx.message) };
  },
  encode(reading) {
    const { kind: _kind, ...fields } = reading;
    return Buffer.from(JSON.stringify(fields));
  },
};
