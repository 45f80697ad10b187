// Seeded choices shared by the fuzz families (the broker's, bench/lib/fuzz/inputs/; the services',
// bench/lib/fuzz-acks.ts, fuzz-records.ts, fuzz-http.ts): the same seed gives the same inputs.
import type { Rng } from '../../src/simulators/prng.ts';

export const pick = <T>(rng: Rng, items: readonly T[]): T =>
  items[Math.floor(rng.next() * items.length)] as T;
export const int = (rng: Rng, min: number, max: number) => Math.floor(rng.between(min, max + 1));

export function randomBytes(rng: Rng, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => int(rng, 0, 255)));
}

export function slug(rng: Rng, length: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => chars[int(rng, 0, chars.length - 1)]).join('');
}

/** Byte sequences no UTF-8 decoder may accept. */
export const BAD_UTF8: readonly number[][] = [
  [0xc3, 0x28],
  [0xff],
  [0xfe, 0xff],
  [0xed, 0xa0, 0x80],
  [0xc0, 0xaf],
  [0xe2, 0x82],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** `text` with an invalid UTF-8 sequence spliced in at byte `at`. */
export function withBadUtf8(rng: Rng, text: string | Buffer, at: number): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(rng, BAD_UTF8)), bytes.subarray(at)]);
}

/** Picks a maker by weight: `r` in [0, total weight). */
export function weighted<T extends readonly [string, number, ...unknown[]]>(
  table: readonly T[],
  r: number,
): T {
  for (const entry of table) {
    if (r < entry[1]) return entry;
    r -= entry[1];
  }
  return table[table.length - 1] as T;
}
