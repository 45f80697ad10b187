// The signals that stop a command: Ctrl-C, a service manager's SIGTERM, and a closed terminal
// (SIGHUP), which must not leave the detached Kafka and InfluxDB behind either.
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Calls `onStop` on each stop signal until the returned function releases them. */
export function onStopSignals(onStop: () => void): () => void {
  for (const signal of STOP_SIGNALS) process.on(signal, onStop);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onStop);
  };
}
