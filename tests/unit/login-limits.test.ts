// The pure parts of the login and session limits (issue 21): failure budgets and bans (MQTT and
// HTTP share them) and the persistent sessions a device may keep.
import { describe, expect, it } from 'vitest';
import { SessionsPerDevice } from '../../src/broker/session-limit.ts';
import { Bans } from '../../src/lib/failure-budget.ts';

describe('Bans', () => {
  const opts = { ipFailures: 3, userFailures: 2, windowMs: 60_000, banMs: 600_000 };

  it('bans an address after its budget, until the ban ends, and never another address', () => {
    const bans = new Bans(opts);
    expect(bans.fail('10.0.0.1', 'x', false, 0)).toEqual([]);
    expect(bans.fail('10.0.0.1', 'y', false, 1)).toEqual([]);
    expect(bans.fail('10.0.0.1', 'z', false, 2)).toEqual(['ip']);
    expect(bans.banned('10.0.0.1', 'tanaka', 3)).toEqual({ scope: 'ip', until: 600_002 });
    expect(bans.banned('10.0.0.2', 'tanaka', 3)).toBeUndefined();
    expect(bans.banned('10.0.0.1', 'tanaka', 600_002)).toBeUndefined();
  });

  it('forgets failures from an earlier window', () => {
    const bans = new Bans(opts);
    bans.fail('10.0.0.1', undefined, false, 0);
    bans.fail('10.0.0.1', undefined, false, 1);
    expect(bans.fail('10.0.0.1', undefined, false, 60_000)).toEqual([]);
    expect(bans.banned('10.0.0.1', undefined, 60_001)).toBeUndefined();
  });

  it('bans a known name except from the addresses it logged in from', () => {
    const bans = new Bans(opts);
    bans.succeed('10.0.0.9', 'tanaka');
    bans.fail('10.0.0.1', 'tanaka', true, 0);
    expect(bans.fail('10.0.0.2', 'tanaka', true, 1)).toEqual(['user']);
    expect(bans.banned('10.0.0.3', 'tanaka', 2)?.scope).toBe('user');
    expect(bans.banned('10.0.0.9', 'tanaka', 2)).toBeUndefined();
    // An unknown name spends only the address's budget.
    bans.fail('10.0.0.4', 'nobody', false, 0);
    expect(bans.fail('10.0.0.5', 'nobody', false, 1)).toEqual([]);
    expect(bans.banned('10.0.0.6', 'nobody', 2)).toBeUndefined();
  });
});

describe('SessionsPerDevice', () => {
  const offline = () => false;

  it('drops the least recently connected session beyond the cap, offline ones first', () => {
    const s = new SessionsPerDevice(2);
    expect(s.connected('fs-1', 'fs-1-a', true, offline)).toEqual([]);
    expect(s.connected('fs-1', 'fs-1-b', true, offline)).toEqual([]);
    expect(s.connected('fs-1', 'fs-1-a', true, offline)).toEqual([]); // a reconnects: b is now older
    expect(s.connected('fs-1', 'fs-1-c', true, offline)).toEqual(['fs-1-b']);
    expect(s.connected('fs-1', 'fs-1-d', true, (id) => id === 'fs-1-a')).toEqual(['fs-1-c']);
    expect(s.connected('fs-1', 'fs-1-e', true, () => true)).toEqual(['fs-1-a']);
    expect(s.connected('fs-2', 'fs-2-a', true, offline)).toEqual([]); // per device
  });

  it('forgets a session that a clean connect wiped', () => {
    const s = new SessionsPerDevice(2);
    s.connected('fs-1', 'fs-1-a', true, offline);
    s.connected('fs-1', 'fs-1-b', true, offline);
    expect(s.connected('fs-1', 'fs-1-a', false, offline)).toEqual([]);
    expect(s.connected('fs-1', 'fs-1-c', true, offline)).toEqual([]);
  });
});
