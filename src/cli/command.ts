// The shape of one `machi` subcommand: thin, parses its own arguments, returns an exit code.

import { createRuntime, startComponents, untilSignal } from '../app/run.ts';
import type { ComponentFactory } from '../runtime/component.ts';
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** What each option does, for `--help`: [flag, description]. */
  options?: Array<[string, string]>;
  run(args: string[]): Promise<number>;
}

/** True when `args` ask for help (`-h` or `--help` before any `--`), which parseArgs would refuse. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** Prints a command's usage, summary and options; returns the exit code of a help request. */
export function showHelp(command: Command): number {
  const options = [...(command.options ?? []), ['-h, --help', 'print this help'] as [string, string]];
  const width = Math.max(...options.map(([flag]) => flag.length));
  const lines = options.map(([flag, what]) => `  ${flag.padEnd(width)}  ${what}`);
  console.log(`usage: ${command.usage}\n\n${command.summary}\n\noptions:\n${lines.join('\n')}`);
  return 0;
}

/** A subcommand that runs one long-running component alone (for scale-out) until Ctrl-C. */
export function componentCommand(name: string, summary: string, factory: ComponentFactory): Command {
  return {
    name,
    summary,
    usage: `machi ${name}`,
    async run() {
      const running = await startComponents(createRuntime(), [factory]);
      await untilSignal();
      await running.stop();
      return 0;
    },
  };
}
