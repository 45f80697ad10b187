// How many copies of each partition machi keeps, and how many must hold a write before Kafka
// acknowledges it. With three brokers a topic loses one broker without losing an acknowledged
// record (two copies had it) and without refusing writes (two copies are still in sync).

export interface Replication {
  factor: number;
  /** min.insync.replicas: a write with acks=-1 fails rather than rest on fewer copies. */
  minInsync: number;
}

/** For a cluster of `brokers`; `factor` overrides the copies (KAFKA_REPLICATION_FACTOR). */
export function replicationFor(brokers: number, factor = Math.min(3, brokers)): Replication {
  return { factor, minInsync: factor >= 3 ? 2 : 1 };
}
