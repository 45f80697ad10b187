// Leadership of a role that must run once (the alert engine, the forecaster), leased through Kafka:
// every process of the role joins one consumer group on the role's one-partition leadership topic,
// and the member the partition is assigned to leads. Kafka ends a dead member's session after
// QUICK_REJOIN_CONSUMER's 6 s and the group is assigned again, so a standby leads within seconds.
// The assignment is sticky (see chooseLeader): a process that joins, or a group that rebalances
// after a Kafka restart, never moves the lease away from a live leader. The leader never fetches
// the topic (nothing is written to it): a fetch from a dead partition leader crashed the lease
// consumer, and kafkajs's crash leaves the group, which handed the lease to the standby.
import { AssignerProtocol, type Kafka, type PartitionAssigner } from 'kafkajs';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';
import { STARTUP_RETRY } from './admin.ts';
import { IDLE_TOPIC_CONSUMER, QUICK_REJOIN_CONSUMER } from './consumer.ts';

const { MemberMetadata, MemberAssignment } = AssignerProtocol;
const PROTOCOL = 'MachiLease';

export interface Claim {
  memberId: string;
  /** When this member became leader (its clock), if it believes it leads. */
  leadingSince?: number;
}

/**
 * Who holds the lease: the member that claims it, and if two do (one was cut off from Kafka long
 * enough for its session to end, and the other was elected meanwhile) the later claim, since
 * Kafka already took the earlier one's away; with no claim, the lowest member id.
 */
export function chooseLeader(claims: Claim[]): string | undefined {
  const claimed = claims
    .filter((c) => c.leadingSince !== undefined)
    .sort((a, b) => (b.leadingSince as number) - (a.leadingSince as number));
  return claimed[0]?.memberId ?? claims.map((c) => c.memberId).sort()[0];
}

/** A member's claim, carried in the user data of its join request. */
export function encodeClaim(leadingSince: number | undefined): Buffer {
  return Buffer.from(JSON.stringify(leadingSince === undefined ? {} : { leadingSince }));
}

export function decodeClaim(memberId: string, userData: Buffer | undefined): Claim {
  try {
    const { leadingSince } = JSON.parse(userData?.toString('utf8') || '{}') as { leadingSince?: unknown };
    return typeof leadingSince === 'number' ? { memberId, leadingSince } : { memberId };
  } catch {
    return { memberId };
  }
}

/** The group's assignment: every partition of the subscribed topics to the leader, none to the others. */
function leaseAssigner(leadingSince: () => number | undefined): PartitionAssigner {
  return ({ cluster }) => ({
    name: PROTOCOL,
    version: 0,
    async assign({ members, topics }) {
      const claims = members.map((m) =>
        decodeClaim(m.memberId, MemberMetadata.decode(m.memberMetadata)?.userData),
      );
      const leader = chooseLeader(claims);
      const all = Object.fromEntries(
        topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId)]),
      );
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: MemberAssignment.encode({
          version: 0,
          assignment: memberId === leader ? all : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: PROTOCOL,
        metadata: MemberMetadata.encode({ version: 0, topics, userData: encodeClaim(leadingSince()) }),
      };
    },
  });
}

/** What Kafka says of a member's lease: only a settled group can say it is another's. */
export type LeaseStanding = 'held' | 'lost' | 'unsettled';

export interface GroupView {
  state: string;
  members: Array<{ memberId: string; memberAssignment: Buffer }>;
}

/**
 * Whether the lease is `memberId`'s in `group` (as described by Kafka). A group that is rebalancing,
 * or whose coordinator is moving after a Kafka node died, assigns nothing yet: that is unsettled,
 * to be asked again, never lost.
 */
export function leaseStanding(
  group: GroupView | undefined,
  memberId: string | undefined,
  topic: string,
): LeaseStanding {
  if (group?.state !== 'Stable') return 'unsettled';
  const holder = group.members.find(
    (m) => (MemberAssignment.decode(m.memberAssignment)?.assignment[topic]?.length ?? 0) > 0,
  );
  if (!holder) return 'unsettled';
  return holder.memberId === memberId ? 'held' : 'lost';
}

/** Kafka could not say, now, who holds the lease: retry. */
export class LeaseUnsettled extends Error {}

export interface LeaseOptions {
  kafka: Kafka;
  groupId: string;
  /** The role's leadership topic (one partition, created by ensureTopics). */
  topic: string;
  log: Logger;
  onAcquired(): void;
  /**
   * Kafka gave the lease to another member, or the lease can no longer be followed. Not called for
   * a Kafka outage: while no member reaches Kafka, none can be elected either, and the leader goes on.
   */
  onLost(reason: string): void;
}

export interface Lease {
  readonly leading: boolean;
  /**
   * Asks Kafka, now: is the lease this member's? (`leading` is what this process last heard.)
   * False only when a settled group assigned it to another member; throws LeaseUnsettled while
   * the group rebalances, and Kafka's errors while it cannot be asked.
   */
  holds(): Promise<boolean>;
  /** Leaves the group: a standby is assigned the lease at once, without waiting for a session to end. */
  stop(): Promise<void>;
}

export async function joinLease(o: LeaseOptions): Promise<Lease> {
  let since: number | undefined;
  let memberId: string | undefined;
  const consumer = o.kafka.consumer({
    ...IDLE_TOPIC_CONSUMER,
    ...QUICK_REJOIN_CONSUMER,
    groupId: o.groupId,
    partitionAssigners: [leaseAssigner(() => since)],
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // Each join (kafkajs makes a new group object when it restarts the consumer): never fetch.
    consumer.pause([{ topic: o.topic }]);
    const holds = (payload.memberAssignment[o.topic]?.length ?? 0) > 0;
    memberId = payload.memberId;
    if (holds && since === undefined) {
      since = Date.now();
      o.onAcquired();
    } else if (!holds && since !== undefined) {
      since = undefined;
      o.onLost('the group assigned the lease to another member');
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) o.log.warn({ err: payload.error.message }, 'lease consumer restarting');
    else o.onLost(`lease consumer stopped: ${payload.error.message}`);
  });
  await consumer.connect();
  await retry(() => consumer.subscribe({ topic: o.topic, fromBeginning: false }), STARTUP_RETRY);
  // Nothing is ever written to the topic: membership and its assignment are the whole protocol.
  await consumer.run({ eachMessage: async () => {} });
  return {
    get leading() {
      return since !== undefined;
    },
    async holds() {
      if (since === undefined) return false;
      const admin = o.kafka.admin();
      await admin.connect();
      try {
        const [group] = (await admin.describeGroups([o.groupId])).groups;
        const standing = leaseStanding(group, memberId, o.topic);
        if (standing === 'unsettled') throw new LeaseUnsettled(`lease group ${group?.state ?? 'unknown'}`);
        return standing === 'held';
      } finally {
        await admin.disconnect();
      }
    },
    stop: () => consumer.disconnect(),
  };
}
