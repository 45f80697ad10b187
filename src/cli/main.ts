// `machi <command>`: dispatches to one file per subcommand; errors with a code print cleanly.

import { installProcessGuards } from '../app/process-guards.ts';
import { loadConfig } from '../config/config.ts';
import { assertProductionReady } from '../config/production.ts';
import { createLogger } from '../observability/logger.ts';
import { type Command, helpText, wantsHelp } from './command.ts';
import { commands } from './commands.ts';

/**
 * Commands that serve until stopped: a stray promise rejection must not take them down, and an
 * uncaught exception stops them the way SIGTERM does (src/app/process-guards.ts). One-shot
 * commands keep Node's default, failing at once.
 */
const SERVING = new Set(['all', 'broker', 'worker', 'alerts']);
const serving = (name: string, args: string[]) =>
  SERVING.has(name) || (name === 'forecast' && args[0] === 'serve');
/** Commands that start machi's services: in production mode they refuse shipped secrets first. */
const startsServices = (name: string, args: string[]) =>
  serving(name, args) || (name === 'forecast' && args[0] === 'run');
/** After a serving command has stopped, what a component left open may not keep the process alive. */
const EXIT_GRACE_MS = 3000;

function help(): void {
  console.log('usage: machi <command> [options]   (machi <command> --help: its usage)\n\ncommands:');
  for (const c of commands) console.log(`  ${c.name.padEnd(10)} ${c.summary}`);
}

async function main(argv: string[]): Promise<number> {
  // `machi help CMD` is `machi CMD --help`.
  const [name, ...rest] = argv[0] === 'help' && argv[1] ? [argv[1], '--help'] : argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    help();
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`machi: unknown command "${name}"`);
    help();
    return 2;
  }
  // Before anything that could refuse or start: help needs no configuration, stack or broker.
  if (wantsHelp(rest)) {
    console.log(helpText(command));
    return 0;
  }
  if (startsServices(command.name, rest)) await assertProductionReady(loadConfig());
  if (!serving(command.name, rest)) return command.run(rest);
  const log = createLogger(loadConfig().logLevel);
  installProcessGuards(log);
  const code = await command.run(rest);
  setTimeout(() => {
    log.warn({ ms: EXIT_GRACE_MS }, 'still running after the stop (something left open): exiting');
    process.exit();
  }, EXIT_GRACE_MS).unref();
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    // An uncaught exception has set 1 already: the clean stop that followed must not hide it.
    process.exitCode ||= code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    console.error(`machi: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}`);
    process.exitCode = 1;
  },
);
