// aedes's in-memory persistence with a cap on each client's queue of QoS 1 messages: a persistent
// session (`clean: false`) whose device is offline or slow keeps at most `max` messages; newer
// ones are not queued (counted), so an abandoned session cannot grow without bound. Only devices
// and machi's services may hold persistent sessions (auth.ts); a device's sessions only ever
// subscribe to its own config topic. `dropSession` forgets a session whole (session-limit.ts).
import memoryModule from 'aedes-persistence';

type Sub = { clientId: string };
type ClientRef = { id: string };
/** What this module touches of aedes-persistence's memory store (its promise form, as aedes calls it). */
interface Persistence {
  outgoingEnqueue(sub: Sub, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: Sub[], packet: unknown): Promise<void>;
  outgoingClearMessageId(client: ClientRef, packet: unknown): Promise<unknown>;
  outgoingStream(client: ClientRef): AsyncIterable<unknown>;
  cleanSubscriptions(client: ClientRef): Promise<void>;
  cleanIncoming(client: ClientRef): Promise<void>;
  delWill(client: ClientRef): Promise<unknown>;
}

export interface CappedPersistence extends Persistence {
  /** Forgets an offline client's session: subscriptions, queued and in-flight messages, will. */
  dropSession(clientId: string): Promise<void>;
}
// A CommonJS module: its export is the factory itself.
const memory = memoryModule as unknown as () => Persistence;

export function cappedPersistence(max: number, onDropped: (clientId: string) => void): CappedPersistence {
  const persistence = memory();
  const queued = new Map<string, number>();
  const enqueue = persistence.outgoingEnqueue.bind(persistence);
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);

  const room = (sub: Sub) => {
    const n = queued.get(sub.clientId) ?? 0;
    if (n >= max) {
      onDropped(sub.clientId);
      return false;
    }
    queued.set(sub.clientId, n + 1);
    return true;
  };

  Object.assign(persistence, {
    async outgoingEnqueue(sub: Sub, packet: unknown) {
      if (room(sub)) await enqueue(sub, packet);
    },
    async outgoingEnqueueCombi(subs: Sub[], packet: unknown) {
      const kept = subs.filter(room);
      if (kept.length > 0) await enqueueCombi(kept, packet);
    },
    async outgoingClearMessageId(client: ClientRef, packet: unknown) {
      const removed = await clear(client, packet);
      if (removed) {
        const n = (queued.get(client.id) ?? 1) - 1;
        if (n <= 0) queued.delete(client.id);
        else queued.set(client.id, n);
      }
      return removed;
    },
    async dropSession(clientId: string) {
      const client = { id: clientId };
      await persistence.cleanSubscriptions(client);
      // The store has no call that empties a queue: clear each queued packet by its message id
      // (those not yet sent have none, and each call takes the first of them).
      for await (const packet of persistence.outgoingStream(client)) await clear(client, packet);
      queued.delete(clientId);
      await persistence.cleanIncoming(client);
      await persistence.delWill(client);
    },
  });
  return persistence as CappedPersistence;
}
