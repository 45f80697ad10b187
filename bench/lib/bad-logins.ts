// The brute-force case's attacker, in a process of its own so that its sockets do not slow the
// load generator whose PUBACK latencies the case measures. Argv: broker port, source address. Each
// message `{ username, i }` from the parent is one bad login on its own socket; the answer goes back
// as `{ i, code, at }`: the CONNACK code (-1: none within 15 s) and when it came.
import { connect } from 'node:net';
import { connectPacket } from './fuzz-packets.ts';

export interface BadLogin {
  username: string;
  i: number;
}
export interface BadLoginAnswer {
  i: number;
  code: number;
  at: number;
}

const [port, localAddress] = process.argv.slice(2);

function badLogin({ username, i }: BadLogin): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), localAddress });
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

process.on('message', (m: BadLogin) => {
  void badLogin(m).then((code) => process.send?.({ i: m.i, code, at: Date.now() } satisfies BadLoginAnswer));
});
