// What the connections case and its generator workers say to each other over the IPC channel:
// the parent hands each worker a slice of the fleet, the worker reports when its slice is
// connected, publishes on command for the hold and reports what was acknowledged.
import { z } from 'zod';

export const WorkerTask = z.object({
  type: z.literal('task'),
  url: z.string(),
  /** The worker's devices are load devices from..from+count-1 of `total`. */
  from: z.number().int().min(0),
  count: z.number().int().positive(),
  total: z.number().int().positive(),
  /** Source address for this worker's sockets (127.0.0.x), so ephemeral ports never run short. */
  localAddress: z.string(),
  /** Connection attempts outstanding at once in this worker. */
  concurrency: z.number().int().positive(),
  connectTimeoutMs: z.number().int().positive(),
});
export type WorkerTask = z.infer<typeof WorkerTask>;

export const PublishCommand = z.object({
  type: z.literal('publish'),
  /** Epoch ms when every worker starts its first period, so the fleet's offsets line up. */
  startAt: z.number(),
  periodMs: z.number().int().positive(),
  holdMs: z.number().int().positive(),
});
export type PublishCommand = z.infer<typeof PublishCommand>;

export const ParentMessage = z.discriminatedUnion('type', [
  WorkerTask,
  PublishCommand,
  z.object({ type: z.literal('stop') }),
]);
export type ParentMessage = z.infer<typeof ParentMessage>;

export const ConnectedReport = z.object({
  type: z.literal('connected'),
  connected: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** A few distinct failure messages, for the log. */
  errors: z.array(z.string()),
  /** Epoch ms of the first CONNECT attempt and of the last CONNACK. */
  firstAttemptAt: z.number(),
  lastConnackAt: z.number(),
});
export type ConnectedReport = z.infer<typeof ConnectedReport>;

export const PublishReport = z.object({
  type: z.literal('published'),
  sent: z.number().int().min(0),
  acknowledged: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Connections that closed during the hold (none should). */
  dropped: z.number().int().min(0),
  /** publish→PUBACK of every acknowledged message, ms. */
  latenciesMs: z.array(z.number()),
});
export type PublishReport = z.infer<typeof PublishReport>;

export const WorkerMessage = z.discriminatedUnion('type', [ConnectedReport, PublishReport]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;
