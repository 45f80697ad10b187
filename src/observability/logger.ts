// Structured logs (pino). Each component takes a child logger named after itself.
import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'machi'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
