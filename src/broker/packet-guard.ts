// Refuses an MQTT packet larger than a limit as soon as its fixed header arrives, before aedes
// buffers it. MQTT allows 256 MiB per packet and aedes sets no cap, so a few unfinished giant
// packets (even before CONNECT, from a client with no credentials) could exhaust the broker's memory.
import type { Duplex } from 'node:stream';

/** Payloads above maxPayloadBytes are still read and dead-lettered (first 64 KiB kept) up to this. */
export function maxPacketBytes(maxPayloadBytes: number): number {
  return Math.max(1024 * 1024, maxPayloadBytes + 128 * 1024);
}

/**
 * Watches the bytes aedes reads from `stream` (a passive 'data' tap: aedes drives the reads) and
 * destroys the stream when a packet declares a remaining length above `limit`. Attach after
 * `aedes.handle`, so aedes's 'readable' listener keeps control of the flow.
 */
export function guardPacketSize(stream: Duplex, limit: number, onRefuse: (declared: number) => void): void {
  let phase: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let skip = 0;
  stream.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (phase === 'body') {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        if (skip === 0) phase = 'type';
        continue;
      }
      const byte = chunk[i++] ?? 0;
      if (phase === 'type') {
        phase = 'length';
        length = 0;
        multiplier = 1;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (length > limit) {
        onRefuse(length);
        stream.destroy();
        return;
      }
      if ((byte & 0x80) === 0) {
        skip = length;
        phase = skip > 0 ? 'body' : 'type';
      }
    }
  });
}
