// Credentials are stored only as verifiers (registry and users file `secretHash`), in one of two
// formats. `scrypt$…`: a slow, salted KDF, for anything a person may have chosen (office passwords).
// `hmac-sha256$…`: a salted HMAC-SHA256, for secrets machi generated with at least 128 random bits
// (device secrets, sign tokens): guessing 2^128 secrets is out of reach at any hash speed, so a slow
// KDF adds nothing but CPU at every login (docs/security.md "Device secrets and their verifiers").
import { createHash, createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { IdleScrypt } from '../lib/idle-scrypt.ts';

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

/** Random bits from which a secret is stored with the fast verifier. */
export const FAST_VERIFIER_MIN_BITS = 128;
/** Random bits in a `generateSecret()` secret. */
export const GENERATED_SECRET_BITS = 144;
const FAST = 'hmac-sha256';

/** The fast verifier: HMAC-SHA256 keyed with a fresh 16-byte salt. Only for high-entropy random secrets. */
function fastVerifier(secret: string): string {
  const salt = randomBytes(16);
  return `${FAST}$${salt.toString('base64')}$${createHmac('sha256', salt).update(secret).digest('base64')}`;
}

/**
 * The verifier for a secret machi generated with `entropyBits` random bits: the fast one from
 * FAST_VERIFIER_MIN_BITS up, scrypt below (the caller says the bits: a string cannot tell them).
 */
export function hashGeneratedSecret(secret: string, entropyBits = GENERATED_SECRET_BITS): string {
  return entropyBits >= FAST_VERIFIER_MIN_BITS ? fastVerifier(secret) : hashSecret(secret);
}

/** True for verifiers checked in microseconds on the event loop (no KDF, no threadpool, no queue). */
export const isFastVerifier = (stored: string): boolean => stored.startsWith(`${FAST}$`);

function verifyFast(secret: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 3) return false;
  const salt = Buffer.from(parts[1] ?? '', 'base64');
  const expected = Buffer.from(parts[2] ?? '', 'base64');
  if (salt.length === 0 || expected.length !== 32) return false;
  return timingSafeEqual(createHmac('sha256', salt).update(secret).digest(), expected);
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

/**
 * Checks `secret` against either format. For scrypt this blocks the event loop for the whole KDF
 * (~50 ms at N=16384): CLI and tests only; the broker uses it for fast verifiers alone.
 */
export function verifySecret(secret: string, stored: string): boolean {
  if (isFastVerifier(stored)) return verifyFast(secret, stored);
  const s = parseStored(stored);
  if (!s) return false;
  try {
    return timingSafeEqual(scryptSync(secret, s.salt, s.expected.length, scryptOptions(s)), s.expected);
  } catch {
    return false;
  }
}

/**
 * Two niced workers for every scrypt check of a running process; callers cap how many they queue
 * (the broker's MACHI_MQTT_AUTH_CONCURRENCY, the office login's own cap).
 */
const idleScrypt = new IdleScrypt(2);

/**
 * `verifySecret` with scrypt off the event loop, on threads at the lowest CPU priority: the loop
 * keeps serving while it runs, and a flood of bad logins only takes CPU nothing else wants.
 */
export async function verifySecretAsync(secret: string, stored: string): Promise<boolean> {
  if (isFastVerifier(stored)) return verifyFast(secret, stored);
  const s = parseStored(stored);
  if (!s) return false;
  try {
    return timingSafeEqual(
      await idleScrypt.derive(secret, s.salt, s.expected.length, scryptOptions(s)),
      s.expected,
    );
  } catch {
    return false;
  }
}

/** A fresh secret (device, sign token, first office password): GENERATED_SECRET_BITS random bits, URL-safe. */
export function generateSecret(): string {
  return randomBytes(GENERATED_SECRET_BITS / 8).toString('base64url');
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
