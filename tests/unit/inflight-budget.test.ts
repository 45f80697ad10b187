// The hand-off's in-flight budget without Kafka: `inflight` is a plain counter standing for the
// records the producer holds.
import { describe, expect, it } from 'vitest';
import { InflightBudget } from '../../src/broker/inflight-budget.ts';

interface Pub {
  id: string;
  client: { closed: boolean };
  receivedAt: Date;
}

function setup(opts: { perClient?: number; total?: number; holdMs?: number } = {}) {
  let inflight = 0;
  let now = 0;
  const proceeded: string[] = [];
  const expired: string[] = [];
  const waitingSeen: number[] = [];
  const budget = new InflightBudget<Pub>({
    perClient: opts.perClient ?? 10,
    total: opts.total ?? 2,
    holdMs: opts.holdMs ?? 1000,
    inflight: () => inflight,
    proceed: (p) => {
      proceeded.push(p.id);
      inflight++; // sent to the producer
    },
    expire: (p) => expired.push(p.id),
    onWaiting: (_change, waiting) => waitingSeen.push(waiting),
    now: () => now,
  });
  const client = () => ({ closed: false });
  const pub = (id: string, c = client()): Pub => ({ id, client: c, receivedAt: new Date(now) });
  /** Enters a publish; one that goes is sent to the producer at once, as the hand-off does. */
  const enter = (p: Pub) => {
    const entry = budget.enter(p);
    if (entry === 'go') inflight++;
    return entry;
  };
  /** The producer answers one record of `p`'s client. */
  const answer = (p: Pub) => {
    inflight--;
    budget.release(p.client);
  };
  return {
    budget,
    enter,
    answer,
    pub,
    client,
    proceeded,
    expired,
    waitingSeen,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('in-flight budget', () => {
  it('lets publishes go while there is room, then has them wait', () => {
    const t = setup({ total: 2 });
    expect(t.enter(t.pub('a'))).toBe('go');
    expect(t.enter(t.pub('b'))).toBe('go');
    expect(t.enter(t.pub('c'))).toBe('wait');
    expect(t.budget.waiting).toBe(1);
    expect(t.proceeded).toEqual([]);
  });

  it('lets waiting publishes through in arrival order as room is released', () => {
    const t = setup({ total: 1 });
    const a = t.pub('a');
    t.enter(a);
    const [b, c] = [t.pub('b'), t.pub('c')];
    expect(t.enter(b)).toBe('wait');
    expect(t.enter(c)).toBe('wait');
    t.answer(a);
    expect(t.proceeded).toEqual(['b']);
    expect(t.budget.waiting).toBe(1);
    t.answer(b);
    expect(t.proceeded).toEqual(['b', 'c']);
    expect(t.budget.waiting).toBe(0);
    expect(t.waitingSeen).toEqual([1, 2, 1, 0]);
  });

  it('keeps arrival order: a new publish waits behind waiting ones even when there is room', () => {
    const t = setup({ total: 1 });
    const a = t.pub('a');
    t.enter(a);
    t.enter(t.pub('b'));
    // Room frees up without a release (say a dead letter answered elsewhere): b is still first.
    t.answer(a);
    expect(t.enter(t.pub('c'))).toBe('wait');
    expect(t.proceeded).toEqual(['b']);
  });

  it('refuses a client over its own budget, and takes it again once one of its publishes is answered', () => {
    const t = setup({ perClient: 2, total: 100 });
    const c = t.client();
    const [a, b] = [t.pub('a', c), t.pub('b', c)];
    expect(t.enter(a)).toBe('go');
    expect(t.enter(b)).toBe('go');
    expect(t.enter(t.pub('c', c))).toBe('client-full');
    expect(t.enter(t.pub('other'))).toBe('go');
    t.answer(a);
    expect(t.enter(t.pub('d', c))).toBe('go');
  });

  it('expires a publish that waited longer than the hold time, and lets the next one through', () => {
    const t = setup({ total: 1, holdMs: 1000 });
    const a = t.pub('a');
    t.enter(a);
    t.enter(t.pub('old'));
    t.advance(600);
    t.enter(t.pub('young'));
    t.advance(600);
    t.answer(a);
    expect(t.expired).toEqual(['old']);
    expect(t.proceeded).toEqual(['young']);
  });

  it('drops a waiting publish whose client has gone: the device resends it', () => {
    const t = setup({ total: 1 });
    const a = t.pub('a');
    t.enter(a);
    const gone = t.client();
    t.enter(t.pub('gone', gone));
    t.enter(t.pub('b'));
    gone.closed = true;
    t.answer(a);
    expect(t.proceeded).toEqual(['b']);
    expect(t.expired).toEqual([]);
    expect(t.budget.waiting).toBe(0);
  });
});
