// Area rules and the alert lifecycle. Pure and clock-injected, so the same records give the same
// alerts whether live or replayed. The real engine's clock is broker time (when a reading reached
// machi, and the wall clock between readings): a device's own clock never moves it, so a sensor
// with a wrong RTC cannot skip debounce or hysteresis. A drill engine runs on the exercise's
// simulated clock (its readings' device time), which runs ahead of the wall clock at the replay's
// speed; a new exercise id starts its rules afresh.
import type { Area, Registry } from '../registry/schema.ts';
import {
  type ActiveAlerts,
  type AlertEvent,
  type AlertLevel,
  LEVEL_RANK,
  type Transition,
} from '../schemas/alerts.ts';
import type { DeviceStatus } from '../schemas/health.ts';
import type { ReadingRecord } from '../schemas/readings.ts';
import { distanceM } from './geo.ts';
import { type RuleSettings, SensorState } from './sensor.ts';
import type { RecordedAlert } from './trail.ts';

export interface Assessment {
  level: AlertLevel | undefined;
  rule: string;
  evidence: SensorState[];
}

interface OpenAlert {
  id: string;
  areaId: string;
  level: AlertLevel;
  openedAt: number;
  updatedAt: number;
  lastNotified: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  sensors: string[];
}

export type SilentClass = 'possible-flood' | 'maintenance' | 'maintenance-low-battery';

const iso = (t: number) => new Date(t).toISOString();

export class AlertEngine {
  private readonly sensors = new Map<string, SensorState>();
  private readonly byArea = new Map<string, SensorState[]>();
  private readonly open = new Map<string, OpenAlert>();
  private clock = 0;
  /** The drill run the drill engine follows (undefined for the real engine). */
  private exercise: string | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly rules: RuleSettings,
    readonly drill: boolean,
    private readonly lowBatteryV = 2.5,
  ) {
    this.resetSensors();
  }

  /** Every flood sensor of the registry, dry and unseen. */
  private resetSensors(): void {
    this.sensors.clear();
    this.byArea.clear();
    for (const d of this.registry.devices.values())
      if (d.kind === 'flood-sensor') {
        const sensor = new SensorState(d);
        this.sensors.set(d.id, sensor);
        this.byArea.set(d.area, [...(this.byArea.get(d.area) ?? []), sensor]);
      }
  }

  now(): number {
    return this.clock;
  }

  observeReading(record: Pick<ReadingRecord, 'reading' | 'receivedAt' | 'exercise'>): AlertEvent[] {
    const { reading, receivedAt } = record;
    if (reading.kind !== 'flood' || !this.sensors.has(reading.deviceId)) return [];
    const at = this.drill ? Date.parse(reading.time) : Date.parse(receivedAt);
    const ended = this.drill ? this.startExercise(record.exercise, at) : [];
    const sensor = this.sensors.get(reading.deviceId) as SensorState;
    this.clock = Math.max(this.clock, at);
    const before = sensor.evidenceKey(this.rules);
    // The sensor's wet/dry spell starts at this reading's own time, not at the engine's clock: a
    // start-up replay reads Kafka partition by partition, so the clock can already stand at the
    // end of the history when a sensor's first readings come in.
    if (!sensor.observe(reading, receivedAt, this.rules, at)) return ended;
    sensor.advance(this.clock, this.rules);
    // Most readings (a dry sensor staying dry, a splash inside the debounce) change nothing the
    // area rules look at; skipping them keeps the engine ahead of a storm of readings.
    if (sensor.evidenceKey(this.rules) === before) return ended;
    return [...ended, ...this.evaluate(sensor.device.area, 'machi-rules')];
  }

  /**
   * A reading from another drill run than the last one ends the old run: its open drill alerts
   * clear and every sensor starts dry on the new run's clock, so the same drill can be run again.
   */
  private startExercise(exercise: string | undefined, at: number): AlertEvent[] {
    if (exercise === undefined || exercise === this.exercise) return [];
    const previous = this.exercise;
    this.exercise = exercise;
    if (previous === undefined) return [];
    const ended = [...this.open.values()].map((alert) => {
      alert.updatedAt = this.clock;
      return this.event(alert, 'cleared', 'exercise-ended', [], 'machi-rules');
    });
    this.open.clear();
    this.resetSensors();
    this.clock = at;
    return ended;
  }

  /** Device health from the workers: a radio sensor gone `silent` may be under water. */
  observeHealth(status: DeviceStatus): AlertEvent[] {
    const sensor = this.sensors.get(status.deviceId);
    if (!sensor) return [];
    sensor.silent = status.state === 'silent';
    if (status.batteryV !== undefined) sensor.batteryV = status.batteryV;
    return this.evaluate(sensor.device.area, 'machi-rules');
  }

  /** Advances time: debounce and hysteresis without new readings, and re-notification. */
  tick(now: number): AlertEvent[] {
    this.clock = Math.max(this.clock, now);
    for (const s of this.sensors.values()) s.advance(this.clock, this.rules);
    const events = [...this.registry.areas.keys()].flatMap((a) => this.evaluate(a, 'machi-rules'));
    for (const alert of this.open.values()) {
      if (!alert.acknowledgedAt && this.clock - alert.lastNotified >= this.rules.renotifyMs) {
        alert.lastNotified = this.clock;
        events.push(this.event(alert, 're-notified', 'unacknowledged', [], 'machi-rules'));
      }
    }
    return events;
  }

  acknowledge(alertId: string, by: string, at: number): AlertEvent | undefined {
    const alert = [...this.open.values()].find((a) => a.id === alertId);
    if (!alert || alert.acknowledgedAt) return undefined;
    alert.acknowledgedAt = at;
    alert.acknowledgedBy = by;
    alert.updatedAt = at;
    return this.event(alert, 'acknowledged', 'acknowledged', [], `office:${by}`);
  }

  /**
   * After a restart: brings what the audit trail last said about `areaId` in line with the state
   * rebuilt from the readings. The same episode keeps its recorded id (and acknowledgement);
   * anything that changed while machi was down is announced, nothing is raised twice.
   */
  reconcile(areaId: string, recorded: RecordedAlert | undefined): AlertEvent[] {
    const current = this.open.get(areaId);
    const rule = 'restored-after-restart';
    if (!recorded) {
      return current
        ? [this.event(current, 'raised', rule, this.assess(areaId).evidence, 'machi-rules')]
        : [];
    }
    if (!current) {
      return [
        {
          v: 1,
          alertId: recorded.alertId,
          areaId,
          level: recorded.level,
          transition: 'cleared',
          time: iso(this.clock),
          rule,
          cause: [],
          actor: 'machi-rules',
          drill: this.drill,
          acknowledged: recorded.acknowledgedAt !== undefined,
        },
      ];
    }
    current.id = recorded.alertId;
    if (recorded.openedAt !== undefined) current.openedAt = recorded.openedAt;
    if (recorded.level === current.level) {
      if (current.acknowledgedAt === undefined && recorded.acknowledgedAt !== undefined) {
        current.acknowledgedAt = recorded.acknowledgedAt;
        current.acknowledgedBy = recorded.acknowledgedBy;
      }
      return [];
    }
    const transition: Transition =
      LEVEL_RANK[current.level] > LEVEL_RANK[recorded.level] ? 'escalated' : 'de-escalated';
    return [this.event(current, transition, rule, this.assess(areaId).evidence, 'machi-rules')];
  }

  /** The area's level now, and which rule and sensors say so. */
  assess(areaId: string): Assessment {
    const area = this.registry.areas.get(areaId);
    const inArea = this.byArea.get(areaId) ?? [];
    const active = inArea.filter((s) => s.active);
    const near = (a: SensorState, b: SensorState) => distanceM(a.device, b.device) <= this.rules.radiusM;
    // A silent radio sensor is evidence only when a neighbour is wet.
    const possible = inArea.filter(
      (s) => !s.active && s.silent && s.device.family === 'radio' && active.some((a) => near(a, s)),
    );
    const evidence = [...active, ...possible];
    if (evidence.length === 0 || !area) return { level: undefined, rule: 'dry', evidence };
    const cluster = evidence.some((s) => evidence.filter((o) => near(s, o)).length >= this.rules.k);
    const staged = active.some((s) => s.stagedRise());
    const rapid = active.some((s) => s.risePerMin >= this.rules.riseCmPerMin);
    if (!cluster && !staged && !rapid) return { level: 'watch', rule: 'single-sensor', evidence };
    const rule = cluster ? 'corroborated' : staged ? 'staged-rise' : 'rapid-rise';
    const deepest = Math.max(0, ...evidence.map((s) => s.level ?? 0));
    if (deepest >= area.emergencyDepthCm) return { level: 'emergency', rule: `${rule}+depth`, evidence };
    if (evidence.length / Math.max(1, inArea.length) >= area.emergencySpread) {
      return { level: 'emergency', rule: `${rule}+spread`, evidence };
    }
    return { level: 'warning', rule, evidence };
  }

  classifySilent(deviceId: string): SilentClass | undefined {
    const sensor = this.sensors.get(deviceId);
    if (!sensor?.silent) return undefined;
    if (this.assess(sensor.device.area).evidence.includes(sensor)) return 'possible-flood';
    return sensor.batteryV !== undefined && sensor.batteryV < this.lowBatteryV
      ? 'maintenance-low-battery'
      : 'maintenance';
  }

  active(areaId: string): ActiveAlerts {
    const alert = this.open.get(areaId);
    return {
      v: 1,
      areaId,
      alerts: alert
        ? [
            {
              id: alert.id,
              level: alert.level,
              areaId,
              sensors: alert.sensors,
              openedAt: iso(alert.openedAt),
              updatedAt: iso(alert.updatedAt),
              acknowledgedAt: alert.acknowledgedAt === undefined ? undefined : iso(alert.acknowledgedAt),
              acknowledgedBy: alert.acknowledgedBy,
              drill: this.drill,
            },
          ]
        : [],
    };
  }

  areaOf(alertId: string): Area | undefined {
    const alert = [...this.open.values()].find((a) => a.id === alertId);
    return alert && this.registry.areas.get(alert.areaId);
  }

  private evaluate(areaId: string, actor: string): AlertEvent[] {
    const { level, rule, evidence } = this.assess(areaId);
    const current = this.open.get(areaId);
    const t = this.clock;
    const sensors = evidence.map((s) => s.device.id);
    if (!current && level) {
      const alert: OpenAlert = {
        id: `${areaId}-${this.drill ? 'drill-' : ''}${iso(t).replace(/[-:.]/g, '').slice(0, 15)}Z`,
        areaId,
        level,
        openedAt: t,
        updatedAt: t,
        lastNotified: t,
        sensors,
      };
      this.open.set(areaId, alert);
      return [this.event(alert, 'raised', rule, evidence, actor)];
    }
    if (!current) return [];
    if (!level) {
      this.open.delete(areaId);
      current.updatedAt = t;
      return [this.event(current, 'cleared', rule, evidence, actor)];
    }
    current.sensors = sensors;
    if (level === current.level) return [];
    const transition: Transition =
      LEVEL_RANK[level] > LEVEL_RANK[current.level] ? 'escalated' : 'de-escalated';
    current.level = level;
    current.updatedAt = t;
    current.lastNotified = t;
    // A worse situation needs a fresh acknowledgement.
    if (transition === 'escalated') {
      current.acknowledgedAt = undefined;
      current.acknowledgedBy = undefined;
    }
    return [this.event(current, transition, rule, evidence, actor)];
  }

  private event(
    alert: OpenAlert,
    transition: Transition,
    rule: string,
    evidence: SensorState[],
    actor: string,
  ): AlertEvent {
    return {
      v: 1,
      alertId: alert.id,
      areaId: alert.areaId,
      level: alert.level,
      transition,
      time: iso(this.clock),
      rule,
      cause: evidence.flatMap((s) =>
        s.last ? [{ ...s.last, ...(s.silent && !s.active ? { silent: true } : {}) }] : [],
      ),
      actor,
      drill: this.drill,
      acknowledged: alert.acknowledgedAt !== undefined,
    };
  }
}
