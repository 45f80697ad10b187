// Logins the broker must refuse (CONNACK 4 or 5): unknown devices, wrong secrets, no credentials,
// odd user names, and a client id another device is connected with.
import { connectPacket, lengthPrefixed, packet } from '../../fuzz-packets.ts';
import { int, pick, randomBytes, slug } from '../../fuzz-random.ts';
import type { Draft, FuzzContext } from './input.ts';

/** CONNECT; a user name of raw bytes goes in by hand (connectPacket takes text). */
function login(clientId: string, username: string | Buffer | undefined, password: string | undefined) {
  const base = connectPacket({
    clientId,
    username: typeof username === 'string' ? username : undefined,
    password,
  });
  if (!Buffer.isBuffer(username)) return base;
  const flags = 0x80 | (password !== undefined ? 0x40 : 0) | 0x02;
  return packet(
    0x10,
    Buffer.concat([
      lengthPrefixed('MQTT'),
      Buffer.from([4, flags, 0, 30]),
      lengthPrefixed(clientId),
      lengthPrefixed(username),
      ...(password !== undefined ? [lengthPrefixed(password)] : []),
    ]),
  );
}

export function connectCase(ctx: FuzzContext, family: string, clientId: string): Draft {
  const { rng } = ctx;
  const d = pick(rng, ctx.devices);
  const bytes =
    family === 'unknown-device'
      ? login(
          clientId,
          `${pick(rng, ['fs-', 'pc-', 'fs-takeo-', ''])}${slug(rng, int(rng, 1, 24))}`,
          slug(rng, 24),
        )
      : family === 'wrong-secret'
        ? login(
            clientId,
            d.id,
            pick(rng, ['', slug(rng, 24), `${slug(rng, 4)}\u0000`, 'x'.repeat(int(rng, 100, 5000))]),
          )
        : family === 'anonymous'
          ? login(clientId, undefined, undefined)
          : login(
              clientId,
              pick<string | Buffer>(rng, [
                '',
                'x'.repeat(int(rng, 1000, 60_000)),
                randomBytes(rng, int(rng, 1, 64)),
                'office',
                'machi-service',
                `signage/${slug(rng, 8)}`,
                `${d.id}\u0000`,
                d.id.toUpperCase(),
              ]),
              slug(rng, 16),
            );
  return { family, packets: [bytes], expect: { kind: 'connect-refused' } };
}

/** Logging in with the client id another device is connected with: refused, the owner stays on. */
export function takeoverCase(ctx: FuzzContext, family: string, clientId: string): Draft {
  if (!ctx.foreignClientIds.length) return connectCase(ctx, 'unknown-device', clientId);
  const d = pick(ctx.rng, ctx.devices);
  return {
    family,
    login: d.id,
    clientId: pick(ctx.rng, ctx.foreignClientIds),
    packets: [],
    expect: { kind: 'connect-refused' },
  };
}
