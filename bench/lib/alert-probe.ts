// Alert probes: probe areas with one contact sensor each, cycling dry → wet → raised → dry →
// cleared; each raise is timed from publishing the wet reading to the office receiving the
// retained alert (the measure of bench/cases/alert-latency.ts, for cases that time alerts while
// something else happens). The broker must run with MACHI_ALERT_DEBOUNCE_S=0 and a short
// MACHI_ALERT_CLEAR_S (PROBE_CLEAR_MS), so the one wet reading makes the condition true.
import mqtt, { type MqttClient } from 'mqtt';
import { demoSecret } from '../../src/registry/secrets.ts';
import { topics } from '../../src/schemas/topics.ts';
import { writeProbes } from './probes.ts';
import { sleep } from './processes.ts';

export const PROBE_CLEAR_MS = 1000;
/** A raise slower than this counts as missed, and the probe goes on with its next cycle. */
export const RAISE_TIMEOUT_MS = 10_000;

export const probeArea = (i: number) => `bench-probe-${i}`;
const probeDevice = (i: number) => `fs-probe-${i}`;

/** Adds `count` probe areas and their sensors to a throwaway registry. */
export function addAlertProbes(dir: string, count: number): void {
  const areas = Array.from({ length: count }, (_, i) => ({
    id: probeArea(i),
    name: { ja: `計測${i}`, en: `Probe ${i}` },
    lat: 33.1 + i * 0.01,
    lon: 130.1,
  }));
  const probes = Array.from({ length: count }, (_, i) => ({ id: probeDevice(i), area: probeArea(i) }));
  writeProbes(dir, 'probes', probes, areas);
}

/** The office's subscription to every probe area's retained alert. */
export const probeAlertTopics = (count: number) =>
  Array.from({ length: count }, (_, i) => topics.alertsActive(probeArea(i)));

interface ActiveState {
  alerts: unknown[];
}

export interface ProbeSample {
  /** Epoch ms the wet reading was published. */
  sentAt: number;
  /** Reading → retained alert at the office; undefined: missed (over RAISE_TIMEOUT_MS). */
  latencyMs: number | undefined;
}

/**
 * Probe `i` cycles while `going()` says so against the broker at `url`, with `office` subscribed to
 * probeAlertTopics; every raise after the first (a warm-up) is passed to `onSample`.
 */
export async function runAlertProbe(
  url: string,
  i: number,
  office: MqttClient,
  going: () => boolean,
  onSample: (s: ProbeSample) => void,
): Promise<void> {
  const id = probeDevice(i);
  const device = await mqtt.connectAsync(url, {
    username: id,
    password: demoSecret(id),
    clientId: `probe-${id}`,
    reconnectPeriod: 0,
  });
  const topic = topics.alertsActive(probeArea(i));
  const next = (want: (s: ActiveState) => boolean, timeoutMs: number) =>
    new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => {
        office.off('message', onMessage);
        resolve(undefined);
      }, timeoutMs);
      const onMessage = (t: string, payload: Buffer) => {
        if (t !== topic || !want(JSON.parse(payload.toString()) as ActiveState)) return;
        clearTimeout(timer);
        office.off('message', onMessage);
        resolve(performance.now());
      };
      office.on('message', onMessage);
    });
  let seq = 0;
  const send = (wet: boolean) =>
    device.publishAsync(
      topics.floodReading(id),
      JSON.stringify({ time: new Date().toISOString(), seq: seq++, wet }),
      { qos: 1 },
    );
  try {
    for (let cycle = 0; going(); cycle++) {
      const raised = next((s) => s.alerts.length > 0, cycle === 0 ? 60_000 : RAISE_TIMEOUT_MS);
      const sentAt = Date.now();
      const sent = performance.now();
      await send(true);
      const at = await raised;
      if (at === undefined && cycle === 0) throw new Error(`probe ${id}: no first alert within 60 s`);
      if (cycle > 0) onSample({ sentAt, latencyMs: at === undefined ? undefined : at - sent });
      // Dry for longer than the clear time: the alert clears (on the next reading or tick). A late
      // raise still clears: wait for the clear either way before the next cycle.
      const cleared = next((s) => s.alerts.length === 0, 60_000);
      await send(false);
      await sleep(PROBE_CLEAR_MS + 100);
      await send(false);
      if ((await cleared) === undefined)
        throw new Error(`probe ${id}: alert did not clear within 60 s (cycle ${cycle})`);
      // Spread the probes so their conditions do not fall on the same tick.
      await sleep(37 * i);
    }
  } finally {
    await device.endAsync();
  }
}
