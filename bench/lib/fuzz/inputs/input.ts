// What a broker fuzz input is: the bytes to send, how to send them, and what the broker must do.

import type { Device } from '../../../../src/registry/schema.ts';
import type { CanonicalReading } from '../../../../src/schemas/readings.ts';
import type { ReasonCode } from '../../../../src/schemas/reasons.ts';
import type { DeviceMessage } from '../../../../src/schemas/topics.ts';
import type { Rng } from '../../../../src/simulators/prng.ts';

export type Expectation =
  /** PUBACK, then a dead letter with one of these reasons. */
  | { kind: 'dead-letter'; reasons: readonly ReasonCode[] }
  /** PUBACK, then either a dead letter (any reason) or a valid reading: mutation may keep it valid. */
  | { kind: 'processed' }
  /** No PUBACK, the connection closed, a NOT_AUTHORIZED dead letter (none when aedes refuses the topic itself). */
  | { kind: 'not-authorized'; protocolError: boolean }
  /** CONNACK 4 or 5. */
  | { kind: 'connect-refused' }
  /** SUBACK 0x80 (or the grant when allowed), and the connection stays up. */
  | { kind: 'subscribe'; granted: boolean }
  /** Nothing accepted; `mustClose`: the broker must drop the connection. Any PUBACK must be accounted for. */
  | { kind: 'malformed'; mustClose: boolean }
  /** A packet above the broker's wire limit: the connection is dropped as its header arrives. */
  | { kind: 'packet-too-large' }
  /** A last will the broker publishes when the connection drops: dead-lettered with one of these. */
  | { kind: 'will'; reasons: readonly ReasonCode[] };

export const dead = (...reasons: ReasonCode[]): Expectation => ({ kind: 'dead-letter', reasons });

export interface FuzzInput {
  index: number;
  family: string;
  /** Device to log in as (CONNECT with its secret, then wait for CONNACK); none = raw from byte one. */
  login?: string;
  packets: Buffer[];
  expect: Expectation;
  /** The PUBLISH inside `packets`, when there is one well-formed enough to name. */
  publish?: { topic: string; payload: Buffer };
  /** Write one byte at a time. */
  trickle?: boolean;
  /** Log in with this last will, then drop the connection without DISCONNECT. */
  will?: { topic: string; payload: Buffer };
}

export interface FuzzContext {
  rng: Rng;
  /** Devices the fuzzer logs in as. */
  devices: Device[];
  /** Every device in the registry (foreign topics may name the valid stream's devices). */
  registry: Device[];
  now: number;
  maxPayloadBytes: number;
  /** Client ids other devices are connected with (the valid stream). */
  foreignClientIds: string[];
}

/** An input before numbering; `clientId` replaces the fuzzer's own id for the login. */
export type Draft = Omit<FuzzInput, 'index'> & { clientId?: string };

/** Makes one input of `family`; `clientId` is the fuzzer's own id for a raw login. */
export type Maker = (ctx: FuzzContext, family: string, clientId: string) => Draft;

/** A payload family's material: a valid reading from a logged-in device, to break. */
export interface Own {
  rng: Rng;
  d: Device;
  message: DeviceMessage;
  reading: CanonicalReading;
  /** The reading in the device's own format. */
  valid: Buffer;
  ctx: FuzzContext;
}

/** A broken payload for the device's own topic; `message` when it belongs on another of its topics. */
export type PayloadCase = { payload: Buffer; expect: Expectation; message?: DeviceMessage };

export type PayloadFamilies = Record<string, (own: Own) => PayloadCase>;
