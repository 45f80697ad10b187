// Every area's open alerts as the alerts service retains them (takeo/v1/alerts/<areaId>/active),
// held by one service subscription: the retained state is the authority on what is open now, the
// audit trail only on what happened.
import type { MqttClient } from 'mqtt';
import { connectService, type Runtime } from '../../runtime/component.ts';
import { ActiveAlerts } from '../../schemas/alerts.ts';
import { topics } from '../../schemas/topics.ts';

export class RetainedAlerts {
  private readonly areas = new Map<string, ActiveAlerts>();
  private client: MqttClient | undefined;

  constructor(private readonly runtime: Runtime) {}

  start(): void {
    const client = connectService(this.runtime, 'open-data');
    this.client = client;
    // Retained messages come again on every (re)subscription.
    client.on(
      'connect',
      () => void client.subscribeAsync(topics.alertsActive('+'), { qos: 1 }).catch(() => {}),
    );
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }

  all(): ActiveAlerts[] {
    return [...this.areas.values()];
  }

  private onMessage(topic: string, payload: Buffer): void {
    const areaId = topic.split('/')[3] ?? '';
    let parsed: ReturnType<typeof ActiveAlerts.safeParse> | undefined;
    try {
      parsed = payload.length ? ActiveAlerts.safeParse(JSON.parse(payload.toString('utf8'))) : undefined;
    } catch {
      parsed = undefined;
    }
    // Cleared, unreadable or for another area than its topic: nothing is claimed open there.
    if (parsed?.success && parsed.data.areaId === areaId) this.areas.set(areaId, parsed.data);
    else {
      if (payload.length)
        this.runtime.log.warn({ topic }, 'open data: invalid active-alerts message ignored');
      this.areas.delete(areaId);
    }
  }
}
