// The lease's assignment rule: sticky with a live leader, the later claim after a split, and a
// claim that survives the join protocol's bytes.
import { AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { chooseLeader, decodeClaim, encodeClaim, leaseStanding } from '../../src/bus/leadership.ts';

describe('chooseLeader', () => {
  it('keeps the lease with the member that holds it, whatever the member ids', () => {
    expect(chooseLeader([{ memberId: 'a' }, { memberId: 'z', leadingSince: 5 }, { memberId: 'm' }])).toBe(
      'z',
    );
  });

  it('gives it to the later claim when two members believe they lead', () => {
    // The earlier one's session ended while it was cut off; Kafka elected the other meanwhile.
    expect(
      chooseLeader([
        { memberId: 'old', leadingSince: 1_000 },
        { memberId: 'new', leadingSince: 9_000 },
      ]),
    ).toBe('new');
  });

  it('picks the lowest member id when nobody leads, and nobody in an empty group', () => {
    expect(chooseLeader([{ memberId: 'b' }, { memberId: 'a' }, { memberId: 'c' }])).toBe('a');
    expect(chooseLeader([])).toBeUndefined();
  });
});

describe('claims', () => {
  it('round-trip through the join metadata, and garbage counts as no claim', () => {
    expect(decodeClaim('m', encodeClaim(1234))).toEqual({ memberId: 'm', leadingSince: 1234 });
    expect(decodeClaim('m', encodeClaim(undefined))).toEqual({ memberId: 'm' });
    expect(decodeClaim('m', Buffer.alloc(0))).toEqual({ memberId: 'm' });
    expect(decodeClaim('m', Buffer.from('not json'))).toEqual({ memberId: 'm' });
    expect(decodeClaim('m', Buffer.from('{"leadingSince":"soon"}'))).toEqual({ memberId: 'm' });
  });
});

describe('leaseStanding', () => {
  const topic = 'machi.leadership.alerts';
  const member = (memberId: string, leads: boolean) => ({
    memberId,
    memberAssignment: AssignerProtocol.MemberAssignment.encode({
      version: 0,
      assignment: leads ? { [topic]: [0] } : {},
      userData: Buffer.alloc(0),
    }),
  });

  it('is held or lost only in a settled group', () => {
    const group = { state: 'Stable', members: [member('a', true), member('b', false)] };
    expect(leaseStanding(group, 'a', topic)).toBe('held');
    expect(leaseStanding(group, 'b', topic)).toBe('lost');
    // A member whose session ended while another was assigned the lease.
    expect(leaseStanding(group, 'gone', topic)).toBe('lost');
  });

  it('is unsettled while the group rebalances or its coordinator moves: a transient state, not fenced', () => {
    // Before: holds() answered false for any state but Stable, and the writer dropped its entries as fenced.
    for (const state of ['PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead', ''])
      expect(leaseStanding({ state, members: [member('a', false)] }, 'a', topic)).toBe('unsettled');
    expect(leaseStanding(undefined, 'a', topic)).toBe('unsettled');
    expect(leaseStanding({ state: 'Stable', members: [member('a', false)] }, 'a', topic)).toBe('unsettled');
  });
});
