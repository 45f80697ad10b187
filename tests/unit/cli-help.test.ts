// `machi <command> --help` (and `machi help <command>`) prints that command's usage and every
// option it declares, and exits 0, before anything that could refuse or start: in production mode
// with the shipped secrets, the serving commands would otherwise refuse to start.
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { helpText, wantsHelp } from '../../src/cli/command.ts';
import { commands } from '../../src/cli/commands.ts';
import { simulateCommand } from '../../src/cli/simulate.ts';

const run = promisify(execFile);
const env = { ...process.env, MACHI_MODE: 'production' };

async function machi(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/machi.js', ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

type Run = Awaited<ReturnType<typeof machi>>;

/** `machi <name> --help`, spawned once for the whole file. */
const helps = new Map<string, Promise<Run>>();
function helpOf(name: string): Promise<Run> {
  if (!helps.has(name)) helps.set(name, machi(name, '--help'));
  return helps.get(name) as Promise<Run>;
}

describe('machi <command> --help', () => {
  it('prints the usage and every declared option of every command, exit 0', async () => {
    // One spawn per core at a time (each loads the sources through tsx, about a second of CPU; more
    // at once only share the cores), the next one as soon as a core is free.
    const results: Run[] = [];
    let next = 0;
    const spawner = async () => {
      for (let i = next++; i < commands.length; i = next++)
        results[i] = await helpOf((commands[i] as (typeof commands)[number]).name);
    };
    await Promise.all(Array.from({ length: availableParallelism() }, spawner));
    commands.forEach((command, i) => {
      const { code, stdout, stderr } = results[i] as Run;
      expect(code, `machi ${command.name} --help: ${stderr}`).toBe(0);
      expect(stdout).toMatch(new RegExp(`^usage: machi ${command.name}\\b`));
      expect(stdout).toContain(command.summary);
      for (const option of [...Object.keys(command.options ?? {}), 'help'])
        expect(stdout, `machi ${command.name} --help lists --${option}`).toMatch(
          new RegExp(`^ {2}(-h, )?--${option}\\b`, 'm'),
        );
    });
  }, 120_000);

  it('machi help <command> and -h say the same', async () => {
    const [long, short, viaHelp] = await Promise.all([
      helpOf('simulate'),
      machi('simulate', 'festival', '-h'),
      machi('help', 'simulate'),
    ]);
    expect(short.stdout).toBe(long.stdout);
    expect(viaHelp.stdout).toBe(long.stdout);
    expect(short.code + viaHelp.code).toBe(0);
  }, 60_000);

  it("generates each option's line from its declaration, defaults included", () => {
    const text = helpText(simulateCommand);
    expect(text).toMatch(/^ {2}--speed N +simulated seconds per real second .*\(default 60\)$/m);
    expect(text).toMatch(/^ {2}--drill +a drill: .*$/m);
    expect(text).toMatch(/^ {2}-h, --help +print this help$/m);
  });

  it('is asked for before any --, anywhere among the arguments', () => {
    expect(wantsHelp(['festival', '-h'])).toBe(true);
    expect(wantsHelp(['--speed', '0', '--help'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
    expect(wantsHelp(['festival', '--drill'])).toBe(false);
  });
});
