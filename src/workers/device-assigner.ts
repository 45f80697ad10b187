// Health must see every message of a device in one member: its readings (flood or crowd) and its
// heartbeats sit on the same partition number of different topics, and kafkajs's round-robin
// assigner splits those apart whenever the member count does not divide the partition count. This
// one gives partition p of every subscribed topic to the same member.
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

const NAME = 'MachiDevicePartitionAssigner';
const VERSION = 0;
const NO_USER_DATA = Buffer.alloc(0);

export const devicePartitionAssigner: PartitionAssigner = ({ cluster }) => ({
  name: NAME,
  version: VERSION,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    return ids.map((memberId, i) => {
      const assignment: Record<string, number[]> = {};
      for (const topic of topics) {
        const mine = cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .filter((p) => p % ids.length === i);
        if (mine.length) assignment[topic] = mine;
      }
      return {
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment,
          userData: NO_USER_DATA,
        }),
      };
    });
  },
  protocol({ topics }) {
    return {
      name: NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: NO_USER_DATA }),
    };
  },
});
