// Device health as the workers judge it: published retained on takeo/v1/<kind>/<id>/status, written
// to InfluxDB (device_health) and to Kafka (<prefix>.device.health, key device id) for the alert rules.
import { z } from 'zod';
import { AreaId, DeviceId, SiteId, Timestamp } from './common.ts';

/** `silent`: a radio-type flood sensor stopped transmitting, which can mean it is under water. */
export const HealthState = z.enum(['ok', 'low-battery', 'offline', 'silent']);
export type HealthState = z.infer<typeof HealthState>;

/** Conditions flagged beside the state: CLOCK_SKEW, the device clock is off by more than MACHI_CLOCK_SKEW_S. */
export const HealthFlag = z.enum(['CLOCK_SKEW']);
export type HealthFlag = z.infer<typeof HealthFlag>;

export const DeviceStatus = z.object({
  v: z.literal(1),
  deviceId: DeviceId,
  kind: z.enum(['flood-sensor', 'people-counter']),
  area: AreaId.optional(),
  site: SiteId.optional(),
  state: HealthState,
  /** Broker time of the last message from the device, if any was seen. */
  lastSeen: Timestamp.optional(),
  batteryV: z.number().optional(),
  rssiDbm: z.number().optional(),
  /** When the device entered this state. */
  since: Timestamp,
  flags: z.array(HealthFlag).optional(),
  /** Device time minus broker time of the last reading, in seconds, when flagged CLOCK_SKEW. */
  clockSkewS: z.number().optional(),
});
export type DeviceStatus = z.infer<typeof DeviceStatus>;
