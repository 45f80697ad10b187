// The peer's flows, as Node-RED flow documents: mqtt in → json → function → influxdb (v1 API).
// `plain` writes one point per message with the "influxdb out" node; `batching` groups points in a
// function node (flush at `batchSize` points or after `flushMs`) for the "influxdb batch" node.
// A second, tiny flow echoes probe messages so the starter knows the broker connection is up and
// subscribed (both subscriptions go out together on every connect, the data one first).
import { topics } from '../../src/schemas/topics.ts';

export type NodeRedVariant = 'plain' | 'batching';

export interface FlowOptions {
  variant: NodeRedVariant;
  mqttPort: number;
  influxUrl: string;
  database: string;
  cleanSession: boolean;
  clientId: string;
  probeTopic: string;
  echoTopic: string;
  batchSize: number;
  flushMs: number;
}

export const NODE_RED_MEASUREMENT = 'nodered_flood';
const READINGS = topics.floodReading('+');
const DEVICE_SEGMENT = READINGS.split('/').indexOf('+');

// Points are keyed by series (device tag) and time, so two readings of one device in the same
// millisecond would overwrite each other. The timestamp is written in nanoseconds as the reading's
// millisecond followed by seq mod 10^6 in the six sub-millisecond digits: unique per device unless
// one device sends a million readings within one millisecond, and a redelivered reading (same seq,
// same time) lands on its own point again instead of adding a row. Built as a string because the
// nanosecond value does not fit a JS number exactly (node-influx passes numeric strings through).
const POINT = `
const reading = msg.payload;
const ms = Date.parse(reading && reading.time);
if (!Number.isFinite(ms) || !Number.isInteger(reading.seq) || reading.seq < 0) {
  node.warn('not a reading: ' + msg.topic);
  return null;
}
const device = msg.topic.split('/')[${DEVICE_SEGMENT}];
const time = String(ms) + String(reading.seq % 1000000).padStart(6, '0');
`;

const PLAIN_FUNCTION = `${POINT}
msg.payload = [{ seq: reading.seq, wet: reading.wet === true, time }, { device }];
return msg;
`;

const batchingFunction = (batchSize: number, flushMs: number) => `${POINT}
const state = context.get('state') || { points: [], timer: null };
const flush = () => {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
  if (state.points.length === 0) return;
  node.send({ payload: state.points });
  state.points = [];
};
state.points.push({
  measurement: '${NODE_RED_MEASUREMENT}',
  tags: { device },
  fields: { seq: reading.seq, wet: reading.wet === true },
  timestamp: time,
});
if (state.points.length >= ${batchSize}) flush();
else if (!state.timer) state.timer = setTimeout(flush, ${flushMs});
context.set('state', state);
return null;
`;

type FlowNode = Record<string, unknown> & { id: string; type: string };

export function nodeRedFlows(o: FlowOptions): FlowNode[] {
  const influx = new URL(o.influxUrl);
  const tab = 'machi-peer';
  const at = (x: number) => ({ z: tab, x, y: 80 });
  const write: FlowNode =
    o.variant === 'plain'
      ? {
          id: 'write',
          type: 'influxdb out',
          ...at(800),
          influxdb: 'influx',
          measurement: NODE_RED_MEASUREMENT,
          precision: 'n',
          retentionPolicy: '',
          name: 'one point per message',
        }
      : {
          id: 'write',
          type: 'influxdb batch',
          ...at(800),
          influxdb: 'influx',
          precision: 'n',
          retentionPolicy: '',
          name: 'points in arrays',
        };
  return [
    { id: tab, type: 'tab', label: `machi peer (${o.variant})` },
    {
      id: 'broker',
      type: 'mqtt-broker',
      name: 'bare aedes',
      broker: '127.0.0.1',
      port: String(o.mqttPort),
      clientid: o.clientId,
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: o.cleanSession,
      autoUnsubscribe: false,
    },
    {
      id: 'influx',
      type: 'influxdb',
      hostname: influx.hostname,
      port: influx.port || '8086',
      protocol: influx.protocol.replace(':', ''),
      database: o.database,
      name: o.database,
      usetls: influx.protocol === 'https:',
      influxdbVersion: '1.x',
    },
    {
      id: 'readings',
      type: 'mqtt in',
      ...at(100),
      topic: READINGS,
      qos: '1',
      datatype: 'utf8',
      broker: 'broker',
      nl: false,
      rap: false,
      inputs: 0,
      wires: [['json']],
    },
    { id: 'json', type: 'json', ...at(300), property: 'payload', action: 'obj', wires: [['point']] },
    {
      id: 'point',
      type: 'function',
      ...at(500),
      name: o.variant === 'plain' ? 'reading → point' : 'reading → batch of points',
      func: o.variant === 'plain' ? PLAIN_FUNCTION : batchingFunction(o.batchSize, o.flushMs),
      outputs: 1,
      wires: [['write']],
    },
    { ...write, wires: [] },
    {
      id: 'probe',
      type: 'mqtt in',
      z: tab,
      x: 100,
      y: 200,
      topic: o.probeTopic,
      qos: '0',
      datatype: 'utf8',
      broker: 'broker',
      inputs: 0,
      wires: [['echo']],
    },
    {
      id: 'echo',
      type: 'mqtt out',
      z: tab,
      x: 300,
      y: 200,
      topic: o.echoTopic,
      qos: '0',
      retain: 'false',
      broker: 'broker',
      wires: [],
    },
  ];
}
