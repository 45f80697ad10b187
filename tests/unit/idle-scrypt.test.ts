import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdleScrypt, niceOfThreads } from '../../src/lib/idle-scrypt.ts';

const params = { N: 1024, r: 8, p: 1, maxmem: 32 * 1024 * 1024 };

describe('scrypt on niced worker threads', () => {
  it('derives what scryptSync derives, for many checks at once on two workers', async () => {
    const pool = new IdleScrypt(2);
    const salt = Buffer.from('a-salt-of-16-byt');
    const secrets = Array.from({ length: 12 }, (_, i) => `secret-${i}`);
    const keys = await Promise.all(secrets.map((s) => pool.derive(s, salt, 32, params)));
    expect(keys).toEqual(secrets.map((s) => scryptSync(s, salt, 32, params)));
  });

  it('runs its checks at nice 19 while the rest of the process keeps its priority', async () => {
    const before = niceOfThreads();
    const pool = new IdleScrypt(2);
    await Promise.all([0, 1].map((i) => pool.derive(`s${i}`, Buffer.alloc(16), 32, params)));
    const after = niceOfThreads();
    expect(after.filter((n) => n === 19).length - before.filter((n) => n === 19).length).toBe(2);
    expect(after[0]).toBe(before[0]);
  });

  it('rejects what scrypt refuses, and goes on serving', async () => {
    const pool = new IdleScrypt(1);
    await expect(pool.derive('x', Buffer.alloc(16), 32, { ...params, N: 3 })).rejects.toThrow();
    expect((await pool.derive('x', Buffer.alloc(16), 32, params)).length).toBe(32);
  });
});
