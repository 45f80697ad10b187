// The fuzzer's service families, mixed from one seed: garbage on every MQTT topic a service
// subscribes to (the office's ack topics, bench/lib/fuzz-acks.ts), on every Kafka topic a service
// consumes (bench/lib/fuzz-records.ts) and on every HTTP route (bench/lib/fuzz-http.ts). Each input
// carries what the services must do with it; bench/lib/fuzz-service-run.ts sends and checks them.
// Pure and reproducible: a failing seed replays with --seed.
import { Rng } from '../../src/simulators/prng.ts';
import { ACK_FAMILIES, type AckInput, ackInput } from './fuzz-acks.ts';
import { HTTP_FAMILIES, type HttpInput, type HttpSite, httpInput } from './fuzz-http.ts';
import { weighted } from './fuzz-random.ts';
import { RECORD_FAMILIES, type RecordInput, recordInput } from './fuzz-records.ts';

export type ServiceInput = { index: number } & (
  | ({ channel: 'ack' } & AckInput)
  | ({ channel: 'kafka' } & RecordInput)
  | ({ channel: 'http' } & HttpInput)
);
export type Channel = ServiceInput['channel'];

/** Share of each channel in the mix. */
export const CHANNELS: ReadonlyArray<readonly [Channel, number]> = [
  ['http', 45],
  ['ack', 30],
  ['kafka', 25],
];

export interface ServiceFuzzOptions {
  seed: number;
  now: number;
  /** Area ids (the ack topics' level). */
  areas: readonly string[];
  /** Devices Kafka garbage may name: never the valid stream's nor the probe's. */
  floodSensors: readonly string[];
  peopleCounters: readonly string[];
  site: HttpSite;
}

/** Every service family by channel, for reports and tests. */
export const SERVICE_FAMILIES: Record<Channel, readonly string[]> = {
  ack: ACK_FAMILIES.map(([name]) => name),
  kafka: RECORD_FAMILIES.map(([name]) => name),
  http: HTTP_FAMILIES.map(([name]) => name),
};

const total = (table: ReadonlyArray<readonly [string, number, ...unknown[]]>) =>
  table.reduce((sum, [, weight]) => sum + weight, 0);

/** An endless, reproducible stream of bad service input; the caller bounds it by count and time. */
export function* serviceInputs(opts: ServiceFuzzOptions): Generator<ServiceInput> {
  // Its own stream, apart from the broker families' (bench/lib/fuzz-inputs.ts) on the same seed.
  const rng = new Rng(opts.seed ^ 0x5e41ce);
  for (let index = 0; ; index++) {
    const [channel] = weighted(CHANNELS, rng.next() * total(CHANNELS));
    if (channel === 'ack') {
      const [family] = weighted(ACK_FAMILIES, rng.next() * total(ACK_FAMILIES));
      yield { index, channel, ...ackInput(rng, opts.areas, opts.now, family) };
    } else if (channel === 'kafka') {
      const [family] = weighted(RECORD_FAMILIES, rng.next() * total(RECORD_FAMILIES));
      yield { index, channel, ...recordInput(rng, opts, opts.now, family) };
    } else {
      const [family] = weighted(HTTP_FAMILIES, rng.next() * total(HTTP_FAMILIES));
      yield { index, channel, ...httpInput(rng, opts.site, family) };
    }
  }
}
