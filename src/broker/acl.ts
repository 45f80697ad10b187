// The one table of who may publish and subscribe what. Each entry yields topic filters for a
// principal; a publish must match one of them, a subscription must lie entirely inside one.
import { TOPIC_ROOT } from '../schemas/topics.ts';
import type { Principal, Role } from './principal.ts';

type Filters = (p: Principal) => string[];

const deviceLevel = (p: Principal) => {
  if (p.role !== 'device') return undefined;
  return `${TOPIC_ROOT}/${p.device.kind === 'flood-sensor' ? 'flood' : 'crowd'}/${p.device.id}`;
};

const PUBLIC_SIGNAGE = [`${TOPIC_ROOT}/signage/+/congestion`, `${TOPIC_ROOT}/signage/+/notice`];

export const ACL: Record<Role, { publish: Filters; subscribe: Filters }> = {
  device: {
    publish: (p) => {
      const base = deviceLevel(p);
      if (!base || p.role !== 'device') return [];
      return [`${base}/${p.device.kind === 'flood-sensor' ? 'reading' : 'count'}`, `${base}/heartbeat`];
    },
    subscribe: (p) => [`${deviceLevel(p)}/config`],
  },
  signage: {
    publish: (p) => (p.role === 'signage' && p.siteId ? [`${TOPIC_ROOT}/signage/${p.siteId}/heartbeat`] : []),
    subscribe: () => PUBLIC_SIGNAGE,
  },
  anonymous: { publish: () => [], subscribe: () => PUBLIC_SIGNAGE },
  office: {
    // Only operators acknowledge; the broker stamps who did (handoff.ts).
    publish: (p) =>
      p.role === 'office' && p.officeRole === 'operator' ? [`${TOPIC_ROOT}/alerts/+/ack`] : [],
    subscribe: () => [`${TOPIC_ROOT}/#`],
  },
  service: {
    publish: () => [
      `${TOPIC_ROOT}/+/+/status`,
      `${TOPIC_ROOT}/+/+/config`,
      ...PUBLIC_SIGNAGE,
      `${TOPIC_ROOT}/alerts/+/active`,
    ],
    subscribe: () => [`${TOPIC_ROOT}/#`],
  },
  recorder: { publish: () => [], subscribe: () => [`${TOPIC_ROOT}/#`] },
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
