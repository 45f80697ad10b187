// The one table of who may publish and subscribe what. Each entry yields topic filters for a
// principal; a publish must match one of them, a subscription must lie entirely inside one.
import { deviceTopicKind, filters, topics } from '../schemas/topics.ts';
import type { Principal, Role } from './principal.ts';

type Filters = (p: Principal) => string[];

export const ACL: Record<Role, { publish: Filters; subscribe: Filters }> = {
  device: {
    publish: (p) => {
      if (p.role !== 'device') return [];
      const { id, kind } = p.device;
      const message = kind === 'flood-sensor' ? topics.floodReading(id) : topics.crowdCount(id);
      return [message, topics.heartbeat(deviceTopicKind(kind), id)];
    },
    subscribe: (p) =>
      p.role === 'device' ? [topics.deviceConfig(deviceTopicKind(p.device.kind), p.device.id)] : [],
  },
  signage: {
    publish: (p) => (p.role === 'signage' && p.siteId ? [topics.signageHeartbeat(p.siteId)] : []),
    subscribe: () => [...filters.publicSignage],
  },
  anonymous: { publish: () => [], subscribe: () => [...filters.publicSignage] },
  office: {
    // Only operators acknowledge; the broker stamps who did (mqtt-only.ts).
    publish: (p) => (p.role === 'office' && p.officeRole === 'operator' ? [topics.alertAcks] : []),
    subscribe: () => [filters.all],
  },
  service: {
    publish: () => [
      filters.deviceStatuses,
      filters.deviceConfigs,
      ...filters.publicSignage,
      filters.alertsActive,
    ],
    subscribe: () => [filters.all],
  },
  recorder: { publish: () => [], subscribe: () => [filters.all] },
};

/** Does topic filter `inner` select only topics that `outer` also selects? */
export function filterWithin(inner: string, outer: string): boolean {
  const a = inner.split('/');
  const b = outer.split('/');
  for (let i = 0; i < b.length; i++) {
    const o = b[i];
    const x = a[i];
    if (o === '#') return true;
    if (x === undefined || x === '#') return false;
    if (o === '+') continue;
    if (x !== o) return false;
  }
  return a.length === b.length;
}

/** Each connection's publish filters, built once: every publish of a busy broker checks them. */
const publishFilters = new WeakMap<Principal, string[]>();

export function mayPublish(p: Principal, topic: string): boolean {
  let filters = publishFilters.get(p);
  if (!filters) {
    filters = ACL[p.role].publish(p);
    publishFilters.set(p, filters);
  }
  // A device's own topics are literal, so equality settles most checks without splitting.
  return filters.some((filter) => filter === topic || filterWithin(topic, filter));
}

export function maySubscribe(p: Principal, filter: string): boolean {
  return ACL[p.role].subscribe(p).some((allowed) => filterWithin(filter, allowed));
}
