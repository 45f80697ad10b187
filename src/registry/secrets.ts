// Device credentials: only salted scrypt hashes are stored (registry `secretHash`).
import { createHash, createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** `cost` is scrypt's N; lower it only for throwaway registries (benchmarks with thousands of devices). */
export function hashSecret(secret: string, cost = N): string {
  const salt = randomBytes(16);
  const hash = scryptSync(secret, salt, KEY_LENGTH, { N: cost, r: R, p: P });
  return `scrypt$${cost}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface Stored {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  expected: Buffer;
}

function parseStored(stored: string): Stored | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0)) return undefined;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (salt.length === 0 || expected.length === 0) return undefined;
  return { n, r, p, salt, expected };
}

const scryptOptions = ({ n, r, p }: Stored) => ({ N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });

/** Blocks the event loop for the whole scrypt (~50 ms at N=16384): CLI and tests only, never the broker. */
export function verifySecret(secret: string, stored: string): boolean {
  const s = parseStored(stored);
  if (!s) return false;
  try {
    return timingSafeEqual(scryptSync(secret, s.salt, s.expected.length, scryptOptions(s)), s.expected);
  } catch {
    return false;
  }
}

/** `verifySecret` on libuv's threadpool: the event loop keeps serving while scrypt runs. */
export function verifySecretAsync(secret: string, stored: string): Promise<boolean> {
  const s = parseStored(stored);
  if (!s) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      scrypt(secret, s.salt, s.expected.length, scryptOptions(s), (err, actual) =>
        resolve(!err && timingSafeEqual(actual, s.expected)),
      );
    } catch {
      resolve(false);
    }
  });
}

/** A fresh device secret: 144 random bits, URL-safe. */
export function generateSecret(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The secret of a device in the shipped demo registry, derived from a seed, so simulators, tests and
 * the demo can log in while the registry stores only hashes. Demo-only: rotate every device with
 * `machi devices rotate-secret` before real use.
 */
export function demoSecret(deviceId: string, seed = process.env.MACHI_DEMO_SEED ?? 'takeo-demo'): string {
  return createHmac('sha256', seed).update(deviceId).digest('base64url').slice(0, 24);
}

/** Compares a presented password with a configured one in constant time (whatever their lengths). */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
