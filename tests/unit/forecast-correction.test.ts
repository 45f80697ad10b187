import { describe, expect, it } from 'vitest';
import { Correction } from '../../src/forecast/model/correction.ts';

describe('correction at one memory length', () => {
  // One feature besides the bias; the target is 2·x, later 5·x.
  const prior = [Float64Array.from([0, 0])];
  const feed = (c: Correction, slope: number) => {
    for (let k = 0; k < 2000; k++) {
      const x = Float64Array.from([1, (k % 7) - 3]);
      c.add(0, k % 24, false, x, slope * (x[1] as number), 1);
    }
  };
  const slope = (c: Correction) => c.predict(0, 5, false, Float64Array.from([0, 1]));

  it('fits each hour, shrunk to the pooled fit, and a long memory re-solves every 4th day', () => {
    const long = new Correction(prior, { halfLifeDays: 240, splitDaysOff: false }, 24);
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

    const short = new Correction(prior, { halfLifeDays: 10, splitDaysOff: false }, 24);
    feed(short, 2);
    short.refit(20, 5);
    feed(short, 5);
    short.refit(20, 5);
    expect(slope(short)).toBeGreaterThan(slope(long)); // a 10-day memory has forgotten more of 2·x
  });

  it('keeps days off apart from working days when split', () => {
    // Working days follow 2·x, days off 5·x (every 4th sample, as weekends are about 2 days in 7).
    const trained = (splitDaysOff: boolean) => {
      const c = new Correction(prior, { halfLifeDays: 240, splitDaysOff }, 24);
      for (let k = 0; k < 4000; k++) {
        const x = Float64Array.from([1, (k % 7) - 3]);
        const off = k % 4 === 0;
        c.add(0, 5, off, x, (off ? 5 : 2) * (x[1] as number), 1);
      }
      c.refit(20, 5);
      const at = (off: boolean) => c.predict(0, 5, off, Float64Array.from([0, 1]));
      return { work: at(false), off: at(true) };
    };
    const split = trained(true);
    // Each shrunk a little towards the pooled fit; days off, with fewer samples, more.
    expect(split.work).toBeCloseTo(2, 1);
    expect(Math.abs(split.off - 5)).toBeLessThan(0.2);
    const pooled = trained(false);
    expect(pooled.work).toBeCloseTo(pooled.off, 10);
    expect(pooled.work).toBeGreaterThan(2.3); // one slope for both kinds of day: between the two
    expect(pooled.work).toBeLessThan(4.7);
  });
});
