// Who acknowledged is the authenticated office user, never what the console wrote: the broker
// overwrites `by` before the acknowledgement reaches any subscriber (the alert service records it).
import type { Principal } from './principal.ts';

/** The payload with `by` set to the user; unchanged when it is no JSON object (the alert service refuses it). */
export function stampAck(payload: Buffer, principal: Extract<Principal, { role: 'office' }>): Buffer {
  let body: unknown;
  try {
    // Fatal decoding: a lenient one would turn invalid UTF-8 into valid JSON the service then took.
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return payload;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return payload;
  return Buffer.from(JSON.stringify({ ...body, by: principal.user }));
}
