// Paths, pinned versions and the external tools (Java, Maven, Go) the native stack is built with.
import { spawn, spawnSync } from 'node:child_process';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackError } from './errors.ts';

export const KAFKA_VERSION = '4.4.0';
export const SCALA_VERSION = '2.13';
/** log4j binding for Kafka's slf4j 1.x API, so the broker's log reaches its log file. */
export const LOG4J_VERSION = '2.25.5';
export const INFLUXDB_VERSION = 'v1.8.10';
export const INFLUXDB_MODULE = 'github.com/influxdata/influxdb';

/** Downloads and builds, shared by every clone on the machine. */
export function cacheDir(env = process.env): string {
  return env.MACHI_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'machi');
}

/** Data, logs and PID files of the running stack: temporary by design. */
export function stateDir(env = process.env): string {
  return env.MACHI_STACK_DIR ?? join(tmpdir(), 'machi-stack');
}

const INSTALL_HINTS: Record<string, string> = {
  java: 'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)',
  mvn: 'install Apache Maven (Debian: apt-get install maven)',
  go: 'install Go 1.21 or newer (https://go.dev/doc/install, or Debian: apt-get install golang)',
};

export function requireTool(tool: 'java' | 'mvn' | 'go'): void {
  const flag = tool === 'go' ? 'version' : '-version';
  const probe = spawnSync(tool, [flag], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new StackError('MACHI_ERR_TOOL_MISSING', `${tool} was not found on PATH: ${INSTALL_HINTS[tool]}.`);
  }
}

/**
 * Runs a build or download step, streaming the tool's own progress lines to our stdout with a
 * prefix, and turns a non-zero exit into a StackError with the hint given.
 */
export function runStep(opts: {
  label: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  failure: { code: 'MACHI_ERR_FETCH_FAILED' | 'MACHI_ERR_BUILD_FAILED'; hint: string };
  showLine?: (line: string) => boolean;
  /** Aborting kills the step (Ctrl-C during a download or build). */
  signal?: AbortSignal;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      signal: opts.signal,
    });
    const recent: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > 20) recent.shift();
        if (!opts.showLine || opts.showLine(line)) process.stdout.write(`  [${opts.label}] ${line}\n`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) =>
      reject(
        opts.signal?.aborted
          ? new StackError('MACHI_ERR_START_INTERRUPTED', `start-up interrupted during ${opts.label}`)
          : new StackError(opts.failure.code, `${opts.label}: ${err.message}. ${opts.failure.hint}`),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new StackError(
            opts.failure.code,
            `${opts.label} failed (exit ${code}). ${opts.failure.hint}\nLast output:\n${recent.join('\n')}`,
          ),
        );
    });
  });
}
