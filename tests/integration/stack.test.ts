import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startKafka } from '../../src/stack/kafka.ts';
import { isOurs, readPid } from '../../src/stack/processes.ts';
import { stackStatus } from '../../src/stack/stack.ts';
import { config } from '../support/helpers.ts';

describe('machi stack', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'machi-stack-test-'));
  let blocker: Server | undefined;

  afterAll(() => {
    blocker?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports both services reachable', async () => {
    const statuses = await stackStatus(config);
    expect(statuses.map((s) => [s.service, s.reachable])).toEqual([
      ['kafka', true],
      ['influxdb', true],
    ]);
  });

  it('refuses a port already in use with a message naming it, leaving nothing running', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const env = { ...process.env, MACHI_STACK_DIR: stateDir };
    await expect(startKafka({ host: '127.0.0.1', port }, env)).rejects.toMatchObject({
      code: 'MACHI_ERR_PORT_IN_USE',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
    expect(isOurs(readPid(join(stateDir, 'kafka', 'kafka.pid')))).toBe(false);
  });
});
