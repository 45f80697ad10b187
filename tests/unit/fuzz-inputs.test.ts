// The fuzzer's generator: reproducible from its seed, covers every family, and what each input
// expects agrees with machi's own rules (validator, ACL), so a run's violations are real findings.
import { describe, expect, it } from 'vitest';
import { FAMILIES, type FuzzInput, fuzzInputs } from '../../bench/lib/fuzz-inputs.ts';
import { toCanonical } from '../../src/adapters/validate.ts';
import { mayPublish, maySubscribe } from '../../src/broker/acl.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { parseDeviceTopic } from '../../src/schemas/topics.ts';

const registry = loadRegistry('devices');
const all = [...registry.devices.values()];
const devices = all.filter((_, i) => i % 3 !== 0);
const now = Date.parse('2026-11-24T06:00:00Z');

function take(seed: number, n: number): FuzzInput[] {
  const gen = fuzzInputs({
    seed,
    devices,
    registry: all,
    now,
    maxPayloadBytes: 8192,
    clientPrefix: 'fz-',
    foreignClientIds: ['fzv-0', 'fzv-1'],
  });
  return Array.from({ length: n }, () => gen.next().value as FuzzInput);
}

const principal = (id: string | undefined) => {
  const device = registry.devices.get(id ?? '');
  if (!device) throw new Error(`no login ${id}`);
  return { role: 'device' as const, device };
};

describe('fuzz inputs', () => {
  const inputs = take(7, 4000);

  it('are the same for the same seed and differ for another', () => {
    const again = take(7, 300);
    expect(again.map((i) => [i.family, Buffer.concat(i.packets).toString('base64')])).toEqual(
      inputs.slice(0, 300).map((i) => [i.family, Buffer.concat(i.packets).toString('base64')]),
    );
    expect(take(8, 50).map((i) => i.family)).not.toEqual(inputs.slice(0, 50).map((i) => i.family));
  });

  it('cover every family', () => {
    expect(new Set(inputs.map((i) => i.family))).toEqual(new Set(FAMILIES.map(([name]) => name)));
  });

  it('expect the reason the validator gives each bad payload', () => {
    const mismatches = inputs.flatMap((i) => {
      const e = i.expect;
      const sent = i.will ?? i.publish;
      if ((e.kind !== 'dead-letter' && e.kind !== 'will') || !sent || e.reasons.includes('NOT_AUTHORIZED'))
        return [];
      const topic = parseDeviceTopic(sent.topic);
      if (!topic) return [`#${i.index} ${i.family}: ${sent.topic} is not a device topic`];
      const result = toCanonical({
        payload: sent.payload,
        topic,
        device: registry.devices.get(topic.deviceId),
        receivedAt: new Date(now),
        maxPayloadBytes: 8192,
      });
      const got = result.ok ? 'VALID' : result.reason;
      return e.reasons.includes(got as never)
        ? []
        : [`#${i.index} ${i.family}: ${got}, expected ${e.reasons}`];
    });
    expect(mismatches).toEqual([]);
  });

  it('only expect NOT_AUTHORIZED on topics the ACL refuses the device', () => {
    const allowed = inputs.filter(
      (i) =>
        (i.expect.kind === 'not-authorized' ||
          (i.expect.kind === 'will' && i.expect.reasons.includes('NOT_AUTHORIZED'))) &&
        mayPublish(principal(i.login), (i.will ?? i.publish)?.topic ?? ''),
    );
    expect(allowed.map((i) => `${i.family} ${i.publish?.topic}`)).toEqual([]);
  });

  it('expect a subscription granted exactly when the ACL allows it', () => {
    const subs = inputs.filter((i) => i.expect.kind === 'subscribe');
    expect(subs.length).toBeGreaterThan(50);
    for (const i of subs) {
      // SUBSCRIBE body: packet id (2), filter length (2), filter, QoS.
      const body = i.packets[0]?.subarray(2) ?? Buffer.alloc(0);
      const filter = body.subarray(4, 4 + body.readUInt16BE(2)).toString();
      expect(maySubscribe(principal(i.login), filter), filter).toBe(
        i.expect.kind === 'subscribe' && i.expect.granted,
      );
    }
  });
});
