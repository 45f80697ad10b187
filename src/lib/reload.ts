// Reloads credentials without a restart: on a change to any watched file (or in a watched
// directory), debounced because editors and renames fire several events, and on SIGHUP.
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../observability/logger.ts';

const DEBOUNCE_MS = 100;

export interface Watched {
  /** A directory (every file in it) or a file (its directory is watched, since renames replace it). */
  path: string;
  dir: boolean;
}

export function watchForReload(paths: Watched[], reload: () => void, log: Logger): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(reload, DEBOUNCE_MS);
  };
  const watchers: FSWatcher[] = [];
  for (const { path, dir } of paths) {
    const where = dir ? path : dirname(path);
    // A users file may not exist yet: SIGHUP still reloads once it does.
    if (!existsSync(where)) {
      log.info({ path: where }, 'not watched (missing): reload with SIGHUP once it exists');
      continue;
    }
    const watcher = watch(where, (_event, name) => {
      if (dir || name === null || name === basename(path)) soon();
    });
    watcher.on('error', (err) =>
      log.warn({ path: where, err: err.message }, 'watch failed: SIGHUP still reloads'),
    );
    watchers.push(watcher);
  }
  process.on('SIGHUP', soon);
  return {
    close() {
      clearTimeout(timer);
      process.off('SIGHUP', soon);
      for (const w of watchers) w.close();
    },
  };
}
