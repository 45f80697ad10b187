// Random edits to valid bytes: the mutated payload and mutated packet families.
import type { Rng } from '../../../../src/simulators/prng.ts';
import { int, pick, randomBytes } from '../../fuzz-random.ts';

const TOKENS = [
  '-1',
  '1e999',
  'NaN',
  '"',
  '{',
  '}',
  ',',
  '\u0000',
  '99999999999999999999',
  'null',
  ':',
  '[',
  'ff',
];

/** 1-4 random edits: bit flips, byte changes, inserts, deletes, duplicated slices, cut-offs, tokens. */
export function mutate(rng: Rng, input: Buffer): Buffer {
  let b = Buffer.from(input);
  for (let n = int(rng, 1, 4); n > 0; n--) {
    const at = int(rng, 0, Math.max(0, b.length - 1));
    switch (int(rng, 0, 6)) {
      case 0:
        if (b.length) b[at] = (b[at] ?? 0) ^ (1 << int(rng, 0, 7));
        break;
      case 1:
        if (b.length) b[at] = int(rng, 0, 255);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), randomBytes(rng, int(rng, 1, 4)), b.subarray(at)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + int(rng, 1, 8))]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(rng, 1, 16)), b.subarray(at)]);
        break;
      case 5:
        b = b.subarray(0, at);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(rng, TOKENS)), b.subarray(at)]);
    }
  }
  return b;
}
