import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/lib/fifo.ts';

describe('Fifo', () => {
  it('returns items in arrival order across compactions, and undefined when empty', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    // Interleave pushes and shifts so the front is dropped several times mid-stream.
    for (let i = 0; i < 10_000; i++) {
      q.push(i);
      if (i % 3 !== 0) out.push(q.shift() as number);
    }
    expect(q.length).toBe(10_000 - out.length);
    while (q.length > 0) out.push(q.shift() as number);
    expect(out).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });
});
