// The MQTT topic tree, written once. Versioned under takeo/v1 so payloads can change by version.
//
//   takeo/v1/flood/<deviceId>/reading        flood sensor → broker (vendor format)
//   takeo/v1/crowd/<deviceId>/count          people counter → broker (vendor format)
//   takeo/v1/<flood|crowd>/<deviceId>/heartbeat  device → broker (vendor format)
//   takeo/v1/<flood|crowd>/<deviceId>/config     machi → device
//   takeo/v1/<flood|crowd>/<deviceId>/status     machi → office (retained device health)
//   takeo/v1/signage/<siteId>/congestion     machi → signs (retained forecast)
//   takeo/v1/signage/<siteId>/notice         machi → signs (retained public disaster notice)
//   takeo/v1/signage/<siteId>/heartbeat      sign → office
//   takeo/v1/alerts/<areaId>/active          machi → office (retained active alerts)
//   takeo/v1/alerts/<areaId>/ack             office → machi (acknowledgements)
export const TOPIC_ROOT = 'takeo/v1';

/** The user names of machi's own roles on the broker (devices log in with their device id). */
export const ROLE_USERS = {
  office: 'office',
  service: 'machi-service',
  recorder: 'recorder',
  signage: 'signage',
} as const;

/** Where the broker takes MQTT over WebSocket on the HTTP server. */
export const WEBSOCKET_PATH = '/mqtt';

export type DeviceTopicKind = 'flood' | 'crowd';
export type DeviceMessage = 'reading' | 'count' | 'heartbeat';

export const topics = {
  floodReading: (deviceId: string) => `${TOPIC_ROOT}/flood/${deviceId}/reading`,
  crowdCount: (deviceId: string) => `${TOPIC_ROOT}/crowd/${deviceId}/count`,
  heartbeat: (kind: DeviceTopicKind, deviceId: string) => `${TOPIC_ROOT}/${kind}/${deviceId}/heartbeat`,
  deviceConfig: (kind: DeviceTopicKind, deviceId: string) => `${TOPIC_ROOT}/${kind}/${deviceId}/config`,
  deviceStatus: (kind: DeviceTopicKind, deviceId: string) => `${TOPIC_ROOT}/${kind}/${deviceId}/status`,
  signageCongestion: (siteId: string) => `${TOPIC_ROOT}/signage/${siteId}/congestion`,
  signageNotice: (siteId: string) => `${TOPIC_ROOT}/signage/${siteId}/notice`,
  signageHeartbeat: (siteId: string) => `${TOPIC_ROOT}/signage/${siteId}/heartbeat`,
  alertsActive: (areaId: string) => `${TOPIC_ROOT}/alerts/${areaId}/active`,
  alertAck: (areaId: string) => `${TOPIC_ROOT}/alerts/${areaId}/ack`,
  /** Every area's acknowledgements: what the alerts service subscribes to. */
  alertAcks: `${TOPIC_ROOT}/alerts/+/ack`,
} as const;

/** Topic filters over many devices, signs or areas. */
export const filters = {
  all: `${TOPIC_ROOT}/#`,
  deviceStatuses: `${TOPIC_ROOT}/+/+/status`,
  deviceConfigs: `${TOPIC_ROOT}/+/+/config`,
  alertsActive: topics.alertsActive('+'),
  /** What any sign (or anyone) may read: congestion and public notices of every site. */
  publicSignage: [topics.signageCongestion('+'), topics.signageNotice('+')],
} as const;

/** The topic level of a registry device kind. */
export function deviceTopicKind(kind: 'flood-sensor' | 'people-counter'): DeviceTopicKind {
  return kind === 'flood-sensor' ? 'flood' : 'crowd';
}

/** The area an acknowledgement topic names; undefined for any other topic. */
export function parseAlertAckTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  return parts[2] === 'alerts' && parts[4] === 'ack' && parts[3] ? parts[3] : undefined;
}

/** A device-originated topic, parsed; undefined when the topic is anything else. */
export interface DeviceTopic {
  kind: DeviceTopicKind;
  deviceId: string;
  message: DeviceMessage;
}

const DEVICE_MESSAGES: Record<DeviceTopicKind, readonly DeviceMessage[]> = {
  flood: ['reading', 'heartbeat'],
  crowd: ['count', 'heartbeat'],
};

export function parseDeviceTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const [, , kind, deviceId, message] = parts as [string, string, string, string, string];
  if (kind !== 'flood' && kind !== 'crowd') return undefined;
  if (!DEVICE_MESSAGES[kind].includes(message as DeviceMessage)) return undefined;
  return { kind, deviceId, message: message as DeviceMessage };
}
