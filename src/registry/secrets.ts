// Device credentials: only salted scrypt hashes are stored (registry `secretHash`).
import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

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

export function verifySecret(secret: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every((v) => Number.isInteger(v) && v > 0)) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  try {
    const actual = scryptSync(secret, salt, expected.length, {
      N: n,
      r,
      p,
      maxmem: 256 * n * r + 1024 * 1024,
    });
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
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
