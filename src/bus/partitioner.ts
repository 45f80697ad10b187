// kafkajs's default partitioner (murmur2 of the key, as the Java client does), remembering each
// key's partition per topic: a broker produces thousands of readings a second from the same few
// thousand devices, and hashing every key again (with a filtered copy of the partition list per
// message) showed in its CPU profile. The partitions chosen are exactly the default's.
import { type ICustomPartitioner, Partitioners } from 'kafkajs';

/** Keys remembered per topic before that topic's memory starts over (device ids are bounded). */
const MAX_KEYS = 100_000;

export const memoizedDefaultPartitioner: ICustomPartitioner = () => {
  const byDefault = Partitioners.DefaultPartitioner();
  const topics = new Map<string, { count: number; keys: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (typeof message.key !== 'string' || (message.partition !== undefined && message.partition !== null))
      return byDefault(args);
    let memo = topics.get(topic);
    if (!memo || memo.count !== partitionMetadata.length || memo.keys.size >= MAX_KEYS) {
      memo = { count: partitionMetadata.length, keys: new Map() };
      topics.set(topic, memo);
    }
    let partition = memo.keys.get(message.key);
    if (partition === undefined) {
      partition = byDefault(args);
      memo.keys.set(message.key, partition);
    }
    return partition;
  };
};
