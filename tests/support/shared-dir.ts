// Where the team's shared material is (../shared beside the repository on the team's machines):
// real pedestrian counts and the Smart Data Models schemas, which are never copied into the repo.
// A clone elsewhere (CI clones to a temporary folder) finds it through MACHI_SHARED_DIR or the
// machine's /work/shared. Missing, the tests that need it fail and say where they looked.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CANDIDATES = [
  process.env.MACHI_SHARED_DIR,
  fileURLToPath(new URL('../../../shared', import.meta.url)),
  '/work/shared',
].filter((p): p is string => !!p);

/** `path` inside the shared folder; throws naming every place looked at when there is none. */
export function sharedPath(path: string): string {
  const dir = CANDIDATES.find((d) => existsSync(resolve(d, path)));
  if (!dir) throw new Error(`${path} not found in ${CANDIDATES.join(', ')} (set MACHI_SHARED_DIR)`);
  return resolve(dir, path);
}
