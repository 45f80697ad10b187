// Publishes that stay on MQTT (acknowledgements, signs' heartbeats, machi's own status and
// signage): their retain flag is cleared where it must never be set, before aedes stores anything,
// and an acknowledgement is stamped with the office user who sent it.
import type { AuthorizePublishHandler } from 'aedes';
import type { Logger } from '../observability/logger.ts';
import { topics } from '../schemas/topics.ts';
import { stampAck } from './ack-stamp.ts';
import { filterWithin } from './acl.ts';
import type { BrokerMetrics } from './metrics.ts';
import type { Principal } from './principal.ts';

/**
 * Acknowledgements are events (a retained bad one would come back on every restart); a retained
 * sign heartbeat (say with a time far ahead) would keep a dead sign "alive" for every console that
 * connects later: only live ones count.
 */
const NEVER_RETAINED = [topics.alertAcks, topics.signageHeartbeat('+')];

export function mqttOnly(
  packet: Parameters<AuthorizePublishHandler>[1],
  payload: Buffer,
  principal: Principal,
  deps: { metrics: BrokerMetrics; log: Logger; clientId: string },
): void {
  if (packet.retain && NEVER_RETAINED.some((filter) => filterWithin(packet.topic, filter))) {
    packet.retain = false;
    deps.metrics.retainCleared.inc();
    deps.log.info(
      { clientId: deps.clientId, topic: packet.topic },
      'retain flag cleared: acknowledgements and sign heartbeats are never retained',
    );
  }
  if (principal.role === 'office' && filterWithin(packet.topic, topics.alertAcks))
    packet.payload = stampAck(payload, principal);
}
