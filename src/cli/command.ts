// The shape of one `machi` subcommand: thin, declares its options once (for parsing and for
// `--help`), returns an exit code.

import { parseArgs } from 'node:util';
import { createRuntime, startComponents, untilSignal } from '../app/run.ts';
import type { ComponentFactory } from '../runtime/component.ts';

/** One `--name` option: what util.parseArgs needs, plus what `--help` says about it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** The value's name in the help, e.g. N in `--speed N`. */
  arg?: string;
  help: string;
}
export type OptionSpecs = Record<string, OptionSpec>;

export interface Command {
  name: string;
  summary: string;
  /** One line per form of the command. */
  usage: string;
  options?: OptionSpecs;
  run(args: string[]): Promise<number>;
}

/** Parses `args` against a command's declared options; unknown options are refused. */
export function parseOptions<const O extends OptionSpecs>(
  options: O,
  args: string[],
  allowPositionals = true,
) {
  return parseArgs({ args, options, allowPositionals, strict: true });
}

/** True when `args` ask for help (`-h` or `--help` before any `--`), which parseArgs would refuse. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

const usageLines = (command: Command) => `usage: ${command.usage.replaceAll('\n', '\n       ')}`;

/** A command's usage, summary and options, generated from its declaration. */
export function helpText(command: Command): string {
  const options: Array<[string, string]> = Object.entries(command.options ?? {}).map(([name, o]) => [
    `--${name}${o.arg ? ` ${o.arg}` : ''}`,
    o.default === undefined || o.default === false ? o.help : `${o.help} (default ${o.default})`,
  ]);
  options.push(['-h, --help', 'print this help']);
  const width = Math.max(...options.map(([flag]) => flag.length));
  const lines = options.map(([flag, what]) => `  ${flag.padEnd(width)}  ${what}`);
  return `${usageLines(command)}\n\n${command.summary}\n\noptions:\n${lines.join('\n')}`;
}

/** Prints the usage to stderr; returns the exit code of a wrong invocation. */
export function usageError(command: Command): number {
  console.error(usageLines(command));
  return 2;
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
