// What the reconnect-storm case and its generator workers say to each other over the IPC channel:
// the parent hands each worker a slice of the fleet and the brokers' list, the worker reports when
// its slice is connected to the first broker; once that broker is killed, it reports when each of
// its devices was connected and had a reading acknowledged again.
import { z } from 'zod';
import { ConnectedReport } from './connections-protocol.ts';

export const StormTask = z.object({
  type: z.literal('task'),
  /** The devices' broker list (mqtt://host:port), tried in order; everyone starts on the first. */
  servers: z.array(z.string()).min(2),
  /** The worker's devices are load devices from..from+count-1. */
  from: z.number().int().min(0),
  count: z.number().int().positive(),
  localAddress: z.string(),
  /** Connection attempts outstanding at once while the fleet first connects. */
  concurrency: z.number().int().positive(),
});
export type StormTask = z.infer<typeof StormTask>;

export const AwaitRecovery = z.object({
  type: z.literal('await'),
  /** Epoch ms of the SIGKILL: only what happens after it counts. */
  killedAt: z.number(),
  /** Epoch ms after which the worker reports whatever has recovered. */
  deadline: z.number(),
});

export const StormParentMessage = z.discriminatedUnion('type', [
  StormTask,
  AwaitRecovery,
  z.object({ type: z.literal('stop') }),
]);
export type StormParentMessage = z.infer<typeof StormParentMessage>;

export const RecoveryReport = z.object({
  type: z.literal('recovered'),
  /** Per device, ms after the kill of its first CONNACK from another broker (-1: none). */
  reconnectedMs: z.array(z.number()),
  /** Per device, ms after the kill until its first reading after reconnecting was PUBACKed (-1: none). */
  republishedMs: z.array(z.number()),
  /** CONNECT attempts after the kill, and how they ended. */
  attempts: z.number().int().min(0),
  /** Refusals by CONNACK return code (3: server busy), as "code": count. */
  refused: z.record(z.string(), z.number().int()),
  /** Attempts that ended without any CONNACK (the dead broker, a closed socket, a timeout). */
  noConnack: z.number().int().min(0),
  /** A few distinct errors of attempts without CONNACK, for the log. */
  errors: z.array(z.string()),
});
export type RecoveryReport = z.infer<typeof RecoveryReport>;

export const StormWorkerMessage = z.discriminatedUnion('type', [ConnectedReport, RecoveryReport]);
export type StormWorkerMessage = z.infer<typeof StormWorkerMessage>;
