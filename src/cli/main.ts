// `machi <command>`: dispatches to one file per subcommand; errors with a code print cleanly.
import type { Command } from './command.ts';
import { commands } from './commands.ts';

function help(): void {
  console.log('usage: machi <command> [options]\n\ncommands:');
  for (const c of commands) console.log(`  ${c.name.padEnd(10)} ${c.summary}`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    console.error(`machi: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}`);
    process.exitCode = 1;
  },
);
