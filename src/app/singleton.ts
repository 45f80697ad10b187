// Runs a component in one process of its role at a time (`machi alerts`, `machi forecast serve`):
// every process holds a Kafka lease (src/bus/leadership.ts) and only its leader builds and starts the
// component. Taking over is the component's own start: the alert engine replays Kafka and
// reconciles with the audit trail, its outputs resume from their groups' committed offsets, and its
// fenced writes (src/bus/fenced-producer.ts) make any later write of its predecessor fail.
// A standby is live (/healthz) but not ready (/readyz 503): a load balancer sends the office's
// acknowledgements to the leader only. A leader that loses the lease exits at once, without
// flushing: whatever it did not write while cut off must not reach Kafka beside the new leader's.
import { Gauge, type Registry } from 'prom-client';
import { ensureTopics } from '../bus/admin.ts';
import { createKafka } from '../bus/kafka.ts';
import { joinLease, type Lease } from '../bus/leadership.ts';
import { kafkaTopics, type SingletonRole } from '../bus/topics.ts';
import type { Component, ComponentFactory, Runtime } from '../runtime/component.ts';

/** Exit code of a leader that lost its lease (EX_TEMPFAIL): the supervisor starts it again, as a standby. */
export const LEASE_LOST_EXIT = 75;

function leaderGauge(registry: Registry): Gauge<'role'> {
  const name = 'machi_leader';
  return (
    (registry.getSingleMetric(name) as Gauge<'role'> | undefined) ??
    new Gauge({
      name,
      help: 'Whether this process is the active one of a singleton role (1) or a standby (0)',
      labelNames: ['role'],
      registers: [registry],
    })
  );
}

export function singleton(role: SingletonRole, factory: ComponentFactory): ComponentFactory {
  return (runtime: Runtime): Component => {
    const { config } = runtime;
    const log = runtime.log.child({ component: 'leadership', role });
    const gauge = leaderGauge(runtime.metrics);
    const kafka = createKafka(config, log, `leadership-${role}`);
    const topic = kafkaTopics(config.kafka.topicPrefix).leadership[role];
    let lease: Lease | undefined;
    let inner: Component | undefined;
    let starting: Promise<void> | undefined;
    let stopping = false;
    /** The component started (and registered its own readiness checks). */
    let active = false;

    function acquired(): void {
      if (stopping) return;
      const began = Date.now();
      log.info('leadership acquired: starting');
      gauge.set({ role }, 1);
      const component = factory({
        ...runtime,
        lease: { holds: () => lease?.holds() ?? Promise.resolve(false), lost },
      });
      inner = component;
      starting = component.start().then(
        () => {
          active = true;
          log.info({ ms: Date.now() - began }, 'active');
        },
        (err: Error) => lost(`start failed: ${err.message}`),
      );
    }

    function lost(reason: string): void {
      if (stopping) return;
      gauge.set({ role }, 0);
      log.error({ reason }, 'leadership lost: exiting');
      process.exit(LEASE_LOST_EXIT);
    }

    return {
      name: `${role} (singleton)`,
      async start() {
        gauge.set({ role }, 0);
        runtime.readiness[`${role}.active`] = () => lease?.leading === true && active;
        await ensureTopics(kafka, config, [topic]);
        lease = await joinLease({
          kafka,
          groupId: `${config.kafka.clientId}.${config.kafka.topicPrefix}.leadership.${role}`,
          topic,
          log,
          onAcquired: acquired,
          onLost: lost,
        });
        if (!lease.leading) log.info('standby: waiting for the lease');
      },
      beginStop() {
        stopping = true;
        inner?.beginStop?.();
      },
      async stop() {
        stopping = true;
        await starting;
        await inner?.stop();
        // Last: the standby takes over once this one has written everything it had.
        await lease?.stop();
        gauge.set({ role }, 0);
      },
    };
  };
}
