// Writes line-protocol batches to InfluxDB. machi's retry loop is in charge (the client's own
// retries are off): transient failures are retried with capped backoff until they succeed or the
// caller gives up; a 400 means some line is invalid, so the batch is split to isolate it.
import { HttpError, InfluxDB, setLogger } from '@influxdata/influxdb-client';
import type { Config } from '../config/config.ts';
import { retry } from '../lib/retry.ts';
import type { Logger } from '../observability/logger.ts';

export interface WriteOutcome {
  /** Lines InfluxDB refused as invalid, with its reason: to be dead-lettered, never retried. */
  rejected: Array<{ index: number; reason: string }>;
}

export function isInvalidWrite(err: unknown): err is HttpError {
  return err instanceof HttpError && err.statusCode === 400;
}

export class InfluxWriter {
  readonly influx: InfluxDB;

  constructor(
    private readonly config: Config,
    log: Logger,
    private readonly hooks: {
      onRetry?: (err: unknown) => void;
      onWrite?: (lines: number, seconds: number) => void;
    } = {},
  ) {
    // The client logs each failed write itself; machi's retry loop already logs them once, structured.
    setLogger({
      error: (message, err) => log.debug({ err: (err as Error | undefined)?.message }, message),
      warn: (message, err) => log.debug({ err: (err as Error | undefined)?.message }, message),
    });
    this.influx = new InfluxDB({ url: config.influx.url, token: config.influx.token, timeout: 10_000 });
  }

  /** One attempt: all lines or an error. */
  async writeOnce(lines: string[]): Promise<void> {
    const api = this.influx.getWriteApi(this.config.influx.org, this.config.influx.bucket, 'ms', {
      maxRetries: 0,
      batchSize: lines.length + 1,
      flushInterval: 0,
      maxBufferLines: lines.length + 1,
    });
    api.writeRecords(lines);
    const started = process.hrtime.bigint();
    await api.close();
    this.hooks.onWrite?.(lines.length, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Retries transient failures until `signal` aborts; isolates invalid lines by bisection. */
  async write(lines: string[], signal?: AbortSignal): Promise<WriteOutcome> {
    const rejected: WriteOutcome['rejected'] = [];
    const attempt = async (slice: string[], offset: number): Promise<void> => {
      if (slice.length === 0) return;
      try {
        await retry(() => this.writeOnce(slice), {
          initialMs: 200,
          maxMs: 5000,
          jitter: 0.2,
          signal,
          retriable: (err) => !isInvalidWrite(err) && !signal?.aborted,
          onRetry: this.hooks.onRetry,
        });
      } catch (err) {
        if (!isInvalidWrite(err)) throw err;
        if (slice.length === 1) {
          rejected.push({ index: offset, reason: (err.body ?? err.message).slice(0, 300) });
          return;
        }
        const half = Math.ceil(slice.length / 2);
        await attempt(slice.slice(0, half), offset);
        await attempt(slice.slice(half), offset + half);
      }
    };
    await attempt(lines, 0);
    return { rejected };
  }
}
