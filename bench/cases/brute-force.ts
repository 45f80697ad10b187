// Brute force: 1,000 bad logins from one address (127.0.0.2), 50 a second, naming real devices
// whose secrets are full-cost scrypt hashes, while 50 devices on other addresses (127.0.0.3–7)
// publish QoS 1 readings at 500/s. The address must be banned after its failure budget, and the
// devices' p99 PUBACK must stay as it was without the attack, measured in the same run on the same
// broker process (before the doors had limits, every such CONNECT blocked the event loop ~50 ms).
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../../src/registry/load.ts';
import { demoSecret } from '../../src/registry/secrets.ts';
import { type LoadResult, runLoad } from '../../src/simulators/load.ts';
import { makeLoadRegistry } from '../../src/simulators/load-registry.ts';
import type { BenchCase, BenchContext } from '../lib/case.ts';
import { connectPacket } from '../lib/fuzz-packets.ts';
import { stopChild, waitForPort } from '../lib/processes.ts';
import type { CaseResult } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { startMachiBroker } from './ingest.ts';

const PORT = 22883;
const HTTP_PORT = 29080;
const ATTACKER = '127.0.0.2';
const DEVICE_ADDRESSES = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];
const ATTEMPTS = 1000;
const ATTEMPTS_PER_S = 50;
const RATE = 500;
const TARGET_RATIO = 1.5;

/** One bad login on its own socket from the attacker's address: the CONNACK code (-1: none). */
function badLogin(username: string, i: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: PORT, localAddress: ATTACKER });
    let received = Buffer.alloc(0);
    const done = (code: number) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => done(-1), 15_000);
    socket.on('error', () => done(-1));
    socket.on('close', () => done(-1));
    socket.on('connect', () =>
      socket.write(connectPacket({ clientId: `${username}-bf${i}`, username, password: `guess-${i}` })),
    );
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received[0] === 0x20) done(received[3] ?? -1);
    });
  });
}

interface Attack {
  codes: Record<string, number>;
  /** Attempts answered after a password check (CONNACK 4) before the first ban answer. */
  checkedBeforeBan: number;
  firstBanAt: number;
  seconds: number;
}

/** ATTEMPTS bad logins at ATTEMPTS_PER_S, cycling over `usernames`. */
async function attack(usernames: string[]): Promise<Attack> {
  const started = Date.now();
  const results: Array<Promise<number>> = [];
  for (let i = 0; i < ATTEMPTS; i++) {
    const due = started + (i * 1000) / ATTEMPTS_PER_S;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    results.push(badLogin(usernames[i % usernames.length] as string, i));
  }
  const codes = await Promise.all(results);
  const byCode: Record<string, number> = {};
  for (const c of codes) byCode[String(c)] = (byCode[String(c)] ?? 0) + 1;
  const firstBan = codes.indexOf(5);
  return {
    codes: byCode,
    checkedBeforeBan: codes.slice(0, firstBan < 0 ? codes.length : firstBan).filter((c) => c === 4).length,
    firstBanAt: firstBan,
    seconds: (Date.now() - started) / 1000,
  };
}

async function bannedCounts(): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`).then((r) => r.text());
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/machi_broker_(banned|bans)_total\{scope="(\w+)"\} (\d+)/g))
    out[`${m[1]}:${m[2]}`] = Number(m[3]);
  return out;
}

export const bruteForceCase: BenchCase = {
  name: 'brute-force',
  async run(ctx: BenchContext): Promise<CaseResult[]> {
    const seconds = ctx.quick ? 10 : ATTEMPTS / ATTEMPTS_PER_S;
    const registryDir = mkdtempSync(join(tmpdir(), 'machi-bench-bf-'));
    try {
      const ids = makeLoadRegistry(registryDir, 50);
      // The attacked devices: Takeo's flood sensors with their real (full-cost) scrypt hashes.
      copyFileSync(join('devices', 'flood-sensors.yaml'), join(registryDir, 'flood-sensors.yaml'));
      const victims = [...loadRegistry(registryDir).devices.keys()].filter((id) => !ids.includes(id));
      const runs: Array<{
        quiet: LoadResult;
        attacked: LoadResult;
        attack: Attack;
        banned: Record<string, number>;
      }> = [];
      for (let run = 0; run < ctx.runs; run++) {
        const broker = startMachiBroker(registryDir, PORT, HTTP_PORT, `bench-bf-${Date.now().toString(36)}`);
        try {
          await waitForPort(PORT);
          const load = () =>
            runLoad({
              url: `mqtt://127.0.0.1:${PORT}`,
              deviceIds: ids,
              secret: demoSecret,
              rate: RATE,
              durationS: seconds,
              localAddresses: DEVICE_ADDRESSES,
            });
          const quiet = await load();
          const [attacked, result] = await Promise.all([load(), attack(victims)]);
          const banned = await bannedCounts();
          runs.push({ quiet, attacked, attack: result, banned });
          console.log(
            `  run ${run + 1}: p99 PUBACK ${quiet.latencyMs.p99.toFixed(1)} ms quiet, ${attacked.latencyMs.p99.toFixed(1)} ms attacked; attack CONNACKs ${JSON.stringify(result.codes)}, first ban at attempt ${result.firstBanAt + 1}; ${JSON.stringify(banned)}; failed ${quiet.failed}/${attacked.failed}`,
          );
        } finally {
          await stopChild(broker);
        }
      }
      const quietP99 = median(runs.map((r) => r.quiet.latencyMs.p99));
      const attackedP99 = median(runs.map((r) => r.attacked.latencyMs.p99));
      const ratio = attackedP99 / quietP99;
      const failed = runs.reduce((a, r) => a + r.quiet.failed + r.attacked.failed, 0);
      const checked = median(runs.map((r) => r.attack.checkedBeforeBan));
      const banned = runs.every((r) => r.attack.firstBanAt >= 0 && (r.attack.codes['5'] ?? 0) > ATTEMPTS / 2);
      return [
        {
          case: 'brute-force',
          metric: 'p99 PUBACK under attack (ms)',
          value: attackedP99,
          baseline: { name: 'no attack', value: quietP99 },
          ratio,
          target: `≤ ${TARGET_RATIO}× no attack, attacker banned, every publish acknowledged`,
          pass: ratio <= TARGET_RATIO && banned && failed === 0,
          context: `${ATTEMPTS} bad logins from ${ATTACKER} at ${ATTEMPTS_PER_S}/s on ${victims.length} real device ids; password checked for ${checked} (median) before the ban, then CONNACK 5 at once (${JSON.stringify(runs[runs.length - 1]?.attack.codes)}); 50 devices on ${DEVICE_ADDRESSES[0]}–7 at ${RATE}/s, ${failed} failed; p50 ${median(runs.map((r) => r.quiet.latencyMs.p50)).toFixed(1)} → ${median(runs.map((r) => r.attacked.latencyMs.p50)).toFixed(1)} ms; ${seconds} s phases`,
          runs: ctx.runs,
          details: runs,
        },
      ];
    } finally {
      rmSync(registryDir, { recursive: true, force: true });
    }
  },
};
