// `machi simulate|replay|record|demo --help` print the usage and every option and exit 0, before
// parsing (parseArgs would refuse --help) and before touching the broker or the stack.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Command, wantsHelp } from '../../src/cli/command.ts';
import { demoCommand } from '../../src/cli/demo.ts';
import { recordCommand } from '../../src/cli/record.ts';
import { replayCommand } from '../../src/cli/replay.ts';
import { simulateCommand } from '../../src/cli/simulate.ts';

afterEach(() => vi.restoreAllMocks());

async function help(command: Command, flag: string): Promise<{ code: number; text: string }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const code = await command.run([flag]);
  return { code, text: log.mock.calls.map((c) => c.join(' ')).join('\n') };
}

describe('--help', () => {
  const cases: Array<[Command, string[]]> = [
    [simulateCommand, ['--speed', '--seed', '--drill', '--start', '--duration']],
    [replayCommand, ['--speed', '--drill']],
    [recordCommand, ['--out', '--topic', '--duration']],
    [demoCommand, ['--speed', '--duration']],
  ];
  for (const [command, options] of cases)
    it(`machi ${command.name} prints its usage and every option`, async () => {
      for (const flag of ['--help', '-h']) {
        const { code, text } = await help(command, flag);
        expect(code).toBe(0);
        expect(text).toContain(`usage: machi ${command.name}`);
        for (const option of [...options, '--help'])
          expect(text).toMatch(new RegExp(`^ {2}(-h, )?${option}\\b`, 'm'));
      }
    });

  it('is asked for before any --, anywhere among the arguments', () => {
    expect(wantsHelp(['festival', '-h'])).toBe(true);
    expect(wantsHelp(['--speed', '0', '--help'])).toBe(true);
    expect(wantsHelp(['--', '--help'])).toBe(false);
    expect(wantsHelp(['festival', '--drill'])).toBe(false);
  });
});
