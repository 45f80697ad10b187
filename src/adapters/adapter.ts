// A vendor adapter turns one vendor's payload into a canonical reading, and back (for simulators).
// Adapters only parse and map; range, time-window and identity checks live in src/adapters/validate.ts
// so every vendor is held to the same rules.
import type { Device } from '../registry/schema.ts';
import type { CanonicalReading } from '../schemas/readings.ts';
import type { DeviceMessage } from '../schemas/topics.ts';

export interface DecodeContext {
  device: Device;
  /** Which kind of message the topic says this is. */
  message: DeviceMessage;
}

export interface VendorAdapter {
  /** The registry's `vendor` value this adapter serves. */
  format: string;
  /** Whether the payload is text (then non-UTF-8 bytes are rejected before decode). */
  text: boolean;
  /**
   * Returns the reading as an unvalidated object (the caller validates it with the canonical
   * schema), or throws a Rejection (PAYLOAD_MALFORMED, SCHEMA_INVALID, ...).
   */
  decode(payload: Buffer, ctx: DecodeContext): unknown;
  /** The payload this device would send for a canonical reading. */
  encode(reading: CanonicalReading, device: Device): Buffer;
}
