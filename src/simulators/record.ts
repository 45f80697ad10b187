// Records MQTT traffic as NDJSON lines ({time, topic, qos, payload base64}) with the recorder role.
import { createWriteStream } from 'node:fs';
import mqtt from 'mqtt';
import { z } from 'zod';
import type { BrokerTrust } from '../runtime/component.ts';
import { ROLE_USERS } from '../schemas/topics.ts';

export const RecordedMessage = z.object({
  time: z.iso.datetime({ offset: true }),
  topic: z.string().min(1),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  payload: z.base64(),
});
export type RecordedMessage = z.infer<typeof RecordedMessage>;

export interface Recording {
  count(): number;
  stop(): Promise<void>;
}

export async function record(opts: {
  url: string;
  /** The CA to trust for an mqtts:// broker (MQTT_CA); none: Node's own CAs. */
  tls?: BrokerTrust;
  password: string;
  file: string;
  filter: string;
}): Promise<Recording> {
  const out = createWriteStream(opts.file, { flags: 'a' });
  const client = await mqtt.connectAsync(opts.url, {
    ...opts.tls,
    username: ROLE_USERS.recorder,
    password: opts.password,
    reconnectPeriod: 1000,
  });
  let count = 0;
  client.on('message', (topic, payload, packet) => {
    const line: RecordedMessage = {
      time: new Date().toISOString(),
      topic,
      qos: packet.qos,
      payload: payload.toString('base64'),
    };
    out.write(`${JSON.stringify(line)}\n`);
    count++;
  });
  await client.subscribeAsync(opts.filter, { qos: 1 });
  return {
    count: () => count,
    async stop() {
      await client.endAsync();
      await new Promise<void>((resolve) => out.end(() => resolve()));
    },
  };
}
