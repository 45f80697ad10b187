// Runs a Python foreign witness in a virtualenv of its own under machi's cache, made once with the
// pinned package from PyPI (the witness must come from outside machi's own code and npm's world).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir } from '../../src/stack/tools.ts';

const run = promisify(execFile);

export async function pythonWitness(
  pkg: string,
  version: string,
  script: string,
  args: string[],
): Promise<string> {
  const venv = join(cacheDir(), `py-${pkg}-${version}`);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    await run('python3', ['-m', 'venv', venv]);
    await run(python, ['-m', 'pip', 'install', '--quiet', `${pkg}==${version}`], { timeout: 300_000 });
  }
  const { stdout } = await run(python, [script, ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
