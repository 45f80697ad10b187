// The shape of one `machi` subcommand: thin, parses its own arguments, returns an exit code.
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
