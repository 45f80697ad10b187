import { describe, expect, it } from 'vitest';
import { Correction } from '../../src/forecast/correction.ts';

describe('correction at one memory length', () => {
  // One feature besides the bias; the target is 2·x, later 5·x.
  const prior = [Float64Array.from([0, 0])];
  const feed = (c: Correction, slope: number) => {
    for (let k = 0; k < 2000; k++) {
      const x = Float64Array.from([1, (k % 7) - 3]);
      c.add(0, k % 24, x, slope * (x[1] as number), 1);
    }
  };
  const slope = (c: Correction) => c.predict(0, 5, Float64Array.from([0, 1]));

  it('fits each hour, shrunk to the pooled fit, and a long memory re-solves every 4th day', () => {
    const long = new Correction(prior, 240, 24);
    feed(long, 2);
    long.refit(20, 5);
    expect(slope(long)).toBeCloseTo(2, 1);
    feed(long, 5);
    for (let day = 2; day <= 4; day++) {
      long.refit(20, 5);
      expect(slope(long)).toBeCloseTo(2, 1); // days 2-4: the coefficients of day 1
    }
    long.refit(20, 5);
    expect(slope(long)).toBeGreaterThan(3); // day 5: solved again, with the 5·x samples

    const short = new Correction(prior, 10, 24);
    feed(short, 2);
    short.refit(20, 5);
    feed(short, 5);
    short.refit(20, 5);
    expect(slope(short)).toBeGreaterThan(slope(long)); // a 10-day memory has forgotten more of 2·x
  });
});
