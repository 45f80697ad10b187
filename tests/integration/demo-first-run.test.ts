// `npm run demo` the way a newcomer runs it: a fresh clone, a user who is not root (nobody, when
// the tests run as root), Kafka's jars and influxd already in that user's ~/.cache/machi, npm's
// cache warm, Go not on PATH (only needed to build influxd, which the cache holds). The demo runs on
// its own ports and state directory, so it starts and stops its own Kafka and InfluxDB beside the
// shared stack; afterwards nothing may be left running from the clone or that state directory.
//
// The clone is `git clone` of this repository plus the working tree's uncommitted changes copied
// over, so it holds what the next commit will; on a clean checkout (CI) it is a plain clone.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir, INFLUXDB_VERSION, KAFKA_VERSION } from '../../src/stack/tools.ts';

const repo = process.cwd();
const root = mkdtempSync(join(tmpdir(), 'machi-first-run-'));
const clone = join(root, 'machi');
const home = join(root, 'home');
/** Leaves the shared stack (9092, 8086) alone; ports no other test uses. */
const ENV = {
  MACHI_STACK_DIR: join(root, 'stack'),
  KAFKA_BROKERS: '127.0.0.1:19692',
  INFLUX_URL: 'http://127.0.0.1:18786',
  MQTT_PORT: '0',
  HTTP_PORT: '0',
  MACHI_LOG_LEVEL: 'warn',
};
/** As root, run as nobody: setpriv execs the command itself, so a signal to the group reaches npm. */
const asUser =
  process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] : [];
/** PATH without Go; the directories of node, java and mvn stay. */
const path = (process.env.PATH ?? '')
  .split(delimiter)
  .filter(
    (dir) => !existsSync(join(dir, 'go')) || ['node', 'java', 'mvn'].some((t) => existsSync(join(dir, t))),
  );
const goHidden = !path.some((dir) => existsSync(join(dir, 'go')));

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' });

function freshClone(): void {
  execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${repo}`, clone]);
  // Uncommitted changes: modified and new files copied, deleted ones removed.
  for (const file of git('ls-files', '-z', '--modified', '--others', '--exclude-standard').split('\0')) {
    if (!file) continue;
    if (existsSync(join(repo, file))) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      cpSync(join(repo, file), join(clone, file));
    } else rmSync(join(clone, file), { force: true });
  }
}

/** The user's caches: Kafka's jars and influxd as `machi stack up` left them, and npm's. */
function warmCaches(): void {
  const machiCache = join(home, '.cache', 'machi');
  for (const dir of [`kafka-${KAFKA_VERSION}`, `influxdb-${INFLUXDB_VERSION}`]) {
    const from = join(cacheDir(), dir);
    if (!existsSync(from)) throw new Error(`${from} is missing: run machi stack up once first`);
    cpSync(from, join(machiCache, dir), { recursive: true });
  }
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
  cpSync(join(npmCache, '_cacache'), join(home, '.npm', '_cacache'), { recursive: true });
}

interface Demo {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function npmRunDemo(...args: string[]): Demo {
  const env = Object.entries({ ...ENV, HOME: home, PATH: path.join(delimiter), LANG: 'C.UTF-8' }).map(
    ([k, v]) => `${k}=${v}`,
  );
  const command = [...asUser, 'env', '-i', ...env, 'npm', 'run', 'demo', '--', ...args];
  // Its own process group, as in a terminal: Ctrl-C goes to the whole group.
  const child = spawn(command[0] as string, command.slice(1), { cwd: clone, detached: true });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exit };
}

/** Processes still running from the clone or the demo's state directory (by command line or cwd). */
function leftovers(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(root) || readlinkSync(`/proc/${pid}/cwd`).startsWith(root))
        found.push(`${pid} ${cmdline}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm run demo, first run as a non-root user', () => {
  beforeAll(() => {
    chmodSync(root, 0o755);
    freshClone();
    warmCaches();
    mkdirSync(ENV.MACHI_STACK_DIR);
    if (asUser.length > 0) execFileSync('chown', ['-R', 'nobody:nogroup', clone, home, ENV.MACHI_STACK_DIR]);
  });

  afterAll(async () => {
    // Only what this test started, should an assertion have failed half-way.
    for (const line of leftovers()) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('runs --duration 60 to the end, exit 0, and leaves nothing running', async () => {
    const demo = npmRunDemo('--duration', '60');
    const code = await demo.exit;
    const output = demo.output();
    expect(code, output).toBe(0);
    if (goHidden) expect(output).toContain('sudo apt-get install golang');
    expect(output).toContain('npm dependencies (npm ci)');
    expect(output).toContain('Kafka     127.0.0.1:19692');
    expect(output).toContain('user office, password office-dev-secret');
    expect(output).toMatch(/festival: sent [1-9]\d*, acknowledged [1-9]\d*, failed 0/);
    // The festival takes most of the 60 s; on a loaded machine (CI) the rain drill may not begin
    // before the duration ends, and whatever ran lost nothing.
    expect(output).not.toMatch(/failed [1-9]/);
    expect(output).toContain('• stopping kafka and influxdb');
    expect(leftovers()).toEqual([]);
  }, 240_000);

  it('one Ctrl-C during a scenario stops everything within seconds', async () => {
    const demo = npmRunDemo();
    let exited = false;
    void demo.exit.then(() => {
      exited = true;
    });
    await until(
      'the festival scenario',
      () => exited || demo.output().includes('• scenario festival'),
      120_000,
    );
    expect(exited, demo.output()).toBe(false);
    await new Promise((r) => setTimeout(r, 2000));
    const began = Date.now();
    process.kill(-(demo.child.pid as number), 'SIGINT');
    await demo.exit;
    const took = Date.now() - began;
    const output = demo.output();
    expect(output).toContain('• stopping kafka and influxdb');
    // One Ctrl-C: npm passing it on too must not count as a second one (that skips the graceful stop).
    expect(output).not.toContain('stopping Kafka and InfluxDB now');
    console.log(`demo stopped ${took} ms after Ctrl-C`);
    expect(took, output).toBeLessThan(15_000);
    expect(leftovers()).toEqual([]);
  }, 180_000);
});
