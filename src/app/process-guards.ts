// Process-wide guards for machi's long-running commands (installed by src/cli/main.ts).
// A promise rejection nobody handled is a bug in one code path, not a reason to drop every device
// connection with it: it is logged and counted, and the process goes on. An uncaught exception
// leaves state nobody can vouch for: it is logged as fatal and the process stops the way SIGTERM
// stops it (`untilSignal` resolves), then exits 1 so a supervisor restarts it; a stop that hangs
// is cut short after FATAL_STOP_MS.
import { Counter } from 'prom-client';
import type { Logger } from '../observability/logger.ts';

/** Longer than a normal stop of `machi all` takes, short enough for a supervisor to restart soon. */
export const FATAL_STOP_MS = 30_000;

/** Process-wide like the handlers that count into it; createRuntime adds it to each /metrics. */
export const unhandledRejections = new Counter({
  name: 'machi_unhandled_rejections_total',
  help: 'Promise rejections that nothing handled (logged; the process keeps running)',
  registers: [],
});

const fatal = new AbortController();
/** Aborted when an uncaught exception asks the process to stop. */
export const fatalStop: AbortSignal = fatal.signal;

let installed = false;

/** Idempotent: the handlers are process-wide, so a second call would count and log twice. */
export function installProcessGuards(log: Logger, stopWithinMs = FATAL_STOP_MS): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    unhandledRejections.inc();
    log.error({ err: reason }, 'unhandled promise rejection (the process keeps running)');
  });
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ err, origin }, 'uncaught exception: stopping');
    process.exitCode = 1;
    if (fatal.signal.aborted) return; // already stopping
    fatal.abort(err);
    // Unref'd: a stop that finishes lets the process end by itself, sooner.
    setTimeout(() => process.exit(1), stopWithinMs).unref();
  });
}
