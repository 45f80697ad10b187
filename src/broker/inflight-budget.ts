// The hand-off's in-flight budget: how many device publishes may be on their way to Kafka, per
// client and overall. aedes reads a client's socket again only once every packet of its last read
// has been handled, so a publish that waits here stops that client's socket: when the overall
// budget is full, publishes wait (in arrival order) for room instead of costing a disconnect and a
// resend storm. Only one that waits longer than the hold time, or a client over its own budget, is
// refused.
import { Fifo } from '../lib/fifo.ts';

/** A publish held by the budget, with the client it came from. */
export interface Held {
  client: { readonly closed: boolean };
  /** When the broker got it: the hold time counts from there. */
  receivedAt: Date;
}

export interface InflightBudgetOptions<T extends Held> {
  perClient: number;
  total: number;
  holdMs: number;
  /** Records on their way to Kafka now; letting a publish go on is what raises it. */
  inflight: () => number;
  /** Lets a waiting publish go on, once there is room. */
  proceed: (held: T) => void;
  /** Refuses a waiting publish that has waited longer than the hold time. */
  expire: (held: T) => void;
  /** Told each time a publish starts (+1) or stops (-1) waiting, with how many wait now. */
  onWaiting?: (change: 1 | -1, waiting: number) => void;
  now?: () => number;
}

/** `go`: on its way now; `wait`: `proceed` or `expire` comes later; `client-full`: refuse it. */
export type Entry = 'go' | 'wait' | 'client-full';

export class InflightBudget<T extends Held> {
  /** Publishes let through and not yet released, per client. */
  private readonly pending = new WeakMap<Held['client'], number>();
  private readonly queue = new Fifo<T>();

  constructor(private readonly opts: InflightBudgetOptions<T>) {}

  /** Publishes waiting for room. */
  get waiting(): number {
    return this.queue.length;
  }

  enter(held: T): Entry {
    if ((this.pending.get(held.client) ?? 0) >= this.opts.perClient) return 'client-full';
    // Behind others already waiting even when there is room: arrival order holds.
    if (this.opts.inflight() >= this.opts.total || this.queue.length > 0) {
      this.queue.push(held);
      this.opts.onWaiting?.(1, this.queue.length);
      return 'wait';
    }
    this.take(held.client);
    return 'go';
  }

  /** A publish let through is done (answered either way): its room goes to those waiting. */
  release(client: Held['client']): void {
    this.pending.set(client, (this.pending.get(client) ?? 1) - 1);
    const now = this.opts.now ?? Date.now;
    while (this.queue.length > 0 && this.opts.inflight() < this.opts.total) {
      const held = this.queue.shift() as T;
      this.opts.onWaiting?.(-1, this.queue.length);
      if (held.client.closed) continue; // it never got a PUBACK: the device resends
      if (now() - held.receivedAt.getTime() > this.opts.holdMs) {
        this.opts.expire(held);
        continue;
      }
      this.take(held.client);
      this.opts.proceed(held);
    }
  }

  private take(client: Held['client']): void {
    this.pending.set(client, (this.pending.get(client) ?? 0) + 1);
  }
}
