// The shape of one `machi` subcommand: thin, parses its own arguments, returns an exit code.
import type { ComponentFactory } from '../runtime/component.ts';
import { createRuntime, startComponents, untilSignal } from '../runtime/run.ts';
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
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
