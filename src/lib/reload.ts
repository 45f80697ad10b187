// Reloads credentials without a restart: on a change to any watched file (or in a watched
// directory), debounced because editors and renames fire several events, and on SIGHUP.
// A watch follows the directory it was opened on, not its path: a folder that does not exist yet
// (no users file before the first `machi users add`) is waited for from its nearest existing
// parent, and a folder replaced by another (`mv devices.new devices`) is watched anew.
import { existsSync, type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../observability/logger.ts';

const DEBOUNCE_MS = 100;

export interface Watched {
  /** A directory (every file in it) or a file (its directory is watched, since renames replace it). */
  path: string;
  dir: boolean;
}

const inode = (path: string) => {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
};

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

export function watchForReload(paths: Watched[], reload: () => void, log: Logger): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(reload, DEBOUNCE_MS);
  };
  const watchers = new Set<FSWatcher>();

  /** Watches `where` (or, while it is missing, its nearest existing parent until it appears). */
  function arm(where: string, wanted: (name: string | null) => boolean) {
    if (closed) return;
    const at = nearestExisting(where);
    const ino = inode(at);
    const rearm = () => {
      watcher.close();
      watchers.delete(watcher);
      arm(where, wanted);
      soon(); // what appeared or was swapped in may hold changes already
    };
    const watcher = watch(at, (_event, name) => {
      if (at !== where ? nearestExisting(where) !== at : inode(where) !== ino) rearm();
      else if (at === where && wanted(name)) soon();
    });
    watcher.on('error', (err) => {
      log.warn({ path: at, err: err.message }, 'watch failed: SIGHUP still reloads');
      watcher.close();
      watchers.delete(watcher);
    });
    watchers.add(watcher);
    if (at !== where) log.info({ path: where, watching: at }, 'missing: reloads once it appears');
  }

  for (const { path, dir } of paths)
    arm(dir ? path : dirname(path), (name) => dir || name === null || name === basename(path));
  process.on('SIGHUP', soon);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      process.off('SIGHUP', soon);
      for (const w of watchers) w.close();
    },
  };
}
