// Street flooding under a rain event: water gathers where streets are low and drains afterwards.
// Sensors report it as their kind does: contact sensors transmit while wet, radio sensors transmit
// on schedule and fall silent when submerged, staged sensors report how many floats are under water.
import type { FloodSensor } from '../registry/schema.ts';
import type { FloodReading, Heartbeat } from '../schemas/readings.ts';
import { Rng, seedOf } from './prng.ts';
import { rainAt, type Scenario } from './scenario.ts';

/** Depth (cm) at which a radio sensor's signal disappears under water. */
export const RADIO_SUBMERGED_CM = 25;
/** Streets rarely hold more than this before water runs off elsewhere. */
const MAX_DEPTH_CM = 60;
/** Contact sensors repeat while wet at this interval. */
const WET_REPEAT_S = 60;

export interface Emission {
  atMs: number;
  reading: FloodReading | Heartbeat;
}

export function simulateFloodSensor(device: FloodSensor, s: Scenario, runStart: number): Emission[] {
  const rng = new Rng(seedOf(s.seed, device.id));
  const lowness = (s.areaLowness[device.area] ?? 1) * rng.between(0.6, 1.4);
  const drain = rng.between(15, 30);
  const fault = s.faults.find((f) => f.deviceId === device.id);
  let battery = fault?.kind === 'dead-battery' ? 2.15 : rng.between(2.8, 3.1);
  const drift = fault?.kind === 'clock-drift' ? fault.driftS * 1000 : 0;
  const out: Emission[] = [];
  let depth = 0;
  let seq = Math.floor(rng.between(0, 1000));
  let lastSent = -Infinity;
  let wasWet = false;
  const steps = Math.round((s.durationH * 3600) / s.stepS);
  for (let i = 0; i <= steps; i++) {
    const tS = i * s.stepS;
    const rain = rainAt(s, tS / 3600);
    // Rain beyond what the drains take ponds (street runoff concentrates ~0.35 cm per excess mm);
    // once the drains win, the street empties at about 2 cm/h per mm/h of drain capacity.
    const excess = rain * lowness - drain;
    const change = excess > 0 ? excess * 0.35 : excess * 2;
    depth = Math.min(MAX_DEPTH_CM, Math.max(0, depth + (change * s.stepS) / 3600));
    if (fault?.kind === 'dead-battery' && tS > 3600) break;
    const wet = fault?.kind === 'stuck-wet' || depth >= 1;
    const atMs = tS * 1000;
    const time = new Date(runStart + atMs + drift).toISOString();
    const rssi = Math.round(rng.between(-110, -80));
    let send = false;
    if (device.family === 'radio') send = tS - lastSent >= device.heartbeatS && depth < RADIO_SUBMERGED_CM;
    else send = (wet && tS - lastSent >= WET_REPEAT_S) || wet !== wasWet;
    if (send) {
      battery = Math.max(2, battery - 0.0002);
      const stage = device.stagesCm.filter((h) => depth >= h).length;
      out.push({
        atMs,
        reading: {
          kind: 'flood',
          deviceId: device.id,
          time,
          seq: seq++ % 65536,
          wet,
          ...(device.stagesCm.length ? { stage } : {}),
          ...(device.depthThresholdsCm ? { depthCm: Math.round(depth * 10) / 10 } : {}),
          batteryV: Math.round(battery * 100) / 100,
          rssiDbm: rssi,
        },
      });
      lastSent = tS;
      wasWet = wet;
    } else if (device.family === 'contact' && tS - lastSent >= device.heartbeatS) {
      out.push({
        atMs,
        reading: {
          kind: 'heartbeat',
          deviceId: device.id,
          time,
          seq: seq++ % 65536,
          batteryV: Math.round(battery * 100) / 100,
          rssiDbm: rssi,
        },
      });
      lastSent = tS;
    }
  }
  return out;
}
